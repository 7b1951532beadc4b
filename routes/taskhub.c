/* DELETE taskhub: deletes the request's task hub, everything in it
 * (docs/storage-layout.md §1.3; taskhub/hub.c does the work). Not a route of the
 * host: a gateway extension, so that `durable delete-task-hub --gateway`
 * does through the gateway what it does straight to storage. 200 with the
 * names of what was deleted, 404 when the hub had nothing to delete. */
#include "routes/handlers.h"
#include "taskhub/hub.h"

void rt_delete_hub(const rt_ctx *c, rt_response *rs)
{
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub_deleted d;
    dg_err rc = hub_delete(c->storage, &x, c->hub, &d);
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    if (d.n == 0) {
        rt_set_empty(rs, 404);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "taskHub", c->hub);
    cJSON *names = cJSON_AddArrayToObject(o, "deleted");
    for (size_t i = 0; i < d.n; i++)
        cJSON_AddItemToArray(names, cJSON_CreateString(d.names[i]));
    rt_set_cjson(rs, c->rq->arena, 200, o);
}
