/* transport.c: the only file that touches libcurl. Every request, sync or
 * async, is a job driven by one curl multi handle: an attempt is signed
 * afresh (new nonce and timestamp), sent, judged; a failure that another
 * attempt may cure is retried after a jittered backoff, on the backup base
 * URL after a transport failure. The sync calls run a private multi. */
#include "wxpay_int.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct job {
    struct job *next;
    wxpay_client *c;
    wxpay_job_spec spec;
    wxpay_done_fn done;
    void *user;
    int attempts;
    bool use_backup;
    int64_t start_at;   /* monotonic ms when the next attempt may start */
    int64_t started_at; /* of the running attempt */
    CURL *easy;         /* non-NULL while an attempt runs */
    struct curl_slist *headers;
    struct curl_slist *resolve;
    char url[2048];
    wxpay_answer ans;
    size_t body_cap;
    int sends;        /* times libcurl was about to send this attempt */
    char errbuf[CURL_ERROR_SIZE];
} job;

#define IDLE_HANDLES 32

struct wxpay_multi {
    wxpay_client *c;
    CURLM *multi;
    job *jobs;
    /* Easy handles of finished attempts, reset and kept for the next ones:
     * setting one up from nothing costs more than the request's HTTP. */
    CURL *idle[IDLE_HANDLES];
    int nidle;
};

const char *wxpay_curl_version(void)
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

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* --------------------------------------------------------- callbacks */

static size_t on_body(char *p, size_t size, size_t n, void *u)
{
    job *j = u;
    size_t k = size * n;
    if (j->ans.body_len + k + 1 > j->body_cap) {
        size_t cap = (j->ans.body_len + k + 1) * 2;
        if (cap > 16u << 20 && j->ans.body_len + k + 1 <= 16u << 20)
            cap = 16u << 20;
        if (j->ans.body_len + k + 1 > cap)
            return 0; /* over 16 MiB: abort the transfer */
        char *b = realloc(j->ans.body, cap);
        if (!b)
            return 0;
        j->ans.body = b;
        j->body_cap = cap;
    }
    memcpy(j->ans.body + j->ans.body_len, p, k);
    j->ans.body_len += k;
    j->ans.body[j->ans.body_len] = '\0';
    return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *u)
{
    job *j = u;
    size_t k = size * n;
    /* A new status line (after a redirect or 100 Continue) starts afresh. */
    if (k >= 5 && memcmp(p, "HTTP/", 5) == 0)
        memset(j->ans.present, 0, sizeof(j->ans.present));
    for (int h = 0; h < H_COUNT; h++) {
        size_t nl = strlen(wxpay_answer_header_names[h]);
        if (k > nl && p[nl] == ':' && strncasecmp(p, wxpay_answer_header_names[h], nl) == 0) {
            const char *v = p + nl + 1;
            size_t vl = k - nl - 1;
            while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
            while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
                vl--;
            if (vl >= sizeof(j->ans.headers[h]))
                vl = sizeof(j->ans.headers[h]) - 1;
            memcpy(j->ans.headers[h], v, vl);
            j->ans.headers[h][vl] = '\0';
            j->ans.present[h] = true;
        }
    }
    return k;
}

/* When a kept-alive connection dies after the request went out, libcurl
 * (before 8.16's CURLOPT_FORBID_RETRY_ON_REUSE) sends the request again on
 * a fresh connection by itself: the same nonce, which WeChat Pay refuses as
 * a replay (and the first one may have been acted on). libcurl asks this
 * callback before every send, so the second time it is told no; the
 * attempt fails as a transport error and our own retry signs anew. */
static int before_send(void *u, char *ip, char *local_ip, int port, int local_port)
{
    job *j = u;
    (void)ip, (void)local_ip, (void)port, (void)local_port;
    return ++j->sends == 1 ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

/* ------------------------------------------------------------ attempts */

/* Ends the attempt; its easy handle (already out of the multi) goes back
 * to the idle ones, all options reset. */
static void end_attempt(wxpay_multi *m, job *j)
{
    curl_slist_free_all(j->headers);
    j->headers = NULL;
    curl_slist_free_all(j->resolve);
    j->resolve = NULL;
    if (j->easy && m->nidle < IDLE_HANDLES) {
        curl_easy_reset(j->easy);
        m->idle[m->nidle++] = j->easy;
    } else if (j->easy) {
        curl_easy_cleanup(j->easy);
    }
    j->easy = NULL;
}

static void reset_answer(job *j)
{
    free(j->ans.body);
    memset(&j->ans, 0, sizeof(j->ans));
    j->body_cap = 0;
}

/* Starts an attempt; on a local failure returns a result to finish with. */
static wxpay_result *start_attempt(wxpay_multi *m, job *j)
{
    wxpay_client *c = j->c;
    char *h[8];
    wxpay_code rc = wxpay_sign_headers(c, &j->spec, h);
    if (rc)
        return wxpay_result_new(rc, "cannot sign the request: %s", c->error);
    reset_answer(j);
    j->easy = m->nidle ? m->idle[--m->nidle] : curl_easy_init();
    for (int i = 0; i < 8 && h[i]; i++)
        j->headers = curl_slist_append(j->headers, h[i]);
    j->headers = curl_slist_append(j->headers, "Expect:");
    wxpay_free_headers(h);
    if (!j->easy || !j->headers) {
        end_attempt(m, j);
        return wxpay_result_new(WXPAY_E_NOMEM, "out of memory");
    }
    snprintf(j->url, sizeof(j->url), "%s%s", wxpay_attempt_base(c, j->use_backup), j->spec.target);
    CURL *e = j->easy;
    curl_easy_setopt(e, CURLOPT_URL, j->url);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L); /* the target is signed as is */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
    j->sends = 0;
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, before_send);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, j);
    if (j->spec.body_len || strcmp(j->spec.method, "POST") == 0) {
        /* Given whole, the body goes out in the same packet as the headers. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->spec.body ? j->spec.body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)j->spec.body_len);
    }
    if (strcmp(j->spec.method, "GET") != 0 && strcmp(j->spec.method, "POST") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, j->spec.method);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->total_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (c->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    for (int i = 0; i < c->nresolve; i++)
        j->resolve = curl_slist_append(j->resolve, c->resolve[i]);
    if (j->resolve)
        curl_easy_setopt(e, CURLOPT_RESOLVE, j->resolve);
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    j->errbuf[0] = '\0';
    j->attempts++;
    j->started_at = now_ms();
    if (curl_multi_add_handle(m->multi, e) != CURLM_OK) {
        end_attempt(m, j);
        return wxpay_result_new(WXPAY_E_NOMEM, "cannot start the transfer");
    }
    return NULL;
}

static void finish(wxpay_multi *m, job *j, wxpay_result *r)
{
    job **p = &m->jobs;
    while (*p && *p != j)
        p = &(*p)->next;
    if (*p)
        *p = j->next;
    end_attempt(m, j);
    reset_answer(j);
    wxpay_spec_clear(&j->spec);
    if (r && r->attempts == 0)
        r->attempts = j->attempts;
    if (j->done)
        j->done(j->user, r);
    else
        wxpay_result_free(r);
    free(j);
}

/* An attempt ended with curl code `cc`: judge it, retry or finish. */
static void attempt_done(wxpay_multi *m, job *j, CURLcode cc)
{
    wxpay_client *c = j->c;
    curl_multi_remove_handle(m->multi, j->easy);
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->ans.status);
    j->ans.curl_code = (int)cc;
    j->ans.timed_out = cc == CURLE_OPERATION_TIMEDOUT;
    if (cc != CURLE_OK) {
        j->ans.status = 0;
        snprintf(j->ans.curl_error, sizeof(j->ans.curl_error), "%s",
                 cc == CURLE_ABORTED_BY_CALLBACK && j->sends > 1
                     ? "the connection closed after the request was sent, before any answer "
                       "(libcurl's resend of the same signed request was stopped)"
                     : j->errbuf[0] ? j->errbuf : curl_easy_strerror(cc));
    }
    const char *url = j->url;
    int64_t took = now_ms() - j->started_at;
    bool retry;
    wxpay_result *r = wxpay_judge(c, &j->spec, &j->ans, j->attempts, &retry);
    if (!r) {
        finish(m, j, NULL);
        return;
    }
    bool more = retry && j->attempts <= c->retries;
    if (!more) {
        wxpay_log(c, "attempt %d: %s %s -> %s (%lld ms)", j->attempts, j->spec.method, url, r->detail,
                  (long long)took);
        finish(m, j, r);
        return;
    }
    long wait = wxpay_backoff_ms(c, j->attempts);
    bool was_backup = j->use_backup;
    if (cc != CURLE_OK && c->backup_url)
        j->use_backup = !j->use_backup; /* fail over (and back) on transport failure */
    wxpay_log(c, "attempt %d: %s %s -> %s (%lld ms); retrying in %ld ms%s", j->attempts,
              j->spec.method, url, r->detail, (long long)took, wait,
              j->use_backup != was_backup ? (j->use_backup ? " on the backup URL" : " on the base URL")
                                          : "");
    wxpay_result_free(r);
    end_attempt(m, j);
    j->start_at = now_ms() + wait;
}

/* ---------------------------------------------------------------- multi */

wxpay_multi *wxpay_multi_new(wxpay_client *c)
{
    wxpay_multi *m;
    if (!c)
        return NULL;
    m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->c = c;
    m->multi = curl_multi_init();
    if (!m->multi) {
        free(m);
        return NULL;
    }
    return m;
}

void wxpay_multi_free(wxpay_multi *m)
{
    if (!m)
        return;
    while (m->jobs) {
        job *j = m->jobs;
        if (j->easy)
            curl_multi_remove_handle(m->multi, j->easy);
        m->jobs = j->next;
        end_attempt(m, j);
        reset_answer(j);
        wxpay_spec_clear(&j->spec);
        free(j);
    }
    while (m->nidle)
        curl_easy_cleanup(m->idle[--m->nidle]);
    curl_multi_cleanup(m->multi);
    free(m);
}

static wxpay_code add_job(wxpay_multi *m, wxpay_job_spec *spec, wxpay_done_fn done, void *user)
{
    job *j = calloc(1, sizeof(*j));
    if (!j) {
        wxpay_spec_clear(spec);
        return WXPAY_E_NOMEM;
    }
    j->c = m->c;
    j->spec = *spec;
    j->done = done;
    j->user = user;
    j->start_at = 0;
    j->next = m->jobs;
    m->jobs = j;
    return WXPAY_OK;
}

wxpay_code wxpay_multi_add_request(wxpay_multi *m, const char *method, const char *path,
                                   const wxp_param *params, size_t nparams, const char *json_body,
                                   wxpay_done_fn done, void *user)
{
    wxpay_job_spec s;
    if (!m)
        return WXPAY_E_ARG;
    wxpay_code rc = wxpay_spec_init(m->c, &s, method, path, params, nparams, json_body);
    if (rc) {
        wxpay_spec_clear(&s);
        return rc;
    }
    return add_job(m, &s, done, user);
}

wxpay_code wxpay_multi_add_reverse(wxpay_multi *m, const char *otn, const char *appid,
                                   wxpay_done_fn done, void *user)
{
    wxpay_job_spec s;
    if (!m)
        return WXPAY_E_ARG;
    wxpay_code rc = wxpay_spec_reverse(m->c, &s, otn, appid);
    if (rc) {
        wxpay_spec_clear(&s);
        return rc;
    }
    return add_job(m, &s, done, user);
}

static int count_jobs(const wxpay_multi *m)
{
    int n = 0;
    for (const job *j = m->jobs; j; j = j->next)
        n++;
    return n;
}

int wxpay_multi_poll(wxpay_multi *m, int timeout_ms)
{
    if (!m)
        return 0;
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        /* Start attempts that are due; note when the next one is. */
        int64_t t = now_ms(), next_start = -1;
        for (job *j = m->jobs, *nx; j; j = nx) {
            nx = j->next;
            if (j->easy)
                continue;
            if (j->start_at <= t) {
                wxpay_result *r = start_attempt(m, j);
                if (r)
                    finish(m, j, r);
            } else if (next_start < 0 || j->start_at < next_start) {
                next_start = j->start_at;
            }
        }
        int running = 0;
        curl_multi_perform(m->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            job *j = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            CURLcode cc = msg->data.result;
            attempt_done(m, j, cc);
        }
        if (!m->jobs)
            return 0;
        t = now_ms();
        if (t >= deadline)
            return count_jobs(m);
        int64_t wait = deadline - t;
        if (next_start >= 0 && next_start - t < wait)
            wait = next_start - t > 0 ? next_start - t : 0;
        if (wait > 100)
            wait = 100;
        curl_multi_poll(m->multi, NULL, 0, (int)wait, NULL);
    }
}

void wxpay_multi_wait(wxpay_multi *m)
{
    while (wxpay_multi_poll(m, 1000) > 0)
        ;
}

/* ----------------------------------------------------------------- sync */

static void keep_result(void *user, wxpay_result *r)
{
    *(wxpay_result **)user = r;
}

static wxpay_code run_one(wxpay_client *c, wxpay_job_spec *s, wxpay_code rc, wxpay_result **out)
{
    wxpay_result *r = NULL;
    if (rc) {
        r = wxpay_result_new(rc, "%s", rc == WXPAY_E_CONFIG ? c->error : wxpay_strerror(rc));
    } else {
        /* One multi per client for sync calls, kept: libcurl's connection
         * cache lives in it, so the next call reuses the connection. */
        if (!c->sync_multi)
            c->sync_multi = wxpay_multi_new(c);
        if (!c->sync_multi || add_job(c->sync_multi, s, keep_result, &r) != WXPAY_OK) {
            *out = NULL;
            return WXPAY_E_NOMEM;
        }
        wxpay_multi_wait(c->sync_multi);
    }
    *out = r;
    return r ? r->code : WXPAY_E_NOMEM;
}

wxpay_code wxpay_request(wxpay_client *c, const char *method, const char *path,
                         const wxp_param *params, size_t nparams, const char *json_body,
                         wxpay_result **out)
{
    wxpay_job_spec s;
    if (!c || !out)
        return WXPAY_E_ARG;
    wxpay_code rc = wxpay_spec_init(c, &s, method, path, params, nparams, json_body);
    if (rc)
        wxpay_spec_clear(&s);
    return run_one(c, &s, rc, out);
}

wxpay_code wxpay_reverse(wxpay_client *c, const char *otn, const char *appid, wxpay_result **out)
{
    wxpay_job_spec s;
    if (!c || !out)
        return WXPAY_E_ARG;
    wxpay_code rc = wxpay_spec_reverse(c, &s, otn, appid);
    if (rc)
        wxpay_spec_clear(&s);
    return run_one(c, &s, rc, out);
}
