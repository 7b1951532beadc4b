#include "tests/support/hub_seed.h"

#include "base/time.h"
#include "storage/blob.h"
#include "storage/odata.h"
#include "storage/table.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"

#include <criterion/criterion.h>
#include <string.h>

#define EXECUTION_ID "0123456789abcdef0123456789abcdef"

static dg_ticks iso(const char *s)
{
    dg_ticks t;
    cr_assert_eq(dg_iso_parse(s, strlen(s), &t), DG_OK, "bad time %s", s);
    return t;
}

void seed_instance(az_client *c, dg_arena *a, const char *hub, const struct seed_instance *in)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity e;
    az_entity_init(&e, a, hub_key_escape(a, in->id, strlen(in->id)), "");
    az_entity_set_str(&e, a, "Name", in->name ? in->name : "E1_HelloSequence");
    az_entity_set_str(&e, a, "Version", "");
    if (in->input)
        az_entity_set_str(&e, a, "Input", in->input);
    if (in->output)
        az_entity_set_str(&e, a, "Output", in->output);
    az_entity_set_str(&e, a, "CustomStatus", "null");
    az_entity_set_str(&e, a, "RuntimeStatus", in->status);
    dg_ticks t = iso(in->created ? in->created : "2024-05-01T10:00:00.1234567Z");
    az_entity_set_datetime(&e, a, "CreatedTime", t);
    az_entity_set_datetime(&e, a, "LastUpdatedTime", t + 3 * DG_TICKS_PER_SEC);
    if (strcmp(in->status, "Completed") == 0 || strcmp(in->status, "Failed") == 0 ||
        strcmp(in->status, "Terminated") == 0)
        az_entity_set_datetime(&e, a, "CompletedTime", t + 3 * DG_TICKS_PER_SEC);
    az_entity_set_str(&e, a, "ExecutionId", EXECUTION_ID);
    az_entity_set_i32(&e, a, "Generation", 0);
    az_entity_set_str(&e, a, "Tags", "null");
    az_entity_set_str(&e, a, "TaskHubName", hub);
    cr_assert_eq(
        az_table_write(c, &x, dg_arena_printf(a, "%sInstances", hub), AZ_UPSERT_REPLACE, &e, NULL, NULL),
        DG_OK, "%s", x.st.message);
}

/* Row 0 OrchestratorStarted, row 1 ExecutionStarted, then scheduled and
 * completed tasks, the last ExecutionCompleted (§4.1, §4.5). */
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

void seed_history(az_client *c, dg_arena *a, const char *hub, const char *id, int events)
{
    az_ctx x;
    az_ctx_init(&x, a);
    const char *table = dg_arena_printf(a, "%sHistory", hub);
    cr_assert_eq(az_table_create(c, &x, table), DG_OK);
    const char *pk = hub_key_escape(a, id, strlen(id));
    dg_ticks t0 = iso("2024-05-01T10:00:00.1234567Z");
    int total = events + 1; /* the sentinel last */
    az_entity *rows = dg_arena_alloc(a, (size_t) total * sizeof *rows);
    struct az_batch_op *ops = dg_arena_alloc(a, (size_t) total * sizeof *ops);
    for (int i = 0; i < total; i++) {
        if (i < events) {
            az_entity_init(&rows[i], a, pk, dg_arena_printf(a, "%016X", (unsigned) i));
            history_event(&rows[i], a, id, i, events, t0);
        } else {
            az_entity_init(&rows[i], a, pk, "sentinel");
            az_entity_set_str(&rows[i], a, "ExecutionId", EXECUTION_ID);
            az_entity_set_bool(&rows[i], a, "IsCheckpointComplete", true);
            az_entity_set_datetime(&rows[i], a, "CheckpointCompletedTimestamp", t0 + 10 * DG_TICKS_PER_SEC);
        }
        ops[i] = (struct az_batch_op){AZ_BATCH_UPSERT_REPLACE, &rows[i], NULL};
    }
    for (int at = 0; at < total; at += AZ_BATCH_MAX) {
        int k = total - at < AZ_BATCH_MAX ? total - at : AZ_BATCH_MAX;
        struct az_batch_result res;
        cr_assert_eq(az_table_batch(c, &x, table, ops + at, (size_t) k, &res), DG_OK, "%s %s", x.st.code,
                     x.st.message);
    }
}

void seed_blob(az_client *c, dg_arena *a, const char *hub, const char *name, const char *text)
{
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(hub_large_put(c, &x, hub, name, text, strlen(text)), DG_OK, "%s", x.st.message);
}

size_t count_history(az_client *c, dg_arena *a, const char *hub, const char *id)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_filter f;
    az_filter_init(&f);
    az_filter_cmp_str(&f, "PartitionKey", AZ_EQ, hub_key_escape(a, id, strlen(id)));
    struct az_query q = {.filter = dg_arena_strdup(a, az_filter_str(&f)), .select = "PartitionKey,RowKey"};
    az_filter_free(&f);
    size_t n = 0;
    do {
        struct az_page pg;
        dg_err rc = az_table_query(c, &x, dg_arena_printf(a, "%sHistory", hub), &q, &pg);
        if (rc == DG_ENOTFOUND)
            return 0;
        cr_assert_eq(rc, DG_OK, "%s", x.st.message);
        n += pg.n;
        q.next_pk = pg.next_pk;
        q.next_rk = pg.next_rk;
    } while (q.next_pk);
    return n;
}

bool instance_exists(az_client *c, dg_arena *a, const char *hub, const char *id)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity e;
    dg_err rc = az_table_get(c, &x, dg_arena_printf(a, "%sInstances", hub), hub_key_escape(a, id, strlen(id)),
                             "", "PartitionKey", &e);
    cr_assert(rc == DG_OK || rc == DG_ENOTFOUND, "%s", x.st.message);
    return rc == DG_OK;
}

size_t count_blobs(az_client *c, dg_arena *a, const char *hub, const char *prefix)
{
    az_ctx x;
    az_ctx_init(&x, a);
    const char *marker = NULL;
    size_t total = 0;
    do {
        struct az_blob_item *items;
        size_t n;
        dg_err rc = az_blob_list(c, &x, hub_large_container(a, hub), prefix, marker, 0, &items, &n, &marker);
        if (rc == DG_ENOTFOUND)
            return 0;
        cr_assert_eq(rc, DG_OK, "%s", x.st.message);
        total += n;
    } while (marker);
    return total;
}
