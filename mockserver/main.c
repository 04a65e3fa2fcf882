/* main.c: the wxpay-mock command line (docs/mock.md "wxpay-mock"). */
#include <wxpay/mock.h>
#include "wxp_int.h"
#include <wxpay/version.h>

#include <stdbool.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2 /* bad option or bad config file */
#define EXIT_LISTEN 1
#define EXIT_LOST 3 /* stopped, but the journal file lost entries */

static void usage(FILE *to)
{
    fprintf(to,
            "Usage: wxpay-mock [options]\n"
            "A mock WeChat Pay API v3 server for code payment and its reverse (撤销):\n"
            "verifies signed requests, keeps order state, signs its answers and fails\n"
            "on command.\n"
            "\n"
            "Options:\n"
            "  --host ADDR          address to listen on (default 127.0.0.1)\n"
            "  --port N             port (default 8080; 0 picks a free one)\n"
            "  --config FILE        JSON config (default: the bundled fixtures,\n"
            "                       %s)\n"
            "  --journal-file FILE  append every journal entry to FILE as JSON lines\n"
            "  --tls-cert FILE      serve HTTPS with this PEM certificate (chain)...\n"
            "  --tls-key FILE       ...and its PEM private key (fixtures/tls/ has a test pair)\n"
            "  --log-format F       per-request log on stderr: text (default) or json\n"
            "  --quiet              no per-request log\n"
            "  --strict-orders      unknown orders answer ORDER_NOT_EXIST (turns the\n"
            "                       zero-config catalogue off)\n"
            "  --threads N          answering threads (default: one per core, at most 64)\n"
            "  --admin-token TOKEN  admin calls need \"Authorization: Bearer TOKEN\"\n"
            "                       (or set WXPAY_MOCK_ADMIN_TOKEN); without one they are\n"
            "                       taken only at an address or localhost\n"
            "  --ipv6-only          with --host ::, serve IPv6 only (default: IPv4 too)\n"
            "  --request-timeout S  a request must arrive whole within S seconds of the\n"
            "                       connection being ready for one (default 30)\n"
            "  --no-sign            answers are not signed (benchmarks only)\n"
            "  --version            print the version\n"
            "  -h, --help           this text\n"
            "\n"
            "The first line on stdout is \"wxpay-mock listening on http://HOST:PORT\".\n"
            "SIGINT or SIGTERM stops it (exit status 0). Exit status 2: bad option or\n"
            "config; 1: cannot listen; 3: stopped, but the journal file lost entries.\n",
            wxm_default_config_path() ? wxm_default_config_path() : "none found: give --config");
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int
bad_usage(const char *fmt, ...);
static int bad_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "wxpay-mock: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'wxpay-mock --help'.\n");
    return EXIT_USAGE;
}

/* v as a decimal number in [min, max], nothing else around it. */
static bool whole_number(const char *v, long min, long max, long *out)
{
    char *end;
    errno = 0;
    *out = strtol(v, &end, 10);
    return !errno && !*end && end != v && *out >= min && *out <= max;
}

/* 127.0.0.0/8, ::1 or localhost: reachable from this machine only. */
static bool loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "localhost") == 0;
}

int main(int argc, char **argv)
{
    const char *config = NULL, *journal = NULL, *host = "127.0.0.1";
    const char *tls_cert = NULL, *tls_key = NULL;
    const char *admin_token = getenv("WXPAY_MOCK_ADMIN_TOKEN");
    long port = 8080, threads = 0, request_timeout = 30;
    int log_json = 0, quiet = 0, strict = 0, no_sign = 0, ipv6_only = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(a, "--host") == 0 || strcmp(a, "--port") == 0 ||
                     strcmp(a, "--config") == 0 || strcmp(a, "--journal-file") == 0 ||
                     strcmp(a, "--log-format") == 0 || strcmp(a, "--tls-cert") == 0 ||
                     strcmp(a, "--tls-key") == 0 || strcmp(a, "--threads") == 0 ||
                     strcmp(a, "--admin-token") == 0 || strcmp(a, "--request-timeout") == 0;
        if (takes && !v)
            return bad_usage("option %s needs a value", a);
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("wxpay-mock %s\n", WXPAY_VERSION);
            return 0;
        } else if (strcmp(a, "--host") == 0) {
            host = v;
        } else if (strcmp(a, "--port") == 0) {
            if (!whole_number(v, 0, 65535, &port))
                return bad_usage("--port \"%s\" is not a port number (0-65535)", v);
        } else if (strcmp(a, "--threads") == 0) {
            if (!whole_number(v, 1, 64, &threads))
                return bad_usage("--threads \"%s\" is not a thread count (1-64)", v);
        } else if (strcmp(a, "--config") == 0) {
            config = v;
        } else if (strcmp(a, "--journal-file") == 0) {
            journal = v;
        } else if (strcmp(a, "--tls-cert") == 0) {
            tls_cert = v;
        } else if (strcmp(a, "--tls-key") == 0) {
            tls_key = v;
        } else if (strcmp(a, "--log-format") == 0) {
            if (strcmp(v, "json") == 0)
                log_json = 1;
            else if (strcmp(v, "text") != 0)
                return bad_usage("--log-format \"%s\" must be text or json", v);
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--strict-orders") == 0) {
            strict = 1;
        } else if (strcmp(a, "--no-sign") == 0) {
            no_sign = 1;
        } else if (strcmp(a, "--admin-token") == 0) {
            admin_token = v;
        } else if (strcmp(a, "--ipv6-only") == 0) {
            ipv6_only = 1;
        } else if (strcmp(a, "--request-timeout") == 0) {
            if (!whole_number(v, 1, 3600, &request_timeout))
                return bad_usage("--request-timeout \"%s\" is not a number of seconds (1-3600)", v);
        } else {
            return bad_usage("unknown option \"%s\"", a);
        }
        if (takes)
            i++;
    }

    wxm_config *cfg = NULL;
    wxp_diag d = {"", ""};
    if (!config && !(config = wxm_default_config_path())) {
        char tried[4300];
        Wxp_fixtures_dir(tried, sizeof(tried));
        fprintf(stderr,
                "wxpay-mock: no bundled config found (looked for mock.json in %s, and "
                "$WXPAY_FIXTURES_DIR is not set): give --config FILE, or set WXPAY_FIXTURES_DIR\n",
                tried[0] ? tried : "the folder beside the program");
        return EXIT_USAGE;
    }
    wxm_err e = wxm_config_load(config, &cfg, &d);
    if (e == WXM_E_NOMEM) {
        fprintf(stderr, "wxpay-mock: out of memory\n");
        return EXIT_LISTEN;
    }
    if (e) {
        fprintf(stderr, "wxpay-mock: bad config: %s\n", d.text);
        return EXIT_USAGE;
    }
    if (strict)
        wxm_config_set_catalogue(cfg, 0);
    if (admin_token && *admin_token && wxm_config_set_admin_token(cfg, admin_token) != WXM_OK) {
        wxm_config_free(cfg);
        return bad_usage("--admin-token (or WXPAY_MOCK_ADMIN_TOKEN) must be 1 to 256 of "
                         "[A-Za-z0-9-._~+/=]");
    }
    wxm_config_set_signing(cfg, !no_sign);
    wxm_mock *m = NULL;
    if (wxm_mock_new(cfg, &m) != WXM_OK) {
        fprintf(stderr, "wxpay-mock: out of memory\n");
        return EXIT_LISTEN;
    }
    if (journal && (e = wxm_mock_set_journal_file(m, journal, &d)) != WXM_OK) {
        fprintf(stderr, "wxpay-mock: --journal-file: %s\n",
                e == WXM_E_NOMEM ? "out of memory" : d.text);
        wxm_mock_free(m);
        return EXIT_USAGE;
    }

    /* Signals go to this thread only (sigwait below), never to the
     * listener's threads, which inherit this mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file over its size limit fails a write, said and counted */

    wxm_server_options so = {host,         (uint16_t)port, !quiet,
                             log_json,     tls_cert,       tls_key,
                             (int)threads, ipv6_only,      (int)request_timeout};
    wxm_server *srv = NULL;
    if ((e = wxm_server_start(m, &so, &srv, &d)) != WXM_OK) {
        /* The library names the part; the flags that set it are ours. */
        const char *flags = e == WXM_E_ARG   ? "--host: "
                            : e == WXM_E_TLS ? "--tls-cert/--tls-key: "
                                             : "";
        fprintf(stderr, "wxpay-mock: %s%s\n", flags, e == WXM_E_NOMEM ? "out of memory" : d.text);
        wxm_mock_free(m);
        return e == WXM_E_ARG || e == WXM_E_TLS ? EXIT_USAGE : EXIT_LISTEN;
    }
    if (!loopback(host) && !(admin_token && *admin_token))
        fprintf(stderr,
                "wxpay-mock: warning: listening on %s without --admin-token: anyone who "
                "reaches this port can reset or rewrite orders and read the journal "
                "(with its Authorization headers) through /__admin/\n",
                host);
    printf("wxpay-mock listening on %s://%s%s%s:%u\n", wxm_server_is_tls(srv) ? "https" : "http",
           strchr(host, ':') ? "[" : "", strcmp(host, "localhost") == 0 ? "127.0.0.1" : host,
           strchr(host, ':') ? "]" : "", wxm_server_port(srv));
    fflush(stdout);

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "wxpay-mock: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    wxm_server_stop(srv);
    uint64_t lost = wxm_mock_journal_file_lost(m);
    wxm_mock_free(m);
    if (lost) {
        fprintf(stderr, "wxpay-mock: %llu journal entries could not be written to %s\n",
                (unsigned long long)lost, journal);
        return EXIT_LOST;
    }
    return 0;
}
