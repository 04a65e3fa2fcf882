/* wxpay_http.h: the client's HTTP layer (http.c, the only libcurl file).
 * Not installed.
 *
 * It knows nothing of WeChat Pay: it sends a request that is already signed
 * and hands back what came, answer headers picked out by name. Transfers
 * run side by side on one libcurl multi handle; the caller drives them with
 * Wxpay_http_perform() and collects each finished one with
 * Wxpay_http_next_done(), so nothing here ever calls back into the client.
 *
 * Ownership: a Wxpay_http owns its transfers; a finished transfer's answer
 * is moved to the caller (free its body with Wxpay_answer_clear()).
 */
#ifndef WXPAY_HTTP_H
#define WXPAY_HTTP_H

#include <wxpay/wxpay.h>

#include <stdbool.h>

/* The answer headers the client reads. */
enum {
    WXPAY_H_REQUEST_ID,
    WXPAY_H_TIMESTAMP,
    WXPAY_H_NONCE,
    WXPAY_H_SIGNATURE,
    WXPAY_H_SERIAL,
    WXPAY_H_SIGNATURE_TYPE,
    WXPAY_H_CONTENT_TYPE,
    WXPAY_H_COUNT
};
extern const char *const Wxpay_answer_header_names[WXPAY_H_COUNT];

/* What one attempt got back. */
typedef struct Wxpay_answer {
    int curl_code; /* CURLcode; 0 when an answer came */
    bool timed_out;
    bool too_large; /* the body passed the cap (16 MiB): not read further */
    char curl_error[256];
    long status;
    char *body; /* malloc'd, NUL-terminated; NULL when empty */
    size_t body_len;
    char headers[WXPAY_H_COUNT][1100];
    bool present[WXPAY_H_COUNT];
} Wxpay_answer;

void Wxpay_answer_clear(Wxpay_answer *a);

/* One request to send, exactly as given. */
typedef struct Wxpay_http_req {
    const char *method;   /* GET, POST, ... */
    const char *url;      /* base URL + request target, sent as is */
    char *const *headers; /* "Name: value" lines, NULL-terminated */
    const char *body;     /* NULL: none (a POST then sends an empty one) */
    size_t body_len;
    long connect_ms, total_ms; /* per attempt */
    const char *ca_file;       /* NULL: the system's */
    char *const *resolve;      /* "HOST:PORT:ADDR" entries */
    int nresolve;
} Wxpay_http_req;

typedef struct Wxpay_http Wxpay_http;

Wxpay_http *Wxpay_http_new(void);
/* Aborts and frees every transfer still running. */
void Wxpay_http_free(Wxpay_http *h);

/* Starts sending req. Everything is copied but the body, which must stay
 * until the transfer is collected. `tag` comes back with the answer.
 * WXPAY_E_NOMEM when libcurl cannot take it. */
WXPAY_MUST_CHECK wxpay_code Wxpay_http_start(Wxpay_http *h, const Wxpay_http_req *req, void *tag);
/* Moves transfers on without waiting; returns how many still run. */
int Wxpay_http_perform(Wxpay_http *h);
/* One finished transfer: its tag, and its answer moved into *ans (the
 * caller clears it). false when none is waiting. */
bool Wxpay_http_next_done(Wxpay_http *h, void **tag, Wxpay_answer *ans);
/* Waits at most ms for network activity. */
void Wxpay_http_wait(Wxpay_http *h, int ms);

/* libcurl's version, for the User-Agent. */
const char *Wxpay_http_version(void);

#endif /* WXPAY_HTTP_H */
