/* Queries over a task hub's {hub}Instances table (docs/storage-layout.md §8.5):
 * every condition goes into the one OData $filter the service evaluates, so a
 * page holds only matching rows. */
#ifndef HUB_QUERY_H
#define HUB_QUERY_H

#include "storage/client.h"
#include "taskhub/instance.h"

#include <stdbool.h>

struct hub_query {
    bool has_from, has_to;
    dg_ticks created_from, created_to; /* CreatedTime, both ends inclusive */
    const char *const *statuses;       /* RuntimeStatus names, or none (nstatuses 0) for all */
    size_t nstatuses;
    const char *const *names; /* orchestrator names (Name eq ...), or none for all */
    size_t nnames;
    const char *id_prefix; /* unescaped instance-id prefix; NULL or "" for none */
    /* Only rows whose key sorts after (after_pk, after_rk); after_pk NULL for none.
     * This is how a purge resumes, since rows it deleted are gone. */
    const char *after_pk, *after_rk;
};

/* The $filter of q, in the order of §8.5, each condition parenthesised and
 * joined with "and"; "" when there is none. The prefix is a PartitionKey range
 * over the escaped prefix (§2). Entity rows (ids "@name@key", §9) are left out
 * with "PartitionKey lt '@' or PartitionKey ge 'A'" unless the prefix itself
 * starts with '@' (a prefix not starting with '@' leaves them out anyway).
 * DG_ETOOBIG when the prefix is longer than any table key can be, so nothing
 * can match. *out lives in a. */
dg_err hub_query_filter(dg_arena *a, const struct hub_query *q, const char **out);

struct hub_instance_page {
    struct hub_instance *items;
    size_t n;
    const char *next_pk, *next_rk; /* the service's continuation; next_pk NULL on the last page */
};

/* One service page of the instances matching q: at most top rows (1..1000),
 * possibly none even when more follow. flags: HUB_GET_INPUT, HUB_GET_OUTPUT
 * (instance.h) select those columns and follow URLs to their blobs; a blob
 * that is gone leaves the stored URL as the value. A row whose PartitionKey is
 * not an escaped id is skipped. next_pk/next_rk: the previous page's
 * continuation, or NULL. DG_ENOTFOUND when the hub's table does not exist.
 * Everything lives in x->arena. */
dg_err hub_query_instances(az_client *c, az_ctx *x, const char *hub, const struct hub_query *q,
                           unsigned flags, int top, const char *next_pk, const char *next_rk,
                           struct hub_instance_page *out);

#endif
