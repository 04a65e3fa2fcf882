/* main.c: wxpay-bench, the performance benchmark (docs/performance.md "Performance").
 *
 * Modes:
 *   mock    N validly signed, distinct reverse requests are prepared before
 *           the clock starts; T threads send them over C keep-alive
 *           connections for D seconds (closed loop, one request in flight per
 *           connection) and measure throughput, latency and errors. The
 *           machine's RSA-2048 signing rate with the same key on as many
 *           threads as the mock answers with is measured in the same run,
 *           and the ratio printed. The load threads look at their sockets
 *           at most once per batch window (--batch-ms, 1 ms here): on a
 *           small machine every wake-up of theirs preempts a mock thread in
 *           the middle of a signature.
 *   client  libwxpay reverse round trips, sync and async, against the mock:
 *           rate, wall time and each process's CPU per round trip, against
 *           the two signatures a round trip cannot avoid, with the same
 *           run's signature, verification and bare loopback TCP exchange
 *           costs to show where the rest goes.
 *   memory  the mock's resident size after 10,000 and after N requests.
 * The mock is started as a child process (its memory is its own) unless
 * --url names one. Figures print as a table, and as JSON with --json FILE. */
#include "bench.h"
#include "wxp_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
    printf("Usage: wxpay-bench [options] [mock|unsigned|https|codepay|client|memory|all|url]\n"
           "Measures wxpay-mock and libwxpay (docs/performance.md \"Performance\").\n\n"
           "  mock       signed mock: throughput, latency, errors, memory, vs RSA-2048 sign rate\n"
           "  unsigned   the same with wxpay-mock --no-sign (the answer path without RSA)\n"
           "  https      the signed mock over TLS (the test CA in fixtures/tls), kept-alive\n"
           "  codepay    the signed mock taking code payments (each a new order, paid at once)\n"
           "  client     libwxpay reverse round trips/s, sync and async\n"
           "  memory     mock resident size from 10,000 to --requests (default 1,000,000)\n"
           "  all        mock, unsigned and client (default)\n"
           "  url        the same load against --url (another server), named --label\n\n"
           "Options:\n"
           "  --threads N     load threads (default: the number of cores)\n"
           "  --connections N keep-alive connections (default 32)\n"
           "  --batch-ms MS   load threads wake at most once per MS (default: 1 for the\n"
           "                  signed mock and memory, 3 for https, 0 for unsigned and url)\n"
           "  --seconds S     per measurement (default 10)\n"
           "  --requests N    prepared requests (default 8000 x seconds; memory: total)\n"
           "  --url URL       a running server instead of starting the mock (mode url)\n"
           "  --label NAME    the name of that server in the bench_report (mode url)\n"
           "  --mock PATH     the wxpay-mock binary (default: next to this one)\n"
           "  --fixtures DIR  fixtures folder (default: the installed one, or the source tree's)\n"
           "  --json FILE     write the figures as JSON\n"
           "  --version       print the version\n");
}

int main(int argc, char **argv)
{
    static char self_dir[4096];
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    opts o = {.threads = cores,
              .mock_threads = cores > 64 ? 64 : cores,
              .conns = 32,
              .seconds = 10,
              .batch_us = -1,
              .fixtures = Wxp_fixtures_dir(NULL, 0)};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        }
        if (!strcmp(a, "--version")) {
            printf("wxpay-bench %s\n", WXPAY_VERSION);
            return 0;
        }
#define NUM(flag, field)                                                                           \
    if (!strcmp(a, flag) && v) {                                                                   \
        char *end;                                                                                 \
        long x = strtol(v, &end, 10);                                                              \
        if (*end || x <= 0) {                                                                      \
            fprintf(stderr, "wxpay-bench: %s \"%s\" must be a positive number\n", flag, v);        \
            return 2;                                                                              \
        }                                                                                          \
        o.field = (int)x;                                                                          \
        i++;                                                                                       \
        continue;                                                                                  \
    }
        NUM("--threads", threads)
        NUM("--connections", conns)
        NUM("--seconds", seconds)
        if (!strcmp(a, "--requests") && v) {
            char *end;
            o.requests = strtol(v, &end, 10);
            if (*end || o.requests <= 0) {
                fprintf(stderr, "wxpay-bench: --requests \"%s\" must be a positive number\n", v);
                return 2;
            }
            i++;
            continue;
        }
        if (!strcmp(a, "--batch-ms") && v) {
            char *end;
            double ms = strtod(v, &end);
            if (*end || end == v || !(ms >= 0 && ms <= 100)) {
                fprintf(stderr, "wxpay-bench: --batch-ms \"%s\" must be 0 to 100\n", v);
                return 2;
            }
            o.batch_us = (int)(ms * 1000);
            i++;
            continue;
        }
        if (!strcmp(a, "--url") && v) {
            o.url = v;
            i++;
            continue;
        }
        if (!strcmp(a, "--mock") && v) {
            o.mock_bin = v;
            i++;
            continue;
        }
        if (!strcmp(a, "--label") && v) {
            o.label = v;
            i++;
            continue;
        }
        if (!strcmp(a, "--fixtures") && v) {
            o.fixtures = v;
            i++;
            continue;
        }
        if (!strcmp(a, "--json") && v) {
            o.json = v;
            i++;
            continue;
        }
        if (a[0] != '-' && o.nmodes < 8) {
            o.modes[o.nmodes++] = a;
            continue;
        }
        fprintf(stderr, "wxpay-bench: unknown option \"%s\" (try --help)\n", a);
        return 2;
    }
    if (!o.mock_bin) {
        ssize_t n = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 32);
        if (n > 0) {
            self_dir[n] = '\0';
            char *slash = strrchr(self_dir, '/');
            snprintf(slash + 1, 32, "wxpay-mock");
        }
        o.mock_bin = self_dir;
    }
    signal(SIGPIPE, SIG_IGN);
    bench_report = cJSON_CreateObject();
    cJSON_AddNumberToObject(bench_report, "threads", o.threads);
    cJSON_AddNumberToObject(bench_report, "connections", o.conns);
    cJSON_AddNumberToObject(bench_report, "seconds", o.seconds);
    int rc = 0;
    if (o.nmodes == 0)
        o.modes[o.nmodes++] = "all";
    if (!o.fixtures) {
        fprintf(stderr, "wxpay-bench: no fixtures found: give --fixtures DIR, or set "
                        "WXPAY_FIXTURES_DIR\n");
        return 2;
    }
    for (int k = 0; k < o.nmodes; k++) {
        o.mode = o.modes[k];
        bool all = !strcmp(o.mode, "all");
        if (all || !strcmp(o.mode, "mock"))
            rc |= bench_mode_mock(&o, NULL, "mock-signed");
        if (all || !strcmp(o.mode, "unsigned"))
            rc |= bench_mode_mock(&o, "--no-sign", "mock-unsigned");
        if (!strcmp(o.mode, "https")) {
            char *ca = bench_fixture(&o, "tls/ca_cert.pem");
            int ok = bench_tls_init(ca) == 0;
            free(ca);
            rc |= ok ? bench_mode_mock(&o, "--tls", "mock-https") : 1;
            bench_tls_cleanup();
        }
        if (!strcmp(o.mode, "codepay")) {
            o.codepay = true;
            rc |= bench_mode_mock(&o, NULL, "mock-codepay");
            o.codepay = false;
        }
        if (all || !strcmp(o.mode, "client"))
            rc |= bench_mode_client(&o);
        if (!strcmp(o.mode, "memory"))
            rc |= bench_mode_memory(&o);
        if (!strcmp(o.mode, "url")) {
            if (!o.url) {
                fprintf(stderr, "wxpay-bench: mode url needs --url\n");
                return 2;
            }
            rc |= bench_mode_mock(&o, NULL, o.label ? o.label : "url");
        }
    }
    if (o.json) {
        char *t = cJSON_Print(bench_report);
        FILE *f = fopen(o.json, "w");
        if (f) {
            fprintf(f, "%s\n", t);
            fclose(f);
        }
        cJSON_free(t);
    }
    cJSON_Delete(bench_report);
    return rc;
}
