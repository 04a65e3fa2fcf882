/* fuzz_auth: the Authorization header parser.
 * Input: the header value, raw bytes (may hold NUL). */
#include "fuzz.h"
#include <wxpay/protocol.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wxp_auth a;
    wxp_diag d;
    wxp_span h = {(const char *)data, size};
    if (wxp_auth_parse(h, &a, &d) == WXP_OK) {
        /* Every field points inside the input and is non-empty. */
        wxp_span *f[] = {&a.mchid, &a.nonce_str, &a.timestamp, &a.serial_no, &a.signature};
        for (size_t i = 0; i < 5; i++) {
            FUZZ_ASSERT(f[i]->len > 0);
            FUZZ_ASSERT(f[i]->ptr >= h.ptr && f[i]->ptr + f[i]->len <= h.ptr + h.len);
        }
        /* What parsed builds back to something that parses the same. */
        char *again = NULL;
        if (wxp_auth_build(&a, &again) == WXP_OK) {
            wxp_auth b;
            FUZZ_ASSERT(wxp_auth_parse(wxp_span_of(again), &b, NULL) == WXP_OK);
            FUZZ_ASSERT(b.timestamp_value == a.timestamp_value);
            free(again);
        }
    } else {
        FUZZ_ASSERT(strlen(d.text) < sizeof(d.text));
    }
    return 0;
}
