/* Instance routes: status (http-api.md §4.3). */
#include "base/time.h"
#include "routes/handlers.h"
#include "taskhub/instance.h"

#include <cjson/cJSON.h>
#include <string.h>

/* How stored text becomes input/output/customStatus (http-api.md §5.1):
 * NULL -> null, blank -> "", JSON -> the value, anything else -> a string. */
static cJSON *stored_value(const char *s)
{
    if (!s)
        return cJSON_CreateNull();
    size_t i = 0;
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
        i++;
    if (!s[i])
        return cJSON_CreateString("");
    cJSON *v = cJSON_Parse(s);
    return v ? v : cJSON_CreateString(s);
}

/* yyyy-MM-ddTHH:mm:ssZ: whole seconds, literal Z. */
static void status_time(cJSON *o, const char *name, dg_ticks t)
{
    char iso[DG_ISO_LEN];
    dg_iso_format(t ? t : DG_TICKS_MIN, iso);
    memcpy(iso + 19, "Z", 2);
    cJSON_AddStringToObject(o, name, iso);
}

static cJSON *status_object(const struct hub_instance *in, bool show_input)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "name", in->name ? cJSON_CreateString(in->name) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "instanceId", in->id);
    cJSON_AddStringToObject(o, "runtimeStatus", in->runtime_status ? in->runtime_status : "Unknown");
    cJSON_AddItemToObject(o, "input", show_input ? stored_value(in->input) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "customStatus", stored_value(in->custom_status));
    cJSON_AddItemToObject(o, "output", stored_value(in->output));
    status_time(o, "createdTime", in->created);
    status_time(o, "lastUpdatedTime", in->last_updated);
    return o;
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
    dg_err rc = hub_instance_get(c->env->storage, &x, hub, c->seg[1], &in);
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    cJSON *o = status_object(&in, rt_query_bool(c, "showInput", true));
    char *txt = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
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
    rt_set_json(rs, a, status, txt);
    cJSON_free(txt);
    if (status == 202) {
        rt_set_header(rs, a, "Location", c->rq->url);
        rt_set_header(rs, a, "Retry-After", "5");
    }
}
