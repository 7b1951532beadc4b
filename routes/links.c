/* Generated management links and the check-status response (docs/http-api.md §5.2). */
#include "base/buf.h"
#include "base/url.h"
#include "routes/handlers.h"

#include <string.h>

#define PUBLIC_BASE "/runtime/webhooks/durabletask"

/* The id goes in one path segment, every reserved byte %XX-encoded. A space is
 * %20, not the '+' of WebUtility.UrlEncode: the router keeps a '+' in a path
 * as a '+', so ids holding either character round-trip. */
static const char *enc(dg_arena *a, const char *s)
{
    return dg_url_encode_a(a, s, strlen(s), NULL);
}

static const char *link(const rt_ctx *c, const char *id, const char *tail, bool reason)
{
    dg_arena *a = c->rq->arena;
    const char *code = c->key && *c->key ? dg_arena_printf(a, "&code=%s", enc(a, c->key)) : "";
    return dg_arena_printf(a, "%s" PUBLIC_BASE "/instances/%s%s?%staskHub=%s&connection=%s%s", c->origin,
                           enc(a, id), tail, reason ? "reason={text}&" : "", enc(a, c->hub),
                           enc(a, c->connection), code);
}

cJSON *rt_check_status_body(const rt_ctx *c, const char *id)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "statusQueryGetUri", link(c, id, "", false));
    cJSON_AddStringToObject(o, "sendEventPostUri", link(c, id, "/raiseEvent/{eventName}", false));
    cJSON_AddStringToObject(o, "terminatePostUri", link(c, id, "/terminate", true));
    cJSON_AddStringToObject(o, "purgeHistoryDeleteUri", link(c, id, "", false));
    cJSON_AddStringToObject(o, "restartPostUri", link(c, id, "/restart", false));
    cJSON_AddStringToObject(o, "suspendPostUri", link(c, id, "/suspend", true));
    cJSON_AddStringToObject(o, "resumePostUri", link(c, id, "/resume", true));
    return o;
}

void rt_set_check_status(const rt_ctx *c, rt_response *rs, const char *id)
{
    dg_arena *a = c->rq->arena;
    rt_set_header(rs, a, "Location", link(c, id, "", false));
    rt_set_header(rs, a, "Retry-After", "10");
    rt_set_cjson(rs, a, 202, rt_check_status_body(c, id));
}
