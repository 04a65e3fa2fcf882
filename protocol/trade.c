/* trade.c: the bodies of the code-payment calls (docs/protocol.md section
 * 7): the codepay, close and partner reverse requests a client builds, and
 * the transaction (codepay and query answers) it reads back. Parsing goes
 * through Wxp_json_object (json.c), so the same strictness applies: one
 * object, no NUL, no field twice. */
#include "wxp_int.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compact JSON in a malloc'd buffer (the caller frees with free()). */
static char *print(cJSON *root)
{
    char *text = root ? cJSON_PrintUnformatted(root) : NULL, *copy = NULL;
    if (text) {
        size_t n = strlen(text) + 1;
        if ((copy = malloc(n)))
            memcpy(copy, text, n);
        cJSON_free(text);
    }
    cJSON_Delete(root);
    return copy;
}

/* Adds k: v when v is set; false when out of memory. */
static bool put(cJSON *o, const char *k, const char *v)
{
    return !v || !*v || cJSON_AddStringToObject(o, k, v) != NULL;
}

/* The ids of a body: appid/mchid, or sp_appid/sp_mchid/sub_appid/sub_mchid
 * when sub_mchid is set. */
static bool ids(cJSON *o, const wxp_party *p)
{
    if (p->sub_mchid && *p->sub_mchid)
        return put(o, "sp_appid", p->appid) && put(o, "sp_mchid", p->mchid) &&
               put(o, "sub_appid", p->sub_appid) && put(o, "sub_mchid", p->sub_mchid);
    return put(o, "appid", p->appid) && put(o, "mchid", p->mchid);
}

wxp_err wxp_codepay_request_build(const wxp_party *p, const wxp_codepay *c, char **out)
{
    if (!p || !c || !out || !p->mchid || !c->out_trade_no || !c->auth_code || !c->description)
        return WXP_ERR_ARG;
    cJSON *o = cJSON_CreateObject(), *payer = cJSON_CreateObject(), *amount = cJSON_CreateObject(),
          *scene = cJSON_CreateObject(), *store = cJSON_CreateObject();
    bool ok = o && payer && amount && scene && store && ids(o, p) &&
              put(o, "description", c->description) && put(o, "out_trade_no", c->out_trade_no) &&
              put(o, "attach", c->attach) && put(payer, "auth_code", c->auth_code) &&
              cJSON_AddNumberToObject(amount, "total", (double)c->total) &&
              put(amount, "currency", "CNY") && put(scene, "device_id", c->device_id) &&
              put(store, "out_id", c->store_id && *c->store_id ? c->store_id : "0");
    if (ok && cJSON_AddItemToObject(o, "payer", payer)) {
        payer = NULL;
        ok = cJSON_AddItemToObject(o, "amount", amount);
        amount = ok ? NULL : amount;
        ok = ok && cJSON_AddItemToObject(scene, "store_info", store);
        store = ok ? NULL : store;
        ok = ok && cJSON_AddItemToObject(o, "scene_info", scene);
        scene = ok ? NULL : scene;
    } else {
        ok = false;
    }
    cJSON_Delete(payer);
    cJSON_Delete(amount);
    cJSON_Delete(scene);
    cJSON_Delete(store);
    if (!ok) {
        cJSON_Delete(o);
        return WXP_ERR_NOMEM;
    }
    return (*out = print(o)) ? WXP_OK : WXP_ERR_NOMEM;
}

wxp_err wxp_ids_request_build(const wxp_party *p, bool with_appids, char **out)
{
    if (!p || !out || !p->mchid)
        return WXP_ERR_ARG;
    wxp_party q = *p;
    if (!with_appids)
        q.appid = q.sub_appid = NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o || !ids(o, &q)) {
        cJSON_Delete(o);
        return WXP_ERR_NOMEM;
    }
    return (*out = print(o)) ? WXP_OK : WXP_ERR_NOMEM;
}

/* Copies string member `name` into out[cap] when present; a wrong type or
 * an overlong value is an error naming it; required: absent too. */
static wxp_err field(const cJSON *o, const char *name, bool required, char *out, size_t cap,
                     wxp_diag *d)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    out[0] = '\0';
    if (!v)
        return required
                   ? wxp_fail(d, WXP_ERR_JSON_MISSING_FIELD, name, "field \"%s\" is missing", name)
                   : WXP_OK;
    if (!cJSON_IsString(v) || !v->valuestring)
        return wxp_fail(d, WXP_ERR_JSON_FIELD_TYPE, name, "field \"%s\" must be a string", name);
    if (strlen(v->valuestring) >= cap)
        return wxp_fail(d, WXP_ERR_JSON_FIELD_TOO_LONG, name,
                        "field \"%s\" has %zu bytes; at most %zu are allowed", name,
                        strlen(v->valuestring), cap - 1);
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return WXP_OK;
}

static wxp_err read_ids(const cJSON *o, wxp_transaction *t, wxp_diag *d)
{
    wxp_err e;
    bool partner = cJSON_GetObjectItemCaseSensitive(o, "sp_mchid") != NULL;
    if ((e = field(o, "out_trade_no", true, t->out_trade_no, sizeof(t->out_trade_no), d)))
        return e;
    if (partner)
        return (e = field(o, "sp_mchid", true, t->sp_mchid, sizeof(t->sp_mchid), d)) ||
                       (e = field(o, "sub_mchid", true, t->mchid, sizeof(t->mchid), d)) ||
                       (e = field(o, "sp_appid", false, t->sp_appid, sizeof(t->sp_appid), d))
                   ? e
                   : field(o, "sub_appid", false, t->appid, sizeof(t->appid), d);
    return (e = field(o, "mchid", true, t->mchid, sizeof(t->mchid), d))
               ? e
               : field(o, "appid", false, t->appid, sizeof(t->appid), d);
}

wxp_err wxp_transaction_parse(wxp_span body, wxp_transaction *t, wxp_diag *d)
{
    cJSON *o = NULL;
    if (!t)
        return WXP_ERR_ARG;
    memset(t, 0, sizeof(*t));
    wxp_err e = Wxp_json_object(body, &o, d);
    if (!e)
        e = read_ids(o, t, d);
    if (!e)
        e = field(o, "trade_state", true, t->trade_state, sizeof(t->trade_state), d);
    if (!e)
        e = field(o, "transaction_id", false, t->transaction_id, sizeof(t->transaction_id), d);
    if (!e)
        e = field(o, "trade_type", false, t->trade_type, sizeof(t->trade_type), d);
    if (!e) {
        const cJSON *desc = cJSON_GetObjectItemCaseSensitive(o, "trade_state_desc");
        if (cJSON_IsString(desc))
            snprintf(t->trade_state_desc, sizeof(t->trade_state_desc), "%s", desc->valuestring);
        const cJSON *total = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(o, "amount"), "total");
        if (cJSON_IsNumber(total) && total->valuedouble >= 0 && total->valuedouble < 1e15)
            t->total = (int64_t)total->valuedouble;
    }
    cJSON_Delete(o);
    if (e)
        memset(t, 0, sizeof(*t));
    return e;
}

wxp_err wxp_partner_reverse_response_parse(wxp_span body, wxp_transaction *t, wxp_diag *d)
{
    cJSON *o = NULL;
    if (!t)
        return WXP_ERR_ARG;
    memset(t, 0, sizeof(*t));
    wxp_err e = Wxp_json_object(body, &o, d);
    if (!e && !cJSON_GetObjectItemCaseSensitive(o, "sp_mchid"))
        e = wxp_fail(d, WXP_ERR_JSON_MISSING_FIELD, "sp_mchid", "field \"sp_mchid\" is missing");
    if (!e)
        e = read_ids(o, t, d);
    if (!e && cJSON_GetObjectItemCaseSensitive(o, "trade_state"))
        e = wxp_fail(d, WXP_ERR_JSON_WRONG_ANSWER, "trade_state",
                     "the answer holds trade_state: it is a transaction (what a query "
                     "answers), not a reverse answer; the order was not reversed by it");
    cJSON_Delete(o);
    if (e)
        memset(t, 0, sizeof(*t));
    return e;
}
