/* bench.c: wxpay-bench, the performance benchmark (README "Performance").
 *
 * Modes:
 *   mock    N validly signed, distinct reverse requests are prepared before
 *           the clock starts; T threads send them over C keep-alive
 *           connections for D seconds (closed loop, one request in flight per
 *           connection) and measure throughput, latency and errors. The
 *           machine's RSA-2048 signing rate with the same key on as many
 *           threads as the mock answers with is measured in the same run,
 *           and the ratio printed. The load threads look at their sockets
 *           at most once per batch window (--batch-ms, 1 ms here): on a
 *           small machine every wake-up of theirs preempts a mock thread in
 *           the middle of a signature.
 *   client  libwxpay reverse round trips, sync and async, against the mock:
 *           rate, wall time and each process's CPU per round trip, against
 *           the two signatures a round trip cannot avoid, with the same
 *           run's signature, verification and bare loopback TCP exchange
 *           costs to show where the rest goes.
 *   memory  the mock's resident size after 10,000 and after N requests.
 * The mock is started as a child process (its memory is its own) unless
 * --url names one. Figures print as a table, and as JSON with --json FILE. */
#include <wxpay/wxpay.h>
#include <wxpay/protocol.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define MCHID "1230000109"
#define APPID "wxd678efh567hg6787"
#define BODY "{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\"}"

typedef struct opts {
    const char *modes[8];
    int nmodes;
    const char *mode, *url, *json, *mock_bin, *fixtures, *label;
    int threads, conns, seconds;
    int mock_threads; /* the mock's answering threads: one per core */
    int batch_us;     /* load threads wake at most this often; -1: per mode */
    long requests;
    int orders; /* distinct out_trade_no values (memory mode) */
} opts;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *fixture(const opts *o, const char *rel)
{
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s", o->fixtures, rel);
    return p;
}

/* ---------------------------------------------------------- the mock */

typedef struct mock_proc {
    pid_t pid;
    char host[64];
    int port;
} mock_proc;

static int start_mock(const opts *o, const char *flag, mock_proc *m)
{
    int fds[2];
    char threads[16];
    snprintf(threads, sizeof(threads), "%d", o->mock_threads);
    if (pipe(fds) != 0)
        return -1;
    m->pid = fork();
    if (m->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        if (flag)
            execl(o->mock_bin, o->mock_bin, "--port", "0", "--quiet", "--threads", threads, flag,
                  (char *)NULL);
        else
            execl(o->mock_bin, o->mock_bin, "--port", "0", "--quiet", "--threads", threads,
                  (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[256] = "";
    FILE *f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof(line), f)) {
        fprintf(stderr, "wxpay-bench: %s did not start\n", o->mock_bin);
        return -1;
    }
    fclose(f);
    char *p = strstr(line, "http://");
    if (!p || sscanf(p + 7, "%63[^:]:%d", m->host, &m->port) != 2)
        return -1;
    return 0;
}

static void stop_mock(mock_proc *m)
{
    if (m->pid > 0) {
        kill(m->pid, SIGTERM);
        waitpid(m->pid, NULL, 0);
        m->pid = 0;
    }
}

/* Resident and peak resident kB of a process, from /proc. */
static void memory_kb(pid_t pid, long *rss, long *hwm)
{
    char path[64], line[256];
    *rss = *hwm = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f)) {
        sscanf(line, "VmRSS: %ld", rss);
        sscanf(line, "VmHWM: %ld", hwm);
    }
    if (f)
        fclose(f);
}

/* CPU seconds (user + system) a process has used so far, from /proc. */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long ut = 0, st = 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ------------------------------------------------------ the requests */

typedef struct reqs {
    char **raw;
    size_t *len;
    long n;
    long next; /* atomic */
} reqs;

static char *build_request(wxp_key *key, const char *host, int port, const char *otn, int64_t ts,
                           size_t *len)
{
    char target[128], nonce[WXP_NONCE_LEN + 1], *msg = NULL, *sig = NULL, *auth = NULL;
    size_t mlen;
    snprintf(target, sizeof(target), "/v3/pay/transactions/out-trade-no/%s/reverse", otn);
    if (wxp_nonce(nonce) || wxp_request_message(wxp_span_of("POST"), wxp_span_of(target), ts,
                                                wxp_span_of(nonce), wxp_span_of(BODY), &msg, &mlen) ||
        wxp_sign(key, msg, mlen, &sig))
        return NULL;
    wxp_auth a = {wxp_span_of(MCHID), wxp_span_of(nonce), wxp_span_of(""),
                  wxp_span_of("3775B6A45ACD588826D15E583A95F5DD00000001"), wxp_span_of(sig), ts};
    if (wxp_auth_build(&a, &auth))
        return NULL;
    char *out = malloc(2048);
    int n = snprintf(out, 2048,
                     "POST %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: %s\r\nAccept: application/json\r\n"
                     "Content-Type: application/json\r\nUser-Agent: wxpay-bench\r\nContent-Length: %zu\r\n\r\n%s",
                     target, host, port, auth, strlen(BODY), BODY);
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
} prep_arg;

static void *prep_thread(void *arg)
{
    prep_arg *p = arg;
    char otn[32];
    for (long i = p->index; i < p->r->n; i += p->stride) {
        snprintf(otn, sizeof(otn), "bench%07ld", p->orders ? i % p->orders : i);
        p->r->raw[i] = build_request(p->key, p->host, p->port, otn, p->ts, &p->r->len[i]);
    }
    return NULL;
}

static int prepare(const opts *o, reqs *r, long n, const char *host, int port, int orders)
{
    char *kp = fixture(o, "keys/merchant_key.pem");
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
        pa[i] = (prep_arg){r, key, host, port, orders, i, t, (int64_t)time(NULL)};
        pthread_create(&th[i], NULL, prep_thread, &pa[i]);
    }
    for (int i = 0; i < t; i++)
        pthread_join(th[i], NULL);
    wxp_key_free(key);
    return 0;
}

static void free_reqs(reqs *r)
{
    for (long i = 0; i < r->n; i++)
        free(r->raw[i]);
    free(r->raw);
    free(r->len);
}

/* -------------------------------------------------------- load loop */

typedef struct conn {
    int fd;
    const char *req;
    size_t req_len, sent;
    char buf[8192];
    size_t got;
    double started;
} conn;

typedef struct load_arg {
    const char *host;
    int port, nconns, batch_us;
    double until;
    reqs *r;
    double *lat; /* per thread latency samples (ms) */
    long nlat, cap;
    long ok, errors_http, errors_conn;
    long by_status[6];
} load_arg;

static int dial(const char *host, int port)
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
    c->started = now_s();
    return c->req != NULL;
}

/* Case-insensitive search of a header line in the header block [h, end). */
static char *find_header(char *h, const char *end, const char *name)
{
    size_t n = strlen(name);
    for (char *line = strstr(h, "\r\n"); line && line + 2 + n <= end; line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, name, n) == 0)
            return line + 2;
    return NULL;
}

/* Sends what is left of c's request; false when the connection failed. */
static bool send_some(conn *c)
{
    ssize_t w = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
    if (w > 0)
        c->sent += (size_t)w;
    return w > 0 || errno == EAGAIN;
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
        cs[i].fd = dial(a->host, a->port);
        if (cs[i].fd < 0 || !next_request(a, &cs[i]) || !send_some(&cs[i])) {
            if (cs[i].fd >= 0)
                close(cs[i].fd);
            cs[i].fd = -1;
            if (cs[i].fd < 0)
                a->errors_conn++;
            continue;
        }
        live++;
    }
    while (live > 0 && now_s() < a->until) {
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
                    close(c->fd), c->fd = -1, live--, a->errors_conn++;
                continue;
            }
            ssize_t k = recv(c->fd, c->buf + c->got, sizeof(c->buf) - 1 - c->got, 0);
            if (k <= 0) {
                if (k == 0 || errno != EAGAIN) {
                    close(c->fd), c->fd = -1, live--, a->errors_conn++;
                }
                continue;
            }
            c->got += (size_t)k;
            int st = complete(c);
            if (!st)
                continue;
            if (a->nlat < a->cap)
                a->lat[a->nlat++] = (now_s() - c->started) * 1e3;
            if (st == 200)
                a->ok++;
            else
                a->errors_http++;
            if (st >= 100 && st < 600)
                a->by_status[st / 100]++;
            if (!next_request(a, c)) {
                close(c->fd), c->fd = -1, live--;
            } else if (!send_some(c)) { /* at once: no poll round in between */
                close(c->fd), c->fd = -1, live--, a->errors_conn++;
            }
        }
    }
    for (int i = 0; i < a->nconns; i++)
        if (cs[i].fd >= 0)
            close(cs[i].fd);
    free(cs);
    free(ps);
    return NULL;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

typedef struct load_result {
    double rps, seconds, p50, p90, p99, max;
    long ok, errors_http, errors_conn, sent;
    long by_class[6]; /* answers by status class: [2] = 2xx, ... */
    bool ran_out;
} load_result;

static void run_load(const opts *o, const char *host, int port, reqs *r, load_result *out)
{
    pthread_t th[64];
    load_arg la[64];
    int t = o->threads > 64 ? 64 : o->threads;
    double t0 = now_s();
    for (int i = 0; i < t; i++) {
        memset(&la[i], 0, sizeof(la[i]));
        la[i].host = host;
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
    double elapsed = now_s() - t0;
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

/* ------------------------------------------------------- RSA signing */

typedef struct sign_arg {
    wxp_key *key;
    double until;
    long n;
} sign_arg;

static void *sign_thread(void *arg)
{
    sign_arg *s = arg;
    char msg[256];
    while (now_s() < s->until) {
        int n = snprintf(msg, sizeof(msg), "%ld\nnonce\n%s\n", s->n, BODY);
        char *sig = NULL;
        if (wxp_sign(s->key, msg, (size_t)n, &sig) == WXP_OK)
            s->n++;
        free(sig);
    }
    return NULL;
}

/* Signatures per second with the WeChat Pay key on `threads` threads. */
static double rsa_rate(const opts *o, int threads, double seconds)
{
    char *kp = fixture(o, "keys/wechatpay_key.pem");
    wxp_key *key = NULL;
    if (wxp_key_private_file(kp, &key, NULL) != WXP_OK)
        return 0;
    free(kp);
    pthread_t th[64];
    sign_arg sa[64];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        sa[i] = (sign_arg){key, t0 + seconds, 0};
        pthread_create(&th[i], NULL, sign_thread, &sa[i]);
    }
    long total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += sa[i].n;
    }
    double rate = (double)total / (now_s() - t0);
    wxp_key_free(key);
    return rate;
}

/* ------------------------------------------------------------- modes */

static cJSON *report;

static void print_load(const char *name, const load_result *r, double sign_rate, long rss, long hwm)
{
    printf("%-22s %9.0f req/s  p50 %6.2f ms  p90 %6.2f  p99 %6.2f  max %7.2f  ok %ld  http-errors %ld"
           "  conn-errors %ld%s\n",
           name, r->rps, r->p50, r->p90, r->p99, r->max, r->ok, r->errors_http, r->errors_conn,
           r->ran_out ? "  (prepared requests ran out)" : "");
    if (r->errors_http)
        printf("%-22s answers by class: 2xx %ld, 3xx %ld, 4xx %ld, 5xx %ld\n", "", r->by_class[2],
               r->by_class[3], r->by_class[4], r->by_class[5]);
    if (sign_rate > 0)
        printf("%-22s %9.0f sign/s on the same threads: mock = %.1f%% of the RSA-2048 signing rate\n", "",
               sign_rate, 100.0 * r->rps / sign_rate);
    if (hwm > 0)
        printf("%-22s mock memory: %ld kB resident, %ld kB peak\n", "", rss, hwm);
    cJSON *j = cJSON_AddObjectToObject(report, name);
    cJSON_AddNumberToObject(j, "requests_per_second", r->rps);
    cJSON_AddNumberToObject(j, "seconds", r->seconds);
    cJSON_AddNumberToObject(j, "requests", (double)r->sent);
    cJSON_AddNumberToObject(j, "p50_ms", r->p50);
    cJSON_AddNumberToObject(j, "p90_ms", r->p90);
    cJSON_AddNumberToObject(j, "p99_ms", r->p99);
    cJSON_AddNumberToObject(j, "max_ms", r->max);
    cJSON_AddNumberToObject(j, "ok", (double)r->ok);
    cJSON_AddNumberToObject(j, "http_errors", (double)r->errors_http);
    cJSON_AddNumberToObject(j, "connection_errors", (double)r->errors_conn);
    if (sign_rate > 0) {
        cJSON_AddNumberToObject(j, "rsa2048_sign_per_second", sign_rate);
        cJSON_AddNumberToObject(j, "ratio_to_sign_rate", r->rps / sign_rate);
    }
    if (hwm > 0) {
        cJSON_AddNumberToObject(j, "mock_rss_kb", (double)rss);
        cJSON_AddNumberToObject(j, "mock_peak_rss_kb", (double)hwm);
    }
}

static int mode_mock(const opts *oin, const char *flag, const char *name)
{
    mock_proc m = {0};
    opts oo = *oin, *o = &oo;
    /* Batching pays where answers take a signature's time; an answer path
     * without signing (or another server) is driven as fast as it answers. */
    if (o->batch_us < 0)
        o->batch_us = flag || !strcmp(o->mode, "url") ? 0 : 1000;
    char host[64] = "127.0.0.1";
    int port;
    if (o->url && !strcmp(o->mode, "url")) {
        if (sscanf(o->url, "http://%63[^:]:%d", host, &port) != 2)
            return 2;
    } else {
        if (start_mock(o, flag, &m) != 0)
            return 1;
        snprintf(host, sizeof(host), "%s", m.host);
        port = m.port;
    }
    reqs r;
    long n = o->requests ? o->requests : 8000L * o->seconds;
    printf("%s: preparing %ld signed requests...\n", name, n);
    fflush(stdout);
    prepare(o, &r, n, host, port, 0);
    load_result lr;
    double mock_cpu0 = m.pid ? cpu_seconds(m.pid) : 0, self_cpu0 = cpu_seconds(getpid());
    run_load(o, host, port, &r, &lr);
    double mock_cpu = m.pid ? cpu_seconds(m.pid) - mock_cpu0 : 0, self_cpu = cpu_seconds(getpid()) - self_cpu0;
    printf("%-22s CPU during the run: mock %.1f s, load generator %.1f s (batch window %.1f ms), of %.1f s"
           " x %ld cores\n", name, mock_cpu, self_cpu, o->batch_us / 1000.0, lr.seconds,
           sysconf(_SC_NPROCESSORS_ONLN));
    long rss = -1, hwm = -1;
    if (m.pid)
        memory_kb(m.pid, &rss, &hwm);
    double rate = flag || m.pid == 0 ? 0 : rsa_rate(o, o->mock_threads, 3.0);
    print_load(name, &lr, rate, rss, hwm);
    stop_mock(&m);
    free_reqs(&r);
    return lr.errors_http + lr.errors_conn ? 1 : 0;
}

typedef struct cl_arg {
    int done, ok;
} cl_arg;

static void on_done(void *user, wxpay_result *r)
{
    cl_arg *c = user;
    c->done++;
    c->ok += wxpay_result_code(r) == WXPAY_OK;
    wxpay_result_free(r);
}

/* Microseconds per signature and per verification on one core, the
 * mock's key and a reverse-sized message (same calls as the mock's). */
static void crypto_floor(const opts *o, double *sign_us, double *verify_us)
{
    char *kp = fixture(o, "keys/wechatpay_key.pem"), *pp = fixture(o, "keys/wechatpay_pub.pem");
    wxp_key *key = NULL, *pub = NULL;
    *sign_us = *verify_us = 0;
    if (wxp_key_private_file(kp, &key, NULL) == WXP_OK && wxp_key_public_file(pp, &pub, NULL) == WXP_OK) {
        const char msg[] = "1795849000\nabcdefghijklmnopqrstuvwxyz012345\n" BODY "\n";
        char *sig = NULL;
        long n = 0;
        double t0 = now_s();
        while (now_s() - t0 < 2.0) {
            free(sig);
            sig = NULL;
            n += wxp_sign(key, msg, sizeof(msg) - 1, &sig) == WXP_OK;
        }
        *sign_us = (now_s() - t0) / (double)n * 1e6;
        n = 0;
        t0 = now_s();
        while (now_s() - t0 < 1.0)
            n += wxp_verify(pub, msg, sizeof(msg) - 1, wxp_span_of(sig), NULL) == WXP_OK;
        *verify_us = (now_s() - t0) / (double)n * 1e6;
        free(sig);
    }
    wxp_key_free(key);
    wxp_key_free(pub);
    free(kp);
    free(pp);
}

/* A bare loopback TCP exchange between two processes, one at a time, with
 * a reverse round trip's sizes (request and answer): what moving the bytes
 * costs before any HTTP, JSON or RSA. Wall and CPU microseconds each. */
static void transport_floor(size_t req, size_t ans, double *wall_us, double *cpu_us)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    *wall_us = *cpu_us = 0;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        if (lfd >= 0)
            close(lfd);
        return;
    }
    static char buf[65536];
    pid_t pid = fork();
    if (pid == 0) { /* the echo side: read a request, write an answer */
        int c = accept(lfd, NULL, NULL);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        for (;;) {
            size_t got = 0;
            while (got < req) {
                ssize_t k = recv(c, buf, req - got, 0);
                if (k <= 0)
                    _exit(0);
                got += (size_t)k;
            }
            if (send(c, buf, ans, 0) != (ssize_t)ans)
                _exit(0);
        }
    }
    close(lfd);
    int fd = dial("127.0.0.1", ntohs(a.sin_port));
    if (pid < 0 || fd < 0) {
        if (pid > 0)
            kill(pid, SIGTERM), waitpid(pid, NULL, 0);
        return;
    }
    fcntl(fd, F_SETFL, 0); /* blocking, like a sync client */
    long n = 0;
    double cpu0 = cpu_seconds(getpid()) + cpu_seconds(pid), t0 = now_s();
    while (now_s() - t0 < 2.0) {
        if (send(fd, buf, req, 0) != (ssize_t)req)
            break;
        size_t got = 0;
        while (got < ans) {
            ssize_t k = recv(fd, buf, ans - got, 0);
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        n++;
    }
    double wall = now_s() - t0, cpu = cpu_seconds(getpid()) + cpu_seconds(pid) - cpu0;
    close(fd);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    if (n > 0) {
        *wall_us = wall / (double)n * 1e6;
        *cpu_us = cpu / (double)n * 1e6;
    }
}

/* Figures of one client run: per round trip, microseconds. */
typedef struct trip {
    double rate, wall_us, client_cpu_us, mock_cpu_us;
    long n, ok;
} trip;

static void print_trip(const char *name, const char *how, const trip *t, double sign_us, double verify_us)
{
    double two = 2 * sign_us, cpu = t->client_cpu_us + t->mock_cpu_us;
    printf("%-22s %9.0f round trips/s (%s); ok %ld/%ld\n", name, t->rate, how, t->ok, t->n);
    printf("%-22s CPU per round trip: client %.0f us + mock %.0f us = %.0f us = %.2fx the two signatures"
           " (%.0f us)\n", "", t->client_cpu_us, t->mock_cpu_us, cpu, cpu / two, two);
    printf("%-22s   of which: 2 signatures %.0f, 2 verifications %.0f, the rest %.0f"
           " (client %.0f, mock %.0f: HTTP, JSON, checks, journal, the kernel's TCP)\n", "", two,
           2 * verify_us, cpu - two - 2 * verify_us, t->client_cpu_us - sign_us - verify_us,
           t->mock_cpu_us - sign_us - verify_us);
}

static void add_trip(cJSON *j, const trip *t, double sign_us)
{
    cJSON_AddNumberToObject(j, "round_trips_per_second", t->rate);
    cJSON_AddNumberToObject(j, "client_cpu_us_per_trip", t->client_cpu_us);
    cJSON_AddNumberToObject(j, "mock_cpu_us_per_trip", t->mock_cpu_us);
    cJSON_AddNumberToObject(j, "cpu_ratio_to_two_signatures",
                            (t->client_cpu_us + t->mock_cpu_us) / (2 * sign_us));
    cJSON_AddNumberToObject(j, "wall_us_per_trip", t->wall_us);
    cJSON_AddNumberToObject(j, "wall_ratio_to_two_signatures", t->wall_us / (2 * sign_us));
}

static int mode_client(const opts *o)
{
    mock_proc m = {0};
    if (start_mock(o, NULL, &m) != 0)
        return 1;
    char base[128], *key = fixture(o, "keys/merchant_key.pem"), *cert = fixture(o, "keys/merchant_cert.pem");
    char *pub = fixture(o, "keys/wechatpay_pub.pem");
    snprintf(base, sizeof(base), "http://%s:%d", m.host, m.port);
    wxpay_client *c = NULL;
    if (wxpay_global_init() != WXPAY_OK || !(c = wxpay_client_new()) ||
        wxpay_set_base_url(c, base) || wxpay_set_mchid(c, MCHID) ||
        wxpay_set_merchant_key_file(c, key, NULL) || wxpay_set_merchant_cert_file(c, cert) ||
        wxpay_add_wechatpay_public_key_file(c, pub, "PUB_KEY_ID_01123000010920261128000000000001")) {
        fprintf(stderr, "wxpay-bench: client set-up failed: %s\n", wxpay_client_error(c));
        wxpay_client_free(c);
        stop_mock(&m);
        return 1;
    }
    double secs = o->seconds > 0 ? o->seconds : 5;
    char otn[32];

    /* sync: one round trip at a time */
    trip sy = {0};
    double cc0 = cpu_seconds(getpid()), mc0 = cpu_seconds(m.pid), t0 = now_s();
    while (now_s() - t0 < secs) {
        wxpay_result *r = NULL;
        snprintf(otn, sizeof(otn), "sync%08ld", sy.n++);
        sy.ok += wxpay_reverse(c, otn, APPID, &r) == WXPAY_OK;
        wxpay_result_free(r);
    }
    double wall = now_s() - t0;
    sy.rate = (double)sy.n / wall;
    sy.wall_us = wall / (double)sy.n * 1e6;
    sy.client_cpu_us = (cpu_seconds(getpid()) - cc0) / (double)sy.n * 1e6;
    sy.mock_cpu_us = (cpu_seconds(m.pid) - mc0) / (double)sy.n * 1e6;

    /* async: 32 in flight on one multi */
    cl_arg ca = {0, 0};
    long sent = 0;
    wxpay_multi *mu = wxpay_multi_new(c);
    cc0 = cpu_seconds(getpid()), mc0 = cpu_seconds(m.pid), t0 = now_s();
    while (now_s() - t0 < secs) {
        while (sent - ca.done < 32) {
            snprintf(otn, sizeof(otn), "async%07ld", sent++);
            if (wxpay_multi_add_reverse(mu, otn, APPID, on_done, &ca) != WXPAY_OK) {
                fprintf(stderr, "wxpay-bench: %s\n", wxpay_client_error(c));
                ca.done++; /* counted as sent, never ok */
            }
        }
        wxpay_multi_poll(mu, 5);
    }
    wxpay_multi_wait(mu);
    wall = now_s() - t0;
    trip as = {.n = ca.done, .ok = ca.ok};
    as.rate = (double)ca.done / wall;
    as.wall_us = wall / (double)ca.done * 1e6;
    as.client_cpu_us = (cpu_seconds(getpid()) - cc0) / (double)ca.done * 1e6;
    as.mock_cpu_us = (cpu_seconds(m.pid) - mc0) / (double)ca.done * 1e6;
    wxpay_multi_free(mu);
    wxpay_client_free(c);
    wxpay_global_cleanup();
    stop_mock(&m);

    /* The same run's floors, measured with nothing else running. */
    double sign_us, verify_us, tr_wall, tr_cpu;
    crypto_floor(o, &sign_us, &verify_us);
    transport_floor(800, 1000, &tr_wall, &tr_cpu);
    printf("%-22s one core: a signature %.0f us, a verification %.1f us; a bare loopback TCP exchange of"
           " the same sizes between two processes %.0f us wall, %.0f us CPU\n", "client floors",
           sign_us, verify_us, tr_wall, tr_cpu);
    print_trip("client-sync", "1 thread, one at a time", &sy, sign_us, verify_us);
    printf("%-22s wall time per round trip %.0f us = %.2fx the two signatures\n", "", sy.wall_us,
           sy.wall_us / (2 * sign_us));
    print_trip("client-async", "32 in flight, 1 thread + the mock", &as, sign_us, verify_us);

    cJSON *j = cJSON_AddObjectToObject(report, "client");
    cJSON_AddNumberToObject(j, "sign_us_one_core", sign_us);
    cJSON_AddNumberToObject(j, "verify_us_one_core", verify_us);
    cJSON_AddNumberToObject(j, "loopback_exchange_wall_us", tr_wall);
    cJSON_AddNumberToObject(j, "loopback_exchange_cpu_us", tr_cpu);
    add_trip(cJSON_AddObjectToObject(j, "sync"), &sy, sign_us);
    add_trip(cJSON_AddObjectToObject(j, "async"), &as, sign_us);
    free(key);
    free(cert);
    free(pub);
    return sy.ok == sy.n && as.ok == as.n ? 0 : 1;
}

static int mode_memory(const opts *o)
{
    mock_proc m = {0};
    if (start_mock(o, NULL, &m) != 0)
        return 1;
    long total = o->requests ? o->requests : 1000000;
    long step = 10000, done = 0, rss10k = 0, rss = 0, hwm = 0;
    int orders = o->orders ? o->orders : 10000;
    printf("memory: %ld requests over %d orders, journal at its cap, signing as it goes\n", total, orders);
    cJSON *j = cJSON_AddObjectToObject(report, "memory");
    cJSON *samples = cJSON_AddArrayToObject(j, "samples");
    while (done < total) {
        reqs r;
        long n = done == 0 ? step : (total - done < 50000 ? total - done : 50000);
        prepare(o, &r, n, m.host, m.port, orders);
        /* offset the order numbers so the orders cycle */
        load_result lr;
        opts oo = *o;
        oo.seconds = 3600;
        if (oo.batch_us < 0)
            oo.batch_us = 1000;
        run_load(&oo, m.host, m.port, &r, &lr);
        free_reqs(&r);
        done += lr.sent;
        memory_kb(m.pid, &rss, &hwm);
        if (rss10k == 0)
            rss10k = rss;
        printf("  after %8ld requests: %7ld kB resident (%+.1f%%), %ld errors\n", done, rss,
               100.0 * (double)(rss - rss10k) / (double)rss10k, lr.errors_http + lr.errors_conn);
        fflush(stdout);
        cJSON *s = cJSON_CreateObject();
        cJSON_AddNumberToObject(s, "requests", (double)done);
        cJSON_AddNumberToObject(s, "rss_kb", (double)rss);
        cJSON_AddItemToArray(samples, s);
        if (lr.sent == 0)
            break;
    }
    cJSON_AddNumberToObject(j, "rss_after_10k_kb", (double)rss10k);
    cJSON_AddNumberToObject(j, "rss_after_all_kb", (double)rss);
    cJSON_AddNumberToObject(j, "growth_percent", 100.0 * (double)(rss - rss10k) / (double)rss10k);
    printf("memory: %ld kB after 10k, %ld kB after %ld: %+.1f%%\n", rss10k, rss, done,
           100.0 * (double)(rss - rss10k) / (double)rss10k);
    stop_mock(&m);
    return 0;
}

static void usage(void)
{
    printf("Usage: wxpay-bench [options] [mock|unsigned|client|memory|all]\n"
           "Measures wxpay-mock and libwxpay (README \"Performance\").\n\n"
           "  mock       signed mock: throughput, latency, errors, memory, vs RSA-2048 sign rate\n"
           "  unsigned   the same with wxpay-mock --no-sign (the answer path without RSA)\n"
           "  client     libwxpay reverse round trips/s, sync and async\n"
           "  memory     mock resident size from 10,000 to --requests (default 1,000,000)\n"
           "  all        mock, unsigned and client (default)\n"
           "  url        the same load against --url (another server), named --label\n\n"
           "Options:\n"
           "  --threads N     load threads (default: the number of cores)\n"
           "  --connections N keep-alive connections (default 32)\n"
           "  --batch-ms MS   load threads wake at most once per MS (default: 1 for the\n"
           "                  signed mock and memory, 0 for unsigned and url)\n"
           "  --seconds S     per measurement (default 10)\n"
           "  --requests N    prepared requests (default 8000 x seconds; memory: total)\n"
           "  --url URL       a running server instead of starting the mock (mode url)\n"
           "  --label NAME    the name of that server in the report (mode url)\n"
           "  --mock PATH     the wxpay-mock binary (default: next to this one)\n"
           "  --fixtures DIR  fixtures folder (default: the source tree's)\n"
           "  --json FILE     write the figures as JSON\n");
}

int main(int argc, char **argv)
{
    static char self_dir[4096];
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    opts o = {.threads = cores, .mock_threads = cores > 64 ? 64 : cores, .conns = 32, .seconds = 10,
              .batch_us = -1, .fixtures = WXP_FIXTURES_DIR};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        }
#define NUM(flag, field)                                                                          \
    if (!strcmp(a, flag) && v) {                                                                  \
        char *end;                                                                                \
        long x = strtol(v, &end, 10);                                                             \
        if (*end || x <= 0) {                                                                     \
            fprintf(stderr, "wxpay-bench: %s \"%s\" must be a positive number\n", flag, v);      \
            return 2;                                                                             \
        }                                                                                         \
        o.field = (int)x;                                                                         \
        i++;                                                                                      \
        continue;                                                                                 \
    }
        NUM("--threads", threads)
        NUM("--connections", conns)
        NUM("--seconds", seconds)
        if (!strcmp(a, "--requests") && v) {
            char *end;
            o.requests = strtol(v, &end, 10);
            if (*end || o.requests <= 0) {
                fprintf(stderr, "wxpay-bench: --requests \"%s\" must be a positive number\n", v);
                return 2;
            }
            i++;
            continue;
        }
        if (!strcmp(a, "--batch-ms") && v) {
            char *end;
            double ms = strtod(v, &end);
            if (*end || end == v || !(ms >= 0 && ms <= 100)) {
                fprintf(stderr, "wxpay-bench: --batch-ms \"%s\" must be 0 to 100\n", v);
                return 2;
            }
            o.batch_us = (int)(ms * 1000);
            i++;
            continue;
        }
        if (!strcmp(a, "--url") && v) { o.url = v; i++; continue; }
        if (!strcmp(a, "--mock") && v) { o.mock_bin = v; i++; continue; }
        if (!strcmp(a, "--label") && v) { o.label = v; i++; continue; }
        if (!strcmp(a, "--fixtures") && v) { o.fixtures = v; i++; continue; }
        if (!strcmp(a, "--json") && v) { o.json = v; i++; continue; }
        if (a[0] != '-' && o.nmodes < 8) { o.modes[o.nmodes++] = a; continue; }
        fprintf(stderr, "wxpay-bench: unknown option \"%s\" (try --help)\n", a);
        return 2;
    }
    if (!o.mock_bin) {
        ssize_t n = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 32);
        if (n > 0) {
            self_dir[n] = '\0';
            char *slash = strrchr(self_dir, '/');
            snprintf(slash + 1, 32, "wxpay-mock");
        }
        o.mock_bin = self_dir;
    }
    signal(SIGPIPE, SIG_IGN);
    report = cJSON_CreateObject();
    cJSON_AddNumberToObject(report, "threads", o.threads);
    cJSON_AddNumberToObject(report, "connections", o.conns);
    cJSON_AddNumberToObject(report, "seconds", o.seconds);
    int rc = 0;
    if (o.nmodes == 0)
        o.modes[o.nmodes++] = "all";
    for (int k = 0; k < o.nmodes; k++) {
        o.mode = o.modes[k];
        bool all = !strcmp(o.mode, "all");
        if (all || !strcmp(o.mode, "mock"))
            rc |= mode_mock(&o, NULL, "mock-signed");
        if (all || !strcmp(o.mode, "unsigned"))
            rc |= mode_mock(&o, "--no-sign", "mock-unsigned");
        if (all || !strcmp(o.mode, "client"))
            rc |= mode_client(&o);
        if (!strcmp(o.mode, "memory"))
            rc |= mode_memory(&o);
        if (!strcmp(o.mode, "url")) {
            if (!o.url) {
                fprintf(stderr, "wxpay-bench: mode url needs --url\n");
                return 2;
            }
            rc |= mode_mock(&o, NULL, o.label ? o.label : "url");
        }
    }
    if (o.json) {
        char *t = cJSON_Print(report);
        FILE *f = fopen(o.json, "w");
        if (f) {
            fprintf(f, "%s\n", t);
            fclose(f);
        }
        cJSON_free(t);
    }
    cJSON_Delete(report);
    return rc;
}
