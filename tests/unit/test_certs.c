/* AEAD_AES_256_GCM and the platform certificate list, against known
 * answers node's crypto made (fixtures/vectors/aead.tsv and
 * certificates.json, by ci/make-aead-vectors.js): never our own output. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY "TESTONLYwxpaymockAPIv3key0000001"
#define NEXT_SERIAL "4E0D6A5B3C2F1E0D9C8B7A6F5E4D3C2B00000004"

typedef struct row {
    char name[32], key[40], nonce[40], aad[40];
    char *plain; /* bytes */
    size_t plain_len;
    char ct[8192];
} row;

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Splits one TSV line into its six fields (the aad may be empty). */
static int parse_row(char *line, row *r)
{
    char *f[6];
    int n = 0;
    for (char *p = line; n < 6; n++) {
        f[n] = p;
        char *tab = strchr(p, '\t');
        if (!tab) {
            n++;
            break;
        }
        *tab = '\0';
        p = tab + 1;
    }
    if (n != 6)
        return 0;
    f[5][strcspn(f[5], "\n")] = '\0';
    snprintf(r->name, sizeof(r->name), "%s", f[0]);
    snprintf(r->key, sizeof(r->key), "%s", f[1]);
    snprintf(r->nonce, sizeof(r->nonce), "%s", f[2]);
    snprintf(r->aad, sizeof(r->aad), "%s", f[3]);
    snprintf(r->ct, sizeof(r->ct), "%s", f[5]);
    r->plain_len = strlen(f[4]) / 2;
    r->plain = malloc(r->plain_len + 1);
    for (size_t i = 0; i < r->plain_len; i++)
        r->plain[i] = (char)(hexval(f[4][2 * i]) * 16 + hexval(f[4][2 * i + 1]));
    return 1;
}

static size_t rows(row **out)
{
    size_t len;
    char *text = tu_fixture("vectors/aead.tsv", &len), *save = NULL;
    row *r = calloc(16, sizeof(row));
    size_t n = 0;
    for (char *line = strtok_r(text, "\n", &save); line && n < 16;
         line = strtok_r(NULL, "\n", &save))
        if (line[0] != '#')
            n += (size_t)parse_row(line, &r[n]);
    free(text);
    assert_true(n >= 5);
    *out = r;
    return n;
}

static void free_rows(row *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(r[i].plain);
    free(r);
}

static void node_vectors_decrypt_and_encrypt_back(void **state)
{
    (void)state;
    row *r;
    size_t n = rows(&r);
    for (size_t i = 0; i < n; i++) {
        char *plain = NULL, *ct = NULL;
        size_t len = 0;
        wxp_diag d = {0};
        wxp_err e = wxp_aead_decrypt(r[i].key, wxp_span_of(r[i].nonce), wxp_span_of(r[i].aad),
                                     wxp_span_of(r[i].ct), &plain, &len, &d);
        if (e != WXP_OK)
            fail_msg("vector %s: %s (%s)", r[i].name, wxp_strerror(e), d.text);
        assert_int_equal(len, r[i].plain_len);
        assert_memory_equal(plain, r[i].plain, len);
        assert_int_equal(plain[len], '\0');
        assert_int_equal(wxp_aead_encrypt(r[i].key, wxp_span_of(r[i].nonce), wxp_span_of(r[i].aad),
                                          (wxp_span){r[i].plain, r[i].plain_len}, &ct),
                         WXP_OK);
        if (strcmp(ct, r[i].ct) != 0)
            fail_msg("vector %s: our ciphertext differs from node's", r[i].name);
        free(plain);
        free(ct);
    }
    free_rows(r, n);
}

/* Any change (key, nonce, associated data, a ciphertext or tag bit) fails
 * the tag, and nothing is handed out. */
static void any_change_fails_the_tag(void **state)
{
    (void)state;
    row *r;
    size_t n = rows(&r);
    const row *v = &r[0];
    char *plain = (char *)1;
    char other_key[] = KEY;
    other_key[0] = 'X';
    assert_int_equal(wxp_aead_decrypt(other_key, wxp_span_of(v->nonce), wxp_span_of(v->aad),
                                      wxp_span_of(v->ct), &plain, NULL, NULL),
                     WXP_ERR_AEAD_TAG);
    assert_null(plain);
    assert_int_equal(wxp_aead_decrypt(v->key, wxp_span_of("a1b2c3d4e5f7"), wxp_span_of(v->aad),
                                      wxp_span_of(v->ct), &plain, NULL, NULL),
                     WXP_ERR_AEAD_TAG);
    assert_int_equal(wxp_aead_decrypt(v->key, wxp_span_of(v->nonce), wxp_span_of("transaction"),
                                      wxp_span_of(v->ct), &plain, NULL, NULL),
                     WXP_ERR_AEAD_TAG);
    size_t len = strlen(v->ct);
    for (size_t pos = 0; pos + 4 <= len; pos += 4) {
        char ct[8192];
        memcpy(ct, v->ct, len + 1);
        ct[pos] = ct[pos] == 'A' ? 'B' : 'A'; /* one changed Base64 digit */
        wxp_diag d = {0};
        wxp_err e = wxp_aead_decrypt(v->key, wxp_span_of(v->nonce), wxp_span_of(v->aad),
                                     wxp_span_of(ct), &plain, NULL, &d);
        if (e != WXP_ERR_AEAD_TAG && e != WXP_ERR_AEAD_FORMAT)
            fail_msg("changed digit %zu: %s", pos, wxp_strerror(e));
        assert_null(plain);
    }
    free_rows(r, n);
}

static void bad_keys_and_texts_are_named(void **state)
{
    (void)state;
    char *out = NULL;
    wxp_diag d = {0};
    assert_int_equal(wxp_aead_decrypt("short", wxp_span_of("a1b2c3d4e5f6"), wxp_span_of(""),
                                      wxp_span_of("AAAAAAAAAAAAAAAAAAAAAA=="), &out, NULL, &d),
                     WXP_ERR_AEAD_KEY);
    assert_string_equal(d.field, "apiv3_key");
    assert_non_null(strstr(d.text, "32 bytes"));
    assert_int_equal(wxp_aead_decrypt(KEY, wxp_span_of("a1b2c3d4e5f6"), wxp_span_of(""),
                                      wxp_span_of("not base64!"), &out, NULL, &d),
                     WXP_ERR_AEAD_FORMAT);
    assert_int_equal(wxp_aead_decrypt(KEY, wxp_span_of("a1b2c3d4e5f6"), wxp_span_of(""),
                                      wxp_span_of("AAAA"), &out, NULL, &d),
                     WXP_ERR_AEAD_FORMAT);
    assert_non_null(strstr(d.text, "16-byte tag"));
    assert_int_equal(wxp_aead_decrypt(KEY, wxp_span_of(""), wxp_span_of(""),
                                      wxp_span_of("AAAAAAAAAAAAAAAAAAAAAA=="), &out, NULL, &d),
                     WXP_ERR_AEAD_FORMAT);
    assert_int_equal(
        wxp_aead_encrypt(KEY "x", wxp_span_of("n"), wxp_span_of(""), wxp_span_of("p"), &out),
        WXP_ERR_AEAD_KEY);
}

static void node_certificate_list_decodes_to_the_fixture_certificates(void **state)
{
    (void)state;
    size_t len;
    char *body = tu_fixture("vectors/certificates.json", &len);
    wxp_cert_list l;
    wxp_diag d = {0};
    wxp_err e = wxp_cert_list_decode((wxp_span){body, len}, KEY, &l, &d);
    if (e)
        fail_msg("%s: %s", wxp_strerror(e), d.text);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.certs[0].serial_no, TU_PLATFORM_SERIAL);
    assert_string_equal(l.certs[1].serial_no, NEXT_SERIAL);
    wxp_key *a = tu_certificate("wechatpay_cert.pem"),
            *b = tu_certificate("wechatpay_next_cert.pem");
    assert_int_equal(wxp_key_same(l.certs[0].key, a), WXP_OK);
    assert_int_equal(wxp_key_same(l.certs[1].key, b), WXP_OK);
    /* Times as listed; the certificate's own validity agrees. */
    int64_t nb, na;
    assert_int_equal(wxp_key_validity(l.certs[0].key, &nb, &na), WXP_OK);
    char want[40];
    time_t t = (time_t)(nb + 8 * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    assert_string_equal(l.certs[0].effective_time, want);
    wxp_key_free(a);
    wxp_key_free(b);
    wxp_cert_list_clear(&l);
    assert_int_equal(l.n, 0);

    /* The wrong APIv3 key opens nothing. */
    char wrong[] = KEY;
    wrong[31] = '2';
    assert_int_equal(wxp_cert_list_decode((wxp_span){body, len}, wrong, &l, &d), WXP_ERR_AEAD_TAG);
    assert_int_equal(l.n, 0);
    assert_non_null(strstr(d.text, "data[0]"));
    free(body);
}

/* Each way a list can be wrong, with the entry and field named. */
static void malformed_lists_are_refused_whole(void **state)
{
    (void)state;
    size_t len;
    char *good = tu_fixture("vectors/certificates.json", &len);
    struct {
        const char *from, *to, *why;
        wxp_err want;
    } cases[] = {
        {"\"AEAD_AES_256_GCM\"", "\"AEAD_SM4_GCM\"", "AEAD_SM4_GCM", WXP_ERR_CERT_LIST},
        {"\"serial_no\":\"5157F0", "\"serial_no\":\"4E0D6A", "certificate inside",
         WXP_ERR_CERT_LIST},
        {"\"associated_data\":\"certificate\"", "\"associated_data\":\"certificatf\"",
         "authentication failed", WXP_ERR_AEAD_TAG},
        {"\"nonce\":\"f1e2d3c4b5a6\"", "\"nonce\":1", "expected a string", WXP_ERR_JSON_FIELD_TYPE},
        {"{\"data\":[", "{\"datum\":[", "\"data\" is missing", WXP_ERR_JSON_MISSING_FIELD},
        {"\"effective_time\"", "\"effective_tim\"", "effective_time", WXP_ERR_JSON_MISSING_FIELD},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = strstr(good, cases[i].from);
        assert_non_null(p);
        size_t fl = strlen(cases[i].from), tl = strlen(cases[i].to);
        char *bad = malloc(len + tl + 1);
        memcpy(bad, good, (size_t)(p - good));
        memcpy(bad + (p - good), cases[i].to, tl);
        memcpy(bad + (p - good) + tl, p + fl, len - (size_t)(p - good) - fl + 1);
        wxp_cert_list l;
        wxp_diag d = {0};
        wxp_err e = wxp_cert_list_decode(wxp_span_of(bad), KEY, &l, &d);
        if (e != cases[i].want || !strstr(d.text, cases[i].why))
            fail_msg("case %zu: %s (%s)", i, wxp_strerror(e), d.text);
        assert_int_equal(l.n, 0);
        free(bad);
    }
    /* The same certificate twice. */
    char *dup = malloc(2 * len + 8);
    char *first = strstr(good, "{\"serial_no\"");
    char *second = strstr(first + 1, "{\"serial_no\"");
    size_t one = (size_t)(second - first); /* "{...}," */
    snprintf(dup, 2 * len + 8, "{\"data\":[%.*s%.*s]}", (int)one, first, (int)one - 1, first);
    wxp_cert_list l;
    wxp_diag d = {0};
    assert_int_equal(wxp_cert_list_decode(wxp_span_of(dup), KEY, &l, &d), WXP_ERR_CERT_LIST);
    assert_non_null(strstr(d.text, "twice"));
    free(dup);
    assert_int_equal(wxp_cert_list_decode(wxp_span_of("[]"), KEY, &l, &d), WXP_ERR_JSON_NOT_OBJECT);
    assert_int_equal(wxp_cert_list_decode(wxp_span_of("{\"data\":[]}"), KEY, &l, &d), WXP_OK);
    assert_int_equal(l.n, 0);
    free(good);
}

/* The list's answer verifies with a certificate it carries (bootstrap);
 * a serial neither in it nor known does not. Signed by the openssl
 * command line. */
static void list_answer_verifies_with_its_own_certificate(void **state)
{
    (void)state;
    size_t len;
    char *body = tu_fixture("vectors/certificates.json", &len);
    wxp_cert_list l;
    assert_int_equal(wxp_cert_list_decode((wxp_span){body, len}, KEY, &l, NULL), WXP_OK);
    char ts[32], cmd[1024], *msg_path, *key_path;
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    size_t mlen = strlen(ts) + 1 + 6 + 1 + len + 1;
    char *msg = malloc(mlen + 1);
    snprintf(msg, mlen + 1, "%s\nnonce1\n%s\n", ts, body);
    size_t plen = strlen(tu_tmpdir()) + 16;
    msg_path = malloc(plen);
    snprintf(msg_path, plen, "%s/list.msg", tu_tmpdir());
    tu_write(msg_path, msg, strlen(msg));
    key_path = tu_fixture_path("keys/wechatpay_next_key.pem");
    snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -sign %s %s | openssl base64 -A", key_path,
             msg_path);
    char *sig = tu_run(cmd);
    wxp_response_headers h = {wxp_span_of(ts), wxp_span_of("nonce1"), wxp_span_of(sig),
                              wxp_span_of("4e0d6a5b3c2f1e0d9c8b7a6f5e4d3c2b00000004"),
                              wxp_span_of(WXP_AUTH_SCHEME)};
    wxp_diag d = {0};
    wxp_err e = wxp_cert_list_verify(&l, NULL, &h, (wxp_span){body, len}, time(NULL), 300, &d);
    if (e)
        fail_msg("%s: %s", wxp_strerror(e), d.text);
    h.serial = wxp_span_of(TU_OTHER_SERIAL);
    assert_int_equal(wxp_cert_list_verify(&l, NULL, &h, (wxp_span){body, len}, time(NULL), 300, &d),
                     WXP_ERR_RESP_UNKNOWN_SERIAL);
    h.serial = wxp_span_of(TU_PLATFORM_SERIAL); /* listed, but not the signer */
    assert_int_equal(wxp_cert_list_verify(&l, NULL, &h, (wxp_span){body, len}, time(NULL), 300, &d),
                     WXP_ERR_SIGNATURE_MISMATCH);
    wxp_cert_list_clear(&l);
    free(sig);
    free(msg);
    free(msg_path);
    free(key_path);
    free(body);
}

static void keyring_lookup_ignores_letter_case(void **state)
{
    (void)state;
    wxp_keyring *ring = wxp_keyring_new();
    assert_int_equal(wxp_keyring_add(ring, NULL, tu_certificate("wechatpay_cert.pem")), WXP_OK);
    assert_non_null(
        wxp_keyring_find(ring, wxp_span_of("5157f09efdc096de15ebe81a47057a7200000002")));
    assert_non_null(wxp_keyring_find(ring, wxp_span_of(TU_PLATFORM_SERIAL)));
    assert_null(wxp_keyring_find(ring, wxp_span_of("5157F09EFDC096DE15EBE81A47057A720000000")));
    wxp_key *again = tu_certificate("wechatpay_cert.pem");
    assert_int_equal(wxp_keyring_add(ring, "5157f09efdc096de15ebe81a47057a7200000002", again),
                     WXP_ERR_ARG); /* the same serial */
    wxp_key_free(again);
    wxp_keyring_free(ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(node_vectors_decrypt_and_encrypt_back),
        cmocka_unit_test(any_change_fails_the_tag),
        cmocka_unit_test(bad_keys_and_texts_are_named),
        cmocka_unit_test(node_certificate_list_decodes_to_the_fixture_certificates),
        cmocka_unit_test(malformed_lists_are_refused_whole),
        cmocka_unit_test(list_answer_verifies_with_its_own_certificate),
        cmocka_unit_test(keyring_lookup_ignores_letter_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
