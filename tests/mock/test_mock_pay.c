/* Code payment on the mock, in-process at chosen milliseconds: every magic
 * auth code and the Wechatpay-Negative-Test header, the USERPAYING orders
 * settling at their time, reverse ending a payment for good (also when
 * racing it on threads), close, query by either id, and the partner forms
 * signed by the service provider. On the bundled config. */
#include "mocktest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 ((int64_t)MT_NOW * 1000) /* the tests' "now" in ms */
#define SP "1900000100"
#define SUB "1900000109"
#define SP_SERIAL "2F9A8B7C6D5E4F30112233445566778800000005"
#define CODEPAY "/v3/pay/transactions/codepay"
#define P_CODEPAY "/v3/pay/partner/transactions/codepay"

static int setup(void **state)
{
    *state = mt_mock(1);
    return 0;
}

static int teardown(void **state)
{
    wxm_mock_free(*state);
    return 0;
}

/* One signed request at now_ms: as the merchant, or (sp) as the service
 * provider. */
static void call(wxm_mock *m, bool sp, const char *method, const char *target, const char *body,
                 int64_t now_ms, const char *negative, wxm_answer *a)
{
    static __thread mt_req r; /* the race test calls from threads */
    char nonce[WXP_NONCE_LEN + 1], *msg = NULL, *sig = NULL, *hdr = NULL;
    size_t len = 0;
    int64_t ts = now_ms / 1000;
    mt_init(&r, method, target, body);
    if (negative)
        mt_header(&r, "Wechatpay-Negative-Test", negative);
    assert_int_equal(wxp_nonce(nonce), WXP_OK);
    assert_int_equal(wxp_request_message(wxp_span_of(method), wxp_span_of(target), ts,
                                         wxp_span_of(nonce), wxp_span_of(body ? body : ""), &msg,
                                         &len),
                     WXP_OK);
    wxp_key *key = tu_private_key(sp ? "sp_key.pem" : "merchant_key.pem");
    assert_int_equal(wxp_sign(key, msg, len, &sig), WXP_OK);
    wxp_auth au = {.mchid = wxp_span_of(sp ? SP : TU_MCHID),
                   .nonce_str = wxp_span_of(nonce),
                   .timestamp_value = ts,
                   .serial_no = wxp_span_of(sp ? SP_SERIAL : TU_MERCHANT_SERIAL),
                   .signature = wxp_span_of(sig)};
    assert_int_equal(wxp_auth_build(&au, &hdr), WXP_OK);
    mt_header(&r, "Authorization", hdr);
    wxm_handle_ms(m, mt_request(&r), now_ms, a);
    wxp_key_free(key);
    free(msg);
    free(sig);
    free(hdr);
}

static __thread char body_buf[2048];

static const char *codepay_body(const char *otn, const char *auth_code, long total)
{
    snprintf(body_buf, sizeof(body_buf),
             "{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\",\"description\":\"Image "
             "形象店-深圳腾大-QQ公仔\",\"out_trade_no\":\"%s\",\"payer\":{\"auth_code\":\"%s\"},"
             "\"amount\":{\"total\":%ld,\"currency\":\"CNY\"},\"scene_info\":{\"device_id\":"
             "\"POS1:1\",\"store_info\":{\"out_id\":\"1234\"}},\"attach\":\"x\"}",
             otn, auth_code, total);
    return body_buf;
}

static const char *partner_body(const char *otn, const char *auth_code, const char *sub)
{
    snprintf(body_buf, sizeof(body_buf),
             "{\"sp_appid\":\"wx8888888888888888\",\"sp_mchid\":\"" SP "\",\"sub_appid\":"
             "\"wxd930ea5d5a258f4f\",\"sub_mchid\":\"%s\",\"description\":\"d\",\"out_trade_no\":"
             "\"%s\",\"payer\":{\"auth_code\":\"%s\"},\"amount\":{\"total\":300},\"scene_info\":{"
             "\"store_info\":{\"out_id\":\"S1\"}}}",
             sub, otn, auth_code);
    return body_buf;
}

/* The order's trade_state by a signed query at now_ms ("ORDER_NOT_EXIST"
 * when there is none). */
static const char *query_state(wxm_mock *m, const char *otn, int64_t now_ms, char out[32])
{
    char target[160];
    wxm_answer a;
    snprintf(target, sizeof(target), "/v3/pay/transactions/out-trade-no/%s?mchid=1230000109", otn);
    call(m, false, "GET", target, NULL, now_ms, NULL, &a);
    cJSON *j = mt_json(&a);
    const cJSON *s = cJSON_GetObjectItem(j, a.status == 200 ? "trade_state" : "code");
    snprintf(out, 32, "%s", cJSON_IsString(s) ? s->valuestring : "?");
    cJSON_Delete(j);
    wxm_answer_clear(&a);
    return out;
}

static void reverse_at(wxm_mock *m, const char *otn, int64_t now_ms, int want)
{
    char target[160];
    wxm_answer a;
    snprintf(target, sizeof(target), "/v3/pay/transactions/out-trade-no/%s/reverse", otn);
    call(m, false, "POST", target, MT_BODY, now_ms, NULL, &a);
    if (a.status != want)
        fail_msg("reverse %s: %d %.*s", otn, a.status, (int)a.body_len, a.body);
    wxm_answer_clear(&a);
}

static void paid_at_once_answers_the_signed_transaction(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    char st[32];
    call(m, false, "POST", CODEPAY, codepay_body("pay_ok_0001", "130000000000000001", 888), T0,
         NULL, &a);
    assert_int_equal(a.status, 200);
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_OK);
    cJSON *j = mt_json(&a);
    assert_string_equal(cJSON_GetObjectItem(j, "trade_state")->valuestring, "SUCCESS");
    assert_string_equal(cJSON_GetObjectItem(j, "trade_type")->valuestring, "MICROPAY");
    assert_string_equal(cJSON_GetObjectItem(j, "appid")->valuestring, TU_APPID);
    const char *tid = cJSON_GetObjectItem(j, "transaction_id")->valuestring;
    assert_int_equal(strlen(tid), 32);
    assert_int_equal(strspn(tid, "0123456789"), 32);
    assert_non_null(strstr(cJSON_GetObjectItem(j, "success_time")->valuestring, "+08:00"));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "payer"), "openid"));
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "amount"), "payer_total")->valueint,
                     888);
    /* The query by WeChat's id finds the same order. */
    char target[128];
    snprintf(target, sizeof(target), "/v3/pay/transactions/id/%s?mchid=1230000109", tid);
    wxm_answer q;
    call(m, false, "GET", target, NULL, T0 + 10, NULL, &q);
    assert_int_equal(q.status, 200);
    assert_non_null(strstr(q.body, "\"out_trade_no\":\"pay_ok_0001\""));
    wxm_answer_clear(&q);
    cJSON_Delete(j);
    wxm_answer_clear(&a);
    assert_string_equal(query_state(m, "pay_ok_0001", T0 + 20, st), "SUCCESS");
    call(m, false, "GET",
         "/v3/pay/transactions/id/4200000000000000000000000000000?mchid=1230000109", NULL, T0, NULL,
         &q);
    assert_int_equal(q.status, 404);
    wxm_answer_clear(&q);
}

/* An order PUT as NOTPAY waits for its codepay, which takes its delay. */
static void userpaying_then_paid_settles_at_its_time(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    char st[32];
    mt_put_order(m, "pay_wait_001", "{\"trade_state\":\"NOTPAY\",\"pay_after_ms\":500}");
    call(m, false, "POST", CODEPAY, codepay_body("pay_wait_001", "130000000000000002", 100), T0,
         NULL, &a);
    assert_int_equal(a.status, 202);
    assert_non_null(strstr(a.body, "\"trade_state\":\"USERPAYING\""));
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_OK);
    wxm_answer_clear(&a);
    assert_string_equal(query_state(m, "pay_wait_001", T0 + 499, st), "USERPAYING");
    assert_string_equal(query_state(m, "pay_wait_001", T0 + 500, st), "SUCCESS");
    /* Without a prepared order the default delay applies. */
    call(m, false, "POST", CODEPAY, codepay_body("pay_wait_002", "130000000000000002", 100), T0,
         NULL, &a);
    wxm_answer_clear(&a);
    assert_string_equal(query_state(m, "pay_wait_002", T0 + WXM_DEFAULT_PAY_AFTER_MS - 1, st),
                        "USERPAYING");
    assert_string_equal(query_state(m, "pay_wait_002", T0 + WXM_DEFAULT_PAY_AFTER_MS, st),
                        "SUCCESS");
}

static void userpaying_then_cancelled_ends_payerror(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    char st[32];
    mt_put_order(m, "pay_cncl_001", "{\"trade_state\":\"NOTPAY\",\"pay_after_ms\":50}");
    call(m, false, "POST", CODEPAY, codepay_body("pay_cncl_001", "130000000000000003", 100), T0,
         NULL, &a);
    assert_int_equal(a.status, 202);
    wxm_answer_clear(&a);
    assert_string_equal(query_state(m, "pay_cncl_001", T0 + 60, st), "PAYERROR");
}

/* The user never finishes: only a reverse ends it; the money never moves. */
static void userpaying_forever_ends_only_by_reverse(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    char st[32];
    call(m, false, "POST", CODEPAY, codepay_body("pay_frvr_001", "130000000000000004", 100), T0,
         NULL, &a);
    assert_int_equal(a.status, 202);
    wxm_answer_clear(&a);
    assert_string_equal(query_state(m, "pay_frvr_001", T0 + 3600000, st), "USERPAYING");
    reverse_at(m, "pay_frvr_001", T0 + 3600000, 200);
    assert_string_equal(query_state(m, "pay_frvr_001", T0 + 3600001, st), "REVOKED");
    assert_false(mt_order(m, "pay_frvr_001").refunded);
}

/* A reverse before the payment completes ends it: it never completes. */
static void reverse_before_the_payment_wins_for_good(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    char st[32];
    mt_put_order(m, "pay_race_001", "{\"trade_state\":\"NOTPAY\",\"pay_after_ms\":1000}");
    call(m, false, "POST", CODEPAY, codepay_body("pay_race_001", "130000000000000002", 100), T0,
         NULL, &a);
    wxm_answer_clear(&a);
    reverse_at(m, "pay_race_001", T0 + 999, 200);
    assert_string_equal(query_state(m, "pay_race_001", T0 + 5000, st), "REVOKED");
    assert_false(mt_order(m, "pay_race_001").refunded);
    /* After it completed, a reverse refunds it. */
    mt_put_order(m, "pay_race_002", "{\"trade_state\":\"NOTPAY\",\"pay_after_ms\":1000}");
    call(m, false, "POST", CODEPAY, codepay_body("pay_race_002", "130000000000000002", 700), T0,
         NULL, &a);
    wxm_answer_clear(&a);
    reverse_at(m, "pay_race_002", T0 + 1000, 200);
    Wxm_order o = mt_order(m, "pay_race_002");
    assert_int_equal(o.state, WXM_REVOKED);
    assert_true(o.refunded);
    assert_int_equal(o.refund_amount, 700);
}

static void failures_answer_as_the_service_does(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    char st[32], code[64];
    call(m, false, "POST", CODEPAY, codepay_body("pay_poor_001", "130000000000000005", 100), T0,
         NULL, &a);
    assert_int_equal(a.status, 403);
    assert_string_equal(mt_code(&a, code), "NOT_ENOUGH");
    wxm_answer_clear(&a);
    assert_string_equal(query_state(m, "pay_poor_001", T0, st), "PAYERROR");
    call(m, false, "POST", CODEPAY, codepay_body("pay_inval_01", "130000000000000006", 100), T0,
         NULL, &a);
    assert_int_equal(a.status, 400);
    assert_string_equal(mt_code(&a, code), "PARAM_ERROR");
    assert_non_null(strstr(a.body, "payer.auth_code"));
    wxm_answer_clear(&a);
    Wxm_order none;
    assert_false(Wxm_store_get(m->orders, "pay_inval_01", &none)); /* no order was made */
    call(m, false, "POST", CODEPAY, codepay_body("pay_syse_001", "130000000000000007", 100), T0,
         NULL, &a);
    assert_int_equal(a.status, 500);
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_OK);
    wxm_answer_clear(&a);
    assert_string_equal(query_state(m, "pay_syse_001", T0, st), "SUCCESS"); /* it went through */
    call(m, false, "POST", CODEPAY, codepay_body("pay_noan_001", "130000000000000008", 100), T0,
         NULL, &a);
    assert_int_equal(a.action, WXM_DROP);
    assert_true(a.wait_ms > 0);
    wxm_answer_clear(&a);
    assert_string_equal(query_state(m, "pay_noan_001", T0, st), "USERPAYING");
    call(m, false, "POST", CODEPAY, codepay_body("pay_noan_002", "130000000000000009", 100), T0,
         NULL, &a);
    assert_int_equal(a.action, WXM_DROP);
    wxm_answer_clear(&a);
    assert_string_equal(query_state(m, "pay_noan_002", T0, st), "SUCCESS");
    /* Any other well-formed code pays; a malformed one is refused. */
    call(m, false, "POST", CODEPAY, codepay_body("pay_other_01", "101234567890123456", 100), T0,
         NULL, &a);
    assert_int_equal(a.status, 200);
    wxm_answer_clear(&a);
    const char *bad[] = {"13000000000000001", "161234567890123456", "091234567890123456"};
    for (size_t i = 0; i < 3; i++) {
        call(m, false, "POST", CODEPAY, codepay_body("pay_bad_code", bad[i], 100), T0, NULL, &a);
        if (a.status != 400 || !strstr(a.body, "18 digits"))
            fail_msg("%s: %d %.*s", bad[i], a.status, (int)a.body_len, a.body);
        wxm_answer_clear(&a);
    }
}

static void negative_test_header_picks_the_case(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    char code[64];
    call(m, false, "POST", CODEPAY, codepay_body("pay_neg_0001", "130000000000000001", 100), T0,
         "insufficient_funds", &a);
    assert_int_equal(a.status, 403);
    assert_string_equal(mt_code(&a, code), "NOT_ENOUGH");
    wxm_answer_clear(&a);
    call(m, false, "POST", CODEPAY, codepay_body("pay_neg_0002", "130000000000000001", 100), T0,
         "meteor_strike", &a);
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "meteor_strike"));
    assert_non_null(strstr(a.body, "negative_test_cases"));
    wxm_answer_clear(&a);
}

static void reused_order_number_is_refused_but_a_repeat_is_answered(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    char code[64];
    call(m, false, "POST", CODEPAY, codepay_body("pay_reuse_01", "130000000000000001", 100), T0,
         NULL, &a);
    wxm_answer_clear(&a);
    call(m, false, "POST", CODEPAY, codepay_body("pay_reuse_01", "130000000000000001", 100), T0 + 5,
         NULL, &a);
    assert_int_equal(a.status, 200); /* the same payment again: as it stands */
    wxm_answer_clear(&a);
    call(m, false, "POST", CODEPAY, codepay_body("pay_reuse_01", "101234567890123456", 100), T0 + 9,
         NULL, &a);
    assert_int_equal(a.status, 403);
    assert_string_equal(mt_code(&a, code), "OUT_TRADE_NO_USED");
    wxm_answer_clear(&a);
    assert_int_equal(mt_order(m, "pay_reuse_01").amount, 100);
}

/* Each field of the body is checked and named. */
static void codepay_body_fields_are_named(void **state)
{
    wxm_mock *m = *state;
    const struct {
        const char *from, *to, *field;
    } rows[] = {
        {"\"payer\":{\"auth_code\":\"130000000000000001\"}", "\"payer\":{}", "payer.auth_code"},
        {"\"total\":100", "\"total\":\"100\"", "amount.total"},
        {"\"total\":100", "\"total\":0", "amount.total"},
        {"\"currency\":\"CNY\"", "\"currency\":\"USD\"", "amount.currency"},
        {"{\"out_id\":\"1234\"}", "{}", "scene_info.store_info.out_id"},
        {"\"description\":\"Image ", "\"descr\":\"Image ", "description"},
        {"\"out_trade_no\":\"pay_field_01\"", "\"out_trade_no\":\"p.1\"", "out_trade_no"},
        {"\"appid\":\"wxd678efh567hg6787\"", "\"appid\":\"wx_not_bound\"", "appid"},
        {"\"mchid\":\"1230000109\"", "\"mchid\":\"1230000110\"", "mchid"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char body[2048], *p;
        snprintf(body, sizeof(body), "%s", codepay_body("pay_field_01", "130000000000000001", 100));
        p = strstr(body, rows[i].from);
        assert_non_null(p);
        char rest[2048];
        snprintf(rest, sizeof(rest), "%s", p + strlen(rows[i].from));
        snprintf(p, sizeof(body) - (size_t)(p - body), "%s%s", rows[i].to, rest);
        wxm_answer a;
        call(m, false, "POST", CODEPAY, body, T0, NULL, &a);
        if ((a.status != 400 && a.status != 403) || !strstr(a.body, rows[i].field))
            fail_msg("row %zu: %d %.*s", i, a.status, (int)a.body_len, a.body);
        wxm_answer_clear(&a);
    }
}

static void partner_forms_are_signed_by_the_service_provider(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    char code[64];
    call(m, true, "POST", P_CODEPAY, partner_body("pay_sp_00001", "130000000000000001", SUB), T0,
         NULL, &a);
    if (a.status != 200)
        fail_msg("%d %.*s", a.status, (int)a.body_len, a.body);
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_OK);
    assert_non_null(strstr(a.body, "\"sp_mchid\":\"" SP "\""));
    assert_non_null(strstr(a.body, "\"sub_mchid\":\"" SUB "\""));
    assert_non_null(strstr(a.body, "\"sp_openid\""));
    wxm_answer_clear(&a);
    call(m, true, "GET",
         "/v3/pay/partner/transactions/out-trade-no/pay_sp_00001?sp_mchid=" SP "&sub_mchid=" SUB,
         NULL, T0, NULL, &a);
    assert_int_equal(a.status, 200);
    wxm_answer_clear(&a);
    /* Not the direct merchant's order. */
    char st[32];
    assert_string_equal(query_state(m, "pay_sp_00001", T0, st), "ORDER_NOT_EXIST");
    call(m, true, "POST", "/v3/pay/partner/transactions/out-trade-no/pay_sp_00001/reverse",
         "{\"sp_mchid\":\"" SP "\",\"sub_mchid\":\"" SUB "\"}", T0, NULL, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "{\"sp_mchid\":\"" SP "\",\"sub_mchid\":\"" SUB
                                "\",\"out_trade_no\":\"pay_sp_00001\"}");
    wxm_answer_clear(&a);
    Wxm_order o = mt_order(m, "pay_sp_00001");
    assert_int_equal(o.state, WXM_REVOKED);
    assert_true(o.refunded);
    /* A sub-merchant not bound to this provider. */
    call(m, true, "POST", P_CODEPAY,
         partner_body("pay_sp_00002", "130000000000000001", "1900000999"), T0, NULL, &a);
    assert_int_equal(a.status, 403);
    assert_string_equal(mt_code(&a, code), "NO_AUTH");
    assert_non_null(strstr(a.body, "not bound to service provider"));
    wxm_answer_clear(&a);
    /* Signed by the direct merchant: the signer must be sp_mchid. */
    call(m, false, "POST", P_CODEPAY, partner_body("pay_sp_00003", "130000000000000001", SUB), T0,
         NULL, &a);
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "signed by the service provider"));
    wxm_answer_clear(&a);
    /* A partner query without sub_mchid names it. */
    call(m, true, "GET", "/v3/pay/partner/transactions/out-trade-no/pay_sp_00001?sp_mchid=" SP,
         NULL, T0, NULL, &a);
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "sub_mchid"));
    wxm_answer_clear(&a);
}

static void close_refuses_a_code_payment_and_closes_others(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    char code[64];
    call(m, false, "POST", CODEPAY, codepay_body("pay_close_01", "130000000000000004", 100), T0,
         NULL, &a);
    wxm_answer_clear(&a);
    call(m, false, "POST", "/v3/pay/transactions/out-trade-no/pay_close_01/close",
         "{\"mchid\":\"1230000109\"}", T0, NULL, &a);
    assert_int_equal(a.status, 403);
    assert_string_equal(mt_code(&a, code), "TRADE_ERROR");
    assert_non_null(strstr(a.body, "只能撤销"));
    wxm_answer_clear(&a);
    mt_put_order(m, "native_0001", "{\"trade_state\":\"NOTPAY\",\"trade_type\":\"NATIVE\"}");
    call(m, false, "POST", "/v3/pay/transactions/out-trade-no/native_0001/close",
         "{\"mchid\":\"1230000109\"}", T0, NULL, &a);
    assert_int_equal(a.status, 204);
    assert_int_equal(a.body_len, 0);
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_OK); /* signed, empty */
    wxm_answer_clear(&a);
    assert_int_equal(mt_order(m, "native_0001").state, WXM_CLOSED);
    mt_put_order(m, "native_0002", "{\"trade_state\":\"USERPAYING\",\"trade_type\":\"JSAPI\"}");
    call(m, false, "POST", "/v3/pay/transactions/out-trade-no/native_0002/close",
         "{\"mchid\":\"1230000109\"}", T0, NULL, &a);
    assert_int_equal(a.status, 202);
    assert_string_equal(mt_code(&a, code), "USER_PAYING");
    wxm_answer_clear(&a);
    mt_put_order(m, "native_0003",
                 "{\"trade_state\":\"NOTPAY\",\"trade_type\":\"NATIVE\",\"mchid\":\"" SUB
                 "\",\"sp_mchid\":\"" SP "\"}");
    call(m, true, "POST", "/v3/pay/partner/transactions/out-trade-no/native_0003/close",
         "{\"sp_mchid\":\"" SP "\",\"sub_mchid\":\"" SUB "\"}", T0, NULL, &a);
    assert_int_equal(a.status, 204);
    wxm_answer_clear(&a);
}

/* Every order gets its own WeChat Pay number, however it was made (a
 * prefix order, an admin PUT, a codepay), and a query by it finds it. */
static void every_order_has_its_own_transaction_id(void **state)
{
    wxm_mock *m = *state;
    char st[32];
    const char *otns[] = {"paid_tid_0001", "paid_tid_0002", "admin_tid_01", "pay_tid_0001"};
    query_state(m, otns[0], T0, st); /* the zero-config catalogue makes these two */
    query_state(m, otns[1], T0, st);
    mt_put_order(m, otns[2], "{\"trade_state\":\"SUCCESS\"}");
    wxm_answer a;
    call(m, false, "POST", CODEPAY, codepay_body(otns[3], "130000000000000001", 100), T0, NULL, &a);
    wxm_answer_clear(&a);
    char tids[4][40];
    for (int i = 0; i < 4; i++) {
        Wxm_order o = mt_order(m, otns[i]);
        assert_int_equal(strlen(o.transaction_id), 32);
        snprintf(tids[i], sizeof(tids[i]), "%s", o.transaction_id);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(tids[i], tids[k]);
        char target[256];
        snprintf(target, sizeof(target), "/v3/pay/transactions/id/%.32s?mchid=1230000109", tids[i]);
        call(m, false, "GET", target, NULL, T0, NULL, &a);
        char want[64];
        snprintf(want, sizeof(want), "\"out_trade_no\":\"%s\"", otns[i]);
        if (a.status != 200 || !strstr(a.body, want))
            fail_msg("query by %s: %d %.*s", tids[i], a.status, (int)a.body_len, a.body);
        wxm_answer_clear(&a);
    }
}

/* A wrong method names the endpoint's own in Allow. */
static void wrong_methods_name_the_right_one(void **state)
{
    wxm_mock *m = *state;
    const struct {
        const char *method, *target, *allow;
    } rows[] = {
        {"GET", CODEPAY, "POST"},
        {"GET", "/v3/pay/transactions/out-trade-no/abc123/close", "POST"},
        {"POST", "/v3/pay/transactions/id/4200000000000000000000000000001", "GET"},
        {"GET", "/v3/pay/partner/transactions/out-trade-no/abc123/reverse", "POST"},
        {"PUT", CODEPAY, "POST"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wxm_answer a;
        call(m, false, rows[i].method, rows[i].target, "{}", T0, NULL, &a);
        if (a.status != 405 || strcmp(mt_header_of(&a, "Allow"), rows[i].allow) != 0)
            fail_msg("%s %s: %d Allow %s", rows[i].method, rows[i].target, a.status,
                     mt_header_of(&a, "Allow"));
        wxm_answer_clear(&a);
    }
}

static void catalogue_names_every_outcome(void **state)
{
    wxm_answer a;
    mt_admin(*state, "GET", "/__admin/catalogue", NULL, &a);
    assert_int_equal(a.status, 200);
    const char *names[] = {"paid",
                           "userpaying_then_paid",
                           "userpaying_then_cancelled",
                           "userpaying_forever",
                           "insufficient_funds",
                           "auth_code_invalid",
                           "system_error",
                           "no_answer"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char want[64];
        snprintf(want, sizeof(want), "\"outcome\":\"%s\"", names[i]);
        if (!strstr(a.body, want))
            fail_msg("catalogue lacks %s", want);
    }
    assert_non_null(strstr(a.body, "\"out_trade_no_prefixes\":[{\"prefix\":\"paid_\""));
    wxm_answer_clear(&a);
}

/* Reverse and the payment's completion race on threads (the pay time falls
 * among the reverses): an order ends REVOKED, refunded exactly when it was
 * paid first, and no query ever shows SUCCESS after REVOKED. */
#define RACERS 4
#define ORDERS 60
typedef struct racer {
    wxm_mock *m;
    int id;
    int bad;
} racer;

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *race(void *arg)
{
    racer *r = arg;
    for (int i = 0; i < ORDERS; i++) {
        char otn[32], st[32];
        snprintf(otn, sizeof(otn), "race_%d_%03d", r->id, i);
        wxm_answer a;
        char order[80];
        snprintf(order, sizeof(order), "{\"trade_state\":\"NOTPAY\",\"pay_after_ms\":%d}", i % 4);
        mt_put_order(r->m, otn, order);
        call(r->m, false, "POST", CODEPAY, codepay_body(otn, "130000000000000002", 100), wall_ms(),
             NULL, &a);
        wxm_answer_clear(&a);
        reverse_at(r->m, otn, wall_ms(), 200);
        for (int k = 0; k < 3; k++)
            if (strcmp(query_state(r->m, otn, wall_ms() + 10, st), "REVOKED") != 0)
                r->bad++;
    }
    return NULL;
}

static void a_payment_never_completes_after_a_reverse(void **state)
{
    pthread_t t[RACERS];
    racer rs[RACERS];
    for (int i = 0; i < RACERS; i++) {
        rs[i] = (racer){*state, i, 0};
        pthread_create(&t[i], NULL, race, &rs[i]);
    }
    int bad = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(t[i], NULL);
        bad += rs[i].bad;
    }
    assert_int_equal(bad, 0);
    char why[200];
    assert_true(Wxm_store_check(((wxm_mock *)*state)->orders, why, sizeof(why)));
    int refunded = 0;
    for (int i = 0; i < RACERS; i++)
        for (int k = 0; k < ORDERS; k++) {
            char otn[32];
            snprintf(otn, sizeof(otn), "race_%d_%03d", i, k);
            Wxm_order o = mt_order(*state, otn);
            assert_int_equal(o.state, WXM_REVOKED);
            assert_int_equal(o.refunded, o.success_time != 0); /* refunded iff it was paid */
            refunded += o.refunded;
        }
    printf("# %d of %d reversed orders had been paid first\n", refunded, RACERS * ORDERS);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(paid_at_once_answers_the_signed_transaction),
        T(userpaying_then_paid_settles_at_its_time),
        T(userpaying_then_cancelled_ends_payerror),
        T(userpaying_forever_ends_only_by_reverse),
        T(reverse_before_the_payment_wins_for_good),
        T(failures_answer_as_the_service_does),
        T(negative_test_header_picks_the_case),
        T(reused_order_number_is_refused_but_a_repeat_is_answered),
        T(codepay_body_fields_are_named),
        T(partner_forms_are_signed_by_the_service_provider),
        T(close_refuses_a_code_payment_and_closes_others),
        T(every_order_has_its_own_transaction_id),
        T(wrong_methods_name_the_right_one),
        T(catalogue_names_every_outcome),
        T(a_payment_never_completes_after_a_reverse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
