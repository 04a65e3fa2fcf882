/* wxp_int.h: helpers shared by the protocol/ sources. Not installed. */
#ifndef WXP_PROTOCOL_INTERNAL_H
#define WXP_PROTOCOL_INTERNAL_H

#include <wxpay/protocol.h>

#include <stdbool.h>

#if defined(__GNUC__)
#define WXP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WXP_PRINTF(a, b)
#endif

/* Parses 1..18 decimal digits (no sign, no overflow) into *out; false on anything else. */
bool wxp_parse_decimal(wxp_span s, int64_t *out);

/* malloc'd NUL-terminated copy of the concatenation of n spans. */
wxp_err wxp_concat(const wxp_span *parts, size_t n, char **out, size_t *out_len);

#endif
