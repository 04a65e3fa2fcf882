/* answer.c: building answers. API answers get a Request-ID and are signed
 * with the WeChat Pay key, or corrupted on purpose as a script step says
 * (bad signature, probe signature, no signature, skewed timestamp, unknown
 * serial, cut body, gateway HTML). Admin answers are plain JSON.
 *
 * Nothing is dropped silently: when a header or body cannot be allocated
 * the whole answer becomes a bodiless 500 whose code says so. */
#include "mock_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN_PUBKEY_ID "PUB_KEY_ID_01000000000000000000000000000000"
#define UNKNOWN_CERT_SERIAL "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"

void wxm_answer_clear(wxm_answer *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nheaders; i++)
        free(a->headers[i].value);
    free(a->body);
    free(a->pending);
    wxm_stream_free(a->stream);
    memset(a, 0, sizeof(*a));
}

/* The answer could not be built: a bodiless 500 that says so. */
static void broken(wxm_answer *a, const char *why)
{
    struct wxm_pending *keep = a->pending; /* (a stream goes: it is the body) */
    a->pending = NULL;
    wxm_answer_clear(a);
    a->pending = keep; /* a state change already decided still happens */
    a->status = 500;
    a->broken = why;
    snprintf(a->code, sizeof(a->code), "SYSTEM_ERROR");
}

void Wxm_answer_header(wxm_answer *a, const char *name, const char *value)
{
    if (a->broken)
        return;
    if (a->nheaders == WXM_MAX_ANSWER_HEADERS) {
        broken(a, "too many answer headers");
        return;
    }
    size_t n = strlen(value) + 1;
    char *v = malloc(n);
    if (!v) {
        broken(a, "out of memory for an answer header");
        return;
    }
    memcpy(v, value, n);
    snprintf(a->headers[a->nheaders].name, sizeof(a->headers[0].name), "%s", name);
    a->headers[a->nheaders++].value = v;
}

void Wxm_answer_body(wxm_answer *a, const char *text, size_t n)
{
    if (a->broken)
        return;
    free(a->body);
    a->body = malloc(n + 1);
    a->body_len = 0;
    if (!a->body) {
        broken(a, "out of memory for the answer body");
        return;
    }
    memcpy(a->body, text, n);
    a->body[n] = '\0';
    a->body_len = n;
}

void Wxm_answer_json(wxm_answer *a, int status, cJSON *j)
{
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    a->status = status;
    if (!text) {
        broken(a, "out of memory for the answer body");
        return;
    }
    Wxm_answer_header(a, "Content-Type", "application/json");
    Wxm_answer_body(a, text, strlen(text));
    cJSON_free(text);
}

void Wxm_add_quoted(cJSON *obj, const char *name, wxp_span s)
{
    char buf[512];
    /* Quoting keeps the JSON valid whatever bytes the client sent. */
    wxp_quote(buf, sizeof(buf), s, 400);
    cJSON_AddStringToObject(obj, name, buf);
}

cJSON *Wxm_json_object(int n, ...)
{
    cJSON *j = cJSON_CreateObject();
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *k = va_arg(ap, const char *), *v = va_arg(ap, const char *);
        if (j && !cJSON_AddStringToObject(j, k, v)) {
            cJSON_Delete(j);
            j = NULL;
        }
    }
    va_end(ap);
    return j;
}

cJSON *Wxm_error_body(const char *code, const char *message, cJSON *detail)
{
    cJSON *j = Wxm_json_object(2, "code", code, "message", message);
    if (j && detail && !cJSON_AddItemToObject(j, "detail", detail)) {
        cJSON_Delete(j);
        j = NULL;
    }
    if (!j)
        cJSON_Delete(detail);
    return j;
}

static void request_id(wxm_mock *m, char out[48])
{
    char rnd[WXP_NONCE_LEN + 1];
    uint64_t seq = __atomic_add_fetch(&m->request_seq, 1, __ATOMIC_RELAXED);
    if (wxp_nonce(rnd) != WXP_OK)
        memcpy(rnd, "00000000000000000000000000000000", 33);
    snprintf(out, 48, "%012llX%.20s", (unsigned long long)seq, rnd);
}

/* The signature headers over the body as it stands, as the fault says. */
static void sign(const wxm_mock *m, wxm_answer *a, Wxm_step_action fault, int64_t now)
{
    Wxm_signer signer = Wxm_keys_signer(m);
    char ts[24], nonce[WXP_NONCE_LEN + 1], probe[400];
    char *msg = NULL, *sig = NULL;
    size_t len = 0;

    snprintf(ts, sizeof(ts), "%lld",
             (long long)(fault == WXM_STEP_SKEWED_TIMESTAMP ? now - 600 : now));
    if (wxp_nonce(nonce) != WXP_OK) {
        broken(a, "the system gave no random bytes for Wechatpay-Nonce");
        return;
    }
    wxp_span body_span = {a->body, a->body_len};
    if (fault == WXM_STEP_BAD_SIGNATURE)
        body_span = wxp_span_of("{\"tampered\":true}"); /* valid signature of another body */
    wxp_err e = wxp_response_message(wxp_span_of(ts), wxp_span_of(nonce), body_span, &msg, &len);
    if (e == WXP_OK)
        e = wxp_sign(signer.key, msg, len, &sig);
    free(msg);
    if (e != WXP_OK) {
        broken(a, e == WXP_ERR_NOMEM ? "out of memory while signing the answer"
                                     : "OpenSSL failed to sign the answer");
        return;
    }
    Wxm_answer_header(a, "Wechatpay-Nonce", nonce);
    if (fault == WXM_STEP_SIGNTEST) {
        snprintf(probe, sizeof(probe), "WECHATPAY/SIGNTEST/%.300s", sig);
        Wxm_answer_header(a, "Wechatpay-Signature", probe);
    } else {
        Wxm_answer_header(a, "Wechatpay-Signature", sig);
    }
    free(sig);
    Wxm_answer_header(a, "Wechatpay-Timestamp", ts);
    Wxm_answer_header(
        a, "Wechatpay-Serial",
        fault == WXM_STEP_UNKNOWN_SERIAL
            ? (Wxm_keys_mode(m) == WXM_MODE_PUBLIC_KEY ? UNKNOWN_PUBKEY_ID : UNKNOWN_CERT_SERIAL)
            : signer.serial);
    Wxm_answer_header(a, "Wechatpay-Signature-Type", WXP_AUTH_SCHEME);
}

void Wxm_api_answer(wxm_mock *m, wxm_answer *a, int status, cJSON *body, Wxm_step_action fault,
                    int64_t now)
{
    static const char gateway_html[] =
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n"
        "</body>\r\n</html>\r\n";
    char rid[48];

    request_id(m, rid);
    if (fault == WXM_STEP_GATEWAY_HTML) {
        cJSON_Delete(body);
        a->status = 502;
        Wxm_answer_header(a, "Content-Type", "text/html");
        Wxm_answer_body(a, gateway_html, sizeof(gateway_html) - 1);
        return;
    }
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    a->status = status;
    if (!text) { /* no body could be built, or printed */
        broken(a, "out of memory for the answer body");
        return;
    }
    Wxm_answer_header(a, "Content-Type", "application/json; charset=utf-8");
    Wxm_answer_header(a, "Request-ID", rid);
    if (fault == WXM_STEP_MALFORMED_BODY) {
        /* Cut in the middle of the JSON, but signed: verification passes,
         * parsing must fail. */
        text[strlen(text) / 2] = '\0';
    }
    Wxm_answer_body(a, text, strlen(text));
    cJSON_free(text);
    if (fault == WXM_STEP_UNSIGNED || m->cfg->no_sign || a->broken)
        return;
    sign(m, a, fault, now);
}

void Wxm_api_answer_empty(wxm_mock *m, wxm_answer *a, int status, int64_t now)
{
    char rid[48];
    request_id(m, rid);
    a->status = status;
    Wxm_answer_header(a, "Request-ID", rid);
    if (!m->cfg->no_sign && !a->broken)
        sign(m, a, WXM_STEP_OK, now);
}

void Wxm_answer_code(wxm_answer *a, Wxm_json *entry, const char *code)
{
    Wxm_json_cstring(entry, "code", code);
    if (!a->broken)
        snprintf(a->code, sizeof(a->code), "%s", code);
}
