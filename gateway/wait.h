/* The long-poll scheduler: held requests (suspended libmicrohttpd
 * connections) wait here for their instance to finish.
 *
 * No thread per waiter: one scheduler thread runs an event loop that sleeps
 * until the next timer in a heap (a waiter's deadline or an instance's next
 * read) or a client hang-up on a held socket; the storage reads are
 * coroutines on that loop (base/loop.h), many in flight at once.
 * Waiters on one instance form a group that is read once per interval (the
 * smallest interval among them), never twice at once; when it is finished
 * every waiter of the group is answered from that one read. */
#ifndef GW_WAIT_H
#define GW_WAIT_H

#include "routes/wait.h"

#include <stddef.h>
#include <stdint.h>

struct MHD_Connection;
typedef struct gw_waits gw_waits;

enum gw_waiter_state { GW_WAITING, GW_ANSWERED, GW_CANCELLED };

struct gw_timer {
    int64_t at; /* dg_mono_ms() */
    size_t idx; /* position in the heap; SIZE_MAX when not in it */
    enum { T_DEADLINE, T_POLL } kind;
    void *owner;
};

/* Embedded in the server's per-request record. */
struct gw_waiter {
    struct rt_wait *w;
    struct MHD_Connection *conn;
    int fd;
    /* Wakes the connection on the loop that owns it (called from the scheduler's thread). */
    void (*resume)(struct gw_waiter *w);
    enum gw_waiter_state state;
    rt_response answer; /* valid once GW_ANSWERED */
    /* owned by the scheduler */
    uint64_t seq;
    struct gw_timer deadline_t;
    struct gw_group *group;
    struct gw_waiter *prev, *next;
};

struct gw_wait_stats {
    uint64_t held;      /* waiting now */
    uint64_t reads;     /* status reads issued (coalesced: one per group per interval) */
    uint64_t completed; /* answered because the instance finished */
    uint64_t timeouts;  /* answered 202 at the deadline (or at shutdown) */
    uint64_t disconnects;
    uint64_t groups; /* instances being waited on now */
};

/* max_reads: status reads in flight at once. */
gw_waits *gw_waits_create(const struct rt_env *env, int max_reads);
/* The scheduler's loop (other background work of the gateway runs there too). */
struct dg_loop *gw_waits_loop(gw_waits *s);
/* Takes a request whose connection was just suspended. waiter->resume is
 * called once waiter->state has left GW_WAITING. */
void gw_waits_add(gw_waits *s, struct gw_waiter *waiter);
/* Answers every waiter at once with its timeout answer (shutdown). */
void gw_waits_drain(gw_waits *s);
void gw_waits_destroy(gw_waits *s);
void gw_waits_stats(gw_waits *s, struct gw_wait_stats *out);

#endif
