/* internal.h: helpers shared by the protocol/ sources. Not installed. */
#ifndef WXP_PROTOCOL_INTERNAL_H
#define WXP_PROTOCOL_INTERNAL_H

#include "wxp_protocol.h"

#include <stdbool.h>

#if defined(__GNUC__)
#define WXP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WXP_PRINTF(a, b)
#endif

/* Fills diag (if not NULL) and returns err, so a check reads
 * `return wxp_fail(diag, WXP_ERR_X, "field", "why %s", ...);`. */
wxp_err wxp_fail(wxp_diag *diag, wxp_err err, const char *field,
                 const char *fmt, ...) WXP_PRINTF(4, 5);

/* Copies at most `max` bytes of s into out as printable ASCII, escaping
 * others as \xHH and cutting with "..." when longer. out is NUL-ended. */
void wxp_quote(char *out, size_t cap, wxp_span s, size_t max);

/* Parses 1..18 decimal digits (no sign, no overflow) into *out; false on anything else. */
bool wxp_parse_decimal(wxp_span s, int64_t *out);

/* malloc'd NUL-terminated copy of the concatenation of n spans. */
wxp_err wxp_concat(const wxp_span *parts, size_t n, char **out, size_t *out_len);

#endif
