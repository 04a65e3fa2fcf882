/* fuzz_response: response-signature verification (headers + body).
 * Input: four lines, Wechatpay-Timestamp, -Nonce, -Signature, -Serial, then
 * the body (the rest). The keyring holds the fixture public key and
 * platform certificate; "now" is the answer vectors' time. */
#include "fuzz.h"
#include <wxpay/protocol.h>

#include <string.h>

static wxp_keyring *ring;

static wxp_keyring *keys(void)
{
    if (!ring) {
        wxp_key *pub = NULL, *cert = NULL;
        ring = wxp_keyring_new();
        if (wxp_key_public_file(fuzz_fixture("keys/wechatpay_pub.pem"), &pub, NULL) != WXP_OK ||
            wxp_key_certificate_file(fuzz_fixture("keys/wechatpay_cert.pem"), &cert, NULL) !=
                WXP_OK ||
            wxp_keyring_add(ring, "PUB_KEY_ID_01123000010920261128000000000001", pub) != WXP_OK ||
            wxp_keyring_add(ring, NULL, cert) != WXP_OK)
            fuzz_fail("fixture keys load", __FILE__, __LINE__);
    }
    return ring;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wxp_span line[4] = {{0}};
    const char *p = (const char *)data, *end = p + size;
    for (int i = 0; i < 4; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return 0;
        line[i] = (wxp_span){p, (size_t)(nl - p)};
        p = nl + 1;
    }
    wxp_response_headers h = {line[0], line[1], line[2], line[3], {0}};
    wxp_diag d;
    wxp_err e =
        wxp_response_verify(keys(), &h, (wxp_span){p, (size_t)(end - p)}, 1554209980, 0, &d);
    FUZZ_ASSERT(e == WXP_OK || d.text[0] != '\0');
    return 0;
}
