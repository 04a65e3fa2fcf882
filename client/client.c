/* client.c: configuration, building and signing requests, and judging
 * answers. No I/O here except reading key files; libcurl is in transport.c.
 */
#include "wxpay_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *const wxpay_answer_header_names[H_COUNT] = {
    [H_REQUEST_ID] = "Request-ID",
    [H_TIMESTAMP] = "Wechatpay-Timestamp",
    [H_NONCE] = "Wechatpay-Nonce",
    [H_SIGNATURE] = "Wechatpay-Signature",
    [H_SERIAL] = "Wechatpay-Serial",
    [H_SIGNATURE_TYPE] = "Wechatpay-Signature-Type",
    [H_CONTENT_TYPE] = "Content-Type",
};

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
    }
    return "unknown code";
}

/* ------------------------------------------------------------- config */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static wxpay_code config_error(wxpay_client *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static wxpay_code config_error(wxpay_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof(c->error), fmt, ap);
    va_end(ap);
    return WXPAY_E_CONFIG;
}

wxpay_client *wxpay_client_new(void)
{
    wxpay_client *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->base_url = dup_str(WXPAY_DEFAULT_BASE_URL);
    c->backup_url = dup_str(WXPAY_DEFAULT_BACKUP_URL);
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
    return c;
}

void wxpay_client_free(wxpay_client *c)
{
    if (!c)
        return;
    wxpay_multi_free(c->sync_multi);
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

/* http:// or https:// followed by a host, without a trailing '/'. */
static wxpay_code set_url(wxpay_client *c, char **slot, const char *url, const char *what)
{
    size_t n;
    char *d;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return config_error(c, "%s \"%s\" must start with http:// or https://", what, url);
    d = dup_str(url);
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
    wxpay_code rc = set_url(c, &c->base_url, url, "base URL");
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
    return set_url(c, &c->backup_url, url, "backup URL");
}

wxpay_code wxpay_set_mchid(wxpay_client *c, const char *mchid)
{
    wxp_diag d;
    if (!c || !mchid)
        return WXPAY_E_ARG;
    if (wxp_check_mchid(wxp_span_of(mchid), &d) != WXP_OK)
        return config_error(c, "%s", d.text);
    memcpy(c->mchid, mchid, strlen(mchid) + 1);
    return WXPAY_OK;
}

/* Loads a key with `fn`; out of memory stays that, anything else becomes a
 * configuration error naming `what` (the file is in the diagnostic). */
typedef wxp_err (*key_loader)(const char *, wxp_key **, wxp_diag *);
static wxpay_code load_key(wxpay_client *c, key_loader fn, const char *path, const char *what,
                           wxp_key **out)
{
    wxp_diag d = {"", ""};
    wxp_err e = fn(path, out, &d);
    if (e == WXP_ERR_NOMEM)
        return WXPAY_E_NOMEM;
    if (e)
        return config_error(c, "%s: %s", what, d.text);
    return WXPAY_OK;
}

wxpay_code wxpay_set_merchant_key_file(wxpay_client *c, const char *path, const char *serial)
{
    wxp_key *k = NULL;
    if (!c || !path)
        return WXPAY_E_ARG;
    wxpay_code rc = load_key(c, wxp_key_private_file, path, "merchant private key", &k);
    if (rc)
        return rc;
    wxp_key_free(c->merchant_key);
    c->merchant_key = k;
    if (serial) {
        if (!*serial || strlen(serial) >= sizeof(c->merchant_serial))
            return config_error(c, "merchant certificate serial \"%s\" is empty or too long", serial);
        memcpy(c->merchant_serial, serial, strlen(serial) + 1);
    }
    return WXPAY_OK;
}

wxpay_code wxpay_set_merchant_cert_file(wxpay_client *c, const char *path)
{
    wxp_key *k = NULL;
    if (!c || !path)
        return WXPAY_E_ARG;
    wxpay_code rc = load_key(c, wxp_key_certificate_file, path, "merchant certificate", &k);
    if (rc)
        return rc;
    if (c->merchant_key && wxp_key_same(k, c->merchant_key) != WXP_OK) {
        wxp_key_free(k);
        return config_error(c, "merchant certificate %s does not belong to the merchant private key",
                            path);
    }
    snprintf(c->merchant_serial, sizeof(c->merchant_serial), "%s", wxp_key_serial(k));
    wxp_key_free(k);
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
        return config_error(c, "%s: key id \"%s\" is already configured", path,
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
        return config_error(c, "WeChat Pay public key id \"%s\" should look like PUB_KEY_ID_0114...", id);
    wxpay_code rc = load_key(c, wxp_key_public_file, path, "WeChat Pay public key", &k);
    return rc ? rc : add_key(c, k, id, path);
}

wxpay_code wxpay_add_platform_cert_file(wxpay_client *c, const char *path)
{
    wxp_key *k = NULL;
    if (!c || !path)
        return WXPAY_E_ARG;
    wxpay_code rc = load_key(c, wxp_key_certificate_file, path, "platform certificate", &k);
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
    snprintf(c->user_agent, sizeof(c->user_agent), "%s", product ? product : "");
    return WXPAY_OK;
}

wxpay_code wxpay_set_ca_file(wxpay_client *c, const char *path)
{
    if (!c)
        return WXPAY_E_ARG;
    free(c->ca_file);
    c->ca_file = path ? dup_str(path) : NULL;
    return path && !c->ca_file ? WXPAY_E_NOMEM : WXPAY_OK;
}

wxpay_code wxpay_add_resolve(wxpay_client *c, const char *hpa)
{
    const char *a, *b;
    if (!c || !hpa)
        return WXPAY_E_ARG;
    a = strchr(hpa, ':');
    b = a ? strchr(a + 1, ':') : NULL;
    if (!a || !b || a == hpa || b == a + 1 || !b[1] || strspn(a + 1, "0123456789") != (size_t)(b - a - 1))
        return config_error(c, "resolve \"%s\" must be HOST:PORT:ADDRESS", hpa);
    if (c->nresolve == (int)(sizeof(c->resolve) / sizeof(c->resolve[0])))
        return config_error(c, "at most %d resolve entries", c->nresolve);
    c->resolve[c->nresolve] = dup_str(hpa);
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
    if (n == 0 || n >= sizeof(c->fixed_nonce) || strspn(nonce, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != n)
        return config_error(c, "nonce \"%s\" must be 1 to 64 of [0-9A-Za-z]", nonce);
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

void wxpay_log(wxpay_client *c, const char *fmt, ...)
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

long wxpay_backoff_ms(wxpay_client *c, int n)
{
    long d = c->base_ms;
    for (int i = 1; i < n && d < c->max_ms; i++)
        d *= 2;
    if (d > c->max_ms)
        d = c->max_ms;
    /* xorshift64: jitter only */
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return d / 2 + (long)(c->rng % (uint64_t)(d / 2 + 1));
}

const char *wxpay_attempt_base(const wxpay_client *c, bool use_backup)
{
    return use_backup && c->backup_url ? c->backup_url : c->base_url;
}

/* ------------------------------------------------------------ requests */

void wxpay_spec_clear(wxpay_job_spec *s)
{
    if (!s)
        return;
    free(s->target);
    free(s->body);
    memset(s, 0, sizeof(*s));
}

wxpay_code wxpay_spec_init(wxpay_client *c, wxpay_job_spec *s, const char *method, const char *path,
                           const wxp_param *params, size_t nparams, const char *json_body)
{
    wxp_diag d = {"", ""};
    char *tmpl = NULL;
    wxp_err e;

    memset(s, 0, sizeof(*s));
    if (!c || !method || !path || (!params && nparams))
        return WXPAY_E_ARG;
    if (!c->merchant_key)
        return config_error(c, "no merchant private key: set --private-key (WXPAY_PRIVATE_KEY)");
    if (!c->merchant_serial[0])
        return config_error(c, "no merchant certificate serial: set --serial (WXPAY_SERIAL) or "
                               "--merchant-cert");
    if (!c->mchid[0])
        return config_error(c, "no mchid: set --mchid (WXPAY_MCHID)");
    if (wxp_keyring_find(c->ring, wxp_span_of(c->expect_serial)) == NULL)
        return config_error(c, "no WeChat Pay verification key: set --wechatpay-public-key with "
                               "--wechatpay-serial, or --platform-cert");
    if (strlen(method) >= sizeof(s->method) || strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method))
        return config_error(c, "method \"%s\" must be an uppercase HTTP method", method);
    memcpy(s->method, method, strlen(method) + 1);
    /* A {name} means a template; otherwise it is the chain form (which
     * leaves a plain dash-case path unchanged). */
    if (!strchr(path, '{')) {
        e = wxp_chain_to_template(path, &tmpl, &d);
        if (e)
            return config_error(c, "path \"%s\": %s", path, d.text);
        path = tmpl;
    }
    e = wxp_template_expand(path, params, nparams, &s->target, &d);
    free(tmpl);
    if (e)
        return e == WXP_ERR_NOMEM ? WXPAY_E_NOMEM : config_error(c, "%s", d.text);
    if (json_body) {
        s->body_len = strlen(json_body);
        s->body = dup_str(json_body);
        if (!s->body) {
            wxpay_spec_clear(s);
            return WXPAY_E_NOMEM;
        }
    }
    return WXPAY_OK;
}

wxpay_code wxpay_spec_reverse(wxpay_client *c, wxpay_job_spec *s, const char *otn, const char *appid)
{
    wxp_diag d = {"", ""};
    char *body = NULL;
    wxpay_code rc;

    memset(s, 0, sizeof(*s));
    if (!c || !otn || !appid)
        return WXPAY_E_ARG;
    if (wxp_check_out_trade_no(wxp_span_of(otn), &d) != WXP_OK)
        return config_error(c, "%s", d.text);
    if (wxp_check_appid(wxp_span_of(appid), &d) != WXP_OK)
        return config_error(c, "%s", d.text);
    if (wxp_reverse_request_build(appid, c->mchid, &body) != WXP_OK)
        return WXPAY_E_NOMEM;
    wxp_param p = {"out_trade_no", otn};
    rc = wxpay_spec_init(c, s, "POST", "v3/pay/transactions/out-trade-no/{out_trade_no}/reverse", &p,
                         1, body);
    free(body);
    if (rc == WXPAY_OK) {
        s->is_reverse = true;
        memcpy(s->out_trade_no, otn, strlen(otn) + 1);
    }
    return rc;
}

static char *header_line(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *l = malloc(n);
    if (l)
        snprintf(l, n, "%s: %s", name, value);
    return l;
}

void wxpay_free_headers(char *headers[8])
{
    for (int i = 0; i < 8; i++) {
        free(headers[i]);
        headers[i] = NULL;
    }
}

wxpay_code wxpay_sign_headers(wxpay_client *c, const wxpay_job_spec *s, char *headers[8])
{
    char nonce[sizeof(c->fixed_nonce)], ua[400];
    char *msg = NULL, *sig = NULL, *auth = NULL;
    size_t len;
    int64_t ts = c->fixed_ts ? c->fixed_ts : (int64_t)time(NULL);
    int i = 0;

    memset(headers, 0, 8 * sizeof(char *));
    if (c->fixed_nonce[0])
        memcpy(nonce, c->fixed_nonce, sizeof(nonce));
    else if (wxp_nonce(nonce) != WXP_OK)
        return WXPAY_E_NOMEM;
    if (wxp_request_message(wxp_span_of(s->method), wxp_span_of(s->target), ts, wxp_span_of(nonce),
                            (wxp_span){s->body, s->body_len}, &msg, &len) != WXP_OK ||
        wxp_sign(c->merchant_key, msg, len, &sig) != WXP_OK) {
        free(msg);
        return WXPAY_E_NOMEM;
    }
    free(msg);
    wxp_auth a = {
        .mchid = wxp_span_of(c->mchid),
        .nonce_str = wxp_span_of(nonce),
        .timestamp_value = ts,
        .serial_no = wxp_span_of(c->merchant_serial),
        .signature = wxp_span_of(sig),
    };
    wxp_err e = wxp_auth_build(&a, &auth);
    free(sig);
    if (e)
        return config_error(c, "cannot build Authorization: %s", wxp_strerror(e));
    headers[i++] = header_line("Authorization", auth);
    free(auth);
    headers[i++] = header_line("Accept", "application/json");
    if (s->body)
        headers[i++] = header_line("Content-Type", "application/json");
    snprintf(ua, sizeof(ua), "%s%swxpay-c/%s curl/%s", c->user_agent,
             c->user_agent[0] ? " " : "", WXPAY_VERSION, wxpay_curl_version());
    headers[i++] = header_line("User-Agent", ua);
    headers[i++] = header_line("Wechatpay-Serial", c->expect_serial);
    for (int k = 0; k < i; k++)
        if (!headers[k]) {
            wxpay_free_headers(headers);
            return WXPAY_E_NOMEM;
        }
    return WXPAY_OK;
}

static wxpay_code dry_run(wxpay_client *c, wxpay_job_spec *s, char **out)
{
    char *h[8];
    wxpay_code rc = wxpay_sign_headers(c, s, h);
    size_t n = 0;
    if (rc)
        return rc;
    const char *base = wxpay_attempt_base(c, false);
    n = strlen(s->method) + strlen(base) + strlen(s->target) + s->body_len + 16;
    for (int i = 0; i < 8 && h[i]; i++)
        n += strlen(h[i]) + 1;
    char *buf = malloc(n), *p = buf;
    if (!buf) {
        wxpay_free_headers(h);
        return WXPAY_E_NOMEM;
    }
    p += snprintf(p, n, "%s %s%s\n", s->method, base, s->target);
    for (int i = 0; i < 8 && h[i]; i++)
        p += snprintf(p, n - (size_t)(p - buf), "%s\n", h[i]);
    p += snprintf(p, n - (size_t)(p - buf), "\n");
    if (s->body_len)
        memcpy(p, s->body, s->body_len);
    p[s->body_len] = '\0';
    wxpay_free_headers(h);
    *out = buf;
    return WXPAY_OK;
}

wxpay_code wxpay_dry_run(wxpay_client *c, const char *method, const char *path,
                         const wxp_param *params, size_t nparams, const char *json_body, char **out)
{
    wxpay_job_spec s;
    if (!out)
        return WXPAY_E_ARG;
    wxpay_code rc = wxpay_spec_init(c, &s, method, path, params, nparams, json_body);
    if (rc == WXPAY_OK)
        rc = dry_run(c, &s, out);
    wxpay_spec_clear(&s);
    return rc;
}

wxpay_code wxpay_dry_run_reverse(wxpay_client *c, const char *otn, const char *appid, char **out)
{
    wxpay_job_spec s;
    if (!out)
        return WXPAY_E_ARG;
    wxpay_code rc = wxpay_spec_reverse(c, &s, otn, appid);
    if (rc == WXPAY_OK)
        rc = dry_run(c, &s, out);
    wxpay_spec_clear(&s);
    return rc;
}

/* ------------------------------------------------------------- results */

wxpay_result *wxpay_result_new(wxpay_code code, const char *fmt, ...)
{
    wxpay_result *r = calloc(1, sizeof(*r));
    va_list ap;
    if (!r)
        return NULL;
    r->code = code;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
    return r;
}

void wxpay_result_free(wxpay_result *r)
{
    if (!r)
        return;
    free(r->error_detail);
    free(r->body);
    free(r);
}

wxpay_code wxpay_result_code(const wxpay_result *r) { return r ? r->code : WXPAY_E_ARG; }
const char *wxpay_result_detail(const wxpay_result *r) { return r ? r->detail : ""; }
long wxpay_result_http_status(const wxpay_result *r) { return r ? r->http_status : 0; }
const char *wxpay_result_request_id(const wxpay_result *r) { return r ? r->request_id : ""; }
const char *wxpay_result_error_code(const wxpay_result *r) { return r ? r->error_code : ""; }
const char *wxpay_result_error_message(const wxpay_result *r) { return r ? r->error_message : ""; }
const char *wxpay_result_error_detail(const wxpay_result *r)
{
    return r && r->error_detail ? r->error_detail : "";
}
wxp_err wxpay_result_verify_error(const wxpay_result *r) { return r ? r->verify_error : WXP_OK; }
int wxpay_result_attempts(const wxpay_result *r) { return r ? r->attempts : 0; }
const char *wxpay_result_out_trade_no(const wxpay_result *r) { return r ? r->out_trade_no : ""; }
const char *wxpay_result_appid(const wxpay_result *r) { return r ? r->appid : ""; }
const char *wxpay_result_mchid(const wxpay_result *r) { return r ? r->mchid : ""; }

const char *wxpay_result_body(const wxpay_result *r, size_t *len)
{
    if (len)
        *len = r ? r->body_len : 0;
    return r && r->body ? r->body : "";
}

static bool is_json(const wxpay_answer *a)
{
    const char *ct = a->headers[H_CONTENT_TYPE];
    return a->present[H_CONTENT_TYPE] && strncasecmp(ct, "application/json", 16) == 0;
}

wxpay_result *wxpay_judge(wxpay_client *c, const wxpay_job_spec *s, wxpay_answer *a, int attempts,
                          bool *retry)
{
    wxpay_result *r = wxpay_result_new(WXPAY_OK, "%s", "");
    wxp_diag d = {"", ""};

    *retry = false;
    if (!r)
        return NULL;
    r->attempts = attempts;
    r->http_status = a->status;
    if (a->present[H_REQUEST_ID])
        snprintf(r->request_id, sizeof(r->request_id), "%.127s", a->headers[H_REQUEST_ID]);
    if (a->body_len) {
        r->body = a->body; /* take it */
        r->body_len = a->body_len;
        a->body = NULL;
        a->body_len = 0;
    }
    wxp_span body = {r->body, r->body_len};

    if (a->curl_code) {
        r->code = a->timed_out ? WXPAY_E_TIMEOUT : WXPAY_E_TRANSPORT;
        snprintf(r->detail, sizeof(r->detail), "%s: %s", a->timed_out ? "no answer in time" : "no answer",
                 a->curl_error);
        *retry = true;
        return r;
    }
    if (a->status >= 200 && a->status < 300) {
        /* Nothing in a 2xx answer is trusted before its signature is. */
        wxp_response_headers h = {
            .timestamp = a->present[H_TIMESTAMP] ? wxp_span_of(a->headers[H_TIMESTAMP]) : (wxp_span){0},
            .nonce = a->present[H_NONCE] ? wxp_span_of(a->headers[H_NONCE]) : (wxp_span){0},
            .signature = a->present[H_SIGNATURE] ? wxp_span_of(a->headers[H_SIGNATURE]) : (wxp_span){0},
            .serial = a->present[H_SERIAL] ? wxp_span_of(a->headers[H_SERIAL]) : (wxp_span){0},
            .signature_type = a->present[H_SIGNATURE_TYPE] ? wxp_span_of(a->headers[H_SIGNATURE_TYPE])
                                                           : (wxp_span){0},
        };
        wxp_err e = wxp_response_verify(c->ring, &h, body, (int64_t)time(NULL), c->skew, &d);
        if (e) {
            r->code = WXPAY_E_VERIFY;
            r->verify_error = e;
            snprintf(r->detail, sizeof(r->detail), "HTTP %ld answer failed verification (%s): %s",
                     a->status, wxp_strerror(e), d.text);
            return r;
        }
        if (!s->is_reverse) {
            snprintf(r->detail, sizeof(r->detail), "HTTP %ld, verified", a->status);
            return r;
        }
        wxp_reverse_response rr;
        if (wxp_reverse_response_parse(body, &rr, &d) != WXP_OK) {
            r->code = WXPAY_E_MALFORMED;
            snprintf(r->detail, sizeof(r->detail), "verified HTTP %ld answer is not a reverse answer: %s",
                     a->status, d.text);
            return r;
        }
        if (strcmp(rr.out_trade_no, s->out_trade_no) != 0 || strcmp(rr.mchid, c->mchid) != 0) {
            r->code = WXPAY_E_MALFORMED;
            snprintf(r->detail, sizeof(r->detail),
                     "answer is for order %s of merchant %s, not %s of %s", rr.out_trade_no, rr.mchid,
                     s->out_trade_no, c->mchid);
            return r;
        }
        memcpy(r->out_trade_no, rr.out_trade_no, sizeof(rr.out_trade_no));
        memcpy(r->appid, rr.appid, sizeof(rr.appid));
        memcpy(r->mchid, rr.mchid, sizeof(rr.mchid));
        snprintf(r->detail, sizeof(r->detail), "reversed %s (HTTP %ld, verified)", rr.out_trade_no,
                 a->status);
        return r;
    }
    /* An error answer: parsed whether signed or not. 5xx and 429 may pass
     * with another attempt; other 4xx never will. */
    *retry = a->status >= 500 || a->status == 429;
    wxp_error_body eb;
    if (wxp_error_body_parse(body, &eb, &d) == WXP_OK) {
        r->code = WXPAY_E_BUSINESS;
        snprintf(r->error_code, sizeof(r->error_code), "%s", eb.code);
        snprintf(r->error_message, sizeof(r->error_message), "%s", eb.message);
        r->error_detail = eb.detail;
        snprintf(r->detail, sizeof(r->detail), "HTTP %ld %s: %s", a->status, eb.code, eb.message);
        return r;
    }
    r->code = WXPAY_E_MALFORMED;
    snprintf(r->detail, sizeof(r->detail), "HTTP %ld with a %.64s body that is not a WeChat Pay error: %.300s",
             a->status, is_json(a) ? "JSON" : a->present[H_CONTENT_TYPE] ? a->headers[H_CONTENT_TYPE] : "untyped",
             d.text);
    return r;
}
