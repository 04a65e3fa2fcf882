/* nonces.c: replay protection. A (mchid, nonce) pair that signed a request
 * is remembered until its timestamp leaves the skew window; after that the
 * timestamp check alone refuses a replay, so memory stays bounded by the
 * request rate times the window. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096

typedef struct entry {
    struct entry *next;      /* in its bucket */
    struct entry *fifo_next; /* in insertion order, for expiry */
    int64_t expires;
    size_t keylen;
    char key[]; /* "mchid\nnonce" */
} entry;

struct wxm_nonces {
    pthread_mutex_t lock;
    entry *buckets[BUCKETS];
    entry *head, *tail; /* oldest first */
};

wxm_nonces *wxm_nonces_new(void)
{
    wxm_nonces *n = calloc(1, sizeof(*n));
    if (n)
        pthread_mutex_init(&n->lock, NULL);
    return n;
}

static void drop_all(wxm_nonces *n)
{
    entry *e = n->head;
    while (e) {
        entry *next = e->fifo_next;
        free(e);
        e = next;
    }
    memset(n->buckets, 0, sizeof(n->buckets));
    n->head = n->tail = NULL;
}

void wxm_nonces_clear(wxm_nonces *n)
{
    pthread_mutex_lock(&n->lock);
    drop_all(n);
    pthread_mutex_unlock(&n->lock);
}

void wxm_nonces_free(wxm_nonces *n)
{
    if (!n)
        return;
    drop_all(n);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

static size_t make_key(char *buf, size_t cap, wxp_span mchid, wxp_span nonce)
{
    if (mchid.len + nonce.len + 1 > cap)
        return 0;
    memcpy(buf, mchid.ptr, mchid.len);
    buf[mchid.len] = '\n';
    memcpy(buf + mchid.len + 1, nonce.ptr, nonce.len);
    return mchid.len + 1 + nonce.len;
}

static uint32_t hash(const char *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h;
}

/* Unlinks entries that expired; the FIFO is in expiry order because every
 * entry lives for the same window after a timestamp close to now. */
static void expire(wxm_nonces *n, int64_t now)
{
    while (n->head && n->head->expires < now) {
        entry *e = n->head;
        entry **p = &n->buckets[hash(e->key, e->keylen) % BUCKETS];
        while (*p != e)
            p = &(*p)->next;
        *p = e->next;
        n->head = e->fifo_next;
        free(e);
    }
    if (!n->head)
        n->tail = NULL;
}

static entry *find(wxm_nonces *n, const char *k, size_t len)
{
    for (entry *e = n->buckets[hash(k, len) % BUCKETS]; e; e = e->next)
        if (e->keylen == len && memcmp(e->key, k, len) == 0)
            return e;
    return NULL;
}

bool wxm_nonces_seen(wxm_nonces *n, wxp_span mchid, wxp_span nonce, int64_t now)
{
    char k[160];
    size_t len = make_key(k, sizeof(k), mchid, nonce);
    bool seen;
    if (!len)
        return false;
    pthread_mutex_lock(&n->lock);
    expire(n, now);
    entry *e = find(n, k, len);
    seen = e && e->expires >= now;
    pthread_mutex_unlock(&n->lock);
    return seen;
}

bool wxm_nonces_add(wxm_nonces *n, wxp_span mchid, wxp_span nonce, int64_t now,
                    int64_t expires)
{
    char k[160];
    size_t len = make_key(k, sizeof(k), mchid, nonce);
    bool added = false;
    if (!len)
        return true;
    pthread_mutex_lock(&n->lock);
    expire(n, now);
    if (!find(n, k, len)) {
        entry *e = malloc(sizeof(*e) + len);
        if (e) {
            memcpy(e->key, k, len);
            e->keylen = len;
            e->expires = expires;
            uint32_t b = hash(k, len) % BUCKETS;
            e->next = n->buckets[b];
            n->buckets[b] = e;
            e->fifo_next = NULL;
            if (n->tail)
                n->tail->fifo_next = e;
            else
                n->head = e;
            n->tail = e;
        }
        added = true; /* out of memory: let it pass rather than refuse */
    }
    pthread_mutex_unlock(&n->lock);
    return added;
}
