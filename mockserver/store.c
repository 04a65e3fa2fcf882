/* store.c: the order store and the order states.
 *
 * The store is a hash table split into shards, each with its own mutex, so
 * requests on different orders rarely wait for each other, and every change
 * to one order happens under one lock (no half-changed order is visible).
 *
 * It holds at most `limit` orders (limits.orders). When a new one would
 * pass it, the oldest finished orders (REVOKED, CLOSED, REFUND: no call
 * changes them any more) are evicted, a tenth of the limit at a time so the
 * scan that finds them is paid for by many insertions; when none is
 * finished, the new order is refused (WXM_NO_ROOM). */
#include "mock_int.h"

#include <stdlib.h>
#include <string.h>

#define SHARDS 64
#define BUCKETS_PER_SHARD 256

typedef struct node {
    struct node *next;
    Wxm_order order;
} node;

typedef struct shard {
    pthread_mutex_t lock;
    node *buckets[BUCKETS_PER_SHARD];
    size_t count;
} shard;

struct Wxm_store {
    shard shards[SHARDS];
    uint64_t last_id; /* atomic: the id of the newest order */
    size_t limit;
    size_t total;             /* atomic: orders held */
    uint64_t evicted;         /* atomic */
    pthread_mutex_t evicting; /* one eviction at a time */
};

static const char *const state_names[] = {
    [WXM_SUCCESS] = "SUCCESS",   [WXM_REFUND] = "REFUND",   [WXM_NOTPAY] = "NOTPAY",
    [WXM_CLOSED] = "CLOSED",     [WXM_REVOKED] = "REVOKED", [WXM_USERPAYING] = "USERPAYING",
    [WXM_PAYERROR] = "PAYERROR",
};

const char *Wxm_state_name(Wxm_state s)
{
    return (size_t)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

bool Wxm_state_parse(const char *name, Wxm_state *out)
{
    for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
        if (strcmp(name, state_names[i]) == 0) {
            *out = (Wxm_state)i;
            return true;
        }
    return false;
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

Wxm_store *Wxm_store_new(size_t limit)
{
    Wxm_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->limit = limit ? limit : 1;
    for (size_t i = 0; i < SHARDS; i++)
        pthread_mutex_init(&s->shards[i].lock, NULL);
    pthread_mutex_init(&s->evicting, NULL);
    return s;
}

static void free_chain(shard *sh)
{
    for (size_t b = 0; b < BUCKETS_PER_SHARD; b++) {
        node *n = sh->buckets[b];
        while (n) {
            node *next = n->next;
            free(n);
            n = next;
        }
        sh->buckets[b] = NULL;
    }
    sh->count = 0;
}

void Wxm_store_clear(Wxm_store *s)
{
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&s->shards[i].lock);
        __atomic_sub_fetch(&s->total, s->shards[i].count, __ATOMIC_RELAXED);
        free_chain(&s->shards[i]);
        pthread_mutex_unlock(&s->shards[i].lock);
    }
}

static bool finished(const Wxm_order *o)
{
    return o->state == WXM_REVOKED || o->state == WXM_CLOSED || o->state == WXM_REFUND;
}

static int cmp_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Evicts the oldest finished orders: a tenth of the limit, or what it takes
 * to get under it, whichever is more. */
static void evict(Wxm_store *s)
{
    pthread_mutex_lock(&s->evicting);
    size_t total = __atomic_load_n(&s->total, __ATOMIC_RELAXED);
    if (total < s->limit) { /* another thread made room meanwhile */
        pthread_mutex_unlock(&s->evicting);
        return;
    }
    size_t cap = total + SHARDS, n = 0;
    uint64_t *ids = malloc(cap * sizeof(*ids));
    for (size_t i = 0; ids && i < SHARDS; i++) {
        pthread_mutex_lock(&s->shards[i].lock);
        for (size_t b = 0; b < BUCKETS_PER_SHARD; b++)
            for (node *x = s->shards[i].buckets[b]; x && n < cap; x = x->next)
                if (finished(&x->order))
                    ids[n++] = x->order.id;
        pthread_mutex_unlock(&s->shards[i].lock);
    }
    if (n > 0) {
        size_t want = s->limit / 10 > total - s->limit + 1 ? s->limit / 10 : total - s->limit + 1;
        if (want > n)
            want = n;
        if (want == 0)
            want = 1;
        qsort(ids, n, sizeof(*ids), cmp_id);
        uint64_t cutoff = ids[want - 1];
        size_t gone = 0;
        for (size_t i = 0; i < SHARDS; i++) {
            shard *sh = &s->shards[i];
            pthread_mutex_lock(&sh->lock);
            for (size_t b = 0; b < BUCKETS_PER_SHARD; b++)
                for (node **p = &sh->buckets[b]; *p;) {
                    if (finished(&(*p)->order) && (*p)->order.id <= cutoff) {
                        node *dead = *p;
                        *p = dead->next;
                        free(dead);
                        sh->count--;
                        gone++;
                    } else {
                        p = &(*p)->next;
                    }
                }
            pthread_mutex_unlock(&sh->lock);
        }
        __atomic_sub_fetch(&s->total, gone, __ATOMIC_RELAXED);
        __atomic_add_fetch(&s->evicted, gone, __ATOMIC_RELAXED);
    }
    free(ids);
    pthread_mutex_unlock(&s->evicting);
}

uint64_t Wxm_store_evicted(Wxm_store *s)
{
    return __atomic_load_n(&s->evicted, __ATOMIC_RELAXED);
}

size_t Wxm_store_limit(const Wxm_store *s)
{
    return s->limit;
}

void Wxm_store_free(Wxm_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < SHARDS; i++) {
        free_chain(&s->shards[i]);
        pthread_mutex_destroy(&s->shards[i].lock);
    }
    pthread_mutex_destroy(&s->evicting);
    free(s);
}

static node **slot(Wxm_store *s, const char *key, shard **sh)
{
    uint32_t h = hash(key);
    *sh = &s->shards[h % SHARDS];
    node **p = &(*sh)->buckets[(h / SHARDS) % BUCKETS_PER_SHARD];
    while (*p && strcmp((*p)->order.out_trade_no, key) != 0)
        p = &(*p)->next;
    return p;
}

/* WeChat Pay's number for an order that has none: 32 digits from its
 * creation time and its id, so unique in the store's life. */
static void name_transaction(Wxm_order *o)
{
    char tid[64];
    if (o->transaction_id[0])
        return;
    long long t = (long long)(o->created_at % 10000000000LL);
    snprintf(tid, sizeof(tid), "4200%010lld%018llu", t < 0 ? -t : t,
             (unsigned long long)(o->id % 1000000000000000000ULL));
    memcpy(o->transaction_id, tid, 32);
    o->transaction_id[32] = '\0';
}

Wxm_found Wxm_store_with(Wxm_store *s, const char *key, const Wxm_order *init, Wxm_order_fn fn,
                         void *ctx)
{
    shard *sh;
    pthread_mutex_t *lock = &s->shards[hash(key) % SHARDS].lock;

    for (int round = 0;; round++) {
        pthread_mutex_lock(lock);
        node **p = slot(s, key, &sh);
        if (!*p) {
            if (!init) {
                pthread_mutex_unlock(lock);
                return WXM_ABSENT;
            }
            if (__atomic_load_n(&s->total, __ATOMIC_RELAXED) >= s->limit) {
                pthread_mutex_unlock(lock);
                if (round == 1)
                    return WXM_NO_ROOM; /* nothing finished to evict */
                evict(s);               /* takes the shard locks itself */
                continue;
            }
            if (!(*p = calloc(1, sizeof(node)))) {
                pthread_mutex_unlock(lock);
                return WXM_NO_MEMORY;
            }
            (*p)->order = *init;
            (*p)->order.id = __atomic_add_fetch(&s->last_id, 1, __ATOMIC_RELAXED);
            name_transaction(&(*p)->order);
            sh->count++;
            __atomic_add_fetch(&s->total, 1, __ATOMIC_RELAXED);
        }
        if (fn)
            fn(&(*p)->order, ctx);
        pthread_mutex_unlock(lock);
        return WXM_FOUND;
    }
}

Wxm_found Wxm_store_with_transaction(Wxm_store *s, const char *tid, Wxm_order_fn fn, void *ctx)
{
    for (size_t i = 0; i < SHARDS; i++) {
        shard *sh = &s->shards[i];
        pthread_mutex_lock(&sh->lock);
        for (size_t b = 0; sh->count && b < BUCKETS_PER_SHARD; b++)
            for (node *n = sh->buckets[b]; n; n = n->next)
                if (n->order.transaction_id[0] && strcmp(n->order.transaction_id, tid) == 0) {
                    if (fn)
                        fn(&n->order, ctx);
                    pthread_mutex_unlock(&sh->lock);
                    return WXM_FOUND;
                }
        pthread_mutex_unlock(&sh->lock);
    }
    return WXM_ABSENT;
}

void Wxm_order_settle(Wxm_order *o, int64_t now_ms)
{
    if (o->state != WXM_USERPAYING || !o->pay_at_ms || now_ms < o->pay_at_ms)
        return;
    o->state = o->pay_succeeds ? WXM_SUCCESS : WXM_PAYERROR;
    if (o->pay_succeeds)
        o->success_time = o->pay_at_ms / 1000;
    o->pay_at_ms = 0;
}

static void replace(Wxm_order *o, void *ctx)
{
    *o = *(const Wxm_order *)ctx;
}

Wxm_found Wxm_store_put(Wxm_store *s, Wxm_order *o)
{
    Wxm_order fresh = *o; /* a new order, even under an old out_trade_no */
    fresh.id = __atomic_add_fetch(&s->last_id, 1, __ATOMIC_RELAXED);
    name_transaction(&fresh);
    memcpy(o->transaction_id, fresh.transaction_id, sizeof(o->transaction_id));
    return Wxm_store_with(s, o->out_trade_no, &fresh, replace, &fresh);
}

static void copy_out(Wxm_order *o, void *ctx)
{
    *(Wxm_order *)ctx = *o;
}

bool Wxm_store_get(Wxm_store *s, const char *key, Wxm_order *copy)
{
    return Wxm_store_with(s, key, NULL, copy_out, copy) == WXM_FOUND;
}

size_t Wxm_store_count(Wxm_store *s)
{
    return __atomic_load_n(&s->total, __ATOMIC_RELAXED);
}

static bool order_ok(const Wxm_order *o, char *why, size_t cap)
{
    const char *bad = NULL;
    if ((unsigned)o->state > WXM_PAYERROR)
        bad = "state out of range";
    else if (o->refunded && o->state != WXM_REVOKED)
        bad = "refund on an order that is not REVOKED";
    else if (o->refunded && (o->refund_amount <= 0 || o->refund_amount > o->amount))
        bad = "refund not in (0, amount]";
    else if (!o->refunded && o->refund_amount != 0)
        bad = "refund amount without a refund";
    else if (o->nsteps > WXM_MAX_SCRIPT || o->pos > o->nsteps)
        bad = "script position past its end";
    else if (o->state == WXM_REVOKED && o->reversed_at == 0 && o->reverse_calls > 0 && o->refunded)
        bad = "reversed order without a time";
    if (bad)
        snprintf(why, cap, "order %s: %s", o->out_trade_no, bad);
    return bad == NULL;
}

bool Wxm_store_check(Wxm_store *s, char *why, size_t cap)
{
    bool ok = true;
    for (size_t i = 0; i < SHARDS && ok; i++) {
        pthread_mutex_lock(&s->shards[i].lock);
        for (size_t b = 0; b < BUCKETS_PER_SHARD && ok; b++)
            for (node *n = s->shards[i].buckets[b]; n && ok; n = n->next)
                ok = order_ok(&n->order, why, cap);
        pthread_mutex_unlock(&s->shards[i].lock);
    }
    return ok;
}
