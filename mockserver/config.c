/* config.c: the mock's JSON configuration (docs/mock.md "Mock configuration").
 * Every error names the file, the field path and the problem. */
#include "mock_int.h"
#include "wxp_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CONFIG_BYTES (1024 * 1024)

const char *wxm_default_config_path(void)
{
    static char path[4300];
    const char *dir = Wxp_fixtures_dir(NULL, 0);
    if (!dir)
        return NULL;
    snprintf(path, sizeof(path), "%.4200s/mock.json", dir);
    return path;
}

static void merchant_clear(Wxm_merchant *m)
{
    for (size_t k = 0; k < m->nappids; k++)
        free(m->appids[k]);
    free(m->appids);
    wxp_key_free(m->cert);
    for (size_t k = 0; k < m->nsubs; k++)
        merchant_clear(&m->subs[k]);
    free(m->subs);
}

void wxm_config_free(wxm_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nmerchants; i++)
        merchant_clear(&c->merchants[i]);
    free(c->merchants);
    for (size_t i = 0; i < c->nplatforms; i++) {
        wxp_key_free(c->platforms[i].key);
        wxp_key_free(c->platforms[i].cert);
        free(c->platforms[i].pem);
    }
    wxp_key_free(c->wechatpay_key);
    free(c->admin_token);
    free(c);
}

const Wxm_merchant *Wxm_config_merchant(const wxm_config *c, wxp_span mchid)
{
    for (size_t i = 0; i < c->nmerchants; i++)
        if (wxp_span_eq(mchid, c->merchants[i].mchid))
            return &c->merchants[i];
    return NULL;
}

const Wxm_merchant *Wxm_config_sub(const Wxm_merchant *sp, const char *mchid)
{
    for (size_t i = 0; sp && i < sp->nsubs; i++)
        if (strcmp(sp->subs[i].mchid, mchid) == 0)
            return &sp->subs[i];
    return NULL;
}

bool Wxm_merchant_has_appid(const Wxm_merchant *m, const char *appid)
{
    for (size_t i = 0; m && i < m->nappids; i++)
        if (strcmp(m->appids[i], appid) == 0)
            return true;
    return false;
}

/* Loading context: where we are, for error messages. */
typedef struct ctx {
    const char *base_dir;
    wxp_diag *diag;
} ctx;

static wxp_err bad(ctx *x, const char *field, const char *fmt, ...) WXM_PRINTF(3, 4);
static wxp_err bad(ctx *x, const char *field, const char *fmt, ...)
{
    if (x->diag) {
        va_list ap;
        x->diag->field = "config";
        int n = snprintf(x->diag->text, sizeof(x->diag->text), "%s: ", field);
        va_start(ap, fmt);
        if (n > 0 && (size_t)n < sizeof(x->diag->text))
            vsnprintf(x->diag->text + n, sizeof(x->diag->text) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return WXP_ERR_ARG;
}

static wxp_err get_str(ctx *x, const cJSON *obj, const char *name, const char *path, bool required,
                       const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (!v) {
        if (required)
            return bad(x, path, "is required");
        return WXP_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring || !*v->valuestring)
        return bad(x, path, "must be a non-empty string");
    *out = v->valuestring;
    return WXP_OK;
}

static wxp_err get_int(ctx *x, const cJSON *obj, const char *name, const char *path, int64_t min,
                       int64_t max, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    char range[80];
    if (!v)
        return WXP_OK; /* keep the default */
    snprintf(range, sizeof(range), "%lld..%lld", (long long)min, (long long)max);
    /* The range first: casting a huge double (1e999 is inf) is undefined. */
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)min && v->valuedouble <= (double)max) ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return bad(x, path, "must be a whole number in %s", range);
    *out = (int64_t)v->valuedouble;
    return WXP_OK;
}

static wxp_err get_bool(ctx *x, const cJSON *obj, const char *name, const char *path, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v)
        return WXP_OK;
    if (!cJSON_IsBool(v))
        return bad(x, path, "must be true or false");
    *out = cJSON_IsTrue(v);
    return WXP_OK;
}

typedef wxp_err (*key_loader)(const char *, wxp_key **, wxp_diag *);

static void full_path(const ctx *x, const char *file, char *full, size_t cap)
{
    if (file[0] == '/' || !x->base_dir)
        snprintf(full, cap, "%s", file);
    else
        snprintf(full, cap, "%s/%s", x->base_dir, file);
}

static wxp_err load_key(ctx *x, key_loader fn, const char *file, const char *path, wxp_key **out)
{
    char full[4096];
    wxp_diag d = {"", ""};
    wxp_err err;

    full_path(x, file, full, sizeof(full));
    err = fn(full, out, &d);
    if (err)
        return bad(x, path, "%s", d.text);
    return WXP_OK;
}

/* A platform certificate and its private key (`path` names it). */
static wxp_err load_platform(ctx *x, const char *certfile, const char *keyfile, const char *path,
                             Wxm_platform *p)
{
    char full[4096], field[128];
    wxp_diag d = {"", ""};
    wxp_err err;

    snprintf(field, sizeof(field), "%s.certificate", path);
    full_path(x, certfile, full, sizeof(full));
    if ((err = Wxp_read_file(full, 1 << 20, "certificate", &p->pem, NULL, &d)))
        return err == WXP_ERR_NOMEM ? err : bad(x, field, "%s", d.text);
    if ((err = load_key(x, wxp_key_certificate_file, certfile, field, &p->cert)))
        return err;
    snprintf(field, sizeof(field), "%s.private_key", path);
    if ((err = load_key(x, wxp_key_private_file, keyfile, field, &p->key)))
        return err;
    if (wxp_key_same(p->cert, p->key) != WXP_OK)
        return bad(x, field, "is not the private key of %s.certificate (serial %s)", path,
                   wxp_key_serial(p->cert));
    return WXP_OK;
}

/* wechatpay.more_certificates: more platform certificates, each with its
 * key, listed from the start unless "listed" is false. */
static wxp_err load_more_platforms(ctx *x, const cJSON *more, wxm_config *c)
{
    const cJSON *it;
    char path[64];
    wxp_err err;

    if (!cJSON_IsArray(more))
        return bad(x, "wechatpay.more_certificates",
                   "must be an array of {\"certificate\", \"private_key\", \"listed\"}");
    cJSON_ArrayForEach(it, more)
    {
        const char *cert, *key;
        snprintf(path, sizeof(path), "wechatpay.more_certificates[%zu]", c->nplatforms - 1);
        if (c->nplatforms == WXM_MAX_PLATFORMS)
            return bad(x, path, "at most %d platform certificates in all", WXM_MAX_PLATFORMS);
        if (!cJSON_IsObject(it))
            return bad(x, path, "must be an object with certificate and private_key");
        char field[96];
        snprintf(field, sizeof(field), "%s.certificate", path);
        if ((err = get_str(x, it, "certificate", field, true, &cert)))
            return err;
        snprintf(field, sizeof(field), "%s.private_key", path);
        if ((err = get_str(x, it, "private_key", field, true, &key)))
            return err;
        Wxm_platform *p = &c->platforms[c->nplatforms++];
        int listed = 1;
        snprintf(field, sizeof(field), "%s.listed", path);
        if ((err = get_bool(x, it, "listed", field, &listed)) ||
            (err = load_platform(x, cert, key, path, p)))
            return err;
        p->listed = listed != 0;
        for (size_t k = 0; k + 1 < c->nplatforms; k++)
            if (strcasecmp(wxp_key_serial(c->platforms[k].cert), wxp_key_serial(p->cert)) == 0)
                return bad(x, path, "serial %s is listed twice", wxp_key_serial(p->cert));
    }
    return WXP_OK;
}

/* merchants[i] (base "merchants[i]"), or a sub-merchant of one (base
 * "merchants[i].sub_merchants[k]": no certificate, no subs of its own). */
static wxp_err load_merchant(ctx *x, const cJSON *m, const char *base, bool sub, Wxm_merchant *out)
{
    char path[160];
    const char *mchid, *cert;
    const cJSON *appids;
    wxp_err err;

    if (!cJSON_IsObject(m))
        return bad(x, base, "must be an object");
    const cJSON *it;
    cJSON_ArrayForEach(it, m)
    {
        const char *n = it->string ? it->string : "?";
        if (strcmp(n, "mchid") != 0 && strcmp(n, "appids") != 0 &&
            (sub || (strcmp(n, "certificate") != 0 && strcmp(n, "sub_merchants") != 0)))
            return bad(x, base, "unknown field \"%s\" (known: mchid, appids%s)", n,
                       sub ? "" : ", certificate, sub_merchants");
    }
    snprintf(path, sizeof(path), "%s.mchid", base);
    if ((err = get_str(x, m, "mchid", path, true, &mchid)))
        return err;
    if (wxp_check_mchid(wxp_span_of(mchid), NULL))
        return bad(x, path, "\"%s\" must be 1 to 32 digits", mchid);
    memcpy(out->mchid, mchid, strlen(mchid) + 1);
    if (!sub) {
        snprintf(path, sizeof(path), "%s.certificate", base);
        if ((err = get_str(x, m, "certificate", path, true, &cert)))
            return err;
        if ((err = load_key(x, wxp_key_certificate_file, cert, path, &out->cert)))
            return err;
        const cJSON *subs = cJSON_GetObjectItemCaseSensitive(m, "sub_merchants");
        if (subs) {
            snprintf(path, sizeof(path), "%s.sub_merchants", base);
            if (!cJSON_IsArray(subs))
                return bad(x, path, "must be an array of {\"mchid\", \"appids\"}");
            out->subs = calloc((size_t)cJSON_GetArraySize(subs) + 1, sizeof(Wxm_merchant));
            if (!out->subs)
                return WXP_ERR_NOMEM;
            const cJSON *s;
            cJSON_ArrayForEach(s, subs)
            {
                snprintf(path, sizeof(path), "%s.sub_merchants[%zu]", base, out->nsubs);
                err = load_merchant(x, s, path, true, &out->subs[out->nsubs]);
                out->nsubs++;
                if (err)
                    return err;
            }
        }
    }
    snprintf(path, sizeof(path), "%s.appids", base);
    appids = cJSON_GetObjectItemCaseSensitive(m, "appids");
    if (!cJSON_IsArray(appids) || cJSON_GetArraySize(appids) == 0)
        return bad(x, path, "must be a non-empty array of appid strings");
    out->appids = calloc((size_t)cJSON_GetArraySize(appids), sizeof(char *));
    if (!out->appids)
        return WXP_ERR_NOMEM;
    const cJSON *a;
    cJSON_ArrayForEach(a, appids)
    {
        snprintf(path, sizeof(path), "%s.appids[%zu]", base, out->nappids);
        if (!cJSON_IsString(a) || wxp_check_appid(wxp_span_of(a->valuestring), NULL))
            return bad(x, path, "must be an appid: 1 to 32 of [0-9A-Za-z_-]");
        size_t n = strlen(a->valuestring) + 1;
        out->appids[out->nappids] = malloc(n);
        if (!out->appids[out->nappids])
            return WXP_ERR_NOMEM;
        memcpy(out->appids[out->nappids++], a->valuestring, n);
    }
    return WXP_OK;
}

static wxp_err load_wechatpay(ctx *x, const cJSON *w, wxm_config *c)
{
    const char *priv, *mode, *id, *certfile, *apiv3;
    wxp_err err;
    static const char *known[] = {"private_key", "mode",      "public_key_id",
                                  "certificate", "apiv3_key", "more_certificates"};

    if (!cJSON_IsObject(w))
        return bad(x, "wechatpay",
                   "must be an object with private_key, mode and "
                   "public_key_id or certificate");
    const cJSON *item;
    cJSON_ArrayForEach(item, w)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok |= item->string && strcmp(item->string, known[i]) == 0;
        if (!ok)
            return bad(x, "wechatpay",
                       "unknown field \"%s\" (known: private_key, mode, "
                       "public_key_id, certificate, apiv3_key, more_certificates)",
                       item->string ? item->string : "?");
    }
    if ((err = get_str(x, w, "private_key", "wechatpay.private_key", true, &priv)) ||
        (err = load_key(x, wxp_key_private_file, priv, "wechatpay.private_key", &c->wechatpay_key)))
        return err;
    if ((err = get_str(x, w, "mode", "wechatpay.mode", false, &mode)))
        return err;
    if (!mode || strcmp(mode, "public_key") == 0)
        c->mode = WXM_MODE_PUBLIC_KEY;
    else if (strcmp(mode, "certificate") == 0)
        c->mode = WXM_MODE_CERTIFICATE;
    else
        return bad(x, "wechatpay.mode", "\"%s\" must be \"public_key\" or \"certificate\"", mode);
    if ((err = get_str(x, w, "public_key_id", "wechatpay.public_key_id",
                       c->mode == WXM_MODE_PUBLIC_KEY, &id)) ||
        (err = get_str(x, w, "certificate", "wechatpay.certificate",
                       c->mode == WXM_MODE_CERTIFICATE, &certfile)))
        return err;
    if (id && (strncmp(id, "PUB_KEY_ID_", 11) != 0 || strlen(id) >= sizeof(c->public_key_id)))
        return bad(x, "wechatpay.public_key_id", "\"%s\" must look like PUB_KEY_ID_0114...", id);
    if (id)
        memcpy(c->public_key_id, id, strlen(id) + 1);
    if (certfile) {
        Wxm_platform *p = &c->platforms[c->nplatforms++];
        p->listed = true;
        if ((err = load_platform(x, certfile, priv, "wechatpay", p)))
            return err;
    }
    if ((err = get_str(x, w, "apiv3_key", "wechatpay.apiv3_key", c->mode == WXM_MODE_CERTIFICATE,
                       &apiv3)))
        return err;
    if (apiv3) {
        size_t n = strlen(apiv3), printable = 0;
        for (size_t i = 0; i < n; i++)
            printable += apiv3[i] > 0x20 && apiv3[i] < 0x7f;
        if (n != WXP_APIV3_KEY_LEN || printable != n)
            return bad(x, "wechatpay.apiv3_key",
                       "must be exactly %d ASCII letters, digits or signs (it has %zu bytes%s): "
                       "the APIv3 key set in the merchant platform",
                       WXP_APIV3_KEY_LEN, n, printable != n ? ", some not printable ASCII" : "");
        memcpy(c->apiv3_key, apiv3, n + 1);
    }
    const cJSON *more = cJSON_GetObjectItemCaseSensitive(w, "more_certificates");
    if (more) {
        if (!certfile)
            return bad(x, "wechatpay.more_certificates",
                       "needs wechatpay.certificate (the first platform certificate)");
        if ((err = load_more_platforms(x, more, c)))
            return err;
    }
    return WXP_OK;
}

/* The library's class of a failure: reading the config file is I/O;
 * anything wrong inside it (a key file it names included) is the config's. */
static wxm_err config_err(wxp_err e, wxm_err otherwise)
{
    return e == WXP_OK ? WXM_OK : e == WXP_ERR_NOMEM ? WXM_E_NOMEM : otherwise;
}

static wxp_err parse(const char *json, size_t len, const char *base_dir, wxm_config **out,
                     wxp_diag *diag)
{
    ctx x = {base_dir, diag};
    wxm_config *c;
    cJSON *root;
    const cJSON *ms, *limits;
    int64_t v;
    wxp_err err = WXP_OK;

    *out = NULL;
    root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return bad(&x, "(top)", "is not a JSON object");
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        cJSON_Delete(root);
        return WXP_ERR_NOMEM;
    }
    c->skew_seconds = 300;
    c->zero_config = 1;
    c->max_body_bytes = 65536;
    c->journal_entries = 10000;
    c->nonce_entries = 1 << 20;
    c->orders = 100000;
    c->journal_bytes = 64u << 20;
    c->hang_ms = 30000;
    c->reverse_window_seconds = 7 * 24 * 3600;

    static const char *known[] = {"merchants", "wechatpay", "skew_seconds", "zero_config",
                                  "limits"};
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok |= item->string && strcmp(item->string, known[i]) == 0;
        if (!ok) {
            err = bad(
                &x, item->string ? item->string : "?",
                "unknown field (known: merchants, wechatpay, skew_seconds, zero_config, limits)");
            goto done;
        }
    }
    ms = cJSON_GetObjectItemCaseSensitive(root, "merchants");
    if (!cJSON_IsArray(ms) || cJSON_GetArraySize(ms) == 0) {
        err = bad(&x, "merchants", "must be a non-empty array");
        goto done;
    }
    c->merchants = calloc((size_t)cJSON_GetArraySize(ms), sizeof(Wxm_merchant));
    if (!c->merchants) {
        err = WXP_ERR_NOMEM;
        goto done;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, ms)
    {
        char base[32];
        snprintf(base, sizeof(base), "merchants[%zu]", c->nmerchants);
        err = load_merchant(&x, m, base, false, &c->merchants[c->nmerchants]);
        c->nmerchants++;
        if (err)
            goto done;
        if (c->nmerchants > 1 &&
            Wxm_config_merchant(c, wxp_span_of(c->merchants[c->nmerchants - 1].mchid)) !=
                &c->merchants[c->nmerchants - 1]) {
            err = bad(&x, "merchants", "mchid \"%s\" appears twice",
                      c->merchants[c->nmerchants - 1].mchid);
            goto done;
        }
    }
    if ((err = load_wechatpay(&x, cJSON_GetObjectItemCaseSensitive(root, "wechatpay"), c)))
        goto done;
    if ((err = get_int(&x, root, "skew_seconds", "skew_seconds", 1, 86400, &c->skew_seconds)) ||
        (err = get_bool(&x, root, "zero_config", "zero_config", &c->zero_config)))
        goto done;
    limits = cJSON_GetObjectItemCaseSensitive(root, "limits");
    if (limits) {
        if (!cJSON_IsObject(limits)) {
            err = bad(&x, "limits", "must be an object");
            goto done;
        }
        v = (int64_t)c->max_body_bytes;
        if ((err =
                 get_int(&x, limits, "max_body_bytes", "limits.max_body_bytes", 64, 16 << 20, &v)))
            goto done;
        c->max_body_bytes = (size_t)v;
        v = (int64_t)c->journal_entries;
        if ((err =
                 get_int(&x, limits, "journal_entries", "limits.journal_entries", 1, 10000000, &v)))
            goto done;
        c->journal_entries = (size_t)v;
        if ((err = get_int(&x, limits, "hang_ms", "limits.hang_ms", 1, 3600000, &c->hang_ms)))
            goto done;
        v = (int64_t)c->nonce_entries;
        if ((err = get_int(&x, limits, "nonce_entries", "limits.nonce_entries", 16, 1 << 28, &v)))
            goto done;
        c->nonce_entries = (size_t)v;
        v = (int64_t)c->journal_bytes;
        if ((err = get_int(&x, limits, "journal_bytes", "limits.journal_bytes", 65536,
                           (int64_t)1 << 34, &v)))
            goto done;
        c->journal_bytes = (size_t)v;
        v = (int64_t)c->orders;
        if ((err = get_int(&x, limits, "orders", "limits.orders", 16, 100000000, &v)))
            goto done;
        c->orders = (size_t)v;
    }
done:
    cJSON_Delete(root);
    if (err) {
        wxm_config_free(c);
        return err;
    }
    *out = c;
    return WXP_OK;
}

wxm_err wxm_config_parse(const char *json, size_t len, const char *base_dir, wxm_config **out,
                         wxp_diag *diag)
{
    if (!json || !out)
        return WXM_E_ARG;
    return config_err(parse(json, len, base_dir, out, diag), WXM_E_CONFIG);
}

wxm_err wxm_config_load(const char *path, wxm_config **out, wxp_diag *diag)
{
    char *buf, *dir, *slash;
    size_t n;
    wxp_err err;

    if (!path || !out)
        return WXM_E_ARG;
    *out = NULL;
    err = Wxp_read_file(path, MAX_CONFIG_BYTES, "config", &buf, &n, diag);
    if (err)
        return config_err(err, WXM_E_IO);
    dir = Wxp_strdup(path);
    if (!dir) {
        free(buf);
        return WXM_E_NOMEM;
    }
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        memcpy(dir, ".", 2);
    err = parse(buf, n, dir, out, diag);
    free(buf);
    free(dir);
    if (err && diag) {
        char text[sizeof(diag->text)];
        memcpy(text, diag->text, sizeof(text));
        snprintf(diag->text, sizeof(diag->text), "%s: %.*s", path,
                 (int)(sizeof(diag->text) - strlen(path) - 3), text);
    }
    return config_err(err, WXM_E_CONFIG);
}

void wxm_config_set_catalogue(wxm_config *cfg, int on)
{
    if (cfg)
        cfg->zero_config = on != 0;
}

wxm_err wxm_config_set_admin_token(wxm_config *cfg, const char *token)
{
    char *copy = NULL;
    if (!cfg)
        return WXM_E_ARG;
    if (token &&
        (!*token || strlen(token) > 256 ||
         strspn(token, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-._~+/=") !=
             strlen(token)))
        return WXM_E_ARG;
    if (token && !(copy = Wxp_strdup(token)))
        return WXM_E_NOMEM;
    free(cfg->admin_token);
    cfg->admin_token = copy;
    return WXM_OK;
}

void wxm_config_set_signing(wxm_config *cfg, int on)
{
    if (cfg)
        cfg->no_sign = on == 0;
}
