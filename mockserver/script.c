/* script.c: scenario scripts, the steps an order plays one per reverse
 * call, or the certificate downloads one per download (docs/mock.md "Scenario
 * scripts"): names, defaults, JSON in and out. */
#include "mock_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const step_names[] = {
    [WXM_STEP_OK] = "ok",
    [WXM_STEP_SYSTEM_ERROR] = "system_error",
    [WXM_STEP_FREQUENCY_LIMITED] = "frequency_limited",
    [WXM_STEP_DELAY] = "delay",
    [WXM_STEP_HANG] = "hang",
    [WXM_STEP_DROP] = "drop",
    [WXM_STEP_BAD_SIGNATURE] = "bad_signature",
    [WXM_STEP_SIGNTEST] = "signtest",
    [WXM_STEP_UNSIGNED] = "unsigned",
    [WXM_STEP_SKEWED_TIMESTAMP] = "skewed_timestamp",
    [WXM_STEP_UNKNOWN_SERIAL] = "unknown_serial",
    [WXM_STEP_MALFORMED_BODY] = "malformed_body",
    [WXM_STEP_GATEWAY_HTML] = "gateway_html",
    [WXM_STEP_PARAM_ERROR] = "param_error",
    [WXM_STEP_QUERY_ANSWER] = "query_answer",
    [WXM_STEP_ROTATE_CERTIFICATE] = "rotate_certificate",
    [WXM_STEP_TAMPERED_CIPHERTEXT] = "tampered_ciphertext",
};

const char *Wxm_step_name(Wxm_step_action a)
{
    return (size_t)a < sizeof(step_names) / sizeof(step_names[0]) ? step_names[a] : "?";
}

/* Defaults: faults that corrupt only the answer still reverse the order;
 * the ones that stand for a failed call do not (nor does another call's
 * answer served in its place); a delay changes the state before it waits
 * (the ambiguous timeout). */
Wxm_step Wxm_step_default(Wxm_step_action a)
{
    Wxm_step st = {(uint8_t)a, true, false, 0};
    st.apply = !(a == WXM_STEP_SYSTEM_ERROR || a == WXM_STEP_FREQUENCY_LIMITED ||
                 a == WXM_STEP_GATEWAY_HTML || a == WXM_STEP_HANG || a == WXM_STEP_DROP ||
                 a == WXM_STEP_PARAM_ERROR || a == WXM_STEP_QUERY_ANSWER);
    st.apply_first = a == WXM_STEP_DELAY;
    return st;
}

static wxp_err step_fail(wxp_diag *diag, size_t i, const char *fmt, ...) WXM_PRINTF(3, 4);
static wxp_err step_fail(wxp_diag *diag, size_t i, const char *fmt, ...)
{
    if (diag) {
        va_list ap;
        diag->field = "script";
        int n = snprintf(diag->text, sizeof(diag->text), "script[%zu]: ", i);
        va_start(ap, fmt);
        if (n > 0 && (size_t)n < sizeof(diag->text))
            vsnprintf(diag->text + n, sizeof(diag->text) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return WXP_ERR_ARG;
}

wxp_err Wxm_script_parse(const cJSON *arr, Wxm_script_kind kind, Wxm_step **out, size_t *n,
                         wxp_diag *diag)
{
    size_t i = 0;
    const cJSON *s;
    Wxm_step *buf;

    if (!cJSON_IsArray(arr))
        return wxp_fail(diag, WXP_ERR_ARG, "script", "script must be an array of steps");
    if (cJSON_GetArraySize(arr) > WXM_MAX_SCRIPT)
        return wxp_fail(diag, WXP_ERR_ARG, "script", "script has more than %d steps",
                        WXM_MAX_SCRIPT);
    buf = calloc(WXM_MAX_SCRIPT, sizeof(*buf));
    if (!buf)
        return WXP_ERR_NOMEM;
    cJSON_ArrayForEach(s, arr)
    {
        const cJSON *action = cJSON_GetObjectItemCaseSensitive(s, "action");
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(s, "ms");
        const cJSON *apply = cJSON_GetObjectItemCaseSensitive(s, "apply");
        Wxm_step *st = &buf[i];
        size_t a;
        wxp_err err = WXP_OK;

        if (cJSON_IsString(s)) /* "system_error" is short for {"action":"system_error"} */
            action = s;
        else if (!cJSON_IsObject(s))
            err = step_fail(diag, i, "must be an object like {\"action\":\"system_error\"}");
        if (!err && (!cJSON_IsString(action) || !action->valuestring))
            err = step_fail(diag, i, "needs \"action\" as a string");
        for (a = 0; !err && a < sizeof(step_names) / sizeof(step_names[0]); a++)
            if (strcmp(action->valuestring, step_names[a]) == 0)
                break;
        if (!err && a == sizeof(step_names) / sizeof(step_names[0]))
            err =
                step_fail(diag, i, "unknown action \"%s\" (see docs/mock.md, \"Scenario scripts\")",
                          action->valuestring);
        else if (!err && kind == WXM_SCRIPT_ORDER && a == WXM_STEP_TAMPERED_CIPHERTEXT)
            err = step_fail(diag, i,
                            "tampered_ciphertext is a step of certificates_script (PUT "
                            "/__admin/wechatpay): an order's answers hold no sealed text");
        else if (!err && kind == WXM_SCRIPT_CERTIFICATES && a == WXM_STEP_QUERY_ANSWER)
            err = step_fail(diag, i,
                            "query_answer is a step of an order's script, not of "
                            "certificates_script");
        if (err) {
            free(buf);
            return err;
        }
        *st = Wxm_step_default((Wxm_step_action)a);
        if (ms) {
            if (!cJSON_IsNumber(ms) || ms->valuedouble < 0 || ms->valuedouble > 3600000) {
                free(buf);
                return step_fail(diag, i, "\"ms\" must be 0..3600000");
            }
            st->ms = (int32_t)ms->valuedouble;
        }
        if (apply) {
            /* "apply": "before" | "after" | "never" */
            const char *v = cJSON_IsString(apply) ? apply->valuestring : "";
            if (strcmp(v, "before") == 0) {
                st->apply = true;
                st->apply_first = true;
            } else if (strcmp(v, "after") == 0) {
                st->apply = true;
                st->apply_first = false;
            } else if (strcmp(v, "never") == 0) {
                st->apply = false;
            } else {
                free(buf);
                return step_fail(diag, i, "\"apply\" must be \"before\", \"after\" or \"never\"");
            }
        }
        i++;
    }
    *out = buf;
    *n = i;
    return WXP_OK;
}

cJSON *Wxm_script_json(const Wxm_step *steps, size_t n)
{
    cJSON *script = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "action", Wxm_step_name((Wxm_step_action)steps[i].action));
        if (steps[i].ms)
            cJSON_AddNumberToObject(s, "ms", (double)steps[i].ms);
        cJSON_AddStringToObject(s, "apply",
                                !steps[i].apply        ? "never"
                                : steps[i].apply_first ? "before"
                                                       : "after");
        cJSON_AddItemToArray(script, s);
    }
    return script;
}
