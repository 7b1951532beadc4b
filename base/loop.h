/* The event loop and the coroutines that run on it (docs/pipeline.md).
 *
 * A loop is one thread's epoll: descriptors to watch, a timer heap, a queue of
 * coroutines ready to run and a mailbox other threads post to. Nothing in a
 * loop's thread ever sleeps but in epoll_wait (redis ae.c, h2o evloop).
 *
 * Coroutines carry the request logic: code that waits (a storage call, a
 * back-off) parks its coroutine and the loop goes on; the wait's completion
 * wakes it. So taskhub/ keeps one straight-line implementation of each
 * operation, and its blocking form, for tools and tests, is the same code run
 * by dg_co_run(): a private loop on the calling thread, run until done.
 *
 * A coroutine started for a request is a root; coroutines it starts inherit
 * its deadline and its cancellation. Cancelling a root wakes every parked
 * coroutine of its tree; each wait point decides what a cancellation means for
 * it (storage/http.c lets a write already sent finish on a client hang-up). */
#ifndef DG_LOOP_H
#define DG_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dg_loop dg_loop;
typedef struct dg_co dg_co;

/* ---- the loop ---- */

struct dg_watch {
    int fd;
    uint32_t events; /* EPOLLIN ...; 0: not registered */
    void (*cb)(struct dg_watch *w, uint32_t revents);
    void *data;
};

struct dg_timer {
    int64_t at; /* dg_mono_ms() */
    size_t idx; /* in the heap; SIZE_MAX when not armed (dg_timer_init) */
    void (*cb)(struct dg_timer *t);
    void *data;
};

dg_loop *dg_loop_create(void);
/* The loop must not be running; coroutines still parked on it are leaked. */
void dg_loop_destroy(dg_loop *l);
/* Makes l the current loop of the calling thread (NULL: none). */
void dg_loop_enter(dg_loop *l);
/* The calling thread's loop, or NULL. */
dg_loop *dg_loop_current(void);
/* The calling thread's loop, made (and kept for the thread's life) when it has none. */
dg_loop *dg_loop_thread(void);

/* Registers, changes (events != 0) or removes (events == 0) w. */
void dg_watch_set(dg_loop *l, struct dg_watch *w, uint32_t events);

static inline void dg_timer_init(struct dg_timer *t, void (*cb)(struct dg_timer *), void *data)
{
    t->at = 0;
    t->idx = SIZE_MAX;
    t->cb = cb;
    t->data = data;
}
/* Arms (or moves) t to fire at `at`; the callback runs once, from the loop. */
void dg_timer_start(dg_loop *l, struct dg_timer *t, int64_t at);
void dg_timer_stop(dg_loop *l, struct dg_timer *t);
static inline bool dg_timer_armed(const struct dg_timer *t)
{
    return t->idx != SIZE_MAX;
}

/* Runs fn(arg) on l's thread soon. Safe from any thread. */
void dg_loop_post(dg_loop *l, void (*fn)(void *), void *arg);
/* fn(arg) runs before each wait for events (the front end uses it to run
 * libmicrohttpd after coroutines resumed connections). One per loop. */
void dg_loop_set_prepare(dg_loop *l, void (*fn)(void *), void *arg);

/* Waits at most max_wait_ms (-1: until something happens) for events, then
 * runs what is due: descriptors, timers, posts, ready coroutines. */
void dg_loop_run_once(dg_loop *l, int max_wait_ms);
/* Runs until dg_loop_stop(). */
void dg_loop_run(dg_loop *l);
/* Safe from any thread. */
void dg_loop_stop(dg_loop *l);

/* A per-loop slot for a layer's own state (storage/ keeps its libcurl multi
 * handle here); dtor runs at dg_loop_destroy. */
enum { DG_LOOP_SLOT_STORAGE, DG_LOOP_SLOTS };
void *dg_loop_slot(dg_loop *l, int slot);
void dg_loop_set_slot(dg_loop *l, int slot, void *p, void (*dtor)(void *));

/* ---- coroutines ---- */

typedef void (*dg_co_fn)(void *arg);

enum dg_cancel {
    DG_CANCEL_NONE = 0,
    DG_CANCEL_HANGUP,   /* the client went away: stop what is not yet written */
    DG_CANCEL_DEADLINE, /* the request's deadline passed */
    DG_CANCEL_SHUTDOWN, /* the gateway stops */
};

/* A coroutine on l running fn(arg); done(co, arg), if given, runs on l's thread
 * once fn has returned, and co is freed after it. Made inside another
 * coroutine, it joins that one's tree (deadline and cancellation). */
dg_co *dg_co_create(dg_loop *l, dg_co_fn fn, void *arg, void (*done)(dg_co *co, void *arg));
/* Runs co now until it parks or ends (from its loop's thread). */
void dg_co_start(dg_co *co);

/* The running coroutine, NULL outside any. */
dg_co *dg_co_self(void);
/* Gives the thread back to the loop until dg_co_wake(self). Waking may be
 * spurious: callers re-check their condition. */
void dg_co_park(void);
/* Makes co run again soon. Safe from any thread. */
void dg_co_wake(dg_co *co);
/* Parks for ms (or until cancelled). false when cancelled. */
bool dg_co_sleep_ms(int64_t ms);

/* Deadline (dg_mono_ms) of co's tree; 0: none. */
void dg_co_set_deadline(dg_co *co, int64_t at);
int64_t dg_co_deadline(void);
/* Cancels co's tree and wakes every parked coroutine of it. The first reason wins. */
void dg_co_cancel(dg_co *co, enum dg_cancel why);
/* Why the running coroutine's tree was cancelled (DG_CANCEL_NONE: it was not, or outside any). */
enum dg_cancel dg_co_cancelled(void);
/* The request co's tree works for (base/trace.h); it must outlive every
 * member of the tree. A member whose root ended first (its own root then)
 * has none. */
struct dg_trace;
void dg_co_set_trace(dg_co *co, struct dg_trace *t);
/* The running tree's, NULL outside a coroutine or when none was set. */
struct dg_trace *dg_co_trace(void);
/* Marks the running tree as having sent a write to storage: from then on a
 * hang-up no longer cancels it, so a request never stops half-written. */
void dg_co_mark_write(void);

/* Runs fn(arg) in a coroutine and returns when it is done: directly when the
 * caller is a coroutine already, else on the thread's own loop, run until fn
 * ends (the blocking form, for tools and tests). Aborts when the caller is an
 * event-loop thread outside any coroutine: that would block the loop. */
void dg_co_run(dg_co_fn fn, void *arg);

/* Fork and join within a coroutine: children of the running coroutine. */
struct dg_co_group {
    int pending;
    dg_co *waiter;
};
void dg_co_group_spawn(struct dg_co_group *g, dg_co_fn fn, void *arg);
/* Parks until every child of g has ended. */
void dg_co_group_wait(struct dg_co_group *g);

struct dg_loop_stats {
    uint64_t coroutines; /* alive now, on every loop */
};
void dg_loop_stats(struct dg_loop_stats *out);

#endif
