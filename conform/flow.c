/* flow.c: judging a POS client (wxpay-conform --flow pay, docs/conformance.md
 * "Conformance of a POS flow"). From the mock's journal for the order and
 * the order afterwards: the user's payment is reported exactly when it
 * happened; the client polls instead of paying twice; it never sends a
 * second codepay for one out_trade_no; it reverses when the user never
 * finished, within the pay timeout, and not before it; and it never
 * reports paid after reversing. */
#include "conform.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cf_fail(verdict *v, const char *fmt, ...)
{
    va_list ap;
    if (!v->pass)
        return; /* the first reason is the one to fix */
    v->pass = false;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof(v->why), fmt, ap);
    va_end(ap);
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

void cf_judge_flow(const runner *r, const kase *k, const cJSON *entries, const cJSON *order,
                   verdict *v)
{
    int codepays = 0, queries = 0, reverses = 0;
    double codepay_ms = 0, reverse_ms = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, entries)
    {
        const char *ep = str(e, "endpoint");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "time_ms");
        double at = cJSON_IsNumber(t) ? t->valuedouble : 0;
        if (ends_with(ep, "codepay")) {
            if (!codepays++)
                codepay_ms = at;
        } else if (strstr(ep, "query")) {
            queries++;
        } else if (ends_with(ep, "reverse")) {
            if (!reverses++)
                reverse_ms = at;
        }
    }
    const char *state = str(order, "trade_state");
    bool said_paid = v->exit_status == 0;

    if (codepays == 0)
        cf_fail(v,
                "the client sent no codepay for %s: it must pay WXPAY_OUT_TRADE_NO with "
                "WXPAY_AUTH_CODE and WXPAY_AMOUNT",
                v->out_trade_no);
    if (codepays > 1)
        cf_fail(v,
                "the client sent %d codepay requests for one out_trade_no: never pay twice; "
                "after USERPAYING, an error or no answer, query the order",
                codepays);
    if (said_paid && reverses)
        cf_fail(v, "the client reported paid (exit 0) but reversed the order (it ended %s)", state);
    if (k->expect_paid && !said_paid)
        cf_fail(v, "the user paid, but the client exited %d (the order ended %s): %s",
                v->exit_status, state, k->about);
    if (!k->expect_paid && said_paid)
        cf_fail(v,
                "the client reported paid (exit 0) but the user did not pay (the order is %s): %s",
                state, k->about);
    if (queries < k->min_queries)
        cf_fail(v,
                "the client queried the order %d time%s: after USERPAYING, SYSTEM_ERROR or no "
                "answer it must query every WXPAY_POLL_INTERVAL s: %s",
                queries, queries == 1 ? "" : "s", k->about);
    if (strcmp(k->reverse, "required") == 0 && !reverses)
        cf_fail(v, "the user never finished paying, but the client did not reverse the order: %s",
                k->about);
    if (strcmp(k->reverse, "forbidden") == 0 && reverses)
        cf_fail(v, "the client reversed an order it must not reverse: %s", k->about);
    if (k->reverse_at_window && reverses && codepays) {
        double waited = (reverse_ms - codepay_ms) / 1000;
        if (waited < r->pay_timeout - 0.5)
            cf_fail(v,
                    "the client gave up %.1f s after the codepay, before WXPAY_PAY_TIMEOUT (%g s): "
                    "the user may still be typing the password",
                    waited, r->pay_timeout);
        else if (waited > r->pay_timeout + r->client_timeout + 3)
            cf_fail(v,
                    "the client reversed %.1f s after the codepay, long after WXPAY_PAY_TIMEOUT "
                    "(%g s)",
                    waited, r->pay_timeout);
    }
    if (k->state && strcmp(state, k->state) != 0)
        cf_fail(v, "the order ended %s, expected %s", state, k->state);
}
