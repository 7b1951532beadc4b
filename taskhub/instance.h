/* Instance rows of a task hub's {hub}Instances table (docs/storage-layout.md §4). */
#ifndef HUB_INSTANCE_H
#define HUB_INSTANCE_H

#include "base/time.h"
#include "storage/client.h"
#include "storage/entity.h"

#include <stdbool.h>

struct hub_instance {
    const char *id; /* unescaped */
    const char *name;
    const char *version;
    const char *input;          /* JSON text, a blob URL, or NULL */
    const char *output;         /* JSON text, failure text, a reason, a blob URL, or NULL */
    const char *custom_status;  /* JSON text, "null", or NULL */
    const char *runtime_status; /* "Running", "Completed", ... as stored */
    const char *execution_id;
    dg_ticks created, last_updated, completed; /* 0 when absent */
    int generation;
    const char *etag; /* of the row, for conditional writes */
};

/* The columns of the instance model (OrchestrationInstanceStatus), for $select. */
#define HUB_INSTANCE_COLUMNS_NO_IO                                                                           \
    "PartitionKey,RowKey,Name,Version,CustomStatus,RuntimeStatus,CreatedTime,LastUpdatedTime,CompletedTime," \
    "ScheduledStartTime,ExecutionId,Generation,Tags,TaskHubName"

/* Fills *out from an Instances row (strings point into the entity's arena).
 * DG_EBADRESP when the PartitionKey is not a valid escaped id. */
dg_err hub_instance_from_entity(dg_arena *a, const az_entity *e, struct hub_instance *out);

/* Valid task hub names (docs/storage-layout.md §1.1): 3 to 45 letters and digits, starting with a letter. */
bool hub_name_ok(const char *hub);

enum {
    HUB_GET_INPUT = 1,  /* read Input too (and follow it to its blob) */
    HUB_GET_OUTPUT = 2, /* read Output too (and follow it to its blob) */
};
/* Reads one instance. DG_ENOTFOUND when the instance or the hub's table does not exist. */
dg_err hub_instance_get(az_client *c, az_ctx *x, const char *hub, const char *id, unsigned flags,
                        struct hub_instance *out);

/* The instance's RuntimeStatus alone (one point read selecting that column):
 * the cheap read the long-poll repeats. *status is NULL (and DG_OK) when the
 * instance or the hub's table does not exist; it lives in x->arena. */
dg_err hub_instance_status(az_client *c, az_ctx *x, const char *hub, const char *id, const char **status);

/* True for Completed, Failed, Terminated and Canceled. */
bool hub_status_terminal(const char *runtime_status);
/* True for Pending, Running, ContinuedAsNew and Suspended: not finished yet. */
bool hub_status_active(const char *runtime_status);
/* OrchestrationStatus (docs/storage-layout.md §10.2): 0..7 from the exact
 * name (no number), -1 when unknown; and the name of a number, NULL outside 0..7. */
int hub_orchestration_status_parse(const char *name);
const char *hub_orchestration_status_name(int status);
/* The stored name of a runtime status given as its exact, case-sensitive enum
 * name ("Running") or its number ("0" is Running ... "7" is Suspended, as .NET
 * enum parsing takes them); NULL for anything else. The result is a static
 * string. */
const char *hub_status_parse(const char *s, size_t n);

#endif
