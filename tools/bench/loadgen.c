/* loadgen.c: the load generator. Validly signed, distinct reverse requests
 * are prepared before the clock starts; threads send them over keep-alive
 * connections (closed loop: one request in flight per connection) and
 * record latency, answers by status class and errors. */
#include "bench.h"
#include "wxp_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char *build_request(wxp_key *key, const char *host, int port, const char *otn, int64_t ts,
                           bool codepay, size_t *len)
{
    char target[128], nonce[WXP_NONCE_LEN + 1], *msg = NULL, *sig = NULL, *auth = NULL;
    char pay[512];
    const char *body = BODY;
    size_t mlen;
    snprintf(target, sizeof(target), "/v3/pay/transactions/out-trade-no/%s/reverse", otn);
    if (codepay) { /* a new order each, paid at once: 200 SUCCESS */
        snprintf(target, sizeof(target), "/v3/pay/transactions/codepay");
        snprintf(pay, sizeof(pay),
                 "{\"appid\":\"" APPID "\",\"mchid\":\"" MCHID "\",\"description\":\"bench\","
                 "\"out_trade_no\":\"%s\",\"payer\":{\"auth_code\":\"130000000000000001\"},"
                 "\"amount\":{\"total\":1,\"currency\":\"CNY\"},\"scene_info\":{\"store_info\":"
                 "{\"out_id\":\"1\"}}}",
                 otn);
        body = pay;
    }
    if (wxp_nonce(nonce) ||
        wxp_request_message(wxp_span_of("POST"), wxp_span_of(target), ts, wxp_span_of(nonce),
                            wxp_span_of(body), &msg, &mlen) ||
        wxp_sign(key, msg, mlen, &sig))
        return NULL;
    wxp_auth a = {wxp_span_of(MCHID), wxp_span_of(nonce),
                  wxp_span_of(""),    wxp_span_of("3775B6A45ACD588826D15E583A95F5DD00000001"),
                  wxp_span_of(sig),   ts};
    if (wxp_auth_build(&a, &auth))
        return NULL;
    char *out = malloc(2048);
    int n = snprintf(
        out, 2048,
        "POST %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: %s\r\nAccept: application/json\r\n"
        "Content-Type: application/json\r\nUser-Agent: wxpay-bench\r\nContent-Length: "
        "%zu\r\n\r\n%s",
        target, host, port, auth, strlen(body), body);
    free(msg);
    free(sig);
    free(auth);
    *len = (size_t)n;
    return out;
}

typedef struct prep_arg {
    reqs *r;
    wxp_key *key;
    const char *host;
    int port, orders, index, stride;
    int64_t ts;
    bool codepay;
} prep_arg;

static void *prep_thread(void *arg)
{
    prep_arg *p = arg;
    char otn[32];
    for (long i = p->index; i < p->r->n; i += p->stride) {
        snprintf(otn, sizeof(otn), "bench%07ld", p->orders ? i % p->orders : i);
        p->r->raw[i] =
            build_request(p->key, p->host, p->port, otn, p->ts, p->codepay, &p->r->len[i]);
    }
    return NULL;
}

int bench_prepare(const opts *o, reqs *r, long n, const char *host, int port, int orders)
{
    char *kp = bench_fixture(o, "keys/merchant_key.pem");
    wxp_key *key = NULL;
    if (wxp_key_private_file(kp, &key, NULL) != WXP_OK)
        return -1;
    free(kp);
    r->n = n;
    r->next = 0;
    r->raw = calloc((size_t)n, sizeof(char *));
    r->len = calloc((size_t)n, sizeof(size_t));
    pthread_t th[64];
    prep_arg pa[64];
    int t = o->threads > 64 ? 64 : o->threads;
    for (int i = 0; i < t; i++) {
        pa[i] = (prep_arg){r, key, host, port, orders, i, t, (int64_t)time(NULL), o->codepay};
        pthread_create(&th[i], NULL, prep_thread, &pa[i]);
    }
    for (int i = 0; i < t; i++)
        pthread_join(th[i], NULL);
    wxp_key_free(key);
    return 0;
}

void bench_free_reqs(reqs *r)
{
    for (long i = 0; i < r->n; i++)
        free(r->raw[i]);
    free(r->raw);
    free(r->len);
}

/* -------------------------------------------------------- load loop */

typedef struct conn {
    int fd;
    bench_tls *tls; /* https mode */
    const char *req;
    size_t req_len, sent;
    char buf[8192];
    size_t got;
    double started;
} conn;

typedef struct load_arg {
    bool tls;
    const char *host;
    int port, nconns, batch_us;
    double until;
    reqs *r;
    double *lat; /* per thread latency samples (ms) */
    long nlat, cap;
    long ok, errors_http, errors_conn;
    long by_status[6];
} load_arg;

int bench_dial(const char *host, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static bool next_request(load_arg *a, conn *c)
{
    long i = __atomic_fetch_add(&a->r->next, 1, __ATOMIC_RELAXED);
    if (i >= a->r->n)
        return false;
    c->req = a->r->raw[i];
    c->req_len = a->r->len[i];
    c->sent = c->got = 0;
    c->started = bench_now();
    return c->req != NULL;
}

/* Case-insensitive search of a header line in the header block [h, end). */
static char *find_header(char *h, const char *end, const char *name)
{
    size_t n = strlen(name);
    for (char *line = strstr(h, "\r\n"); line && line + 2 + n <= end;
         line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, name, n) == 0)
            return line + 2;
    return NULL;
}

/* Sends what is left of c's request; false when the connection failed. */
static bool send_some(conn *c)
{
    if (c->tls) {
        long w = bench_tls_send(c->tls, c->req + c->sent, c->req_len - c->sent);
        if (w > 0)
            c->sent += (size_t)w;
        return w >= 0;
    }
    ssize_t w = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
    if (w > 0)
        c->sent += (size_t)w;
    return w > 0 || errno == EAGAIN;
}

/* Reads what has come: >0 bytes, 0 nothing yet, -1 the connection ended.
 * TLS keeps decrypted bytes poll() cannot see: read until it would block. */
static long recv_some(conn *c)
{
    if (!c->tls) {
        ssize_t k = recv(c->fd, c->buf + c->got, sizeof(c->buf) - 1 - c->got, 0);
        return k > 0 ? k : k == 0 || errno != EAGAIN ? -1 : 0;
    }
    long total = 0, k = 0;
    while (c->got + (size_t)total < sizeof(c->buf) - 1 &&
           (k = bench_tls_recv(c->tls, c->buf + c->got + total,
                               sizeof(c->buf) - 1 - c->got - (size_t)total)) > 0)
        total += k;
    return total > 0 ? total : k < 0 ? -1 : 0;
}

static void close_conn(conn *c)
{
    bench_tls_free(c->tls);
    c->tls = NULL;
    close(c->fd);
    c->fd = -1;
}

/* A complete answer in c->buf? Returns its status, 0 if incomplete. */
static int complete(conn *c)
{
    c->buf[c->got < sizeof(c->buf) ? c->got : sizeof(c->buf) - 1] = '\0';
    char *end = strstr(c->buf, "\r\n\r\n");
    if (!end)
        return 0;
    char *cl = find_header(c->buf, end, "Content-Length: ");
    char *te = find_header(c->buf, end, "Transfer-Encoding: chunked");
    if (te) { /* one request in flight: the answer ends with the last chunk */
        if (c->got < 5 || memcmp(c->buf + c->got - 5, "0\r\n\r\n", 5) != 0 ||
            c->buf + c->got - 5 < end + 2)
            return 0;
    } else {
        size_t body = cl ? strtoul(cl + 16, NULL, 10) : 0;
        if (c->got < (size_t)(end + 4 - c->buf) + body)
            return 0;
    }
    int status = 0;
    sscanf(c->buf, "HTTP/1.%*d %d", &status);
    return status ? status : -1;
}

static void *load_thread(void *arg)
{
    load_arg *a = arg;
    conn *cs = calloc((size_t)a->nconns, sizeof(conn));
    struct pollfd *ps = calloc((size_t)a->nconns, sizeof(struct pollfd));
    int live = 0;
    for (int i = 0; i < a->nconns; i++) {
        cs[i].fd = bench_dial(a->host, a->port);
        if (cs[i].fd >= 0 && a->tls && !(cs[i].tls = bench_tls_connect(cs[i].fd, "localhost")))
            close_conn(&cs[i]);
        if (cs[i].fd < 0 || !next_request(a, &cs[i]) || !send_some(&cs[i])) {
            if (cs[i].fd >= 0)
                close_conn(&cs[i]);
            a->errors_conn++;
            continue;
        }
        live++;
    }
    while (live > 0 && bench_now() < a->until) {
        for (int i = 0; i < a->nconns; i++) {
            ps[i].fd = cs[i].fd;
            ps[i].events = cs[i].fd < 0 ? 0 : (cs[i].sent < cs[i].req_len ? POLLOUT : POLLIN);
        }
        if (a->batch_us > 0) { /* let answers gather (see the top of the file) */
            struct timespec ts = {0, (long)a->batch_us * 1000L};
            nanosleep(&ts, NULL);
        }
        if (poll(ps, (nfds_t)a->nconns, 100) <= 0)
            continue;
        for (int i = 0; i < a->nconns; i++) {
            conn *c = &cs[i];
            if (c->fd < 0 || !ps[i].revents)
                continue;
            if (c->sent < c->req_len) {
                if (!send_some(c))
                    close_conn(c), live--, a->errors_conn++;
                continue;
            }
            long k = recv_some(c);
            if (k <= 0) {
                if (k < 0)
                    close_conn(c), live--, a->errors_conn++;
                continue;
            }
            c->got += (size_t)k;
            int st = complete(c);
            if (!st)
                continue;
            if (a->nlat < a->cap)
                a->lat[a->nlat++] = (bench_now() - c->started) * 1e3;
            if (st == 200)
                a->ok++;
            else
                a->errors_http++;
            if (st >= 100 && st < 600)
                a->by_status[st / 100]++;
            if (!next_request(a, c)) {
                close_conn(c), live--;
            } else if (!send_some(c)) { /* at once: no poll round in between */
                close_conn(c), live--, a->errors_conn++;
            }
        }
    }
    for (int i = 0; i < a->nconns; i++)
        if (cs[i].fd >= 0)
            close_conn(&cs[i]);
    free(cs);
    free(ps);
    return NULL;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

void bench_run_load(const opts *o, const char *host, int port, reqs *r, load_result *out)
{
    pthread_t th[64];
    load_arg la[64];
    int t = o->threads > 64 ? 64 : o->threads;
    double t0 = bench_now();
    for (int i = 0; i < t; i++) {
        memset(&la[i], 0, sizeof(la[i]));
        la[i].host = host;
        la[i].tls = o->tls;
        la[i].port = port;
        la[i].nconns = o->conns / t + (i < o->conns % t);
        la[i].until = t0 + o->seconds;
        la[i].batch_us = o->batch_us > 0 ? o->batch_us : 0;
        la[i].r = r;
        la[i].cap = r->n;
        la[i].lat = malloc(sizeof(double) * (size_t)r->n);
        pthread_create(&th[i], NULL, load_thread, &la[i]);
    }
    long nlat = 0;
    for (int i = 0; i < t; i++)
        pthread_join(th[i], NULL);
    double elapsed = bench_now() - t0;
    memset(out, 0, sizeof(*out));
    double *all = malloc(sizeof(double) * (size_t)r->n);
    for (int i = 0; i < t; i++) {
        memcpy(all + nlat, la[i].lat, sizeof(double) * (size_t)la[i].nlat);
        nlat += la[i].nlat;
        out->ok += la[i].ok;
        out->errors_http += la[i].errors_http;
        out->errors_conn += la[i].errors_conn;
        for (int c = 0; c < 6; c++)
            out->by_class[c] += la[i].by_status[c];
        free(la[i].lat);
    }
    qsort(all, (size_t)nlat, sizeof(double), cmp_double);
    out->seconds = elapsed;
    out->sent = nlat;
    out->rps = (double)nlat / elapsed;
    out->ran_out = r->next >= r->n;
    if (nlat) {
        out->p50 = all[nlat / 2];
        out->p90 = all[nlat * 9 / 10];
        out->p99 = all[nlat * 99 / 100];
        out->max = all[nlat - 1];
    }
    free(all);
}
