/* fuzz_handler: the mock's whole request handler, in-process (no socket),
 * with the order invariants checked after every input.
 * Input: "METHOD TARGET\n", header lines "Name: value\n", an empty line, then
 * the body. An Authorization value of exactly "@SIGN" is replaced by a valid
 * signature of this request at the fixed time, so the fuzzer gets past the
 * signature check and into the order model, scripts and faults. */
#include "fuzz.h"
#include "mock_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1795849000

static wxm_mock *mock;
static wxp_key *merchant;
static unsigned long inputs;

static void setup(void)
{
    wxm_config *cfg = NULL;
    if (mock)
        return;
    if (wxm_config_load(fuzz_fixture("mock.json"), &cfg, NULL) != WXM_OK ||
        wxm_mock_new(cfg, &mock) != WXM_OK ||
        wxp_key_private_file(fuzz_fixture("keys/merchant_key.pem"), &merchant, NULL) != WXP_OK)
        fuzz_fail("fixtures load", __FILE__, __LINE__);
}

static char *sign(wxp_span method, wxp_span target, wxp_span body)
{
    char *msg = NULL, *sig = NULL, *hdr = NULL;
    size_t len;
    if (wxp_request_message(method, target, NOW, wxp_span_of("FuzzNonce"), body, &msg, &len) !=
        WXP_OK)
        return NULL;
    if (wxp_sign(merchant, msg, len, &sig) == WXP_OK) {
        wxp_auth a = {
            wxp_span_of("1230000109"), wxp_span_of("FuzzNonce"),
            wxp_span_of(""),           wxp_span_of("3775B6A45ACD588826D15E583A95F5DD00000001"),
            wxp_span_of(sig),          NOW};
        if (wxp_auth_build(&a, &hdr) != WXP_OK)
            hdr = NULL;
    }
    free(msg);
    free(sig);
    return hdr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    wxm_header hs[32];
    size_t nh = 0;
    char *signed_hdr = NULL;
    setup();

    const char *nl = memchr(p, '\n', size);
    if (!nl)
        return 0;
    const char *sp = memchr(p, ' ', (size_t)(nl - p));
    if (!sp)
        return 0;
    wxm_request r = {0};
    r.method = (wxp_span){p, (size_t)(sp - p)};
    r.target = (wxp_span){sp + 1, (size_t)(nl - sp - 1)};
    p = nl + 1;
    int sign_at = -1;
    while (p < end && *p != '\n' && nh < 32) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        const char *colon = memchr(p, ':', (size_t)(nl - p));
        if (colon) {
            const char *v = colon + 1;
            while (v < nl && *v == ' ')
                v++;
            hs[nh].name = (wxp_span){p, (size_t)(colon - p)};
            hs[nh].value = (wxp_span){v, (size_t)(nl - v)};
            if (wxp_span_eq(hs[nh].value, "@SIGN"))
                sign_at = (int)nh;
            nh++;
        }
        p = nl < end ? nl + 1 : end;
    }
    if (p < end && *p == '\n')
        p++;
    r.body = (wxp_span){p, (size_t)(end - p)};
    r.headers = hs;
    r.nheaders = nh;
    if (sign_at >= 0 && (signed_hdr = sign(r.method, r.target, r.body)))
        hs[sign_at].value = wxp_span_of(signed_hdr);

    /* Every input starts with fresh nonces and an empty journal (a journal of
     * thousands of entries would make each GET /__admin/journal slow). */
    Wxm_nonces_clear(mock->nonces);
    Wxm_journal_clear(mock->journal);
    wxm_answer a;
    wxm_handle(mock, &r, NOW, &a);
    FUZZ_ASSERT(a.status >= 200 && a.status < 600);
    FUZZ_ASSERT(a.body_len == 0 || a.body != NULL);
    wxm_answer_commit(mock, &a);
    wxm_answer_clear(&a);
    free(signed_hdr);

    char why[256];
    if (!Wxm_store_check(mock->orders, why, sizeof(why)))
        fuzz_fail(why, __FILE__, __LINE__);
    if (++inputs % 5000 == 0) /* keep memory flat on long runs */
        Wxm_store_clear(mock->orders);
    return 0;
}
