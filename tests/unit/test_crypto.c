/* Keys, RSA signatures and strict Base64, checked against signatures the
 * openssl command line made (fixtures/vectors/) and against openssl
 * verifying ours. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The public half that verifies a vector's signer: the merchant
 * certificate, or the WeChat Pay public key. */
static wxp_key *verifying_key(const tu_vector *v)
{
    return strcmp(v->key, "merchant_key.pem") == 0 ? tu_certificate("merchant_cert.pem")
                                                   : tu_public_key("wechatpay_pub.pem");
}

static void every_vector_signs_to_the_openssl_signature(void **state)
{
    tu_vector *v;
    size_t n = tu_vectors(&v);
    (void)state;
    for (size_t i = 0; i < n; i++) {
        wxp_key *key = tu_private_key(v[i].key);
        char *sig = NULL;
        assert_int_equal(wxp_sign(key, v[i].msg, v[i].msg_len, &sig), WXP_OK);
        if (strcmp(sig, v[i].sig) != 0)
            fail_msg("vector %s: signature differs from %s.sig", v[i].name, v[i].name);
        free(sig);
        wxp_key_free(key);
    }
    tu_vectors_free(v, n);
}

static void every_vector_verifies_with_the_public_key_and_the_certificate(void **state)
{
    tu_vector *v;
    size_t n = tu_vectors(&v);
    (void)state;
    for (size_t i = 0; i < n; i++) {
        wxp_key *key = verifying_key(&v[i]);
        wxp_diag d = {0};
        wxp_err e = wxp_verify(key, v[i].msg, v[i].msg_len, (wxp_span){v[i].sig, v[i].sig_len}, &d);
        if (e != WXP_OK)
            fail_msg("vector %s: %s (%s)", v[i].name, wxp_strerror(e), d.text);
        wxp_key_free(key);
    }
    /* The WeChat Pay vectors verify in certificate mode as well. */
    wxp_key *cert = tu_certificate("wechatpay_cert.pem");
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].key, "wechatpay_key.pem") == 0)
            assert_int_equal(
                wxp_verify(cert, v[i].msg, v[i].msg_len, (wxp_span){v[i].sig, v[i].sig_len}, NULL),
                WXP_OK);
    wxp_key_free(cert);
    tu_vectors_free(v, n);
}

static void one_changed_byte_in_message_or_signature_fails(void **state)
{
    tu_vector *v;
    size_t n = tu_vectors(&v);
    (void)state;
    for (size_t i = 0; i < n; i++) {
        wxp_key *key = verifying_key(&v[i]);
        /* Every position of the message, flipped one bit at a time. */
        for (size_t pos = 0; pos < v[i].msg_len; pos++) {
            v[i].msg[pos] ^= 0x01;
            assert_int_equal(
                wxp_verify(key, v[i].msg, v[i].msg_len, (wxp_span){v[i].sig, v[i].sig_len}, NULL),
                WXP_ERR_SIGNATURE_MISMATCH);
            v[i].msg[pos] ^= 0x01;
        }
        /* One Base64 character changed to another valid one, in the middle
         * (no padding bits involved). */
        size_t mid = v[i].sig_len / 2;
        char saved = v[i].sig[mid];
        v[i].sig[mid] = saved == 'A' ? 'B' : 'A';
        assert_int_equal(
            wxp_verify(key, v[i].msg, v[i].msg_len, (wxp_span){v[i].sig, v[i].sig_len}, NULL),
            WXP_ERR_SIGNATURE_MISMATCH);
        v[i].sig[mid] = saved;
        /* One byte fewer in the message. */
        assert_int_equal(
            wxp_verify(key, v[i].msg, v[i].msg_len - 1, (wxp_span){v[i].sig, v[i].sig_len}, NULL),
            WXP_ERR_SIGNATURE_MISMATCH);
        wxp_key_free(key);
    }
    tu_vectors_free(v, n);
}

static void our_signature_verifies_with_the_openssl_command_line(void **state)
{
    const char msg[] = "POST\n/v3/pay/transactions/out-trade-no/abc123/reverse\n1764316800\n"
                       "NONCE\n{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\"}\n";
    wxp_key *key = tu_private_key("merchant_key.pem");
    char *sig = NULL;
    (void)state;
    assert_int_equal(wxp_sign(key, msg, sizeof(msg) - 1, &sig), WXP_OK);
    assert_int_equal(strlen(sig), 344); /* 256 bytes in Base64, no line breaks */
    assert_null(strchr(sig, '\n'));
    assert_true(tu_openssl_verify("merchant_cert.pem", msg, sizeof(msg) - 1, sig));
    /* ...and openssl says no when the message differs: the check can fail. */
    assert_false(tu_openssl_verify("merchant_cert.pem", msg, sizeof(msg) - 2, sig));
    free(sig);
    wxp_key_free(key);
}

static void pkcs1_and_pkcs8_forms_of_a_key_sign_alike(void **state)
{
    wxp_key *k8 = tu_private_key("merchant_key.pem");
    wxp_key *k1 = tu_private_key("merchant_key_pkcs1.pem");
    char *s8 = NULL, *s1 = NULL;
    (void)state;
    assert_int_equal(wxp_sign(k8, "x", 1, &s8), WXP_OK);
    assert_int_equal(wxp_sign(k1, "x", 1, &s1), WXP_OK);
    assert_string_equal(s8, s1);
    assert_int_equal(wxp_key_same(k8, k1), WXP_OK);
    free(s8);
    free(s1);
    wxp_key_free(k8);
    wxp_key_free(k1);
}

static void pkcs1_public_key_is_accepted(void **state)
{
    char path[256], cmd[768];
    wxp_key *k = NULL;
    wxp_diag d = {0};
    char *pub = tu_fixture_path(TU_KEYS "wechatpay_pub.pem");
    (void)state;
    snprintf(path, sizeof(path), "%s/rsa_pub_pkcs1.pem", tu_tmpdir());
    snprintf(cmd, sizeof(cmd),
             "%s rsa -pubin -in '%s' -RSAPublicKey_out -out '%s' 2>&1 && head -1 '%s'",
             WXP_OPENSSL_CLI, pub, path, path);
    char *out = tu_run(cmd);
    assert_non_null(strstr(out, "BEGIN RSA PUBLIC KEY"));
    free(out);
    assert_int_equal(wxp_key_public_file(path, &k, &d), WXP_OK);
    wxp_key *spki = tu_public_key("wechatpay_pub.pem");
    assert_int_equal(wxp_key_same(k, spki), WXP_OK);
    wxp_key_free(k);
    wxp_key_free(spki);
    free(pub);
}

static void certificate_serial_is_what_openssl_prints(void **state)
{
    const char *certs[] = {"merchant_cert.pem", "wechatpay_cert.pem", "other_cert.pem"};
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        char rel[64], cmd[512];
        snprintf(rel, sizeof(rel), TU_KEYS "%s", certs[i]);
        char *path = tu_fixture_path(rel);
        snprintf(cmd, sizeof(cmd), "%s x509 -in '%s' -noout -serial", WXP_OPENSSL_CLI, path);
        char *out = tu_run(cmd);
        wxp_key *k = tu_certificate(certs[i]);
        assert_true(strncmp(out, "serial=", 7) == 0);
        assert_string_equal(out + strlen("serial="), wxp_key_serial(k));
        free(out);
        free(path);
        wxp_key_free(k);
    }
    wxp_key *m = tu_certificate("merchant_cert.pem");
    assert_string_equal(wxp_key_serial(m), TU_MERCHANT_SERIAL);
    wxp_key_free(m);
    wxp_key *p = tu_public_key("wechatpay_pub.pem");
    assert_null(wxp_key_serial(p));
    assert_int_equal(wxp_key_size(p), 256);
    wxp_key_free(p);
}

static void private_key_pairs_with_its_certificate_only(void **state)
{
    wxp_key *priv = tu_private_key("merchant_key.pem");
    wxp_key *cert = tu_certificate("merchant_cert.pem");
    wxp_key *other = tu_certificate("other_cert.pem");
    (void)state;
    assert_int_equal(wxp_key_same(priv, cert), WXP_OK);
    assert_int_equal(wxp_key_same(priv, other), WXP_ERR_KEY_MISMATCH);
    wxp_key_free(priv);
    wxp_key_free(cert);
    wxp_key_free(other);
}

typedef wxp_err (*loader)(const char *, wxp_key **, wxp_diag *);

static void expect_load_error(loader fn, const char *file, wxp_err want, const char *text_part)
{
    char rel[128];
    snprintf(rel, sizeof(rel), TU_KEYS "%s", file);
    char *path = tu_fixture_path(rel);
    wxp_key *k = (wxp_key *)1;
    wxp_diag d = {0};
    wxp_err e = fn(path, &k, &d);
    if (e != want)
        fail_msg("%s: got %s, want %s (%s)", file, wxp_strerror(e), wxp_strerror(want), d.text);
    assert_null(k);
    if (!strstr(d.text, text_part))
        fail_msg("%s: diagnostic \"%s\" lacks \"%s\"", file, d.text, text_part);
    assert_non_null(strstr(d.text, path)); /* the file is named */
    free(path);
}

static void wrong_keys_are_refused_with_a_named_reason(void **state)
{
    (void)state;
    expect_load_error(wxp_key_private_file, "ec_key.pem", WXP_ERR_KEY_TYPE, "needs RSA");
    expect_load_error(wxp_key_private_file, "rsa1024_key.pem", WXP_ERR_KEY_SIZE, "1024 bits");
    expect_load_error(wxp_key_private_file, "wechatpay_pub.pem", WXP_ERR_KEY_PARSE,
                      "\"PUBLIC KEY\"");
    expect_load_error(wxp_key_private_file, "merchant_cert.pem", WXP_ERR_KEY_PARSE,
                      "\"CERTIFICATE\"");
    expect_load_error(wxp_key_public_file, "merchant_key.pem", WXP_ERR_KEY_PARSE,
                      "\"PRIVATE KEY\"");
    expect_load_error(wxp_key_certificate_file, "wechatpay_pub.pem", WXP_ERR_KEY_PARSE,
                      "\"PUBLIC KEY\"");
    expect_load_error(wxp_key_private_file, "README.md", WXP_ERR_KEY_PARSE, "no PEM block");
    expect_load_error(wxp_key_private_file, "no-such-file.pem", WXP_ERR_IO,
                      "No such file or directory");
}

static void garbage_and_truncated_pem_are_refused(void **state)
{
    size_t len = 0;
    char *pem = tu_fixture(TU_KEYS "merchant_key.pem", &len);
    wxp_key *k = NULL;
    (void)state;
    assert_int_equal(wxp_key_private_pem(pem, len / 2, &k, NULL), WXP_ERR_KEY_PARSE);
    assert_int_equal(wxp_key_private_pem("", 0, &k, NULL), WXP_ERR_KEY_PARSE);
    assert_int_equal(
        wxp_key_public_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 56, &k,
                           NULL),
        WXP_ERR_KEY_PARSE);
    assert_int_equal(wxp_key_certificate_pem("junk", 4, &k, NULL), WXP_ERR_KEY_PARSE);
    assert_null(k);
    free(pem);
}

static void signing_needs_a_private_key(void **state)
{
    wxp_key *pub = tu_public_key("wechatpay_pub.pem");
    char *sig = NULL;
    (void)state;
    assert_int_equal(wxp_sign(pub, "x", 1, &sig), WXP_ERR_ARG);
    assert_null(sig);
    wxp_key_free(pub);
    wxp_key_free(NULL);
}

/* Base64 decoding: RFC 4648 section 10 vectors and the strictness rules. */
static void base64_decodes_the_rfc4648_vectors(void **state)
{
    const struct {
        const char *in, *out;
    } rows[] = {
        {"Zg==", "f"},
        {"Zm8=", "fo"},
        {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"},
        {"Zm9vYmE=", "fooba"},
        {"Zm9vYmFy", "foobar"},
        {"+/+/", "\xfb\xff\xbf"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned char out[16];
        size_t n = 0;
        assert_int_equal(wxp_base64_decode(wxp_span_of(rows[i].in), out, sizeof(out), &n), WXP_OK);
        assert_int_equal(n, strlen(rows[i].out));
        assert_memory_equal(out, rows[i].out, n);
    }
}

static void base64_refuses_anything_not_strict(void **state)
{
    const char *bad[] = {
        "",            /* empty */
        "Zg=",         /* length not a multiple of 4 */
        "Zm9vY",       /* length not a multiple of 4 */
        "Zh==",        /* padding bits not zero */
        "Zm9=",        /* padding bits not zero */
        "Z===",        /* three '=' */
        "====",        /* only padding */
        "Zg==Zg==",    /* padding in the middle */
        "Zm=v",        /* '=' before data */
        "Zm9v\nYmFy",  /* line break */
        "Zm9v YmFy",   /* space */
        "Zm9-YmF_",    /* URL-safe alphabet */
        "Zm9vYmF\x80", /* high byte */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char out[16];
        size_t n = 0;
        if (wxp_base64_decode(wxp_span_of(bad[i]), out, sizeof(out), &n) != WXP_ERR_BASE64)
            fail_msg("row %zu (\"%s\") was accepted", i, bad[i]);
    }
    unsigned char small[2];
    size_t n;
    assert_int_equal(wxp_base64_decode(wxp_span_of("Zm9v"), small, sizeof(small), &n),
                     WXP_ERR_BASE64); /* does not fit */
}

/* Every byte value but '=' (padding, above): accepted exactly when it is
 * in RFC 4648's alphabet, with its place in it as the value. */
static void base64_knows_every_byte(void **state)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (void)state;
    for (int b = 1; b < 256; b++) {
        if (b == '=')
            continue;
        char in[5] = {'A', 'A', 'A', (char)b, '\0'};
        unsigned char out[3];
        size_t n = 0;
        const char *at = strchr(alphabet, b);
        wxp_err e = wxp_base64_decode(wxp_span_of(in), out, sizeof(out), &n);
        if (at) {
            assert_int_equal(e, WXP_OK);
            assert_int_equal(out[2], (unsigned char)(at - alphabet));
        } else if (e != WXP_ERR_BASE64) {
            fail_msg("byte 0x%02x was accepted", b);
        }
    }
}

static void malformed_signatures_get_their_own_errors(void **state)
{
    wxp_key *key = tu_public_key("wechatpay_pub.pem");
    wxp_key *other = tu_private_key("other_key.pem");
    wxp_key *m = tu_private_key("merchant_key.pem");
    const char msg[] = "1554209980\nnonce\n\n";
    wxp_diag d = {0};
    char *sig = NULL;
    (void)state;

    assert_int_equal(wxp_verify(key, msg, sizeof(msg) - 1, wxp_span_of(""), &d), WXP_ERR_BASE64);
    assert_string_equal(d.field, "signature");
    assert_int_equal(
        wxp_verify(key, msg, sizeof(msg) - 1,
                   wxp_span_of("WECHATPAY/SIGNTEST/OWI3MWVhYzc2NDRhNmUzY2I3ZmM3NTk4ZjY4OGNiODc="),
                   &d),
        WXP_ERR_SIGNTEST_PROBE);
    assert_non_null(strstr(d.text, "probe"));
    assert_int_equal(wxp_verify(key, msg, sizeof(msg) - 1, wxp_span_of("Zm9vYmFy"), &d),
                     WXP_ERR_SIGNATURE_LENGTH);
    assert_non_null(strstr(d.text, "6 bytes"));
    /* Right length, right format, wrong key. */
    assert_int_equal(wxp_sign(other, msg, sizeof(msg) - 1, &sig), WXP_OK);
    assert_int_equal(wxp_verify(key, msg, sizeof(msg) - 1, wxp_span_of(sig), &d),
                     WXP_ERR_SIGNATURE_MISMATCH);
    free(sig);
    /* The merchant key where the WeChat Pay key belongs. */
    assert_int_equal(wxp_sign(m, msg, sizeof(msg) - 1, &sig), WXP_OK);
    assert_int_equal(wxp_verify(key, msg, sizeof(msg) - 1, wxp_span_of(sig), NULL),
                     WXP_ERR_SIGNATURE_MISMATCH);
    /* Base64 with a line break in it, as `openssl base64` without -A makes. */
    char wrapped[400];
    snprintf(wrapped, sizeof(wrapped), "%.64s\n%s", sig, sig + 64);
    assert_int_equal(wxp_verify(key, msg, sizeof(msg) - 1, wxp_span_of(wrapped), NULL),
                     WXP_ERR_BASE64);
    free(sig);
    /* 256 zero bytes: right length, not a signature. 344 Base64 chars with
     * "==" are 256 bytes; without padding they are 258. */
    char zeros[345];
    memset(zeros, 'A', 344);
    zeros[342] = zeros[343] = '=';
    zeros[344] = '\0';
    assert_int_equal(wxp_verify(key, msg, sizeof(msg) - 1, (wxp_span){zeros, 344}, NULL),
                     WXP_ERR_SIGNATURE_MISMATCH);
    zeros[342] = zeros[343] = 'A';
    assert_int_equal(wxp_verify(key, msg, sizeof(msg) - 1, (wxp_span){zeros, 344}, NULL),
                     WXP_ERR_SIGNATURE_LENGTH);
    wxp_key_free(key);
    wxp_key_free(other);
    wxp_key_free(m);
}

static void nonce_is_32_alphanumerics_and_fresh_each_time(void **state)
{
    char a[WXP_NONCE_LEN + 1], b[WXP_NONCE_LEN + 1];
    (void)state;
    assert_int_equal(wxp_nonce(a), WXP_OK);
    assert_int_equal(wxp_nonce(b), WXP_OK);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
                     32);
    assert_string_not_equal(a, b);
}

static void keyring_holds_both_modes_and_refuses_duplicates(void **state)
{
    wxp_keyring *ring = wxp_keyring_new();
    wxp_key *pub = tu_public_key("wechatpay_pub.pem");
    wxp_key *cert = tu_certificate("wechatpay_cert.pem");
    wxp_key *again = tu_certificate("wechatpay_cert.pem");
    (void)state;
    assert_int_equal(wxp_keyring_add(ring, TU_PUBKEY_ID, pub), WXP_OK);
    assert_int_equal(wxp_keyring_add(ring, NULL, cert), WXP_OK); /* under its serial */
    assert_int_equal(wxp_keyring_add(ring, NULL, again), WXP_ERR_ARG);
    assert_ptr_equal(wxp_keyring_find(ring, wxp_span_of(TU_PUBKEY_ID)), pub);
    assert_ptr_equal(wxp_keyring_find(ring, wxp_span_of(TU_PLATFORM_SERIAL)), cert);
    /* Hex: the letter case names the same serial. */
    assert_ptr_equal(
        wxp_keyring_find(ring, wxp_span_of("5157f09efdc096de15ebe81a47057a7200000002")), cert);
    assert_null(wxp_keyring_find(ring, wxp_span_of(TU_MERCHANT_SERIAL)));
    /* A public key has no serial of its own: one must be given. */
    wxp_key *nameless = tu_public_key("wechatpay_pub.pem");
    assert_int_equal(wxp_keyring_add(ring, NULL, nameless), WXP_ERR_ARG);
    wxp_key_free(nameless);
    wxp_key_free(again);
    wxp_keyring_free(ring);
    wxp_keyring_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_vector_signs_to_the_openssl_signature),
        cmocka_unit_test(every_vector_verifies_with_the_public_key_and_the_certificate),
        cmocka_unit_test(one_changed_byte_in_message_or_signature_fails),
        cmocka_unit_test(our_signature_verifies_with_the_openssl_command_line),
        cmocka_unit_test(pkcs1_and_pkcs8_forms_of_a_key_sign_alike),
        cmocka_unit_test(pkcs1_public_key_is_accepted),
        cmocka_unit_test(certificate_serial_is_what_openssl_prints),
        cmocka_unit_test(private_key_pairs_with_its_certificate_only),
        cmocka_unit_test(wrong_keys_are_refused_with_a_named_reason),
        cmocka_unit_test(garbage_and_truncated_pem_are_refused),
        cmocka_unit_test(signing_needs_a_private_key),
        cmocka_unit_test(base64_decodes_the_rfc4648_vectors),
        cmocka_unit_test(base64_refuses_anything_not_strict),
        cmocka_unit_test(base64_knows_every_byte),
        cmocka_unit_test(malformed_signatures_get_their_own_errors),
        cmocka_unit_test(nonce_is_32_alphanumerics_and_fresh_each_time),
        cmocka_unit_test(keyring_holds_both_modes_and_refuses_duplicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
