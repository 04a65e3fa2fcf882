/* catalogue.c: the magic values. An unknown order whose out_trade_no
 * starts with a known prefix begins life as the prefix says (docs/mock.md
 * "Zero-config scenarios"); a code payment's auth code, or its
 * Wechatpay-Negative-Test header, picks how the payment goes (docs/mock.md "Code
 * payment"). GET /__admin/catalogue publishes both. */
#include "mock_int.h"

#include <stdio.h>
#include <string.h>

/* out_trade_no prefix -> how the order starts (docs/mock.md "Zero-config
 * scenarios"). The step, if any, runs on the first reverse call. */
enum { DEFAULT, NEVER, AFTER, BEFORE };
static const struct {
    const char *prefix;
    Wxm_state state;
    int64_t age;          /* seconds before now it was created */
    Wxm_step_action step; /* WXM_STEP_OK for none */
    int64_t ms;
    int apply;
    const char *about;
} catalogue[] = {
    {"paid_", WXM_SUCCESS, 60, WXM_STEP_OK, 0, DEFAULT, "paid: a reverse refunds it"},
    {"userpaying_", WXM_USERPAYING, 60, WXM_STEP_OK, 0, DEFAULT, "the user is paying"},
    {"payerror_", WXM_PAYERROR, 60, WXM_STEP_OK, 0, DEFAULT, "the payment failed"},
    {"closed_", WXM_CLOSED, 60, WXM_STEP_OK, 0, DEFAULT, "closed: ORDER_CLOSED"},
    {"revoked_", WXM_REVOKED, 60, WXM_STEP_OK, 0, DEFAULT, "already reversed"},
    {"expired_", WXM_NOTPAY, 8 * 86400, WXM_STEP_OK, 0, DEFAULT, "8 days old: REVERSE_EXPIRE"},
    {"syserr_", WXM_SUCCESS, 60, WXM_STEP_SYSTEM_ERROR, 0, DEFAULT,
     "first reverse: 500 SYSTEM_ERROR"},
    {"ratelimit_", WXM_SUCCESS, 60, WXM_STEP_FREQUENCY_LIMITED, 0, DEFAULT,
     "first reverse: 429 FREQUENCY_LIMITED"},
    {"slow_", WXM_SUCCESS, 60, WXM_STEP_DELAY, 1500, AFTER, "first reverse answered after 1.5 s"},
    {"late_", WXM_SUCCESS, 60, WXM_STEP_DELAY, 6000, BEFORE,
     "first reverse: refunded at once, answered after 6 s"},
    {"hang_", WXM_SUCCESS, 60, WXM_STEP_HANG, 0, DEFAULT, "first reverse: no answer, then closed"},
    {"drop_", WXM_SUCCESS, 60, WXM_STEP_DROP, 0, DEFAULT, "first reverse: connection dropped"},
    {"dropapplied_", WXM_SUCCESS, 60, WXM_STEP_DROP, 0, BEFORE,
     "first reverse: refunded, then the connection dropped"},
    {"badsig_", WXM_SUCCESS, 60, WXM_STEP_BAD_SIGNATURE, 0, DEFAULT,
     "first reverse: a bad answer signature"},
    {"signtest_", WXM_SUCCESS, 60, WXM_STEP_SIGNTEST, 0, DEFAULT,
     "first reverse: a WECHATPAY/SIGNTEST/ signature"},
    {"unsigned_", WXM_SUCCESS, 60, WXM_STEP_UNSIGNED, 0, DEFAULT, "first reverse: unsigned"},
    {"skewed_", WXM_SUCCESS, 60, WXM_STEP_SKEWED_TIMESTAMP, 0, DEFAULT,
     "first reverse: a 10-minute-old timestamp"},
    {"unknownserial_", WXM_SUCCESS, 60, WXM_STEP_UNKNOWN_SERIAL, 0, DEFAULT,
     "first reverse: an unknown Wechatpay-Serial"},
    {"malformed_", WXM_SUCCESS, 60, WXM_STEP_MALFORMED_BODY, 0, DEFAULT,
     "first reverse: a cut JSON body"},
    {"gateway_", WXM_SUCCESS, 60, WXM_STEP_GATEWAY_HTML, 0, DEFAULT,
     "first reverse: a 502 HTML page"},
    {"queryanswer_", WXM_SUCCESS, 60, WXM_STEP_QUERY_ANSWER, 0, DEFAULT,
     "first reverse: a query answer in its place"},
};

/* The magic auth codes: 18 digits starting 10 to 15, as real ones. */
static const struct {
    const char *code;
    Wxm_outcome outcome;
    const char *about;
} auth_codes[] = {
    {"130000000000000001", WXM_PAY_PAID, "200 SUCCESS at once"},
    {"130000000000000002", WXM_PAY_USERPAYING_THEN_PAID,
     "202 USERPAYING; SUCCESS after pay_after_ms (default 8000)"},
    {"130000000000000003", WXM_PAY_USERPAYING_THEN_CANCELLED,
     "202 USERPAYING; the user cancels after pay_after_ms: PAYERROR"},
    {"130000000000000004", WXM_PAY_USERPAYING_FOREVER,
     "202 USERPAYING for ever: only a reverse ends it"},
    {"130000000000000005", WXM_PAY_INSUFFICIENT_FUNDS, "403 NOT_ENOUGH; the order is PAYERROR"},
    {"130000000000000006", WXM_PAY_AUTH_CODE_INVALID,
     "400 PARAM_ERROR on payer.auth_code (invalid or expired); no order"},
    {"130000000000000007", WXM_PAY_SYSTEM_ERROR,
     "500 SYSTEM_ERROR, but the payment went through: a query finds SUCCESS"},
    {"130000000000000008", WXM_PAY_NO_ANSWER,
     "no answer (held for limits.hang_ms, then closed); the user never pays: USERPAYING"},
    {"130000000000000009", WXM_PAY_NO_ANSWER_PAID,
     "no answer (held, then closed), but the payment went through: SUCCESS"},
};

static const char *const outcome_names[WXM_PAY_OUTCOMES] = {
    [WXM_PAY_PAID] = "paid",
    [WXM_PAY_USERPAYING_THEN_PAID] = "userpaying_then_paid",
    [WXM_PAY_USERPAYING_THEN_CANCELLED] = "userpaying_then_cancelled",
    [WXM_PAY_USERPAYING_FOREVER] = "userpaying_forever",
    [WXM_PAY_INSUFFICIENT_FUNDS] = "insufficient_funds",
    [WXM_PAY_AUTH_CODE_INVALID] = "auth_code_invalid",
    [WXM_PAY_SYSTEM_ERROR] = "system_error",
    [WXM_PAY_NO_ANSWER] = "no_answer",
    [WXM_PAY_NO_ANSWER_PAID] = "no_answer_paid",
};

const char *Wxm_outcome_name(Wxm_outcome o)
{
    return (size_t)o < WXM_PAY_OUTCOMES ? outcome_names[o] : "?";
}

bool Wxm_outcome_parse(wxp_span name, Wxm_outcome *out)
{
    for (size_t i = 0; i < WXM_PAY_OUTCOMES; i++)
        if (wxp_span_eq(name, outcome_names[i])) {
            *out = (Wxm_outcome)i;
            return true;
        }
    return false;
}

bool Wxm_auth_code_valid(const char *code)
{
    return strlen(code) == 18 && strspn(code, "0123456789") == 18 && code[0] == '1' &&
           code[1] >= '0' && code[1] <= '5';
}

Wxm_outcome Wxm_auth_code_outcome(const char *code)
{
    for (size_t i = 0; i < sizeof(auth_codes) / sizeof(auth_codes[0]); i++)
        if (strcmp(code, auth_codes[i].code) == 0)
            return auth_codes[i].outcome;
    return WXM_PAY_PAID;
}

/* {"<k1>": v1, "<k2>": v2, "about": about}, or NULL. */
static cJSON *entry(const char *k1, const char *v1, const char *k2, const char *v2,
                    const char *about)
{
    cJSON *e = cJSON_CreateObject();
    if (e && (!cJSON_AddStringToObject(e, k1, v1) || !cJSON_AddStringToObject(e, k2, v2) ||
              !cJSON_AddStringToObject(e, "about", about))) {
        cJSON_Delete(e);
        e = NULL;
    }
    return e;
}

cJSON *Wxm_catalogue_json(void)
{
    cJSON *j = cJSON_CreateObject(), *codes = cJSON_CreateArray(), *prefixes = cJSON_CreateArray(),
          *names = cJSON_CreateArray();
    if (!j || !codes || !prefixes || !names || !cJSON_AddItemToObject(j, "auth_codes", codes)) {
        cJSON_Delete(j);
        cJSON_Delete(codes);
        cJSON_Delete(prefixes);
        cJSON_Delete(names);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(auth_codes) / sizeof(auth_codes[0]); i++)
        cJSON_AddItemToArray(codes,
                             entry("auth_code", auth_codes[i].code, "outcome",
                                   outcome_names[auth_codes[i].outcome], auth_codes[i].about));
    cJSON_AddItemToObject(j, "out_trade_no_prefixes", prefixes);
    for (size_t i = 0; i < sizeof(catalogue) / sizeof(catalogue[0]); i++)
        cJSON_AddItemToArray(prefixes, entry("prefix", catalogue[i].prefix, "outcome",
                                             catalogue[i].step != WXM_STEP_OK
                                                 ? Wxm_step_name(catalogue[i].step)
                                                 : Wxm_state_name(catalogue[i].state),
                                             catalogue[i].about));
    cJSON_AddItemToArray(
        prefixes, entry("prefix", "notfound_", "outcome", "ORDER_NOT_EXIST", "never created"));
    cJSON_AddStringToObject(j, "other_auth_codes",
                            "any other 18 digits starting 10 to 15: paid at once");
    cJSON_AddStringToObject(j, "negative_test_header", "Wechatpay-Negative-Test");
    for (size_t i = 0; i < WXM_PAY_OUTCOMES; i++)
        cJSON_AddItemToArray(names, cJSON_CreateString(outcome_names[i]));
    cJSON_AddItemToObject(j, "negative_test_cases", names);
    cJSON_AddNumberToObject(j, "default_pay_after_ms", WXM_DEFAULT_PAY_AFTER_MS);
    return j;
}

bool Wxm_catalogue_order(const char *otn, int64_t now, Wxm_order *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->out_trade_no, sizeof(o->out_trade_no), "%s", otn);
    o->state = WXM_NOTPAY;
    o->amount = 100;
    o->created_at = now - 60;
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
