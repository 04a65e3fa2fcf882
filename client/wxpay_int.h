/* wxpay_int.h: shared by the client/ sources. Not installed. */
#ifndef WXPAY_INTERNAL_H
#define WXPAY_INTERNAL_H

#include <wxpay/wxpay.h>

#include <stdbool.h>

struct wxpay_client {
    char *base_url;
    char *backup_url; /* NULL: no failover */
    char mchid[WXP_ID_MAX + 1];
    wxp_key *merchant_key;
    char merchant_serial[80];
    wxp_keyring *ring;
    char expect_serial[80]; /* sent as Wechatpay-Serial: the first key added */
    long connect_ms, total_ms;
    int retries;
    long base_ms, max_ms;
    int64_t skew;
    char user_agent[256];
    char *ca_file;
    char *resolve[4]; /* "HOST:PORT:ADDR" */
    int nresolve;
    int64_t fixed_ts;
    char fixed_nonce[65];
    wxpay_log_fn log;
    void *log_user;
    uint64_t rng; /* jitter only; not for anything secret */
    struct wxpay_multi *sync_multi; /* kept for sync calls: its connections are reused */
    char error[400];
};

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
};

/* One request as the user asked for it; attempts are signed from it. */
typedef struct wxpay_job_spec {
    char method[16];
    char *target; /* expanded path and query */
    char *body;   /* NULL: no body */
    size_t body_len;
    bool is_reverse;
    char out_trade_no[WXP_PARAM_MAX_LEN + 1];
} wxpay_job_spec;

/* The answer headers the client reads. */
enum { H_REQUEST_ID, H_TIMESTAMP, H_NONCE, H_SIGNATURE, H_SERIAL, H_SIGNATURE_TYPE,
       H_CONTENT_TYPE, H_COUNT };
extern const char *const wxpay_answer_header_names[H_COUNT];

typedef struct wxpay_answer {
    int curl_code;   /* CURLcode; 0 when an answer came */
    bool timed_out;
    char curl_error[256];
    long status;
    char *body;
    size_t body_len;
    char headers[H_COUNT][1100];
    bool present[H_COUNT];
} wxpay_answer;

/* Builds the spec: expands the template or chain form, copies the body. */
wxpay_code wxpay_spec_init(wxpay_client *c, wxpay_job_spec *s, const char *method,
                           const char *path, const wxp_param *params, size_t nparams,
                           const char *json_body);
void wxpay_spec_clear(wxpay_job_spec *s);
wxpay_code wxpay_spec_reverse(wxpay_client *c, wxpay_job_spec *s, const char *out_trade_no,
                              const char *appid);

/* Signs one attempt: fills up to 6 "Name: value" header lines (malloc'd,
 * NULL-terminated array) for spec at the client's time. */
wxpay_code wxpay_sign_headers(wxpay_client *c, const wxpay_job_spec *s, char *headers[8]);
void wxpay_free_headers(char *headers[8]);

/* Base URL for an attempt: the backup after a transport failure. */
const char *wxpay_attempt_base(const wxpay_client *c, bool use_backup);

/* Judges an answer: a new result, and whether another attempt may help. */
wxpay_result *wxpay_judge(wxpay_client *c, const wxpay_job_spec *s, wxpay_answer *a,
                          int attempts, bool *retry);
/* A result for a call that never reached the network. */
wxpay_result *wxpay_result_new(wxpay_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Backoff before attempt n+1 (n >= 1), jittered. */
long wxpay_backoff_ms(wxpay_client *c, int n);
void wxpay_log(wxpay_client *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Used by the User-Agent: libcurl's version, from transport.c. */
const char *wxpay_curl_version(void);

#endif
