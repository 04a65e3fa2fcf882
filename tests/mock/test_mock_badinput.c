/* The bad-input catalogue against the real listening mock, over raw
 * sockets: each input gets a precise error or a clean close, the server goes
 * on serving others, the journal records what reached the handler, and no
 * order ends in an impossible state. Label: integration. */
#include "mocktest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct fixture {
    wxm_mock *mock;
    wxm_server *server;
    unsigned port;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->mock = mt_mock(1);
    f->port = mt_listen(f->mock, 0, &f->server);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char why[256];
    if (!Wxm_store_check(f->mock->orders, why, sizeof(why)))
        fail_msg("order invariant broken: %s", why);
    wxm_server_stop(f->server);
    wxm_mock_free(f->mock);
    free(f);
    return 0;
}

static int dial(const fixture *f)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
    return s;
}

static void send_all(int s, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(s, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the server may close early; that is an answer too */
        c += w;
        n -= (size_t)w;
    }
}

/* Reads until the server closes or `ms` pass; returns the HTTP status of
 * the first answer, 0 for a close without an answer (-3 for a reset), -2
 * when nothing came in time, -1 for bytes that are not HTTP. */
static int read_status(int s, int ms, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (;;) {
        struct pollfd p = {s, POLLIN, 0};
        int r = poll(&p, 1, ms);
        if (r <= 0) {
            if (n == 0)
                return -2;
            break;
        }
        ssize_t k = recv(s, out + n, cap - 1 - n, 0);
        if (k < 0 && n == 0)
            return -3;
        if (k <= 0)
            break;
        n += (size_t)k;
        out[n] = '\0';
        if (strstr(out, "\r\n\r\n")) {
            const char *cl = strstr(out, "Content-Length: ");
            const char *hdr_end = strstr(out, "\r\n\r\n") + 4;
            if (!cl || (size_t)(out + n - hdr_end) >= strtoul(cl + 16, NULL, 10))
                break;
        }
        if (n + 1 >= cap)
            break;
    }
    if (n == 0)
        return 0;
    int status = 0;
    if (sscanf(out, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    return status;
}

/* A complete signed reverse request as raw bytes, with `extra` headers. */
static size_t signed_request(const char *otn, const char *extra, char *out, size_t cap)
{
    static mt_req r;
    char target[128];
    snprintf(target, sizeof(target), "/v3/pay/transactions/out-trade-no/%s/reverse", otn);
    mt_init(&r, "POST", target, MT_BODY);
    mt_sign(&r, (int64_t)time(NULL), NULL);
    int n = snprintf(out, cap, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", target);
    for (size_t i = 0; i < r.nheaders; i++)
        n += snprintf(out + n, cap - (size_t)n, "%s: %s\r\n", r.names[i], r.values[i]);
    n += snprintf(out + n, cap - (size_t)n, "%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                  extra ? extra : "", strlen(MT_BODY), MT_BODY);
    return (size_t)n;
}

/* The server still serves a good request. */
static void still_serving(const fixture *f)
{
    static char req[8192], ans[8192];
    static int k;
    char otn[32];
    snprintf(otn, sizeof(otn), "alive_%06d", ++k);
    size_t n = signed_request(otn, NULL, req, sizeof(req));
    int s = dial(f);
    send_all(s, req, n);
    int st = read_status(s, 5000, ans, sizeof(ans));
    close(s);
    if (st != 200)
        fail_msg("server stopped serving: %d %s", st, ans);
}

static int exchange(const fixture *f, const void *req, size_t n, char *ans, size_t cap)
{
    int s = dial(f);
    send_all(s, req, n);
    shutdown(s, SHUT_WR);
    int st = read_status(s, 5000, ans, cap);
    close(s);
    return st;
}

static void slow_client_sending_a_byte_at_a_time_is_served(void **state)
{
    fixture *f = *state;
    static char req[8192], ans[8192];
    size_t n = signed_request("slow_bytes_01", NULL, req, sizeof(req));
    int s = dial(f);
    for (size_t i = 0; i < n; i++) {
        send_all(s, req + i, 1);
        if (i % 64 == 0)
            still_serving(f); /* others are served meanwhile */
    }
    assert_int_equal(read_status(s, 5000, ans, sizeof(ans)), 200);
    close(s);
}

/* A second listener on the same mock whose request deadline is `secs`. */
static fixture with_deadline(const fixture *f, int secs)
{
    fixture g = *f;
    wxp_diag d;
    wxm_server_options o = {.host = "127.0.0.1", .request_timeout_s = secs};
    assert_int_equal(wxm_server_start(f->mock, &o, &g.server, &d), WXM_OK);
    g.port = wxm_server_port(g.server);
    return g;
}

/* A request must arrive whole within the deadline (1 s here): a client
 * dripping a byte every 0.3 s, or one that stops halfway, is closed; a
 * request that arrived whole may take its time to be answered. */
static void a_request_must_arrive_whole_within_the_deadline(void **state)
{
    fixture *f = *state;
    fixture g = with_deadline(f, 1);
    /* Dripping: every byte resets an idle timeout, not this deadline. */
    int s = dial(&g);
    send_all(s, "GET /v3/pay/transactions/out-trade-no/abc123 HTTP/1.1\r\n", 55);
    double t0 = (double)time(NULL);
    bool closed = false;
    for (int i = 0; i < 20 && !closed; i++) {
        struct pollfd p = {s, POLLIN, 0};
        if (poll(&p, 1, 300) > 0) {
            char b[64];
            closed = recv(s, b, sizeof(b), 0) <= 0;
        } else if (send(s, "X", 1, MSG_NOSIGNAL) <= 0) {
            closed = true;
        }
    }
    close(s);
    assert_true(closed); /* within 20 x 0.3 s; a dripper was never closed before */
    assert_true((double)time(NULL) - t0 <= 5);
    /* Half a request, then silence: closed too (it was held 60 s). */
    static char req[8192], ans[8192];
    size_t n = signed_request("halfway_0001", NULL, req, sizeof(req));
    s = dial(&g);
    send_all(s, req, n / 2);
    int st = read_status(s, 4000, ans, sizeof(ans));
    assert_true(st == 0 || st == -3); /* closed (or reset), no answer */
    close(s);
    /* Whole, then 1.5 s of delay (slow_): answered, the deadline is over. */
    n = signed_request("slow_deadline_1", NULL, req, sizeof(req));
    s = dial(&g);
    send_all(s, req, n);
    assert_int_equal(read_status(s, 5000, ans, sizeof(ans)), 200);
    close(s);
    wxm_server_stop(g.server);
}

/* Framing a strict server refuses, each answered and the connection
 * closed; a request smuggled behind Content-Length + Transfer-Encoding is
 * never served. */
static void ambiguous_framing_is_refused_and_the_connection_closed(void **state)
{
    fixture *f = *state;
    const char *T = "/v3/pay/transactions/out-trade-no/abc123/reverse";
    const struct {
        const char *head; /* after the request line */
        const char *rest;
        int status;
        const char *phrase;
    } rows[] = {
        {"Host: x\r\nContent-Length: 2\r\nContent-Length: 7\r\n", "{}", 400, "different values"},
        {"Host: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 2\r\n", "{}", 400,
         "header name"},
        {"Host: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n",
         "0\r\n\r\nGET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n", 400, "ambiguous"},
        {"Content-Length: 2\r\n", "{}", 400, "needs a Host"},
        {"Host: x\r\nTransfer-Encoding: gzip\r\n", "xxxx", 501, "not implemented"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char req[1024], ans[4096];
        int n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\n%s\r\n%s", T, rows[i].head,
                         rows[i].rest);
        int s = dial(f);
        send_all(s, req, (size_t)n);
        /* No shutdown from our side: the server must close by itself. */
        int st = read_status(s, 3000, ans, sizeof(ans));
        char more[64];
        struct pollfd p = {s, POLLIN, 0};
        bool closed = poll(&p, 1, 2000) > 0 && recv(s, more, sizeof(more), 0) <= 0;
        close(s);
        if (st != rows[i].status || !strstr(ans, rows[i].phrase) || !closed)
            fail_msg("row %zu: status %d, closed %d: %s", i, st, closed, ans);
        assert_null(strstr(ans, "\nHTTP/1.")); /* nothing smuggled was answered */
    }
    still_serving(f);
}

static void headers_over_the_limit_are_refused_cleanly(void **state)
{
    fixture *f = *state;
    size_t big = 200000;
    char *req = malloc(big + 256), ans[4096];
    int n = snprintf(req, 256,
                     "POST /v3/pay/transactions/out-trade-no/abc123/reverse HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', big);
    memcpy(req + n + big, "\r\n\r\n", 4);
    int st = exchange(f, req, (size_t)n + big + 4, ans, sizeof(ans));
    assert_true(st == 0 || st == -3 || st == 431 || st == 413 || st == 400); /* refused or closed */
    free(req);
    still_serving(f);
}

/* Every header counts: a second Authorization or the Accept after 64
 * others is seen, and past WXM_MAX_REQUEST_HEADERS the answer is 431. */
static void every_header_is_seen_and_too_many_are_refused(void **state)
{
    fixture *f = *state;
    static char req[32768], extra[24576], ans[8192];
    size_t o = 0;
    for (int i = 0; i < 64; i++)
        o += (size_t)snprintf(extra + o, sizeof(extra) - o, "X-Filler-%d: %d\r\n", i, i);
    /* A second Authorization after 64 others: refused as a duplicate. */
    snprintf(extra + o, sizeof(extra) - o, "Authorization: WECHATPAY2-SHA256-RSA2048 x=\"y\"\r\n");
    size_t n = signed_request("hdr_dup_0001", extra, req, sizeof(req));
    assert_int_equal(exchange(f, req, n, ans, sizeof(ans)), 401);
    assert_non_null(strstr(ans, "Authorization"));
    /* 120 headers: 431 that says how many are read. */
    o = 0;
    for (int i = 0; i < 120; i++)
        o += (size_t)snprintf(extra + o, sizeof(extra) - o, "X-Filler-%d: %d\r\n", i, i);
    n = signed_request("hdr_many_0001", extra, req, sizeof(req));
    assert_int_equal(exchange(f, req, n, ans, sizeof(ans)), 431);
    assert_non_null(strstr(ans, "at most 100"));
    still_serving(f);
}

/* A body shorter than its Content-Length, then the client stops sending:
 * never handled as a whole request; the connection is closed at the
 * request deadline (libmicrohttpd waits on a half-closed connection). */
static void content_length_longer_than_the_body_then_close(void **state)
{
    fixture *f = *state;
    char ans[4096];
    fixture g = with_deadline(f, 1);
    const char *req =
        "POST /v3/pay/transactions/out-trade-no/abc123/reverse HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"appid\":";
    uint64_t handled = Wxm_journal_total(f->mock->journal);
    int st = exchange(&g, req, strlen(req), ans, sizeof(ans));
    assert_true(st == 0 || st == -3);                               /* closed without an answer */
    assert_int_equal(Wxm_journal_total(f->mock->journal), handled); /* never handled */
    wxm_server_stop(g.server);
    still_serving(f);
}

static void content_length_shorter_than_the_body_is_a_precise_error(void **state)
{
    fixture *f = *state;
    static char req[8192], ans[8192];
    /* The signed body, but Content-Length cut to 20: the handler sees 20
     * bytes of JSON and says so; the rest is a broken second request. */
    size_t n = signed_request("cl_short_01", NULL, req, sizeof(req));
    char *cl = strstr(req, "Content-Length: ");
    memcpy(cl + 16, "20", 2);
    memmove(cl + 18, cl + 16 + strlen("51"), n - (size_t)(cl + 16 + 2 - req));
    int st = exchange(f, req, n, ans, sizeof(ans));
    assert_int_equal(st, 400);
    assert_non_null(strstr(ans, "PARAM_ERROR"));
    assert_non_null(strstr(ans, "not valid JSON"));
    still_serving(f);
}

static void chunked_body_is_signed_and_verified_as_its_bytes(void **state)
{
    fixture *f = *state;
    static char req[8192], ans[8192], chunked[8192];
    size_t n = signed_request("chunked_001", NULL, req, sizeof(req));
    /* Replace Content-Length with chunked framing of the same body. */
    char *cl = strstr(req, "Content-Length: ");
    size_t head = (size_t)(cl - req);
    int m = snprintf(chunked, sizeof(chunked),
                     "%.*sTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                     "10\r\n%.16s\r\n%zx\r\n%s\r\n0\r\n\r\n",
                     (int)head, req, MT_BODY, strlen(MT_BODY) - 16, &MT_BODY[16]);
    (void)n;
    assert_int_equal(exchange(f, chunked, (size_t)m, ans, sizeof(ans)), 200);
    assert_int_equal(mt_order(f->mock, "chunked_001").state, WXM_REVOKED);
}

static void nul_and_invalid_utf8_get_precise_errors_and_are_journaled(void **state)
{
    fixture *f = *state;
    char ans[8192];
    /* %00 in the order number */
    const char *a = "GET /v3/pay/transactions/out-trade-no/abc%00def?mchid=1230000109 "
                    "HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(exchange(f, a, strlen(a), ans, sizeof(ans)), 400);
    assert_non_null(strstr(ans, "0x00"));
    /* invalid UTF-8 and a NUL in the body */
    static char req[8192];
    size_t n = signed_request("utf8_body_01", NULL, req, sizeof(req));
    char *body = strstr(req, "\r\n\r\n") + 4;
    body[3] = (char)0xFF;
    body[10] = '\0';
    assert_int_equal(exchange(f, req, n, ans, sizeof(ans)), 400);
    assert_non_null(strstr(ans, "PARAM_ERROR"));
    /* a header with bytes that are not text */
    const char *c = "POST /v3/pay/transactions/out-trade-no/abc123/reverse HTTP/1.1\r\nHost: "
                    "x\r\nAccept: */*\r\n"
                    "User-Agent: t\r\nContent-Type: application/json\r\nAuthorization: "
                    "WECHATPAY2-SHA256-RSA2048 mchid=\"\xff\xfe\"\r\n"
                    "Content-Length: 2\r\n\r\n{}";
    int st = exchange(f, c, strlen(c), ans, sizeof(ans));
    assert_true(st == 400 || st == 401);
    char *j = Wxm_journal_dump(f->mock->journal, NULL);
    assert_non_null(strstr(j, "body_escaped")); /* recorded, escaped */
    cJSON_free(j);
    still_serving(f);
}

static void deeply_nested_json_is_refused(void **state)
{
    fixture *f = *state;
    static char req[70000], ans[8192];
    static mt_req r;
    char *body = malloc(60001);
    memset(body, '[', 30000);
    memset(body + 30000, ']', 30000);
    body[60000] = '\0';
    mt_init(&r, "POST", MT_REVERSE("nested_0001"), body);
    mt_sign(&r, (int64_t)time(NULL), NULL);
    int n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: x\r\n", r.target);
    for (size_t i = 0; i < r.nheaders; i++)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "%s: %s\r\n", r.names[i], r.values[i]);
    n += snprintf(req + n, sizeof(req) - (size_t)n, "Content-Length: 60000\r\n\r\n");
    memcpy(req + n, body, 60000);
    assert_int_equal(exchange(f, req, (size_t)n + 60000, ans, sizeof(ans)), 400);
    assert_non_null(strstr(ans, "PARAM_ERROR"));
    free(body);
}

static void duplicate_json_keys_are_refused(void **state)
{
    fixture *f = *state;
    wxm_answer a;
    static mt_req r;
    mt_init(&r, "POST", MT_REVERSE("dupkeys_001"),
            "{\"appid\":\"wx0000000000000000\",\"appid\":\"wxd678efh567hg6787\",\"mchid\":"
            "\"1230000109\"}");
    mt_sign(&r, MT_NOW, NULL);
    wxm_handle(f->mock, mt_request(&r), MT_NOW, &a);
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "appears 2 times"));
    wxm_answer_clear(&a);
}

static void odd_authorization_headers_get_precise_errors(void **state)
{
    fixture *f = *state;
    const struct {
        const char *auth, *phrase;
    } rows[] = {
        {"wechatpay2-sha256-rsa2048 "
         "mchid=\"1230000109\",nonce_str=\"a\",timestamp=\"1\",serial_no=\"S\",signature=\"x\"",
         "letter case"},
        {NULL, "is 1000 characters"}, /* huge nonce */
    };
    char ans[8192];
    static char req[16384];
    for (size_t i = 0; i < 2; i++) {
        char auth[2048];
        if (rows[i].auth) {
            snprintf(auth, sizeof(auth), "%s", rows[i].auth);
        } else {
            int n = snprintf(auth, sizeof(auth),
                             "WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str=\"");
            memset(auth + n, 'N', 1000);
            snprintf(auth + n + 1000, sizeof(auth) - (size_t)n - 1000,
                     "\",timestamp=\"1\",serial_no=\"S\",signature=\"x\"");
        }
        int n = snprintf(
            req, sizeof(req),
            "POST %s HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nUser-Agent: t\r\n"
            "Content-Type: application/json\r\nAuthorization: %s\r\nContent-Length: %zu\r\n\r\n%s",
            MT_REVERSE("authodd_001"), auth, strlen(MT_BODY), MT_BODY);
        assert_int_equal(exchange(f, req, (size_t)n, ans, sizeof(ans)), 401);
        if (!strstr(ans, rows[i].phrase))
            fail_msg("row %zu: %s", i, ans);
    }
}

/* Signatures of the wrong length: 1024-bit RSA, EC, and random bytes. */
static void signatures_of_the_wrong_length_or_key_type_are_named(void **state)
{
    fixture *f = *state;
    char cmd[1024];
    const char *keys[] = {"rsa1024_key.pem", "ec_key.pem"};
    const char *want[] = {"128 bytes", "bytes; an RSA-2048 signature has 256"};
    for (int i = 0; i < 2; i++) {
        char *key = tu_fixture_path(i == 0 ? TU_KEYS "rsa1024_key.pem" : TU_KEYS "ec_key.pem");
        char msgpath[256];
        snprintf(msgpath, sizeof(msgpath), "%s/m%d", tu_tmpdir(), i);
        char msg[512];
        int n = snprintf(msg, sizeof(msg), "POST\n%s\n%lld\nKeyNonce%d\n%s\n",
                         MT_REVERSE("keytype_001"), (long long)MT_NOW, i, MT_BODY);
        tu_write(msgpath, msg, (size_t)n);
        snprintf(cmd, sizeof(cmd), "%s dgst -sha256 -sign '%s' '%s' | %s base64 -A",
                 WXP_OPENSSL_CLI, key, msgpath, WXP_OPENSSL_CLI);
        char *sig = tu_run(cmd);
        static mt_req r;
        char auth[1024], nonce[32];
        snprintf(nonce, sizeof(nonce), "KeyNonce%d", i);
        mt_init(&r, "POST", MT_REVERSE("keytype_001"), MT_BODY);
        snprintf(
            auth, sizeof(auth),
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str=\"%s\",timestamp=\"%lld\","
            "serial_no=\"%s\",signature=\"%s\"",
            nonce, (long long)MT_NOW, TU_MERCHANT_SERIAL, sig);
        mt_header(&r, "Authorization", auth);
        wxm_answer a;
        wxm_handle(f->mock, mt_request(&r), MT_NOW, &a);
        assert_int_equal(a.status, 401);
        if (!strstr(a.body, want[i]))
            fail_msg("%s: %.*s", keys[i], (int)a.body_len, a.body);
        wxm_answer_clear(&a);
        free(sig);
        free(key);
    }
}

typedef struct conn_arg {
    const fixture *f;
    int sock;
    int status;
} conn_arg;

/* ThreadSanitizer slows every thread about tenfold: there the flood is a
 * quarter of it (the whole thousand runs in the other builds). */
#if defined(__SANITIZE_THREAD__)
#define FLOOD 250
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FLOOD 250
#endif
#endif
#ifndef FLOOD
#define FLOOD 1000
#endif

static void thousand_concurrent_connections_are_all_answered(void **state)
{
    fixture *f = *state;
    enum { N = FLOOD };
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 4096 && rl.rlim_max >= 4096) {
        rl.rlim_cur = 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    assert_true(rl.rlim_cur >= 2 * N + 64);
    static int socks[N];
    /* All connected before any request is sent: 1000 open at once. */
    for (int i = 0; i < N; i++)
        socks[i] = dial(f);
    const char *req = "GET /v3/pay/transactions/out-trade-no/abc123?mchid=1230000109 HTTP/1.1\r\n"
                      "Host: x\r\nAccept: */*\r\nUser-Agent: t\r\nConnection: close\r\n\r\n";
    for (int i = 0; i < N; i++)
        send_all(socks[i], req, strlen(req));
    int answered = 0;
    char ans[4096];
    for (int i = 0; i < N; i++) {
        int st = read_status(socks[i], 10000, ans, sizeof(ans));
        if (st != 401) /* say which and how, for a failure seen once under load */
            printf("connection %d of %d: %s %d: %.200s\n", i, N,
                   st == -2   ? "nothing in 10 s"
                   : st == -3 ? "reset"
                              : "status",
                   st, ans);
        answered += st == 401;
        close(socks[i]);
    }
    assert_int_equal(answered, N);
    still_serving(f);
}

/* Past its limit the listener refuses (503, close) and keeps serving: with
 * libmicrohttpd handed more than it holds, every answering thread waited
 * for ever and SIGTERM hung. */
static void connections_past_the_limit_are_refused_and_serving_goes_on(void **state)
{
    fixture *f = *state;
    int limit = wxm_server_connection_limit(f->server);
    int n = limit + 1000;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)(2 * n + 256)) {
        printf("skipped: %d connections need %d descriptors, the limit is %lu\n", n, 2 * n + 256,
               (unsigned long)rl.rlim_cur);
        skip();
    }
    int *socks = calloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++)
        socks[i] = dial(f);
    /* The last ones are refused: a 503 that says why, then a close. */
    int refused = 0;
    char ans[1024];
    for (int i = n - 100; i < n; i++)
        refused += read_status(socks[i], 5000, ans, sizeof(ans)) == 503;
    assert_int_equal(refused, 100);
    assert_non_null(strstr(ans, "limit of"));
    for (int i = 0; i < n; i++)
        close(socks[i]);
    free(socks);
    /* Serving goes on once they are gone (give the closes a moment). */
    for (int tries = 0;; tries++) {
        char req[8192];
        size_t len = signed_request("afterflood_0001", NULL, req, sizeof(req));
        int s = dial(f);
        send_all(s, req, len);
        int st = read_status(s, 5000, ans, sizeof(ans));
        close(s);
        if (st == 200)
            break;
        if (tries == 50)
            fail_msg("no longer serving after %d connections: %d %s", n, st, ans);
        poll(NULL, 0, 100);
    }
    /* ... and it stops when told: the teardown's wxm_server_stop() hung
     * before, so this test would time out. */
}

static void clients_that_disconnect_mid_request_or_mid_answer_lose_nothing(void **state)
{
    fixture *f = *state;
    static char req[8192];
    /* Mid-request: half the headers, then gone. */
    size_t n = signed_request("midreq_0001", NULL, req, sizeof(req));
    int s = dial(f);
    send_all(s, req, n / 2);
    close(s);
    /* Mid-answer: the order is reversed before a slow answer; the client
     * leaves while the server waits. */
    mt_put_order(f->mock, "midans_0001",
                 "{\"trade_state\":\"SUCCESS\",\"script\":[{\"action\":\"delay\",\"ms\":300,"
                 "\"apply\":\"before\"}]}");
    n = signed_request("midans_0001", NULL, req, sizeof(req));
    s = dial(f);
    send_all(s, req, n);
    char ans[256];
    assert_int_equal(read_status(s, 50, ans, sizeof(ans)), -2); /* nothing yet */
    close(s);
    still_serving(f);
    Wxm_order o = mt_order(f->mock, "midans_0001");
    assert_int_equal(o.state, WXM_REVOKED);
    assert_true(o.refunded);
    char *j = Wxm_journal_dump(f->mock->journal, "midans_0001");
    assert_non_null(strstr(j, "\"wait_ms\":300"));
    cJSON_free(j);
    /* The half request never reached the handler: no order was made. */
    Wxm_order none;
    assert_false(Wxm_store_get(f->mock->orders, "midreq_0001", &none));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(slow_client_sending_a_byte_at_a_time_is_served),
        T(a_request_must_arrive_whole_within_the_deadline),
        T(ambiguous_framing_is_refused_and_the_connection_closed),
        T(headers_over_the_limit_are_refused_cleanly),
        T(every_header_is_seen_and_too_many_are_refused),
        T(content_length_longer_than_the_body_then_close),
        T(content_length_shorter_than_the_body_is_a_precise_error),
        T(chunked_body_is_signed_and_verified_as_its_bytes),
        T(nul_and_invalid_utf8_get_precise_errors_and_are_journaled),
        T(deeply_nested_json_is_refused),
        T(duplicate_json_keys_are_refused),
        T(odd_authorization_headers_get_precise_errors),
        T(signatures_of_the_wrong_length_or_key_type_are_named),
        T(thousand_concurrent_connections_are_all_answered),
        T(clients_that_disconnect_mid_request_or_mid_answer_lose_nothing),
        T(connections_past_the_limit_are_refused_and_serving_goes_on),
    };
    /* Room for the flood test's connections, both ends in this process. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max < 16384 ? rl.rlim_max : 16384;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
