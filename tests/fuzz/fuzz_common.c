/* fuzz_common.c: helpers for the harnesses. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

void fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    abort();
}

const char *fuzz_fixture(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof(buf), "%s/%s", WXP_FIXTURES_DIR, rel);
    return buf;
}
