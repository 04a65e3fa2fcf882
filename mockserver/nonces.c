/* nonces.c: replay protection. A (mchid, nonce) pair that signed a request
 * is remembered until its timestamp leaves the skew window (after that the
 * timestamp check alone refuses a replay). Memory is fixed: a ring of
 * `cap` slots (64-bit hash of the pair + expiry) in arrival order, found
 * through an open-addressing index, all allocated and touched up front so
 * the resident size does not creep with traffic. When the ring is full the
 * oldest pair goes first; if it had not expired yet, that is counted
 * (Wxm_nonces_evicted_live) because its replay protection ended early. */
#include "mock_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint64_t key; /* 0: empty */
    int64_t expires;
} slot;

struct Wxm_nonces {
    pthread_mutex_t lock;
    slot *ring;
    size_t cap, head, count;
    uint32_t *index; /* ring position + 1; 0: empty */
    size_t mask;     /* index size - 1 (a power of two, at least 2 * cap) */
    uint64_t evicted_live;
};

/* Writes to every page now, so the resident size is flat later: fresh
 * zeroed pages (calloc, or malloc + memset(0), which compilers turn into
 * calloc) stay untouched until the ring reaches them. */
static void touch(void *p, size_t len)
{
    volatile unsigned char *b = p;
    for (size_t i = 0; i < len; i += 4096)
        b[i] = 0;
}

Wxm_nonces *Wxm_nonces_new(size_t cap)
{
    Wxm_nonces *n = calloc(1, sizeof(*n));
    size_t isize = 1;
    if (!n || cap == 0 || cap > (1u << 30))
        goto fail;
    while (isize < 2 * cap)
        isize <<= 1;
    n->cap = cap;
    n->mask = isize - 1;
    n->ring = calloc(cap, sizeof(slot));
    n->index = calloc(isize, sizeof(uint32_t));
    if (!n->ring || !n->index)
        goto fail;
    touch(n->ring, cap * sizeof(slot));
    touch(n->index, isize * sizeof(uint32_t));
    pthread_mutex_init(&n->lock, NULL);
    return n;
fail:
    if (n) {
        free(n->ring);
        free(n->index);
        free(n);
    }
    return NULL;
}

void Wxm_nonces_free(Wxm_nonces *n)
{
    if (!n)
        return;
    pthread_mutex_destroy(&n->lock);
    free(n->ring);
    free(n->index);
    free(n);
}

static size_t probe(const Wxm_nonces *n, uint64_t key);

void Wxm_nonces_clear(Wxm_nonces *n)
{
    pthread_mutex_lock(&n->lock);
    if (n->count * 16 > n->mask) {
        memset(n->index, 0, (n->mask + 1) * sizeof(uint32_t));
    } else {
        /* Few entries: find every index slot first (probing needs the runs
         * intact), then empty them. Cheaper than 4 bytes x the index size. */
        size_t *pos = malloc(n->count * sizeof(size_t) + 1);
        for (size_t i = 0; pos && i < n->count; i++)
            pos[i] = probe(n, n->ring[(n->head + i) % n->cap].key);
        for (size_t i = 0; pos && i < n->count; i++)
            n->index[pos[i]] = 0;
        if (!pos)
            memset(n->index, 0, (n->mask + 1) * sizeof(uint32_t));
        free(pos);
    }
    for (size_t i = 0; i < n->count; i++)
        n->ring[(n->head + i) % n->cap].key = 0;
    n->head = n->count = 0;
    pthread_mutex_unlock(&n->lock);
}

uint64_t Wxm_nonces_evicted_live(Wxm_nonces *n)
{
    pthread_mutex_lock(&n->lock);
    uint64_t v = n->evicted_live;
    pthread_mutex_unlock(&n->lock);
    return v;
}

static uint64_t key_of(wxp_span mchid, wxp_span nonce)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a 64 */
    for (size_t i = 0; i < mchid.len; i++)
        h = (h ^ (unsigned char)mchid.ptr[i]) * 1099511628211ull;
    h = (h ^ '\n') * 1099511628211ull;
    for (size_t i = 0; i < nonce.len; i++)
        h = (h ^ (unsigned char)nonce.ptr[i]) * 1099511628211ull;
    h ^= h >> 29; /* spread the high bits into the index bits */
    return h ? h : 1;
}

/* Index slot holding `key`, or the empty slot where it would go. */
static size_t probe(const Wxm_nonces *n, uint64_t key)
{
    size_t i = (size_t)key & n->mask;
    while (n->index[i] && n->ring[n->index[i] - 1].key != key)
        i = (i + 1) & n->mask;
    return i;
}

/* Removes the index entry at i, shifting later entries of the same run
 * back (deletion in linear probing without tombstones). */
static void unindex(Wxm_nonces *n, size_t i)
{
    size_t j = i;
    n->index[i] = 0;
    for (;;) {
        j = (j + 1) & n->mask;
        if (!n->index[j])
            return;
        size_t home = (size_t)n->ring[n->index[j] - 1].key & n->mask;
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            n->index[i] = n->index[j];
            n->index[j] = 0;
            i = j;
        }
    }
}

static void drop_oldest(Wxm_nonces *n, int64_t now)
{
    slot *s = &n->ring[n->head];
    if (s->expires >= now)
        n->evicted_live++;
    unindex(n, probe(n, s->key));
    s->key = 0;
    n->head = (n->head + 1) % n->cap;
    n->count--;
}

/* Entries live for the same window after a timestamp close to now, so the
 * ring is (nearly) in expiry order: expire from the front. */
static void expire(Wxm_nonces *n, int64_t now)
{
    while (n->count && n->ring[n->head].expires < now)
        drop_oldest(n, now);
}

bool Wxm_nonces_seen(Wxm_nonces *n, wxp_span mchid, wxp_span nonce, int64_t now)
{
    uint64_t key = key_of(mchid, nonce);
    pthread_mutex_lock(&n->lock);
    expire(n, now);
    size_t i = probe(n, key);
    bool seen = n->index[i] && n->ring[n->index[i] - 1].expires >= now;
    pthread_mutex_unlock(&n->lock);
    return seen;
}

bool Wxm_nonces_add(Wxm_nonces *n, wxp_span mchid, wxp_span nonce, int64_t now, int64_t expires)
{
    uint64_t key = key_of(mchid, nonce);
    bool added = false;
    pthread_mutex_lock(&n->lock);
    expire(n, now);
    size_t i = probe(n, key);
    if (!n->index[i]) {
        if (n->count == n->cap) {
            drop_oldest(n, now);
            i = probe(n, key); /* the shift may have moved the empty slot */
        }
        size_t pos = (n->head + n->count) % n->cap;
        n->ring[pos] = (slot){key, expires};
        n->index[i] = (uint32_t)(pos + 1);
        n->count++;
        added = true;
    }
    pthread_mutex_unlock(&n->lock);
    return added;
}
