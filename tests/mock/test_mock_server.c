/* The mock as a real libmicrohttpd listener on a loopback port the OS
 * picks, driven with libcurl: what only a socket shows (raw targets, faults
 * in time, dropped connections, concurrency). Label: integration. */
#include "mocktest.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct fixture {
    wxm_mock *mock;
    wxm_server *server;
    char base[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->mock = mt_mock(1);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", mt_listen(f->mock, 0, &f->server));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    wxm_server_stop(f->server);
    wxm_mock_free(f->mock);
    free(f);
    return 0;
}

typedef struct reply {
    CURLcode rc;
    long status;
    char body[65536];
    size_t len;
    char headers[8192];
    size_t hlen;
} reply;

static size_t on_body(char *p, size_t s, size_t n, void *u)
{
    reply *r = u;
    size_t k = s * n;
    if (r->len + k < sizeof(r->body)) {
        memcpy(r->body + r->len, p, k);
        r->len += k;
        r->body[r->len] = '\0';
    }
    return k;
}

static size_t on_header(char *p, size_t s, size_t n, void *u)
{
    reply *r = u;
    size_t k = s * n;
    if (r->hlen + k < sizeof(r->headers)) {
        memcpy(r->headers + r->hlen, p, k);
        r->hlen += k;
        r->headers[r->hlen] = '\0';
    }
    return k;
}

/* Sends a built request over HTTP; timeout in ms (0: 10 s). */
static void send_req(const fixture *f, const mt_req *q, long timeout_ms, reply *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[1200], line[2200];
    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "%s%s", f->base, q->target);
    for (size_t i = 0; i < q->nheaders; i++) {
        snprintf(line, sizeof(line), "%s: %s", q->names[i], q->values[i]);
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send the target exactly */
    if (q->body_len) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)q->body_len);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms ? timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    r->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void signed_reverse(const fixture *f, const char *otn, long timeout_ms, reply *r)
{
    static __thread mt_req q;
    char target[256];
    snprintf(target, sizeof(target), "/v3/pay/transactions/out-trade-no/%s/reverse", otn);
    mt_init(&q, "POST", target, MT_BODY);
    mt_sign(&q, (int64_t)time(NULL), NULL);
    send_req(f, &q, timeout_ms, r);
}

/* A header value from a raw header block, or "". */
static void header_value(const reply *r, const char *name, char *out, size_t cap)
{
    const char *p = r->headers;
    size_t nl = strlen(name);
    out[0] = '\0';
    while (p && *p) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)n, v);
            return;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
}

static void signed_reverse_over_http_is_answered_and_signed(void **state)
{
    fixture *f = *state;
    reply r;
    signed_reverse(f, "http_order_1", 0, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    char ts[32], nonce[64], sig[512], serial[80];
    header_value(&r, "Wechatpay-Timestamp", ts, sizeof(ts));
    header_value(&r, "Wechatpay-Nonce", nonce, sizeof(nonce));
    header_value(&r, "Wechatpay-Signature", sig, sizeof(sig));
    header_value(&r, "Wechatpay-Serial", serial, sizeof(serial));
    assert_string_equal(serial, TU_PUBKEY_ID);
    char msg[1024];
    int n = snprintf(msg, sizeof(msg), "%s\n%s\n%s\n", ts, nonce, r.body);
    assert_true(tu_openssl_verify("wechatpay_pub.pem", msg, (size_t)n, sig));
}

static void raw_percent_encoded_target_reaches_the_checks_unchanged(void **state)
{
    fixture *f = *state;
    reply r;
    signed_reverse(f, "ord%2A2026%7C01", 0, &r); /* signed over the encoded form */
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"out_trade_no\":\"ord*2026|01\""));
    signed_reverse(f, "ord%252A2026", 0, &r); /* double-encoded: named */
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "encoded twice"));
}

static void hang_blocks_only_its_own_connection(void **state)
{
    fixture *f = *state;
    reply slow, fast;
    mt_put_order(f->mock, "hang_http_1",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[{\"action\":\"hang\",\"ms\":3000}]}");
    signed_reverse(f, "hang_http_1", 300, &slow); /* the client gives up */
    assert_int_equal(slow.rc, CURLE_OPERATION_TIMEDOUT);
    signed_reverse(f, "after_hang_1", 0, &fast); /* served while the hang goes on */
    assert_int_equal(fast.rc, CURLE_OK);
    assert_int_equal(fast.status, 200);
    assert_int_equal(mt_order(f->mock, "hang_http_1").state, WXM_SUCCESS);
}

static void delay_past_the_client_timeout_still_reverses(void **state)
{
    fixture *f = *state;
    reply r;
    mt_put_order(f->mock, "late_http_1",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[{\"action\":\"delay\",\"ms\":1500}]}");
    signed_reverse(f, "late_http_1", 300, &r);
    assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
    Wxm_order o = mt_order(f->mock, "late_http_1");
    assert_int_equal(o.state, WXM_REVOKED); /* the ambiguous timeout */
    assert_true(o.refunded);
    signed_reverse(f, "late_http_1", 0, &r); /* the retry sees it done */
    assert_int_equal(r.status, 200);
    assert_int_equal(mt_order(f->mock, "late_http_1").refund_amount, 100);
}

static void drop_closes_the_connection_without_an_answer(void **state)
{
    fixture *f = *state;
    reply r;
    signed_reverse(f, "drop_http_1", 0, &r); /* zero-config prefix drop_ */
    assert_int_equal(r.rc, CURLE_GOT_NOTHING);
    assert_int_equal(mt_order(f->mock, "drop_http_1").state, WXM_SUCCESS);
}

static void body_over_the_limit_is_refused_over_the_wire(void **state)
{
    fixture *f = *state;
    static mt_req q;
    reply r;
    mt_init(&q, "POST", MT_REVERSE("big_body_1"), NULL);
    memset(q.body, ' ', 66000);
    memcpy(q.body, MT_BODY, strlen(MT_BODY));
    q.body_len = 66000;
    mt_header(&q, "Content-Type", "application/json");
    mt_sign(&q, (int64_t)time(NULL), NULL);
    send_req(f, &q, 0, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "INVALID_REQUEST"));
    assert_non_null(strstr(r.body, "larger than 65536"));
}

typedef struct racer {
    const fixture *f;
    reply r;
} racer;

static void *race(void *arg)
{
    racer *x = arg;
    signed_reverse(x->f, "race_order_1", 0, &x->r);
    return NULL;
}

static void concurrent_reverses_of_one_paid_order_refund_exactly_once(void **state)
{
    fixture *f = *state;
    enum { N = 16 };
    static racer rs[N];
    pthread_t th[N];
    mt_put_order(f->mock, "race_order_1", "{\"trade_state\":\"SUCCESS\",\"amount\":999}");
    for (int i = 0; i < N; i++) {
        rs[i].f = f;
        assert_int_equal(pthread_create(&th[i], NULL, race, &rs[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        assert_int_equal(rs[i].r.rc, CURLE_OK);
        assert_int_equal(rs[i].r.status, 200);
    }
    Wxm_order o = mt_order(f->mock, "race_order_1");
    assert_int_equal(o.state, WXM_REVOKED);
    assert_int_equal(o.refund_amount, 999);
    assert_int_equal(o.reverse_calls, N);
}

static void admin_api_answers_plain_json_over_http(void **state)
{
    fixture *f = *state;
    static mt_req q;
    reply r;
    mt_init(&q, "PUT", "/__admin/orders/admin_http_1", "{\"trade_state\":\"CLOSED\"}");
    send_req(f, &q, 0, &r);
    assert_int_equal(r.status, 200);
    char sig[64];
    header_value(&r, "Wechatpay-Signature", sig, sizeof(sig));
    assert_string_equal(sig, ""); /* admin answers are not signed */
    signed_reverse(f, "admin_http_1", 0, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "ORDER_CLOSED"));
    mt_init(&q, "GET", "/__admin/journal?out_trade_no=admin_http_1", NULL);
    send_req(f, &q, 0, &r);
    assert_int_equal(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "entries"), 0);
    assert_string_equal(cJSON_GetObjectItem(e, "code")->valuestring, "ORDER_CLOSED");
    assert_non_null(strstr(cJSON_GetObjectItem(e, "peer")->valuestring, "127.0.0.1:"));
    cJSON_Delete(j);
}

static void stop_wakes_a_request_in_a_long_hang(void **state)
{
    fixture *f = *state;
    reply r;
    mt_put_order(f->mock, "hang_http_2",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[{\"action\":\"hang\",\"ms\":600000}]}");
    signed_reverse(f, "hang_http_2", 200, &r);
    assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
    /* teardown stops the server: it must not wait ten minutes (the ctest
     * timeout would fail this test if it did). */
}

typedef struct parked_client {
    const fixture *f;
    char otn[32];
    reply r;
} parked_client;

static void *send_slow(void *arg)
{
    parked_client *p = arg;
    signed_reverse(p->f, p->otn, 10000, &p->r);
    return NULL;
}

/* Requests waiting in a delay when the server stops are woken, answered,
 * and their postponed state changes made: none is dropped (before, 0 to 20
 * of 20 got an answer, varying from run to run). */
static void stop_answers_every_parked_request_and_commits_its_change(void **state)
{
    fixture *f = *state;
    enum { N = 20 };
    static parked_client pc[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        pc[i].f = f;
        snprintf(pc[i].otn, sizeof(pc[i].otn), "slow_stop_%02d", i); /* 1.5 s, applied after */
        assert_int_equal(pthread_create(&th[i], NULL, send_slow, &pc[i]), 0);
    }
    /* All handled (journaled), so all parked: then stop. */
    for (int tries = 0; Wxm_journal_total(f->mock->journal) < N; tries++) {
        assert_true(tries < 500);
        poll(NULL, 0, 10);
    }
    wxm_server_stop(f->server);
    f->server = NULL;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (pc[i].r.rc != CURLE_OK || pc[i].r.status != 200)
            fail_msg("%s: curl %d, HTTP %ld", pc[i].otn, pc[i].r.rc, pc[i].r.status);
        Wxm_order o = mt_order(f->mock, pc[i].otn);
        assert_int_equal(o.state, WXM_REVOKED);
        assert_true(o.refunded);
    }
}

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* A parked request costs no CPU while it waits: the timer thread sleeps
 * until it is due (it used to spin on a condition variable whose clock was
 * not the one its deadlines were on: a whole core for every parked wait). */
static void a_parked_request_costs_no_cpu_while_it_waits(void **state)
{
    fixture *f = *state;
    reply r;
    mt_put_order(f->mock, "idle_wait_1",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[{\"action\":\"delay\",\"ms\":1500}]}");
    double before = cpu_seconds();
    signed_reverse(f, "idle_wait_1", 0, &r);
    double used = cpu_seconds() - before;
    assert_int_equal(r.status, 200);
    printf("CPU used by this process over a 1.5 s parked request: %.3f s\n", used);
    assert_true(used < 0.5);
}

/* Polls the per-thread counts until they add up to `total` (5 s at most). */
static int wait_load(const wxm_server *srv, int total, int *open, int max)
{
    int n = 0;
    for (int tries = 0; tries < 500; tries++) {
        n = wxm_server_load(srv, open, max);
        int sum = 0;
        for (int i = 0; i < n; i++)
            sum += open[i];
        if (sum == total)
            break;
        struct timespec ts = {0, 10 * 1000000L}; /* waiting on the server's threads */
        nanosleep(&ts, NULL);
    }
    return n;
}

/* libmicrohttpd's own pool lets one thread accept a whole burst of
 * connections; ours hands each to the thread with the fewest. */
static void connections_are_spread_evenly_over_the_threads(void **state)
{
    (void)state;
    wxm_mock *m = mt_mock(1);
    wxm_server *srv = NULL;
    wxm_server_options o = {.host = "127.0.0.1", .threads = 3};
    wxp_diag d = {"", ""};
    assert_int_equal(wxm_server_start(m, &o, &srv, &d), WXM_OK);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(wxm_server_port(srv))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fds[9], open[8];
    for (int i = 0; i < 9; i++) { /* a burst: nothing waits between them */
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
    }
    assert_int_equal(wait_load(srv, 9, open, 8), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(open[i], 3);
    /* one request on each, every one answered */
    for (int i = 0; i < 9; i++) {
        const char req[] = "GET /v3/nothing HTTP/1.1\r\nHost: x\r\n\r\n";
        char buf[4096];
        assert_int_equal(send(fds[i], req, sizeof(req) - 1, 0), (ssize_t)sizeof(req) - 1);
        ssize_t k = recv(fds[i], buf, sizeof(buf) - 1, 0);
        assert_true(k > 12);
        buf[k] = '\0';
        assert_non_null(strstr(buf, "HTTP/1.1 4"));
    }
    for (int i = 0; i < 9; i++)
        close(fds[i]);
    assert_int_equal(wait_load(srv, 0, open, 8), 3);
    assert_int_equal(open[0] + open[1] + open[2], 0);
    wxm_server_stop(srv);
    wxm_mock_free(m);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(signed_reverse_over_http_is_answered_and_signed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(raw_percent_encoded_target_reaches_the_checks_unchanged,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(hang_blocks_only_its_own_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(delay_past_the_client_timeout_still_reverses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(drop_closes_the_connection_without_an_answer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(body_over_the_limit_is_refused_over_the_wire, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(concurrent_reverses_of_one_paid_order_refund_exactly_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(admin_api_answers_plain_json_over_http, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_wakes_a_request_in_a_long_hang, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_answers_every_parked_request_and_commits_its_change,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_parked_request_costs_no_cpu_while_it_waits, setup,
                                        teardown),
        cmocka_unit_test(connections_are_spread_evenly_over_the_threads),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
