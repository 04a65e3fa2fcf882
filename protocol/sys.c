/* sys.c: the few system calls the project's sources share: reading a whole
 * file, the monotonic clock, and finding the programs' data folder. */
#define _DEFAULT_SOURCE /* readlink */
#include "wxp_int.h"

#include <unistd.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

wxp_err Wxp_read_file(const char *path, size_t max, const char *field, char **out, size_t *out_len,
                      wxp_diag *diag)
{
    FILE *f;
    char *buf;
    size_t n;

    if (!path || !out)
        return WXP_ERR_ARG;
    f = fopen(path, "rb");
    if (!f)
        return wxp_fail(diag, WXP_ERR_IO, field, "%s: %s", path, strerror(errno));
    buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        return WXP_ERR_NOMEM;
    }
    n = fread(buf, 1, max + 1, f);
    if (ferror(f)) {
        int e = errno;
        fclose(f);
        free(buf);
        return wxp_fail(diag, WXP_ERR_IO, field, "%s: %s", path, strerror(e));
    }
    fclose(f);
    if (n > max) {
        free(buf);
        return wxp_fail(diag, WXP_ERR_IO, field, "%s: larger than %zu bytes", path, max);
    }
    buf[n] = '\0';
    *out = buf;
    if (out_len)
        *out_len = n;
    return WXP_OK;
}

int64_t Wxp_mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* ------------------------------------------------------- the data folder */

static bool is_dir_with(const char *dir, const char *file)
{
    char p[8400];
    snprintf(p, sizeof(p), "%.4200s/%.100s", dir, file);
    FILE *f = fopen(p, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* The folder the running program lives in ("" when unknown). */
static void exe_dir(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0 || (size_t)n >= cap - 1) {
        out[0] = '\0';
        return;
    }
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
}

const char *Wxp_fixtures_dir(char *tried, size_t cap)
{
    static char found[4200];
    char exe[4096], cand[4200];
    const char *env = getenv("WXPAY_FIXTURES_DIR");
    if (tried && cap)
        tried[0] = '\0';
    if (env && *env) { /* an explicit choice is taken as it is */
        snprintf(found, sizeof(found), "%s", env);
        return found;
    }
    exe_dir(exe, sizeof(exe));
    if (exe[0]) {
        /* Installed: PREFIX/bin/PROGRAM and PREFIX/share/wxpay/fixtures,
         * wherever PREFIX was moved. */
        snprintf(cand, sizeof(cand), "%.4000s/../share/wxpay/fixtures", exe);
        if (is_dir_with(cand, "mock.json")) {
            memcpy(found, cand, strlen(cand) + 1);
            return found;
        }
        if (tried)
            snprintf(tried, cap, "%s", cand);
    }
#if defined(WXP_SOURCE_FIXTURES) && defined(WXP_BUILD_BIN)
    /* A program run from its build tree uses the source tree's. */
    if (exe[0] && strcmp(exe, WXP_BUILD_BIN) == 0 && is_dir_with(WXP_SOURCE_FIXTURES, "mock.json"))
        return WXP_SOURCE_FIXTURES;
#endif
    return NULL;
}
