/* GET instances: list and query (docs/http-api.md §4.4) over one OData query per
 * service page (docs/storage-layout.md §8.5). */
#include "base/time.h"
#include "routes/handlers.h"
#include "taskhub/query.h"

#define LIST_TOP_DEFAULT 100
#define LIST_TOP_MAX     1000
/* The service may answer a page with no rows and a continuation; one request
 * keeps following them for about this long before it answers. */
#define LIST_EMPTY_PAGES_MS 100

void rt_list_instances(const rt_ctx *c, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    const char *hub = c->hub; /* validated by the router */
    const char *pk, *rk;
    if (rt_token_decode(a, rt_header(c->rq, RT_TOKEN_HEADER), &pk, &rk) != DG_OK) {
        rt_set_message(rs, a, 400, "The continuation token is not valid.");
        return;
    }
    struct hub_query q = {0};
    q.has_from = rt_param_time(c, "createdTimeFrom", &q.created_from);
    q.has_to = rt_param_time(c, "createdTimeTo", &q.created_to);
    const char *bad;
    if (!rt_param_statuses(c, &q.statuses, &q.nstatuses, &bad)) {
        rt_set_argument_error(c, rs, dg_arena_printf(a, "'%s' is not a runtime status.", bad));
        return;
    }
    q.nnames = rt_param_list(c, "name", &q.names); /* a gateway extension */
    q.id_prefix = rt_query(c, "instanceIdPrefix");
    bool show_input = rt_query_bool(c, "showInput", true);
    int top = LIST_TOP_DEFAULT;
    enum rt_param_result tr = rt_param_int(c, "top", &top);
    if (tr == RT_PARAM_BAD) {
        rt_set_argument_error(c, rs, "The 'top' parameter must be a decimal integer.");
        return;
    }
    if (tr == RT_PARAM_OK)
        top = top < 1 ? 1 : top > LIST_TOP_MAX ? LIST_TOP_MAX : top;

    cJSON *arr = cJSON_CreateArray();
    int64_t until = dg_mono_ms() + LIST_EMPTY_PAGES_MS;
    bool first = true;
    dg_err rc;
    for (;;) {
        az_ctx x;
        az_ctx_init(&x, a);
        x.reqid = c->rq->reqid;
        struct hub_instance_page pg;
        rc = hub_query_instances(c->storage, &x, hub, &q, HUB_GET_OUTPUT | (show_input ? HUB_GET_INPUT : 0),
                                 top, pk, rk, &pg);
        if (rc == DG_ESTORAGE && first && pk) {
            /* The service refused the keys of a token that decoded well. */
            cJSON_Delete(arr);
            rt_set_message(rs, a, 400, "The continuation token is not valid.");
            return;
        }
        if (rc == DG_ENOTFOUND || rc == DG_ETOOBIG) {
            /* No Instances table (or it went away), or a prefix longer than
             * any key: no (more) instances. */
            rc = DG_OK;
            pk = rk = NULL;
            break;
        }
        if (rc)
            break;
        for (size_t i = 0; i < pg.n; i++)
            cJSON_AddItemToArray(arr, rt_status_object(&pg.items[i], show_input));
        pk = pg.next_pk;
        rk = pg.next_rk;
        first = false;
        if (pg.n > 0 || !pk || dg_mono_ms() >= until)
            break;
    }
    if (rc) {
        cJSON_Delete(arr);
        rt_storage_error(c, rs, rc);
        return;
    }
    rt_set_cjson(rs, a, 200, arr);
    /* Always sent; empty on the last page (docs/http-api.md §7.1), never a token that repeats. */
    rt_set_header(rs, a, RT_TOKEN_HEADER, rt_token_encode(a, pk, rk));
}
