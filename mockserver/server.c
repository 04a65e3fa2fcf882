/* server.c: the libmicrohttpd listener (the only file that touches it).
 *
 * A pool of epoll threads, one per core. A request whose fault asks for a
 * delay or a hang does not sleep in its thread: its connection is suspended
 * and parked with the time it is due, and a timer thread resumes it then
 * (or at shutdown), so no request ever holds up another and connections
 * cost no thread of their own. The raw request target is kept as sent
 * (the URI log callback sees it before libmicrohttpd splits and unescapes
 * it; the unescape callback is a no-op) because signatures cover the exact
 * bytes on the wire. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>

#include <microhttpd.h>

/* A suspended connection waiting for its answer time. */
typedef struct parked {
    struct parked *next;
    struct MHD_Connection *c;
    int64_t due_ms; /* CLOCK_MONOTONIC */
} parked;

struct wxm_server {
    wxm_mock *mock;
    struct MHD_Daemon *daemon;
    uint16_t port;
    bool tls;
    wxm_server_options opts;
    pthread_t timer;
    bool timer_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    parked *parked;
};

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
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
        if (next < 0) {
            pthread_cond_wait(&s->cond, &s->lock);
        } else {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
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
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return true;
}

/* A whole PEM file into a NUL-terminated buffer (libmicrohttpd wants text). */
static wxp_err read_pem(const char *path, char **out, wxp_diag *diag)
{
    FILE *f = fopen(path, "rb");
    char *b;
    size_t n;
    if (!f)
        return wxp_fail(diag, WXP_ERR_IO, "tls", "%s: %s", path, strerror(errno));
    b = malloc(1 << 20);
    n = b ? fread(b, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!b)
        return WXP_ERR_NOMEM;
    b[n] = '\0';
    if (!strstr(b, "-----BEGIN ")) {
        free(b);
        return wxp_fail(diag, WXP_ERR_ARG, "tls", "%s: not a PEM file", path);
    }
    *out = b;
    return WXP_OK;
}

/* One request's state across the access-handler calls. */
typedef struct conn {
    char *target;
    size_t target_len;
    char *body;
    size_t len, cap;
    bool too_large;
    bool started;
    bool waiting;      /* suspended with `answer` until its time */
    wxm_answer answer;
    struct timespec t0;
    char peer[64];
} conn;

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
    (void)cls;
    (void)c;
    (void)toe;
    conn *cx = *con_cls;
    if (cx) {
        if (cx->waiting)
            wxm_answer_clear(&cx->answer); /* closed while parked */
        free(cx->target);
        free(cx->body);
        free(cx);
        *con_cls = NULL;
    }
}

typedef struct header_list {
    wxm_header h[64];
    size_t n;
} header_list;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      size_t key_size, const char *value, size_t value_size)
{
    header_list *l = cls;
    (void)kind;
    if (l->n < sizeof(l->h) / sizeof(l->h[0])) {
        l->h[l->n].name = (wxp_span){key, key_size};
        l->h[l->n].value = (wxp_span){value ? value : "", value ? value_size : 0};
        l->n++;
    }
    return MHD_YES;
}

static void log_line(wxm_server *s, const wxm_request *r, const wxm_answer *a, double ms)
{
    char target[300];
    wxp_quote(target, sizeof(target), r->target, 200);
    if (s->opts.log_json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "peer", r->peer ? r->peer : "");
        cJSON_AddStringToObject(j, "method", r->method.ptr);
        cJSON_AddStringToObject(j, "target", target);
        cJSON_AddNumberToObject(j, "status", a->status);
        if (a->code[0])
            cJSON_AddStringToObject(j, "code", a->code);
        cJSON_AddStringToObject(j, "answer", a->action == WXM_DROP ? "dropped" : "sent");
        cJSON_AddNumberToObject(j, "ms", ms);
        char *t = cJSON_PrintUnformatted(j);
        if (t)
            fprintf(stderr, "%s\n", t);
        cJSON_free(t);
        cJSON_Delete(j);
    } else {
        fprintf(stderr, "wxpay-mock: %s %.*s %s -> %d%s%s%s (%.1f ms)\n", r->peer ? r->peer : "-",
                (int)r->method.len, r->method.ptr, target, a->status, a->code[0] ? " " : "",
                a->code, a->action == WXM_DROP ? " dropped" : "", ms);
    }
}

static enum MHD_Result finish(wxm_server *s, struct MHD_Connection *c, conn *cx, const char *method);

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    wxm_server *s = cls;
    conn *cx = *con_cls;
    (void)version;

    if (!cx || !cx->target)
        return MHD_NO;
    if (!cx->started) { /* first call: headers only */
        cx->started = true;
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
    clock_gettime(CLOCK_MONOTONIC, &cx->t0);
    header_list hl;
    hl.n = 0;
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_header, &hl);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
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
        .peer = cx->peer[0] ? cx->peer : NULL,
    };
    wxm_handle(s->mock, &req, (int64_t)time(NULL), &cx->answer);
    if (cx->answer.wait_ms > 0 && park(s, c, cx->answer.wait_ms)) {
        cx->waiting = true;
        return MHD_YES; /* the timer thread resumes it; finish() answers */
    }
    return finish(s, c, cx, method);
}

/* Sends (or drops) the answer kept in cx. */
static enum MHD_Result finish(wxm_server *s, struct MHD_Connection *c, conn *cx, const char *method)
{
    wxm_answer *a = &cx->answer;
    struct timespec t1;
    wxm_answer_commit(s->mock, a);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (s->opts.log_requests) {
        wxm_request r = {.method = wxp_span_of(method), .target = {cx->target, cx->target_len},
                         .peer = cx->peer[0] ? cx->peer : NULL};
        log_line(s, &r, a, (double)(t1.tv_sec - cx->t0.tv_sec) * 1e3 +
                               (double)(t1.tv_nsec - cx->t0.tv_nsec) / 1e6);
    }
    if (a->action == WXM_DROP) {
        wxm_answer_clear(a);
        return MHD_NO; /* libmicrohttpd closes the connection unanswered */
    }
    static char empty[1];
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        a->body_len, a->body ? a->body : empty, MHD_RESPMEM_MUST_COPY);
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

wxp_err wxm_server_start(wxm_mock *m, const wxm_server_options *opts, wxm_server **out,
                         wxp_diag *diag)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    const char *host = opts && opts->host ? opts->host : "127.0.0.1";
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    wxm_server *s;

    if (!m || !out)
        return WXP_ERR_ARG;
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
        flags |= MHD_USE_IPv6;
    } else {
        return wxp_fail(diag, WXP_ERR_ARG, "host",
                        "--host \"%s\" is not an IPv4 or IPv6 address (or localhost)", host);
    }
    (void)sslen;
    char *cert = NULL, *key = NULL;
    bool tls = opts && (opts->tls_cert_file || opts->tls_key_file);
    if (tls) {
        if (!opts->tls_cert_file || !opts->tls_key_file)
            return wxp_fail(diag, WXP_ERR_ARG, "tls", "--tls-cert and --tls-key go together");
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
            return wxp_fail(diag, WXP_ERR_ARG, "tls", "this libmicrohttpd was built without TLS");
        wxp_err e = read_pem(opts->tls_cert_file, &cert, diag);
        if (!e)
            e = read_pem(opts->tls_key_file, &key, diag);
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
        return WXP_ERR_NOMEM;
    }
    s->mock = m;
    if (opts)
        s->opts = *opts;
    s->tls = tls;
    /* The TLS options must come only when TLS is on. */
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cores > 1 ? cores : 1),
        tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
        MHD_OPTION_HTTPS_MEM_KEY, key,
        MHD_OPTION_END);
    /* libmicrohttpd has copied what it needs from the PEM buffers. */
    free(cert);
    free(key);
    if (!s->daemon) {
        free(s);
        if (tls)
            return wxp_fail(diag, WXP_ERR_IO, "listen",
                            "cannot start HTTPS on %s:%u: is %s a PEM certificate and %s its "
                            "PEM private key, and the port free?",
                            host, opts->port, opts->tls_cert_file, opts->tls_key_file);
        return wxp_fail(diag, WXP_ERR_IO, "listen",
                        "cannot listen on %s:%u (port in use, or address not on this machine?)",
                        host, opts ? opts->port : 0);
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->timer, NULL, timer_main, s) != 0) {
        MHD_stop_daemon(s->daemon);
        free(s);
        return WXP_ERR_NOMEM;
    }
    s->timer_started = true;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    *out = s;
    return WXP_OK;
}

uint16_t wxm_server_port(const wxm_server *s)
{
    return s ? s->port : 0;
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
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->timer_started)
        pthread_join(s->timer, NULL);
    MHD_stop_daemon(s->daemon);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    free(s);
}
