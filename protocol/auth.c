/* auth.c: the Authorization request header (docs/protocol.md section 2).
 *
 *   WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",timestamp="..",
 *                              serial_no="..",signature=".."
 *
 * Building uses the Go/Java field order; parsing accepts any order but is
 * otherwise strict, and names the field behind every rejection. */
#include "wxp_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { F_MCHID, F_NONCE, F_TIMESTAMP, F_SERIAL, F_SIGNATURE, F_COUNT };

static const struct {
    const char *name;
    size_t max; /* longest value accepted */
} fields[F_COUNT] = {
    [F_MCHID] = {"mchid", 32},         [F_NONCE] = {"nonce_str", 64},
    [F_TIMESTAMP] = {"timestamp", 32}, /* digits checked separately */
    [F_SERIAL] = {"serial_no", 64},    [F_SIGNATURE] = {"signature", WXP_AUTH_MAX_VALUE},
};

static wxp_span *slot(wxp_auth *a, int f)
{
    switch (f) {
    case F_MCHID: return &a->mchid;
    case F_NONCE: return &a->nonce_str;
    case F_TIMESTAMP: return &a->timestamp;
    case F_SERIAL: return &a->serial_no;
    default: return &a->signature;
    }
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

wxp_err wxp_auth_build(const wxp_auth *auth, char **out)
{
    char ts[24];
    wxp_auth a;

    if (!auth || !out)
        return WXP_ERR_ARG;
    a = *auth;
    if (a.timestamp.len == 0) {
        snprintf(ts, sizeof(ts), "%" PRId64, a.timestamp_value);
        a.timestamp = wxp_span_of(ts);
    }
    for (int f = 0; f < F_COUNT; f++) {
        wxp_span v = *slot(&a, f);
        if (!v.ptr || v.len == 0)
            return WXP_ERR_AUTH_EMPTY_VALUE;
        if (memchr(v.ptr, '"', v.len) || memchr(v.ptr, '\n', v.len))
            return WXP_ERR_AUTH_BAD_VALUE;
    }
    const wxp_span parts[] = {
        wxp_span_of(WXP_AUTH_SCHEME " mchid=\""),
        a.mchid,
        wxp_span_of("\",nonce_str=\""),
        a.nonce_str,
        wxp_span_of("\",timestamp=\""),
        a.timestamp,
        wxp_span_of("\",serial_no=\""),
        a.serial_no,
        wxp_span_of("\",signature=\""),
        a.signature,
        wxp_span_of("\""),
    };
    return Wxp_concat(parts, sizeof(parts) / sizeof(parts[0]), out, NULL);
}

static wxp_err check_value(int f, wxp_span v, wxp_auth *out, wxp_diag *diag)
{
    const char *name = fields[f].name;
    char q[80];

    if (v.len == 0)
        return wxp_fail(diag, WXP_ERR_AUTH_EMPTY_VALUE, name, "%s is empty", name);
    wxp_quote(q, sizeof(q), v, 48);
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c < 0x20 || c >= 0x7f || c == '\\')
            return wxp_fail(diag, WXP_ERR_AUTH_BAD_VALUE, name,
                            "%s holds byte 0x%02X at offset %zu; only printable ASCII is allowed",
                            name, c, i);
    }
    if (f == F_TIMESTAMP) {
        int64_t t;
        if (!Wxp_parse_decimal(v, &t))
            return wxp_fail(diag, WXP_ERR_AUTH_TIMESTAMP, name,
                            "timestamp \"%s\" is not decimal Unix seconds", q);
        if (v.len >= 13)
            return wxp_fail(diag, WXP_ERR_AUTH_TIMESTAMP_MS, name,
                            "timestamp \"%s\" has %zu digits: it looks like milliseconds; "
                            "send Unix seconds (10 digits)",
                            q, v.len);
        if (v.len > 10)
            return wxp_fail(diag, WXP_ERR_AUTH_TIMESTAMP, name,
                            "timestamp \"%s\" has %zu digits; Unix seconds have 10", q, v.len);
        out->timestamp_value = t;
        return WXP_OK;
    }
    if (v.len > fields[f].max)
        return wxp_fail(diag, WXP_ERR_AUTH_VALUE_TOO_LONG, name,
                        "%s is %zu characters; at most %zu are accepted", name, v.len,
                        fields[f].max);
    for (size_t i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        bool ok = f == F_MCHID    ? (c >= '0' && c <= '9')
                  : f == F_NONCE  ? is_alnum(c)
                  : f == F_SERIAL ? (is_alnum(c) || c == '_')
                                  : true; /* signature: verification judges it */
        if (!ok)
            return wxp_fail(diag, WXP_ERR_AUTH_BAD_VALUE, name,
                            "%s \"%s\" holds '%c' at offset %zu; allowed: %s", name, q, c, i,
                            f == F_MCHID   ? "digits"
                            : f == F_NONCE ? "[0-9A-Za-z]"
                                           : "[0-9A-Za-z_]");
    }
    return WXP_OK;
}

wxp_err wxp_auth_parse(wxp_span h, wxp_auth *out, wxp_diag *diag)
{
    const size_t sl = sizeof(WXP_AUTH_SCHEME) - 1;
    bool seen[F_COUNT] = {false};
    size_t p;
    char q[80];

    if ((!h.ptr && h.len) || !out)
        return WXP_ERR_ARG;
    memset(out, 0, sizeof(*out));

    /* Scheme, then exactly one space. */
    if (h.len < sl || memcmp(h.ptr, WXP_AUTH_SCHEME, sl) != 0) {
        size_t w = 0;
        while (w < h.len && h.ptr[w] != ' ' && h.ptr[w] != '=')
            w++;
        wxp_quote(q, sizeof(q), (wxp_span){h.ptr, w}, 40);
        if (h.len == 0)
            return wxp_fail(diag, WXP_ERR_AUTH_SCHEME, "scheme",
                            "Authorization is empty; expected \"" WXP_AUTH_SCHEME " mchid=...\"");
        if (w < h.len && h.ptr[w] == '=')
            return wxp_fail(diag, WXP_ERR_AUTH_SCHEME, "scheme",
                            "Authorization starts with a field; put \"" WXP_AUTH_SCHEME
                            " \" before the fields");
        if (w == sl && strncasecmp(h.ptr, WXP_AUTH_SCHEME, sl) == 0)
            return wxp_fail(
                diag, WXP_ERR_AUTH_SCHEME, "scheme",
                "scheme \"%s\" differs in letter case; it is exactly \"" WXP_AUTH_SCHEME "\"", q);
        return wxp_fail(diag, WXP_ERR_AUTH_SCHEME, "scheme",
                        "scheme \"%s\" is not \"" WXP_AUTH_SCHEME "\"", q);
    }
    if (h.len == sl || h.ptr[sl] != ' ')
        return wxp_fail(diag, WXP_ERR_AUTH_SCHEME, "scheme",
                        h.len == sl ? "no fields after the scheme"
                                    : "the scheme must be followed by one space");
    p = sl + 1;
    if (p < h.len && h.ptr[p] == ' ')
        return wxp_fail(diag, WXP_ERR_AUTH_SYNTAX, "scheme",
                        "more than one space after the scheme");

    for (;;) {
        size_t ks = p, vs;
        int f;

        while (p < h.len && ((h.ptr[p] >= 'a' && h.ptr[p] <= 'z') || h.ptr[p] == '_'))
            p++;
        wxp_span key = {h.ptr + ks, p - ks};
        if (key.len == 0 && ks < h.len && h.ptr[ks] == ' ' && ks > 0 && h.ptr[ks - 1] == ',')
            return wxp_fail(diag, WXP_ERR_AUTH_SYNTAX, "authorization",
                            "space after ',' at offset %zu; fields are joined by ',' alone", ks);
        if (key.len == 0) {
            wxp_quote(q, sizeof(q), (wxp_span){h.ptr + ks, h.len - ks}, 24);
            return wxp_fail(
                diag, WXP_ERR_AUTH_SYNTAX, "authorization",
                ks == h.len ? "Authorization ends where a field name was expected (trailing ',')"
                            : "expected a field name at offset %zu, found \"%s\"",
                ks, q);
        }
        for (f = 0; f < F_COUNT; f++)
            if (wxp_span_eq(key, fields[f].name))
                break;
        if (p >= h.len || h.ptr[p] != '=') {
            wxp_quote(q, sizeof(q), key, 40);
            return wxp_fail(diag, WXP_ERR_AUTH_SYNTAX,
                            f < F_COUNT ? fields[f].name : "authorization",
                            "field \"%s\" is not followed by '='", q);
        }
        if (f == F_COUNT) {
            wxp_quote(q, sizeof(q), key, 40);
            return wxp_fail(diag, WXP_ERR_AUTH_UNKNOWN_FIELD, "authorization",
                            "unknown field \"%s\"; the fields are mchid, nonce_str, timestamp, "
                            "serial_no, signature",
                            q);
        }
        if (seen[f])
            return wxp_fail(diag, WXP_ERR_AUTH_DUPLICATE_FIELD, fields[f].name, "%s appears twice",
                            fields[f].name);
        seen[f] = true;
        p++; /* '=' */
        if (p >= h.len || h.ptr[p] != '"')
            return wxp_fail(diag, WXP_ERR_AUTH_UNQUOTED, fields[f].name,
                            "%s value must be in double quotes: %s=\"...\"", fields[f].name,
                            fields[f].name);
        vs = ++p;
        while (p < h.len && h.ptr[p] != '"')
            p++;
        if (p >= h.len)
            return wxp_fail(diag, WXP_ERR_AUTH_UNTERMINATED, fields[f].name,
                            "%s value has no closing '\"'", fields[f].name);
        wxp_span v = {h.ptr + vs, p - vs};
        wxp_err err = check_value(f, v, out, diag);
        if (err)
            return err;
        *slot(out, f) = v;
        p++; /* closing quote */
        if (p == h.len)
            break;
        if (h.ptr[p] != ',') {
            wxp_quote(q, sizeof(q), (wxp_span){h.ptr + p, h.len - p}, 24);
            return wxp_fail(diag, WXP_ERR_AUTH_SYNTAX, fields[f].name,
                            "after %s expected ',' or the end, found \"%s\"%s", fields[f].name, q,
                            h.ptr[p] == ' ' ? " (no spaces between fields)" : "");
        }
        p++;
    }
    for (int f = 0; f < F_COUNT; f++)
        if (!seen[f])
            return wxp_fail(diag, WXP_ERR_AUTH_MISSING_FIELD, fields[f].name, "%s is missing",
                            fields[f].name);
    return WXP_OK;
}
