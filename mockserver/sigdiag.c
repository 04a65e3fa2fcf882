/* sigdiag.c: the message a request should have signed, and why a
 * signature that does not verify is wrong. The diagnosis tries the common
 * wrong messages (final newline left out, CRLF, query left out, host in the
 * URL, decoded URL, ...) and other keys, and names the first that matches. */
#include "mock_int.h"
#include "wxp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct candidate {
    const char *name;
    const char *explanation;
    wxp_span method, target, timestamp, nonce, body;
    const char *tail; /* "\n" normally */
    bool crlf;
} candidate;

static char *build(const candidate *k, size_t *len)
{
    const char *nl = k->crlf ? "\r\n" : "\n";
    wxp_span n = wxp_span_of(nl);
    wxp_span parts[] = {k->method, n,        k->target, n,       k->timestamp,
                        n,         k->nonce, n,         k->body, wxp_span_of(k->tail)};
    size_t total = 0;
    for (size_t i = 0; i < 10; i++)
        total += parts[i].len;
    char *buf = malloc(total + 1), *p = buf;
    if (!buf)
        return NULL;
    for (size_t i = 0; i < 10; i++) {
        if (parts[i].len)
            memcpy(p, parts[i].ptr, parts[i].len);
        p += parts[i].len;
    }
    *p = '\0';
    *len = total;
    return buf;
}

static bool try_candidate(const wxp_key *key, const candidate *k, wxp_span sig)
{
    size_t len;
    char *msg = build(k, &len);
    bool ok = msg && wxp_verify(key, msg, len, sig, NULL) == WXP_OK;
    free(msg);
    return ok;
}

/* Percent-decoded copy of a target (for "signed the decoded path"). */
static char *decoded(wxp_span t)
{
    char *out = malloc(t.len + 1);
    if (out)
        Wxp_percent_decode(t.ptr, t.len, out, t.len + 1);
    return out;
}

/* Tries the common wrong messages of docs/protocol.md section 4 and returns the
 * first whose signature matches, or NULL. `scratch` keeps built strings
 * alive until the caller is done. */
static const candidate *diagnose_signature(const Wxm_ctx *c, const candidate *right, wxp_span sig,
                                           candidate *k, char **scratch, size_t nscratch)
{
    const wxp_key *key = c->merchant->cert;
    const wxm_request *r = c->req;
    size_t si = 0;
    char ms_ts[32], lower[16];
    const wxm_header *host = Wxm_find_header(r, "Host", NULL);

#define TRY(NAME, EXPL, ...)                                                                       \
    do {                                                                                           \
        *k = *right;                                                                               \
        k->name = NAME;                                                                            \
        k->explanation = EXPL;                                                                     \
        __VA_ARGS__;                                                                               \
        if (try_candidate(key, k, sig))                                                            \
            return k;                                                                              \
    } while (0)

    TRY("final_newline_missing", "the signed message lacks the final \\n after the body",
        k->tail = "");
    TRY("crlf_line_endings", "the signed message uses \\r\\n; every line ends with \\n alone",
        k->crlf = true;
        k->tail = "\r\n");
    if (c->match.query.ptr)
        TRY("query_left_out",
            "the query string was left out of the signed URL; sign path?query "
            "exactly as sent",
            k->target = c->match.path);
    static const char *hosts[] = {"https://api.mch.weixin.qq.com",
                                  "https://api2.mch.weixin.qq.com"};
    for (size_t i = 0; i < 2 + (host ? 2 : 0) && si + 1 < nscratch; i++) {
        char *full = NULL;
        if (i < 2) {
            full = malloc(strlen(hosts[i]) + r->target.len + 1);
            if (full)
                snprintf(full, strlen(hosts[i]) + r->target.len + 1, "%s%.*s", hosts[i],
                         (int)r->target.len, r->target.ptr);
        } else {
            size_t n = host->value.len + r->target.len + 9;
            full = malloc(n);
            if (full)
                snprintf(full, n, "%s://%.*s%.*s", i == 2 ? "http" : "https", (int)host->value.len,
                         host->value.ptr, (int)r->target.len, r->target.ptr);
        }
        if (!full)
            break;
        scratch[si++] = full;
        TRY("host_in_url",
            "the scheme and host were included in the signed URL; sign only "
            "the path and query",
            k->target = wxp_span_of(full));
    }
    if (memchr(r->target.ptr, '%', r->target.len) && si < nscratch) {
        char *dec = decoded(r->target);
        if (dec) {
            scratch[si++] = dec;
            TRY("decoded_url_signed",
                "the percent-decoded URL was signed but the encoded one was "
                "sent; sign exactly the bytes of the request target",
                k->target = wxp_span_of(dec));
        }
    }
    snprintf(lower, sizeof(lower), "%.*s", (int)(r->method.len < 15 ? r->method.len : 15),
             r->method.ptr);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    TRY("method_lower_case", "the method was signed in lower case; sign it uppercase",
        k->method = wxp_span_of(lower));
    snprintf(ms_ts, sizeof(ms_ts), "%lld000", (long long)c->auth.timestamp_value);
    TRY("timestamp_in_milliseconds",
        "the message was signed with the timestamp in "
        "milliseconds; sign the same Unix seconds you send",
        k->timestamp = wxp_span_of(ms_ts));
    if (r->body.len) {
        TRY("body_left_out", "the body was left out of the signed message",
            k->body = wxp_span_of(""));
        cJSON *parsed = cJSON_ParseWithLength(r->body.ptr, r->body.len);
        if (parsed && si + 5 <= nscratch) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(parsed, "appid");
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(parsed, "mchid");
            char *forms[5] = {cJSON_PrintUnformatted(parsed), cJSON_Print(parsed), NULL, NULL,
                              NULL};
            if (cJSON_IsString(a) && cJSON_IsString(m)) {
                size_t n = strlen(a->valuestring) + strlen(m->valuestring) + 40;
                for (int f = 2; f < 5; f++)
                    forms[f] = malloc(n);
                if (forms[2])
                    snprintf(forms[2], n, "{\"appid\": \"%s\", \"mchid\": \"%s\"}", a->valuestring,
                             m->valuestring);
                if (forms[3])
                    snprintf(forms[3], n, "{\"mchid\":\"%s\",\"appid\":\"%s\"}", m->valuestring,
                             a->valuestring);
                if (forms[4])
                    snprintf(forms[4], n, "{\"mchid\": \"%s\", \"appid\": \"%s\"}", m->valuestring,
                             a->valuestring);
            }
            for (int f = 0; f < 5; f++)
                scratch[si++] = forms[f];
            cJSON_Delete(parsed);
            for (int f = 0; f < 5; f++)
                if (forms[f])
                    TRY("body_reserialized",
                        "the body was serialised again after signing (other "
                        "spacing or key order); sign the exact bytes you send",
                        k->body = wxp_span_of(forms[f]));
        } else {
            cJSON_Delete(parsed);
        }
    }
#undef TRY
    /* The right message, but a key other than this merchant's: another
     * merchant's, or the WeChat Pay key (only a test setup has it; compared
     * by signing the right message ourselves). */
    size_t len;
    char *msg = build(right, &len), *sig2 = NULL;
    const char *name = NULL, *why = NULL;
    for (size_t i = 0; msg && !name && i < c->m->cfg->nmerchants; i++) {
        const Wxm_merchant *other = &c->m->cfg->merchants[i];
        if (other != c->merchant && wxp_verify(other->cert, msg, len, sig, NULL) == WXP_OK) {
            name = "other_merchant_key";
            why = "signed with another merchant's private key; use the key of the certificate "
                  "named by serial_no";
        }
    }
    if (msg && !name && wxp_sign(c->m->cfg->wechatpay_key, msg, len, &sig2) == WXP_OK &&
        wxp_span_eq(sig, sig2)) {
        name = "wechatpay_key_used";
        why = "signed with the WeChat Pay key; requests are signed with the merchant's API "
              "private key";
    }
    free(msg);
    free(sig2);
    if (name) {
        *k = *right;
        k->name = name;
        k->explanation = why;
        return k;
    }
    return NULL;
}

static candidate right_message(const Wxm_ctx *c)
{
    const wxm_request *r = c->req;
    candidate right = {"",      "",   r->method, r->target, c->auth.timestamp, c->auth.nonce_str,
                       r->body, "\n", false};
    return right;
}

char *Wxm_signed_message(const Wxm_ctx *c, size_t *len)
{
    candidate right = right_message(c);
    return build(&right, len);
}

const char *Wxm_signature_diagnosis(const Wxm_ctx *c, wxp_err e, const char *msg, size_t len,
                                    cJSON *det)
{
    const wxm_request *r = c->req;
    candidate right = right_message(c);
    cJSON *si = cJSON_AddObjectToObject(det, "sign_information");
    Wxm_add_quoted(si, "method", r->method);
    Wxm_add_quoted(si, "url", r->target);
    cJSON_AddNumberToObject(si, "sign_message_length", (double)len);
    char trunc[200];
    wxp_quote(trunc, sizeof(trunc), (wxp_span){msg, len}, 120);
    cJSON_AddStringToObject(si, "truncated_sign_message", trunc);
    /* The full expected message, escaped so newlines are visible. */
    char *full = malloc(len * 4 + 8);
    if (full) {
        wxp_quote(full, len * 4 + 8, (wxp_span){msg, len}, len);
        cJSON_AddStringToObject(si, "expected_sign_message", full);
        free(full);
    }
    const char *mistake = NULL;
    if (e == WXP_ERR_SIGNATURE_MISMATCH) {
        candidate k;
        char *scratch[16] = {0};
        const candidate *hit = diagnose_signature(c, &right, c->auth.signature, &k, scratch, 16);
        if (hit) {
            cJSON *lm = cJSON_AddObjectToObject(det, "likely_mistake");
            cJSON_AddStringToObject(lm, "name", hit->name);
            cJSON_AddStringToObject(lm, "explanation", hit->explanation);
            mistake = hit->explanation;
        }
        for (size_t i = 0; i < 16; i++)
            free(scratch[i]);
    } else if (e == WXP_ERR_BASE64) {
        mistake = "the signature is not one line of standard Base64 (line breaks? URL-safe "
                  "alphabet?)";
    }
    return mistake;
}
