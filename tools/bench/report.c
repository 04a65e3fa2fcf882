/* report.c: how the figures are shown: a table on stdout and the same in
 * the JSON report (--json). */
#include "bench.h"
#include "wxp_int.h"

#include <stdio.h>

cJSON *bench_report;

void bench_print_load(const char *name, const load_result *r, double sign_rate, long rss, long hwm)
{
    printf(
        "%-22s %9.0f req/s  p50 %6.2f ms  p90 %6.2f  p99 %6.2f  max %7.2f  ok %ld  http-errors %ld"
        "  conn-errors %ld%s\n",
        name, r->rps, r->p50, r->p90, r->p99, r->max, r->ok, r->errors_http, r->errors_conn,
        r->ran_out ? "  (prepared requests ran out)" : "");
    if (r->errors_http)
        printf("%-22s answers by class: 2xx %ld, 3xx %ld, 4xx %ld, 5xx %ld\n", "", r->by_class[2],
               r->by_class[3], r->by_class[4], r->by_class[5]);
    if (sign_rate > 0)
        printf(
            "%-22s %9.0f sign/s on the same threads: mock = %.1f%% of the RSA-2048 signing rate\n",
            "", sign_rate, 100.0 * r->rps / sign_rate);
    if (hwm > 0)
        printf("%-22s mock memory: %ld kB resident, %ld kB peak\n", "", rss, hwm);
    cJSON *j = cJSON_AddObjectToObject(bench_report, name);
    cJSON_AddNumberToObject(j, "requests_per_second", r->rps);
    cJSON_AddNumberToObject(j, "seconds", r->seconds);
    cJSON_AddNumberToObject(j, "requests", (double)r->sent);
    cJSON_AddNumberToObject(j, "p50_ms", r->p50);
    cJSON_AddNumberToObject(j, "p90_ms", r->p90);
    cJSON_AddNumberToObject(j, "p99_ms", r->p99);
    cJSON_AddNumberToObject(j, "max_ms", r->max);
    cJSON_AddNumberToObject(j, "ok", (double)r->ok);
    cJSON_AddNumberToObject(j, "http_errors", (double)r->errors_http);
    cJSON_AddNumberToObject(j, "connection_errors", (double)r->errors_conn);
    if (sign_rate > 0) {
        cJSON_AddNumberToObject(j, "rsa2048_sign_per_second", sign_rate);
        cJSON_AddNumberToObject(j, "ratio_to_sign_rate", r->rps / sign_rate);
    }
    if (hwm > 0) {
        cJSON_AddNumberToObject(j, "mock_rss_kb", (double)rss);
        cJSON_AddNumberToObject(j, "mock_peak_rss_kb", (double)hwm);
    }
}

void bench_print_trip(const char *name, const char *how, const trip *t, double sign_us,
                      double verify_us)
{
    double two = 2 * sign_us, cpu = t->client_cpu_us + t->mock_cpu_us;
    printf("%-22s %9.0f round trips/s (%s); ok %ld/%ld\n", name, t->rate, how, t->ok, t->n);
    printf("%-22s CPU per round trip: client %.0f us + mock %.0f us = %.0f us = %.2fx the two "
           "signatures"
           " (%.0f us)\n",
           "", t->client_cpu_us, t->mock_cpu_us, cpu, cpu / two, two);
    printf("%-22s   of which: 2 signatures %.0f, 2 verifications %.0f, the rest %.0f"
           " (client %.0f, mock %.0f: HTTP, JSON, checks, journal, the kernel's TCP)\n",
           "", two, 2 * verify_us, cpu - two - 2 * verify_us,
           t->client_cpu_us - sign_us - verify_us, t->mock_cpu_us - sign_us - verify_us);
}

void bench_add_trip(cJSON *j, const trip *t, double sign_us)
{
    cJSON_AddNumberToObject(j, "round_trips_per_second", t->rate);
    cJSON_AddNumberToObject(j, "client_cpu_us_per_trip", t->client_cpu_us);
    cJSON_AddNumberToObject(j, "mock_cpu_us_per_trip", t->mock_cpu_us);
    cJSON_AddNumberToObject(j, "cpu_ratio_to_two_signatures",
                            (t->client_cpu_us + t->mock_cpu_us) / (2 * sign_us));
    cJSON_AddNumberToObject(j, "wall_us_per_trip", t->wall_us);
    cJSON_AddNumberToObject(j, "wall_ratio_to_two_signatures", t->wall_us / (2 * sign_us));
}
