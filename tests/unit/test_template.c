/* Path templates: expansion, the chain form, and matching raw request
 * targets with a diagnosis of every path mistake in docs/protocol.md section 4. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMPL "v3/pay/transactions/out-trade-no/{out_trade_no}/reverse"
#define PFX "/v3/pay/transactions/out-trade-no/"

static void expansion_table(void **state)
{
    const struct {
        const char *tmpl, *value, *want;
    } rows[] = {
        {TMPL, "1217752501201407033233368018", PFX "1217752501201407033233368018/reverse"},
        {"/" TMPL, "abc123", PFX "abc123/reverse"},           /* leading '/' kept once */
        {TMPL, "ord*2026|01", PFX "ord%2A2026%7C01/reverse"}, /* '*' and '|' encoded */
        {TMPL, "a-b_c.d~e", PFX "a-b_c.d~e/reverse"},         /* unreserved stay */
        {TMPL, "a/b", PFX "a%2Fb/reverse"},
        {TMPL, "a b%c", PFX "a%20b%25c/reverse"},
        {TMPL, "\xe6\x92\xa4", PFX "%E6%92%A4/reverse"}, /* UTF-8 bytes */
        {"v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={out_trade_no}", "x|y",
         PFX "x%7Cy?mchid=x%7Cy"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wxp_param p = {"out_trade_no", rows[i].value};
        char *out = NULL;
        wxp_diag d = {0};
        assert_int_equal(wxp_template_expand(rows[i].tmpl, &p, 1, &out, &d), WXP_OK);
        assert_string_equal(out, rows[i].want);
        free(out);
    }
}

static void expansion_errors_name_the_parameter(void **state)
{
    wxp_param p = {"out_trade_no", "abc123"};
    wxp_param empty = {"out_trade_no", ""};
    char *out = NULL;
    wxp_diag d = {0};
    (void)state;
    assert_int_equal(wxp_template_expand("v3/{mchid}/x", &p, 1, &out, &d), WXP_ERR_TEMPLATE_PARAM);
    assert_non_null(strstr(d.text, "{mchid}"));
    assert_int_equal(wxp_template_expand(TMPL, &empty, 1, &out, &d), WXP_ERR_TEMPLATE_PARAM);
    assert_non_null(strstr(d.text, "empty"));
    assert_int_equal(wxp_template_expand("v3/{out_trade_no/x", &p, 1, &out, &d),
                     WXP_ERR_TEMPLATE_SYNTAX);
    assert_int_equal(wxp_template_expand("v3/{}/x", &p, 1, &out, &d), WXP_ERR_TEMPLATE_SYNTAX);
    assert_int_equal(wxp_template_expand("v3/out}/x", &p, 1, &out, &d), WXP_ERR_TEMPLATE_SYNTAX);
    assert_int_equal(wxp_template_expand("v3/{a{b}}/x", &p, 1, &out, &d), WXP_ERR_TEMPLATE_SYNTAX);
    assert_null(out);
}

static void chain_form_becomes_the_same_template(void **state)
{
    const struct {
        const char *chain, *want;
    } rows[] = {
        {"v3/pay/transactions/outTradeNo/_out_trade_no_/reverse", TMPL},
        {"/v3/pay/transactions/outTradeNo/_out_trade_no_/reverse", "/" TMPL},
        {"v3/pay/transactions/out-trade-no/{out_trade_no}/reverse", NULL}, /* braces: not chain */
        {"v3/certificates", "v3/certificates"},
        {"v3/marketing/favor/stocks/_stock_id_/useFlow",
         "v3/marketing/favor/stocks/{stock_id}/use-flow"},
        {"v3/payScore/serviceOrder", "v3/pay-score/service-order"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *out = NULL;
        wxp_diag d = {0};
        wxp_err e = wxp_chain_to_template(rows[i].chain, &out, &d);
        if (!rows[i].want) {
            assert_int_equal(e, WXP_ERR_TEMPLATE_SYNTAX);
            continue;
        }
        assert_int_equal(e, WXP_OK);
        assert_string_equal(out, rows[i].want);
        free(out);
    }
    char *out = NULL;
    assert_int_equal(wxp_chain_to_template("v3//x", &out, NULL), WXP_ERR_TEMPLATE_SYNTAX);
    assert_int_equal(wxp_chain_to_template("v3/x/", &out, NULL), WXP_ERR_TEMPLATE_SYNTAX);
}

static void chain_and_template_expand_to_the_same_target(void **state)
{
    wxp_param p = {"out_trade_no", "ord*2026|01"};
    char *tmpl = NULL, *a = NULL, *b = NULL;
    (void)state;
    assert_int_equal(
        wxp_chain_to_template("v3/pay/transactions/outTradeNo/_out_trade_no_/reverse", &tmpl, NULL),
        WXP_OK);
    assert_int_equal(wxp_template_expand(tmpl, &p, 1, &a, NULL), WXP_OK);
    assert_int_equal(wxp_template_expand(TMPL, &p, 1, &b, NULL), WXP_OK);
    assert_string_equal(a, b);
    free(tmpl);
    free(a);
    free(b);
}

/* Targets that match, as the different SDKs send them. */
static void good_targets_match_and_decode(void **state)
{
    const struct {
        const char *target, *value, *query;
    } rows[] = {
        {PFX "1217752501201407033233368018/reverse", "1217752501201407033233368018", NULL},
        {PFX "ord%2A2026%7C01/reverse", "ord*2026|01", NULL}, /* PHP, Go */
        {PFX "ord*2026|01/reverse", "ord*2026|01", NULL},     /* Node: raw */
        {PFX "ord*2026%7C01/reverse", "ord*2026|01", NULL},   /* Java: '|' only */
        {PFX "ord%2a2026%7c01/reverse", "ord*2026|01", NULL}, /* lower-case hex */
        {PFX "a-b_c-d/reverse", "a-b_c-d", NULL},
        {PFX "abc123/reverse?x=1", "abc123", "x=1"},
        {PFX "abc123/reverse?", "abc123", ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wxp_match m;
        wxp_diag d = {0};
        wxp_err e = wxp_template_match(TMPL, wxp_span_of(rows[i].target), &m, &d);
        if (e != WXP_OK)
            fail_msg("%s: %s (%s)", rows[i].target, wxp_strerror(e), d.text);
        assert_int_equal(m.nparams, 1);
        assert_true(wxp_span_eq(m.params[0].name, "out_trade_no"));
        assert_string_equal(m.params[0].value, rows[i].value);
        assert_int_equal(m.params[0].value_len, strlen(rows[i].value));
        if (rows[i].query) {
            assert_non_null(m.query.ptr);
            assert_true(wxp_span_eq(m.query, rows[i].query));
        } else {
            assert_null(m.query.ptr);
        }
    }
    /* The query endpoint's template, with its query string. */
    wxp_match m;
    assert_int_equal(wxp_template_match("/v3/pay/transactions/out-trade-no/{out_trade_no}",
                                        wxp_span_of(PFX "abc123?mchid=1230000109"), &m, NULL),
                     WXP_OK);
    assert_string_equal(m.params[0].value, "abc123");
    assert_true(wxp_span_eq(m.query, "mchid=1230000109"));
    assert_true(wxp_span_eq(m.path, PFX "abc123"));
}

/* Every path mistake, with the error it must get and a phrase that the
 * diagnostic must contain. */
static void path_mistakes_are_named(void **state)
{
    const struct row {
        const char *what, *target;
        wxp_err want;
        const char *phrase;
    } rows[] = {
        {"unexpanded placeholder", PFX "{out_trade_no}/reverse", WXP_ERR_PATH_UNEXPANDED,
         "not expanded"},
        {"unexpanded placeholder, encoded", PFX "%7Bout_trade_no%7D/reverse",
         WXP_ERR_PATH_UNEXPANDED, "not expanded"},
        {"unexpanded chain placeholder", PFX "_out_trade_no_/reverse", WXP_ERR_PATH_UNEXPANDED,
         "chain"},
        {"camelCase segment", "/v3/pay/transactions/outTradeNo/abc123/reverse",
         WXP_ERR_PATH_CAMEL_CASE, "out-trade-no"},
        {"camelCase and unexpanded chain", "/v3/pay/transactions/outTradeNo/_out_trade_no_/reverse",
         WXP_ERR_PATH_CAMEL_CASE, "dash-case"},
        {"double encoding of *", PFX "ord%252A2026/reverse", WXP_ERR_PATH_DOUBLE_ENCODED, "%252A"},
        {"double encoding of |", PFX "ord%257C2026/reverse", WXP_ERR_PATH_DOUBLE_ENCODED,
         "encoded twice"},
        {"encoded slash in parameter", PFX "ab%2Fcd12/reverse", WXP_ERR_PATH_SLASH_IN_PARAM, "%2F"},
        {"raw slash in parameter", PFX "ab/cd12/reverse", WXP_ERR_PATH_SLASH_IN_PARAM,
         "\"ab/cd12\""},
        {"two raw slashes in parameter", PFX "a/b/c/reverse", WXP_ERR_PATH_SLASH_IN_PARAM,
         "\"a/b/c\""},
        {"trailing slash", PFX "abc123/reverse/", WXP_ERR_PATH_TRAILING_SLASH, "ends with '/'"},
        {"empty parameter", PFX "/reverse", WXP_ERR_PATH_EMPTY_PARAM, "empty"},
        {"extra prefix", "/api/v3/pay/transactions/out-trade-no/abc123/reverse",
         WXP_ERR_PATH_PREFIX, "extra prefix \"/api\""},
        {"doubled v3", "/v3/v3/pay/transactions/out-trade-no/abc123/reverse", WXP_ERR_PATH_PREFIX,
         "extra prefix \"/v3\""},
        {"missing v3", "/pay/transactions/out-trade-no/abc123/reverse", WXP_ERR_PATH_PREFIX,
         "lacks the prefix \"/v3\""},
        {"scheme and host in target", "https://api.mch.weixin.qq.com" PFX "abc123/reverse",
         WXP_ERR_PATH_ABSOLUTE, "scheme or host"},
        {"plain http", "http://127.0.0.1:8080" PFX "abc123/reverse", WXP_ERR_PATH_ABSOLUTE,
         "scheme or host"},
        {"network-path reference", "//api.mch.weixin.qq.com" PFX "abc123/reverse",
         WXP_ERR_PATH_ABSOLUTE, "host"},
        {"no leading slash", "v3/pay/transactions/out-trade-no/abc123/reverse",
         WXP_ERR_PATH_MISMATCH, "start with '/'"},
        {"wrong action", PFX "abc123/close", WXP_ERR_PATH_MISMATCH,
         "\"close\" but must be \"reverse\""},
        {"wrong letter case", "/v3/pay/transactions/out-trade-no/abc123/Reverse",
         WXP_ERR_PATH_MISMATCH, "letter case"},
        {"missing action", PFX "abc123", WXP_ERR_PATH_MISMATCH, "segments"},
        {"bad escape", PFX "ab%2Gcd/reverse", WXP_ERR_PATH_BAD_ESCAPE, "two hex digits"},
        {"truncated escape", PFX "abcd/reverse%2", WXP_ERR_PATH_BAD_ESCAPE, "two hex digits"},
        {"raw space", PFX "ab cd/reverse", WXP_ERR_PATH_MISMATCH, "0x20"},
        {"empty target", "", WXP_ERR_PATH_MISMATCH, "empty"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wxp_match m;
        wxp_diag d = {0};
        wxp_err e = wxp_template_match(TMPL, wxp_span_of(rows[i].target), &m, &d);
        if (e != rows[i].want)
            fail_msg("%s (%s): got %s, want %s: %s", rows[i].what, rows[i].target, wxp_strerror(e),
                     wxp_strerror(rows[i].want), d.text);
        if (!strstr(d.text, rows[i].phrase))
            fail_msg("%s: diagnostic \"%s\" lacks \"%s\"", rows[i].what, d.text, rows[i].phrase);
        assert_int_equal(m.nparams, 0);
    }
}

static void nul_byte_and_overlong_parameter_are_refused(void **state)
{
    const char t[] = PFX "ab\0cd/reverse";
    char longp[400];
    wxp_match m;
    wxp_diag d = {0};
    (void)state;
    assert_int_equal(wxp_template_match(TMPL, (wxp_span){t, sizeof(t) - 1}, &m, &d),
                     WXP_ERR_PATH_MISMATCH);
    assert_non_null(strstr(d.text, "0x00"));
    int n = snprintf(longp, sizeof(longp), PFX);
    memset(longp + n, 'a', 200);
    memcpy(longp + n + 200, "/reverse", sizeof("/reverse"));
    assert_int_equal(wxp_template_match(TMPL, wxp_span_of(longp), &m, &d),
                     WXP_ERR_PATH_PARAM_TOO_LONG);
    /* 100 segments: refused without overflow. */
    char many[400];
    for (int i = 0; i < 100; i++)
        memcpy(many + 2 * i, "/a", 2);
    many[200] = '\0';
    assert_int_equal(wxp_template_match(TMPL, wxp_span_of(many), &m, &d), WXP_ERR_PATH_MISMATCH);
}

static void bad_templates_are_refused_for_matching(void **state)
{
    wxp_match m;
    (void)state;
    assert_int_equal(wxp_template_match("", wxp_span_of("/x"), &m, NULL), WXP_ERR_TEMPLATE_SYNTAX);
    assert_int_equal(wxp_template_match("v3/x{id}/y", wxp_span_of("/v3/x1/y"), &m, NULL),
                     WXP_ERR_TEMPLATE_SYNTAX);
    assert_int_equal(wxp_template_match("v3//y", wxp_span_of("/v3//y"), &m, NULL),
                     WXP_ERR_TEMPLATE_SYNTAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expansion_table),
        cmocka_unit_test(expansion_errors_name_the_parameter),
        cmocka_unit_test(chain_form_becomes_the_same_template),
        cmocka_unit_test(chain_and_template_expand_to_the_same_target),
        cmocka_unit_test(good_targets_match_and_decode),
        cmocka_unit_test(path_mistakes_are_named),
        cmocka_unit_test(nul_byte_and_overlong_parameter_are_refused),
        cmocka_unit_test(bad_templates_are_refused_for_matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
