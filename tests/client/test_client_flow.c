/* The whole flow: libwxpay against the mock listening in-process on a
 * loopback port, one named test per outcome. Label: integration. */
#include "mocktest.h"
#include <wxpay/wxpay.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct fixture {
    wxm_mock *mock;
    wxm_server *server;
    wxm_server *backup; /* a second listener on the same mock: api2 */
    char base[64], backup_url[64];
    wxpay_client *client;
} fixture;

static wxpay_client *new_client(const char *base)
{
    wxpay_client *c = wxpay_client_new();
    char *key = tu_fixture_path(TU_KEYS "merchant_key.pem");
    char *cert = tu_fixture_path(TU_KEYS "merchant_cert.pem");
    char *pub = tu_fixture_path(TU_KEYS "wechatpay_pub.pem");
    assert_non_null(c);
    assert_int_equal(wxpay_set_base_url(c, base), WXPAY_OK);
    assert_int_equal(wxpay_set_mchid(c, TU_MCHID), WXPAY_OK);
    assert_int_equal(wxpay_set_merchant_key_file(c, key, NULL), WXPAY_OK);
    assert_int_equal(wxpay_set_merchant_cert_file(c, cert), WXPAY_OK);
    assert_int_equal(wxpay_add_wechatpay_public_key_file(c, pub, TU_PUBKEY_ID), WXPAY_OK);
    /* Short timeouts and backoff keep the suite quick; the logic is the same. */
    assert_int_equal(wxpay_set_timeouts(c, 1000, 400), WXPAY_OK);
    assert_int_equal(wxpay_set_retry(c, 3, 10, 40), WXPAY_OK);
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
    snprintf(f->backup_url, sizeof(f->backup_url), "http://127.0.0.1:%u",
             mt_listen(f->mock, 0, &f->backup));
    f->client = new_client(f->base);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    wxpay_client_free(f->client);
    wxm_server_stop(f->backup);
    wxm_server_stop(f->server);
    wxm_mock_free(f->mock);
    free(f);
    return 0;
}

/* Reverses otn; asserts the code; returns the result (caller frees). */
static wxpay_result *reverse(fixture *f, const char *otn, wxpay_code want)
{
    wxpay_result *r = NULL;
    wxpay_code rc = wxpay_reverse(f->client, otn, TU_APPID, &r);
    assert_non_null(r);
    if (rc != want)
        fail_msg("%s: got %s, want %s: %s", otn, wxpay_strerror(rc), wxpay_strerror(want),
                 wxpay_result_detail(r));
    assert_int_equal(wxpay_result_code(r), rc);
    return r;
}

/* How many reverse requests for otn the mock's journal holds. */
static int journaled(fixture *f, const char *otn)
{
    char *text = Wxm_journal_dump(f->mock->journal, otn);
    cJSON *j = cJSON_Parse(text);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(j, "entries"));
    cJSON_Delete(j);
    cJSON_free(text);
    return n;
}

static void unpaid_order_is_closed(void **state)
{
    fixture *f = *state;
    mt_put_order(f->mock, "flow_unpaid", "{\"trade_state\":\"NOTPAY\"}");
    wxpay_result *r = reverse(f, "flow_unpaid", WXPAY_OK);
    assert_string_equal(wxpay_result_out_trade_no(r), "flow_unpaid");
    assert_string_equal(wxpay_result_mchid(r), TU_MCHID);
    assert_string_equal(wxpay_result_appid(r), TU_APPID);
    assert_int_equal(wxpay_result_http_status(r), 200);
    assert_int_equal(wxpay_result_attempts(r), 1);
    assert_true(strlen(wxpay_result_request_id(r)) > 0);
    wxpay_result_free(r);
    Wxm_order o = mt_order(f->mock, "flow_unpaid");
    assert_int_equal(o.state, WXM_REVOKED);
    assert_false(o.refunded);
}

static void paid_order_is_refunded_and_the_refund_shows_in_the_admin_api(void **state)
{
    fixture *f = *state;
    wxm_answer a;
    mt_put_order(f->mock, "flow_paid", "{\"trade_state\":\"SUCCESS\",\"amount\":1999}");
    wxpay_result_free(reverse(f, "flow_paid", WXPAY_OK));
    mt_admin(f->mock, "GET", "/__admin/orders/flow_paid", NULL, &a);
    cJSON *j = mt_json(&a);
    assert_string_equal(cJSON_GetObjectItem(j, "trade_state")->valuestring, "REVOKED");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "refund"), "amount")->valueint,
                     1999);
    cJSON_Delete(j);
    wxm_answer_clear(&a);
}

static void already_reversed_order_is_success(void **state)
{
    fixture *f = *state;
    mt_put_order(f->mock, "flow_revoked", "{\"trade_state\":\"REVOKED\"}");
    wxpay_result_free(reverse(f, "flow_revoked", WXPAY_OK));
}

static void business_errors_carry_code_message_and_are_not_retried(void **state)
{
    fixture *f = *state;
    const struct {
        const char *otn, *put, *code;
        long status;
    } rows[] = {
        {"flow_closed", "{\"trade_state\":\"CLOSED\"}", "ORDER_CLOSED", 400},
        {"flow_expired", "{\"trade_state\":\"SUCCESS\",\"age_seconds\":700000}", "REVERSE_EXPIRE",
         400},
        {"notfound_flow", NULL, "ORDER_NOT_EXIST", 404},
    };
    for (size_t i = 0; i < 3; i++) {
        if (rows[i].put)
            mt_put_order(f->mock, rows[i].otn, rows[i].put);
        wxpay_result *r = reverse(f, rows[i].otn, WXPAY_E_BUSINESS);
        assert_string_equal(wxpay_result_error_code(r), rows[i].code);
        assert_true(strlen(wxpay_result_error_message(r)) > 0);
        assert_int_equal(wxpay_result_http_status(r), rows[i].status);
        assert_int_equal(wxpay_result_attempts(r), 1);
        assert_int_equal(journaled(f, rows[i].otn), 1);
        wxpay_result_free(r);
    }
}

static void system_error_then_success_is_retried_and_seen_in_the_journal(void **state)
{
    fixture *f = *state;
    mt_put_order(f->mock, "flow_syserr",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[\"system_error\",\"system_error\"]}");
    wxpay_result *r = reverse(f, "flow_syserr", WXPAY_OK);
    assert_int_equal(wxpay_result_attempts(r), 3);
    wxpay_result_free(r);
    assert_int_equal(journaled(f, "flow_syserr"), 3);
    assert_int_equal(mt_order(f->mock, "flow_syserr").refund_amount, 100);
}

static void frequency_limited_then_success_is_retried(void **state)
{
    fixture *f = *state;
    mt_put_order(f->mock, "flow_429",
                 "{\"trade_state\":\"NOTPAY\",\"script\":[\"frequency_limited\"]}");
    wxpay_result *r = reverse(f, "flow_429", WXPAY_OK);
    assert_int_equal(wxpay_result_attempts(r), 2);
    wxpay_result_free(r);
}

static void system_error_on_every_attempt_ends_as_that_business_error(void **state)
{
    fixture *f = *state;
    mt_put_order(f->mock, "flow_syserr_all",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[\"system_error\",\"system_error\","
                 "\"system_error\",\"system_error\",\"system_error\"]}");
    wxpay_result *r = reverse(f, "flow_syserr_all", WXPAY_E_BUSINESS);
    assert_string_equal(wxpay_result_error_code(r), "SYSTEM_ERROR");
    assert_int_equal(wxpay_result_attempts(r), 4); /* 1 + 3 retries */
    wxpay_result_free(r);
}

static void delay_past_the_timeout_with_state_applied_ends_reversed_with_one_refund(void **state)
{
    fixture *f = *state;
    mt_put_order(f->mock, "flow_late",
                 "{\"trade_state\":\"SUCCESS\",\"amount\":640,"
                 "\"script\":[{\"action\":\"delay\",\"ms\":1500,\"apply\":\"before\"}]}");
    wxpay_result *r = reverse(f, "flow_late", WXPAY_OK);
    assert_int_equal(wxpay_result_attempts(r), 2);
    wxpay_result_free(r);
    Wxm_order o = mt_order(f->mock, "flow_late");
    assert_int_equal(o.refund_amount, 640);
    assert_int_equal(o.reverse_calls, 2);
}

static void hang_then_success_is_retried_after_the_timeout(void **state)
{
    fixture *f = *state;
    mt_put_order(f->mock, "flow_hang",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[{\"action\":\"hang\",\"ms\":5000}]}");
    wxpay_result *r = reverse(f, "flow_hang", WXPAY_OK);
    assert_int_equal(wxpay_result_attempts(r), 2);
    wxpay_result_free(r);
}

static void hang_on_every_attempt_is_a_timeout(void **state)
{
    fixture *f = *state;
    mt_put_order(f->mock, "flow_hang_all",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[{\"action\":\"hang\",\"ms\":3000},"
                 "{\"action\":\"hang\",\"ms\":3000}]}");
    assert_int_equal(wxpay_set_retry(f->client, 1, 10, 10), WXPAY_OK);
    wxpay_result *r = reverse(f, "flow_hang_all", WXPAY_E_TIMEOUT);
    assert_int_equal(wxpay_result_http_status(r), 0);
    assert_int_equal(wxpay_result_attempts(r), 2);
    wxpay_result_free(r);
    assert_int_equal(mt_order(f->mock, "flow_hang_all").state, WXM_SUCCESS);
}

static void drop_is_retried_and_every_drop_is_a_transport_failure(void **state)
{
    fixture *f = *state;
    mt_put_order(f->mock, "flow_drop", "{\"trade_state\":\"SUCCESS\",\"script\":[\"drop\"]}");
    wxpay_result *r = reverse(f, "flow_drop", WXPAY_OK);
    assert_int_equal(wxpay_result_attempts(r), 2);
    wxpay_result_free(r);
    mt_put_order(f->mock, "flow_drop_all",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[\"drop\",\"drop\",\"drop\",\"drop\"]}");
    r = reverse(f, "flow_drop_all", WXPAY_E_TRANSPORT);
    assert_int_equal(wxpay_result_attempts(r), 4);
    wxpay_result_free(r);
    assert_int_equal(mt_order(f->mock, "flow_drop_all").state, WXM_SUCCESS);
}

/* The codes of the reverse requests for otn in the mock's journal, in
 * order, as "200,401,...". */
static void journal_statuses(fixture *f, const char *otn, char *out, size_t cap)
{
    char *text = Wxm_journal_dump(f->mock->journal, otn);
    cJSON *j = cJSON_Parse(text), *e;
    out[0] = '\0';
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "entries"))
        snprintf(out + strlen(out), cap - strlen(out), "%s%d", out[0] ? "," : "",
                 cJSON_GetObjectItem(e, "status")->valueint);
    cJSON_Delete(j);
    cJSON_free(text);
}

/* A drop on a kept-alive connection: libcurl would resend the same signed
 * request on a new connection by itself (a replayed nonce, refused); the
 * client must sign a new attempt instead. */
static void drop_on_a_reused_connection_is_not_resent_as_is(void **state)
{
    fixture *f = *state;
    wxpay_result_free(reverse(f, "flow_keepalive_1", WXPAY_OK)); /* leaves a connection open */
    mt_put_order(f->mock, "flow_keepalive_2",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[\"drop\"]}");
    wxpay_result *r = reverse(f, "flow_keepalive_2", WXPAY_OK);
    assert_int_equal(wxpay_result_attempts(r), 2);
    wxpay_result_free(r);
    char st[64];
    journal_statuses(f, "flow_keepalive_2", st, sizeof(st));
    assert_string_equal(st, "200,200"); /* the drop (answered 200, never sent), then the new one */
}

/* Each bad answer is its own result and never "reversed", even though the
 * mock did reverse the order. */
static void bad_answers_are_reported_each_as_its_own_result(void **state)
{
    fixture *f = *state;
    const struct {
        const char *step;
        wxpay_code want;
        wxp_err verify;
    } rows[] = {
        {"bad_signature", WXPAY_E_VERIFY, WXP_ERR_SIGNATURE_MISMATCH},
        {"signtest", WXPAY_E_VERIFY, WXP_ERR_SIGNTEST_PROBE},
        {"unsigned", WXPAY_E_VERIFY, WXP_ERR_RESP_MISSING_HEADER},
        {"skewed_timestamp", WXPAY_E_VERIFY, WXP_ERR_RESP_TIMESTAMP_SKEW},
        {"unknown_serial", WXPAY_E_VERIFY, WXP_ERR_RESP_UNKNOWN_SERIAL},
        {"malformed_body", WXPAY_E_MALFORMED, WXP_OK},
        {"query_answer", WXPAY_E_MALFORMED, WXP_OK},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char otn[32], put[128];
        snprintf(otn, sizeof(otn), "flow_fault_%zu", i);
        snprintf(put, sizeof(put), "{\"trade_state\":\"SUCCESS\",\"script\":[\"%s\"]}",
                 rows[i].step);
        mt_put_order(f->mock, otn, put);
        wxpay_result *r = reverse(f, otn, rows[i].want);
        assert_int_equal(wxpay_result_verify_error(r), rows[i].verify);
        assert_string_equal(wxpay_result_out_trade_no(r), ""); /* nothing trusted */
        assert_int_equal(wxpay_result_attempts(r), 1);
        wxpay_result_free(r);
    }
    /* A genuine, signed query answer in place of the reverse answer: the
     * order was not reversed and the client must not say it was. */
    wxpay_result *q = reverse(f, "queryanswer_flow_1", WXPAY_E_MALFORMED);
    assert_non_null(strstr(wxpay_result_detail(q), "trade_state"));
    assert_int_equal(mt_order(f->mock, "queryanswer_flow_1").state, WXM_SUCCESS);
    wxpay_result_free(q);
    /* A 502 HTML page on every attempt. */
    mt_put_order(f->mock, "flow_gateway",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[\"gateway_html\",\"gateway_html\","
                 "\"gateway_html\",\"gateway_html\"]}");
    wxpay_result *r = reverse(f, "flow_gateway", WXPAY_E_MALFORMED);
    assert_int_equal(wxpay_result_http_status(r), 502);
    assert_non_null(strstr(wxpay_result_detail(r), "text/html"));
    assert_int_equal(wxpay_result_attempts(r), 4);
    wxpay_result_free(r);
}

static void transport_failure_fails_over_to_the_backup_listener(void **state)
{
    fixture *f = *state;
    assert_int_equal(wxpay_set_backup_url(f->client, f->backup_url), WXPAY_OK);
    mt_put_order(f->mock, "flow_failover", "{\"trade_state\":\"SUCCESS\",\"script\":[\"drop\"]}");
    wxpay_result *r = reverse(f, "flow_failover", WXPAY_OK);
    assert_int_equal(wxpay_result_attempts(r), 2);
    wxpay_result_free(r);
    /* The second request reached the backup listener: its Host says so. */
    char *text = Wxm_journal_dump(f->mock->journal, "flow_failover");
    char port[16];
    snprintf(port, sizeof(port), ":%u\"", wxm_server_port(f->backup));
    cJSON *j = cJSON_Parse(text);
    const cJSON *second = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "entries"), 1);
    char *dump = cJSON_PrintUnformatted(cJSON_GetObjectItem(second, "headers"));
    assert_non_null(strstr(dump, port));
    cJSON_free(dump);
    cJSON_Delete(j);
    cJSON_free(text);
}

static void connection_refused_without_backup_is_a_transport_failure(void **state)
{
    fixture *f = *state;
    wxpay_client *c = new_client("http://127.0.0.1:1"); /* nothing listens on port 1 */
    assert_int_equal(wxpay_set_retry(c, 1, 1, 1), WXPAY_OK);
    wxpay_result *r = NULL;
    assert_int_equal(wxpay_reverse(c, "flow_refused", TU_APPID, &r), WXPAY_E_TRANSPORT);
    assert_int_equal(wxpay_result_attempts(r), 2);
    assert_non_null(strstr(wxpay_result_detail(r), "no answer"));
    wxpay_result_free(r);
    wxpay_client_free(c);
    (void)f;
}

typedef struct tally {
    int ok, done;
} tally;

static void count_done(void *user, wxpay_result *r)
{
    tally *t = user;
    t->done++;
    if (wxpay_result_code(r) == WXPAY_OK)
        t->ok++;
    wxpay_result_free(r);
}

static void fifty_concurrent_async_reverses_all_succeed(void **state)
{
    fixture *f = *state;
    wxpay_multi *m = wxpay_multi_new(f->client);
    tally t = {0, 0};
    assert_non_null(m);
    for (int i = 0; i < 50; i++) {
        char otn[32];
        snprintf(otn, sizeof(otn), "paid_async_%02d", i);
        assert_int_equal(wxpay_multi_add_reverse(m, otn, TU_APPID, count_done, &t), WXPAY_OK);
    }
    wxpay_multi_wait(m);
    wxpay_multi_free(m);
    assert_int_equal(t.done, 50);
    assert_int_equal(t.ok, 50);
    for (int i = 0; i < 50; i++) {
        char otn[32];
        snprintf(otn, sizeof(otn), "paid_async_%02d", i);
        assert_true(mt_order(f->mock, otn).refunded);
    }
}

static void async_poll_reports_progress_and_mixed_outcomes(void **state)
{
    fixture *f = *state;
    wxpay_multi *m = wxpay_multi_new(f->client);
    tally t = {0, 0};
    assert_int_equal(wxpay_multi_add_reverse(m, "paid_mix_1", TU_APPID, count_done, &t), WXPAY_OK);
    assert_int_equal(wxpay_multi_add_reverse(m, "closed_mix_1", TU_APPID, count_done, &t),
                     WXPAY_OK);
    assert_int_equal(wxpay_multi_add_reverse(m, "syserr_mix_1", TU_APPID, count_done, &t),
                     WXPAY_OK);
    int left = 3, rounds = 0;
    while (left > 0 && rounds++ < 1000)
        left = wxpay_multi_poll(m, 10);
    assert_int_equal(left, 0);
    assert_int_equal(t.done, 3);
    assert_int_equal(t.ok, 2);
    wxpay_multi_free(m);
}

/* The seed's three call styles reach the same endpoint. */
static void template_chain_and_generic_request_styles_agree(void **state)
{
    fixture *f = *state;
    char *body = NULL;
    assert_int_equal(wxp_reverse_request_build(TU_APPID, TU_MCHID, &body), WXP_OK);
    const char *paths[] = {"v3/pay/transactions/out-trade-no/{out_trade_no}/reverse",
                           "v3/pay/transactions/outTradeNo/_out_trade_no_/reverse"};
    const char *orders[] = {"style_template", "style_chain"};
    for (int i = 0; i < 2; i++) {
        wxp_param p = {"out_trade_no", orders[i]};
        wxpay_result *r = NULL;
        assert_int_equal(wxpay_request(f->client, "POST", paths[i], &p, 1, body, &r), WXPAY_OK);
        size_t len;
        const char *b = wxpay_result_body(r, &len);
        assert_non_null(strstr(b, orders[i]));
        wxpay_result_free(r);
        assert_int_equal(mt_order(f->mock, orders[i]).state, WXM_REVOKED);
    }
    free(body);
    /* A GET with a query, through the generic call: verified, not a reverse. */
    wxp_param q[] = {{"out_trade_no", "style_template"}, {"mchid", TU_MCHID}};
    wxpay_result *r = NULL;
    assert_int_equal(wxpay_request(f->client, "GET",
                                   "v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={mchid}",
                                   q, 2, NULL, &r),
                     WXPAY_OK);
    size_t len;
    assert_non_null(strstr(wxpay_result_body(r, &len), "\"trade_state\":\"REVOKED\""));
    wxpay_result_free(r);
}

static void order_numbers_with_star_and_pipe_are_encoded_and_accepted(void **state)
{
    fixture *f = *state;
    wxpay_result *r = reverse(f, "ord*2026|07", WXPAY_OK);
    assert_string_equal(wxpay_result_out_trade_no(r), "ord*2026|07");
    wxpay_result_free(r);
}

static void certificate_mode_verifies_with_the_platform_certificate(void **state)
{
    fixture *f = *state;
    char *dir = tu_fixture_path("");
    const char *json =
        "{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/merchant_cert.pem\","
        "\"appids\":[\"wxd678efh567hg6787\"]}],\"wechatpay\":{\"private_key\":\"keys/"
        "wechatpay_key.pem\","
        "\"mode\":\"certificate\",\"certificate\":\"keys/wechatpay_cert.pem\","
        "\"apiv3_key\":\"TESTONLYwxpaymockAPIv3key0000001\"}}";
    wxm_config *cfg = NULL;
    wxm_mock *m = NULL;
    wxm_server *s = NULL;
    char base[64];
    assert_int_equal(wxm_config_parse(json, strlen(json), dir, &cfg, NULL), WXM_OK);
    assert_int_equal(wxm_mock_new(cfg, &m), WXM_OK);
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", mt_listen(m, 0, &s));
    wxpay_client *c = wxpay_client_new();
    char *key = tu_fixture_path(TU_KEYS "merchant_key.pem");
    char *pc = tu_fixture_path(TU_KEYS "wechatpay_cert.pem");
    assert_int_equal(wxpay_set_base_url(c, base), WXPAY_OK);
    assert_int_equal(wxpay_set_mchid(c, TU_MCHID), WXPAY_OK);
    assert_int_equal(wxpay_set_merchant_key_file(c, key, TU_MERCHANT_SERIAL), WXPAY_OK);
    assert_int_equal(wxpay_add_platform_cert_file(c, pc), WXPAY_OK);
    wxpay_result *r = NULL;
    assert_int_equal(wxpay_reverse(c, "paid_certmode", TU_APPID, &r), WXPAY_OK);
    wxpay_result_free(r);
    wxpay_client_free(c);
    /* A client that only knows the public key id refuses the certificate's serial. */
    assert_int_equal(wxpay_set_base_url(f->client, base), WXPAY_OK);
    assert_int_equal(wxpay_reverse(f->client, "paid_certmode2", TU_APPID, &r), WXPAY_E_VERIFY);
    assert_int_equal(wxpay_result_verify_error(r), WXP_ERR_RESP_UNKNOWN_SERIAL);
    wxpay_result_free(r);
    wxm_server_stop(s);
    wxm_mock_free(m);
    free(key);
    free(pc);
    free(dir);
}

/* HTTPS with the test CA of fixtures/tls: right CA, no CA, host override,
 * and a name the certificate does not cover. */
static void https_checks_the_server_certificate(void **state)
{
    fixture *f = *state;
    char *ca = tu_fixture_path("tls/ca_cert.pem");
    wxm_server *s = NULL;
    char base[128], pin[128];
    unsigned port = mt_listen(f->mock, 1, &s);
    assert_true(wxm_server_is_tls(s));
    wxpay_result *r = NULL;

    snprintf(base, sizeof(base), "https://localhost:%u", port);
    wxpay_client *c = new_client(base);
    assert_int_equal(wxpay_set_ca_file(c, ca), WXPAY_OK);
    assert_int_equal(wxpay_reverse(c, "paid_https_1", TU_APPID, &r), WXPAY_OK);
    wxpay_result_free(r);
    wxpay_client_free(c);

    c = new_client(base); /* the system CAs do not know the test CA */
    assert_int_equal(wxpay_set_retry(c, 0, 1, 1), WXPAY_OK);
    assert_int_equal(wxpay_reverse(c, "paid_https_2", TU_APPID, &r), WXPAY_E_TRANSPORT);
    assert_non_null(strstr(wxpay_result_detail(r), "certificate"));
    wxpay_result_free(r);
    wxpay_client_free(c);

    /* The hard-coded host of the SDKs, pinned to the mock. */
    snprintf(base, sizeof(base), "https://api.mch.weixin.qq.com:%u", port);
    snprintf(pin, sizeof(pin), "api.mch.weixin.qq.com:%u:127.0.0.1", port);
    c = new_client(base);
    assert_int_equal(wxpay_set_ca_file(c, ca), WXPAY_OK);
    assert_int_equal(wxpay_add_resolve(c, pin), WXPAY_OK);
    assert_int_equal(wxpay_reverse(c, "paid_https_3", TU_APPID, &r), WXPAY_OK);
    wxpay_result_free(r);
    wxpay_client_free(c);

    /* A name the certificate does not cover. */
    snprintf(base, sizeof(base), "https://other.test:%u", port);
    snprintf(pin, sizeof(pin), "other.test:%u:127.0.0.1", port);
    c = new_client(base);
    assert_int_equal(wxpay_set_retry(c, 0, 1, 1), WXPAY_OK);
    assert_int_equal(wxpay_set_ca_file(c, ca), WXPAY_OK);
    assert_int_equal(wxpay_add_resolve(c, pin), WXPAY_OK);
    assert_int_equal(wxpay_reverse(c, "paid_https_4", TU_APPID, &r), WXPAY_E_TRANSPORT);
    assert_non_null(strstr(wxpay_result_detail(r), "other.test"));
    wxpay_result_free(r);
    assert_int_equal(wxpay_add_resolve(c, "nonsense"), WXPAY_E_CONFIG);
    wxpay_client_free(c);

    wxm_server_stop(s);
    free(ca);
}

/* A server that answers one request with 200 and a body that never ends
 * (100 MB announced), counting what it could send before the client left. */
typedef struct endless {
    int listen_fd;
    unsigned port;
    size_t sent;
    pthread_t thread;
} endless;

static void *endless_main(void *arg)
{
    endless *e = arg;
    static char chunk[65536];
    char req[8192];
    int c = accept(e->listen_fd, NULL, NULL);
    if (c < 0)
        return NULL;
    ssize_t got = recv(c, req, sizeof(req), 0); /* the request, whole enough */
    (void)got;
    const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "Content-Length: 104857600\r\n\r\n";
    send(c, head, strlen(head), MSG_NOSIGNAL);
    memset(chunk, ' ', sizeof(chunk));
    for (ssize_t w; (w = send(c, chunk, sizeof(chunk), MSG_NOSIGNAL)) > 0;)
        e->sent += (size_t)w;
    close(c);
    return NULL;
}

static void an_answer_over_the_size_cap_is_stopped_there_and_not_retried(void **state)
{
    (void)state;
    endless e = {0};
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    e.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(e.listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(e.listen_fd, 4), 0);
    assert_int_equal(getsockname(e.listen_fd, (struct sockaddr *)&a, &len), 0);
    e.port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&e.thread, NULL, endless_main, &e), 0);
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", e.port);
    wxpay_client *c = new_client(base);
    assert_int_equal(wxpay_set_timeouts(c, 1000, 10000), WXPAY_OK);
    wxpay_result *r = NULL;
    assert_int_equal(wxpay_reverse(c, "toolarge_0001", TU_APPID, &r), WXPAY_E_MALFORMED);
    assert_non_null(strstr(wxpay_result_detail(r), "larger than 16 MiB"));
    assert_int_equal(wxpay_result_attempts(r), 1); /* only one connection is accepted */
    wxpay_result_free(r);
    wxpay_client_free(c);
    pthread_join(e.thread, NULL);
    close(e.listen_fd);
    /* The client stopped near the cap: 16 MiB and what the sockets buffer,
     * far from the 100 MB announced (it read on to the end before). */
    printf("the server sent %zu bytes before the client left\n", e.sent);
    assert_true(e.sent < (size_t)24 << 20);
}

static void missing_configuration_is_named_before_any_network(void **state)
{
    wxpay_client *c = wxpay_client_new();
    wxpay_result *r = NULL;
    (void)state;
    assert_int_equal(wxpay_reverse(c, "abc123", TU_APPID, &r), WXPAY_E_CONFIG);
    assert_non_null(strstr(wxpay_result_detail(r), "private key"));
    wxpay_result_free(r);
    assert_int_equal(wxpay_set_merchant_key_file(c, "/no/such/key.pem", "X"), WXPAY_E_CONFIG);
    assert_non_null(strstr(wxpay_client_error(c), "/no/such/key.pem"));
    assert_int_equal(wxpay_set_base_url(c, "ftp://example"), WXPAY_E_CONFIG);
    assert_int_equal(wxpay_set_mchid(c, "12ab"), WXPAY_E_CONFIG);
    assert_int_equal(wxpay_client_error_setting(c), WXPAY_SETTING_MCHID);
    char *other = tu_fixture_path(TU_KEYS "other_cert.pem");
    char *key = tu_fixture_path(TU_KEYS "merchant_key.pem");
    assert_int_equal(wxpay_set_merchant_key_file(c, key, NULL), WXPAY_OK);
    assert_int_equal(wxpay_set_merchant_cert_file(c, other), WXPAY_E_CONFIG);
    assert_non_null(strstr(wxpay_client_error(c), "does not belong"));
    assert_int_equal(wxpay_client_error_setting(c), WXPAY_SETTING_MERCHANT_CERT);
    free(other);
    free(key);
    wxpay_client_free(c);
}

static void bad_order_number_is_refused_before_sending(void **state)
{
    fixture *f = *state;
    wxpay_result *r = NULL;
    assert_int_equal(wxpay_reverse(f->client, "a/b", TU_APPID, &r), WXPAY_E_CONFIG);
    assert_non_null(strstr(wxpay_result_detail(r), "out_trade_no"));
    wxpay_result_free(r);
    assert_int_equal(journaled(f, "a/b"), 0);
}

int main(void)
{
    if (wxpay_global_init() != WXPAY_OK)
        return 1;
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(unpaid_order_is_closed),
        T(paid_order_is_refunded_and_the_refund_shows_in_the_admin_api),
        T(already_reversed_order_is_success),
        T(business_errors_carry_code_message_and_are_not_retried),
        T(system_error_then_success_is_retried_and_seen_in_the_journal),
        T(frequency_limited_then_success_is_retried),
        T(system_error_on_every_attempt_ends_as_that_business_error),
        T(delay_past_the_timeout_with_state_applied_ends_reversed_with_one_refund),
        T(hang_then_success_is_retried_after_the_timeout),
        T(hang_on_every_attempt_is_a_timeout),
        T(drop_is_retried_and_every_drop_is_a_transport_failure),
        T(drop_on_a_reused_connection_is_not_resent_as_is),
        T(bad_answers_are_reported_each_as_its_own_result),
        T(transport_failure_fails_over_to_the_backup_listener),
        T(connection_refused_without_backup_is_a_transport_failure),
        T(fifty_concurrent_async_reverses_all_succeed),
        T(async_poll_reports_progress_and_mixed_outcomes),
        T(template_chain_and_generic_request_styles_agree),
        T(order_numbers_with_star_and_pipe_are_encoded_and_accepted),
        T(certificate_mode_verifies_with_the_platform_certificate),
        T(https_checks_the_server_certificate),
        T(missing_configuration_is_named_before_any_network),
        T(an_answer_over_the_size_cap_is_stopped_there_and_not_retried),
        T(bad_order_number_is_refused_before_sending),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    wxpay_global_cleanup();
    return rc;
}
