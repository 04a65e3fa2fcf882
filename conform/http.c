/* http.c: wxpay-conform's admin calls to the mock, the program's only
 * libcurl file. */
#include "conform.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cf_http_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void cf_http_cleanup(void)
{
    curl_global_cleanup();
}

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t collect(char *p, size_t s, size_t n, void *u)
{
    buf *b = u;
    char *q = realloc(b->p, b->n + s * n + 1);
    if (!q)
        return 0;
    memcpy(q + b->n, p, s * n);
    b->n += s * n;
    q[b->n] = '\0';
    b->p = q;
    return s * n;
}

long cf_admin(const char *base, const char *method, const char *path, const char *body, cJSON **out)
{
    CURL *c = curl_easy_init();
    char url[512];
    buf b = {NULL, 0};
    long status = 0;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    /* A mock started with an admin token (WXPAY_MOCK_ADMIN_TOKEN) wants it. */
    const char *token = getenv("WXPAY_MOCK_ADMIN_TOKEN");
    char auth[300];
    if (token && *token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %.256s", token);
        h = curl_slist_append(h, auth);
    }
    snprintf(url, sizeof(url), "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out)
        *out = b.p ? cJSON_Parse(b.p) : NULL;
    free(b.p);
    return status;
}
