/* keys.c: the WeChat Pay side of the mock as it stands: the key mode
 * (public key or platform certificate), which platform certificate signs,
 * which are listed by GET /v3/certificates, and the script of faults for
 * the next certificate downloads. Starts as the config says; the admin
 * API and the rotate_certificate step change it; a reset restores it.
 *
 * Every answer reads the mode and the signer: they are packed in one
 * atomic word, so the hot path takes no lock. */
#include "mock_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The packed word: bit 0 the mode, bits 8-15 the signing certificate,
 * bits 16-23 the listed ones. */
static uint32_t pack(int mode, size_t signing, uint32_t listed)
{
    return (uint32_t)mode | (uint32_t)signing << 8 | (listed & 0xFFu) << 16;
}

static uint32_t load(const wxm_mock *m)
{
    return __atomic_load_n(&m->keys.word, __ATOMIC_ACQUIRE);
}

void Wxm_keys_reset(wxm_mock *m)
{
    const wxm_config *cfg = m->cfg;
    uint32_t listed = 0;
    for (size_t i = 0; i < cfg->nplatforms; i++)
        listed |= cfg->platforms[i].listed ? 1u << i : 0;
    pthread_mutex_lock(&m->keys.lock);
    __atomic_store_n(&m->keys.word, pack(cfg->mode, 0, listed), __ATOMIC_RELEASE);
    m->keys.nsteps = m->keys.pos = 0;
    pthread_mutex_unlock(&m->keys.lock);
}

int Wxm_keys_mode(const wxm_mock *m)
{
    return (int)(load(m) & 1);
}

Wxm_signer Wxm_keys_signer(const wxm_mock *m)
{
    uint32_t w = load(m);
    const wxm_config *cfg = m->cfg;
    if ((w & 1) == WXM_MODE_PUBLIC_KEY || cfg->nplatforms == 0)
        return (Wxm_signer){cfg->wechatpay_key, cfg->public_key_id};
    const Wxm_platform *p = &cfg->platforms[(w >> 8) & 0xFF];
    return (Wxm_signer){p->key, wxp_key_serial(p->cert)};
}

uint32_t Wxm_keys_listed(const wxm_mock *m)
{
    return (load(m) >> 16) & 0xFF;
}

/* The certificate named by serial (any letter case), or -1. */
static int find_platform(const wxm_config *cfg, const char *serial)
{
    for (size_t i = 0; i < cfg->nplatforms; i++)
        if (strcasecmp(wxp_key_serial(cfg->platforms[i].cert), serial) == 0)
            return (int)i;
    return -1;
}

bool Wxm_keys_is_platform_serial(const wxm_mock *m, const char *serial)
{
    return find_platform(m->cfg, serial) >= 0 || strcmp(serial, m->cfg->public_key_id) == 0;
}

const char *Wxm_keys_rotate(wxm_mock *m)
{
    const wxm_config *cfg = m->cfg;
    if (cfg->nplatforms < 2)
        return NULL;
    pthread_mutex_lock(&m->keys.lock);
    uint32_t w = load(m);
    size_t next = (((w >> 8) & 0xFF) + 1) % cfg->nplatforms;
    uint32_t listed = ((w >> 16) & 0xFF) | 1u << next;
    __atomic_store_n(&m->keys.word, pack((int)(w & 1), next, listed), __ATOMIC_RELEASE);
    pthread_mutex_unlock(&m->keys.lock);
    return wxp_key_serial(cfg->platforms[next].cert);
}

Wxm_step Wxm_keys_next_step(wxm_mock *m)
{
    Wxm_step st = {WXM_STEP_OK, true, false, 0};
    pthread_mutex_lock(&m->keys.lock);
    if (m->keys.pos < m->keys.nsteps)
        st = m->keys.script[m->keys.pos++];
    pthread_mutex_unlock(&m->keys.lock);
    return st;
}

cJSON *Wxm_keys_json(wxm_mock *m)
{
    const wxm_config *cfg = m->cfg;
    pthread_mutex_lock(&m->keys.lock);
    uint32_t w = load(m);
    cJSON *j = cJSON_CreateObject(), *list = cJSON_CreateArray();
    Wxm_signer s = Wxm_keys_signer(m);
    cJSON_AddStringToObject(j, "mode",
                            (w & 1) == WXM_MODE_PUBLIC_KEY ? "public_key" : "certificate");
    cJSON_AddStringToObject(j, "signing_serial", s.serial);
    if (cfg->public_key_id[0])
        cJSON_AddStringToObject(j, "public_key_id", cfg->public_key_id);
    cJSON_AddBoolToObject(j, "apiv3_key_set", cfg->apiv3_key[0] != '\0');
    for (size_t i = 0; i < cfg->nplatforms; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "serial_no", wxp_key_serial(cfg->platforms[i].cert));
        cJSON_AddBoolToObject(c, "listed", (w >> 16 >> i) & 1);
        cJSON_AddBoolToObject(c, "signs_in_certificate_mode", ((w >> 8) & 0xFF) == i);
        cJSON_AddItemToArray(list, c);
    }
    cJSON_AddItemToObject(j, "certificates", list);
    cJSON_AddItemToObject(
        j, "certificates_script",
        Wxm_script_json(m->keys.script + m->keys.pos, m->keys.nsteps - m->keys.pos));
    pthread_mutex_unlock(&m->keys.lock);
    return j;
}

/* Each serial of a JSON array as a bit; false with diag filled. */
static bool serial_bits(const wxm_config *cfg, const cJSON *arr, uint32_t *out, wxp_diag *d)
{
    const cJSON *it;
    *out = 0;
    if (!cJSON_IsArray(arr)) {
        wxp_fail(d, WXP_ERR_ARG, "listed_serials", "listed_serials must be an array of serials");
        return false;
    }
    cJSON_ArrayForEach(it, arr)
    {
        int i = cJSON_IsString(it) ? find_platform(cfg, it->valuestring) : -1;
        if (i < 0) {
            char q[80];
            wxp_quote(q, sizeof(q), wxp_span_of(cJSON_IsString(it) ? it->valuestring : "?"), 64);
            wxp_fail(d, WXP_ERR_ARG, "listed_serials",
                     "\"%s\" is not a platform certificate of the config", q);
            return false;
        }
        *out |= 1u << i;
    }
    return true;
}

wxp_err Wxm_keys_update(wxm_mock *m, const cJSON *body, wxp_diag *d)
{
    const wxm_config *cfg = m->cfg;
    static const char *known[] = {"mode", "signing_serial", "listed_serials",
                                  "certificates_script"};
    const cJSON *it;
    cJSON_ArrayForEach(it, body)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok |= it->string && strcmp(it->string, known[i]) == 0;
        if (!ok)
            return wxp_fail(d, WXP_ERR_ARG, "body", /* not it->string: freed with the body */
                            "unknown field \"%s\" (known: mode, signing_serial, listed_serials, "
                            "certificates_script)",
                            it->string ? it->string : "?");
    }
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(body, "mode");
    const cJSON *signing = cJSON_GetObjectItemCaseSensitive(body, "signing_serial");
    const cJSON *listed = cJSON_GetObjectItemCaseSensitive(body, "listed_serials");
    const cJSON *script = cJSON_GetObjectItemCaseSensitive(body, "certificates_script");
    Wxm_step *steps = NULL;
    size_t nsteps = 0;
    uint32_t bits = 0;

    if (mode && (!cJSON_IsString(mode) || (strcmp(mode->valuestring, "public_key") != 0 &&
                                           strcmp(mode->valuestring, "certificate") != 0)))
        return wxp_fail(d, WXP_ERR_ARG, "mode", "mode must be \"public_key\" or \"certificate\"");
    bool cert_mode = mode && strcmp(mode->valuestring, "certificate") == 0;
    if (cert_mode && (cfg->nplatforms == 0 || !cfg->apiv3_key[0]))
        return wxp_fail(d, WXP_ERR_ARG, "mode",
                        "certificate mode needs wechatpay.certificate and wechatpay.apiv3_key in "
                        "the config");
    if (mode && !cert_mode && !cfg->public_key_id[0])
        return wxp_fail(d, WXP_ERR_ARG, "mode",
                        "public-key mode needs wechatpay.public_key_id in the config");
    int sign_at = -1;
    if (signing) {
        sign_at = cJSON_IsString(signing) ? find_platform(cfg, signing->valuestring) : -1;
        if (sign_at < 0)
            return wxp_fail(d, WXP_ERR_ARG, "signing_serial",
                            "signing_serial must be the serial of a platform certificate of the "
                            "config");
    }
    if (listed && !serial_bits(cfg, listed, &bits, d))
        return WXP_ERR_ARG;
    if (script) {
        wxp_err e = Wxm_script_parse(script, WXM_SCRIPT_CERTIFICATES, &steps, &nsteps, d);
        if (e)
            return e;
    }
    pthread_mutex_lock(&m->keys.lock);
    uint32_t w = load(m);
    int new_mode = mode ? (cert_mode ? WXM_MODE_CERTIFICATE : WXM_MODE_PUBLIC_KEY) : (int)(w & 1);
    size_t sign = sign_at >= 0 ? (size_t)sign_at : (w >> 8) & 0xFF;
    uint32_t new_listed = listed ? bits : (w >> 16) & 0xFF;
    if (sign_at >= 0 && !listed)
        new_listed |= 1u << sign; /* a certificate is listed before it signs */
    if (cfg->nplatforms && !(new_listed & 1u << sign)) {
        pthread_mutex_unlock(&m->keys.lock);
        free(steps);
        return wxp_fail(d, WXP_ERR_ARG, "listed_serials",
                        "listed_serials must include the signing certificate %s: a client can "
                        "only verify what it can download",
                        wxp_key_serial(cfg->platforms[sign].cert));
    }
    __atomic_store_n(&m->keys.word, pack(new_mode, sign, new_listed), __ATOMIC_RELEASE);
    if (script) {
        memcpy(m->keys.script, steps, nsteps * sizeof(*steps));
        m->keys.nsteps = nsteps;
        m->keys.pos = 0;
    }
    pthread_mutex_unlock(&m->keys.lock);
    free(steps);
    return WXP_OK;
}
