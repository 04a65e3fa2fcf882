/* main.c: wxpay-reverse, the reference reversal client on the command line
 * (README "wxpay-reverse"). Every option has a WXPAY_* environment twin;
 * an option on the command line wins over the environment. */
#include <wxpay/wxpay.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Exit statuses: documented in --help and the README. */
enum {
    EXIT_REVERSED = 0,
    EXIT_USAGE = 2,     /* bad option or configuration */
    EXIT_BUSINESS = 3,  /* WeChat Pay answered an error code */
    EXIT_VERIFY = 4,    /* an answer failed verification */
    EXIT_MALFORMED = 5, /* an answer that could not be understood */
    EXIT_TRANSPORT = 6  /* no answer (connection failure or timeout) after every retry */
};

static void usage(FILE *to)
{
    fputs(
        "Usage: wxpay-reverse [options] OUT_TRADE_NO\n"
        "Reverses (撤销) a WeChat Pay code-payment order through API v3: signs the\n"
        "request, verifies the answer, retries what is safe to retry.\n"
        "\n"
        "Options (environment variable in brackets):\n"
        "  --base-url URL            API base (default " WXPAY_DEFAULT_BASE_URL
        ") [WXPAY_BASE_URL]\n"
        "  --backup-url URL|none     failover base (default " WXPAY_DEFAULT_BACKUP_URL ",\n"
        "                            none when --base-url is set) [WXPAY_BACKUP_URL]\n"
        "  --mchid ID                merchant id [WXPAY_MCHID]\n"
        "  --appid ID                app id bound to the merchant [WXPAY_APPID]\n"
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
        "  --dry-run                 print the exact HTTP request; send nothing (needs no\n"
        "                            WeChat Pay key)\n"
        "  --json                    print the outcome as one JSON object\n"
        "  -v, --verbose             show each attempt on stderr\n"
        "  -h, --help                this text\n"
        "  --version                 print the version\n"
        "OUT_TRADE_NO may also come from WXPAY_OUT_TRADE_NO.\n"
        "\n"
        "Exit status: 0 reversed; 2 usage or configuration error; 3 WeChat Pay\n"
        "answered an error (ORDER_CLOSED, REVERSE_EXPIRE, ORDER_NOT_EXIST, ...);\n"
        "4 an answer failed verification; 5 an answer could not be understood;\n"
        "6 no answer (connection failure or timeout) after every retry.\n",
        to);
}

static int die_usage(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static int die_usage(const char *fmt, ...)
{
    va_list ap;
    fputs("wxpay-reverse: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'wxpay-reverse --help'.\n", stderr);
    return EXIT_USAGE;
}

typedef struct opts {
    const char *base_url, *backup_url, *mchid, *appid, *private_key, *serial, *merchant_cert;
    const char *pub_key, *pub_id, *ca_file, *resolve, *timeout, *connect_timeout, *retries,
        *timestamp, *nonce, *apiv3_key;
    const char *platform_certs[8];
    int nplatform;
    const char *out_trade_no;
    int dry_run, json, verbose;
} opts;

static const struct {
    const char *flag, *env;
    size_t offset;
} valued[] = {
    {"--base-url", "WXPAY_BASE_URL", offsetof(opts, base_url)},
    {"--backup-url", "WXPAY_BACKUP_URL", offsetof(opts, backup_url)},
    {"--mchid", "WXPAY_MCHID", offsetof(opts, mchid)},
    {"--appid", "WXPAY_APPID", offsetof(opts, appid)},
    {"--private-key", "WXPAY_PRIVATE_KEY", offsetof(opts, private_key)},
    {"--serial", "WXPAY_SERIAL", offsetof(opts, serial)},
    {"--merchant-cert", "WXPAY_MERCHANT_CERT", offsetof(opts, merchant_cert)},
    {"--wechatpay-public-key", "WXPAY_WECHATPAY_PUBLIC_KEY", offsetof(opts, pub_key)},
    {"--wechatpay-serial", "WXPAY_WECHATPAY_SERIAL", offsetof(opts, pub_id)},
    {"--ca-file", "WXPAY_CA_FILE", offsetof(opts, ca_file)},
    {"--resolve", "WXPAY_RESOLVE", offsetof(opts, resolve)},
    {"--timeout", "WXPAY_TIMEOUT", offsetof(opts, timeout)},
    {"--connect-timeout", "WXPAY_CONNECT_TIMEOUT", offsetof(opts, connect_timeout)},
    {"--retries", "WXPAY_RETRIES", offsetof(opts, retries)},
    {"--timestamp", "WXPAY_TIMESTAMP", offsetof(opts, timestamp)},
    {"--nonce", "WXPAY_NONCE", offsetof(opts, nonce)},
    {"--apiv3-key", "WXPAY_APIV3_KEY", offsetof(opts, apiv3_key)},
};

#define SLOT(o, off) (*(const char **)(void *)((char *)(o) + (off)))

/* A decimal number in [min, max] (seconds may have a fraction). */
static int number(const char *flag, const char *v, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || d < min || d > max)
        return die_usage("%s \"%s\" must be a number from %g to %g", flag, v, min, max);
    *out = d;
    return 0;
}

static void log_line(void *user, const char *line)
{
    (void)user;
    fprintf(stderr, "wxpay-reverse: %s\n", line);
}

static const char *outcome_name(wxpay_code rc)
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

static int exit_status(wxpay_code rc)
{
    switch (rc) {
    case WXPAY_OK: return EXIT_REVERSED;
    case WXPAY_E_BUSINESS: return EXIT_BUSINESS;
    case WXPAY_E_VERIFY: return EXIT_VERIFY;
    case WXPAY_E_MALFORMED: return EXIT_MALFORMED;
    case WXPAY_E_TRANSPORT:
    case WXPAY_E_TIMEOUT: return EXIT_TRANSPORT;
    case WXPAY_E_CONFIG:
    case WXPAY_E_ARG: return EXIT_USAGE;
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
    case WXPAY_SETTING_REQUEST: return "OUT_TRADE_NO, --appid";
    case WXPAY_SETTING_APIV3_KEY: return "--apiv3-key or WXPAY_APIV3_KEY";
    }
    return "";
}

/* Exit 2 with the library's words for a failed setting or call, and the
 * flags that set what it is about. */
static int config_failure(const wxpay_client *c, wxpay_code rc, const char *words)
{
    const char *flags = rc == WXPAY_E_CONFIG ? flags_of(wxpay_client_error_setting(c)) : "";
    if (!words)
        words = rc == WXPAY_E_CONFIG ? wxpay_client_error(c) : wxpay_strerror(rc);
    return flags[0] ? die_usage("%s (%s)", words, flags) : die_usage("%s", words);
}

static int configure(wxpay_client *c, const opts *o)
{
    wxpay_code rc = WXPAY_OK;
    double d;
#define TRY(call)                                                                                  \
    do {                                                                                           \
        if ((rc = (call)) != WXPAY_OK)                                                             \
            return config_failure(c, rc, NULL);                                                    \
    } while (0)
    if (!o->mchid)
        return die_usage("--mchid (WXPAY_MCHID) is required");
    if (!o->appid)
        return die_usage("--appid (WXPAY_APPID) is required");
    if (!o->private_key)
        return die_usage("--private-key (WXPAY_PRIVATE_KEY) is required");
    if (!o->serial && !o->merchant_cert)
        return die_usage(
            "--serial (WXPAY_SERIAL) or --merchant-cert (WXPAY_MERCHANT_CERT) is required");
    if (!o->pub_key && o->nplatform == 0 && !o->apiv3_key && !o->dry_run)
        return die_usage(
            "a WeChat Pay key is required: --wechatpay-public-key with --wechatpay-serial, "
            "--platform-cert, or --apiv3-key to download the platform certificates");
    if (o->pub_key && !o->pub_id)
        return die_usage("--wechatpay-public-key needs --wechatpay-serial (the PUB_KEY_ID_... id)");
    if (o->base_url)
        TRY(wxpay_set_base_url(c, o->base_url));
    if (o->backup_url)
        TRY(wxpay_set_backup_url(c, strcmp(o->backup_url, "none") == 0 ? NULL : o->backup_url));
    TRY(wxpay_set_mchid(c, o->mchid));
    TRY(wxpay_set_merchant_key_file(c, o->private_key, o->serial));
    if (o->merchant_cert)
        TRY(wxpay_set_merchant_cert_file(c, o->merchant_cert));
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
        if (number("--timeout", o->timeout, 0.001, 3600, &d))
            return EXIT_USAGE;
        total_ms = (long)(d * 1000);
    }
    if (o->connect_timeout) {
        if (number("--connect-timeout", o->connect_timeout, 0.001, 3600, &d))
            return EXIT_USAGE;
        connect_ms = (long)(d * 1000);
    }
    TRY(wxpay_set_timeouts(c, connect_ms, total_ms));
    if (o->retries) {
        if (number("--retries", o->retries, 0, 100, &d) || d != (double)(int)d)
            return d != (double)(int)d
                       ? die_usage("--retries \"%s\" must be a whole number", o->retries)
                       : EXIT_USAGE;
        TRY(wxpay_set_retry(c, (int)d, 200, 5000));
    }
    if (o->timestamp) {
        if (number("--timestamp", o->timestamp, 1, 9999999999.0, &d) || d != (double)(int64_t)d)
            return die_usage("--timestamp \"%s\" must be Unix seconds", o->timestamp);
        TRY(wxpay_set_fixed_timestamp(c, (int64_t)d));
    }
    if (o->nonce)
        TRY(wxpay_set_fixed_nonce(c, o->nonce));
    if (o->verbose)
        wxpay_set_log(c, log_line, NULL);
#undef TRY
    return 0;
}

static void print_json(wxpay_code rc, const wxpay_result *r, const char *otn)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "outcome", outcome_name(rc));
    cJSON_AddNumberToObject(j, "exit_status", exit_status(rc));
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
    opts o;
    memset(&o, 0, sizeof(o));
    for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
        SLOT(&o, valued[k].offset) = getenv(valued[k].env);
    if (getenv("WXPAY_PLATFORM_CERT"))
        o.platform_certs[o.nplatform++] = getenv("WXPAY_PLATFORM_CERT");
    o.out_trade_no = getenv("WXPAY_OUT_TRADE_NO");
    bool platform_from_cli = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("wxpay-reverse %s\n", WXPAY_VERSION);
            return 0;
        }
        if (strcmp(a, "--dry-run") == 0) {
            o.dry_run = 1;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            o.json = 1;
            continue;
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o.verbose = 1;
            continue;
        }
        if (strcmp(a, "--platform-cert") == 0) {
            if (i + 1 >= argc)
                return die_usage("option %s needs a value", a);
            if (!platform_from_cli)
                o.nplatform = 0; /* the command line replaces the environment */
            platform_from_cli = true;
            if (o.nplatform == 8)
                return die_usage("at most 8 --platform-cert");
            o.platform_certs[o.nplatform++] = argv[++i];
            continue;
        }
        size_t k;
        for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
            if (strcmp(a, valued[k].flag) == 0)
                break;
        if (k < sizeof(valued) / sizeof(valued[0])) {
            if (i + 1 >= argc)
                return die_usage("option %s needs a value", a);
            SLOT(&o, valued[k].offset) = argv[++i];
            continue;
        }
        if (a[0] == '-' && a[1] != '\0')
            return die_usage("unknown option \"%s\"", a);
        if (o.out_trade_no && o.out_trade_no != getenv("WXPAY_OUT_TRADE_NO"))
            return die_usage("one OUT_TRADE_NO only (got \"%s\" and \"%s\")", o.out_trade_no, a);
        o.out_trade_no = a;
    }
    if (!o.out_trade_no)
        return die_usage("OUT_TRADE_NO is required (argument or WXPAY_OUT_TRADE_NO)");

    if (wxpay_global_init() != WXPAY_OK) {
        fprintf(stderr, "wxpay-reverse: cannot initialise libcurl\n");
        return 1;
    }
    wxpay_client *c = wxpay_client_new();
    if (!c) {
        fprintf(stderr, "wxpay-reverse: out of memory\n");
        return 1;
    }
    int status = configure(c, &o);
    if (status) {
        wxpay_client_free(c);
        wxpay_global_cleanup();
        return status;
    }
    if (o.dry_run) {
        char *req = NULL;
        wxpay_code rc = wxpay_dry_run_reverse(c, o.out_trade_no, o.appid, &req);
        if (rc == WXPAY_OK) {
            fputs(req, stdout);
            fputc('\n', stdout);
        } else {
            status = config_failure(c, rc, NULL);
        }
        free(req);
        wxpay_client_free(c);
        wxpay_global_cleanup();
        return status;
    }

    wxpay_result *r = NULL;
    wxpay_code rc = wxpay_reverse(c, o.out_trade_no, o.appid, &r);
    status = exit_status(rc);
    if (o.json) {
        print_json(rc, r, o.out_trade_no);
    } else if (rc == WXPAY_OK) {
        printf("reversed %s (mchid %s, appid %s) after %d attempt%s, Request-ID %s\n",
               wxpay_result_out_trade_no(r), wxpay_result_mchid(r), wxpay_result_appid(r),
               wxpay_result_attempts(r), wxpay_result_attempts(r) == 1 ? "" : "s",
               wxpay_result_request_id(r));
    } else if (rc == WXPAY_E_CONFIG || rc == WXPAY_E_ARG) {
        config_failure(c, rc, r ? wxpay_result_detail(r) : NULL);
    } else {
        fprintf(stderr, "wxpay-reverse: %s: %s", outcome_name(rc),
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
    wxpay_client_free(c);
    wxpay_global_cleanup();
    return status;
}
