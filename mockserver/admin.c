/* admin.c: the admin API under /__admin/ (docs/mock.md "Admin API"), a table of
 * routes: each names its path, the methods it takes and its handler. */
#include "mock_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What an admin handler gets. */
typedef struct admin_call {
    wxm_mock *m;
    const wxm_request *r;
    int64_t now;          /* Unix seconds */
    int64_t now_ms;       /* ... and milliseconds */
    wxp_span path, query; /* the target split at '?' */
    const char *param;    /* {out_trade_no}, for routes that take one */
} admin_call;

static void admin_error(wxm_answer *a, int status, const char *field, const char *text)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", text);
    if (field && *field)
        cJSON_AddStringToObject(j, "field", field);
    Wxm_answer_json(a, status, j);
}

static void answer_flag(wxm_answer *a, const char *name)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, name, 1);
    Wxm_answer_json(a, 200, j);
}

/* ------------------------------------------------------------ routes */

static void get_health(const admin_call *c, wxm_answer *a)
{
    wxm_mock *m = c->m;
    uint64_t lost = Wxm_journal_file_lost(m->journal);
    cJSON *j = cJSON_CreateObject();
    /* "ok" would hide that entries are being lost */
    cJSON_AddStringToObject(j, "status", lost ? "journal_file_failing" : "ok");
    cJSON_AddNumberToObject(j, "orders", (double)Wxm_store_count(m->orders));
    cJSON_AddNumberToObject(j, "orders_limit", (double)Wxm_store_limit(m->orders));
    cJSON_AddNumberToObject(j, "orders_evicted", (double)Wxm_store_evicted(m->orders));
    cJSON_AddNumberToObject(j, "requests", (double)Wxm_journal_total(m->journal));
    cJSON_AddNumberToObject(j, "journal_file_lost", (double)lost);
    cJSON_AddNumberToObject(j, "nonces_evicted_early", (double)Wxm_nonces_evicted_live(m->nonces));
    cJSON_AddNumberToObject(j, "connections_refused",
                            (double)__atomic_load_n(&m->connections_refused, __ATOMIC_RELAXED));
    cJSON_AddNumberToObject(j, "requests_timed_out",
                            (double)__atomic_load_n(&m->requests_timed_out, __ATOMIC_RELAXED));
    cJSON_AddStringToObject(j, "mode",
                            Wxm_keys_mode(m) == WXM_MODE_PUBLIC_KEY ? "public_key" : "certificate");
    cJSON_AddStringToObject(j, "wechatpay_serial", Wxm_keys_signer(m).serial);
    Wxm_answer_json(a, 200, j);
}

static void post_reset(const admin_call *c, wxm_answer *a)
{
    Wxm_store_clear(c->m->orders);
    Wxm_nonces_clear(c->m->nonces);
    Wxm_journal_clear(c->m->journal);
    Wxm_keys_reset(c->m);
    __atomic_store_n(&c->m->trim_wanted, 1, __ATOMIC_RELAXED); /* the listener gives it back */
    answer_flag(a, "reset");
}

static void get_journal(const admin_call *c, wxm_answer *a)
{
    char otn[WXP_PARAM_MAX_LEN + 1];
    Wxm_param got = Wxm_query_param(c->query, "out_trade_no", otn, sizeof(otn));
    if (got == WXM_PARAM_NUL || got == WXM_PARAM_TOO_LONG) {
        admin_error(a, 400, "out_trade_no",
                    got == WXM_PARAM_NUL ? "out_trade_no holds a NUL byte (%00)"
                                         : "out_trade_no is too long");
        return;
    }
    bool filter = got == WXM_PARAM_OK;
    /* Streamed: the entries are shared with the journal, not copied. */
    a->stream = Wxm_journal_stream(c->m->journal, filter ? otn : NULL);
    if (!a->stream) {
        admin_error(a, 500, "", "out of memory for the journal dump");
        return;
    }
    a->status = 200;
    Wxm_answer_header(a, "Content-Type", "application/json");
}

static void delete_journal(const admin_call *c, wxm_answer *a)
{
    Wxm_journal_clear(c->m->journal);
    answer_flag(a, "cleared");
}

typedef struct settled {
    int64_t now_ms;
    Wxm_order copy;
} settled;

static void settle_copy(Wxm_order *o, void *ctx)
{
    settled *s = ctx;
    Wxm_order_settle(o, s->now_ms); /* what the next API call would see */
    s->copy = *o;
}

static void get_order(const admin_call *c, wxm_answer *a)
{
    settled s = {c->now_ms, {0}};
    if (Wxm_store_with(c->m->orders, c->param, NULL, settle_copy, &s) != WXM_FOUND) {
        admin_error(a, 404, "out_trade_no", "no such order (PUT it first)");
        return;
    }
    Wxm_answer_json(a, 200, Wxm_order_admin_json(&s.copy));
}

static void get_catalogue(const admin_call *c, wxm_answer *a)
{
    (void)c;
    cJSON *j = Wxm_catalogue_json();
    if (!j) {
        admin_error(a, 500, "", "out of memory");
        return;
    }
    Wxm_answer_json(a, 200, j);
}

static void put_order(const admin_call *c, wxm_answer *a)
{
    const wxm_config *cfg = c->m->cfg;
    wxp_diag d = {"", ""};
    cJSON *body = cJSON_ParseWithLength(c->r->body.ptr ? c->r->body.ptr : "", c->r->body.len);
    if (!body) {
        admin_error(a, 400, "body", "body is not valid JSON");
        return;
    }
    Wxm_order o;
    memset(&o, 0, sizeof(o));
    memcpy(o.out_trade_no, c->param, strlen(c->param) + 1); /* checked: at most 32 */
    o.amount = 100;
    o.created_at = c->now;
    memcpy(o.mchid, cfg->merchants[0].mchid, sizeof(o.mchid));
    snprintf(o.appid, sizeof(o.appid), "%s", cfg->merchants[0].appids[0]);
    wxp_err e = Wxm_order_from_json(body, &o, &d);
    cJSON_Delete(body);
    if (e) {
        admin_error(a, 400, d.field, d.text);
        return;
    }
    /* An unpaid order waits for its codepay; a paying one settles when due. */
    o.prepared = o.state == WXM_NOTPAY && !o.auth_code[0];
    if (o.state == WXM_USERPAYING && o.pay_after_ms > 0)
        o.pay_at_ms = c->now_ms + o.pay_after_ms;
    Wxm_found f = Wxm_store_put(c->m->orders, &o);
    if (f == WXM_NO_ROOM) {
        char why[200];
        snprintf(why, sizeof(why),
                 "the mock holds its limit of %zu orders (limits.orders) and none is finished "
                 "(REVOKED, CLOSED, REFUND) to make room",
                 Wxm_store_limit(c->m->orders));
        admin_error(a, 507, "limits.orders", why);
        return;
    }
    if (f != WXM_FOUND) {
        admin_error(a, 500, "", "out of memory");
        return;
    }
    Wxm_answer_json(a, 200, Wxm_order_admin_json(&o));
}

static void get_wechatpay(const admin_call *c, wxm_answer *a)
{
    Wxm_answer_json(a, 200, Wxm_keys_json(c->m));
}

static void put_wechatpay(const admin_call *c, wxm_answer *a)
{
    wxp_diag d = {"", ""};
    cJSON *body = cJSON_ParseWithLength(c->r->body.ptr ? c->r->body.ptr : "", c->r->body.len);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        admin_error(a, 400, "body", "body must be a JSON object");
        return;
    }
    wxp_err e = Wxm_keys_update(c->m, body, &d);
    cJSON_Delete(body);
    if (e == WXP_ERR_NOMEM)
        admin_error(a, 500, "", "out of memory");
    else if (e)
        admin_error(a, 400, d.field, d.text);
    else
        get_wechatpay(c, a);
}

typedef void (*admin_fn)(const admin_call *c, wxm_answer *a);

static const struct route {
    const char *path;    /* a template when it holds {out_trade_no} */
    const char *allowed; /* for the 405 */
    admin_fn get, put, post, del;
} routes[] = {
    {"/__admin/health", "use GET /__admin/health", get_health, NULL, NULL, NULL},
    {"/__admin/reset", "use POST /__admin/reset", NULL, NULL, post_reset, NULL},
    {"/__admin/journal", "use GET or DELETE /__admin/journal", get_journal, NULL, NULL,
     delete_journal},
    {"/__admin/orders/{out_trade_no}", "use PUT or GET /__admin/orders/{out_trade_no}", get_order,
     put_order, NULL, NULL},
    {"/__admin/wechatpay", "use GET or PUT /__admin/wechatpay", get_wechatpay, put_wechatpay, NULL,
     NULL},
    {"/__admin/catalogue", "use GET /__admin/catalogue", get_catalogue, NULL, NULL, NULL},
};

/* Compares without an early exit, so timing says nothing of the token. */
static bool same_secret(wxp_span given, const char *want)
{
    size_t n = strlen(want);
    unsigned char diff = given.len != n;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(want[i] ^ (i < given.len ? given.ptr[i] : 0));
    return diff == 0;
}

/* host[:port] of a Host header: an IP address or localhost, no name. */
static bool host_is_address(wxp_span h)
{
    char buf[80];
    if (h.len == 0 || h.len >= sizeof(buf))
        return h.len == 0;
    memcpy(buf, h.ptr, h.len);
    buf[h.len] = '\0';
    char *end = buf[0] == '[' ? strchr(buf, ']') : strrchr(buf, ':');
    if (buf[0] == '[') /* [v6]:port */
        return end != NULL;
    if (end)
        *end = '\0';
    if (strcasecmp(buf, "localhost") == 0)
        return true;
    return strspn(buf, "0123456789.") == strlen(buf) && strchr(buf, '.') != NULL;
}

/* Who may call the admin API (docs/mock.md "Admin API and the network"): true
 * when the call may go on, else false with the refusal in `a`. */
static bool admin_allowed(const wxm_mock *m, const wxm_request *r, wxm_answer *a)
{
    const wxm_header *host = Wxm_find_header(r, "Host", NULL);
    const wxm_header *origin = Wxm_find_header(r, "Origin", NULL);
    wxp_span h = host ? host->value : (wxp_span){"", 0};
    if (origin) {
        /* A browser's cross-site request: its Origin names another site
         * than the Host it was sent to. */
        const char *sep = memchr(origin->value.ptr, '/', origin->value.len);
        wxp_span o = {NULL, 0};
        if (sep && sep + 2 <= origin->value.ptr + origin->value.len && sep[1] == '/')
            o = (wxp_span){sep + 2, (size_t)(origin->value.ptr + origin->value.len - sep - 2)};
        if (!o.ptr || o.len != h.len || strncasecmp(o.ptr, h.ptr, h.len) != 0) {
            admin_error(a, 403, "origin",
                        "an admin call from another site's page (its Origin is not this mock) "
                        "is refused");
            return false;
        }
    }
    if (m->cfg->admin_token) {
        const wxm_header *auth = Wxm_find_header(r, "Authorization", NULL);
        wxp_span t = {NULL, 0};
        if (auth && auth->value.len > 7 && strncasecmp(auth->value.ptr, "Bearer ", 7) == 0)
            t = (wxp_span){auth->value.ptr + 7, auth->value.len - 7};
        if (!same_secret(t, m->cfg->admin_token)) {
            admin_error(a, 401, "authorization",
                        auth ? "the admin token does not match"
                             : "admin calls need the admin token: Authorization: Bearer <token>");
            return false;
        }
        return true;
    }
    if (!host_is_address(h)) {
        admin_error(a, 403, "host",
                    "an admin call to a host name is refused without an admin token (a DNS "
                    "rebinding could read the journal): use the address, or set a token");
        return false;
    }
    return true;
}

void Wxm_admin(wxm_mock *m, const wxm_request *r, int64_t now_ms, wxm_answer *a)
{
    const char *qm = memchr(r->target.ptr, '?', r->target.len);
    admin_call c = {.m = m, .r = r, .now = now_ms / 1000, .now_ms = now_ms};
    if (r->headers_seen > r->nheaders) {
        admin_error(a, 431, "headers", "too many headers: the mock reads at most 100");
        return;
    }
    c.path = (wxp_span){r->target.ptr, qm ? (size_t)(qm - r->target.ptr) : r->target.len};
    if (qm)
        c.query = (wxp_span){qm + 1, r->target.len - c.path.len - 1};
    /* Health says nothing secret and changes nothing: open to probes
     * (container health checks, load balancers), whatever the Host. */
    bool health = wxp_span_eq(c.path, "/__admin/health") && wxp_span_eq(r->method, "GET");
    if (!health && !admin_allowed(m, r, a))
        return;

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *rt = &routes[i];
        wxp_match mt;
        wxp_diag d = {"", ""};
        if (strchr(rt->path, '{')) {
            if (wxp_template_match(rt->path, c.path, &mt, &d) != WXP_OK)
                continue;
            c.param = mt.params[0].value;
            /* All its bytes: a %00 must not cut it short. */
            wxp_span all = {mt.params[0].value, mt.params[0].value_len};
            if (wxp_check_out_trade_no(all, &d) != WXP_OK) {
                admin_error(a, 400, "out_trade_no", d.text);
                return;
            }
        } else if (!wxp_span_eq(c.path, rt->path)) {
            continue;
        }
        admin_fn fn = wxp_span_eq(r->method, "GET")      ? rt->get
                      : wxp_span_eq(r->method, "PUT")    ? rt->put
                      : wxp_span_eq(r->method, "POST")   ? rt->post
                      : wxp_span_eq(r->method, "DELETE") ? rt->del
                                                         : NULL;
        if (!fn)
            admin_error(a, 405, "method", rt->allowed);
        else
            fn(&c, a);
        return;
    }
    admin_error(a, 404, "path",
                "unknown admin endpoint; see docs/mock.md: /__admin/orders/{out_trade_no}, "
                "/__admin/journal, /__admin/reset, /__admin/health, /__admin/wechatpay, "
                "/__admin/catalogue");
}
