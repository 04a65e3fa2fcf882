/* util.c: error names, diagnostics and small span helpers. */
#include "wxp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A switch without default: a new code without a message breaks the
 * -Wall -Werror build (as curl_easy_strerror does). */
const char *wxp_strerror(wxp_err err)
{
    switch (err) {
    case WXP_OK: return "no error";
    case WXP_ERR_NOMEM: return "out of memory";
    case WXP_ERR_ARG: return "invalid argument";
    case WXP_ERR_IO: return "file could not be read";
    case WXP_ERR_KEY_PARSE: return "not a PEM key or certificate of the expected kind";
    case WXP_ERR_KEY_TYPE: return "key is not RSA";
    case WXP_ERR_KEY_SIZE: return "RSA key shorter than 2048 bits";
    case WXP_ERR_KEY_MISMATCH: return "keys do not belong together";
    case WXP_ERR_CRYPTO: return "OpenSSL operation failed";
    case WXP_ERR_BASE64: return "signature is not valid Base64";
    case WXP_ERR_SIGNTEST_PROBE: return "WECHATPAY/SIGNTEST/ probe signature";
    case WXP_ERR_SIGNATURE_LENGTH: return "signature has the wrong length for the key";
    case WXP_ERR_SIGNATURE_MISMATCH: return "signature does not verify";
    case WXP_ERR_AUTH_SCHEME: return "Authorization scheme missing or wrong";
    case WXP_ERR_AUTH_SYNTAX: return "Authorization is not key=\"value\" pairs";
    case WXP_ERR_AUTH_UNQUOTED: return "Authorization value not quoted";
    case WXP_ERR_AUTH_UNTERMINATED: return "Authorization value missing its closing quote";
    case WXP_ERR_AUTH_UNKNOWN_FIELD: return "Authorization has an unknown field";
    case WXP_ERR_AUTH_DUPLICATE_FIELD: return "Authorization repeats a field";
    case WXP_ERR_AUTH_MISSING_FIELD: return "Authorization lacks a field";
    case WXP_ERR_AUTH_EMPTY_VALUE: return "Authorization field is empty";
    case WXP_ERR_AUTH_VALUE_TOO_LONG: return "Authorization field is too long";
    case WXP_ERR_AUTH_BAD_VALUE: return "Authorization field has a character not allowed there";
    case WXP_ERR_AUTH_TIMESTAMP: return "Authorization timestamp is not Unix seconds";
    case WXP_ERR_AUTH_TIMESTAMP_MS: return "Authorization timestamp is in milliseconds";
    case WXP_ERR_RESP_MISSING_HEADER: return "response signature header missing";
    case WXP_ERR_RESP_SIGNATURE_TYPE: return "response signature type not supported";
    case WXP_ERR_RESP_TIMESTAMP: return "response timestamp is not Unix seconds";
    case WXP_ERR_RESP_TIMESTAMP_SKEW: return "response timestamp too far from local time";
    case WXP_ERR_RESP_UNKNOWN_SERIAL: return "no key for the response's Wechatpay-Serial";
    case WXP_ERR_TEMPLATE_SYNTAX: return "malformed path template";
    case WXP_ERR_TEMPLATE_PARAM: return "path template parameter has no value";
    case WXP_ERR_PATH_ABSOLUTE: return "request target includes scheme or host";
    case WXP_ERR_PATH_PREFIX: return "request path has a wrong prefix";
    case WXP_ERR_PATH_MISMATCH: return "request path does not match the template";
    case WXP_ERR_PATH_TRAILING_SLASH: return "request path has a trailing slash";
    case WXP_ERR_PATH_CAMEL_CASE: return "request path has a camelCase segment";
    case WXP_ERR_PATH_UNEXPANDED: return "request path has an unexpanded placeholder";
    case WXP_ERR_PATH_EMPTY_PARAM: return "request path parameter is empty";
    case WXP_ERR_PATH_DOUBLE_ENCODED: return "request path parameter is percent-encoded twice";
    case WXP_ERR_PATH_SLASH_IN_PARAM: return "request path parameter holds a slash";
    case WXP_ERR_PATH_BAD_ESCAPE: return "request path has a malformed percent escape";
    case WXP_ERR_PATH_PARAM_TOO_LONG: return "request path parameter is too long";
    case WXP_ERR_FIELD_LENGTH: return "field length out of range";
    case WXP_ERR_FIELD_CHARSET: return "field has a character not allowed";
    case WXP_ERR_JSON_SYNTAX: return "body is not valid JSON";
    case WXP_ERR_JSON_NOT_OBJECT: return "body is not a JSON object";
    case WXP_ERR_JSON_MISSING_FIELD: return "JSON field missing";
    case WXP_ERR_JSON_FIELD_TYPE: return "JSON field has the wrong type";
    case WXP_ERR_JSON_FIELD_TOO_LONG: return "JSON field is too long";
    case WXP_ERR_JSON_DUPLICATE_FIELD: return "JSON field appears twice";
    case WXP_ERR_JSON_WRONG_ANSWER: return "JSON is another call's answer";
    case WXP_ERR_AEAD_KEY: return "APIv3 key is not 32 bytes";
    case WXP_ERR_AEAD_FORMAT: return "sealed text is malformed";
    case WXP_ERR_AEAD_TAG: return "AES-256-GCM authentication failed";
    case WXP_ERR_CERT_LIST: return "certificate list is not as the service sends it";
    }
    return "unknown error";
}

wxp_err wxp_fail(wxp_diag *diag, wxp_err err, const char *field, const char *fmt, ...)
{
    if (diag) {
        va_list ap;
        diag->field = field ? field : "";
        va_start(ap, fmt);
        vsnprintf(diag->text, sizeof(diag->text), fmt, ap);
        va_end(ap);
    }
    return err;
}

void wxp_quote(char *out, size_t cap, wxp_span s, size_t max)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    size_t i;

    if (cap == 0)
        return;
    for (i = 0; i < s.len && i < max; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        char named = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 0;
        size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : named ? 2 : 4;
        if (o + need + 4 > cap) /* keep room for "..." and NUL */
            break;
        if (need == 1) {
            out[o++] = (char)c;
        } else if (named) {
            out[o++] = '\\';
            out[o++] = named;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (i < s.len && o + 4 <= cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

wxp_span wxp_span_of(const char *s)
{
    wxp_span sp = {s, s ? strlen(s) : 0};
    return sp;
}

int wxp_span_eq(wxp_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && (n == 0 || memcmp(s.ptr, lit, n) == 0);
}

bool Wxp_parse_decimal(wxp_span s, int64_t *out)
{
    int64_t v = 0;
    if (s.len == 0 || s.len > 18)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
        v = v * 10 + (s.ptr[i] - '0');
    }
    *out = v;
    return true;
}

wxp_err Wxp_concat(const wxp_span *parts, size_t n, char **out, size_t *out_len)
{
    size_t total = 0, o = 0;
    char *buf;

    for (size_t i = 0; i < n; i++) {
        if (parts[i].len > SIZE_MAX - total - 1)
            return WXP_ERR_ARG;
        total += parts[i].len;
    }
    buf = malloc(total + 1);
    if (!buf)
        return WXP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len)
            memcpy(buf + o, parts[i].ptr, parts[i].len);
        o += parts[i].len;
    }
    buf[o] = '\0';
    *out = buf;
    if (out_len)
        *out_len = o;
    return WXP_OK;
}

char *Wxp_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int Wxp_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

size_t Wxp_percent_decode(const char *t, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++, o++) {
        char c = t[i];
        if (c == '%' && i + 2 < len && Wxp_hexval(t[i + 1]) >= 0 && Wxp_hexval(t[i + 2]) >= 0) {
            c = (char)(Wxp_hexval(t[i + 1]) * 16 + Wxp_hexval(t[i + 2]));
            i += 2;
        }
        if (o + 1 < cap)
            out[o] = c;
    }
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
    return o;
}
