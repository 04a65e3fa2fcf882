/* checks.c: what the mock verifies on every API request, in a fixed,
 * documented order (docs/mock.md "Checks"). The first failure becomes the error
 * answer: HTTP status and code from docs/protocol.md's table, and a detail that
 * names the check, what was expected, what was received and, for a bad
 * signature, the exact message the server expected plus the likely mistake.
 */
#include "mock_int.h"
#include "wxp_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ helpers */

static void passed(Wxm_ctx *c, const char *check)
{
    Wxm_json_open(c->journal, NULL, '{');
    Wxm_json_cstring(c->journal, "check", check);
    Wxm_json_bool(c->journal, "ok", true);
    Wxm_json_close(c->journal, '}');
}

/* Fills ctx->fail; `detail` gains "check" (and is owned by ctx). */
static bool fail(Wxm_ctx *c, const char *check, int status, const char *code, cJSON *detail,
                 const char *fmt, ...) WXM_PRINTF(6, 7);

static bool fail(Wxm_ctx *c, const char *check, int status, const char *code, cJSON *detail,
                 const char *fmt, ...)
{
    va_list ap;
    c->fail.check = check;
    c->fail.status = status;
    c->fail.code = code;
    if (!detail)
        detail = cJSON_CreateObject();
    cJSON_AddStringToObject(detail, "check", check);
    c->fail.detail = detail;
    va_start(ap, fmt);
    vsnprintf(c->fail.message, sizeof(c->fail.message), fmt, ap);
    va_end(ap);
    Wxm_json_open(c->journal, NULL, '{');
    Wxm_json_cstring(c->journal, "check", check);
    Wxm_json_bool(c->journal, "ok", false);
    Wxm_json_cstring(c->journal, "code", code);
    Wxm_json_cstring(c->journal, "message", c->fail.message);
    Wxm_json_close(c->journal, '}');
    return false;
}

static cJSON *detail3(const char *location, const char *field, const char *expected)
{
    cJSON *d = cJSON_CreateObject();
    if (location)
        cJSON_AddStringToObject(d, "location", location);
    if (field)
        cJSON_AddStringToObject(d, "field", field);
    if (expected)
        cJSON_AddStringToObject(d, "expected", expected);
    return d;
}

/* ------------------------------------------------------------- checks */

static bool check_method(Wxm_ctx *c)
{
    wxp_span m = c->req->method;
    if (wxp_span_eq(m, "GET") || wxp_span_eq(m, "POST")) {
        passed(c, "method");
        return true;
    }
    cJSON *d = detail3("method", "method", "GET or POST");
    Wxm_add_quoted(d, "received", m);
    return fail(c, "method", 405, "INVALID_REQUEST", d,
                "method %.*s is not served here: reverse is POST, query is GET",
                (int)(m.len > 16 ? 16 : m.len), m.ptr);
}

/* The endpoints this mock serves (docs/mock.md "Endpoints"). */
#define P "/v3/pay/transactions"
#define PP "/v3/pay/partner/transactions"
static const Wxm_endpoint endpoints[] = {
    {WXM_ROUTE_REVERSE, false, WXM_REVERSE_TEMPLATE, "POST", "reverse"},
    {WXM_ROUTE_QUERY, false, WXM_QUERY_TEMPLATE, "GET", "query"},
    {WXM_ROUTE_CERTIFICATES, false, WXM_CERTIFICATES_PATH, "GET", "certificates"},
    {WXM_ROUTE_CODEPAY, false, P "/codepay", "POST", "codepay"},
    {WXM_ROUTE_QUERY_ID, false, P "/id/{transaction_id}", "GET", "query_by_id"},
    {WXM_ROUTE_CLOSE, false, P "/out-trade-no/{out_trade_no}/close", "POST", "close"},
    {WXM_ROUTE_CODEPAY, true, PP "/codepay", "POST", "partner_codepay"},
    {WXM_ROUTE_QUERY, true, PP "/out-trade-no/{out_trade_no}", "GET", "partner_query"},
    {WXM_ROUTE_QUERY_ID, true, PP "/id/{transaction_id}", "GET", "partner_query_by_id"},
    {WXM_ROUTE_REVERSE, true, PP "/out-trade-no/{out_trade_no}/reverse", "POST", "partner_reverse"},
    {WXM_ROUTE_CLOSE, true, PP "/out-trade-no/{out_trade_no}/close", "POST", "partner_close"},
};
#define NENDPOINTS (sizeof(endpoints) / sizeof(endpoints[0]))

const Wxm_endpoint *Wxm_endpoint_of(wxp_span target)
{
    wxp_match m;
    for (size_t i = 0; i < NENDPOINTS; i++)
        if (wxp_template_match(endpoints[i].tmpl, target, &m, NULL) == WXP_OK)
            return &endpoints[i];
    return NULL;
}

/* How many leading bytes two paths share: the endpoint a wrong path was
 * most likely meant for is the one it shares the most with. */
static size_t common_prefix(const char *tmpl, wxp_span path)
{
    size_t i = 0;
    while (i < path.len && tmpl[i] && tmpl[i] != '{' && tmpl[i] == path.ptr[i])
        i++;
    return i;
}

static bool check_path(Wxm_ctx *c)
{
    wxp_diag d = {"", ""};
    const Wxm_endpoint *hit = NULL;
    for (size_t i = 0; i < NENDPOINTS && !hit; i++)
        if (wxp_template_match(endpoints[i].tmpl, c->req->target, &c->match, NULL) == WXP_OK)
            hit = &endpoints[i];
    if (!hit) {
        /* Explain against the endpoint of this method that shares the
         * most with the path (reverse for a POST, the query for a GET
         * unless it looks like the certificates). */
        const Wxm_endpoint *best = NULL;
        size_t best_len = 0;
        const char *qm = memchr(c->req->target.ptr, '?', c->req->target.len);
        wxp_span path = {c->req->target.ptr,
                         qm ? (size_t)(qm - c->req->target.ptr) : c->req->target.len};
        for (size_t i = 0; i < NENDPOINTS; i++) {
            size_t n = common_prefix(endpoints[i].tmpl, path);
            if (wxp_span_eq(c->req->method, endpoints[i].method) && (!best || n > best_len)) {
                best = &endpoints[i];
                best_len = n;
            }
        }
        if (!best)
            best = &endpoints[0];
        wxp_err e = wxp_template_match(best->tmpl, c->req->target, &c->match, &d);
        cJSON *det = detail3("uri_template", "path", best->tmpl);
        Wxm_add_quoted(det, "received", c->req->target);
        cJSON_AddStringToObject(det, "error", wxp_strerror(e));
        cJSON_AddStringToObject(det, "hint", d.text);
        if (e == WXP_ERR_PATH_EMPTY_PARAM)
            cJSON_AddStringToObject(det, "value", "");
        if (e == WXP_ERR_PATH_MISMATCH)
            return fail(
                c, "path", 404, "NOT_FOUND", det,
                "no such endpoint (docs/mock.md \"Endpoints\" lists them; the nearest is %s "
                "%s): %s",
                best->method, best->tmpl, d.text);
        return fail(c, "path", 400, "PARAM_ERROR", det, "%s", d.text);
    }
    c->route = hit->route;
    c->ep = hit;
    if (!wxp_span_eq(c->req->method, hit->method)) {
        cJSON *d2 = detail3("method", "method", hit->method);
        Wxm_add_quoted(d2, "received", c->req->method);
        return fail(c, "method", 405, "INVALID_REQUEST", d2, "%s must be called with %s, not %.*s",
                    hit->name, hit->method,
                    (int)(c->req->method.len > 16 ? 16 : c->req->method.len), c->req->method.ptr);
    }
    if (c->match.nparams && wxp_span_eq(c->match.params[0].name, "transaction_id")) {
        memcpy(c->transaction_id, c->match.params[0].value, c->match.params[0].value_len + 1);
    } else if (c->match.nparams) {
        memcpy(c->out_trade_no, c->match.params[0].value, c->match.params[0].value_len + 1);
        c->out_trade_no_len = c->match.params[0].value_len;
    }
    passed(c, "path");
    return true;
}

static bool check_transaction_id(Wxm_ctx *c)
{
    size_t n = strlen(c->transaction_id);
    if (n == 0 || n > 32 || strspn(c->transaction_id, "0123456789") != n ||
        n != c->match.params[0].value_len) {
        cJSON *det = detail3("uri_template", "transaction_id", "1 to 32 digits");
        Wxm_add_quoted(det, "value",
                       (wxp_span){c->match.params[0].value, c->match.params[0].value_len});
        return fail(c, "transaction_id", 400, "PARAM_ERROR", det,
                    "transaction_id must be WeChat Pay's order number: 1 to 32 digits");
    }
    passed(c, "transaction_id");
    return true;
}

static bool check_out_trade_no(Wxm_ctx *c)
{
    wxp_diag d = {"", ""};
    if (c->route == WXM_ROUTE_QUERY_ID)
        return check_transaction_id(c);
    if (c->route == WXM_ROUTE_CERTIFICATES || c->route == WXM_ROUTE_CODEPAY)
        return true; /* no order in the path (codepay's is in the body) */
    wxp_span v = {c->out_trade_no, c->out_trade_no_len};
    if (wxp_check_out_trade_no(v, &d) != WXP_OK) {
        cJSON *det = detail3("uri_template", "out_trade_no", "6 to 32 of [0-9A-Za-z_-|*]");
        Wxm_add_quoted(det, "value", v);
        return fail(c, "out_trade_no", 400, "PARAM_ERROR", det, "%s", d.text);
    }
    passed(c, "out_trade_no");
    return true;
}

/* Does an Accept value admit application/json? */
static bool accepts_json(wxp_span v)
{
    size_t i = 0;
    while (i < v.len) {
        size_t s = i, e;
        while (i < v.len && v.ptr[i] != ',')
            i++;
        e = i++;
        wxp_span range = {v.ptr + s, e - s};
        const char *semi = memchr(range.ptr, ';', range.len);
        wxp_span type = {range.ptr, semi ? (size_t)(semi - range.ptr) : range.len};
        while (type.len && (type.ptr[0] == ' ' || type.ptr[0] == '\t'))
            type.ptr++, type.len--;
        while (type.len && (type.ptr[type.len - 1] == ' ' || type.ptr[type.len - 1] == '\t'))
            type.len--;
        bool json = (type.len == 3 && memcmp(type.ptr, "*/*", 3) == 0) ||
                    (type.len == 13 && strncasecmp(type.ptr, "application/*", 13) == 0) ||
                    (type.len == 16 && strncasecmp(type.ptr, "application/json", 16) == 0);
        if (!json)
            continue;
        /* "q=0" (or 0.0, 0.00, 0.000) refuses the type. */
        bool refused = false;
        for (const char *p = semi; p && p + 3 <= range.ptr + range.len; p++) {
            if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=' && p[2] == '0') {
                const char *q = p + 3;
                if (q < range.ptr + range.len && *q == '.')
                    q++;
                while (q < range.ptr + range.len && *q == '0')
                    q++;
                refused = q == range.ptr + range.len || *q == ' ' || *q == ';';
            }
        }
        if (!refused)
            return true;
    }
    return false;
}

static bool is_json_type(wxp_span v)
{
    const char *semi = memchr(v.ptr, ';', v.len);
    wxp_span t = {v.ptr, semi ? (size_t)(semi - v.ptr) : v.len};
    while (t.len && t.ptr[t.len - 1] == ' ')
        t.len--;
    return t.len == 16 && strncasecmp(t.ptr, "application/json", 16) == 0;
}

static bool check_headers(Wxm_ctx *c)
{
    if (c->req->headers_seen > c->req->nheaders) {
        char lim[48];
        snprintf(lim, sizeof(lim), "at most %d headers", WXM_MAX_REQUEST_HEADERS);
        return fail(c, "headers", 431, "INVALID_REQUEST", detail3("header", "headers", lim),
                    "the request has %zu headers; the mock reads at most %d and ignores none, so "
                    "it refuses the request",
                    c->req->headers_seen, WXM_MAX_REQUEST_HEADERS);
    }
    const wxm_header *h = Wxm_find_header(c->req, "Accept", NULL);
    if (!h || !accepts_json(h->value)) {
        cJSON *d = detail3("header", "Accept", "application/json (or */*)");
        if (h)
            Wxm_add_quoted(d, "received", h->value);
        return fail(c, "headers", 400, "INVALID_REQUEST", d,
                    h ? "the Accept header does not admit application/json"
                      : "the Accept header is missing; send Accept: application/json");
    }
    if (strcmp(c->ep->method, "POST") == 0) {
        h = Wxm_find_header(c->req, "Content-Type", NULL);
        if (!h || !is_json_type(h->value)) {
            cJSON *d = detail3("header", "Content-Type", "application/json");
            if (h)
                Wxm_add_quoted(d, "received", h->value);
            return fail(
                c, "headers", 400, "INVALID_REQUEST", d,
                h ? "Content-Type must be application/json for a JSON body"
                  : "the Content-Type header is missing; send Content-Type: application/json");
        }
    }
    h = Wxm_find_header(c->req, "User-Agent", NULL);
    if (!h || h->value.len == 0)
        return fail(c, "headers", 400, "INVALID_REQUEST", detail3("header", "User-Agent", "any"),
                    "the User-Agent header is missing; WeChat Pay requires one");
    passed(c, "headers");
    return true;
}

static bool check_body_size(Wxm_ctx *c)
{
    size_t max = c->m->cfg->max_body_bytes;
    if (c->req->body_too_large || c->req->body.len > max) {
        char lim[32];
        snprintf(lim, sizeof(lim), "at most %zu bytes", max);
        return fail(c, "body_size", 400, "INVALID_REQUEST", detail3("body", "body", lim),
                    "the body is larger than %zu bytes", max);
    }
    passed(c, "body_size");
    return true;
}

/* GET /v3/certificates?algorithm_type=RSA|SM2|ALL (default RSA); any
 * other parameter is refused by name. */
static bool check_certificates_query(Wxm_ctx *c)
{
    wxp_span q = c->match.query;
    memcpy(c->algorithm, "RSA", 4);
    for (size_t i = 0; q.ptr && i < q.len;) {
        size_t s = i;
        while (i < q.len && q.ptr[i] != '&')
            i++;
        wxp_span pair = {q.ptr + s, i - s};
        i++;
        if (pair.len == 0)
            continue;
        const char *eq = memchr(pair.ptr, '=', pair.len);
        wxp_span name = {pair.ptr, eq ? (size_t)(eq - pair.ptr) : pair.len};
        if (!wxp_span_eq(name, "algorithm_type")) {
            cJSON *d = detail3("query", "query", "algorithm_type=RSA|SM2|ALL, or nothing");
            Wxm_add_quoted(d, "received", name);
            char qn[80];
            wxp_quote(qn, sizeof(qn), name, 40);
            return fail(c, "query", 400, "PARAM_ERROR", d,
                        "unknown query parameter \"%s\": GET %s takes only algorithm_type", qn,
                        WXM_CERTIFICATES_PATH);
        }
    }
    char v[16];
    Wxm_param got = Wxm_query_param(q, "algorithm_type", v, sizeof(v));
    if (got == WXM_PARAM_ABSENT) {
        passed(c, "query");
        return true;
    }
    if (got != WXM_PARAM_OK ||
        (strcmp(v, "RSA") != 0 && strcmp(v, "SM2") != 0 && strcmp(v, "ALL") != 0)) {
        cJSON *d = detail3("query", "algorithm_type", "RSA, SM2 or ALL");
        if (got == WXM_PARAM_OK)
            Wxm_add_quoted(d, "received", wxp_span_of(v));
        return fail(c, "query", 400, "PARAM_ERROR", d,
                    "algorithm_type must be RSA (the default), SM2 or ALL");
    }
    memcpy(c->algorithm, v, strlen(v) + 1);
    passed(c, "query");
    return true;
}

static bool check_body(Wxm_ctx *c)
{
    wxp_diag d = {"", ""};
    if (c->route == WXM_ROUTE_CERTIFICATES)
        return check_certificates_query(c);
    bool get = strcmp(c->ep->method, "GET") == 0;
    wxp_err e = get ? Wxm_read_query(c, &d) : Wxm_read_body(c, &d);
    if (e == WXP_ERR_NOMEM)
        return fail(c, "body", 500, "SYSTEM_ERROR", NULL, "out of memory while reading the body");
    if (e) {
        cJSON *det = detail3(get ? "query" : "body", d.field, NULL);
        if (get)
            return fail(c, "query", 400, "PARAM_ERROR", det, "%s: GET %s?%s", d.text, c->ep->tmpl,
                        c->ep->partner ? "sp_mchid=1900000100&sub_mchid=1900000109"
                                       : "mchid=1230000109");
        return fail(c, "body", 400, "PARAM_ERROR", det, "%s", d.text);
    }
    passed(c, get ? "query" : "body");
    return true;
}

static bool check_authorization(Wxm_ctx *c)
{
    size_t n = 0;
    wxp_diag d = {"", ""};
    const wxm_header *h = Wxm_find_header(c->req, "Authorization", &n);
    if (!h)
        return fail(c, "authorization", 401, "SIGN_ERROR",
                    detail3("authorization", "Authorization", WXP_AUTH_SCHEME " mchid=\"...\",..."),
                    "the Authorization header is missing: every API v3 request is signed");
    if (n > 1)
        return fail(c, "authorization", 401, "SIGN_ERROR",
                    detail3("authorization", "Authorization", "one header"),
                    "the Authorization header was sent %zu times; send it once", n);
    if (wxp_auth_parse(h->value, &c->auth, &d) != WXP_OK) {
        cJSON *det = detail3("authorization", d.field, NULL);
        cJSON_AddStringToObject(det, "reason", d.text);
        return fail(c, "authorization", 401, "SIGN_ERROR", det, "Authorization: %s", d.text);
    }
    passed(c, "authorization");
    return true;
}

static bool check_merchant(Wxm_ctx *c)
{
    const wxm_config *cfg = c->m->cfg;
    char got[96];
    c->merchant = Wxm_config_merchant(cfg, c->auth.mchid);
    wxp_quote(got, sizeof(got), c->auth.mchid, 40);
    if (!c->merchant) {
        cJSON *d = detail3("authorization", "mchid", cfg->merchants[0].mchid);
        cJSON_AddStringToObject(d, "received", got);
        return fail(
            c, "merchant", 401, "SIGN_ERROR", d,
            "mchid \"%s\" in Authorization is not a merchant this mock knows (it knows %s%s)", got,
            cfg->merchants[0].mchid, cfg->nmerchants > 1 ? " and others" : "");
    }
    const char *want = wxp_key_serial(c->merchant->cert);
    if (!wxp_span_eq(c->auth.serial_no, want)) {
        char sn[96];
        const char *hint = "serial_no must be the serial of your merchant API certificate";
        wxp_quote(sn, sizeof(sn), c->auth.serial_no, 64);
        if (c->auth.serial_no.len == strlen(want) && strcasecmp(sn, want) == 0) {
            /* Serials are hex: the same number. A widely used SDK default
             * (wechatpay-node-v3) sends lower case; noted, not refused. */
            c->warning = "serial_no is in lower case; the service prints serials in upper "
                         "case hex (accepted: hex is case-insensitive)";
            passed(c, "merchant");
            return true;
        }
        if (Wxm_keys_is_platform_serial(c->m, sn) || strncmp(sn, "PUB_KEY_ID_", 11) == 0)
            hint = "that is a WeChat Pay key id or platform serial; serial_no names the "
                   "MERCHANT certificate (Wechatpay-Serial is the other direction)";
        else
            for (size_t i = 0; i < cfg->nmerchants; i++)
                if (strcmp(sn, wxp_key_serial(cfg->merchants[i].cert)) == 0)
                    hint = "that is another merchant's certificate serial";
        cJSON *d = detail3("authorization", "serial_no", want);
        cJSON_AddStringToObject(d, "received", sn);
        cJSON_AddStringToObject(d, "hint", hint);
        return fail(c, "serial_no", 401, "SIGN_ERROR", d,
                    "serial_no \"%s\" is not the certificate serial of merchant %s (%s): %s", sn,
                    c->merchant->mchid, want, hint);
    }
    passed(c, "merchant");
    return true;
}

static bool check_timestamp(Wxm_ctx *c)
{
    int64_t ts = c->auth.timestamp_value, now = c->now;
    int64_t diff = ts > now ? ts - now : now - ts;
    if (diff > c->m->cfg->skew_seconds) {
        char want[64], got[32];
        snprintf(want, sizeof(want), "%lld +/- %lld", (long long)now,
                 (long long)c->m->cfg->skew_seconds);
        snprintf(got, sizeof(got), "%lld", (long long)ts);
        cJSON *d = detail3("authorization", "timestamp", want);
        cJSON_AddStringToObject(d, "received", got);
        return fail(c, "timestamp", 401, "SIGN_ERROR", d,
                    "timestamp %lld is %lld s %s the server clock (%lld); the limit is %lld s: "
                    "sign with the current Unix time in seconds",
                    (long long)ts, (long long)diff, ts < now ? "behind" : "ahead of",
                    (long long)now, (long long)c->m->cfg->skew_seconds);
    }
    passed(c, "timestamp");
    return true;
}

static bool check_nonce(Wxm_ctx *c)
{
    if (Wxm_nonces_seen(c->m->nonces, c->auth.mchid, c->auth.nonce_str, c->now)) {
        cJSON *d = detail3("authorization", "nonce_str", "a nonce not used before");
        Wxm_add_quoted(d, "received", c->auth.nonce_str);
        return fail(c, "nonce", 401, "SIGN_ERROR", d,
                    "nonce_str was already used by an earlier request: a retry must be signed "
                    "again with a fresh nonce and timestamp");
    }
    passed(c, "nonce");
    return true;
}

static bool check_signature(Wxm_ctx *c)
{
    size_t len;
    wxp_diag d = {"", ""};
    char *msg = Wxm_signed_message(c, &len);
    wxp_err e;

    if (!msg)
        return fail(c, "signature", 500, "SYSTEM_ERROR", NULL, "out of memory");
    e = wxp_verify(c->merchant->cert, msg, len, c->auth.signature, &d);
    if (e == WXP_OK) {
        free(msg);
        /* Remember the nonce only once it signed something: a bad request
         * must not burn a nonce. Keep it as long as a copy could pass the
         * timestamp check: until the later of now and the request's own
         * (future) timestamp, plus the window. Two racing copies: the
         * second loses. */
        int64_t ts = c->auth.timestamp_value, until = ts > c->now ? ts : c->now;
        if (!Wxm_nonces_add(c->m->nonces, c->auth.mchid, c->auth.nonce_str, c->now,
                            until + c->m->cfg->skew_seconds + 1))
            return check_nonce(c);
        passed(c, "signature");
        return true;
    }
    cJSON *det = detail3("authorization", "signature", NULL);
    cJSON_AddStringToObject(det, "reason", d.text);
    const char *mistake = Wxm_signature_diagnosis(c, e, msg, len, det);
    free(msg);
    return fail(
        c, "signature", 401, "SIGN_ERROR", det, "signature does not verify: %s",
        mistake ? mistake
                : (e == WXP_ERR_SIGNATURE_MISMATCH
                       ? "compare your message with detail.sign_information.expected_sign_message"
                       : d.text));
}

static bool check_mchid_match(Wxm_ctx *c)
{
    if (c->route == WXM_ROUTE_CERTIFICATES) /* the merchant is the signer */
        return true;
    const char *where = strcmp(c->ep->method, "POST") == 0 ? "body" : "query";
    const char *signer = c->ep->partner ? c->sp_mchid : c->mchid;
    if (!wxp_span_eq(c->auth.mchid, signer)) {
        cJSON *d = detail3(where, c->ep->partner ? "sp_mchid" : "mchid", signer);
        Wxm_add_quoted(d, "received_in_authorization", c->auth.mchid);
        return fail(c, "mchid_match", 400, "PARAM_ERROR", d,
                    "mchid in Authorization differs from %s \"%s\" in the %s%s",
                    c->ep->partner ? "sp_mchid" : "mchid", signer, where,
                    c->ep->partner ? ": a partner call is signed by the service provider" : "");
    }
    if (c->ep->partner) {
        c->sub = Wxm_config_sub(c->merchant, c->mchid);
        if (!c->sub) {
            cJSON *d =
                detail3(where, "sub_mchid",
                        c->merchant->nsubs ? c->merchant->subs[0].mchid : "a bound sub-merchant");
            cJSON_AddStringToObject(d, "received", c->mchid);
            return fail(c, "sub_mchid", 403, "NO_AUTH", d,
                        "子商户与服务商不存在绑定关系: sub_mchid %s is not bound to service "
                        "provider %s",
                        c->mchid, c->merchant->mchid);
        }
        passed(c, "sub_mchid");
    }
    passed(c, "mchid_match");
    return true;
}

static bool appid_bound(Wxm_ctx *c, const Wxm_merchant *m, const char *field, const char *appid)
{
    if (!appid[0] || Wxm_merchant_has_appid(m, appid))
        return true;
    cJSON *d = detail3("body", field, m->nappids ? m->appids[0] : "");
    cJSON_AddStringToObject(d, "received", appid);
    return fail(c, "appid", 403, "NO_AUTH", d, "%s \"%s\" is not bound to %s %s", field, appid,
                m == c->merchant ? "merchant" : "sub-merchant", m->mchid);
}

static bool check_appid(Wxm_ctx *c)
{
    if (strcmp(c->ep->method, "POST") != 0 || c->route == WXM_ROUTE_CLOSE)
        return true;
    bool ok = c->ep->partner ? appid_bound(c, c->merchant, "sp_appid", c->sp_appid) &&
                                   appid_bound(c, c->sub, "sub_appid", c->appid)
                             : appid_bound(c, c->merchant, "appid", c->appid);
    if (ok)
        passed(c, "appid");
    return ok;
}

bool Wxm_check_request(Wxm_ctx *c)
{
    return check_method(c) && check_path(c) && check_out_trade_no(c) && check_headers(c) &&
           check_body_size(c) && check_body(c) && check_authorization(c) && check_merchant(c) &&
           check_timestamp(c) && check_nonce(c) && check_signature(c) && check_mchid_match(c) &&
           check_appid(c);
}
