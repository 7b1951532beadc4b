/* The route table and the dispatch every request goes through: base path,
 * path segments, query parameters (http-api.md §1.2-1.3), the system key
 * (§2), then the handler. */
#ifndef RT_ROUTER_H
#define RT_ROUTER_H

#include "auth/keys.h"
#include "routes/http.h"
#include "storage/client.h"

struct rt_env {
    az_client *storage;
    const auth_keys *keys; /* NULL: auth disabled (the explicit development option) */
    const char *default_hub;
    long purge_budget_ms; /* time budget of one purge-by-filter request; 0: RT_PURGE_BUDGET_MS */
};

#define RT_PURGE_BUDGET_MS 20000

#define RT_MAX_SEGMENTS 6

/* What a handler gets: the request, its decoded path values and query. */
typedef struct rt_ctx {
    const struct rt_env *env;
    const rt_request *rq;
    const char *seg[RT_MAX_SEGMENTS]; /* decoded path segments after the base path */
    size_t nseg;
    struct rt_param *query; /* names as sent, values trimmed and decoded; repeats joined with ',' */
    size_t nquery;
} rt_ctx;

/* The value of a query parameter (name case-insensitive), or NULL. */
const char *rt_query(const rt_ctx *c, const char *name);
/* true/false in any case; anything else (or absence) gives the default. */
bool rt_query_bool(const rt_ctx *c, const char *name, bool def);
/* The task hub of the request: the taskHub parameter, else the configured default. */
const char *rt_hub(const rt_ctx *c);

/* Answers rs for rq. Never fails: every error becomes a response. */
void rt_dispatch(const struct rt_env *env, const rt_request *rq, rt_response *rs);

/* Maps a storage error to the gateway's answer: 404 for not found, 503 with
 * Retry-After for unavailable or throttled storage, 504 past the deadline, 502
 * for an answer we cannot read, 500 otherwise. */
void rt_storage_error(const rt_ctx *c, rt_response *rs, dg_err rc);

#endif
