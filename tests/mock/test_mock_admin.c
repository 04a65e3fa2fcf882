/* The mock's admin API, its guard, the journal (ring, byte budget, file,
 * streamed dump) and the replay window, driven through the pure handler. */
#include "mocktest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* An admin call through the handler with given Host, Origin and
 * Authorization (NULL: none); returns the status. */
static int admin_with(wxm_mock *m, const char *host, const char *origin, const char *auth)
{
    static mt_req r;
    wxm_answer a;
    mt_init(&r, "POST", "/__admin/reset", NULL);
    mt_header(&r, "Host", host);
    mt_header(&r, "Origin", origin);
    mt_header(&r, "Authorization", auth);
    wxm_handle(m, mt_request(&r), MT_NOW, &a);
    int status = a.status;
    wxm_answer_clear(&a);
    return status;
}

/* A browser page on another site, a DNS rebinding (a name for Host), a
 * missing or wrong token: each refused; the mock's own callers pass. */
static void admin_calls_are_refused_cross_site_by_name_or_without_the_token(void **state)
{
    wxm_mock *m = *state;
    assert_int_equal(admin_with(m, "127.0.0.1:8080", NULL, NULL), 200);
    assert_int_equal(admin_with(m, "localhost:8080", "http://localhost:8080", NULL), 200);
    assert_int_equal(admin_with(m, "[::1]:8080", NULL, NULL), 200);
    assert_int_equal(admin_with(m, "127.0.0.1:8080", "https://evil.example", NULL), 403);
    assert_int_equal(admin_with(m, "127.0.0.1:8080", "null", NULL), 403);
    assert_int_equal(admin_with(m, "rebound.evil.example:8080", NULL, NULL), 403);
    /* Health stays open to probes. */
    static mt_req r;
    wxm_answer a;
    mt_init(&r, "GET", "/__admin/health", NULL);
    mt_header(&r, "Host", "wxpay-mock:8080");
    wxm_handle(m, mt_request(&r), MT_NOW, &a);
    assert_int_equal(a.status, 200);
    wxm_answer_clear(&a);
    /* With a token: required, compared whole; a name for Host is then fine. */
    assert_int_equal(wxm_config_set_admin_token(m->cfg, "s3cret-token"), WXM_OK);
    assert_int_equal(admin_with(m, "127.0.0.1:8080", NULL, NULL), 401);
    assert_int_equal(admin_with(m, "127.0.0.1:8080", NULL, "Bearer s3cret"), 401);
    assert_int_equal(admin_with(m, "127.0.0.1:8080", NULL, "Bearer s3cret-token-and-more"), 401);
    assert_int_equal(admin_with(m, "wxpay-mock:8080", NULL, "Bearer s3cret-token"), 200);
    assert_int_equal(
        admin_with(m, "wxpay-mock:8080", "https://evil.example", "Bearer s3cret-token"), 403);
    assert_int_equal(wxm_config_set_admin_token(m->cfg, "bad token"), WXM_E_ARG);
}

/* ------------------------------------------------------------- admin */

static void admin_put_and_get_round_trip_an_order(void **state)
{
    wxm_answer a;
    mt_put_order(*state, "admin_1",
                 "{\"trade_state\":\"SUCCESS\",\"amount\":777,\"created_at\":1700000000,"
                 "\"script\":[{\"action\":\"delay\",\"ms\":5,\"apply\":\"after\"}]}");
    mt_admin(*state, "GET", "/__admin/orders/admin_1", NULL, &a);
    assert_int_equal(a.status, 200);
    cJSON *j = mt_json(&a);
    assert_string_equal(cJSON_GetObjectItem(j, "trade_state")->valuestring, "SUCCESS");
    assert_int_equal(cJSON_GetObjectItem(j, "amount")->valueint, 777);
    assert_int_equal((int64_t)cJSON_GetObjectItem(j, "created_at")->valuedouble, 1700000000);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "refund")));
    const cJSON *step = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "script"), 0);
    assert_string_equal(cJSON_GetObjectItem(step, "action")->valuestring, "delay");
    assert_string_equal(cJSON_GetObjectItem(step, "apply")->valuestring, "after");
    cJSON_Delete(j);
    wxm_answer_clear(&a);
    mt_admin(*state, "GET", "/__admin/orders/no_such_order", NULL, &a);
    assert_int_equal(a.status, 404);
    wxm_answer_clear(&a);
    mt_admin(*state, "GET", "/__admin/orders/ab", NULL, &a);
    assert_int_equal(a.status, 400);
    wxm_answer_clear(&a);
    mt_admin(*state, "POST", "/__admin/orders/admin_1", "{}", &a);
    assert_int_equal(a.status, 405);
    wxm_answer_clear(&a);
    mt_admin(*state, "GET", "/__admin/nothing", NULL, &a);
    assert_int_equal(a.status, 404);
    wxm_answer_clear(&a);
}

static void refund_record_is_visible_through_the_admin_api(void **state)
{
    wxm_answer a;
    char code[64];
    mt_put_order(*state, "admin_2", "{\"trade_state\":\"SUCCESS\",\"amount\":300}");
    assert_int_equal(mt_reverse_status(*state, "admin_2", code), 200);
    mt_admin(*state, "GET", "/__admin/orders/admin_2", NULL, &a);
    cJSON *j = mt_json(&a);
    const cJSON *refund = cJSON_GetObjectItem(j, "refund");
    assert_true(cJSON_IsObject(refund));
    assert_int_equal(cJSON_GetObjectItem(refund, "amount")->valueint, 300);
    assert_string_equal(cJSON_GetObjectItem(j, "trade_state")->valuestring, "REVOKED");
    cJSON_Delete(j);
    wxm_answer_clear(&a);
}

static void journal_records_every_api_request_with_its_verdicts(void **state)
{
    wxm_answer a;
    char code[64];
    static mt_req r;
    mt_reverse_status(*state, "journal_1", code);
    mt_reverse_status(*state, "journal_2", code);
    mt_init(&r, "POST", MT_REVERSE("journal_1"), MT_BODY); /* unsigned */
    wxm_handle(*state, mt_request(&r), MT_NOW, &a);
    wxm_answer_clear(&a);
    mt_admin(*state, "GET", "/__admin/journal?out_trade_no=journal_1", NULL, &a);
    assert_int_equal(a.status, 200);
    cJSON *j = mt_json(&a);
    const cJSON *entries = cJSON_GetObjectItem(j, "entries");
    assert_int_equal(cJSON_GetArraySize(entries), 2);
    const cJSON *first = cJSON_GetArrayItem(entries, 0), *second = cJSON_GetArrayItem(entries, 1);
    assert_int_equal(cJSON_GetObjectItem(first, "status")->valueint, 200);
    assert_string_equal(cJSON_GetObjectItem(first, "method")->valuestring, "POST");
    assert_string_equal(cJSON_GetObjectItem(first, "target")->valuestring, MT_REVERSE("journal_1"));
    assert_string_equal(cJSON_GetObjectItem(first, "body")->valuestring, MT_BODY);
    assert_non_null(cJSON_GetObjectItem(first, "request_id"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(first, "checks")), 13);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(first, "headers")));
    assert_int_equal(cJSON_GetObjectItem(second, "status")->valueint, 401);
    assert_string_equal(cJSON_GetObjectItem(second, "code")->valuestring, "SIGN_ERROR");
    const cJSON *checks = cJSON_GetObjectItem(second, "checks");
    const cJSON *last = cJSON_GetArrayItem(checks, cJSON_GetArraySize(checks) - 1);
    assert_string_equal(cJSON_GetObjectItem(last, "check")->valuestring, "authorization");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(last, "ok")));
    cJSON_Delete(j);
    wxm_answer_clear(&a);
    /* cleared */
    mt_admin(*state, "DELETE", "/__admin/journal", NULL, &a);
    wxm_answer_clear(&a);
    mt_admin(*state, "GET", "/__admin/journal", NULL, &a);
    j = mt_json(&a);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "entries")), 0);
    cJSON_Delete(j);
    wxm_answer_clear(&a);
}

/* The journal's writer prints what cJSON prints for the same values, byte
 * for byte: every control byte, quote, backslash, UTF-8, nesting, numbers. */
static void journal_writer_matches_cjson(void **state)
{
    (void)state;
    char all[160];
    size_t n = 0;
    for (int b = 1; b < 128; b++)
        all[n++] = (char)b;
    memcpy(all + n, "\xe6\x92\xa4\xe9\x94\x80", 6); /* 撤销 */
    n += 6;
    all[n] = '\0';

    Wxm_json w = {0};
    Wxm_json_open(&w, NULL, '{');
    Wxm_json_string(&w, "all", all, n);
    Wxm_json_int(&w, "time", 1795849000);
    Wxm_json_int(&w, "neg", -42);
    Wxm_json_open(&w, "list", '[');
    Wxm_json_open(&w, NULL, '{');
    Wxm_json_cstring(&w, "check", "a\"b");
    Wxm_json_bool(&w, "ok", true);
    Wxm_json_close(&w, '}');
    Wxm_json_open(&w, NULL, '{');
    Wxm_json_bool(&w, "ok", false);
    Wxm_json_close(&w, '}');
    Wxm_json_cstring(&w, NULL, "");
    Wxm_json_close(&w, ']');
    Wxm_json_open(&w, "empty", '{');
    Wxm_json_close(&w, '}');
    Wxm_json_close(&w, '}');
    assert_false(w.failed);

    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "all", all);
    cJSON_AddNumberToObject(t, "time", 1795849000);
    cJSON_AddNumberToObject(t, "neg", -42);
    cJSON *list = cJSON_AddArrayToObject(t, "list");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "check", "a\"b");
    cJSON_AddTrueToObject(o, "ok");
    cJSON_AddItemToArray(list, o);
    o = cJSON_CreateObject();
    cJSON_AddFalseToObject(o, "ok");
    cJSON_AddItemToArray(list, o);
    cJSON_AddItemToArray(list, cJSON_CreateString(""));
    cJSON_AddObjectToObject(t, "empty");
    char *want = cJSON_PrintUnformatted(t);
    assert_string_equal(w.p, want);
    cJSON_free(want);
    cJSON_Delete(t);
    free(w.p);
}

static void journal_is_bounded_and_counts_what_it_dropped(void **state)
{
    (void)state;
    Wxm_journal *jr = Wxm_journal_new(3, 1 << 20);
    for (int i = 0; i < 10; i++) {
        Wxm_json e = {0};
        Wxm_json_open(&e, NULL, '{');
        Wxm_json_int(&e, "i", i);
        Wxm_json_close(&e, '}');
        Wxm_journal_add(jr, &e, NULL);
    }
    char *text = Wxm_journal_dump(jr, NULL);
    cJSON *j = cJSON_Parse(text);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "entries")), 3);
    assert_int_equal(cJSON_GetObjectItem(j, "dropped")->valueint, 7);
    assert_int_equal(cJSON_GetObjectItem(j, "total")->valueint, 10);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "entries"), 0), "i")
            ->valueint,
        7);
    cJSON_Delete(j);
    cJSON_free(text);
    Wxm_journal_free(jr);
}

/* The byte budget: 40 requests with a 30 KB header of control bytes each
 * (about 120 KB escaped, before) stay within 64 KiB, the values cut at 2 KiB
 * with their whole length noted. */
static void journal_keeps_its_byte_budget_and_cuts_long_values_saying_so(void **state)
{
    (void)state;
    wxm_mock *m = mt_mock_with_limits("{\"journal_bytes\":65536}");
    static char junk[30000];
    memset(junk, 0x1b, sizeof(junk));
    wxm_header h[] = {{wxp_span_of("Accept"), wxp_span_of("*/*")},
                      {wxp_span_of("X-Junk"), {junk, sizeof(junk)}}};
    wxm_request r = {wxp_span_of("GET"),
                     wxp_span_of("/v3/pay/transactions/out-trade-no/abc123"),
                     h,
                     2,
                     {NULL, 0},
                     0,
                     NULL,
                     0};
    for (int i = 0; i < 40; i++) {
        wxm_answer a;
        wxm_handle(m, &r, MT_NOW, &a);
        wxm_answer_clear(&a);
    }
    char *text = Wxm_journal_dump(m->journal, NULL);
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    assert_true(strlen(text) <= 65536 + 200);
    assert_true(cJSON_GetObjectItem(j, "dropped")->valueint > 0);
    assert_int_equal(cJSON_GetObjectItem(j, "total")->valueint, 40);
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "entries"), 0);
    const cJSON *hd = cJSON_GetArrayItem(cJSON_GetObjectItem(e, "headers"), 1);
    assert_int_equal(cJSON_GetObjectItem(hd, "value_length")->valueint, 30000);
    assert_int_equal(strlen(cJSON_GetObjectItem(hd, "value")->valuestring), 2048);
    cJSON_Delete(j);
    cJSON_free(text);
    wxm_mock_free(m);
}

/* A dump is streamed from the entries themselves, not a copy: it keeps
 * them while the journal moves on (under ASan a freed one would show). */
static void a_journal_dump_keeps_its_entries_while_the_journal_moves_on(void **state)
{
    (void)state;
    Wxm_journal *jr = Wxm_journal_new(3, 1 << 20);
    for (int i = 0; i < 3; i++) {
        Wxm_json e = {0};
        Wxm_json_open(&e, NULL, '{');
        Wxm_json_int(&e, "i", i);
        Wxm_json_close(&e, '}');
        Wxm_journal_add(jr, &e, NULL);
    }
    wxm_stream *st = Wxm_journal_stream(jr, NULL);
    Wxm_journal_clear(jr); /* the ring lets go of all three */
    for (int i = 10; i < 13; i++) {
        Wxm_json e = {0};
        Wxm_json_open(&e, NULL, '{');
        Wxm_json_int(&e, "i", i);
        Wxm_json_close(&e, '}');
        Wxm_journal_add(jr, &e, NULL);
    }
    char buf[512];
    size_t n = 0, k;
    while ((k = wxm_stream_read(st, buf + n, 5)) > 0)
        n += k;
    buf[n] = '\0';
    assert_int_equal(n, wxm_stream_size(st));
    assert_string_equal(buf, "{\"entries\":[{\"seq\":1,\"i\":0},{\"seq\":2,\"i\":1},"
                             "{\"seq\":3,\"i\":2}],\"dropped\":0,\"cap\":3,\"total\":3}");
    wxm_stream_free(st);
    Wxm_journal_free(jr);
}

static void journal_file_gets_one_json_line_per_request(void **state)
{
    char path[256], code[64];
    snprintf(path, sizeof(path), "%s/journal.jsonl", tu_tmpdir());
    assert_int_equal(wxm_mock_set_journal_file(*state, path, NULL), WXM_OK);
    mt_reverse_status(*state, "jfile_1", code);
    mt_reverse_status(*state, "jfile_2", code);
    size_t len;
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[65536];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        assert_non_null(cJSON_GetObjectItem(j, "out_trade_no"));
        cJSON_Delete(j);
        n++;
    }
    fclose(f);
    (void)len;
    assert_int_equal(n, 2);
    wxp_diag d = {"", ""};
    assert_int_equal(wxm_mock_set_journal_file(*state, "/nonexistent/dir/j.jsonl", &d), WXM_E_IO);
    assert_non_null(strstr(d.text, "/nonexistent/dir/j.jsonl"));
}

static void reset_forgets_orders_nonces_and_journal(void **state)
{
    wxm_answer a;
    char code[64];
    static mt_req r;
    mt_init(&r, "POST", MT_REVERSE("reset_1"), MT_BODY);
    mt_sign(&r, MT_NOW, "ResetNonce");
    wxm_handle(*state, mt_request(&r), MT_NOW, &a);
    assert_int_equal(a.status, 200);
    wxm_answer_clear(&a);
    mt_admin(*state, "POST", "/__admin/reset", NULL, &a);
    assert_int_equal(a.status, 200);
    wxm_answer_clear(&a);
    assert_int_equal(Wxm_store_count(((wxm_mock *)*state)->orders), 0);
    wxm_handle(*state, mt_request(&r), MT_NOW, &a); /* the nonce is forgotten too */
    assert_int_equal(a.status, 200);
    wxm_answer_clear(&a);
    mt_admin(*state, "GET", "/__admin/health", NULL, &a);
    cJSON *j = mt_json(&a);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "ok");
    assert_int_equal(cJSON_GetObjectItem(j, "orders")->valueint, 1);
    cJSON_Delete(j);
    wxm_answer_clear(&a);
    (void)code;
}

static long resident_kb(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The replay cache takes its memory up front, so the mock's resident size
 * does not creep as the ring fills (1M pairs: 16 MB ring + 8 MB index). */
static void nonce_cache_memory_is_resident_from_the_start(void **state)
{
    (void)state;
    long before = resident_kb();
    Wxm_nonces *n = Wxm_nonces_new(1u << 20);
    assert_non_null(n);
    long grown = resident_kb() - before;
    Wxm_nonces_free(n);
    if (before == 0)
        skip();                      /* no /proc */
    assert_true(grown >= 20 * 1024); /* untouched: a few kB */
}

static void nonce_cache_is_bounded_expires_and_counts_early_evictions(void **state)
{
    Wxm_nonces *n = Wxm_nonces_new(64);
    wxp_span m = wxp_span_of(TU_MCHID);
    char k[32];
    (void)state;
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof(k), "nonce%d", i);
        assert_true(Wxm_nonces_add(n, m, wxp_span_of(k), 1000 + i / 100, 1300 + i / 100));
    }
    assert_int_equal(Wxm_nonces_evicted_live(n), 136); /* 200 - 64, all still in window */
    assert_true(Wxm_nonces_seen(n, m, wxp_span_of("nonce199"), 1002));
    assert_true(Wxm_nonces_seen(n, m, wxp_span_of("nonce136"), 1002));
    assert_false(Wxm_nonces_seen(n, m, wxp_span_of("nonce135"), 1002));      /* evicted */
    assert_false(Wxm_nonces_add(n, m, wxp_span_of("nonce199"), 1002, 1302)); /* a replay */
    assert_false(Wxm_nonces_seen(n, wxp_span_of("1900000001"), wxp_span_of("nonce199"), 1002));
    assert_false(Wxm_nonces_seen(n, m, wxp_span_of("nonce199"), 1302)); /* expired */
    assert_true(Wxm_nonces_add(n, m, wxp_span_of("nonce199"), 1302, 1602));
    Wxm_nonces_clear(n);
    assert_false(Wxm_nonces_seen(n, m, wxp_span_of("nonce199"), 1302));
    /* Many rounds through the ring: the index stays consistent. */
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof(k), "r%d", i);
        assert_true(Wxm_nonces_add(n, m, wxp_span_of(k), 2000, 2300));
        if (i >= 63) {
            snprintf(k, sizeof(k), "r%d", i - 63);
            assert_true(Wxm_nonces_seen(n, m, wxp_span_of(k), 2000));
        }
    }
    Wxm_nonces_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(admin_calls_are_refused_cross_site_by_name_or_without_the_token),
        T(admin_put_and_get_round_trip_an_order),
        T(refund_record_is_visible_through_the_admin_api),
        T(journal_records_every_api_request_with_its_verdicts),
        T(journal_writer_matches_cjson),
        T(journal_is_bounded_and_counts_what_it_dropped),
        T(journal_keeps_its_byte_budget_and_cuts_long_values_saying_so),
        T(a_journal_dump_keeps_its_entries_while_the_journal_moves_on),
        T(journal_file_gets_one_json_line_per_request),
        T(reset_forgets_orders_nonces_and_journal),
        T(nonce_cache_memory_is_resident_from_the_start),
        T(nonce_cache_is_bounded_expires_and_counts_early_evictions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
