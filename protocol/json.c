/* json.c: the JSON bodies of the reverse call, behind small helpers so that
 * cJSON stays in this one file. Parsers need an object, name the missing or
 * mistyped field, and ignore fields they do not know (the API may add some).
 */
#include "wxp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* --------------------------------------------------- syntax, no memory */

/* A recursive-descent check of RFC 8259 syntax that allocates nothing, so
 * that a parse cJSON gave up on can be told apart: bad text, or no memory.
 * As strict as cJSON where cJSON is strict (surrogate pairs, nesting). */
typedef struct scan {
    const char *p, *end;
    int depth;
    wxp_span key;     /* the member name last read */
    wxp_span nul_key; /* the member whose string holds a \u0000, if any */
} scan;

#define MAX_DEPTH 1000 /* cJSON's CJSON_NESTING_LIMIT */

static void skip_ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
        s->p++;
}

static bool lit(scan *s, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

static bool hex4(scan *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        if (s->p >= s->end || Wxp_hexval(*s->p) < 0)
            return false;
        v = v * 16 + (unsigned)Wxp_hexval(*s->p++);
    }
    *out = v;
    return true;
}

static bool string(scan *s)
{
    s->p++; /* the opening quote */
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p++;
        if (c == '"')
            return true;
        if (c < 0x20)
            return false;
        if (c != '\\')
            continue;
        if (s->p >= s->end)
            return false;
        c = (unsigned char)*s->p++;
        if (c == 'u') {
            unsigned u, lo;
            if (!hex4(s, &u))
                return false;
            if (u == 0 && !s->nul_key.ptr) /* cJSON would end the string there */
                s->nul_key = s->key.ptr ? s->key : wxp_span_of("(top)");
            if (u >= 0xDC00 && u <= 0xDFFF)
                return false; /* a lone low surrogate */
            if (u >= 0xD800 && u <= 0xDBFF &&
                !(lit(s, "\\u") && hex4(s, &lo) && lo >= 0xDC00 && lo <= 0xDFFF))
                return false;
        } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
            return false;
        }
    }
    return false;
}

static bool number(scan *s)
{
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (s->p >= s->end || *s->p < '0' || *s->p > '9')
        return false;
    if (*s->p == '0')
        s->p++;
    else
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (s->p >= s->end || *s->p < '0' || *s->p > '9')
            return false;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (s->p >= s->end || *s->p < '0' || *s->p > '9')
            return false;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    }
    return true;
}

static bool value(scan *s);

/* An object or array: items (key: value pairs for objects) until `close`. */
static bool container(scan *s, char close)
{
    if (++s->depth > MAX_DEPTH)
        return false;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        skip_ws(s);
        if (close == '}') {
            const char *k = s->p + 1;
            if (s->p >= s->end || *s->p != '"' || !string(s))
                return false;
            s->key = (wxp_span){k, (size_t)(s->p - 1 - k)};
            skip_ws(s);
            if (s->p >= s->end || *s->p++ != ':')
                return false;
        }
        if (!value(s))
            return false;
        skip_ws(s);
        if (s->p >= s->end)
            return false;
        char c = *s->p++;
        if (c == close) {
            s->depth--;
            return true;
        }
        if (c != ',')
            return false;
    }
}

static bool value(scan *s)
{
    skip_ws(s);
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
    case '{': return container(s, '}');
    case '[': return container(s, ']');
    case '"': return string(s);
    case 't': return lit(s, "true");
    case 'f': return lit(s, "false");
    case 'n': return lit(s, "null");
    default: return number(s);
    }
}

bool Wxp_json_valid(const char *text, size_t len)
{
    scan s = {text, text + len, 0, {NULL, 0}, {NULL, 0}};
    if (!text || !value(&s))
        return false;
    skip_ws(&s);
    return s.p == s.end;
}

/* ------------------------------------------------------------ parsing */

/* cJSON wants NUL-terminated text; a NUL inside the body is a syntax error
 * rather than a silent cut. */
static wxp_err parse_object(wxp_span body, cJSON **out, wxp_diag *diag)
{
    const char *end = NULL;
    cJSON *root;

    if (!body.ptr && body.len)
        return WXP_ERR_ARG;
    if (body.len == 0)
        return wxp_fail(diag, WXP_ERR_JSON_SYNTAX, "body", "body is empty; expected a JSON object");
    if (memchr(body.ptr, '\0', body.len))
        return wxp_fail(diag, WXP_ERR_JSON_SYNTAX, "body", "body holds a NUL byte");
    /* A "\u0000" in a string would end it early in cJSON's C strings: the
     * value before it would be taken for the whole. Refuse it, naming the
     * member. */
    scan sc = {body.ptr, body.ptr + body.len, 0, {NULL, 0}, {NULL, 0}};
    if (value(&sc) && sc.nul_key.ptr) {
        static const char *const known[] = {"appid", "mchid", "out_trade_no", "code", "message"};
        const char *field = "body";
        char q[64];
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (wxp_span_eq(sc.nul_key, known[i]))
                field = known[i];
        wxp_quote(q, sizeof(q), sc.nul_key, 40);
        return wxp_fail(diag, WXP_ERR_FIELD_CHARSET, field,
                        "\"%s\" holds \\u0000 (a NUL character), which no value may hold", q);
    }
    root = cJSON_ParseWithLengthOpts(body.ptr, body.len, &end, false);
    if (!root) {
        size_t at = end && end >= body.ptr ? (size_t)(end - body.ptr) : 0;
        if (Wxp_json_valid(body.ptr, body.len))
            return WXP_ERR_NOMEM; /* the text is fine: cJSON ran out of memory */
        return wxp_fail(diag, WXP_ERR_JSON_SYNTAX, "body",
                        "body is not valid JSON (error near byte %zu of %zu)", at, body.len);
    }
    /* Only whitespace may follow the value. */
    for (const char *p = end; p && p < body.ptr + body.len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            cJSON_Delete(root);
            return wxp_fail(diag, WXP_ERR_JSON_SYNTAX, "body",
                            "body has data after the JSON value at byte %zu",
                            (size_t)(p - body.ptr));
        }
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return wxp_fail(diag, WXP_ERR_JSON_NOT_OBJECT, "body", "body is JSON but not an object");
    }
    *out = root;
    return WXP_OK;
}

wxp_err Wxp_json_object(wxp_span body, struct cJSON **out, wxp_diag *diag)
{
    if (!out)
        return WXP_ERR_ARG;
    *out = NULL;
    return parse_object(body, out, diag);
}

/* Compact JSON of v in a malloc'd buffer: the header promises free(), and
 * cJSON's own allocator may be hooked. */
static char *print_malloc(const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v), *copy = NULL;
    if (text) {
        size_t n = strlen(text) + 1;
        copy = malloc(n);
        if (copy)
            memcpy(copy, text, n);
        cJSON_free(text);
    }
    return copy;
}

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    return "invalid";
}

/* Copies the string field `name` (case-sensitive) into out[cap]. A field
 * given twice is refused: parsers disagree on which one wins, and a signed
 * body must mean one thing. */
static wxp_err get_string(const cJSON *obj, const char *name, char *out, size_t cap, wxp_diag *diag)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    const cJSON *it;
    size_t n, count = 0;

    cJSON_ArrayForEach(it, obj) count += it->string && strcmp(it->string, name) == 0;
    if (count > 1)
        return wxp_fail(diag, WXP_ERR_JSON_DUPLICATE_FIELD, name, "field \"%s\" appears %zu times",
                        name, count);
    if (!v)
        return wxp_fail(diag, WXP_ERR_JSON_MISSING_FIELD, name, "field \"%s\" is missing", name);
    if (!cJSON_IsString(v) || !v->valuestring)
        return wxp_fail(diag, WXP_ERR_JSON_FIELD_TYPE, name,
                        "field \"%s\" is %s; expected a string", name, type_name(v));
    n = strlen(v->valuestring);
    if (n >= cap)
        return wxp_fail(diag, WXP_ERR_JSON_FIELD_TOO_LONG, name,
                        "field \"%s\" has %zu bytes; at most %zu are allowed", name, n, cap - 1);
    memcpy(out, v->valuestring, n + 1);
    return WXP_OK;
}

wxp_err wxp_reverse_request_build(const char *appid, const char *mchid, char **out)
{
    cJSON *root;
    char *text;

    if (!appid || !mchid || !out)
        return WXP_ERR_ARG;
    root = cJSON_CreateObject();
    if (!root || !cJSON_AddStringToObject(root, "appid", appid) ||
        !cJSON_AddStringToObject(root, "mchid", mchid)) {
        cJSON_Delete(root);
        return WXP_ERR_NOMEM;
    }
    text = print_malloc(root);
    cJSON_Delete(root);
    if (!text)
        return WXP_ERR_NOMEM;
    *out = text;
    return WXP_OK;
}

wxp_err wxp_reverse_request_parse(wxp_span body, wxp_reverse_request *out, wxp_diag *diag)
{
    cJSON *root = NULL;
    wxp_err err;

    if (!out)
        return WXP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    err = parse_object(body, &root, diag);
    if (!err)
        err = get_string(root, "appid", out->appid, sizeof(out->appid), diag);
    if (!err)
        err = get_string(root, "mchid", out->mchid, sizeof(out->mchid), diag);
    cJSON_Delete(root);
    return err;
}

wxp_err wxp_reverse_response_parse(wxp_span body, wxp_reverse_response *out, wxp_diag *diag)
{
    cJSON *root = NULL;
    wxp_err err;

    if (!out)
        return WXP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    err = parse_object(body, &root, diag);
    if (!err)
        err = get_string(root, "appid", out->appid, sizeof(out->appid), diag);
    if (!err)
        err = get_string(root, "mchid", out->mchid, sizeof(out->mchid), diag);
    if (!err)
        err = get_string(root, "out_trade_no", out->out_trade_no, sizeof(out->out_trade_no), diag);
    /* A genuine, signed query answer names the same order and merchant:
     * only its transaction fields tell it apart. */
    if (!err && cJSON_GetObjectItemCaseSensitive(root, "trade_state"))
        err = wxp_fail(diag, WXP_ERR_JSON_WRONG_ANSWER, "trade_state",
                       "the answer holds trade_state: it is a transaction (what a query "
                       "answers), not a reverse answer; the order was not reversed by it");
    cJSON_Delete(root);
    return err;
}

wxp_err wxp_error_body_parse(wxp_span body, wxp_error_body *out, wxp_diag *diag)
{
    cJSON *root = NULL;
    const cJSON *msg, *detail;
    wxp_err err;

    if (!out)
        return WXP_ERR_ARG;
    memset(out, 0, sizeof(*out));
    err = parse_object(body, &root, diag);
    if (!err)
        err = get_string(root, "code", out->code, sizeof(out->code), diag);
    if (err) {
        cJSON_Delete(root);
        return err;
    }
    msg = cJSON_GetObjectItemCaseSensitive(root, "message");
    if (!msg)
        err = wxp_fail(diag, WXP_ERR_JSON_MISSING_FIELD, "message", "field \"message\" is missing");
    else if (!cJSON_IsString(msg) || !msg->valuestring)
        err = wxp_fail(diag, WXP_ERR_JSON_FIELD_TYPE, "message",
                       "field \"message\" is %s; expected a string", type_name(msg));
    else
        snprintf(out->message, sizeof(out->message), "%s", msg->valuestring);
    detail = cJSON_GetObjectItemCaseSensitive(root, "detail");
    if (!err && detail && !cJSON_IsNull(detail)) {
        if (!cJSON_IsObject(detail)) {
            err = wxp_fail(diag, WXP_ERR_JSON_FIELD_TYPE, "detail",
                           "field \"detail\" is %s; expected an object", type_name(detail));
        } else {
            out->detail = print_malloc(detail);
            if (!out->detail)
                err = WXP_ERR_NOMEM;
        }
    }
    cJSON_Delete(root);
    if (err) {
        wxp_error_body_clear(out);
        memset(out, 0, sizeof(*out));
    }
    return err;
}

void wxp_error_body_clear(wxp_error_body *eb)
{
    if (!eb)
        return;
    free(eb->detail);
    eb->detail = NULL;
}

/* ------------------------------------------- certificate list (section 6) */

/* A string field that is the field of `what` (for the message); out[cap]. */
static wxp_err entry_string(const cJSON *obj, const char *name, const char *path, char *out,
                            size_t cap, wxp_diag *diag)
{
    wxp_err e = get_string(obj, name, out, cap, diag);
    if (e && diag) {
        char pre[64];
        int n = snprintf(pre, sizeof(pre), "%.40s: ", path);
        size_t room = sizeof(diag->text) - 1 - (size_t)n, len = strnlen(diag->text, room);
        memmove(diag->text + n, diag->text, len);
        memcpy(diag->text, pre, (size_t)n);
        diag->text[(size_t)n + len] = '\0';
    }
    return e;
}

void Wxp_cert_entries_free(Wxp_cert_entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++) {
        free(e[i].ciphertext);
        e[i].ciphertext = NULL;
    }
}

wxp_err Wxp_cert_list_parse(wxp_span body, Wxp_cert_entry *out, size_t cap, size_t *n,
                            wxp_diag *diag)
{
    cJSON *root = NULL;
    wxp_err err = parse_object(body, &root, diag);
    char path[48];

    *n = 0;
    if (err)
        return err;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data"), *it;
    if (!cJSON_IsArray(data)) {
        err = wxp_fail(diag, data ? WXP_ERR_JSON_FIELD_TYPE : WXP_ERR_JSON_MISSING_FIELD, "data",
                       data ? "field \"data\" is %s; expected an array of certificates"
                            : "field \"data\" is missing%s",
                       data ? type_name(data) : "");
        goto done;
    }
    if (cJSON_GetArraySize(data) > (int)cap) {
        err = wxp_fail(diag, WXP_ERR_CERT_LIST, "data",
                       "the list holds %d certificates; at most %zu are taken",
                       cJSON_GetArraySize(data), cap);
        goto done;
    }
    cJSON_ArrayForEach(it, data)
    {
        Wxp_cert_entry *e = &out[*n];
        memset(e, 0, sizeof(*e));
        snprintf(path, sizeof(path), "data[%zu]", *n);
        if (!cJSON_IsObject(it)) {
            err = wxp_fail(diag, WXP_ERR_JSON_NOT_OBJECT, "data", "%s is %s; expected an object",
                           path, type_name(it));
            goto done;
        }
        const cJSON *enc = cJSON_GetObjectItemCaseSensitive(it, "encrypt_certificate");
        if ((err = entry_string(it, "serial_no", path, e->serial_no, sizeof(e->serial_no), diag)) ||
            (err = entry_string(it, "effective_time", path, e->effective_time,
                                sizeof(e->effective_time), diag)) ||
            (err = entry_string(it, "expire_time", path, e->expire_time, sizeof(e->expire_time),
                                diag)))
            goto done;
        snprintf(path, sizeof(path), "data[%zu].encrypt_certificate", *n);
        if (!cJSON_IsObject(enc)) {
            err = wxp_fail(diag, enc ? WXP_ERR_JSON_FIELD_TYPE : WXP_ERR_JSON_MISSING_FIELD,
                           "encrypt_certificate", "%s is %s; expected an object", path,
                           enc ? type_name(enc) : "missing");
            goto done;
        }
        if ((err =
                 entry_string(enc, "algorithm", path, e->algorithm, sizeof(e->algorithm), diag)) ||
            (err = entry_string(enc, "nonce", path, e->nonce, sizeof(e->nonce), diag)) ||
            (err = entry_string(enc, "associated_data", path, e->associated_data,
                                sizeof(e->associated_data), diag)))
            goto done;
        e->ciphertext = malloc(WXP_CERT_CIPHERTEXT_MAX + 1);
        (*n)++; /* from here the entry holds memory to free */
        if (!e->ciphertext) {
            err = WXP_ERR_NOMEM;
            goto done;
        }
        if ((err = entry_string(enc, "ciphertext", path, e->ciphertext, WXP_CERT_CIPHERTEXT_MAX + 1,
                                diag)))
            goto done;
    }
done:
    cJSON_Delete(root);
    if (err) {
        Wxp_cert_entries_free(out, *n);
        *n = 0;
    }
    return err;
}
