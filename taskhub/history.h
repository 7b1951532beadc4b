/* The history of an instance's current execution, read from {hub}History
 * (docs/storage-layout.md §5, §8.7) and returned as DurableTask.Core's
 * GetOrchestrationHistoryAsync returns it: the HistoryEvent objects in plain
 * Newtonsoft JSON (docs/http-api.md §6.1), so routes/ can apply the host's §6.2
 * rewrite to exactly what the host rewrites.
 *
 * Which rows: the whole partition, in RowKey order. The current execution is
 * the sentinel's ExecutionId, else the first row's; rows are taken while their
 * ExecutionId matches it (a newer, shorter execution leaves the older one's rows
 * past its end) and the sentinel is skipped.
 *
 * Each row becomes one object holding exactly the [DataMember]s of its event
 * class, in the order Newtonsoft writes them (DurableTask.Core 3.11, checked by
 * reflection against the interop worker's assembly), as the provider's reader
 * builds them:
 *   - EventType and OrchestrationStatus are numbers (docs/storage-layout.md §10), the
 *     table's enum names mapped back;
 *   - a member with no column is null, or for a value type what an
 *     uninitialised .NET object holds (0, false, "0001-01-01T00:00:00");
 *   - columns that are no member of the class are dropped: ExecutionId, and
 *     what a legacy rewind leaves on the rows it turns into GenericEvent;
 *   - {Prop}BlobName columns (docs/storage-layout.md §7.2) are followed: the gunzipped blob becomes Prop
 *     (a blob that is not there is DG_EBADRESP: the hub is inconsistent);
 *   - JSON-in-string columns (OrchestrationInstance, ParentInstance, Tags,
 *     ParentTraceContext, FailureDetails, State) are parsed back; "null" is null;
 *   - DateTime columns, and Timestamp (from the _Timestamp column), are written
 *     the way Newtonsoft writes a UTC DateTime: yyyy-MM-ddTHH:mm:ss.FFFFFFFZ,
 *     trailing zeros of the fraction dropped (the real worker's output shows
 *     "…54.705569Z" for a stored "…54.7055690Z");
 *   - Int32/Int64 columns are numbers, strings are strings.
 * A row whose EventType has no event class (ExecutionFailed, or a name newer
 * than this table) is no error here, as it is in the provider: it passes through
 * with every column but ExecutionId, EventType kept as stored when it is a name
 * this table does not know.
 *
 * Caps: a partition of more than HUB_HISTORY_MAX_ROWS rows, or whose string
 * columns and blobs add up to more than HUB_HISTORY_MAX_BYTES, is refused with
 * DG_ETOOBIG before anything more is read; the status route answers that with
 * 500 and a message. 50,000 events is far past any history the provider itself
 * replays comfortably, and 64 MiB matches the cap on one large payload. */
#ifndef HUB_HISTORY_H
#define HUB_HISTORY_H

#include "storage/client.h"
#include "storage/entity.h"

#include <cjson/cJSON.h>

#define HUB_HISTORY_MAX_ROWS  50000
#define HUB_HISTORY_MAX_BYTES (64u << 20)
/* Pages of up to 1,000 rows; the service may also send empty pages with a
 * continuation, but not this many: past it the answer is DG_EBADRESP. */
#define HUB_HISTORY_MAX_PAGES 1000

/* The current execution's events, oldest first, as a cJSON array in *out. The
 * array is freed with x->arena (dg_arena_defer): never cJSON_Delete it; attach
 * it to another tree only as a reference (cJSON_AddItemReferenceToObject).
 * No History table, no rows, or only a sentinel: an empty array. */
dg_err hub_history_get(az_client *c, az_ctx *x, const char *hub, const char *id, cJSON **out);

/* The pure steps, for tests. */

/* Puts the rows of the current execution, in order, into sel (room for n) and
 * returns how many there are. */
size_t hub_history_select(az_entity *rows, size_t n, az_entity **sel);
/* One row, its blobs already followed, as its event object (cJSON_Delete it).
 * Strings it needs (base64 of binary columns) are made in a. */
cJSON *hub_history_event(dg_arena *a, const az_entity *row);

/* EventType (docs/storage-layout.md §10: DurableTask.Core's numbers, append only). */
enum hub_event_type {
    HUB_EV_EXECUTION_STARTED = 0,
    HUB_EV_EXECUTION_COMPLETED = 1,
    HUB_EV_EXECUTION_FAILED = 2,
    HUB_EV_EXECUTION_TERMINATED = 3,
    HUB_EV_TASK_SCHEDULED = 4,
    HUB_EV_TASK_COMPLETED = 5,
    HUB_EV_TASK_FAILED = 6,
    HUB_EV_SUB_CREATED = 7,
    HUB_EV_SUB_COMPLETED = 8,
    HUB_EV_SUB_FAILED = 9,
    HUB_EV_TIMER_CREATED = 10,
    HUB_EV_TIMER_FIRED = 11,
    HUB_EV_ORCHESTRATOR_STARTED = 12,
    HUB_EV_ORCHESTRATOR_COMPLETED = 13,
    HUB_EV_EVENT_SENT = 14,
    HUB_EV_EVENT_RAISED = 15,
    HUB_EV_CONTINUE_AS_NEW = 16,
    HUB_EV_GENERIC = 17,
    HUB_EV_HISTORY_STATE = 18,
    HUB_EV_EXECUTION_SUSPENDED = 19,
    HUB_EV_EXECUTION_RESUMED = 20,
    HUB_EV_EXECUTION_REWOUND = 21,
};

/* EventType from the name: 0..21, -1 when unknown. */
int hub_event_type_parse(const char *name);
/* The name of an EventType number, or NULL. */
const char *hub_event_type_name(int type);
/* OrchestrationStatus names and numbers: hub_orchestration_status_parse and
 * hub_orchestration_status_name in taskhub/instance.h. */

#endif
