/* catalogue.c: the zero-config catalogue. An unknown order whose
 * out_trade_no starts with a known prefix begins life as the prefix says
 * (README "Zero-config scenarios"). */
#include "mock_int.h"

#include <stdio.h>
#include <string.h>

/* out_trade_no prefix -> how the order starts (README "Zero-config
 * scenarios"). The step, if any, runs on the first reverse call. */
enum { DEFAULT, NEVER, AFTER, BEFORE };
static const struct {
    const char *prefix;
    Wxm_state state;
    int64_t age;          /* seconds before now it was created */
    Wxm_step_action step; /* WXM_STEP_OK for none */
    int64_t ms;
    int apply;
} catalogue[] = {
    {"paid_", WXM_SUCCESS, 60, WXM_STEP_OK, 0, DEFAULT},
    {"userpaying_", WXM_USERPAYING, 60, WXM_STEP_OK, 0, DEFAULT},
    {"payerror_", WXM_PAYERROR, 60, WXM_STEP_OK, 0, DEFAULT},
    {"closed_", WXM_CLOSED, 60, WXM_STEP_OK, 0, DEFAULT},
    {"revoked_", WXM_REVOKED, 60, WXM_STEP_OK, 0, DEFAULT},
    {"expired_", WXM_NOTPAY, 8 * 86400, WXM_STEP_OK, 0, DEFAULT},
    {"syserr_", WXM_SUCCESS, 60, WXM_STEP_SYSTEM_ERROR, 0, DEFAULT},
    {"ratelimit_", WXM_SUCCESS, 60, WXM_STEP_FREQUENCY_LIMITED, 0, DEFAULT},
    {"slow_", WXM_SUCCESS, 60, WXM_STEP_DELAY, 1500, AFTER},
    {"late_", WXM_SUCCESS, 60, WXM_STEP_DELAY, 6000, BEFORE},
    {"hang_", WXM_SUCCESS, 60, WXM_STEP_HANG, 0, DEFAULT},
    {"drop_", WXM_SUCCESS, 60, WXM_STEP_DROP, 0, DEFAULT},
    {"dropapplied_", WXM_SUCCESS, 60, WXM_STEP_DROP, 0, BEFORE},
    {"badsig_", WXM_SUCCESS, 60, WXM_STEP_BAD_SIGNATURE, 0, DEFAULT},
    {"signtest_", WXM_SUCCESS, 60, WXM_STEP_SIGNTEST, 0, DEFAULT},
    {"unsigned_", WXM_SUCCESS, 60, WXM_STEP_UNSIGNED, 0, DEFAULT},
    {"skewed_", WXM_SUCCESS, 60, WXM_STEP_SKEWED_TIMESTAMP, 0, DEFAULT},
    {"unknownserial_", WXM_SUCCESS, 60, WXM_STEP_UNKNOWN_SERIAL, 0, DEFAULT},
    {"malformed_", WXM_SUCCESS, 60, WXM_STEP_MALFORMED_BODY, 0, DEFAULT},
    {"gateway_", WXM_SUCCESS, 60, WXM_STEP_GATEWAY_HTML, 0, DEFAULT},
    {"queryanswer_", WXM_SUCCESS, 60, WXM_STEP_QUERY_ANSWER, 0, DEFAULT},
};

bool Wxm_catalogue_order(const char *otn, int64_t now, Wxm_order *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->out_trade_no, sizeof(o->out_trade_no), "%s", otn);
    o->state = WXM_NOTPAY;
    o->amount = 100;
    o->created_at = now - 60;
    snprintf(o->transaction_id, sizeof(o->transaction_id), "42000%015lld", (long long)now);
    if (strncmp(otn, "notfound_", 9) == 0)
        return false;
    for (size_t i = 0; i < sizeof(catalogue) / sizeof(catalogue[0]); i++) {
        if (strncmp(otn, catalogue[i].prefix, strlen(catalogue[i].prefix)) != 0)
            continue;
        o->state = catalogue[i].state;
        o->created_at = now - catalogue[i].age;
        if (catalogue[i].step != WXM_STEP_OK) {
            Wxm_step st = Wxm_step_default(catalogue[i].step);
            st.ms = (int32_t)catalogue[i].ms;
            if (catalogue[i].apply != DEFAULT) {
                st.apply = catalogue[i].apply != NEVER;
                st.apply_first = catalogue[i].apply == BEFORE;
            }
            o->script[0] = st;
            o->nsteps = 1;
        }
        break;
    }
    return true;
}
