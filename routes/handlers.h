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
/* The status object of §5.1, without historyEvents (the status route adds them). */
cJSON *rt_status_object(const struct hub_instance *in, bool show_input);
/* Prints j as the JSON body and frees it. */
void rt_set_cjson(rt_response *rs, dg_arena *a, int status, cJSON *j);

/* history.c: the raw history (taskhub/history.h) rewritten in place into the
 * historyEvents of §6.2. Scratch memory comes from a. */
void rt_history_events(dg_arena *a, cJSON *events, bool show_input, bool show_output);

void rt_get_status(const rt_ctx *c, rt_response *rs);

#endif
