/*
 * protocol.h (<wxpay/protocol.h>): WeChat Pay API v3 message rules, with no I/O.
 *
 * Both the reversal client (client/) and the mock server (mockserver/) use
 * this layer, so everything the two sides must agree on lives here: the
 * string to sign, RSA signing and verification, the Authorization header,
 * response-signature headers, path templates, field rules and JSON shapes.
 * The facts behind it are in docs/protocol.md; section numbers below
 * refer to it.
 *
 * Conventions
 * - Every function that can fail returns wxp_err; WXP_OK is 0.
 *   wxp_strerror() names each code in one line.
 * - Functions that can say more fill an optional `wxp_diag *` (may be NULL):
 *   which field or check failed and a sentence saying why.
 * - Inputs are pointer+length pairs (wxp_span) so raw wire bytes, which may
 *   hold NUL, need no copying. Parsers return spans pointing INTO the
 *   caller's input: keep the input alive while you use them.
 * - Ownership: a `char **out` result is allocated with malloc and freed by
 *   the caller with free(). Handles (wxp_key, wxp_keyring) have _free()
 *   functions; _free(NULL) does nothing. Nothing is global; handles may be
 *   shared read-only between threads once built.
 */
#ifndef WXP_PROTOCOL_H
#define WXP_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WXP_MUST_CHECK __attribute__((warn_unused_result))
#else
#define WXP_MUST_CHECK
#endif

/* ------------------------------------------------------------------ errors */

typedef enum wxp_err {
    WXP_OK = 0,
    WXP_ERR_NOMEM, /* an allocation failed */
    WXP_ERR_ARG,   /* NULL or out-of-range argument */
    WXP_ERR_IO,    /* a file could not be read */

    /* keys and certificates */
    WXP_ERR_KEY_PARSE,    /* PEM is not a key/certificate of the kind asked */
    WXP_ERR_KEY_TYPE,     /* key is not RSA */
    WXP_ERR_KEY_SIZE,     /* RSA key shorter than 2048 bits */
    WXP_ERR_KEY_MISMATCH, /* private key and certificate do not pair */
    WXP_ERR_CRYPTO,       /* OpenSSL failed unexpectedly */

    /* signatures */
    WXP_ERR_BASE64,             /* signature is not strict standard Base64 */
    WXP_ERR_SIGNTEST_PROBE,     /* a WECHATPAY/SIGNTEST/ probe signature */
    WXP_ERR_SIGNATURE_LENGTH,   /* decoded signature is not the key's size */
    WXP_ERR_SIGNATURE_MISMATCH, /* well-formed signature that does not verify */

    /* Authorization request header (section 2) */
    WXP_ERR_AUTH_SCHEME,        /* missing or wrong scheme */
    WXP_ERR_AUTH_SYNTAX,        /* not `key="value"` pairs joined by ',' */
    WXP_ERR_AUTH_UNQUOTED,      /* value without double quotes */
    WXP_ERR_AUTH_UNTERMINATED,  /* value with no closing quote */
    WXP_ERR_AUTH_UNKNOWN_FIELD, /* a key other than the five */
    WXP_ERR_AUTH_DUPLICATE_FIELD,
    WXP_ERR_AUTH_MISSING_FIELD,
    WXP_ERR_AUTH_EMPTY_VALUE,
    WXP_ERR_AUTH_VALUE_TOO_LONG,
    WXP_ERR_AUTH_BAD_VALUE,    /* character not allowed in that field */
    WXP_ERR_AUTH_TIMESTAMP,    /* timestamp not 1..10 decimal digits */
    WXP_ERR_AUTH_TIMESTAMP_MS, /* timestamp looks like milliseconds */

    /* response signature headers (section 3) */
    WXP_ERR_RESP_MISSING_HEADER, /* a Wechatpay-* header is absent or empty */
    WXP_ERR_RESP_SIGNATURE_TYPE, /* Wechatpay-Signature-Type not ours */
    WXP_ERR_RESP_TIMESTAMP,      /* Wechatpay-Timestamp not decimal seconds */
    WXP_ERR_RESP_TIMESTAMP_SKEW, /* too far from local time */
    WXP_ERR_RESP_UNKNOWN_SERIAL, /* no key for Wechatpay-Serial */

    /* path templates (section 4) */
    WXP_ERR_TEMPLATE_SYNTAX, /* template itself is malformed */
    WXP_ERR_TEMPLATE_PARAM,  /* a {name} has no value */
    WXP_ERR_PATH_ABSOLUTE,   /* scheme or host included in the target */
    WXP_ERR_PATH_PREFIX,     /* extra or missing leading segments */
    WXP_ERR_PATH_MISMATCH,   /* a literal segment differs */
    WXP_ERR_PATH_TRAILING_SLASH,
    WXP_ERR_PATH_CAMEL_CASE, /* chain segment not turned to dash-case */
    WXP_ERR_PATH_UNEXPANDED, /* {name} or _name_ left in the target */
    WXP_ERR_PATH_EMPTY_PARAM,
    WXP_ERR_PATH_DOUBLE_ENCODED, /* %25XX: encoded twice */
    WXP_ERR_PATH_SLASH_IN_PARAM, /* raw or %2F slash inside a parameter */
    WXP_ERR_PATH_BAD_ESCAPE,     /* '%' not followed by two hex digits */
    WXP_ERR_PATH_PARAM_TOO_LONG,

    /* fields (section 4) */
    WXP_ERR_FIELD_LENGTH,  /* outside the allowed length */
    WXP_ERR_FIELD_CHARSET, /* character outside the allowed set */

    /* JSON bodies */
    WXP_ERR_JSON_SYNTAX,
    WXP_ERR_JSON_NOT_OBJECT,
    WXP_ERR_JSON_MISSING_FIELD,
    WXP_ERR_JSON_FIELD_TYPE,
    WXP_ERR_JSON_FIELD_TOO_LONG,
    WXP_ERR_JSON_DUPLICATE_FIELD, /* a field given twice: which one counts? */
    WXP_ERR_JSON_WRONG_ANSWER,    /* a field that says it is another call's answer */

    /* platform certificate downloads (section 6) */
    WXP_ERR_AEAD_KEY,    /* the APIv3 key is not 32 bytes */
    WXP_ERR_AEAD_FORMAT, /* nonce or ciphertext malformed (not Base64, no room for the tag) */
    WXP_ERR_AEAD_TAG,    /* AES-256-GCM authentication failed: never trust the text */
    WXP_ERR_CERT_LIST    /* a certificate list that is not what the service sends */
} wxp_err;

/* One line naming the error; never NULL ("unknown error" for bad values). */
const char *wxp_strerror(wxp_err err);

/* Diagnostic filled by functions that take a `wxp_diag *` (may be NULL).
 * `field` is a static string naming the field or check ("nonce_str",
 * "signature", "segment 4", ...), or "" when none applies. `text` is one
 * NUL-terminated sentence meant for a developer; it may quote input, always
 * escaped to printable ASCII. */
typedef struct wxp_diag {
    const char *field;
    char text[320];
} wxp_diag;

/* Fills diag (when not NULL) with field and a printf-style sentence, and
 * returns err, so a check reads `return wxp_fail(diag, WXP_ERR_X, "f", ...)`. */
wxp_err wxp_fail(wxp_diag *diag, wxp_err err, const char *field, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* A view of bytes owned by someone else. Not NUL-terminated. */
typedef struct wxp_span {
    const char *ptr;
    size_t len;
} wxp_span;

/* Copies at most `max` bytes of s into out[cap] as printable ASCII,
 * escaping newline, CR and tab as \n \r \t, other bytes and '\\' as \xHH,
 * and ending with "..." when cut.
 * out is always NUL-terminated: safe for logs and JSON of any input. */
void wxp_quote(char *out, size_t cap, wxp_span s, size_t max);

/* Span of a NUL-terminated string ({NULL,0} for NULL). */
wxp_span wxp_span_of(const char *s);
/* 1 when the span holds exactly the bytes of the string `lit`, else 0. */
int wxp_span_eq(wxp_span s, const char *lit);

/* ------------------------------------------------- messages (sections 2, 3) */

/* "METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n": what a request signs. TARGET is
 * the path plus "?query" exactly as sent; BODY is the raw bytes (empty for
 * GET). *out is NUL-terminated, *out_len excludes the NUL. */
WXP_MUST_CHECK wxp_err wxp_request_message(wxp_span method, wxp_span target, int64_t timestamp,
                                           wxp_span nonce, wxp_span body, char **out,
                                           size_t *out_len);

/* "TIMESTAMP\nNONCE\nBODY\n": what a response signs. TIMESTAMP is the
 * Wechatpay-Timestamp header text as received. */
WXP_MUST_CHECK wxp_err wxp_response_message(wxp_span timestamp, wxp_span nonce, wxp_span body,
                                            char **out, size_t *out_len);

/* 32 random characters of [0-9A-Za-z] plus NUL, from the OS CSPRNG. */
#define WXP_NONCE_LEN 32
WXP_MUST_CHECK wxp_err wxp_nonce(char out[WXP_NONCE_LEN + 1]);

/* ------------------------------------------------------ keys and signatures */

/* A parsed RSA key, loaded once and reused for every signature. A key loaded
 * from a certificate also carries the certificate's serial. */
typedef struct wxp_key wxp_key;

/* Private key, PEM: PKCS#8 ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY"). */
WXP_MUST_CHECK wxp_err wxp_key_private_pem(const char *pem, size_t len, wxp_key **out,
                                           wxp_diag *diag);
/* Public key, PEM: SubjectPublicKeyInfo ("PUBLIC KEY") or PKCS#1 ("RSA
 * PUBLIC KEY"). */
WXP_MUST_CHECK wxp_err wxp_key_public_pem(const char *pem, size_t len, wxp_key **out,
                                          wxp_diag *diag);
/* X.509 certificate, PEM: its public key and serial. */
WXP_MUST_CHECK wxp_err wxp_key_certificate_pem(const char *pem, size_t len, wxp_key **out,
                                               wxp_diag *diag);
/* The same three reading a file; the diagnostic names the file. */
WXP_MUST_CHECK wxp_err wxp_key_private_file(const char *path, wxp_key **out, wxp_diag *diag);
WXP_MUST_CHECK wxp_err wxp_key_public_file(const char *path, wxp_key **out, wxp_diag *diag);
WXP_MUST_CHECK wxp_err wxp_key_certificate_file(const char *path, wxp_key **out, wxp_diag *diag);
void wxp_key_free(wxp_key *key);

/* Certificate serial as uppercase hex without leading zeros (how the SDKs
 * print it), or NULL for a key not loaded from a certificate. */
const char *wxp_key_serial(const wxp_key *key);
/* WXP_OK when both hold the same RSA public key (a private key and its
 * certificate, say), else WXP_ERR_KEY_MISMATCH. */
WXP_MUST_CHECK wxp_err wxp_key_same(const wxp_key *a, const wxp_key *b);
/* A certificate's validity in Unix seconds; WXP_ERR_ARG for a key not
 * loaded from a certificate. */
WXP_MUST_CHECK wxp_err wxp_key_validity(const wxp_key *key, int64_t *not_before,
                                        int64_t *not_after);
/* Signature size in bytes (256 for RSA-2048). */
size_t wxp_key_size(const wxp_key *key);

/* SHA256withRSA (RSASSA-PKCS1-v1_5) over msg, Base64 without line breaks.
 * `key` must be private. */
WXP_MUST_CHECK wxp_err wxp_sign(const wxp_key *key, const void *msg, size_t len, char **sig_b64);
/* Verifies a Base64 signature over msg. Distinct results: WXP_OK,
 * WXP_ERR_SIGNTEST_PROBE, WXP_ERR_BASE64, WXP_ERR_SIGNATURE_LENGTH,
 * WXP_ERR_SIGNATURE_MISMATCH. */
WXP_MUST_CHECK wxp_err wxp_verify(const wxp_key *key, const void *msg, size_t len, wxp_span sig_b64,
                                  wxp_diag *diag);

/* Strict standard Base64 (RFC 4648 section 4): length a multiple of 4,
 * alphabet A-Z a-z 0-9 + /, '=' only as final padding, unused bits zero, no
 * whitespace. Writes at most `cap` bytes to out. */
WXP_MUST_CHECK wxp_err wxp_base64_decode(wxp_span in, unsigned char *out, size_t cap,
                                         size_t *out_len);

/* Serial (or public key id) -> verification key. Holds platform
 * certificates and WeChat Pay public keys side by side (section 3). */
typedef struct wxp_keyring wxp_keyring;
wxp_keyring *wxp_keyring_new(void);
void wxp_keyring_free(wxp_keyring *ring);
/* Adds `key` under `serial`; NULL serial means the key's certificate serial.
 * On WXP_OK the ring owns the key; on error the caller still does. A serial
 * already present is WXP_ERR_ARG. */
WXP_MUST_CHECK wxp_err wxp_keyring_add(wxp_keyring *ring, const char *serial, wxp_key *key);
/* Lookup ignoring the letter case (serials are hex: "5157f0..." names the
 * same certificate as "5157F0..."); NULL when absent. */
const wxp_key *wxp_keyring_find(const wxp_keyring *ring, wxp_span serial);

/* -------------------------------------- Authorization header (section 2) */

#define WXP_AUTH_SCHEME "WECHATPAY2-SHA256-RSA2048"
/* Longest value accepted per field. A Base64 RSA-4096 signature is 684. */
#define WXP_AUTH_MAX_VALUE 1024

/* The five fields. Parsed values point into the parsed header. */
typedef struct wxp_auth {
    wxp_span mchid;
    wxp_span nonce_str;
    wxp_span timestamp;
    wxp_span serial_no;
    wxp_span signature;
    int64_t timestamp_value; /* timestamp as a number (set by parse) */
} wxp_auth;

/* Builds the header VALUE (no "Authorization: "), fields in the Go/Java
 * order mchid, nonce_str, timestamp, serial_no, signature. Values must not
 * hold '"' (WXP_ERR_AUTH_BAD_VALUE). */
WXP_MUST_CHECK wxp_err wxp_auth_build(const wxp_auth *auth, char **out);

/* Parses a header VALUE strictly: the scheme, one space, then the five
 * `key="value"` pairs in any order joined by ','. Names the offending field
 * in diag->field. */
WXP_MUST_CHECK wxp_err wxp_auth_parse(wxp_span header, wxp_auth *out, wxp_diag *diag);

/* ----------------------------------- response verification (section 3) */

#define WXP_DEFAULT_SKEW_SECONDS 300

/* Header values as received; signature_type may be {NULL,0} (optional). */
typedef struct wxp_response_headers {
    wxp_span timestamp;      /* Wechatpay-Timestamp */
    wxp_span nonce;          /* Wechatpay-Nonce */
    wxp_span signature;      /* Wechatpay-Signature */
    wxp_span serial;         /* Wechatpay-Serial */
    wxp_span signature_type; /* Wechatpay-Signature-Type */
} wxp_response_headers;

/* Checks, in order: headers present, signature type, timestamp syntax,
 * |now - timestamp| < max_skew (seconds; <= 0 means the default 300),
 * serial known, then the signature over TIMESTAMP\nNONCE\nBODY\n. */
WXP_MUST_CHECK wxp_err wxp_response_verify(const wxp_keyring *ring, const wxp_response_headers *h,
                                           wxp_span body, int64_t now, int64_t max_skew,
                                           wxp_diag *diag);

/* ---------------------------------------- path templates (section 4) */

/* One template parameter: `{name}` in a template takes `value`. */
typedef struct wxp_param {
    const char *name;
    const char *value;
} wxp_param;

/* Replaces every {name} by its value, percent-encoding each byte outside
 * RFC 3986 unreserved (A-Z a-z 0-9 - . _ ~) as %XX (uppercase), so '*' is
 * %2A and '|' is %7C. The result always starts with '/'. */
WXP_MUST_CHECK wxp_err wxp_template_expand(const char *tmpl, const wxp_param *params,
                                           size_t nparams, char **out, wxp_diag *diag);

/* Chain form to template: segments joined by '/', camelCase becomes
 * dash-case and `_name_` becomes `{name}`:
 * "v3/pay/transactions/outTradeNo/_out_trade_no_/reverse" ->
 * "v3/pay/transactions/out-trade-no/{out_trade_no}/reverse". */
WXP_MUST_CHECK wxp_err wxp_chain_to_template(const char *chain, char **out, wxp_diag *diag);

#define WXP_MATCH_MAX_PARAMS 4
#define WXP_PARAM_MAX_LEN 128

/* Result of matching a request target against a template. */
typedef struct wxp_match {
    wxp_span path;  /* target before '?' */
    wxp_span query; /* after '?', {NULL,0} when there is none */
    size_t nparams;
    struct {
        wxp_span name;                     /* into the template, without braces */
        wxp_span raw;                      /* into the target, still percent-encoded */
        char value[WXP_PARAM_MAX_LEN + 1]; /* percent-decoded, NUL-ended */
        size_t value_len;
    } params[WXP_MATCH_MAX_PARAMS];
} wxp_match;

/* Matches a raw request target (origin-form, as on the wire) against a
 * template whose {name} parameters fill whole segments. On mismatch the
 * error says which mistake it is (WXP_ERR_PATH_*) and diag names the
 * segment, the expected and received text and the likely fix. */
WXP_MUST_CHECK wxp_err wxp_template_match(const char *tmpl, wxp_span target, wxp_match *out,
                                          wxp_diag *diag);

/* -------------------------------------------- field rules (section 4) */

/* out_trade_no: 6..32 of [0-9A-Za-z_-|*]. */
WXP_MUST_CHECK wxp_err wxp_check_out_trade_no(wxp_span v, wxp_diag *diag);
/* appid: 1..32 of [0-9A-Za-z_-]. */
WXP_MUST_CHECK wxp_err wxp_check_appid(wxp_span v, wxp_diag *diag);
/* mchid: 1..32 decimal digits. */
WXP_MUST_CHECK wxp_err wxp_check_mchid(wxp_span v, wxp_diag *diag);

/* ------------------------------------------------------- JSON bodies */

#define WXP_ID_MAX 32

/* {"appid":..., "mchid":...}: the reverse request body. */
typedef struct wxp_reverse_request {
    char appid[WXP_ID_MAX + 1];
    char mchid[WXP_ID_MAX + 1];
} wxp_reverse_request;

/* {"appid":..., "mchid":..., "out_trade_no":...}: the reverse answer. */
typedef struct wxp_reverse_response {
    char appid[WXP_ID_MAX + 1];
    char mchid[WXP_ID_MAX + 1];
    char out_trade_no[WXP_ID_MAX + 1];
} wxp_reverse_response;

/* {"code":..., "message":..., "detail":{...}}: an error answer. */
typedef struct wxp_error_body {
    char code[64];
    char message[512];
    char *detail; /* detail as compact JSON (malloc'd), or NULL when absent */
} wxp_error_body;

/* Builds the compact request body {"appid":"..","mchid":".."}. */
WXP_MUST_CHECK wxp_err wxp_reverse_request_build(const char *appid, const char *mchid, char **out);
/* Parsers take raw bytes, need a JSON object, name the missing, mistyped or
 * repeated field in diag->field, and ignore fields they do not know, except
 * that a reverse answer holding trade_state is a transaction (a query's
 * answer served in its place): WXP_ERR_JSON_WRONG_ANSWER. Values
 * longer than the struct holds are WXP_ERR_JSON_FIELD_TOO_LONG. */
WXP_MUST_CHECK wxp_err wxp_reverse_request_parse(wxp_span body, wxp_reverse_request *out,
                                                 wxp_diag *diag);
WXP_MUST_CHECK wxp_err wxp_reverse_response_parse(wxp_span body, wxp_reverse_response *out,
                                                  wxp_diag *diag);
/* On WXP_OK free out->detail with wxp_error_body_clear(). A message longer
 * than the buffer is cut (not an error: it is only shown to people). */
WXP_MUST_CHECK wxp_err wxp_error_body_parse(wxp_span body, wxp_error_body *out, wxp_diag *diag);
void wxp_error_body_clear(wxp_error_body *eb);

/* --------------------------------------- code payment (section 7) */

/* Who a call is for: appid and mchid of a merchant; or, through a service
 * provider (服务商), its appid and mchid (sp_appid, sp_mchid) with the
 * sub-merchant's sub_mchid and optional sub_appid. NULL or "": left out. */
typedef struct wxp_party {
    const char *appid, *mchid;
    const char *sub_appid, *sub_mchid; /* sub_mchid set: the partner form */
} wxp_party;

/* A code payment (付款码支付): the user's payment code and the amount. */
typedef struct wxp_codepay {
    const char *out_trade_no;
    const char *auth_code;   /* the 18 digits the scanner read */
    const char *description; /* what is sold */
    int64_t total;           /* fen, CNY */
    const char *store_id;    /* scene_info.store_info.out_id; NULL: "0" */
    const char *device_id;   /* scene_info.device_id; may be NULL */
    const char *attach;      /* may be NULL */
} wxp_codepay;

/* The body of POST .../codepay (direct or partner, by p->sub_mchid). */
WXP_MUST_CHECK wxp_err wxp_codepay_request_build(const wxp_party *p, const wxp_codepay *c,
                                                 char **out);
/* The ids alone: {"mchid"} for a close, {"sp_mchid","sub_mchid"} for a
 * partner close, with the appids too for a partner reverse. */
WXP_MUST_CHECK wxp_err wxp_ids_request_build(const wxp_party *p, bool with_appids, char **out);

/* A transaction as codepay and the queries answer it. In the partner form
 * mchid and appid hold sub_mchid and sub_appid. */
typedef struct wxp_transaction {
    char appid[WXP_ID_MAX + 1], mchid[WXP_ID_MAX + 1];
    char sp_appid[WXP_ID_MAX + 1], sp_mchid[WXP_ID_MAX + 1];
    char out_trade_no[WXP_ID_MAX + 1], transaction_id[WXP_ID_MAX + 1];
    char trade_state[16], trade_type[16];
    char trade_state_desc[128];
    int64_t total; /* amount.total, 0 when absent */
} wxp_transaction;

/* out_trade_no, the merchant ids and trade_state required. */
WXP_MUST_CHECK wxp_err wxp_transaction_parse(wxp_span body, wxp_transaction *out, wxp_diag *diag);
/* {"sp_mchid","sub_mchid","out_trade_no"} (+ appids): a partner reverse's answer. */
WXP_MUST_CHECK wxp_err wxp_partner_reverse_response_parse(wxp_span body, wxp_transaction *out,
                                                          wxp_diag *diag);

/* ------------------------------- platform certificates (section 6) */

/* The merchant's APIv3 key: 32 bytes, used as they are as the AES-256 key. */
#define WXP_APIV3_KEY_LEN 32
#define WXP_AEAD_TAG_LEN 16
#define WXP_AEAD_ALGORITHM "AEAD_AES_256_GCM"
/* Longest serial_no taken from a list (certificate serials are 40 hex). */
#define WXP_SERIAL_MAX 64

/* AEAD_AES_256_GCM as API v3 uses it: `key` is the APIv3 key (a string of
 * exactly 32 bytes), `nonce` the given text's bytes as the IV, `aad` the
 * associated data; the result is the Base64 of the ciphertext with the
 * 16-byte tag at its end (RFC 5116). */
WXP_MUST_CHECK wxp_err wxp_aead_encrypt(const char *key, wxp_span nonce, wxp_span aad,
                                        wxp_span plain, char **ct_b64);
/* The reverse: *plain (malloc'd, NUL-terminated, *plain_len bytes) only
 * when the tag verifies (else WXP_ERR_AEAD_TAG and nothing). */
WXP_MUST_CHECK wxp_err wxp_aead_decrypt(const char *key, wxp_span nonce, wxp_span aad,
                                        wxp_span ct_b64, char **plain, size_t *plain_len,
                                        wxp_diag *diag);

/* One certificate of a GET /v3/certificates answer, opened. */
typedef struct wxp_platform_cert {
    char serial_no[WXP_SERIAL_MAX + 1];
    char effective_time[40]; /* as listed: RFC 3339, "2026-11-28T14:51:53+08:00" */
    char expire_time[40];
    wxp_key *key; /* the certificate; its serial is serial_no (letter case aside) */
} wxp_platform_cert;

#define WXP_CERT_LIST_MAX 16
typedef struct wxp_cert_list {
    size_t n;
    wxp_platform_cert certs[WXP_CERT_LIST_MAX];
} wxp_cert_list;

/* Opens every entry of a certificate list body with the APIv3 key: each
 * must be AEAD_AES_256_GCM, authenticate, and hold a PEM certificate whose
 * serial is the entry's serial_no. All or nothing: on any error the list
 * is empty and diag names the entry and field. The answer's own signature
 * is not checked here: verify it with a ring of these certificates (the
 * SDKs' bootstrap), see wxp_cert_list_verify(). */
WXP_MUST_CHECK wxp_err wxp_cert_list_decode(wxp_span body, const char *apiv3_key,
                                            wxp_cert_list *out, wxp_diag *diag);
/* Verifies the list's answer (headers and body) with the certificates it
 * holds, beside those of `known` (may be NULL). */
WXP_MUST_CHECK wxp_err wxp_cert_list_verify(const wxp_cert_list *list, const wxp_keyring *known,
                                            const wxp_response_headers *h, wxp_span body,
                                            int64_t now, int64_t max_skew, wxp_diag *diag);
void wxp_cert_list_clear(wxp_cert_list *list);

#ifdef __cplusplus
}
#endif
#endif /* WXP_PROTOCOL_H */
