/* Purging instances from a task hub (docs/storage-layout.md §8.6): History rows,
 * large-message blobs, then the Instances row. Queue messages are left alone,
 * as the provider leaves them. */
#ifndef HUB_PURGE_H
#define HUB_PURGE_H

#include "storage/client.h"
#include "taskhub/query.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hub_purge_stats {
    size_t history_rows; /* History rows deleted, the sentinel included */
    size_t blobs;        /* blobs deleted from {h}-largemessages */
};

/* Deletes everything of the instance whose PartitionKey is pk (the escaped id):
 *  1. its History rows (a query selecting only the keys, every page), in entity
 *     group transactions of up to 100; a transaction failing with 404 (a row
 *     already gone) is redone as single deletes that ignore 404;
 *  2. the blobs of {h}-largemessages named "<id>/..." (queue-message blobs use
 *     the unescaped id) and "<escaped id>/..." (history-property blobs). The
 *     '/' is deliberate: the provider lists by the bare id, so purging "abc"
 *     also deletes the blobs of "abcd"; this does not;
 *  3. its Instances row, last (If-Match "*"), so a purge cut short anywhere
 *     leaves the row and can simply be run again.
 * Whatever is already missing (rows, blobs, tables, the container) is fine. It
 * neither checks that the instance exists nor its status: the caller does.
 * stats may be NULL. Allocations live in x->arena. */
dg_err hub_purge_key(az_client *c, az_ctx *x, const char *hub, const char *pk, struct hub_purge_stats *stats);
/* The same by instance id. */
dg_err hub_purge_instance(az_client *c, az_ctx *x, const char *hub, const char *id,
                          struct hub_purge_stats *stats);

#define HUB_PURGE_MAX_INFLIGHT 256

struct hub_purge_filter {
    /* Which Instances rows: q.statuses already narrowed by the caller (the
     * route keeps only terminal ones); with no id_prefix the filter leaves
     * entity rows out. q.after_pk/after_rk resume a purge that was cut short. */
    struct hub_query q;
    /* On dg_mono_ms()'s clock. No instance is taken after it, except that every
     * call takes at least one, so a run of calls always finishes. Purges in
     * flight at the deadline run to their end. */
    int64_t deadline_ms;
    int inflight; /* storage calls in flight at once, 1..HUB_PURGE_MAX_INFLIGHT */
};

struct hub_purge_result {
    size_t deleted;     /* instances purged */
    size_t failed;      /* instances whose purge failed: logged and skipped */
    dg_err first_error; /* the error of the first failure, DG_OK when none */
    /* true when cut short by the deadline (or by a storage error after some
     * progress): call again with q.after_pk/after_rk = next_pk/next_rk, the
     * key of the last row taken. */
    bool more;
    const char *next_pk, *next_rk;
};

/* Streams the matching Instances rows (keys and RuntimeStatus only, pages of
 * 100) and purges each as hub_purge_key() does (History rows, blobs, the
 * Instances row last), many instances at once with at most f->inflight
 * storage calls in flight: the History rows of a page are read by key range
 * and deleted in transactions per instance, and the blob listings are skipped
 * when the hub's large-message container holds no blob (purge.c, docs/bulk.md).
 * A missing Instances table is an empty result. An error is returned only
 * when nothing was purged and nothing taken (the first page failed); *out is
 * filled in every case. Results live in x->arena. */
dg_err hub_purge_by_filter(az_client *c, az_ctx *x, const char *hub, const struct hub_purge_filter *f,
                           struct hub_purge_result *out);

#endif
