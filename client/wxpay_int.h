/* wxpay_int.h: shared by the client/ sources. Not installed.
 *
 * The files, each calling only the ones listed before it:
 *   http.c      libcurl: sends a signed request, hands back the answer
 *   settings.c  the client handle, its setters and keys
 *   request.c   a request spec, its signed headers, the dry run (pure)
 *   judge.c     results: an answer judged into a wxpay_result (pure)
 *   certs.c     platform certificates downloaded with the APIv3 key (pure)
 *   engine.c    attempts: retries, backoff, failover, certificate downloads;
 *               async and sync calls
 */
#ifndef WXPAY_INT_H
#define WXPAY_INT_H

#include <wxpay/wxpay.h>

#include "wxpay_http.h"

#include <stdbool.h>

#if defined(__GNUC__)
#define WXPAY_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WXPAY_PRINTF(a, b)
#endif

/* ---------------------------------------------------------- settings.c */

struct wxpay_client {
    char *base_url;
    char *backup_url; /* NULL: no failover */
    char mchid[WXP_ID_MAX + 1];
    wxp_key *merchant_key;
    char merchant_serial[80];
    wxp_keyring *ring;
    char expect_serial[80];                /* sent as Wechatpay-Serial: the first key added */
    char apiv3_key[WXP_APIV3_KEY_LEN + 1]; /* "": platform certificates are not downloaded */
    char sub_mchid[WXP_ID_MAX + 1];        /* "": direct calls; else the partner forms */
    char sub_appid[WXP_ID_MAX + 1];
    int downloads; /* certificate lists taken into the ring */
    long connect_ms, total_ms;
    int retries;
    long base_ms, max_ms;
    int64_t skew;
    char user_agent[400]; /* the whole header value */
    char *ca_file;
    char *resolve[4]; /* "HOST:PORT:ADDR" */
    int nresolve;
    int64_t fixed_ts;
    char fixed_nonce[65];
    wxpay_log_fn log;
    void *log_user;
    uint64_t rng;          /* jitter only; not for anything secret */
    Wxpay_http *sync_http; /* kept for sync calls: its connections are reused */
    wxpay_setting error_setting;
    char error[400];
};

/* Sets the client's error text and the setting it is about; returns
 * WXPAY_E_CONFIG. */
wxpay_code Wxpay_config_error(wxpay_client *c, wxpay_setting setting, const char *fmt, ...)
    WXPAY_PRINTF(3, 4);
/* A line for the log callback, when one is set. */
void Wxpay_log(wxpay_client *c, const char *fmt, ...) WXPAY_PRINTF(2, 3);

/* ----------------------------------------------------------- request.c */

/* One request as the user asked for it; attempts are signed from it. */
typedef struct Wxpay_spec {
    char method[16];
    char *target; /* expanded path and query */
    char *body;   /* NULL: no body */
    size_t body_len;
    bool is_reverse;
    bool is_transaction; /* codepay, queries: the answer is a transaction */
    bool is_close;       /* a 204 without body is the success */
    bool no_retry;       /* codepay: after no answer, query instead of paying again */
    char out_trade_no[WXP_PARAM_MAX_LEN + 1]; /* "" when the call names the order otherwise */
    char transaction_id[WXP_ID_MAX + 1];
} Wxpay_spec;

/* WXPAY_OK when the client can verify answers: a WeChat Pay key, or the
 * APIv3 key to download the platform certificates (a dry run needs
 * neither). */
WXPAY_MUST_CHECK wxpay_code Wxpay_can_verify(wxpay_client *c);
/* Builds the spec: checks the client can sign, expands the template or
 * chain form, copies the body. Errors go to the client. */
WXPAY_MUST_CHECK wxpay_code Wxpay_spec_init(wxpay_client *c, Wxpay_spec *s, const char *method,
                                            const char *path, const wxp_param *params,
                                            size_t nparams, const char *json_body);
WXPAY_MUST_CHECK wxpay_code Wxpay_spec_reverse(wxpay_client *c, Wxpay_spec *s,
                                               const char *out_trade_no, const char *appid);
/* The code-payment calls, direct or partner (the client's sub_mchid). */
WXPAY_MUST_CHECK wxpay_code Wxpay_spec_codepay(wxpay_client *c, Wxpay_spec *s,
                                               const wxpay_codepay_params *p);
/* by_id: the name is a transaction_id, else an out_trade_no. */
WXPAY_MUST_CHECK wxpay_code Wxpay_spec_query(wxpay_client *c, Wxpay_spec *s, const char *name,
                                             bool by_id);
WXPAY_MUST_CHECK wxpay_code Wxpay_spec_close(wxpay_client *c, Wxpay_spec *s,
                                             const char *out_trade_no);
void Wxpay_spec_clear(Wxpay_spec *s);

#define WXPAY_MAX_HEADERS 8
/* Signs one attempt at the client's time: fills up to 5 "Name: value"
 * header lines (malloc'd, NULL-terminated). On failure says why in
 * why[cap]: WXPAY_E_NOMEM, or WXPAY_E_SIGN with the signing error. */
WXPAY_MUST_CHECK wxpay_code Wxpay_sign_headers(const wxpay_client *c, const Wxpay_spec *s,
                                               char *headers[WXPAY_MAX_HEADERS], char *why,
                                               size_t cap);
void Wxpay_free_headers(char *headers[WXPAY_MAX_HEADERS]);

/* ------------------------------------------------------------- judge.c */

struct wxpay_result {
    wxpay_code code;
    char detail[600];
    long http_status;
    char request_id[128];
    char error_code[64];
    char error_message[512];
    char *error_detail;
    wxp_err verify_error;
    int attempts;
    char *body;
    size_t body_len;
    char out_trade_no[WXP_PARAM_MAX_LEN + 1];
    char appid[WXP_ID_MAX + 1];
    char mchid[WXP_ID_MAX + 1];
    char trade_state[16]; /* a verified transaction's */
    char transaction_id[WXP_ID_MAX + 1];
};

/* A result with a detail sentence (NULL when out of memory). */
wxpay_result *Wxpay_result_new(wxpay_code code, const char *fmt, ...) WXPAY_PRINTF(2, 3);

/* Judges an answer: a new result (NULL when out of memory; the answer's
 * body moves into it), and whether another attempt may help. */
wxpay_result *Wxpay_judge(const wxpay_client *c, const Wxpay_spec *s, Wxpay_answer *a, int attempts,
                          bool *retry);
/* The Wechatpay-* headers of an answer, as wxp_response_verify() takes them. */
void Wxpay_signature_headers(const Wxpay_answer *a, wxp_response_headers *h);

/* ------------------------------------------------------------- certs.c */

/* The client cannot verify anything yet and has the APIv3 key: the
 * platform certificates must be downloaded before the first call. */
bool Wxpay_certs_needed(const wxpay_client *c);
/* The spec of GET /v3/certificates. */
WXPAY_MUST_CHECK wxpay_code Wxpay_certs_spec(wxpay_client *c, Wxpay_spec *s);
/* Takes a certificate list answer: verified with a certificate it
 * carries (or one known), opened with the APIv3 key, its certificates
 * added to the ring. A result either way (code WXPAY_OK when taken; NULL
 * when out of memory), and whether another download may help. */
wxpay_result *Wxpay_certs_accept(wxpay_client *c, Wxpay_answer *a, bool *retry);

#endif /* WXPAY_INT_H */
