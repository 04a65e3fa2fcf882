/* The mock's checks, one named test each, in the documented order
 * (docs/mock.md "Checks"): status, code and the diagnostic of every rejection. */
#include "mocktest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mt_req R; /* one request under construction (large: not on the stack) */

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

/* Sends R at `now` and checks status, code and that `phrase` is in the
 * message; returns the detail object (caller deletes the root). */
static cJSON *expect(wxm_mock *m, int64_t now, int status, const char *code, const char *phrase)
{
    wxm_answer a;
    char got[64];
    wxm_handle(m, mt_request(&R), now, &a);
    mt_code(&a, got);
    if (a.status != status || strcmp(got, code) != 0)
        fail_msg("got %d %s, want %d %s: %.*s", a.status, got, status, code, (int)a.body_len,
                 a.body);
    cJSON *j = mt_json(&a);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
    assert_true(cJSON_IsString(msg));
    if (phrase && !strstr(msg->valuestring, phrase))
        fail_msg("message \"%s\" lacks \"%s\"", msg->valuestring, phrase);
    /* Error answers are signed too, and carry a Request-ID. */
    assert_non_null(mt_header_of(&a, "Request-ID"));
    wxp_diag d;
    if (mt_verify_answer(&a, now, &d) != WXP_OK)
        fail_msg("error answer not signed: %s", d.text);
    wxm_answer_clear(&a);
    return j;
}

static const char *detail_str(const cJSON *root, const char *name)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "detail");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void signed_reverse_passes_every_check(void **state)
{
    wxm_answer a;
    mt_reverse(*state, "ok_order_1", &a);
    assert_int_equal(a.status, 200);
    cJSON *j = mt_json(&a);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "out_trade_no")->valuestring,
                        "ok_order_1");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "mchid")->valuestring, TU_MCHID);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "appid")->valuestring, TU_APPID);
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_OK);
    cJSON_Delete(j);
    wxm_answer_clear(&a);
}

/* The openssl-made vector, sent as is at its own time, is accepted, and the
 * mock's signature on the answer verifies with the openssl command line. */
static void openssl_signed_vector_is_accepted_and_answer_verifies_with_openssl(void **state)
{
    size_t siglen, bodylen;
    char *sig = tu_fixture("vectors/post_reverse.sig", &siglen);
    char *body = tu_fixture("vectors/post_reverse.body", &bodylen);
    char auth[1024];
    wxm_answer a;
    snprintf(
        auth, sizeof(auth),
        "WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",serial_no=\"%s\",timestamp=\"1554208460\","
        "nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",signature=\"%s\"",
        TU_MERCHANT_SERIAL, sig);
    mt_init(&R, "POST", MT_REVERSE("1217752501201407033233368018"), body);
    mt_header(&R, "Authorization", auth);
    wxm_handle(*state, mt_request(&R), 1554208460 + 30, &a);
    if (a.status != 200)
        fail_msg("%d %.*s", a.status, (int)a.body_len, a.body);
    /* openssl verifies TIMESTAMP\nNONCE\nBODY\n with wechatpay_pub.pem. */
    char msg[1024];
    int n = snprintf(msg, sizeof(msg), "%s\n%s\n%.*s\n", mt_header_of(&a, "Wechatpay-Timestamp"),
                     mt_header_of(&a, "Wechatpay-Nonce"), (int)a.body_len, a.body);
    assert_true(tu_openssl_verify("wechatpay_pub.pem", msg, (size_t)n,
                                  mt_header_of(&a, "Wechatpay-Signature")));
    assert_string_equal(mt_header_of(&a, "Wechatpay-Serial"), TU_PUBKEY_ID);
    wxm_answer_clear(&a);
    free(sig);
    free(body);
}

static void method_other_than_get_or_post_is_405(void **state)
{
    mt_init(&R, "PUT", MT_REVERSE("abc123"), MT_BODY);
    mt_sign(&R, MT_NOW, NULL);
    cJSON_Delete(expect(*state, MT_NOW, 405, "INVALID_REQUEST", "POST"));
    mt_init(&R, "GET", MT_REVERSE("abc123"), NULL);
    mt_sign(&R, MT_NOW, NULL);
    cJSON_Delete(
        expect(*state, MT_NOW, 405, "INVALID_REQUEST", "reverse must be called with POST"));
}

static void path_mistake_is_param_error_naming_the_mistake(void **state)
{
    mt_init(&R, "POST", "/v3/pay/transactions/out-trade-no/{out_trade_no}/reverse", MT_BODY);
    mt_sign(&R, MT_NOW, NULL);
    cJSON *j = expect(*state, MT_NOW, 400, "PARAM_ERROR", "not expanded");
    assert_string_equal(detail_str(j, "location"), "uri_template");
    assert_string_equal(detail_str(j, "check"), "path");
    assert_string_equal(detail_str(j, "expected"), WXM_REVERSE_TEMPLATE);
    cJSON_Delete(j);
    mt_init(&R, "POST", "/v3/pay/transactions/out-trade-no//reverse", MT_BODY);
    j = expect(*state, MT_NOW, 400, "PARAM_ERROR", "empty");
    assert_string_equal(detail_str(j, "value"), ""); /* like the real uri_template error */
    cJSON_Delete(j);
    mt_init(&R, "POST", "https://api.mch.weixin.qq.com" MT_REVERSE("abc123"), MT_BODY);
    cJSON_Delete(expect(*state, MT_NOW, 400, "PARAM_ERROR", "scheme or host"));
}

static void unknown_endpoint_is_404(void **state)
{
    mt_init(&R, "POST", "/v3/pay/transactions/out-trade-no/abc123/cancel", MT_BODY);
    cJSON_Delete(expect(*state, MT_NOW, 404, "NOT_FOUND", "no such endpoint"));
    mt_init(&R, "GET", "/favicon.ico", NULL);
    cJSON_Delete(expect(*state, MT_NOW, 404, "NOT_FOUND", "no such endpoint"));
}

static void out_trade_no_outside_the_rules_is_param_error(void **state)
{
    mt_init(&R, "POST", MT_REVERSE("abc12"), MT_BODY);
    cJSON *j = expect(*state, MT_NOW, 400, "PARAM_ERROR", "5 characters");
    assert_string_equal(detail_str(j, "field"), "out_trade_no");
    cJSON_Delete(j);
    mt_init(&R, "POST", MT_REVERSE("abc%2E123"), MT_BODY); /* '.' decoded */
    cJSON_Delete(expect(*state, MT_NOW, 400, "PARAM_ERROR", "0x2E"));
}

static void missing_or_wrong_headers_are_invalid_request(void **state)
{
    const struct {
        const char *name, *value, *phrase;
    } rows[] = {
        {"Accept", NULL, "Accept header is missing"},
        {"Accept", "text/html", "does not admit application/json"},
        {"Accept", "application/json;q=0", "does not admit"},
        {"Content-Type", NULL, "Content-Type header is missing"},
        {"Content-Type", "application/x-www-form-urlencoded", "must be application/json"},
        {"User-Agent", NULL, "User-Agent"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        mt_init(&R, "POST", MT_REVERSE("abc123"), MT_BODY);
        mt_header(&R, rows[i].name, rows[i].value);
        mt_sign(&R, MT_NOW, NULL);
        cJSON *j = expect(*state, MT_NOW, 400, "INVALID_REQUEST", rows[i].phrase);
        assert_string_equal(detail_str(j, "field"), rows[i].name);
        cJSON_Delete(j);
    }
}

static void accept_values_of_real_sdks_are_admitted(void **state)
{
    const char *accepts[] = {"*/*", "application/json", "application/json, text/plain, */*",
                             "application/json; charset=utf-8", "text/html, application/*;q=0.5"};
    const char *types[] = {"application/json", "application/json; charset=utf-8",
                           "Application/JSON;charset=UTF-8"};
    for (size_t i = 0; i < 5; i++) {
        wxm_answer a;
        mt_init(&R, "POST", MT_REVERSE("abc123"), MT_BODY);
        mt_header(&R, "Accept", accepts[i]);
        mt_header(&R, "Content-Type", types[i % 3]);
        mt_sign(&R, MT_NOW, NULL);
        wxm_handle(*state, mt_request(&R), MT_NOW, &a);
        if (a.status != 200)
            fail_msg("Accept \"%s\": %d %.*s", accepts[i], a.status, (int)a.body_len, a.body);
        wxm_answer_clear(&a);
    }
}

static void body_over_the_limit_is_invalid_request(void **state)
{
    wxm_mock *m = *state;
    mt_init(&R, "POST", MT_REVERSE("abc123"), MT_BODY);
    mt_sign(&R, MT_NOW, NULL);
    mt_request(&R);
    R.req.body_too_large = 1;
    wxm_answer a;
    char code[64];
    wxm_handle(m, &R.req, MT_NOW, &a);
    assert_int_equal(a.status, 400);
    assert_string_equal(mt_code(&a, code), "INVALID_REQUEST");
    assert_non_null(strstr(a.body, "65536"));
    wxm_answer_clear(&a);
}

static void body_of_the_wrong_shape_is_param_error_naming_the_field(void **state)
{
    const struct {
        const char *body, *field;
    } rows[] = {
        {"{\"mchid\":\"1230000109\"}", "appid"},
        {"{\"appid\":\"wxd678efh567hg6787\",\"mchid\":1230000109}", "mchid"},
        {"[1,2]", "body"},
        {"{\"appid\":\"wx d678\",\"mchid\":\"1230000109\"}", "appid"},
        {"{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"12300x\"}", "mchid"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        mt_init(&R, "POST", MT_REVERSE("abc123"), rows[i].body);
        mt_sign(&R, MT_NOW, NULL);
        cJSON *j = expect(*state, MT_NOW, 400, "PARAM_ERROR", NULL);
        assert_string_equal(detail_str(j, "location"), "body");
        assert_string_equal(detail_str(j, "field"), rows[i].field);
        cJSON_Delete(j);
    }
}

/* A NUL inside a value must not make the part before it count as the
 * value: "1230000109\u0000x" is not mchid 1230000109, nor is
 * mchid=1230000109%00junk, nor the admin order abcdefg%00xyz. */
static void values_cut_at_a_nul_are_refused_naming_the_field(void **state)
{
    mt_init(&R, "POST", MT_REVERSE("abc123"),
            "{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\\u0000x\"}");
    mt_sign(&R, MT_NOW, NULL);
    cJSON *j = expect(*state, MT_NOW, 400, "PARAM_ERROR", "NUL");
    assert_string_equal(detail_str(j, "field"), "mchid");
    cJSON_Delete(j);

    mt_init(&R, "GET", "/v3/pay/transactions/out-trade-no/abc123?mchid=1230000109%00junk", NULL);
    mt_sign(&R, MT_NOW, NULL);
    j = expect(*state, MT_NOW, 400, "PARAM_ERROR", "NUL");
    assert_string_equal(detail_str(j, "field"), "mchid");
    cJSON_Delete(j);

    wxm_answer a;
    mt_admin(*state, "PUT", "/__admin/orders/abcdefg%00xyz", "{\"trade_state\":\"SUCCESS\"}", &a);
    assert_int_equal(a.status, 400);
    j = mt_json(&a);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "field")->valuestring, "out_trade_no");
    cJSON_Delete(j);
    wxm_answer_clear(&a);
    Wxm_order none;
    assert_false(Wxm_store_get(((wxm_mock *)*state)->orders, "abcdefg", &none));
}

static void query_without_mchid_is_param_error(void **state)
{
    mt_init(&R, "GET", "/v3/pay/transactions/out-trade-no/abc123", NULL);
    mt_sign(&R, MT_NOW, NULL);
    cJSON *j = expect(*state, MT_NOW, 400, "PARAM_ERROR", "mchid=");
    assert_string_equal(detail_str(j, "location"), "query");
    cJSON_Delete(j);
}

static void missing_duplicate_or_malformed_authorization_is_sign_error(void **state)
{
    mt_init(&R, "POST", MT_REVERSE("abc123"), MT_BODY);
    cJSON_Delete(expect(*state, MT_NOW, 401, "SIGN_ERROR", "Authorization header is missing"));
    mt_sign(&R, MT_NOW, NULL);
    /* the same header twice */
    assert_true(R.nheaders < 16);
    snprintf(R.names[R.nheaders], 64, "authorization");
    memcpy(R.values[R.nheaders], R.values[R.nheaders - 1], sizeof(R.values[0]));
    R.nheaders++;
    cJSON_Delete(expect(*state, MT_NOW, 401, "SIGN_ERROR", "sent 2 times"));
    mt_init(&R, "POST", MT_REVERSE("abc123"), MT_BODY);
    mt_header(&R, "Authorization",
              "WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str=\"x\"");
    cJSON *j = expect(*state, MT_NOW, 401, "SIGN_ERROR", "timestamp is missing");
    assert_string_equal(detail_str(j, "field"), "timestamp");
    cJSON_Delete(j);
}

static void unknown_merchant_is_sign_error(void **state)
{
    mt_init(&R, "POST", MT_REVERSE("abc123"), MT_BODY);
    mt_header(&R, "Authorization",
              "WECHATPAY2-SHA256-RSA2048 mchid=\"1900007291\",nonce_str=\"abc\","
              "timestamp=\"1795849000\",serial_no=\"ABC\",signature=\"AAAA\"");
    cJSON_Delete(expect(*state, MT_NOW, 401, "SIGN_ERROR", "not a merchant this mock knows"));
}

static void serial_of_the_wrong_certificate_is_sign_error_with_a_hint(void **state)
{
    const struct {
        const char *serial, *hint;
    } rows[] = {
        {"3775b6a45acd588826d15e583a95f5dd0000001", "merchant API certificate"},
        {TU_PUBKEY_ID, "MERCHANT certificate"},
        {TU_PLATFORM_SERIAL, "MERCHANT certificate"},
        {"5157f09efdc096de15ebe81a47057a7200000002", "MERCHANT certificate"},
        {TU_OTHER_SERIAL, "merchant API certificate"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char auth[600];
        mt_init(&R, "POST", MT_REVERSE("abc123"), MT_BODY);
        snprintf(auth, sizeof(auth),
                 "WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str=\"abc\","
                 "timestamp=\"1795849000\",serial_no=\"%s\",signature=\"AAAA\"",
                 rows[i].serial);
        mt_header(&R, "Authorization", auth);
        cJSON *j = expect(*state, MT_NOW, 401, "SIGN_ERROR", rows[i].hint);
        assert_string_equal(detail_str(j, "expected"), TU_MERCHANT_SERIAL);
        cJSON_Delete(j);
    }
}

static void timestamp_outside_five_minutes_is_sign_error(void **state)
{
    mt_init(&R, "POST", MT_REVERSE("abc123"), MT_BODY);
    mt_sign(&R, MT_NOW - 301, NULL);
    cJSON_Delete(expect(*state, MT_NOW, 401, "SIGN_ERROR", "301 s behind"));
    mt_sign(&R, MT_NOW + 301, NULL);
    cJSON_Delete(expect(*state, MT_NOW, 401, "SIGN_ERROR", "ahead of"));
    wxm_answer a;
    mt_sign(&R, MT_NOW - 300, NULL); /* the edge is allowed */
    wxm_handle(*state, mt_request(&R), MT_NOW, &a);
    assert_int_equal(a.status, 200);
    wxm_answer_clear(&a);
}

static void replayed_nonce_is_sign_error_but_a_bad_request_does_not_burn_it(void **state)
{
    wxm_answer a;
    mt_init(&R, "POST", MT_REVERSE("abc123"), MT_BODY);
    mt_sign(&R, MT_NOW, "ReplayNonce0001");
    /* A copy with a broken signature first: it must not record the nonce. */
    char saved[2048];
    memcpy(saved, R.values[R.nheaders - 1], sizeof(saved));
    char *sig = strstr(R.values[R.nheaders - 1], "signature=\"") + 11;
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    cJSON_Delete(expect(*state, MT_NOW, 401, "SIGN_ERROR", "signature does not verify"));
    memcpy(R.values[R.nheaders - 1], saved, sizeof(saved));
    wxm_handle(*state, mt_request(&R), MT_NOW, &a);
    assert_int_equal(a.status, 200);
    wxm_answer_clear(&a);
    cJSON_Delete(expect(*state, MT_NOW + 1, 401, "SIGN_ERROR", "already used"));
    /* Once the window has passed the timestamp check refuses it instead. */
    cJSON_Delete(expect(*state, MT_NOW + 400, 401, "SIGN_ERROR", "behind"));
}

/* A request stamped in the future (inside the window) stays valid until its
 * own time plus the window: its nonce must be kept as long. */
static void future_dated_request_cannot_be_replayed_after_the_window(void **state)
{
    wxm_answer a;
    mt_init(&R, "POST", MT_REVERSE("abc123"), MT_BODY);
    mt_sign(&R, MT_NOW + 290, "FutureNonce0001");
    wxm_handle(*state, mt_request(&R), MT_NOW, &a);
    assert_int_equal(a.status, 200);
    wxm_answer_clear(&a);
    /* 301 s later the timestamp is still 11 s inside the window. */
    cJSON_Delete(expect(*state, MT_NOW + 301, 401, "SIGN_ERROR", "already used"));
    cJSON_Delete(expect(*state, MT_NOW + 580, 401, "SIGN_ERROR", "already used"));
}

/* The common wrong messages of docs/protocol.md section 4, each signed with the
 * merchant key; the mock must name each one. */
static void bad_signature_names_the_likely_mistake(void **state)
{
    const char *target = MT_REVERSE("abc123");
    const char *nonce_base = "MistakeNonce";
    /* Each row changes one part of the right message. */
    const struct {
        const char *name, *method, *host, *nl, *ts_suffix, *body, *tail;
    } rows[] = {
        {"final_newline_missing", "POST", "", "\n", "", MT_BODY, ""},
        {"crlf_line_endings", "POST", "", "\r\n", "", MT_BODY, "\r\n"},
        {"host_in_url", "POST", "https://api.mch.weixin.qq.com", "\n", "", MT_BODY, "\n"},
        {"method_lower_case", "post", "", "\n", "", MT_BODY, "\n"},
        {"timestamp_in_milliseconds", "POST", "", "\n", "000", MT_BODY, "\n"},
        {"body_reserialized", "POST", "", "\n", "",
         "{\"appid\": \"wxd678efh567hg6787\", \"mchid\": \"1230000109\"}", "\n"},
        {"body_reserialized", "POST", "", "\n", "",
         "{\"mchid\":\"1230000109\",\"appid\":\"wxd678efh567hg6787\"}", "\n"},
        {"body_left_out", "POST", "", "\n", "", "", "\n"},
    };
    wxp_key *key = tu_private_key("merchant_key.pem");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char msg[1024], nonce[64];
        snprintf(nonce, sizeof(nonce), "%s%zu", nonce_base, i);
        int n = snprintf(msg, sizeof(msg), "%s%s%s%s%s%lld%s%s%s%s%s%s", rows[i].method, rows[i].nl,
                         rows[i].host, target, rows[i].nl, (long long)MT_NOW, rows[i].ts_suffix,
                         rows[i].nl, nonce, rows[i].nl, rows[i].body, rows[i].tail);
        mt_init(&R, "POST", target, MT_BODY);
        mt_sign_message(&R, key, MT_NOW, nonce, msg, (size_t)n);
        cJSON *j = expect(*state, MT_NOW, 401, "SIGN_ERROR", "signature does not verify");
        const cJSON *lm = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "detail"), "likely_mistake");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(lm, "name");
        if (!cJSON_IsString(name) || strcmp(name->valuestring, rows[i].name) != 0)
            fail_msg("row %zu: likely mistake %s, want %s", i,
                     cJSON_IsString(name) ? name->valuestring : "(none)", rows[i].name);
        /* The exact message the server expected is in sign_information. */
        const cJSON *si = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "detail"), "sign_information");
        const cJSON *em = cJSON_GetObjectItemCaseSensitive(si, "expected_sign_message");
        assert_true(cJSON_IsString(em));
        assert_non_null(
            strstr(em->valuestring, "POST\\n/v3/pay/transactions/out-trade-no/abc123/reverse\\n"));
        assert_non_null(strstr(em->valuestring, "\"mchid\":\"1230000109\"}\\n"));
        cJSON_Delete(j);
    }
    wxp_key_free(key);
}

static void query_signed_without_its_query_string_is_named(void **state)
{
    const char *target = "/v3/pay/transactions/out-trade-no/abc123?mchid=1230000109";
    char msg[512];
    int n = snprintf(msg, sizeof(msg),
                     "GET\n/v3/pay/transactions/out-trade-no/abc123\n%lld\nQNonce\n\n",
                     (long long)MT_NOW);
    wxp_key *key = tu_private_key("merchant_key.pem");
    mt_init(&R, "GET", target, NULL);
    mt_sign_message(&R, key, MT_NOW, "QNonce", msg, (size_t)n);
    cJSON *j = expect(*state, MT_NOW, 401, "SIGN_ERROR", "query string was left out");
    cJSON_Delete(j);
    wxp_key_free(key);
}

static void signing_with_the_wechatpay_key_is_named(void **state)
{
    char msg[512];
    const char *target = MT_REVERSE("abc123");
    int n = snprintf(msg, sizeof(msg), "POST\n%s\n%lld\nWKNonce\n%s\n", target, (long long)MT_NOW,
                     MT_BODY);
    wxp_key *key = tu_private_key("wechatpay_key.pem");
    mt_init(&R, "POST", target, MT_BODY);
    mt_sign_message(&R, key, MT_NOW, "WKNonce", msg, (size_t)n);
    cJSON_Delete(expect(*state, MT_NOW, 401, "SIGN_ERROR", "WeChat Pay key"));
    wxp_key_free(key);
    /* An unrelated key: no likely mistake, but the expected message. */
    key = tu_private_key("other_key.pem");
    mt_sign_message(&R, key, MT_NOW, "WKNonce2", msg, (size_t)n);
    cJSON_Delete(expect(*state, MT_NOW, 401, "SIGN_ERROR", "expected_sign_message"));
    wxp_key_free(key);
}

static void signature_over_the_raw_encoded_target_is_what_counts(void **state)
{
    wxm_answer a;
    /* Sent and signed encoded: fine. */
    mt_init(&R, "POST", MT_REVERSE("ord%2A2026%7C01"), MT_BODY);
    mt_sign(&R, MT_NOW, NULL);
    wxm_handle(*state, mt_request(&R), MT_NOW, &a);
    assert_int_equal(a.status, 200);
    wxm_answer_clear(&a);
    assert_int_equal(mt_order(*state, "ord*2026|01").state, WXM_REVOKED);
    /* Sent raw (as Node does) and signed raw: fine too. */
    mt_init(&R, "POST", MT_REVERSE("ord*2026|02"), MT_BODY);
    mt_sign(&R, MT_NOW, NULL);
    wxm_handle(*state, mt_request(&R), MT_NOW, &a);
    assert_int_equal(a.status, 200);
    wxm_answer_clear(&a);
    /* Sent encoded but signed decoded: named. */
    char msg[512];
    int n = snprintf(msg, sizeof(msg), "POST\n%s\n%lld\nDecNonce\n%s\n", MT_REVERSE("ord*2026|03"),
                     (long long)MT_NOW, MT_BODY);
    wxp_key *key = tu_private_key("merchant_key.pem");
    mt_init(&R, "POST", MT_REVERSE("ord%2A2026%7C03"), MT_BODY);
    mt_sign_message(&R, key, MT_NOW, "DecNonce", msg, (size_t)n);
    cJSON_Delete(expect(*state, MT_NOW, 401, "SIGN_ERROR", "percent-decoded URL was signed"));
    wxp_key_free(key);
}

static void mchid_in_body_differing_from_authorization_is_param_error(void **state)
{
    mt_init(&R, "POST", MT_REVERSE("abc123"),
            "{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000110\"}");
    mt_sign(&R, MT_NOW, NULL);
    cJSON *j = expect(*state, MT_NOW, 400, "PARAM_ERROR", "differs");
    assert_string_equal(detail_str(j, "field"), "mchid");
    cJSON_Delete(j);
}

static void appid_not_bound_to_the_merchant_is_no_auth(void **state)
{
    mt_init(&R, "POST", MT_REVERSE("abc123"),
            "{\"appid\":\"wx0000000000000000\",\"mchid\":\"1230000109\"}");
    mt_sign(&R, MT_NOW, NULL);
    cJSON *j = expect(*state, MT_NOW, 403, "NO_AUTH", "not bound");
    assert_string_equal(detail_str(j, "expected"), TU_APPID);
    cJSON_Delete(j);
}

static void first_failing_check_wins_in_the_documented_order(void **state)
{
    /* Bad out_trade_no AND no Accept AND unsigned: out_trade_no comes first. */
    mt_init(&R, "POST", MT_REVERSE("abc"), MT_BODY);
    mt_header(&R, "Accept", NULL);
    cJSON *j = expect(*state, MT_NOW, 400, "PARAM_ERROR", NULL);
    assert_string_equal(detail_str(j, "check"), "out_trade_no");
    cJSON_Delete(j);
    /* No Accept AND unsigned: headers before authorization. */
    mt_init(&R, "POST", MT_REVERSE("abc123"), MT_BODY);
    mt_header(&R, "Accept", NULL);
    j = expect(*state, MT_NOW, 400, "INVALID_REQUEST", NULL);
    assert_string_equal(detail_str(j, "check"), "headers");
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(signed_reverse_passes_every_check, setup, teardown),
        cmocka_unit_test_setup_teardown(
            openssl_signed_vector_is_accepted_and_answer_verifies_with_openssl, setup, teardown),
        cmocka_unit_test_setup_teardown(method_other_than_get_or_post_is_405, setup, teardown),
        cmocka_unit_test_setup_teardown(path_mistake_is_param_error_naming_the_mistake, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unknown_endpoint_is_404, setup, teardown),
        cmocka_unit_test_setup_teardown(out_trade_no_outside_the_rules_is_param_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(missing_or_wrong_headers_are_invalid_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(accept_values_of_real_sdks_are_admitted, setup, teardown),
        cmocka_unit_test_setup_teardown(body_over_the_limit_is_invalid_request, setup, teardown),
        cmocka_unit_test_setup_teardown(body_of_the_wrong_shape_is_param_error_naming_the_field,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(query_without_mchid_is_param_error, setup, teardown),
        cmocka_unit_test_setup_teardown(values_cut_at_a_nul_are_refused_naming_the_field, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(missing_duplicate_or_malformed_authorization_is_sign_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_merchant_is_sign_error, setup, teardown),
        cmocka_unit_test_setup_teardown(serial_of_the_wrong_certificate_is_sign_error_with_a_hint,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(timestamp_outside_five_minutes_is_sign_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            replayed_nonce_is_sign_error_but_a_bad_request_does_not_burn_it, setup, teardown),
        cmocka_unit_test_setup_teardown(future_dated_request_cannot_be_replayed_after_the_window,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(bad_signature_names_the_likely_mistake, setup, teardown),
        cmocka_unit_test_setup_teardown(query_signed_without_its_query_string_is_named, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(signing_with_the_wechatpay_key_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(signature_over_the_raw_encoded_target_is_what_counts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(mchid_in_body_differing_from_authorization_is_param_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(appid_not_bound_to_the_merchant_is_no_auth, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(first_failing_check_wins_in_the_documented_order, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
