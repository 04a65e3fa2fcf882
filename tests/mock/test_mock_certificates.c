/* GET /v3/certificates and the key state behind it: the list, sealed with
 * the APIv3 key; its checks; public-key mode's 404; the admin switch of
 * mode, signer and listed certificates; rotation; the certificates
 * script; serial_no in lower case. On the bundled config. */
#include "mocktest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APIV3 "TESTONLYwxpaymockAPIv3key0000001"
#define NEXT_SERIAL "4E0D6A5B3C2F1E0D9C8B7A6F5E4D3C2B00000004"

static mt_req R;

static int setup(void **state)
{
    wxm_config *c = NULL;
    wxm_mock *m = NULL;
    wxp_diag d = {"", ""};
    if (wxm_config_load(wxm_default_config_path(), &c, &d) != WXM_OK)
        fail_msg("bundled config: %s", d.text);
    assert_int_equal(wxm_mock_new(c, &m), WXM_OK);
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    wxm_mock_free(*state);
    return 0;
}

static void admin_ok(wxm_mock *m, const char *method, const char *target, const char *body)
{
    wxm_answer a;
    mt_admin(m, method, target, body, &a);
    if (a.status != 200)
        fail_msg("%s %s: %d %.*s", method, target, a.status, (int)a.body_len, a.body);
    wxm_answer_clear(&a);
}

/* A signed GET of target at MT_NOW. */
static void get(wxm_mock *m, const char *target, wxm_answer *a)
{
    mt_init(&R, "GET", target, NULL);
    mt_sign(&R, MT_NOW, NULL);
    wxm_handle(m, mt_request(&R), MT_NOW, a);
}

/* The answer decoded with our decoder (node decodes the same list in
 * tests/interop); returns how many certificates it lists. */
static size_t decode(const wxm_answer *a, wxp_cert_list *l, wxp_err *err)
{
    wxp_diag d = {"", ""};
    *err = wxp_cert_list_decode((wxp_span){a->body, a->body_len}, APIV3, l, &d);
    return l->n;
}

static void public_key_mode_answers_not_found_signed(void **state)
{
    wxm_answer a;
    char code[64];
    get(*state, "/v3/certificates", &a);
    assert_int_equal(a.status, 404);
    assert_string_equal(mt_code(&a, code), "NOT_FOUND");
    assert_non_null(strstr(a.body, "public-key mode"));
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_OK);
    wxm_answer_clear(&a);
}

static void certificate_mode_lists_the_listed_certificates_sealed(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    wxp_cert_list l;
    wxp_err e;
    admin_ok(m, "PUT", "/__admin/wechatpay", "{\"mode\":\"certificate\"}");
    get(m, "/v3/certificates", &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(mt_header_of(&a, "Wechatpay-Serial"), TU_PLATFORM_SERIAL);
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_OK);
    assert_int_equal(decode(&a, &l, &e), 1); /* the next one is not listed yet */
    assert_int_equal(e, WXP_OK);
    assert_string_equal(l.certs[0].serial_no, TU_PLATFORM_SERIAL);
    assert_non_null(strstr(a.body, "\"algorithm\":\"AEAD_AES_256_GCM\""));
    assert_non_null(strstr(a.body, "\"associated_data\":\"certificate\""));
    assert_non_null(strstr(a.body, "+08:00\""));
    /* The same key inside as in the fixture. */
    wxp_key *cert = tu_certificate("wechatpay_cert.pem");
    assert_int_equal(wxp_key_same(cert, l.certs[0].key), WXP_OK);
    wxp_key_free(cert);
    wxp_cert_list_clear(&l);
    /* A fresh nonce each time: the same list never seals the same. */
    char *first = strdup(a.body);
    wxm_answer_clear(&a);
    get(m, "/v3/certificates?algorithm_type=RSA", &a);
    assert_int_equal(a.status, 200);
    assert_string_not_equal(first, a.body);
    free(first);
    wxm_answer_clear(&a);
    get(m, "/v3/certificates?algorithm_type=ALL", &a);
    assert_int_equal(decode(&a, &l, &e), 1);
    wxp_cert_list_clear(&l);
    wxm_answer_clear(&a);
    get(m, "/v3/certificates?algorithm_type=SM2", &a); /* none of that kind */
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "{\"data\":[]}");
    wxm_answer_clear(&a);
}

static void the_checks_of_every_api_call_apply(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    char code[64];
    admin_ok(m, "PUT", "/__admin/wechatpay", "{\"mode\":\"certificate\"}");
    const struct {
        const char *target;
        int status;
        const char *code, *phrase;
    } rows[] = {
        {"/v3/certificates?algorithm_type=RSA2", 400, "PARAM_ERROR",
         "RSA (the default), SM2 or ALL"},
        {"/v3/certificates?algorithm_type=", 400, "PARAM_ERROR", "SM2 or ALL"},
        {"/v3/certificates?mchid=1230000109", 400, "PARAM_ERROR",
         "unknown query parameter \\\"mchid\\\""},
        {"/v3/certificates/", 400, "PARAM_ERROR", "slash"},
        {"/v3/certificate", 404, "NOT_FOUND", "/v3/certificates"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        get(m, rows[i].target, &a);
        if (a.status != rows[i].status || strcmp(mt_code(&a, code), rows[i].code) != 0 ||
            !strstr(a.body, rows[i].phrase))
            fail_msg("%s: %d %.*s", rows[i].target, a.status, (int)a.body_len, a.body);
        wxm_answer_clear(&a);
    }
    /* POST: 405 naming GET. */
    mt_init(&R, "POST", "/v3/certificates", "{}");
    mt_sign(&R, MT_NOW, NULL);
    wxm_handle(m, mt_request(&R), MT_NOW, &a);
    assert_int_equal(a.status, 405);
    assert_string_equal(mt_header_of(&a, "Allow"), "GET");
    assert_non_null(strstr(a.body, "certificates must be called with GET"));
    wxm_answer_clear(&a);
    /* Signed over another target: 401 with the expected message. */
    mt_init(&R, "GET", "/v3/certificates", NULL);
    mt_sign(&R, MT_NOW, NULL);
    snprintf(R.target, sizeof(R.target), "/v3/certificates?algorithm_type=ALL");
    wxm_handle(m, mt_request(&R), MT_NOW, &a);
    assert_int_equal(a.status, 401);
    if (!strstr(a.body, "the query string was left out of the signed URL"))
        fail_msg("%.*s", (int)a.body_len, a.body);
    wxm_answer_clear(&a);
    /* No Authorization at all. */
    mt_init(&R, "GET", "/v3/certificates", NULL);
    wxm_handle(m, mt_request(&R), MT_NOW, &a);
    assert_int_equal(a.status, 401);
    wxm_answer_clear(&a);
}

/* wechatpay-node-v3 sends serial_no in lower case by default: accepted,
 * with a warning in the journal entry. */
static void lower_case_serial_passes_with_a_journal_warning(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    mt_init(&R, "POST", MT_REVERSE("lowercase1"), MT_BODY);
    mt_sign(&R, MT_NOW, NULL);
    for (size_t i = 0; i < R.nheaders; i++)
        if (strcmp(R.names[i], "Authorization") == 0) {
            char *p = strstr(R.values[i], TU_MERCHANT_SERIAL);
            for (; p && *p != '"'; p++)
                *p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
        }
    wxm_handle(m, mt_request(&R), MT_NOW, &a);
    assert_int_equal(a.status, 200);
    wxm_answer_clear(&a);
    mt_admin(m, "GET", "/__admin/journal?out_trade_no=lowercase1", NULL, &a);
    assert_non_null(strstr(a.body, "\"warnings\":[\"serial_no is in lower case"));
    wxm_answer_clear(&a);
}

/* A rotation: the next certificate is listed first, then signs. */
static void rotation_lists_then_signs_and_reset_restores(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    wxp_cert_list l;
    wxp_err e;
    admin_ok(m, "PUT", "/__admin/wechatpay",
             "{\"mode\":\"certificate\",\"listed_serials\":[\"" TU_PLATFORM_SERIAL
             "\",\"" NEXT_SERIAL "\"]}");
    get(m, "/v3/certificates", &a);
    assert_int_equal(decode(&a, &l, &e), 2);
    assert_string_equal(mt_header_of(&a, "Wechatpay-Serial"), TU_PLATFORM_SERIAL);
    wxp_cert_list_clear(&l);
    wxm_answer_clear(&a);
    /* Switch the signer (any letter case names it). */
    admin_ok(m, "PUT", "/__admin/wechatpay",
             "{\"signing_serial\":\"4e0d6a5b3c2f1e0d9c8b7a6f5e4d3c2b00000004\"}");
    mt_reverse(m, "rotated01", &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(mt_header_of(&a, "Wechatpay-Serial"), NEXT_SERIAL);
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_OK);
    wxm_answer_clear(&a);
    mt_admin(m, "GET", "/__admin/health", NULL, &a);
    assert_non_null(strstr(a.body, "\"wechatpay_serial\":\"" NEXT_SERIAL "\""));
    wxm_answer_clear(&a);
    /* A reset goes back to the config: public-key mode. */
    admin_ok(m, "POST", "/__admin/reset", NULL);
    mt_reverse(m, "rotated02", &a);
    assert_string_equal(mt_header_of(&a, "Wechatpay-Serial"), TU_PUBKEY_ID);
    wxm_answer_clear(&a);
    mt_admin(m, "GET", "/__admin/wechatpay", NULL, &a);
    assert_non_null(strstr(a.body, "\"mode\":\"public_key\""));
    assert_non_null(strstr(a.body, "\"listed\":false"));
    wxm_answer_clear(&a);
}

/* The rotate_certificate step of an order: that reverse's answer is the
 * first signed by the next certificate, which is listed from then on. */
static void rotate_certificate_step_switches_between_two_calls(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    wxp_cert_list l;
    wxp_err e;
    admin_ok(m, "PUT", "/__admin/wechatpay", "{\"mode\":\"certificate\"}");
    mt_put_order(m, "rotstep01",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[\"rotate_certificate\"]}");
    mt_reverse(m, "rotstep01", &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(mt_header_of(&a, "Wechatpay-Serial"), NEXT_SERIAL);
    wxm_answer_clear(&a);
    get(m, "/v3/certificates", &a);
    assert_int_equal(decode(&a, &l, &e), 2);
    assert_string_equal(mt_header_of(&a, "Wechatpay-Serial"), NEXT_SERIAL);
    wxp_cert_list_clear(&l);
    wxm_answer_clear(&a);
    mt_admin(m, "GET", "/__admin/journal?out_trade_no=rotstep01", NULL, &a);
    assert_non_null(strstr(a.body, "\"rotated_to\":\"" NEXT_SERIAL "\""));
    wxm_answer_clear(&a);
}

/* certificates_script: one step per download, then plain answers. */
static void certificates_script_tampers_one_download(void **state)
{
    wxm_mock *m = *state;
    wxm_answer a;
    wxp_cert_list l;
    wxp_err e;
    char code[64];
    admin_ok(m, "PUT", "/__admin/wechatpay",
             "{\"mode\":\"certificate\",\"certificates_script\":[\"tampered_ciphertext\","
             "\"system_error\",\"bad_signature\"]}");
    get(m, "/v3/certificates", &a);
    assert_int_equal(a.status, 200);
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_OK); /* signed as it stands */
    assert_int_equal(decode(&a, &l, &e), 0);
    assert_int_equal(e, WXP_ERR_AEAD_TAG);
    wxm_answer_clear(&a);
    get(m, "/v3/certificates", &a);
    assert_int_equal(a.status, 500);
    assert_string_equal(mt_code(&a, code), "SYSTEM_ERROR");
    wxm_answer_clear(&a);
    get(m, "/v3/certificates", &a);
    assert_int_equal(a.status, 200);
    assert_int_equal(mt_verify_answer(&a, MT_NOW, NULL), WXP_ERR_SIGNATURE_MISMATCH);
    wxm_answer_clear(&a);
    get(m, "/v3/certificates", &a);
    assert_int_equal(decode(&a, &l, &e), 1);
    wxp_cert_list_clear(&l);
    wxm_answer_clear(&a);
}

static void admin_updates_are_checked_whole(void **state)
{
    wxm_mock *m = *state;
    const struct {
        const char *body, *field, *phrase;
    } rows[] = {
        {"{\"mode\":\"both\"}", "mode", "must be \\\"public_key\\\" or"},
        {"{\"signing_serial\":\"ABC\"}", "signing_serial", "platform certificate of the config"},
        {"{\"listed_serials\":[\"" NEXT_SERIAL "\"]}", "listed_serials",
         "must include the signing certificate"},
        {"{\"listed_serials\":\"x\"}", "listed_serials", "array"},
        {"{\"certificates_script\":[\"query_answer\"]}", "script", "not of certificates_script"},
        {"{\"certificates_script\":[\"explode\"]}", "script", "unknown action"},
        {"{\"apiv3_key\":\"x\"}", "apiv3_key", "unknown field"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wxm_answer a;
        mt_admin(m, "PUT", "/__admin/wechatpay", rows[i].body, &a);
        if (a.status != 400 || !strstr(a.body, rows[i].phrase) || !strstr(a.body, rows[i].field))
            fail_msg("%s: %d %.*s", rows[i].body, a.status, (int)a.body_len, a.body);
        wxm_answer_clear(&a);
    }
    /* Nothing of a refused update was applied. */
    wxm_answer a;
    mt_admin(m, "GET", "/__admin/wechatpay", NULL, &a);
    assert_non_null(strstr(a.body, "\"mode\":\"public_key\""));
    assert_non_null(strstr(a.body, "\"certificates_script\":[]"));
    wxm_answer_clear(&a);
    /* An order's script may not tamper a ciphertext it does not have. */
    mt_admin(m, "PUT", "/__admin/orders/tamper01",
             "{\"trade_state\":\"NOTPAY\",\"script\":[\"tampered_ciphertext\"]}", &a);
    assert_int_equal(a.status, 400);
    if (!strstr(a.body, "step of certificates_script"))
        fail_msg("%.*s", (int)a.body_len, a.body);
    wxm_answer_clear(&a);
}

/* A config without certificates or APIv3 key cannot switch to them. */
static void certificate_mode_needs_its_config(void **state)
{
    (void)state;
    wxm_mock *m = mt_mock_with_limits("{}");
    wxm_answer a;
    mt_admin(m, "PUT", "/__admin/wechatpay", "{\"mode\":\"certificate\"}", &a);
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "wechatpay.apiv3_key"));
    wxm_answer_clear(&a);
    wxm_mock_free(m);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(public_key_mode_answers_not_found_signed),
        T(certificate_mode_lists_the_listed_certificates_sealed),
        T(the_checks_of_every_api_call_apply),
        T(lower_case_serial_passes_with_a_journal_warning),
        T(rotation_lists_then_signs_and_reset_restores),
        T(rotate_certificate_step_switches_between_two_calls),
        T(certificates_script_tampers_one_download),
        T(admin_updates_are_checked_whole),
        cmocka_unit_test(certificate_mode_needs_its_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
