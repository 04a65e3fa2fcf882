/* fuzz_template: path templates.
 * Input: a request target matched against the reverse and query templates;
 * the same bytes also as a parameter value (expanded, then matched back) and
 * as a chain-form path. */
#include "fuzz.h"
#include <wxpay/protocol.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wxp_match m;
    wxp_span t = {(const char *)data, size};
    if (wxp_template_match("/v3/pay/transactions/out-trade-no/{out_trade_no}/reverse", t, &m,
                           NULL) == WXP_OK) {
        FUZZ_ASSERT(m.nparams == 1);
        FUZZ_ASSERT(m.params[0].value_len <= WXP_PARAM_MAX_LEN);
    }
    wxp_err q = wxp_template_match("v3/pay/transactions/out-trade-no/{out_trade_no}", t, &m, NULL);
    FUZZ_ASSERT(q == WXP_OK || m.nparams == 0);

    /* As a value: whatever it holds, expansion then matching gives it back. */
    char *value = malloc(size + 1), *target = NULL, *tmpl = NULL;
    if (!value)
        return 0;
    memcpy(value, data, size);
    value[size] = '\0';
    wxp_param p = {"out_trade_no", value};
    if (wxp_template_expand("v3/pay/transactions/out-trade-no/{out_trade_no}/reverse", &p, 1,
                            &target, NULL) == WXP_OK) {
        size_t vlen = strlen(value);
        wxp_err e = wxp_template_match("/v3/pay/transactions/out-trade-no/{out_trade_no}/reverse",
                                       wxp_span_of(target), &m, NULL);
        if (vlen <= WXP_PARAM_MAX_LEN && !strchr(value, '/')) /* a '/' is encoded, refused as %2F */
            FUZZ_ASSERT(e == WXP_OK ? strcmp(m.params[0].value, value) == 0 : 1);
        free(target);
    }
    if (wxp_chain_to_template(value, &tmpl, NULL) == WXP_OK)
        free(tmpl);
    free(value);
    return 0;
}
