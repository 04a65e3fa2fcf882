/* fuzz_json: the JSON body parsers (reverse request, reverse answer, error
 * answer). Input: one body, raw bytes. */
#include "fuzz.h"
#include <wxpay/protocol.h>

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wxp_span b = {(const char *)data, size};
    wxp_reverse_request rq;
    wxp_reverse_response rs;
    wxp_error_body eb;
    if (wxp_reverse_request_parse(b, &rq, NULL) == WXP_OK)
        FUZZ_ASSERT(strlen(rq.appid) <= WXP_ID_MAX && strlen(rq.mchid) <= WXP_ID_MAX);
    if (wxp_reverse_response_parse(b, &rs, NULL) == WXP_OK)
        FUZZ_ASSERT(strlen(rs.out_trade_no) <= WXP_ID_MAX);
    if (wxp_error_body_parse(b, &eb, NULL) == WXP_OK)
        wxp_error_body_clear(&eb);
    return 0;
}
