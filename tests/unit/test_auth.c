/* The Authorization header: building, and a table of good and bad headers
 * for the strict parser (docs/protocol.md section 2). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S "WECHATPAY2-SHA256-RSA2048 "
#define M "mchid=\"1230000109\""
#define N "nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\""
#define T "timestamp=\"1554208460\""
#define K "serial_no=\"3775B6A45ACD588826D15E583A95F5DD00000001\""
#define G "signature=\"dGVzdA==\""

static const struct row {
    const char *name;
    const char *header;
    wxp_err want;
    const char *field; /* diag->field for bad rows */
} rows[] = {
    /* good */
    {"go_java_order", S M "," N "," T "," K "," G, WXP_OK, NULL},
    {"php_node_order", S M "," K "," T "," N "," G, WXP_OK, NULL},
    {"signature_first", S G "," T "," N "," K "," M, WXP_OK, NULL},
    {"public_key_id_style_serial", S M "," N "," T ",serial_no=\"PUB_KEY_ID_0112\"," G, WXP_OK,
     NULL},
    {"signtest_probe_parses_verification_judges",
     S M "," N "," T "," K ",signature=\"WECHATPAY/SIGNTEST/abc\"", WXP_OK, NULL},
    /* scheme */
    {"empty", "", WXP_ERR_AUTH_SCHEME, "scheme"},
    {"no_scheme", M "," N "," T "," K "," G, WXP_ERR_AUTH_SCHEME, "scheme"},
    {"lower_case_scheme", "wechatpay2-sha256-rsa2048 " M "," N "," T "," K "," G,
     WXP_ERR_AUTH_SCHEME, "scheme"},
    {"other_scheme", "Bearer abc", WXP_ERR_AUTH_SCHEME, "scheme"},
    {"old_scheme", "WECHATPAY2-SHA256-RSA " M, WXP_ERR_AUTH_SCHEME, "scheme"},
    {"scheme_only", "WECHATPAY2-SHA256-RSA2048", WXP_ERR_AUTH_SCHEME, "scheme"},
    {"scheme_without_space", "WECHATPAY2-SHA256-RSA2048" M, WXP_ERR_AUTH_SCHEME, "scheme"},
    {"two_spaces", "WECHATPAY2-SHA256-RSA2048  " M "," N "," T "," K "," G, WXP_ERR_AUTH_SYNTAX,
     "scheme"},
    /* structure */
    {"space_after_comma", S M ", " N "," T "," K "," G, WXP_ERR_AUTH_SYNTAX, "authorization"},
    {"space_before_comma", S M " ," N "," T "," K "," G, WXP_ERR_AUTH_SYNTAX, "mchid"},
    {"trailing_comma", S M "," N "," T "," K "," G ",", WXP_ERR_AUTH_SYNTAX, "authorization"},
    {"semicolon_separator", S M ";" N "," T "," K "," G, WXP_ERR_AUTH_SYNTAX, "mchid"},
    {"no_equals", S "mchid:\"1230000109\"," N "," T "," K "," G, WXP_ERR_AUTH_SYNTAX, "mchid"},
    {"unquoted_value", S "mchid=1230000109," N "," T "," K "," G, WXP_ERR_AUTH_UNQUOTED, "mchid"},
    {"single_quotes", S "mchid='1230000109'," N "," T "," K "," G, WXP_ERR_AUTH_UNQUOTED, "mchid"},
    {"unterminated_value", S M "," N "," T "," K ",signature=\"dGVzdA==", WXP_ERR_AUTH_UNTERMINATED,
     "signature"},
    {"unknown_field", S M "," N "," T "," K "," G ",extra=\"1\"", WXP_ERR_AUTH_UNKNOWN_FIELD,
     "authorization"},
    {"camel_case_field", S M ",nonceStr=\"abc\"," T "," K "," G, WXP_ERR_AUTH_SYNTAX,
     "authorization"},
    {"upper_case_field", S "MCHID=\"1230000109\"," N "," T "," K "," G, WXP_ERR_AUTH_SYNTAX,
     "authorization"},
    {"duplicate_mchid", S M "," M "," N "," T "," K "," G, WXP_ERR_AUTH_DUPLICATE_FIELD, "mchid"},
    {"duplicate_signature", S M "," N "," T "," K "," G "," G, WXP_ERR_AUTH_DUPLICATE_FIELD,
     "signature"},
    /* missing fields */
    {"missing_mchid", S N "," T "," K "," G, WXP_ERR_AUTH_MISSING_FIELD, "mchid"},
    {"missing_nonce", S M "," T "," K "," G, WXP_ERR_AUTH_MISSING_FIELD, "nonce_str"},
    {"missing_timestamp", S M "," N "," K "," G, WXP_ERR_AUTH_MISSING_FIELD, "timestamp"},
    {"missing_serial", S M "," N "," T "," G, WXP_ERR_AUTH_MISSING_FIELD, "serial_no"},
    {"missing_signature", S M "," N "," T "," K, WXP_ERR_AUTH_MISSING_FIELD, "signature"},
    /* values */
    {"empty_mchid", S "mchid=\"\"," N "," T "," K "," G, WXP_ERR_AUTH_EMPTY_VALUE, "mchid"},
    {"empty_signature", S M "," N "," T "," K ",signature=\"\"", WXP_ERR_AUTH_EMPTY_VALUE,
     "signature"},
    {"mchid_with_letters", S "mchid=\"12300x0109\"," N "," T "," K "," G, WXP_ERR_AUTH_BAD_VALUE,
     "mchid"},
    {"nonce_with_dash", S M ",nonce_str=\"593BEC0C-930B\"," T "," K "," G, WXP_ERR_AUTH_BAD_VALUE,
     "nonce_str"},
    {"serial_with_colons", S M "," N "," T ",serial_no=\"37:75:B6\"," G, WXP_ERR_AUTH_BAD_VALUE,
     "serial_no"},
    {"tab_in_value", S M "," N "," T "," K ",signature=\"dGVz\tdA==\"", WXP_ERR_AUTH_BAD_VALUE,
     "signature"},
    {"timestamp_in_milliseconds", S M "," N ",timestamp=\"1554208460000\"," K "," G,
     WXP_ERR_AUTH_TIMESTAMP_MS, "timestamp"},
    {"timestamp_with_letters", S M "," N ",timestamp=\"15542O8460\"," K "," G,
     WXP_ERR_AUTH_TIMESTAMP, "timestamp"},
    {"timestamp_negative", S M "," N ",timestamp=\"-1554208460\"," K "," G, WXP_ERR_AUTH_TIMESTAMP,
     "timestamp"},
    {"timestamp_fractional", S M "," N ",timestamp=\"1554208460.5\"," K "," G,
     WXP_ERR_AUTH_TIMESTAMP, "timestamp"},
    {"timestamp_11_digits", S M "," N ",timestamp=\"15542084600\"," K "," G, WXP_ERR_AUTH_TIMESTAMP,
     "timestamp"},
    {"timestamp_huge", S M "," N ",timestamp=\"155420846000000000000000\"," K "," G,
     WXP_ERR_AUTH_TIMESTAMP, "timestamp"},
    {"mchid_too_long", S "mchid=\"123456789012345678901234567890123\"," N "," T "," K "," G,
     WXP_ERR_AUTH_VALUE_TOO_LONG, "mchid"},
    {"nonce_too_long",
     S M ",nonce_str=\"0123456789012345678901234567890123456789012345678901234567890123X\"," T "," K
         "," G,
     WXP_ERR_AUTH_VALUE_TOO_LONG, "nonce_str"},
};

static void authorization_table(void **state)
{
    (void)state;
    assert_true(sizeof(rows) / sizeof(rows[0]) >= 30);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wxp_auth a;
        wxp_diag d = {"", ""};
        wxp_err e = wxp_auth_parse(wxp_span_of(rows[i].header), &a, &d);
        if (e != rows[i].want)
            fail_msg("row %s: got %s, want %s (%s)", rows[i].name, wxp_strerror(e),
                     wxp_strerror(rows[i].want), d.text);
        if (rows[i].field && strcmp(d.field, rows[i].field) != 0)
            fail_msg("row %s: diagnostic names \"%s\", want \"%s\"", rows[i].name, d.field,
                     rows[i].field);
        if (e != WXP_OK && d.text[0] == '\0')
            fail_msg("row %s: no diagnostic text", rows[i].name);
        if (e == WXP_OK) {
            assert_true(wxp_span_eq(a.mchid, "1230000109"));
            assert_int_equal(a.timestamp_value, 1554208460);
        }
    }
}

static void signature_of_4096_chars_is_too_long(void **state)
{
    char big[5000];
    wxp_diag d;
    wxp_auth a;
    (void)state;
    int n = snprintf(big, sizeof(big), S M "," N "," T "," K ",signature=\"");
    memset(big + n, 'A', 4096);
    snprintf(big + n + 4096, sizeof(big) - (size_t)n - 4096, "\"");
    assert_int_equal(wxp_auth_parse(wxp_span_of(big), &a, &d), WXP_ERR_AUTH_VALUE_TOO_LONG);
    assert_string_equal(d.field, "signature");
    assert_non_null(strstr(d.text, "4096"));
}

static void nul_byte_inside_a_value_is_refused(void **state)
{
    const char h[] = S M "," N "," T "," K ",signature=\"dG\0VzdA==\"";
    wxp_auth a;
    wxp_diag d;
    (void)state;
    assert_int_equal(wxp_auth_parse((wxp_span){h, sizeof(h) - 1}, &a, &d), WXP_ERR_AUTH_BAD_VALUE);
    assert_non_null(strstr(d.text, "0x00"));
}

static void parsed_fields_point_into_the_header(void **state)
{
    const char *h = S K "," G "," T "," N "," M;
    wxp_auth a;
    (void)state;
    assert_int_equal(wxp_auth_parse(wxp_span_of(h), &a, NULL), WXP_OK);
    assert_true(a.serial_no.ptr > h && a.serial_no.ptr < h + strlen(h));
    assert_true(wxp_span_eq(a.serial_no, TU_MERCHANT_SERIAL));
    assert_true(wxp_span_eq(a.nonce_str, "593BEC0C930BF1AFEB40B4A08C8FB242"));
    assert_true(wxp_span_eq(a.signature, "dGVzdA=="));
    assert_true(wxp_span_eq(a.timestamp, "1554208460"));
}

/* The header for the seed's request, built from the openssl-made signature,
 * has the documented shape and parses back to the same fields. */
static void built_header_has_the_documented_form_and_round_trips(void **state)
{
    size_t siglen;
    char *sig = tu_fixture("vectors/post_reverse.sig", &siglen);
    wxp_auth in = {
        .mchid = wxp_span_of(TU_MCHID),
        .nonce_str = wxp_span_of("593BEC0C930BF1AFEB40B4A08C8FB242"),
        .timestamp_value = 1554208460,
        .serial_no = wxp_span_of(TU_MERCHANT_SERIAL),
        .signature = {sig, siglen},
    };
    char *hdr = NULL, want[1024];
    wxp_auth out;
    (void)state;
    assert_int_equal(wxp_auth_build(&in, &hdr), WXP_OK);
    snprintf(want, sizeof(want),
             "WECHATPAY2-SHA256-RSA2048 "
             "mchid=\"1230000109\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\","
             "timestamp=\"1554208460\",serial_no=\"%s\",signature=\"%s\"",
             TU_MERCHANT_SERIAL, sig);
    assert_string_equal(hdr, want);
    assert_int_equal(wxp_auth_parse(wxp_span_of(hdr), &out, NULL), WXP_OK);
    assert_true(out.signature.len == siglen && memcmp(out.signature.ptr, sig, siglen) == 0);
    assert_int_equal(out.timestamp_value, 1554208460);
    free(hdr);
    free(sig);
}

static void build_refuses_quotes_and_empty_values(void **state)
{
    wxp_auth a = {
        .mchid = wxp_span_of(TU_MCHID),
        .nonce_str = wxp_span_of("n\"x"),
        .timestamp = wxp_span_of("1"),
        .serial_no = wxp_span_of("S"),
        .signature = wxp_span_of("x"),
    };
    char *hdr = NULL;
    (void)state;
    assert_int_equal(wxp_auth_build(&a, &hdr), WXP_ERR_AUTH_BAD_VALUE);
    a.nonce_str = wxp_span_of("");
    assert_int_equal(wxp_auth_build(&a, &hdr), WXP_ERR_AUTH_EMPTY_VALUE);
    assert_null(hdr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(authorization_table),
        cmocka_unit_test(signature_of_4096_chars_is_too_long),
        cmocka_unit_test(nul_byte_inside_a_value_is_refused),
        cmocka_unit_test(parsed_fields_point_into_the_header),
        cmocka_unit_test(built_header_has_the_documented_form_and_round_trips),
        cmocka_unit_test(build_refuses_quotes_and_empty_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
