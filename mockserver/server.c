/* server.c: the libmicrohttpd listener (the only file that touches it).
 *
 * One single-threaded epoll daemon per core, and an acceptor thread that
 * owns the listening socket and hands each new connection to the daemon
 * with the fewest open connections. (libmicrohttpd's own thread pool lets
 * whichever worker wakes first accept a burst of up to ten connections:
 * the 32 keep-alive connections of a load test could all land on one core
 * and leave the other idle.) A request whose fault asks for a delay or a
 * hang does not sleep in its thread: its connection is suspended and parked
 * with the time it is due, and a timer thread resumes it then (or at
 * shutdown), so no request ever holds up another and connections cost no
 * thread of their own. The raw request target is kept as sent (the URI log
 * callback sees it before libmicrohttpd splits and unescapes it; the
 * unescape callback is a no-op) because signatures cover the exact bytes on
 * the wire. */
#define _GNU_SOURCE /* accept4, pipe2 (Linux, like libmicrohttpd's epoll mode) */
#include "mock_int.h"
#include "wxp_int.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>

#include <microhttpd.h>

#define MAX_WORKERS 64
#define CONNECTION_LIMIT 4000 /* in all, or fewer when descriptors are scarce */
#define MHD_SLACK 64          /* libmicrohttpd's own limit stays this far above ours */
/* TLS 1.2 and 1.3 only, forward-secret key exchange, AEAD ciphers only (a
 * GnuTLS priority string: libmicrohttpd's TLS is GnuTLS). */
#define TLS_PRIORITIES                                                                             \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA:+DHE-RSA:"         \
    "-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD"

/* A suspended connection waiting for its answer time. */
typedef struct parked {
    struct parked *next;
    struct MHD_Connection *c;
    int64_t due_ms; /* CLOCK_MONOTONIC */
} parked;

/* One daemon and its count of open connections: raised by the acceptor
 * when it hands one over, lowered when libmicrohttpd reports it closed. */
typedef struct worker {
    struct MHD_Daemon *daemon;
    atomic_int open;
    struct wxm_server *server;
} worker;

/* Every open connection, for the request deadline: a request must arrive
 * whole within it of the connection being ready for one (accepted, or its
 * last answer done). Dripping a byte at a time does not extend it; the
 * timer thread shuts the socket of one that overstays (libmicrohttpd then
 * closes it as it would any dead peer). */
typedef struct conn_rec {
    struct conn_rec *prev, *next; /* under the server's lock */
    int fd;
    int64_t since_ms; /* atomic: set by the connection's own thread, read by the timer */
    int whole;        /* atomic: the request is in, answering may take its time */
    bool shut;
} conn_rec;

struct wxm_server {
    wxm_mock *mock;
    worker workers[MAX_WORKERS];
    int nworkers;
    int per_worker; /* open connections a daemon is given at most */
    int listen_fd;
    int wake[2]; /* a byte in wake[1] stops the acceptor */
    pthread_t acceptor;
    bool acceptor_started;
    uint16_t port;
    bool tls;
    wxm_server_options opts;
    pthread_t timer;
    bool timer_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    parked *parked;
    int parked_live;        /* parked once and not yet completed */
    pthread_cond_t drained; /* parked_live fell */
    conn_rec *conns;        /* open connections, under lock */
    int64_t deadline_ms;    /* a request arrives whole within it */
    uint64_t trimmed_at;    /* atomic: journal total at the last malloc_trim */
};

static int64_t mono_ms(void)
{
    return Wxp_mono_us() / 1000;
}

/* Resumes parked connections when they are due, and all of them at stop. */
static void *timer_main(void *arg)
{
    wxm_server *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        int64_t now = mono_ms(), next = -1;
        for (parked **p = &s->parked; *p;) {
            if (s->stopping || (*p)->due_ms <= now) {
                parked *done = *p;
                *p = done->next;
                MHD_resume_connection(done->c);
                free(done);
            } else {
                if (next < 0 || (*p)->due_ms < next)
                    next = (*p)->due_ms;
                p = &(*p)->next;
            }
        }
        if (s->stopping)
            break;
        for (conn_rec *r = s->conns; r; r = r->next)
            if (!__atomic_load_n(&r->whole, __ATOMIC_RELAXED) && !r->shut &&
                now - __atomic_load_n(&r->since_ms, __ATOMIC_RELAXED) > s->deadline_ms) {
                shutdown(r->fd, SHUT_RDWR);
                r->shut = true;
                __atomic_add_fetch(&s->mock->requests_timed_out, 1, __ATOMIC_RELAXED);
            }
        if (s->conns && (next < 0 || next - now > 1000))
            next = now + 1000; /* sweep again in a second */
        if (next < 0) {
            pthread_cond_wait(&s->cond, &s->lock);
        } else {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until); /* the condition's clock */
            int64_t wait = next - now;
            until.tv_sec += (time_t)(wait / 1000);
            until.tv_nsec += (long)(wait % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cond, &s->lock, &until);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Suspends c until `ms` from now; false when stopping (answer at once). */
static bool park(wxm_server *s, struct MHD_Connection *c, int64_t ms)
{
    parked *p = malloc(sizeof(*p));
    if (!p)
        return false;
    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        pthread_mutex_unlock(&s->lock);
        free(p);
        return false;
    }
    MHD_suspend_connection(c);
    p->c = c;
    p->due_ms = mono_ms() + ms;
    p->next = s->parked;
    s->parked = p;
    s->parked_live++;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return true;
}

/* Freed journal entries and per-connection buffers stay in glibc's
 * per-thread arenas; hand them back every 20,000 requests, and after a
 * reset, so the resident size follows what is live (measured: docs/performance.md
 * "Performance"). */
static void trim_now_and_then(wxm_server *s)
{
#if defined(__GLIBC__)
    uint64_t n = Wxm_journal_total(s->mock->journal),
             last = __atomic_load_n(&s->trimmed_at, __ATOMIC_RELAXED);
    bool reset = __atomic_exchange_n(&s->mock->trim_wanted, 0, __ATOMIC_RELAXED);
    if (reset || (n % 20000 == 0 && n != last &&
                  __atomic_compare_exchange_n(&s->trimmed_at, &last, n, false, __ATOMIC_RELAXED,
                                              __ATOMIC_RELAXED)))
        malloc_trim(0);
#else
    (void)s;
#endif
}

/* One request's state across the access-handler calls. */
typedef struct conn {
    char *target;
    size_t target_len;
    char *body;
    size_t len, cap;
    bool too_large;
    bool started;
    bool waiting; /* suspended with `answer` until its time */
    bool counted; /* in the server's parked_live until it completes */
    bool refused; /* answered at its headers (framing): the rest is ignored */
    wxm_answer answer;
    int64_t t0_us; /* when the request was whole */
    char peer[64];
} conn;

static void request_clock(wxm_server *s, struct MHD_Connection *c, bool whole);

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    conn *cx = calloc(1, sizeof(*cx));
    if (cx && uri) {
        cx->target_len = strlen(uri);
        cx->target = malloc(cx->target_len + 1);
        if (cx->target)
            memcpy(cx->target, uri, cx->target_len + 1);
    }
    return cx;
}

static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    wxm_server *s = cls;
    (void)toe;
    conn *cx = *con_cls;
    request_clock(s, c, false); /* the next request's clock starts now */
    if (cx) {
        if (cx->waiting) { /* closed while parked: its state change still happens */
            wxm_answer_commit(s->mock, &cx->answer);
            wxm_answer_clear(&cx->answer);
        }
        if (cx->counted) {
            pthread_mutex_lock(&s->lock);
            s->parked_live--;
            pthread_cond_broadcast(&s->drained);
            pthread_mutex_unlock(&s->lock);
        }
        free(cx->target);
        free(cx->body);
        free(cx);
        *con_cls = NULL;
    }
}

typedef struct header_list {
    wxm_header h[WXM_MAX_REQUEST_HEADERS];
    size_t n, seen;
} header_list;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      size_t key_size, const char *value, size_t value_size)
{
    header_list *l = cls;
    (void)kind;
    l->seen++; /* all are counted: the handler refuses what it cannot see */
    if (l->n < sizeof(l->h) / sizeof(l->h[0])) {
        l->h[l->n].name = (wxp_span){key, key_size};
        l->h[l->n].value = (wxp_span){value ? value : "", value ? value_size : 0};
        l->n++;
    }
    return MHD_YES;
}

static enum MHD_Result finish(wxm_server *s, struct MHD_Connection *c, conn *cx,
                              const char *method);

/* Answers a request whose framing a strict server refuses, and closes the
 * connection: what follows on it cannot be trusted to be a new request. */
static enum MHD_Result refuse_framing(wxm_server *s, struct MHD_Connection *c, conn *cx,
                                      const char *method, int status, const char *why)
{
    char body[400];
    snprintf(body, sizeof(body), "{\"code\":\"INVALID_REQUEST\",\"message\":\"%s\"}", why);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result r = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    cx->refused = true;
    request_clock(s, c, true);
    if (s->opts.log_requests) {
        wxm_request req = {.method = wxp_span_of(method), .target = {cx->target, cx->target_len}};
        wxm_answer a = {.status = status};
        snprintf(a.code, sizeof(a.code), "INVALID_REQUEST");
        Wxm_log_line(s->opts.log_json, &req, &a, 0);
    }
    return r;
}

/* The request's framing (Wxm_framing_check), before its body is read. */
static enum MHD_Result framing_ok(wxm_server *s, struct MHD_Connection *c, conn *cx,
                                  const char *method, const char *version)
{
    header_list hl;
    hl.n = hl.seen = 0;
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_header, &hl);
    const char *why = NULL;
    int status = Wxm_framing_check(hl.h, hl.n, version, &why);
    return status ? refuse_framing(s, c, cx, method, status, why) : MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    wxm_server *s = cls;
    conn *cx = *con_cls;

    if (!cx || !cx->target)
        return MHD_NO;
    if (!cx->started) { /* first call: headers only */
        cx->started = true;
        return framing_ok(s, c, cx, method, version);
    }
    if (cx->refused) { /* already answered: what it sends is dropped */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size, max = s->mock->cfg->max_body_bytes;
        *upload_size = 0;
        if (cx->too_large || cx->len + n > max) {
            cx->too_large = true; /* keep reading, drop the bytes */
            return MHD_YES;
        }
        if (cx->len + n + 1 > cx->cap) {
            size_t cap = (cx->len + n + 1) * 2;
            char *b = realloc(cx->body, cap > max + 1 ? max + 1 : cap);
            if (!b)
                return MHD_NO;
            cx->body = b;
            cx->cap = cap > max + 1 ? max + 1 : cap;
        }
        memcpy(cx->body + cx->len, upload, n);
        cx->len += n;
        return MHD_YES;
    }
    (void)url;

    if (cx->waiting) { /* resumed: the wait is over */
        cx->waiting = false;
        return finish(s, c, cx, method);
    }
    cx->t0_us = Wxp_mono_us();
    header_list hl;
    hl.n = hl.seen = 0;
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_header, &hl);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        char ip[INET6_ADDRSTRLEN] = "";
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
            inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
            snprintf(cx->peer, sizeof(cx->peer), "%s:%u", ip, ntohs(in->sin_port));
        } else if (sa->sa_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
            inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
            snprintf(cx->peer, sizeof(cx->peer), "[%s]:%u", ip, ntohs(in6->sin6_port));
        }
    }
    wxm_request req = {
        .method = wxp_span_of(method),
        .target = {cx->target, cx->target_len},
        .headers = hl.h,
        .nheaders = hl.n,
        .body = {cx->body, cx->len},
        .body_too_large = cx->too_large,
        .headers_seen = hl.seen,
        .peer = cx->peer[0] ? cx->peer : NULL,
    };
    request_clock(s, c, true);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    wxm_handle_ms(s->mock, &req, (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000, &cx->answer);
    trim_now_and_then(s);
    if (cx->answer.wait_ms > 0 && park(s, c, cx->answer.wait_ms)) {
        cx->waiting = true;
        cx->counted = true;
        return MHD_YES; /* the timer thread resumes it; finish() answers */
    }
    return finish(s, c, cx, method);
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos; /* sent in order */
    size_t n = wxm_stream_read(cls, buf, max);
    return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void free_stream(void *cls)
{
    wxm_stream_free(cls);
}

/* Sends (or drops) the answer kept in cx. */
static enum MHD_Result finish(wxm_server *s, struct MHD_Connection *c, conn *cx, const char *method)
{
    wxm_answer *a = &cx->answer;
    wxm_answer_commit(s->mock, a);
    if (s->opts.log_requests) {
        wxm_request r = {.method = wxp_span_of(method),
                         .target = {cx->target, cx->target_len},
                         .peer = cx->peer[0] ? cx->peer : NULL};
        Wxm_log_line(s->opts.log_json, &r, a, (double)(Wxp_mono_us() - cx->t0_us) / 1e3);
    }
    if (a->action == WXM_DROP) {
        wxm_answer_clear(a);
        return MHD_NO; /* libmicrohttpd closes the connection unanswered */
    }
    static char empty[1];
    struct MHD_Response *resp;
    if (a->stream) { /* read as it is sent; libmicrohttpd frees it after */
        resp = MHD_create_response_from_callback(wxm_stream_size(a->stream), 64 * 1024, read_stream,
                                                 a->stream, free_stream);
        if (resp)
            a->stream = NULL;
    } else {
        resp = MHD_create_response_from_buffer(a->body_len, a->body ? a->body : empty,
                                               MHD_RESPMEM_MUST_COPY);
    }
    if (!resp) {
        wxm_answer_clear(a);
        return MHD_NO;
    }
    for (size_t i = 0; i < a->nheaders; i++)
        MHD_add_response_header(resp, a->headers[i].name, a->headers[i].value);
    enum MHD_Result r = MHD_queue_response(c, (unsigned)a->status, resp);
    MHD_destroy_response(resp);
    wxm_answer_clear(a);
    return r;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    worker *w = cls;
    wxm_server *s = w->server;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_rec *r = calloc(1, sizeof(*r));
        if (!r || !ci) { /* untracked: the idle timeout still applies */
            free(r);
            return;
        }
        r->fd = ci->connect_fd;
        r->since_ms = mono_ms();
        pthread_mutex_lock(&s->lock);
        r->next = s->conns;
        if (s->conns)
            s->conns->prev = r;
        s->conns = r;
        pthread_cond_signal(&s->cond); /* the timer now sweeps */
        pthread_mutex_unlock(&s->lock);
        *socket_context = r;
        return;
    }
    /* Closed: off the list before libmicrohttpd closes the descriptor, so
     * the sweeper never shuts a number reused by a new connection. */
    conn_rec *r = *socket_context;
    if (r) {
        pthread_mutex_lock(&s->lock);
        if (r->prev)
            r->prev->next = r->next;
        else
            s->conns = r->next;
        if (r->next)
            r->next->prev = r->prev;
        pthread_mutex_unlock(&s->lock);
        free(r);
        *socket_context = NULL;
    }
    atomic_fetch_sub(&w->open, 1);
}

/* Marks the connection's request whole (answering may take its time) or,
 * when it is done, starts the clock for the next one. */
static void request_clock(wxm_server *s, struct MHD_Connection *c, bool whole)
{
    /* No lock: the record lives until this connection's own thread reports
     * it closed, and the timer reads these two atomically. */
    (void)s;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_rec *r = ci ? ci->socket_context : NULL;
    if (!r)
        return;
    __atomic_store_n(&r->since_ms, mono_ms(), __ATOMIC_RELAXED);
    __atomic_store_n(&r->whole, whole, __ATOMIC_RELAXED);
}

/* Hands every new connection to the least busy daemon, but never past
 * per_worker: libmicrohttpd 0.9.75 deadlocks all its threads when a daemon
 * in its own thread is handed a connection over its limit (seen: every
 * answering thread waiting on one of its mutexes, SIGTERM hanging). The
 * counts are exact: raised here, lowered when libmicrohttpd reports a
 * connection closed, or at once when it refuses one (it closes those
 * without a report). */
static void *acceptor_main(void *arg)
{
    wxm_server *s = arg;
    struct pollfd p[2] = {{s->listen_fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
    for (;;) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        for (;;) {
            struct sockaddr_storage peer;
            socklen_t len = sizeof(peer);
            int fd =
                accept4(s->listen_fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                    poll(NULL, 0, 100); /* out of descriptors: let some close first */
                break;                  /* EAGAIN, or a connection reset while queued */
            }
            worker *w = &s->workers[0];
            for (int i = 1; i < s->nworkers; i++)
                if (atomic_load(&s->workers[i].open) < atomic_load(&w->open))
                    w = &s->workers[i];
            if (atomic_load(&w->open) >= s->per_worker) {
                Wxm_refuse_connection(fd, s->per_worker * s->nworkers);
                __atomic_add_fetch(&s->mock->connections_refused, 1, __ATOMIC_RELAXED);
                continue;
            }
            atomic_fetch_add(&w->open, 1);
            if (MHD_add_connection(w->daemon, fd, (struct sockaddr *)&peer, len) != MHD_YES)
                atomic_fetch_sub(&w->open, 1); /* libmicrohttpd has closed it */
        }
    }
    return NULL;
}

static void stop_workers(wxm_server *s)
{
    for (int i = 0; i < s->nworkers; i++)
        MHD_stop_daemon(s->workers[i].daemon);
    s->nworkers = 0;
}

wxm_err wxm_server_start(wxm_mock *m, const wxm_server_options *opts, wxm_server **out,
                         wxp_diag *diag)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    const char *host = opts && opts->host ? opts->host : "127.0.0.1";
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    wxm_server *s;

    if (!m || !out)
        return WXM_E_ARG;
    *out = NULL;
    memset(&ss, 0, sizeof(ss));
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    struct sockaddr_in *in = (struct sockaddr_in *)(void *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(opts ? opts->port : 0);
        sslen = sizeof(*in);
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(opts ? opts->port : 0);
        sslen = sizeof(*in6);
    } else {
        wxp_fail(diag, WXP_ERR_ARG, "host",
                 "host \"%s\" is not an IPv4 or IPv6 address (or localhost)", host);
        return WXM_E_ARG;
    }
    char *cert = NULL, *key = NULL;
    bool tls = opts && (opts->tls_cert_file || opts->tls_key_file);
    if (tls) {
        const char *why = !opts->tls_cert_file || !opts->tls_key_file
                              ? "the TLS certificate and its key go together: give both"
                          : MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES
                              ? "this libmicrohttpd was built without TLS"
                              : NULL;
        if (why) {
            wxp_fail(diag, WXP_ERR_ARG, "tls", "%s", why);
            return WXM_E_TLS;
        }
        wxm_err e = Wxm_read_pem(opts->tls_cert_file, &cert, diag);
        if (!e)
            e = Wxm_read_pem(opts->tls_key_file, &key, diag);
        if (e) {
            free(cert);
            return e;
        }
        flags |= MHD_USE_TLS;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        free(cert);
        free(key);
        return WXM_E_NOMEM;
    }
    s->mock = m;
    if (opts)
        s->opts = *opts;
    s->tls = tls;
    s->wake[0] = s->wake[1] = -1;
    s->listen_fd = Wxm_listen_on((struct sockaddr *)&ss, sslen, opts ? opts->ipv6_only != 0 : 0,
                                 Wxm_connection_limit(CONNECTION_LIMIT));
    if (s->listen_fd < 0) {
        int err = errno;
        free(cert);
        free(key);
        free(s);
        wxp_fail(diag, WXP_ERR_IO, "listen", "cannot listen on %s:%u: %s", host,
                 opts ? opts->port : 0, strerror(err));
        return WXM_E_LISTEN;
    }
    long want_l = opts && opts->threads > 0 ? opts->threads : cores;
    int want = want_l < 1 ? 1 : want_l > MAX_WORKERS ? MAX_WORKERS : (int)want_l;
    s->deadline_ms = 1000LL * (opts && opts->request_timeout_s > 0 ? opts->request_timeout_s : 30);
    s->per_worker = Wxm_connection_limit(CONNECTION_LIMIT) / want;
    if (s->per_worker < 1)
        s->per_worker = 1;
    for (int i = 0; i < want; i++) {
        worker *w = &s->workers[i];
        atomic_init(&w->open, 0);
        w->server = s;
        /* The TLS options must come only when TLS is on. */
        w->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
            MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL, MHD_OPTION_NOTIFY_COMPLETED,
            on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)(s->per_worker + MHD_SLACK), tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
            cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
            MHD_OPTION_END);
        if (!w->daemon)
            break;
        s->nworkers++;
    }
    /* libmicrohttpd has copied what it needs from the PEM buffers. */
    free(cert);
    free(key);
    if (s->nworkers < want) {
        stop_workers(s);
        close(s->listen_fd);
        free(s);
        if (tls) {
            wxp_fail(diag, WXP_ERR_IO, "tls",
                     "cannot start HTTPS on %s:%u: is %s a PEM certificate and %s its PEM "
                     "private key?",
                     host, opts->port, opts->tls_cert_file, opts->tls_key_file);
            return WXM_E_TLS;
        }
        wxp_fail(diag, WXP_ERR_IO, "listen", "cannot start the HTTP server on %s:%u", host,
                 opts ? opts->port : 0);
        return WXM_E_LISTEN;
    }
    pthread_mutex_init(&s->lock, NULL);
    /* The timer waits for monotonic deadlines: its condition must use that
     * clock (with the default, every wait ended at once and it spun). */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_cond_init(&s->drained, &ca);
    pthread_condattr_destroy(&ca);
    if (pipe2(s->wake, O_CLOEXEC) != 0 || pthread_create(&s->timer, NULL, timer_main, s) != 0) {
        wxm_server_stop(s);
        return WXM_E_NOMEM;
    }
    s->timer_started = true;
    if (pthread_create(&s->acceptor, NULL, acceptor_main, s) != 0) {
        wxm_server_stop(s);
        return WXM_E_NOMEM;
    }
    s->acceptor_started = true;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    if (getsockname(s->listen_fd, (struct sockaddr *)&bound, &blen) == 0)
        s->port =
            ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)(void *)&bound)->sin6_port
                                              : ((struct sockaddr_in *)(void *)&bound)->sin_port);
    *out = s;
    return WXM_OK;
}

uint16_t wxm_server_port(const wxm_server *s)
{
    return s ? s->port : 0;
}

int wxm_server_load(const wxm_server *s, int *open, int max)
{
    if (!s)
        return 0;
    for (int i = 0; i < s->nworkers && i < max; i++)
        open[i] = atomic_load(&s->workers[i].open);
    return s->nworkers;
}

int wxm_server_connection_limit(const wxm_server *s)
{
    return s ? s->per_worker * s->nworkers : 0;
}

int wxm_server_is_tls(const wxm_server *s)
{
    return s && s->tls;
}

void wxm_server_stop(wxm_server *s)
{
    if (!s)
        return;
    /* Stop accepting, answer every parked request now, then let in-flight
     * requests finish. */
    if (s->acceptor_started) {
        ssize_t w = write(s->wake[1], "x", 1);
        (void)w;
        pthread_join(s->acceptor, NULL);
    }
    close(s->listen_fd);
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->timer_started)
        pthread_join(s->timer, NULL);
    /* Every parked request was resumed: let each be answered (and its
     * state change committed) before the daemons stop, for at most 10 s. */
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&s->lock);
    while (s->parked_live > 0 && pthread_cond_timedwait(&s->drained, &s->lock, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&s->lock);
    stop_workers(s);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    pthread_cond_destroy(&s->drained);
    if (s->wake[0] >= 0) {
        close(s->wake[0]);
        close(s->wake[1]);
    }
    free(s);
}
