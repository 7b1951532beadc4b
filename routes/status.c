/* The instance status object (docs/http-api.md §5.1), shared by status, list and wait. */
#include "base/json.h"
#include "base/time.h"
#include "routes/handlers.h"

#include <string.h>

cJSON *rt_stored_value(const char *s)
{
    if (!s)
        return cJSON_CreateNull();
    size_t i = 0;
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
        i++;
    if (!s[i])
        return cJSON_CreateString("");
    cJSON *v = dg_json_parse(s, strlen(s)); /* the whole text, or it is a string */
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

cJSON *rt_status_object(const struct hub_instance *in, bool show_input)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "name", in->name ? cJSON_CreateString(in->name) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "instanceId", in->id);
    cJSON_AddStringToObject(o, "runtimeStatus", in->runtime_status ? in->runtime_status : "Unknown");
    cJSON_AddItemToObject(o, "input", show_input ? rt_stored_value(in->input) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "customStatus", rt_stored_value(in->custom_status));
    cJSON_AddItemToObject(o, "output", rt_stored_value(in->output));
    status_time(o, "createdTime", in->created);
    status_time(o, "lastUpdatedTime", in->last_updated);
    return o;
}

void rt_set_cjson(rt_response *rs, dg_arena *a, int status, cJSON *j)
{
    char *txt = dg_json_print(j);
    rt_set_json(rs, a, status, txt);
    cJSON_free(txt);
    cJSON_Delete(j);
}
