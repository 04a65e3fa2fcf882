/* common.h: what the command-line clients share (client/cli/): the
 * options every one takes, each with its WXPAY_* environment twin, the
 * client set-up from them, and the exit statuses. Not installed.
 *   reverse.c  wxpay-reverse: reverses one order
 *   pay.c      wxpay-pay: a code payment as a POS does it
 *   common.c   options, environment, set-up, exit statuses */
#ifndef WXPAY_CLI_COMMON_H
#define WXPAY_CLI_COMMON_H

#include <wxpay/wxpay.h>

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses, documented in each --help, man page and docs/clients.md. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_USAGE = 2,     /* bad option or configuration */
    CLI_EXIT_BUSINESS = 3,  /* WeChat Pay answered an error code */
    CLI_EXIT_VERIFY = 4,    /* an answer failed verification */
    CLI_EXIT_MALFORMED = 5, /* an answer that could not be understood */
    CLI_EXIT_TRANSPORT = 6  /* no answer (connection failure or timeout) after every retry */
};

typedef struct cli_opts {
    const char *base_url, *backup_url, *mchid, *appid, *private_key, *serial, *merchant_cert;
    const char *pub_key, *pub_id, *ca_file, *resolve, *timeout, *connect_timeout, *retries,
        *timestamp, *nonce, *apiv3_key, *sub_mchid, *sub_appid;
    /* wxpay-pay only */
    const char *auth_code, *amount, *description, *poll_interval, *pay_timeout, *store_id,
        *device_id;
    const char *platform_certs[8];
    int nplatform;
    const char *out_trade_no;
    int dry_run, json, verbose;
} cli_opts;

/* The program's name, for messages ("wxpay-reverse"). */
extern const char *cli_prog;

/* "PROG: <text>\nTry 'PROG --help'." on stderr; returns CLI_EXIT_USAGE. */
int cli_die_usage(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* The options every client takes, for --help (one per line). */
extern const char cli_common_help[];

/* Reads the environment, then the command line (which wins). `pay`
 * admits wxpay-pay's own options. Returns -1 to go on, or the exit status
 * (0 after --help or --version, which `usage` prints). */
int cli_parse(int argc, char **argv, bool pay, cli_opts *o, void (*usage)(FILE *));

/* A number in [min, max] (seconds may have a fraction); 0, or exit 2. */
int cli_number(const char *flag, const char *v, double min, double max, double *out);

/* The client from the options; 0, or the exit status (the flag named). */
int cli_configure(wxpay_client *c, const cli_opts *o);

/* libcurl's set-up and a client configured from o; NULL with *status the
 * exit status (said on stderr). cli_finish() undoes both. */
wxpay_client *cli_start(const cli_opts *o, int *status);
void cli_finish(wxpay_client *c);

/* Exit 2 with the library's words and the flags that set what they are
 * about. `words` NULL: the client's last error. */
int cli_config_failure(const wxpay_client *c, wxpay_code rc, const char *words);

/* The exit status and the --json "outcome" of a call that ended so. */
int cli_exit_status(wxpay_code rc);
const char *cli_outcome_name(wxpay_code rc);

#endif /* WXPAY_CLI_COMMON_H */
