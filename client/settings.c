/* settings.c: the client handle, its setters and its keys. Keys are
 * parsed here, once, when set; nothing here touches the network. */
#include "wxpay_int.h"
#include "wxp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *wxpay_strerror(wxpay_code code)
{
    switch (code) {
    case WXPAY_OK: return "ok";
    case WXPAY_E_ARG: return "invalid argument";
    case WXPAY_E_NOMEM: return "out of memory";
    case WXPAY_E_CONFIG: return "client not configured for this call";
    case WXPAY_E_BUSINESS: return "WeChat Pay answered an error";
    case WXPAY_E_VERIFY: return "answer failed verification";
    case WXPAY_E_MALFORMED: return "answer could not be understood";
    case WXPAY_E_TRANSPORT: return "no answer (connection failed)";
    case WXPAY_E_TIMEOUT: return "no answer in time";
    case WXPAY_E_SIGN: return "the request could not be signed";
    }
    return "unknown code";
}

wxpay_code Wxpay_config_error(wxpay_client *c, wxpay_setting setting, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof(c->error), fmt, ap);
    va_end(ap);
    c->error_setting = setting;
    return WXPAY_E_CONFIG;
}

void Wxpay_log(wxpay_client *c, const char *fmt, ...)
{
    char line[600];
    va_list ap;
    if (!c->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    c->log(c->log_user, line);
}

/* "[product ]wxpay-c/VERSION curl/VERSION" */
static void make_user_agent(wxpay_client *c, const char *product)
{
    snprintf(c->user_agent, sizeof(c->user_agent), "%.255s%swxpay-c/%s curl/%s", product,
             product[0] ? " " : "", WXPAY_VERSION, Wxpay_http_version());
}

wxpay_client *wxpay_client_new(void)
{
    wxpay_client *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->base_url = Wxp_strdup(WXPAY_DEFAULT_BASE_URL);
    c->backup_url = Wxp_strdup(WXPAY_DEFAULT_BACKUP_URL);
    c->ring = wxp_keyring_new();
    if (!c->base_url || !c->backup_url || !c->ring) {
        wxpay_client_free(c);
        return NULL;
    }
    c->connect_ms = 3000;
    c->total_ms = 5000;
    c->retries = 3;
    c->base_ms = 200;
    c->max_ms = 5000;
    c->skew = WXP_DEFAULT_SKEW_SECONDS;
    c->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)c ^ 0x9E3779B97F4A7C15ull;
    make_user_agent(c, "");
    return c;
}

void wxpay_client_free(wxpay_client *c)
{
    if (!c)
        return;
    Wxpay_http_free(c->sync_http);
    free(c->base_url);
    free(c->backup_url);
    free(c->ca_file);
    for (int i = 0; i < c->nresolve; i++)
        free(c->resolve[i]);
    wxp_key_free(c->merchant_key);
    wxp_keyring_free(c->ring);
    free(c);
}

const char *wxpay_client_error(const wxpay_client *c)
{
    return c ? c->error : "no client";
}

wxpay_setting wxpay_client_error_setting(const wxpay_client *c)
{
    return c ? c->error_setting : WXPAY_SETTING_NONE;
}

/* http:// or https:// followed by a host, without a trailing '/'. */
static wxpay_code set_url(wxpay_client *c, char **slot, const char *url, const char *what,
                          wxpay_setting setting)
{
    size_t n;
    char *d;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return Wxpay_config_error(c, setting, "%s \"%s\" must start with http:// or https://", what,
                                  url);
    d = Wxp_strdup(url);
    if (!d)
        return WXPAY_E_NOMEM;
    n = strlen(d);
    while (n > 8 && d[n - 1] == '/')
        d[--n] = '\0';
    free(*slot);
    *slot = d;
    return WXPAY_OK;
}

wxpay_code wxpay_set_base_url(wxpay_client *c, const char *url)
{
    if (!c || !url)
        return WXPAY_E_ARG;
    wxpay_code rc = set_url(c, &c->base_url, url, "base URL", WXPAY_SETTING_BASE_URL);
    if (rc == WXPAY_OK && c->backup_url && strcmp(c->backup_url, WXPAY_DEFAULT_BACKUP_URL) == 0) {
        /* A custom base with the default backup would fail over to the real
         * service: drop the default backup. */
        free(c->backup_url);
        c->backup_url = NULL;
    }
    return rc;
}

wxpay_code wxpay_set_backup_url(wxpay_client *c, const char *url)
{
    if (!c)
        return WXPAY_E_ARG;
    if (!url) {
        free(c->backup_url);
        c->backup_url = NULL;
        return WXPAY_OK;
    }
    return set_url(c, &c->backup_url, url, "backup URL", WXPAY_SETTING_BACKUP_URL);
}

wxpay_code wxpay_set_mchid(wxpay_client *c, const char *mchid)
{
    wxp_diag d;
    if (!c || !mchid)
        return WXPAY_E_ARG;
    if (wxp_check_mchid(wxp_span_of(mchid), &d) != WXP_OK)
        return Wxpay_config_error(c, WXPAY_SETTING_MCHID, "%s", d.text);
    memcpy(c->mchid, mchid, strlen(mchid) + 1);
    return WXPAY_OK;
}

/* Loads a key with `fn`; out of memory stays that, anything else becomes a
 * configuration error naming `what` (the file is in the diagnostic). */
typedef wxp_err (*key_loader)(const char *, wxp_key **, wxp_diag *);
static wxpay_code load_key(wxpay_client *c, key_loader fn, const char *path, const char *what,
                           wxpay_setting setting, wxp_key **out)
{
    wxp_diag d = {"", ""};
    wxp_err e = fn(path, out, &d);
    if (e == WXP_ERR_NOMEM)
        return WXPAY_E_NOMEM;
    if (e)
        return Wxpay_config_error(c, setting, "%s: %s", what, d.text);
    return WXPAY_OK;
}

wxpay_code wxpay_set_merchant_key_file(wxpay_client *c, const char *path, const char *serial)
{
    wxp_key *k = NULL;
    if (!c || !path)
        return WXPAY_E_ARG;
    wxpay_code rc = load_key(c, wxp_key_private_file, path, "merchant private key",
                             WXPAY_SETTING_MERCHANT_KEY, &k);
    if (rc)
        return rc;
    wxp_key_free(c->merchant_key);
    c->merchant_key = k;
    if (serial) {
        if (!*serial || strlen(serial) >= sizeof(c->merchant_serial))
            return Wxpay_config_error(c, WXPAY_SETTING_MERCHANT_SERIAL,
                                      "merchant certificate serial \"%s\" is empty or too long",
                                      serial);
        memcpy(c->merchant_serial, serial, strlen(serial) + 1);
    }
    return WXPAY_OK;
}

wxpay_code wxpay_set_merchant_cert_file(wxpay_client *c, const char *path)
{
    wxp_key *k = NULL;
    if (!c || !path)
        return WXPAY_E_ARG;
    wxpay_code rc = load_key(c, wxp_key_certificate_file, path, "merchant certificate",
                             WXPAY_SETTING_MERCHANT_CERT, &k);
    if (rc)
        return rc;
    if (c->merchant_key && wxp_key_same(k, c->merchant_key) != WXP_OK) {
        wxp_key_free(k);
        return Wxpay_config_error(
            c, WXPAY_SETTING_MERCHANT_CERT,
            "merchant certificate %s does not belong to the merchant private key", path);
    }
    snprintf(c->merchant_serial, sizeof(c->merchant_serial), "%s", wxp_key_serial(k));
    wxp_key_free(k);
    return WXPAY_OK;
}

wxpay_code wxpay_set_sub_merchant(wxpay_client *c, const char *sub_mchid, const char *sub_appid)
{
    wxp_diag d = {"", ""};
    if (!c)
        return WXPAY_E_ARG;
    if (!sub_mchid) {
        c->sub_mchid[0] = c->sub_appid[0] = '\0';
        return WXPAY_OK;
    }
    if (wxp_check_mchid(wxp_span_of(sub_mchid), &d) != WXP_OK)
        return Wxpay_config_error(c, WXPAY_SETTING_SUB_MERCHANT, "sub_mchid: %s", d.text);
    if (sub_appid && wxp_check_appid(wxp_span_of(sub_appid), &d) != WXP_OK)
        return Wxpay_config_error(c, WXPAY_SETTING_SUB_MERCHANT, "sub_appid: %s", d.text);
    snprintf(c->sub_mchid, sizeof(c->sub_mchid), "%s", sub_mchid);
    snprintf(c->sub_appid, sizeof(c->sub_appid), "%s", sub_appid ? sub_appid : "");
    return WXPAY_OK;
}

wxpay_code wxpay_set_apiv3_key(wxpay_client *c, const char *key)
{
    if (!c)
        return WXPAY_E_ARG;
    if (!key) {
        c->apiv3_key[0] = '\0';
        return WXPAY_OK;
    }
    size_t n = strlen(key), printable = 0;
    for (size_t i = 0; i < n; i++)
        printable += key[i] > 0x20 && key[i] < 0x7f;
    if (n != WXP_APIV3_KEY_LEN || printable != n)
        return Wxpay_config_error(c, WXPAY_SETTING_APIV3_KEY,
                                  "the APIv3 key must be exactly %d printable ASCII characters "
                                  "(it has %zu bytes%s)",
                                  WXP_APIV3_KEY_LEN, n,
                                  printable != n ? ", not all printable" : "");
    memcpy(c->apiv3_key, key, n + 1);
    return WXPAY_OK;
}

static wxpay_code add_key(wxpay_client *c, wxp_key *k, const char *id, const char *path)
{
    wxp_err e = wxp_keyring_add(c->ring, id, k);
    if (e == WXP_ERR_NOMEM) {
        wxp_key_free(k);
        return WXPAY_E_NOMEM;
    }
    if (e) {
        wxp_key_free(k);
        return Wxpay_config_error(c, WXPAY_SETTING_WECHATPAY_KEY,
                                  "%s: key id \"%s\" is already configured", path,
                                  id ? id : "(certificate serial)");
    }
    if (!c->expect_serial[0])
        snprintf(c->expect_serial, sizeof(c->expect_serial), "%s", id ? id : wxp_key_serial(k));
    return WXPAY_OK;
}

wxpay_code wxpay_add_wechatpay_public_key_file(wxpay_client *c, const char *path, const char *id)
{
    wxp_key *k = NULL;
    if (!c || !path || !id)
        return WXPAY_E_ARG;
    if (strncmp(id, "PUB_KEY_ID_", 11) != 0)
        return Wxpay_config_error(
            c, WXPAY_SETTING_WECHATPAY_KEY,
            "WeChat Pay public key id \"%s\" should look like PUB_KEY_ID_0114...", id);
    wxpay_code rc = load_key(c, wxp_key_public_file, path, "WeChat Pay public key",
                             WXPAY_SETTING_WECHATPAY_KEY, &k);
    return rc ? rc : add_key(c, k, id, path);
}

wxpay_code wxpay_add_platform_cert_file(wxpay_client *c, const char *path)
{
    wxp_key *k = NULL;
    if (!c || !path)
        return WXPAY_E_ARG;
    wxpay_code rc = load_key(c, wxp_key_certificate_file, path, "platform certificate",
                             WXPAY_SETTING_WECHATPAY_KEY, &k);
    return rc ? rc : add_key(c, k, NULL, path);
}

wxpay_code wxpay_set_timeouts(wxpay_client *c, long connect_ms, long total_ms)
{
    if (!c || connect_ms <= 0 || total_ms <= 0)
        return WXPAY_E_ARG;
    c->connect_ms = connect_ms;
    c->total_ms = total_ms;
    return WXPAY_OK;
}

wxpay_code wxpay_set_retry(wxpay_client *c, int retries, long base_ms, long max_ms)
{
    if (!c || retries < 0 || retries > 100 || base_ms < 0 || max_ms < base_ms)
        return WXPAY_E_ARG;
    c->retries = retries;
    c->base_ms = base_ms;
    c->max_ms = max_ms;
    return WXPAY_OK;
}

wxpay_code wxpay_set_skew(wxpay_client *c, int64_t seconds)
{
    if (!c || seconds <= 0)
        return WXPAY_E_ARG;
    c->skew = seconds;
    return WXPAY_OK;
}

wxpay_code wxpay_set_user_agent(wxpay_client *c, const char *product)
{
    if (!c)
        return WXPAY_E_ARG;
    make_user_agent(c, product ? product : "");
    return WXPAY_OK;
}

wxpay_code wxpay_set_ca_file(wxpay_client *c, const char *path)
{
    if (!c)
        return WXPAY_E_ARG;
    free(c->ca_file);
    c->ca_file = path ? Wxp_strdup(path) : NULL;
    return path && !c->ca_file ? WXPAY_E_NOMEM : WXPAY_OK;
}

wxpay_code wxpay_add_resolve(wxpay_client *c, const char *hpa)
{
    const char *a, *b;
    if (!c || !hpa)
        return WXPAY_E_ARG;
    a = strchr(hpa, ':');
    b = a ? strchr(a + 1, ':') : NULL;
    if (!a || !b || a == hpa || b == a + 1 || !b[1] ||
        strspn(a + 1, "0123456789") != (size_t)(b - a - 1))
        return Wxpay_config_error(c, WXPAY_SETTING_RESOLVE,
                                  "resolve \"%s\" must be HOST:PORT:ADDRESS", hpa);
    if (c->nresolve == (int)(sizeof(c->resolve) / sizeof(c->resolve[0])))
        return Wxpay_config_error(c, WXPAY_SETTING_RESOLVE, "at most %d resolve entries",
                                  c->nresolve);
    c->resolve[c->nresolve] = Wxp_strdup(hpa);
    if (!c->resolve[c->nresolve])
        return WXPAY_E_NOMEM;
    c->nresolve++;
    return WXPAY_OK;
}

wxpay_code wxpay_set_fixed_timestamp(wxpay_client *c, int64_t ts)
{
    if (!c || ts < 0)
        return WXPAY_E_ARG;
    c->fixed_ts = ts;
    return WXPAY_OK;
}

wxpay_code wxpay_set_fixed_nonce(wxpay_client *c, const char *nonce)
{
    if (!c)
        return WXPAY_E_ARG;
    if (!nonce) {
        c->fixed_nonce[0] = '\0';
        return WXPAY_OK;
    }
    size_t n = strlen(nonce);
    if (n == 0 || n >= sizeof(c->fixed_nonce) ||
        strspn(nonce, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != n)
        return Wxpay_config_error(c, WXPAY_SETTING_NONCE,
                                  "nonce \"%s\" must be 1 to 64 of [0-9A-Za-z]", nonce);
    memcpy(c->fixed_nonce, nonce, n + 1);
    return WXPAY_OK;
}

void wxpay_set_log(wxpay_client *c, wxpay_log_fn fn, void *user)
{
    if (c) {
        c->log = fn;
        c->log_user = user;
    }
}
