/* Instance routes: status (http-api.md §4.3). */
#include "routes/handlers.h"
#include "taskhub/instance.h"

#include <string.h>

void rt_get_status(const rt_ctx *c, rt_response *rs)
{
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub_instance in;
    bool show_input = rt_query_bool(c, "showInput", true);
    dg_err rc = hub_instance_get(c->storage, &x, c->hub, c->seg[1],
                                 HUB_GET_OUTPUT | (show_input ? HUB_GET_INPUT : 0), &in);
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    rt_status_answer(c, &in, rs);
}

void rt_status_answer(const rt_ctx *c, const struct hub_instance *in, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    cJSON *o = rt_status_object(in, rt_query_bool(c, "showInput", true));
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
