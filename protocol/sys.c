/* sys.c: the few system calls the project's sources share: reading a whole
 * file and the monotonic clock. */
#include "wxp_int.h"

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
