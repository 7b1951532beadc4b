/* Private to routes/: one function per route, listed in router.c's table. */
#ifndef RT_HANDLERS_H
#define RT_HANDLERS_H

#include "routes/router.h"
#include "taskhub/instance.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* status.c: how stored text becomes input/output/customStatus (http-api.md
 * §5.1): NULL -> null, blank -> "", JSON -> the value, anything else -> a string. */
cJSON *rt_stored_value(const char *s);
/* The status object of §5.1, without historyEvents. */
cJSON *rt_status_object(const struct hub_instance *in, bool show_input);
/* Prints j as the JSON body and frees it. */
void rt_set_cjson(rt_response *rs, dg_arena *a, int status, cJSON *j);

/* links.c: the check-status body of §5.2 for an instance id, and the whole
 * 202 answer (body, Location, Retry-After: 10). */
cJSON *rt_check_status_body(const rt_ctx *c, const char *id);
void rt_set_check_status(const rt_ctx *c, rt_response *rs, const char *id);

/* json.c: request bodies. */
enum rt_body_result { RT_BODY_OK, RT_BODY_EMPTY, RT_BODY_INVALID };
/* The body as compact JSON text (whitespace dropped, numbers and strings as
 * written). RT_BODY_EMPTY for no body or only whitespace. */
enum rt_body_result rt_body_json(const rt_ctx *c, const char **json);
/* Whether the request's media type is application/json (ignoring case and parameters). */
bool rt_is_json_content(const rt_ctx *c);

/* Instance ids the host refuses at start (http-api.md §4.1): empty, a leading
 * '@', '/', '\', '?', '#', control characters, more than 256 characters, or
 * not UTF-8. NULL when fine, else the reason. */
const char *rt_instance_id_problem(const char *id);

/* Handlers, one per route row of router.c. */
void rt_get_status(const rt_ctx *c, rt_response *rs);
void rt_start(const rt_ctx *c, rt_response *rs);
void rt_restart(const rt_ctx *c, rt_response *rs);
void rt_raise_event(const rt_ctx *c, rt_response *rs);
void rt_terminate(const rt_ctx *c, rt_response *rs);
void rt_suspend(const rt_ctx *c, rt_response *rs);
void rt_resume(const rt_ctx *c, rt_response *rs);
void rt_get_entity(const rt_ctx *c, rt_response *rs);
void rt_list_entities(const rt_ctx *c, rt_response *rs);
void rt_signal_entity(const rt_ctx *c, rt_response *rs);
void rt_signal_entity_no_name(const rt_ctx *c, rt_response *rs);

#endif
