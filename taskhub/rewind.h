/* Rewind of a failed orchestration as DurableTask.AzureStorage's
 * RewindTaskOrchestrationAsync does it (docs/storage-layout.md §8.3): the legacy
 * algorithm that rewrites the failure rows of the current execution's history
 * into GenericEvent rows, so that replay forgets them, resets the Instances
 * row to Pending and sends a GenericEvent message to the failed leaves. */
#ifndef HUB_REWIND_H
#define HUB_REWIND_H

#include "taskhub/hub.h"

/* Most instances (the root and its failed sub-orchestrations, at any depth)
 * and most rows of one execution's history that one rewind reads. */
#define HUB_REWIND_MAX_INSTANCES 256
#define HUB_REWIND_MAX_ROWS      100000

/* Rewinds instance `id` of hub h (which must exist: hub_open found it).
 *
 * Per instance, children first: the failed sub-orchestrations are rewound
 * (recursively), then the instance's rows are rewritten with Merge and the
 * ETag each row was read with, in one entity-group transaction (100 rows per
 * transaction; past that, the failed ExecutionCompleted row goes in the last
 * one), then its Instances row is merged to Pending. Only after the root's
 * row is Pending do the messages go out: GenericEvent(-1, reason), ExecutionId
 * null, to each failed leaf (an instance with no failed sub-orchestrations).
 *
 * Retry-safe: rows already rewound are left alone, and a rewind cut short
 * anywhere can be run again. While the root is Failed it is simply redone;
 * once the root is Pending and its history shows a rewind the worker has not
 * picked up yet (no OrchestratorStarted after the rewound ExecutionCompleted),
 * the call sends the messages again (a duplicate GenericEvent is harmless).
 *
 * reason: the message's Data; NULL sends null.
 * DG_ENOTFOUND: no such instance. DG_EPRECOND: the instance is neither
 * Failed nor Pending with a rewind in flight. DG_ECONFLICT: it has no history
 * to rewind, or its history kept changing under the rewind (three attempts
 * per instance).
 * DG_ETOOBIG: past the limits above. Storage errors as they come. */
dg_err hub_rewind(struct hub *h, az_ctx *x, const char *id, const char *reason);

#endif
