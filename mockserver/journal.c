/* journal.c: every request the mock saw, with each check's verdict and the
 * answer, in a ring of bounded size; optionally also appended to a file as
 * JSON lines, each written whole in one go so a crash or kill loses
 * nothing. A line that cannot be written whole (a full disk) is taken back
 * off the end, never left torn; the failures are counted and the first is
 * said on stderr. Entries
 * are written as compact JSON text by a small writer (no tree of small
 * allocations per request) and kept as text, with the order number beside
 * them for filtering. */
#include "mock_int.h"
#include "wxp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An entry's text, shared by the ring and any dump being streamed: the
 * last one to let go frees it. */
typedef struct jtext {
    int refs; /* atomic */
    size_t len;
    char json[]; /* NUL-terminated */
} jtext;

typedef struct entry {
    jtext *t;
    char out_trade_no[WXP_PARAM_MAX_LEN + 1];
} entry;

static void unref(jtext *t)
{
    if (t && __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(t);
}

struct Wxm_journal {
    pthread_mutex_t lock;
    entry *ring;
    size_t cap, start, count;
    uint64_t seq;            /* entries ever added */
    uint64_t dropped;        /* pushed out of the ring by newer ones, or never
                                written for lack of memory */
    size_t bytes, max_bytes; /* text held, and its budget (limits.journal_bytes) */
    int fd;                  /* the journal file, or -1 */
    char *path;
    uint64_t file_lost; /* entries the file did not get */
};

Wxm_journal *Wxm_journal_new(size_t cap, size_t max_bytes)
{
    Wxm_journal *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->cap = cap ? cap : 1;
    j->max_bytes = max_bytes ? max_bytes : 1;
    j->ring = calloc(j->cap, sizeof(entry));
    if (!j->ring) {
        free(j);
        return NULL;
    }
    j->fd = -1;
    pthread_mutex_init(&j->lock, NULL);
    return j;
}

static void drop_oldest(Wxm_journal *j)
{
    entry *e = &j->ring[j->start];
    j->bytes -= e->t->len;
    unref(e->t);
    e->t = NULL;
    j->start = (j->start + 1) % j->cap;
    j->count--;
}

static void clear_ring(Wxm_journal *j)
{
    while (j->count)
        drop_oldest(j);
    j->start = 0;
}

void Wxm_journal_free(Wxm_journal *j)
{
    if (!j)
        return;
    clear_ring(j);
    if (j->fd >= 0)
        close(j->fd);
    free(j->path);
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
    int fd = -1;
    char *copy = NULL;
    if (path) {
        /* It holds every Authorization header: readable by its owner only. */
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return wxp_fail(diag, WXP_ERR_IO, "journal_file", "%s: %s", path, strerror(errno));
        if (!(copy = Wxp_strdup(path))) {
            close(fd);
            return WXP_ERR_NOMEM;
        }
    }
    pthread_mutex_lock(&j->lock);
    if (j->fd >= 0)
        close(j->fd);
    free(j->path);
    j->fd = fd;
    j->path = copy;
    j->file_lost = 0;
    pthread_mutex_unlock(&j->lock);
    return WXP_OK;
}

uint64_t Wxm_journal_file_lost(Wxm_journal *j)
{
    pthread_mutex_lock(&j->lock);
    uint64_t n = j->file_lost;
    pthread_mutex_unlock(&j->lock);
    return n;
}

/* Appends line[0..n) whole, or takes back what part of it went out. Under
 * the journal's lock: the only writer. */
static void write_line(Wxm_journal *j, const char *line, size_t n)
{
    off_t start = lseek(j->fd, 0, SEEK_END);
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(j->fd, line + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            if (done > 0 && start >= 0 && ftruncate(j->fd, start) != 0)
                e = errno; /* could not take it back either: say that */
            if (j->file_lost++ == 0)
                fprintf(stderr,
                        "wxpay-mock: journal file %s: %s; entry %llu and any after it that "
                        "cannot be written are lost (see journal_file_lost in /__admin/health)\n",
                        j->path, strerror(e), (unsigned long long)j->seq);
            return;
        }
        done += (size_t)w;
    }
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
    if (text->failed || blen < 2 || text->p[0] != '{' ||
        !(n.t = malloc(sizeof(jtext) + blen + 32))) {
        free(text->p);
        *text = (Wxm_json){0};
        pthread_mutex_lock(&j->lock);
        j->dropped++; /* counted, not lost in silence */
        pthread_mutex_unlock(&j->lock);
        return;
    }
    n.t->refs = 1;
    pthread_mutex_lock(&j->lock);
    char *json = n.t->json;
    int k =
        snprintf(json, 32, "{\"seq\":%llu%s", (unsigned long long)++j->seq, blen > 2 ? "," : "");
    memcpy(json + k, text->p + 1, blen); /* without its '{', with its NUL */
    n.t->len = (size_t)k + blen - 1;
    if (j->fd >= 0) {
        json[n.t->len] = '\n'; /* the line whole, in one write */
        write_line(j, json, n.t->len + 1);
        json[n.t->len] = '\0';
    }
    /* Room by count and by bytes: the oldest go first. */
    while (j->count && (j->count == j->cap || j->bytes + n.t->len > j->max_bytes)) {
        drop_oldest(j);
        j->dropped++;
    }
    j->ring[(j->start + j->count++) % j->cap] = n;
    j->bytes += n.t->len;
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

/* A dump being read: the entries it shows, held until it is freed, so the
 * journal goes on (and may drop them) meanwhile and no copy is made. */
struct wxm_stream {
    jtext **items;
    size_t n, next;  /* items, and the one being sent */
    size_t off;      /* bytes of the current piece already sent */
    int phase;       /* 0 head, 1 entries (with their commas), 2 tail, 3 done */
    bool comma_sent; /* before the current entry */
    char head[16], tail[128];
    size_t head_len, tail_len, total;
};

wxm_stream *Wxm_journal_stream(Wxm_journal *j, const char *otn)
{
    wxm_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    pthread_mutex_lock(&j->lock);
    st->items = malloc((j->count ? j->count : 1) * sizeof(*st->items));
    if (!st->items) {
        pthread_mutex_unlock(&j->lock);
        free(st);
        return NULL;
    }
    for (size_t i = 0; i < j->count; i++) {
        const entry *e = &j->ring[(j->start + i) % j->cap];
        if (otn && strcmp(e->out_trade_no, otn) != 0)
            continue;
        __atomic_add_fetch(&e->t->refs, 1, __ATOMIC_RELAXED);
        st->items[st->n++] = e->t;
        st->total += e->t->len + (st->n > 1);
    }
    st->tail_len = (size_t)snprintf(
        st->tail, sizeof(st->tail), "],\"dropped\":%llu,\"cap\":%zu,\"total\":%llu}",
        (unsigned long long)j->dropped, j->cap, (unsigned long long)j->seq);
    pthread_mutex_unlock(&j->lock);
    st->head_len = (size_t)snprintf(st->head, sizeof(st->head), "{\"entries\":[");
    st->total += st->head_len + st->tail_len;
    return st;
}

size_t wxm_stream_size(const wxm_stream *st)
{
    return st ? st->total : 0;
}

/* Copies what is left of piece p[0..n) from st->off; true when it is done. */
static bool copy_piece(wxm_stream *st, const char *p, size_t n, char *buf, size_t max, size_t *got)
{
    size_t k = n - st->off < max - *got ? n - st->off : max - *got;
    memcpy(buf + *got, p + st->off, k);
    *got += k;
    st->off += k;
    if (st->off < n)
        return false;
    st->off = 0;
    return true;
}

size_t wxm_stream_read(wxm_stream *st, char *buf, size_t max)
{
    size_t got = 0;
    while (st && got < max && st->phase < 3) {
        if (st->phase == 0) {
            st->phase += copy_piece(st, st->head, st->head_len, buf, max, &got);
        } else if (st->phase == 1) {
            if (st->next == st->n) {
                st->phase = 2;
            } else if (st->next > 0 && !st->comma_sent) { /* between entries */
                buf[got++] = ',';
                st->comma_sent = true;
            } else if (copy_piece(st, st->items[st->next]->json, st->items[st->next]->len, buf, max,
                                  &got)) {
                st->next++;
                st->comma_sent = false;
            }
        } else {
            st->phase += copy_piece(st, st->tail, st->tail_len, buf, max, &got);
        }
    }
    return got;
}

void wxm_stream_free(wxm_stream *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        unref(st->items[i]);
    free(st->items);
    free(st);
}

char *Wxm_journal_dump(Wxm_journal *j, const char *otn)
{
    wxm_stream *st = Wxm_journal_stream(j, otn);
    char *out = st ? cJSON_malloc(st->total + 1) : NULL;
    if (out)
        out[wxm_stream_read(st, out, st->total)] = '\0';
    wxm_stream_free(st);
    return out;
}
