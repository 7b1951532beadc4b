/* Messages to a running instance: raise event (docs/http-api.md §4.7), terminate
 * (§4.8), suspend and resume (§4.9). Each checks the instance first (404,
 * 410 once finished), then sends one control-queue message to its current
 * execution (docs/storage-layout.md §8.2). */
#include "routes/handlers.h"
#include "taskhub/client.h"

#include <string.h>

enum op { OP_RAISE, OP_TERMINATE, OP_SUSPEND, OP_RESUME };

static const char *const op_verb[] = {"raise events to", "terminate", "suspend", "resume"};

/* Reads the instance and answers 404/410/409 when the operation cannot apply.
 * true when the caller may go on. */
static bool check_instance(const rt_ctx *c, rt_response *rs, az_ctx *x, enum op op, struct hub_instance *in)
{
    dg_arena *a = c->rq->arena;
    const char *id = c->seg[1];
    if (id[0] == '@') {
        /* Entities look Running but only take signals (docs/storage-layout.md §9.6). */
        rt_set_message(rs, a, 400,
                       dg_arena_printf(a,
                                       "'%s' is an entity; entities cannot be sent this operation: use the "
                                       "entities routes to signal them.",
                                       id));
        return false;
    }
    dg_err rc = hub_instance_get(c->storage, x, c->hub, id, 0, in);
    if (rc) {
        rt_storage_error(c, rs, rc); /* 404 empty when not found */
        return false;
    }
    if (!hub_status_active(in->runtime_status)) { /* finished, or a status nothing can act on */
        rt_set_empty(rs, 410);
        return false;
    }
    bool suspended = strcmp(in->runtime_status, "Suspended") == 0;
    if ((op == OP_SUSPEND && suspended) || (op == OP_RESUME && !suspended)) {
        /* The host lets this fail as a 500; a conflict says what happened. */
        rt_set_message(
            rs, a, 409,
            dg_arena_printf(a, "Cannot %s the orchestration instance %s because instance is in the %s state.",
                            op_verb[op], id, in->runtime_status));
        return false;
    }
    return true;
}

static void lifecycle(const rt_ctx *c, rt_response *rs, enum op op)
{
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub_instance in;
    if (!check_instance(c, rs, &x, op, &in))
        return;
    struct hub h;
    dg_err rc = hub_open(c->storage, &x, c->hub, c->env->default_partitions, &h);
    const char *reason = rt_query(c, "reason");
    if (!rc) {
        switch (op) {
        case OP_TERMINATE:
            rc = hub_terminate(&h, &x, c->seg[1], reason);
            break;
        case OP_SUSPEND:
            rc = hub_suspend(&h, &x, c->seg[1], reason);
            break;
        case OP_RESUME:
            rc = hub_resume(&h, &x, c->seg[1], reason);
            break;
        case OP_RAISE:
            rc = DG_EINVAL;
            break;
        }
    }
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    rt_set_empty(rs, 202);
}

void rt_raise_event(const rt_ctx *c, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub_instance in;
    if (!check_instance(c, rs, &x, OP_RAISE, &in))
        return;
    if (!rt_is_json_content(c)) {
        rt_set_message(rs, a, 400, "Only application/json request content is supported");
        return;
    }
    const char *input;
    if (rt_body_json(c, &input) != RT_BODY_OK) {
        rt_set_error(rs, a, 400, "Invalid JSON content", "The request body is empty or not valid UTF-8 JSON.",
                     "Newtonsoft.Json.JsonReaderException");
        return;
    }
    struct hub h;
    dg_err rc = hub_open(c->storage, &x, c->hub, c->env->default_partitions, &h);
    if (!rc)
        rc = hub_raise_event(&h, &x, c->seg[1], c->seg[3], input);
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    rt_set_empty(rs, 202);
}

void rt_terminate(const rt_ctx *c, rt_response *rs)
{
    lifecycle(c, rs, OP_TERMINATE);
}

void rt_suspend(const rt_ctx *c, rt_response *rs)
{
    lifecycle(c, rs, OP_SUSPEND);
}

void rt_resume(const rt_ctx *c, rt_response *rs)
{
    lifecycle(c, rs, OP_RESUME);
}
