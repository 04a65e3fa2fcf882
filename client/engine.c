/* engine.c: the attempt engine. Every request, sync or async, is a job: an
 * attempt is signed afresh (new nonce and timestamp), handed to the HTTP
 * layer, and its answer judged; a failure that another attempt may cure
 * is retried after a jittered backoff, on the backup base URL after a
 * transport failure. The sync calls are a job on a multi of their own.
 *
 * A client with the APIv3 key and no WeChat Pay key first downloads the
 * platform certificates (certs.c); an answer signed under a serial the
 * client does not know is held while the list is fetched again, once per
 * answer, and then judged. */
#include "wxpay_int.h"
#include "wxp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct job {
    struct job *next;
    Wxpay_spec spec;
    wxpay_done_fn done;
    void *user;
    int attempts;
    bool use_backup;
    bool running;       /* an attempt is with the HTTP layer */
    int64_t start_at;   /* monotonic ms when the next attempt may start */
    int64_t started_at; /* of the running attempt */
    char url[2048];
    bool fetching;     /* the running transfer is a certificate download */
    int downloads;     /* certificate downloads of this job */
    bool refetched;    /* this answer already caused a download */
    bool holding;      /* `held` waits for the download to be judged */
    Wxpay_answer held; /* an answer signed under an unknown serial */
} job;

struct wxpay_multi {
    wxpay_client *c;
    Wxpay_http *http; /* the client's kept one for sync calls, else the multi's own */
    job *jobs;
};

static int64_t now_ms(void)
{
    return Wxp_mono_us() / 1000;
}

/* Backoff before attempt n+1 (n >= 1): doubling from base_ms, capped at
 * max_ms, jittered to 50-100 %. */
static long backoff_ms(wxpay_client *c, int n)
{
    long d = c->base_ms;
    for (int i = 1; i < n && d < c->max_ms; i++)
        d *= 2;
    if (d > c->max_ms)
        d = c->max_ms;
    /* xorshift64: jitter only */
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return d / 2 + (long)(c->rng % (uint64_t)(d / 2 + 1));
}

/* ------------------------------------------------------------ attempts */

/* Starts an attempt (or a certificate download); on a local failure
 * returns a result to finish with. */
static wxpay_result *start_attempt(wxpay_multi *m, job *j)
{
    wxpay_client *c = m->c;
    char *h[WXPAY_MAX_HEADERS], why[200];
    Wxpay_spec certs;
    bool download = j->holding || Wxpay_certs_needed(c);
    if (download && Wxpay_certs_spec(c, &certs) != WXPAY_OK)
        return Wxpay_result_new(WXPAY_E_NOMEM, "out of memory");
    const Wxpay_spec *spec = download ? &certs : &j->spec;
    wxpay_code rc = Wxpay_sign_headers(c, spec, h, why, sizeof(why));
    const char *base = j->use_backup && c->backup_url ? c->backup_url : c->base_url;
    snprintf(j->url, sizeof(j->url), "%s%s", base, spec->target);
    if (download)
        Wxpay_spec_clear(&certs);
    if (rc)
        return Wxpay_result_new(rc, "%s", why);
    Wxpay_http_req req = {
        .method = j->spec.method,
        .url = j->url,
        .headers = h,
        .body = j->spec.body,
        .body_len = j->spec.body_len,
        .connect_ms = c->connect_ms,
        .total_ms = c->total_ms,
        .ca_file = c->ca_file,
        .resolve = c->resolve,
        .nresolve = c->nresolve,
    };
    if (download) {
        req.method = "GET";
        req.body = NULL;
        req.body_len = 0;
    }
    rc = Wxpay_http_start(m->http, &req, j);
    Wxpay_free_headers(h);
    if (rc)
        return Wxpay_result_new(rc, "cannot start the transfer: out of memory");
    j->fetching = download;
    if (download) {
        j->downloads++;
    } else {
        j->attempts++;
        j->refetched = false; /* a new answer may ask for a new list */
    }
    j->running = true;
    j->started_at = now_ms();
    return NULL;
}

static void finish(wxpay_multi *m, job *j, wxpay_result *r)
{
    job **p = &m->jobs;
    while (*p && *p != j)
        p = &(*p)->next;
    if (*p)
        *p = j->next;
    Wxpay_spec_clear(&j->spec);
    Wxpay_answer_clear(&j->held);
    if (r && r->attempts == 0)
        r->attempts = j->attempts;
    if (j->done)
        j->done(j->user, r);
    else
        wxpay_result_free(r);
    free(j);
}

/* Schedules the next try after a backoff, failing over on a transport
 * failure; logs it. */
static void again(wxpay_multi *m, job *j, const wxpay_result *r, bool transport_failed,
                  int64_t took)
{
    wxpay_client *c = m->c;
    long wait = backoff_ms(c, j->attempts + j->downloads);
    bool was_backup = j->use_backup;
    if (transport_failed && c->backup_url)
        j->use_backup = !j->use_backup; /* fail over (and back) on transport failure */
    Wxpay_log(c, "attempt %d: %s %s -> %s (%lld ms); retrying in %ld ms%s", j->attempts,
              j->fetching ? "GET" : j->spec.method, j->url, r->detail, (long long)took, wait,
              j->use_backup != was_backup
                  ? (j->use_backup ? " on the backup URL" : " on the base URL")
                  : "");
    j->start_at = now_ms() + wait;
}

/* A certificate download came back: take the list, then go on with the
 * request (or judge the held answer again). */
static void download_done(wxpay_multi *m, job *j, Wxpay_answer *a, int64_t took)
{
    wxpay_client *c = m->c;
    bool retry;
    wxpay_result *r = Wxpay_certs_accept(c, a, &retry);
    j->fetching = false;
    if (!r) {
        finish(m, j, NULL);
        return;
    }
    if (r->code == WXPAY_OK || j->holding) {
        char got[sizeof(r->detail)];
        memcpy(got, r->detail, sizeof(got));
        bool ok = r->code == WXPAY_OK;
        wxpay_result_free(r);
        if (!j->holding) {
            j->start_at = now_ms(); /* now the request itself */
            return;
        }
        /* The held answer, judged with what the list brought (once). */
        j->holding = false;
        r = Wxpay_judge(c, &j->spec, &j->held, j->attempts, &retry);
        Wxpay_answer_clear(&j->held);
        if (r && !ok) {
            size_t len = strlen(r->detail);
            snprintf(r->detail + len, sizeof(r->detail) - len, "; fetching the list again: %s",
                     got);
        }
        if (r && retry && j->attempts <= c->retries) {
            again(m, j, r, false, took);
            wxpay_result_free(r);
            return;
        }
        finish(m, j, r);
        return;
    }
    if (retry && j->downloads <= c->retries) {
        again(m, j, r, a->curl_code != 0, took);
        wxpay_result_free(r);
        return;
    }
    finish(m, j, r);
}

/* An attempt came back: judge it, retry or finish. */
static void attempt_done(wxpay_multi *m, job *j, Wxpay_answer *a)
{
    wxpay_client *c = m->c;
    int64_t took = now_ms() - j->started_at;
    bool retry, transport_failed = a->curl_code != 0;
    j->running = false;
    if (j->fetching) {
        download_done(m, j, a, took);
        return;
    }
    wxpay_result *r = Wxpay_judge(c, &j->spec, a, j->attempts, &retry);
    if (!r) {
        finish(m, j, NULL);
        return;
    }
    if (r->code == WXPAY_E_VERIFY && r->verify_error == WXP_ERR_RESP_UNKNOWN_SERIAL &&
        c->apiv3_key[0] && !j->refetched) {
        /* Perhaps a certificate the client has not downloaded yet (a
         * rotation): hold this answer, fetch the list, judge it again. */
        Wxpay_log(c, "attempt %d: %s %s -> %s; fetching the platform certificates again",
                  j->attempts, j->spec.method, j->url, r->detail);
        j->refetched = true;
        j->holding = true;
        j->held = *a;
        j->held.body = r->body; /* the judge took the body: take it back */
        j->held.body_len = r->body_len;
        r->body = NULL;
        r->body_len = 0;
        wxpay_result_free(r);
        j->start_at = now_ms();
        return;
    }
    if (!retry || j->attempts > c->retries) {
        Wxpay_log(c, "attempt %d: %s %s -> %s (%lld ms)", j->attempts, j->spec.method, j->url,
                  r->detail, (long long)took);
        finish(m, j, r);
        return;
    }
    again(m, j, r, transport_failed, took);
    wxpay_result_free(r);
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
    m->http = Wxpay_http_new();
    if (!m->http) {
        free(m);
        return NULL;
    }
    return m;
}

static void drop_jobs(wxpay_multi *m)
{
    while (m->jobs) {
        job *j = m->jobs;
        m->jobs = j->next;
        Wxpay_spec_clear(&j->spec);
        Wxpay_answer_clear(&j->held);
        free(j);
    }
}

void wxpay_multi_free(wxpay_multi *m)
{
    if (!m)
        return;
    Wxpay_http_free(m->http); /* aborts what still runs */
    drop_jobs(m);
    free(m);
}

/* Takes the spec over (also on failure). */
static wxpay_code add_job(wxpay_multi *m, Wxpay_spec *spec, wxpay_done_fn done, void *user)
{
    job *j = calloc(1, sizeof(*j));
    if (!j) {
        Wxpay_spec_clear(spec);
        return WXPAY_E_NOMEM;
    }
    j->spec = *spec;
    j->done = done;
    j->user = user;
    j->next = m->jobs;
    m->jobs = j;
    return WXPAY_OK;
}

/* A built spec (or its error) onto the multi. */
static wxpay_code add_built(wxpay_multi *m, Wxpay_spec *s, wxpay_code rc, wxpay_done_fn done,
                            void *user)
{
    if (rc == WXPAY_OK)
        rc = Wxpay_can_verify(m->c);
    if (rc) {
        Wxpay_spec_clear(s);
        return rc;
    }
    return add_job(m, s, done, user);
}

wxpay_code wxpay_multi_add_request(wxpay_multi *m, const char *method, const char *path,
                                   const wxp_param *params, size_t nparams, const char *json_body,
                                   wxpay_done_fn done, void *user)
{
    Wxpay_spec s;
    if (!m)
        return WXPAY_E_ARG;
    return add_built(m, &s, Wxpay_spec_init(m->c, &s, method, path, params, nparams, json_body),
                     done, user);
}

wxpay_code wxpay_multi_add_reverse(wxpay_multi *m, const char *otn, const char *appid,
                                   wxpay_done_fn done, void *user)
{
    Wxpay_spec s;
    if (!m)
        return WXPAY_E_ARG;
    return add_built(m, &s, Wxpay_spec_reverse(m->c, &s, otn, appid), done, user);
}

static int count_jobs(const wxpay_multi *m)
{
    int n = 0;
    for (const job *j = m->jobs; j; j = j->next)
        n++;
    return n;
}

/* Starts the attempts that are due; returns when the next one is (-1:
 * none waits). */
static int64_t start_due(wxpay_multi *m, int64_t t)
{
    int64_t next_start = -1;
    for (job *j = m->jobs, *nx; j; j = nx) {
        nx = j->next;
        if (j->running)
            continue;
        if (j->start_at <= t) {
            wxpay_result *r = start_attempt(m, j);
            if (r)
                finish(m, j, r);
        } else if (next_start < 0 || j->start_at < next_start) {
            next_start = j->start_at;
        }
    }
    return next_start;
}

int wxpay_multi_poll(wxpay_multi *m, int timeout_ms)
{
    if (!m)
        return 0;
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int64_t next_start = start_due(m, now_ms());
        Wxpay_http_perform(m->http);
        void *tag;
        Wxpay_answer a;
        while (Wxpay_http_next_done(m->http, &tag, &a)) {
            attempt_done(m, tag, &a);
            Wxpay_answer_clear(&a);
        }
        if (!m->jobs)
            return 0;
        int64_t t = now_ms();
        if (t >= deadline)
            return count_jobs(m);
        int64_t wait = deadline - t;
        if (next_start >= 0 && next_start - t < wait)
            wait = next_start - t > 0 ? next_start - t : 0;
        if (wait > 100)
            wait = 100;
        Wxpay_http_wait(m->http, (int)wait);
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

/* Runs one spec to its end on the client's kept HTTP handle: libcurl's
 * connection cache lives in it, so the next call reuses the connection. */
static wxpay_code run_one(wxpay_client *c, Wxpay_spec *s, wxpay_code rc, wxpay_result **out)
{
    wxpay_result *r = NULL;
    if (rc == WXPAY_OK)
        rc = Wxpay_can_verify(c); /* a key, or the APIv3 key to download them */
    if (rc) {
        Wxpay_spec_clear(s);
        r = Wxpay_result_new(rc, "%s", rc == WXPAY_E_CONFIG ? c->error : wxpay_strerror(rc));
    } else {
        if (!c->sync_http)
            c->sync_http = Wxpay_http_new();
        wxpay_multi m = {.c = c, .http = c->sync_http};
        if (!m.http || add_job(&m, s, keep_result, &r) != WXPAY_OK) {
            Wxpay_spec_clear(s);
            *out = NULL;
            return WXPAY_E_NOMEM;
        }
        wxpay_multi_wait(&m);
    }
    *out = r;
    return r ? r->code : WXPAY_E_NOMEM;
}

wxpay_code wxpay_request(wxpay_client *c, const char *method, const char *path,
                         const wxp_param *params, size_t nparams, const char *json_body,
                         wxpay_result **out)
{
    Wxpay_spec s;
    if (!c || !out)
        return WXPAY_E_ARG;
    return run_one(c, &s, Wxpay_spec_init(c, &s, method, path, params, nparams, json_body), out);
}

wxpay_code wxpay_reverse(wxpay_client *c, const char *otn, const char *appid, wxpay_result **out)
{
    Wxpay_spec s;
    if (!c || !out)
        return WXPAY_E_ARG;
    return run_one(c, &s, Wxpay_spec_reverse(c, &s, otn, appid), out);
}

/* ------------------------------------------------------- code payment */

wxpay_code wxpay_codepay(wxpay_client *c, const wxpay_codepay_params *p, wxpay_result **out)
{
    Wxpay_spec s;
    if (!c || !out)
        return WXPAY_E_ARG;
    return run_one(c, &s, Wxpay_spec_codepay(c, &s, p), out);
}

static wxpay_code query(wxpay_client *c, const char *name, bool by_id, wxpay_result **out)
{
    Wxpay_spec s;
    if (!c || !out)
        return WXPAY_E_ARG;
    return run_one(c, &s, Wxpay_spec_query(c, &s, name, by_id), out);
}

wxpay_code wxpay_query(wxpay_client *c, const char *otn, wxpay_result **out)
{
    return query(c, otn, false, out);
}

wxpay_code wxpay_query_by_id(wxpay_client *c, const char *tid, wxpay_result **out)
{
    return query(c, tid, true, out);
}

wxpay_code wxpay_close(wxpay_client *c, const char *otn, wxpay_result **out)
{
    Wxpay_spec s;
    if (!c || !out)
        return WXPAY_E_ARG;
    return run_one(c, &s, Wxpay_spec_close(c, &s, otn), out);
}

wxpay_code wxpay_multi_add_codepay(wxpay_multi *m, const wxpay_codepay_params *p,
                                   wxpay_done_fn done, void *user)
{
    Wxpay_spec s;
    if (!m)
        return WXPAY_E_ARG;
    return add_built(m, &s, Wxpay_spec_codepay(m->c, &s, p), done, user);
}

wxpay_code wxpay_multi_add_query(wxpay_multi *m, const char *otn, wxpay_done_fn done, void *user)
{
    Wxpay_spec s;
    if (!m)
        return WXPAY_E_ARG;
    return add_built(m, &s, Wxpay_spec_query(m->c, &s, otn, false), done, user);
}

wxpay_code wxpay_multi_add_query_by_id(wxpay_multi *m, const char *tid, wxpay_done_fn done,
                                       void *user)
{
    Wxpay_spec s;
    if (!m)
        return WXPAY_E_ARG;
    return add_built(m, &s, Wxpay_spec_query(m->c, &s, tid, true), done, user);
}

wxpay_code wxpay_multi_add_close(wxpay_multi *m, const char *otn, wxpay_done_fn done, void *user)
{
    Wxpay_spec s;
    if (!m)
        return WXPAY_E_ARG;
    return add_built(m, &s, Wxpay_spec_close(m->c, &s, otn), done, user);
}
