#include "routes/http.h"

#include "base/json.h"
#include "base/mem.h"
#include "base/url.h"

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdlib.h>
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
    /* The last line of defence: the values are URLs, numbers and base64url
     * tokens, so a control byte can only be request text that slipped through;
     * percent-encoded, it cannot end the header. */
    for (const char *p = value; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7F) {
            value = dg_url_escape_raw(a, value);
            break;
        }
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

struct rt_shared *rt_shared_new(const char *p, size_t n)
{
    struct rt_shared *sh = dg_xmalloc(sizeof *sh + n + 1);
    atomic_init(&sh->refs, 1);
    sh->n = n;
    memcpy(sh->data, p, n);
    sh->data[n] = '\0';
    return sh;
}

void rt_shared_ref(struct rt_shared *sh)
{
    atomic_fetch_add(&sh->refs, 1);
}

void rt_shared_unref(struct rt_shared *sh)
{
    if (sh && atomic_fetch_sub(&sh->refs, 1) == 1)
        free(sh);
}

void rt_set_json_shared(rt_response *rs, int status, struct rt_shared *sh)
{
    rt_shared_ref(sh);
    rs->status = status;
    rs->content_type = "application/json; charset=utf-8";
    rs->body = sh->data;
    rs->body_len = sh->n;
    rs->shared = sh;
}

void rt_set_message(rt_response *rs, dg_arena *a, int status, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Message", message);
    char *txt = dg_json_print(o);
    rt_set_json(rs, a, status, txt);
    cJSON_free(txt);
    cJSON_Delete(o);
}

void rt_set_error(rt_response *rs, dg_arena *a, int status, const char *message,
                  const char *exception_message, const char *exception_type)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Message", message);
    cJSON_AddStringToObject(o, "ExceptionMessage", exception_message ? exception_message : message);
    cJSON_AddStringToObject(o, "ExceptionType", exception_type ? exception_type : "System.ArgumentException");
    cJSON_AddNullToObject(o, "StackTrace");
    char *txt = dg_json_print(o);
    rt_set_json(rs, a, status, txt);
    cJSON_free(txt);
    cJSON_Delete(o);
}

void rt_set_string(rt_response *rs, dg_arena *a, int status, const char *text)
{
    cJSON *o = cJSON_CreateString(text);
    char *txt = dg_json_print(o);
    rt_set_json(rs, a, status, txt);
    cJSON_free(txt);
    cJSON_Delete(o);
}

void rt_set_empty(rt_response *rs, int status)
{
    rs->status = status;
    rs->content_type = NULL;
    rs->body = NULL;
    rs->body_len = 0;
}
