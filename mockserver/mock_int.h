/* mock_int.h: shared between the mockserver/ sources. Not installed. */
#ifndef WXM_INT_H
#define WXM_INT_H

#include <wxpay/mock.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#if defined(__GNUC__)
#define WXM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WXM_PRINTF(a, b)
#endif

/* ------------------------------------------------------------- config */

typedef struct wxm_merchant {
    char mchid[WXP_ID_MAX + 1];
    char **appids;
    size_t nappids;
    wxp_key *cert; /* merchant API certificate: verifies requests */
} wxm_merchant;

enum { WXM_MODE_PUBLIC_KEY, WXM_MODE_CERTIFICATE };

struct wxm_config {
    wxm_merchant *merchants;
    size_t nmerchants;
    wxp_key *wechatpay_key; /* signs answers */
    int mode;
    char serial[80];        /* Wechatpay-Serial of answers */
    char platform_serial[80]; /* the platform certificate's, when configured */
    int64_t skew_seconds;   /* request Authorization timestamp window */
    int zero_config;        /* unknown orders are created (prefix catalogue) */
    size_t max_body_bytes;
    size_t journal_entries; /* in-memory cap */
    size_t nonce_entries;   /* replay-protection capacity */
    int64_t hang_ms;        /* how long a hang lasts before the close */
    int64_t reverse_window_seconds; /* 7 days */
    int no_sign;            /* benchmarks only: answers are not signed */
};

const wxm_merchant *wxm_config_merchant(const wxm_config *c, wxp_span mchid);

/* ------------------------------------------------------------- orders */

typedef enum wxm_state {
    WXM_SUCCESS, WXM_REFUND, WXM_NOTPAY, WXM_CLOSED, WXM_REVOKED,
    WXM_USERPAYING, WXM_PAYERROR
} wxm_state;

const char *wxm_state_name(wxm_state s);
bool wxm_state_parse(const char *name, wxm_state *out);

typedef enum wxm_step_action {
    WXM_STEP_OK, WXM_STEP_SYSTEM_ERROR, WXM_STEP_FREQUENCY_LIMITED,
    WXM_STEP_DELAY, WXM_STEP_HANG, WXM_STEP_DROP, WXM_STEP_BAD_SIGNATURE,
    WXM_STEP_SIGNTEST, WXM_STEP_UNSIGNED, WXM_STEP_SKEWED_TIMESTAMP,
    WXM_STEP_UNKNOWN_SERIAL, WXM_STEP_MALFORMED_BODY, WXM_STEP_GATEWAY_HTML,
    WXM_STEP_PARAM_ERROR
} wxm_step_action;

const char *wxm_step_name(wxm_step_action a);

/* 8 bytes: orders are many, and each carries its script inline. */
typedef struct wxm_step {
    uint8_t action;   /* wxm_step_action */
    bool apply;       /* delay/drop/hang: does the reversal take effect? */
    bool apply_first; /* delay: state changes before the wait (ambiguous timeout) */
    int32_t ms;       /* delay/hang length, at most 3,600,000; 0 = default */
} wxm_step;

/* The default step of an action: whether and when it changes the state. */
wxm_step wxm_step_default(wxm_step_action a);
/* Parses a JSON array of steps ("script"); names the bad step and field. */
wxp_err wxm_script_parse(const cJSON *arr, wxm_step **out, size_t *n,
                         wxp_diag *diag);

/* The steps as the admin API shows them. */
cJSON *wxm_script_json(const wxm_step *steps, size_t n);

#define WXM_MAX_SCRIPT 16

typedef struct wxm_order {
    char out_trade_no[WXP_ID_MAX + 1];
    char mchid[WXP_ID_MAX + 1];
    char appid[WXP_ID_MAX + 1];
    char transaction_id[WXP_ID_MAX + 1];
    wxm_state state;
    int64_t amount;     /* fen */
    int64_t created_at; /* Unix seconds */
    int64_t reversed_at;
    bool refunded;
    int64_t refund_amount;
    char refund_id[WXP_ID_MAX + 1];
    int64_t refunded_at;
    int reverse_calls;
    wxm_step script[WXM_MAX_SCRIPT];
    size_t nsteps, pos;
} wxm_order;

typedef struct wxm_store wxm_store;

wxm_store *wxm_store_new(void);
void wxm_store_free(wxm_store *s);
void wxm_store_clear(wxm_store *s);
/* Runs fn on the order under its lock, creating it with `init` (when not
 * NULL) if absent. fn returns what the caller wants back in ctx. */
typedef void (*wxm_order_fn)(wxm_order *o, void *ctx);
typedef enum wxm_found {
    WXM_ABSENT = 0, /* no such order, and no init */
    WXM_FOUND,      /* fn ran (on the order found or created) */
    WXM_NO_MEMORY   /* absent, and it could not be created */
} wxm_found;
wxm_found wxm_store_with(wxm_store *s, const char *out_trade_no, const wxm_order *init,
                         wxm_order_fn fn, void *ctx);
/* Replaces (or creates) an order. */
wxp_err wxm_store_put(wxm_store *s, const wxm_order *o);
bool wxm_store_get(wxm_store *s, const char *out_trade_no, wxm_order *copy);
size_t wxm_store_count(wxm_store *s);
/* Checks every order for states that must never happen (a refund larger
 * than the amount, a refund on an order that is not REVOKED, a script
 * position past its end...). false with `why` filled on the first. */
bool wxm_store_check(wxm_store *s, char *why, size_t cap);


/* ------------------------------------------------------------- nonces */

typedef struct wxm_nonces wxm_nonces;
/* Room for `cap` pairs, allocated (and touched) now. */
wxm_nonces *wxm_nonces_new(size_t cap);
/* Pairs pushed out while still inside their window (capacity too small). */
uint64_t wxm_nonces_evicted_live(wxm_nonces *n);
void wxm_nonces_free(wxm_nonces *n);
void wxm_nonces_clear(wxm_nonces *n);
/* true when (mchid, nonce) was recorded and has not expired by `now`. */
bool wxm_nonces_seen(wxm_nonces *n, wxp_span mchid, wxp_span nonce, int64_t now);
/* Records it until `expires`; false when it was already there (a race). */
bool wxm_nonces_add(wxm_nonces *n, wxp_span mchid, wxp_span nonce, int64_t now,
                    int64_t expires);

/* ------------------------------------------------------------ journal */

/* A JSON text written front to back, for journal entries: one buffer
 * instead of a tree of small allocations on every request. Members (key
 * given) and array elements (key NULL) get their commas from what came
 * before; strings are escaped the way cJSON prints them. */
typedef struct wxm_json {
    char *p;
    size_t len, cap;
    bool failed; /* out of memory: the text is incomplete */
} wxm_json;

void wxm_json_open(wxm_json *j, const char *key, char bracket); /* '{' or '[' */
void wxm_json_close(wxm_json *j, char bracket);                  /* '}' or ']' */
void wxm_json_string(wxm_json *j, const char *key, const char *s, size_t n);
void wxm_json_cstring(wxm_json *j, const char *key, const char *s);
void wxm_json_int(wxm_json *j, const char *key, long long v);
void wxm_json_bool(wxm_json *j, const char *key, bool v);

typedef struct wxm_journal wxm_journal;
wxm_journal *wxm_journal_new(size_t cap);
void wxm_journal_free(wxm_journal *j);
/* Adds the entry `text` (a JSON object, taken over and freed) for order
 * out_trade_no (NULL: none); assigns "seq" and writes the line to the file.
 * A failed text is dropped. */
void wxm_journal_add(wxm_journal *j, wxm_json *text, const char *out_trade_no);
/* {"entries":[...],"dropped":N,"cap":C}, optionally only one order. */
char *wxm_journal_dump(wxm_journal *j, const char *out_trade_no);
void wxm_journal_clear(wxm_journal *j);
wxp_err wxm_journal_set_file(wxm_journal *j, const char *path, wxp_diag *diag);
uint64_t wxm_journal_total(wxm_journal *j);

/* --------------------------------------------------------------- mock */

struct wxm_mock {
    wxm_config *cfg;
    wxm_store *orders;
    wxm_nonces *nonces;
    wxm_journal *journal;
    uint64_t request_seq; /* atomic: Request-ID */
};

/* ------------------------------------------------------- orderjson.c */

/* Order as JSON for the admin API (all fields, refund record, script). */
cJSON *wxm_order_admin_json(const wxm_order *o);
/* Order from an admin PUT body; fields absent keep the defaults in *o. */
wxp_err wxm_order_from_json(const cJSON *obj, wxm_order *o, wxp_diag *diag);

/* ------------------------------------------------------- catalogue.c */

/* The zero-config catalogue: how an unknown order whose out_trade_no starts
 * with a known prefix begins life. Returns false for ORDER_NOT_EXIST. */
bool wxm_catalogue_order(const char *out_trade_no, int64_t now, wxm_order *o);

/* ---------------------------------------------------------- answer.c */

/* Adds a header (copied); a failure makes the answer a 500 (a->broken). */
void wxm_answer_header(wxm_answer *a, const char *name, const char *value);
/* Sets the body (copied), the same way. */
void wxm_answer_body(wxm_answer *a, const char *text, size_t n);
/* A plain JSON answer (admin): takes ownership of j. */
void wxm_answer_json(wxm_answer *a, int status, cJSON *j);
/* The answer's WeChat Pay code, in the journal entry and for the log. */
void wxm_answer_code(wxm_answer *a, wxm_json *entry, const char *code);
/* An API answer: the JSON body (taken), Request-ID, and the signature
 * headers, corrupted as `fault` says. */
void wxm_api_answer(wxm_mock *m, wxm_answer *a, int status, cJSON *body,
                    wxm_step_action fault, int64_t now);
/* An object of n string members, given as key, value, ...; NULL when out
 * of memory (never a partial object). */
cJSON *wxm_json_object(int n, ...);
/* {"code", "message", "detail"} of an error answer; takes detail. NULL
 * when out of memory. */
cJSON *wxm_error_body(const char *code, const char *message, cJSON *detail);
/* Adds bytes as a string member, quoted to printable ASCII (wxp_quote). */
void wxm_add_quoted(cJSON *obj, const char *name, wxp_span s);

/* ------------------------------------------------------------- checks */

/* NAME=value from a query string (a span: no NUL needed), percent-decoded
 * into out[cap]; false when absent. */
bool wxm_query_param(wxp_span q, const char *name, char *out, size_t cap);

/* Case-insensitive header lookup; counts how many there are. */
const wxm_header *wxm_find_header(const wxm_request *r, const char *name,
                                  size_t *count);

/* The verdict of one check, for the journal and the error detail. */
typedef struct wxm_verdict {
    const char *check; /* "method", "path", ..., "signature" */
    int status;        /* HTTP status when failed, 0 when passed */
    const char *code;  /* WeChat Pay error code when failed */
    cJSON *detail;     /* owned; the "detail" object of the error answer */
    char message[400]; /* the "message" of the error answer */
} wxm_verdict;

/* -------------------------------------------------- one API request */

enum { WXM_ROUTE_REVERSE, WXM_ROUTE_QUERY };

#define WXM_REVERSE_TEMPLATE "/v3/pay/transactions/out-trade-no/{out_trade_no}/reverse"
#define WXM_QUERY_TEMPLATE "/v3/pay/transactions/out-trade-no/{out_trade_no}"

/* What the checks learn about a request, in the order they learn it. */
typedef struct wxm_ctx {
    wxm_mock *m;
    const wxm_request *req;
    int64_t now;
    int route;
    wxp_match match;
    char out_trade_no[WXP_PARAM_MAX_LEN + 1];
    size_t out_trade_no_len; /* decoded bytes: a %00 is a byte, not the end */
    char mchid[WXP_ID_MAX + 1]; /* from the body (POST) or the query (GET) */
    char appid[WXP_ID_MAX + 1]; /* POST only */
    wxp_auth auth;
    const wxm_merchant *merchant;
    wxm_json *journal; /* the entry's open "checks" array */
    wxm_verdict fail; /* filled by the first failing check */
} wxm_ctx;

/* Runs every check of README "Checks" in order; false at the first that
 * fails, with ctx->fail filled (status, code, message, detail). */
bool wxm_check_request(wxm_ctx *ctx);

/* --------------------------------------------------------- sigdiag.c */

/* The message the request should have signed (malloc'd; NULL when out of
 * memory), from the raw request and its Authorization. */
char *wxm_signed_message(const wxm_ctx *c, size_t *len);
/* Adds to `det` (the error detail) the sign_information with the expected
 * message and, when another message or key explains the signature, the
 * likely_mistake. Returns that mistake's explanation, or NULL. */
const char *wxm_signature_diagnosis(const wxm_ctx *c, wxp_err e, const char *msg, size_t len,
                                    cJSON *det);

/* ----------------------------------------------------------- rules.c */

/* The answers of the endpoints to a request that passed every check. */
void wxm_rule_reverse(wxm_ctx *c, wxm_answer *a, wxm_json *entry);
void wxm_rule_query(wxm_ctx *c, wxm_answer *a, wxm_json *entry);

/* ----------------------------------------------------------- admin.c */

/* Answers a request under /__admin/. */
void wxm_admin(wxm_mock *m, const wxm_request *r, int64_t now, wxm_answer *a);

#endif /* WXM_INT_H */
