/* mockproc.c: wxpay-mock as a child process, and what /proc says of a
 * process (resident memory, CPU time). */
#include "bench.h"
#include "wxp_int.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int bench_start_mock(const opts *o, const char *flag, mock_proc *m)
{
    int fds[2];
    char threads[16];
    snprintf(threads, sizeof(threads), "%d", o->mock_threads);
    if (pipe(fds) != 0)
        return -1;
    char *cert = bench_fixture(o, "tls/server_cert.pem"),
         *key = bench_fixture(o, "tls/server_key.pem");
    bool tls = flag && strcmp(flag, "--tls") == 0;
    m->pid = fork();
    if (m->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        if (tls)
            execl(o->mock_bin, o->mock_bin, "--port", "0", "--quiet", "--threads", threads,
                  "--tls-cert", cert, "--tls-key", key, (char *)NULL);
        else if (flag)
            execl(o->mock_bin, o->mock_bin, "--port", "0", "--quiet", "--threads", threads, flag,
                  (char *)NULL);
        else
            execl(o->mock_bin, o->mock_bin, "--port", "0", "--quiet", "--threads", threads,
                  (char *)NULL);
        _exit(127);
    }
    free(cert);
    free(key);
    close(fds[1]);
    char line[256] = "";
    FILE *f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof(line), f)) {
        fprintf(stderr, "wxpay-bench: %s did not start\n", o->mock_bin);
        return -1;
    }
    fclose(f);
    char *p = strstr(line, "://");
    if (!p || sscanf(p + 3, "%63[^:]:%d", m->host, &m->port) != 2)
        return -1;
    return 0;
}

void bench_stop_mock(mock_proc *m)
{
    if (m->pid > 0) {
        kill(m->pid, SIGTERM);
        waitpid(m->pid, NULL, 0);
        m->pid = 0;
    }
}

/* Resident and peak resident kB of a process, from /proc. */
void bench_memory_kb(pid_t pid, long *rss, long *hwm)
{
    char path[64], line[256];
    *rss = *hwm = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f)) {
        sscanf(line, "VmRSS: %ld", rss);
        sscanf(line, "VmHWM: %ld", hwm);
    }
    if (f)
        fclose(f);
}

/* CPU seconds (user + system) a process has used so far, from /proc. */
double bench_cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long ut = 0, st = 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}
