/* libwxpay's code-payment calls against the mock listening in-process:
 * codepay for every magic auth code, the queries by either id, close and
 * reverse, sync and async, in the merchant's and the service provider's
 * forms; and the answer checks that belong to each. Label: integration. */
#include "mocktest.h"
#include <wxpay/wxpay.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    wxm_mock *mock;
    wxm_server *server;
    char base[64];
    wxpay_client *client; /* the merchant 1230000109 */
    wxpay_client *sp;     /* the service provider 1900000100 for 1900000109 */
} fixture;

static wxpay_client *new_client(const char *base, bool sp)
{
    wxpay_client *c = wxpay_client_new();
    char *key = tu_fixture_path(sp ? TU_KEYS "sp_key.pem" : TU_KEYS "merchant_key.pem");
    char *cert = tu_fixture_path(sp ? TU_KEYS "sp_cert.pem" : TU_KEYS "merchant_cert.pem");
    char *pub = tu_fixture_path(TU_KEYS "wechatpay_pub.pem");
    assert_int_equal(wxpay_set_base_url(c, base), WXPAY_OK);
    assert_int_equal(wxpay_set_mchid(c, sp ? "1900000100" : TU_MCHID), WXPAY_OK);
    assert_int_equal(wxpay_set_merchant_key_file(c, key, NULL), WXPAY_OK);
    assert_int_equal(wxpay_set_merchant_cert_file(c, cert), WXPAY_OK);
    assert_int_equal(wxpay_add_wechatpay_public_key_file(c, pub, TU_PUBKEY_ID), WXPAY_OK);
    if (sp)
        assert_int_equal(wxpay_set_sub_merchant(c, "1900000109", "wxd930ea5d5a258f4f"), WXPAY_OK);
    assert_int_equal(wxpay_set_timeouts(c, 1000, 500), WXPAY_OK);
    assert_int_equal(wxpay_set_retry(c, 2, 10, 40), WXPAY_OK);
    free(key);
    free(cert);
    free(pub);
    return c;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->mock = mt_mock(1);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", mt_listen(f->mock, 0, &f->server));
    f->client = new_client(f->base, false);
    f->sp = new_client(f->base, true);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    wxpay_client_free(f->client);
    wxpay_client_free(f->sp);
    wxm_server_stop(f->server);
    wxm_mock_free(f->mock);
    free(f);
    return 0;
}

static wxpay_code pay(fixture *f, bool sp, const char *otn, const char *code, wxpay_result **r)
{
    wxpay_codepay_params p = {
        sp ? "wx8888888888888888" : TU_APPID, otn, code, "形象店-QQ公仔", 250, "S1", "POS-7", NULL};
    return wxpay_codepay(sp ? f->sp : f->client, &p, r);
}

/* The trade_state a query finds ("" when the query failed). */
static char state_buf[32];
static const char *state_of(fixture *f, bool sp, const char *otn)
{
    wxpay_result *r = NULL;
    wxpay_code rc = wxpay_query(sp ? f->sp : f->client, otn, &r);
    snprintf(state_buf, sizeof(state_buf), "%s", rc == WXPAY_OK ? wxpay_result_trade_state(r) : "");
    wxpay_result_free(r);
    return state_buf;
}

/* Every magic code, in both forms: the code, the trade_state of the
 * codepay's answer, and what a query finds after. */
static void every_magic_code_in_both_forms(void **state)
{
    fixture *f = *state;
    const struct {
        const char *code;
        wxpay_code rc;
        const char *answer_state, *error, *query_state;
    } rows[] = {
        {"130000000000000001", WXPAY_OK, "SUCCESS", "", "SUCCESS"},
        {"130000000000000002", WXPAY_OK, "USERPAYING", "", "USERPAYING"},
        {"130000000000000003", WXPAY_OK, "USERPAYING", "", "USERPAYING"},
        {"130000000000000004", WXPAY_OK, "USERPAYING", "", "USERPAYING"},
        {"130000000000000005", WXPAY_E_BUSINESS, "", "NOT_ENOUGH", "PAYERROR"},
        {"130000000000000006", WXPAY_E_BUSINESS, "", "PARAM_ERROR", ""},
        {"130000000000000007", WXPAY_E_BUSINESS, "", "SYSTEM_ERROR", "SUCCESS"},
        {"130000000000000008", WXPAY_E_TIMEOUT, "", "", "USERPAYING"},
        {"130000000000000009", WXPAY_E_TIMEOUT, "", "", "SUCCESS"},
    };
    for (int sp = 0; sp <= 1; sp++)
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            char otn[32];
            snprintf(otn, sizeof(otn), "cpay_%d_%zu_xx", sp, i);
            wxpay_result *r = NULL;
            wxpay_code rc = pay(f, sp, otn, rows[i].code, &r);
            if (rc != rows[i].rc ||
                strcmp(wxpay_result_trade_state(r), rows[i].answer_state) != 0 ||
                strcmp(wxpay_result_error_code(r), rows[i].error) != 0)
                fail_msg("%s %s: %s %s: %s", sp ? "partner" : "direct", rows[i].code,
                         wxpay_strerror(rc), wxpay_result_trade_state(r), wxpay_result_detail(r));
            assert_int_equal(wxpay_result_attempts(r), 1); /* a codepay is never sent twice */
            if (rc == WXPAY_OK) {
                assert_int_equal(strlen(wxpay_result_transaction_id(r)), 32);
                assert_string_equal(wxpay_result_mchid(r), sp ? "1900000109" : TU_MCHID);
            }
            wxpay_result_free(r);
            const char *q = state_of(f, sp, otn);
            if (rows[i].query_state[0] && strcmp(q, rows[i].query_state) != 0)
                fail_msg("%s %s: query found \"%s\", want %s", sp ? "partner" : "direct",
                         rows[i].code, q, rows[i].query_state);
        }
}

static void query_by_id_close_and_reverse(void **state)
{
    fixture *f = *state;
    wxpay_result *r = NULL;
    assert_int_equal(pay(f, false, "cpay_byid_01", "130000000000000001", &r), WXPAY_OK);
    char tid[40];
    snprintf(tid, sizeof(tid), "%s", wxpay_result_transaction_id(r));
    wxpay_result_free(r);
    assert_int_equal(wxpay_query_by_id(f->client, tid, &r), WXPAY_OK);
    assert_string_equal(wxpay_result_out_trade_no(r), "cpay_byid_01");
    assert_string_equal(wxpay_result_trade_state(r), "SUCCESS");
    wxpay_result_free(r);
    /* Not the service provider's order. */
    assert_int_equal(wxpay_query_by_id(f->sp, tid, &r), WXPAY_E_BUSINESS);
    assert_string_equal(wxpay_result_error_code(r), "ORDER_NOT_EXIST");
    wxpay_result_free(r);
    /* A code payment is not closed but reversed. */
    assert_int_equal(wxpay_close(f->client, "cpay_byid_01", &r), WXPAY_E_BUSINESS);
    assert_string_equal(wxpay_result_error_code(r), "TRADE_ERROR");
    wxpay_result_free(r);
    assert_int_equal(wxpay_reverse(f->client, "cpay_byid_01", TU_APPID, &r), WXPAY_OK);
    wxpay_result_free(r);
    assert_string_equal(state_of(f, false, "cpay_byid_01"), "REVOKED");
    /* Another order closes with a verified 204. */
    mt_put_order(f->mock, "native_cl_01", "{\"trade_state\":\"NOTPAY\",\"trade_type\":\"NATIVE\"}");
    assert_int_equal(wxpay_close(f->client, "native_cl_01", &r), WXPAY_OK);
    assert_int_equal(wxpay_result_http_status(r), 204);
    wxpay_result_free(r);
    assert_int_equal(mt_order(f->mock, "native_cl_01").state, WXM_CLOSED);
    /* The partner reverse echoes the ids and is checked. */
    assert_int_equal(pay(f, true, "cpay_sprv_01", "130000000000000004", &r), WXPAY_OK);
    wxpay_result_free(r);
    assert_int_equal(wxpay_reverse(f->sp, "cpay_sprv_01", "wx8888888888888888", &r), WXPAY_OK);
    assert_string_equal(wxpay_result_mchid(r), "1900000109");
    wxpay_result_free(r);
    assert_string_equal(state_of(f, true, "cpay_sprv_01"), "REVOKED");
}

static void count(void *user, wxpay_result *r)
{
    int *n = user;
    n[0]++;
    n[1] += wxpay_result_code(r) == WXPAY_OK;
    wxpay_result_free(r);
}

static void async_forms_run_side_by_side(void **state)
{
    fixture *f = *state;
    wxpay_multi *m = wxpay_multi_new(f->client);
    int n[2] = {0, 0};
    char otns[6][32];
    for (int i = 0; i < 6; i++) {
        snprintf(otns[i], sizeof(otns[i]), "cpay_async_%02d", i);
        wxpay_codepay_params p = {TU_APPID, otns[i], "130000000000000001", "d", 100, NULL,
                                  NULL,     NULL};
        assert_int_equal(wxpay_multi_add_codepay(m, &p, count, n), WXPAY_OK);
    }
    wxpay_multi_wait(m);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(wxpay_multi_add_query(m, otns[i], count, n), WXPAY_OK);
        assert_int_equal(wxpay_multi_add_close(m, otns[i], count, n), WXPAY_OK); /* refused */
    }
    assert_int_equal(wxpay_multi_add_query_by_id(m, "42", count, n), WXPAY_OK); /* no such */
    wxpay_multi_wait(m);
    wxpay_multi_free(m);
    assert_int_equal(n[0], 19);
    assert_int_equal(n[1], 12); /* 6 paid, 6 queried; the closes and the unknown id fail */
}

static void bad_arguments_are_named_before_any_network(void **state)
{
    fixture *f = *state;
    wxpay_result *r = NULL;
    assert_int_equal(pay(f, false, "cpay_bad_001", "1300000000000001", &r), WXPAY_E_CONFIG);
    assert_non_null(strstr(wxpay_result_detail(r), "18 digits"));
    wxpay_result_free(r);
    assert_int_equal(wxpay_query_by_id(f->client, "42x", &r), WXPAY_E_CONFIG);
    assert_non_null(strstr(wxpay_result_detail(r), "1 to 32 digits"));
    wxpay_result_free(r);
    assert_int_equal(wxpay_close(f->client, "a.b", &r), WXPAY_E_CONFIG);
    wxpay_result_free(r);
    assert_int_equal(wxpay_set_sub_merchant(f->client, "19x", NULL), WXPAY_E_CONFIG);
    assert_int_equal(wxpay_client_error_setting(f->client), WXPAY_SETTING_SUB_MERCHANT);
    char *text = NULL;
    assert_int_equal(wxpay_dry_run_reverse(f->sp, "cpay_dry_001", "wx8888888888888888", &text),
                     WXPAY_OK);
    assert_non_null(strstr(text, "POST "
                                 "http"));
    assert_non_null(strstr(text, "/v3/pay/partner/transactions/out-trade-no/cpay_dry_001/reverse"));
    assert_non_null(strstr(text, "\"sp_mchid\":\"1900000100\",\"sub_appid\":\"wxd930ea5d5a258f4f\","
                                 "\"sub_mchid\":\"1900000109\""));
    free(text);
    Wxm_journal *j = f->mock->journal;
    assert_int_equal(Wxm_journal_total(j), 0); /* nothing was sent */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(every_magic_code_in_both_forms),
        T(query_by_id_close_and_reverse),
        T(async_forms_run_side_by_side),
        T(bad_arguments_are_named_before_any_network),
    };
    assert_int_equal(wxpay_global_init(), WXPAY_OK);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    wxpay_global_cleanup();
    return failed;
}
