/* common.c: the options, environment, set-up and exit statuses the
 * command-line clients share (see common.h). */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

const char *cli_prog = "wxpay";

const char cli_common_help[] =
    "  --base-url URL            API base (default " WXPAY_DEFAULT_BASE_URL ") [WXPAY_BASE_URL]\n"
    "  --backup-url URL|none     failover base (default " WXPAY_DEFAULT_BACKUP_URL ",\n"
    "                            none when --base-url is set) [WXPAY_BACKUP_URL]\n"
    "  --mchid ID                merchant id (a service provider's with --sub-mchid) "
    "[WXPAY_MCHID]\n"
    "  --appid ID                app id bound to it [WXPAY_APPID]\n"
    "  --sub-mchid ID            the sub-merchant: partner (服务商) calls [WXPAY_SUB_MCHID]\n"
    "  --sub-appid ID            the sub-merchant's app id (optional) [WXPAY_SUB_APPID]\n"
    "  --private-key FILE        merchant API private key, PEM [WXPAY_PRIVATE_KEY]\n"
    "  --serial HEX              merchant certificate serial [WXPAY_SERIAL]\n"
    "  --merchant-cert FILE      read the serial from the certificate [WXPAY_MERCHANT_CERT]\n"
    "  --wechatpay-public-key FILE  WeChat Pay public key [WXPAY_WECHATPAY_PUBLIC_KEY]\n"
    "  --wechatpay-serial ID     its id, PUB_KEY_ID_... [WXPAY_WECHATPAY_SERIAL]\n"
    "  --platform-cert FILE      a platform certificate (repeatable) [WXPAY_PLATFORM_CERT]\n"
    "  --apiv3-key KEY           the APIv3 key (32 characters): download the platform\n"
    "                            certificates instead of giving them, and again after a\n"
    "                            rotation [WXPAY_APIV3_KEY]\n"
    "  --ca-file FILE            CA bundle for https [WXPAY_CA_FILE]\n"
    "  --resolve HOST:PORT:ADDR  send HOST:PORT to ADDR, as curl --resolve [WXPAY_RESOLVE]\n"
    "  --timeout SECONDS         per attempt (default 5) [WXPAY_TIMEOUT]\n"
    "  --connect-timeout SECONDS per attempt (default 3) [WXPAY_CONNECT_TIMEOUT]\n"
    "  --retries N               retries after the first attempt (default 3) [WXPAY_RETRIES]\n"
    "  --timestamp SECONDS       fixed timestamp, for reproducible signatures "
    "[WXPAY_TIMESTAMP]\n"
    "  --nonce TEXT              fixed nonce, for reproducible signatures [WXPAY_NONCE]\n"
    "  --json                    print the outcome as one JSON object\n"
    "  -v, --verbose             show each attempt on stderr\n"
    "  -h, --help                this text\n"
    "  --version                 print the version\n";

int cli_die_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", cli_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", cli_prog);
    return CLI_EXIT_USAGE;
}

static const struct {
    const char *flag, *env;
    size_t offset;
    bool pay_only;
} valued[] = {
    {"--base-url", "WXPAY_BASE_URL", offsetof(cli_opts, base_url), false},
    {"--backup-url", "WXPAY_BACKUP_URL", offsetof(cli_opts, backup_url), false},
    {"--mchid", "WXPAY_MCHID", offsetof(cli_opts, mchid), false},
    {"--appid", "WXPAY_APPID", offsetof(cli_opts, appid), false},
    {"--sub-mchid", "WXPAY_SUB_MCHID", offsetof(cli_opts, sub_mchid), false},
    {"--sub-appid", "WXPAY_SUB_APPID", offsetof(cli_opts, sub_appid), false},
    {"--private-key", "WXPAY_PRIVATE_KEY", offsetof(cli_opts, private_key), false},
    {"--serial", "WXPAY_SERIAL", offsetof(cli_opts, serial), false},
    {"--merchant-cert", "WXPAY_MERCHANT_CERT", offsetof(cli_opts, merchant_cert), false},
    {"--wechatpay-public-key", "WXPAY_WECHATPAY_PUBLIC_KEY", offsetof(cli_opts, pub_key), false},
    {"--wechatpay-serial", "WXPAY_WECHATPAY_SERIAL", offsetof(cli_opts, pub_id), false},
    {"--ca-file", "WXPAY_CA_FILE", offsetof(cli_opts, ca_file), false},
    {"--resolve", "WXPAY_RESOLVE", offsetof(cli_opts, resolve), false},
    {"--timeout", "WXPAY_TIMEOUT", offsetof(cli_opts, timeout), false},
    {"--connect-timeout", "WXPAY_CONNECT_TIMEOUT", offsetof(cli_opts, connect_timeout), false},
    {"--retries", "WXPAY_RETRIES", offsetof(cli_opts, retries), false},
    {"--timestamp", "WXPAY_TIMESTAMP", offsetof(cli_opts, timestamp), false},
    {"--nonce", "WXPAY_NONCE", offsetof(cli_opts, nonce), false},
    {"--apiv3-key", "WXPAY_APIV3_KEY", offsetof(cli_opts, apiv3_key), false},
    {"--auth-code", "WXPAY_AUTH_CODE", offsetof(cli_opts, auth_code), true},
    {"--amount", "WXPAY_AMOUNT", offsetof(cli_opts, amount), true},
    {"--description", "WXPAY_DESCRIPTION", offsetof(cli_opts, description), true},
    {"--poll-interval", "WXPAY_POLL_INTERVAL", offsetof(cli_opts, poll_interval), true},
    {"--pay-timeout", "WXPAY_PAY_TIMEOUT", offsetof(cli_opts, pay_timeout), true},
    {"--store-id", "WXPAY_STORE_ID", offsetof(cli_opts, store_id), true},
    {"--device-id", "WXPAY_DEVICE_ID", offsetof(cli_opts, device_id), true},
};

#define SLOT(o, off) (*(const char **)(void *)((char *)(o) + (off)))

int cli_parse(int argc, char **argv, bool pay, cli_opts *o, void (*usage)(FILE *))
{
    memset(o, 0, sizeof(*o));
    for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
        if (pay || !valued[k].pay_only)
            SLOT(o, valued[k].offset) = getenv(valued[k].env);
    if (getenv("WXPAY_PLATFORM_CERT"))
        o->platform_certs[o->nplatform++] = getenv("WXPAY_PLATFORM_CERT");
    o->out_trade_no = getenv("WXPAY_OUT_TRADE_NO");
    bool platform_from_cli = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("%s %s\n", cli_prog, WXPAY_VERSION);
            return 0;
        }
        if (strcmp(a, "--dry-run") == 0 && !pay) {
            o->dry_run = 1;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = 1;
            continue;
        }
        if (strcmp(a, "--platform-cert") == 0) {
            if (i + 1 >= argc)
                return cli_die_usage("option %s needs a value", a);
            if (!platform_from_cli)
                o->nplatform = 0; /* the command line replaces the environment */
            platform_from_cli = true;
            if (o->nplatform == 8)
                return cli_die_usage("at most 8 --platform-cert");
            o->platform_certs[o->nplatform++] = argv[++i];
            continue;
        }
        size_t k;
        for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
            if (strcmp(a, valued[k].flag) == 0 && (pay || !valued[k].pay_only))
                break;
        if (k < sizeof(valued) / sizeof(valued[0])) {
            if (i + 1 >= argc)
                return cli_die_usage("option %s needs a value", a);
            SLOT(o, valued[k].offset) = argv[++i];
            continue;
        }
        if (a[0] == '-' && a[1] != '\0')
            return cli_die_usage("unknown option \"%s\"", a);
        if (o->out_trade_no && o->out_trade_no != getenv("WXPAY_OUT_TRADE_NO"))
            return cli_die_usage("one OUT_TRADE_NO only (got \"%s\" and \"%s\")", o->out_trade_no,
                                 a);
        o->out_trade_no = a;
    }
    if (!o->out_trade_no)
        return cli_die_usage("OUT_TRADE_NO is required (argument or WXPAY_OUT_TRADE_NO)");
    return -1;
}

/* A decimal number in [min, max] (seconds may have a fraction). */
int cli_number(const char *flag, const char *v, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || d < min || d > max)
        return cli_die_usage("%s \"%s\" must be a number from %g to %g", flag, v, min, max);
    *out = d;
    return 0;
}

static void log_line(void *user, const char *line)
{
    (void)user;
    fprintf(stderr, "%s: %s\n", cli_prog, line);
}

const char *cli_outcome_name(wxpay_code rc)
{
    switch (rc) {
    case WXPAY_OK: return "reversed";
    case WXPAY_E_BUSINESS: return "business_error";
    case WXPAY_E_VERIFY: return "verification_failed";
    case WXPAY_E_MALFORMED: return "malformed_answer";
    case WXPAY_E_TRANSPORT: return "transport_failed";
    case WXPAY_E_TIMEOUT: return "timeout";
    case WXPAY_E_CONFIG:
    case WXPAY_E_ARG: return "config_error";
    case WXPAY_E_NOMEM: return "out_of_memory";
    case WXPAY_E_SIGN: return "signing_failed";
    }
    return "unknown";
}

int cli_exit_status(wxpay_code rc)
{
    switch (rc) {
    case WXPAY_OK: return CLI_EXIT_OK;
    case WXPAY_E_BUSINESS: return CLI_EXIT_BUSINESS;
    case WXPAY_E_VERIFY: return CLI_EXIT_VERIFY;
    case WXPAY_E_MALFORMED: return CLI_EXIT_MALFORMED;
    case WXPAY_E_TRANSPORT:
    case WXPAY_E_TIMEOUT: return CLI_EXIT_TRANSPORT;
    case WXPAY_E_CONFIG:
    case WXPAY_E_ARG: return CLI_EXIT_USAGE;
    case WXPAY_E_NOMEM:
    case WXPAY_E_SIGN: return 1;
    }
    return 1;
}

/* The flags that give a library setting, for its error messages. */
static const char *flags_of(wxpay_setting s)
{
    switch (s) {
    case WXPAY_SETTING_NONE: return "";
    case WXPAY_SETTING_BASE_URL: return "--base-url or WXPAY_BASE_URL";
    case WXPAY_SETTING_BACKUP_URL: return "--backup-url or WXPAY_BACKUP_URL";
    case WXPAY_SETTING_MCHID: return "--mchid or WXPAY_MCHID";
    case WXPAY_SETTING_MERCHANT_KEY: return "--private-key or WXPAY_PRIVATE_KEY";
    case WXPAY_SETTING_MERCHANT_SERIAL:
        return "--serial or WXPAY_SERIAL, or --merchant-cert or WXPAY_MERCHANT_CERT";
    case WXPAY_SETTING_MERCHANT_CERT: return "--merchant-cert or WXPAY_MERCHANT_CERT";
    case WXPAY_SETTING_WECHATPAY_KEY:
        return "--wechatpay-public-key with --wechatpay-serial, --platform-cert, or --apiv3-key";
    case WXPAY_SETTING_RESOLVE: return "--resolve";
    case WXPAY_SETTING_NONCE: return "--nonce or WXPAY_NONCE";
    case WXPAY_SETTING_REQUEST:
        return strcmp(cli_prog, "wxpay-pay") == 0 ? "OUT_TRADE_NO, --appid, --auth-code, --amount"
                                                  : "OUT_TRADE_NO, --appid";
    case WXPAY_SETTING_APIV3_KEY: return "--apiv3-key or WXPAY_APIV3_KEY";
    case WXPAY_SETTING_SUB_MERCHANT: return "--sub-mchid or WXPAY_SUB_MCHID, --sub-appid";
    }
    return "";
}

/* Exit 2 with the library's words for a failed setting or call, and the
 * flags that set what it is about. */
int cli_config_failure(const wxpay_client *c, wxpay_code rc, const char *words)
{
    const char *flags = rc == WXPAY_E_CONFIG ? flags_of(wxpay_client_error_setting(c)) : "";
    if (!words)
        words = rc == WXPAY_E_CONFIG ? wxpay_client_error(c) : wxpay_strerror(rc);
    return flags[0] ? cli_die_usage("%s (%s)", words, flags) : cli_die_usage("%s", words);
}

int cli_configure(wxpay_client *c, const cli_opts *o)
{
    wxpay_code rc = WXPAY_OK;
    double d = 0;
#define TRY(call)                                                                                  \
    do {                                                                                           \
        if ((rc = (call)) != WXPAY_OK)                                                             \
            return cli_config_failure(c, rc, NULL);                                                \
    } while (0)
    if (!o->mchid)
        return cli_die_usage("--mchid (WXPAY_MCHID) is required");
    if (!o->appid)
        return cli_die_usage("--appid (WXPAY_APPID) is required");
    if (!o->private_key)
        return cli_die_usage("--private-key (WXPAY_PRIVATE_KEY) is required");
    if (!o->serial && !o->merchant_cert)
        return cli_die_usage(
            "--serial (WXPAY_SERIAL) or --merchant-cert (WXPAY_MERCHANT_CERT) is required");
    if (!o->pub_key && o->nplatform == 0 && !o->apiv3_key && !o->dry_run)
        return cli_die_usage(
            "a WeChat Pay key is required: --wechatpay-public-key with --wechatpay-serial, "
            "--platform-cert, or --apiv3-key to download the platform certificates");
    if (o->pub_key && !o->pub_id)
        return cli_die_usage(
            "--wechatpay-public-key needs --wechatpay-serial (the PUB_KEY_ID_... id)");
    if (o->base_url)
        TRY(wxpay_set_base_url(c, o->base_url));
    if (o->backup_url)
        TRY(wxpay_set_backup_url(c, strcmp(o->backup_url, "none") == 0 ? NULL : o->backup_url));
    TRY(wxpay_set_mchid(c, o->mchid));
    TRY(wxpay_set_merchant_key_file(c, o->private_key, o->serial));
    if (o->merchant_cert)
        TRY(wxpay_set_merchant_cert_file(c, o->merchant_cert));
    if (o->sub_mchid)
        TRY(wxpay_set_sub_merchant(c, o->sub_mchid, o->sub_appid));
    else if (o->sub_appid)
        return cli_die_usage("--sub-appid needs --sub-mchid (the sub-merchant it belongs to)");
    if (o->pub_key)
        TRY(wxpay_add_wechatpay_public_key_file(c, o->pub_key, o->pub_id));
    for (int i = 0; i < o->nplatform; i++)
        TRY(wxpay_add_platform_cert_file(c, o->platform_certs[i]));
    if (o->apiv3_key)
        TRY(wxpay_set_apiv3_key(c, o->apiv3_key));
    if (o->ca_file)
        TRY(wxpay_set_ca_file(c, o->ca_file));
    if (o->resolve)
        TRY(wxpay_add_resolve(c, o->resolve));
    long connect_ms = 3000, total_ms = 5000;
    if (o->timeout) {
        if (cli_number("--timeout", o->timeout, 0.001, 3600, &d))
            return CLI_EXIT_USAGE;
        total_ms = (long)(d * 1000);
    }
    if (o->connect_timeout) {
        if (cli_number("--connect-timeout", o->connect_timeout, 0.001, 3600, &d))
            return CLI_EXIT_USAGE;
        connect_ms = (long)(d * 1000);
    }
    TRY(wxpay_set_timeouts(c, connect_ms, total_ms));
    if (o->retries) {
        if (cli_number("--retries", o->retries, 0, 100, &d) || d != (double)(int)d)
            return d != (double)(int)d
                       ? cli_die_usage("--retries \"%s\" must be a whole number", o->retries)
                       : CLI_EXIT_USAGE;
        TRY(wxpay_set_retry(c, (int)d, 200, 5000));
    }
    if (o->timestamp) {
        if (cli_number("--timestamp", o->timestamp, 1, 9999999999.0, &d) || d != (double)(int64_t)d)
            return cli_die_usage("--timestamp \"%s\" must be Unix seconds", o->timestamp);
        TRY(wxpay_set_fixed_timestamp(c, (int64_t)d));
    }
    if (o->nonce)
        TRY(wxpay_set_fixed_nonce(c, o->nonce));
    if (o->verbose)
        wxpay_set_log(c, log_line, NULL);
#undef TRY
    return 0;
}

wxpay_client *cli_start(const cli_opts *o, int *status)
{
    wxpay_client *c = NULL;
    *status = 1;
    if (wxpay_global_init() != WXPAY_OK) {
        fprintf(stderr, "%s: cannot initialise libcurl\n", cli_prog);
        return NULL;
    }
    if (!(c = wxpay_client_new())) {
        fprintf(stderr, "%s: out of memory\n", cli_prog);
    } else if ((*status = cli_configure(c, o)) != 0) {
        wxpay_client_free(c);
        c = NULL;
    }
    if (!c)
        wxpay_global_cleanup();
    return c;
}

void cli_finish(wxpay_client *c)
{
    wxpay_client_free(c);
    wxpay_global_cleanup();
}
