/* fuzz_fields: field validators and strict Base64.
 * Input: the bytes checked as out_trade_no, appid, mchid and decoded as a
 * Base64 signature. */
#include "fuzz.h"
#include <wxpay/protocol.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wxp_span s = {(const char *)data, size};
    wxp_diag d;
    unsigned char out[1024];
    size_t n = 0;
    if (wxp_check_out_trade_no(s, &d) == WXP_OK)
        FUZZ_ASSERT(size >= 6 && size <= 32);
    if (wxp_check_appid(s, &d) == WXP_OK)
        FUZZ_ASSERT(size >= 1 && size <= WXP_ID_MAX);
    if (wxp_check_mchid(s, &d) == WXP_OK)
        for (size_t i = 0; i < size; i++)
            FUZZ_ASSERT(data[i] >= '0' && data[i] <= '9');
    if (wxp_base64_decode(s, out, sizeof(out), &n) == WXP_OK)
        FUZZ_ASSERT(size % 4 == 0 && n <= size / 4 * 3);
    return 0;
}
