/* POST instances/{id}/rewind?reason= (docs/http-api.md §4.10), with the answers of
 * the newest extension (EXTNEW), which durable-functions 3.5.0 handles one by
 * one: 404 and 412 as form C strings, 202 with no body. The storage side is
 * taskhub/rewind.c. */
#include "routes/handlers.h"
#include "taskhub/rewind.h"

#include <string.h>

/* EXTNEW's text, byte for byte: its "$" before the id is a stray character of
 * the extension's own format string, kept so that no client can tell the
 * gateway from the host (the JS client shows this text as the error). */
static const char *not_found_text(dg_arena *a, const char *id)
{
    return dg_arena_printf(a, "No orchestration with instance ID \"$%s\" found.", id);
}

static void not_failed(const rt_ctx *c, rt_response *rs, const char *status)
{
    dg_arena *a = c->rq->arena;
    rt_set_string(
        rs, a, 412,
        dg_arena_printf(a,
                        "This orchestration has status %s, but only orchestrations in the \"Failed\" "
                        "state can be rewound.",
                        status));
}

void rt_rewind(const rt_ctx *c, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    const char *id = c->seg[1];
    if (id[0] == '@') {
        /* Entities have no failures to rewind (docs/storage-layout.md §9.6). */
        rt_set_message(rs, a, 400,
                       dg_arena_printf(
                           a, "'%s' is an entity; entities cannot be rewound: only orchestrations can.", id));
        return;
    }
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub_instance in;
    dg_err rc = hub_instance_get(c->storage, &x, c->hub, id, 0, &in);
    if (rc == DG_ENOTFOUND) {
        rt_set_string(rs, a, 404, not_found_text(a, id));
        return;
    }
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    /* Pending goes on only to finish a rewind cut short (hub_rewind tells). */
    const char *status = in.runtime_status ? in.runtime_status : "Unknown";
    if (strcmp(status, "Failed") != 0 && strcmp(status, "Pending") != 0) {
        not_failed(c, rs, status);
        return;
    }
    struct hub h;
    rc = hub_open(c->storage, &x, c->hub, c->env->default_partitions, &h);
    if (!rc)
        rc = hub_rewind(&h, &x, id, rt_query(c, "reason"));
    switch (rc) {
    case DG_OK:
        rt_set_empty(rs, 202);
        return;
    case DG_ENOTFOUND: /* purged between the two reads */
        rt_set_string(rs, a, 404, not_found_text(a, id));
        return;
    case DG_EPRECOND:
        not_failed(c, rs, status);
        return;
    case DG_ECONFLICT:
        rt_set_message(rs, a, 409,
                       "The orchestration's history could not be rewound: it is missing, or it kept changing "
                       "while the rewind ran. Check the instance's status and retry.");
        return;
    case DG_ETOOBIG:
        rt_set_message(rs, a, 500,
                       "The orchestration has more failed sub-orchestrations or history rows than one rewind "
                       "handles.");
        return;
    default:
        rt_storage_error(c, rs, rc);
    }
}
