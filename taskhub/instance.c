#include "taskhub/instance.h"

#include "storage/table.h"
#include "taskhub/hub.h"
#include "taskhub/largemsg.h"
#include "taskhub/keys.h"

#include <string.h>

bool hub_name_ok(const char *hub)
{
    /* A table name (letters and digits, a letter first, 3 or more) of at
     * most 45 characters, the provider's limit (docs/storage-layout.md §1.1). */
    return hub && strlen(hub) <= 45 && az_table_name_ok(hub);
}

bool hub_status_terminal(const char *s)
{
    return s && (strcmp(s, "Completed") == 0 || strcmp(s, "Failed") == 0 || strcmp(s, "Terminated") == 0 ||
                 strcmp(s, "Canceled") == 0);
}

bool hub_status_active(const char *s)
{
    return s && (strcmp(s, "Pending") == 0 || strcmp(s, "Running") == 0 || strcmp(s, "ContinuedAsNew") == 0 ||
                 strcmp(s, "Suspended") == 0);
}

/* docs/storage-layout.md §10.2; the index is the number. */
static const char *const statuses[] = {"Running",  "Completed",  "ContinuedAsNew", "Failed",
                                       "Canceled", "Terminated", "Pending",        "Suspended"};
#define N_STATUSES ((int) (sizeof statuses / sizeof *statuses))

const char *hub_orchestration_status_name(int status)
{
    return status >= 0 && status < N_STATUSES ? statuses[status] : NULL;
}

int hub_orchestration_status_parse(const char *name)
{
    for (int i = 0; name && i < N_STATUSES; i++)
        if (strcmp(statuses[i], name) == 0)
            return i;
    return -1;
}

const char *hub_status_parse(const char *s, size_t n)
{
    if (n == 1 && s[0] >= '0' && s[0] < '0' + N_STATUSES)
        return statuses[s[0] - '0'];
    for (int i = 0; i < N_STATUSES; i++)
        if (strlen(statuses[i]) == n && memcmp(statuses[i], s, n) == 0)
            return statuses[i];
    return NULL;
}

dg_err hub_instance_from_entity(dg_arena *a, const az_entity *e, struct hub_instance *out)
{
    memset(out, 0, sizeof *out);
    char *id;
    if (hub_key_unescape(a, e->pk, strlen(e->pk), &id))
        return DG_EBADRESP;
    out->id = id;
    out->name = az_entity_str(e, "Name");
    out->version = az_entity_str(e, "Version");
    out->input = az_entity_str(e, "Input");
    out->output = az_entity_str(e, "Output");
    out->custom_status = az_entity_str(e, "CustomStatus");
    out->runtime_status = az_entity_str(e, "RuntimeStatus");
    out->execution_id = az_entity_str(e, "ExecutionId");
    out->created = az_entity_datetime(e, "CreatedTime", 0);
    out->last_updated = az_entity_datetime(e, "LastUpdatedTime", 0);
    out->completed = az_entity_datetime(e, "CompletedTime", 0);
    out->generation = (int) az_entity_int(e, "Generation", 0);
    out->etag = e->etag;
    return DG_OK;
}

dg_err hub_instance_get(az_client *c, az_ctx *x, const char *hub, const char *id, unsigned flags,
                        struct hub_instance *out)
{
    memset(out, 0, sizeof *out);
    if (!hub_name_ok(hub))
        return DG_EINVAL;
    const char *table = hub_table_name(x->arena, hub, "Instances");
    const char *pk = hub_key_escape(x->arena, id, strlen(id));
    const char *select =
        dg_arena_printf(x->arena, "%s%s%s", HUB_INSTANCE_COLUMNS_NO_IO, flags & HUB_GET_INPUT ? ",Input" : "",
                        flags & HUB_GET_OUTPUT ? ",Output" : "");
    az_entity e;
    dg_err rc = az_table_get(c, x, table, pk, "", select, &e);
    if (rc)
        return rc;
    if ((rc = hub_instance_from_entity(x->arena, &e, out)) != DG_OK)
        return rc;
    out->id = dg_arena_strdup(x->arena, id); /* exactly as asked, even for an id no writer escaped */
    if ((flags & HUB_GET_INPUT) && (rc = hub_large_resolve(c, x, hub, out->input, &out->input)) != DG_OK)
        return rc;
    if ((flags & HUB_GET_OUTPUT) && (rc = hub_large_resolve(c, x, hub, out->output, &out->output)) != DG_OK)
        return rc;
    return DG_OK;
}

dg_err hub_instance_status(az_client *c, az_ctx *x, const char *hub, const char *id, const char **status)
{
    *status = NULL;
    if (!hub_name_ok(hub))
        return DG_EINVAL;
    az_entity e;
    dg_err rc = az_table_get(c, x, hub_table_name(x->arena, hub, "Instances"),
                             hub_key_escape(x->arena, id, strlen(id)), "", "RuntimeStatus", &e);
    if (rc == DG_ENOTFOUND)
        return DG_OK;
    if (!rc)
        *status = az_entity_str(&e, "RuntimeStatus");
    return rc;
}
