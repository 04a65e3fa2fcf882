/* Field rules (out_trade_no, appid, mchid) and the JSON bodies of the
 * reverse call: request, answer and error. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_trade_no_rules(void **state)
{
    const struct {
        const char *v;
        wxp_err want;
    } rows[] = {
        {"1217752501201407033233368018", WXP_OK},
        {"abc123", WXP_OK},                           /* 6: shortest */
        {"12345678901234567890123456789012", WXP_OK}, /* 32: longest */
        {"a-b_c|d*e", WXP_OK},
        {"abc12", WXP_ERR_FIELD_LENGTH},
        {"123456789012345678901234567890123", WXP_ERR_FIELD_LENGTH},
        {"", WXP_ERR_FIELD_LENGTH},
        {"abc/123", WXP_ERR_FIELD_CHARSET},
        {"abc 123", WXP_ERR_FIELD_CHARSET},
        {"abc.123", WXP_ERR_FIELD_CHARSET},
        {"abc%2A123", WXP_ERR_FIELD_CHARSET},
        {"订单号123456", WXP_ERR_FIELD_CHARSET},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wxp_diag d = {0};
        wxp_err e = wxp_check_out_trade_no(wxp_span_of(rows[i].v), &d);
        if (e != rows[i].want)
            fail_msg("\"%s\": got %s (%s)", rows[i].v, wxp_strerror(e), d.text);
        if (e)
            assert_string_equal(d.field, "out_trade_no");
    }
    wxp_diag d;
    assert_int_equal(wxp_check_out_trade_no((wxp_span){"abc\0def", 7}, &d), WXP_ERR_FIELD_CHARSET);
    assert_non_null(strstr(d.text, "0x00 at offset 3"));
}

static void appid_and_mchid_rules(void **state)
{
    wxp_diag d;
    (void)state;
    assert_int_equal(wxp_check_appid(wxp_span_of(TU_APPID), &d), WXP_OK);
    assert_int_equal(wxp_check_appid(wxp_span_of(""), &d), WXP_ERR_FIELD_LENGTH);
    assert_int_equal(wxp_check_appid(wxp_span_of("wx d678"), &d), WXP_ERR_FIELD_CHARSET);
    assert_string_equal(d.field, "appid");
    assert_int_equal(wxp_check_appid(wxp_span_of("wxd678efh567hg6787wxd678efh567hg6"), &d),
                     WXP_ERR_FIELD_LENGTH);
    assert_int_equal(wxp_check_mchid(wxp_span_of(TU_MCHID), &d), WXP_OK);
    assert_int_equal(wxp_check_mchid(wxp_span_of("12300O0109"), &d), WXP_ERR_FIELD_CHARSET);
    assert_string_equal(d.field, "mchid");
    assert_int_equal(wxp_check_mchid(wxp_span_of(""), &d), WXP_ERR_FIELD_LENGTH);
}

static void reverse_request_body_is_built_compact_and_parsed_back(void **state)
{
    char *body = NULL;
    wxp_reverse_request r;
    size_t len;
    char *seed = tu_fixture("vectors/post_reverse.body", &len);
    (void)state;
    assert_int_equal(wxp_reverse_request_build(TU_APPID, TU_MCHID, &body), WXP_OK);
    assert_string_equal(body, seed); /* the seed's body, byte for byte */
    assert_int_equal(wxp_reverse_request_parse(wxp_span_of(body), &r, NULL), WXP_OK);
    assert_string_equal(r.appid, TU_APPID);
    assert_string_equal(r.mchid, TU_MCHID);
    free(body);
    free(seed);
    /* Characters that need escaping survive the round trip. */
    assert_int_equal(wxp_reverse_request_build("a\"b\\c", "1", &body), WXP_OK);
    assert_int_equal(wxp_reverse_request_parse(wxp_span_of(body), &r, NULL), WXP_OK);
    assert_string_equal(r.appid, "a\"b\\c");
    free(body);
}

static void bad_request_bodies_name_the_field(void **state)
{
    const struct {
        const char *body;
        wxp_err want;
        const char *field;
    } rows[] = {
        {"", WXP_ERR_JSON_SYNTAX, "body"},
        {"{", WXP_ERR_JSON_SYNTAX, "body"},
        {"{\"appid\":\"a\",\"mchid\":\"1\"} x", WXP_ERR_JSON_SYNTAX, "body"},
        {"{\"appid\":\"a\",\"mchid\":\"1\"}{}", WXP_ERR_JSON_SYNTAX, "body"},
        {"[]", WXP_ERR_JSON_NOT_OBJECT, "body"},
        {"\"appid\"", WXP_ERR_JSON_NOT_OBJECT, "body"},
        {"{\"mchid\":\"1\"}", WXP_ERR_JSON_MISSING_FIELD, "appid"},
        {"{\"appid\":\"a\"}", WXP_ERR_JSON_MISSING_FIELD, "mchid"},
        {"{\"APPID\":\"a\",\"mchid\":\"1\"}", WXP_ERR_JSON_MISSING_FIELD, "appid"},
        {"{\"appid\":1,\"mchid\":\"1\"}", WXP_ERR_JSON_FIELD_TYPE, "appid"},
        {"{\"appid\":\"a\",\"mchid\":1230000109}", WXP_ERR_JSON_FIELD_TYPE, "mchid"},
        {"{\"appid\":null,\"mchid\":\"1\"}", WXP_ERR_JSON_FIELD_TYPE, "appid"},
        {"{\"appid\":\"a\",\"mchid\":[\"1\"]}", WXP_ERR_JSON_FIELD_TYPE, "mchid"},
        {"{\"appid\":\"123456789012345678901234567890123\",\"mchid\":\"1\"}",
         WXP_ERR_JSON_FIELD_TOO_LONG, "appid"},
        {"{\"appid\":\"a\",\"mchid\":\"1\",\"appid\":\"b\"}", WXP_ERR_JSON_DUPLICATE_FIELD,
         "appid"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wxp_reverse_request r;
        wxp_diag d = {"", ""};
        wxp_err e = wxp_reverse_request_parse(wxp_span_of(rows[i].body), &r, &d);
        if (e != rows[i].want || strcmp(d.field, rows[i].field) != 0)
            fail_msg("%s: got %s [%s], want %s [%s]", rows[i].body, wxp_strerror(e), d.field,
                     wxp_strerror(rows[i].want), rows[i].field);
    }
    /* Unknown fields are ignored; a NUL inside the body is not. */
    wxp_reverse_request r;
    assert_int_equal(wxp_reverse_request_parse(
                         wxp_span_of("{\"appid\":\"a\",\"mchid\":\"1\",\"x\":{}}"), &r, NULL),
                     WXP_OK);
    const char nul[] = "{\"appid\":\"a\",\"mchid\":\"1\"}\0";
    assert_int_equal(wxp_reverse_request_parse((wxp_span){nul, sizeof(nul) - 1}, &r, NULL),
                     WXP_ERR_JSON_SYNTAX);
}

static void reverse_answer_is_parsed_from_the_vector(void **state)
{
    size_t len;
    char *body = tu_fixture("vectors/response_body.body", &len);
    wxp_reverse_response r;
    wxp_diag d;
    (void)state;
    assert_int_equal(wxp_reverse_response_parse((wxp_span){body, len}, &r, NULL), WXP_OK);
    assert_string_equal(r.out_trade_no, "1217752501201407033233368018");
    assert_string_equal(r.appid, TU_APPID);
    assert_string_equal(r.mchid, TU_MCHID);
    free(body);
    assert_int_equal(
        wxp_reverse_response_parse(wxp_span_of("{\"appid\":\"a\",\"mchid\":\"1\"}"), &r, &d),
        WXP_ERR_JSON_MISSING_FIELD);
    assert_string_equal(d.field, "out_trade_no");
    assert_int_equal(wxp_reverse_response_parse(wxp_span_of("<html>502</html>"), &r, &d),
                     WXP_ERR_JSON_SYNTAX);
    /* A query's answer names the same order and merchant: not a reverse answer. */
    assert_int_equal(wxp_reverse_response_parse(
                         wxp_span_of("{\"appid\":\"a\",\"mchid\":\"1\",\"out_trade_no\":\"abc123\","
                                     "\"trade_state\":\"SUCCESS\"}"),
                         &r, &d),
                     WXP_ERR_JSON_WRONG_ANSWER);
    assert_string_equal(d.field, "trade_state");
}

static void a_nul_inside_a_json_string_is_refused_naming_the_member(void **state)
{
    wxp_reverse_request rq;
    wxp_diag d;
    (void)state;
    assert_int_equal(
        wxp_reverse_request_parse(
            wxp_span_of("{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\\u0000x\"}"), &rq,
            &d),
        WXP_ERR_FIELD_CHARSET);
    assert_string_equal(d.field, "mchid");
    /* An escaped backslash before u0000 is no NUL. */
    assert_int_equal(wxp_reverse_request_parse(
                         wxp_span_of("{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\","
                                     "\"note\":\"\\\\u0000\"}"),
                         &rq, &d),
                     WXP_OK);
}

static void error_body_keeps_code_message_and_detail(void **state)
{
    const char *body =
        "{\"code\":\"SIGN_ERROR\",\"message\":\"签名错误\",\"detail\":"
        "{\"detail\":{\"issue\":\"sign not match\"},\"field\":\"signature\","
        "\"location\":\"authorization\",\"sign_information\":{\"method\":\"POST\"}}}";
    wxp_error_body eb;
    (void)state;
    assert_int_equal(wxp_error_body_parse(wxp_span_of(body), &eb, NULL), WXP_OK);
    assert_string_equal(eb.code, "SIGN_ERROR");
    assert_string_equal(eb.message, "签名错误");
    assert_non_null(eb.detail);
    assert_non_null(strstr(eb.detail, "\"sign_information\":{\"method\":\"POST\"}"));
    wxp_error_body_clear(&eb);
    assert_null(eb.detail);

    /* The real templating error from docs/protocol.md section 1. */
    assert_int_equal(
        wxp_error_body_parse(
            wxp_span_of("{\"code\":\"PARAM_ERROR\",\"detail\":{\"location\":\"uri_template\","
                        "\"value\":\"\"},\"message\":\"x\"}"),
            &eb, NULL),
        WXP_OK);
    assert_string_equal(eb.detail, "{\"location\":\"uri_template\",\"value\":\"\"}");
    wxp_error_body_clear(&eb);

    /* No detail, null detail. */
    assert_int_equal(wxp_error_body_parse(
                         wxp_span_of("{\"code\":\"ORDER_CLOSED\",\"message\":\"m\"}"), &eb, NULL),
                     WXP_OK);
    assert_null(eb.detail);
    assert_int_equal(
        wxp_error_body_parse(wxp_span_of("{\"code\":\"X\",\"message\":\"m\",\"detail\":null}"), &eb,
                             NULL),
        WXP_OK);
    assert_null(eb.detail);
}

static void bad_error_bodies_name_the_field(void **state)
{
    const struct {
        const char *body;
        wxp_err want;
        const char *field;
    } rows[] = {
        {"{\"message\":\"m\"}", WXP_ERR_JSON_MISSING_FIELD, "code"},
        {"{\"code\":\"X\"}", WXP_ERR_JSON_MISSING_FIELD, "message"},
        {"{\"code\":5,\"message\":\"m\"}", WXP_ERR_JSON_FIELD_TYPE, "code"},
        {"{\"code\":\"X\",\"message\":{}}", WXP_ERR_JSON_FIELD_TYPE, "message"},
        {"{\"code\":\"X\",\"message\":\"m\",\"detail\":\"d\"}", WXP_ERR_JSON_FIELD_TYPE, "detail"},
        {"<html><body>502 Bad Gateway</body></html>", WXP_ERR_JSON_SYNTAX, "body"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wxp_error_body eb;
        wxp_diag d = {"", ""};
        wxp_err e = wxp_error_body_parse(wxp_span_of(rows[i].body), &eb, &d);
        if (e != rows[i].want || strcmp(d.field, rows[i].field) != 0)
            fail_msg("%s: got %s [%s]", rows[i].body, wxp_strerror(e), d.field);
        assert_null(eb.detail);
    }
    /* A long message is cut, not refused. */
    char big[2000];
    int n = snprintf(big, sizeof(big), "{\"code\":\"X\",\"message\":\"");
    memset(big + n, 'm', 1500);
    memcpy(big + n + 1500, "\"}", 3);
    wxp_error_body eb;
    assert_int_equal(wxp_error_body_parse(wxp_span_of(big), &eb, NULL), WXP_OK);
    assert_int_equal(strlen(eb.message), sizeof(eb.message) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(out_trade_no_rules),
        cmocka_unit_test(appid_and_mchid_rules),
        cmocka_unit_test(reverse_request_body_is_built_compact_and_parsed_back),
        cmocka_unit_test(bad_request_bodies_name_the_field),
        cmocka_unit_test(reverse_answer_is_parsed_from_the_vector),
        cmocka_unit_test(a_nul_inside_a_json_string_is_refused_naming_the_member),
        cmocka_unit_test(error_body_keeps_code_message_and_detail),
        cmocka_unit_test(bad_error_bodies_name_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
