/* Instance routes: status (docs/http-api.md §4.3), with history (§6) on request. */
#include "routes/handlers.h"
#include "routes/status_read.h"
#include "taskhub/history.h"
#include "taskhub/instance.h"

#include <string.h>

/* The instance's history events for the answer (docs/http-api.md §6): only with
 * showHistory, never for a Pending instance (the host does not read its
 * history), and NULL rather than empty when no event is left to show. The
 * array belongs to x's arena. */
static dg_err history_events(const rt_ctx *c, az_ctx *x, const struct hub_instance *in, bool show_input,
                             cJSON **out)
{
    *out = NULL;
    if (!rt_query_bool(c, "showHistory", false) ||
        (in->runtime_status && strcmp(in->runtime_status, "Pending") == 0))
        return DG_OK;
    cJSON *events;
    dg_err rc = hub_history_get(c->storage, x, c->hub, in->id, &events);
    if (rc)
        return rc;
    rt_history_events(x->arena, events, show_input, rt_query_bool(c, "showHistoryOutput", false));
    if (cJSON_GetArraySize(events) > 0)
        *out = events;
    return DG_OK;
}

static void answer(const rt_ctx *c, const struct hub_instance *in, cJSON *events, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    cJSON *o = rt_status_object(in, rt_query_bool(c, "showInput", true));
    if (events)
        cJSON_AddItemReferenceToObject(o, "historyEvents", events);
    const char *s = in->runtime_status;
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
        rt_set_header(rs, a, "Location", c->url);
        rt_set_header(rs, a, "Retry-After", "5");
    }
}

void rt_get_status(const rt_ctx *c, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub_instance in;
    bool show_input = rt_query_bool(c, "showInput", true);
    dg_err rc = rt_status_read(c->storage, &x, c->hub, c->seg[1],
                               HUB_GET_OUTPUT | (show_input ? HUB_GET_INPUT : 0), &in);
    cJSON *events = NULL;
    if (!rc)
        rc = history_events(c, &x, &in, show_input, &events);
    if (rc == DG_ETOOBIG) {
        rt_set_message(rs, a, 500,
                       dg_arena_printf(a,
                                       "The history of this instance is larger than the gateway returns "
                                       "(%d rows or %u MiB); ask for the status without showHistory.",
                                       HUB_HISTORY_MAX_ROWS, HUB_HISTORY_MAX_BYTES >> 20));
        return;
    }
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    answer(c, &in, events, rs);
}

void rt_status_answer(const rt_ctx *c, const struct hub_instance *in, rt_response *rs)
{
    answer(c, in, NULL, rs);
}
