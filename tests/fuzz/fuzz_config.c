/* fuzz_config: the mock's configuration loader. Input: the JSON text of a
 * config file; key paths resolve against fixtures/. */
#include "fuzz.h"
#include "mock_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wxm_config *c = NULL;
    wxp_diag d;
    if (wxm_config_parse((const char *)data, size, fuzz_fixture(""), &c, &d) == WXM_OK) {
        FUZZ_ASSERT(c->nmerchants > 0 && c->wechatpay_key != NULL && c->serial[0] != '\0');
        wxm_config_free(c);
    } else {
        FUZZ_ASSERT(c == NULL);
    }
    return 0;
}
