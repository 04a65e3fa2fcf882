/* common.c: what every part of wxpay-bench uses: the clock and fixture
 * paths. */
#include "bench.h"
#include "wxp_int.h"

#include <stdio.h>
#include <stdlib.h>

double bench_now(void)
{
    return (double)Wxp_mono_us() / 1e6;
}

char *bench_fixture(const opts *o, const char *rel)
{
    char *p = malloc(4096);
    if (!p) {
        fprintf(stderr, "wxpay-bench: out of memory\n");
        exit(1);
    }
    snprintf(p, 4096, "%s/%s", o->fixtures, rel);
    return p;
}
