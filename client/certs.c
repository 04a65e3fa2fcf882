/* certs.c: the platform certificates, downloaded instead of configured
 * (docs/protocol.md section 6). With the APIv3 key and no WeChat Pay key
 * the client fetches GET /v3/certificates before its first call, as the
 * SDKs' certificate downloaders do: the list's answer is verified with a
 * certificate it carries, every entry must authenticate under the APIv3
 * key, and only then are the certificates trusted. The engine fetches the
 * list again when an answer names a serial it does not know. */
#include "wxpay_int.h"
#include "wxp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CERTIFICATES_TARGET "/v3/certificates"

bool Wxpay_certs_needed(const wxpay_client *c)
{
    return c->apiv3_key[0] && !wxp_keyring_find(c->ring, wxp_span_of(c->expect_serial));
}

wxpay_code Wxpay_certs_spec(wxpay_client *c, Wxpay_spec *s)
{
    (void)c;
    memset(s, 0, sizeof(*s));
    memcpy(s->method, "GET", 4);
    s->target = Wxp_strdup(CERTIFICATES_TARGET);
    return s->target ? WXPAY_OK : WXPAY_E_NOMEM;
}

/* Adds the list's certificates the ring does not hold yet; how many. */
static size_t take(wxpay_client *c, wxp_cert_list *l, bool *nomem)
{
    size_t added = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (wxp_keyring_find(c->ring, wxp_span_of(l->certs[i].serial_no)))
            continue;
        wxp_err e = wxp_keyring_add(c->ring, l->certs[i].serial_no, l->certs[i].key);
        if (e == WXP_OK) {
            l->certs[i].key = NULL; /* the ring owns it now */
            added++;
        } else {
            *nomem = true;
        }
    }
    if (!c->expect_serial[0] && l->n)
        snprintf(c->expect_serial, sizeof(c->expect_serial), "%s", l->certs[0].serial_no);
    return added;
}

wxpay_result *Wxpay_certs_accept(wxpay_client *c, Wxpay_answer *a, bool *retry)
{
    *retry = false;
    if (a->curl_code || a->status < 200 || a->status >= 300 || a->too_large) {
        /* No list: judged as any failed call (a 404 NOT_FOUND means the
         * merchant moved to the WeChat Pay public key). */
        Wxpay_spec s;
        if (Wxpay_certs_spec(c, &s) != WXPAY_OK)
            return NULL;
        wxpay_result *r = Wxpay_judge(c, &s, a, 1, retry);
        Wxpay_spec_clear(&s);
        if (r) {
            char why[sizeof(r->detail)];
            memcpy(why, r->detail, sizeof(why));
            snprintf(r->detail, sizeof(r->detail),
                     "platform certificate download (GET " CERTIFICATES_TARGET ") failed: %.500s",
                     why);
        }
        return r;
    }
    wxp_diag d = {"", ""};
    wxp_cert_list l;
    wxp_span body = {a->body, a->body_len};
    wxp_err e = wxp_cert_list_decode(body, c->apiv3_key, &l, &d);
    const char *step = "its certificates could not be opened with the APIv3 key";
    if (e == WXP_OK) {
        wxp_response_headers h;
        Wxpay_signature_headers(a, &h);
        e = wxp_cert_list_verify(&l, c->ring, &h, body, (int64_t)time(NULL), c->skew, &d);
        step = "its answer signature does not verify";
    }
    if (e) /* nothing of a list that did not verify is kept */
        wxp_cert_list_clear(&l);
    if (e == WXP_ERR_NOMEM)
        return NULL;
    if (e) {
        wxpay_result *r = Wxpay_result_new(WXPAY_E_VERIFY,
                                           "platform certificate download (HTTP %ld) not "
                                           "trusted: %s (%s): %.300s",
                                           a->status, step, wxp_strerror(e), d.text);
        if (r) {
            r->verify_error = e;
            r->http_status = a->status;
        }
        return r;
    }
    bool nomem = false;
    size_t n = l.n, added = take(c, &l, &nomem);
    wxp_cert_list_clear(&l);
    if (nomem)
        return NULL;
    c->downloads++;
    Wxpay_log(c, "downloaded %zu platform certificate%s (%zu new)", n, n == 1 ? "" : "s", added);
    wxpay_result *r = Wxpay_result_new(WXPAY_OK, "downloaded %zu platform certificates", n);
    if (r)
        r->http_status = a->status;
    return r;
}
