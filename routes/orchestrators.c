/* Starting orchestrations: start (docs/http-api.md §4.1) and restart (§4.11). */
#include "base/rand.h"
#include "base/utf8.h"
#include "routes/handlers.h"
#include "taskhub/client.h"

#include <string.h>
#include <strings.h>

#define ARG_ERROR "One or more of the arguments submitted is incorrect"

/* The allow-list, when one is configured, ignoring case as the host's registry does. */
static bool orchestrator_known(const rt_ctx *c, const char *name)
{
    const char *const *l = c->env->orchestrators;
    if (!l)
        return true;
    for (; *l; l++)
        if (strcasecmp(*l, name) == 0)
            return true;
    return false;
}

/* No function's name holds a control character or bytes that are not UTF-8,
 * so such a name is refused whether or not an allow-list is configured (the
 * host answers it 400 as unknown): it is never stored or logged as a name. */
static bool name_plausible(const char *name)
{
    const unsigned char *p = (const unsigned char *) name;
    size_t n = strlen(name), i = 0;
    while (i < n) {
        int32_t cp = dg_utf8_next(p, n, &i);
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
            return false; /* -1 (malformed) included */
    }
    return n > 0;
}

static void unknown_orchestrator(const rt_ctx *c, rt_response *rs, const char *name)
{
    dg_arena *a = c->rq->arena;
    const char *known = "";
    for (const char *const *l = c->env->orchestrators; *l; l++)
        known = dg_arena_printf(a, "%s%s'%s'", known, *known ? ", " : "", *l);
    const char *msg =
        *known ? dg_arena_printf(
                     a,
                     "The function '%s' doesn't exist, is disabled, or is not an orchestrator function. "
                     "Additional info: The following are the known orchestrator functions: %s.",
                     name, known)
               : dg_arena_printf(
                     a,
                     "The function '%s' doesn't exist, is disabled, or is not an orchestrator function. "
                     "Additional info: No orchestrator functions are currently registered!",
                     name);
    rt_set_error(rs, a, 400, ARG_ERROR, msg, "System.ArgumentException");
}

/* Starts and answers: 202 check-status (or a held wait when spec asks for
 * one, its slot already reserved), 409 on an active duplicate, storage errors. */
static void start_and_answer(const rt_ctx *c, rt_response *rs, const struct hub_start *req,
                             const char *conflict_message, const struct rt_wait_spec *spec)
{
    dg_arena *a = c->rq->arena;
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub h;
    dg_err rc = hub_open(c->storage, &x, c->hub, c->env->default_partitions, &h);
    struct hub_started st = {0};
    if (!rc)
        rc = hub_start_instance(&h, &x, req, &st);
    if (rc && spec->wanted)
        rt_wait_release(c->env);
    if (rc == DG_ECONFLICT && !st.existing_status) {
        /* Not a duplicate: storage's own 409 (a table or queue of the hub is
         * being deleted). Worth a retry in a moment. */
        rt_set_message(rs, a, 503, "The task hub is being deleted or re-created; retry later.");
        rt_set_header(rs, a, "Retry-After", "5");
        return;
    }
    if (rc == DG_ECONFLICT) {
        if (conflict_message)
            rt_set_error(rs, a, 409, conflict_message,
                         dg_arena_printf(a, "An Orchestration instance with the status %s already exists.",
                                         st.existing_status),
                         "System.InvalidOperationException");
        else
            rt_set_message(rs, a, 409,
                           dg_arena_printf(a, "An Orchestration instance with the status %s already exists.",
                                           st.existing_status));
        return;
    }
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    if (spec->wanted)
        rt_wait_hold(c, rs, req->instance_id, spec, true);
    else
        rt_set_check_status(c, rs, req->instance_id);
}

/* Start, and wait when spec asks for it: the host's form (§4.2) and the
 * HttpSyncStart sample's. Every check runs before anything is started. */
static void start(const rt_ctx *c, rt_response *rs, const char *id, const struct rt_wait_spec *spec)
{
    dg_arena *a = c->rq->arena;
    const char *name = c->seg[1];
    if (!name_plausible(name)) {
        rt_set_error(rs, a, 400, ARG_ERROR,
                     "The function name is not valid: it holds a control character or is not UTF-8.",
                     "System.ArgumentException");
        return;
    }
    if (!orchestrator_known(c, name)) {
        unknown_orchestrator(c, rs, name);
        return;
    }
    char gen[33];
    bool fresh = !id;
    if (fresh) {
        dg_uuid4_n(gen);
        id = gen;
    }
    const char *why = rt_instance_id_problem(id);
    if (why) {
        rt_set_error(rs, a, 400, ARG_ERROR,
                     dg_arena_printf(a, "The instance ID '%s' is not valid: %s.", id, why),
                     "System.ArgumentException");
        return;
    }
    const char *input = NULL;
    if (rt_body_json(c, &input) == RT_BODY_INVALID) {
        rt_set_error(rs, a, 400, "Invalid JSON content", "The request body is not valid UTF-8 JSON.",
                     "Newtonsoft.Json.JsonReaderException");
        return;
    }
    const char *version = rt_query(c, "version");
    struct hub_start req = {
        .instance_id = id, .name = name, .version = version, .input = input, .fresh_id = fresh};
    if (spec->wanted && !rt_wait_reserve(c, rs))
        return;
    start_and_answer(c, rs, &req, NULL, spec);
}

void rt_start(const rt_ctx *c, rt_response *rs)
{
    struct rt_wait_spec spec;
    if (!rt_wait_params(c, rs, "pollingInterval", false, &spec))
        return;
    start(c, rs, c->nseg > 2 ? c->seg[2] : NULL, &spec);
}

void rt_start_wait(const rt_ctx *c, rt_response *rs)
{
    struct rt_wait_spec spec;
    if (!rt_wait_params(c, rs, "retryInterval", true, &spec))
        return;
    start(c, rs, NULL, &spec);
}

void rt_restart(const rt_ctx *c, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    const char *id = c->seg[1];
    struct rt_wait_spec spec;
    if (!rt_wait_params(c, rs, "pollingInterval", false, &spec))
        return;
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub_instance in;
    dg_err rc = hub_instance_get(c->storage, &x, c->hub, id, HUB_GET_INPUT, &in);
    if (rc == DG_ENOTFOUND || (rc == DG_OK && (!in.name || id[0] == '@'))) {
        rt_set_error(rs, a, 400, "InstanceId does not match a valid orchestration instance.",
                     dg_arena_printf(a, "No orchestration instance with the ID '%s' was found.", id),
                     "System.ArgumentException");
        return;
    }
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    char gen[33];
    const char *new_id = id;
    bool fresh = rt_query_bool(c, "restartWithNewInstanceId", true);
    if (fresh) {
        dg_uuid4_n(gen);
        new_id = gen;
    }
    struct hub_start req = {
        .instance_id = new_id, .name = in.name, .version = in.version, .input = in.input, .fresh_id = fresh};
    if (spec.wanted && !rt_wait_reserve(c, rs))
        return;
    start_and_answer(c, rs, &req, "A non-terminal instance with this instance ID already exists.", &spec);
}
