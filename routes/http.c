#include "routes/http.h"

#include <cjson/cJSON.h>
#include <string.h>
#include <strings.h>

const char *rt_header(const rt_request *rq, const char *name)
{
    for (size_t i = 0; i < rq->nheaders; i++)
        if (strcasecmp(rq->headers[i].name, name) == 0)
            return rq->headers[i].value;
    return NULL;
}

void rt_set_header(rt_response *rs, dg_arena *a, const char *name, const char *value)
{
    if (rs->nheaders < RT_MAX_RESPONSE_HEADERS)
        rs->headers[rs->nheaders++] = (struct rt_param){dg_arena_strdup(a, name), dg_arena_strdup(a, value)};
}

void rt_set_json(rt_response *rs, dg_arena *a, int status, const char *json)
{
    rs->status = status;
    rs->content_type = "application/json; charset=utf-8";
    rs->body = dg_arena_strdup(a, json);
    rs->body_len = strlen(rs->body);
}

void rt_set_message(rt_response *rs, dg_arena *a, int status, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Message", message);
    char *txt = cJSON_PrintUnformatted(o);
    rt_set_json(rs, a, status, txt);
    cJSON_free(txt);
    cJSON_Delete(o);
}

void rt_set_string(rt_response *rs, dg_arena *a, int status, const char *text)
{
    cJSON *s = cJSON_CreateString(text);
    char *txt = cJSON_PrintUnformatted(s);
    rt_set_json(rs, a, status, txt);
    cJSON_free(txt);
    cJSON_Delete(s);
}

void rt_set_empty(rt_response *rs, int status)
{
    rs->status = status;
    rs->content_type = NULL;
    rs->body = NULL;
    rs->body_len = 0;
}
