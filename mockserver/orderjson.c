/* orderjson.c: orders as the admin API shows them and as a PUT gives
 * them (docs/mock.md "Admin API"); unknown fields are refused, field by field. */
#include "mock_int.h"

#include <stdlib.h>
#include <string.h>

cJSON *Wxm_order_admin_json(const Wxm_order *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "out_trade_no", o->out_trade_no);
    cJSON_AddStringToObject(j, "mchid", o->mchid);
    cJSON_AddStringToObject(j, "appid", o->appid);
    cJSON_AddStringToObject(j, "transaction_id", o->transaction_id);
    if (o->sp_mchid[0]) {
        cJSON_AddStringToObject(j, "sp_mchid", o->sp_mchid);
        cJSON_AddStringToObject(j, "sp_appid", o->sp_appid);
    }
    cJSON_AddStringToObject(j, "trade_type", o->trade_type[0] ? o->trade_type : "MICROPAY");
    cJSON_AddStringToObject(j, "trade_state", Wxm_state_name(o->state));
    if (o->auth_code[0])
        cJSON_AddStringToObject(j, "auth_code", o->auth_code);
    if (o->success_time)
        cJSON_AddNumberToObject(j, "success_time", (double)o->success_time);
    if (o->pay_after_ms)
        cJSON_AddNumberToObject(j, "pay_after_ms", (double)o->pay_after_ms);
    if (o->state == WXM_USERPAYING)
        cJSON_AddStringToObject(j, "pay_result",
                                !o->pay_at_ms     ? "never"
                                : o->pay_succeeds ? "paid"
                                                  : "cancelled");
    cJSON_AddNumberToObject(j, "amount", (double)o->amount);
    cJSON_AddNumberToObject(j, "created_at", (double)o->created_at);
    cJSON_AddNumberToObject(j, "reverse_calls", o->reverse_calls);
    if (o->reversed_at)
        cJSON_AddNumberToObject(j, "reversed_at", (double)o->reversed_at);
    if (o->refunded) {
        cJSON *r = cJSON_AddObjectToObject(j, "refund");
        cJSON_AddStringToObject(r, "refund_id", o->refund_id);
        cJSON_AddNumberToObject(r, "amount", (double)o->refund_amount);
        cJSON_AddNumberToObject(r, "created_at", (double)o->refunded_at);
    } else {
        cJSON_AddNullToObject(j, "refund");
    }
    cJSON_AddItemToObject(j, "script", Wxm_script_json(o->script + o->pos, o->nsteps - o->pos));
    return j;
}

static wxp_err id_field(const cJSON *obj, const char *name, char *out, size_t cap,
                        wxp_err (*check)(wxp_span, wxp_diag *), wxp_diag *diag)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v)
        return WXP_OK;
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
        return wxp_fail(diag, WXP_ERR_ARG, name, "%s must be a string of at most %zu characters",
                        name, cap - 1);
    if (check) {
        wxp_err e = check(wxp_span_of(v->valuestring), diag);
        if (e)
            return e;
    }
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return WXP_OK;
}

wxp_err Wxm_order_from_json(const cJSON *obj, Wxm_order *o, wxp_diag *diag)
{
    static const char *known[] = {"trade_state", "amount",       "created_at", "age_seconds",
                                  "mchid",       "appid",        "sp_mchid",   "sp_appid",
                                  "trade_type",  "pay_after_ms", "pay_result", "transaction_id",
                                  "script"};
    /* What GET shows but only the mock sets: refused, not silently dropped. */
    static const char *read_only[] = {"out_trade_no", "refund",    "reverse_calls",
                                      "reversed_at",  "auth_code", "success_time"};
    const cJSON *it, *v;
    wxp_err err;

    if (!cJSON_IsObject(obj))
        return wxp_fail(diag, WXP_ERR_ARG, "body", "order must be a JSON object");
    cJSON_ArrayForEach(it, obj)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok |= strcmp(it->string, known[i]) == 0;
        for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
            if (strcmp(it->string, read_only[i]) == 0)
                return wxp_fail(diag, WXP_ERR_ARG, read_only[i],
                                "%s is read-only: the mock keeps it (the order number comes "
                                "from the path); leave it out of the PUT body",
                                read_only[i]);
        if (!ok)
            return wxp_fail(diag, WXP_ERR_ARG, "body",
                            "unknown field \"%s\" (known: trade_state, amount, created_at, "
                            "age_seconds, mchid, appid, sp_mchid, sp_appid, trade_type, "
                            "pay_after_ms, pay_result, transaction_id, script)",
                            it->string);
    }
    v = cJSON_GetObjectItemCaseSensitive(obj, "trade_state");
    if (!v)
        return wxp_fail(diag, WXP_ERR_ARG, "trade_state",
                        "trade_state is required: SUCCESS, REFUND, NOTPAY, CLOSED, REVOKED, "
                        "USERPAYING or PAYERROR");
    if (!cJSON_IsString(v) || !Wxm_state_parse(v->valuestring, &o->state))
        return wxp_fail(diag, WXP_ERR_ARG, "trade_state",
                        "trade_state must be one of SUCCESS, REFUND, NOTPAY, CLOSED, REVOKED, "
                        "USERPAYING, PAYERROR");
    v = cJSON_GetObjectItemCaseSensitive(obj, "amount");
    if (v) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e12 ||
            v->valuedouble != (double)(int64_t)v->valuedouble)
            return wxp_fail(diag, WXP_ERR_ARG, "amount",
                            "amount must be a whole number of fen from 1 to 1000000000000");
        o->amount = (int64_t)v->valuedouble;
    }
    v = cJSON_GetObjectItemCaseSensitive(obj, "created_at");
    if (v) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e11 ||
            v->valuedouble != (double)(int64_t)v->valuedouble)
            return wxp_fail(diag, WXP_ERR_ARG, "created_at",
                            "created_at must be whole Unix seconds from 0 to 100000000000");
        o->created_at = (int64_t)v->valuedouble;
    }
    v = cJSON_GetObjectItemCaseSensitive(obj, "age_seconds");
    if (v) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > (double)o->created_at ||
            v->valuedouble != (double)(int64_t)v->valuedouble)
            return wxp_fail(diag, WXP_ERR_ARG, "age_seconds",
                            "age_seconds must be whole seconds from 0 to %lld (older would be "
                            "before 1970)",
                            (long long)o->created_at);
        o->created_at -= (int64_t)v->valuedouble; /* relative to the default "now" */
    }
    if ((err = id_field(obj, "mchid", o->mchid, sizeof(o->mchid), wxp_check_mchid, diag)) ||
        (err = id_field(obj, "appid", o->appid, sizeof(o->appid), wxp_check_appid, diag)) ||
        (err = id_field(obj, "transaction_id", o->transaction_id, sizeof(o->transaction_id), NULL,
                        diag)))
        return err;
    if ((err =
             id_field(obj, "sp_mchid", o->sp_mchid, sizeof(o->sp_mchid), wxp_check_mchid, diag)) ||
        (err = id_field(obj, "sp_appid", o->sp_appid, sizeof(o->sp_appid), wxp_check_appid, diag)))
        return err;
    v = cJSON_GetObjectItemCaseSensitive(obj, "trade_type");
    if (v) {
        static const char *types[] = {"MICROPAY", "JSAPI", "NATIVE", "APP", "MWEB", "FACEPAY"};
        bool ok = false;
        for (size_t i = 0; cJSON_IsString(v) && i < sizeof(types) / sizeof(types[0]); i++)
            ok |= strcmp(v->valuestring, types[i]) == 0;
        if (!ok)
            return wxp_fail(diag, WXP_ERR_ARG, "trade_type",
                            "trade_type must be MICROPAY (code payment, the default), JSAPI, "
                            "NATIVE, APP, MWEB or FACEPAY");
        memcpy(o->trade_type, v->valuestring, strlen(v->valuestring) + 1);
    }
    v = cJSON_GetObjectItemCaseSensitive(obj, "pay_after_ms");
    if (v) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 86400000 ||
            v->valuedouble != (double)(int64_t)v->valuedouble)
            return wxp_fail(diag, WXP_ERR_ARG, "pay_after_ms",
                            "pay_after_ms must be whole milliseconds from 0 to 86400000");
        o->pay_after_ms = (int64_t)v->valuedouble;
    }
    o->pay_succeeds = true;
    v = cJSON_GetObjectItemCaseSensitive(obj, "pay_result");
    if (v) {
        if (!cJSON_IsString(v) ||
            (strcmp(v->valuestring, "paid") != 0 && strcmp(v->valuestring, "cancelled") != 0))
            return wxp_fail(diag, WXP_ERR_ARG, "pay_result",
                            "pay_result must be \"paid\" (the default) or \"cancelled\"");
        o->pay_succeeds = strcmp(v->valuestring, "paid") == 0;
    }
    v = cJSON_GetObjectItemCaseSensitive(obj, "script");
    o->nsteps = o->pos = 0;
    if (v && !cJSON_IsNull(v)) {
        Wxm_step *steps;
        size_t n;
        if ((err = Wxm_script_parse(v, WXM_SCRIPT_ORDER, &steps, &n, diag)))
            return err;
        memcpy(o->script, steps, n * sizeof(*steps));
        o->nsteps = n;
        free(steps);
    }
    return WXP_OK;
}
