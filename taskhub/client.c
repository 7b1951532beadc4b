#include "taskhub/client.h"

#include "base/rand.h"
#include "storage/table.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"
#include "taskhub/message.h"

#include <stdio.h>
#include <string.h>

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* An input too big for a table column but small enough for a queue message:
 * the provider's client leaves Input "" with an InputBlobName nobody reads
 * until the first checkpoint; the gateway stores the blob's URL instead, which
 * every reader follows (docs/storage-layout.md §7.2). */
static dg_err row_input(struct hub *h, az_ctx *x, const char *id, const char *input,
                        const struct hub_sent *sent, const char **value)
{
    *value = input;
    if (sent->blob_url) {
        *value = sent->blob_url;
        return DG_OK;
    }
    if (!input || hub_utf16_units(input, strlen(input)) <= HUB_MAX_TABLE_UNITS)
        return DG_OK;
    unsigned char r[4];
    dg_random_bytes(r, sizeof r);
    const char *name = dg_arena_printf(x->arena, "%s/history--Input-%02X%02X%02X%02X-Input.json.gz",
                                       hub_key_escape(x->arena, id, strlen(id)), r[0], r[1], r[2], r[3]);
    dg_err rc = hub_large_put(h->c, x, h->name, name, input, strlen(input));
    if (!rc)
        *value = hub_large_url(h->c, x->arena, h->name, name);
    return rc;
}

/* The ExecutionStarted event's own members, in the order the provider writes them. */
static cJSON *started_fields(const struct hub_start *req, const struct hub_started *out)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddItemToObject(f, "OrchestrationInstance",
                          hub_orchestration_instance(req->instance_id, out->execution_id));
    cJSON_AddNullToObject(f, "ParentInstance");
    cJSON_AddStringToObject(f, "Name", req->name);
    cJSON_AddStringToObject(f, "Version", req->version ? req->version : "");
    cJSON_AddItemToObject(f, "Input", str_or_null(req->input));
    cJSON_AddNullToObject(f, "Tags");
    cJSON_AddNullToObject(f, "Correlation");
    cJSON_AddNullToObject(f, "ParentTraceContext");
    cJSON_AddNullToObject(f, "ScheduledStartTime");
    cJSON_AddNumberToObject(f, "Generation", out->generation);
    cJSON_AddFalseToObject(f, "GenerateNewTrace");
    return f;
}

dg_err hub_start_instance(struct hub *h, az_ctx *x, const struct hub_start *req, struct hub_started *out)
{
    memset(out, 0, sizeof *out);
    dg_arena *a = x->arena;
    const char *table = hub_table(h, a, "Instances");
    const char *pk = hub_key_escape(a, req->instance_id, strlen(req->instance_id));
    struct hub_instance old;
    bool had_row = false;
    /* Read even when the hub looks new: its Instances table may exist anyway.
     * A generated id has no row: a start is then two storage calls, not three. */
    dg_err rc = req->fresh_id ? DG_ENOTFOUND : hub_instance_get(h->c, x, h->name, req->instance_id, 0, &old);
    if (rc == DG_OK)
        had_row = true;
    else if (rc != DG_ENOTFOUND)
        return rc;
    if (had_row && !req->overwrite_active && hub_status_active(old.runtime_status)) {
        out->existing_status = old.runtime_status;
        return DG_ECONFLICT;
    }
    if ((rc = hub_ensure(h, x)) != DG_OK)
        return rc;
    out->generation = had_row ? old.generation + 1 : 0;
    dg_uuid4_n(out->execution_id);

    /* The message first: a row without its message would show an instance
     * nothing will ever run, while a message without its row is dropped by the
     * worker after a few dequeues (§8.1). */
    struct hub_sent sent;
    rc = hub_send_event(h, x, req->instance_id, out->execution_id, HUB_EV_EXECUTION_STARTED,
                        started_fields(req, out), 0, &sent);
    if (rc == DG_ENOTFOUND) {
        /* The queues are gone: the hub was deleted since it was cached. Make it again. */
        hub_cache_forget(h->c, h->name);
        struct hub fresh;
        rc = hub_open(h->c, x, h->name, h->partitions, &fresh);
        if (!rc) {
            *h = fresh;
            rc = hub_ensure(h, x);
        }
        if (!rc)
            rc = hub_send_event(h, x, req->instance_id, out->execution_id, HUB_EV_EXECUTION_STARTED,
                                started_fields(req, out), 0, &sent);
    }
    if (rc)
        return rc;

    const char *input;
    if ((rc = row_input(h, x, req->instance_id, req->input, &sent, &input)) != DG_OK)
        return rc;
    az_entity e;
    az_entity_init(&e, a, pk, "");
    if (input)
        az_entity_set_str(&e, a, "Input", input);
    az_entity_set_datetime(&e, a, "CreatedTime", sent.timestamp);
    az_entity_set_str(&e, a, "Name", req->name);
    az_entity_set_str(&e, a, "Version", req->version ? req->version : "");
    az_entity_set_str(&e, a, "RuntimeStatus", "Pending");
    az_entity_set_datetime(&e, a, "LastUpdatedTime", dg_now_ticks());
    az_entity_set_str(&e, a, "TaskHubName", h->name);
    az_entity_set_str(&e, a, "ExecutionId", out->execution_id);
    az_entity_set_i32(&e, a, "Generation", out->generation);
    az_entity_set_str(&e, a, "CustomStatus", "null");
    az_entity_set_str(&e, a, "Tags", "null");
    rc = had_row ? az_table_write(h->c, x, table, AZ_REPLACE, &e, old.etag, NULL)
                 : az_table_write(h->c, x, table, AZ_INSERT, &e, NULL, NULL);
    /* A concurrent creator won the row: its start stands, as in the provider.
     * The same answer comes when the storage client retried this very write
     * after its answer was lost and met its own first attempt: done, not a
     * duplicate. A duplicate (409 to the caller) is only ever the row read
     * above, with out->existing_status set. */
    if (rc == DG_ECONFLICT || rc == DG_EPRECOND)
        rc = DG_OK;
    return rc;
}

static dg_err send_simple(struct hub *h, az_ctx *x, const char *id, enum hub_event_type t, const char *member,
                          const char *value)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddItemToObject(f, member, str_or_null(value));
    struct hub_sent sent;
    return hub_send_event(h, x, id, NULL, t, f, 0, &sent);
}

dg_err hub_raise_event(struct hub *h, az_ctx *x, const char *id, const char *event_name,
                       const char *input_json)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "Name", event_name);
    cJSON_AddItemToObject(f, "Input", str_or_null(input_json));
    cJSON_AddNullToObject(f, "ParentTraceContext");
    struct hub_sent sent;
    return hub_send_event(h, x, id, NULL, HUB_EV_EVENT_RAISED, f, 0, &sent);
}

dg_err hub_terminate(struct hub *h, az_ctx *x, const char *id, const char *reason)
{
    return send_simple(h, x, id, HUB_EV_EXECUTION_TERMINATED, "Input", reason);
}

dg_err hub_suspend(struct hub *h, az_ctx *x, const char *id, const char *reason)
{
    return send_simple(h, x, id, HUB_EV_EXECUTION_SUSPENDED, "Reason", reason);
}

dg_err hub_resume(struct hub *h, az_ctx *x, const char *id, const char *reason)
{
    return send_simple(h, x, id, HUB_EV_EXECUTION_RESUMED, "Reason", reason);
}
