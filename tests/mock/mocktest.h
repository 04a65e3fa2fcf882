/* mocktest.h: fixtures for tests that drive the mock: a mock with the
 * bundled config, signed requests, and reading answers. */
#ifndef WXP_MOCKTEST_H
#define WXP_MOCKTEST_H

#include "testutil.h"
#include "mock_int.h" /* mockserver internals: tests may look at state */

#define MT_NOW 1795849000 /* a fixed "now" for the pure handler */
#define MT_REVERSE(otn) "/v3/pay/transactions/out-trade-no/" otn "/reverse"
#define MT_BODY "{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\"}"

/* The mock with fixtures/mock.json; zero_config as given. */
wxm_mock *mt_mock(int zero_config);

/* The mock with the bundled identities and the given "limits" object
 * (JSON text), e.g. "{\"orders\":20}". */
wxm_mock *mt_mock_with_limits(const char *limits);

/* Starts a listener for m on a loopback port the OS picks (HTTP, or HTTPS
 * with the fixtures/tls pair when tls); returns its port. */
unsigned mt_listen(wxm_mock *m, int tls, wxm_server **out);

/* A request under construction; storage lives inside. */
typedef struct mt_req {
    char method[16];
    char target[1024];
    char body[70000];
    size_t body_len;
    size_t nheaders;
    char names[16][64];
    char values[16][2048];
    wxm_header headers[16];
    wxm_request req;
} mt_req;

/* Method, target, body (NULL: none) and the usual headers: Accept,
 * User-Agent and, with a body, Content-Type. */
void mt_init(mt_req *r, const char *method, const char *target, const char *body);
/* Adds a header, or replaces the first of that name; NULL value removes. */
void mt_header(mt_req *r, const char *name, const char *value);
/* Signs METHOD\nTARGET\nTS\nNONCE\nBODY\n with the merchant key and sets
 * Authorization (nonce NULL: a fresh one). */
void mt_sign(mt_req *r, int64_t ts, const char *nonce);
/* Signs an arbitrary message with `key` and sets Authorization with ts and
 * nonce as given (to make deliberately wrong requests). */
void mt_sign_message(mt_req *r, const wxp_key *key, int64_t ts, const char *nonce, const char *msg,
                     size_t len);
/* The wxm_request view of it. */
const wxm_request *mt_request(mt_req *r);

/* Handles a signed POST reverse of otn at MT_NOW. */
void mt_reverse(wxm_mock *m, const char *otn, wxm_answer *a);
/* The same, giving only the status and the answer's code. */
int mt_reverse_status(wxm_mock *m, const char *otn, char code[64]);

/* The answer body as JSON (caller deletes), its "code" or "", a header. */
cJSON *mt_json(const wxm_answer *a);
const char *mt_header_of(const wxm_answer *a, const char *name);
/* Copies the answer's "code" into buf (or "" when none). */
const char *mt_code(const wxm_answer *a, char buf[64]);
/* Verifies the answer with the WeChat Pay public key and certificate
 * (both modes) at time now. */
wxp_err mt_verify_answer(const wxm_answer *a, int64_t now, wxp_diag *diag);

/* Admin call through the handler. */
void mt_admin(wxm_mock *m, const char *method, const char *target, const char *body, wxm_answer *a);
/* PUT /__admin/orders/otn with body; asserts 200. */
void mt_put_order(wxm_mock *m, const char *otn, const char *json);
/* The stored order (asserts it exists). */
Wxm_order mt_order(wxm_mock *m, const char *otn);

#endif
