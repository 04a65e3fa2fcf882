/* testutil.c: see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_fixture_path(const char *rel)
{
    size_t n = strlen(WXP_FIXTURES_DIR) + strlen(rel) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", WXP_FIXTURES_DIR, rel);
    return p;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        fail_msg("cannot open %s", path);
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = (n + 4096 + 1) * 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

char *tu_fixture(const char *rel, size_t *len)
{
    char *path = tu_fixture_path(rel);
    char *data = read_all(path, len);
    free(path);
    return data;
}

typedef wxp_err (*loader)(const char *, wxp_key **, wxp_diag *);

static wxp_key *load(loader fn, const char *file)
{
    char rel[256];
    snprintf(rel, sizeof(rel), TU_KEYS "%s", file);
    char *path = tu_fixture_path(rel);
    wxp_key *k = NULL;
    wxp_diag d = {0};
    wxp_err e = fn(path, &k, &d);
    if (e != WXP_OK)
        fail_msg("loading %s: %s: %s", path, wxp_strerror(e), d.text);
    free(path);
    return k;
}

wxp_key *tu_private_key(const char *file)
{
    return load(wxp_key_private_file, file);
}
wxp_key *tu_public_key(const char *file)
{
    return load(wxp_key_public_file, file);
}
wxp_key *tu_certificate(const char *file)
{
    return load(wxp_key_certificate_file, file);
}

static void field(char **p, char *out, size_t cap)
{
    char *tab = strchr(*p, '\t');
    size_t n = tab ? (size_t)(tab - *p) : strlen(*p);
    assert_true(n < cap);
    memcpy(out, *p, n);
    out[n] = '\0';
    *p += n + (tab ? 1 : 0);
}

size_t tu_vectors(tu_vector **out)
{
    char *index = tu_fixture("vectors/index.tsv", NULL);
    tu_vector *v = NULL;
    size_t n = 0;

    for (char *line = index; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (line[0] != '#' && line[0] != '\0') {
            v = realloc(v, (n + 1) * sizeof(*v));
            assert_non_null(v);
            tu_vector *t = &v[n++];
            memset(t, 0, sizeof(*t));
            char *p = line;
            field(&p, t->name, sizeof(t->name));
            field(&p, t->kind, sizeof(t->kind));
            field(&p, t->key, sizeof(t->key));
            field(&p, t->method, sizeof(t->method));
            field(&p, t->target, sizeof(t->target));
            field(&p, t->timestamp, sizeof(t->timestamp));
            field(&p, t->nonce, sizeof(t->nonce));
            char rel[128];
            snprintf(rel, sizeof(rel), "vectors/%s.body", t->name);
            t->body = tu_fixture(rel, &t->body_len);
            snprintf(rel, sizeof(rel), "vectors/%s.msg", t->name);
            t->msg = tu_fixture(rel, &t->msg_len);
            snprintf(rel, sizeof(rel), "vectors/%s.sig", t->name);
            t->sig = tu_fixture(rel, &t->sig_len);
        }
        line = nl ? nl + 1 : NULL;
    }
    free(index);
    assert_true(n >= 6);
    *out = v;
    return n;
}

void tu_vectors_free(tu_vector *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].body);
        free(v[i].msg);
        free(v[i].sig);
    }
    free(v);
}

static char tmpdir[64];

static void remove_tmpdir(void)
{
    char cmd[128];
    if (tmpdir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

const char *tu_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/wxp-test-XXXXXX");
        if (!mkdtemp(tmpdir))
            fail_msg("mkdtemp failed");
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

void tu_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot write %s", path);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

char *tu_run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    char *buf = calloc(1, 65536);
    size_t n;

    assert_non_null(p);
    assert_non_null(buf);
    n = fread(buf, 1, 65535, p);
    buf[n] = '\0';
    pclose(p);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return buf;
}

int tu_openssl_verify(const char *keyfile, const void *msg, size_t len, const char *sig_b64)
{
    const char *dir = tu_tmpdir();
    char msgp[128], b64p[128], sigp[128], pubp[128], cmd[4096];
    char *key = NULL;

    snprintf(msgp, sizeof(msgp), "%s/v.msg", dir);
    snprintf(b64p, sizeof(b64p), "%s/v.b64", dir);
    snprintf(sigp, sizeof(sigp), "%s/v.sig", dir);
    snprintf(pubp, sizeof(pubp), "%s/v.pub", dir);
    tu_write(msgp, msg, len);
    tu_write(b64p, sig_b64, strlen(sig_b64));
    {
        char rel[256];
        snprintf(rel, sizeof(rel), TU_KEYS "%s", keyfile);
        key = tu_fixture_path(rel);
    }
    /* A certificate's public key is pulled out; a public key file is used
     * as is; a private key yields its public half. */
    snprintf(cmd, sizeof(cmd),
             "( %s x509 -in '%s' -noout -pubkey 2>/dev/null || %s pkey -pubin -in '%s' -pubout "
             "2>/dev/null || %s pkey -in '%s' -pubout ) > '%s' && "
             "%s base64 -d -A -in '%s' -out '%s' && "
             "%s dgst -sha256 -verify '%s' -signature '%s' '%s' 2>&1",
             WXP_OPENSSL_CLI, key, WXP_OPENSSL_CLI, key, WXP_OPENSSL_CLI, key, pubp,
             WXP_OPENSSL_CLI, b64p, sigp, WXP_OPENSSL_CLI, pubp, sigp, msgp);
    free(key);
    char *outp = tu_run(cmd);
    int ok = strcmp(outp, "Verified OK") == 0;
    free(outp);
    return ok;
}
