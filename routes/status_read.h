/* Status reads that collapse (docs/pipeline.md, "Collapsed status reads").
 *
 * Concurrent GET instances/{id} requests for the same connection, hub, id and
 * columns share one storage read. An answer never reflects storage older
 * than the request's arrival: a request joins a read only if that read is
 * issued after the request arrived; otherwise it waits for the next one.
 *
 * A read that served several requests marks its instance as contended: the
 * next read of it waits up to the collapse window (--status-collapse-ms) for
 * more requests to join, so pollers of one instance share reads instead of
 * taking turns. Uncontended instances are read at once.
 *
 * With a cache (--status-cache-ms N), an answer may also reuse a read up to N
 * ms old; any write this replica makes to the instance (rt_status_invalidate)
 * or a purge by filter (rt_status_invalidate_all) ends that at once. */
#ifndef RT_STATUS_READ_H
#define RT_STATUS_READ_H

#include "storage/client.h"
#include "taskhub/instance.h"

#include <stdint.h>

struct rt_status_opts {
    int64_t cache_ms;    /* 0: no reuse of finished reads */
    int64_t collapse_ms; /* the gathering window of contended instances; 0: none */
};
/* Set once at start-up, before any request. */
void rt_status_configure(const struct rt_status_opts *o);

/* hub_instance_get() through the collapsing table (flags: HUB_GET_*). Strings
 * land in x->arena. Outside a coroutine (tools, tests) it is a plain read. */
dg_err rt_status_read(az_client *c, az_ctx *x, const char *hub, const char *id, unsigned flags,
                      struct hub_instance *out);

/* This replica wrote to the instance: no answer reuses an earlier read of it. */
void rt_status_invalidate(az_client *c, const char *hub, const char *id);
/* Writes to many instances at once (purge by filter). */
void rt_status_invalidate_all(void);

struct rt_status_stats {
    uint64_t reads;      /* storage reads made for status requests */
    uint64_t collapsed;  /* requests answered from another request's read */
    uint64_t cache_hits; /* requests answered from a finished read (--status-cache-ms) */
};
void rt_status_stats(struct rt_status_stats *out);

#endif
