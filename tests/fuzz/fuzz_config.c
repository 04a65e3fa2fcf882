/* fuzz_config: the mock's configuration loader. Input: the JSON text of a
 * config file; key paths resolve against fixtures/. */
#include "fuzz.h"
#include "mock_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wxm_config *c = NULL;
    wxp_diag d;
    if (wxm_config_parse((const char *)data, size, fuzz_fixture(""), &c, &d) == WXM_OK) {
        /* Whatever the mode, the mock can name what signs. */
        FUZZ_ASSERT(c->nmerchants > 0 && c->wechatpay_key != NULL &&
                    (c->mode == WXM_MODE_PUBLIC_KEY ? c->public_key_id[0] != '\0'
                                                    : c->nplatforms > 0 && c->apiv3_key[0]));
        wxm_config_free(c);
    } else {
        FUZZ_ASSERT(c == NULL);
    }
    return 0;
}
