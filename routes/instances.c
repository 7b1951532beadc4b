/* Instance routes: status (http-api.md §4.3), with history (§6) on request. */
#include "routes/handlers.h"
#include "taskhub/history.h"
#include "taskhub/instance.h"

#include <string.h>

/* Adds historyEvents to the status object o: only with showHistory, never for
 * a Pending instance (the host does not read its history), and absent, not
 * empty, when no event is left to show. */
static dg_err add_history(const rt_ctx *c, az_ctx *x, const char *hub, const struct hub_instance *in,
                          bool show_input, cJSON *o)
{
    if (!rt_query_bool(c, "showHistory", false) ||
        (in->runtime_status && strcmp(in->runtime_status, "Pending") == 0))
        return DG_OK;
    cJSON *events;
    dg_err rc = hub_history_get(c->env->storage, x, hub, in->id, &events);
    if (rc)
        return rc;
    rt_history_events(x->arena, events, show_input, rt_query_bool(c, "showHistoryOutput", false));
    /* The array belongs to the arena: the status object only refers to it. */
    if (cJSON_GetArraySize(events) > 0)
        cJSON_AddItemReferenceToObject(o, "historyEvents", events);
    return DG_OK;
}

void rt_get_status(const rt_ctx *c, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    const char *hub = rt_hub(c);
    if (!hub_name_ok(hub)) {
        rt_set_message(rs, a, 400, "The task hub name is not valid.");
        return;
    }
    az_ctx x;
    az_ctx_init(&x, a);
    x.reqid = c->rq->reqid;
    struct hub_instance in;
    bool show_input = rt_query_bool(c, "showInput", true);
    dg_err rc = hub_instance_get(c->env->storage, &x, hub, c->seg[1],
                                 HUB_GET_OUTPUT | (show_input ? HUB_GET_INPUT : 0), &in);
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    cJSON *o = rt_status_object(&in, show_input);
    rc = add_history(c, &x, hub, &in, show_input, o);
    if (rc) {
        cJSON_Delete(o);
        if (rc == DG_ETOOBIG)
            rt_set_message(rs, a, 500,
                           dg_arena_printf(a,
                                           "The history of this instance is larger than the gateway returns "
                                           "(%d rows or %u MiB); ask for the status without showHistory.",
                                           HUB_HISTORY_MAX_ROWS, HUB_HISTORY_MAX_BYTES >> 20));
        else
            rt_storage_error(c, rs, rc);
        return;
    }
    const char *s = in.runtime_status;
    int status;
    if (hub_status_active(s))
        status = 202;
    else if (s && strcmp(s, "Failed") == 0)
        status = rt_query_bool(c, "returnInternalServerErrorOnFailure", false) ? 500 : 200;
    else if (hub_status_terminal(s))
        status = 200;
    else
        status = 500; /* a status this gateway does not know */
    rt_set_cjson(rs, a, status, o);
    if (status == 202) {
        rt_set_header(rs, a, "Location", c->rq->url);
        rt_set_header(rs, a, "Retry-After", "5");
    }
}
