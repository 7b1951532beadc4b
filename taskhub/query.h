/* Queries over a task hub's {hub}Instances table (docs/storage-layout.md §8.5):
 * every condition goes into the one OData $filter the service evaluates, so a
 * page holds only matching rows. */
#ifndef HUB_QUERY_H
#define HUB_QUERY_H

#include "storage/client.h"
#include "taskhub/instance.h"

#include <stdbool.h>
#include <stdint.h>

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
    /* Only PartitionKeys in [range_lo, range_hi): a key range of a parallel
     * listing (hub_query_range); NULL for an open end. */
    const char *range_lo, *range_hi;
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

/* The columns a listing reads (docs/bulk.md): what a status object of the
 * list (docs/http-api.md §5.1) shows and nothing else; Input and Output only when
 * flags ask for them (HUB_GET_INPUT, HUB_GET_OUTPUT). */
#define HUB_LIST_COLUMNS "PartitionKey,Name,RuntimeStatus,CustomStatus,CreatedTime,LastUpdatedTime"
/* What a count reads: the key (rows whose key is no escaped id are left out,
 * as the list leaves them out) and the status. */
#define HUB_COUNT_COLUMNS "PartitionKey,RuntimeStatus"
/* HUB_LIST_COLUMNS plus ",Input" and/or ",Output" by flags; a static string. */
const char *hub_query_columns(unsigned flags);

/* One service page of the instances matching q: at most top rows (1..1000),
 * possibly none even when more follow. flags: HUB_GET_INPUT, HUB_GET_OUTPUT
 * (instance.h) select those columns and follow URLs to their blobs; a blob
 * that is gone leaves the stored URL as the value. Only the columns of
 * HUB_LIST_COLUMNS are read, so other fields of the items are NULL. A row
 * whose PartitionKey is not an escaped id is skipped. next_pk/next_rk: the
 * previous page's continuation, or NULL. DG_ENOTFOUND when the hub's table
 * does not exist. Everything lives in x->arena. */
dg_err hub_query_instances(az_client *c, az_ctx *x, const char *hub, const struct hub_query *q,
                           unsigned flags, int top, const char *next_pk, const char *next_rk,
                           struct hub_instance_page *out);

/* ---- parallel key ranges (docs/bulk.md) ---- */

#define HUB_RANGES_MAX 16

/* Range i of n (2..HUB_RANGES_MAX): the PartitionKeys in [*lo, *hi), NULL
 * for an open end. The split is by the key's first character over the hex
 * digits, so ids made as GUIDs (the framework's and the host's own) spread
 * evenly; ids that share a first character land in one range. Together the
 * n ranges cover every key exactly once. Static strings. */
void hub_query_range(int i, int n, const char **lo, const char **hi);

/* Where one range of a parallel listing stands. */
struct hub_range_cursor {
    bool done;                     /* nothing more in this range */
    const char *next_pk, *next_rk; /* the service's continuation; NULL: from the range's start */
};

/* One service page of each range not done, queried at once (one coroutine
 * per range), each of at most top rows: pages[i] for range i (n items, none
 * for a range already done) and cur[i] moved on. The first error is returned
 * (a missing table is no error: every range is then done). */
dg_err hub_query_ranges(az_client *c, az_ctx *x, const char *hub, const struct hub_query *q, unsigned flags,
                        int top, int n, struct hub_range_cursor *cur, struct hub_instance_page *pages);

/* Counts per runtime status. */
struct hub_counts {
    uint64_t total;
    const char *status[16]; /* the distinct RuntimeStatus values seen, as stored ("" for rows without one) */
    uint64_t count[16];
    size_t n;
    uint64_t other; /* rows whose status is none of 16 distinct values (never in practice) */
};

/* Counts the instances matching q (the same rows hub_query_instances lists),
 * reading HUB_COUNT_COLUMNS only, in pages of 1000 over `ranges` key ranges
 * at once (1: one plain query). A missing table counts zero. */
dg_err hub_query_count(az_client *c, az_ctx *x, const char *hub, const struct hub_query *q, int ranges,
                       struct hub_counts *out);

#endif
