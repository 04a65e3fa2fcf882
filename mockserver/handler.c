/* handler.c: one request in, one answer out. Sends admin calls to the
 * admin API, runs the checks, hands a request that passed them to the
 * order rules, and writes the journal entry. Pure: no sockets, no clock
 * (the caller gives the time), so tests and fuzzers call it directly. */
#include "mock_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------- lifecycle */

/* A switch without default: a new code without a message breaks the
 * -Wall -Werror build. */
const char *wxm_strerror(wxm_err e)
{
    switch (e) {
    case WXM_OK: return "no error";
    case WXM_E_NOMEM: return "out of memory";
    case WXM_E_ARG: return "invalid argument";
    case WXM_E_IO: return "file could not be read or written";
    case WXM_E_CONFIG: return "bad configuration";
    case WXM_E_TLS: return "TLS certificate or key cannot be used";
    case WXM_E_LISTEN: return "cannot listen";
    }
    return "unknown error";
}

wxm_err wxm_mock_new(wxm_config *cfg, wxm_mock **out)
{
    wxm_mock *m;
    if (!cfg || !out) {
        wxm_config_free(cfg);
        return WXM_E_ARG;
    }
    m = calloc(1, sizeof(*m));
    if (!m) {
        wxm_config_free(cfg);
        return WXM_E_NOMEM;
    }
    m->cfg = cfg;
    pthread_mutex_init(&m->keys.lock, NULL);
    Wxm_keys_reset(m);
    m->orders = Wxm_store_new(cfg->orders);
    m->nonces = Wxm_nonces_new(cfg->nonce_entries);
    m->journal = Wxm_journal_new(cfg->journal_entries, cfg->journal_bytes);
    if (!m->orders || !m->nonces || !m->journal) {
        wxm_mock_free(m);
        return WXM_E_NOMEM;
    }
    *out = m;
    return WXM_OK;
}

uint64_t wxm_mock_journal_file_lost(wxm_mock *m)
{
    return m ? Wxm_journal_file_lost(m->journal) : 0;
}

void wxm_mock_free(wxm_mock *m)
{
    if (!m)
        return;
    Wxm_store_free(m->orders);
    Wxm_nonces_free(m->nonces);
    Wxm_journal_free(m->journal);
    pthread_mutex_destroy(&m->keys.lock);
    wxm_config_free(m->cfg);
    free(m);
}

wxm_err wxm_mock_set_journal_file(wxm_mock *m, const char *path, wxp_diag *diag)
{
    if (!m)
        return WXM_E_ARG;
    wxp_err e = Wxm_journal_set_file(m->journal, path, diag);
    return e == WXP_OK ? WXM_OK : e == WXP_ERR_NOMEM ? WXM_E_NOMEM : WXM_E_IO;
}

/* ------------------------------------------------------------ journal */

static bool valid_utf8(wxp_span s)
{
    size_t i = 0;
    const unsigned char *p = (const unsigned char *)s.ptr;
    while (i < s.len) {
        unsigned char c = p[i];
        size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
        if (c == 0 || n == 9 || i + n >= s.len + (n ? 0 : 1))
            return false;
        for (size_t k = 1; k <= n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
        i += n + 1;
    }
    return true;
}

#define JOURNAL_VALUE_MAX 2048 /* bytes of a method, target or header value kept */

/* Bytes as a string member when they are UTF-8 without NUL, else quoted
 * (wxp_quote) as "<name>_escaped"; cut at `max` bytes, and then the whole
 * length given as "<name>_length". */
static void add_bytes(Wxm_json *e, const char *name, wxp_span s, size_t max)
{
    char key[64];
    wxp_span kept = {s.ptr, s.len > max ? max : s.len};
    if (valid_utf8(kept)) {
        Wxm_json_string(e, name, kept.ptr ? kept.ptr : "", kept.len);
    } else {
        char *q = malloc(kept.len * 4 + 8);
        if (!q) {
            e->failed = true; /* the entry is counted as dropped, not cut in silence */
            return;
        }
        wxp_quote(q, kept.len * 4 + 8, kept, kept.len);
        snprintf(key, sizeof(key), "%s_escaped", name);
        Wxm_json_cstring(e, key, q);
        free(q);
    }
    if (kept.len < s.len) {
        snprintf(key, sizeof(key), "%s_length", name);
        Wxm_json_int(e, key, (long long)s.len);
    }
}

/* The entry's start: what was asked (the checks and the answer follow). */
static void journal_entry(Wxm_json *e, const wxm_request *r, int64_t now_ms)
{
    Wxm_json_open(e, NULL, '{');
    Wxm_json_int(e, "time", now_ms / 1000);
    Wxm_json_int(e, "time_ms", now_ms);
    if (r->peer)
        Wxm_json_cstring(e, "peer", r->peer);
    add_bytes(e, "method", r->method, JOURNAL_VALUE_MAX);
    add_bytes(e, "target", r->target, JOURNAL_VALUE_MAX);
    Wxm_json_open(e, "headers", '[');
    for (size_t i = 0; i < r->nheaders; i++) {
        Wxm_json_open(e, NULL, '{');
        add_bytes(e, "name", r->headers[i].name, JOURNAL_VALUE_MAX);
        add_bytes(e, "value", r->headers[i].value, JOURNAL_VALUE_MAX);
        Wxm_json_close(e, '}');
    }
    Wxm_json_close(e, ']');
    add_bytes(e, "body", r->body, 4096);
    if (r->body.len <= 4096)
        Wxm_json_int(e, "body_length", (long long)r->body.len);
}

/* ------------------------------------------------------------- handle */

void wxm_handle(wxm_mock *m, const wxm_request *r, int64_t now, wxm_answer *a)
{
    wxm_handle_ms(m, r, now * 1000, a);
}

void wxm_handle_ms(wxm_mock *m, const wxm_request *r, int64_t now_ms, wxm_answer *a)
{
    int64_t now = now_ms / 1000;
    memset(a, 0, sizeof(*a));
    if (r->target.len >= 9 && memcmp(r->target.ptr, "/__admin/", 9) == 0) {
        Wxm_admin(m, r, now_ms, a);
        return;
    }
    Wxm_json e = {0}, *entry = &e;
    journal_entry(entry, r, now_ms);
    Wxm_ctx c;
    memset(&c, 0, sizeof(c));
    c.m = m;
    c.req = r;
    c.now = now;
    c.now_ms = now_ms;
    Wxm_json_open(entry, "checks", '[');
    c.journal = entry;
    bool ok = Wxm_check_request(&c);
    Wxm_json_close(entry, ']');
    bool has_otn = c.out_trade_no[0] && strlen(c.out_trade_no) == c.out_trade_no_len; /* no NUL */
    if (has_otn)
        Wxm_json_cstring(entry, "out_trade_no", c.out_trade_no);
    if (c.warning) {
        Wxm_json_open(entry, "warnings", '[');
        Wxm_json_cstring(entry, NULL, c.warning);
        Wxm_json_close(entry, ']');
    }
    if (!ok) {
        Wxm_api_answer(m, a, c.fail.status,
                       Wxm_error_body(c.fail.code, c.fail.message, c.fail.detail), WXM_STEP_OK,
                       now);
        Wxm_answer_code(a, entry, c.fail.code);
        if (c.fail.status == 405) { /* the methods of the endpoint the path names */
            const Wxm_endpoint *ep = c.ep ? c.ep : Wxm_endpoint_of(r->target);
            Wxm_answer_header(a, "Allow", ep ? ep->method : "GET, POST");
        }
    } else {
        Wxm_json_cstring(entry, "endpoint", c.ep->name);
        switch (c.route) {
        case WXM_ROUTE_REVERSE: Wxm_rule_reverse(&c, a, entry); break;
        case WXM_ROUTE_QUERY:
        case WXM_ROUTE_QUERY_ID: Wxm_rule_query(&c, a, entry); break;
        case WXM_ROUTE_CERTIFICATES: Wxm_rule_certificates(&c, a, entry); break;
        case WXM_ROUTE_CODEPAY: Wxm_rule_codepay(&c, a, entry); break;
        case WXM_ROUTE_CLOSE: Wxm_rule_close(&c, a, entry); break;
        default: break;
        }
    }
    Wxm_json_int(entry, "status", a->status);
    for (size_t i = 0; i < a->nheaders; i++)
        if (strcmp(a->headers[i].name, "Request-ID") == 0)
            Wxm_json_cstring(entry, "request_id", a->headers[i].value);
    if (a->broken)
        Wxm_json_cstring(entry, "answer_failed", a->broken);
    if (a->action == WXM_DROP)
        Wxm_json_cstring(entry, "answer", "dropped");
    else if (a->wait_ms)
        Wxm_json_int(entry, "wait_ms", a->wait_ms);
    Wxm_json_close(entry, '}');
    Wxm_journal_add(m->journal, entry, has_otn ? c.out_trade_no : NULL);
}
