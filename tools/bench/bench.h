/* bench.h: shared by the wxpay-bench sources (tools/bench/). Not installed.
 *   main.c      options, the modes run in order, the JSON report file
 *   modes.c     the measurements: mock (signed, unsigned, url), client, memory
 *   floors.c    same-run baselines: RSA signing rate, one signature and one
 *               verification, a bare loopback exchange
 *   loadgen.c   prepared signed requests and the load threads
 *   mockproc.c  wxpay-mock as a child process; /proc figures of a process
 *   tls.c       TLS for the https mode (OpenSSL)
 *   report.c    the table on stdout and the JSON report
 *   common.c    the clock and fixture paths
 * Each calls only files listed after it.
 */
#ifndef WXPAY_BENCH_H
#define WXPAY_BENCH_H

#include <wxpay/protocol.h>
#include <wxpay/wxpay.h>

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define MCHID "1230000109"
#define APPID "wxd678efh567hg6787"
#define BODY "{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\"}"

typedef struct opts {
    const char *modes[8];
    int nmodes;
    const char *mode, *url, *json, *mock_bin, *fixtures, *label;
    int threads, conns, seconds;
    int mock_threads; /* the mock's answering threads: one per core */
    int batch_us;     /* load threads wake at most this often; -1: per mode */
    long requests;
    int orders;   /* distinct out_trade_no values (memory mode) */
    bool tls;     /* the load goes over HTTPS (mode https) */
    bool codepay; /* the load is code payments (mode codepay), not reverses */
} opts;

/* -------------------------------------------------------------- common.c */

/* Seconds on the monotonic clock. */
double bench_now(void);
/* Path of a fixture (malloc'd; exits when out of memory). */
char *bench_fixture(const opts *o, const char *rel);

/* --------------------------------------------------------------- modes.c */

/* Each returns 0 when the run had no errors. flag is an extra wxpay-mock
 * option (--no-sign) or NULL; name labels the figures. */
int bench_mode_mock(const opts *o, const char *flag, const char *name);
int bench_mode_client(const opts *o);
int bench_mode_memory(const opts *o);

/* ------------------------------------------------------------ mockproc.c */

typedef struct mock_proc {
    pid_t pid;
    char host[64];
    int port;
} mock_proc;

/* Starts o->mock_bin on a free port (with flag when not NULL). */
int bench_start_mock(const opts *o, const char *flag, mock_proc *m);
void bench_stop_mock(mock_proc *m);
/* Resident and peak resident kB of a process. */
void bench_memory_kb(pid_t pid, long *rss, long *hwm);
/* CPU seconds (user + system) a process has used so far. */
double bench_cpu_seconds(pid_t pid);

/* ------------------------------------------------------------- loadgen.c */

/* Raw HTTP requests, each signed, sent in order. */
typedef struct reqs {
    char **raw;
    size_t *len;
    long n;
    long next; /* atomic */
} reqs;

typedef struct load_result {
    double rps, seconds, p50, p90, p99, max;
    long ok, errors_http, errors_conn, sent;
    long by_class[6]; /* answers by status class: [2] = 2xx, ... */
    bool ran_out;
} load_result;

/* n signed reverse requests (o->codepay: codepay requests, each a new
 * order) for host:port over `orders` distinct orders (0: all distinct),
 * signed on o->threads threads. */
int bench_prepare(const opts *o, reqs *r, long n, const char *host, int port, int orders);
void bench_free_reqs(reqs *r);
/* A non-blocking TCP connection to host:port (Nagle off); -1 on failure. */
int bench_dial(const char *host, int port);
/* Sends r for o->seconds on o->conns connections from o->threads threads. */
void bench_run_load(const opts *o, const char *host, int port, reqs *r, load_result *out);

/* ----------------------------------------------------------------- tls.c */

typedef struct bench_tls bench_tls;
/* Once, before threads: client TLS trusting ca_file. */
int bench_tls_init(const char *ca_file);
void bench_tls_cleanup(void);
/* A TLS session on connected socket fd, the handshake done (certificate
 * checked against `name`); NULL on failure (said on stderr). */
bench_tls *bench_tls_connect(int fd, const char *name);
/* >0 bytes moved, 0 would block, -1 the connection failed. */
long bench_tls_send(bench_tls *t, const char *p, size_t n);
long bench_tls_recv(bench_tls *t, char *p, size_t n);
void bench_tls_free(bench_tls *t);

/* -------------------------------------------------------------- floors.c */

/* RSA-2048 signatures per second with the mock's key on `threads` threads. */
double bench_rsa_rate(const opts *o, int threads, double seconds);
/* Microseconds per signature and per verification on one core. */
void bench_crypto_floor(const opts *o, double *sign_us, double *verify_us);
/* A bare loopback TCP exchange of these sizes between two processes. */
void bench_transport_floor(size_t req, size_t ans, double *wall_us, double *cpu_us);

/* -------------------------------------------------------------- report.c */

/* Figures of one client run: per round trip, microseconds. */
typedef struct trip {
    double rate, wall_us, client_cpu_us, mock_cpu_us;
    long n, ok;
} trip;

/* The JSON report: every print_ adds its figures under its name. */
extern cJSON *bench_report;

void bench_print_load(const char *name, const load_result *r, double sign_rate, long rss, long hwm);
void bench_print_trip(const char *name, const char *how, const trip *t, double sign_us,
                      double verify_us);
void bench_add_trip(cJSON *j, const trip *t, double sign_us);

#endif /* WXPAY_BENCH_H */
