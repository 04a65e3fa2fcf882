/* Verifying signed answers (docs/protocol.md section 3) against the
 * openssl-signed response vectors, in both key modes. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    wxp_keyring *ring;
    tu_vector *v;
    size_t nv;
    tu_vector *body;  /* response_body */
    tu_vector *empty; /* response_empty */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->ring = wxp_keyring_new();
    assert_int_equal(wxp_keyring_add(f->ring, TU_PUBKEY_ID, tu_public_key("wechatpay_pub.pem")),
                     WXP_OK);
    assert_int_equal(wxp_keyring_add(f->ring, NULL, tu_certificate("wechatpay_cert.pem")), WXP_OK);
    /* A certificate the ring knows whose key did not sign the vectors. */
    assert_int_equal(wxp_keyring_add(f->ring, NULL, tu_certificate("other_cert.pem")), WXP_OK);
    f->nv = tu_vectors(&f->v);
    for (size_t i = 0; i < f->nv; i++) {
        if (strcmp(f->v[i].name, "response_body") == 0)
            f->body = &f->v[i];
        if (strcmp(f->v[i].name, "response_empty") == 0)
            f->empty = &f->v[i];
    }
    assert_non_null(f->body);
    assert_non_null(f->empty);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    wxp_keyring_free(f->ring);
    tu_vectors_free(f->v, f->nv);
    free(f);
    return 0;
}

static wxp_response_headers headers_of(const tu_vector *v, const char *serial)
{
    wxp_response_headers h = {
        .timestamp = wxp_span_of(v->timestamp),
        .nonce = wxp_span_of(v->nonce),
        .signature = {v->sig, v->sig_len},
        .serial = wxp_span_of(serial),
    };
    return h;
}

static wxp_err verify(fixture *f, const tu_vector *v, const wxp_response_headers *h, int64_t now,
                      int64_t skew, wxp_diag *d)
{
    (void)f;
    return wxp_response_verify(f->ring, h, (wxp_span){v->body, v->body_len}, now, skew, d);
}

static void signed_answer_verifies_in_public_key_and_certificate_mode(void **state)
{
    fixture *f = *state;
    const char *serials[] = {TU_PUBKEY_ID, TU_PLATFORM_SERIAL};
    for (size_t i = 0; i < 2; i++) {
        wxp_response_headers h = headers_of(f->body, serials[i]);
        wxp_diag d = {0};
        assert_int_equal(verify(f, f->body, &h, 1554209980 + 10, 0, &d), WXP_OK);
        h = headers_of(f->empty, serials[i]);
        assert_int_equal(verify(f, f->empty, &h, 1554209980, 0, &d), WXP_OK);
        h.signature_type = wxp_span_of("WECHATPAY2-SHA256-RSA2048");
        assert_int_equal(verify(f, f->empty, &h, 1554209980, 0, &d), WXP_OK);
    }
}

static void each_missing_header_is_named(void **state)
{
    fixture *f = *state;
    const char *names[] = {"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature",
                           "Wechatpay-Serial"};
    for (size_t i = 0; i < 4; i++) {
        wxp_response_headers h = headers_of(f->body, TU_PUBKEY_ID);
        wxp_span *slots[] = {&h.timestamp, &h.nonce, &h.signature, &h.serial};
        *slots[i] = (wxp_span){NULL, 0};
        wxp_diag d = {0};
        assert_int_equal(verify(f, f->body, &h, 1554209980, 0, &d), WXP_ERR_RESP_MISSING_HEADER);
        assert_string_equal(d.field, names[i]);
        *slots[i] = wxp_span_of(""); /* present but empty counts as missing */
        assert_int_equal(verify(f, f->body, &h, 1554209980, 0, &d), WXP_ERR_RESP_MISSING_HEADER);
    }
}

static void timestamp_window_is_under_300_seconds_by_default(void **state)
{
    fixture *f = *state;
    wxp_response_headers h = headers_of(f->body, TU_PUBKEY_ID);
    wxp_diag d = {0};
    const int64_t ts = 1554209980;
    assert_int_equal(verify(f, f->body, &h, ts + 299, 0, &d), WXP_OK);
    assert_int_equal(verify(f, f->body, &h, ts - 299, 0, &d), WXP_OK);
    assert_int_equal(verify(f, f->body, &h, ts + 300, 0, &d), WXP_ERR_RESP_TIMESTAMP_SKEW);
    assert_non_null(strstr(d.text, "300 s behind"));
    assert_int_equal(verify(f, f->body, &h, ts - 300, 0, &d), WXP_ERR_RESP_TIMESTAMP_SKEW);
    assert_non_null(strstr(d.text, "ahead of"));
    /* A configured window. */
    assert_int_equal(verify(f, f->body, &h, ts + 59, 60, &d), WXP_OK);
    assert_int_equal(verify(f, f->body, &h, ts + 60, 60, &d), WXP_ERR_RESP_TIMESTAMP_SKEW);
}

static void unknown_serial_is_its_own_error(void **state)
{
    fixture *f = *state;
    wxp_diag d = {0};
    const char *unknown[] = {"PUB_KEY_ID_0000", "5157f09efdc096de15ebe81a47057a720000000",
                             TU_MERCHANT_SERIAL};
    for (size_t i = 0; i < 3; i++) {
        wxp_response_headers h = headers_of(f->body, unknown[i]);
        assert_int_equal(verify(f, f->body, &h, 1554209980, 0, &d), WXP_ERR_RESP_UNKNOWN_SERIAL);
        assert_string_equal(d.field, "Wechatpay-Serial");
        assert_non_null(strstr(d.text, unknown[i]));
    }
}

static void known_serial_of_the_wrong_certificate_does_not_verify(void **state)
{
    fixture *f = *state;
    wxp_response_headers h = headers_of(f->body, TU_OTHER_SERIAL);
    wxp_diag d = {0};
    assert_int_equal(verify(f, f->body, &h, 1554209980, 0, &d), WXP_ERR_SIGNATURE_MISMATCH);
    assert_string_equal(d.field, "Wechatpay-Signature");
}

static void changed_body_nonce_or_timestamp_fails(void **state)
{
    fixture *f = *state;
    wxp_response_headers h = headers_of(f->body, TU_PUBKEY_ID);
    const char other_body[] = "{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\","
                              "\"out_trade_no\":\"1217752501201407033233368019\"}";
    assert_int_equal(wxp_response_verify(f->ring, &h, wxp_span_of(other_body), 1554209980, 0, NULL),
                     WXP_ERR_SIGNATURE_MISMATCH);
    h.nonce = wxp_span_of("c5ac7061fccab6bf3e254dcf98995b8d");
    assert_int_equal(verify(f, f->body, &h, 1554209980, 0, NULL), WXP_ERR_SIGNATURE_MISMATCH);
    h = headers_of(f->body, TU_PUBKEY_ID);
    h.timestamp = wxp_span_of("1554209981");
    assert_int_equal(verify(f, f->body, &h, 1554209980, 0, NULL), WXP_ERR_SIGNATURE_MISMATCH);
    /* The empty-body signature does not cover a body. */
    h = headers_of(f->empty, TU_PUBKEY_ID);
    assert_int_equal(wxp_response_verify(f->ring, &h, wxp_span_of("{}"), 1554209980, 0, NULL),
                     WXP_ERR_SIGNATURE_MISMATCH);
}

static void probe_bad_base64_type_and_timestamp_syntax_are_distinct(void **state)
{
    fixture *f = *state;
    wxp_response_headers h = headers_of(f->body, TU_PUBKEY_ID);
    wxp_diag d = {0};
    h.signature = wxp_span_of("WECHATPAY/SIGNTEST/OWI3MWVhYzc2NDRhNmUzY2I3ZmM3NTk4ZjY4OGNiODc=");
    assert_int_equal(verify(f, f->body, &h, 1554209980, 0, &d), WXP_ERR_SIGNTEST_PROBE);
    h.signature = wxp_span_of("not base64!");
    assert_int_equal(verify(f, f->body, &h, 1554209980, 0, &d), WXP_ERR_BASE64);
    h = headers_of(f->body, TU_PUBKEY_ID);
    h.signature_type = wxp_span_of("WECHATPAY2-SM2-WITH-SM3");
    assert_int_equal(verify(f, f->body, &h, 1554209980, 0, &d), WXP_ERR_RESP_SIGNATURE_TYPE);
    h = headers_of(f->body, TU_PUBKEY_ID);
    const char *bad_ts[] = {"1554209980000", "15542O9980", "-1554209980", " 1554209980"};
    for (size_t i = 0; i < 4; i++) {
        h.timestamp = wxp_span_of(bad_ts[i]);
        assert_int_equal(verify(f, f->body, &h, 1554209980, 0, &d), WXP_ERR_RESP_TIMESTAMP);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signed_answer_verifies_in_public_key_and_certificate_mode),
        cmocka_unit_test(each_missing_header_is_named),
        cmocka_unit_test(timestamp_window_is_under_300_seconds_by_default),
        cmocka_unit_test(unknown_serial_is_its_own_error),
        cmocka_unit_test(known_serial_of_the_wrong_certificate_does_not_verify),
        cmocka_unit_test(changed_body_nonce_or_timestamp_fails),
        cmocka_unit_test(probe_bad_base64_type_and_timestamp_syntax_are_distinct),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
