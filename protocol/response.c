/* response.c: checking a signed WeChat Pay answer (docs/protocol.md section 3).
 * The order of checks is the SDKs': headers, type, time window, key, then
 * the signature itself, so the cheapest and most telling failure wins. */
#include "wxp_int.h"

#include <stdio.h>
#include <stdlib.h>

static const wxp_key *ring_find(const void *ring, wxp_span serial)
{
    return wxp_keyring_find(ring, serial);
}

wxp_err wxp_response_verify(const wxp_keyring *ring, const wxp_response_headers *h, wxp_span body,
                            int64_t now, int64_t max_skew, wxp_diag *diag)
{
    if (!ring)
        return WXP_ERR_ARG;
    return Wxp_response_verify_with(ring_find, ring, h, body, now, max_skew, diag);
}

wxp_err Wxp_response_verify_with(Wxp_key_finder find, const void *ctx,
                                 const wxp_response_headers *h, wxp_span body, int64_t now,
                                 int64_t max_skew, wxp_diag *diag)
{
    const struct {
        wxp_span v;
        const char *name;
    } required[] = {
        {h ? h->timestamp : (wxp_span){0}, "Wechatpay-Timestamp"},
        {h ? h->nonce : (wxp_span){0}, "Wechatpay-Nonce"},
        {h ? h->signature : (wxp_span){0}, "Wechatpay-Signature"},
        {h ? h->serial : (wxp_span){0}, "Wechatpay-Serial"},
    };
    const wxp_key *key;
    int64_t ts, diff;
    char q[80];
    char *msg;
    size_t len;
    wxp_err err;

    if (!find || !h || (!body.ptr && body.len))
        return WXP_ERR_ARG;
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!required[i].v.ptr || required[i].v.len == 0)
            return wxp_fail(diag, WXP_ERR_RESP_MISSING_HEADER, required[i].name,
                            "answer has no %s header: it is unsigned", required[i].name);
    if (h->signature_type.ptr && !wxp_span_eq(h->signature_type, WXP_AUTH_SCHEME)) {
        wxp_quote(q, sizeof(q), h->signature_type, 48);
        return wxp_fail(
            diag, WXP_ERR_RESP_SIGNATURE_TYPE, "Wechatpay-Signature-Type",
            "Wechatpay-Signature-Type is \"%s\"; only \"" WXP_AUTH_SCHEME "\" is supported", q);
    }
    if (!Wxp_parse_decimal(h->timestamp, &ts) || h->timestamp.len > 10) {
        wxp_quote(q, sizeof(q), h->timestamp, 48);
        return wxp_fail(diag, WXP_ERR_RESP_TIMESTAMP, "Wechatpay-Timestamp",
                        "Wechatpay-Timestamp \"%s\" is not Unix seconds", q);
    }
    if (max_skew <= 0)
        max_skew = WXP_DEFAULT_SKEW_SECONDS;
    diff = now > ts ? now - ts : ts - now;
    if (diff >= max_skew)
        return wxp_fail(diag, WXP_ERR_RESP_TIMESTAMP_SKEW, "Wechatpay-Timestamp",
                        "Wechatpay-Timestamp %lld is %lld s %s local time %lld; the window is "
                        "under %lld s",
                        (long long)ts, (long long)diff, ts < now ? "behind" : "ahead of",
                        (long long)now, (long long)max_skew);
    key = find(ctx, h->serial);
    if (!key) {
        wxp_quote(q, sizeof(q), h->serial, 64);
        return wxp_fail(diag, WXP_ERR_RESP_UNKNOWN_SERIAL, "Wechatpay-Serial",
                        "no verification key for Wechatpay-Serial \"%s\"; configure the "
                        "WeChat Pay public key or platform certificate with that id",
                        q);
    }
    err = wxp_response_message(h->timestamp, h->nonce, body, &msg, &len);
    if (err)
        return err;
    err = wxp_verify(key, msg, len, h->signature, diag);
    free(msg);
    if (err && diag)
        diag->field = "Wechatpay-Signature";
    return err;
}
