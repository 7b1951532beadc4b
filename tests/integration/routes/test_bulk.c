/* Bulk operations (docs/bulk.md) through the router, with no socket, over rows
 * seeded in DurableTask.AzureStorage's format in a real Azurite: GET counts
 * against a count of the list, the fast listing (ranges=N) against paging
 * the host's form, purge by filter with many calls in flight, and the columns
 * the routes ask storage for, seen in the requests themselves
 * (tests/support/rec_proxy.h). */
#include "storage/table.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"
#include "tests/support/azurite_env.h"
#include "tests/support/hub_seed.h"
#include "tests/support/rec_proxy.h"
#include "tests/support/route_harness.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct th t;

static void setup(void)
{
    th_init(&t);
    th_make_instances_table(&t);
}

static void teardown(void)
{
    th_fini(&t);
}

TestSuite(bulk, .init = setup, .fini = teardown, .timeout = 240);

static const char *const STATUSES[] = {"Running",  "Completed",  "ContinuedAsNew", "Failed",
                                       "Canceled", "Terminated", "Pending",        "Suspended"};

/* Ids of three kinds: GUID-like (spread over every range), names sharing a
 * first letter, and a few that sort before the digits or need escaping. */
static const char *make_id(int i)
{
    if (i % 5 == 0)
        return dg_arena_printf(t.a, "order-%03d", i);
    if (i % 11 == 0)
        return dg_arena_printf(t.a, "!x/%d#q", i);
    unsigned long long h = (unsigned long long) i * 0x9e3779b97f4a7c15ULL;
    return dg_arena_printf(t.a, "%016llx%04d", h, i);
}

static void seed_many(int n)
{
    for (int i = 0; i < n; i++) {
        char created[40];
        snprintf(created, sizeof created, "2024-05-%02dT10:00:00Z", 1 + i % 9);
        struct seed_instance in = {.id = make_id(i),
                                   .name = i % 3 ? "E1" : "E2",
                                   .status = STATUSES[i % 8],
                                   .created = created,
                                   .input = "{\"city\":\"Tokyo\"}",
                                   .output = i % 2 ? "[1, 2.50, \"x\"]" : NULL};
        seed_instance(t.c, t.a, t.hub, &in);
    }
    /* Entities are never listed nor counted. */
    seed_instance(t.c, t.a, t.hub,
                  &(struct seed_instance){.id = "@counter@k1", .name = "counter", .status = "Running"});
}

static rt_response get(const char *path, const char *query, const char *key, const char *token)
{
    struct rt_param h = {"x-ms-continuation-token", token ? token : ""};
    struct th_req r = {"GET", path, query, key, NULL, NULL, token ? &h : NULL, token ? 1 : 0};
    return th_call(&t, &r);
}

/* Every item of a listing, following its tokens; *requests counts the calls. */
static cJSON *list_all(const char *query, int *requests)
{
    cJSON *all = cJSON_CreateArray();
    const char *token = NULL;
    *requests = 0;
    for (;;) {
        rt_response rs = get("/runtime/webhooks/durabletask/instances", query, TH_READ_KEY, token);
        cr_assert_eq(rs.status, 200, "%s: %d %s", query, rs.status, rs.body);
        (*requests)++;
        cr_assert_lt(*requests, 500, "the listing does not end");
        cJSON *page = th_json(&t, &rs);
        while (cJSON_GetArraySize(page) > 0)
            cJSON_AddItemToArray(all, cJSON_DetachItemFromArray(page, 0));
        const char *next = th_header(&rs, "x-ms-continuation-token");
        cr_assert_not_null(next, "the token header is always sent");
        if (!*next)
            break;
        token = dg_arena_strdup(t.a, next);
    }
    dg_arena_defer(t.a, (void (*)(void *)) cJSON_Delete, all);
    return all;
}

static const char *item_id(const cJSON *it)
{
    return cJSON_GetObjectItem(it, "instanceId")->valuestring;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *) x, *(const char *const *) y);
}

/* The ids of a listing, sorted; asserts there is none twice. */
static const char **sorted_ids(const cJSON *all, int *n)
{
    *n = cJSON_GetArraySize(all);
    const char **ids = dg_arena_alloc(t.a, (size_t) (*n ? *n : 1) * sizeof *ids);
    for (int i = 0; i < *n; i++)
        ids[i] = item_id(cJSON_GetArrayItem(all, i));
    qsort(ids, (size_t) *n, sizeof *ids, cmp_str);
    for (int i = 1; i < *n; i++)
        cr_assert_str_neq(ids[i - 1], ids[i], "listed twice: %s", ids[i]);
    return ids;
}

/* ---- counts ---- */

Test(bulk, counts_equal_a_count_of_the_list_for_every_filter)
{
    seed_many(90);
    const char *filters[] = {"",
                             "runtimeStatus=Completed,Failed",
                             "createdTimeFrom=2024-05-03T00:00:00Z",
                             "createdTimeTo=2024-05-05T10:00:00Z",
                             "createdTimeFrom=2024-05-02T00:00:00Z&createdTimeTo=2024-05-06T00:00:00Z",
                             "instanceIdPrefix=order-",
                             "instanceIdPrefix=!x",
                             "name=E2",
                             "name=E1&runtimeStatus=Running,Pending,Suspended&instanceIdPrefix=order",
                             "instanceIdPrefix=nothing-has-this"};
    for (size_t f = 0; f < sizeof filters / sizeof *filters; f++) {
        int requests;
        cJSON *all = list_all(dg_arena_printf(t.a, "top=7&%s", filters[f]), &requests);
        int want[8] = {0}, total = cJSON_GetArraySize(all);
        for (int i = 0; i < total; i++) {
            const char *s = cJSON_GetObjectItem(cJSON_GetArrayItem(all, i), "runtimeStatus")->valuestring;
            for (int k = 0; k < 8; k++)
                want[k] += strcmp(s, STATUSES[k]) == 0;
        }
        for (int ranges = 1; ranges <= 16; ranges += 7) { /* one plain query, 8 ranges, 15 ranges */
            rt_response rs = get("/runtime/webhooks/durabletask/counts",
                                 dg_arena_printf(t.a, "%s&ranges=%d", filters[f], ranges), TH_READ_KEY, NULL);
            cr_assert_eq(rs.status, 200, "%s: %d %s", filters[f], rs.status, rs.body);
            cJSON *j = th_json(&t, &rs);
            cr_assert_eq(cJSON_GetObjectItem(j, "total")->valueint, total, "%s (ranges=%d)", filters[f],
                         ranges);
            cJSON *by = cJSON_GetObjectItem(j, "runtimeStatus");
            for (int k = 0; k < 8; k++)
                cr_assert_eq(cJSON_GetObjectItem(by, STATUSES[k])->valueint, want[k], "%s: %s", filters[f],
                             STATUSES[k]);
            cr_assert_null(cJSON_GetObjectItem(by, "Unknown"));
        }
    }
    /* The full hub has every status, the entity left out. */
    rt_response rs = get("/durabletask/counts", NULL, TH_READ_KEY, NULL);
    cr_assert_eq(rs.status, 200);
    cr_assert_eq(cJSON_GetObjectItem(th_json(&t, &rs), "total")->valueint, 90);
}

Test(bulk, counts_checks_its_parameters_and_keys)
{
    seed_many(8);
    cr_assert_eq(get("/runtime/webhooks/durabletask/counts", "runtimeStatus=Compelted", TH_KEY, NULL).status,
                 400);
    cr_assert_eq(get("/runtime/webhooks/durabletask/counts", "ranges=0", TH_KEY, NULL).status, 400);
    cr_assert_eq(get("/runtime/webhooks/durabletask/counts", "ranges=17", TH_KEY, NULL).status, 400);
    cr_assert_eq(get("/runtime/webhooks/durabletask/counts", "ranges=2x", TH_KEY, NULL).status, 400);
    cr_assert_eq(get("/runtime/webhooks/durabletask/counts", NULL, TH_READ_KEY, NULL).status, 200,
                 "read-only keys may count, as they may list");
    cr_assert_geq(get("/runtime/webhooks/durabletask/counts", NULL, NULL, NULL).status, 400,
                  "no key, no count");
    cr_assert_geq(get("/runtime/webhooks/durabletask/counts", NULL, "wrong-key-0123456789", NULL).status,
                  400);
    /* No such hub: nothing to count. */
    rt_response rs = get("/runtime/webhooks/durabletask/counts", "taskHub=NoSuchHub123", TH_KEY, NULL);
    cr_assert_eq(rs.status, 200, "%d %s", rs.status, rs.body);
    cr_assert_eq(cJSON_GetObjectItem(th_json(&t, &rs), "total")->valueint, 0);
    /* An instance called "counts" is still an instance. */
    seed_instance(t.c, t.a, t.hub, &(struct seed_instance){.id = "counts", .status = "Completed"});
    rs = get("/runtime/webhooks/durabletask/instances/counts", NULL, TH_KEY, NULL);
    cr_assert_eq(rs.status, 200, "%d", rs.status);
    cr_assert_str_eq(cJSON_GetObjectItem(th_json(&t, &rs), "instanceId")->valuestring, "counts");
}

/* ---- the fast listing ---- */

Test(bulk, fast_listing_gives_the_set_of_the_host_form_across_ranges)
{
    seed_many(140);
    int hr, fr, nh, nf;
    const char **host = sorted_ids(list_all("top=9", &hr), &nh);
    const char **fast = sorted_ids(list_all("top=5&ranges=4", &fr), &nf);
    cr_assert_eq(nh, 140);
    cr_assert_eq(nf, nh);
    for (int i = 0; i < nh; i++)
        cr_assert_str_eq(fast[i], host[i]);
    cr_assert_gt(fr, 2, "a token carried the ranges on");
    /* 16 ranges and filters too. */
    const char **f16 =
        sorted_ids(list_all("top=3&ranges=16&runtimeStatus=Completed&showInput=false", &fr), &nf);
    const char **h16 = sorted_ids(list_all("top=50&runtimeStatus=Completed", &hr), &nh);
    cr_assert_eq(nf, nh);
    for (int i = 0; i < nh; i++)
        cr_assert_str_eq(f16[i], h16[i]);
    /* The items are the host form's items. */
    rt_response rs = get("/runtime/webhooks/durabletask/instances",
                         "top=1000&ranges=2&instanceIdPrefix=order-005", TH_KEY, NULL);
    cr_assert_eq(rs.status, 200);
    rt_response hs =
        get("/runtime/webhooks/durabletask/instances", "top=1000&instanceIdPrefix=order-005", TH_KEY, NULL);
    cr_assert_str_eq(rs.body, hs.body, "the same page: %s against %s", rs.body, hs.body);
    cr_assert_not_null(strstr(rs.body, "\"output\":[1,2.50,\"x\"]"),
                       "stored JSON compact, numbers as written: %s", rs.body);
}

Test(bulk, fast_listing_tokens_cover_every_range_and_are_checked)
{
    seed_many(60);
    const char *path = "/runtime/webhooks/durabletask/instances";
    rt_response rs = get(path, "top=2&ranges=4", TH_KEY, NULL);
    cr_assert_eq(rs.status, 200);
    const char *tok = dg_arena_strdup(t.a, th_header(&rs, "x-ms-continuation-token"));
    cr_assert_eq(strncmp(tok, "r4.", 3), 0, "%s", tok);
    int parts = 0;
    for (const char *p = tok; *p; p++)
        parts += *p == '.';
    cr_assert_eq(parts, 4, "one part per range: %s", tok);
    cr_assert_eq(cJSON_GetArraySize(th_json(&t, &rs)), 8, "two rows from each of four ranges");
    /* The same token goes on; another number of ranges, or a changed part, does not. */
    cr_assert_eq(get(path, "top=2&ranges=4", TH_KEY, tok).status, 200);
    cr_assert_eq(get(path, "top=2&ranges=5", TH_KEY, tok).status, 400);
    cr_assert_eq(get(path, "top=2", TH_KEY, tok).status, 400, "not a token of the host form");
    char *bad = dg_arena_strdup(t.a, tok);
    bad[strlen(bad) - 1] = '!';
    cr_assert_eq(get(path, "top=2&ranges=4", TH_KEY, bad).status, 400);
    cr_assert_eq(get(path, "top=2&ranges=4", TH_KEY, dg_arena_printf(t.a, "%s.-", tok)).status, 400,
                 "one part too many");
    cr_assert_eq(get(path, "top=2&ranges=4", TH_KEY, "r4.-.-.-").status, 400, "one part too few");
    char *huge = dg_arena_alloc(t.a, 70000);
    memset(huge, 'A', 69999);
    huge[69999] = '\0';
    memcpy(huge, "r4.", 3);
    cr_assert_eq(get(path, "top=2&ranges=4", TH_KEY, huge).status, 400, "over the cap");
    /* A host-form token is no fast-form token. */
    rt_response hs = get(path, "top=2", TH_KEY, NULL);
    cr_assert_eq(get(path, "top=2&ranges=4", TH_KEY, th_header(&hs, "x-ms-continuation-token")).status, 400);
    /* Done ranges stay done: a token whose every range is done lists nothing more. */
    rt_response done = get(path, "top=2&ranges=4", TH_KEY, "r4.-.-.-.-");
    cr_assert_eq(done.status, 200);
    cr_assert_str_eq(done.body, "[]");
    cr_assert_str_eq(th_header(&done, "x-ms-continuation-token"), "");
    cr_assert_eq(get(path, "ranges=1", TH_KEY, NULL).status, 400);
    cr_assert_eq(get(path, "ranges=17", TH_KEY, NULL).status, 400);
    cr_assert_eq(get(path, "ranges=four", TH_KEY, NULL).status, 400);
}

/* ---- what the routes ask storage for ---- */

/* The request lines of the recorded Table queries of the hub's Instances table. */
static const char *instances_queries(struct rec_proxy *p)
{
    char *all = rec_proxy_dump(p);
    dg_buf b;
    dg_buf_init(&b, 1 << 20);
    const char *needle = dg_arena_printf(t.a, "GET /devstoreaccount1/%sInstances()?", t.hub);
    for (const char *s = strstr(all, needle); s; s = strstr(s + 1, needle)) {
        const char *eol = strstr(s, "\r\n");
        dg_buf_add(&b, s, (size_t) (eol - s));
        dg_buf_addc(&b, '\n');
    }
    const char *out = dg_arena_strdup(t.a, dg_buf_str(&b));
    dg_buf_free(&b);
    free(all);
    return out;
}

static const char *select_of(const char *lines)
{
    const char *s = strstr(lines, "$select=");
    cr_assert_not_null(s, "no $select in %s", lines);
    const char *e = s + strcspn(s, "& \n");
    return dg_arena_strndup(t.a, s, (size_t) (e - s));
}

Test(bulk, routes_ask_only_for_the_columns_they_answer_with)
{
    seed_many(12);
    struct rec_proxy *p = rec_proxy_start();
    az_client *direct = t.env.storage;
    t.env.storage = rec_proxy_client(p);
    struct {
        const char *path, *query;
        bool input, output, name;
    } cases[] = {
        {"/runtime/webhooks/durabletask/instances", "showInput=false", false, true, true},
        {"/runtime/webhooks/durabletask/instances", "", true, true, true},
        {"/runtime/webhooks/durabletask/instances", "showInput=false&ranges=3", false, true, true},
        {"/runtime/webhooks/durabletask/counts", "runtimeStatus=Completed", false, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rec_proxy_clear(p);
        rt_response rs = get(cases[i].path, cases[i].query, TH_KEY, NULL);
        cr_assert_eq(rs.status, 200, "%s?%s: %d", cases[i].path, cases[i].query, rs.status);
        const char *lines = instances_queries(p);
        for (const char *l = lines; *l; l = strchr(l, '\n') + 1) {
            const char *sel = select_of(l);
            cr_assert_eq(strstr(sel, "Input") != NULL, cases[i].input, "%s?%s: %s", cases[i].path,
                         cases[i].query, sel);
            cr_assert_eq(strstr(sel, "Output") != NULL, cases[i].output, "%s", sel);
            cr_assert_eq(strstr(sel, "Name") != NULL, cases[i].name, "%s", sel);
            cr_assert_not_null(strstr(sel, "RuntimeStatus"), "%s", sel);
            cr_assert_null(strstr(sel, "Version"), "no column the answer does not show: %s", sel);
        }
        cr_assert_str_neq(lines, "", "%s?%s made no query", cases[i].path, cases[i].query);
        if (strstr(cases[i].query, "showInput=false")) {
            cJSON *j = th_json(&t, &rs);
            cr_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "input")));
        }
    }
    az_client_destroy(t.env.storage);
    t.env.storage = direct;
    rec_proxy_stop(p);
}

/* ---- purge by filter ---- */

static const char *purge_query = "createdTimeFrom=2020-01-01T00:00:00Z&runtimeStatus=Completed";

static void seed_purgeable(int n, int running, int events)
{
    for (int i = 0; i < n + running; i++) {
        const char *id = dg_arena_printf(t.a, "p%c-%04d", i < n ? 'c' : 'r', i);
        seed_instance(
            t.c, t.a, t.hub,
            &(struct seed_instance){.id = id, .status = i < n ? "Completed" : "Running", .input = "1"});
        seed_history(t.c, t.a, t.hub, id, events);
    }
}

static rt_response purge(const char *token)
{
    struct rt_param h = {"x-ms-continuation-token", token ? token : ""};
    struct th_req r = {"DELETE",
                       "/runtime/webhooks/durabletask/instances",
                       purge_query,
                       TH_KEY,
                       NULL,
                       NULL,
                       token ? &h : NULL,
                       token ? 1 : 0};
    return th_call(&t, &r);
}

Test(bulk, purge_by_filter_deletes_everything_with_each_instances_row_last)
{
    enum { N = 130, RUNNING = 6, EVENTS = 6 };
    seed_purgeable(N, RUNNING, EVENTS);
    /* Blobs of two purged instances and of one kept: the container is not empty. */
    seed_blob(t.c, t.a, t.hub, "pc-0003/message-1.json.gz", "{\"a\":1}");
    seed_blob(t.c, t.a, t.hub, "pc-0100/history-2-Input.json.gz", "\"x\"");
    seed_blob(t.c, t.a, t.hub, dg_arena_printf(t.a, "pr-%04d/message-1.json.gz", N), "{}");
    struct rec_proxy *p = rec_proxy_start();
    az_client *direct = t.env.storage;
    t.env.storage = rec_proxy_client(p);
    t.env.purge_inflight = 16;
    rt_response rs = purge(NULL);
    cr_assert_eq(rs.status, 200, "%d %s", rs.status, rs.body);
    cr_assert_eq(cJSON_GetObjectItem(th_json(&t, &rs), "instancesDeleted")->valueint, N);
    cr_assert_str_eq(th_header(&rs, "x-ms-continuation-token"), "");
    for (int i = 0; i < N + RUNNING; i++) {
        const char *id = dg_arena_printf(t.a, "p%c-%04d", i < N ? 'c' : 'r', i);
        bool purged = i < N;
        cr_assert_eq(instance_exists(t.c, t.a, t.hub, id), !purged, "%s", id);
        cr_assert_eq(count_history(t.c, t.a, t.hub, id), purged ? 0 : EVENTS + 1, "%s", id);
        if (!purged)
            continue;
        /* Its Instances row was deleted after every transaction holding its History rows. */
        unsigned long batch[64], row[4];
        size_t nb =
            rec_proxy_find(p, dg_arena_printf(t.a, "%sHistory(PartitionKey='%s'", t.hub, id), batch, 64);
        size_t nr =
            rec_proxy_find(p, dg_arena_printf(t.a, "%sInstances(PartitionKey='%s'", t.hub, id), row, 4);
        cr_assert_eq(nb, EVENTS + 1, "%s: %zu History deletes", id, nb);
        cr_assert_eq(nr, 1, "%s", id);
        for (size_t k = 0; k < nb; k++)
            cr_assert_lt(batch[k], row[0], "%s: its Instances row went before a History transaction", id);
    }
    cr_assert_eq(count_blobs(t.c, t.a, t.hub, "pc-"), 0);
    cr_assert_eq(count_blobs(t.c, t.a, t.hub, "pr-"), 1, "the kept instance keeps its blob");
    /* Nothing left to purge. */
    cr_assert_eq(purge(NULL).status, 404);
    az_client_destroy(t.env.storage);
    t.env.storage = direct;
    rec_proxy_stop(p);
}

Test(bulk, purge_by_filter_with_a_small_budget_continues_to_the_end)
{
    enum { N = 70 };
    seed_purgeable(N, 3, 3);
    t.env.purge_budget_ms = 1;
    t.env.purge_inflight = 4;
    int requests = 0, total = 0;
    const char *token = NULL;
    for (;;) {
        rt_response rs = purge(token);
        requests++;
        cr_assert_lt(requests, 500);
        if (rs.status == 404)
            break;
        cr_assert_eq(rs.status, 200, "%d %s", rs.status, rs.body);
        int k = cJSON_GetObjectItem(th_json(&t, &rs), "instancesDeleted")->valueint;
        cr_assert_gt(k, 0, "every call makes progress");
        total += k;
        const char *next = th_header(&rs, "x-ms-continuation-token");
        if (!next || !*next)
            break;
        token = dg_arena_strdup(t.a, next);
    }
    cr_assert_eq(total, N);
    cr_assert_gt(requests, 2, "the budget cut the purge into several calls");
    for (int i = 0; i < N + 3; i++) {
        const char *id = dg_arena_printf(t.a, "p%c-%04d", i < N ? 'c' : 'r', i);
        cr_assert_eq(instance_exists(t.c, t.a, t.hub, id), i >= N, "%s", id);
        cr_assert_eq(count_history(t.c, t.a, t.hub, id), i < N ? 0 : 4, "%s", id);
    }
}
