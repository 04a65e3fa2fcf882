/* mock_int.h: shared between the mockserver/ sources. Not installed.
 *
 * The files, each calling only the ones listed after it:
 *   server.c     libmicrohttpd: the listener, parked connections, deadlines
 *   wire.c       the same without libmicrohttpd: framing rules, the log line,
 *                sockets, the connection limit, PEM files
 *   handler.c    one request in, one answer out; the journal entry
 *   admin.c      the admin API, a route table
 *   pay.c        code payment: codepay and close
 *   rules.c      the order rules of reverse, query and the certificates
 *   checks.c     the checks every API request passes, in order
 *   sigdiag.c    the expected signed message and the likely mistake
 *   payloads.c   the bodies and query parameters of the endpoints
 *   answer.c     answers: headers, bodies, signing and its faults
 *   orderjson.c  orders as the admin API reads and writes them
 *   catalogue.c  the zero-config out_trade_no prefixes
 *   request.c    headers and query parameters of a request by name
 *   keys.c       the key mode, the signing and listed platform certificates
 *   script.c     scenario steps
 *   store.c      the order store and the order states
 *   journal.c    the journal and its JSON writer
 *   nonces.c     the replay window
 *   config.c     the config file
 * (main.c is the wxpay-mock program, on the public API only.) */
#ifndef WXM_INT_H
#define WXM_INT_H

#include <wxpay/mock.h>

#include <pthread.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#if defined(__GNUC__)
#define WXM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WXM_PRINTF(a, b)
#endif

/* ---------------------------------------------------------- config.c */

typedef struct Wxm_merchant {
    char mchid[WXP_ID_MAX + 1];
    char **appids;
    size_t nappids;
    wxp_key *cert; /* merchant API certificate: verifies requests (NULL: a sub-merchant) */
    /* A service provider (服务商) signs for the sub-merchants bound to it. */
    struct Wxm_merchant *subs;
    size_t nsubs;
} Wxm_merchant;

enum { WXM_MODE_PUBLIC_KEY, WXM_MODE_CERTIFICATE };

/* A platform certificate the mock can list and sign with. */
#define WXM_MAX_PLATFORMS 8
typedef struct Wxm_platform {
    wxp_key *key;  /* private: signs the answers while it is the signing one */
    wxp_key *cert; /* the certificate (public) */
    char *pem;     /* its text, sealed into the certificate list */
    bool listed;   /* listed from the start (the first always is) */
} Wxm_platform;

struct wxm_config {
    Wxm_merchant *merchants;
    size_t nmerchants;
    wxp_key *wechatpay_key; /* signs answers in public-key mode */
    int mode;               /* at start; the admin API may switch it */
    char public_key_id[80]; /* Wechatpay-Serial in public-key mode ("" if none) */
    Wxm_platform platforms[WXM_MAX_PLATFORMS]; /* [0] is wechatpay.certificate */
    size_t nplatforms;
    char apiv3_key[WXP_APIV3_KEY_LEN + 1]; /* "" when not configured */
    int64_t skew_seconds;                  /* request Authorization timestamp window */
    int zero_config;                       /* unknown orders are created (prefix catalogue) */
    size_t max_body_bytes;
    size_t journal_entries;         /* in-memory cap */
    size_t journal_bytes;           /* ... and its byte budget */
    size_t nonce_entries;           /* replay-protection capacity */
    size_t orders;                  /* orders held at most (limits.orders) */
    int64_t hang_ms;                /* how long a hang lasts before the close */
    int64_t reverse_window_seconds; /* 7 days */
    int no_sign;                    /* benchmarks only: answers are not signed */
    char *admin_token;              /* NULL: admin calls need none (loopback use) */
};

const Wxm_merchant *Wxm_config_merchant(const wxm_config *c, wxp_span mchid);
/* The sub-merchant mchid of service provider sp, or NULL when not bound. */
const Wxm_merchant *Wxm_config_sub(const Wxm_merchant *sp, const char *mchid);
/* Whether appid is bound to the merchant. */
bool Wxm_merchant_has_appid(const Wxm_merchant *m, const char *appid);

/* ---------------------------------------- store.c and script.c */

typedef enum Wxm_state {
    WXM_SUCCESS,
    WXM_REFUND,
    WXM_NOTPAY,
    WXM_CLOSED,
    WXM_REVOKED,
    WXM_USERPAYING,
    WXM_PAYERROR
} Wxm_state;

const char *Wxm_state_name(Wxm_state s);
bool Wxm_state_parse(const char *name, Wxm_state *out);

typedef enum Wxm_step_action {
    WXM_STEP_OK,
    WXM_STEP_SYSTEM_ERROR,
    WXM_STEP_FREQUENCY_LIMITED,
    WXM_STEP_DELAY,
    WXM_STEP_HANG,
    WXM_STEP_DROP,
    WXM_STEP_BAD_SIGNATURE,
    WXM_STEP_SIGNTEST,
    WXM_STEP_UNSIGNED,
    WXM_STEP_SKEWED_TIMESTAMP,
    WXM_STEP_UNKNOWN_SERIAL,
    WXM_STEP_MALFORMED_BODY,
    WXM_STEP_GATEWAY_HTML,
    WXM_STEP_PARAM_ERROR,
    WXM_STEP_QUERY_ANSWER,
    WXM_STEP_ROTATE_CERTIFICATE, /* the next platform certificate signs from now on */
    WXM_STEP_TAMPERED_CIPHERTEXT /* certificate downloads: a sealed text fails its tag */
} Wxm_step_action;

const char *Wxm_step_name(Wxm_step_action a);

/* 8 bytes: orders are many, and each carries its script inline. */
typedef struct Wxm_step {
    uint8_t action;   /* Wxm_step_action */
    bool apply;       /* delay/drop/hang: does the reversal take effect? */
    bool apply_first; /* delay: state changes before the wait (ambiguous timeout) */
    int32_t ms;       /* delay/hang length, at most 3,600,000; 0 = default */
} Wxm_step;

/* The default step of an action: whether and when it changes the state. */
Wxm_step Wxm_step_default(Wxm_step_action a);
/* Which calls a script plays on: an order's reverse calls, or the
 * certificate downloads (each takes only the steps that mean something
 * there). */
typedef enum Wxm_script_kind { WXM_SCRIPT_ORDER, WXM_SCRIPT_CERTIFICATES } Wxm_script_kind;
/* Parses a JSON array of steps ("script"); names the bad step and field. */
wxp_err Wxm_script_parse(const cJSON *arr, Wxm_script_kind kind, Wxm_step **out, size_t *n,
                         wxp_diag *diag);

/* The steps as the admin API shows them. */
cJSON *Wxm_script_json(const Wxm_step *steps, size_t n);

#define WXM_MAX_SCRIPT 16

/* How a code payment goes (the magic auth codes, docs/mock.md "Code payment"). */
typedef enum Wxm_outcome {
    WXM_PAY_PAID,
    WXM_PAY_USERPAYING_THEN_PAID,
    WXM_PAY_USERPAYING_THEN_CANCELLED,
    WXM_PAY_USERPAYING_FOREVER,
    WXM_PAY_INSUFFICIENT_FUNDS,
    WXM_PAY_AUTH_CODE_INVALID,
    WXM_PAY_SYSTEM_ERROR,
    WXM_PAY_NO_ANSWER,
    WXM_PAY_NO_ANSWER_PAID,
    WXM_PAY_OUTCOMES
} Wxm_outcome;

typedef struct Wxm_order {
    uint64_t id; /* unique in the store's life: set when created or PUT */
    char out_trade_no[WXP_ID_MAX + 1];
    char mchid[WXP_ID_MAX + 1]; /* the merchant, or the sub-merchant of sp_mchid */
    char appid[WXP_ID_MAX + 1];
    char sp_mchid[WXP_ID_MAX + 1]; /* "" unless made through a service provider */
    char sp_appid[WXP_ID_MAX + 1];
    char transaction_id[WXP_ID_MAX + 1];
    char trade_type[12];  /* MICROPAY (the default), NATIVE, JSAPI, ... */
    char auth_code[20];   /* of the codepay that made it, "" otherwise */
    uint32_t content;     /* a hash of that codepay's content: a reuse is told apart */
    bool prepared;        /* PUT by the admin API for a codepay still to come */
    bool pay_succeeds;    /* when pay_at_ms comes: SUCCESS, else PAYERROR */
    int64_t pay_after_ms; /* admin: how long a USERPAYING order waits (0: default) */
    int64_t pay_at_ms;    /* Unix ms a USERPAYING order settles; 0: never by itself */
    int64_t success_time; /* Unix seconds it was paid, 0 if not */
    bool fresh;           /* made by this very codepay call (pay.c) */
    Wxm_state state;
    int64_t amount;     /* fen */
    int64_t created_at; /* Unix seconds */
    int64_t reversed_at;
    bool refunded;
    int64_t refund_amount;
    char refund_id[WXP_ID_MAX + 1];
    int64_t refunded_at;
    int reverse_calls;
    Wxm_step script[WXM_MAX_SCRIPT];
    size_t nsteps, pos;
} Wxm_order;

typedef struct Wxm_store Wxm_store;

/* Holds at most `limit` orders (see store.c for the eviction). */
Wxm_store *Wxm_store_new(size_t limit);
void Wxm_store_free(Wxm_store *s);
void Wxm_store_clear(Wxm_store *s);
/* Runs fn on the order under its lock, creating it with `init` (when not
 * NULL) if absent. fn returns what the caller wants back in ctx. */
typedef void (*Wxm_order_fn)(Wxm_order *o, void *ctx);
typedef enum Wxm_found {
    WXM_ABSENT = 0, /* no such order, and no init */
    WXM_FOUND,      /* fn ran (on the order found or created) */
    WXM_NO_MEMORY,  /* absent, and it could not be created */
    WXM_NO_ROOM     /* absent, the store is full and nothing finished to evict */
} Wxm_found;
Wxm_found Wxm_store_with(Wxm_store *s, const char *out_trade_no, const Wxm_order *init,
                         Wxm_order_fn fn, void *ctx);
/* A USERPAYING order whose time has come settles (SUCCESS, or PAYERROR
 * for a user who cancelled). Called under the order's lock by every rule
 * that reads an order, so no answer shows a state that is already past. */
void Wxm_order_settle(Wxm_order *o, int64_t now_ms);
/* Runs fn on the order whose transaction_id is tid (a scan: the mock keys
 * orders by out_trade_no). WXM_ABSENT when none. */
Wxm_found Wxm_store_with_transaction(Wxm_store *s, const char *tid, Wxm_order_fn fn, void *ctx);
/* Replaces (or creates) an order; an order without a transaction_id gets
 * one (written back to *o), as every order the store creates does. */
Wxm_found Wxm_store_put(Wxm_store *s, Wxm_order *o);
uint64_t Wxm_store_evicted(Wxm_store *s);
size_t Wxm_store_limit(const Wxm_store *s);
bool Wxm_store_get(Wxm_store *s, const char *out_trade_no, Wxm_order *copy);
size_t Wxm_store_count(Wxm_store *s);
/* Checks every order for states that must never happen (a refund larger
 * than the amount, a refund on an order that is not REVOKED, a script
 * position past its end...). false with `why` filled on the first. */
bool Wxm_store_check(Wxm_store *s, char *why, size_t cap);

/* ---------------------------------------------------------- nonces.c */

typedef struct Wxm_nonces Wxm_nonces;
/* Room for `cap` pairs, allocated (and touched) now. */
Wxm_nonces *Wxm_nonces_new(size_t cap);
/* Pairs pushed out while still inside their window (capacity too small). */
uint64_t Wxm_nonces_evicted_live(Wxm_nonces *n);
void Wxm_nonces_free(Wxm_nonces *n);
void Wxm_nonces_clear(Wxm_nonces *n);
/* true when (mchid, nonce) was recorded and has not expired by `now`. */
bool Wxm_nonces_seen(Wxm_nonces *n, wxp_span mchid, wxp_span nonce, int64_t now);
/* Records it until `expires`; false when it was already there (a race). */
bool Wxm_nonces_add(Wxm_nonces *n, wxp_span mchid, wxp_span nonce, int64_t now, int64_t expires);

/* --------------------------------------------------------- journal.c */

/* A JSON text written front to back, for journal entries: one buffer
 * instead of a tree of small allocations on every request. Members (key
 * given) and array elements (key NULL) get their commas from what came
 * before; strings are escaped the way cJSON prints them. */
typedef struct Wxm_json {
    char *p;
    size_t len, cap;
    bool failed; /* out of memory: the text is incomplete */
} Wxm_json;

void Wxm_json_open(Wxm_json *j, const char *key, char bracket); /* '{' or '[' */
void Wxm_json_close(Wxm_json *j, char bracket);                 /* '}' or ']' */
void Wxm_json_string(Wxm_json *j, const char *key, const char *s, size_t n);
void Wxm_json_cstring(Wxm_json *j, const char *key, const char *s);
void Wxm_json_int(Wxm_json *j, const char *key, long long v);
void Wxm_json_bool(Wxm_json *j, const char *key, bool v);

typedef struct Wxm_journal Wxm_journal;
/* At most `cap` entries and `max_bytes` of their text: the oldest go. */
Wxm_journal *Wxm_journal_new(size_t cap, size_t max_bytes);
void Wxm_journal_free(Wxm_journal *j);
/* Adds the entry `text` (a JSON object, taken over and freed) for order
 * out_trade_no (NULL: none); assigns "seq" and writes the line to the file.
 * A failed text is dropped. */
void Wxm_journal_add(Wxm_journal *j, Wxm_json *text, const char *out_trade_no);
/* {"entries":[...],"dropped":N,"cap":C,"total":T}, optionally only one
 * order: as a stream holding the entries (no copy of their text), or whole
 * (cJSON_malloc'd; for tests). */
wxm_stream *Wxm_journal_stream(Wxm_journal *j, const char *out_trade_no);
char *Wxm_journal_dump(Wxm_journal *j, const char *out_trade_no);
void Wxm_journal_clear(Wxm_journal *j);
wxp_err Wxm_journal_set_file(Wxm_journal *j, const char *path, wxp_diag *diag);
uint64_t Wxm_journal_total(Wxm_journal *j);
/* Entries the journal file did not get (write errors since it was set). */
uint64_t Wxm_journal_file_lost(Wxm_journal *j);

/* ------------------------------------------------------------ keys.c */

/* The key that signs answers now, and the Wechatpay-Serial naming it. */
typedef struct Wxm_signer {
    const wxp_key *key;
    const char *serial;
} Wxm_signer;

typedef struct Wxm_keys {
    uint32_t word; /* atomic: mode, signing index, listed bits (keys.c) */
    pthread_mutex_t lock;
    Wxm_step script[WXM_MAX_SCRIPT]; /* certificates_script */
    size_t nsteps, pos;
} Wxm_keys;

/* Back to the config's start (wxm_mock_new, POST /__admin/reset). */
void Wxm_keys_reset(wxm_mock *m);
int Wxm_keys_mode(const wxm_mock *m);
Wxm_signer Wxm_keys_signer(const wxm_mock *m);
/* Bit i: cfg->platforms[i] is listed by GET /v3/certificates. */
uint32_t Wxm_keys_listed(const wxm_mock *m);
/* A configured platform serial (any case) or the public key id. */
bool Wxm_keys_is_platform_serial(const wxm_mock *m, const char *serial);
/* The next platform certificate signs (and is listed); its serial, or
 * NULL when the config has only one. */
const char *Wxm_keys_rotate(wxm_mock *m);
/* The next step of the certificates script (ok when it is played out). */
Wxm_step Wxm_keys_next_step(wxm_mock *m);
/* GET /__admin/wechatpay; PUT applies a partial update, all or nothing. */
cJSON *Wxm_keys_json(wxm_mock *m);
wxp_err Wxm_keys_update(wxm_mock *m, const cJSON *body, wxp_diag *diag);

/* --------------------------------------------------------- handler.c */

struct wxm_mock {
    wxm_config *cfg;
    Wxm_store *orders;
    Wxm_nonces *nonces;
    Wxm_journal *journal;
    uint64_t request_seq;         /* atomic: Request-ID */
    uint64_t connections_refused; /* atomic: by the listener, at its limit */
    uint64_t requests_timed_out;  /* atomic: closed by the listener's request deadline */
    int trim_wanted;              /* atomic: a reset freed much; the listener trims */
    Wxm_keys keys;                /* keys.c */
};

/* ------------------------------------------------------- orderjson.c */

/* Order as JSON for the admin API (all fields, refund record, script). */
cJSON *Wxm_order_admin_json(const Wxm_order *o);
/* Order from an admin PUT body; fields absent keep the defaults in *o. */
wxp_err Wxm_order_from_json(const cJSON *obj, Wxm_order *o, wxp_diag *diag);

/* ------------------------------------------------------- catalogue.c */

/* The zero-config catalogue: how an unknown order whose out_trade_no starts
 * with a known prefix begins life. Returns false for ORDER_NOT_EXIST. */
bool Wxm_catalogue_order(const char *out_trade_no, int64_t now, Wxm_order *o);
/* The magic auth codes and outcome names (docs/mock.md "Code payment"). */
#define WXM_DEFAULT_PAY_AFTER_MS 8000
const char *Wxm_outcome_name(Wxm_outcome o);
bool Wxm_outcome_parse(wxp_span name, Wxm_outcome *out);
/* 18 digits, starting 10 to 15, as a WeChat payment code. */
bool Wxm_auth_code_valid(const char *code);
/* The magic code's outcome; any other valid code pays at once. */
Wxm_outcome Wxm_auth_code_outcome(const char *code);
/* GET /__admin/catalogue. */
cJSON *Wxm_catalogue_json(void);

/* ---------------------------------------------------------- answer.c */

/* Adds a header (copied); a failure makes the answer a 500 (a->broken). */
void Wxm_answer_header(wxm_answer *a, const char *name, const char *value);
/* Sets the body (copied), the same way. */
void Wxm_answer_body(wxm_answer *a, const char *text, size_t n);
/* A plain JSON answer (admin): takes ownership of j. */
void Wxm_answer_json(wxm_answer *a, int status, cJSON *j);
/* The answer's WeChat Pay code, in the journal entry and for the log. */
void Wxm_answer_code(wxm_answer *a, Wxm_json *entry, const char *code);
/* An API answer: the JSON body (taken), Request-ID, and the signature
 * headers, corrupted as `fault` says. */
void Wxm_api_answer(wxm_mock *m, wxm_answer *a, int status, cJSON *body, Wxm_step_action fault,
                    int64_t now);
/* A signed answer with no body (204). */
void Wxm_api_answer_empty(wxm_mock *m, wxm_answer *a, int status, int64_t now);
/* An object of n string members, given as key, value, ...; NULL when out
 * of memory (never a partial object). */
cJSON *Wxm_json_object(int n, ...);
/* {"code", "message", "detail"} of an error answer; takes detail. NULL
 * when out of memory. */
cJSON *Wxm_error_body(const char *code, const char *message, cJSON *detail);
/* Adds bytes as a string member, quoted to printable ASCII (wxp_quote). */
void Wxm_add_quoted(cJSON *obj, const char *name, wxp_span s);

/* --------------------------------------------------------- request.c */

/* NAME=value from a query string (a span: no NUL needed), percent-decoded
 * into out[cap]. A value that holds a NUL (%00) or does not fit is not
 * taken as what comes before it: the caller refuses it. */
typedef enum Wxm_param {
    WXM_PARAM_ABSENT,
    WXM_PARAM_OK,
    WXM_PARAM_NUL,
    WXM_PARAM_TOO_LONG
} Wxm_param;
Wxm_param Wxm_query_param(wxp_span q, const char *name, char *out, size_t cap);

/* Case-insensitive header lookup; counts how many there are. */
const wxm_header *Wxm_find_header(const wxm_request *r, const char *name, size_t *count);

/* ---------------------------------------------------------- checks.c */

/* The verdict of one check, for the journal and the error detail. */
typedef struct Wxm_verdict {
    const char *check; /* "method", "path", ..., "signature" */
    int status;        /* HTTP status when failed, 0 when passed */
    const char *code;  /* WeChat Pay error code when failed */
    cJSON *detail;     /* owned; the "detail" object of the error answer */
    char message[400]; /* the "message" of the error answer */
} Wxm_verdict;

/* -------------------------------------------------- one API request */

enum {
    WXM_ROUTE_REVERSE,
    WXM_ROUTE_QUERY,
    WXM_ROUTE_CERTIFICATES,
    WXM_ROUTE_CODEPAY,
    WXM_ROUTE_QUERY_ID,
    WXM_ROUTE_CLOSE
};

#define WXM_REVERSE_TEMPLATE "/v3/pay/transactions/out-trade-no/{out_trade_no}/reverse"
#define WXM_QUERY_TEMPLATE "/v3/pay/transactions/out-trade-no/{out_trade_no}"
#define WXM_CERTIFICATES_PATH "/v3/certificates"

/* An endpoint the mock serves (checks.c holds the table). */
typedef struct Wxm_endpoint {
    int route;          /* what it does */
    bool partner;       /* the service provider form (sp_mchid, sub_mchid) */
    const char *tmpl;   /* path template */
    const char *method; /* GET or POST */
    const char *name;   /* in the journal: "reverse", "partner_codepay", ... */
} Wxm_endpoint;

/* A codepay body, as the checks read it. */
typedef struct Wxm_codepay {
    char description[128];
    char auth_code[24];
    char currency[8];
    char device_id[33];
    char attach[129];
    int64_t total;
} Wxm_codepay;

/* What the checks learn about a request, in the order they learn it. */
typedef struct Wxm_ctx {
    wxm_mock *m;
    const wxm_request *req;
    int64_t now;
    int route;
    const Wxm_endpoint *ep;
    wxp_match match;
    char out_trade_no[WXP_PARAM_MAX_LEN + 1];
    size_t out_trade_no_len;                    /* decoded bytes: a %00 is a byte, not the end */
    char transaction_id[WXP_PARAM_MAX_LEN + 1]; /* the id routes */
    char mchid[WXP_ID_MAX + 1];    /* from the body (POST) or the query (GET); partner: sub_mchid */
    char appid[WXP_ID_MAX + 1];    /* partner: sub_appid ("" when not given) */
    char sp_mchid[WXP_ID_MAX + 1]; /* partner forms */
    char sp_appid[WXP_ID_MAX + 1];
    Wxm_codepay pay;         /* codepay */
    const Wxm_merchant *sub; /* partner: the sub-merchant, once checked */
    int64_t now_ms;
    char algorithm[8];   /* certificates: RSA, SM2 or ALL */
    const char *warning; /* passed, but worth a note in the journal */
    wxp_auth auth;
    const Wxm_merchant *merchant;
    Wxm_json *journal; /* the entry's open "checks" array */
    Wxm_verdict fail;  /* filled by the first failing check */
} Wxm_ctx;

/* Runs every check of docs/mock.md "Checks" in order; false at the first that
 * fails, with ctx->fail filled (status, code, message, detail). */
bool Wxm_check_request(Wxm_ctx *ctx);
/* The endpoint a request target names, or NULL. */
const Wxm_endpoint *Wxm_endpoint_of(wxp_span target);

/* -------------------------------------------------------- payloads.c */

/* The body of a POST route into ctx (ids, codepay fields); WXP_ERR_NOMEM,
 * or a refusal with diag->field the field's path. */
wxp_err Wxm_read_body(Wxm_ctx *c, wxp_diag *diag);
/* The query of a GET route: mchid, or sp_mchid and sub_mchid. */
wxp_err Wxm_read_query(Wxm_ctx *c, wxp_diag *diag);

/* --------------------------------------------------------- sigdiag.c */

/* The message the request should have signed (malloc'd; NULL when out of
 * memory), from the raw request and its Authorization. */
char *Wxm_signed_message(const Wxm_ctx *c, size_t *len);
/* Adds to `det` (the error detail) the sign_information with the expected
 * message and, when another message or key explains the signature, the
 * likely_mistake. Returns that mistake's explanation, or NULL. */
const char *Wxm_signature_diagnosis(const Wxm_ctx *c, wxp_err e, const char *msg, size_t len,
                                    cJSON *det);

/* ----------------------------------------------------------- rules.c */

/* The answers of the endpoints to a request that passed every check. */
void Wxm_rule_reverse(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry);
/* Shared with pay.c: */
void Wxm_china_time(int64_t t, char out[40]);
/* The order as a transaction, as a query answers it; NULL: out of memory. */
cJSON *Wxm_transaction_json(const wxm_mock *m, const Wxm_order *o);
/* A catalogue order takes its first caller's ids. */
void Wxm_order_adopt(Wxm_order *o, const Wxm_ctx *c);
/* Whether the order is the caller's (the same merchant, through the same
 * service provider or none). */
bool Wxm_order_is_callers(const Wxm_order *o, const Wxm_ctx *c);
void Wxm_answer_not_found(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry, bool with_detail);
void Wxm_answer_cannot_create(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry, Wxm_found why);
/* The wait or the drop a step asks of the listener. */
void Wxm_transport_fault(const wxm_mock *m, wxm_answer *a, Wxm_step st);
void Wxm_rule_query(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry);
void Wxm_rule_certificates(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry);

/* ------------------------------------------------------------- pay.c */

void Wxm_rule_codepay(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry);
void Wxm_rule_close(Wxm_ctx *c, wxm_answer *a, Wxm_json *entry);

/* ----------------------------------------------------------- admin.c */

/* Answers a request under /__admin/. */
void Wxm_admin(wxm_mock *m, const wxm_request *r, int64_t now_ms, wxm_answer *a);

/* ------------------------------------------------------------ wire.c */

/* HTTP framing a strict server refuses: 0 when the headers frame the
 * request plainly, else the status (400 or 501) and why. */
int Wxm_framing_check(const wxm_header *h, size_t n, const char *version, const char **why);
/* One line per request on stderr, as text or JSON; control bytes escaped. */
void Wxm_log_line(int json, const wxm_request *r, const wxm_answer *a, double ms);
/* A whole PEM file (libmicrohttpd wants text); WXM_E_TLS naming it. */
wxm_err Wxm_read_pem(const char *path, char **out, wxp_diag *diag);
/* Tells a connection the mock cannot hold so (503) in one write, closes it. */
void Wxm_refuse_connection(int fd, int limit);
/* `most`, or what the descriptor limit leaves room for. */
int Wxm_connection_limit(int most);
/* A bound, listening, non-blocking socket ("::" dual stack unless v6only). */
int Wxm_listen_on(const struct sockaddr *sa, socklen_t len, int v6only, int backlog);

#endif /* WXM_INT_H */
