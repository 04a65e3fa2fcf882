/* handler.c: one request in, one answer out. Routes admin calls, runs the
 * checks, applies the order model and the scenario step, signs the answer
 * (or corrupts it as the step says) and writes the journal entry. */
#include "mock_int.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DELAY_MS 3000
#define UNKNOWN_PUBKEY_ID "PUB_KEY_ID_01000000000000000000000000000000"
#define UNKNOWN_CERT_SERIAL "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"

struct wxm_deferred {
    char out_trade_no[WXP_PARAM_MAX_LEN + 1];
    int64_t now;
};

/* --------------------------------------------------------- lifecycle */

wxp_err wxm_mock_new(wxm_config *cfg, wxm_mock **out)
{
    wxm_mock *m;
    if (!cfg || !out) {
        wxm_config_free(cfg);
        return WXP_ERR_ARG;
    }
    m = calloc(1, sizeof(*m));
    if (!m) {
        wxm_config_free(cfg);
        return WXP_ERR_NOMEM;
    }
    m->cfg = cfg;
    m->orders = wxm_store_new();
    m->nonces = wxm_nonces_new(cfg->nonce_entries);
    m->journal = wxm_journal_new(cfg->journal_entries);
    if (!m->orders || !m->nonces || !m->journal) {
        wxm_mock_free(m);
        return WXP_ERR_NOMEM;
    }
    *out = m;
    return WXP_OK;
}

void wxm_mock_free(wxm_mock *m)
{
    if (!m)
        return;
    wxm_store_free(m->orders);
    wxm_nonces_free(m->nonces);
    wxm_journal_free(m->journal);
    wxm_config_free(m->cfg);
    free(m);
}

wxp_err wxm_mock_set_journal_file(wxm_mock *m, const char *path, wxp_diag *diag)
{
    return wxm_journal_set_file(m->journal, path, diag);
}

/* ------------------------------------------------------------ answers */

static void set_header(wxm_answer *a, const char *name, const char *value)
{
    if (a->nheaders == WXM_MAX_ANSWER_HEADERS || !value)
        return;
    size_t n = strlen(value) + 1;
    char *v = malloc(n);
    if (!v)
        return;
    memcpy(v, value, n);
    snprintf(a->headers[a->nheaders].name, sizeof(a->headers[0].name), "%s", name);
    a->headers[a->nheaders++].value = v;
}

void wxm_answer_clear(wxm_answer *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nheaders; i++)
        free(a->headers[i].value);
    free(a->body);
    free(a->deferred);
    memset(a, 0, sizeof(*a));
}

static void set_body(wxm_answer *a, const char *text)
{
    size_t n = strlen(text);
    free(a->body);
    a->body = malloc(n + 1);
    if (a->body) {
        memcpy(a->body, text, n + 1);
        a->body_len = n;
    } else {
        a->body_len = 0;
    }
}

/* Plain JSON (admin answers): takes ownership of j. */
static void plain_json(wxm_answer *a, int status, cJSON *j)
{
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    a->status = status;
    set_header(a, "Content-Type", "application/json");
    set_body(a, text ? text : "{}");
    cJSON_free(text);
}

static void admin_error(wxm_answer *a, int status, const char *field, const char *text)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", text);
    if (field && *field)
        cJSON_AddStringToObject(j, "field", field);
    plain_json(a, status, j);
}

static void request_id(wxm_mock *m, char out[48])
{
    char rnd[WXP_NONCE_LEN + 1];
    uint64_t seq = __atomic_add_fetch(&m->request_seq, 1, __ATOMIC_RELAXED);
    if (wxp_nonce(rnd) != WXP_OK)
        memcpy(rnd, "00000000000000000000000000000000", 33);
    snprintf(out, 48, "%012llX%.20s", (unsigned long long)seq, rnd);
}

/* An API answer: JSON body (taken), Request-ID, signature headers; the
 * step may corrupt the body or the signature. */
static void api_answer(wxm_mock *m, wxm_answer *a, int status, cJSON *body, wxm_step_action fault,
                       int64_t now)
{
    const wxm_config *cfg = m->cfg;
    char rid[48], ts[24], nonce[WXP_NONCE_LEN + 1];
    char *text = NULL, *msg = NULL, *sig = NULL;
    size_t len = 0;

    request_id(m, rid);
    if (fault == WXM_STEP_GATEWAY_HTML) {
        cJSON_Delete(body);
        a->status = 502;
        set_header(a, "Content-Type", "text/html");
        set_body(a, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n"
                    "</body>\r\n</html>\r\n");
        return;
    }
    text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    a->status = status;
    set_header(a, "Content-Type", "application/json; charset=utf-8");
    set_header(a, "Request-ID", rid);
    if (fault == WXM_STEP_MALFORMED_BODY) {
        /* Cut in the middle of the JSON, but signed: verification passes,
         * parsing must fail. */
        if (text)
            text[strlen(text) / 2] = '\0';
    }
    set_body(a, text ? text : "");
    cJSON_free(text);
    if (fault == WXM_STEP_UNSIGNED || cfg->no_sign)
        return;

    snprintf(ts, sizeof(ts), "%lld",
             (long long)(fault == WXM_STEP_SKEWED_TIMESTAMP ? now - 600 : now));
    if (wxp_nonce(nonce) != WXP_OK)
        return;
    wxp_span body_span = {a->body, a->body_len};
    if (fault == WXM_STEP_BAD_SIGNATURE)
        body_span = wxp_span_of("{\"tampered\":true}"); /* valid signature of another body */
    if (wxp_response_message(wxp_span_of(ts), wxp_span_of(nonce), body_span, &msg, &len) !=
            WXP_OK ||
        wxp_sign(cfg->wechatpay_key, msg, len, &sig) != WXP_OK) {
        free(msg);
        return;
    }
    free(msg);
    set_header(a, "Wechatpay-Nonce", nonce);
    if (fault == WXM_STEP_SIGNTEST) {
        char probe[400];
        snprintf(probe, sizeof(probe), "WECHATPAY/SIGNTEST/%.300s", sig);
        set_header(a, "Wechatpay-Signature", probe);
    } else {
        set_header(a, "Wechatpay-Signature", sig);
    }
    free(sig);
    set_header(a, "Wechatpay-Timestamp", ts);
    set_header(a, "Wechatpay-Serial",
               fault == WXM_STEP_UNKNOWN_SERIAL
                   ? (cfg->mode == WXM_MODE_PUBLIC_KEY ? UNKNOWN_PUBKEY_ID : UNKNOWN_CERT_SERIAL)
                   : cfg->serial);
    set_header(a, "Wechatpay-Signature-Type", WXP_AUTH_SCHEME);
}

static cJSON *error_body(const char *code, const char *message, cJSON *detail)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "code", code);
    cJSON_AddStringToObject(j, "message", message);
    if (detail)
        cJSON_AddItemToObject(j, "detail", detail);
    return j;
}

/* ---------------------------------------------------------- the order */

static void apply_reverse(wxm_order *o, int64_t now)
{
    if (o->state == WXM_REVOKED || o->state == WXM_CLOSED || o->state == WXM_REFUND)
        return;
    if (o->state == WXM_SUCCESS) {
        o->refunded = true;
        o->refund_amount = o->amount;
        o->refunded_at = now;
        snprintf(o->refund_id, sizeof(o->refund_id), "50300%015lld", (long long)now);
    }
    o->state = WXM_REVOKED;
    o->reversed_at = now;
}

static void apply_deferred(wxm_order *o, void *ctx)
{
    apply_reverse(o, ((struct wxm_deferred *)ctx)->now);
}

void wxm_answer_commit(wxm_mock *m, wxm_answer *a)
{
    if (!a || !a->deferred)
        return;
    wxm_store_with(m->orders, a->deferred->out_trade_no, NULL, apply_deferred, a->deferred);
    free(a->deferred);
    a->deferred = NULL;
}

/* What one reverse call decides under the order's lock. */
typedef struct decision {
    wxm_ctx *c;
    bool exists;
    int status;
    const char *code;
    char message[200];
    wxm_step step;
    bool defer;
    wxm_order after; /* the order as it is after the call */
} decision;

static void decide_reverse(wxm_order *o, void *arg)
{
    decision *d = arg;
    wxm_ctx *c = d->c;
    const wxm_config *cfg = c->m->cfg;

    d->exists = true;
    if (!o->mchid[0]) { /* a catalogue order adopts its first caller */
        memcpy(o->mchid, c->mchid, sizeof(o->mchid));
        memcpy(o->appid, c->appid, sizeof(o->appid));
    }
    if (strcmp(o->mchid, c->mchid) != 0) { /* another merchant's order */
        d->exists = false;
        return;
    }
    o->reverse_calls++;
    d->step = (wxm_step){WXM_STEP_OK, true, false, 0};
    if (o->pos < o->nsteps)
        d->step = o->script[o->pos++];

    /* The business answer, from the state before this call. */
    d->status = 200;
    if (c->now - o->created_at > cfg->reverse_window_seconds) {
        d->status = 400;
        d->code = "REVERSE_EXPIRE";
        snprintf(d->message, sizeof(d->message),
                 "订单已超过撤销期限 (the order is older than 7 days; refund it instead)");
    } else if (o->state == WXM_CLOSED) {
        d->status = 400;
        d->code = "ORDER_CLOSED";
        snprintf(d->message, sizeof(d->message), "订单已关闭 (the order is closed; do not retry)");
    } else if (o->state == WXM_REFUND) {
        d->status = 403;
        d->code = "TRADE_ERROR";
        snprintf(d->message, sizeof(d->message),
                 "订单已退款 (the order has a refund; it cannot be reversed)");
    }
    switch (d->step.action) {
    case WXM_STEP_SYSTEM_ERROR:
        d->status = 500;
        d->code = "SYSTEM_ERROR";
        snprintf(d->message, sizeof(d->message),
                 "系统错误 (scripted SYSTEM_ERROR; retry with the same out_trade_no)");
        break;
    case WXM_STEP_PARAM_ERROR:
        d->status = 400;
        d->code = "PARAM_ERROR";
        snprintf(d->message, sizeof(d->message), "参数错误 (scripted PARAM_ERROR; fix the request, do not retry)");
        break;
    case WXM_STEP_FREQUENCY_LIMITED:
        d->status = 429;
        d->code = "FREQUENCY_LIMITED";
        snprintf(d->message, sizeof(d->message),
                 "频率超限 (scripted FREQUENCY_LIMITED; back off and retry)");
        break;
    default: break;
    }
    if (d->status == 200 || d->step.action == WXM_STEP_SYSTEM_ERROR ||
        d->step.action == WXM_STEP_FREQUENCY_LIMITED || d->step.action == WXM_STEP_PARAM_ERROR) {
        bool business_ok = o->state != WXM_CLOSED && o->state != WXM_REFUND &&
                           c->now - o->created_at <= cfg->reverse_window_seconds;
        if (business_ok && d->step.apply) {
            bool later = !d->step.apply_first &&
                         (d->step.action == WXM_STEP_DELAY || d->step.action == WXM_STEP_HANG ||
                          d->step.action == WXM_STEP_DROP);
            if (later)
                d->defer = true;
            else
                apply_reverse(o, c->now);
        }
    }
    d->after = *o;
}

/* The answer's code, in the journal and for the request log. */
static void note_code(wxm_json *entry, wxm_answer *a, const char *code)
{
    wxm_json_cstring(entry, "code", code);
    snprintf(a->code, sizeof(a->code), "%s", code);
}

static void reverse(wxm_ctx *c, wxm_answer *a, wxm_json *entry)
{
    wxm_mock *m = c->m;
    decision d;
    wxm_order init;

    memset(&d, 0, sizeof(d));
    d.c = c;
    bool create = m->cfg->zero_config && wxm_catalogue_order(c->out_trade_no, c->now, &init);
    if (!wxm_store_with(m->orders, c->out_trade_no, create ? &init : NULL, decide_reverse, &d) ||
        !d.exists) {
        cJSON *det = cJSON_CreateObject();
        cJSON_AddStringToObject(det, "out_trade_no", c->out_trade_no);
        api_answer(
            m, a, 404,
            error_body("ORDER_NOT_EXIST", "订单不存在 (no such order for this merchant)", det),
            WXM_STEP_OK, c->now);
        note_code(entry, a, "ORDER_NOT_EXIST");
        return;
    }
    cJSON *body;
    if (d.status == 200) {
        body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "appid", c->appid);
        cJSON_AddStringToObject(body, "mchid", c->mchid);
        cJSON_AddStringToObject(body, "out_trade_no", c->out_trade_no);
    } else {
        body = error_body(d.code, d.message, NULL);
        note_code(entry, a, d.code);
    }
    wxm_step_action answer_fault = d.step.action;
    api_answer(m, a, d.status, body, answer_fault, c->now);
    switch (d.step.action) {
    case WXM_STEP_DELAY: a->wait_ms = d.step.ms ? d.step.ms : DEFAULT_DELAY_MS; break;
    case WXM_STEP_HANG:
        a->wait_ms = d.step.ms ? d.step.ms : m->cfg->hang_ms;
        a->action = WXM_DROP;
        break;
    case WXM_STEP_DROP: a->action = WXM_DROP; break;
    default: break;
    }
    if (d.defer) {
        a->deferred = calloc(1, sizeof(*a->deferred));
        if (a->deferred) {
            memcpy(a->deferred->out_trade_no, c->out_trade_no, sizeof(a->deferred->out_trade_no));
            a->deferred->now = c->now;
        }
    }
    wxm_json_cstring(entry, "fault", wxm_step_name(d.step.action));
    wxm_json_cstring(entry, "state_after", wxm_state_name(d.after.state));
    if (d.defer)
        wxm_json_cstring(entry, "state_change", "after_wait");
}

static const char *state_desc(wxm_state s)
{
    switch (s) {
    case WXM_SUCCESS: return "支付成功";
    case WXM_REFUND: return "转入退款";
    case WXM_NOTPAY: return "未支付";
    case WXM_CLOSED: return "已关闭";
    case WXM_REVOKED: return "已撤销";
    case WXM_USERPAYING: return "用户支付中";
    case WXM_PAYERROR: return "支付失败";
    }
    return "";
}

static void copy_order(wxm_order *o, void *ctx)
{
    *(wxm_order *)ctx = *o;
}

static void query(wxm_ctx *c, wxm_answer *a, wxm_json *entry)
{
    wxm_mock *m = c->m;
    wxm_order o, init;
    bool create = m->cfg->zero_config && wxm_catalogue_order(c->out_trade_no, c->now, &init);

    if (!wxm_store_with(m->orders, c->out_trade_no, create ? &init : NULL, copy_order, &o) ||
        (o.mchid[0] && strcmp(o.mchid, c->mchid) != 0)) {
        api_answer(
            m, a, 404,
            error_body("ORDER_NOT_EXIST", "订单不存在 (no such order for this merchant)", NULL),
            WXM_STEP_OK, c->now);
        note_code(entry, a, "ORDER_NOT_EXIST");
        return;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "appid", o.appid[0] ? o.appid : m->cfg->merchants[0].appids[0]);
    cJSON_AddStringToObject(b, "mchid", c->mchid);
    cJSON_AddStringToObject(b, "out_trade_no", o.out_trade_no);
    if (o.transaction_id[0])
        cJSON_AddStringToObject(b, "transaction_id", o.transaction_id);
    cJSON_AddStringToObject(b, "trade_type", "MICROPAY");
    cJSON_AddStringToObject(b, "trade_state", wxm_state_name(o.state));
    cJSON_AddStringToObject(b, "trade_state_desc", state_desc(o.state));
    cJSON *amount = cJSON_AddObjectToObject(b, "amount");
    cJSON_AddNumberToObject(amount, "total", (double)o.amount);
    cJSON_AddStringToObject(amount, "currency", "CNY");
    api_answer(m, a, 200, b, WXM_STEP_OK, c->now);
    wxm_json_cstring(entry, "state_after", wxm_state_name(o.state));
}

/* -------------------------------------------------------------- admin */

static void admin(wxm_mock *m, const wxm_request *r, int64_t now, wxm_answer *a)
{
    wxp_match mt;
    const char *qm = memchr(r->target.ptr, '?', r->target.len);
    wxp_span path = {r->target.ptr, qm ? (size_t)(qm - r->target.ptr) : r->target.len};
    bool get = wxp_span_eq(r->method, "GET"), put = wxp_span_eq(r->method, "PUT");
    bool del = wxp_span_eq(r->method, "DELETE"), post = wxp_span_eq(r->method, "POST");

    if (wxp_span_eq(path, "/__admin/health")) {
        if (!get) {
            admin_error(a, 405, "method", "use GET /__admin/health");
            return;
        }
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "status", "ok");
        cJSON_AddNumberToObject(j, "orders", (double)wxm_store_count(m->orders));
        cJSON_AddNumberToObject(j, "requests", (double)wxm_journal_total(m->journal));
        cJSON_AddNumberToObject(j, "nonces_evicted_early", (double)wxm_nonces_evicted_live(m->nonces));
        cJSON_AddStringToObject(j, "mode",
                                m->cfg->mode == WXM_MODE_PUBLIC_KEY ? "public_key" : "certificate");
        cJSON_AddStringToObject(j, "wechatpay_serial", m->cfg->serial);
        {
            plain_json(a, 200, j);
            return;
        }
    }
    if (wxp_span_eq(path, "/__admin/reset")) {
        if (!post) {
            admin_error(a, 405, "method", "use POST /__admin/reset");
            return;
        }
        wxm_store_clear(m->orders);
        wxm_nonces_clear(m->nonces);
        wxm_journal_clear(m->journal);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddBoolToObject(j, "reset", 1);
        {
            plain_json(a, 200, j);
            return;
        }
    }
    if (wxp_span_eq(path, "/__admin/journal")) {
        if (del) {
            wxm_journal_clear(m->journal);
            cJSON *j = cJSON_CreateObject();
            cJSON_AddBoolToObject(j, "cleared", 1);
            {
                plain_json(a, 200, j);
                return;
            }
        }
        if (!get) {
            admin_error(a, 405, "method", "use GET or DELETE /__admin/journal");
            return;
        }
        char otn[WXP_PARAM_MAX_LEN + 1];
        bool filter = qm && wxm_query_param((wxp_span){qm + 1, r->target.len - path.len - 1},
                                            "out_trade_no", otn, sizeof(otn));
        char *text = wxm_journal_dump(m->journal, filter ? otn : NULL);
        a->status = 200;
        set_header(a, "Content-Type", "application/json");
        set_body(a, text ? text : "{}");
        cJSON_free(text);
        return;
    }
    wxp_diag d = {"", ""};
    if (wxp_template_match("/__admin/orders/{out_trade_no}", path, &mt, &d) == WXP_OK) {
        const char *otn = mt.params[0].value;
        if (wxp_check_out_trade_no(wxp_span_of(otn), &d) != WXP_OK) {
            admin_error(a, 400, "out_trade_no", d.text);
            return;
        }
        if (get) {
            wxm_order o;
            if (!wxm_store_get(m->orders, otn, &o)) {
                admin_error(a, 404, "out_trade_no", "no such order (PUT it first)");
                return;
            }
            {
                plain_json(a, 200, wxm_order_admin_json(&o));
                return;
            }
        }
        if (!put) {
            admin_error(a, 405, "method", "use PUT or GET /__admin/orders/{out_trade_no}");
            return;
        }
        cJSON *body = cJSON_ParseWithLength(r->body.ptr ? r->body.ptr : "", r->body.len);
        if (!body) {
            admin_error(a, 400, "body", "body is not valid JSON");
            return;
        }
        wxm_order o;
        memset(&o, 0, sizeof(o));
        memcpy(o.out_trade_no, otn, strlen(otn) + 1); /* checked: at most 32 */
        o.amount = 100;
        o.created_at = now;
        memcpy(o.mchid, m->cfg->merchants[0].mchid, sizeof(o.mchid));
        snprintf(o.appid, sizeof(o.appid), "%s", m->cfg->merchants[0].appids[0]);
        snprintf(o.transaction_id, sizeof(o.transaction_id), "42000%015lld", (long long)now);
        wxp_err e = wxm_order_from_json(body, &o, &d);
        cJSON_Delete(body);
        if (e) {
            admin_error(a, 400, d.field, d.text);
            return;
        }
        if (wxm_store_put(m->orders, &o) != WXP_OK) {
            admin_error(a, 500, "", "out of memory");
            return;
        }
        {
            plain_json(a, 200, wxm_order_admin_json(&o));
            return;
        }
    }
    admin_error(a, 404, "path",
                "unknown admin endpoint; see README: /__admin/orders/{out_trade_no}, "
                "/__admin/journal, /__admin/reset, /__admin/health");
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

/* Bytes as a string member when they are UTF-8 without NUL, else quoted
 * (wxp_quote) as "<name>_escaped". */
static void add_bytes(wxm_json *e, const char *name, wxp_span s)
{
    if (valid_utf8(s)) {
        wxm_json_string(e, name, s.ptr ? s.ptr : "", s.len);
        return;
    }
    char *q = malloc(s.len * 4 + 8);
    if (!q)
        return;
    wxp_quote(q, s.len * 4 + 8, s, s.len);
    char key[64];
    snprintf(key, sizeof(key), "%s_escaped", name);
    wxm_json_cstring(e, key, q);
    free(q);
}

/* The entry's start: what was asked (the checks and the answer follow). */
static void journal_entry(wxm_json *e, const wxm_request *r, int64_t now)
{
    wxm_json_open(e, NULL, '{');
    wxm_json_int(e, "time", now);
    if (r->peer)
        wxm_json_cstring(e, "peer", r->peer);
    add_bytes(e, "method", r->method);
    add_bytes(e, "target", r->target);
    wxm_json_open(e, "headers", '[');
    for (size_t i = 0; i < r->nheaders && i < 64; i++) {
        wxm_json_open(e, NULL, '{');
        add_bytes(e, "name", r->headers[i].name);
        add_bytes(e, "value", r->headers[i].value);
        wxm_json_close(e, '}');
    }
    wxm_json_close(e, ']');
    add_bytes(e, "body", (wxp_span){r->body.ptr, r->body.len > 4096 ? 4096 : r->body.len});
    wxm_json_int(e, "body_length", (long long)r->body.len);
}

/* ------------------------------------------------------------- handle */

void wxm_handle(wxm_mock *m, const wxm_request *r, int64_t now, wxm_answer *a)
{
    memset(a, 0, sizeof(*a));
    if (r->target.len >= 9 && memcmp(r->target.ptr, "/__admin/", 9) == 0) {
        admin(m, r, now, a);
        return;
    }
    wxm_json e = {0}, *entry = &e;
    journal_entry(entry, r, now);
    wxm_ctx c;
    memset(&c, 0, sizeof(c));
    c.m = m;
    c.req = r;
    c.now = now;
    wxm_json_open(entry, "checks", '[');
    c.journal = entry;
    bool ok = wxm_check_request(&c);
    wxm_json_close(entry, ']');
    bool has_otn = c.out_trade_no[0] && strlen(c.out_trade_no) == c.out_trade_no_len; /* no NUL */
    if (has_otn)
        wxm_json_cstring(entry, "out_trade_no", c.out_trade_no);
    if (!ok) {
        api_answer(m, a, c.fail.status, error_body(c.fail.code, c.fail.message, c.fail.detail),
                   WXM_STEP_OK, now);
        note_code(entry, a, c.fail.code);
        if (c.fail.status == 405)
            set_header(a, "Allow",
                       c.route == WXM_ROUTE_QUERY && c.fail.check[0] == 'm' &&
                               wxp_span_eq(r->method, "POST")
                           ? "GET"
                           : "GET, POST");
    } else {
        wxm_json_cstring(entry, "endpoint", c.route == WXM_ROUTE_REVERSE ? "reverse" : "query");
        if (c.route == WXM_ROUTE_REVERSE)
            reverse(&c, a, entry);
        else
            query(&c, a, entry);
    }
    wxm_json_int(entry, "status", a->status);
    for (size_t i = 0; i < a->nheaders; i++)
        if (strcmp(a->headers[i].name, "Request-ID") == 0)
            wxm_json_cstring(entry, "request_id", a->headers[i].value);
    if (a->action == WXM_DROP)
        wxm_json_cstring(entry, "answer", "dropped");
    else if (a->wait_ms)
        wxm_json_int(entry, "wait_ms", a->wait_ms);
    wxm_json_close(entry, '}');
    wxm_journal_add(m->journal, entry, has_otn ? c.out_trade_no : NULL);
#if defined(__GLIBC__)
    /* Freed journal entries and per-connection buffers stay in glibc's
     * per-thread arenas; hand them back now and then so the resident size
     * follows what is live (measured: README "Performance"). */
    if (wxm_journal_total(m->journal) % 20000 == 0)
        malloc_trim(0);
#endif
}
