/* DELETE taskhub (routes/taskhub.c, taskhub/hub.c's hub_delete) through the
 * router with no socket, over a hub the gateway made (tables, queues, the
 * app-lease container), a large-message blob and a blob lease container as
 * the blob partition managers leave one. */
#include "storage/blob.h"
#include "storage/queue.h"
#include "storage/table.h"
#include "taskhub/hub.h"
#include "tests/support/hub_seed.h"
#include "tests/support/route_harness.h"

#include <criterion/criterion.h>
#include <string.h>

static struct th t;

static void setup(void)
{
    th_init(&t);
}

static void teardown(void)
{
    th_fini(&t);
}

TestSuite(taskhub, .init = setup, .fini = teardown, .timeout = 120);

static const char *lower(const char *s)
{
    char *l = dg_arena_strdup(t.a, s);
    for (char *p = l; *p; p++)
        *p = (char) (*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    return l;
}

static bool in_list(const cJSON *arr, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0)
            return true;
    }
    return false;
}

Test(taskhub, delete_removes_every_artefact_then_404)
{
    /* A start makes the hub: app lease, Partitions, Instances, History, work items, 4 control queues. */
    rt_response rs = th_do(&t, "POST", "/runtime/webhooks/durabletask/orchestrators/E1_HelloSequence/d1",
                           NULL, "\"Tokyo\"");
    cr_assert_eq(rs.status, 202);
    seed_blob(t.c, t.a, t.hub, "d1/input.json.gz", "{\"big\":true}");
    const char *l = lower(t.hub);
    az_ctx x;
    az_ctx_init(&x, t.a);
    const char *leases = dg_arena_printf(t.a, "%s-leases", l);
    cr_assert_eq(az_container_create(t.c, &x, leases), DG_OK);
    cr_assert_eq(
        az_blob_put(t.c, &x, leases, "taskhub.json", "{\"PartitionCount\":4}", 20, "application/json", NULL),
        DG_OK);

    rs = th_do(&t, "DELETE", "/runtime/webhooks/durabletask/taskhub", NULL, NULL);
    cr_assert_eq(rs.status, 200, "%d %.*s", rs.status, (int) rs.body_len, rs.body);
    cJSON *j = th_json(&t, &rs);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "taskHub")->valuestring, t.hub);
    const cJSON *names = cJSON_GetObjectItem(j, "deleted");
    cr_assert_eq(cJSON_GetArraySize(names), 4 + 1 + 3 + 3, "%s", cJSON_PrintUnformatted(names));
    const char *expect[] = {dg_arena_printf(t.a, "%s-control-00", l),
                            dg_arena_printf(t.a, "%s-control-03", l),
                            dg_arena_printf(t.a, "%s-workitems", l),
                            dg_arena_printf(t.a, "%sInstances", t.hub),
                            dg_arena_printf(t.a, "%sHistory", t.hub),
                            dg_arena_printf(t.a, "%sPartitions", t.hub),
                            leases,
                            dg_arena_printf(t.a, "%s-applease", l),
                            dg_arena_printf(t.a, "%s-largemessages", l)};
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++)
        cr_assert(in_list(names, expect[i]), "%s not in the deleted list", expect[i]);

    /* Gone from storage: the tables, a queue, a container. */
    struct az_query q = {.top = 1};
    struct az_page pg;
    cr_assert_eq(az_table_query(t.c, &x, dg_arena_printf(t.a, "%sInstances", t.hub), &q, &pg), DG_ENOTFOUND);
    struct az_qmsg *m;
    size_t n;
    cr_assert_eq(az_queue_peek(t.c, &x, dg_arena_printf(t.a, "%s-control-00", l), 1, &m, &n), DG_ENOTFOUND);
    char *data;
    size_t len;
    cr_assert_eq(az_blob_get(t.c, &x, leases, "taskhub.json", &data, &len), DG_ENOTFOUND);

    /* Nothing left: 404, and the hub can be made again (the cached count was forgotten). */
    rs = th_do(&t, "DELETE", "/runtime/webhooks/durabletask/taskhub", NULL, NULL);
    cr_assert_eq(rs.status, 404);
    rs = th_do(&t, "POST", "/runtime/webhooks/durabletask/orchestrators/E1_HelloSequence/d2", NULL, NULL);
    cr_assert_eq(rs.status, 202, "%d %.*s", rs.status, (int) rs.body_len, rs.body);
    (void) th_take_message(&t, "d2", 4);
}

Test(taskhub, keys_and_hub_names)
{
    struct th_req r = {"DELETE", "/runtime/webhooks/durabletask/taskhub", NULL, TH_READ_KEY, NULL, NULL, NULL,
                       0};
    cr_assert_eq(th_call(&t, &r).status, 403, "a read-only key may not delete a hub");
    r.key = NULL;
    cr_assert_eq(th_call(&t, &r).status, 401);
    r = (struct th_req){"DELETE", "/durabletask/taskhub", "taskHub=x-y", TH_KEY, NULL, NULL, NULL, 0};
    cr_assert_eq(th_call(&t, &r).status, 400);
    r.query = "taskHub=NoSuchHub123";
    cr_assert_eq(th_call(&t, &r).status, 404);
}
