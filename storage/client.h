/* The storage client: one long-lived, thread-safe handle per storage account.
 *
 * Calls run on the calling thread's event loop (base/loop.h), through that
 * loop's libcurl multi handle, whose connection cache and idle easy handles
 * serve every account: kept-alive connections are reused, no lock is taken
 * per call (docs/pipeline.md). Every call is bounded by a deadline and retried with exponential
 * back-off and jitter on connection errors, time-outs, 408, 429, 500 and 503;
 * every response body is capped.
 *
 * Per call, the caller passes an az_ctx: the arena that receives everything the
 * call returns (entities, strings, bodies: freed with the arena), the deadline,
 * and the status of the last answer, which keeps the service's own error code
 * (e.g. "EntityAlreadyExists", "UpdateConditionNotSatisfied", "TableNotFound",
 * "AuthorizationFailure") for callers that need more than the dg_err. */
#ifndef AZ_CLIENT_H
#define AZ_CLIENT_H

#include "base/arena.h"
#include "base/err.h"
#include "storage/account.h"

#include <stddef.h>
#include <stdint.h>

typedef struct az_client az_client;

struct az_client_opts {
    long connect_timeout_ms;   /* per connection attempt; default 5000 */
    long call_timeout_ms;      /* default deadline of a call, all retries included; default 30000 */
    int max_attempts;          /* tries per call, the first included; default 5 */
    long backoff_base_ms;      /* first back-off step; default 100 */
    long backoff_max_ms;       /* largest back-off step; default 4000 */
    size_t max_response;       /* cap on a response body; default 64 MiB */
    const char *api_version;   /* x-ms-version; default "2021-08-06" (Table: "2019-02-02") */
    int table_shared_key_lite; /* sign Table requests with SharedKeyLite instead of SharedKey */
};

struct az_status {
    long http;         /* the last HTTP status, 0 when no answer came */
    char code[64];     /* the service's error code, "" when none */
    char message[256]; /* the service's message (first line), "" when none; never holds secrets */
    int attempts;      /* how many times the call was sent */
};

typedef struct az_ctx {
    dg_arena *arena;     /* results of the call live here */
    int64_t deadline_ms; /* absolute, on dg_mono_ms()'s clock; 0 = now + call_timeout_ms */
    const char *reqid;   /* for log lines; may be NULL */
    struct az_status st; /* filled by every call */
} az_ctx;

static inline void az_ctx_init(az_ctx *x, dg_arena *a)
{
    x->arena = a;
    x->deadline_ms = 0;
    x->reqid = NULL;
    x->st.http = 0;
    x->st.code[0] = '\0';
    x->st.message[0] = '\0';
    x->st.attempts = 0;
}

struct az_stats {
    uint64_t requests;    /* HTTP requests sent, retries included */
    uint64_t connections; /* TCP connections opened */
    uint64_t retries;     /* requests that were retries */
};

/* Copies the account. opts may be NULL for the defaults. Never fails but for
 * out-of-memory (which aborts). */
az_client *az_client_create(const az_account *acct, const struct az_client_opts *opts);
void az_client_destroy(az_client *c);
void az_client_stats(az_client *c, struct az_stats *out);
const az_account *az_client_account(const az_client *c);

#endif
