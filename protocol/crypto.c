/* crypto.c: the only file that touches OpenSSL. RSA keys are parsed once
 * into EVP_PKEY and reused; signatures are SHA256withRSA (PKCS#1 v1.5) in
 * strict standard Base64 (docs/protocol.md sections 2 and 3); the APIv3
 * key's AEAD_AES_256_GCM seals platform certificates (section 6). */
#define _DEFAULT_SOURCE /* timegm */
#include "wxp_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#define SIGNTEST_PREFIX "WECHATPAY/SIGNTEST/"
#define MAX_PEM_FILE (1024 * 1024)
#define MAX_SIG_BYTES 1024 /* RSA-8192; real keys are 2048 */

struct wxp_key {
    EVP_PKEY *pkey;
    int is_private;
    char *serial;                  /* certificate serial, or NULL */
    int64_t not_before, not_after; /* certificate validity (Unix seconds), 0 otherwise */
    /* SHA256withRSA contexts set up once when the key is loaded; every
     * signature or verification works on a copy (sign_ready: private keys). */
    EVP_MD_CTX *sign_ready, *verify_ready;
};

struct wxp_keyring {
    size_t n, cap;
    char **serials;
    wxp_key **keys;
};

/* ------------------------------------------------------------ loading */

/* Never prompt on a terminal for an encrypted key's password. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* The label of the first PEM block ("PUBLIC KEY", ...) for diagnostics. */
static void pem_label(const char *pem, size_t len, char *out, size_t cap)
{
    static const char begin[] = "-----BEGIN ";
    size_t bl = sizeof(begin) - 1;

    snprintf(out, cap, "no PEM block");
    for (size_t i = 0; i + bl <= len; i++) {
        if (memcmp(pem + i, begin, bl) == 0) {
            size_t s = i + bl, e = s;
            while (e < len && e - s < 40 && pem[e] != '-' && pem[e] != '\n')
                e++;
            wxp_span lab = {pem + s, e - s};
            char q[64];
            wxp_quote(q, sizeof(q), lab, 40);
            snprintf(out, cap, "a PEM \"%s\" block", q);
            return;
        }
    }
}

static wxp_err check_rsa(EVP_PKEY *pkey, wxp_diag *diag)
{
    if (!EVP_PKEY_is_a(pkey, "RSA"))
        return wxp_fail(diag, WXP_ERR_KEY_TYPE, "key",
                        "key type is %s; WECHATPAY2-SHA256-RSA2048 needs RSA",
                        EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "unknown");
    if (EVP_PKEY_get_bits(pkey) < 2048)
        return wxp_fail(diag, WXP_ERR_KEY_SIZE, "key",
                        "RSA key has %d bits; at least 2048 are required", EVP_PKEY_get_bits(pkey));
    return WXP_OK;
}

/* A context set up once, to be copied; NULL when OpenSSL cannot. */
static EVP_MD_CTX *ready_ctx(EVP_PKEY *pkey, int sign)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && (sign ? EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey)
                     : EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey)) != 1) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    ERR_clear_error();
    return ctx;
}

/* A context for one signature or verification: a copy of the ready one,
 * which skips the algorithm look-ups of a fresh set-up (a shared lock, and
 * allocations, on every request). The ready context is only read, so
 * threads may share the key. Returns 1, 0 (no memory) or -1 (OpenSSL
 * refused). */
static int use_ctx(const wxp_key *key, int sign, EVP_MD_CTX **out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    *out = ctx;
    if (!ctx)
        return 0;
    if (EVP_MD_CTX_copy_ex(ctx, sign ? key->sign_ready : key->verify_ready) == 1)
        return 1;
    EVP_MD_CTX_free(ctx);
    *out = NULL;
    return -1;
}

static wxp_err wrap_key(EVP_PKEY *pkey, int is_private, char *serial, wxp_key **out, wxp_diag *diag)
{
    wxp_err err = check_rsa(pkey, diag);
    wxp_key *k;

    if (err) {
        EVP_PKEY_free(pkey);
        free(serial);
        return err;
    }
    k = calloc(1, sizeof(*k));
    if (!k) {
        EVP_PKEY_free(pkey);
        free(serial);
        return WXP_ERR_NOMEM;
    }
    k->pkey = pkey;
    k->is_private = is_private;
    k->serial = serial;
    k->sign_ready = is_private ? ready_ctx(pkey, 1) : NULL;
    k->verify_ready = ready_ctx(pkey, 0);
    if (!k->verify_ready || (is_private && !k->sign_ready)) {
        wxp_key_free(k);
        return WXP_ERR_NOMEM; /* a key that passed check_rsa: only memory can fail here */
    }
    *out = k;
    return WXP_OK;
}

static BIO *mem_bio(const char *pem, size_t len)
{
    if (len > MAX_PEM_FILE)
        return NULL;
    return BIO_new_mem_buf(pem, (int)len);
}

wxp_err wxp_key_private_pem(const char *pem, size_t len, wxp_key **out, wxp_diag *diag)
{
    char label[80];
    EVP_PKEY *pkey;
    BIO *bio;

    if (!pem || !out)
        return WXP_ERR_ARG;
    *out = NULL;
    bio = mem_bio(pem, len);
    if (!bio)
        return WXP_ERR_NOMEM;
    /* Reads PKCS#8 "PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY" alike. */
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (!pkey) {
        pem_label(pem, len, label, sizeof(label));
        return wxp_fail(diag, WXP_ERR_KEY_PARSE, "key",
                        "expected an unencrypted PEM private key (\"PRIVATE KEY\" or "
                        "\"RSA PRIVATE KEY\"), found %s",
                        label);
    }
    return wrap_key(pkey, 1, NULL, out, diag);
}

wxp_err wxp_key_public_pem(const char *pem, size_t len, wxp_key **out, wxp_diag *diag)
{
    char label[80];
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx;
    const unsigned char *data = (const unsigned char *)pem;
    size_t left = len;
    const char *structure = NULL;

    if (!pem || !out)
        return WXP_ERR_ARG;
    *out = NULL;
    pem_label(pem, len, label, sizeof(label));
    /* Only public-key blocks: a private key here is a configuration mistake
     * worth naming, not something to accept silently. */
    if (strcmp(label, "a PEM \"PUBLIC KEY\" block") == 0)
        structure = "SubjectPublicKeyInfo";
    else if (strcmp(label, "a PEM \"RSA PUBLIC KEY\" block") == 0)
        structure = "type-specific";
    else
        return wxp_fail(
            diag, WXP_ERR_KEY_PARSE, "key",
            "expected a PEM public key (\"PUBLIC KEY\" or \"RSA PUBLIC KEY\"), found %s", label);
    dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", structure, NULL, EVP_PKEY_PUBLIC_KEY, NULL,
                                         NULL);
    if (!dctx)
        return WXP_ERR_CRYPTO;
    if (!OSSL_DECODER_from_data(dctx, &data, &left))
        pkey = NULL;
    OSSL_DECODER_CTX_free(dctx);
    ERR_clear_error();
    if (!pkey)
        return wxp_fail(diag, WXP_ERR_KEY_PARSE, "key", "%s could not be decoded as a public key",
                        label);
    return wrap_key(pkey, 0, NULL, out, diag);
}

/* Serial as uppercase hex without leading zeros, as Go's "%X" and Java's
 * BigInteger.toString(16).toUpperCase() print it. */
static char *cert_serial(X509 *cert)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    char *hex, *copy, *p;

    if (!bn)
        return NULL;
    hex = BN_bn2hex(bn);
    BN_free(bn);
    if (!hex)
        return NULL;
    p = hex;
    while (p[0] == '0' && p[1] != '\0')
        p++;
    copy = malloc(strlen(p) + 1);
    if (copy)
        memcpy(copy, p, strlen(p) + 1);
    OPENSSL_free(hex);
    return copy;
}

/* An X.509 time as Unix seconds; 0 when it cannot be read. */
static int64_t asn1_time(const ASN1_TIME *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

wxp_err wxp_key_certificate_pem(const char *pem, size_t len, wxp_key **out, wxp_diag *diag)
{
    char label[80];
    X509 *cert;
    EVP_PKEY *pkey;
    char *serial;
    BIO *bio;

    if (!pem || !out)
        return WXP_ERR_ARG;
    *out = NULL;
    bio = mem_bio(pem, len);
    if (!bio)
        return WXP_ERR_NOMEM;
    cert = PEM_read_bio_X509(bio, NULL, no_password, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (!cert) {
        pem_label(pem, len, label, sizeof(label));
        return wxp_fail(diag, WXP_ERR_KEY_PARSE, "certificate",
                        "expected a PEM \"CERTIFICATE\", found %s", label);
    }
    pkey = X509_get_pubkey(cert);
    serial = cert_serial(cert);
    int64_t nb = asn1_time(X509_get0_notBefore(cert)), na = asn1_time(X509_get0_notAfter(cert));
    X509_free(cert);
    if (!pkey || !serial) {
        EVP_PKEY_free(pkey);
        free(serial);
        return pkey ? WXP_ERR_NOMEM
                    : wxp_fail(diag, WXP_ERR_KEY_PARSE, "certificate",
                               "certificate holds no usable public key");
    }
    wxp_err err = wrap_key(pkey, 0, serial, out, diag);
    if (err == WXP_OK) {
        (*out)->not_before = nb;
        (*out)->not_after = na;
    }
    return err;
}

typedef wxp_err (*pem_loader)(const char *, size_t, wxp_key **, wxp_diag *);

static wxp_err load_file(pem_loader load, const char *path, wxp_key **out, wxp_diag *diag)
{
    char *pem = NULL;
    size_t len = 0;
    wxp_err err;

    if (!out)
        return WXP_ERR_ARG;
    *out = NULL;
    err = Wxp_read_file(path, MAX_PEM_FILE, "file", &pem, &len, diag);
    if (err)
        return err;
    err = load(pem, len, out, diag);
    free(pem);
    if (err && diag) {
        /* Prefix the file name so a user knows which of several keys. */
        char text[sizeof(diag->text)];
        size_t pl = strlen(path);
        memcpy(text, diag->text, sizeof(text));
        if (pl + 2 < sizeof(diag->text)) {
            memcpy(diag->text, path, pl);
            memcpy(diag->text + pl, ": ", 2);
            size_t room = sizeof(diag->text) - pl - 3;
            size_t tl = strnlen(text, room);
            memcpy(diag->text + pl + 2, text, tl);
            diag->text[pl + 2 + tl] = '\0';
        }
    }
    return err;
}

wxp_err wxp_key_private_file(const char *path, wxp_key **out, wxp_diag *diag)
{
    return load_file(wxp_key_private_pem, path, out, diag);
}

wxp_err wxp_key_public_file(const char *path, wxp_key **out, wxp_diag *diag)
{
    return load_file(wxp_key_public_pem, path, out, diag);
}

wxp_err wxp_key_certificate_file(const char *path, wxp_key **out, wxp_diag *diag)
{
    return load_file(wxp_key_certificate_pem, path, out, diag);
}

void wxp_key_free(wxp_key *key)
{
    if (!key)
        return;
    EVP_MD_CTX_free(key->sign_ready);
    EVP_MD_CTX_free(key->verify_ready);
    EVP_PKEY_free(key->pkey);
    free(key->serial);
    free(key);
}

const char *wxp_key_serial(const wxp_key *key)
{
    return key ? key->serial : NULL;
}

wxp_err wxp_key_validity(const wxp_key *key, int64_t *not_before, int64_t *not_after)
{
    if (!key || !key->serial || !not_before || !not_after)
        return WXP_ERR_ARG;
    *not_before = key->not_before;
    *not_after = key->not_after;
    return WXP_OK;
}

wxp_err wxp_key_same(const wxp_key *a, const wxp_key *b)
{
    if (!a || !b)
        return WXP_ERR_ARG;
    return EVP_PKEY_eq(a->pkey, b->pkey) == 1 ? WXP_OK : WXP_ERR_KEY_MISMATCH;
}

size_t wxp_key_size(const wxp_key *key)
{
    return key ? (size_t)EVP_PKEY_get_size(key->pkey) : 0;
}

/* ------------------------------------------------------- sign, verify */

wxp_err wxp_sign(const wxp_key *key, const void *msg, size_t len, char **sig_b64)
{
    unsigned char sig[MAX_SIG_BYTES];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *ctx;
    char *b64;
    int ok;

    if (!key || !key->is_private || (!msg && len) || !sig_b64)
        return WXP_ERR_ARG;
    if ((size_t)EVP_PKEY_get_size(key->pkey) > sizeof(sig))
        return WXP_ERR_KEY_SIZE;
    ok = use_ctx(key, 1, &ctx);
    if (ok == 0)
        return WXP_ERR_NOMEM;
    ok = ok == 1 && EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        return WXP_ERR_CRYPTO;
    }
    b64 = malloc(4 * ((siglen + 2) / 3) + 1);
    if (!b64)
        return WXP_ERR_NOMEM;
    EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen); /* NUL-ends */
    *sig_b64 = b64;
    return WXP_OK;
}

/* Standard Base64 alphabet value of each byte; -1: not in the alphabet. */
static const signed char b64_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1, -1, 0,  1,  2,  3,  4,  5,  6,
    7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
    49, 50, 51, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* Hand-written because EVP_DecodeBlock skips whitespace and does not
 * reject non-canonical padding bits; a verifier must be strict. */
wxp_err wxp_base64_decode(wxp_span in, unsigned char *out, size_t cap, size_t *out_len)
{
    size_t pad = 0, n, o = 0;

    if ((!in.ptr && in.len) || !out_len)
        return WXP_ERR_ARG;
    if (in.len == 0 || in.len % 4 != 0)
        return WXP_ERR_BASE64;
    if (in.ptr[in.len - 1] == '=')
        pad = in.ptr[in.len - 2] == '=' ? 2 : 1;
    n = in.len / 4 * 3 - pad;
    if (n > cap)
        return WXP_ERR_BASE64;
    for (size_t i = 0; i < in.len; i += 4) {
        int v[4];
        int last = i + 4 == in.len;
        for (int j = 0; j < 4; j++) {
            unsigned char c = (unsigned char)in.ptr[i + (size_t)j];
            if (c == '=' && last && (size_t)j >= 4 - pad)
                v[j] = 0;
            else if ((v[j] = b64_values[c]) < 0)
                return WXP_ERR_BASE64;
        }
        /* The bits that padding leaves unused must be zero. */
        if (last && pad == 2 && (v[1] & 0x0f))
            return WXP_ERR_BASE64;
        if (last && pad == 1 && (v[2] & 0x03))
            return WXP_ERR_BASE64;
        unsigned long w = ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12) |
                          ((unsigned long)v[2] << 6) | (unsigned long)v[3];
        out[o++] = (unsigned char)(w >> 16);
        if (o < n)
            out[o++] = (unsigned char)(w >> 8);
        if (o < n)
            out[o++] = (unsigned char)w;
    }
    *out_len = o;
    return WXP_OK;
}

wxp_err wxp_verify(const wxp_key *key, const void *msg, size_t len, wxp_span sig_b64,
                   wxp_diag *diag)
{
    unsigned char sig[MAX_SIG_BYTES];
    size_t siglen = 0, want;
    EVP_MD_CTX *ctx;
    int rc;

    if (!key || (!msg && len) || (!sig_b64.ptr && sig_b64.len))
        return WXP_ERR_ARG;
    if (sig_b64.len >= sizeof(SIGNTEST_PREFIX) - 1 &&
        memcmp(sig_b64.ptr, SIGNTEST_PREFIX, sizeof(SIGNTEST_PREFIX) - 1) == 0)
        return wxp_fail(diag, WXP_ERR_SIGNTEST_PROBE, "signature",
                        "signature starts with " SIGNTEST_PREFIX
                        ": a deliberate probe that must fail verification");
    if (wxp_base64_decode(sig_b64, sig, sizeof(sig), &siglen) != WXP_OK) {
        char q[64];
        wxp_quote(q, sizeof(q), sig_b64, 40);
        return wxp_fail(diag, WXP_ERR_BASE64, "signature",
                        "signature \"%s\" (%zu chars) is not strict standard Base64", q,
                        sig_b64.len);
    }
    want = (size_t)EVP_PKEY_get_size(key->pkey);
    if (siglen != want)
        return wxp_fail(diag, WXP_ERR_SIGNATURE_LENGTH, "signature",
                        "signature decodes to %zu bytes; an RSA-%d signature has %zu", siglen,
                        EVP_PKEY_get_bits(key->pkey), want);
    rc = use_ctx(key, 0, &ctx);
    if (rc == 0)
        return WXP_ERR_NOMEM;
    if (rc == 1)
        rc = EVP_DigestVerify(ctx, sig, siglen, msg, len);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    if (rc != 1)
        return wxp_fail(diag, WXP_ERR_SIGNATURE_MISMATCH, "signature",
                        "SHA256withRSA signature does not match the message and key");
    return WXP_OK;
}

wxp_err wxp_nonce(char out[WXP_NONCE_LEN + 1])
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char rnd[64];
    size_t o = 0;

    if (!out)
        return WXP_ERR_ARG;
    while (o < WXP_NONCE_LEN) {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            ERR_clear_error();
            return WXP_ERR_CRYPTO;
        }
        /* 248 = 4 * 62: drop the rest so every character is equally likely. */
        for (size_t i = 0; i < sizeof(rnd) && o < WXP_NONCE_LEN; i++)
            if (rnd[i] < 248)
                out[o++] = alphabet[rnd[i] % 62];
    }
    out[o] = '\0';
    return WXP_OK;
}

/* ------------------------------------------------------------ keyring */

wxp_keyring *wxp_keyring_new(void)
{
    return calloc(1, sizeof(wxp_keyring));
}

void wxp_keyring_free(wxp_keyring *ring)
{
    if (!ring)
        return;
    for (size_t i = 0; i < ring->n; i++) {
        free(ring->serials[i]);
        wxp_key_free(ring->keys[i]);
    }
    free(ring->serials);
    free(ring->keys);
    free(ring);
}

wxp_err wxp_keyring_add(wxp_keyring *ring, const char *serial, wxp_key *key)
{
    char *copy;
    size_t len;

    if (!ring || !key)
        return WXP_ERR_ARG;
    if (!serial)
        serial = key->serial;
    if (!serial || !*serial)
        return WXP_ERR_ARG;
    len = strlen(serial);
    if (wxp_keyring_find(ring, (wxp_span){serial, len}))
        return WXP_ERR_ARG;
    if (ring->n == ring->cap) {
        size_t cap = ring->cap ? ring->cap * 2 : 4;
        char **s = realloc(ring->serials, cap * sizeof(*s));
        if (!s)
            return WXP_ERR_NOMEM;
        ring->serials = s;
        wxp_key **k = realloc(ring->keys, cap * sizeof(*k));
        if (!k)
            return WXP_ERR_NOMEM;
        ring->keys = k;
        ring->cap = cap;
    }
    copy = malloc(len + 1);
    if (!copy)
        return WXP_ERR_NOMEM;
    memcpy(copy, serial, len + 1);
    ring->serials[ring->n] = copy;
    ring->keys[ring->n] = key;
    ring->n++;
    return WXP_OK;
}

const wxp_key *wxp_keyring_find(const wxp_keyring *ring, wxp_span serial)
{
    if (!ring || !serial.ptr)
        return NULL;
    for (size_t i = 0; i < ring->n; i++)
        if (strlen(ring->serials[i]) == serial.len &&
            strncasecmp(serial.ptr, ring->serials[i], serial.len) == 0)
            return ring->keys[i];
    return NULL;
}

/* ---------------------------------------------------- AEAD_AES_256_GCM */

static wxp_err aead_args(const char *key, wxp_span nonce, wxp_diag *diag)
{
    if (!key || strlen(key) != WXP_APIV3_KEY_LEN)
        return wxp_fail(diag, WXP_ERR_AEAD_KEY, "apiv3_key",
                        "the APIv3 key must be exactly %d bytes (it has %zu)", WXP_APIV3_KEY_LEN,
                        key ? strlen(key) : (size_t)0);
    if (!nonce.ptr || nonce.len == 0 || nonce.len > 64)
        return wxp_fail(diag, WXP_ERR_AEAD_FORMAT, "nonce", "the nonce must be 1 to 64 bytes");
    return WXP_OK;
}

/* One AES-256-GCM pass; enc 1 seals (out gets text then tag), 0 opens. */
static int gcm(int enc, const char *key, wxp_span nonce, wxp_span aad, const unsigned char *in,
               size_t len, unsigned char *out, unsigned char tag[WXP_AEAD_TAG_LEN])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, ok;
    if (!ctx)
        return 0;
    ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)nonce.len, NULL) == 1 &&
         EVP_CipherInit_ex(ctx, NULL, NULL, (const unsigned char *)key,
                           (const unsigned char *)nonce.ptr, enc) == 1 &&
         (aad.len == 0 ||
          EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad.ptr, (int)aad.len) == 1) &&
         (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1) &&
         (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, WXP_AEAD_TAG_LEN, tag) == 1);
    ok = ok && EVP_CipherFinal_ex(ctx, out + (len ? n : 0), &n) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, WXP_AEAD_TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

wxp_err wxp_aead_encrypt(const char *key, wxp_span nonce, wxp_span aad, wxp_span plain,
                         char **ct_b64)
{
    wxp_err e;
    if (!ct_b64 || (!plain.ptr && plain.len) || (!aad.ptr && aad.len) || plain.len > (1u << 24) ||
        aad.len > (1u << 20))
        return WXP_ERR_ARG;
    *ct_b64 = NULL;
    if ((e = aead_args(key, nonce, NULL)))
        return e;
    unsigned char *buf = malloc(plain.len + WXP_AEAD_TAG_LEN);
    char *b64 = malloc(4 * ((plain.len + WXP_AEAD_TAG_LEN + 2) / 3) + 1);
    if (!buf || !b64) {
        free(buf);
        free(b64);
        return WXP_ERR_NOMEM;
    }
    if (!gcm(1, key, nonce, aad, (const unsigned char *)plain.ptr, plain.len, buf,
             buf + plain.len)) {
        free(buf);
        free(b64);
        return WXP_ERR_CRYPTO;
    }
    EVP_EncodeBlock((unsigned char *)b64, buf, (int)(plain.len + WXP_AEAD_TAG_LEN)); /* NUL-ends */
    free(buf);
    *ct_b64 = b64;
    return WXP_OK;
}

wxp_err wxp_aead_decrypt(const char *key, wxp_span nonce, wxp_span aad, wxp_span ct_b64,
                         char **plain, size_t *plain_len, wxp_diag *diag)
{
    wxp_err e;
    size_t n = 0;
    if (!plain || (!ct_b64.ptr && ct_b64.len) || (!aad.ptr && aad.len))
        return WXP_ERR_ARG;
    *plain = NULL;
    if (plain_len)
        *plain_len = 0;
    if ((e = aead_args(key, nonce, diag)))
        return e;
    if (ct_b64.len > (1u << 24))
        return wxp_fail(diag, WXP_ERR_AEAD_FORMAT, "ciphertext",
                        "the ciphertext is longer than 16 MiB");
    unsigned char *raw = malloc(ct_b64.len / 4 * 3 + 3);
    if (!raw)
        return WXP_ERR_NOMEM;
    if (wxp_base64_decode(ct_b64, raw, ct_b64.len / 4 * 3 + 3, &n) != WXP_OK) {
        free(raw);
        return wxp_fail(diag, WXP_ERR_AEAD_FORMAT, "ciphertext",
                        "the ciphertext is not strict standard Base64");
    }
    if (n < WXP_AEAD_TAG_LEN) {
        free(raw);
        return wxp_fail(diag, WXP_ERR_AEAD_FORMAT, "ciphertext",
                        "the ciphertext has %zu bytes; it must end with the %d-byte tag", n,
                        WXP_AEAD_TAG_LEN);
    }
    size_t len = n - WXP_AEAD_TAG_LEN;
    char *out = malloc(len + 1);
    if (!out) {
        free(raw);
        return WXP_ERR_NOMEM;
    }
    if (!gcm(0, key, nonce, aad, raw, len, (unsigned char *)out, raw + len)) {
        free(raw);
        free(out);
        return wxp_fail(diag, WXP_ERR_AEAD_TAG, "ciphertext",
                        "AES-256-GCM authentication failed: the APIv3 key, the nonce or the "
                        "associated data is not the one it was sealed with, or the text was "
                        "changed");
    }
    free(raw);
    out[len] = '\0';
    *plain = out;
    if (plain_len)
        *plain_len = len;
    return WXP_OK;
}
