/* The mock's order model, scenario steps, zero-config catalogue, order
 * store and configuration, driven through the pure handler (the admin API
 * and the journal: test_mock_admin.c). */
#include "mocktest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int setup(void **state)
{
    *state = mt_mock(1);
    return 0;
}

static int setup_strict(void **state)
{
    *state = mt_mock(0);
    return 0;
}

static int teardown(void **state)
{
    wxm_mock_free(*state);
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* ------------------------------------------------------- transitions */

static void reverse_of_unpaid_order_closes_it_without_a_refund(void **state)
{
    const char *states[] = {"NOTPAY", "USERPAYING", "PAYERROR"};
    char code[64];
    for (size_t i = 0; i < 3; i++) {
        char otn[32], body[64];
        snprintf(otn, sizeof(otn), "unpaid_%zu", i);
        snprintf(body, sizeof(body), "{\"trade_state\":\"%s\"}", states[i]);
        mt_put_order(*state, otn, body);
        assert_int_equal(mt_reverse_status(*state, otn, code), 200);
        Wxm_order o = mt_order(*state, otn);
        assert_int_equal(o.state, WXM_REVOKED);
        assert_false(o.refunded);
    }
}

static void reverse_of_paid_order_refunds_the_user(void **state)
{
    char code[64];
    mt_put_order(*state, "paid_order_1", "{\"trade_state\":\"SUCCESS\",\"amount\":2345}");
    assert_int_equal(mt_reverse_status(*state, "paid_order_1", code), 200);
    Wxm_order o = mt_order(*state, "paid_order_1");
    assert_int_equal(o.state, WXM_REVOKED);
    assert_true(o.refunded);
    assert_int_equal(o.refund_amount, 2345);
    assert_int_equal(o.refunded_at, MT_NOW);
}

static void reverse_of_reversed_order_succeeds_again_without_a_second_refund(void **state)
{
    char code[64];
    mt_put_order(*state, "paid_order_2", "{\"trade_state\":\"SUCCESS\",\"amount\":500}");
    for (int i = 0; i < 3; i++)
        assert_int_equal(mt_reverse_status(*state, "paid_order_2", code), 200);
    Wxm_order o = mt_order(*state, "paid_order_2");
    assert_int_equal(o.refund_amount, 500);
    assert_int_equal(o.reverse_calls, 3);
}

static void reverse_of_closed_order_is_order_closed(void **state)
{
    char code[64];
    mt_put_order(*state, "closed_order", "{\"trade_state\":\"CLOSED\"}");
    assert_int_equal(mt_reverse_status(*state, "closed_order", code), 400);
    assert_string_equal(code, "ORDER_CLOSED");
    assert_int_equal(mt_order(*state, "closed_order").state, WXM_CLOSED);
}

static void reverse_after_seven_days_is_reverse_expire(void **state)
{
    char code[64];
    mt_put_order(*state, "old_order_1", "{\"trade_state\":\"SUCCESS\",\"age_seconds\":604801}");
    assert_int_equal(mt_reverse_status(*state, "old_order_1", code), 400);
    assert_string_equal(code, "REVERSE_EXPIRE");
    Wxm_order o = mt_order(*state, "old_order_1");
    assert_int_equal(o.state, WXM_SUCCESS);
    assert_false(o.refunded);
    mt_put_order(*state, "old_order_2", "{\"trade_state\":\"SUCCESS\",\"age_seconds\":604800}");
    assert_int_equal(mt_reverse_status(*state, "old_order_2", code), 200); /* the edge is allowed */
}

static void reverse_of_refunded_order_is_trade_error(void **state)
{
    char code[64];
    mt_put_order(*state, "refund_order", "{\"trade_state\":\"REFUND\"}");
    assert_int_equal(mt_reverse_status(*state, "refund_order", code), 403);
    assert_string_equal(code, "TRADE_ERROR");
}

static void unknown_order_is_order_not_exist_in_strict_mode(void **state)
{
    char code[64];
    assert_int_equal(mt_reverse_status(*state, "nobody_knows", code), 404);
    assert_string_equal(code, "ORDER_NOT_EXIST");
    assert_int_equal(Wxm_store_count(((wxm_mock *)*state)->orders), 0);
}

static void another_merchants_order_does_not_exist_for_us(void **state)
{
    char code[64];
    mt_put_order(*state, "theirs_001", "{\"trade_state\":\"SUCCESS\",\"mchid\":\"1900000001\"}");
    assert_int_equal(mt_reverse_status(*state, "theirs_001", code), 404);
    assert_string_equal(code, "ORDER_NOT_EXIST");
    assert_int_equal(mt_order(*state, "theirs_001").state, WXM_SUCCESS);
}

static void query_answers_the_trade_state_signed(void **state)
{
    static mt_req r;
    wxm_answer a;
    mt_put_order(*state, "query_order", "{\"trade_state\":\"SUCCESS\",\"amount\":88}");
    mt_init(&r, "GET", "/v3/pay/transactions/out-trade-no/query_order?mchid=1230000109", NULL);
    mt_sign(&r, MT_NOW, NULL);
    wxm_handle(*state, mt_request(&r), MT_NOW, &a);
    assert_int_equal(a.status, 200);
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_OK);
    cJSON *j = mt_json(&a);
    assert_string_equal(cJSON_GetObjectItem(j, "trade_state")->valuestring, "SUCCESS");
    assert_string_equal(cJSON_GetObjectItem(j, "trade_type")->valuestring, "MICROPAY");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "amount"), "total")->valueint, 88);
    cJSON_Delete(j);
    wxm_answer_clear(&a);
    /* after a reverse, the query says REVOKED */
    char code[64];
    assert_int_equal(mt_reverse_status(*state, "query_order", code), 200);
    mt_init(&r, "GET", "/v3/pay/transactions/out-trade-no/query_order?mchid=1230000109", NULL);
    mt_sign(&r, MT_NOW, NULL);
    wxm_handle(*state, mt_request(&r), MT_NOW, &a);
    j = mt_json(&a);
    assert_string_equal(cJSON_GetObjectItem(j, "trade_state")->valuestring, "REVOKED");
    cJSON_Delete(j);
    wxm_answer_clear(&a);
}

/* ------------------------------------------------------------- steps */

static void script_steps_are_consumed_one_per_reverse_then_normal(void **state)
{
    char code[64];
    mt_put_order(*state, "scripted_1",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[\"param_error\",\"system_error\",{"
                 "\"action\":\"frequency_limited\"}]}");
    assert_int_equal(mt_reverse_status(*state, "scripted_1", code), 400);
    assert_string_equal(code, "PARAM_ERROR");
    assert_int_equal(mt_reverse_status(*state, "scripted_1", code), 500);
    assert_string_equal(code, "SYSTEM_ERROR");
    assert_int_equal(mt_order(*state, "scripted_1").state, WXM_SUCCESS); /* not applied */
    assert_int_equal(mt_reverse_status(*state, "scripted_1", code), 429);
    assert_string_equal(code, "FREQUENCY_LIMITED");
    assert_int_equal(mt_reverse_status(*state, "scripted_1", code), 200);
    Wxm_order o = mt_order(*state, "scripted_1");
    assert_int_equal(o.state, WXM_REVOKED);
    assert_int_equal(o.refund_amount, 100);
    assert_int_equal(o.reverse_calls, 4);
}

static void delay_applies_the_state_first_by_default(void **state)
{
    wxm_answer a;
    mt_put_order(*state, "delayed_1",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[{\"action\":\"delay\",\"ms\":250}]}");
    mt_reverse(*state, "delayed_1", &a);
    assert_int_equal(a.status, 200);
    assert_int_equal(a.wait_ms, 250);
    assert_int_equal(a.action, WXM_SEND);
    assert_int_equal(mt_order(*state, "delayed_1").state, WXM_REVOKED); /* before the wait */
    wxm_answer_clear(&a);
}

static void delay_with_apply_after_changes_state_only_at_commit(void **state)
{
    wxm_answer a;
    mt_put_order(*state, "delayed_2",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[{\"action\":\"delay\",\"ms\":10,"
                 "\"apply\":\"after\"}]}");
    mt_reverse(*state, "delayed_2", &a);
    assert_int_equal(a.wait_ms, 10);
    assert_int_equal(mt_order(*state, "delayed_2").state, WXM_SUCCESS);
    wxm_answer_commit(*state, &a);
    Wxm_order o = mt_order(*state, "delayed_2");
    assert_int_equal(o.state, WXM_REVOKED);
    assert_true(o.refunded);
    wxm_answer_commit(*state, &a); /* twice is harmless */
    wxm_answer_clear(&a);
}

/* While the answer waits, an admin PUT replaces the order: the postponed
 * reversal must not land on the new one (here 8 days old, which a fresh
 * reverse would refuse with REVERSE_EXPIRE). */
static void a_postponed_reversal_does_not_land_on_an_order_put_in_the_meantime(void **state)
{
    wxm_answer a;
    mt_reverse(*state, "slow_replaced_1", &a); /* catalogue: delay, applied after */
    assert_non_null(a.pending);
    mt_put_order(*state, "slow_replaced_1", "{\"trade_state\":\"SUCCESS\",\"age_seconds\":691200}");
    wxm_answer_commit(*state, &a);
    Wxm_order o = mt_order(*state, "slow_replaced_1");
    assert_int_equal(o.state, WXM_SUCCESS);
    assert_false(o.refunded);
    wxm_answer_clear(&a);
    /* The same order, unreplaced, is reversed at commit as before. */
    mt_reverse(*state, "slow_replaced_2", &a);
    wxm_answer_commit(*state, &a);
    assert_int_equal(mt_order(*state, "slow_replaced_2").state, WXM_REVOKED);
    wxm_answer_clear(&a);
}

static void hang_waits_then_drops_without_changing_state(void **state)
{
    wxm_answer a;
    mt_put_order(*state, "hanging_1", "{\"trade_state\":\"SUCCESS\",\"script\":[\"hang\"]}");
    mt_reverse(*state, "hanging_1", &a);
    assert_int_equal(a.action, WXM_DROP);
    assert_int_equal(a.wait_ms, 30000); /* limits.hang_ms of mock.json */
    wxm_answer_commit(*state, &a);
    assert_int_equal(mt_order(*state, "hanging_1").state, WXM_SUCCESS);
    wxm_answer_clear(&a);
}

static void drop_closes_without_answer_applied_or_not(void **state)
{
    wxm_answer a;
    mt_put_order(*state, "dropped_1", "{\"trade_state\":\"SUCCESS\",\"script\":[\"drop\"]}");
    mt_reverse(*state, "dropped_1", &a);
    assert_int_equal(a.action, WXM_DROP);
    wxm_answer_commit(*state, &a);
    assert_int_equal(mt_order(*state, "dropped_1").state, WXM_SUCCESS);
    wxm_answer_clear(&a);
    mt_put_order(
        *state, "dropped_2",
        "{\"trade_state\":\"SUCCESS\",\"script\":[{\"action\":\"drop\",\"apply\":\"before\"}]}");
    mt_reverse(*state, "dropped_2", &a);
    assert_int_equal(a.action, WXM_DROP);
    assert_int_equal(mt_order(*state, "dropped_2").state, WXM_REVOKED);
    wxm_answer_clear(&a);
}

/* Answer faults: the reversal happens, the answer is what is wrong. */
static void answer_faults_fail_verification_each_in_its_own_way(void **state)
{
    const struct {
        const char *step;
        wxp_err want;
    } rows[] = {
        {"bad_signature", WXP_ERR_SIGNATURE_MISMATCH},
        {"signtest", WXP_ERR_SIGNTEST_PROBE},
        {"unsigned", WXP_ERR_RESP_MISSING_HEADER},
        {"skewed_timestamp", WXP_ERR_RESP_TIMESTAMP_SKEW},
        {"unknown_serial", WXP_ERR_RESP_UNKNOWN_SERIAL},
        {"malformed_body", WXP_OK}, /* signed fine; the body does not parse */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char otn[32], body[128];
        wxm_answer a;
        wxp_diag d = {"", ""};
        snprintf(otn, sizeof(otn), "fault_%zu", i);
        snprintf(body, sizeof(body), "{\"trade_state\":\"SUCCESS\",\"script\":[\"%s\"]}",
                 rows[i].step);
        mt_put_order(*state, otn, body);
        mt_reverse(*state, otn, &a);
        assert_int_equal(a.status, 200);
        wxp_err e = mt_verify_answer(&a, MT_NOW, &d);
        if (e != rows[i].want)
            fail_msg("%s: %s (%s)", rows[i].step, wxp_strerror(e), d.text);
        wxp_reverse_response rr;
        wxp_err pe = wxp_reverse_response_parse((wxp_span){a.body, a.body_len}, &rr, NULL);
        assert_int_equal(pe, strcmp(rows[i].step, "malformed_body") == 0 ? WXP_ERR_JSON_SYNTAX
                                                                         : WXP_OK);
        assert_int_equal(mt_order(*state, otn).state, WXM_REVOKED);
        wxm_answer_clear(&a);
    }
}

static void gateway_html_is_an_unsigned_502_page(void **state)
{
    wxm_answer a;
    mt_put_order(*state, "gateway_1",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[\"gateway_html\"]}");
    mt_reverse(*state, "gateway_1", &a);
    assert_int_equal(a.status, 502);
    assert_string_equal(mt_header_of(&a, "Content-Type"), "text/html");
    assert_null(mt_header_of(&a, "Wechatpay-Signature"));
    assert_non_null(strstr(a.body, "502 Bad Gateway"));
    assert_int_equal(mt_order(*state, "gateway_1").state, WXM_SUCCESS);
    wxm_answer_clear(&a);
}

static void script_errors_name_the_step(void **state)
{
    const struct {
        const char *body, *phrase;
    } rows[] = {
        {"{\"trade_state\":\"SUCCESS\",\"script\":[\"explode\"]}", "script[0]: unknown action"},
        {"{\"trade_state\":\"SUCCESS\",\"script\":[\"ok\",{\"ms\":5}]}", "script[1]: needs"},
        {"{\"trade_state\":\"SUCCESS\",\"script\":[{\"action\":\"delay\",\"ms\":-1}]}",
         "must be 0..3600000"},
        {"{\"trade_state\":\"SUCCESS\",\"script\":[{\"action\":\"drop\",\"apply\":\"maybe\"}]}",
         "after"},
        {"{\"trade_state\":\"SUCCESS\",\"script\":{}}", "array"},
        {"{\"trade_state\":\"PAID\"}", "trade_state must be one of"},
        {"{\"amount\":5}", "trade_state is required"},
        {"{\"trade_state\":\"SUCCESS\",\"amount\":0}", "amount"},
        {"{\"trade_state\":\"SUCCESS\",\"colour\":\"red\"}", "unknown field"},
        {"{\"trade_state\":\"SUCCESS\",\"mchid\":\"12a\"}", "mchid"},
        {"not json", "not valid JSON"},
        /* read-only fields are refused, not dropped in silence */
        {"{\"trade_state\":\"SUCCESS\",\"reverse_calls\":3}", "reverse_calls is read-only"},
        {"{\"trade_state\":\"SUCCESS\",\"refund\":null}", "refund is read-only"},
        {"{\"trade_state\":\"SUCCESS\",\"out_trade_no\":\"other_1\"}", "out_trade_no is read-only"},
        /* out of range: the message gives the range, never a negative time */
        {"{\"trade_state\":\"SUCCESS\",\"age_seconds\":1e10}", "before 1970"},
        {"{\"trade_state\":\"SUCCESS\",\"amount\":1e13}", "from 1 to 1000000000000"},
        {"{\"trade_state\":\"SUCCESS\",\"created_at\":-5}", "from 0 to"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wxm_answer a;
        mt_admin(*state, "PUT", "/__admin/orders/bad_put_1", rows[i].body, &a);
        assert_int_equal(a.status, 400);
        if (!strstr(a.body, rows[i].phrase))
            fail_msg("%s: %.*s lacks %s", rows[i].body, (int)a.body_len, a.body, rows[i].phrase);
        wxm_answer_clear(&a);
    }
}

/* --------------------------------------------------------- catalogue */

static void zero_config_catalogue_covers_every_outcome(void **state)
{
    const struct {
        const char *otn;
        int status;
        const char *code;
        Wxm_state after;
    } rows[] = {
        {"plain_order_1", 200, "", WXM_REVOKED},
        {"paid_cat_1", 200, "", WXM_REVOKED},
        {"userpaying_1", 200, "", WXM_REVOKED},
        {"closed_cat_1", 400, "ORDER_CLOSED", WXM_CLOSED},
        {"revoked_cat_1", 200, "", WXM_REVOKED},
        {"expired_cat_1", 400, "REVERSE_EXPIRE", WXM_NOTPAY},
        {"syserr_cat_1", 500, "SYSTEM_ERROR", WXM_SUCCESS},
        {"ratelimit_cat_1", 429, "FREQUENCY_LIMITED", WXM_SUCCESS},
        {"gateway_cat_1", 502, "", WXM_SUCCESS},
        {"queryanswer_cat_1", 200, "", WXM_SUCCESS}, /* a query's answer, nothing changes */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char code[64];
        int s = mt_reverse_status(*state, rows[i].otn, code);
        if (s != rows[i].status || strcmp(code, rows[i].code) != 0)
            fail_msg("%s: %d %s", rows[i].otn, s, code);
        assert_int_equal(mt_order(*state, rows[i].otn).state, rows[i].after);
    }
    char code[64];
    assert_int_equal(mt_reverse_status(*state, "notfound_cat_1", code), 404);
    assert_string_equal(code, "ORDER_NOT_EXIST");
    /* a scripted prefix fails once, then behaves */
    assert_int_equal(mt_reverse_status(*state, "syserr_cat_1", code), 200);
    Wxm_order o = mt_order(*state, "paid_cat_1");
    assert_true(o.refunded);
    assert_string_equal(o.mchid, TU_MCHID); /* adopted from the first caller */
}

/* ------------------------------------------------------------ config */

static void config_errors_name_the_field(void **state)
{
    const struct {
        const char *json, *phrase;
    } rows[] = {
        {"[]", "(top): is not a JSON object"},
        {"{\"merchants\":[]}", "merchants: must be a non-empty array"},
        {"{\"merchants\":[{\"mchid\":\"12x\"}]}",
         "merchants[0].mchid: \"12x\" must be 1 to 32 digits"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\"}]}", "merchants[0].certificate: is required"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "nope.pem\",\"appids\":[\"wx1\"]}]}",
         "merchants[0].certificate: "},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/merchant_cert.pem\"}]}",
         "merchants[0].appids: must be a non-empty array"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}]}",
         "wechatpay: must be an object"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}],"
         "\"wechatpay\":{\"private_key\":\"keys/wechatpay_key.pem\",\"mode\":\"both\"}}",
         "wechatpay.mode: \"both\" must be"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}],"
         "\"wechatpay\":{\"private_key\":\"keys/"
         "wechatpay_key.pem\",\"mode\":\"certificate\",\"certificate\":\"keys/other_cert.pem\"}}",
         "wechatpay.private_key: is not the private key of wechatpay.certificate"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}],"
         "\"wechatpay\":{\"private_key\":\"keys/"
         "wechatpay_key.pem\",\"mode\":\"certificate\",\"certificate\":\"keys/"
         "wechatpay_cert.pem\"}}",
         "wechatpay.apiv3_key: is required"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}],"
         "\"wechatpay\":{\"private_key\":\"keys/"
         "wechatpay_key.pem\",\"mode\":\"certificate\",\"certificate\":\"keys/wechatpay_cert.pem\","
         "\"apiv3_key\":\"0123456789abcdef0123456789abcde\"}}",
         "wechatpay.apiv3_key: must be exactly 32 ASCII letters, digits or signs (it has 31 "
         "bytes)"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}],"
         "\"wechatpay\":{\"private_key\":\"keys/"
         "wechatpay_key.pem\",\"public_key_id\":\"PUB_KEY_ID_01\","
         "\"apiv3_key\":\"0123456789abcdef0123456789abcd\u00e9\"}}",
         "some not printable ASCII"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}],"
         "\"wechatpay\":{\"private_key\":\"keys/"
         "wechatpay_key.pem\",\"public_key_id\":\"PUB_KEY_ID_01\",\"certificate\":\"keys/"
         "wechatpay_cert.pem\",\"more_certificates\":[{\"certificate\":\"keys/"
         "wechatpay_next_cert.pem\",\"private_key\":\"keys/other_key.pem\"}]}}",
         "wechatpay.more_certificates[0].private_key: is not the private key of "
         "wechatpay.more_certificates[0].certificate"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}],"
         "\"wechatpay\":{\"private_key\":\"keys/"
         "wechatpay_key.pem\",\"public_key_id\":\"PUB_KEY_ID_01\",\"certificate\":\"keys/"
         "wechatpay_cert.pem\",\"more_certificates\":[{\"certificate\":\"keys/"
         "wechatpay_next_cert.pem\"}]}}",
         "wechatpay.more_certificates[0].private_key: is required"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}],"
         "\"wechatpay\":{\"private_key\":\"keys/"
         "wechatpay_key.pem\",\"public_key_id\":\"PUB_KEY_ID_01\",\"apikey\":\"x\"}}",
         "unknown field \"apikey\""},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}],"
         "\"wechatpay\":{\"private_key\":\"keys/ec_key.pem\",\"public_key_id\":\"PUB_KEY_ID_01\"}}",
         "wechatpay.private_key: "},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}],"
         "\"wechatpay\":{\"private_key\":\"keys/"
         "wechatpay_key.pem\",\"public_key_id\":\"PUB_KEY_ID_01\"},\"skew_seconds\":0}",
         "skew_seconds: must be a whole number in 1..86400"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}],"
         "\"wechatpay\":{\"private_key\":\"keys/"
         "wechatpay_key.pem\",\"public_key_id\":\"PUB_KEY_ID_01\"},\"limits\":{\"hang_ms\":\"x\"}}",
         "limits.hang_ms: must be a whole number"},
        {"{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
         "merchant_cert.pem\",\"appids\":[\"wx1\"]}],"
         "\"wechatpay\":{\"private_key\":\"keys/"
         "wechatpay_key.pem\",\"public_key_id\":\"PUB_KEY_ID_01\"},\"verbose\":true}",
         "verbose: unknown field"},
    };
    char *dir = tu_fixture_path("");
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wxm_config *c = NULL;
        wxp_diag d = {"", ""};
        wxm_err e = wxm_config_parse(rows[i].json, strlen(rows[i].json), dir, &c, &d);
        if (e != WXM_E_CONFIG || !strstr(d.text, rows[i].phrase))
            fail_msg("row %zu: %s: \"%s\" lacks \"%s\"", i, wxm_strerror(e), d.text,
                     rows[i].phrase);
        assert_null(c);
    }
    free(dir);
    /* A missing file is named. */
    wxm_config *c = NULL;
    wxp_diag d = {"", ""};
    assert_int_equal(wxm_config_load("/no/such/mock.json", &c, &d), WXM_E_IO);
    assert_non_null(strstr(d.text, "/no/such/mock.json"));
}

/* limits.orders: past it the oldest finished orders go, a tenth of the
 * limit at a time; with none finished a new order is refused, saying why. */
static void the_order_store_is_bounded_and_evicts_the_oldest_finished(void **state)
{
    (void)state;
    wxm_mock *m = mt_mock_with_limits("{\"orders\":20}");
    wxm_answer a;
    char otn[32];
    for (int i = 0; i < 50; i++) { /* finished orders, oldest first */
        snprintf(otn, sizeof(otn), "done_%04d", i);
        mt_put_order(m, otn, "{\"trade_state\":\"REVOKED\"}");
    }
    assert_true(Wxm_store_count(m->orders) <= 20);
    assert_int_equal(Wxm_store_evicted(m->orders), 50 - Wxm_store_count(m->orders));
    Wxm_order o;
    assert_false(Wxm_store_get(m->orders, "done_0000", &o)); /* the oldest went */
    assert_true(Wxm_store_get(m->orders, "done_0049", &o));  /* the newest stayed */
    /* Fill the rest with open orders: those are never evicted. */
    for (int i = 0; i < 20; i++) {
        snprintf(otn, sizeof(otn), "open_%04d", i);
        mt_put_order(m, otn, "{\"trade_state\":\"SUCCESS\"}");
    }
    for (int i = 0; i < 20; i++) {
        snprintf(otn, sizeof(otn), "open_%04d", i);
        assert_true(Wxm_store_get(m->orders, otn, &o));
    }
    mt_admin(m, "PUT", "/__admin/orders/one_too_many", "{\"trade_state\":\"SUCCESS\"}", &a);
    assert_int_equal(a.status, 507);
    assert_non_null(strstr(a.body, "limit of 20 orders"));
    wxm_answer_clear(&a);
    mt_reverse(m, "paid_no_room_1", &a); /* a catalogue order cannot be made either */
    assert_int_equal(a.status, 503);
    assert_non_null(strstr(a.body, "limits.orders"));
    wxm_answer_clear(&a);
    mt_admin(m, "GET", "/__admin/health", NULL, &a);
    assert_non_null(strstr(a.body, "\"orders_limit\":20"));
    wxm_answer_clear(&a);
    wxm_mock_free(m);
}

static void certificate_mode_answers_carry_the_platform_serial(void **state)
{
    char *dir = tu_fixture_path("");
    const char *json =
        "{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/merchant_cert.pem\","
        "\"appids\":[\"wxd678efh567hg6787\"]}],\"wechatpay\":{\"private_key\":\"keys/"
        "wechatpay_key.pem\","
        "\"mode\":\"certificate\",\"certificate\":\"keys/wechatpay_cert.pem\","
        "\"apiv3_key\":\"TESTONLYwxpaymockAPIv3key0000001\"}}";
    wxm_config *c = NULL;
    wxm_mock *m = NULL;
    wxm_answer a;
    (void)state;
    assert_int_equal(wxm_config_parse(json, strlen(json), dir, &c, NULL), WXM_OK);
    assert_int_equal(wxm_mock_new(c, &m), WXM_OK);
    mt_reverse(m, "certmode_1", &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(mt_header_of(&a, "Wechatpay-Serial"), TU_PLATFORM_SERIAL);
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_OK);
    wxm_answer_clear(&a);
    wxm_mock_free(m);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(reverse_of_unpaid_order_closes_it_without_a_refund),
        T(reverse_of_paid_order_refunds_the_user),
        T(reverse_of_reversed_order_succeeds_again_without_a_second_refund),
        T(reverse_of_closed_order_is_order_closed),
        T(reverse_after_seven_days_is_reverse_expire),
        T(reverse_of_refunded_order_is_trade_error),
        cmocka_unit_test_setup_teardown(unknown_order_is_order_not_exist_in_strict_mode,
                                        setup_strict, teardown),
        T(another_merchants_order_does_not_exist_for_us),
        T(query_answers_the_trade_state_signed),
        T(script_steps_are_consumed_one_per_reverse_then_normal),
        T(delay_applies_the_state_first_by_default),
        T(delay_with_apply_after_changes_state_only_at_commit),
        T(a_postponed_reversal_does_not_land_on_an_order_put_in_the_meantime),
        T(hang_waits_then_drops_without_changing_state),
        T(drop_closes_without_answer_applied_or_not),
        T(answer_faults_fail_verification_each_in_its_own_way),
        T(gateway_html_is_an_unsigned_502_page),
        T(script_errors_name_the_step),
        T(zero_config_catalogue_covers_every_outcome),
        T(config_errors_name_the_field),
        T(certificate_mode_answers_carry_the_platform_serial),
        T(the_order_store_is_bounded_and_evicts_the_oldest_finished),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
