/*
 * mock.h: libwxpay_mock, a mock WeChat Pay server for the reverse flow.
 *
 * Two layers:
 * - wxm_mock: the whole behaviour as a pure request handler (method, raw
 *   target, headers, body in; status, headers, body and a fault out). No
 *   sockets: unit tests and fuzzers drive it directly.
 * - wxm_server: the libmicrohttpd listener around a wxm_mock (server.c is
 *   the only file that touches libmicrohttpd).
 *
 * Ownership: wxm_mock_new() takes the config; wxm_server_start() takes
 * nothing (the mock must outlive the server). Answers are cleared with
 * wxm_answer_clear(). Every handle's _free(NULL) does nothing. A wxm_mock is
 * thread-safe: many connections may call wxm_handle() at once.
 */
#ifndef WXM_MOCK_H
#define WXM_MOCK_H

#include <stddef.h>
#include <stdint.h>

#include <wxpay/protocol.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------- errors */

/* How a call of this library ended; 0 is success. The words are in the
 * wxp_diag the call fills (diag->field names the field or part). */
typedef enum wxm_err {
    WXM_OK = 0,
    WXM_E_NOMEM,  /* out of memory */
    WXM_E_ARG,    /* a NULL or invalid argument (a bad listening address, say) */
    WXM_E_IO,     /* a file could not be read or written */
    WXM_E_CONFIG, /* the config is wrong: a field, a key, a certificate */
    WXM_E_TLS,    /* the TLS certificate or key cannot be used */
    WXM_E_LISTEN  /* the address cannot be listened on, or the server not started */
} wxm_err;

/* One line naming the code; never NULL. */
const char *wxm_strerror(wxm_err e);

/* ----------------------------------------------------------------- config */

typedef struct wxm_config wxm_config;

/* Loads a JSON config file (format in docs/mock.md "Mock configuration"); key
 * paths inside are relative to the file's folder. Errors name the file, the
 * field and the problem. */
WXP_MUST_CHECK wxm_err wxm_config_load(const char *path, wxm_config **out, wxp_diag *diag);
/* The same from JSON text; `base_dir` resolves relative key paths. */
WXP_MUST_CHECK wxm_err wxm_config_parse(const char *json, size_t len, const char *base_dir,
                                        wxm_config **out, wxp_diag *diag);
void wxm_config_free(wxm_config *cfg);

/* Turns the zero-config catalogue on or off (on in the bundled config):
 * off, unknown orders answer ORDER_NOT_EXIST. */
void wxm_config_set_catalogue(wxm_config *cfg, int on);
/* Admin calls then need "Authorization: Bearer TOKEN" (1 to 256 of
 * [A-Za-z0-9-._~+/=]; WXM_E_ARG otherwise). NULL: none needed, and admin
 * calls are taken only with a Host that is an address or localhost (a
 * name could be a DNS rebinding). Either way an admin call whose Origin is
 * not the mock's own (a cross-site request from a browser) is refused. */
WXP_MUST_CHECK wxm_err wxm_config_set_admin_token(wxm_config *cfg, const char *token);
/* Turns answer signing off (benchmarks of the HTTP path only). */
void wxm_config_set_signing(wxm_config *cfg, int on);

/* Path of the bundled config: mock.json in $WXPAY_FIXTURES_DIR, or in
 * PREFIX/share/wxpay/fixtures beside the program's PREFIX/bin (wherever the
 * installed tree was moved), or, for a program run from the build tree,
 * in the source tree's fixtures/. NULL when none is found. */
const char *wxm_default_config_path(void);

/* ------------------------------------------------------------------- mock */

typedef struct wxm_mock wxm_mock;

/* Takes ownership of cfg (also on failure). */
WXP_MUST_CHECK wxm_err wxm_mock_new(wxm_config *cfg, wxm_mock **out);
void wxm_mock_free(wxm_mock *m);

/* Appends every journal entry as one JSON line to `path` (created mode
 * 0600: it holds every Authorization header), each line written whole;
 * one that cannot be (a full disk) is taken back, counted, and the first
 * such failure said on stderr. NULL stops. */
WXP_MUST_CHECK wxm_err wxm_mock_set_journal_file(wxm_mock *m, const char *path, wxp_diag *diag);

/* Headers a request may carry; past it the answer is 431. */
#define WXM_MAX_REQUEST_HEADERS 100

/* Journal entries the journal file did not get; a program should exit
 * non-zero at its end when this is not 0 (entries were lost). */
uint64_t wxm_mock_journal_file_lost(wxm_mock *m);

typedef struct wxm_header {
    wxp_span name;
    wxp_span value;
} wxm_header;

/* One HTTP request as received. `target` is the raw request target (path
 * and query, not percent-decoded). */
typedef struct wxm_request {
    wxp_span method;
    wxp_span target;
    const wxm_header *headers;
    size_t nheaders;
    wxp_span body;
    int body_too_large;  /* the listener stopped reading at the limit */
    const char *peer;    /* "127.0.0.1:54321", for the journal; may be NULL */
    size_t headers_seen; /* how many the request had; more than nheaders when
                            the listener could pass only WXM_MAX_REQUEST_HEADERS
                            (0: the same as nheaders) */
} wxm_request;

/* What the listener must do with an answer. */
typedef enum wxm_action {
    WXM_SEND = 0, /* send status, headers, body */
    WXM_DROP      /* close the connection without an answer */
} wxm_action;

#define WXM_MAX_ANSWER_HEADERS 12

/* A body produced piece by piece instead of held whole (the journal dump:
 * it may be large, and is not copied). */
typedef struct wxm_stream wxm_stream;
/* Its whole length in bytes, known from the start. */
size_t wxm_stream_size(const wxm_stream *s);
/* Copies up to max bytes of what is left into buf; 0 at the end. */
size_t wxm_stream_read(wxm_stream *s, char *buf, size_t max);
void wxm_stream_free(wxm_stream *s);

typedef struct wxm_answer {
    int status;
    size_t nheaders;
    struct {
        char name[40];
        char *value; /* malloc'd */
    } headers[WXM_MAX_ANSWER_HEADERS];
    char *body; /* malloc'd, may be NULL when body_len is 0 */
    size_t body_len;
    char code[32]; /* WeChat Pay error code of an error answer, for logs */
    wxm_action action;
    int64_t wait_ms; /* act only after this long (the listener parks the connection) */
    /* NULL, or why the answer could not be built (out of memory, say): it
     * is then a bodiless 500 with code SYSTEM_ERROR. */
    const char *broken;
    /* Opaque: a state change that wxm_answer_commit() applies after the
     * wait; NULL when there is none. */
    struct wxm_pending *pending;
    /* When not NULL, the body is read from here (body is then empty); the
     * listener takes it over, wxm_answer_clear() frees it otherwise. */
    wxm_stream *stream;
} wxm_answer;

/* Handles one request at time `now` (Unix seconds). Always fills `out`;
 * never fails (out of memory answers 500). */
void wxm_handle(wxm_mock *m, const wxm_request *req, int64_t now, wxm_answer *out);
/* The same at `now_ms` (Unix milliseconds): code payments that settle
 * after a number of milliseconds (pay_after_ms) are timed with it. */
void wxm_handle_ms(wxm_mock *m, const wxm_request *req, int64_t now_ms, wxm_answer *out);
/* After the wait: applies a deferred state change (a delay or drop fault
 * whose state changes after the answer is late). Safe to call always. */
void wxm_answer_commit(wxm_mock *m, wxm_answer *a);
void wxm_answer_clear(wxm_answer *a);

/* ----------------------------------------------------------------- server */

typedef struct wxm_server wxm_server;

typedef struct wxm_server_options {
    const char *host;          /* default "127.0.0.1" */
    uint16_t port;             /* 0: any free port */
    int log_requests;          /* one line per request on stderr */
    int log_json;              /* ... as JSON instead of text */
    const char *tls_cert_file; /* PEM: serve HTTPS when both are set */
    const char *tls_key_file;
    int threads;           /* answering threads; 0: one per core (at most 64) */
    int ipv6_only;         /* host "::" serves IPv6 only (default: IPv4 too) */
    int request_timeout_s; /* a request must arrive whole within it of the
                              connection being ready for one; 0: 30 s */
} wxm_server_options;

WXP_MUST_CHECK wxm_err wxm_server_start(wxm_mock *m, const wxm_server_options *opts,
                                        wxm_server **out, wxp_diag *diag);
uint16_t wxm_server_port(const wxm_server *s);
/* Open connections it holds at most (docs: "Limits"); past it a new
 * connection gets a 503 and is closed, and the rest keep being served. */
int wxm_server_connection_limit(const wxm_server *s);
/* 1 when the listener serves HTTPS. */
int wxm_server_is_tls(const wxm_server *s);
/* Open connections of each answering thread into open[0..max-1]; returns
 * the number of threads. New connections go to the least busy one. */
int wxm_server_load(const wxm_server *s, int *open, int max);
/* Stops accepting, answers parked requests at once, waits for in-flight ones. */
void wxm_server_stop(wxm_server *s);

#ifdef __cplusplus
}
#endif
#endif /* WXM_MOCK_H */
