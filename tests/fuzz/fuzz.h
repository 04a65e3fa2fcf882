/* fuzz.h: shared by the libFuzzer harnesses in tests/fuzz/. Each harness is
 * one LLVMFuzzerTestOneInput; with clang's -fsanitize=fuzzer it is a fuzzer,
 * and linked with replay.c (any compiler) it replays files through the same
 * function, so every ctest run also replays the seed corpus. */
#ifndef WXP_FUZZ_H
#define WXP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a finding) when cond is false: for invariants. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(#cond, __FILE__, __LINE__);                                                  \
    } while (0)
void fuzz_fail(const char *what, const char *file, int line);

/* Path under fixtures/ (compile-time WXP_FIXTURES_DIR); static buffer. */
const char *fuzz_fixture(const char *rel);

#endif
