/* The messages that requests and responses sign, rebuilt from their parts
 * and compared byte for byte with the ones the shell made in
 * fixtures/vectors/ (docs/protocol.md sections 2 and 3). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static void every_vector_message_is_rebuilt_byte_for_byte(void **state)
{
    tu_vector *v;
    size_t n = tu_vectors(&v);
    (void)state;

    for (size_t i = 0; i < n; i++) {
        char *msg = NULL;
        size_t len = 0;
        int64_t ts = strtoll(v[i].timestamp, NULL, 10);
        wxp_span body = {v[i].body, v[i].body_len};
        wxp_err e;
        if (strcmp(v[i].kind, "request") == 0)
            e = wxp_request_message(wxp_span_of(v[i].method), wxp_span_of(v[i].target), ts,
                                    wxp_span_of(v[i].nonce), body, &msg, &len);
        else
            e = wxp_response_message(wxp_span_of(v[i].timestamp), wxp_span_of(v[i].nonce), body,
                                     &msg, &len);
        assert_int_equal(e, WXP_OK);
        if (len != v[i].msg_len || memcmp(msg, v[i].msg, len) != 0)
            fail_msg("vector %s: message differs from %s.msg", v[i].name, v[i].name);
        free(msg);
    }
    tu_vectors_free(v, n);
}

static void get_with_empty_body_ends_with_nonce_and_two_newlines(void **state)
{
    char *msg = NULL;
    size_t len = 0;
    (void)state;
    assert_int_equal(wxp_request_message(wxp_span_of("GET"), wxp_span_of("/v3/certificates?x=1"),
                                         1554208460, wxp_span_of("N"), (wxp_span){NULL, 0}, &msg,
                                         &len),
                     WXP_OK);
    assert_string_equal(msg, "GET\n/v3/certificates?x=1\n1554208460\nN\n\n");
    assert_int_equal(len, strlen(msg));
    free(msg);
}

static void response_with_empty_body_ends_with_two_newlines(void **state)
{
    char *msg = NULL;
    (void)state;
    assert_int_equal(wxp_response_message(wxp_span_of("1554209980"), wxp_span_of("abc"),
                                          wxp_span_of(""), &msg, NULL),
                     WXP_OK);
    assert_string_equal(msg, "1554209980\nabc\n\n");
    free(msg);
}

static void body_bytes_are_kept_exactly_including_nul_and_newlines(void **state)
{
    const char body[] = "{\"a\":\n\"b\0c\"}";
    char *msg = NULL;
    size_t len = 0;
    (void)state;
    assert_int_equal(wxp_request_message(wxp_span_of("POST"), wxp_span_of("/x"), 1,
                                         wxp_span_of("n"), (wxp_span){body, sizeof(body) - 1}, &msg,
                                         &len),
                     WXP_OK);
    assert_int_equal(len, strlen("POST\n/x\n1\nn\n") + sizeof(body) - 1 + 1);
    assert_memory_equal(msg + strlen("POST\n/x\n1\nn\n"), body, sizeof(body) - 1);
    assert_int_equal(msg[len - 1], '\n');
    free(msg);
}

static void newline_inside_a_single_line_part_is_refused(void **state)
{
    char *msg = NULL;
    (void)state;
    assert_int_equal(wxp_request_message(wxp_span_of("POST"), wxp_span_of("/x\n/y"), 1,
                                         wxp_span_of("n"), wxp_span_of(""), &msg, NULL),
                     WXP_ERR_ARG);
    assert_int_equal(wxp_request_message(wxp_span_of("POST"), wxp_span_of("/x"), 1,
                                         wxp_span_of("n\n"), wxp_span_of(""), &msg, NULL),
                     WXP_ERR_ARG);
    assert_int_equal(
        wxp_response_message(wxp_span_of("1\n2"), wxp_span_of("n"), wxp_span_of(""), &msg, NULL),
        WXP_ERR_ARG);
    assert_int_equal(wxp_request_message(wxp_span_of("POST"), wxp_span_of("/x"), -1,
                                         wxp_span_of("n"), wxp_span_of(""), &msg, NULL),
                     WXP_ERR_ARG);
    assert_null(msg);
}

static void every_error_code_has_its_own_message(void **state)
{
    (void)state;
    assert_string_equal(wxp_strerror(WXP_OK), "no error");
    for (int e = WXP_ERR_NOMEM; e <= WXP_ERR_JSON_DUPLICATE_FIELD; e++) {
        assert_string_not_equal(wxp_strerror((wxp_err)e), "unknown error");
        for (int f = WXP_OK; f < e; f++)
            assert_string_not_equal(wxp_strerror((wxp_err)e), wxp_strerror((wxp_err)f));
    }
    assert_string_equal(wxp_strerror((wxp_err)9999), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_vector_message_is_rebuilt_byte_for_byte),
        cmocka_unit_test(get_with_empty_body_ends_with_nonce_and_two_newlines),
        cmocka_unit_test(response_with_empty_body_ends_with_two_newlines),
        cmocka_unit_test(body_bytes_are_kept_exactly_including_nul_and_newlines),
        cmocka_unit_test(newline_inside_a_single_line_part_is_refused),
        cmocka_unit_test(every_error_code_has_its_own_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
