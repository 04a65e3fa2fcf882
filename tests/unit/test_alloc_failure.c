/* Allocation-failure injection: every allocation made by protocol/, the
 * client and the mock's request handler (and by cJSON on their behalf) is
 * failed in turn, one per run, and each run must end in a clean error: no
 * crash, no wrong success, no answer missing a header, and (under the
 * sanitizer preset) no leak. Linked with -Wl,--wrap=malloc,calloc,realloc
 * so the counter sees our allocations; OpenSSL's own are not failed. */
#include "testutil.h"
#include <wxpay/wxpay.h>
#include "wxpay_int.h"
#include <wxpay/mock.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);

static long countdown = -1; /* fail when it reaches 0; -1: never */
static long seen;           /* allocations since the run started */

static int should_fail(void)
{
    seen++;
    if (countdown > 0 && --countdown == 0)
        return 1;
    return 0;
}

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t s)
{
    return should_fail() ? NULL : __real_calloc(n, s);
}
void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}
static void *cjson_malloc(size_t n)
{
    return __wrap_malloc(n);
}

/* Runs op with the k-th allocation failing, for k = 1, 2, ... until a run
 * makes fewer than k allocations. op returns 0 on success, 1 on a clean
 * error, and fails the test itself on anything else. */
static void each_allocation_fails_once(const char *what, int (*op)(void))
{
    long runs = 0, errors = 0;
    for (long k = 1;; k++) {
        seen = 0;
        countdown = k;
        int r = op();
        long made = seen;
        countdown = -1;
        runs++;
        errors += r;
        if (made < k) {
            assert_int_equal(r, 0); /* nothing failed: it must have worked */
            break;
        }
    }
    printf("%s: %ld runs, %ld clean errors\n", what, runs, errors);
    assert_true(errors > 0);
}

/* ----------------------------------------------------------- protocol */

/* Everything the operation reads is prepared outside the count. */
static wxp_key *merchant, *pub;
static char *vec_sig, *pub_file, *resp_body;
static size_t resp_len;

static int protocol_op(void)
{
    char *msg = NULL, *sig = NULL, *auth = NULL, *target = NULL, *tmpl = NULL, *body = NULL;
    size_t len;
    int clean = 0;
    wxp_diag d;
    wxp_param p = {"out_trade_no", "ord*2026|01"};
    wxp_err e = wxp_template_expand("v3/pay/transactions/out-trade-no/{out_trade_no}/reverse", &p,
                                    1, &target, &d);
    if (e == WXP_OK)
        e = wxp_chain_to_template("v3/pay/transactions/outTradeNo/_out_trade_no_/reverse", &tmpl,
                                  &d);
    if (e == WXP_OK)
        e = wxp_reverse_request_build(TU_APPID, TU_MCHID, &body);
    if (e == WXP_OK)
        e = wxp_request_message(wxp_span_of("POST"), wxp_span_of(target), 1554208460,
                                wxp_span_of("nonce"), wxp_span_of(body), &msg, &len);
    if (e == WXP_OK)
        e = wxp_sign(merchant, msg, len, &sig);
    if (e == WXP_OK) {
        wxp_auth a = {wxp_span_of(TU_MCHID),     wxp_span_of("nonce"),
                      wxp_span_of("1554208460"), wxp_span_of(TU_MERCHANT_SERIAL),
                      wxp_span_of(sig),          0};
        e = wxp_auth_build(&a, &auth);
    }
    if (e == WXP_OK) {
        wxp_auth back;
        e = wxp_auth_parse(wxp_span_of(auth), &back, &d);
    }
    wxp_reverse_request rq;
    if (e == WXP_OK)
        e = wxp_reverse_request_parse(wxp_span_of(body), &rq, &d);
    wxp_error_body eb;
    if (e == WXP_OK) {
        e = wxp_error_body_parse(
            wxp_span_of("{\"code\":\"X\",\"message\":\"m\",\"detail\":{\"a\":[1,2]}}"), &eb, &d);
        if (e == WXP_OK)
            wxp_error_body_clear(&eb);
    }
    wxp_keyring *ring = NULL;
    if (e == WXP_OK) {
        ring = wxp_keyring_new();
        wxp_key *k = NULL;
        if (!ring)
            e = WXP_ERR_NOMEM;
        else if ((e = wxp_key_public_file(pub_file, &k, &d)) == WXP_OK &&
                 (e = wxp_keyring_add(ring, TU_PUBKEY_ID, k)) != WXP_OK)
            wxp_key_free(k);
    }
    if (e == WXP_OK) {
        wxp_response_headers h = {wxp_span_of("1554209980"),
                                  wxp_span_of("c5ac7061fccab6bf3e254dcf98995b8c"),
                                  wxp_span_of(vec_sig),
                                  wxp_span_of(TU_PUBKEY_ID),
                                  {0}};
        e = wxp_response_verify(ring, &h, (wxp_span){resp_body, resp_len}, 1554209980, 0, &d);
    }
    if (e != WXP_OK) {
        /* Only the honest out-of-memory outcomes are clean. */
        if (e != WXP_ERR_NOMEM && e != WXP_ERR_CRYPTO && e != WXP_ERR_IO &&
            e != WXP_ERR_JSON_SYNTAX && e != WXP_ERR_KEY_PARSE)
            fail_msg("unexpected error under allocation failure: %s (%s)", wxp_strerror(e), d.text);
        clean = 1;
    }
    wxp_keyring_free(ring);
    free(msg);
    free(sig);
    free(auth);
    free(target);
    free(tmpl);
    free(body);
    return clean;
}

static void protocol_survives_every_single_allocation_failure(void **state)
{
    (void)state;
    merchant = tu_private_key("merchant_key.pem");
    pub = tu_public_key("wechatpay_pub.pem");
    vec_sig = tu_fixture("vectors/response_body.sig", NULL);
    resp_body = tu_fixture("vectors/response_body.body", &resp_len);
    pub_file = tu_fixture_path(TU_KEYS "wechatpay_pub.pem");
    assert_int_equal(protocol_op(), 0); /* warm OpenSSL up outside the count */
    each_allocation_fails_once("protocol", protocol_op);
    wxp_key_free(merchant);
    wxp_key_free(pub);
    free(vec_sig);
    free(resp_body);
    free(pub_file);
}

/* ------------------------------------------------------------- client */

static char *key_path, *cert_path, *pub_path;
static Wxpay_answer answer; /* a signed reverse answer, made once */

static void make_answer(void)
{
    const char *body = "{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\","
                       "\"out_trade_no\":\"1217752501201407033233368018\"}";
    wxp_key *k = tu_private_key("wechatpay_key.pem");
    char *msg = NULL, *sig = NULL;
    size_t len;
    memset(&answer, 0, sizeof(answer));
    answer.status = 200;
    snprintf(answer.headers[WXPAY_H_TIMESTAMP], sizeof(answer.headers[0]), "%lld",
             (long long)time(NULL));
    snprintf(answer.headers[WXPAY_H_NONCE], sizeof(answer.headers[0]), "n");
    snprintf(answer.headers[WXPAY_H_SERIAL], sizeof(answer.headers[0]), "%s", TU_PUBKEY_ID);
    assert_int_equal(wxp_response_message(wxp_span_of(answer.headers[WXPAY_H_TIMESTAMP]),
                                          wxp_span_of("n"), wxp_span_of(body), &msg, &len),
                     WXP_OK);
    assert_int_equal(wxp_sign(k, msg, len, &sig), WXP_OK);
    snprintf(answer.headers[WXPAY_H_SIGNATURE], sizeof(answer.headers[0]), "%s", sig);
    answer.present[WXPAY_H_TIMESTAMP] = answer.present[WXPAY_H_NONCE] =
        answer.present[WXPAY_H_SERIAL] = true;
    answer.present[WXPAY_H_SIGNATURE] = true;
    answer.body = (char *)(uintptr_t)body;
    answer.body_len = strlen(body);
    free(msg);
    free(sig);
    wxp_key_free(k);
}

static int client_op(void)
{
    int clean = 0;
    wxpay_client *c = wxpay_client_new();
    char *req = NULL;
    wxpay_result *r = NULL;
    Wxpay_spec s;
    memset(&s, 0, sizeof(s));
    if (!c)
        return 1;
    wxpay_code rc = wxpay_set_base_url(c, "http://127.0.0.1:9");
    if (!rc)
        rc = wxpay_set_mchid(c, TU_MCHID);
    if (!rc)
        rc = wxpay_set_merchant_key_file(c, key_path, NULL);
    if (!rc)
        rc = wxpay_set_merchant_cert_file(c, cert_path);
    if (!rc)
        rc = wxpay_add_wechatpay_public_key_file(c, pub_path, TU_PUBKEY_ID);
    if (!rc)
        rc = wxpay_dry_run_reverse(c, "ord*2026|01", TU_APPID, &req);
    if (!rc)
        rc = Wxpay_spec_reverse(c, &s, "1217752501201407033233368018", TU_APPID);
    if (!rc) {
        /* A verified answer, judged as the transport would hand it over. */
        Wxpay_answer a = answer;
        a.body = __real_malloc(answer.body_len + 1); /* the transport's, not counted */
        memcpy(a.body, answer.body, answer.body_len + 1);
        bool retry;
        r = Wxpay_judge(c, &s, &a, 1, &retry);
        free(a.body);
        rc = r ? wxpay_result_code(r) : WXPAY_E_NOMEM;
    }
    if (rc != WXPAY_OK) {
        if (rc != WXPAY_E_NOMEM && rc != WXPAY_E_CONFIG && rc != WXPAY_E_MALFORMED &&
            rc != WXPAY_E_VERIFY)
            fail_msg("unexpected code under allocation failure: %s (%s)", wxpay_strerror(rc),
                     wxpay_client_error(c));
        clean = 1;
    }
    wxpay_result_free(r);
    Wxpay_spec_clear(&s);
    free(req);
    wxpay_client_free(c);
    return clean;
}

static void client_survives_every_single_allocation_failure(void **state)
{
    (void)state;
    key_path = tu_fixture_path(TU_KEYS "merchant_key.pem");
    cert_path = tu_fixture_path(TU_KEYS "merchant_cert.pem");
    pub_path = tu_fixture_path(TU_KEYS "wechatpay_pub.pem");
    make_answer();
    assert_int_equal(client_op(), 0); /* warm up */
    each_allocation_fails_once("client", client_op);
    free(key_path);
    free(cert_path);
    free(pub_path);
}

/* --------------------------------------------------------------- mock */

static wxm_mock *mock;
static long mock_runs;

/* A signed reverse of a fresh catalogue order, prepared outside the count. */
static char *signed_reverse(char *auth_line, size_t cap, char *target, size_t tcap)
{
    char otn[40], nonce[WXP_NONCE_LEN + 1], ts[24], *msg = NULL, *sig = NULL, *auth = NULL;
    char *body = NULL;
    size_t len;
    snprintf(otn, sizeof(otn), "paid_alloc_%ld", ++mock_runs);
    snprintf(target, tcap, "/v3/pay/transactions/out-trade-no/%s/reverse", otn);
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    assert_int_equal(wxp_nonce(nonce), WXP_OK);
    assert_int_equal(wxp_reverse_request_build(TU_APPID, TU_MCHID, &body), WXP_OK);
    assert_int_equal(wxp_request_message(wxp_span_of("POST"), wxp_span_of(target), time(NULL),
                                         wxp_span_of(nonce), wxp_span_of(body), &msg, &len),
                     WXP_OK);
    assert_int_equal(wxp_sign(merchant, msg, len, &sig), WXP_OK);
    wxp_auth a = {wxp_span_of(TU_MCHID),           wxp_span_of(nonce), wxp_span_of(ts),
                  wxp_span_of(TU_MERCHANT_SERIAL), wxp_span_of(sig),   0};
    assert_int_equal(wxp_auth_build(&a, &auth), WXP_OK);
    snprintf(auth_line, cap, "%s", auth);
    free(msg);
    free(sig);
    free(auth);
    return body;
}

static int mock_op(void)
{
    long armed = countdown;
    char auth[1200], target[128];
    countdown = -1; /* the request itself is not counted */
    char *body = signed_reverse(auth, sizeof(auth), target, sizeof(target));
    countdown = armed;
    seen = 0;
    wxm_header h[] = {
        {wxp_span_of("Authorization"), wxp_span_of(auth)},
        {wxp_span_of("Accept"), wxp_span_of("application/json")},
        {wxp_span_of("Content-Type"), wxp_span_of("application/json")},
        {wxp_span_of("User-Agent"), wxp_span_of("test_alloc_failure")},
    };
    wxm_request r = {wxp_span_of("POST"), wxp_span_of(target), h, 4, wxp_span_of(body), 0, NULL, 0};
    wxm_answer a;
    wxm_handle(mock, &r, (int64_t)time(NULL), &a);
    wxm_answer_commit(mock, &a);
    long made = seen;
    countdown = -1; /* what follows only looks */
    int clean = 0;
    if (a.status == 200) {
        /* A success must be whole: signed, with its body. */
        const char *need[] = {"Request-ID", "Wechatpay-Signature", "Wechatpay-Serial",
                              "Wechatpay-Timestamp", "Wechatpay-Nonce"};
        for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
            bool found = false;
            for (size_t k = 0; k < a.nheaders; k++)
                found |= strcmp(a.headers[k].name, need[i]) == 0;
            if (!found)
                fail_msg("a 200 answer lacks %s", need[i]);
        }
        wxp_reverse_response rr;
        assert_null(a.broken);
        assert_int_equal(wxp_reverse_response_parse((wxp_span){a.body, a.body_len}, &rr, NULL),
                         WXP_OK);
    } else {
        /* Out of memory: a 500, and when it was the answer that failed, why. */
        if (a.status != 500)
            fail_msg("allocation %ld failed: HTTP %d %s: %.*s", armed, a.status, a.code,
                     (int)a.body_len, a.body ? a.body : "");
        assert_string_equal(a.code, "SYSTEM_ERROR");
        clean = 1;
    }
    wxm_answer_clear(&a);
    free(body);
    seen = made;
    return clean;
}

static void mock_handler_survives_every_single_allocation_failure(void **state)
{
    (void)state;
    char *path = tu_fixture_path("mock.json");
    wxm_config *cfg = NULL;
    wxp_diag d;
    merchant = tu_private_key("merchant_key.pem");
    assert_int_equal(wxm_config_load(path, &cfg, &d), WXM_OK);
    assert_int_equal(wxm_mock_new(cfg, &mock), WXM_OK);
    assert_int_equal(mock_op(), 0); /* warm up */
    each_allocation_fails_once("mock handler", mock_op);
    wxm_mock_free(mock);
    wxp_key_free(merchant);
    free(path);
}

int main(void)
{
    cJSON_Hooks hooks = {cjson_malloc, free};
    cJSON_InitHooks(&hooks); /* cJSON's allocations for us are failed too */
    if (wxpay_global_init() != WXPAY_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(protocol_survives_every_single_allocation_failure),
        cmocka_unit_test(client_survives_every_single_allocation_failure),
        cmocka_unit_test(mock_handler_survives_every_single_allocation_failure),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    wxpay_global_cleanup();
    return rc;
}
