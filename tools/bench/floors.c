/* floors.c: the same run's baselines the figures are compared with: the
 * RSA-2048 signing rate on the mock's thread count, one signature and one
 * verification on one core, and a bare loopback TCP exchange. */
#include "bench.h"
#include "wxp_int.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct sign_arg {
    wxp_key *key;
    double until;
    long n;
} sign_arg;

static void *sign_thread(void *arg)
{
    sign_arg *s = arg;
    char msg[256];
    while (bench_now() < s->until) {
        int n = snprintf(msg, sizeof(msg), "%ld\nnonce\n%s\n", s->n, BODY);
        char *sig = NULL;
        if (wxp_sign(s->key, msg, (size_t)n, &sig) == WXP_OK)
            s->n++;
        free(sig);
    }
    return NULL;
}

/* Signatures per second with the WeChat Pay key on `threads` threads. */
double bench_rsa_rate(const opts *o, int threads, double seconds)
{
    char *kp = bench_fixture(o, "keys/wechatpay_key.pem");
    wxp_key *key = NULL;
    if (wxp_key_private_file(kp, &key, NULL) != WXP_OK)
        return 0;
    free(kp);
    pthread_t th[64];
    sign_arg sa[64];
    double t0 = bench_now();
    for (int i = 0; i < threads; i++) {
        sa[i] = (sign_arg){key, t0 + seconds, 0};
        pthread_create(&th[i], NULL, sign_thread, &sa[i]);
    }
    long total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += sa[i].n;
    }
    double rate = (double)total / (bench_now() - t0);
    wxp_key_free(key);
    return rate;
}

/* Microseconds per signature and per verification on one core, the
 * mock's key and a reverse-sized message (same calls as the mock's). */
void bench_crypto_floor(const opts *o, double *sign_us, double *verify_us)
{
    char *kp = bench_fixture(o, "keys/wechatpay_key.pem"),
         *pp = bench_fixture(o, "keys/wechatpay_pub.pem");
    wxp_key *key = NULL, *pub = NULL;
    *sign_us = *verify_us = 0;
    if (wxp_key_private_file(kp, &key, NULL) == WXP_OK &&
        wxp_key_public_file(pp, &pub, NULL) == WXP_OK) {
        const char msg[] = "1795849000\nabcdefghijklmnopqrstuvwxyz012345\n" BODY "\n";
        char *sig = NULL;
        long n = 0;
        double t0 = bench_now();
        while (bench_now() - t0 < 2.0) {
            free(sig);
            sig = NULL;
            n += wxp_sign(key, msg, sizeof(msg) - 1, &sig) == WXP_OK;
        }
        *sign_us = (bench_now() - t0) / (double)n * 1e6;
        n = 0;
        t0 = bench_now();
        while (bench_now() - t0 < 1.0)
            n += wxp_verify(pub, msg, sizeof(msg) - 1, wxp_span_of(sig), NULL) == WXP_OK;
        *verify_us = (bench_now() - t0) / (double)n * 1e6;
        free(sig);
    }
    wxp_key_free(key);
    wxp_key_free(pub);
    free(kp);
    free(pp);
}

/* A bare loopback TCP exchange between two processes, one at a time, with
 * a reverse round trip's sizes (request and answer): what moving the bytes
 * costs before any HTTP, JSON or RSA. Wall and CPU microseconds each. */
void bench_transport_floor(size_t req, size_t ans, double *wall_us, double *cpu_us)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    *wall_us = *cpu_us = 0;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        if (lfd >= 0)
            close(lfd);
        return;
    }
    static char buf[65536];
    pid_t pid = fork();
    if (pid == 0) { /* the echo side: read a request, write an answer */
        int c = accept(lfd, NULL, NULL);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        for (;;) {
            size_t got = 0;
            while (got < req) {
                ssize_t k = recv(c, buf, req - got, 0);
                if (k <= 0)
                    _exit(0);
                got += (size_t)k;
            }
            if (send(c, buf, ans, 0) != (ssize_t)ans)
                _exit(0);
        }
    }
    close(lfd);
    int fd = bench_dial("127.0.0.1", ntohs(a.sin_port));
    if (pid < 0 || fd < 0) {
        if (pid > 0)
            kill(pid, SIGTERM), waitpid(pid, NULL, 0);
        return;
    }
    fcntl(fd, F_SETFL, 0); /* blocking, like a sync client */
    long n = 0;
    double cpu0 = bench_cpu_seconds(getpid()) + bench_cpu_seconds(pid), t0 = bench_now();
    while (bench_now() - t0 < 2.0) {
        if (send(fd, buf, req, 0) != (ssize_t)req)
            break;
        size_t got = 0;
        while (got < ans) {
            ssize_t k = recv(fd, buf, ans - got, 0);
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        n++;
    }
    double wall = bench_now() - t0,
           cpu = bench_cpu_seconds(getpid()) + bench_cpu_seconds(pid) - cpu0;
    close(fd);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    if (n > 0) {
        *wall_us = wall / (double)n * 1e6;
        *cpu_us = cpu / (double)n * 1e6;
    }
}
