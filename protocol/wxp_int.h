/* wxp_int.h: helpers of the protocol library shared by the project's own
 * sources (protocol/, client/, mockserver/, the programs). Not installed:
 * the capitalised Wxp_ prefix marks them internal. */
#ifndef WXP_INT_H
#define WXP_INT_H

#include <wxpay/protocol.h>

#include <stdbool.h>

#if defined(__GNUC__)
#define WXP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WXP_PRINTF(a, b)
#endif

/* Parses 1..18 decimal digits (no sign, no overflow) into *out; false on anything else. */
bool Wxp_parse_decimal(wxp_span s, int64_t *out);

/* malloc'd NUL-terminated copy of the concatenation of n spans. */
wxp_err Wxp_concat(const wxp_span *parts, size_t n, char **out, size_t *out_len);

/* malloc'd copy of s (NULL when out of memory). */
char *Wxp_strdup(const char *s);

/* The value of a hex digit, or -1. */
int Wxp_hexval(char c);

/* Percent-decodes t[0..len) into out[cap] (always NUL-terminated when cap
 * > 0); a '%' not followed by two hex digits is copied as it is. Returns
 * the length of the whole decoded text, which may exceed cap - 1 (then the
 * output was cut), as snprintf does. */
size_t Wxp_percent_decode(const char *t, size_t len, char *out, size_t cap);

/* 1 when text[0..len) is one JSON value (RFC 8259) with nothing but white
 * space around it. Allocates nothing: when cJSON fails on text that passes,
 * it ran out of memory. */
bool Wxp_json_valid(const char *text, size_t len);

/* wxp_response_verify() with the key looked up by `find` (certs.c: the
 * certificates of a list being downloaded, then the known ones). */
typedef const wxp_key *(*Wxp_key_finder)(const void *ctx, wxp_span serial);
wxp_err Wxp_response_verify_with(Wxp_key_finder find, const void *ctx,
                                 const wxp_response_headers *h, wxp_span body, int64_t now,
                                 int64_t max_skew, wxp_diag *diag);

/* One entry of a GET /v3/certificates answer as listed, still sealed
 * (json.c parses; certs.c opens). */
#define WXP_CERT_CIPHERTEXT_MAX 65536
typedef struct Wxp_cert_entry {
    char serial_no[WXP_SERIAL_MAX + 1];
    char effective_time[40], expire_time[40];
    char algorithm[32];
    char nonce[65];
    char associated_data[256];
    char *ciphertext; /* malloc'd */
} Wxp_cert_entry;
/* The entries of a list body into out[cap]; each field named on error. */
wxp_err Wxp_cert_list_parse(wxp_span body, Wxp_cert_entry *out, size_t cap, size_t *n,
                            wxp_diag *diag);
void Wxp_cert_entries_free(Wxp_cert_entry *e, size_t n);

/* A request or answer body as a JSON object (cJSON, the caller deletes it),
 * refused when it is not exactly one object, holds a NUL byte, or a string
 * holds \u0000 (cJSON would cut the value there): diag names the member. */
struct cJSON;
wxp_err Wxp_json_object(wxp_span body, struct cJSON **out, wxp_diag *diag);

/* Reads a whole file of at most `max` bytes into a malloc'd, NUL-terminated
 * buffer (*out_len may be NULL). WXP_ERR_IO with diag->field set to `field`
 * and the file named when it cannot be read or is larger. */
wxp_err Wxp_read_file(const char *path, size_t max, const char *field, char **out, size_t *out_len,
                      wxp_diag *diag);

/* The fixtures folder of the programs (keys, mock.json, the catalogues):
 * $WXPAY_FIXTURES_DIR when set; else PREFIX/share/wxpay/fixtures beside the
 * running program's PREFIX/bin (found from /proc/self/exe, so an installed
 * tree still works once moved); else, for a program run from its build
 * tree, the source tree's. NULL when none is found: tried[cap] then names
 * the folder looked in. */
const char *Wxp_fixtures_dir(char *tried, size_t cap);

/* Microseconds on the monotonic clock (for durations and deadlines). */
int64_t Wxp_mono_us(void);

#endif /* WXP_INT_H */
