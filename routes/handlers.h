/* Private to routes/: one function per route, listed in router.c's table. */
#ifndef RT_HANDLERS_H
#define RT_HANDLERS_H

#include "base/time.h"
#include "routes/router.h"
#include "routes/wait.h"
#include "taskhub/instance.h"
#include "taskhub/query.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* status.c: how stored text becomes input/output/customStatus (docs/http-api.md
 * §5.1): NULL -> null, blank -> "", JSON -> the value, anything else -> a string. */
cJSON *rt_stored_value(const char *s);
/* The status object of §5.1, without historyEvents (the status route adds them). */
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
/* entities.c: the operation input of an entity signal (http-api.md §4.12):
 * NULL for no body, compact JSON for application/json, the raw text as a
 * JSON string otherwise. false after answering 400 for a JSON body that does
 * not parse. */
bool rt_signal_input(const rt_ctx *c, rt_response *rs, const char **input);
/* Whether the request's media type is application/json (ignoring case and parameters). */
bool rt_is_json_content(const rt_ctx *c);

/* Instance ids the host refuses at start (docs/http-api.md §4.1): empty, a leading
 * '@', '/', '\', '?', '#', control characters, more than 256 characters, or
 * not UTF-8. NULL when fine, else the reason. */
const char *rt_instance_id_problem(const char *id);

/* instances.c: the status answer for a row already read (codes, headers, body). */
void rt_status_answer(const rt_ctx *c, const struct hub_instance *in, rt_response *rs);

/* Handlers, one per route row of router.c. */
void rt_wait_instance(const rt_ctx *c, rt_response *rs);
void rt_start_wait(const rt_ctx *c, rt_response *rs);
/* history.c: the raw history (taskhub/history.h) rewritten in place into the
 * historyEvents of §6.2. Scratch memory comes from a. */
void rt_history_events(dg_arena *a, cJSON *events, bool show_input, bool show_output);

void rt_get_status(const rt_ctx *c, rt_response *rs);
void rt_start(const rt_ctx *c, rt_response *rs);
void rt_restart(const rt_ctx *c, rt_response *rs);
void rt_raise_event(const rt_ctx *c, rt_response *rs);
void rt_terminate(const rt_ctx *c, rt_response *rs);
void rt_suspend(const rt_ctx *c, rt_response *rs);
void rt_resume(const rt_ctx *c, rt_response *rs);
/* params.c: query parameters by the rules of docs/http-api.md §1.3. Each returns
 * false (or 0 items) when the parameter is absent or invalid, which callers
 * treat as absent (§7.2). */

/* ISO-8601 as dg_iso_parse() takes it (a fraction, Z or an offset, no zone
 * meaning UTC), and also: a date alone (midnight UTC), hours and minutes
 * without seconds, a year of 1 to 3 digits (left-padded, as EXTNEW does), an
 * offset written +HH or +HHMM, and an offset whose '+' arrived as a space
 * (an unencoded '+' in a query string decodes to one). */
/* The host ignores a time it cannot read (the filter is dropped, so a typo
 * lists or purges the whole range); the gateway answers 400 for it
 * (rt_set_argument_error), as for the numbers below. */
enum rt_param_result { RT_PARAM_ABSENT, RT_PARAM_OK, RT_PARAM_BAD };
enum rt_param_result rt_param_time(const rt_ctx *c, const char *name, dg_ticks *out);
/* A decimal integer: an optional '-' and digits, nothing else (no blanks, no
 * '+', no hex, no fraction); one past the range of int is cut to it. The host
 * ignores an invalid value (the default applies), which hid typos such as
 * top=1.5 or top=0x10; the gateway answers 400 for it (rt_set_argument_error). */
enum rt_param_result rt_param_int(const rt_ctx *c, const char *name, int *out);
/* A comma list (repeated parameters are joined already): items trimmed,
 * empty ones dropped. The items live in the request arena. */
size_t rt_param_list(const rt_ctx *c, const char *name, const char *const **out);
/* runtimeStatus: the items that name a status (hub_status_parse: exact enum
 * names or numbers), each once, in *out and *n. false when an item names no
 * status (*bad is that item): the host drops such items silently, which widens
 * the filter (a misspelt Completed lists, or purges, every status), so the
 * gateway answers 400 instead (rt_set_argument_error). */
bool rt_param_statuses(const rt_ctx *c, const char *const **out, size_t *n, const char **bad);

/* The host's catch-all argument error: 400, form B, Message "One or more of
 * the arguments submitted is incorrect", the given ExceptionMessage,
 * System.ArgumentException. */
void rt_set_argument_error(const rt_ctx *c, rt_response *rs, const char *exception_message);

/* The continuation token of list and purge answers travels in this header,
 * both ways (docs/http-api.md §4.4). Its text is the DurableTask.AzureStorage v2
 * form "<NextPartitionKey> <NextRowKey>" (one space; docs/storage-layout.md §8.5),
 * sent as base64url without padding because a header must stay header-safe
 * whatever the keys hold. */
#define RT_TOKEN_HEADER "x-ms-continuation-token"
#define RT_TOKEN_MAX    4096 /* longest token accepted, encoded */
/* "" when pk is NULL or empty (the last page). The result lives in a. */
const char *rt_token_encode(dg_arena *a, const char *pk, const char *rk);
/* The inverse, defensively: DG_OK with *pk NULL for an absent or blank token;
 * DG_EINVAL for one longer than RT_TOKEN_MAX, not base64url, not UTF-8, holding
 * a control character, or without a space after a non-empty first key. *rk is
 * NULL when the second key is empty. Both live in a. */
dg_err rt_token_decode(dg_arena *a, const char *token, const char **pk, const char **rk);

void rt_list_instances(const rt_ctx *c, rt_response *rs);
/* list.c: the list's filters (createdTimeFrom, createdTimeTo, runtimeStatus,
 * instanceIdPrefix, name) into *q; false after answering 400. */
bool rt_list_filters(const rt_ctx *c, rt_response *rs, struct hub_query *q);
/* counts.c: GET counts, instances per runtime status (docs/bulk.md). */
void rt_count_instances(const rt_ctx *c, rt_response *rs);
void rt_purge_instance(const rt_ctx *c, rt_response *rs);
void rt_purge_by_filter(const rt_ctx *c, rt_response *rs);
void rt_rewind(const rt_ctx *c, rt_response *rs);
/* taskhub.c: a gateway extension, for the command-line client's delete-task-hub. */
void rt_delete_hub(const rt_ctx *c, rt_response *rs);
void rt_get_entity(const rt_ctx *c, rt_response *rs);
void rt_list_entities(const rt_ctx *c, rt_response *rs);
void rt_signal_entity(const rt_ctx *c, rt_response *rs);
void rt_signal_entity_no_name(const rt_ctx *c, rt_response *rs);

#endif
