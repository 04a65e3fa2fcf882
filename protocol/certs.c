/* certs.c: the platform certificate list of GET /v3/certificates, opened
 * with the merchant's APIv3 key (docs/protocol.md section 6). All or
 * nothing: one entry that does not authenticate, or whose certificate is
 * not the serial it is listed under, and no certificate is kept. */
#include "wxp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void wxp_cert_list_clear(wxp_cert_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        wxp_key_free(l->certs[i].key);
    memset(l, 0, sizeof(*l));
}

/* Adds "data[i]: " before the text diag holds. */
static wxp_err at_entry(wxp_diag *diag, size_t i, wxp_err e)
{
    if (diag && e != WXP_ERR_NOMEM) {
        char pre[64];
        int n = snprintf(pre, sizeof(pre), "data[%zu]: ", i);
        size_t room = sizeof(diag->text) - 1 - (size_t)n, len = strnlen(diag->text, room);
        memmove(diag->text + n, diag->text, len);
        memcpy(diag->text, pre, (size_t)n);
        diag->text[(size_t)n + len] = '\0';
    }
    return e;
}

static wxp_err open_entry(const Wxp_cert_entry *e, const char *key, size_t i,
                          wxp_platform_cert *out, wxp_diag *diag)
{
    char *pem = NULL;
    size_t len = 0;
    char q[80];
    wxp_err err;

    if (strcmp(e->algorithm, WXP_AEAD_ALGORITHM) != 0) {
        wxp_quote(q, sizeof(q), wxp_span_of(e->algorithm), 40);
        return at_entry(diag, i,
                        wxp_fail(diag, WXP_ERR_CERT_LIST, "algorithm",
                                 "encrypt_certificate.algorithm is \"%s\"; only "
                                 "\"" WXP_AEAD_ALGORITHM "\" is known",
                                 q));
    }
    err = wxp_aead_decrypt(key, wxp_span_of(e->nonce), wxp_span_of(e->associated_data),
                           wxp_span_of(e->ciphertext), &pem, &len, diag);
    if (err)
        return at_entry(diag, i, err);
    err = wxp_key_certificate_pem(pem, len, &out->key, diag);
    free(pem);
    if (err)
        return at_entry(diag, i, err);
    if (strcasecmp(wxp_key_serial(out->key), e->serial_no) != 0) {
        wxp_quote(q, sizeof(q), wxp_span_of(e->serial_no), 64);
        err = wxp_fail(diag, WXP_ERR_CERT_LIST, "serial_no",
                       "listed as serial_no \"%s\" but the certificate inside is %s", q,
                       wxp_key_serial(out->key));
        wxp_key_free(out->key);
        out->key = NULL;
        return at_entry(diag, i, err);
    }
    memcpy(out->serial_no, e->serial_no, sizeof(out->serial_no));
    memcpy(out->effective_time, e->effective_time, sizeof(out->effective_time));
    memcpy(out->expire_time, e->expire_time, sizeof(out->expire_time));
    return WXP_OK;
}

wxp_err wxp_cert_list_decode(wxp_span body, const char *apiv3_key, wxp_cert_list *out,
                             wxp_diag *diag)
{
    Wxp_cert_entry *entries;
    size_t n = 0;
    wxp_err err;

    if (!out || (!body.ptr && body.len))
        return WXP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (!apiv3_key || strlen(apiv3_key) != WXP_APIV3_KEY_LEN)
        return wxp_fail(diag, WXP_ERR_AEAD_KEY, "apiv3_key",
                        "the APIv3 key must be exactly %d bytes (it has %zu)", WXP_APIV3_KEY_LEN,
                        apiv3_key ? strlen(apiv3_key) : (size_t)0);
    entries = calloc(WXP_CERT_LIST_MAX, sizeof(*entries));
    if (!entries)
        return WXP_ERR_NOMEM;
    err = Wxp_cert_list_parse(body, entries, WXP_CERT_LIST_MAX, &n, diag);
    for (size_t i = 0; !err && i < n; i++) {
        for (size_t k = 0; k < i; k++)
            if (strcasecmp(entries[k].serial_no, entries[i].serial_no) == 0)
                err = at_entry(diag, i,
                               wxp_fail(diag, WXP_ERR_CERT_LIST, "serial_no",
                                        "serial_no %.64s is listed twice", entries[i].serial_no));
        if (!err)
            err = open_entry(&entries[i], apiv3_key, i, &out->certs[i], diag);
        if (!err)
            out->n = i + 1;
    }
    Wxp_cert_entries_free(entries, n);
    free(entries);
    if (err)
        wxp_cert_list_clear(out);
    return err;
}

typedef struct finder {
    const wxp_cert_list *list;
    const wxp_keyring *known;
} finder;

static const wxp_key *find_in(const void *ctx, wxp_span serial)
{
    const finder *f = ctx;
    for (size_t i = 0; i < f->list->n; i++)
        if (strlen(f->list->certs[i].serial_no) == serial.len &&
            strncasecmp(f->list->certs[i].serial_no, serial.ptr, serial.len) == 0)
            return f->list->certs[i].key;
    return f->known ? wxp_keyring_find(f->known, serial) : NULL;
}

wxp_err wxp_cert_list_verify(const wxp_cert_list *list, const wxp_keyring *known,
                             const wxp_response_headers *h, wxp_span body, int64_t now,
                             int64_t max_skew, wxp_diag *diag)
{
    if (!list)
        return WXP_ERR_ARG;
    finder f = {list, known};
    return Wxp_response_verify_with(find_in, &f, h, body, now, max_skew, diag);
}
