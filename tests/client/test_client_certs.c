/* libwxpay with the APIv3 key instead of a WeChat Pay key: it downloads
 * the platform certificates from the mock (certificate mode, bundled
 * config), fetches them again after a rotation, and never trusts a list
 * that fails its tag or its signature. Label: integration. */
#include "mocktest.h"
#include <wxpay/wxpay.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APIV3 "TESTONLYwxpaymockAPIv3key0000001"

typedef struct fixture {
    wxm_mock *mock;
    wxm_server *server;
    char base[64];
    wxpay_client *client;
} fixture;

static void admin_ok(wxm_mock *m, const char *method, const char *target, const char *body)
{
    wxm_answer a;
    mt_admin(m, method, target, body, &a);
    if (a.status != 200)
        fail_msg("%s %s: %d %.*s", method, target, a.status, (int)a.body_len, a.body);
    wxm_answer_clear(&a);
}

/* A client that knows no WeChat Pay key, only the APIv3 key. */
static wxpay_client *new_client(const char *base)
{
    wxpay_client *c = wxpay_client_new();
    char *key = tu_fixture_path(TU_KEYS "merchant_key.pem");
    char *cert = tu_fixture_path(TU_KEYS "merchant_cert.pem");
    assert_non_null(c);
    assert_int_equal(wxpay_set_base_url(c, base), WXPAY_OK);
    assert_int_equal(wxpay_set_mchid(c, TU_MCHID), WXPAY_OK);
    assert_int_equal(wxpay_set_merchant_key_file(c, key, NULL), WXPAY_OK);
    assert_int_equal(wxpay_set_merchant_cert_file(c, cert), WXPAY_OK);
    assert_int_equal(wxpay_set_apiv3_key(c, APIV3), WXPAY_OK);
    assert_int_equal(wxpay_set_timeouts(c, 1000, 1000), WXPAY_OK);
    assert_int_equal(wxpay_set_retry(c, 2, 10, 40), WXPAY_OK);
    free(key);
    free(cert);
    return c;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    wxm_config *cfg = NULL;
    wxp_diag d = {"", ""};
    if (wxm_config_load(wxm_default_config_path(), &cfg, &d) != WXM_OK)
        fail_msg("bundled config: %s", d.text);
    assert_int_equal(wxm_mock_new(cfg, &f->mock), WXM_OK);
    admin_ok(f->mock, "PUT", "/__admin/wechatpay", "{\"mode\":\"certificate\"}");
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", mt_listen(f->mock, 0, &f->server));
    f->client = new_client(f->base);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    wxpay_client_free(f->client);
    wxm_server_stop(f->server);
    wxm_mock_free(f->mock);
    free(f);
    return 0;
}

static wxpay_result *reverse(fixture *f, const char *otn, wxpay_code want)
{
    wxpay_result *r = NULL;
    wxpay_code rc = wxpay_reverse(f->client, otn, TU_APPID, &r);
    assert_non_null(r);
    if (rc != want)
        fail_msg("%s: got %s, want %s: %s", otn, wxpay_strerror(rc), wxpay_strerror(want),
                 wxpay_result_detail(r));
    return r;
}

/* Journal entries of an endpoint ("certificates", "reverse"). */
static int calls(fixture *f, const char *endpoint)
{
    char *text = Wxm_journal_dump(f->mock->journal, NULL);
    cJSON *j = cJSON_Parse(text), *e;
    int n = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "entries"))
    {
        const cJSON *ep = cJSON_GetObjectItem(e, "endpoint");
        n += cJSON_IsString(ep) && strcmp(ep->valuestring, endpoint) == 0;
    }
    cJSON_Delete(j);
    cJSON_free(text);
    return n;
}

static void downloads_the_certificates_before_the_first_call_only(void **state)
{
    fixture *f = *state;
    wxpay_result_free(reverse(f, "paid_dl_01", WXPAY_OK));
    wxpay_result_free(reverse(f, "paid_dl_02", WXPAY_OK));
    assert_int_equal(calls(f, "certificates"), 1);
    assert_int_equal(calls(f, "reverse"), 2);
    assert_true(mt_order(f->mock, "paid_dl_01").refunded);
    /* The download comes first, and every request passed every check. */
    char *text = Wxm_journal_dump(f->mock->journal, NULL);
    assert_non_null(strstr(text, "\"endpoint\":\"certificates\""));
    assert_true(strstr(text, "\"endpoint\":\"certificates\"") <
                strstr(text, "\"endpoint\":\"reverse\""));
    assert_null(strstr(text, "\"ok\":false"));
    cJSON_free(text);
}

/* Between two calls the next certificate starts signing (an order's
 * rotate_certificate step): the client meets its serial, fetches the list
 * again, and trusts the answer. */
static void a_rotation_between_two_calls_is_followed(void **state)
{
    fixture *f = *state;
    wxpay_result_free(reverse(f, "paid_rot_01", WXPAY_OK));
    mt_put_order(f->mock, "rot_second",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[\"rotate_certificate\"]}");
    wxpay_result *r = reverse(f, "rot_second", WXPAY_OK);
    assert_int_equal(wxpay_result_attempts(r), 1); /* verified, not sent again */
    wxpay_result_free(r);
    assert_int_equal(calls(f, "certificates"), 2);
    assert_int_equal(calls(f, "reverse"), 2);
    assert_int_equal(mt_order(f->mock, "rot_second").state, WXM_REVOKED);
    wxpay_result_free(reverse(f, "paid_rot_03", WXPAY_OK)); /* no third download */
    assert_int_equal(calls(f, "certificates"), 2);
}

/* A serial no list holds: one download more for that answer, not a loop. */
static void an_unknown_serial_is_fetched_for_once_per_answer(void **state)
{
    fixture *f = *state;
    mt_put_order(f->mock, "unk_serial",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[\"unknown_serial\"]}");
    wxpay_result *r = reverse(f, "unk_serial", WXPAY_E_VERIFY);
    assert_int_equal(wxpay_result_verify_error(r), WXP_ERR_RESP_UNKNOWN_SERIAL);
    wxpay_result_free(r);
    assert_int_equal(calls(f, "certificates"), 2); /* the first, and one for the answer */
    assert_int_equal(calls(f, "reverse"), 1);
}

static void a_tampered_download_is_never_trusted_and_nothing_is_sent(void **state)
{
    fixture *f = *state;
    admin_ok(f->mock, "PUT", "/__admin/wechatpay",
             "{\"certificates_script\":[\"tampered_ciphertext\"]}");
    mt_put_order(f->mock, "paid_tamper1", "{\"trade_state\":\"SUCCESS\"}");
    wxpay_result *r = reverse(f, "paid_tamper1", WXPAY_E_VERIFY);
    assert_int_equal(wxpay_result_verify_error(r), WXP_ERR_AEAD_TAG);
    assert_non_null(strstr(wxpay_result_detail(r), "not trusted"));
    wxpay_result_free(r);
    assert_int_equal(calls(f, "reverse"), 0);
    assert_int_equal(mt_order(f->mock, "paid_tamper1").state, WXM_SUCCESS); /* untouched */
    /* The next download is sound: the client has kept nothing of the bad one. */
    wxpay_result_free(reverse(f, "paid_tamper1", WXPAY_OK));
    assert_int_equal(calls(f, "certificates"), 2);
}

static void a_list_with_a_bad_signature_is_never_trusted(void **state)
{
    fixture *f = *state;
    admin_ok(f->mock, "PUT", "/__admin/wechatpay",
             "{\"certificates_script\":[\"bad_signature\",\"unsigned\"]}");
    wxpay_result *r = reverse(f, "paid_badsig1", WXPAY_E_VERIFY);
    assert_int_equal(wxpay_result_verify_error(r), WXP_ERR_SIGNATURE_MISMATCH);
    wxpay_result_free(r);
    r = reverse(f, "paid_badsig1", WXPAY_E_VERIFY);
    assert_int_equal(wxpay_result_verify_error(r), WXP_ERR_RESP_MISSING_HEADER);
    wxpay_result_free(r);
    assert_int_equal(calls(f, "reverse"), 0);
}

static void a_failed_download_is_retried_like_a_call(void **state)
{
    fixture *f = *state;
    admin_ok(f->mock, "PUT", "/__admin/wechatpay",
             "{\"certificates_script\":[\"system_error\",\"frequency_limited\"]}");
    wxpay_result_free(reverse(f, "paid_retry_dl", WXPAY_OK));
    assert_int_equal(calls(f, "certificates"), 3);
    assert_int_equal(calls(f, "reverse"), 1);
}

/* In public-key mode the service has no list for the merchant. */
static void public_key_mode_answers_the_download_not_found(void **state)
{
    fixture *f = *state;
    admin_ok(f->mock, "PUT", "/__admin/wechatpay", "{\"mode\":\"public_key\"}");
    wxpay_result *r = reverse(f, "paid_pk_01", WXPAY_E_BUSINESS);
    assert_string_equal(wxpay_result_error_code(r), "NOT_FOUND");
    assert_non_null(strstr(wxpay_result_detail(r), "platform certificate download"));
    wxpay_result_free(r);
    assert_int_equal(calls(f, "reverse"), 0);
}

static void count_ok(void *user, wxpay_result *r)
{
    *(int *)user += wxpay_result_code(r) == WXPAY_OK;
    wxpay_result_free(r);
}

static void async_calls_download_too(void **state)
{
    fixture *f = *state;
    wxpay_multi *m = wxpay_multi_new(f->client);
    int ok = 0;
    for (int i = 0; i < 8; i++) {
        char otn[32];
        snprintf(otn, sizeof(otn), "paid_adl_%02d", i);
        assert_int_equal(wxpay_multi_add_reverse(m, otn, TU_APPID, count_ok, &ok), WXPAY_OK);
    }
    wxpay_multi_wait(m);
    wxpay_multi_free(m);
    assert_int_equal(ok, 8);
    assert_true(calls(f, "certificates") >= 1);
    assert_int_equal(calls(f, "reverse"), 8);
}

static void the_apiv3_key_is_checked_when_set(void **state)
{
    fixture *f = *state;
    assert_int_equal(wxpay_set_apiv3_key(f->client, "short"), WXPAY_E_CONFIG);
    assert_int_equal(wxpay_client_error_setting(f->client), WXPAY_SETTING_APIV3_KEY);
    assert_non_null(strstr(wxpay_client_error(f->client), "32"));
    assert_int_equal(wxpay_set_apiv3_key(f->client, "TESTONLYwxpaymockAPIv3key000000\x01"),
                     WXPAY_E_CONFIG);
    /* Without it (and without keys) a call is refused before the network. */
    assert_int_equal(wxpay_set_apiv3_key(f->client, NULL), WXPAY_OK);
    wxpay_result *r = reverse(f, "paid_nokey", WXPAY_E_CONFIG);
    assert_non_null(strstr(wxpay_result_detail(r), "APIv3 key"));
    wxpay_result_free(r);
    assert_int_equal(calls(f, "certificates") + calls(f, "reverse"), 0);
    /* A dry run needs no WeChat Pay key at all. */
    char *text = NULL;
    assert_int_equal(wxpay_dry_run_reverse(f->client, "paid_nokey", TU_APPID, &text), WXPAY_OK);
    assert_non_null(strstr(text, "POST "));
    free(text);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(downloads_the_certificates_before_the_first_call_only),
        T(a_rotation_between_two_calls_is_followed),
        T(an_unknown_serial_is_fetched_for_once_per_answer),
        T(a_tampered_download_is_never_trusted_and_nothing_is_sent),
        T(a_list_with_a_bad_signature_is_never_trusted),
        T(a_failed_download_is_retried_like_a_call),
        T(public_key_mode_answers_the_download_not_found),
        T(async_calls_download_too),
        T(the_apiv3_key_is_checked_when_set),
    };
    assert_int_equal(wxpay_global_init(), WXPAY_OK);
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    wxpay_global_cleanup();
    return failed;
}
