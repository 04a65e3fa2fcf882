/* journal.c: every request the mock saw, with each check's verdict and the
 * answer, in a ring of bounded size; optionally also appended to a file as
 * JSON lines, flushed per entry so a crash or kill loses nothing. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct wxm_journal {
    pthread_mutex_t lock;
    cJSON **ring;
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
    j->ring = calloc(cap ? cap : 1, sizeof(cJSON *));
    if (!j->ring) {
        free(j);
        return NULL;
    }
    j->cap = cap ? cap : 1;
    pthread_mutex_init(&j->lock, NULL);
    return j;
}

static void clear_ring(wxm_journal *j)
{
    for (size_t i = 0; i < j->count; i++)
        cJSON_Delete(j->ring[(j->start + i) % j->cap]);
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

void wxm_journal_add(wxm_journal *j, cJSON *entry)
{
    if (!entry)
        return;
    pthread_mutex_lock(&j->lock);
    cJSON_AddNumberToObject(entry, "seq", (double)++j->seq);
    if (j->file) {
        char *line = cJSON_PrintUnformatted(entry);
        if (line) {
            fputs(line, j->file);
            fputc('\n', j->file);
            fflush(j->file);
            cJSON_free(line);
        }
    }
    if (j->count == j->cap) {
        cJSON_Delete(j->ring[j->start]);
        j->start = (j->start + 1) % j->cap;
        j->count--;
        j->dropped++;
    }
    j->ring[(j->start + j->count++) % j->cap] = entry;
    pthread_mutex_unlock(&j->lock);
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
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "entries");
    char *text;

    pthread_mutex_lock(&j->lock);
    for (size_t i = 0; i < j->count; i++) {
        const cJSON *e = j->ring[(j->start + i) % j->cap];
        if (otn) {
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(e, "out_trade_no");
            if (!cJSON_IsString(o) || strcmp(o->valuestring, otn) != 0)
                continue;
        }
        cJSON_AddItemToArray(arr, cJSON_Duplicate(e, true));
    }
    cJSON_AddNumberToObject(root, "dropped", (double)j->dropped);
    cJSON_AddNumberToObject(root, "cap", (double)j->cap);
    cJSON_AddNumberToObject(root, "total", (double)j->seq);
    pthread_mutex_unlock(&j->lock);
    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}
