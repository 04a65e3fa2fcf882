/* rules.c: the rules of the API endpoints. A reverse call decides
 * under the order's lock, from the state before the call and the script's
 * next step, what to answer and how the order changes (now, or after the
 * answer's wait); a query reports the order as it is; the certificate
 * list seals the listed platform certificates with the APIv3 key. */
#include "mock_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_DELAY_MS 3000

/* A reversal decided now that takes effect after the answer's wait. */
struct wxm_pending {
    char out_trade_no[WXP_PARAM_MAX_LEN + 1];
    uint64_t order_id; /* the order it was decided for */
    int64_t now;
    int64_t window; /* the reverse window, to check again */
};

/* Reverses o at `now`: what a successful reverse call does. An order that
 * is already final, or older than the window, stays as it is. */
static void apply_reverse(Wxm_order *o, int64_t now, int64_t window)
{
    if (o->state == WXM_REVOKED || o->state == WXM_CLOSED || o->state == WXM_REFUND ||
        now - o->created_at > window)
        return;
    if (o->state == WXM_SUCCESS) {
        o->refunded = true;
        o->refund_amount = o->amount;
        o->refunded_at = now;
        snprintf(o->refund_id, sizeof(o->refund_id), "50300%015lld", (long long)now);
    }
    o->state = WXM_REVOKED;
    o->reversed_at = now;
    o->pay_at_ms = 0; /* a payment still to come never completes */
}

/* After the wait the order may have been replaced (an admin PUT): the
 * change belongs to the order it was decided for, or to none. */
static void apply_pending(Wxm_order *o, void *ctx)
{
    const struct wxm_pending *p = ctx;
    if (o->id == p->order_id)
        apply_reverse(o, p->now, p->window);
}

void wxm_answer_commit(wxm_mock *m, wxm_answer *a)
{
    if (!a || !a->pending)
        return;
    Wxm_store_with(m->orders, a->pending->out_trade_no, NULL, apply_pending, a->pending);
    free(a->pending);
    a->pending = NULL;
}

/* The waits and drops a step asks of the listener. */
void Wxm_transport_fault(const wxm_mock *m, wxm_answer *a, Wxm_step st)
{
    switch (st.action) {
    case WXM_STEP_DELAY: a->wait_ms = st.ms ? st.ms : DEFAULT_DELAY_MS; break;
    case WXM_STEP_HANG:
        a->wait_ms = st.ms ? st.ms : m->cfg->hang_ms;
        a->action = WXM_DROP;
        break;
    case WXM_STEP_DROP: a->action = WXM_DROP; break;
    default: break;
    }
}

/* The error answer a step stands for: SYSTEM_ERROR, FREQUENCY_LIMITED or
 * PARAM_ERROR; false for any other step. */
static bool scripted_error(Wxm_step_action a, int *status, const char **code, const char **message)
{
    switch (a) {
    case WXM_STEP_SYSTEM_ERROR:
        *status = 500;
        *code = "SYSTEM_ERROR";
        *message = "系统错误 (scripted SYSTEM_ERROR; retry the same request)";
        return true;
    case WXM_STEP_PARAM_ERROR:
        *status = 400;
        *code = "PARAM_ERROR";
        *message = "参数错误 (scripted PARAM_ERROR; fix the request, do not retry)";
        return true;
    case WXM_STEP_FREQUENCY_LIMITED:
        *status = 429;
        *code = "FREQUENCY_LIMITED";
        *message = "频率超限 (scripted FREQUENCY_LIMITED; back off and retry)";
        return true;
    default: return false;
    }
}

/* What one reverse call decides under the order's lock. */
typedef struct decision {
    Wxm_ctx *c;
    bool exists;
    int status;
    const char *code;
    char message[200];
    Wxm_step step;
    bool later;      /* the state changes after the wait */
    Wxm_order after; /* the order as it is after the call */
} decision;

static void decide_reverse(Wxm_order *o, void *arg)
{
    decision *d = arg;
    Wxm_ctx *c = d->c;
    const wxm_config *cfg = c->m->cfg;

    d->exists = true;
    Wxm_order_adopt(o, c);
    if (!Wxm_order_is_callers(o, c)) { /* another merchant's order */
        d->exists = false;
        return;
    }
    Wxm_order_settle(o, c->now_ms);
    o->reverse_calls++;
    d->step = (Wxm_step){WXM_STEP_OK, true, false, 0};
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
    const char *message;
    bool scripted = scripted_error(d->step.action, &d->status, &d->code, &message);
    if (scripted)
        snprintf(d->message, sizeof(d->message), "%s", message);
    if (d->status == 200 || scripted) {
        bool business_ok = o->state != WXM_CLOSED && o->state != WXM_REFUND &&
                           c->now - o->created_at <= cfg->reverse_window_seconds;
        if (business_ok && d->step.apply) {
            bool later = !d->step.apply_first &&
                         (d->step.action == WXM_STEP_DELAY || d->step.action == WXM_STEP_HANG ||
                          d->step.action == WXM_STEP_DROP);
            if (later)
                d->later = true;
            else
                apply_reverse(o, c->now, cfg->reverse_window_seconds);
        }
    }
    d->after = *o;
}

void Wxm_order_adopt(Wxm_order *o, const Wxm_ctx *c)
{
    if (o->mchid[0])
        return;
    memcpy(o->mchid, c->mchid, sizeof(o->mchid));
    memcpy(o->appid, c->appid, sizeof(o->appid));
    if (c->ep->partner) {
        memcpy(o->sp_mchid, c->sp_mchid, sizeof(o->sp_mchid));
        memcpy(o->sp_appid, c->sp_appid, sizeof(o->sp_appid));
    }
}

bool Wxm_order_is_callers(const Wxm_order *o, const Wxm_ctx *c)
{
    if (o->mchid[0] && strcmp(o->mchid, c->mchid) != 0)
        return false;
    return strcmp(o->sp_mchid, c->ep->partner ? c->sp_mchid : "") == 0 || !o->mchid[0];
}

static const char *state_desc(Wxm_state s)
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

/* RFC 3339 in China time, as the service writes it. */
void Wxm_china_time(int64_t t, char out[40])
{
    time_t s = (time_t)(t + 8 * 3600);
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    gmtime_r(&s, &tm);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

/* Adds k: v (a string) unless v is empty; false when out of memory. */
static bool add(cJSON *o, const char *k, const char *v)
{
    return !v[0] || cJSON_AddStringToObject(o, k, v) != NULL;
}

cJSON *Wxm_transaction_json(const wxm_mock *m, const Wxm_order *o)
{
    bool paid = o->state == WXM_SUCCESS || o->state == WXM_REFUND || o->refunded;
    char when[40], openid[48];
    cJSON *b = cJSON_CreateObject(), *amount = cJSON_CreateObject(), *payer = NULL;
    const char *appid = o->appid[0] || o->sp_mchid[0] ? o->appid : m->cfg->merchants[0].appids[0];
    bool ok = b && amount;
    if (o->sp_mchid[0])
        ok = ok && add(b, "sp_appid", o->sp_appid) && add(b, "sp_mchid", o->sp_mchid) &&
             add(b, "sub_appid", appid) && add(b, "sub_mchid", o->mchid);
    else
        ok = ok && add(b, "appid", appid) && add(b, "mchid", o->mchid);
    ok = ok && add(b, "out_trade_no", o->out_trade_no) &&
         add(b, "transaction_id", o->transaction_id) &&
         add(b, "trade_type", o->trade_type[0] ? o->trade_type : "MICROPAY") &&
         add(b, "trade_state", Wxm_state_name(o->state)) &&
         add(b, "trade_state_desc", state_desc(o->state));
    if (ok && paid) {
        Wxm_china_time(o->success_time ? o->success_time : o->created_at, when);
        snprintf(openid, sizeof(openid), "oUpF8uMuAJO_M2pxb1Q9zNjW%.8s",
                 o->transaction_id[0]
                     ? o->transaction_id + strlen(o->transaction_id) -
                           (strlen(o->transaction_id) > 8 ? 8 : strlen(o->transaction_id))
                     : "00000000");
        payer = cJSON_CreateObject();
        ok = payer && add(b, "bank_type", "OTHERS") && add(b, "success_time", when) &&
             add(payer, o->sp_mchid[0] ? "sp_openid" : "openid", openid);
        ok = ok && cJSON_AddItemToObject(b, "payer", payer);
        if (!ok)
            cJSON_Delete(payer);
    }
    ok = ok && cJSON_AddNumberToObject(amount, "total", (double)o->amount) &&
         add(amount, "currency", "CNY");
    if (ok && paid)
        ok = cJSON_AddNumberToObject(amount, "payer_total", (double)o->amount) &&
             add(amount, "payer_currency", "CNY");
    if (!ok || !cJSON_AddItemToObject(b, "amount", amount)) {
        cJSON_Delete(b);
        cJSON_Delete(amount);
        return NULL;
    }
    return b;
}

void Wxm_answer_not_found(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry, bool with_detail)
{
    cJSON *det = !with_detail           ? NULL
                 : c->transaction_id[0] ? Wxm_json_object(1, "transaction_id", c->transaction_id)
                                        : Wxm_json_object(1, "out_trade_no", c->out_trade_no);
    Wxm_api_answer(
        c->m, a, 404,
        Wxm_error_body("ORDER_NOT_EXIST", "订单不存在 (no such order for this merchant)", det),
        WXM_STEP_OK, c->now);
    Wxm_answer_code(a, entry, "ORDER_NOT_EXIST");
}

/* The order could not be made: no memory, or the store full of orders
 * still open (limits.orders). */
void Wxm_answer_cannot_create(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry, Wxm_found why)
{
    char msg[240];
    if (why == WXM_NO_ROOM)
        snprintf(msg, sizeof(msg),
                 "系统繁忙 (the mock holds its limit of %zu orders, limits.orders, and none is "
                 "finished to make room; reset it or raise the limit)",
                 Wxm_store_limit(c->m->orders));
    else
        snprintf(msg, sizeof(msg), "系统错误 (the mock ran out of memory)");
    Wxm_api_answer(c->m, a, why == WXM_NO_ROOM ? 503 : 500,
                   Wxm_error_body("SYSTEM_ERROR", msg, NULL), WXM_STEP_OK, c->now);
    Wxm_answer_code(a, entry, "SYSTEM_ERROR");
}

void Wxm_rule_reverse(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry)
{
    wxm_mock *m = c->m;
    decision d;
    Wxm_order init;

    memset(&d, 0, sizeof(d));
    d.c = c;
    bool create = m->cfg->zero_config && Wxm_catalogue_order(c->out_trade_no, c->now, &init);
    Wxm_found f =
        Wxm_store_with(m->orders, c->out_trade_no, create ? &init : NULL, decide_reverse, &d);
    if (f == WXM_NO_MEMORY || f == WXM_NO_ROOM) {
        Wxm_answer_cannot_create(c, a, entry, f);
        return;
    }
    if (f == WXM_ABSENT || !d.exists) {
        Wxm_answer_not_found(c, a, entry, true);
        return;
    }
    cJSON *body;
    if (d.status == 200 && d.step.action == WXM_STEP_QUERY_ANSWER) {
        body = Wxm_transaction_json(m, &d.after); /* another call's answer */
    } else if (d.status == 200 && c->ep->partner) {
        body = cJSON_CreateObject();
        if (body && ((c->sp_appid[0] && !cJSON_AddStringToObject(body, "sp_appid", c->sp_appid)) ||
                     !cJSON_AddStringToObject(body, "sp_mchid", c->sp_mchid) ||
                     (c->appid[0] && !cJSON_AddStringToObject(body, "sub_appid", c->appid)) ||
                     !cJSON_AddStringToObject(body, "sub_mchid", c->mchid) ||
                     !cJSON_AddStringToObject(body, "out_trade_no", c->out_trade_no))) {
            cJSON_Delete(body);
            body = NULL;
        }
    } else if (d.status == 200) {
        body = Wxm_json_object(3, "appid", c->appid, "mchid", c->mchid, "out_trade_no",
                               c->out_trade_no);
    } else {
        body = Wxm_error_body(d.code, d.message, NULL);
        Wxm_answer_code(a, entry, d.code);
    }
    if (d.step.action == WXM_STEP_ROTATE_CERTIFICATE) {
        const char *serial = Wxm_keys_rotate(m);
        Wxm_json_cstring(entry, "rotated_to", serial ? serial : "(only one certificate)");
    }
    Wxm_api_answer(m, a, d.status, body, d.step.action, c->now);
    Wxm_transport_fault(m, a, d.step);
    if (d.later) {
        struct wxm_pending p = {
            .order_id = d.after.id, .now = c->now, .window = m->cfg->reverse_window_seconds};
        memcpy(p.out_trade_no, c->out_trade_no, sizeof(p.out_trade_no));
        a->pending = malloc(sizeof(p));
        if (a->pending) {
            *a->pending = p;
        } else { /* no memory to postpone it: the change happens now, not never */
            Wxm_store_with(m->orders, p.out_trade_no, NULL, apply_pending, &p);
            d.later = false;
        }
    }
    Wxm_json_cstring(entry, "fault", Wxm_step_name(d.step.action));
    Wxm_json_cstring(entry, "state_after", Wxm_state_name(d.after.state));
    if (d.later)
        Wxm_json_cstring(entry, "state_change", "after_wait");
}

/* A query's look at the order: settled first, adopted by a first caller. */
typedef struct looked {
    const Wxm_ctx *c;
    Wxm_order copy;
} looked;

static void look(Wxm_order *o, void *ctx)
{
    looked *l = ctx;
    Wxm_order_adopt(o, l->c);
    Wxm_order_settle(o, l->c->now_ms);
    l->copy = *o;
}

void Wxm_rule_query(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry)
{
    wxm_mock *m = c->m;
    Wxm_order init;
    looked l = {c, {0}};
    Wxm_found f;
    if (c->route == WXM_ROUTE_QUERY_ID) {
        f = Wxm_store_with_transaction(m->orders, c->transaction_id, look, &l);
    } else {
        bool create = m->cfg->zero_config && Wxm_catalogue_order(c->out_trade_no, c->now, &init);
        f = Wxm_store_with(m->orders, c->out_trade_no, create ? &init : NULL, look, &l);
    }
    if (f == WXM_NO_MEMORY || f == WXM_NO_ROOM) {
        Wxm_answer_cannot_create(c, a, entry, f);
        return;
    }
    if (f == WXM_ABSENT || !Wxm_order_is_callers(&l.copy, c)) {
        Wxm_answer_not_found(c, a, entry, false);
        return;
    }
    Wxm_api_answer(m, a, 200, Wxm_transaction_json(m, &l.copy), WXM_STEP_OK, c->now);
    if (c->route == WXM_ROUTE_QUERY_ID)
        Wxm_json_cstring(entry, "out_trade_no", l.copy.out_trade_no);
    Wxm_json_cstring(entry, "state_after", Wxm_state_name(l.copy.state));
}

/* ------------------------------------------------- GET /v3/certificates */

/* One listed certificate, sealed with the APIv3 key under a fresh nonce;
 * NULL when out of memory. `tamper` changes one Base64 digit of the
 * ciphertext (the tag then fails). */
static cJSON *sealed_entry(const wxm_config *cfg, const Wxm_platform *p, bool tamper)
{
    char nonce[WXP_NONCE_LEN + 1], from[40], to[40], *ct = NULL;
    int64_t nb = 0, na = 0;
    if (wxp_nonce(nonce) != WXP_OK || wxp_key_validity(p->cert, &nb, &na) != WXP_OK)
        return NULL;
    nonce[12] = '\0'; /* 12 characters, as the service sends */
    if (wxp_aead_encrypt(cfg->apiv3_key, wxp_span_of(nonce), wxp_span_of("certificate"),
                         wxp_span_of(p->pem), &ct) != WXP_OK)
        return NULL;
    if (tamper)
        ct[8] = ct[8] == 'A' ? 'B' : 'A';
    Wxm_china_time(nb, from);
    Wxm_china_time(na, to);
    cJSON *enc = Wxm_json_object(4, "algorithm", WXP_AEAD_ALGORITHM, "nonce", nonce,
                                 "associated_data", "certificate", "ciphertext", ct);
    free(ct);
    cJSON *e = Wxm_json_object(3, "serial_no", wxp_key_serial(p->cert), "effective_time", from,
                               "expire_time", to);
    if (!e || !enc || !cJSON_AddItemToObject(e, "encrypt_certificate", enc)) {
        cJSON_Delete(e);
        cJSON_Delete(enc);
        return NULL;
    }
    return e;
}

void Wxm_rule_certificates(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry)
{
    wxm_mock *m = c->m;
    const wxm_config *cfg = m->cfg;
    if (Wxm_keys_mode(m) == WXM_MODE_PUBLIC_KEY) {
        /* What the service answers a merchant that moved to the WeChat Pay
         * public key; the Java SDK reads this 404 so. */
        Wxm_api_answer(m, a, 404,
                       Wxm_error_body("NOT_FOUND",
                                      "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥 "
                                      "(this mock runs in public-key mode: verify answers with "
                                      "the WeChat Pay public key, or switch the mock to "
                                      "certificate mode with PUT /__admin/wechatpay)",
                                      NULL),
                       WXM_STEP_OK, c->now);
        Wxm_answer_code(a, entry, "NOT_FOUND");
        return;
    }
    Wxm_step st = Wxm_keys_next_step(m);
    if (st.action == WXM_STEP_ROTATE_CERTIFICATE) {
        const char *serial = Wxm_keys_rotate(m);
        Wxm_json_cstring(entry, "rotated_to", serial ? serial : "(only one certificate)");
    }
    cJSON *body = NULL;
    int status = 200;
    const char *code = NULL, *message;
    if (scripted_error(st.action, &status, &code, &message)) {
        body = Wxm_error_body(code, message, NULL);
    } else {
        cJSON *list = cJSON_CreateArray();
        uint32_t listed = Wxm_keys_listed(m);
        body = cJSON_CreateObject();
        bool rsa = strcmp(c->algorithm, "SM2") != 0; /* the mock has no SM2 certificates */
        for (size_t i = 0; list && rsa && i < cfg->nplatforms; i++) {
            if (!(listed >> i & 1))
                continue;
            cJSON *e =
                sealed_entry(cfg, &cfg->platforms[i], st.action == WXM_STEP_TAMPERED_CIPHERTEXT);
            if (!e || !cJSON_AddItemToArray(list, e)) {
                cJSON_Delete(e);
                cJSON_Delete(list);
                list = NULL;
            }
        }
        if (!body || !list || !cJSON_AddItemToObject(body, "data", list)) {
            cJSON_Delete(body);
            cJSON_Delete(list);
            body = NULL;
        }
    }
    Wxm_api_answer(m, a, status, body, st.action, c->now);
    if (code)
        Wxm_answer_code(a, entry, code);
    Wxm_transport_fault(m, a, st);
    Wxm_json_cstring(entry, "fault", Wxm_step_name(st.action));
    Wxm_json_cstring(entry, "signed_by", Wxm_keys_signer(m).serial);
}
