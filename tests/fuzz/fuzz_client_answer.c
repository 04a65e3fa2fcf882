/* fuzz_client_answer: how libwxpay judges an answer to a call.
 * Input: "STATUS[KIND]\n", header lines "Name: value\n", an empty line, the
 * body. KIND picks the call: none or 'r' a reverse, 'c' a codepay, 'q' a
 * query, 'x' a close, 'p' a partner reverse, 'P' a partner codepay.
 * A Wechatpay-Signature of exactly "@SIGN" is replaced by a valid signature
 * (WeChat Pay test key) over the given timestamp, nonce and body, so the
 * fuzzer reaches the body parser. Invariant: success only with a verified
 * answer for the very order (and merchant) asked about. */
#include "fuzz.h"
#include "wxpay_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define OTN "1217752501201407033233368018"

static wxpay_client *client, *partner;
static wxp_key *wechatpay;
static Wxpay_spec spec, codepay, query, closing, p_reverse, p_codepay;

static wxpay_client *new_client(const char *mchid)
{
    wxpay_client *c = wxpay_client_new();
    if (!c || wxpay_set_mchid(c, mchid) ||
        wxpay_set_merchant_key_file(c, fuzz_fixture("keys/merchant_key.pem"),
                                    "3775B6A45ACD588826D15E583A95F5DD00000001") ||
        wxpay_add_wechatpay_public_key_file(c, fuzz_fixture("keys/wechatpay_pub.pem"),
                                            "PUB_KEY_ID_01123000010920261128000000000001"))
        fuzz_fail("client setup", __FILE__, __LINE__);
    return c;
}

static void setup(void)
{
    if (client)
        return;
    wxpay_codepay_params cp = {
        "wxd678efh567hg6787", OTN, "130000000000000001", "d", 1, NULL, NULL, NULL};
    partner = new_client("1900000100");
    if (wxpay_set_sub_merchant(partner, "1900000109", NULL) ||
        Wxpay_spec_reverse(partner, &p_reverse, OTN, "wx8888888888888888") ||
        Wxpay_spec_codepay(partner, &p_codepay, &cp))
        fuzz_fail("partner setup", __FILE__, __LINE__);
    client = wxpay_client_new();
    if (!client || wxpay_set_mchid(client, "1230000109") ||
        wxpay_set_merchant_key_file(client, fuzz_fixture("keys/merchant_key.pem"),
                                    "3775B6A45ACD588826D15E583A95F5DD00000001") ||
        wxpay_add_wechatpay_public_key_file(client, fuzz_fixture("keys/wechatpay_pub.pem"),
                                            "PUB_KEY_ID_01123000010920261128000000000001") ||
        Wxpay_spec_reverse(client, &spec, OTN, "wxd678efh567hg6787") ||
        Wxpay_spec_codepay(client, &codepay, &cp) || Wxpay_spec_query(client, &query, OTN, false) ||
        Wxpay_spec_close(client, &closing, OTN) ||
        wxp_key_private_file(fuzz_fixture("keys/wechatpay_key.pem"), &wechatpay, NULL) != WXP_OK)
        fuzz_fail("client setup", __FILE__, __LINE__);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    Wxpay_answer a;
    setup();
    memset(&a, 0, sizeof(a));
    const char *nl = memchr(p, '\n', size);
    if (!nl || nl - p > 4)
        return 0;
    char kind = 'r';
    for (const char *q = p; q < nl; q++) {
        if (*q >= '0' && *q <= '9')
            a.status = a.status * 10 + (*q - '0');
        else
            kind = *q;
    }
    const wxpay_client *c = kind == 'p' || kind == 'P' ? partner : client;
    const Wxpay_spec *s = kind == 'c'   ? &codepay
                          : kind == 'q' ? &query
                          : kind == 'x' ? &closing
                          : kind == 'p' ? &p_reverse
                          : kind == 'P' ? &p_codepay
                                        : &spec;
    p = nl + 1;
    bool sign = false;
    while (p < end && *p != '\n') {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        const char *colon = memchr(p, ':', (size_t)(nl - p));
        for (int h = 0; colon && h < WXPAY_H_COUNT; h++) {
            size_t n = strlen(Wxpay_answer_header_names[h]);
            if ((size_t)(colon - p) == n && strncasecmp(p, Wxpay_answer_header_names[h], n) == 0) {
                const char *v = colon + 1;
                while (v < nl && *v == ' ')
                    v++;
                size_t vl = (size_t)(nl - v) < sizeof(a.headers[h]) - 1 ? (size_t)(nl - v)
                                                                        : sizeof(a.headers[h]) - 1;
                memcpy(a.headers[h], v, vl);
                a.headers[h][vl] = '\0';
                a.present[h] = true;
                sign |= h == WXPAY_H_SIGNATURE && strcmp(a.headers[h], "@SIGN") == 0;
            }
        }
        p = nl < end ? nl + 1 : end;
    }
    if (p < end && *p == '\n')
        p++;
    a.body_len = (size_t)(end - p);
    a.body = malloc(a.body_len + 1);
    if (!a.body)
        return 0;
    memcpy(a.body, p, a.body_len);
    a.body[a.body_len] = '\0';
    if (sign) {
        /* A fresh timestamp so the answer is inside the window. */
        char *msg = NULL, *sig = NULL;
        size_t len;
        snprintf(a.headers[WXPAY_H_TIMESTAMP], sizeof(a.headers[0]), "%lld", (long long)time(NULL));
        a.present[WXPAY_H_TIMESTAMP] = true;
        if (wxp_response_message(wxp_span_of(a.headers[WXPAY_H_TIMESTAMP]),
                                 wxp_span_of(a.headers[WXPAY_H_NONCE]),
                                 (wxp_span){a.body, a.body_len}, &msg, &len) == WXP_OK &&
            wxp_sign(wechatpay, msg, len, &sig) == WXP_OK)
            snprintf(a.headers[WXPAY_H_SIGNATURE], sizeof(a.headers[0]), "%s", sig);
        free(msg);
        free(sig);
    }
    bool retry;
    wxpay_result *r = Wxpay_judge(c, s, &a, 1, &retry);
    if (r && wxpay_result_code(r) == WXPAY_OK) {
        FUZZ_ASSERT(a.status >= 200 && a.status < 300);
        if (s != &closing)
            FUZZ_ASSERT(strcmp(wxpay_result_out_trade_no(r), OTN) == 0 &&
                        strcmp(wxpay_result_mchid(r), c == partner ? "1900000109" : "1230000109") ==
                            0);
        if (s == &codepay || s == &query || s == &p_codepay)
            FUZZ_ASSERT(wxpay_result_trade_state(r)[0] != '\0');
    }
    FUZZ_ASSERT(!retry || (s != &codepay && s != &p_codepay)); /* a codepay is never resent */
    wxpay_result_free(r);
    free(a.body);
    return 0;
}
