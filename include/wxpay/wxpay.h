/*
 * wxpay.h: libwxpay, a small WeChat Pay API v3 client for code payment
 * (付款码支付) and its reversal (撤销): codepay, query, close, reverse, in
 * the merchant's and the service provider's forms.
 *
 * It signs every request, verifies every 2xx answer before trusting it,
 * retries what is safe to retry, and tells apart the ways a reversal can
 * end. Built on libcurl and the protocol library (<wxpay/protocol.h>).
 *
 * Ownership, said once:
 * - wxpay_client_new() / wxpay_client_free(): one client per thread (a
 *   client is not shared between threads; build one per thread, they share
 *   nothing). Keys are parsed once, when set.
 * - Every call that returns a result gives you a wxpay_result you free with
 *   wxpay_result_free(). Strings from getters live as long as the result.
 * - wxpay_multi: several requests at once on one client (libcurl multi);
 *   each finished request hands its result to your callback, which owns it.
 * - _free(NULL) does nothing. No global state besides curl_global_init(),
 *   which wxpay_global_init() calls once at program start.
 *
 * Errors, said once: every call that can fail returns a wxpay_code (0 is
 * WXPAY_OK) and is marked must-check. The words go to one place per call:
 * a call that gives a wxpay_result puts them in wxpay_result_detail();
 * every other call (setters, dry runs, adding to a multi) in
 * wxpay_client_error(), with wxpay_client_error_setting() naming the
 * setting a WXPAY_E_CONFIG is about, so a program can name its own flag.
 */
#ifndef WXPAY_H
#define WXPAY_H

#include <stddef.h>
#include <stdint.h>

#include <wxpay/protocol.h>
#include <wxpay/version.h> /* WXPAY_VERSION */

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WXPAY_MUST_CHECK __attribute__((warn_unused_result))
#else
#define WXPAY_MUST_CHECK
#endif
#define WXPAY_DEFAULT_BASE_URL "https://api.mch.weixin.qq.com"
#define WXPAY_DEFAULT_BACKUP_URL "https://api2.mch.weixin.qq.com"

/* How a call ended. 0 is success; the rest are the failure classes the
 * command line maps to exit statuses. */
typedef enum wxpay_code {
    WXPAY_OK = 0,
    WXPAY_E_ARG,       /* a NULL or invalid argument */
    WXPAY_E_NOMEM,     /* out of memory */
    WXPAY_E_CONFIG,    /* the client is not set up for this call */
    WXPAY_E_BUSINESS,  /* WeChat Pay answered an error code (ORDER_CLOSED, ...) */
    WXPAY_E_VERIFY,    /* a 2xx answer failed verification: never trusted */
    WXPAY_E_MALFORMED, /* an answer that could not be understood */
    WXPAY_E_TRANSPORT, /* no answer: connection failed or dropped, every attempt */
    WXPAY_E_TIMEOUT,   /* no answer in time, every attempt */
    WXPAY_E_SIGN       /* the request could not be signed (the key or OpenSSL failed) */
} wxpay_code;

/* One line naming the code; never NULL. */
const char *wxpay_strerror(wxpay_code code);

/* Calls curl_global_init() once; call it at program start, before threads. */
WXPAY_MUST_CHECK wxpay_code wxpay_global_init(void);
void wxpay_global_cleanup(void);

/* ----------------------------------------------------------------- client */

typedef struct wxpay_client wxpay_client;

wxpay_client *wxpay_client_new(void);
void wxpay_client_free(wxpay_client *c);

/* The settings a WXPAY_E_CONFIG can be about. */
typedef enum wxpay_setting {
    WXPAY_SETTING_NONE = 0,
    WXPAY_SETTING_BASE_URL,
    WXPAY_SETTING_BACKUP_URL,
    WXPAY_SETTING_MCHID,
    WXPAY_SETTING_MERCHANT_KEY,    /* wxpay_set_merchant_key_file() */
    WXPAY_SETTING_MERCHANT_SERIAL, /* its serial, or wxpay_set_merchant_cert_file() */
    WXPAY_SETTING_MERCHANT_CERT,
    WXPAY_SETTING_WECHATPAY_KEY, /* a public key or a platform certificate */
    WXPAY_SETTING_RESOLVE,
    WXPAY_SETTING_NONCE,
    WXPAY_SETTING_REQUEST, /* the call's own arguments (method, path, ids) */
    WXPAY_SETTING_APIV3_KEY,
    WXPAY_SETTING_SUB_MERCHANT
} wxpay_setting;

/* The last error of a call that gives no result, in words (never NULL),
 * and the setting it is about (WXPAY_SETTING_NONE when none). */
const char *wxpay_client_error(const wxpay_client *c);
wxpay_setting wxpay_client_error_setting(const wxpay_client *c);

/* Base URL (default WXPAY_DEFAULT_BASE_URL). Setting it turns the backup
 * off unless a backup is set too, so a test never fails over to the real
 * service. NULL backup turns failover off. */
WXPAY_MUST_CHECK wxpay_code wxpay_set_base_url(wxpay_client *c, const char *url);
WXPAY_MUST_CHECK wxpay_code wxpay_set_backup_url(wxpay_client *c, const char *url);
WXPAY_MUST_CHECK wxpay_code wxpay_set_mchid(wxpay_client *c, const char *mchid);
/* The merchant API private key (PEM file) and its certificate serial. */
WXPAY_MUST_CHECK wxpay_code wxpay_set_merchant_key_file(wxpay_client *c, const char *path,
                                                        const char *serial);
/* Reads the serial from the merchant certificate instead of typing it. */
WXPAY_MUST_CHECK wxpay_code wxpay_set_merchant_cert_file(wxpay_client *c, const char *path);
/* WeChat Pay verification keys; several may be added, of both kinds. */
WXPAY_MUST_CHECK wxpay_code wxpay_add_wechatpay_public_key_file(wxpay_client *c, const char *path,
                                                                const char *key_id);
WXPAY_MUST_CHECK wxpay_code wxpay_add_platform_cert_file(wxpay_client *c, const char *path);
/* The merchant's APIv3 key (32 characters; NULL: none). With it and no
 * WeChat Pay key the client downloads the platform certificates (GET
 * /v3/certificates) before its first call, trusting them only when the
 * list's answer verifies with a certificate it carries and every entry
 * authenticates under the key; and, keys or not, it fetches the list
 * again (once per answer) when an answer names a serial it does not
 * know, as after a certificate rotation. */
WXPAY_MUST_CHECK wxpay_code wxpay_set_apiv3_key(wxpay_client *c, const char *key);
/* Per attempt, in milliseconds (defaults 3000 and 5000). */
WXPAY_MUST_CHECK wxpay_code wxpay_set_timeouts(wxpay_client *c, long connect_ms, long total_ms);
/* Retries after the first attempt (default 3); backoff starts at base_ms
 * (default 200), doubles, is capped at max_ms (default 5000), and is
 * jittered to 50-100% of that. */
WXPAY_MUST_CHECK wxpay_code wxpay_set_retry(wxpay_client *c, int retries, long base_ms,
                                            long max_ms);
/* Answer timestamp window in seconds (default 300). */
WXPAY_MUST_CHECK wxpay_code wxpay_set_skew(wxpay_client *c, int64_t seconds);
/* Extra text before the default "wxpay-c/VERSION curl/VERSION". */
WXPAY_MUST_CHECK wxpay_code wxpay_set_user_agent(wxpay_client *c, const char *product);
/* CA bundle for https (default: the system's). */
WXPAY_MUST_CHECK wxpay_code wxpay_set_ca_file(wxpay_client *c, const char *path);
/* Pins a host name to an address, like curl --resolve "HOST:PORT:ADDR":
 * lets a test send https://api.mch.weixin.qq.com:PORT to a local mock with
 * the certificate checked against that name. May be called again to add. */
WXPAY_MUST_CHECK wxpay_code wxpay_add_resolve(wxpay_client *c, const char *host_port_addr);
/* Fixed timestamp and nonce for reproducible signatures (--dry-run, known
 * answers). Every attempt reuses them: a live retry would be refused as a
 * replay, so use them with retries 0. 0 / NULL go back to live values. */
WXPAY_MUST_CHECK wxpay_code wxpay_set_fixed_timestamp(wxpay_client *c, int64_t ts);
WXPAY_MUST_CHECK wxpay_code wxpay_set_fixed_nonce(wxpay_client *c, const char *nonce);

/* Called once per attempt when set: a line for -v output. */
typedef void (*wxpay_log_fn)(void *user, const char *line);
void wxpay_set_log(wxpay_client *c, wxpay_log_fn fn, void *user);

/* ----------------------------------------------------------------- result */

typedef struct wxpay_result wxpay_result;

void wxpay_result_free(wxpay_result *r);
wxpay_code wxpay_result_code(const wxpay_result *r);
/* A sentence saying what happened and why (the per-result error buffer). */
const char *wxpay_result_detail(const wxpay_result *r);
long wxpay_result_http_status(const wxpay_result *r);       /* 0: no answer */
const char *wxpay_result_request_id(const wxpay_result *r); /* "" if none */
/* WeChat Pay's error code and message for WXPAY_E_BUSINESS ("" if none). */
const char *wxpay_result_error_code(const wxpay_result *r);
const char *wxpay_result_error_message(const wxpay_result *r);
/* The answer's detail object as compact JSON, or "". */
const char *wxpay_result_error_detail(const wxpay_result *r);
/* Which check failed for WXPAY_E_VERIFY (WXP_OK otherwise). */
wxp_err wxpay_result_verify_error(const wxpay_result *r);
int wxpay_result_attempts(const wxpay_result *r);
/* The raw answer body (not NUL-safe; length in *len). */
const char *wxpay_result_body(const wxpay_result *r, size_t *len);
/* Fields of a verified reverse or transaction answer ("" otherwise); in
 * the partner form appid and mchid are the sub-merchant's. */
const char *wxpay_result_out_trade_no(const wxpay_result *r);
const char *wxpay_result_appid(const wxpay_result *r);
const char *wxpay_result_mchid(const wxpay_result *r);
/* Of a verified transaction (codepay, queries): "SUCCESS", "USERPAYING",
 * "REVOKED", ...; and WeChat Pay's order number. */
const char *wxpay_result_trade_state(const wxpay_result *r);
const char *wxpay_result_transaction_id(const wxpay_result *r);

/* --------------------------------------------------------------- requests */

/* The generic call reverse() is built on. `path` is either a template with
 * {name} parameters ("v3/pay/transactions/out-trade-no/{out_trade_no}/reverse")
 * or the chain form ("v3/pay/transactions/outTradeNo/_out_trade_no_/reverse").
 * json_body may be NULL (no body). Always sets *out unless out of memory. */
WXPAY_MUST_CHECK wxpay_code wxpay_request(wxpay_client *c, const char *method, const char *path,
                                          const wxp_param *params, size_t nparams,
                                          const char *json_body, wxpay_result **out);

/* Reverses an order. WXPAY_OK only when the verified answer says so; the
 * result then names appid, mchid and out_trade_no. */
WXPAY_MUST_CHECK wxpay_code wxpay_reverse(wxpay_client *c, const char *out_trade_no,
                                          const char *appid, wxpay_result **out);

/* The exact HTTP request an attempt would send, without sending it:
 * "METHOD URL\nHeader: value\n...\n\nBODY". Caller frees with free(). */
WXPAY_MUST_CHECK wxpay_code wxpay_dry_run(wxpay_client *c, const char *method, const char *path,
                                          const wxp_param *params, size_t nparams,
                                          const char *json_body, char **out);
WXPAY_MUST_CHECK wxpay_code wxpay_dry_run_reverse(wxpay_client *c, const char *out_trade_no,
                                                  const char *appid, char **out);

/* ----------------------------------------------------------- code payment */

/* The partner (service provider, 服务商) form of every call: the client's
 * mchid, key and serial are then the service provider's, and sub_mchid
 * (with the optional sub_appid) names the sub-merchant the order belongs
 * to. NULL sub_mchid goes back to direct calls. */
WXPAY_MUST_CHECK wxpay_code wxpay_set_sub_merchant(wxpay_client *c, const char *sub_mchid,
                                                   const char *sub_appid);

/* A code payment (付款码支付): the payment code the scanner read. */
typedef struct wxpay_codepay_params {
    const char *appid; /* the merchant's appid (partner: the service provider's) */
    const char *out_trade_no;
    const char *auth_code;   /* 18 digits */
    const char *description; /* what is sold */
    int64_t total;           /* fen */
    const char *store_id;    /* the shop's id (scene_info.store_info.out_id); NULL: "0" */
    const char *device_id;   /* the till's id; may be NULL */
    const char *attach;      /* may be NULL */
} wxpay_codepay_params;

/* POST .../codepay. WXPAY_OK with trade_state SUCCESS (200) or USERPAYING
 * (202: the user is typing a password; query until it ends). Never sent
 * twice: after no answer or SYSTEM_ERROR, query the order instead. */
WXPAY_MUST_CHECK wxpay_code wxpay_codepay(wxpay_client *c, const wxpay_codepay_params *p,
                                          wxpay_result **out);
/* GET .../out-trade-no/{out_trade_no} and GET .../id/{transaction_id}:
 * the verified transaction (wxpay_result_trade_state()). */
WXPAY_MUST_CHECK wxpay_code wxpay_query(wxpay_client *c, const char *out_trade_no,
                                        wxpay_result **out);
WXPAY_MUST_CHECK wxpay_code wxpay_query_by_id(wxpay_client *c, const char *transaction_id,
                                              wxpay_result **out);
/* POST .../close: WXPAY_OK on the verified 204. A code payment cannot be
 * closed (the service answers TRADE_ERROR): reverse it. */
WXPAY_MUST_CHECK wxpay_code wxpay_close(wxpay_client *c, const char *out_trade_no,
                                        wxpay_result **out);

/* ------------------------------------------------------------------ async */

typedef struct wxpay_multi wxpay_multi;
/* Receives each finished request's result (yours to free). */
typedef void (*wxpay_done_fn)(void *user, wxpay_result *r);

/* The multi uses the client's settings; the client must outlive it. */
wxpay_multi *wxpay_multi_new(wxpay_client *c);
void wxpay_multi_free(wxpay_multi *m);
WXPAY_MUST_CHECK wxpay_code wxpay_multi_add_request(wxpay_multi *m, const char *method,
                                                    const char *path, const wxp_param *params,
                                                    size_t nparams, const char *json_body,
                                                    wxpay_done_fn done, void *user);
WXPAY_MUST_CHECK wxpay_code wxpay_multi_add_reverse(wxpay_multi *m, const char *out_trade_no,
                                                    const char *appid, wxpay_done_fn done,
                                                    void *user);
WXPAY_MUST_CHECK wxpay_code wxpay_multi_add_codepay(wxpay_multi *m, const wxpay_codepay_params *p,
                                                    wxpay_done_fn done, void *user);
WXPAY_MUST_CHECK wxpay_code wxpay_multi_add_query(wxpay_multi *m, const char *out_trade_no,
                                                  wxpay_done_fn done, void *user);
WXPAY_MUST_CHECK wxpay_code wxpay_multi_add_query_by_id(wxpay_multi *m, const char *transaction_id,
                                                        wxpay_done_fn done, void *user);
WXPAY_MUST_CHECK wxpay_code wxpay_multi_add_close(wxpay_multi *m, const char *out_trade_no,
                                                  wxpay_done_fn done, void *user);
/* Drives transfers for at most timeout_ms, calling done() for each request
 * that ended; returns how many are still in progress. */
int wxpay_multi_poll(wxpay_multi *m, int timeout_ms);
/* Polls until every request has ended. */
void wxpay_multi_wait(wxpay_multi *m);

#ifdef __cplusplus
}
#endif
#endif /* WXPAY_H */
