/* The event loop and its coroutines (see base/loop.h, docs/pipeline.md).
 *
 * Coroutines are contexts on mmap'd stacks with a guard page; on x86-64 a
 * switch is six pushes and pops (ucontext elsewhere: it also swaps the signal
 * mask, a system call per switch). Only
 * the pages a coroutine touches become resident, so a large stack costs
 * address space, not memory; stacks are kept for reuse per loop. Under
 * AddressSanitizer every switch is announced (__sanitizer_*_switch_fiber), so
 * the sanitizer knows which stack is live. */
#include "base/loop.h"

#include "base/mem.h"
#include "base/metrics.h"
#include "base/time.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- the context switch ---- */

#if defined(__x86_64__)
/* Saves the callee-saved registers on the current stack and its pointer in
 * *save, then continues on the stack `load` (System V x86-64 ABI). */
__asm__(".text\n"
        ".globl dg_ctx_switch\n"
        ".type dg_ctx_switch,@function\n"
        "dg_ctx_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size dg_ctx_switch,.-dg_ctx_switch\n");
void dg_ctx_switch(void **save, void *load);

typedef struct {
    void *sp;
} ctx_t;

static void ctx_make(ctx_t *c, void *stack, size_t size, void (*entry)(void))
{
    void **sp = (void **) (((uintptr_t) stack + size) & ~(uintptr_t) 15);
    *--sp = NULL;           /* entry's return address: it never returns */
    *--sp = (void *) entry; /* where the first switch's ret goes */
    for (int i = 0; i < 6; i++)
        *--sp = NULL; /* the six registers the switch pops */
    c->sp = sp;
}

static void ctx_swap(ctx_t *from, ctx_t *to)
{
    dg_ctx_switch(&from->sp, to->sp);
}
#else
#include <ucontext.h>
typedef ucontext_t ctx_t;

static void ctx_make(ctx_t *c, void *stack, size_t size, void (*entry)(void))
{
    if (getcontext(c) != 0)
        dg_fatal("loop: getcontext failed");
    c->uc_stack.ss_sp = stack;
    c->uc_stack.ss_size = size;
    c->uc_link = NULL;
    makecontext(c, entry, 0);
}

static void ctx_swap(ctx_t *from, ctx_t *to)
{
    swapcontext(from, to);
}
#endif

#if defined(__SANITIZE_ADDRESS__)
#define DG_ASAN 1
#include <sanitizer/common_interface_defs.h>
#endif

/* Under valgrind each coroutine stack is registered as one, so memcheck
 * follows the switches (bench/soak.sh); outside valgrind the requests cost a
 * few instructions. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef VALGRIND_STACK_REGISTER
#define VALGRIND_STACK_REGISTER(lo, hi) 0u
#define VALGRIND_STACK_DEREGISTER(id)   ((void) (id))
#endif

#ifdef DG_ASAN
#define STACK_SIZE (4u << 20) /* sanitized frames are several times larger */
#else
/* Deep enough for cJSON's nesting limit (1000 levels) on a hostile body, with
 * room to spare; only the pages used are resident. */
#define STACK_SIZE (512u << 10)
#endif
#define STACK_POOL 1024 /* stacks kept per loop for reuse */
#define STACK_KEEP 32   /* kept however long they go unused */
#define TRIM_MS    1000 /* stacks the pool did not need for this long are unmapped */
#define MAX_EVENTS 256

struct post {
    struct post *next;
    void (*fn)(void *);
    void *arg;
};

struct stack {
    struct stack *next;
    void *map;      /* the guard page, then the stack */
    unsigned vg_id; /* valgrind's id of the stack */
};

static void stack_unmap(struct stack *s)
{
    VALGRIND_STACK_DEREGISTER(s->vg_id);
    munmap(s->map, STACK_SIZE + (size_t) getpagesize());
    free(s);
}

struct dg_loop {
    int ep;
    struct dg_watch wake; /* eventfd: posts and stop */
    struct dg_timer **heap;
    size_t nheap, capheap;
    dg_co *ready_head, *ready_tail;
    pthread_mutex_t mu; /* guards posts and stop */
    struct post *posts, *posts_tail;
    bool stop;
    bool running, in_once;
    void (*prepare)(void *);
    void *prepare_arg;
    struct stack *stacks;
    size_t nstacks;
    size_t low_water; /* the fewest stacks the pool held since the last trim */
    bool trim_heap;
    struct dg_timer trim_t; /* wakes an idle loop to give a burst's stacks back */
    int64_t last_trim;
    void *slot[DG_LOOP_SLOTS];
    void (*slot_dtor[DG_LOOP_SLOTS])(void *);
    /* the events being dispatched, so that a watch removed meanwhile is skipped */
    struct epoll_event *batch;
    int nbatch, ibatch;
};

struct dg_co {
    dg_loop *loop;
    ctx_t ctx;
    ctx_t *caller;
    struct stack *stack;
    dg_co_fn fn;
    void *arg;
    void (*done)(dg_co *, void *);
    _Atomic int refs; /* 1 while alive, plus wakes posted from other threads */
    bool finished, queued;
    dg_co *ready_next;
    /* the tree: every coroutine is in its root's list (the root too) */
    dg_co *root;
    dg_co *tnext, *tprev;
    /* root only */
    dg_co *members;
    int64_t deadline;
    enum dg_cancel cancel;
    bool wrote;
    struct dg_trace *trace;
#ifdef DG_ASAN
    void *fake;
    const void *caller_bottom;
    size_t caller_size;
#endif
};

static _Thread_local dg_loop *tl_loop;
static _Thread_local dg_co *tl_current;
/* Coroutines alive: a private per-thread gauge (base/metrics.h), not an
 * atomic every loop would share on each create and end. */
static dg_metric *g_alive;
static pthread_once_t g_alive_once = PTHREAD_ONCE_INIT;

static void alive_init(void)
{
    g_alive = dg_metric_register(&(struct dg_metric_def){.type = DG_METRIC_GAUGE});
}

/* ---- the calling thread's own loop ---- */

static pthread_key_t g_key;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static dg_loop *g_main_loop; /* the first thread's: kept reachable until exit */

static void thread_loop_free(void *p)
{
    if (tl_loop == p)
        tl_loop = NULL;
    dg_loop_destroy(p);
}

static void key_init(void)
{
    pthread_key_create(&g_key, thread_loop_free);
}

dg_loop *dg_loop_current(void)
{
    return tl_loop;
}

void dg_loop_enter(dg_loop *l)
{
    tl_loop = l;
}

dg_loop *dg_loop_thread(void)
{
    if (tl_loop)
        return tl_loop;
    pthread_once(&g_key_once, key_init);
    dg_loop *l = dg_loop_create();
    tl_loop = l;
    if (!g_main_loop)
        g_main_loop = l;
    else
        pthread_setspecific(g_key, l);
    return l;
}

/* ---- timers: a min-heap on `at`, each timer knows its index ---- */

static void heap_swap(dg_loop *l, size_t i, size_t j)
{
    struct dg_timer *t = l->heap[i];
    l->heap[i] = l->heap[j];
    l->heap[j] = t;
    l->heap[i]->idx = i;
    l->heap[j]->idx = j;
}

static void heap_up(dg_loop *l, size_t i)
{
    while (i && l->heap[(i - 1) / 2]->at > l->heap[i]->at) {
        heap_swap(l, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(dg_loop *l, size_t i)
{
    for (;;) {
        size_t a = 2 * i + 1, b = a + 1, m = i;
        if (a < l->nheap && l->heap[a]->at < l->heap[m]->at)
            m = a;
        if (b < l->nheap && l->heap[b]->at < l->heap[m]->at)
            m = b;
        if (m == i)
            return;
        heap_swap(l, i, m);
        i = m;
    }
}

void dg_timer_start(dg_loop *l, struct dg_timer *t, int64_t at)
{
    t->at = at;
    if (t->idx != SIZE_MAX) {
        heap_down(l, t->idx);
        heap_up(l, t->idx);
        return;
    }
    if (l->nheap == l->capheap) {
        l->capheap = l->capheap ? l->capheap * 2 : 256;
        l->heap = dg_xrealloc(l->heap, l->capheap * sizeof *l->heap);
    }
    t->idx = l->nheap;
    l->heap[l->nheap++] = t;
    heap_up(l, t->idx);
}

void dg_timer_stop(dg_loop *l, struct dg_timer *t)
{
    if (t->idx == SIZE_MAX)
        return;
    size_t i = t->idx;
    l->nheap--;
    if (i != l->nheap) {
        l->heap[i] = l->heap[l->nheap];
        l->heap[i]->idx = i;
        heap_down(l, i);
        heap_up(l, i);
    }
    t->idx = SIZE_MAX;
}

/* ---- descriptors ---- */

void dg_watch_set(dg_loop *l, struct dg_watch *w, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};
    if (events == 0) {
        if (w->events)
            epoll_ctl(l->ep, EPOLL_CTL_DEL, w->fd, NULL);
        w->events = 0;
        for (int i = l->ibatch; i < l->nbatch; i++)
            if (l->batch[i].data.ptr == w)
                l->batch[i].data.ptr = NULL;
        return;
    }
    int op = w->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->ep, op, w->fd, &ev) != 0 && op == EPOLL_CTL_MOD && errno == ENOENT)
        epoll_ctl(l->ep, EPOLL_CTL_ADD, w->fd, &ev); /* the descriptor was closed and reused */
    w->events = events;
}

/* ---- posts ---- */

static void wake_loop(dg_loop *l)
{
    uint64_t one = 1;
    ssize_t rc = write(l->wake.fd, &one, sizeof one);
    (void) rc; /* a full counter already means "wake up" */
}

void dg_loop_post(dg_loop *l, void (*fn)(void *), void *arg)
{
    struct post *p = dg_xmalloc(sizeof *p);
    *p = (struct post){NULL, fn, arg};
    pthread_mutex_lock(&l->mu);
    if (l->posts_tail)
        l->posts_tail->next = p;
    else
        l->posts = p;
    l->posts_tail = p;
    pthread_mutex_unlock(&l->mu);
    wake_loop(l);
}

static void on_wake(struct dg_watch *w, uint32_t revents)
{
    (void) revents;
    dg_loop *l = w->data;
    uint64_t v;
    ssize_t rc = read(w->fd, &v, sizeof v);
    (void) rc;
    pthread_mutex_lock(&l->mu);
    struct post *p = l->posts;
    l->posts = l->posts_tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (p) {
        struct post *next = p->next;
        p->fn(p->arg);
        free(p);
        p = next;
    }
}

void dg_loop_set_prepare(dg_loop *l, void (*fn)(void *), void *arg)
{
    l->prepare = fn;
    l->prepare_arg = arg;
}

void *dg_loop_slot(dg_loop *l, int slot)
{
    return l->slot[slot];
}

void dg_loop_set_slot(dg_loop *l, int slot, void *p, void (*dtor)(void *))
{
    l->slot[slot] = p;
    l->slot_dtor[slot] = dtor;
}

static void trim_fired(struct dg_timer *t)
{
    (void) t; /* dg_loop_run_once trims after the timers */
}

dg_loop *dg_loop_create(void)
{
    pthread_once(&g_alive_once, alive_init); /* before any coroutine is made */
    dg_loop *l = dg_xcalloc(1, sizeof *l);
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->ep < 0 || efd < 0)
        dg_fatal("loop: cannot make an epoll or eventfd descriptor");
    pthread_mutex_init(&l->mu, NULL);
    l->wake = (struct dg_watch){.fd = efd, .cb = on_wake, .data = l};
    dg_timer_init(&l->trim_t, trim_fired, l);
    dg_watch_set(l, &l->wake, EPOLLIN);
    return l;
}

void dg_loop_destroy(dg_loop *l)
{
    if (!l)
        return;
    for (int i = 0; i < DG_LOOP_SLOTS; i++)
        if (l->slot[i] && l->slot_dtor[i])
            l->slot_dtor[i](l->slot[i]);
    on_wake(&l->wake, 0); /* posts still queued run now (they free what they carry) */
    while (l->stacks) {
        struct stack *s = l->stacks;
        l->stacks = s->next;
        stack_unmap(s);
    }
    close(l->wake.fd);
    close(l->ep);
    free(l->heap);
    pthread_mutex_destroy(&l->mu);
    if (g_main_loop == l)
        g_main_loop = NULL;
    free(l);
}

void dg_loop_stop(dg_loop *l)
{
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_mutex_unlock(&l->mu);
    wake_loop(l);
}

/* ---- coroutine switching ---- */

static void asan_start(void **fake, const void *bottom, size_t size)
{
#ifdef DG_ASAN
    __sanitizer_start_switch_fiber(fake, bottom, size);
#else
    (void) fake;
    (void) bottom;
    (void) size;
#endif
}

static void asan_finish(void *fake, const void **bottom, size_t *size)
{
#ifdef DG_ASAN
    __sanitizer_finish_switch_fiber(fake, bottom, size);
#else
    (void) fake;
    (void) bottom;
    (void) size;
#endif
}

static struct stack *stack_get(dg_loop *l)
{
    if (l->stacks) {
        struct stack *s = l->stacks;
        l->stacks = s->next;
        l->nstacks--;
        if (l->nstacks < l->low_water)
            l->low_water = l->nstacks;
        return s;
    }
    size_t page = (size_t) getpagesize();
    void *m = mmap(NULL, STACK_SIZE + page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        dg_fatal("loop: cannot map a coroutine stack");
    if (mprotect(m, page, PROT_NONE) != 0) /* the guard: an overflow faults, never corrupts */
        dg_fatal("loop: cannot protect a coroutine stack");
    struct stack *s = dg_xmalloc(sizeof *s);
    s->map = m;
    s->next = NULL;
    s->vg_id = VALGRIND_STACK_REGISTER((char *) m + page, (char *) m + page + STACK_SIZE);
    return s;
}

static void stack_put(dg_loop *l, struct stack *s)
{
    if (l->nstacks >= STACK_KEEP && !dg_timer_armed(&l->trim_t))
        dg_timer_start(l, &l->trim_t, dg_mono_ms() + TRIM_MS + 10);
    if (l->nstacks < STACK_POOL) {
        s->next = l->stacks;
        l->stacks = s;
        l->nstacks++;
        return;
    }
    stack_unmap(s);
}

/* Unmaps the stacks the pool held unused since the last trim (beyond a few):
 * a burst's stacks are reused while it lasts, and given back after. */
static void stack_trim(dg_loop *l, int64_t now)
{
    if (now - l->last_trim < TRIM_MS)
        return;
    l->last_trim = now;
    size_t spare = l->low_water > STACK_KEEP ? l->low_water - STACK_KEEP : 0;
    if (spare > 0)
        l->trim_heap = true; /* a burst ended: what it freed goes back too, below */
    while (spare-- > 0 && l->stacks) {
        struct stack *s = l->stacks;
        l->stacks = s->next;
        l->nstacks--;
        stack_unmap(s);
    }
    l->low_water = l->nstacks;
    if (l->nstacks > STACK_KEEP && !dg_timer_armed(&l->trim_t))
        dg_timer_start(l, &l->trim_t, now + TRIM_MS + 10);
    if (l->trim_heap && l->nstacks <= STACK_KEEP) {
        /* The memory a burst of requests freed stays resident in malloc's
         * heaps (fragments between live blocks); hand its pages back. */
        malloc_trim(0);
        l->trim_heap = false;
    }
}

static void *stack_bottom(const struct stack *s)
{
    return (char *) s->map + getpagesize();
}

static void co_free(dg_co *co)
{
    stack_put(co->loop, co->stack);
    free(co);
}

static void co_unref(dg_co *co)
{
    if (atomic_fetch_sub(&co->refs, 1) == 1)
        co_free(co);
}

static void tree_unlink(dg_co *co)
{
    dg_co *r = co->root;
    if (co->tprev)
        co->tprev->tnext = co->tnext;
    else
        r->members = co->tnext;
    if (co->tnext)
        co->tnext->tprev = co->tprev;
    co->tnext = co->tprev = NULL;
    if (r == co) /* a root that ends first leaves its members as roots of their own */
        for (dg_co *m = co->members; m;) {
            dg_co *next = m->tnext;
            m->root = m;
            m->tnext = m->tprev = NULL;
            m->members = m;
            m = next;
        }
}

static void co_end(dg_co *co)
{
    tree_unlink(co);
    dg_metric_gauge_add(g_alive, 0, -1);
    if (co->done)
        co->done(co, co->arg);
    co_unref(co);
}

static void resume(dg_co *co)
{
    dg_co *prev = tl_current;
    ctx_t here;
    co->caller = &here;
    tl_current = co;
    void *fake = NULL;
    asan_start(&fake, stack_bottom(co->stack), STACK_SIZE);
    ctx_swap(&here, &co->ctx);
    asan_finish(fake, NULL, NULL);
    tl_current = prev;
    if (co->finished)
        co_end(co);
}

static void trampoline(void)
{
    dg_co *co = tl_current;
#ifdef DG_ASAN
    asan_finish(NULL, &co->caller_bottom, &co->caller_size);
#endif
    co->fn(co->arg);
    co->finished = true;
#ifdef DG_ASAN
    asan_start(NULL, co->caller_bottom, co->caller_size); /* NULL: this stack ends */
#endif
    ctx_swap(&co->ctx, co->caller);
    dg_fatal("loop: a coroutine returned past its end");
}

dg_co *dg_co_create(dg_loop *l, dg_co_fn fn, void *arg, void (*done)(dg_co *, void *))
{
    dg_co *co = dg_xcalloc(1, sizeof *co);
    co->loop = l;
    co->fn = fn;
    co->arg = arg;
    co->done = done;
    atomic_init(&co->refs, 1);
    co->stack = stack_get(l);
    ctx_make(&co->ctx, stack_bottom(co->stack), STACK_SIZE, trampoline);
    dg_co *parent = tl_current;
    if (parent && parent->loop == l) {
        co->root = parent->root;
    } else {
        co->root = co;
    }
    dg_co *r = co->root;
    co->tnext = r->members;
    if (r->members)
        r->members->tprev = co;
    r->members = co;
    dg_metric_gauge_add(g_alive, 0, 1);
    return co;
}

void dg_co_start(dg_co *co)
{
    resume(co);
}

dg_co *dg_co_self(void)
{
    return tl_current;
}

void dg_co_park(void)
{
    dg_co *co = tl_current;
    if (!co)
        dg_fatal("loop: park outside a coroutine");
#ifdef DG_ASAN
    asan_start(&co->fake, co->caller_bottom, co->caller_size);
#endif
    ctx_swap(&co->ctx, co->caller);
#ifdef DG_ASAN
    asan_finish(co->fake, &co->caller_bottom, &co->caller_size);
#endif
}

static void make_ready(dg_co *co)
{
    if (co->queued || co->finished)
        return;
    co->queued = true;
    atomic_fetch_add(&co->refs, 1); /* the queue's: it may end before its turn */
    co->ready_next = NULL;
    dg_loop *l = co->loop;
    if (l->ready_tail)
        l->ready_tail->ready_next = co;
    else
        l->ready_head = co;
    l->ready_tail = co;
}

static void wake_posted(void *p)
{
    dg_co *co = p;
    make_ready(co);
    co_unref(co);
}

void dg_co_wake(dg_co *co)
{
    if (tl_loop == co->loop) {
        make_ready(co);
        return;
    }
    atomic_fetch_add(&co->refs, 1);
    dg_loop_post(co->loop, wake_posted, co);
}

static void run_ready(dg_loop *l)
{
    /* Only what is ready now: coroutines made ready meanwhile wait for the
     * next round, after the events, so no one starves the descriptors. */
    dg_co *co = l->ready_head;
    l->ready_head = l->ready_tail = NULL;
    while (co) {
        dg_co *next = co->ready_next;
        co->queued = false;
        /* At the loop's level every coroutine is parked, new or ended. */
        if (!co->finished)
            resume(co);
        co_unref(co);
        co = next;
    }
}

static void sleep_fired(struct dg_timer *t)
{
    dg_co_wake(t->data);
}

bool dg_co_sleep_ms(int64_t ms)
{
    dg_co *co = tl_current;
    if (!co)
        dg_fatal("loop: sleep outside a coroutine");
    struct dg_timer t;
    dg_timer_init(&t, sleep_fired, co);
    dg_timer_start(co->loop, &t, dg_mono_ms() + (ms > 0 ? ms : 0));
    while (dg_timer_armed(&t) && !dg_co_cancelled())
        dg_co_park();
    dg_timer_stop(co->loop, &t);
    return !dg_co_cancelled();
}

void dg_co_set_deadline(dg_co *co, int64_t at)
{
    co->root->deadline = at;
}

int64_t dg_co_deadline(void)
{
    return tl_current ? tl_current->root->deadline : 0;
}

void dg_co_cancel(dg_co *co, enum dg_cancel why)
{
    dg_co *r = co->root;
    if (r->cancel != DG_CANCEL_NONE)
        return;
    if (why == DG_CANCEL_HANGUP && r->wrote)
        return; /* a write is out: finish the request, nobody reads the answer */
    r->cancel = why;
    for (dg_co *m = r->members; m; m = m->tnext)
        if (m != tl_current)
            make_ready(m);
}

enum dg_cancel dg_co_cancelled(void)
{
    return tl_current ? tl_current->root->cancel : DG_CANCEL_NONE;
}

void dg_co_set_trace(dg_co *co, struct dg_trace *t)
{
    co->root->trace = t;
}

struct dg_trace *dg_co_trace(void)
{
    return tl_current ? tl_current->root->trace : NULL;
}

void dg_co_mark_write(void)
{
    if (tl_current)
        tl_current->root->wrote = true;
}

/* ---- the blocking form ---- */

struct run_one {
    dg_co_fn fn;
    void *arg;
    bool done;
};

static void run_one_body(void *p)
{
    struct run_one *r = p;
    r->fn(r->arg);
}

static void run_one_done(dg_co *co, void *p)
{
    (void) co;
    ((struct run_one *) p)->done = true;
}

void dg_co_run(dg_co_fn fn, void *arg)
{
    if (tl_current) {
        fn(arg);
        return;
    }
    dg_loop *l = dg_loop_thread();
    if (l->running || l->in_once)
        dg_fatal("loop: a blocking call on an event-loop thread (it would stop the loop)");
    struct run_one r = {fn, arg, false};
    dg_co_start(dg_co_create(l, run_one_body, &r, run_one_done));
    while (!r.done)
        dg_loop_run_once(l, -1);
}

/* ---- fork and join ---- */

struct group_child {
    struct dg_co_group *g;
    dg_co_fn fn;
    void *arg;
};

static void group_body(void *p)
{
    struct group_child *c = p;
    c->fn(c->arg);
}

static void group_done(dg_co *co, void *p)
{
    (void) co;
    struct group_child *c = p;
    struct dg_co_group *g = c->g;
    free(c);
    if (--g->pending == 0 && g->waiter)
        dg_co_wake(g->waiter);
}

void dg_co_group_spawn(struct dg_co_group *g, dg_co_fn fn, void *arg)
{
    dg_co *self = tl_current;
    if (!self)
        dg_fatal("loop: a group spawn outside a coroutine");
    struct group_child *c = dg_xmalloc(sizeof *c);
    *c = (struct group_child){g, fn, arg};
    g->pending++;
    dg_co *co = dg_co_create(self->loop, group_body, c, group_done);
    make_ready(co); /* it starts from the loop, once the parent parks */
}

void dg_co_group_wait(struct dg_co_group *g)
{
    g->waiter = tl_current;
    while (g->pending > 0)
        dg_co_park();
    g->waiter = NULL;
}

/* ---- running ---- */

void dg_loop_run_once(dg_loop *l, int max_wait_ms)
{
    l->in_once = true;
    tl_loop = l;
    if (l->prepare)
        l->prepare(l->prepare_arg);
    int timeout = max_wait_ms;
    if (l->ready_head) {
        timeout = 0;
    } else if (l->nheap) {
        int64_t d = l->heap[0]->at - dg_mono_ms();
        d = d < 0 ? 0 : d > 60000 ? 60000 : d;
        if (timeout < 0 || d < timeout)
            timeout = (int) d;
    }
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(l->ep, evs, MAX_EVENTS, timeout);
    l->batch = evs;
    l->nbatch = n > 0 ? n : 0;
    for (l->ibatch = 0; l->ibatch < l->nbatch;) {
        struct epoll_event *e = &evs[l->ibatch++];
        struct dg_watch *w = e->data.ptr;
        if (w)
            w->cb(w, e->events);
    }
    l->batch = NULL;
    l->nbatch = l->ibatch = 0;
    int64_t now = dg_mono_ms();
    while (l->nheap && l->heap[0]->at <= now) {
        struct dg_timer *t = l->heap[0];
        dg_timer_stop(l, t);
        t->cb(t);
    }
    run_ready(l);
    stack_trim(l, now);
    l->in_once = false;
}

void dg_loop_run(dg_loop *l)
{
    dg_loop_enter(l);
    l->running = true;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        bool stop = l->stop;
        pthread_mutex_unlock(&l->mu);
        if (stop)
            break;
        dg_loop_run_once(l, -1);
    }
    l->running = false;
}

void dg_loop_stats(struct dg_loop_stats *out)
{
    pthread_once(&g_alive_once, alive_init);
    out->coroutines = (uint64_t) dg_metric_value(g_alive, 0);
}
