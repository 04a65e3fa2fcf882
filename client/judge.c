/* judge.c: results, and what an answer means. Nothing in a 2xx answer is
 * trusted before its signature; an error answer is parsed whether signed
 * or not. Pure: no I/O. */
#include "wxpay_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

wxpay_result *Wxpay_result_new(wxpay_code code, const char *fmt, ...)
{
    wxpay_result *r = calloc(1, sizeof(*r));
    va_list ap;
    if (!r)
        return NULL;
    r->code = code;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
    return r;
}

void wxpay_result_free(wxpay_result *r)
{
    if (!r)
        return;
    free(r->error_detail);
    free(r->body);
    free(r);
}

wxpay_code wxpay_result_code(const wxpay_result *r)
{
    return r ? r->code : WXPAY_E_ARG;
}
const char *wxpay_result_detail(const wxpay_result *r)
{
    return r ? r->detail : "";
}
long wxpay_result_http_status(const wxpay_result *r)
{
    return r ? r->http_status : 0;
}
const char *wxpay_result_request_id(const wxpay_result *r)
{
    return r ? r->request_id : "";
}
const char *wxpay_result_error_code(const wxpay_result *r)
{
    return r ? r->error_code : "";
}
const char *wxpay_result_error_message(const wxpay_result *r)
{
    return r ? r->error_message : "";
}
const char *wxpay_result_error_detail(const wxpay_result *r)
{
    return r && r->error_detail ? r->error_detail : "";
}
wxp_err wxpay_result_verify_error(const wxpay_result *r)
{
    return r ? r->verify_error : WXP_OK;
}
int wxpay_result_attempts(const wxpay_result *r)
{
    return r ? r->attempts : 0;
}
const char *wxpay_result_out_trade_no(const wxpay_result *r)
{
    return r ? r->out_trade_no : "";
}
const char *wxpay_result_appid(const wxpay_result *r)
{
    return r ? r->appid : "";
}
const char *wxpay_result_trade_state(const wxpay_result *r)
{
    return r ? r->trade_state : "";
}

const char *wxpay_result_transaction_id(const wxpay_result *r)
{
    return r ? r->transaction_id : "";
}

const char *wxpay_result_mchid(const wxpay_result *r)
{
    return r ? r->mchid : "";
}

const char *wxpay_result_body(const wxpay_result *r, size_t *len)
{
    if (len)
        *len = r ? r->body_len : 0;
    return r && r->body ? r->body : "";
}

/* A verified transaction (codepay, queries): about the order asked for,
 * of this merchant (through this service provider). */
static wxpay_result *transaction(const wxpay_client *c, const Wxpay_spec *s, wxpay_result *r,
                                 wxp_span body, long status)
{
    wxp_diag d = {"", ""};
    wxp_transaction t;
    if (wxp_transaction_parse(body, &t, &d) != WXP_OK) {
        r->code = WXPAY_E_MALFORMED;
        snprintf(r->detail, sizeof(r->detail), "verified HTTP %ld answer is not a transaction: %s",
                 status, d.text);
        return r;
    }
    bool partner = c->sub_mchid[0] != '\0';
    const char *want = partner ? c->sub_mchid : c->mchid;
    if ((s->out_trade_no[0] && strcmp(t.out_trade_no, s->out_trade_no) != 0) ||
        (s->transaction_id[0] && strcmp(t.transaction_id, s->transaction_id) != 0) ||
        strcmp(t.mchid, want) != 0 || (partner && strcmp(t.sp_mchid, c->mchid) != 0)) {
        r->code = WXPAY_E_MALFORMED;
        snprintf(r->detail, sizeof(r->detail),
                 "answer is for order %s (%s) of merchant %s, not the one asked for (%s%s) of %s",
                 t.out_trade_no, t.transaction_id, t.mchid, s->out_trade_no, s->transaction_id,
                 want);
        return r;
    }
    memcpy(r->out_trade_no, t.out_trade_no, sizeof(t.out_trade_no));
    memcpy(r->appid, t.appid, sizeof(t.appid));
    memcpy(r->mchid, t.mchid, sizeof(t.mchid));
    memcpy(r->trade_state, t.trade_state, sizeof(r->trade_state));
    memcpy(r->transaction_id, t.transaction_id, sizeof(t.transaction_id));
    snprintf(r->detail, sizeof(r->detail), "order %s is %s (HTTP %ld, verified)", t.out_trade_no,
             t.trade_state, status);
    return r;
}

void Wxpay_signature_headers(const Wxpay_answer *a, wxp_response_headers *h)
{
    const int idx[5] = {WXPAY_H_TIMESTAMP, WXPAY_H_NONCE, WXPAY_H_SIGNATURE, WXPAY_H_SERIAL,
                        WXPAY_H_SIGNATURE_TYPE};
    wxp_span *out[5] = {&h->timestamp, &h->nonce, &h->signature, &h->serial, &h->signature_type};
    for (int i = 0; i < 5; i++)
        *out[i] = a->present[idx[i]] ? wxp_span_of(a->headers[idx[i]]) : (wxp_span){0};
}

static bool is_json(const Wxpay_answer *a)
{
    const char *ct = a->headers[WXPAY_H_CONTENT_TYPE];
    return a->present[WXPAY_H_CONTENT_TYPE] && strncasecmp(ct, "application/json", 16) == 0;
}

wxpay_result *Wxpay_judge(const wxpay_client *c, const Wxpay_spec *s, Wxpay_answer *a, int attempts,
                          bool *retry)
{
    wxpay_result *r = Wxpay_result_new(WXPAY_OK, "%s", "");
    wxp_diag d = {"", ""};

    *retry = false;
    if (!r)
        return NULL;
    r->attempts = attempts;
    r->http_status = a->status;
    if (a->present[WXPAY_H_REQUEST_ID])
        snprintf(r->request_id, sizeof(r->request_id), "%.127s", a->headers[WXPAY_H_REQUEST_ID]);
    if (a->body_len) {
        r->body = a->body; /* take it */
        r->body_len = a->body_len;
        a->body = NULL;
        a->body_len = 0;
    }
    wxp_span body = {r->body, r->body_len};

    if (a->too_large) { /* another attempt would get the same */
        free(r->body);  /* a part of it only */
        r->body = NULL;
        r->body_len = 0;
        r->code = WXPAY_E_MALFORMED;
        snprintf(r->detail, sizeof(r->detail), "HTTP %ld: %s", a->status, a->curl_error);
        return r;
    }
    if (a->curl_code) {
        r->code = a->timed_out ? WXPAY_E_TIMEOUT : WXPAY_E_TRANSPORT;
        snprintf(r->detail, sizeof(r->detail), "%s: %s",
                 a->timed_out ? "no answer in time" : "no answer", a->curl_error);
        *retry = !s->no_retry;
        return r;
    }
    if (a->status >= 200 && a->status < 300) {
        /* Nothing in a 2xx answer is trusted before its signature is. */
        wxp_response_headers h;
        Wxpay_signature_headers(a, &h);
        wxp_err e = wxp_response_verify(c->ring, &h, body, (int64_t)time(NULL), c->skew, &d);
        if (e) {
            r->code = WXPAY_E_VERIFY;
            r->verify_error = e;
            snprintf(r->detail, sizeof(r->detail), "HTTP %ld answer failed verification (%s): %s",
                     a->status, wxp_strerror(e), d.text);
            return r;
        }
        if (s->is_transaction)
            return transaction(c, s, r, body, a->status);
        if (s->is_close) {
            snprintf(r->detail, sizeof(r->detail), "closed %s (HTTP %ld, verified)",
                     s->out_trade_no, a->status);
            return r;
        }
        if (!s->is_reverse) {
            snprintf(r->detail, sizeof(r->detail), "HTTP %ld, verified", a->status);
            return r;
        }
        wxp_reverse_response rr;
        wxp_transaction pt;
        bool partner = c->sub_mchid[0] != '\0';
        wxp_err pe = partner ? wxp_partner_reverse_response_parse(body, &pt, &d)
                             : wxp_reverse_response_parse(body, &rr, &d);
        if (pe != WXP_OK) {
            r->code = WXPAY_E_MALFORMED;
            snprintf(r->detail, sizeof(r->detail),
                     "verified HTTP %ld answer is not a reverse answer: %s", a->status, d.text);
            return r;
        }
        if (partner) {
            memcpy(rr.out_trade_no, pt.out_trade_no, sizeof(rr.out_trade_no));
            memcpy(rr.mchid, pt.mchid, sizeof(rr.mchid));
            memcpy(rr.appid, pt.appid, sizeof(rr.appid));
        }
        const char *want_mchid = partner ? c->sub_mchid : c->mchid;
        if (strcmp(rr.out_trade_no, s->out_trade_no) != 0 || strcmp(rr.mchid, want_mchid) != 0 ||
            (partner && strcmp(pt.sp_mchid, c->mchid) != 0)) {
            r->code = WXPAY_E_MALFORMED;
            snprintf(r->detail, sizeof(r->detail),
                     "answer is for order %s of merchant %s, not %s of %s", rr.out_trade_no,
                     rr.mchid, s->out_trade_no, want_mchid);
            return r;
        }
        memcpy(r->out_trade_no, rr.out_trade_no, sizeof(rr.out_trade_no));
        memcpy(r->appid, rr.appid, sizeof(rr.appid));
        memcpy(r->mchid, rr.mchid, sizeof(rr.mchid));
        snprintf(r->detail, sizeof(r->detail), "reversed %s (HTTP %ld, verified)", rr.out_trade_no,
                 a->status);
        return r;
    }
    /* An error answer: parsed whether signed or not. 5xx and 429 may pass
     * with another attempt; other 4xx never will. A codepay is never sent
     * twice: after no answer or an error the order is queried. */
    *retry = (a->status >= 500 || a->status == 429) && !s->no_retry;
    wxp_error_body eb;
    if (wxp_error_body_parse(body, &eb, &d) == WXP_OK) {
        r->code = WXPAY_E_BUSINESS;
        snprintf(r->error_code, sizeof(r->error_code), "%s", eb.code);
        snprintf(r->error_message, sizeof(r->error_message), "%s", eb.message);
        r->error_detail = eb.detail;
        snprintf(r->detail, sizeof(r->detail), "HTTP %ld %s: %s", a->status, eb.code, eb.message);
        return r;
    }
    r->code = WXPAY_E_MALFORMED;
    snprintf(r->detail, sizeof(r->detail),
             "HTTP %ld with a %.64s body that is not a WeChat Pay error: %.300s", a->status,
             is_json(a)                         ? "JSON"
             : a->present[WXPAY_H_CONTENT_TYPE] ? a->headers[WXPAY_H_CONTENT_TYPE]
                                                : "untyped",
             d.text);
    return r;
}
