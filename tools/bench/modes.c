/* modes.c: the measurements: the mock under load (signed, unsigned, or
 * another server), libwxpay round trips, and the mock's memory. */
#include "bench.h"
#include "wxp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int bench_mode_mock(const opts *oin, const char *flag, const char *name)
{
    mock_proc m = {0};
    opts oo = *oin, *o = &oo;
    /* Batching pays where answers take a signature's time; an answer path
     * without signing (or another server) is driven as fast as it answers. */
    bool unsigned_answers = flag && strcmp(flag, "--no-sign") == 0;
    o->tls = flag && strcmp(flag, "--tls") == 0;
    /* Over TLS every wake-up of a load thread also decrypts what came:
     * fewer, fuller wake-ups (3 ms) leave the mock more of the cores. */
    if (o->batch_us < 0)
        o->batch_us = unsigned_answers || !strcmp(o->mode, "url") ? 0 : o->tls ? 3000 : 1000;
    char host[64] = "127.0.0.1";
    int port;
    if (o->url && !strcmp(o->mode, "url")) {
        if (sscanf(o->url, "http://%63[^:]:%d", host, &port) != 2)
            return 2;
    } else {
        if (bench_start_mock(o, flag, &m) != 0)
            return 1;
        snprintf(host, sizeof(host), "%s", m.host);
        port = m.port;
    }
    reqs r;
    long n = o->requests ? o->requests : 8000L * o->seconds;
    printf("%s: preparing %ld signed requests...\n", name, n);
    fflush(stdout);
    bench_prepare(o, &r, n, host, port, 0);
    load_result lr;
    double mock_cpu0 = m.pid ? bench_cpu_seconds(m.pid) : 0,
           self_cpu0 = bench_cpu_seconds(getpid());
    bench_run_load(o, host, port, &r, &lr);
    double mock_cpu = m.pid ? bench_cpu_seconds(m.pid) - mock_cpu0 : 0,
           self_cpu = bench_cpu_seconds(getpid()) - self_cpu0;
    printf("%-22s CPU during the run: mock %.1f s, load generator %.1f s (batch window %.1f ms), "
           "of %.1f s"
           " x %ld cores\n",
           name, mock_cpu, self_cpu, o->batch_us / 1000.0, lr.seconds,
           sysconf(_SC_NPROCESSORS_ONLN));
    long rss = -1, hwm = -1;
    if (m.pid)
        bench_memory_kb(m.pid, &rss, &hwm);
    double rate = unsigned_answers || m.pid == 0 ? 0 : bench_rsa_rate(o, o->mock_threads, 3.0);
    bench_print_load(name, &lr, rate, rss, hwm);
    bench_stop_mock(&m);
    bench_free_reqs(&r);
    return lr.errors_http + lr.errors_conn ? 1 : 0;
}

typedef struct cl_arg {
    int done, ok;
} cl_arg;

static void on_done(void *user, wxpay_result *r)
{
    cl_arg *c = user;
    c->done++;
    c->ok += wxpay_result_code(r) == WXPAY_OK;
    wxpay_result_free(r);
}

int bench_mode_client(const opts *o)
{
    mock_proc m = {0};
    if (bench_start_mock(o, NULL, &m) != 0)
        return 1;
    char base[128], *key = bench_fixture(o, "keys/merchant_key.pem"),
                    *cert = bench_fixture(o, "keys/merchant_cert.pem");
    char *pub = bench_fixture(o, "keys/wechatpay_pub.pem");
    snprintf(base, sizeof(base), "http://%s:%d", m.host, m.port);
    wxpay_client *c = NULL;
    if (wxpay_global_init() != WXPAY_OK || !(c = wxpay_client_new()) ||
        wxpay_set_base_url(c, base) || wxpay_set_mchid(c, MCHID) ||
        wxpay_set_merchant_key_file(c, key, NULL) || wxpay_set_merchant_cert_file(c, cert) ||
        wxpay_add_wechatpay_public_key_file(c, pub,
                                            "PUB_KEY_ID_01123000010920261128000000000001")) {
        fprintf(stderr, "wxpay-bench: client set-up failed: %s\n", wxpay_client_error(c));
        wxpay_client_free(c);
        bench_stop_mock(&m);
        return 1;
    }
    double secs = o->seconds > 0 ? o->seconds : 5;
    char otn[32];

    /* sync: one round trip at a time */
    trip sy = {0};
    double cc0 = bench_cpu_seconds(getpid()), mc0 = bench_cpu_seconds(m.pid), t0 = bench_now();
    while (bench_now() - t0 < secs) {
        wxpay_result *r = NULL;
        snprintf(otn, sizeof(otn), "sync%08ld", sy.n++);
        sy.ok += wxpay_reverse(c, otn, APPID, &r) == WXPAY_OK;
        wxpay_result_free(r);
    }
    double wall = bench_now() - t0;
    sy.rate = (double)sy.n / wall;
    sy.wall_us = wall / (double)sy.n * 1e6;
    sy.client_cpu_us = (bench_cpu_seconds(getpid()) - cc0) / (double)sy.n * 1e6;
    sy.mock_cpu_us = (bench_cpu_seconds(m.pid) - mc0) / (double)sy.n * 1e6;

    /* async: 32 in flight on one multi */
    cl_arg ca = {0, 0};
    long sent = 0;
    wxpay_multi *mu = wxpay_multi_new(c);
    cc0 = bench_cpu_seconds(getpid()), mc0 = bench_cpu_seconds(m.pid), t0 = bench_now();
    while (bench_now() - t0 < secs) {
        while (sent - ca.done < 32) {
            snprintf(otn, sizeof(otn), "async%07ld", sent++);
            if (wxpay_multi_add_reverse(mu, otn, APPID, on_done, &ca) != WXPAY_OK) {
                fprintf(stderr, "wxpay-bench: %s\n", wxpay_client_error(c));
                ca.done++; /* counted as sent, never ok */
            }
        }
        wxpay_multi_poll(mu, 5);
    }
    wxpay_multi_wait(mu);
    wall = bench_now() - t0;
    trip as = {.n = ca.done, .ok = ca.ok};
    as.rate = (double)ca.done / wall;
    as.wall_us = wall / (double)ca.done * 1e6;
    as.client_cpu_us = (bench_cpu_seconds(getpid()) - cc0) / (double)ca.done * 1e6;
    as.mock_cpu_us = (bench_cpu_seconds(m.pid) - mc0) / (double)ca.done * 1e6;
    wxpay_multi_free(mu);
    wxpay_client_free(c);
    wxpay_global_cleanup();
    bench_stop_mock(&m);

    /* The same run's floors, measured with nothing else running. */
    double sign_us, verify_us, tr_wall, tr_cpu;
    bench_crypto_floor(o, &sign_us, &verify_us);
    bench_transport_floor(800, 1000, &tr_wall, &tr_cpu);
    printf("%-22s one core: a signature %.0f us, a verification %.1f us; a bare loopback TCP "
           "exchange of"
           " the same sizes between two processes %.0f us wall, %.0f us CPU\n",
           "client floors", sign_us, verify_us, tr_wall, tr_cpu);
    bench_print_trip("client-sync", "1 thread, one at a time", &sy, sign_us, verify_us);
    printf("%-22s wall time per round trip %.0f us = %.2fx the two signatures\n", "", sy.wall_us,
           sy.wall_us / (2 * sign_us));
    bench_print_trip("client-async", "32 in flight, 1 thread + the mock", &as, sign_us, verify_us);

    cJSON *j = cJSON_AddObjectToObject(bench_report, "client");
    cJSON_AddNumberToObject(j, "sign_us_one_core", sign_us);
    cJSON_AddNumberToObject(j, "verify_us_one_core", verify_us);
    cJSON_AddNumberToObject(j, "loopback_exchange_wall_us", tr_wall);
    cJSON_AddNumberToObject(j, "loopback_exchange_cpu_us", tr_cpu);
    bench_add_trip(cJSON_AddObjectToObject(j, "sync"), &sy, sign_us);
    bench_add_trip(cJSON_AddObjectToObject(j, "async"), &as, sign_us);
    free(key);
    free(cert);
    free(pub);
    return sy.ok == sy.n && as.ok == as.n ? 0 : 1;
}

int bench_mode_memory(const opts *o)
{
    mock_proc m = {0};
    if (bench_start_mock(o, NULL, &m) != 0)
        return 1;
    long total = o->requests ? o->requests : 1000000;
    long step = 10000, done = 0, rss10k = 0, rss = 0, hwm = 0;
    int orders = o->orders ? o->orders : 10000;
    printf("memory: %ld requests over %d orders, journal at its cap, signing as it goes\n", total,
           orders);
    cJSON *j = cJSON_AddObjectToObject(bench_report, "memory");
    cJSON *samples = cJSON_AddArrayToObject(j, "samples");
    while (done < total) {
        reqs r;
        long n = done == 0 ? step : (total - done < 50000 ? total - done : 50000);
        bench_prepare(o, &r, n, m.host, m.port, orders);
        /* offset the order numbers so the orders cycle */
        load_result lr;
        opts oo = *o;
        oo.seconds = 3600;
        if (oo.batch_us < 0)
            oo.batch_us = 1000;
        bench_run_load(&oo, m.host, m.port, &r, &lr);
        bench_free_reqs(&r);
        done += lr.sent;
        bench_memory_kb(m.pid, &rss, &hwm);
        if (rss10k == 0)
            rss10k = rss;
        printf("  after %8ld requests: %7ld kB resident (%+.1f%%), %ld errors\n", done, rss,
               100.0 * (double)(rss - rss10k) / (double)rss10k, lr.errors_http + lr.errors_conn);
        fflush(stdout);
        cJSON *s = cJSON_CreateObject();
        cJSON_AddNumberToObject(s, "requests", (double)done);
        cJSON_AddNumberToObject(s, "rss_kb", (double)rss);
        cJSON_AddItemToArray(samples, s);
        if (lr.sent == 0)
            break;
    }
    cJSON_AddNumberToObject(j, "rss_after_10k_kb", (double)rss10k);
    cJSON_AddNumberToObject(j, "rss_after_all_kb", (double)rss);
    cJSON_AddNumberToObject(j, "growth_percent", 100.0 * (double)(rss - rss10k) / (double)rss10k);
    printf("memory: %ld kB after 10k, %ld kB after %ld: %+.1f%%\n", rss10k, rss, done,
           100.0 * (double)(rss - rss10k) / (double)rss10k);
    bench_stop_mock(&m);
    return 0;
}
