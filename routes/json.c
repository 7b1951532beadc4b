/* Request bodies and instance-id checks shared by the handlers. */
#include "base/json.h"
#include "base/utf8.h"
#include "routes/handlers.h"
#include "taskhub/largemsg.h"

#include <string.h>
#include <strings.h>

static bool utf8_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n;)
        if (dg_utf8_next((const unsigned char *) s, n, &i) < 0)
            return false;
    return true;
}

enum rt_body_result rt_body_json(const rt_ctx *c, const char **json)
{
    const rt_request *rq = c->rq;
    *json = NULL;
    size_t i = 0;
    while (i < rq->body_len && memchr(" \t\r\n", rq->body[i], 4))
        i++;
    if (i == rq->body_len)
        return RT_BODY_EMPTY;
    if (memchr(rq->body, '\0', rq->body_len) || !utf8_ok(rq->body, rq->body_len))
        return RT_BODY_INVALID;
    char *copy = dg_arena_strndup(rq->arena, rq->body, rq->body_len);
    cJSON *j = dg_json_parse(copy, rq->body_len); /* all of it, with JSON white space only around */
    if (!j)
        return RT_BODY_INVALID;
    cJSON_Delete(j);
    cJSON_Minify(copy);
    *json = copy;
    return RT_BODY_OK;
}

bool rt_is_json_content(const rt_ctx *c)
{
    const char *ct = rt_header(c->rq, "Content-Type");
    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

const char *rt_instance_id_problem(const char *id)
{
    size_t n = strlen(id);
    if (n == 0)
        return "it is empty";
    if (!utf8_ok(id, n))
        return "it is not valid UTF-8";
    if (hub_utf16_units(id, n) > 256)
        return "it is longer than 256 characters";
    if (id[0] == '@')
        return "it starts with '@', which is reserved for entities";
    for (size_t i = 0; i < n;) {
        int32_t cp = dg_utf8_next((const unsigned char *) id, n, &i);
        if (cp == '/' || cp == '\\' || cp == '?' || cp == '#')
            return "it contains one of the characters '/', '\\', '?' or '#'";
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return "it contains a control character";
    }
    return NULL;
}
