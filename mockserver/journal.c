/* journal.c: every request the mock saw, with each check's verdict and the
 * answer, in a ring of bounded size; optionally also appended to a file as
 * JSON lines, flushed per entry so a crash or kill loses nothing. Entries
 * are kept as compact JSON text (a tenth of the memory of a cJSON tree),
 * with the order number beside them for filtering. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *json;
    char out_trade_no[WXP_PARAM_MAX_LEN + 1];
} entry;

struct wxm_journal {
    pthread_mutex_t lock;
    entry *ring;
    size_t cap, start, count;
    uint64_t seq;     /* entries ever added */
    uint64_t dropped; /* pushed out of the ring by newer ones */
    FILE *file;
};

wxm_journal *wxm_journal_new(size_t cap)
{
    wxm_journal *j = calloc(1, sizeof(*j));
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

static void clear_ring(wxm_journal *j)
{
    for (size_t i = 0; i < j->count; i++)
        cJSON_free(j->ring[(j->start + i) % j->cap].json);
    j->start = j->count = 0;
}

void wxm_journal_free(wxm_journal *j)
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

void wxm_journal_clear(wxm_journal *j)
{
    pthread_mutex_lock(&j->lock);
    clear_ring(j);
    j->dropped = 0;
    pthread_mutex_unlock(&j->lock);
}

wxp_err wxm_journal_set_file(wxm_journal *j, const char *path, wxp_diag *diag)
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

void wxm_journal_add(wxm_journal *j, cJSON *e)
{
    if (!e)
        return;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(e, "out_trade_no");
    entry n = {NULL, ""};
    if (cJSON_IsString(o))
        snprintf(n.out_trade_no, sizeof(n.out_trade_no), "%s", o->valuestring);
    /* Printing, the costly part, happens outside the lock; the sequence
     * number goes in front under it, so entries stay in seq order. */
    char *body = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    size_t blen = body ? strlen(body) : 0;
    if (!body || blen < 2 || !(n.json = cJSON_malloc(blen + 32))) {
        cJSON_free(body);
        return;
    }
    pthread_mutex_lock(&j->lock);
    int k = snprintf(n.json, 32, "{\"seq\":%llu%s", (unsigned long long)++j->seq, blen > 2 ? "," : "");
    memcpy(n.json + k, body + 1, blen); /* body without its '{', with its NUL */
    if (j->file) {
        fputs(n.json, j->file);
        fputc('\n', j->file);
        fflush(j->file);
    }
    if (j->count == j->cap) {
        cJSON_free(j->ring[j->start].json);
        j->start = (j->start + 1) % j->cap;
        j->count--;
        j->dropped++;
    }
    j->ring[(j->start + j->count++) % j->cap] = n;
    pthread_mutex_unlock(&j->lock);
    cJSON_free(body);
}

uint64_t wxm_journal_total(wxm_journal *j)
{
    pthread_mutex_lock(&j->lock);
    uint64_t n = j->seq;
    pthread_mutex_unlock(&j->lock);
    return n;
}

char *wxm_journal_dump(wxm_journal *j, const char *otn)
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
