/* testutil.h: fixture helpers shared by the CMocka tests. Every helper that
 * can fail fails the running test (via cmocka's fail_msg) instead of
 * returning an error, so tests read as straight lines. */
#ifndef WXP_TESTUTIL_H
#define WXP_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <wxpay/protocol.h>

/* Whole file under fixtures/ (NUL-terminated, *len excludes the NUL). */
char *tu_fixture(const char *rel, size_t *len);
/* Absolute path of a fixture, malloc'd (free it). */
char *tu_fixture_path(const char *rel);

/* Keys from fixtures/keys/. */
wxp_key *tu_private_key(const char *file);
wxp_key *tu_public_key(const char *file);
wxp_key *tu_certificate(const char *file);

/* One row of fixtures/vectors/index.tsv, plus its files. */
typedef struct tu_vector {
    char name[64], kind[16], key[64], method[16], target[256], timestamp[32], nonce[64];
    char *body, *msg, *sig; /* contents of NAME.body, NAME.msg, NAME.sig */
    size_t body_len, msg_len, sig_len;
} tu_vector;

/* Loads all vectors; returns the count. Free with tu_vectors_free. */
size_t tu_vectors(tu_vector **out);
void tu_vectors_free(tu_vector *v, size_t n);

/* Verifies sig_b64 over msg with the openssl command line and a PEM public
 * key or certificate file from fixtures/keys/: the independent check.
 * Returns 1 when openssl says "Verified OK", 0 otherwise. */
int tu_openssl_verify(const char *keyfile, const void *msg, size_t len, const char *sig_b64);

/* Runs a shell command and returns its stdout (trailing newline removed). */
char *tu_run(const char *cmd);

/* A fresh temporary directory for this test (removed at exit). */
const char *tu_tmpdir(void);

/* Writes bytes to a file; fails the test on error. */
void tu_write(const char *path, const void *data, size_t len);

#define TU_KEYS "keys/"
#define TU_MCHID "1230000109"
#define TU_APPID "wxd678efh567hg6787"
#define TU_MERCHANT_SERIAL "3775B6A45ACD588826D15E583A95F5DD00000001"
#define TU_PLATFORM_SERIAL "5157F09EFDC096DE15EBE81A47057A7200000002"
#define TU_OTHER_SERIAL "6B1E3A5C7D9F0E2A4B6C8D0E1F2A3B4C00000003"
#define TU_PUBKEY_ID "PUB_KEY_ID_01123000010920261128000000000001"

#endif
