/* http.c: the only file of libwxpay that touches libcurl (wxpay_http.h).
 * Transfers run on one curl multi handle; finished ones wait in libcurl's
 * message queue until the caller collects them. Easy handles of finished
 * transfers are reset and kept: setting one up from nothing costs more
 * than the request's HTTP. */
#include "wxpay_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IDLE_HANDLES 32
#define MAX_ANSWER_BODY (16u << 20)

const char *const Wxpay_answer_header_names[WXPAY_H_COUNT] = {
    [WXPAY_H_REQUEST_ID] = "Request-ID",     [WXPAY_H_TIMESTAMP] = "Wechatpay-Timestamp",
    [WXPAY_H_NONCE] = "Wechatpay-Nonce",     [WXPAY_H_SIGNATURE] = "Wechatpay-Signature",
    [WXPAY_H_SERIAL] = "Wechatpay-Serial",   [WXPAY_H_SIGNATURE_TYPE] = "Wechatpay-Signature-Type",
    [WXPAY_H_CONTENT_TYPE] = "Content-Type",
};

typedef struct transfer {
    struct transfer *next;
    CURL *easy;
    void *tag;
    struct curl_slist *headers;
    struct curl_slist *resolve;
    Wxpay_answer ans;
    size_t body_cap;
    int sends; /* times libcurl was about to send this request */
    char errbuf[CURL_ERROR_SIZE];
} transfer;

struct Wxpay_http {
    CURLM *multi;
    transfer *running;
    CURL *idle[IDLE_HANDLES];
    int nidle;
};

const char *Wxpay_http_version(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    return v && v->version ? v->version : "?";
}

wxpay_code wxpay_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? WXPAY_OK : WXPAY_E_NOMEM;
}

void wxpay_global_cleanup(void)
{
    curl_global_cleanup();
}

void Wxpay_answer_clear(Wxpay_answer *a)
{
    if (!a)
        return;
    free(a->body);
    memset(a, 0, sizeof(*a));
}

/* --------------------------------------------------------- callbacks */

static size_t on_body(char *p, size_t size, size_t n, void *u)
{
    transfer *t = u;
    size_t k = size * n, need = t->ans.body_len + k + 1;
    if (need > MAX_ANSWER_BODY + 1) {
        t->ans.too_large = true;
        return 0; /* over the cap: libcurl aborts the transfer */
    }
    if (need > t->body_cap) {
        size_t cap = need * 2 > MAX_ANSWER_BODY + 1 ? MAX_ANSWER_BODY + 1 : need * 2;
        char *b = realloc(t->ans.body, cap);
        if (!b)
            return 0;
        t->ans.body = b;
        t->body_cap = cap;
    }
    memcpy(t->ans.body + t->ans.body_len, p, k);
    t->ans.body_len += k;
    t->ans.body[t->ans.body_len] = '\0';
    return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *u)
{
    transfer *t = u;
    size_t k = size * n;
    /* A new status line (after a redirect or 100 Continue) starts afresh. */
    if (k >= 5 && memcmp(p, "HTTP/", 5) == 0)
        memset(t->ans.present, 0, sizeof(t->ans.present));
    for (int h = 0; h < WXPAY_H_COUNT; h++) {
        size_t nl = strlen(Wxpay_answer_header_names[h]);
        if (k > nl && p[nl] == ':' && strncasecmp(p, Wxpay_answer_header_names[h], nl) == 0) {
            const char *v = p + nl + 1;
            size_t vl = k - nl - 1;
            while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
            while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
                vl--;
            if (vl >= sizeof(t->ans.headers[h]))
                vl = sizeof(t->ans.headers[h]) - 1;
            memcpy(t->ans.headers[h], v, vl);
            t->ans.headers[h][vl] = '\0';
            t->ans.present[h] = true;
        }
    }
    return k;
}

/* When a kept-alive connection dies after the request went out, libcurl
 * (before 8.16's CURLOPT_FORBID_RETRY_ON_REUSE) sends the request again on
 * a fresh connection by itself: the same nonce, which WeChat Pay refuses as
 * a replay (and the first one may have been acted on). libcurl asks this
 * callback before every send, so the second time it is told no; the
 * transfer fails as a transport error and the caller signs anew. */
static int before_send(void *u, char *ip, char *local_ip, int port, int local_port)
{
    transfer *t = u;
    (void)ip, (void)local_ip, (void)port, (void)local_port;
    return ++t->sends == 1 ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

/* ------------------------------------------------------------ handle */

Wxpay_http *Wxpay_http_new(void)
{
    Wxpay_http *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return NULL;
    }
    return h;
}

/* The transfer's easy handle (already out of the multi) goes back to the
 * idle ones, all options reset. */
static void release(Wxpay_http *h, transfer *t)
{
    transfer **p = &h->running;
    while (*p && *p != t)
        p = &(*p)->next;
    if (*p)
        *p = t->next;
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->resolve);
    if (t->easy && h->nidle < IDLE_HANDLES) {
        curl_easy_reset(t->easy);
        h->idle[h->nidle++] = t->easy;
    } else if (t->easy) {
        curl_easy_cleanup(t->easy);
    }
    Wxpay_answer_clear(&t->ans);
    free(t);
}

void Wxpay_http_free(Wxpay_http *h)
{
    if (!h)
        return;
    while (h->running) {
        curl_multi_remove_handle(h->multi, h->running->easy);
        release(h, h->running);
    }
    while (h->nidle)
        curl_easy_cleanup(h->idle[--h->nidle]);
    curl_multi_cleanup(h->multi);
    free(h);
}

wxpay_code Wxpay_http_start(Wxpay_http *h, const Wxpay_http_req *req, void *tag)
{
    transfer *t = calloc(1, sizeof(*t));
    if (!t)
        return WXPAY_E_NOMEM;
    t->tag = tag;
    t->next = h->running;
    h->running = t;
    t->easy = h->nidle ? h->idle[--h->nidle] : curl_easy_init();
    bool ok = t->easy != NULL;
    for (int i = 0; ok && req->headers[i]; i++)
        ok = (t->headers = curl_slist_append(t->headers, req->headers[i])) != NULL;
    if (ok) /* no "Expect: 100-continue" round trip */
        ok = (t->headers = curl_slist_append(t->headers, "Expect:")) != NULL;
    for (int i = 0; ok && i < req->nresolve; i++)
        ok = (t->resolve = curl_slist_append(t->resolve, req->resolve[i])) != NULL;
    if (!ok) {
        release(h, t);
        return WXPAY_E_NOMEM;
    }
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L); /* the target is signed as is */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, before_send);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, t);
    if (req->body_len || strcmp(req->method, "POST") == 0) {
        /* Given whole, the body goes out in the same packet as the headers. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->connect_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->total_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (req->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
    if (t->resolve)
        curl_easy_setopt(e, CURLOPT_RESOLVE, t->resolve);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        release(h, t);
        return WXPAY_E_NOMEM;
    }
    return WXPAY_OK;
}

int Wxpay_http_perform(Wxpay_http *h)
{
    int running = 0;
    curl_multi_perform(h->multi, &running);
    return running;
}

bool Wxpay_http_next_done(Wxpay_http *h, void **tag, Wxpay_answer *ans)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        transfer *t = NULL;
        CURLcode cc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(h->multi, t->easy);
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->ans.status);
        t->ans.curl_code = (int)cc;
        t->ans.timed_out = cc == CURLE_OPERATION_TIMEDOUT;
        if (t->ans.too_large) {
            snprintf(t->ans.curl_error, sizeof(t->ans.curl_error),
                     "the answer is larger than %u MiB; reading stopped there",
                     MAX_ANSWER_BODY >> 20);
        } else if (cc != CURLE_OK) {
            t->ans.status = 0;
            snprintf(t->ans.curl_error, sizeof(t->ans.curl_error), "%s",
                     cc == CURLE_ABORTED_BY_CALLBACK && t->sends > 1
                         ? "the connection closed after the request was sent, before any answer "
                           "(libcurl's resend of the same signed request was stopped)"
                     : t->errbuf[0] ? t->errbuf
                                    : curl_easy_strerror(cc));
        }
        *tag = t->tag;
        *ans = t->ans;
        memset(&t->ans, 0, sizeof(t->ans));
        release(h, t);
        return true;
    }
    return false;
}

void Wxpay_http_wait(Wxpay_http *h, int ms)
{
    curl_multi_poll(h->multi, NULL, 0, ms, NULL);
}
