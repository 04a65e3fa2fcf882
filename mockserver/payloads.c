/* payloads.c: the JSON bodies and query parameters of the API endpoints,
 * read into the request's context field by field. Every refusal names the
 * field by its path ("payer.auth_code", "amount.total") and says what was
 * expected; fields the mock does not use are ignored, as the service does,
 * but one it uses in a wrong type is refused. */
#include "mock_int.h"
#include "wxp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string member `name` of obj into out[cap]: required or not; `min` and
 * `max` bytes; check (may be NULL) for the characters. */
static wxp_err str_field(const cJSON *obj, const char *name, const char *path, bool required,
                         size_t min, size_t max, wxp_err (*check)(wxp_span, wxp_diag *), char *out,
                         size_t cap, wxp_diag *d)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name), *it;
    size_t count = 0;
    out[0] = '\0';
    cJSON_ArrayForEach(it, obj) count += it->string && strcmp(it->string, name) == 0;
    if (count > 1)
        return wxp_fail(d, WXP_ERR_JSON_DUPLICATE_FIELD, path, "field \"%s\" appears %zu times",
                        path, count);
    if (!v)
        return required
                   ? wxp_fail(d, WXP_ERR_JSON_MISSING_FIELD, path, "field \"%s\" is missing", path)
                   : WXP_OK;
    if (!cJSON_IsString(v) || !v->valuestring)
        return wxp_fail(d, WXP_ERR_JSON_FIELD_TYPE, path, "field \"%s\" must be a string", path);
    size_t n = strlen(v->valuestring);
    if (n < min || n > max || n >= cap)
        return wxp_fail(d, WXP_ERR_FIELD_LENGTH, path,
                        "field \"%s\" has %zu bytes; it must have %zu to %zu", path, n, min, max);
    if (check) {
        wxp_err e = check(wxp_span_of(v->valuestring), d);
        if (e) {
            if (d)
                d->field = path;
            return e;
        }
    }
    memcpy(out, v->valuestring, n + 1);
    return WXP_OK;
}

/* An object member (required or not); NULL when absent or not an object
 * (then *err says which). */
static const cJSON *obj_field(const cJSON *obj, const char *name, const char *path, bool required,
                              wxp_err *err, wxp_diag *d)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *err = WXP_OK;
    if (!v) {
        if (required)
            *err = wxp_fail(d, WXP_ERR_JSON_MISSING_FIELD, path, "field \"%s\" is missing", path);
        return NULL;
    }
    if (!cJSON_IsObject(v)) {
        *err = wxp_fail(d, WXP_ERR_JSON_FIELD_TYPE, path, "field \"%s\" must be an object", path);
        return NULL;
    }
    return v;
}

static wxp_err digits_only(wxp_span v, wxp_diag *d)
{
    for (size_t i = 0; i < v.len; i++)
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return wxp_fail(d, WXP_ERR_FIELD_CHARSET, "", "only digits are allowed");
    return WXP_OK;
}

/* The mchid pair of a body: mchid, or sp_mchid and sub_mchid. */
static wxp_err merchants(Wxm_ctx *c, const cJSON *b, wxp_diag *d)
{
    if (!c->ep->partner)
        return str_field(b, "mchid", "mchid", true, 1, WXP_ID_MAX, wxp_check_mchid, c->mchid,
                         sizeof(c->mchid), d);
    wxp_err e = str_field(b, "sp_mchid", "sp_mchid", true, 1, WXP_ID_MAX, wxp_check_mchid,
                          c->sp_mchid, sizeof(c->sp_mchid), d);
    return e ? e
             : str_field(b, "sub_mchid", "sub_mchid", true, 1, WXP_ID_MAX, wxp_check_mchid,
                         c->mchid, sizeof(c->mchid), d);
}

/* The appid pair: appid (required), or sp_appid and sub_appid. */
static wxp_err appids(Wxm_ctx *c, const cJSON *b, bool sp_required, wxp_diag *d)
{
    if (!c->ep->partner)
        return str_field(b, "appid", "appid", true, 1, WXP_ID_MAX, wxp_check_appid, c->appid,
                         sizeof(c->appid), d);
    wxp_err e = str_field(b, "sp_appid", "sp_appid", sp_required, 1, WXP_ID_MAX, wxp_check_appid,
                          c->sp_appid, sizeof(c->sp_appid), d);
    return e ? e
             : str_field(b, "sub_appid", "sub_appid", false, 1, WXP_ID_MAX, wxp_check_appid,
                         c->appid, sizeof(c->appid), d);
}

static wxp_err codepay(Wxm_ctx *c, const cJSON *b, wxp_diag *d)
{
    wxp_err e;
    Wxm_codepay *p = &c->pay;
    char otn[WXP_ID_MAX + 1];
    if ((e = appids(c, b, true, d)) || (e = merchants(c, b, d)) ||
        (e = str_field(b, "description", "description", true, 1, 127, NULL, p->description,
                       sizeof(p->description), d)) ||
        (e = str_field(b, "out_trade_no", "out_trade_no", true, 6, 32, wxp_check_out_trade_no, otn,
                       sizeof(otn), d)) ||
        (e = str_field(b, "attach", "attach", false, 1, 128, NULL, p->attach, sizeof(p->attach),
                       d)))
        return e;
    memcpy(c->out_trade_no, otn, strlen(otn) + 1);
    c->out_trade_no_len = strlen(otn);
    const cJSON *payer = obj_field(b, "payer", "payer", true, &e, d);
    if (e || (e = str_field(payer, "auth_code", "payer.auth_code", true, 1, 23, digits_only,
                            p->auth_code, sizeof(p->auth_code), d)))
        return e;
    const cJSON *amount = obj_field(b, "amount", "amount", true, &e, d);
    if (e)
        return e;
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(amount, "total");
    if (!total)
        return wxp_fail(d, WXP_ERR_JSON_MISSING_FIELD, "amount.total",
                        "field \"amount.total\" is missing");
    if (!cJSON_IsNumber(total) || total->valuedouble < 1 || total->valuedouble > 1e11 ||
        total->valuedouble != (double)(int64_t)total->valuedouble)
        return wxp_fail(d, WXP_ERR_JSON_FIELD_TYPE, "amount.total",
                        "field \"amount.total\" must be a whole number of fen, at least 1");
    p->total = (int64_t)total->valuedouble;
    if ((e = str_field(amount, "currency", "amount.currency", false, 3, 3, NULL, p->currency,
                       sizeof(p->currency), d)))
        return e;
    if (p->currency[0] && strcmp(p->currency, "CNY") != 0)
        return wxp_fail(d, WXP_ERR_ARG, "amount.currency",
                        "amount.currency \"%s\" is not CNY, the only currency of code payment "
                        "in mainland China",
                        p->currency);
    const cJSON *scene = obj_field(b, "scene_info", "scene_info", true, &e, d);
    if (e)
        return e;
    if ((e = str_field(scene, "device_id", "scene_info.device_id", false, 1, 32, NULL, p->device_id,
                       sizeof(p->device_id), d)))
        return e;
    const cJSON *store = obj_field(scene, "store_info", "scene_info.store_info", true, &e, d);
    if (e)
        return e;
    char out_id[65];
    return str_field(store, "out_id", "scene_info.store_info.out_id", true, 1, 32, NULL, out_id,
                     sizeof(out_id), d);
}

wxp_err Wxm_read_body(Wxm_ctx *c, wxp_diag *d)
{
    cJSON *b = NULL;
    wxp_span body = {c->req->body.ptr ? c->req->body.ptr : "", c->req->body.len};
    wxp_err e = Wxp_json_object(body, &b, d);
    if (e)
        return e;
    switch (c->route) {
    case WXM_ROUTE_CODEPAY: e = codepay(c, b, d); break;
    case WXM_ROUTE_CLOSE: e = merchants(c, b, d); break;
    case WXM_ROUTE_REVERSE:
        e = appids(c, b, false, d);
        if (!e)
            e = merchants(c, b, d);
        break;
    default: break;
    }
    cJSON_Delete(b);
    return e;
}

/* NAME=value of the query into out, refusing NUL and overlong values. */
static wxp_err param(Wxm_ctx *c, const char *name, char *out, size_t cap, wxp_diag *d)
{
    Wxm_param got = Wxm_query_param(c->match.query, name, out, cap);
    if (got == WXM_PARAM_ABSENT)
        return wxp_fail(d, WXP_ERR_JSON_MISSING_FIELD, name, "the query needs %s=<digits>", name);
    if (got != WXM_PARAM_OK)
        return wxp_fail(d, WXP_ERR_ARG, name,
                        got == WXM_PARAM_NUL ? "%s in the query holds a NUL byte (%%00); it must "
                                               "be 1 to 32 digits"
                                             : "%s in the query is longer than 32 characters",
                        name);
    wxp_err e = wxp_check_mchid(wxp_span_of(out), d);
    if (e && d)
        d->field = name;
    return e;
}

wxp_err Wxm_read_query(Wxm_ctx *c, wxp_diag *d)
{
    if (!c->ep->partner)
        return param(c, "mchid", c->mchid, sizeof(c->mchid), d);
    wxp_err e = param(c, "sp_mchid", c->sp_mchid, sizeof(c->sp_mchid), d);
    return e ? e : param(c, "sub_mchid", c->mchid, sizeof(c->mchid), d);
}
