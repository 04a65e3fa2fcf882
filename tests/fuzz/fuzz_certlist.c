/* fuzz_certlist: the platform certificate list as the client opens it
 * (wxp_cert_list_decode). Random bytes rarely pass an AES-GCM tag, so the
 * first byte picks the mode:
 *   even: the rest is the answer body, opened as it is (JSON, Base64, the
 *         tag);
 *   odd:  the rest is "SERIAL\nTEXT": TEXT is sealed with the key into a
 *         well-formed one-entry list, so what lies behind the tag (the PEM
 *         parser, the serial comparison) sees the fuzzer's bytes.
 * Whatever opens must hold certificates whose serials are the listed ones. */
#include "fuzz.h"
#include <wxpay/protocol.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY "TESTONLYwxpaymockAPIv3key0000001"

static void check(const wxp_cert_list *l)
{
    FUZZ_ASSERT(l->n <= WXP_CERT_LIST_MAX);
    for (size_t i = 0; i < l->n; i++)
        FUZZ_ASSERT(l->certs[i].key &&
                    strcasecmp(wxp_key_serial(l->certs[i].key), l->certs[i].serial_no) == 0);
}

static char *sealed_list(const char *serial, size_t serial_len, const char *text, size_t len)
{
    char *ct = NULL;
    if (wxp_aead_encrypt(KEY, wxp_span_of("0123456789ab"), wxp_span_of("certificate"),
                         (wxp_span){text, len}, &ct) != WXP_OK)
        return NULL;
    size_t cap = strlen(ct) + serial_len * 6 + 300;
    char *body = malloc(cap), *esc = malloc(serial_len * 6 + 1);
    size_t e = 0;
    for (size_t i = 0; esc && i < serial_len; i++) { /* a JSON string, whatever the bytes */
        unsigned char c = (unsigned char)serial[i];
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f)
            e += (size_t)snprintf(esc + e, 7, "\\u%04x", c);
        else
            esc[e++] = (char)c;
    }
    if (body && esc) {
        esc[e] = '\0';
        snprintf(
            body, cap,
            "{\"data\":[{\"serial_no\":\"%s\",\"effective_time\":\"2026-01-01T00:00:00+08:00\","
            "\"expire_time\":\"2031-01-01T00:00:00+08:00\",\"encrypt_certificate\":{"
            "\"algorithm\":\"AEAD_AES_256_GCM\",\"nonce\":\"0123456789ab\","
            "\"associated_data\":\"certificate\",\"ciphertext\":\"%s\"}}]}",
            esc, ct);
    }
    free(esc);
    free(ct);
    return body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wxp_cert_list l;
    wxp_diag d;
    if (size == 0)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if ((data[0] & 1) == 0) {
        if (wxp_cert_list_decode((wxp_span){p, n}, KEY, &l, &d) == WXP_OK)
            check(&l);
        else
            FUZZ_ASSERT(l.n == 0);
        wxp_cert_list_clear(&l);
        return 0;
    }
    const char *nl = memchr(p, '\n', n);
    size_t sl = nl ? (size_t)(nl - p) : 0;
    if (sl > 64)
        return 0;
    char *body = sealed_list(p, sl, nl ? nl + 1 : p, nl ? n - sl - 1 : n);
    if (!body)
        return 0;
    if (wxp_cert_list_decode(wxp_span_of(body), KEY, &l, &d) == WXP_OK)
        check(&l);
    else
        FUZZ_ASSERT(l.n == 0);
    wxp_cert_list_clear(&l);
    free(body);
    return 0;
}
