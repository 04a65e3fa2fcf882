/* pay.c: wxpay-pay, a code payment (付款码支付) as a POS should do it
 * (docs/clients.md "wxpay-pay"): codepay; when the user is still typing a password
 * (USERPAYING), or the answer was an error or never came, query every
 * --poll-interval until the order is paid or --pay-timeout passes; then
 * reverse, which ends the payment for good (with the client's retries:
 * the service asks for reverse to be called again when it gets no
 * answer). A codepay is never sent twice. Exit 0 only when paid. */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

enum { EXIT_REVERSED = 7 }; /* not paid: the order was reversed (or never existed) */

static void usage(FILE *to)
{
    fprintf(
        to,
        "Usage: wxpay-pay [options] OUT_TRADE_NO\n"
        "Takes a code payment (付款码支付) through WeChat Pay API v3 as a POS should:\n"
        "codepay; on USERPAYING, an error or no answer, query every --poll-interval\n"
        "until paid or --pay-timeout; then reverse. Never pays twice.\n"
        "\n"
        "Options (environment variable in brackets):\n"
        "  --auth-code CODE          the 18 digits the scanner read (required) [WXPAY_AUTH_CODE]\n"
        "  --amount FEN              the amount in fen (required) [WXPAY_AMOUNT]\n"
        "  --description TEXT        what is sold (default \"wxpay-pay\") [WXPAY_DESCRIPTION]\n"
        "  --store-id ID             the shop (default \"0\") [WXPAY_STORE_ID]\n"
        "  --device-id ID            the till [WXPAY_DEVICE_ID]\n"
        "  --poll-interval SECONDS   between queries (default 5) [WXPAY_POLL_INTERVAL]\n"
        "  --pay-timeout SECONDS     reverse when not paid by then (default 30)\n"
        "                            [WXPAY_PAY_TIMEOUT]\n"
        "%s"
        "OUT_TRADE_NO may also come from WXPAY_OUT_TRADE_NO.\n"
        "\n"
        "Exit status: 0 paid; 2 usage or configuration error; 3 declined (WeChat Pay\n"
        "refused the payment: NOT_ENOUGH, an invalid code, ...; nothing was paid);\n"
        "4, 5, 6 the reverse failed verification, could not be understood, or got no\n"
        "answer (the order's fate is unknown: act on it); 7 not paid, and the order\n"
        "was reversed (or never reached WeChat Pay).\n",
        cli_common_help);
}

typedef struct flow {
    const char *outcome; /* paid, declined, reversed, reverse_failed */
    int exit_status;
    int queries;
    char trade_state[16];
    char transaction_id[40];
    char detail[700];
    wxpay_result *codepay, *reverse; /* kept for --json */
} flow;

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bool final_unpaid(const char *state)
{
    return strcmp(state, "PAYERROR") == 0 || strcmp(state, "CLOSED") == 0 ||
           strcmp(state, "REVOKED") == 0 || strcmp(state, "REFUND") == 0;
}

/* The reverse that ends an unpaid order, and the outcome it gives. */
static void reverse(wxpay_client *c, const cli_opts *o, flow *f, const char *why)
{
    wxpay_code rc = wxpay_reverse(c, o->out_trade_no, o->appid, &f->reverse);
    const char *code = f->reverse ? wxpay_result_error_code(f->reverse) : "";
    if (rc == WXPAY_OK || (rc == WXPAY_E_BUSINESS && strcmp(code, "ORDER_NOT_EXIST") == 0)) {
        f->outcome = "reversed";
        f->exit_status = EXIT_REVERSED;
        snprintf(f->detail, sizeof(f->detail), "not paid (%s); %s", why,
                 rc == WXPAY_OK ? "the order was reversed"
                                : "WeChat Pay has no such order: nothing was paid");
        return;
    }
    f->outcome = "reverse_failed";
    f->exit_status = cli_exit_status(rc);
    snprintf(f->detail, sizeof(f->detail), "not paid (%s), and the reverse failed: %s", why,
             f->reverse ? wxpay_result_detail(f->reverse) : wxpay_strerror(rc));
}

static void run(wxpay_client *c, const cli_opts *o, double interval, double timeout, int64_t total,
                flow *f)
{
    double start = now_s();
    wxpay_codepay_params p = {
        o->appid, o->out_trade_no, o->auth_code, o->description ? o->description : "wxpay-pay",
        total,    o->store_id,     o->device_id, NULL};
    wxpay_code rc = wxpay_codepay(c, &p, &f->codepay);
    const wxpay_result *r = f->codepay;
    if (rc == WXPAY_E_CONFIG || rc == WXPAY_E_ARG || rc == WXPAY_E_NOMEM || rc == WXPAY_E_SIGN) {
        f->outcome = cli_outcome_name(rc); /* nothing was sent */
        f->exit_status = cli_exit_status(rc);
        snprintf(f->detail, sizeof(f->detail), "%s", r ? wxpay_result_detail(r) : "");
        return;
    }
    if (rc == WXPAY_OK && strcmp(wxpay_result_trade_state(r), "SUCCESS") == 0) {
        f->outcome = "paid";
        snprintf(f->trade_state, sizeof(f->trade_state), "SUCCESS");
        snprintf(f->transaction_id, sizeof(f->transaction_id), "%s",
                 wxpay_result_transaction_id(r));
        snprintf(f->detail, sizeof(f->detail), "paid at once");
        return;
    }
    if (rc == WXPAY_E_BUSINESS && wxpay_result_http_status(r) < 500 &&
        wxpay_result_http_status(r) != 429) {
        /* Refused for good (NOT_ENOUGH, an invalid code, ...): no payment. */
        f->outcome = "declined";
        f->exit_status = CLI_EXIT_BUSINESS;
        snprintf(f->detail, sizeof(f->detail), "declined: %s", wxpay_result_detail(r));
        return;
    }
    /* USERPAYING, an error or no answer: the order's fate is unknown. */
    const char *why = rc == WXPAY_OK ? "the user was still paying" : wxpay_result_detail(r);
    char reason[300];
    snprintf(reason, sizeof(reason), "%s", why);
    for (;;) {
        double left = timeout - (now_s() - start);
        if (left <= 0)
            break;
        sleep_s(interval < left ? interval : left);
        wxpay_result *q = NULL;
        rc = wxpay_query(c, o->out_trade_no, &q);
        f->queries++;
        if (o->verbose)
            fprintf(stderr, "wxpay-pay: query %d: %s\n", f->queries,
                    q ? wxpay_result_detail(q) : wxpay_strerror(rc));
        if (rc == WXPAY_OK) {
            snprintf(f->trade_state, sizeof(f->trade_state), "%s", wxpay_result_trade_state(q));
            snprintf(f->transaction_id, sizeof(f->transaction_id), "%s",
                     wxpay_result_transaction_id(q));
        }
        wxpay_result_free(q);
        if (rc == WXPAY_OK && strcmp(f->trade_state, "SUCCESS") == 0) {
            f->outcome = "paid";
            snprintf(f->detail, sizeof(f->detail), "paid after %d quer%s", f->queries,
                     f->queries == 1 ? "y" : "ies");
            return;
        }
        if (rc == WXPAY_OK && final_unpaid(f->trade_state)) {
            snprintf(reason, sizeof(reason), "the order ended %s", f->trade_state);
            reverse(c, o, f, reason);
            return;
        }
    }
    char timed[400];
    snprintf(timed, sizeof(timed), "%s; still not paid after %g s", reason, timeout);
    reverse(c, o, f, timed);
}

static void add_call(cJSON *j, const char *name, const wxpay_result *r)
{
    if (!r)
        return;
    cJSON *c = cJSON_AddObjectToObject(j, name);
    cJSON_AddNumberToObject(c, "http_status", (double)wxpay_result_http_status(r));
    cJSON_AddStringToObject(
        c, "result",
        wxpay_result_code(r) == WXPAY_OK ? "ok" : cli_outcome_name(wxpay_result_code(r)));
    if (wxpay_result_error_code(r)[0])
        cJSON_AddStringToObject(c, "code", wxpay_result_error_code(r));
    cJSON_AddStringToObject(c, "request_id", wxpay_result_request_id(r));
    cJSON_AddNumberToObject(c, "attempts", wxpay_result_attempts(r));
}

static void print_json(const cli_opts *o, const flow *f)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "outcome", f->outcome);
    cJSON_AddNumberToObject(j, "exit_status", f->exit_status);
    cJSON_AddStringToObject(j, "out_trade_no", o->out_trade_no);
    if (f->transaction_id[0])
        cJSON_AddStringToObject(j, "transaction_id", f->transaction_id);
    if (f->trade_state[0])
        cJSON_AddStringToObject(j, "trade_state", f->trade_state);
    cJSON_AddNumberToObject(j, "queries", f->queries);
    add_call(j, "codepay", f->codepay);
    add_call(j, "reverse", f->reverse);
    cJSON_AddStringToObject(j, "detail", f->detail);
    char *text = cJSON_PrintUnformatted(j);
    if (text)
        puts(text);
    cJSON_free(text);
    cJSON_Delete(j);
}

int main(int argc, char **argv)
{
    cli_opts o;
    cli_prog = "wxpay-pay";
    int parsed = cli_parse(argc, argv, true, &o, usage);
    if (parsed >= 0)
        return parsed;
    double interval = 5, timeout = 30, amount = 0;
    if (!o.auth_code)
        return cli_die_usage("--auth-code (WXPAY_AUTH_CODE) is required: the payment code");
    if (!o.amount)
        return cli_die_usage("--amount (WXPAY_AMOUNT) is required: the amount in fen");
    if (cli_number("--amount", o.amount, 1, 1e11, &amount) || amount != (double)(int64_t)amount)
        return amount != (double)(int64_t)amount
                   ? cli_die_usage("--amount \"%s\" must be whole fen", o.amount)
                   : CLI_EXIT_USAGE;
    if ((o.poll_interval &&
         cli_number("--poll-interval", o.poll_interval, 0.01, 3600, &interval)) ||
        (o.pay_timeout && cli_number("--pay-timeout", o.pay_timeout, 0.01, 86400, &timeout)))
        return CLI_EXIT_USAGE;

    int status;
    wxpay_client *c = cli_start(&o, &status);
    if (!c)
        return status;
    flow f = {.outcome = "paid"};
    run(c, &o, interval, timeout, (int64_t)amount, &f);
    if (f.codepay && wxpay_result_code(f.codepay) == WXPAY_E_CONFIG) {
        status = cli_config_failure(c, WXPAY_E_CONFIG, wxpay_result_detail(f.codepay));
    } else {
        status = f.exit_status;
        if (o.json)
            print_json(&o, &f);
        else if (status == 0)
            printf("paid %s (transaction %s)%s%s\n", o.out_trade_no, f.transaction_id,
                   f.queries ? ": " : "", f.queries ? f.detail : "");
        else
            fprintf(stderr, "wxpay-pay: %s: %s\n", f.outcome, f.detail);
    }
    wxpay_result_free(f.codepay);
    wxpay_result_free(f.reverse);
    cli_finish(c);
    return status;
}
