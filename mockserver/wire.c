/* wire.c: what the listener does on the wire that needs no libmicrohttpd:
 * the HTTP framing rules (pure), the request log line, the listening
 * socket, the connection limit and the refusal past it, PEM files. */
#include "mock_int.h"
#include "wxp_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static bool is_token(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] <= ' ' || p[i] >= 127 || strchr("\"(),/:;<=>?@[\\]{}", p[i]))
            return false;
    return n > 0;
}

int Wxm_framing_check(const wxm_header *h, size_t n, const char *version, const char **why)
{
    const wxm_header *cl = NULL, *te = NULL;
    bool host = false;
    for (size_t i = 0; i < n; i++) {
        if (!is_token(h[i].name.ptr, h[i].name.len)) {
            *why = "a header name holds a space or another character names cannot hold "
                   "(\\\"Transfer-Encoding :\\\"?)";
            return 400;
        }
        if (h[i].name.len == 14 && strncasecmp(h[i].name.ptr, "Content-Length", 14) == 0) {
            if (cl && (cl->value.len != h[i].value.len ||
                       memcmp(cl->value.ptr, h[i].value.ptr, h[i].value.len) != 0)) {
                *why = "two Content-Length headers with different values";
                return 400;
            }
            cl = &h[i];
        } else if (h[i].name.len == 17 &&
                   strncasecmp(h[i].name.ptr, "Transfer-Encoding", 17) == 0) {
            if (te) {
                *why = "Transfer-Encoding given twice";
                return 400;
            }
            te = &h[i];
        } else if (h[i].name.len == 4 && strncasecmp(h[i].name.ptr, "Host", 4) == 0) {
            host = true;
        }
    }
    if (cl && te) {
        *why = "both Content-Length and Transfer-Encoding: which one frames the body is "
               "ambiguous";
        return 400;
    }
    if (te && !(te->value.len == 7 && strncasecmp(te->value.ptr, "chunked", 7) == 0)) {
        *why = "a transfer coding other than chunked is not implemented";
        return 501;
    }
    if (!host && version && strcmp(version, "HTTP/1.1") == 0) {
        *why = "an HTTP/1.1 request needs a Host header";
        return 400;
    }
    return 0;
}

void Wxm_log_line(int json, const wxm_request *r, const wxm_answer *a, double ms)
{
    char target[300], method[80];
    /* Quoted: a control byte (ESC, CR) must not reach the terminal or the log. */
    wxp_quote(target, sizeof(target), r->target, 200);
    wxp_quote(method, sizeof(method), r->method, 16);
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "peer", r->peer ? r->peer : "");
        cJSON_AddStringToObject(j, "method", method);
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
        fprintf(stderr, "wxpay-mock: %s %s %s -> %d%s%s%s (%.1f ms)\n", r->peer ? r->peer : "-",
                method, target, a->status, a->code[0] ? " " : "", a->code,
                a->action == WXM_DROP ? " dropped" : "", ms);
    }
}

/* A whole PEM file into a NUL-terminated buffer (libmicrohttpd wants text). */
wxm_err Wxm_read_pem(const char *path, char **out, wxp_diag *diag)
{
    wxp_err e = Wxp_read_file(path, 1 << 20, "tls", out, NULL, diag);
    if (e)
        return e == WXP_ERR_NOMEM ? WXM_E_NOMEM : WXM_E_TLS;
    if (!strstr(*out, "-----BEGIN ")) {
        free(*out);
        *out = NULL;
        wxp_fail(diag, WXP_ERR_ARG, "tls", "%s: not a PEM file", path);
        return WXM_E_TLS;
    }
    return WXM_OK;
}

/* A connection the mock cannot hold: told so in one write, then closed. */
void Wxm_refuse_connection(int fd, int limit)
{
    char body[160], msg[400];
    int n = snprintf(body, sizeof(body),
                     "{\"code\":\"SYSTEM_ERROR\",\"message\":\"wxpay-mock holds its limit of %d "
                     "open connections; close some and retry\"}",
                     limit);
    int m = snprintf(msg, sizeof(msg),
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                     "Connection: close\r\nContent-Length: %d\r\n\r\n%s",
                     n, body);
    ssize_t w = send(fd, msg, (size_t)m, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w; /* best effort: the close says it too */
    close(fd);
}

/* The connection limit: `most`, or what the descriptor limit
 * leaves room for (each connection is a descriptor; keep some for files). */
int Wxm_connection_limit(int most)
{
    struct rlimit rl;
    long limit = most;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (long)rl.rlim_cur - 64 < limit)
        limit = (long)rl.rlim_cur - 64;
    return limit < 16 ? 16 : (int)limit;
}

/* The listening socket, bound and listening, non-blocking. */
int Wxm_listen_on(const struct sockaddr *sa, socklen_t len, int v6only, int backlog)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (sa->sa_family == AF_INET6) /* "::" is dual stack unless told otherwise */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    if (bind(fd, sa, len) != 0 || listen(fd, backlog) != 0) { /* the kernel caps it */
        close(fd);
        return -1;
    }
    return fd;
}
