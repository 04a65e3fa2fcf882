/* template.c: path templates (docs/protocol.md section 4).
 *
 * Three jobs: expand "{name}" with percent-encoding, turn the SDK chain form
 * ("outTradeNo/_out_trade_no_") into a template, and match a raw request
 * target against a template. Matching is strict; when it fails, a second
 * pass tries the common client mistakes one by one and names the first that
 * explains the target, so the mock can say "you left {out_trade_no} in the
 * path" instead of "404". */
#include "wxp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SEGMENTS 32

typedef struct seg {
    const char *ptr;
    size_t len;
    bool param; /* template only: {name}, ptr/len is the name */
} seg;

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static bool is_escape(const char *p, size_t left)
{
    return left >= 3 && p[0] == '%' && Wxp_hexval(p[1]) >= 0 && Wxp_hexval(p[2]) >= 0;
}

/* ------------------------------------------------------------- expand */

static const wxp_param *find_param(const wxp_param *params, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (params[i].name && strlen(params[i].name) == len &&
            memcmp(params[i].name, name, len) == 0)
            return &params[i];
    return NULL;
}

wxp_err wxp_template_expand(const char *tmpl, const wxp_param *params, size_t nparams, char **out,
                            wxp_diag *diag)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t cap, o = 0;
    char *buf;

    if (!tmpl || !out || (!params && nparams))
        return WXP_ERR_ARG;
    /* Worst case: every value byte becomes %XX. */
    cap = strlen(tmpl) + 2;
    for (size_t i = 0; i < nparams; i++)
        if (params[i].value)
            cap += 3 * strlen(params[i].value);
    buf = malloc(cap);
    if (!buf)
        return WXP_ERR_NOMEM;
    if (tmpl[0] != '/')
        buf[o++] = '/';
    for (const char *p = tmpl; *p;) {
        if (*p == '}') {
            free(buf);
            return wxp_fail(diag, WXP_ERR_TEMPLATE_SYNTAX, "template",
                            "'}' without '{' at offset %zu of \"%s\"", (size_t)(p - tmpl), tmpl);
        }
        if (*p != '{') {
            buf[o++] = *p++;
            continue;
        }
        const char *end = strchr(p, '}');
        const char *open2 = strchr(p + 1, '{');
        if (!end || end == p + 1 || (open2 && open2 < end)) {
            free(buf);
            return wxp_fail(diag, WXP_ERR_TEMPLATE_SYNTAX, "template",
                            "unbalanced or empty '{...}' at offset %zu of \"%s\"",
                            (size_t)(p - tmpl), tmpl);
        }
        const wxp_param *prm = find_param(params, nparams, p + 1, (size_t)(end - p - 1));
        if (!prm || !prm->value || !*prm->value) {
            wxp_err e =
                wxp_fail(diag, WXP_ERR_TEMPLATE_PARAM, "template", "parameter {%.*s} has %s value",
                         (int)(end - p - 1), p + 1, prm && prm->value ? "an empty" : "no");
            free(buf);
            return e;
        }
        for (const unsigned char *v = (const unsigned char *)prm->value; *v; v++) {
            if (is_unreserved(*v)) {
                buf[o++] = (char)*v;
            } else {
                buf[o++] = '%';
                buf[o++] = hex[*v >> 4];
                buf[o++] = hex[*v & 15];
            }
        }
        p = end + 1;
    }
    buf[o] = '\0';
    *out = buf;
    return WXP_OK;
}

/* --------------------------------------------------------------- chain */

wxp_err wxp_chain_to_template(const char *chain, char **out, wxp_diag *diag)
{
    size_t n, o = 0;
    char *buf;

    if (!chain || !out)
        return WXP_ERR_ARG;
    n = strlen(chain);
    buf = malloc(2 * n + 1); /* each capital may gain a '-' */
    if (!buf)
        return WXP_ERR_NOMEM;
    for (size_t s = 0; s <= n;) {
        size_t e = s;
        while (e < n && chain[e] != '/')
            e++;
        size_t len = e - s;
        const char *sg = chain + s;
        if (len == 0 && !(s == 0 && n > 0 && chain[0] == '/')) {
            free(buf);
            return wxp_fail(diag, WXP_ERR_TEMPLATE_SYNTAX, "chain",
                            "empty segment at offset %zu of \"%s\"", s, chain);
        }
        if (len > 2 && sg[0] == '_' && sg[len - 1] == '_') {
            /* _out_trade_no_ -> {out_trade_no} */
            buf[o++] = '{';
            memcpy(buf + o, sg + 1, len - 2);
            o += len - 2;
            buf[o++] = '}';
        } else {
            for (size_t i = 0; i < len; i++) {
                char c = sg[i];
                if (c >= 'A' && c <= 'Z') {
                    if (i > 0)
                        buf[o++] = '-';
                    buf[o++] = (char)(c - 'A' + 'a');
                } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '.' || c == '_') {
                    buf[o++] = c;
                } else {
                    free(buf);
                    return wxp_fail(diag, WXP_ERR_TEMPLATE_SYNTAX, "chain",
                                    "character '%c' at offset %zu of \"%s\" cannot appear "
                                    "in a chain segment",
                                    c, s + i, chain);
                }
            }
        }
        if (e < n)
            buf[o++] = '/';
        s = e + 1;
    }
    buf[o] = '\0';
    *out = buf;
    return WXP_OK;
}

/* --------------------------------------------------------------- match */

/* Splits "a/b/c" at every '/'. Returns MAX_SEGMENTS + 1 when there are
 * more segments than that. */
static size_t split_segments(const char *s, size_t len, seg *segs)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '/') {
            if (n == MAX_SEGMENTS)
                return MAX_SEGMENTS + 1;
            segs[n].ptr = s + start;
            segs[n].len = i - start;
            segs[n].param = false;
            n++;
            start = i + 1;
        }
    }
    return n;
}

static wxp_err split_template(const char *tmpl, seg *segs, size_t *n, wxp_diag *diag)
{
    size_t len = strlen(tmpl);

    if (tmpl[0] == '/') { /* "/v3/..." and "v3/..." are the same template */
        tmpl++;
        len--;
    }
    if (len == 0)
        return wxp_fail(diag, WXP_ERR_TEMPLATE_SYNTAX, "template", "template is empty");
    *n = split_segments(tmpl, len, segs);
    if (*n > MAX_SEGMENTS)
        return wxp_fail(diag, WXP_ERR_TEMPLATE_SYNTAX, "template", "more than %d segments",
                        MAX_SEGMENTS);
    for (size_t i = 0; i < *n; i++) {
        seg *g = &segs[i];
        g->param = false;
        if (g->len >= 3 && g->ptr[0] == '{' && g->ptr[g->len - 1] == '}') {
            g->ptr++;
            g->len -= 2;
            g->param = true;
        }
        if (memchr(g->ptr, '{', g->len) || memchr(g->ptr, '}', g->len) ||
            memchr(g->ptr, '?', g->len) || g->len == 0)
            return wxp_fail(diag, WXP_ERR_TEMPLATE_SYNTAX, "template",
                            "template \"%s\": a {name} must fill a whole segment, and "
                            "segments cannot be empty or hold '?'",
                            tmpl);
    }
    return WXP_OK;
}

static bool seg_eq(const seg *a, const seg *b)
{
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

/* "out-trade-no" -> is "outTradeNo" its camelCase form? */
static bool is_camel_of(const seg *dash, const seg *got)
{
    size_t j = 0;
    bool upper_next = false, saw_dash = false;
    for (size_t i = 0; i < dash->len; i++) {
        char c = dash->ptr[i];
        if (c == '-') {
            upper_next = saw_dash = true;
            continue;
        }
        if (upper_next && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        upper_next = false;
        if (j >= got->len || got->ptr[j] != c)
            return false;
        j++;
    }
    return saw_dash && j == got->len;
}

/* Checks one parameter segment and decodes it into the match. */
static wxp_err take_param(const seg *name, const char *raw, size_t rawlen, wxp_match *m,
                          wxp_diag *diag)
{
    char q[96];
    wxp_span rs = {raw, rawlen};
    size_t o = 0;

    wxp_quote(q, sizeof(q), rs, 64);
    if (rawlen == 0)
        return wxp_fail(diag, WXP_ERR_PATH_EMPTY_PARAM, "uri_template",
                        "{%.*s} is empty in the path; it must hold the value", (int)name->len,
                        name->ptr);
    if (memchr(raw, '{', rawlen) || memchr(raw, '}', rawlen) ||
        (rawlen >= 3 && (strncasecmp(raw, "%7B", 3) == 0)))
        return wxp_fail(diag, WXP_ERR_PATH_UNEXPANDED, "uri_template",
                        "the path holds \"%s\" where the value of {%.*s} belongs: the "
                        "template was not expanded",
                        q, (int)name->len, name->ptr);
    if (rawlen == name->len + 2 && raw[0] == '_' && raw[rawlen - 1] == '_' &&
        memcmp(raw + 1, name->ptr, name->len) == 0)
        return wxp_fail(diag, WXP_ERR_PATH_UNEXPANDED, "uri_template",
                        "the path holds the chain placeholder \"%s\" where the value of "
                        "{%.*s} belongs: the chain was not expanded",
                        q, (int)name->len, name->ptr);
    for (size_t i = 0; i + 2 < rawlen; i++) {
        if (raw[i] != '%')
            continue;
        if (raw[i + 1] == '2' && raw[i + 2] == '5' && i + 4 < rawlen &&
            Wxp_hexval(raw[i + 3]) >= 0 && Wxp_hexval(raw[i + 4]) >= 0)
            return wxp_fail(diag, WXP_ERR_PATH_DOUBLE_ENCODED, "uri_template",
                            "{%.*s} \"%s\" holds \"%%25%.2s\", which decodes to \"%%%.2s\": the "
                            "value was percent-encoded twice; encode it once",
                            (int)name->len, name->ptr, q, raw + i + 3, raw + i + 3);
        if (raw[i + 1] == '2' && (raw[i + 2] == 'F' || raw[i + 2] == 'f'))
            return wxp_fail(diag, WXP_ERR_PATH_SLASH_IN_PARAM, "uri_template",
                            "{%.*s} \"%s\" holds an encoded slash (%%2F); an order number "
                            "cannot hold '/'",
                            (int)name->len, name->ptr, q);
    }
    if (m->nparams == WXP_MATCH_MAX_PARAMS)
        return WXP_ERR_TEMPLATE_SYNTAX;
    /* escapes were validated before: every '%' starts one */
    o = Wxp_percent_decode(raw, rawlen, m->params[m->nparams].value, sizeof(m->params[0].value));
    if (o > WXP_PARAM_MAX_LEN)
        return wxp_fail(diag, WXP_ERR_PATH_PARAM_TOO_LONG, "uri_template",
                        "{%.*s} is longer than %d bytes", (int)name->len, name->ptr,
                        WXP_PARAM_MAX_LEN);
    m->params[m->nparams].value_len = o;
    m->params[m->nparams].name = (wxp_span){name->ptr, name->len};
    m->params[m->nparams].raw = rs;
    m->nparams++;
    return WXP_OK;
}

/* Strict match of two segment lists; on failure *bad_seg is the first
 * segment that differs. */
static wxp_err match_segs(const seg *t, size_t nt, const seg *p, size_t np, wxp_match *m,
                          wxp_diag *diag, size_t *bad_seg)
{
    if (nt != np)
        return WXP_ERR_PATH_MISMATCH;
    m->nparams = 0;
    for (size_t i = 0; i < nt; i++) {
        if (t[i].param) {
            wxp_err e = take_param(&t[i], p[i].ptr, p[i].len, m, diag);
            if (e) {
                *bad_seg = i;
                return e;
            }
        } else if (!seg_eq(&t[i], &p[i])) {
            *bad_seg = i;
            return WXP_ERR_PATH_MISMATCH;
        }
    }
    return WXP_OK;
}

static void expected_path(const seg *t, size_t nt, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < nt && o + 4 < cap; i++) {
        int w =
            snprintf(out + o, cap - o, t[i].param ? "/{%.*s}" : "/%.*s", (int)t[i].len, t[i].ptr);
        if (w < 0)
            break;
        o += (size_t)w;
    }
    if (o >= cap)
        out[cap - 1] = '\0';
}

/* Tries the known mistakes in turn once the strict match has failed. */
static wxp_err diagnose(const char *tmpl, const seg *t, size_t nt, wxp_span path, const seg *p,
                        size_t np, wxp_match *m, wxp_diag *diag)
{
    char want[256], got[200], a[96], b[96];
    size_t bad = 0;
    wxp_diag scratch;
    (void)tmpl;

    expected_path(t, nt, want, sizeof(want));
    wxp_quote(got, sizeof(got), path, 160);

    /* Trailing slash: "/a/b/" matches once the last empty segment goes. */
    if (np == nt + 1 && p[np - 1].len == 0 && match_segs(t, nt, p, nt, m, &scratch, &bad) == WXP_OK)
        return wxp_fail(diag, WXP_ERR_PATH_TRAILING_SLASH, "path",
                        "path \"%s\" ends with '/'; expected \"%s\"", got, want);

    /* Same shape: the first differing segment says what is wrong. */
    if (np == nt) {
        wxp_err e = match_segs(t, nt, p, np, m, diag, &bad);
        if (e != WXP_ERR_PATH_MISMATCH)
            return e; /* a parameter check already explained it */
        wxp_quote(a, sizeof(a), (wxp_span){p[bad].ptr, p[bad].len}, 64);
        wxp_quote(b, sizeof(b), (wxp_span){t[bad].ptr, t[bad].len}, 64);
        if (is_camel_of(&t[bad], &p[bad]))
            return wxp_fail(diag, WXP_ERR_PATH_CAMEL_CASE, "path",
                            "segment %zu is \"%s\"; the chain segment must be turned into "
                            "dash-case \"%s\" (expected \"%s\")",
                            bad + 1, a, b, want);
    }

    /* Extra or missing leading segments around an otherwise right path. */
    for (size_t k = 1; k <= 3; k++) {
        if (np == nt + k && match_segs(t, nt, p + k, nt, m, &scratch, &bad) == WXP_OK) {
            wxp_quote(a, sizeof(a), (wxp_span){path.ptr, (size_t)(p[k].ptr - path.ptr) - 1}, 64);
            return wxp_fail(diag, WXP_ERR_PATH_PREFIX, "path",
                            "path \"%s\" has the extra prefix \"%s\"; expected \"%s\" (is the "
                            "base URL's path doubled or wrong?)",
                            got, a, want);
        }
        if (nt == np + k && match_segs(t + k, np, p, np, m, &scratch, &bad) == WXP_OK) {
            char miss[128];
            expected_path(t, k, miss, sizeof(miss));
            return wxp_fail(diag, WXP_ERR_PATH_PREFIX, "path",
                            "path \"%s\" lacks the prefix \"%s\"; expected \"%s\"", got, miss,
                            want);
        }
    }

    /* A raw '/' inside a parameter: the parameter took several segments. */
    if (np > nt) {
        size_t extra = np - nt;
        for (size_t j = 0; j < nt; j++) {
            if (!t[j].param)
                continue;
            if (match_segs(t, j, p, j, m, &scratch, &bad) != WXP_OK ||
                match_segs(t + j + 1, nt - j - 1, p + j + 1 + extra, nt - j - 1, m, &scratch,
                           &bad) != WXP_OK)
                continue;
            const char *s = p[j].ptr, *e = p[j + extra].ptr + p[j + extra].len;
            wxp_quote(a, sizeof(a), (wxp_span){s, (size_t)(e - s)}, 64);
            return wxp_fail(diag, WXP_ERR_PATH_SLASH_IN_PARAM, "uri_template",
                            "{%.*s} would be \"%s\", which holds a raw '/'; expected \"%s\"",
                            (int)t[j].len, t[j].ptr, a, want);
        }
    }

    if (np == nt)
        return wxp_fail(diag, WXP_ERR_PATH_MISMATCH, "path",
                        "segment %zu is \"%s\" but must be \"%s\"%s; expected \"%s\"", bad + 1, a,
                        b, strncasecmp(a, b, strlen(b) + 1) == 0 ? " (letter case differs)" : "",
                        want);
    return wxp_fail(diag, WXP_ERR_PATH_MISMATCH, "path",
                    "path \"%s\" has %zu segments; expected \"%s\" (%zu segments)", got,
                    np > MAX_SEGMENTS ? (size_t)MAX_SEGMENTS : np, want, nt);
}

wxp_err wxp_template_match(const char *tmpl, wxp_span target, wxp_match *m, wxp_diag *diag)
{
    seg t[MAX_SEGMENTS], p[MAX_SEGMENTS + 1];
    size_t nt = 0, np, bad = 0;
    char q[200];
    wxp_err err;

    if (!tmpl || !m || (!target.ptr && target.len))
        return WXP_ERR_ARG;
    memset(m, 0, sizeof(*m));
    err = split_template(tmpl, t, &nt, diag);
    if (err)
        return err;
    wxp_quote(q, sizeof(q), target, 160);
    if (target.len == 0)
        return wxp_fail(diag, WXP_ERR_PATH_MISMATCH, "path", "request target is empty");
    if ((target.len >= 7 && strncasecmp(target.ptr, "http://", 7) == 0) ||
        (target.len >= 8 && strncasecmp(target.ptr, "https://", 8) == 0) ||
        (target.len >= 2 && target.ptr[0] == '/' && target.ptr[1] == '/'))
        return wxp_fail(diag, WXP_ERR_PATH_ABSOLUTE, "path",
                        "request target \"%s\" includes the scheme or host; send and sign "
                        "only the path and query",
                        q);
    if (target.ptr[0] != '/')
        return wxp_fail(diag, WXP_ERR_PATH_MISMATCH, "path",
                        "request target \"%s\" does not start with '/'", q);

    m->path = target;
    const char *qm = memchr(target.ptr, '?', target.len);
    if (qm) {
        m->path.len = (size_t)(qm - target.ptr);
        m->query = (wxp_span){qm + 1, target.len - m->path.len - 1};
    }
    for (size_t i = 0; i < m->path.len; i++) {
        unsigned char c = (unsigned char)m->path.ptr[i];
        if (c == '%' && !is_escape(m->path.ptr + i, m->path.len - i))
            return wxp_fail(diag, WXP_ERR_PATH_BAD_ESCAPE, "path",
                            "'%%' at offset %zu of \"%s\" is not followed by two hex digits", i, q);
        if (c <= 0x20 || c >= 0x7f)
            return wxp_fail(diag, WXP_ERR_PATH_MISMATCH, "path",
                            "byte 0x%02X at offset %zu of \"%s\" must be percent-encoded", c, i, q);
    }
    np = split_segments(m->path.ptr + 1, m->path.len - 1, p);
    wxp_span path = m->path, query = m->query;
    if (np <= MAX_SEGMENTS && match_segs(t, nt, p, np, m, NULL, &bad) == WXP_OK)
        return WXP_OK;
    err = diagnose(tmpl, t, nt, path, p, np > MAX_SEGMENTS ? MAX_SEGMENTS : np, m, diag);
    /* Keep path/query meaningful for callers that log a failed match. */
    memset(m, 0, sizeof(*m));
    m->path = path;
    m->query = query;
    return err;
}
