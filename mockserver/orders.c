/* orders.c: order state, scenario scripts and the zero-config catalogue.
 *
 * The store is a hash table split into shards, each with its own mutex, so
 * requests on different orders rarely wait for each other, and every change
 * to one order happens under one lock (no half-changed order is visible). */
#include "mock_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 64
#define BUCKETS_PER_SHARD 256

typedef struct node {
    struct node *next;
    wxm_order order;
} node;

typedef struct shard {
    pthread_mutex_t lock;
    node *buckets[BUCKETS_PER_SHARD];
    size_t count;
} shard;

struct wxm_store {
    shard shards[SHARDS];
};

static const char *const state_names[] = {
    [WXM_SUCCESS] = "SUCCESS", [WXM_REFUND] = "REFUND", [WXM_NOTPAY] = "NOTPAY",
    [WXM_CLOSED] = "CLOSED", [WXM_REVOKED] = "REVOKED", [WXM_USERPAYING] = "USERPAYING",
    [WXM_PAYERROR] = "PAYERROR",
};

const char *wxm_state_name(wxm_state s)
{
    return (size_t)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

bool wxm_state_parse(const char *name, wxm_state *out)
{
    for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
        if (strcmp(name, state_names[i]) == 0) {
            *out = (wxm_state)i;
            return true;
        }
    return false;
}

static const char *const step_names[] = {
    [WXM_STEP_OK] = "ok", [WXM_STEP_SYSTEM_ERROR] = "system_error",
    [WXM_STEP_FREQUENCY_LIMITED] = "frequency_limited", [WXM_STEP_DELAY] = "delay",
    [WXM_STEP_HANG] = "hang", [WXM_STEP_DROP] = "drop",
    [WXM_STEP_BAD_SIGNATURE] = "bad_signature", [WXM_STEP_SIGNTEST] = "signtest",
    [WXM_STEP_UNSIGNED] = "unsigned", [WXM_STEP_SKEWED_TIMESTAMP] = "skewed_timestamp",
    [WXM_STEP_UNKNOWN_SERIAL] = "unknown_serial", [WXM_STEP_MALFORMED_BODY] = "malformed_body",
    [WXM_STEP_GATEWAY_HTML] = "gateway_html", [WXM_STEP_PARAM_ERROR] = "param_error",
};

const char *wxm_step_name(wxm_step_action a)
{
    return (size_t)a < sizeof(step_names) / sizeof(step_names[0]) ? step_names[a] : "?";
}

/* ------------------------------------------------------------- store */

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

wxm_store *wxm_store_new(void)
{
    wxm_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    for (size_t i = 0; i < SHARDS; i++)
        pthread_mutex_init(&s->shards[i].lock, NULL);
    return s;
}

static void free_chain(shard *sh)
{
    for (size_t b = 0; b < BUCKETS_PER_SHARD; b++) {
        node *n = sh->buckets[b];
        while (n) {
            node *next = n->next;
            free(n);
            n = next;
        }
        sh->buckets[b] = NULL;
    }
    sh->count = 0;
}

void wxm_store_clear(wxm_store *s)
{
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&s->shards[i].lock);
        free_chain(&s->shards[i]);
        pthread_mutex_unlock(&s->shards[i].lock);
    }
}

void wxm_store_free(wxm_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < SHARDS; i++) {
        free_chain(&s->shards[i]);
        pthread_mutex_destroy(&s->shards[i].lock);
    }
    free(s);
}

static node **slot(wxm_store *s, const char *key, shard **sh)
{
    uint32_t h = hash(key);
    *sh = &s->shards[h % SHARDS];
    node **p = &(*sh)->buckets[(h / SHARDS) % BUCKETS_PER_SHARD];
    while (*p && strcmp((*p)->order.out_trade_no, key) != 0)
        p = &(*p)->next;
    return p;
}

bool wxm_store_with(wxm_store *s, const char *key, const wxm_order *init,
                    wxm_order_fn fn, void *ctx)
{
    shard *sh;
    pthread_mutex_t *lock = &s->shards[hash(key) % SHARDS].lock;

    pthread_mutex_lock(lock);
    node **p = slot(s, key, &sh);
    if (!*p) {
        if (!init || !(*p = calloc(1, sizeof(node)))) {
            pthread_mutex_unlock(lock);
            return false;
        }
        (*p)->order = *init;
        sh->count++;
    }
    if (fn)
        fn(&(*p)->order, ctx);
    pthread_mutex_unlock(lock);
    return true;
}

static void replace(wxm_order *o, void *ctx)
{
    *o = *(const wxm_order *)ctx;
}

wxp_err wxm_store_put(wxm_store *s, const wxm_order *o)
{
    return wxm_store_with(s, o->out_trade_no, o, replace, (void *)(uintptr_t)o) ? WXP_OK
                                                                               : WXP_ERR_NOMEM;
}

static void copy_out(wxm_order *o, void *ctx)
{
    *(wxm_order *)ctx = *o;
}

bool wxm_store_get(wxm_store *s, const char *key, wxm_order *copy)
{
    return wxm_store_with(s, key, NULL, copy_out, copy);
}

size_t wxm_store_count(wxm_store *s)
{
    size_t n = 0;
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&s->shards[i].lock);
        n += s->shards[i].count;
        pthread_mutex_unlock(&s->shards[i].lock);
    }
    return n;
}

static bool order_ok(const wxm_order *o, char *why, size_t cap)
{
    const char *bad = NULL;
    if ((unsigned)o->state > WXM_PAYERROR)
        bad = "state out of range";
    else if (o->refunded && o->state != WXM_REVOKED)
        bad = "refund on an order that is not REVOKED";
    else if (o->refunded && (o->refund_amount <= 0 || o->refund_amount > o->amount))
        bad = "refund not in (0, amount]";
    else if (!o->refunded && o->refund_amount != 0)
        bad = "refund amount without a refund";
    else if (o->nsteps > WXM_MAX_SCRIPT || o->pos > o->nsteps)
        bad = "script position past its end";
    else if (o->state == WXM_REVOKED && o->reversed_at == 0 && o->reverse_calls > 0 && o->refunded)
        bad = "reversed order without a time";
    if (bad)
        snprintf(why, cap, "order %s: %s", o->out_trade_no, bad);
    return bad == NULL;
}

bool wxm_store_check(wxm_store *s, char *why, size_t cap)
{
    bool ok = true;
    for (size_t i = 0; i < SHARDS && ok; i++) {
        pthread_mutex_lock(&s->shards[i].lock);
        for (size_t b = 0; b < BUCKETS_PER_SHARD && ok; b++)
            for (node *n = s->shards[i].buckets[b]; n && ok; n = n->next)
                ok = order_ok(&n->order, why, cap);
        pthread_mutex_unlock(&s->shards[i].lock);
    }
    return ok;
}

/* ------------------------------------------------------------ scripts */

/* Defaults: faults that corrupt only the answer still reverse the order;
 * the ones that stand for a failed call do not; a delay changes the state
 * before it waits (the ambiguous timeout). */
static wxm_step default_step(wxm_step_action a)
{
    wxm_step st = {(uint8_t)a, true, false, 0};
    st.apply = !(a == WXM_STEP_SYSTEM_ERROR || a == WXM_STEP_FREQUENCY_LIMITED ||
                 a == WXM_STEP_GATEWAY_HTML || a == WXM_STEP_HANG || a == WXM_STEP_DROP ||
                 a == WXM_STEP_PARAM_ERROR);
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

wxp_err wxm_script_parse(const cJSON *arr, wxm_step **out, size_t *n, wxp_diag *diag)
{
    size_t i = 0;
    const cJSON *s;
    wxm_step *buf;

    if (!cJSON_IsArray(arr))
        return wxp_fail(diag, WXP_ERR_ARG, "script", "script must be an array of steps");
    if (cJSON_GetArraySize(arr) > WXM_MAX_SCRIPT)
        return wxp_fail(diag, WXP_ERR_ARG, "script", "script has more than %d steps", WXM_MAX_SCRIPT);
    buf = calloc(WXM_MAX_SCRIPT, sizeof(*buf));
    if (!buf)
        return WXP_ERR_NOMEM;
    cJSON_ArrayForEach(s, arr) {
        const cJSON *action = cJSON_GetObjectItemCaseSensitive(s, "action");
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(s, "ms");
        const cJSON *apply = cJSON_GetObjectItemCaseSensitive(s, "apply");
        wxm_step *st = &buf[i];
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
            err = step_fail(diag, i, "unknown action \"%s\" (see README: script steps)",
                            action->valuestring);
        if (err) {
            free(buf);
            return err;
        }
        *st = default_step((wxm_step_action)a);
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

/* ---------------------------------------------------------- admin JSON */

cJSON *wxm_order_admin_json(const wxm_order *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "out_trade_no", o->out_trade_no);
    cJSON_AddStringToObject(j, "mchid", o->mchid);
    cJSON_AddStringToObject(j, "appid", o->appid);
    cJSON_AddStringToObject(j, "transaction_id", o->transaction_id);
    cJSON_AddStringToObject(j, "trade_state", wxm_state_name(o->state));
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
    cJSON *script = cJSON_AddArrayToObject(j, "script");
    for (size_t i = o->pos; i < o->nsteps; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "action", wxm_step_name((wxm_step_action)o->script[i].action));
        if (o->script[i].ms)
            cJSON_AddNumberToObject(s, "ms", (double)o->script[i].ms);
        cJSON_AddStringToObject(s, "apply", !o->script[i].apply ? "never"
                                            : o->script[i].apply_first ? "before" : "after");
        cJSON_AddItemToArray(script, s);
    }
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

wxp_err wxm_order_from_json(const cJSON *obj, wxm_order *o, wxp_diag *diag)
{
    static const char *known[] = {"trade_state", "amount", "created_at", "age_seconds",
                                  "mchid", "appid", "transaction_id", "script", "out_trade_no",
                                  "refund", "reverse_calls", "reversed_at"};
    const cJSON *it, *v;
    wxp_err err;

    if (!cJSON_IsObject(obj))
        return wxp_fail(diag, WXP_ERR_ARG, "body", "order must be a JSON object");
    cJSON_ArrayForEach(it, obj) {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok |= strcmp(it->string, known[i]) == 0;
        if (!ok)
            return wxp_fail(diag, WXP_ERR_ARG, "body",
                            "unknown field \"%s\" (known: trade_state, amount, created_at, "
                            "age_seconds, mchid, appid, transaction_id, script)", it->string);
    }
    v = cJSON_GetObjectItemCaseSensitive(obj, "trade_state");
    if (!v)
        return wxp_fail(diag, WXP_ERR_ARG, "trade_state",
                        "trade_state is required: SUCCESS, REFUND, NOTPAY, CLOSED, REVOKED, "
                        "USERPAYING or PAYERROR");
    if (!cJSON_IsString(v) || !wxm_state_parse(v->valuestring, &o->state))
        return wxp_fail(diag, WXP_ERR_ARG, "trade_state",
                        "trade_state must be one of SUCCESS, REFUND, NOTPAY, CLOSED, REVOKED, "
                        "USERPAYING, PAYERROR");
    v = cJSON_GetObjectItemCaseSensitive(obj, "amount");
    if (v) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e12 ||
            v->valuedouble != (double)(int64_t)v->valuedouble)
            return wxp_fail(diag, WXP_ERR_ARG, "amount", "amount must be a whole number of fen >= 1");
        o->amount = (int64_t)v->valuedouble;
    }
    v = cJSON_GetObjectItemCaseSensitive(obj, "created_at");
    if (v) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e11)
            return wxp_fail(diag, WXP_ERR_ARG, "created_at", "created_at must be Unix seconds");
        o->created_at = (int64_t)v->valuedouble;
    }
    v = cJSON_GetObjectItemCaseSensitive(obj, "age_seconds");
    if (v) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e10)
            return wxp_fail(diag, WXP_ERR_ARG, "age_seconds", "age_seconds must be >= 0");
        o->created_at -= (int64_t)v->valuedouble; /* relative to the default "now" */
    }
    if ((err = id_field(obj, "mchid", o->mchid, sizeof(o->mchid), wxp_check_mchid, diag)) ||
        (err = id_field(obj, "appid", o->appid, sizeof(o->appid), wxp_check_appid, diag)) ||
        (err = id_field(obj, "transaction_id", o->transaction_id, sizeof(o->transaction_id), NULL,
                        diag)))
        return err;
    v = cJSON_GetObjectItemCaseSensitive(obj, "script");
    o->nsteps = o->pos = 0;
    if (v && !cJSON_IsNull(v)) {
        wxm_step *steps;
        size_t n;
        if ((err = wxm_script_parse(v, &steps, &n, diag)))
            return err;
        memcpy(o->script, steps, n * sizeof(*steps));
        o->nsteps = n;
        free(steps);
    }
    return WXP_OK;
}

/* ---------------------------------------------------------- catalogue */

/* out_trade_no prefix -> how the order starts (README "Zero-config
 * scenarios"). The step, if any, runs on the first reverse call. */
enum { DEFAULT, NEVER, AFTER, BEFORE };
static const struct {
    const char *prefix;
    wxm_state state;
    int64_t age;          /* seconds before now it was created */
    wxm_step_action step; /* WXM_STEP_OK for none */
    int64_t ms;
    int apply;
} catalogue[] = {
    {"paid_", WXM_SUCCESS, 60, WXM_STEP_OK, 0, DEFAULT},
    {"userpaying_", WXM_USERPAYING, 60, WXM_STEP_OK, 0, DEFAULT},
    {"payerror_", WXM_PAYERROR, 60, WXM_STEP_OK, 0, DEFAULT},
    {"closed_", WXM_CLOSED, 60, WXM_STEP_OK, 0, DEFAULT},
    {"revoked_", WXM_REVOKED, 60, WXM_STEP_OK, 0, DEFAULT},
    {"expired_", WXM_NOTPAY, 8 * 86400, WXM_STEP_OK, 0, DEFAULT},
    {"syserr_", WXM_SUCCESS, 60, WXM_STEP_SYSTEM_ERROR, 0, DEFAULT},
    {"ratelimit_", WXM_SUCCESS, 60, WXM_STEP_FREQUENCY_LIMITED, 0, DEFAULT},
    {"slow_", WXM_SUCCESS, 60, WXM_STEP_DELAY, 1500, AFTER},
    {"late_", WXM_SUCCESS, 60, WXM_STEP_DELAY, 6000, BEFORE},
    {"hang_", WXM_SUCCESS, 60, WXM_STEP_HANG, 0, DEFAULT},
    {"drop_", WXM_SUCCESS, 60, WXM_STEP_DROP, 0, DEFAULT},
    {"dropapplied_", WXM_SUCCESS, 60, WXM_STEP_DROP, 0, BEFORE},
    {"badsig_", WXM_SUCCESS, 60, WXM_STEP_BAD_SIGNATURE, 0, DEFAULT},
    {"signtest_", WXM_SUCCESS, 60, WXM_STEP_SIGNTEST, 0, DEFAULT},
    {"unsigned_", WXM_SUCCESS, 60, WXM_STEP_UNSIGNED, 0, DEFAULT},
    {"skewed_", WXM_SUCCESS, 60, WXM_STEP_SKEWED_TIMESTAMP, 0, DEFAULT},
    {"unknownserial_", WXM_SUCCESS, 60, WXM_STEP_UNKNOWN_SERIAL, 0, DEFAULT},
    {"malformed_", WXM_SUCCESS, 60, WXM_STEP_MALFORMED_BODY, 0, DEFAULT},
    {"gateway_", WXM_SUCCESS, 60, WXM_STEP_GATEWAY_HTML, 0, DEFAULT},
};

bool wxm_catalogue_order(const char *otn, int64_t now, wxm_order *o)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->out_trade_no, sizeof(o->out_trade_no), "%s", otn);
    o->state = WXM_NOTPAY;
    o->amount = 100;
    o->created_at = now - 60;
    snprintf(o->transaction_id, sizeof(o->transaction_id), "42000%015lld", (long long)now);
    if (strncmp(otn, "notfound_", 9) == 0)
        return false;
    for (size_t i = 0; i < sizeof(catalogue) / sizeof(catalogue[0]); i++) {
        if (strncmp(otn, catalogue[i].prefix, strlen(catalogue[i].prefix)) != 0)
            continue;
        o->state = catalogue[i].state;
        o->created_at = now - catalogue[i].age;
        if (catalogue[i].step != WXM_STEP_OK) {
            wxm_step st = default_step(catalogue[i].step);
            st.ms = (int32_t)catalogue[i].ms;
            if (catalogue[i].apply != DEFAULT) {
                st.apply = catalogue[i].apply != NEVER;
                st.apply_first = catalogue[i].apply == BEFORE;
            }
            o->script[0] = st;
            o->nsteps = 1;
        }
        break;
    }
    return true;
}
