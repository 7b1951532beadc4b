#include "tests/support/hub_rows.h"

#include "base/time.h"
#include "taskhub/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXECUTION_ID "0123456789abcdef0123456789abcdef"

static dg_ticks iso(const char *s)
{
    dg_ticks t;
    if (dg_iso_parse(s, strlen(s), &t) != DG_OK) {
        fprintf(stderr, "hub_rows: bad time %s\n", s);
        abort();
    }
    return t;
}

void hub_rows_instance(dg_arena *a, const char *hub, const struct seed_instance *in, az_entity *e)
{
    az_entity_init(e, a, hub_key_escape(a, in->id, strlen(in->id)), "");
    az_entity_set_str(e, a, "Name", in->name ? in->name : "E1_HelloSequence");
    az_entity_set_str(e, a, "Version", "");
    if (in->input)
        az_entity_set_str(e, a, "Input", in->input);
    if (in->output)
        az_entity_set_str(e, a, "Output", in->output);
    az_entity_set_str(e, a, "CustomStatus", "null");
    az_entity_set_str(e, a, "RuntimeStatus", in->status);
    dg_ticks t = iso(in->created ? in->created : "2024-05-01T10:00:00.1234567Z");
    az_entity_set_datetime(e, a, "CreatedTime", t);
    az_entity_set_datetime(e, a, "LastUpdatedTime", t + 3 * DG_TICKS_PER_SEC);
    if (strcmp(in->status, "Completed") == 0 || strcmp(in->status, "Failed") == 0 ||
        strcmp(in->status, "Terminated") == 0)
        az_entity_set_datetime(e, a, "CompletedTime", t + 3 * DG_TICKS_PER_SEC);
    az_entity_set_str(e, a, "ExecutionId", EXECUTION_ID);
    az_entity_set_i32(e, a, "Generation", 0);
    az_entity_set_str(e, a, "Tags", "null");
    az_entity_set_str(e, a, "TaskHubName", hub);
}

/* Row 0 OrchestratorStarted, row 1 ExecutionStarted, then scheduled and
 * completed tasks, the last ExecutionCompleted (docs/storage-layout.md §5.1, §5.3). */
static void history_event(az_entity *e, dg_arena *a, const char *id, int i, int events, dg_ticks t0)
{
    const char *type;
    int event_id = -1;
    if (i == 0)
        type = "OrchestratorStarted";
    else if (i == 1)
        type = "ExecutionStarted";
    else if (i == events - 1)
        type = "ExecutionCompleted";
    else if (i % 2 == 0) {
        type = "TaskScheduled";
        event_id = i / 2 - 1;
    } else
        type = "TaskCompleted";
    az_entity_set_str(e, a, "ExecutionId", EXECUTION_ID);
    az_entity_set_str(e, a, "EventType", type);
    az_entity_set_i32(e, a, "EventId", event_id);
    az_entity_set_bool(e, a, "IsPlayed", i < events - 1);
    az_entity_set_datetime(e, a, "_Timestamp", t0 + i * DG_TICKS_PER_SEC / 10);
    if (i == 1) {
        az_entity_set_str(e, a, "OrchestrationInstance",
                          dg_arena_printf(a, "{\"InstanceId\":\"x\",\"ExecutionId\":\"%s\"}", EXECUTION_ID));
        az_entity_set_str(e, a, "ParentInstance", "null");
        az_entity_set_str(e, a, "Name", "E1_HelloSequence");
        az_entity_set_str(e, a, "Version", "");
        az_entity_set_str(e, a, "Input", "\"Tokyo\"");
        az_entity_set_str(e, a, "Tags", "null");
    } else if (strcmp(type, "TaskCompleted") == 0) {
        az_entity_set_i32(e, a, "TaskScheduledId", i / 2 - 1);
        az_entity_set_str(e, a, "Result", "\"Hello\"");
    } else if (strcmp(type, "ExecutionCompleted") == 0) {
        az_entity_set_str(e, a, "OrchestrationStatus", "Completed");
        az_entity_set_str(e, a, "Result", "[\"Hello\"]");
        az_entity_set_str(e, a, "FailureDetails", "null");
    }
    (void) id;
}

size_t hub_rows_history(dg_arena *a, const char *id, int events, az_entity **out)
{
    const char *pk = hub_key_escape(a, id, strlen(id));
    dg_ticks t0 = iso("2024-05-01T10:00:00.1234567Z");
    size_t total = (size_t) events + 1; /* the sentinel last */
    az_entity *rows = dg_arena_alloc(a, total * sizeof *rows);
    for (size_t i = 0; i < total; i++) {
        if (i < (size_t) events) {
            az_entity_init(&rows[i], a, pk, dg_arena_printf(a, "%016X", (unsigned) i));
            history_event(&rows[i], a, id, (int) i, events, t0);
        } else {
            az_entity_init(&rows[i], a, pk, "sentinel");
            az_entity_set_str(&rows[i], a, "ExecutionId", EXECUTION_ID);
            az_entity_set_bool(&rows[i], a, "IsCheckpointComplete", true);
            az_entity_set_datetime(&rows[i], a, "CheckpointCompletedTimestamp", t0 + 10 * DG_TICKS_PER_SEC);
        }
    }
    *out = rows;
    return total;
}
