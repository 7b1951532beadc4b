/* DELETE instances/{id} and DELETE instances: purge one instance, or many by
 * filter (docs/http-api.md §4.5, §4.6; docs/storage-layout.md §8.6). The storage work
 * is taskhub/purge.c's; this file holds the HTTP rules. */
#include "base/log.h"
#include "base/time.h"
#include "routes/handlers.h"
#include "taskhub/purge.h"

#include <stdio.h>

static void deleted_body(rt_response *rs, dg_arena *a, size_t n)
{
    char body[48];
    snprintf(body, sizeof body, "{\"instancesDeleted\":%zu}", n);
    rt_set_json(rs, a, 200, body);
}

void rt_purge_instance(const rt_ctx *c, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    const char *hub = c->hub; /* validated by the router */
    const char *id = c->seg[1];
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub_instance in;
    /* No row, no purge, even when history exists (docs/storage-layout.md §8.6). */
    dg_err rc = hub_instance_get(c->storage, &x, hub, id, 0, &in);
    if (rc) {
        rt_storage_error(c, rs, rc); /* 404 with an empty body when there is none */
        return;
    }
    if (id[0] != '@' && !hub_status_terminal(in.runtime_status)) {
        /* EXTNEW's check; entity ids ('@') skip it. */
        rt_set_string(rs, a, 412,
                      dg_arena_printf(a,
                                      "Only orchestrations in a terminal state can be purged, but the "
                                      "orchestration with instance ID %s has status %s",
                                      id, in.runtime_status ? in.runtime_status : "Unknown"));
        return;
    }
    struct hub_purge_stats st;
    rc = hub_purge_instance(c->storage, &x, hub, id, &st);
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    DG_DEBUG(c->rq->reqid, "purged one instance: %zu history rows, %zu blobs", st.history_rows, st.blobs);
    deleted_body(rs, a, 1);
}

void rt_purge_by_filter(const rt_ctx *c, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    const char *hub = c->hub; /* validated by the router */
    struct hub_purge_filter f = {0};
    enum rt_param_result from = rt_param_time(c, "createdTimeFrom", &f.q.created_from);
    enum rt_param_result to = rt_param_time(c, "createdTimeTo", &f.q.created_to);
    if (from == RT_PARAM_ABSENT) {
        rt_set_string(rs, a, 400, "Please provide value for 'createdTimeFrom' parameter.");
        return;
    }
    if (from == RT_PARAM_BAD || to == RT_PARAM_BAD) {
        rt_set_argument_error(c, rs,
                              dg_arena_printf(a, "The value of '%s' is not a date and time.",
                                              from == RT_PARAM_BAD ? "createdTimeFrom" : "createdTimeTo"));
        return;
    }
    f.q.has_from = true;
    f.q.has_to = true;
    if (to == RT_PARAM_ABSENT)
        f.q.created_to = dg_now_ticks();
    /* runtimeStatus names finished statuses only. The provider drops the
     * others, and when that leaves none it applies no status condition at all
     * (docs/storage-layout.md §8.6), so runtimeStatus=Running (or a misspelt Compelted, which the host
     * drops too) purged every instance in the range, active ones included.
     * Such a filter is refused. No runtimeStatus at all still means every
     * status, as in the host (README: deliberate differences). */
    const char *bad;
    if (!rt_param_statuses(c, &f.q.statuses, &f.q.nstatuses, &bad)) {
        rt_set_argument_error(c, rs, dg_arena_printf(a, "'%s' is not a runtime status.", bad));
        return;
    }
    for (size_t i = 0; i < f.q.nstatuses; i++)
        if (!hub_status_terminal(f.q.statuses[i])) {
            rt_set_argument_error(c, rs,
                                  dg_arena_printf(a,
                                                  "Purge by filter takes only finished statuses (Completed, "
                                                  "Failed, Terminated, Canceled); '%s' would purge active "
                                                  "instances.",
                                                  f.q.statuses[i]));
            return;
        }
    /* No id_prefix (not a parameter of this route): entity rows are left out. */
    if (rt_token_decode(a, rt_header(c->rq, RT_TOKEN_HEADER), &f.q.after_pk, &f.q.after_rk) != DG_OK) {
        rt_set_message(rs, a, 400, "The continuation token is not valid.");
        return;
    }
    long budget = c->env->purge_budget_ms > 0 ? c->env->purge_budget_ms : RT_PURGE_BUDGET_MS;
    f.deadline_ms = dg_mono_ms() + budget;
    f.inflight = c->env->purge_inflight > 0 ? c->env->purge_inflight : RT_PURGE_INFLIGHT;

    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub_purge_result res;
    dg_err rc = hub_purge_by_filter(c->storage, &x, hub, &f, &res);
    if (!rc && res.deleted == 0 && res.failed > 0)
        rc = res.first_error; /* every purge failed: say why rather than "none" */
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    if (res.failed)
        DG_WARN(c->rq->reqid, "purge by filter: %zu deleted, %zu failed and skipped", res.deleted,
                res.failed);
    if (res.deleted == 0 && !res.more) {
        rt_set_empty(rs, 404);
        return;
    }
    deleted_body(rs, a, res.deleted);
    /* The key of the last row taken; the caller repeats the same DELETE with it. */
    rt_set_header(rs, a, RT_TOKEN_HEADER, res.more ? rt_token_encode(a, res.next_pk, res.next_rk) : "");
}
