#include "gateway/wait.h"

#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/str.h"
#include "base/time.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* The waiters on one instance. */
struct gw_group {
    struct gw_group *hnext;
    uint64_t hash;
    struct rt_wait probe; /* what the reads need: storage, hub, id (owned copies) */
    struct gw_waiter *head;
    size_t n;
    int64_t interval_ms; /* the smallest among the waiters */
    struct gw_timer poll;
    bool in_flight; /* a read is queued or running */
    dg_co *reader;  /* the running read (scheduler thread only) */
    struct gw_waits *owner;
    struct gw_group *jnext;
};

#define GROUP_BUCKETS  4096
#define WAITER_BUCKETS 16384
#define TICK_MS        50 /* reads fall on this grid, and the scheduler wakes on it */

/* The first grid point at or after t. */
static int64_t grid_up(int64_t t)
{
    return (t + TICK_MS - 1) / TICK_MS * TICK_MS;
}

/* Waiters are registered by a sequence number, which is what epoll carries:
 * an event that arrives after its waiter was answered finds nothing. */
struct reg {
    struct reg *next;
    uint64_t seq;
    struct gw_waiter *w;
};

struct gw_waits {
    const struct rt_env *env;
    pthread_mutex_t mu;
    struct gw_timer **heap;
    size_t nheap, capheap;
    struct gw_group *groups[GROUP_BUCKETS];
    struct reg *regs[WAITER_BUCKETS];
    uint64_t next_seq;
    struct gw_group *jhead, *jtail;
    int ep, evfd;
    pthread_t sched;
    dg_loop *loop;        /* the scheduler's thread runs it; reads are coroutines on it */
    struct dg_watch ep_w; /* ep, inside the loop's epoll */
    int reads_in_flight;  /* scheduler thread only */
    int max_reads;
    bool stop, draining;
    size_t answering; /* claimed but not yet resumed: shutdown waits for these */
    pthread_cond_t answered;
    struct gw_wait_stats st;
};

/* ---- the timer heap (min-heap on `at`, each timer knows its index) ---- */

static void heap_swap(gw_waits *s, size_t i, size_t j)
{
    struct gw_timer *t = s->heap[i];
    s->heap[i] = s->heap[j];
    s->heap[j] = t;
    s->heap[i]->idx = i;
    s->heap[j]->idx = j;
}

static void heap_up(gw_waits *s, size_t i)
{
    while (i && s->heap[(i - 1) / 2]->at > s->heap[i]->at) {
        heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(gw_waits *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && s->heap[l]->at < s->heap[m]->at)
            m = l;
        if (r < s->nheap && s->heap[r]->at < s->heap[m]->at)
            m = r;
        if (m == i)
            return;
        heap_swap(s, i, m);
        i = m;
    }
}

static void heap_push(gw_waits *s, struct gw_timer *t)
{
    if (s->nheap == s->capheap) {
        s->capheap = s->capheap ? s->capheap * 2 : 1024;
        s->heap = dg_xrealloc(s->heap, s->capheap * sizeof *s->heap);
    }
    t->idx = s->nheap;
    s->heap[s->nheap++] = t;
    heap_up(s, t->idx);
}

static void heap_remove(gw_waits *s, struct gw_timer *t)
{
    if (t->idx == SIZE_MAX)
        return;
    size_t i = t->idx;
    s->nheap--;
    if (i != s->nheap) {
        s->heap[i] = s->heap[s->nheap];
        s->heap[i]->idx = i;
        heap_down(s, i);
        heap_up(s, i);
    }
    t->idx = SIZE_MAX;
}

static void heap_move(gw_waits *s, struct gw_timer *t, int64_t at)
{
    t->at = at;
    if (t->idx == SIZE_MAX) {
        heap_push(s, t);
        return;
    }
    heap_down(s, t->idx);
    heap_up(s, t->idx);
}

/* ---- groups and registrations (all under s->mu) ---- */

static uint64_t group_hash(const struct rt_wait *w)
{
    uint64_t h = DG_FNV64_INIT;
    h = dg_fnv64(h, &w->ctx.storage, sizeof w->ctx.storage);
    h = dg_fnv64(h, w->ctx.hub, strlen(w->ctx.hub) + 1);
    return dg_fnv64(h, w->id, strlen(w->id));
}

static struct gw_group *group_find(gw_waits *s, const struct rt_wait *w, uint64_t h)
{
    for (struct gw_group *g = s->groups[h % GROUP_BUCKETS]; g; g = g->hnext)
        if (g->hash == h && g->probe.ctx.storage == w->ctx.storage &&
            strcmp(g->probe.ctx.hub, w->ctx.hub) == 0 && strcmp(g->probe.id, w->id) == 0)
            return g;
    return NULL;
}

static void group_free(gw_waits *s, struct gw_group *g)
{
    heap_remove(s, &g->poll);
    struct gw_group **pp = &s->groups[g->hash % GROUP_BUCKETS];
    while (*pp && *pp != g)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = g->hnext;
    s->st.groups--;
    free((char *) g->probe.ctx.hub);
    free((char *) g->probe.id);
    free(g);
}

static void reg_add(gw_waits *s, struct gw_waiter *w, uint64_t seq)
{
    struct reg *r = dg_xmalloc(sizeof *r);
    r->seq = seq;
    r->w = w;
    r->next = s->regs[seq % WAITER_BUCKETS];
    s->regs[seq % WAITER_BUCKETS] = r;
}

static struct gw_waiter *reg_take(gw_waits *s, uint64_t seq)
{
    for (struct reg **pp = &s->regs[seq % WAITER_BUCKETS]; *pp; pp = &(*pp)->next) {
        if ((*pp)->seq == seq) {
            struct reg *r = *pp;
            struct gw_waiter *w = r->w;
            *pp = r->next;
            free(r);
            return w;
        }
    }
    return NULL;
}

/* Takes a waiter out of every structure, so that only the caller touches it
 * from now on. Its group goes too when it was the last one and no read is
 * running (a running read frees it when it ends). */
static void claim(gw_waits *s, struct gw_waiter *w)
{
    reg_take(s, w->seq);
    heap_remove(s, &w->deadline_t);
    epoll_ctl(s->ep, EPOLL_CTL_DEL, w->fd, NULL);
    struct gw_group *g = w->group;
    if (w->prev)
        w->prev->next = w->next;
    else
        g->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->group = NULL;
    g->n--;
    s->st.held--;
    if (g->n == 0 && !g->in_flight)
        group_free(s, g);
    s->answering++;
    rt_wait_release(s->env);
}

/* Outside the lock: hand the answer over and wake the connection. */
static void finish(gw_waits *s, struct gw_waiter *w, enum gw_waiter_state state)
{
    w->state = state;
    w->resume(w);
    pthread_mutex_lock(&s->mu);
    if (--s->answering == 0)
        pthread_cond_broadcast(&s->answered);
    pthread_mutex_unlock(&s->mu);
}

static void wake(gw_waits *s)
{
    uint64_t one = 1;
    ssize_t rc = write(s->evfd, &one, sizeof one);
    (void) rc; /* a full counter already means "wake up" */
}

void gw_waits_add(gw_waits *s, struct gw_waiter *w)
{
    struct rt_wait *rw = w->w;
    int64_t now = dg_mono_ms();
    pthread_mutex_lock(&s->mu);
    if (s->draining) {
        s->answering++;
        pthread_mutex_unlock(&s->mu);
        rt_wait_release(s->env);
        rt_wait_timeout(rw, &w->answer);
        finish(s, w, GW_ANSWERED);
        return;
    }
    w->seq = ++s->next_seq;
    uint64_t h = group_hash(rw);
    struct gw_group *g = group_find(s, rw, h);
    if (!g) {
        g = dg_xcalloc(1, sizeof *g);
        g->hash = h;
        g->owner = s;
        g->probe.ctx.storage = rw->ctx.storage;
        g->probe.ctx.hub = dg_xstrdup(rw->ctx.hub);
        g->probe.id = dg_xstrdup(rw->id);
        g->interval_ms = rw->interval_ms;
        g->poll = (struct gw_timer){.idx = SIZE_MAX, .kind = T_POLL, .owner = g};
        /* The first read at a random grid point of the first interval:
         * instances waited on together are read (and their waiters answered)
         * spread over the interval, not in one burst; then once per interval. */
        uint32_t r;
        dg_random_bytes(&r, sizeof r);
        g->poll.at = grid_up(now + 1 + (int64_t) ((uint64_t) r % (uint64_t) rw->interval_ms));
        heap_push(s, &g->poll);
        g->hnext = s->groups[h % GROUP_BUCKETS];
        s->groups[h % GROUP_BUCKETS] = g;
        s->st.groups++;
    } else if (rw->interval_ms < g->interval_ms) {
        g->interval_ms = rw->interval_ms;
        if (g->poll.at > now + g->interval_ms)
            heap_move(s, &g->poll, grid_up(now + g->interval_ms));
    }
    w->group = g;
    w->prev = NULL;
    w->next = g->head;
    if (g->head)
        g->head->prev = w;
    g->head = w;
    g->n++;
    w->deadline_t = (struct gw_timer){.at = rw->deadline_ms, .idx = SIZE_MAX, .kind = T_DEADLINE, .owner = w};
    heap_push(s, &w->deadline_t);
    reg_add(s, w, w->seq);
    struct epoll_event ev = {.events = EPOLLRDHUP, .data.u64 = w->seq};
    if (w->fd >= 0)
        epoll_ctl(s->ep, EPOLL_CTL_ADD, w->fd, &ev);
    s->st.held++;
    pthread_mutex_unlock(&s->mu);
    wake(s);
}

/* Hang-ups and due timers, taken from the scheduler's structures. */
static void sched_pass(gw_waits *s)
{
    struct epoll_event evs[64];
    int n = epoll_wait(s->ep, evs, 64, 0);
    struct gw_waiter *gone = NULL, *late = NULL; /* claimed below, answered after the lock */
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == 0) {
            uint64_t v;
            ssize_t rc = read(s->evfd, &v, sizeof v);
            (void) rc;
            continue;
        }
        /* The client hung up: stop its wait at once. */
        struct gw_waiter *w = NULL;
        for (struct reg *r = s->regs[evs[i].data.u64 % WAITER_BUCKETS]; r && !w; r = r->next)
            if (r->seq == evs[i].data.u64)
                w = r->w;
        if (!w)
            continue;
        claim(s, w);
        s->st.disconnects++;
        w->next = gone;
        gone = w;
    }
    int64_t now = dg_mono_ms();
    while (s->nheap && s->heap[0]->at <= now) {
        struct gw_timer *t = s->heap[0];
        if (t->kind == T_POLL) {
            struct gw_group *g = t->owner;
            if (!g->in_flight) {
                g->in_flight = true;
                g->jnext = NULL;
                if (s->jtail)
                    s->jtail->jnext = g;
                else
                    s->jhead = g;
                s->jtail = g;
            }
            /* A fixed rate on the grid, whatever the wake-up's lateness. */
            int64_t next = grid_up(t->at + g->interval_ms);
            heap_move(s, t, next > now ? next : grid_up(now + g->interval_ms));
        } else {
            struct gw_waiter *w = t->owner;
            claim(s, w);
            s->st.timeouts++;
            w->next = late;
            late = w;
        }
    }
    pthread_mutex_unlock(&s->mu);
    while (gone) {
        struct gw_waiter *w = gone;
        gone = w->next;
        w->next = NULL;
        finish(s, w, GW_CANCELLED);
    }
    while (late) {
        struct gw_waiter *w = late;
        late = w->next;
        w->next = NULL;
        rt_wait_timeout(w->w, &w->answer);
        finish(s, w, GW_ANSWERED);
    }
}

/* One read of one group, in a coroutine on the scheduler's loop: it parks
 * while storage answers, and the scheduler goes on. */
static void read_group(void *arg)
{
    struct gw_group *g = arg;
    gw_waits *s = g->owner;
    dg_arena *a = dg_arena_create();
    /* The group cannot go away while in_flight is set. */
    const char *status = NULL;
    struct hub_instance in;
    dg_err rc = rt_wait_read_status(&g->probe, a, &status);
    bool finished = !rc && status && hub_status_terminal(status);
    /* The full row, read again: if the instance was re-created in between,
     * it is not finished after all. Storage trouble: the next interval reads again. */
    if (finished &&
        (rt_wait_read_final(&g->probe, a, &in) != DG_OK || !hub_status_terminal(in.runtime_status)))
        finished = false;
    if (rc)
        DG_DEBUG(NULL, "wait: reading %s: %s (will retry)", g->probe.id, dg_err_str(rc));

    struct gw_waiter *list = NULL;
    pthread_mutex_lock(&s->mu);
    g->reader = NULL;
    if (finished) {
        /* in_flight is still set, so claiming the last waiter keeps g. */
        while (g->head) {
            struct gw_waiter *w = g->head;
            claim(s, w);
            w->next = list;
            list = w;
            s->st.completed++;
        }
        g->in_flight = false;
        group_free(s, g);
    } else {
        g->in_flight = false;
        if (g->n == 0)
            group_free(s, g);
    }
    bool draining = s->draining;
    pthread_mutex_unlock(&s->mu);
    /* One body for every waiter on a Completed instance. */
    struct rt_shared *body = list ? rt_wait_completed_body(&in) : NULL;
    while (list) {
        struct gw_waiter *w = list;
        list = w->next;
        w->next = NULL;
        /* Shutting down: answer at once rather than build status answers. */
        if (draining && !body)
            rt_wait_timeout(w->w, &w->answer);
        else
            rt_wait_answer(w->w, &in, body, &w->answer);
        finish(s, w, GW_ANSWERED);
    }
    rt_shared_unref(body);
    dg_arena_destroy(a);
    s->reads_in_flight--; /* this runs on the scheduler's thread */
}

/* Starts the queued reads, as many at once as allowed. */
static void start_reads(gw_waits *s)
{
    for (;;) {
        pthread_mutex_lock(&s->mu);
        /* Stopping: no new read (every waiter was answered by the drain). */
        struct gw_group *g = !s->stop && s->reads_in_flight < s->max_reads ? s->jhead : NULL;
        if (g) {
            s->jhead = g->jnext;
            if (!s->jhead)
                s->jtail = NULL;
            s->st.reads++;
            s->reads_in_flight++;
            g->reader = dg_co_create(s->loop, read_group, g, NULL);
        }
        dg_co *co = g ? g->reader : NULL;
        pthread_mutex_unlock(&s->mu);
        if (!co)
            return;
        dg_co_start(co);
    }
}

static void on_ep(struct dg_watch *w, uint32_t revents)
{
    (void) w;
    (void) revents; /* sched_pass reads ep after the loop's round */
}

static void *scheduler(void *arg)
{
    gw_waits *s = arg;
    bool cut = false;
    dg_loop_enter(s->loop);
    for (;;) {
        pthread_mutex_lock(&s->mu);
        if (s->stop && !cut) {
            cut = true;
            /* Reads still running are cut: nobody waits for them any more. */
            for (size_t b = 0; b < GROUP_BUCKETS; b++)
                for (struct gw_group *g = s->groups[b]; g; g = g->hnext)
                    if (g->reader)
                        dg_co_cancel(g->reader, DG_CANCEL_SHUTDOWN);
        }
        bool done = s->stop && s->reads_in_flight == 0;
        int timeout = -1;
        if (s->nheap) {
            /* Wake on the grid: reads due together (they all fall on it) run in
             * one wake-up, with hot caches and few context switches; a deadline
             * is answered at most one tick late. */
            int64_t d = grid_up(s->heap[0]->at) - dg_mono_ms();
            timeout = d < 0 ? 0 : d > 60000 ? 60000 : (int) d;
        }
        if (s->stop)
            timeout = 10;
        pthread_mutex_unlock(&s->mu);
        if (done)
            break;
        dg_loop_run_once(s->loop, timeout);
        sched_pass(s);
        start_reads(s);
    }
    return NULL;
}

gw_waits *gw_waits_create(const struct rt_env *env, int threads)
{
    gw_waits *s = dg_xcalloc(1, sizeof *s);
    s->env = env;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->answered, NULL);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->ep < 0 || s->evfd < 0)
        dg_fatal("wait: cannot make an epoll or eventfd descriptor");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->evfd, &ev);
    s->max_reads = threads < 1 ? 1 : threads;
    s->loop = dg_loop_create();
    s->ep_w = (struct dg_watch){.fd = s->ep, .cb = on_ep, .data = s};
    dg_watch_set(s->loop, &s->ep_w, EPOLLIN);
    if (pthread_create(&s->sched, NULL, scheduler, s) != 0)
        dg_fatal("wait: cannot start the scheduler thread");
    return s;
}

void gw_waits_drain(gw_waits *s)
{
    struct gw_waiter *list = NULL;
    pthread_mutex_lock(&s->mu);
    s->draining = true;
    for (size_t b = 0; b < WAITER_BUCKETS; b++) {
        while (s->regs[b]) {
            struct gw_waiter *w = s->regs[b]->w;
            claim(s, w);
            s->st.timeouts++;
            w->next = list;
            list = w;
        }
    }
    pthread_mutex_unlock(&s->mu);
    while (list) {
        struct gw_waiter *w = list;
        list = w->next;
        w->next = NULL;
        rt_wait_timeout(w->w, &w->answer);
        finish(s, w, GW_ANSWERED);
    }
    /* Waiters that readers or the scheduler claimed are being answered now:
     * every connection must be resumed before the HTTP daemon may stop. */
    pthread_mutex_lock(&s->mu);
    while (s->answering > 0)
        pthread_cond_wait(&s->answered, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

void gw_waits_destroy(gw_waits *s)
{
    if (!s)
        return;
    gw_waits_drain(s);
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_mutex_unlock(&s->mu);
    wake(s);
    pthread_join(s->sched, NULL);
    dg_watch_set(s->loop, &s->ep_w, 0);
    dg_loop_destroy(s->loop);
    for (size_t b = 0; b < GROUP_BUCKETS; b++)
        while (s->groups[b])
            group_free(s, s->groups[b]);
    close(s->ep);
    close(s->evfd);
    free(s->heap);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->answered);
    free(s);
}

dg_loop *gw_waits_loop(gw_waits *s)
{
    return s->loop;
}

void gw_waits_stats(gw_waits *s, struct gw_wait_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}
