/* The long-poll (docs/http-api.md §4.2), its route side: the limits and
 * slots shared by every loop, the held-request record, the parameters a wait
 * takes, and the answers a finished or timed-out wait gives. The holding
 * itself (suspension, timers, coalesced reads) is gateway/wait.c's. Defined
 * in routes/wait.c. */
#ifndef RT_WAIT_H
#define RT_WAIT_H

#include "routes/router.h"
#include "taskhub/instance.h"

#include <stdbool.h>
#include <stdint.h>

/* The long-poll's settings and its count of held requests, shared by every
 * event loop (the gateway owns it). */
struct rt_wait_limits {
    int64_t default_timeout_ms;  /* when timeout is absent: 10 s, the client API's default */
    int64_t default_interval_ms; /* when the interval is absent: 1 s */
    int64_t max_timeout_ms;      /* longer timeouts are cut to this */
    int64_t min_interval_ms;     /* shorter intervals are raised to this */
    long max_waiters;            /* past this many held requests: 503 with Retry-After */
    _Atomic long active;         /* held now (reserved by routes, released by the gateway) */
};

/* A held request (rt_response.wait): everything needed to answer it later,
 * copied into an arena of its own (rq.arena), which the gateway takes over
 * and frees when the request completes. */
struct rt_wait {
    rt_ctx ctx; /* ctx.rq points at rq below */
    rt_request rq;
    const char *id;      /* the instance waited on */
    int64_t interval_ms; /* how often its status should be read */
    int64_t deadline_ms; /* dg_mono_ms() clock */
    bool failure_is_200; /* start-and-wait: returnInternalServerErrorOnFailure is forced false */
};

/* The answer when the deadline passes (or the gateway stops): 202 check-status. */
void rt_wait_timeout(struct rt_wait *w, rt_response *rs);

/* The instance's status as the long-poll reads it: RuntimeStatus only, a
 * cheap read shared by every waiter on the instance. *status is NULL when the
 * instance does not exist (yet). Strings live in a. */
dg_err rt_wait_read_status(const struct rt_wait *w, dg_arena *a, const char **status);
/* The full row (input and output, followed to blobs) once the status is final. */
dg_err rt_wait_read_final(const struct rt_wait *w, dg_arena *a, struct hub_instance *in);
/* The answer of a finished wait (docs/http-api.md §4.2): Completed -> 200 with the
 * bare output; Failed, Terminated, Canceled -> what GET status answers for
 * the waiter's query. in is the row of rt_wait_read_final (in another arena;
 * everything is copied into the waiter's). */
void rt_wait_answer(struct rt_wait *w, const struct hub_instance *in, struct rt_shared *completed_body,
                    rt_response *rs);
/* The 200 body of a Completed instance (its bare output), built once and
 * shared by every waiter on it (one reference for the caller); NULL when in
 * is not Completed. */
struct rt_shared *rt_wait_completed_body(const struct hub_instance *in);
/* Gives back the slot a held request reserved. */
void rt_wait_release(const struct rt_env *env);

/* For the route handlers: reading a request's wait and holding it. */

struct rt_wait_spec {
    bool wanted; /* the request asked to wait */
    int64_t timeout_ms, interval_ms;
};
/* Reads timeout and `interval_name` (pollingInterval or retryInterval):
 * seconds with fractions; defaults from env->waits; the timeout capped and
 * the interval floored by it. always: wait even when neither is given. false
 * after answering 400 (non-positive, not a number, interval over timeout). */
bool rt_wait_params(const rt_ctx *c, rt_response *rs, const char *interval_name, bool always,
                    struct rt_wait_spec *out);
/* Takes one of the waiter slots; false after answering 503 when none is left. */
bool rt_wait_reserve(const rt_ctx *c, rt_response *rs);
/* Turns rs into a held request on instance id (the slot is already reserved). */
void rt_wait_hold(const rt_ctx *c, rt_response *rs, const char *id, const struct rt_wait_spec *spec,
                  bool failure_is_200);

#endif
