/* journal.c: every request the mock saw, with each check's verdict and the
 * answer, in a ring of bounded size; optionally also appended to a file as
 * JSON lines, flushed per entry so a crash or kill loses nothing. Entries
 * are written as compact JSON text by a small writer (no tree of small
 * allocations per request) and kept as text, with the order number beside
 * them for filtering. */
#include "mock_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *json;
    char out_trade_no[WXP_PARAM_MAX_LEN + 1];
} entry;

struct Wxm_journal {
    pthread_mutex_t lock;
    entry *ring;
    size_t cap, start, count;
    uint64_t seq;     /* entries ever added */
    uint64_t dropped; /* pushed out of the ring by newer ones */
    FILE *file;
};

Wxm_journal *Wxm_journal_new(size_t cap)
{
    Wxm_journal *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->cap = cap ? cap : 1;
    j->ring = calloc(j->cap, sizeof(entry));
    if (!j->ring) {
        free(j);
        return NULL;
    }
    pthread_mutex_init(&j->lock, NULL);
    return j;
}

static void clear_ring(Wxm_journal *j)
{
    for (size_t i = 0; i < j->count; i++)
        free(j->ring[(j->start + i) % j->cap].json);
    j->start = j->count = 0;
}

void Wxm_journal_free(Wxm_journal *j)
{
    if (!j)
        return;
    clear_ring(j);
    if (j->file)
        fclose(j->file);
    pthread_mutex_destroy(&j->lock);
    free(j->ring);
    free(j);
}

void Wxm_journal_clear(Wxm_journal *j)
{
    pthread_mutex_lock(&j->lock);
    clear_ring(j);
    j->dropped = 0;
    pthread_mutex_unlock(&j->lock);
}

wxp_err Wxm_journal_set_file(Wxm_journal *j, const char *path, wxp_diag *diag)
{
    FILE *f = NULL;
    if (path) {
        f = fopen(path, "a");
        if (!f)
            return wxp_fail(diag, WXP_ERR_IO, "journal-file", "%s: %s", path, strerror(errno));
    }
    pthread_mutex_lock(&j->lock);
    if (j->file)
        fclose(j->file);
    j->file = f;
    pthread_mutex_unlock(&j->lock);
    return WXP_OK;
}

/* ------------------------------------------------------ JSON writer */

static void put(Wxm_json *j, const char *s, size_t n)
{
    if (j->failed || n == 0)
        return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 1024;
        while (cap < j->len + n + 1)
            cap *= 2;
        char *p = realloc(j->p, cap);
        if (!p) {
            j->failed = true;
            return;
        }
        j->p = p;
        j->cap = cap;
    }
    memcpy(j->p + j->len, s, n);
    j->len += n;
    j->p[j->len] = '\0';
}

/* s as a JSON string, escaped. */
static void put_string(Wxm_json *j, const char *s, size_t n)
{
    put(j, "\"", 1);
    size_t run = 0; /* bytes that need no escape, copied in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > 31 && c != '"' && c != '\\')
            continue;
        put(j, s + run, i - run);
        char esc[8];
        switch (c) {
        case '"': put(j, "\\\"", 2); break;
        case '\\': put(j, "\\\\", 2); break;
        case '\b': put(j, "\\b", 2); break;
        case '\f': put(j, "\\f", 2); break;
        case '\n': put(j, "\\n", 2); break;
        case '\r': put(j, "\\r", 2); break;
        case '\t': put(j, "\\t", 2); break;
        default: snprintf(esc, sizeof(esc), "\\u%04x", c); put(j, esc, 6);
        }
        run = i + 1;
    }
    put(j, s + run, n - run);
    put(j, "\"", 1);
}

/* The comma (unless first in its object or array), then "key": if any. */
static void member(Wxm_json *j, const char *key)
{
    if (j->len && !j->failed && j->p[j->len - 1] != '{' && j->p[j->len - 1] != '[')
        put(j, ",", 1);
    if (key) {
        put_string(j, key, strlen(key));
        put(j, ":", 1);
    }
}

void Wxm_json_open(Wxm_json *j, const char *key, char bracket)
{
    member(j, key);
    put(j, &bracket, 1);
}

void Wxm_json_close(Wxm_json *j, char bracket)
{
    put(j, &bracket, 1);
}

void Wxm_json_string(Wxm_json *j, const char *key, const char *s, size_t n)
{
    member(j, key);
    put_string(j, s, n);
}

void Wxm_json_cstring(Wxm_json *j, const char *key, const char *s)
{
    Wxm_json_string(j, key, s, strlen(s));
}

void Wxm_json_int(Wxm_json *j, const char *key, long long v)
{
    char num[24];
    member(j, key);
    put(j, num, (size_t)snprintf(num, sizeof(num), "%lld", v));
}

void Wxm_json_bool(Wxm_json *j, const char *key, bool v)
{
    member(j, key);
    put(j, v ? "true" : "false", v ? 4 : 5);
}

/* ------------------------------------------------------------ entries */

void Wxm_journal_add(Wxm_journal *j, Wxm_json *text, const char *otn)
{
    entry n = {NULL, ""};
    if (otn)
        snprintf(n.out_trade_no, sizeof(n.out_trade_no), "%s", otn);
    /* The sequence number goes in front under the lock, so entries stay in
     * seq order; the text itself was written outside it. */
    size_t blen = text->len;
    if (text->failed || blen < 2 || text->p[0] != '{' || !(n.json = malloc(blen + 32))) {
        free(text->p);
        *text = (Wxm_json){0};
        return;
    }
    pthread_mutex_lock(&j->lock);
    int k =
        snprintf(n.json, 32, "{\"seq\":%llu%s", (unsigned long long)++j->seq, blen > 2 ? "," : "");
    memcpy(n.json + k, text->p + 1, blen); /* without its '{', with its NUL */
    if (j->file) {
        fputs(n.json, j->file);
        fputc('\n', j->file);
        fflush(j->file);
    }
    if (j->count == j->cap) {
        free(j->ring[j->start].json);
        j->start = (j->start + 1) % j->cap;
        j->count--;
        j->dropped++;
    }
    j->ring[(j->start + j->count++) % j->cap] = n;
    pthread_mutex_unlock(&j->lock);
    free(text->p);
    *text = (Wxm_json){0};
}

uint64_t Wxm_journal_total(Wxm_journal *j)
{
    pthread_mutex_lock(&j->lock);
    uint64_t n = j->seq;
    pthread_mutex_unlock(&j->lock);
    return n;
}

char *Wxm_journal_dump(Wxm_journal *j, const char *otn)
{
    size_t cap = 256, len = 0;
    char *out;
    pthread_mutex_lock(&j->lock);
    for (size_t i = 0; i < j->count; i++)
        cap += strlen(j->ring[(j->start + i) % j->cap].json) + 1;
    out = cJSON_malloc(cap);
    if (out) {
        len += (size_t)snprintf(out, cap, "{\"entries\":[");
        bool first = true;
        for (size_t i = 0; i < j->count; i++) {
            const entry *e = &j->ring[(j->start + i) % j->cap];
            if (otn && strcmp(e->out_trade_no, otn) != 0)
                continue;
            size_t n = strlen(e->json);
            if (!first)
                out[len++] = ',';
            memcpy(out + len, e->json, n);
            len += n;
            first = false;
        }
        snprintf(out + len, cap - len, "],\"dropped\":%llu,\"cap\":%zu,\"total\":%llu}",
                 (unsigned long long)j->dropped, j->cap, (unsigned long long)j->seq);
    }
    pthread_mutex_unlock(&j->lock);
    return out;
}
