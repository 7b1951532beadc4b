/* A task hub's artefacts (docs/storage-layout.md §1): names, the partition count
 * the workers route with, and creating what is missing. */
#ifndef HUB_HUB_H
#define HUB_HUB_H

#include "storage/client.h"

#include <stdbool.h>

#define HUB_MAX_PARTITIONS 16

struct hub {
    az_client *c;
    const char *name;    /* as configured: the table prefix */
    const char *lname;   /* lower case: the queue and container prefix */
    unsigned partitions; /* 1..16 */
    bool exists;         /* the hub's tables and queues were found (or made) */
};

/* Learns how the hub is partitioned, as the scale controller does (§1.2): the
 * rows of {H}Partitions, else PartitionCount in {h}-leases/taskhub.json, else
 * default_partitions for a hub nobody has made yet. Answers for existing hubs
 * are cached for a minute per client and hub (the count only changes when the
 * hub is re-created), so a start costs no extra storage call. All strings live
 * in x->arena. */
dg_err hub_open(az_client *c, az_ctx *x, const char *name, unsigned default_partitions, struct hub *out);

/* Creates whatever of the hub is missing, in the order and form the provider
 * uses (§1.2): the app-lease container and its info blob, the Partitions table
 * and one row per control queue, the Instances and History tables, the
 * work-item queue and the control queues. Safe to run concurrently with a
 * worker or another gateway doing the same. */
dg_err hub_ensure(struct hub *h, az_ctx *x);

/* "{h}-control-NN" for partition p. */
const char *hub_control_queue_name(const struct hub *h, dg_arena *a, unsigned p);
/* The control queue of an instance: FNV-1a over its UTF-8 id (§3). */
const char *hub_control_queue(const struct hub *h, dg_arena *a, const char *id);
/* The hub's table "{H}{suffix}": suffix "Instances", "History" or "Partitions".
 * hub_table_name does the same from the hub's name, for callers that have no
 * struct hub (reads that need no partition count). Both live in a. */
const char *hub_table(const struct hub *h, dg_arena *a, const char *suffix);
const char *hub_table_name(dg_arena *a, const char *hub, const char *suffix);

/* Everything a hub can hold (docs/storage-layout.md §1): 16 control queues, the
 * work-item queue, three tables and three containers. */
#define HUB_MAX_ARTEFACTS (HUB_MAX_PARTITIONS + 7)

struct hub_deleted {
    const char *names[HUB_MAX_ARTEFACTS]; /* what existed and is gone, in x->arena */
    size_t n;                             /* 0: there was no hub of that name */
};

/* Deletes the hub as DeleteAsync(deleteInstanceStore: true) does (§1.3): the
 * control queues (all 16 possible names, so a hub made with another count or
 * left half-made goes too), the work-item queue, the Instances, History and
 * Partitions tables, then the {h}-leases, {h}-applease and {h}-largemessages
 * containers. What is already missing is fine, so a delete cut short can be
 * run again. Forgets the hub's cached partition count. Storage keeps deleted
 * names reserved for a while: re-creating the hub at once may answer 409. */
dg_err hub_delete(az_client *c, az_ctx *x, const char *name, struct hub_deleted *out);

/* Forgets what is cached of one hub (its queues were found missing: the hub
 * was deleted, and may be re-created with another count). */
void hub_cache_forget(const az_client *c, const char *name);
/* Forgets every cached partition count (tests that delete and re-create hubs). */
void hub_cache_clear(void);

#endif
