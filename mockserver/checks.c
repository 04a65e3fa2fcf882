/* checks.c: what the mock verifies on every API request, in a fixed,
 * documented order (README "Checks"). The first failure becomes the error
 * answer: HTTP status and code from PROTOCOL.md's table, and a detail that
 * names the check, what was expected, what was received and, for a bad
 * signature, the exact message the server expected plus the likely mistake.
 */
#include "mock_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ helpers */

const wxm_header *wxm_find_header(const wxm_request *r, const char *name, size_t *count)
{
    const wxm_header *first = NULL;
    size_t n = 0, len = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++) {
        const wxm_header *h = &r->headers[i];
        if (h->name.len == len && strncasecmp(h->name.ptr, name, len) == 0) {
            if (!first)
                first = h;
            n++;
        }
    }
    if (count)
        *count = n;
    return first;
}

static void add_span(cJSON *obj, const char *name, wxp_span s)
{
    char buf[512];
    /* Quoting keeps the JSON valid whatever bytes the client sent. */
    wxp_quote(buf, sizeof(buf), s, 400);
    cJSON_AddStringToObject(obj, name, buf);
}

static void passed(wxm_ctx *c, const char *check)
{
    wxm_json_open(c->journal, NULL, '{');
    wxm_json_cstring(c->journal, "check", check);
    wxm_json_bool(c->journal, "ok", true);
    wxm_json_close(c->journal, '}');
}

/* Fills ctx->fail; `detail` gains "check" (and is owned by ctx). */
static bool fail(wxm_ctx *c, const char *check, int status, const char *code,
                 cJSON *detail, const char *fmt, ...) WXM_PRINTF(6, 7);

static bool fail(wxm_ctx *c, const char *check, int status, const char *code,
                 cJSON *detail, const char *fmt, ...)
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
    wxm_json_open(c->journal, NULL, '{');
    wxm_json_cstring(c->journal, "check", check);
    wxm_json_bool(c->journal, "ok", false);
    wxm_json_cstring(c->journal, "code", code);
    wxm_json_cstring(c->journal, "message", c->fail.message);
    wxm_json_close(c->journal, '}');
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

static bool check_method(wxm_ctx *c)
{
    wxp_span m = c->req->method;
    if (wxp_span_eq(m, "GET") || wxp_span_eq(m, "POST")) {
        passed(c, "method");
        return true;
    }
    cJSON *d = detail3("method", "method", "GET or POST");
    add_span(d, "received", m);
    return fail(c, "method", 405, "INVALID_REQUEST", d,
                "method %.*s is not served here: reverse is POST, query is GET",
                (int)(m.len > 16 ? 16 : m.len), m.ptr);
}

static bool check_path(wxm_ctx *c)
{
    wxp_diag d1 = {"", ""}, d2 = {"", ""};
    bool post = wxp_span_eq(c->req->method, "POST");
    wxp_err e1 = wxp_template_match(WXM_REVERSE_TEMPLATE, c->req->target, &c->match, &d1);
    if (e1 == WXP_OK) {
        c->route = WXM_ROUTE_REVERSE;
    } else {
        wxp_err e2 = wxp_template_match(WXM_QUERY_TEMPLATE, c->req->target, &c->match, &d2);
        if (e2 == WXP_OK) {
            c->route = WXM_ROUTE_QUERY;
        } else {
            /* Explain against the endpoint the method is for. */
            wxp_err e = post ? e1 : e2;
            wxp_diag *d = post ? &d1 : &d2;
            const char *tmpl = post ? WXM_REVERSE_TEMPLATE : WXM_QUERY_TEMPLATE;
            cJSON *det = detail3("uri_template", "path", tmpl);
            add_span(det, "received", c->req->target);
            cJSON_AddStringToObject(det, "error", wxp_strerror(e));
            cJSON_AddStringToObject(det, "hint", d->text);
            if (e == WXP_ERR_PATH_EMPTY_PARAM)
                cJSON_AddStringToObject(det, "value", "");
            if (e == WXP_ERR_PATH_MISMATCH)
                return fail(c, "path", 404, "NOT_FOUND", det,
                            "no such endpoint: this mock serves POST %s and GET %s?mchid=...; %s",
                            WXM_REVERSE_TEMPLATE, WXM_QUERY_TEMPLATE, d->text);
            return fail(c, "path", 400, "PARAM_ERROR", det, "%s", d->text);
        }
    }
    bool want_post = c->route == WXM_ROUTE_REVERSE;
    if (post != want_post) {
        cJSON *d = detail3("method", "method", want_post ? "POST" : "GET");
        add_span(d, "received", c->req->method);
        return fail(c, "method", 405, "INVALID_REQUEST", d, "%s must be called with %s, not %.*s",
                    want_post ? "reverse" : "query", want_post ? "POST" : "GET",
                    (int)c->req->method.len, c->req->method.ptr);
    }
    memcpy(c->out_trade_no, c->match.params[0].value, c->match.params[0].value_len + 1);
    c->out_trade_no_len = c->match.params[0].value_len;
    passed(c, "path");
    return true;
}

static bool check_out_trade_no(wxm_ctx *c)
{
    wxp_diag d = {"", ""};
    wxp_span v = {c->out_trade_no, c->out_trade_no_len};
    if (wxp_check_out_trade_no(v, &d) != WXP_OK) {
        cJSON *det = detail3("uri_template", "out_trade_no", "6 to 32 of [0-9A-Za-z_-|*]");
        add_span(det, "value", v);
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

static bool check_headers(wxm_ctx *c)
{
    const wxm_header *h = wxm_find_header(c->req, "Accept", NULL);
    if (!h || !accepts_json(h->value)) {
        cJSON *d = detail3("header", "Accept", "application/json (or */*)");
        if (h)
            add_span(d, "received", h->value);
        return fail(c, "headers", 400, "INVALID_REQUEST", d,
                    h ? "the Accept header does not admit application/json"
                      : "the Accept header is missing; send Accept: application/json");
    }
    if (c->route == WXM_ROUTE_REVERSE) {
        h = wxm_find_header(c->req, "Content-Type", NULL);
        if (!h || !is_json_type(h->value)) {
            cJSON *d = detail3("header", "Content-Type", "application/json");
            if (h)
                add_span(d, "received", h->value);
            return fail(c, "headers", 400, "INVALID_REQUEST", d,
                        h ? "Content-Type must be application/json for a JSON body"
                          : "the Content-Type header is missing; send Content-Type: application/json");
        }
    }
    h = wxm_find_header(c->req, "User-Agent", NULL);
    if (!h || h->value.len == 0)
        return fail(c, "headers", 400, "INVALID_REQUEST", detail3("header", "User-Agent", "any"),
                    "the User-Agent header is missing; WeChat Pay requires one");
    passed(c, "headers");
    return true;
}

static bool check_body_size(wxm_ctx *c)
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

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
}

/* Percent-decodes t[0..len) into out[cap]; returns the length written. */
static size_t percent_decode(const char *t, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        if (t[i] == '%' && i + 2 < len && hexval(t[i + 1]) >= 0 && hexval(t[i + 2]) >= 0) {
            out[o++] = (char)(hexval(t[i + 1]) * 16 + hexval(t[i + 2]));
            i += 2;
        } else {
            out[o++] = t[i];
        }
    }
    out[o] = '\0';
    return o;
}

bool wxm_query_param(wxp_span q, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name), i = 0;
    while (q.ptr && i < q.len) {
        size_t s = i;
        while (i < q.len && q.ptr[i] != '&')
            i++;
        if (i - s > nl && memcmp(q.ptr + s, name, nl) == 0 && q.ptr[s + nl] == '=') {
            percent_decode(q.ptr + s + nl + 1, i - s - nl - 1, out, cap);
            return true;
        }
        i++;
    }
    return false;
}

static bool check_body(wxm_ctx *c)
{
    wxp_diag d = {"", ""};
    if (c->route == WXM_ROUTE_QUERY) {
        if (!wxm_query_param(c->match.query, "mchid", c->mchid, sizeof(c->mchid)))
            return fail(c, "query", 400, "PARAM_ERROR", detail3("query", "mchid", "mchid=<digits>"),
                        "the query needs mchid=<your mchid>: GET %s?mchid=1230000109",
                        WXM_QUERY_TEMPLATE);
        if (wxp_check_mchid(wxp_span_of(c->mchid), &d) != WXP_OK)
            return fail(c, "query", 400, "PARAM_ERROR", detail3("query", "mchid", "1 to 32 digits"),
                        "%s", d.text);
        passed(c, "query");
        return true;
    }
    wxp_reverse_request body;
    if (wxp_reverse_request_parse(c->req->body, &body, &d) != WXP_OK ||
        wxp_check_appid(wxp_span_of(body.appid), &d) != WXP_OK ||
        wxp_check_mchid(wxp_span_of(body.mchid), &d) != WXP_OK) {
        cJSON *det = detail3("body", d.field, "{\"appid\":\"<appid>\",\"mchid\":\"<mchid>\"}");
        return fail(c, "body", 400, "PARAM_ERROR", det, "%s", d.text);
    }
    memcpy(c->mchid, body.mchid, sizeof(c->mchid));
    memcpy(c->appid, body.appid, sizeof(c->appid));
    passed(c, "body");
    return true;
}

static bool check_authorization(wxm_ctx *c)
{
    size_t n = 0;
    wxp_diag d = {"", ""};
    const wxm_header *h = wxm_find_header(c->req, "Authorization", &n);
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

static bool check_merchant(wxm_ctx *c)
{
    const wxm_config *cfg = c->m->cfg;
    char got[96];
    c->merchant = wxm_config_merchant(cfg, c->auth.mchid);
    wxp_quote(got, sizeof(got), c->auth.mchid, 40);
    if (!c->merchant) {
        cJSON *d = detail3("authorization", "mchid", cfg->merchants[0].mchid);
        cJSON_AddStringToObject(d, "received", got);
        return fail(c, "merchant", 401, "SIGN_ERROR", d,
                    "mchid \"%s\" in Authorization is not a merchant this mock knows (it knows %s%s)",
                    got, cfg->merchants[0].mchid, cfg->nmerchants > 1 ? " and others" : "");
    }
    const char *want = wxp_key_serial(c->merchant->cert);
    if (!wxp_span_eq(c->auth.serial_no, want)) {
        char sn[96];
        const char *hint = "serial_no must be the serial of your merchant API certificate";
        wxp_quote(sn, sizeof(sn), c->auth.serial_no, 64);
        if (strcasecmp(sn, want) == 0)
            hint = "the letter case differs: send the serial in uppercase hex, as printed by "
                   "openssl x509 -noout -serial";
        else if (strcmp(sn, cfg->serial) == 0 || strcmp(sn, cfg->platform_serial) == 0 ||
                 strncmp(sn, "PUB_KEY_ID_", 11) == 0)
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

static bool check_timestamp(wxm_ctx *c)
{
    int64_t ts = c->auth.timestamp_value, now = c->now;
    int64_t diff = ts > now ? ts - now : now - ts;
    if (diff > c->m->cfg->skew_seconds) {
        char want[64], got[32];
        snprintf(want, sizeof(want), "%lld +/- %lld", (long long)now, (long long)c->m->cfg->skew_seconds);
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

static bool check_nonce(wxm_ctx *c)
{
    if (wxm_nonces_seen(c->m->nonces, c->auth.mchid, c->auth.nonce_str, c->now)) {
        cJSON *d = detail3("authorization", "nonce_str", "a nonce not used before");
        add_span(d, "received", c->auth.nonce_str);
        return fail(c, "nonce", 401, "SIGN_ERROR", d,
                    "nonce_str was already used by an earlier request: a retry must be signed "
                    "again with a fresh nonce and timestamp");
    }
    passed(c, "nonce");
    return true;
}

/* ------------------------------------------- signature and its diagnosis */

typedef struct candidate {
    const char *name;
    const char *explanation;
    wxp_span method, target, timestamp, nonce, body;
    const char *tail; /* "\n" normally */
    bool crlf;
} candidate;

static char *build(const candidate *k, size_t *len)
{
    const char *nl = k->crlf ? "\r\n" : "\n";
    wxp_span n = wxp_span_of(nl);
    wxp_span parts[] = {k->method, n, k->target, n, k->timestamp, n, k->nonce, n, k->body,
                        wxp_span_of(k->tail)};
    size_t total = 0;
    for (size_t i = 0; i < 10; i++)
        total += parts[i].len;
    char *buf = malloc(total + 1), *p = buf;
    if (!buf)
        return NULL;
    for (size_t i = 0; i < 10; i++) {
        if (parts[i].len)
            memcpy(p, parts[i].ptr, parts[i].len);
        p += parts[i].len;
    }
    *p = '\0';
    *len = total;
    return buf;
}

static bool try_candidate(const wxp_key *key, const candidate *k, wxp_span sig)
{
    size_t len;
    char *msg = build(k, &len);
    bool ok = msg && wxp_verify(key, msg, len, sig, NULL) == WXP_OK;
    free(msg);
    return ok;
}

/* Percent-decoded copy of a target (for "signed the decoded path"). */
static char *decoded(wxp_span t)
{
    char *out = malloc(t.len + 1);
    if (out)
        percent_decode(t.ptr, t.len, out, t.len + 1);
    return out;
}

/* Tries the common wrong messages of PROTOCOL.md section 4 and returns the
 * first whose signature matches, or NULL. `scratch` keeps built strings
 * alive until the caller is done. */
static const candidate *diagnose_signature(wxm_ctx *c, const candidate *right, wxp_span sig,
                                           candidate *k, char **scratch, size_t nscratch)
{
    const wxp_key *key = c->merchant->cert;
    const wxm_request *r = c->req;
    size_t si = 0;
    char ms_ts[32], lower[16];
    const wxm_header *host = wxm_find_header(r, "Host", NULL);

#define TRY(NAME, EXPL, ...)                                                                     \
    do {                                                                                         \
        *k = *right;                                                                             \
        k->name = NAME;                                                                          \
        k->explanation = EXPL;                                                                   \
        __VA_ARGS__;                                                                             \
        if (try_candidate(key, k, sig))                                                          \
            return k;                                                                            \
    } while (0)

    TRY("final_newline_missing", "the signed message lacks the final \\n after the body",
        k->tail = "");
    TRY("crlf_line_endings", "the signed message uses \\r\\n; every line ends with \\n alone",
        k->crlf = true; k->tail = "\r\n");
    if (c->match.query.ptr)
        TRY("query_left_out", "the query string was left out of the signed URL; sign path?query "
                              "exactly as sent",
            k->target = c->match.path);
    static const char *hosts[] = {"https://api.mch.weixin.qq.com", "https://api2.mch.weixin.qq.com"};
    for (size_t i = 0; i < 2 + (host ? 2 : 0) && si + 1 < nscratch; i++) {
        char *full = NULL;
        if (i < 2) {
            full = malloc(strlen(hosts[i]) + r->target.len + 1);
            if (full)
                snprintf(full, strlen(hosts[i]) + r->target.len + 1, "%s%.*s", hosts[i],
                         (int)r->target.len, r->target.ptr);
        } else {
            size_t n = host->value.len + r->target.len + 9;
            full = malloc(n);
            if (full)
                snprintf(full, n, "%s://%.*s%.*s", i == 2 ? "http" : "https", (int)host->value.len,
                         host->value.ptr, (int)r->target.len, r->target.ptr);
        }
        if (!full)
            break;
        scratch[si++] = full;
        TRY("host_in_url", "the scheme and host were included in the signed URL; sign only "
                           "the path and query",
            k->target = wxp_span_of(full));
    }
    if (memchr(r->target.ptr, '%', r->target.len) && si < nscratch) {
        char *dec = decoded(r->target);
        if (dec) {
            scratch[si++] = dec;
            TRY("decoded_url_signed", "the percent-decoded URL was signed but the encoded one was "
                                      "sent; sign exactly the bytes of the request target",
                k->target = wxp_span_of(dec));
        }
    }
    snprintf(lower, sizeof(lower), "%.*s", (int)(r->method.len < 15 ? r->method.len : 15), r->method.ptr);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    TRY("method_lower_case", "the method was signed in lower case; sign it uppercase",
        k->method = wxp_span_of(lower));
    snprintf(ms_ts, sizeof(ms_ts), "%lld000", (long long)c->auth.timestamp_value);
    TRY("timestamp_in_milliseconds", "the message was signed with the timestamp in "
                                     "milliseconds; sign the same Unix seconds you send",
        k->timestamp = wxp_span_of(ms_ts));
    if (r->body.len) {
        TRY("body_left_out", "the body was left out of the signed message", k->body = wxp_span_of(""));
        cJSON *parsed = cJSON_ParseWithLength(r->body.ptr, r->body.len);
        if (parsed && si + 5 <= nscratch) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(parsed, "appid");
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(parsed, "mchid");
            char *forms[5] = {cJSON_PrintUnformatted(parsed), cJSON_Print(parsed), NULL, NULL, NULL};
            if (cJSON_IsString(a) && cJSON_IsString(m)) {
                size_t n = strlen(a->valuestring) + strlen(m->valuestring) + 40;
                for (int f = 2; f < 5; f++)
                    forms[f] = malloc(n);
                if (forms[2])
                    snprintf(forms[2], n, "{\"appid\": \"%s\", \"mchid\": \"%s\"}", a->valuestring, m->valuestring);
                if (forms[3])
                    snprintf(forms[3], n, "{\"mchid\":\"%s\",\"appid\":\"%s\"}", m->valuestring, a->valuestring);
                if (forms[4])
                    snprintf(forms[4], n, "{\"mchid\": \"%s\", \"appid\": \"%s\"}", m->valuestring, a->valuestring);
            }
            for (int f = 0; f < 5; f++)
                scratch[si++] = forms[f];
            cJSON_Delete(parsed);
            for (int f = 0; f < 5; f++)
                if (forms[f])
                    TRY("body_reserialized", "the body was serialised again after signing (other "
                                             "spacing or key order); sign the exact bytes you send",
                        k->body = wxp_span_of(forms[f]));
        } else {
            cJSON_Delete(parsed);
        }
    }
#undef TRY
    /* The right message, but a key other than this merchant's: another
     * merchant's, or the WeChat Pay key (only a test setup has it; compared
     * by signing the right message ourselves). */
    size_t len;
    char *msg = build(right, &len), *sig2 = NULL;
    const char *name = NULL, *why = NULL;
    for (size_t i = 0; msg && !name && i < c->m->cfg->nmerchants; i++) {
        const wxm_merchant *other = &c->m->cfg->merchants[i];
        if (other != c->merchant && wxp_verify(other->cert, msg, len, sig, NULL) == WXP_OK) {
            name = "other_merchant_key";
            why = "signed with another merchant's private key; use the key of the certificate "
                  "named by serial_no";
        }
    }
    if (msg && !name && wxp_sign(c->m->cfg->wechatpay_key, msg, len, &sig2) == WXP_OK &&
        wxp_span_eq(sig, sig2)) {
        name = "wechatpay_key_used";
        why = "signed with the WeChat Pay key; requests are signed with the merchant's API "
              "private key";
    }
    free(msg);
    free(sig2);
    if (name) {
        *k = *right;
        k->name = name;
        k->explanation = why;
        return k;
    }
    return NULL;
}

static bool check_signature(wxm_ctx *c)
{
    const wxm_request *r = c->req;
    candidate right = {"", "", r->method, r->target, c->auth.timestamp, c->auth.nonce_str,
                       r->body, "\n", false};
    size_t len;
    wxp_diag d = {"", ""};
    char *msg = build(&right, &len);
    wxp_err e;

    if (!msg)
        return fail(c, "signature", 500, "SYSTEM_ERROR", NULL, "out of memory");
    e = wxp_verify(c->merchant->cert, msg, len, c->auth.signature, &d);
    if (e == WXP_OK) {
        free(msg);
        /* Remember the nonce only once it signed something: a bad request
         * must not burn a nonce. Two racing copies: the second loses. */
        if (!wxm_nonces_add(c->m->nonces, c->auth.mchid, c->auth.nonce_str, c->now,
                            c->now + c->m->cfg->skew_seconds + 1))
            return check_nonce(c);
        passed(c, "signature");
        return true;
    }
    cJSON *det = detail3("authorization", "signature", NULL);
    cJSON_AddStringToObject(det, "reason", d.text);
    cJSON *si = cJSON_AddObjectToObject(det, "sign_information");
    add_span(si, "method", r->method);
    add_span(si, "url", r->target);
    cJSON_AddNumberToObject(si, "sign_message_length", (double)len);
    char trunc[200];
    wxp_quote(trunc, sizeof(trunc), (wxp_span){msg, len}, 120);
    cJSON_AddStringToObject(si, "truncated_sign_message", trunc);
    /* The full expected message, escaped so newlines are visible. */
    char *full = malloc(len * 4 + 8);
    if (full) {
        wxp_quote(full, len * 4 + 8, (wxp_span){msg, len}, len);
        cJSON_AddStringToObject(si, "expected_sign_message", full);
        free(full);
    }
    free(msg);
    const char *mistake = NULL;
    if (e == WXP_ERR_SIGNATURE_MISMATCH) {
        candidate k;
        char *scratch[16] = {0};
        const candidate *hit = diagnose_signature(c, &right, c->auth.signature, &k, scratch, 16);
        if (hit) {
            cJSON *lm = cJSON_AddObjectToObject(det, "likely_mistake");
            cJSON_AddStringToObject(lm, "name", hit->name);
            cJSON_AddStringToObject(lm, "explanation", hit->explanation);
            mistake = hit->explanation;
        }
        for (size_t i = 0; i < 16; i++)
            free(scratch[i]);
    } else if (e == WXP_ERR_BASE64) {
        mistake = "the signature is not one line of standard Base64 (line breaks? URL-safe "
                  "alphabet?)";
    }
    return fail(c, "signature", 401, "SIGN_ERROR", det, "signature does not verify: %s",
                mistake ? mistake
                        : (e == WXP_ERR_SIGNATURE_MISMATCH
                               ? "compare your message with detail.sign_information.expected_sign_message"
                               : d.text));
}

static bool check_mchid_match(wxm_ctx *c)
{
    if (!wxp_span_eq(c->auth.mchid, c->mchid)) {
        cJSON *d = detail3(c->route == WXM_ROUTE_REVERSE ? "body" : "query", "mchid", c->mchid);
        add_span(d, "received_in_authorization", c->auth.mchid);
        return fail(c, "mchid_match", 400, "PARAM_ERROR", d,
                    "mchid in Authorization differs from mchid \"%s\" in the %s", c->mchid,
                    c->route == WXM_ROUTE_REVERSE ? "body" : "query");
    }
    passed(c, "mchid_match");
    return true;
}

static bool check_appid(wxm_ctx *c)
{
    if (c->route != WXM_ROUTE_REVERSE)
        return true;
    for (size_t i = 0; i < c->merchant->nappids; i++)
        if (strcmp(c->merchant->appids[i], c->appid) == 0) {
            passed(c, "appid");
            return true;
        }
    cJSON *d = detail3("body", "appid", c->merchant->appids[0]);
    cJSON_AddStringToObject(d, "received", c->appid);
    return fail(c, "appid", 403, "NO_AUTH", d, "appid \"%s\" is not bound to merchant %s",
                c->appid, c->merchant->mchid);
}

bool wxm_check_request(wxm_ctx *c)
{
    return check_method(c) && check_path(c) && check_out_trade_no(c) && check_headers(c) &&
           check_body_size(c) && check_body(c) && check_authorization(c) &&
           check_merchant(c) && check_timestamp(c) && check_nonce(c) && check_signature(c) &&
           check_mchid_match(c) && check_appid(c);
}
