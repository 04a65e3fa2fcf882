/* store.c: the order store and the order states.
 *
 * The store is a hash table split into shards, each with its own mutex, so
 * requests on different orders rarely wait for each other, and every change
 * to one order happens under one lock (no half-changed order is visible). */
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

Wxm_store *Wxm_store_new(void)
{
    Wxm_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    for (size_t i = 0; i < SHARDS; i++)
        pthread_mutex_init(&s->shards[i].lock, NULL);
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
        free_chain(&s->shards[i]);
        pthread_mutex_unlock(&s->shards[i].lock);
    }
}

void Wxm_store_free(Wxm_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < SHARDS; i++) {
        free_chain(&s->shards[i]);
        pthread_mutex_destroy(&s->shards[i].lock);
    }
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

Wxm_found Wxm_store_with(Wxm_store *s, const char *key, const Wxm_order *init, Wxm_order_fn fn,
                         void *ctx)
{
    shard *sh;
    pthread_mutex_t *lock = &s->shards[hash(key) % SHARDS].lock;

    pthread_mutex_lock(lock);
    node **p = slot(s, key, &sh);
    if (!*p) {
        if (!init || !(*p = calloc(1, sizeof(node)))) {
            pthread_mutex_unlock(lock);
            return init ? WXM_NO_MEMORY : WXM_ABSENT;
        }
        (*p)->order = *init;
        (*p)->order.id = __atomic_add_fetch(&s->last_id, 1, __ATOMIC_RELAXED);
        sh->count++;
    }
    if (fn)
        fn(&(*p)->order, ctx);
    pthread_mutex_unlock(lock);
    return WXM_FOUND;
}

static void replace(Wxm_order *o, void *ctx)
{
    *o = *(const Wxm_order *)ctx;
}

wxp_err Wxm_store_put(Wxm_store *s, const Wxm_order *o)
{
    Wxm_order fresh = *o; /* a new order, even under an old out_trade_no */
    fresh.id = __atomic_add_fetch(&s->last_id, 1, __ATOMIC_RELAXED);
    return Wxm_store_with(s, o->out_trade_no, &fresh, replace, &fresh) == WXM_FOUND ? WXP_OK
                                                                                    : WXP_ERR_NOMEM;
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
    size_t n = 0;
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&s->shards[i].lock);
        n += s->shards[i].count;
        pthread_mutex_unlock(&s->shards[i].lock);
    }
    return n;
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
