/* request.c: what to send. A spec is the request as asked for (expanded
 * path, body); each attempt is signed from it afresh. Pure: no I/O. */
#include "wxpay_int.h"
#include "wxp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void Wxpay_spec_clear(Wxpay_spec *s)
{
    if (!s)
        return;
    free(s->target);
    free(s->body);
    memset(s, 0, sizeof(*s));
}

wxpay_code Wxpay_can_verify(wxpay_client *c)
{
    if (c->apiv3_key[0] || wxp_keyring_find(c->ring, wxp_span_of(c->expect_serial)))
        return WXPAY_OK;
    return Wxpay_config_error(c, WXPAY_SETTING_WECHATPAY_KEY,
                              "no WeChat Pay verification key is set (a WeChat Pay public key "
                              "with its id, a platform certificate, or the APIv3 key to "
                              "download the platform certificates)");
}

wxpay_code Wxpay_spec_init(wxpay_client *c, Wxpay_spec *s, const char *method, const char *path,
                           const wxp_param *params, size_t nparams, const char *json_body)
{
    wxp_diag d = {"", ""};
    char *tmpl = NULL;
    wxp_err e;

    memset(s, 0, sizeof(*s));
    if (!c || !method || !path || (!params && nparams))
        return WXPAY_E_ARG;
    if (!c->merchant_key)
        return Wxpay_config_error(c, WXPAY_SETTING_MERCHANT_KEY, "no merchant private key is set");
    if (!c->merchant_serial[0])
        return Wxpay_config_error(c, WXPAY_SETTING_MERCHANT_SERIAL,
                                  "no merchant certificate serial is set (give it with the key, "
                                  "or set the merchant certificate)");
    if (!c->mchid[0])
        return Wxpay_config_error(c, WXPAY_SETTING_MCHID, "no mchid is set");
    if (strlen(method) >= sizeof(s->method) ||
        strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method))
        return Wxpay_config_error(c, WXPAY_SETTING_REQUEST,
                                  "method \"%s\" must be an uppercase HTTP method", method);
    memcpy(s->method, method, strlen(method) + 1);
    /* A {name} means a template; otherwise it is the chain form (which
     * leaves a plain dash-case path unchanged). */
    if (!strchr(path, '{')) {
        e = wxp_chain_to_template(path, &tmpl, &d);
        if (e)
            return Wxpay_config_error(c, WXPAY_SETTING_REQUEST, "path \"%s\": %s", path, d.text);
        path = tmpl;
    }
    e = wxp_template_expand(path, params, nparams, &s->target, &d);
    free(tmpl);
    if (e)
        return e == WXP_ERR_NOMEM ? WXPAY_E_NOMEM
                                  : Wxpay_config_error(c, WXPAY_SETTING_REQUEST, "%s", d.text);
    if (json_body) {
        s->body_len = strlen(json_body);
        s->body = Wxp_strdup(json_body);
        if (!s->body) {
            Wxpay_spec_clear(s);
            return WXPAY_E_NOMEM;
        }
    }
    return WXPAY_OK;
}

wxpay_code Wxpay_spec_reverse(wxpay_client *c, Wxpay_spec *s, const char *otn, const char *appid)
{
    wxp_diag d = {"", ""};
    char *body = NULL;
    wxpay_code rc;

    memset(s, 0, sizeof(*s));
    if (!c || !otn || !appid)
        return WXPAY_E_ARG;
    if (wxp_check_out_trade_no(wxp_span_of(otn), &d) != WXP_OK ||
        wxp_check_appid(wxp_span_of(appid), &d) != WXP_OK)
        return Wxpay_config_error(c, WXPAY_SETTING_REQUEST, "%s", d.text);
    wxp_party party = {appid, c->mchid, c->sub_appid, c->sub_mchid};
    if ((c->sub_mchid[0] ? wxp_ids_request_build(&party, true, &body)
                         : wxp_reverse_request_build(appid, c->mchid, &body)) != WXP_OK)
        return WXPAY_E_NOMEM;
    wxp_param p = {"out_trade_no", otn};
    rc = Wxpay_spec_init(c, s, "POST",
                         c->sub_mchid[0]
                             ? "v3/pay/partner/transactions/out-trade-no/{out_trade_no}/reverse"
                             : "v3/pay/transactions/out-trade-no/{out_trade_no}/reverse",
                         &p, 1, body);
    free(body);
    if (rc == WXPAY_OK) {
        s->is_reverse = true;
        memcpy(s->out_trade_no, otn, strlen(otn) + 1);
    }
    return rc;
}

/* Checks an order number argument; the error goes to the client. */
static wxpay_code order_number(wxpay_client *c, const char *otn)
{
    wxp_diag d = {"", ""};
    if (!otn)
        return WXPAY_E_ARG;
    if (wxp_check_out_trade_no(wxp_span_of(otn), &d) != WXP_OK)
        return Wxpay_config_error(c, WXPAY_SETTING_REQUEST, "%s", d.text);
    return WXPAY_OK;
}

wxpay_code Wxpay_spec_codepay(wxpay_client *c, Wxpay_spec *s, const wxpay_codepay_params *p)
{
    wxp_diag d = {"", ""};
    char *body = NULL;
    memset(s, 0, sizeof(*s));
    if (!c || !p || !p->appid || !p->auth_code || !p->description)
        return WXPAY_E_ARG;
    wxpay_code rc = order_number(c, p->out_trade_no);
    if (rc)
        return rc;
    if (wxp_check_appid(wxp_span_of(p->appid), &d) != WXP_OK)
        return Wxpay_config_error(c, WXPAY_SETTING_REQUEST, "appid: %s", d.text);
    if (p->total < 1)
        return Wxpay_config_error(c, WXPAY_SETTING_REQUEST,
                                  "the amount must be at least 1 fen (it is %lld)",
                                  (long long)p->total);
    size_t n = strlen(p->auth_code);
    if (n != 18 || strspn(p->auth_code, "0123456789") != n)
        return Wxpay_config_error(c, WXPAY_SETTING_REQUEST,
                                  "auth code \"%.40s\" must be the 18 digits of the user's "
                                  "payment code",
                                  p->auth_code);
    wxp_party party = {p->appid, c->mchid, c->sub_appid, c->sub_mchid};
    wxp_codepay cp = {p->out_trade_no, p->auth_code, p->description, p->total,
                      p->store_id,     p->device_id, p->attach};
    if (wxp_codepay_request_build(&party, &cp, &body) != WXP_OK)
        return WXPAY_E_NOMEM;
    rc = Wxpay_spec_init(c, s, "POST",
                         c->sub_mchid[0] ? "v3/pay/partner/transactions/codepay"
                                         : "v3/pay/transactions/codepay",
                         NULL, 0, body);
    free(body);
    if (rc == WXPAY_OK) {
        s->is_transaction = true;
        s->no_retry = true;
        memcpy(s->out_trade_no, p->out_trade_no, strlen(p->out_trade_no) + 1);
    }
    return rc;
}

wxpay_code Wxpay_spec_query(wxpay_client *c, Wxpay_spec *s, const char *name, bool by_id)
{
    char tmpl[200];
    memset(s, 0, sizeof(*s));
    if (!c || !name)
        return WXPAY_E_ARG;
    if (by_id) {
        size_t n = strlen(name);
        if (n == 0 || n > WXP_ID_MAX || strspn(name, "0123456789") != n)
            return Wxpay_config_error(c, WXPAY_SETTING_REQUEST,
                                      "transaction_id \"%.40s\" must be 1 to 32 digits", name);
    } else {
        wxpay_code rc = order_number(c, name);
        if (rc)
            return rc;
    }
    /* The query string is part of the signed target: no parameter in it
     * needs encoding (ids are digits). */
    if (c->sub_mchid[0])
        snprintf(tmpl, sizeof(tmpl), "v3/pay/partner/transactions/%s?sp_mchid=%s&sub_mchid=%s",
                 by_id ? "id/{transaction_id}" : "out-trade-no/{out_trade_no}", c->mchid,
                 c->sub_mchid);
    else
        snprintf(tmpl, sizeof(tmpl), "v3/pay/transactions/%s?mchid=%s",
                 by_id ? "id/{transaction_id}" : "out-trade-no/{out_trade_no}", c->mchid);
    wxp_param p = {by_id ? "transaction_id" : "out_trade_no", name};
    wxpay_code rc = Wxpay_spec_init(c, s, "GET", tmpl, &p, 1, NULL);
    if (rc == WXPAY_OK) {
        s->is_transaction = true;
        if (by_id)
            memcpy(s->transaction_id, name, strlen(name) + 1);
        else
            memcpy(s->out_trade_no, name, strlen(name) + 1);
    }
    return rc;
}

wxpay_code Wxpay_spec_close(wxpay_client *c, Wxpay_spec *s, const char *otn)
{
    char *body = NULL;
    memset(s, 0, sizeof(*s));
    if (!c)
        return WXPAY_E_ARG;
    wxpay_code rc = order_number(c, otn);
    if (rc)
        return rc;
    wxp_party party = {NULL, c->mchid, NULL, c->sub_mchid};
    if (wxp_ids_request_build(&party, false, &body) != WXP_OK)
        return WXPAY_E_NOMEM;
    wxp_param p = {"out_trade_no", otn};
    rc = Wxpay_spec_init(c, s, "POST",
                         c->sub_mchid[0]
                             ? "v3/pay/partner/transactions/out-trade-no/{out_trade_no}/close"
                             : "v3/pay/transactions/out-trade-no/{out_trade_no}/close",
                         &p, 1, body);
    free(body);
    if (rc == WXPAY_OK) {
        s->is_close = true;
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

void Wxpay_free_headers(char *headers[WXPAY_MAX_HEADERS])
{
    for (int i = 0; i < WXPAY_MAX_HEADERS; i++) {
        free(headers[i]);
        headers[i] = NULL;
    }
}

/* The signature and the Authorization value for spec at time ts. */
static wxpay_code authorization(const wxpay_client *c, const Wxpay_spec *s, int64_t ts,
                                const char *nonce, char **auth, char *why, size_t cap)
{
    char *msg = NULL, *sig = NULL;
    size_t len;
    wxp_err e =
        wxp_request_message(wxp_span_of(s->method), wxp_span_of(s->target), ts, wxp_span_of(nonce),
                            (wxp_span){s->body, s->body_len}, &msg, &len);
    if (e == WXP_OK)
        e = wxp_sign(c->merchant_key, msg, len, &sig);
    free(msg);
    if (e == WXP_OK) {
        wxp_auth a = {
            .mchid = wxp_span_of(c->mchid),
            .nonce_str = wxp_span_of(nonce),
            .timestamp_value = ts,
            .serial_no = wxp_span_of(c->merchant_serial),
            .signature = wxp_span_of(sig),
        };
        e = wxp_auth_build(&a, auth);
    }
    free(sig);
    if (e == WXP_OK)
        return WXPAY_OK;
    snprintf(why, cap, "cannot sign the request: %s", wxp_strerror(e));
    return e == WXP_ERR_NOMEM ? WXPAY_E_NOMEM : WXPAY_E_SIGN;
}

wxpay_code Wxpay_sign_headers(const wxpay_client *c, const Wxpay_spec *s,
                              char *headers[WXPAY_MAX_HEADERS], char *why, size_t cap)
{
    char nonce[sizeof(c->fixed_nonce)];
    char *auth = NULL;
    int64_t ts = c->fixed_ts ? c->fixed_ts : (int64_t)time(NULL);
    int i = 0;

    memset(headers, 0, WXPAY_MAX_HEADERS * sizeof(char *));
    if (c->fixed_nonce[0]) {
        memcpy(nonce, c->fixed_nonce, sizeof(nonce));
    } else if (wxp_nonce(nonce) != WXP_OK) {
        snprintf(why, cap, "cannot sign the request: the system gave no random bytes for a nonce");
        return WXPAY_E_SIGN;
    }
    wxpay_code rc = authorization(c, s, ts, nonce, &auth, why, cap);
    if (rc)
        return rc;
    headers[i++] = header_line("Authorization", auth);
    free(auth);
    headers[i++] = header_line("Accept", "application/json");
    if (s->body)
        headers[i++] = header_line("Content-Type", "application/json");
    headers[i++] = header_line("User-Agent", c->user_agent);
    if (c->expect_serial[0]) /* none before the first certificate download */
        headers[i++] = header_line("Wechatpay-Serial", c->expect_serial);
    for (int k = 0; k < i; k++)
        if (!headers[k]) {
            Wxpay_free_headers(headers);
            snprintf(why, cap, "out of memory");
            return WXPAY_E_NOMEM;
        }
    return WXPAY_OK;
}

static wxpay_code dry_run(wxpay_client *c, Wxpay_spec *s, char **out)
{
    char *h[WXPAY_MAX_HEADERS], why[200];
    wxpay_code rc = Wxpay_sign_headers(c, s, h, why, sizeof(why));
    size_t n = 0;
    if (rc) {
        snprintf(c->error, sizeof(c->error), "%s", why);
        c->error_setting = WXPAY_SETTING_NONE;
        return rc;
    }
    const char *base = c->base_url;
    n = strlen(s->method) + strlen(base) + strlen(s->target) + s->body_len + 16;
    for (int i = 0; i < WXPAY_MAX_HEADERS && h[i]; i++)
        n += strlen(h[i]) + 1;
    char *buf = malloc(n), *p = buf;
    if (!buf) {
        Wxpay_free_headers(h);
        return WXPAY_E_NOMEM;
    }
    p += snprintf(p, n, "%s %s%s\n", s->method, base, s->target);
    for (int i = 0; i < WXPAY_MAX_HEADERS && h[i]; i++)
        p += snprintf(p, n - (size_t)(p - buf), "%s\n", h[i]);
    p += snprintf(p, n - (size_t)(p - buf), "\n");
    if (s->body_len)
        memcpy(p, s->body, s->body_len);
    p[s->body_len] = '\0';
    Wxpay_free_headers(h);
    *out = buf;
    return WXPAY_OK;
}

wxpay_code wxpay_dry_run(wxpay_client *c, const char *method, const char *path,
                         const wxp_param *params, size_t nparams, const char *json_body, char **out)
{
    Wxpay_spec s;
    if (!out)
        return WXPAY_E_ARG;
    wxpay_code rc = Wxpay_spec_init(c, &s, method, path, params, nparams, json_body);
    if (rc == WXPAY_OK)
        rc = dry_run(c, &s, out);
    Wxpay_spec_clear(&s);
    return rc;
}

wxpay_code wxpay_dry_run_reverse(wxpay_client *c, const char *otn, const char *appid, char **out)
{
    Wxpay_spec s;
    if (!out)
        return WXPAY_E_ARG;
    wxpay_code rc = Wxpay_spec_reverse(c, &s, otn, appid);
    if (rc == WXPAY_OK)
        rc = dry_run(c, &s, out);
    Wxpay_spec_clear(&s);
    return rc;
}
