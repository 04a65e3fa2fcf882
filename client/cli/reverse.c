/* reverse.c: wxpay-reverse, the reference reversal client on the command
 * line (docs/clients.md "wxpay-reverse"). Every option has a WXPAY_* environment
 * twin; an option on the command line wins over the environment. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static void usage(FILE *to)
{
    fprintf(to,
            "Usage: wxpay-reverse [options] OUT_TRADE_NO\n"
            "Reverses (撤销) a WeChat Pay code-payment order through API v3: signs the\n"
            "request, verifies the answer, retries what is safe to retry.\n"
            "\n"
            "Options (environment variable in brackets):\n"
            "%s"
            "  --dry-run                 print the exact HTTP request; send nothing (needs no\n"
            "                            WeChat Pay key)\n"
            "OUT_TRADE_NO may also come from WXPAY_OUT_TRADE_NO.\n"
            "\n"
            "Exit status: 0 reversed; 2 usage or configuration error; 3 WeChat Pay\n"
            "answered an error (ORDER_CLOSED, REVERSE_EXPIRE, ORDER_NOT_EXIST, ...);\n"
            "4 an answer failed verification; 5 an answer could not be understood;\n"
            "6 no answer (connection failure or timeout) after every retry.\n",
            cli_common_help);
}

static void print_json(wxpay_code rc, const wxpay_result *r, const char *otn)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "outcome", cli_outcome_name(rc));
    cJSON_AddNumberToObject(j, "exit_status", cli_exit_status(rc));
    cJSON_AddStringToObject(j, "out_trade_no", otn);
    if (r) {
        cJSON_AddNumberToObject(j, "http_status", (double)wxpay_result_http_status(r));
        cJSON_AddStringToObject(j, "request_id", wxpay_result_request_id(r));
        cJSON_AddNumberToObject(j, "attempts", wxpay_result_attempts(r));
        if (rc == WXPAY_OK) {
            cJSON_AddStringToObject(j, "appid", wxpay_result_appid(r));
            cJSON_AddStringToObject(j, "mchid", wxpay_result_mchid(r));
        }
        if (rc == WXPAY_E_BUSINESS) {
            cJSON_AddStringToObject(j, "code", wxpay_result_error_code(r));
            cJSON_AddStringToObject(j, "message", wxpay_result_error_message(r));
            cJSON *d = cJSON_Parse(wxpay_result_error_detail(r));
            if (d)
                cJSON_AddItemToObject(j, "error_detail", d);
        }
        if (rc == WXPAY_E_VERIFY)
            cJSON_AddStringToObject(j, "verify_error", wxp_strerror(wxpay_result_verify_error(r)));
        cJSON_AddStringToObject(j, "detail", wxpay_result_detail(r));
    }
    char *text = cJSON_PrintUnformatted(j);
    if (text)
        puts(text);
    cJSON_free(text);
    cJSON_Delete(j);
}

int main(int argc, char **argv)
{
    cli_opts o;
    cli_prog = "wxpay-reverse";
    int parsed = cli_parse(argc, argv, false, &o, usage);
    if (parsed >= 0)
        return parsed;

    int status;
    wxpay_client *c = cli_start(&o, &status);
    if (!c)
        return status;
    if (o.dry_run) {
        char *req = NULL;
        wxpay_code rc = wxpay_dry_run_reverse(c, o.out_trade_no, o.appid, &req);
        if (rc == WXPAY_OK) {
            fputs(req, stdout);
            fputc('\n', stdout);
        } else {
            status = cli_config_failure(c, rc, NULL);
        }
        free(req);
        cli_finish(c);
        return status;
    }

    wxpay_result *r = NULL;
    wxpay_code rc = wxpay_reverse(c, o.out_trade_no, o.appid, &r);
    status = cli_exit_status(rc);
    if (o.json) {
        print_json(rc, r, o.out_trade_no);
    } else if (rc == WXPAY_OK) {
        printf("reversed %s (mchid %s, appid %s) after %d attempt%s, Request-ID %s\n",
               wxpay_result_out_trade_no(r), wxpay_result_mchid(r), wxpay_result_appid(r),
               wxpay_result_attempts(r), wxpay_result_attempts(r) == 1 ? "" : "s",
               wxpay_result_request_id(r));
    } else if (rc == WXPAY_E_CONFIG || rc == WXPAY_E_ARG) {
        cli_config_failure(c, rc, r ? wxpay_result_detail(r) : NULL);
    } else {
        fprintf(stderr, "wxpay-reverse: %s: %s", cli_outcome_name(rc),
                r ? wxpay_result_detail(r) : wxpay_strerror(rc));
        if (r && wxpay_result_request_id(r)[0])
            fprintf(stderr, " (Request-ID %s)", wxpay_result_request_id(r));
        if (r)
            fprintf(stderr, " after %d attempt%s", wxpay_result_attempts(r),
                    wxpay_result_attempts(r) == 1 ? "" : "s");
        fputc('\n', stderr);
        if (r && wxpay_result_error_detail(r)[0])
            fprintf(stderr, "wxpay-reverse: detail: %s\n", wxpay_result_error_detail(r));
    }
    wxpay_result_free(r);
    cli_finish(c);
    return status;
}
