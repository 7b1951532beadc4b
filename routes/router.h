/* The route table and the dispatch every request goes through: base path,
 * path segments, query parameters (docs/http-api.md §1.2-1.3), the system key
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

struct rt_wait_limits;

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
    struct rt_wait_limits *waits; /* long-poll limits and slots (routes/wait.h); NULL: waits get 503 */
    long purge_budget_ms;         /* time budget of one purge-by-filter request; 0: RT_PURGE_BUDGET_MS */
    int purge_inflight; /* storage calls in flight for one purge-by-filter request; 0: RT_PURGE_INFLIGHT */
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

/* A time as the routes' time parameters take it (rt_param_time in
 * handlers.h: ISO-8601, UTC when no zone is given, and the lenient forms
 * listed there), so that the command-line client refuses exactly what the
 * routes would not take. false for NULL or anything else. */
bool rt_time_parse(const char *v, dg_ticks *out);

/* Whether the gateway serves path itself (the management base paths, and the
 * app paths a route of ours matches exactly for method): with --upstream,
 * every other request is passed through to the function app. Scratch in a. */
bool rt_is_gateway_path(const struct rt_env *env, const char *method, const char *path, dg_arena *a);
/* The origin ("scheme://host[:port]") the client called, as generated links
 * use it: --public-url, else the trusted forwarded scheme and host, else Host. */
const char *rt_request_origin(const struct rt_env *env, const rt_request *rq);
/* The route names, each once (a name may cover several rows of the table):
 * rt_response.route is 1 + an index into *names, 0 when no route matched.
 * Returns how many. */
size_t rt_route_names(const char *const **names);

/* Answers rs for rq. Never fails: every error becomes a response. */
void rt_dispatch(const struct rt_env *env, const rt_request *rq, rt_response *rs);

/* Maps a storage error to the gateway's answer: 404 for not found, 503 with
 * Retry-After for unavailable or throttled storage, 504 past the deadline, 502
 * for an answer we cannot read, 500 otherwise. */
void rt_storage_error(const rt_ctx *c, rt_response *rs, dg_err rc);

#endif
