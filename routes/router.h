/* The route table and the dispatch every request goes through: base path,
 * path segments, query parameters (http-api.md §1.2-1.3), the system key
 * (§2), then the handler. */
#ifndef RT_ROUTER_H
#define RT_ROUTER_H

#include "auth/keys.h"
#include "base/time.h"
#include "routes/http.h"
#include "storage/client.h"
#include "taskhub/instance.h"

#include <stdbool.h>
#include <stdint.h>

/* A named connection: the value of the `connection` parameter that selects it. */
struct rt_connection {
    const char *name;
    az_client *storage;
};

struct rt_env {
    az_client *storage;    /* the default connection (AzureWebJobsStorage, alias "Storage") */
    const auth_keys *keys; /* NULL: auth disabled (the explicit development option) */
    const char *default_hub;
    const struct rt_connection *connections; /* more connections by name; may be NULL */
    size_t nconnections;
    unsigned default_partitions;      /* for hubs the gateway creates; 0: 4 */
    const char *public_origin;        /* "https://host[:port]" for generated links; NULL: from the request */
    int trust_forwarded;              /* take X-Forwarded-Proto/-Host for generated links */
    const char *const *orchestrators; /* NULL-terminated allow-list of orchestrator names; NULL: any */
    const char
        *app_prefix; /* the app's HTTP route prefix for /{prefix}/orchestrators/{name}/wait; NULL: "api" */
    struct rt_wait_limits *waits; /* the long-poll's limits and slots; NULL: waits are refused (503) */
    long purge_budget_ms;         /* time budget of one purge-by-filter request; 0: RT_PURGE_BUDGET_MS */
    int purge_inflight; /* storage calls in flight for one purge-by-filter request; 0: RT_PURGE_INFLIGHT */
};

/* The long-poll's settings and its count of held requests, shared by every
 * request thread (the gateway owns it). */
struct rt_wait_limits {
    int64_t default_timeout_ms;  /* when timeout is absent: 10 s, the client API's default */
    int64_t default_interval_ms; /* when the interval is absent: 1 s */
    int64_t max_timeout_ms;      /* longer timeouts are cut to this */
    int64_t min_interval_ms;     /* shorter intervals are raised to this */
    long max_waiters;            /* past this many held requests: 503 with Retry-After */
    _Atomic long active;         /* held now (reserved by routes, released by the gateway) */
};

#define RT_PURGE_BUDGET_MS 20000
#define RT_PURGE_INFLIGHT  32

#define RT_MAX_SEGMENTS 6

/* What a handler gets: the request, its decoded path values and query. */
typedef struct rt_ctx {
    const struct rt_env *env;
    const rt_request *rq;
    az_client *storage;               /* of the request's connection */
    const char *hub;                  /* the request's task hub, already validated */
    const char *connection;           /* the connection name for generated links ("Storage" by default) */
    const char *origin;               /* "scheme://host[:port]" for generated links and Location */
    const char *url;                  /* origin + the path and query the client called */
    const char *key;                  /* the key the caller presented, for generated links; NULL: none */
    const char *seg[RT_MAX_SEGMENTS]; /* decoded path segments after the base path */
    size_t nseg;
    struct rt_param *query; /* names as sent, values trimmed and decoded; repeats joined with ',' */
    size_t nquery;
} rt_ctx;

/* The value of a query parameter (name case-insensitive), or NULL. */
const char *rt_query(const rt_ctx *c, const char *name);
/* true/false in any case; anything else (or absence) gives the default. */
bool rt_query_bool(const rt_ctx *c, const char *name, bool def);
/* A fresh storage context for a call made on behalf of the request. */
void rt_az_ctx(const rt_ctx *c, az_ctx *x);

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
/* The answer of a finished wait (http-api.md §4.2): Completed -> 200 with the
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

/* A time as the routes' time parameters take it (rt_param_time in
 * handlers.h: ISO-8601, UTC when no zone is given, and the lenient forms
 * listed there), so that the command-line client refuses exactly what the
 * routes would not take. false for NULL or anything else. */
bool rt_time_parse(const char *v, dg_ticks *out);

/* Answers rs for rq. Never fails: every error becomes a response. */
void rt_dispatch(const struct rt_env *env, const rt_request *rq, rt_response *rs);

/* Maps a storage error to the gateway's answer: 404 for not found, 503 with
 * Retry-After for unavailable or throttled storage, 504 past the deadline, 502
 * for an answer we cannot read, 500 otherwise. */
void rt_storage_error(const rt_ctx *c, rt_response *rs, dg_err rc);

#endif
