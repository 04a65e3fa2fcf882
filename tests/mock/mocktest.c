/* mocktest.c: see mocktest.h. */
#include "mocktest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

wxm_mock *mt_mock(int zero_config)
{
    wxm_config *cfg = NULL;
    wxm_mock *m = NULL;
    wxp_diag d = {"", ""};
    char *path = tu_fixture_path("mock.json");
    if (wxm_config_load(path, &cfg, &d) != WXM_OK)
        fail_msg("config: %s", d.text);
    free(path);
    wxm_config_set_catalogue(cfg, zero_config);
    assert_int_equal(wxm_mock_new(cfg, &m), WXM_OK);
    return m;
}

unsigned mt_listen(wxm_mock *m, int tls, wxm_server **out)
{
    char *cert = tls ? tu_fixture_path("tls/server_cert.pem") : NULL;
    char *key = tls ? tu_fixture_path("tls/server_key.pem") : NULL;
    wxm_server_options o = {.host = "127.0.0.1", .tls_cert_file = cert, .tls_key_file = key};
    wxp_diag d = {"", ""};
    if (wxm_server_start(m, &o, out, &d) != WXM_OK)
        fail_msg("listener: %s", d.text);
    free(cert);
    free(key);
    unsigned port = wxm_server_port(*out);
    assert_true(port > 0);
    return port;
}

void mt_header(mt_req *r, const char *name, const char *value)
{
    size_t i;
    for (i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->names[i], name) == 0)
            break;
    if (!value) {
        if (i < r->nheaders) {
            for (size_t k = i + 1; k < r->nheaders; k++) {
                memcpy(r->names[k - 1], r->names[k], sizeof(r->names[0]));
                memcpy(r->values[k - 1], r->values[k], sizeof(r->values[0]));
            }
            r->nheaders--;
        }
        return;
    }
    assert_true(i < 16);
    snprintf(r->names[i], sizeof(r->names[0]), "%s", name);
    snprintf(r->values[i], sizeof(r->values[0]), "%s", value);
    if (i == r->nheaders)
        r->nheaders++;
}

void mt_init(mt_req *r, const char *method, const char *target, const char *body)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->method, sizeof(r->method), "%s", method);
    snprintf(r->target, sizeof(r->target), "%s", target);
    if (body) {
        r->body_len = strlen(body);
        assert_true(r->body_len < sizeof(r->body));
        memcpy(r->body, body, r->body_len);
    }
    mt_header(r, "Accept", "application/json");
    mt_header(r, "User-Agent", "wxpay-tests/1.0");
    if (body)
        mt_header(r, "Content-Type", "application/json");
}

void mt_sign_message(mt_req *r, const wxp_key *key, int64_t ts, const char *nonce, const char *msg,
                     size_t len)
{
    char *sig = NULL, *hdr = NULL;
    assert_int_equal(wxp_sign(key, msg, len, &sig), WXP_OK);
    wxp_auth a = {
        .mchid = wxp_span_of(TU_MCHID),
        .nonce_str = wxp_span_of(nonce),
        .timestamp_value = ts,
        .serial_no = wxp_span_of(TU_MERCHANT_SERIAL),
        .signature = wxp_span_of(sig),
    };
    assert_int_equal(wxp_auth_build(&a, &hdr), WXP_OK);
    mt_header(r, "Authorization", hdr);
    free(sig);
    free(hdr);
}

void mt_sign(mt_req *r, int64_t ts, const char *nonce)
{
    char fresh[WXP_NONCE_LEN + 1];
    char *msg = NULL;
    size_t len = 0;
    if (!nonce) {
        assert_int_equal(wxp_nonce(fresh), WXP_OK);
        nonce = fresh;
    }
    assert_int_equal(wxp_request_message(wxp_span_of(r->method), wxp_span_of(r->target), ts,
                                         wxp_span_of(nonce), (wxp_span){r->body, r->body_len}, &msg,
                                         &len),
                     WXP_OK);
    wxp_key *key = tu_private_key("merchant_key.pem");
    mt_sign_message(r, key, ts, nonce, msg, len);
    wxp_key_free(key);
    free(msg);
}

const wxm_request *mt_request(mt_req *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        r->headers[i].name = wxp_span_of(r->names[i]);
        r->headers[i].value = wxp_span_of(r->values[i]);
    }
    r->req.method = wxp_span_of(r->method);
    r->req.target = wxp_span_of(r->target);
    r->req.headers = r->headers;
    r->req.nheaders = r->nheaders;
    r->req.body = (wxp_span){r->body, r->body_len};
    r->req.body_too_large = 0;
    r->req.peer = "test";
    return &r->req;
}

void mt_reverse(wxm_mock *m, const char *otn, wxm_answer *a)
{
    static mt_req r; /* large: keep it off the stack */
    char target[256];
    snprintf(target, sizeof(target), "/v3/pay/transactions/out-trade-no/%s/reverse", otn);
    mt_init(&r, "POST", target, MT_BODY);
    mt_sign(&r, MT_NOW, NULL);
    wxm_handle(m, mt_request(&r), MT_NOW, a);
}

cJSON *mt_json(const wxm_answer *a)
{
    return cJSON_ParseWithLength(a->body ? a->body : "", a->body_len);
}

const char *mt_header_of(const wxm_answer *a, const char *name)
{
    for (size_t i = 0; i < a->nheaders; i++)
        if (strcasecmp(a->headers[i].name, name) == 0)
            return a->headers[i].value;
    return NULL;
}

const char *mt_code(const wxm_answer *a, char buf[64])
{
    cJSON *j = mt_json(a);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "code");
    snprintf(buf, 64, "%s", cJSON_IsString(c) ? c->valuestring : "");
    cJSON_Delete(j);
    return buf;
}

wxp_err mt_verify_answer(const wxm_answer *a, int64_t now, wxp_diag *diag)
{
    wxp_keyring *ring = wxp_keyring_new();
    assert_int_equal(wxp_keyring_add(ring, TU_PUBKEY_ID, tu_public_key("wechatpay_pub.pem")),
                     WXP_OK);
    assert_int_equal(wxp_keyring_add(ring, NULL, tu_certificate("wechatpay_cert.pem")), WXP_OK);
    assert_int_equal(wxp_keyring_add(ring, NULL, tu_certificate("wechatpay_next_cert.pem")),
                     WXP_OK);
    wxp_response_headers h = {
        .timestamp = wxp_span_of(mt_header_of(a, "Wechatpay-Timestamp")),
        .nonce = wxp_span_of(mt_header_of(a, "Wechatpay-Nonce")),
        .signature = wxp_span_of(mt_header_of(a, "Wechatpay-Signature")),
        .serial = wxp_span_of(mt_header_of(a, "Wechatpay-Serial")),
        .signature_type = wxp_span_of(mt_header_of(a, "Wechatpay-Signature-Type")),
    };
    wxp_err e = wxp_response_verify(ring, &h, (wxp_span){a->body, a->body_len}, now, 0, diag);
    wxp_keyring_free(ring);
    return e;
}

void mt_admin(wxm_mock *m, const char *method, const char *target, const char *body, wxm_answer *a)
{
    static __thread mt_req r;
    mt_init(&r, method, target, body);
    wxm_handle(m, mt_request(&r), MT_NOW, a);
    if (a->stream) { /* as the listener would send it: read it whole */
        size_t size = wxm_stream_size(a->stream);
        a->body = malloc(size + 1);
        assert_non_null(a->body);
        a->body_len = 0;
        for (size_t k; (k = wxm_stream_read(a->stream, a->body + a->body_len, 7)) > 0;)
            a->body_len += k; /* in small pieces: every boundary is crossed */
        a->body[a->body_len] = '\0';
        assert_int_equal(a->body_len, size);
        wxm_stream_free(a->stream);
        a->stream = NULL;
    }
}

void mt_put_order(wxm_mock *m, const char *otn, const char *json)
{
    char target[256];
    wxm_answer a;
    snprintf(target, sizeof(target), "/__admin/orders/%s", otn);
    mt_admin(m, "PUT", target, json, &a);
    if (a.status != 200)
        fail_msg("PUT %s: %d %.*s", target, a.status, (int)a.body_len, a.body);
    wxm_answer_clear(&a);
}

Wxm_order mt_order(wxm_mock *m, const char *otn)
{
    Wxm_order o;
    if (!Wxm_store_get(m->orders, otn, &o))
        fail_msg("order %s does not exist", otn);
    return o;
}

/* A mock with the bundled identities and the given "limits" object. */
wxm_mock *mt_mock_with_limits(const char *limits)
{
    char json[1024], *dir = tu_fixture_path("");
    int n = snprintf(json, sizeof(json),
                     "{\"merchants\":[{\"mchid\":\"1230000109\",\"certificate\":\"keys/"
                     "merchant_cert.pem\",\"appids\":[\"wxd678efh567hg6787\"]}],\"wechatpay\":{"
                     "\"private_key\":\"keys/wechatpay_key.pem\",\"mode\":\"public_key\","
                     "\"public_key_id\":\"PUB_KEY_ID_01123000010920261128000000000001\","
                     "\"certificate\":\"keys/wechatpay_cert.pem\"},\"limits\":%s}",
                     limits);
    wxm_config *c = NULL;
    wxm_mock *m = NULL;
    assert_int_equal(wxm_config_parse(json, (size_t)n, dir, &c, NULL), WXM_OK);
    assert_int_equal(wxm_mock_new(c, &m), WXM_OK);
    free(dir);
    return m;
}

int mt_reverse_status(wxm_mock *m, const char *otn, char code[64])
{
    wxm_answer a;
    mt_reverse(m, otn, &a);
    int s = a.status;
    mt_code(&a, code);
    wxm_answer_clear(&a);
    return s;
}
