/* Collapsed status reads (see status_read.h, docs/pipeline.md).
 *
 * One table for every event loop, behind one mutex that is never held across
 * I/O: a request takes it to join or start a read and again to collect the
 * result. The request that starts a read (the reader) does the storage call in
 * its own coroutine and hands the result to everyone who joined, waking them
 * on their own loops. */
#include "routes/status_read.h"

#include "base/loop.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS  4096
#define SWEEP_US 1000000 /* idle entries are forgotten after a second (or the cache's age) */
#define HOT_US   1000000 /* a read that served several requests keeps its instance contended this long */

/* A finished read, shared by reference by the requests it answers. */
struct snap {
    _Atomic int refs;
    dg_arena *a;
    dg_err rc;
    struct az_status st;
    struct hub_instance in;
    int64_t issued_us;
    uint64_t gen, epoch; /* what the instance's and the table's generations were at issue */
};

/* A request waiting for a read, on its coroutine's stack. */
struct waiter {
    struct waiter *next;
    dg_co *co;
    struct snap *got; /* set, with a reference, by the reader */
    bool reader;      /* it was made the reader of the next read */
};

struct entry {
    struct entry *hnext;
    uint64_t hash;
    az_client *c;
    unsigned flags;
    char *hub, *id;
    bool reading;       /* a reader exists (gathering or reading) */
    int64_t issued_us;  /* when the read in flight was issued; 0 while the reader gathers */
    struct waiter *cur; /* answered by the coming or running read */
    struct waiter *nxt; /* arrived after the running read was issued: the read after it */
    struct snap *cached;
    uint64_t gen;
    int last_served;
    int64_t last_done_us, touched_us;
};

static struct {
    pthread_mutex_t mu;
    struct entry *b[BUCKETS];
    size_t n;
    int64_t last_sweep_us;
    struct rt_status_opts o;
    uint64_t epoch;
    _Atomic uint64_t reads, collapsed, cache_hits;
} T = {.mu = PTHREAD_MUTEX_INITIALIZER};

void rt_status_configure(const struct rt_status_opts *o)
{
    pthread_mutex_lock(&T.mu);
    T.o = *o;
    pthread_mutex_unlock(&T.mu);
}

void rt_status_stats(struct rt_status_stats *out)
{
    out->reads = atomic_load(&T.reads);
    out->collapsed = atomic_load(&T.collapsed);
    out->cache_hits = atomic_load(&T.cache_hits);
}

static void snap_unref(struct snap *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        dg_arena_destroy(s->a);
        free(s);
    }
}

static struct snap *snap_ref(struct snap *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

static uint64_t key_hash(const az_client *c, const char *hub, const char *id, unsigned flags)
{
    uint64_t h = DG_FNV64_INIT;
    h = dg_fnv64(h, &c, sizeof c);
    h = dg_fnv64(h, hub, strlen(hub) + 1);
    h = dg_fnv64(h, id, strlen(id));
    return dg_fnv64(h, &flags, sizeof flags);
}

/* Under T.mu. */
static struct entry *find(az_client *c, const char *hub, const char *id, unsigned flags, uint64_t h)
{
    for (struct entry *e = T.b[h % BUCKETS]; e; e = e->hnext)
        if (e->hash == h && e->c == c && e->flags == flags && strcmp(e->hub, hub) == 0 &&
            strcmp(e->id, id) == 0)
            return e;
    return NULL;
}

static void entry_free(struct entry *e)
{
    snap_unref(e->cached);
    free(e->hub);
    free(e->id);
    free(e);
}

/* Under T.mu: forgets entries nobody uses, at most once a second. */
static void sweep(int64_t now)
{
    if (now - T.last_sweep_us < SWEEP_US)
        return;
    T.last_sweep_us = now;
    int64_t horizon = T.o.cache_ms * 1000 > SWEEP_US ? T.o.cache_ms * 1000 : SWEEP_US;
    for (size_t i = 0; i < BUCKETS; i++) {
        for (struct entry **pp = &T.b[i]; *pp;) {
            struct entry *e = *pp;
            if (!e->reading && !e->cur && !e->nxt && now - e->touched_us > horizon) {
                *pp = e->hnext;
                entry_free(e);
                T.n--;
            } else {
                pp = &e->hnext;
            }
        }
    }
}

static bool unlink_from(struct waiter **list, struct waiter *w)
{
    for (struct waiter **pp = list; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            w->next = NULL;
            return true;
        }
    return false;
}

/* Under T.mu: someone in cur (else nxt) becomes the reader; else no read is due. */
static void promote(struct entry *e)
{
    if (!e->cur) {
        e->cur = e->nxt;
        e->nxt = NULL;
    }
    e->issued_us = 0;
    if (!e->cur) {
        e->reading = false;
        return;
    }
    e->cur->reader = true;
    dg_co_wake(e->cur->co);
}

/* Copies what the request's answer needs into its own arena. */
static void deliver(az_ctx *x, const struct snap *s, struct hub_instance *out)
{
    dg_arena *a = x->arena;
    x->st = s->st;
    *out = s->in;
    const char **strs[] = {&out->id,     &out->name,          &out->version,        &out->input,
                           &out->output, &out->custom_status, &out->runtime_status, &out->execution_id,
                           &out->etag};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        if (*strs[i])
            *strs[i] = dg_arena_strdup(a, *strs[i]);
}

/* The reader's part: gather (if contended), read, hand the result out. */
static dg_err read_for_all(struct entry *e, struct waiter *me, az_ctx *x)
{
    pthread_mutex_lock(&T.mu);
    int64_t now = dg_mono_us();
    bool hot = T.o.collapse_ms > 0 && e->last_served >= 2 && now - e->last_done_us < HOT_US;
    int64_t window = T.o.collapse_ms;
    pthread_mutex_unlock(&T.mu);
    if (hot)
        dg_co_sleep_ms(window); /* others arriving meanwhile join this read */

    struct snap *s = NULL;
    dg_err rc = DG_ECANCELED;
    if (dg_co_cancelled() == DG_CANCEL_NONE) {
        s = dg_xcalloc(1, sizeof *s);
        atomic_init(&s->refs, 1);
        s->a = dg_arena_create();
        pthread_mutex_lock(&T.mu);
        s->issued_us = e->issued_us = dg_mono_us();
        s->gen = e->gen;
        s->epoch = T.epoch;
        pthread_mutex_unlock(&T.mu);
        az_ctx sx;
        az_ctx_init(&sx, s->a);
        sx.reqid = x->reqid;
        sx.deadline_ms = x->deadline_ms;
        atomic_fetch_add(&T.reads, 1);
        rc = s->rc = hub_instance_get(e->c, &sx, e->hub, e->id, e->flags, &s->in);
        s->st = sx.st;
    }
    pthread_mutex_lock(&T.mu);
    if (rc == DG_ECANCELED) {
        /* This request was cancelled: the others still want a read. */
        unlink_from(&e->cur, me);
        me->reader = false;
        promote(e);
        pthread_mutex_unlock(&T.mu);
        snap_unref(s);
        return DG_ECANCELED;
    }
    struct waiter *group = e->cur;
    e->cur = e->nxt;
    e->nxt = NULL;
    int served = 0;
    for (struct waiter *w = group; w; w = w->next) {
        served++;
        w->got = snap_ref(s);
        if (w != me)
            dg_co_wake(w->co);
    }
    atomic_fetch_add(&T.collapsed, (uint64_t) (served > 0 ? served - 1 : 0));
    e->last_served = served;
    e->last_done_us = e->touched_us = dg_mono_us();
    if (T.o.cache_ms > 0 && (rc == DG_OK || rc == DG_ENOTFOUND) && s->gen == e->gen && s->epoch == T.epoch) {
        snap_unref(e->cached);
        e->cached = snap_ref(s);
    }
    me->reader = false;
    promote(e);
    pthread_mutex_unlock(&T.mu);
    snap_unref(s);
    return DG_OK;
}

dg_err rt_status_read(az_client *c, az_ctx *x, const char *hub, const char *id, unsigned flags,
                      struct hub_instance *out)
{
    if (!dg_co_self())
        return hub_instance_get(c, x, hub, id, flags, out);
    int64_t arrival = dg_mono_us();
    uint64_t h = key_hash(c, hub, id, flags);
    struct waiter me = {.co = dg_co_self()};
    pthread_mutex_lock(&T.mu);
    sweep(arrival);
    struct entry *e = find(c, hub, id, flags, h);
    if (!e) {
        e = dg_xcalloc(1, sizeof *e);
        e->hash = h;
        e->c = c;
        e->flags = flags;
        e->hub = dg_xstrdup(hub);
        e->id = dg_xstrdup(id);
        e->hnext = T.b[h % BUCKETS];
        T.b[h % BUCKETS] = e;
        T.n++;
    }
    e->touched_us = arrival;
    struct snap *hit = e->cached;
    if (hit && T.o.cache_ms > 0 && hit->gen == e->gen && hit->epoch == T.epoch &&
        hit->issued_us >= arrival - T.o.cache_ms * 1000) {
        snap_ref(hit);
        pthread_mutex_unlock(&T.mu);
        atomic_fetch_add(&T.cache_hits, 1);
        deliver(x, hit, out);
        dg_err rc = hit->rc;
        snap_unref(hit);
        return rc;
    }
    if (!e->reading) {
        e->reading = true;
        e->issued_us = 0;
        me.reader = true;
        me.next = e->cur;
        e->cur = &me;
    } else if (e->issued_us == 0) {
        me.next = e->cur; /* the reader gathers: its read is issued after now */
        e->cur = &me;
    } else {
        me.next = e->nxt; /* issued before this request arrived: wait for the next */
        e->nxt = &me;
    }
    pthread_mutex_unlock(&T.mu);

    for (;;) {
        pthread_mutex_lock(&T.mu);
        if (me.got) {
            pthread_mutex_unlock(&T.mu);
            break;
        }
        if (me.reader) {
            pthread_mutex_unlock(&T.mu);
            if (read_for_all(e, &me, x) == DG_ECANCELED)
                return DG_ECANCELED;
            continue; /* me.got is set */
        }
        if (dg_co_cancelled() != DG_CANCEL_NONE) {
            if (!unlink_from(&e->cur, &me))
                unlink_from(&e->nxt, &me);
            pthread_mutex_unlock(&T.mu);
            return DG_ECANCELED;
        }
        pthread_mutex_unlock(&T.mu);
        dg_co_park();
    }
    deliver(x, me.got, out);
    dg_err rc = me.got->rc;
    snap_unref(me.got);
    return rc;
}

void rt_status_invalidate(az_client *c, const char *hub, const char *id)
{
    pthread_mutex_lock(&T.mu);
    for (unsigned flags = 0; flags <= (HUB_GET_INPUT | HUB_GET_OUTPUT); flags++) {
        struct entry *e = find(c, hub, id, flags, key_hash(c, hub, id, flags));
        if (e) {
            e->gen++;
            snap_unref(e->cached);
            e->cached = NULL;
        }
    }
    pthread_mutex_unlock(&T.mu);
}

void rt_status_invalidate_all(void)
{
    pthread_mutex_lock(&T.mu);
    T.epoch++;
    pthread_mutex_unlock(&T.mu);
}
