/* pay.c: the rules of code payment (docs/mock.md "Code payment"). A codepay
 * creates the order and decides, from its auth code or the
 * Wechatpay-Negative-Test header, how the payment goes: paid at once, the
 * user still typing a password (202 USERPAYING) until pay_after_ms, a
 * refusal, an error, or no answer at all. A USERPAYING order settles when
 * its time comes, lazily, under its lock, whenever a call reads it: so a
 * reverse that takes the lock first ends the payment for good. Close ends
 * an unpaid order that is not a code payment. */
#include "mock_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a over the parts of a codepay that must agree on a retry. */
static uint32_t content_hash(const Wxm_ctx *c)
{
    const char *parts[] = {c->pay.auth_code, c->pay.description, c->mchid, c->sp_mchid};
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        for (const char *p = parts[i];; p++) {
            h = (h ^ (unsigned char)*p) * 16777619u;
            if (!*p)
                break;
        }
    h ^= (uint32_t)c->pay.total;
    return h ? h : 1;
}

typedef struct paying {
    Wxm_ctx *c;
    Wxm_outcome outcome;
    uint32_t content;
    bool reused; /* the same out_trade_no with other content */
    bool again;  /* the same codepay again: answer as the order stands */
    Wxm_order after;
} paying;

/* What a new (or admin-prepared) order becomes under this codepay. */
static void start_payment(Wxm_order *o, paying *p)
{
    const Wxm_ctx *c = p->c;
    int64_t wait = o->pay_after_ms > 0 ? o->pay_after_ms : WXM_DEFAULT_PAY_AFTER_MS;
    o->prepared = false;
    o->content = p->content;
    snprintf(o->auth_code, sizeof(o->auth_code), "%.18s", c->pay.auth_code); /* checked: 18 */
    o->amount = c->pay.total;
    o->created_at = c->now;
    memcpy(o->mchid, c->mchid, sizeof(o->mchid));
    memcpy(o->appid, c->appid, sizeof(o->appid));
    memcpy(o->sp_mchid, c->sp_mchid, sizeof(o->sp_mchid));
    memcpy(o->sp_appid, c->sp_appid, sizeof(o->sp_appid));
    memcpy(o->trade_type, "MICROPAY", 9);
    switch (p->outcome) {
    case WXM_PAY_PAID:
    case WXM_PAY_SYSTEM_ERROR:
    case WXM_PAY_NO_ANSWER_PAID:
        o->state = WXM_SUCCESS;
        o->success_time = c->now;
        break;
    case WXM_PAY_USERPAYING_THEN_PAID:
    case WXM_PAY_USERPAYING_THEN_CANCELLED:
        o->state = WXM_USERPAYING;
        o->pay_at_ms = c->now_ms + wait;
        o->pay_succeeds = p->outcome == WXM_PAY_USERPAYING_THEN_PAID;
        break;
    case WXM_PAY_USERPAYING_FOREVER:
    case WXM_PAY_NO_ANSWER:
        o->state = WXM_USERPAYING;
        o->pay_at_ms = 0;
        break;
    case WXM_PAY_INSUFFICIENT_FUNDS:
    case WXM_PAY_AUTH_CODE_INVALID:
    case WXM_PAY_OUTCOMES: o->state = WXM_PAYERROR; break;
    }
}

static void decide_codepay(Wxm_order *o, void *arg)
{
    paying *p = arg;
    if (o->fresh || (o->prepared && o->state == WXM_NOTPAY)) {
        o->fresh = false;
        start_payment(o, p);
    } else {
        Wxm_order_settle(o, p->c->now_ms);
        if (o->content == p->content && Wxm_order_is_callers(o, p->c))
            p->again = true;
        else
            p->reused = true;
    }
    p->after = *o;
}

static void error_answer(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry, int status, const char *code,
                         const char *message, cJSON *detail)
{
    Wxm_api_answer(c->m, a, status, Wxm_error_body(code, message, detail), WXM_STEP_OK, c->now);
    Wxm_answer_code(a, entry, code);
}

void Wxm_rule_codepay(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry)
{
    wxm_mock *m = c->m;
    paying p = {.c = c, .content = content_hash(c)};
    if (!Wxm_auth_code_valid(c->pay.auth_code)) {
        error_answer(c, a, entry, 400, "PARAM_ERROR",
                     "payer.auth_code must be the 18 digits of a WeChat payment code, starting "
                     "10 to 15",
                     Wxm_json_object(1, "field", "payer.auth_code"));
        return;
    }
    p.outcome = Wxm_auth_code_outcome(c->pay.auth_code);
    size_t n = 0;
    const wxm_header *neg = Wxm_find_header(c->req, "Wechatpay-Negative-Test", &n);
    if (neg && !Wxm_outcome_parse(neg->value, &p.outcome)) {
        char q[80];
        wxp_quote(q, sizeof(q), neg->value, 40);
        char msg[300];
        snprintf(msg, sizeof(msg),
                 "Wechatpay-Negative-Test \"%s\" is not a case of this mock (GET "
                 "/__admin/catalogue lists negative_test_cases)",
                 q);
        error_answer(c, a, entry, 400, "INVALID_REQUEST", msg,
                     Wxm_json_object(1, "field", "Wechatpay-Negative-Test"));
        return;
    }
    Wxm_json_cstring(entry, "outcome", Wxm_outcome_name(p.outcome));
    if (p.outcome == WXM_PAY_AUTH_CODE_INVALID) { /* the service keeps no order */
        error_answer(c, a, entry, 400, "PARAM_ERROR",
                     "付款码无效或已过期，请用户刷新付款码后重新扫码 (the payment code is invalid "
                     "or expired: ask for a fresh one)",
                     Wxm_json_object(1, "field", "payer.auth_code"));
        return;
    }
    Wxm_order init;
    memset(&init, 0, sizeof(init));
    memcpy(init.out_trade_no, c->out_trade_no, c->out_trade_no_len + 1);
    init.created_at = c->now;
    init.fresh = true;
    Wxm_found f = Wxm_store_with(m->orders, c->out_trade_no, &init, decide_codepay, &p);
    if (f != WXM_FOUND) {
        Wxm_answer_cannot_create(c, a, entry, f);
        return;
    }
    const Wxm_order *o = &p.after;
    if (p.reused) {
        error_answer(c, a, entry, 403, "OUT_TRADE_NO_USED",
                     "商户订单号重复 (this out_trade_no already names an order with other "
                     "content: a new payment needs a new out_trade_no; after no answer, query "
                     "the order instead of paying again)",
                     Wxm_json_object(1, "out_trade_no", c->out_trade_no));
        return;
    }
    Wxm_json_cstring(entry, "state_after", Wxm_state_name(o->state));
    if (p.again) { /* a repeat of the same codepay: the order as it stands */
        if (o->state == WXM_SUCCESS || o->state == WXM_USERPAYING)
            Wxm_api_answer(m, a, o->state == WXM_SUCCESS ? 200 : 202, Wxm_transaction_json(m, o),
                           WXM_STEP_OK, c->now);
        else
            error_answer(c, a, entry, 400, "ORDER_CLOSED",
                         "订单已关闭或已撤销 (the order was paid for and ended: closed, "
                         "reversed or failed)",
                         NULL);
        return;
    }
    Wxm_step hang = Wxm_step_default(WXM_STEP_HANG);
    switch (p.outcome) {
    case WXM_PAY_INSUFFICIENT_FUNDS:
        error_answer(c, a, entry, 403, "NOT_ENOUGH",
                     "用户账户余额不足 (the user's balance is too low: ask for another card)",
                     NULL);
        break;
    case WXM_PAY_SYSTEM_ERROR:
        error_answer(c, a, entry, 500, "SYSTEM_ERROR",
                     "系统错误 (query the order after 5 s: it may have been paid)", NULL);
        break;
    case WXM_PAY_NO_ANSWER:
    case WXM_PAY_NO_ANSWER_PAID:
        Wxm_api_answer(m, a, 500, Wxm_error_body("SYSTEM_ERROR", "never sent", NULL), WXM_STEP_OK,
                       c->now);
        Wxm_transport_fault(m, a, hang);
        Wxm_json_cstring(entry, "fault", "hang");
        break;
    default:
        Wxm_api_answer(m, a, o->state == WXM_USERPAYING ? 202 : 200, Wxm_transaction_json(m, o),
                       WXM_STEP_OK, c->now);
        break;
    }
}

/* ---------------------------------------------------------------- close */

typedef struct closing {
    Wxm_ctx *c;
    bool mine;
    int status;
    const char *code, *message;
    Wxm_state after;
} closing;

static void decide_close(Wxm_order *o, void *arg)
{
    closing *k = arg;
    Wxm_order_adopt(o, k->c);
    k->mine = Wxm_order_is_callers(o, k->c);
    if (!k->mine)
        return;
    Wxm_order_settle(o, k->c->now_ms);
    k->status = 204;
    if (!o->trade_type[0] || strcmp(o->trade_type, "MICROPAY") == 0) {
        k->status = 403;
        k->code = "TRADE_ERROR";
        k->message = "当前交易不允许进行普通关单（只能撤销） (a code payment cannot be closed: "
                     "reverse it)";
    } else if (o->state == WXM_USERPAYING) {
        k->status = 202;
        k->code = "USER_PAYING";
        k->message = "用户支付中 (the user is paying: query again after 5 s)";
    } else if (o->state == WXM_SUCCESS || o->state == WXM_REFUND) {
        k->status = 403;
        k->code = "TRADE_ERROR";
        k->message = "订单已支付 (the order is paid: refund it instead)";
    } else if (o->state == WXM_NOTPAY || o->state == WXM_PAYERROR) {
        o->state = WXM_CLOSED;
        o->pay_at_ms = 0;
    }
    k->after = o->state;
}

void Wxm_rule_close(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry)
{
    wxm_mock *m = c->m;
    Wxm_order init;
    closing k = {.c = c};
    bool create = m->cfg->zero_config && Wxm_catalogue_order(c->out_trade_no, c->now, &init);
    Wxm_found f =
        Wxm_store_with(m->orders, c->out_trade_no, create ? &init : NULL, decide_close, &k);
    if (f == WXM_NO_MEMORY || f == WXM_NO_ROOM) {
        Wxm_answer_cannot_create(c, a, entry, f);
        return;
    }
    if (f == WXM_ABSENT || !k.mine) {
        Wxm_answer_not_found(c, a, entry, true);
        return;
    }
    Wxm_json_cstring(entry, "state_after", Wxm_state_name(k.after));
    if (k.status == 204) {
        Wxm_api_answer_empty(m, a, 204, c->now);
        return;
    }
    error_answer(c, a, entry, k.status, k.code, k.message, NULL);
}
