/* DELETE instances/{id} and DELETE instances (docs/http-api.md §4.5, §4.6) through
 * the router, with no socket, over Instances rows, History rows and
 * large-message blobs seeded in DurableTask.AzureStorage's exact format in a
 * real Azurite; each test checks the answer and what is left in storage. */
#include "base/b64.h"
#include "routes/router.h"
#include "storage/blob.h"
#include "storage/table.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"
#include "taskhub/purge.h"
#include "tests/support/azurite_env.h"
#include "tests/support/hub_seed.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

static az_client *c;
static dg_arena *a;
static const char *hub;
static auth_keys *keys;
static struct rt_env env;

static const char *keyfile =
    "{\"masterKey\":\"master-key-0123456789\",\"systemKeys\":{\"durabletask_extension\":"
    "\"ext-key-0123456789\"},\"readOnlyKeys\":[\"dashboard-0123456789\"]}";
#define KEY "ext-key-0123456789"

#define SPECIAL     "a/b#c?d^e f+g%h\xc3\xa9"
#define SPECIAL_URL "a%2Fb%23c%3Fd%5Ee%20f%2Bg%25h%C3%A9"

static void setup(void)
{
    c = test_azurite_client(NULL, NULL);
    a = dg_arena_create();
    hub = test_unique_name(a, "Hub");
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(az_table_create(c, &x, dg_arena_printf(a, "%sInstances", hub)), DG_OK);
    cr_assert_eq(az_table_create(c, &x, dg_arena_printf(a, "%sHistory", hub)), DG_OK);
    char err[128];
    keys = auth_keys_parse(keyfile, strlen(keyfile), err, sizeof err);
    cr_assert_not_null(keys, "%s", err);
    env = (struct rt_env){.storage = c, .keys = keys, .default_hub = hub};
}

static void teardown(void)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_table_delete(c, &x, dg_arena_printf(a, "%sInstances", hub));
    az_table_delete(c, &x, dg_arena_printf(a, "%sHistory", hub));
    az_container_delete(c, &x, hub_large_container(a, hub));
    auth_keys_destroy(keys);
    dg_arena_destroy(a);
    az_client_destroy(c);
}

TestSuite(purge, .init = setup, .fini = teardown, .timeout = 180);

static rt_response del(const char *path, const char *query, const char *key, const char *token)
{
    struct rt_param *h = dg_arena_alloc(a, 2 * sizeof *h);
    size_t nh = 0;
    if (key)
        h[nh++] = (struct rt_param){"x-functions-key", key};
    if (token)
        h[nh++] = (struct rt_param){"x-ms-continuation-token", token};
    rt_request rq = {
        .arena = a, .method = "DELETE", .path = path, .raw_query = query, .headers = h, .nheaders = nh};
    rt_response rs;
    rt_dispatch(&env, &rq, &rs);
    return rs;
}

static rt_response purge_one(const char *url_id)
{
    return del(dg_arena_printf(a, "/runtime/webhooks/durabletask/instances/%s", url_id), "", KEY, NULL);
}

static rt_response purge_by(const char *query, const char *token)
{
    return del("/durabletask/instances/", query, KEY, token);
}

static const char *header(const rt_response *rs, const char *name)
{
    for (size_t i = 0; i < rs->nheaders; i++)
        if (strcasecmp(rs->headers[i].name, name) == 0)
            return rs->headers[i].value;
    return NULL;
}

static const char *text(const rt_response *rs)
{
    cr_assert_not_null(rs->body, "status %d without a body", rs->status);
    cr_assert_str_eq(rs->content_type, "application/json; charset=utf-8");
    return dg_arena_strndup(a, rs->body, rs->body_len);
}

static int deleted_count(rt_response r)
{
    const rt_response *rs = &r;
    cr_assert_eq(rs->status, 200, "status %d: %.*s", rs->status, (int) rs->body_len,
                 rs->body ? rs->body : "");
    cJSON *j = cJSON_ParseWithLength(rs->body, rs->body_len);
    cr_assert_not_null(j);
    cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "instancesDeleted");
    cr_assert(cJSON_IsNumber(n));
    cr_assert_eq(cJSON_GetArraySize(j), 1, "only instancesDeleted");
    int v = n->valueint;
    cJSON_Delete(j);
    return v;
}

/* An instance as a worker leaves it: the row, events History rows plus the
 * sentinel, a message blob under the id and a history blob under the escaped id. */
static void seed_full(const char *id, const char *status, const char *created, int events)
{
    struct seed_instance in = {id, "E1", status, created, "\"in\"", NULL};
    seed_instance(c, a, hub, &in);
    seed_history(c, a, hub, id, events);
    const char *esc = hub_key_escape(a, id, strlen(id));
    seed_blob(c, a, hub,
              dg_arena_printf(a, "%s/message-0123456789abcdef0123456789abcdef-ExecutionStarted.json.gz", id),
              "{\"TaskMessage\":null}");
    seed_blob(c, a, hub,
              dg_arena_printf(a, "%s/history-0000000000000001-ExecutionStarted-1A2B3C4D-Input.json.gz", esc),
              "\"big input\"");
}

static size_t blobs_of(const char *id)
{
    const char *esc = hub_key_escape(a, id, strlen(id));
    size_t n = count_blobs(c, a, hub, dg_arena_printf(a, "%s/", id));
    if (strcmp(esc, id) != 0)
        n += count_blobs(c, a, hub, dg_arena_printf(a, "%s/", esc));
    return n;
}

static void assert_gone(const char *id)
{
    cr_assert_not(instance_exists(c, a, hub, id), "%s: row left", id);
    cr_assert_eq(count_history(c, a, hub, id), 0, "%s: history left", id);
    cr_assert_eq(blobs_of(id), 0, "%s: blobs left", id);
}

static void assert_intact(const char *id, size_t history_rows)
{
    cr_assert(instance_exists(c, a, hub, id), "%s: row gone", id);
    cr_assert_eq(count_history(c, a, hub, id), history_rows, "%s: history touched", id);
    cr_assert_eq(blobs_of(id), 2, "%s: blobs touched", id);
}

/* ---- one instance ---- */

Test(purge, one_missing_is_404_and_orphan_history_stays)
{
    seed_history(c, a, hub, "orphan", 5);
    rt_response rs = purge_one("orphan");
    cr_assert_eq(rs.status, 404);
    cr_assert_null(rs.body);
    cr_assert_eq(count_history(c, a, hub, "orphan"), 6,
                 "no Instances row, no purge (docs/storage-layout.md §8.6)");
    cr_assert_eq(purge_one("orphan").status, 404);
}

Test(purge, one_not_terminal_is_412_and_nothing_is_deleted)
{
    static const char *const active[] = {"Running", "Pending", "Suspended", "ContinuedAsNew"};
    for (size_t i = 0; i < 4; i++) {
        const char *id = dg_arena_printf(a, "act-%s", active[i]);
        seed_full(id, active[i], NULL, 4);
        rt_response rs = purge_one(id);
        cr_assert_eq(rs.status, 412, "%s", active[i]);
        cr_assert_str_eq(text(&rs),
                         dg_arena_printf(a,
                                         "\"Only orchestrations in a terminal state can be purged, but the "
                                         "orchestration with instance ID %s has status %s\"",
                                         id, active[i]));
        assert_intact(id, 5);
    }
    seed_full(SPECIAL, "Running", NULL, 2);
    rt_response rs = purge_one(SPECIAL_URL);
    cr_assert_eq(rs.status, 412);
    cJSON *j = cJSON_ParseWithLength(rs.body, rs.body_len);
    cr_assert(cJSON_IsString(j), "form C: a JSON string");
    cr_assert_not_null(strstr(j->valuestring, "instance ID " SPECIAL " has status Running"));
    cJSON_Delete(j);
}

Test(purge, one_terminal_removes_rows_history_and_blobs)
{
    seed_full("done1", "Completed", NULL, 150); /* 151 rows: two transactions */
    seed_full("done10", "Completed", NULL, 10);
    seed_full("done", "Failed", NULL, 3);
    rt_response rs = purge_one("done1");
    cr_assert_str_eq(text(&rs), "{\"instancesDeleted\":1}");
    cr_assert_eq(rs.status, 200);
    cr_assert_null(header(&rs, "x-ms-continuation-token"));
    assert_gone("done1");
    assert_intact("done10", 11);
    assert_intact("done", 4);
    cr_assert_eq(purge_one("done1").status, 404, "twice: gone");
    static const char *const terminal[] = {"Failed", "Terminated", "Canceled"};
    for (size_t i = 0; i < 3; i++) {
        const char *id = dg_arena_printf(a, "t-%s", terminal[i]);
        seed_full(id, terminal[i], NULL, 2);
        cr_assert_eq(deleted_count(purge_one(id)), 1, "%s", terminal[i]);
        assert_gone(id);
    }
}

Test(purge, neighbour_blobs_are_untouched)
{
    seed_full("abc", "Completed", NULL, 2);
    seed_full("abcd", "Completed", NULL, 2);
    seed_blob(c, a, hub, "abcd/history-0000000000000000-X-00000000-Result.json.gz", "1");
    seed_blob(c, a, hub, "abc", "a blob named like the id, no folder");
    cr_assert_eq(deleted_count(purge_one("abc")), 1);
    assert_gone("abc");
    cr_assert_eq(count_blobs(c, a, hub, "abcd/"), 3, "the provider's bare-id prefix would take these");
    cr_assert_eq(count_blobs(c, a, hub, "abc"), 4, "abcd's three and the blob named abc");
    cr_assert(instance_exists(c, a, hub, "abcd"));
}

Test(purge, escaped_ids_lose_both_blob_folders)
{
    seed_full(SPECIAL, "Completed", NULL, 3);
    seed_full(SPECIAL "2", "Completed", NULL, 3);
    seed_full("tab\there", "Terminated", NULL, 3);
    cr_assert_neq(strcmp(hub_key_escape(a, SPECIAL, strlen(SPECIAL)), SPECIAL), 0);
    cr_assert_eq(blobs_of(SPECIAL), 2);
    cr_assert_eq(deleted_count(purge_one(SPECIAL_URL)), 1);
    assert_gone(SPECIAL);
    assert_intact(SPECIAL "2", 4);
    cr_assert_eq(deleted_count(purge_one("tab%09here")), 1);
    assert_gone("tab\there");
}

Test(purge, retry_after_a_partial_purge)
{
    /* A purge cut short after the history and blobs went: the row is left. */
    struct seed_instance half = {"half1", "E1", "Completed", NULL, NULL, NULL};
    seed_instance(c, a, hub, &half);
    cr_assert_eq(deleted_count(purge_one("half1")), 1);
    assert_gone("half1");
    cr_assert_eq(purge_one("half1").status, 404);

    /* Cut short in the middle of the history. */
    seed_full("half2", "Completed", NULL, 120);
    az_ctx x;
    az_ctx_init(&x, a);
    const char *table = dg_arena_printf(a, "%sHistory", hub);
    for (int i = 0; i < 60; i++)
        cr_assert_eq(
            az_table_delete_entity(c, &x, table, "half2", dg_arena_printf(a, "%016X", (unsigned) i), NULL),
            DG_OK);
    cr_assert_eq(az_blob_delete(c, &x, hub_large_container(a, hub),
                                "half2/message-0123456789abcdef0123456789abcdef-ExecutionStarted.json.gz"),
                 DG_OK);
    cr_assert_eq(count_history(c, a, hub, "half2"), 61);
    cr_assert_eq(deleted_count(purge_one("half2")), 1);
    assert_gone("half2");
}

struct racer {
    const char *id;
    dg_err rc;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    dg_arena *ra = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, ra);
    r->rc = hub_purge_instance(c, &x, hub, r->id, NULL);
    dg_arena_destroy(ra);
    return NULL;
}

Test(purge, concurrent_purges_of_one_instance_both_succeed)
{
    /* The second purger meets rows the first deleted: its transactions fail
     * with 404 and fall back to single deletes that ignore 404. */
    seed_full("race1", "Completed", NULL, 400);
    struct racer r[3] = {{"race1", DG_EINVAL}, {"race1", DG_EINVAL}, {"race1", DG_EINVAL}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(r[i].rc, DG_OK, "racer %d: %s", i, dg_err_str(r[i].rc));
    assert_gone("race1");
}

Test(purge, entity_ids_skip_the_status_check)
{
    seed_full("@counter@k1", "Running", NULL, 3);
    cr_assert_eq(deleted_count(purge_one("%40counter%40k1")), 1);
    assert_gone("@counter@k1");
}

Test(purge, keys_and_hubs)
{
    seed_full("k1", "Completed", NULL, 2);
    cr_assert_eq(del("/durabletask/instances/k1", "", "dashboard-0123456789", NULL).status, 403,
                 "a read-only key may not purge");
    cr_assert_eq(del("/durabletask/instances/k1", "", NULL, NULL).status, 401);
    cr_assert_eq(
        del("/durabletask/instances", "createdTimeFrom=2000-01-01", "dashboard-0123456789", NULL).status,
        403);
    cr_assert_eq(del("/durabletask/instances/k1", "taskHub=NoSuchHub42", KEY, NULL).status, 404);
    cr_assert_eq(del("/durabletask/instances/k1", "taskHub=bad-hub", KEY, NULL).status, 400);
    assert_intact("k1", 3);
}

/* ---- by filter ---- */

Test(purge, by_filter_needs_created_time_from)
{
    static const char msg[] = "\"Please provide value for 'createdTimeFrom' parameter.\"";
    const char *queries[] = {"", "createdTimeFrom=", "createdTimeTo=2030-01-01T00:00:00Z"};
    for (size_t i = 0; i < 3; i++) {
        rt_response rs = purge_by(queries[i], NULL);
        cr_assert_eq(rs.status, 400, "%s", queries[i]);
        cr_assert_str_eq(text(&rs), msg);
    }
    /* A time that is not one is refused, never dropped: createdTimeTo=2024-13-01
     * would otherwise purge everything up to now (docs/differences.md). */
    const char *bad[] = {"createdTimeFrom=soon",
                         "createdTimeFrom=2020-01-01T00:00:00Z&createdTimeTo=2024-13-01"};
    for (size_t i = 0; i < 2; i++) {
        rt_response rs = purge_by(bad[i], NULL);
        cr_assert_eq(rs.status, 400, "%s", bad[i]);
        cr_assert(strstr(text(&rs), "is not a date and time"), "%s", text(&rs));
    }
    rt_response rs = del("/durabletask/instances", "", KEY, NULL);
    cr_assert_eq(rs.status, 400, "without the trailing slash too");
}

Test(purge, by_filter_none_is_404)
{
    seed_full("n1", "Completed", "2024-05-01T00:00:00Z", 2);
    rt_response rs = purge_by("createdTimeFrom=2030-01-01T00:00:00Z", NULL);
    cr_assert_eq(rs.status, 404);
    cr_assert_null(rs.body);
    cr_assert_eq(purge_by("createdTimeFrom=2020-01-01&taskHub=NoSuchHub42", NULL).status, 404,
                 "a hub without tables");
    assert_intact("n1", 3);
}

Test(purge, by_filter_time_range_counts_and_entities)
{
    for (int i = 1; i <= 5; i++)
        seed_full(dg_arena_printf(a, "t%d", i), "Completed", dg_arena_printf(a, "2024-05-0%dT10:00:00Z", i),
                  3);
    seed_full("run1", "Running", "2024-05-03T00:00:00Z", 3);
    seed_full("old1", "Completed", "2023-05-01T00:00:00Z", 3);
    seed_full("future1", "Completed", "2099-05-01T00:00:00Z", 3);
    seed_full("@e@k", "Running", "2024-05-03T00:00:00Z", 3);

    rt_response rs =
        purge_by("createdTimeFrom=2024-05-01T10:00:00Z&createdTimeTo=2024-05-02T10:00:00Z", NULL);
    cr_assert_eq(deleted_count(rs), 2, "both ends inclusive");
    cr_assert_str_eq(header(&rs, "x-ms-continuation-token"), "", "finished");
    assert_gone("t1");
    assert_gone("t2");

    rs = purge_by("createdTimeFrom=2024-01-01T00:00:00Z", NULL);
    cr_assert_eq(deleted_count(rs), 4, "t3-t5 and run1: no status filter means every status");
    for (int i = 3; i <= 5; i++)
        assert_gone(dg_arena_printf(a, "t%d", i));
    assert_gone("run1");
    assert_intact("old1", 4);
    assert_intact("future1", 4); /* createdTimeTo defaults to now */
    assert_intact("@e@k", 4);    /* entity rows are never purged by filter */
    cr_assert_eq(purge_by("createdTimeFrom=2024-01-01T00:00:00Z", NULL).status, 404);
}

Test(purge, by_filter_status_list_keeps_terminal_statuses_only)
{
    seed_full("c1", "Completed", "2024-05-01T00:00:00Z", 2);
    seed_full("c2", "Completed", "2024-05-02T00:00:00Z", 2);
    seed_full("f1", "Failed", "2024-05-01T00:00:00Z", 2);
    seed_full("x1", "Terminated", "2024-05-01T00:00:00Z", 2);
    seed_full("r1", "Running", "2024-05-01T00:00:00Z", 2);
    seed_full("p1", "Pending", "2024-05-01T00:00:00Z", 2);

    cr_assert_eq(deleted_count(purge_by("createdTimeFrom=2024-01-01&runtimeStatus=Completed&"
                                        "instanceIdPrefix=c1",
                                        NULL)),
                 2, "instanceIdPrefix is not a parameter of this route");
    assert_gone("c1");
    assert_gone("c2");
    /* A filter that names an active status, or a name that is no status, is
     * refused: the provider would drop them and, with no finished status left,
     * purge every status in the range. */
    const char *refused[] = {"runtimeStatus=Compelted",       "runtimeStatus=Running",
                             "runtimeStatus=Running,Pending", "runtimeStatus=Failed,Running",
                             "runtimeStatus=Failed,bogus",    "runtimeStatus=Suspended",
                             "runtimeStatus=ContinuedAsNew"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        rt_response rs = purge_by(dg_arena_printf(a, "createdTimeFrom=2024-01-01&%s", refused[i]), NULL);
        cr_assert_eq(rs.status, 400, "%s: %d", refused[i], rs.status);
        cJSON *j = cJSON_ParseWithLength(rs.body, rs.body_len);
        cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "Message")),
                         "One or more of the arguments submitted is incorrect");
        cJSON_Delete(j);
    }
    assert_intact("r1", 3);
    assert_intact("p1", 3);
    assert_intact("f1", 3);
    cr_assert_eq(deleted_count(purge_by("createdTimeFrom=2024-01-01&runtimeStatus=Failed,Terminated", NULL)),
                 2, "finished statuses only");
    assert_gone("f1");
    assert_gone("x1");
    assert_intact("r1", 3);
    cr_assert_eq(deleted_count(purge_by("createdTimeFrom=2024-01-01", NULL)), 2,
                 "no runtimeStatus at all: every status, as in the host");
    assert_gone("r1");
    assert_gone("p1");
}

Test(purge, by_filter_time_budget_returns_a_continuation)
{
    for (int i = 0; i < 12; i++)
        seed_full(dg_arena_printf(a, "b%02d", i), "Completed", "2024-05-01T00:00:00Z", 3);
    seed_full("keep", "Completed", "2023-01-01T00:00:00Z", 3);
    env.purge_budget_ms = 1;
    const char *token = NULL;
    int total = 0, calls = 0;
    do {
        rt_response rs = purge_by("createdTimeFrom=2024-01-01T00:00:00Z", token);
        int n = deleted_count(rs);
        cr_assert(n >= 1, "every call makes progress");
        if (calls == 0)
            cr_assert(n <= 4, "cut short by the budget: %d", n);
        total += n;
        calls++;
        token = header(&rs, "x-ms-continuation-token");
        cr_assert_not_null(token);
        if (calls == 1)
            cr_assert_neq(*token, '\0', "more to do");
        cr_assert(calls <= 12);
    } while (*token);
    cr_assert_eq(total, 12);
    for (int i = 0; i < 12; i++)
        assert_gone(dg_arena_printf(a, "b%02d", i));
    assert_intact("keep", 4);
    cr_assert_eq(purge_by("createdTimeFrom=2024-01-01T00:00:00Z", NULL).status, 404);

    rt_response rs = purge_by("createdTimeFrom=2024-01-01T00:00:00Z", "not a token");
    cr_assert_eq(rs.status, 400);
    cr_assert_str_eq(text(&rs), "{\"Message\":\"The continuation token is not valid.\"}");
}

Test(purge, by_filter_resumes_after_the_token_key)
{
    for (int i = 0; i < 6; i++)
        seed_full(dg_arena_printf(a, "r%d", i), "Completed", "2024-05-01T00:00:00Z", 2);
    /* A token naming r2 resumes after it: r0..r2 are left. */
    const char *tok = dg_b64url_encode(a, "r2 ", 3);
    cr_assert_eq(deleted_count(purge_by("createdTimeFrom=2024-01-01", tok)), 3);
    for (int i = 0; i < 3; i++)
        assert_intact(dg_arena_printf(a, "r%d", i), 3);
    for (int i = 3; i < 6; i++)
        assert_gone(dg_arena_printf(a, "r%d", i));
}
