/* conform.h: shared by the wxpay-conform sources (conform/). Not installed.
 *   main.c    options, the catalogue, running the client, judging
 *   flow.c    judging a POS client's code-payment flow (--flow pay)
 *   report.c  JUnit XML and JSON reports
 *   http.c    the admin calls to the mock (the only libcurl file)
 */
#ifndef WXPAY_CONFORM_H
#define WXPAY_CONFORM_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct kase {
    const char *name, *about, *prefix, *outcome, *state;
    const char *group;                /* "reverse", "certificates": --skip-group */
    char *order;                      /* compact JSON for PUT, or NULL */
    char *wechatpay;                  /* compact JSON for PUT /__admin/wechatpay, or NULL */
    bool apiv3_only;                  /* the client gets the APIv3 key and no WeChat Pay key */
    int min_requests, max_requests;   /* -1: no bound */
    int min_downloads, max_downloads; /* GET /v3/certificates during the case; -1: no bound */
    long refund;                      /* -1: not checked */
    /* --flow pay */
    const char *auth_code;  /* WXPAY_AUTH_CODE */
    bool expect_paid;       /* expect.outcome "paid" (else "not_paid") */
    int min_queries;        /* expect.queries.min; 0: none needed */
    const char *reverse;    /* expect.reverse: "required", "forbidden" or "any" */
    bool reverse_at_window; /* expect.reverse_after_pay_timeout: not before it */
} kase;

typedef struct verdict {
    bool pass;
    char out_trade_no[40];
    int requests;
    int downloads;   /* certificate list requests during the case */
    int exit_status; /* -1: killed or not run */
    double seconds;
    char why[1024];    /* in words a developer acts on */
    char *diag;        /* the mock's diagnostic (JSON), or NULL */
    char output[2048]; /* the client's last output lines */
} verdict;

typedef struct runner {
    char base[256];
    const char *fixtures;
    int client_timeout;
    int case_timeout;
    bool strict_exit;
    const char *apiv3_key; /* given to the client as WXPAY_APIV3_KEY */
    bool flow_pay;         /* --flow pay */
    double poll_interval;  /* WXPAY_POLL_INTERVAL (flow pay) */
    double pay_timeout;    /* WXPAY_PAY_TIMEOUT (flow pay) */
    char **argv;           /* the client command */
} runner;

/* ---------------------------------------------------------- flow.c */

/* Judges a POS client's flow for one case from the order's journal
 * entries and the order afterwards (either may be NULL). */
void cf_judge_flow(const runner *r, const kase *k, const cJSON *entries, const cJSON *order,
                   verdict *v);
/* The first reason a verdict fails (no later one overwrites it). */
void cf_fail(verdict *v, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---------------------------------------------------------- http.c */

/* libcurl's global set-up, once, before any thread starts. */
int cf_http_init(void);
void cf_http_cleanup(void);
/* One admin call to the mock at `base`; returns the HTTP status (0 when
 * unreachable) and the body as parsed JSON in *out (caller deletes), or
 * NULL. */
long cf_admin(const char *base, const char *method, const char *path, const char *body,
              cJSON **out);

/* -------------------------------------------------------- report.c */

/* The verdicts of the selected cases as JUnit XML / JSON at path; 0 when
 * written, else a message on stderr. */
int cf_write_junit(const char *path, const kase *ks, const verdict *vs, const size_t *sel,
                   size_t n);
int cf_write_json(const char *path, const kase *ks, const verdict *vs, const size_t *sel, size_t n);

#endif /* WXPAY_CONFORM_H */
