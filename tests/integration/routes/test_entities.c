/* The entity routes (docs/http-api.md §4.12) through the router, with no socket,
 * over Instances rows seeded in a real Azurite exactly as the real worker left
 * them: DurableTask.Core 3.11.2's entity dispatcher over DurableTask.AzureStorage
 * 2.11.2 (tests/interop/worker, the counter entity of Entities.cs; the rows
 * were dumped with `worker_cli rows Instances`). Legacy-format rows follow the
 * extension's scheduler (docs/storage-layout.md §9.2). Signals are checked in the
 * control queue they land on. */
#include "base/time.h"
#include "routes/handlers.h"
#include "routes/router.h"
#include "storage/queue.h"
#include "storage/table.h"
#include "taskhub/entity.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"
#include "tests/support/azurite_env.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static az_client *c;
static dg_arena *a;
static const char *hub;
static auth_keys *keys;
static struct rt_env env;

#define KEY      "ext-key-0123456789"
#define READ_KEY "dashboard-0123456789"

static const char *keyfile =
    "{\"masterKey\":\"master-key-0123456789\",\"systemKeys\":{\"durabletask_extension\":"
    "\"" KEY "\"},\"readOnlyKeys\":[\"" READ_KEY "\"]}";

/* Fixtures: the columns of real entity rows (CreatedTime/LastUpdatedTime are
 * moved into the past so that the default lastOperationTimeTo=now sees them). */
#define CORE_5       "{\"state\":\"5\",\"sorter\":{}}"
#define CORE_OBJ     "{\"state\":\"{\\\"value\\\":3,\\\"s\\\":\\\"x\\\\\\\"y\\\"}\",\"sorter\":{}}"
#define CORE_DELETED "{\"sorter\":{}}"
#define LEGACY_7     "{\"exists\":true,\"state\":\"7\",\"sorter\":{}}"
#define LEGACY_TXT   "{\"exists\":true,\"state\":\"\\\"line1\\\\nline2\\\"\",\"sorter\":{}}"
#define EXISTS       "{\"entityExists\":true}"

static dg_ticks at(const char *iso)
{
    dg_ticks t;
    cr_assert_eq(dg_iso_parse(iso, strlen(iso), &t), DG_OK, "%s", iso);
    return t;
}

static const char *table(void)
{
    return dg_arena_printf(a, "%sInstances", hub);
}

/* An entity row as the worker checkpoints it after a batch (docs/storage-layout.md §9.2). */
static void seed_entity(const char *id, const char *input, const char *custom, const char *created)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity e;
    az_entity_init(&e, a, hub_key_escape(a, id, strlen(id)), "");
    az_entity_set_str(&e, a, "CustomStatus", custom);
    az_entity_set_str(&e, a, "ExecutionId", "697f935bdcd542a3ae58fd96283c222b");
    dg_ticks t = at(created);
    az_entity_set_datetime(&e, a, "LastUpdatedTime", t + 12738); /* 1.27 ms later, as observed */
    az_entity_set_str(&e, a, "TaskHubName", hub);
    az_entity_set_str(&e, a, "ParentInstanceId", "");
    az_entity_set_str(&e, a, "Name", id);
    az_entity_set_str(&e, a, "Version", "");
    az_entity_set_datetime(&e, a, "CreatedTime", t);
    az_entity_set_str(&e, a, "RuntimeStatus", "Running");
    az_entity_set_str(&e, a, "Tags", "null");
    if (input)
        az_entity_set_str(&e, a, "Input", input);
    cr_assert_eq(az_table_write(c, &x, table(), AZ_UPSERT_REPLACE, &e, NULL, NULL), DG_OK, "%s",
                 x.st.message);
}

static void seed_orchestration(const char *id, const char *created)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity e;
    az_entity_init(&e, a, hub_key_escape(a, id, strlen(id)), "");
    az_entity_set_str(&e, a, "Input", "\"warmup\"");
    az_entity_set_datetime(&e, a, "CreatedTime", at(created));
    az_entity_set_str(&e, a, "Name", "Echo");
    az_entity_set_str(&e, a, "Version", "");
    az_entity_set_str(&e, a, "RuntimeStatus", "Completed");
    az_entity_set_datetime(&e, a, "LastUpdatedTime", at(created) + 1833000);
    az_entity_set_str(&e, a, "TaskHubName", hub);
    az_entity_set_str(&e, a, "ExecutionId", "c8b46e48d8534d1f9fad34a335de1063");
    az_entity_set_i32(&e, a, "Generation", 0);
    az_entity_set_str(&e, a, "Tags", "null");
    az_entity_set_str(&e, a, "ParentInstanceId", "");
    /* Even a status that looks like an entity's must not make it one. */
    az_entity_set_str(&e, a, "CustomStatus", EXISTS);
    az_entity_set_str(&e, a, "Output", "\"warmup\"");
    cr_assert_eq(az_table_write(c, &x, table(), AZ_UPSERT_REPLACE, &e, NULL, NULL), DG_OK, "%s",
                 x.st.message);
}

static void setup(void)
{
    c = test_azurite_client(NULL, NULL);
    a = dg_arena_create();
    hub = test_unique_name(a, "Ent");
    hub_cache_clear();
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(az_table_create(c, &x, table()), DG_OK);
    char err[128];
    keys = auth_keys_parse(keyfile, strlen(keyfile), err, sizeof err);
    cr_assert_not_null(keys, "%s", err);
    env = (struct rt_env){.storage = c, .keys = keys, .default_hub = hub};

    seed_entity("@counter@k1", CORE_5, EXISTS, "2024-05-01T09:56:09.4043039Z");
    seed_entity("@counter@", "{\"state\":\"2\",\"sorter\":{}}", EXISTS, "2024-05-01T09:56:10.0000000Z");
    seed_entity("@counter@a^b@c", "{\"state\":\"1\",\"sorter\":{}}", EXISTS, "2024-05-02T10:00:00.4667920Z");
    seed_entity("@counter@obj", CORE_OBJ, EXISTS, "2024-05-03T10:00:00.768931Z");
    seed_entity("@counter@gone", CORE_DELETED, "{}", "2024-05-03T11:00:00Z");
    seed_entity("@legacy@seven", LEGACY_7, EXISTS, "2024-05-04T00:00:00.1Z");
    seed_entity("@legacy@txt", LEGACY_TXT, EXISTS, "2024-05-04T00:00:01Z");
    seed_entity("@legacy@gone", CORE_DELETED, "{}", "2024-05-04T00:00:02Z");
    /* Inconsistent on purpose: the two list modes read different columns (docs/storage-layout.md §9.3). */
    seed_entity("@odd@statusonly", CORE_DELETED, EXISTS, "2024-05-05T00:00:00Z");
    seed_entity("@odd@stateonly", CORE_5, "{}", "2024-05-05T00:00:01Z");
    seed_orchestration("interop-warmup-1", "2024-05-01T09:55:05.3183250Z");
    seed_orchestration("Apple", "2024-05-01T09:55:05Z");     /* 'A' is the upper bound: outside */
    seed_orchestration("?query", "2024-05-01T09:55:05Z");    /* below '@' */
    seed_orchestration("@noentity", "2024-05-01T09:55:05Z"); /* '@' but no second '@': not an entity id */
}

static void teardown(void)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_table_delete(c, &x, table());
    auth_keys_destroy(keys);
    dg_arena_destroy(a);
    az_client_destroy(c);
}

TestSuite(entities, .init = setup, .fini = teardown, .timeout = 120);

struct req {
    const char *method, *path, *query, *key;
    const char *content_type, *token;
    const char *body;
    size_t body_len;
};

static rt_response call(struct req r)
{
    static struct rt_param h[4];
    size_t nh = 0;
    h[nh++] = (struct rt_param){"Host", "gw"};
    h[nh++] = (struct rt_param){"x-functions-key", r.key ? r.key : KEY};
    if (r.content_type)
        h[nh++] = (struct rt_param){"Content-Type", r.content_type};
    if (r.token)
        h[nh++] = (struct rt_param){"x-ms-continuation-token", r.token};
    rt_request rq = {.arena = a,
                     .method = r.method,
                     .path = dg_arena_printf(a, "/runtime/webhooks/durabletask/%s", r.path),
                     .raw_query = r.query ? r.query : "",
                     .headers = h,
                     .nheaders = nh,
                     .body = r.body,
                     .body_len = r.body && !r.body_len ? strlen(r.body) : r.body_len};
    rt_response rs;
    rt_dispatch(&env, &rq, &rs);
    return rs;
}

static rt_response get(const char *path, const char *query)
{
    return call((struct req){.method = "GET", .path = path, .query = query});
}

static const char *header(const rt_response *rs, const char *name)
{
    for (size_t i = 0; i < rs->nheaders; i++)
        if (strcasecmp(rs->headers[i].name, name) == 0)
            return rs->headers[i].value;
    return NULL;
}

static const char *body_text(const rt_response *rs)
{
    cr_assert_not_null(rs->body);
    return dg_arena_strndup(a, rs->body, rs->body_len);
}

static cJSON *body_json(const rt_response *rs)
{
    cr_assert_str_eq(rs->content_type, "application/json; charset=utf-8");
    cJSON *j = cJSON_ParseWithLength(rs->body, rs->body_len);
    cr_assert_not_null(j, "not JSON: %.*s", (int) rs->body_len, rs->body);
    dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, j);
    return j;
}

static void assert_message(const rt_response *rs, int status, const char *message)
{
    cr_assert_eq(rs->status, status, "status %d, body %.*s", rs->status, (int) rs->body_len,
                 rs->body ? rs->body : "");
    cJSON *j = body_json(rs);
    cr_assert_eq(cJSON_GetArraySize(j), 1, "form A has one member");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "Message")->valuestring, message);
}

/* ---- read ------------------------------------------------------------- */

Test(entities, read_core_format)
{
    rt_response rs = get("entities/counter/k1", NULL);
    cr_assert_eq(rs.status, 200);
    cr_assert_str_eq(rs.content_type, "application/json; charset=utf-8");
    cr_assert_str_eq(body_text(&rs), "5");
    rs = get("entities/Counter/obj", NULL);
    cr_assert_eq(rs.status, 200, "the name is lowercased");
    cr_assert_str_eq(body_text(&rs), "{\"value\":3,\"s\":\"x\\\"y\"}", "the state text is the body");
    rs = get("Entities/COUNTER/a%5Eb%40c", NULL);
    cr_assert_eq(rs.status, 200, "an escaped key ('^' is stored as '^^')");
    cr_assert_str_eq(body_text(&rs), "1");
}

Test(entities, state_that_only_starts_with_json_is_a_string)
{
    seed_entity("@counter@answer", "{\"state\":\"42 is the answer\",\"sorter\":{}}", EXISTS,
                "2024-05-06T00:00:00Z");
    seed_entity("@counter@story", "{\"state\":\"true story\",\"sorter\":{}}", EXISTS, "2024-05-06T00:00:01Z");
    rt_response rs = get("entities/counter/answer", NULL);
    cr_assert_eq(rs.status, 200);
    cr_assert_str_eq(body_text(&rs), "\"42 is the answer\"",
                     "the text as a JSON string, not the body as stored");
    rs = get("entities/counter/story", NULL);
    cr_assert_str_eq(body_text(&rs), "\"true story\"");
    rs = get("entities/counter", "fetchState=true");
    cr_assert_eq(rs.status, 200);
    bool seen = false;
    cJSON *arr = body_json(&rs);
    for (cJSON *it = arr ? arr->child : NULL; it; it = it->next) {
        cJSON *id = cJSON_GetObjectItem(it, "entityId");
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(id, "key")), "answer") == 0) {
            cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(it, "state")), "42 is the answer");
            seen = true;
        }
    }
    cr_assert(seen);
}

Test(entities, read_legacy_format)
{
    rt_response rs = get("entities/legacy/seven", NULL);
    cr_assert_eq(rs.status, 200);
    cr_assert_str_eq(body_text(&rs), "7");
    rs = get("entities/legacy/txt", NULL);
    cr_assert_eq(rs.status, 200);
    cr_assert_str_eq(body_text(&rs), "\"line1\\nline2\"");
}

Test(entities, dollar_is_the_empty_key)
{
    rt_response rs = get("entities/counter/$", NULL);
    cr_assert_eq(rs.status, 200);
    cr_assert_str_eq(body_text(&rs), "2");
}

Test(entities, deleted_missing_and_orchestrations_are_404)
{
    const char *paths[] = {"entities/counter/gone", "entities/legacy/gone", "entities/counter/nope",
                           "entities/nobody/k1", "entities/odd/statusonly"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        rt_response rs = get(paths[i], NULL);
        cr_assert_eq(rs.status, 404, "%s: %d", paths[i], rs.status);
        cr_assert_null(rs.body, "%s: empty body", paths[i]);
    }
    rt_response rs = get("entities/odd/stateonly", NULL);
    cr_assert_eq(rs.status, 200, "a read consults the state, not CustomStatus");
    rs = get("entities/counter/k1", "taskHub=NoSuchHub42");
    cr_assert_eq(rs.status, 404, "no hub");
}

Test(entities, read_blob_backed_state)
{
    /* The real worker moved a 40 KB state to
     * {hub}-largemessages/@counter@big/history-0000000000000001-ExecutionStarted-7AB3F0C5-Input.json.gz
     * and left the blob's URL ('@' as %40) in Input. */
    az_ctx x;
    az_ctx_init(&x, a);
    char *big = dg_arena_alloc(a, 40100);
    memset(big, 'x', 40000);
    big[40000] = '\0';
    const char *state = dg_arena_printf(a, "{\"big\":\"%s\"}", big);
    cJSON *sched = cJSON_CreateObject();
    cJSON_AddStringToObject(sched, "state", state);
    cJSON_AddObjectToObject(sched, "sorter");
    char *txt = cJSON_PrintUnformatted(sched);
    cJSON_Delete(sched);
    const char *name = "@counter@big/history-0000000000000001-ExecutionStarted-7AB3F0C5-Input.json.gz";
    cr_assert_eq(hub_large_put(c, &x, hub, name, txt, strlen(txt)), DG_OK);
    cJSON_free(txt);
    const char *url = hub_large_url(c, a, hub, name);
    cr_assert_not_null(strstr(url, "/%40counter%40big/history-"), "%s", url);
    seed_entity("@counter@big", url, EXISTS, "2024-05-06T00:00:00Z");

    rt_response rs = get("entities/counter/big", NULL);
    cr_assert_eq(rs.status, 200);
    cr_assert_str_eq(body_text(&rs), state);
    rs = get("entities/counter", "fetchState=true&lastOperationTimeFrom=2024-05-06");
    cr_assert_eq(rs.status, 200);
    cJSON *j = body_json(&rs);
    cr_assert_eq(cJSON_GetArraySize(j), 1);
    cJSON *st = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 0), "state");
    cr_assert_eq(strlen(cJSON_GetObjectItemCaseSensitive(st, "big")->valuestring), 40000);
}

Test(entities, bad_keys_are_400)
{
    const char *paths[] = {"entities/counter/a%2Fb", "entities/counter/a%5Cb",  "entities/counter/a%23b",
                           "entities/counter/a%3Fb", "entities/counter/tab%09", "entities/counter/c1%C2%85"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        rt_response rs = get(paths[i], NULL);
        assert_message(
            &rs, 400,
            "entityKey (Parameter 'Entity keys must not contain /, \\, #, ?, or control characters.')");
    }
}

/* ---- list ------------------------------------------------------------- */

/* "name/key" of each item, joined with spaces; also checks the item shape. */
static const char *ids(cJSON *arr, bool with_state)
{
    const char *out = "";
    for (cJSON *o = arr->child; o; o = o->next) {
        cr_assert_str_eq(o->child->string, "entityId");
        cr_assert_str_eq(o->child->next->string, "lastOperationTime");
        cr_assert_str_eq(o->child->next->next->string, "state");
        cr_assert_null(o->child->next->next->next);
        cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "entityId");
        cr_assert_str_eq(id->child->string, "name");
        cr_assert_str_eq(id->child->next->string, "key");
        cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "state");
        if (!with_state)
            cr_assert(cJSON_IsNull(st), "state is null without fetchState");
        out = dg_arena_printf(a, "%s%s%s/%s", out, *out ? " " : "",
                              cJSON_GetObjectItemCaseSensitive(id, "name")->valuestring,
                              cJSON_GetObjectItemCaseSensitive(id, "key")->valuestring);
    }
    return out;
}

Test(entities, list_all_without_state)
{
    rt_response rs = get("entities", NULL);
    cr_assert_eq(rs.status, 200);
    cr_assert_str_eq(header(&rs, "x-ms-continuation-token"), "", "always sent, empty on the last page");
    cJSON *j = body_json(&rs);
    /* PartitionKey order; deleted entities and orchestrations left out; the
     * status-only row counts without fetchState. */
    cr_assert_str_eq(ids(j, false), "counter/ counter/a^b@c counter/k1 counter/obj legacy/seven legacy/txt "
                                    "odd/statusonly");
    cJSON *first = cJSON_GetArrayItem(j, 2);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(first, "lastOperationTime")->valuestring,
                     "2024-05-01T09:56:09.4043039Z", "CreatedTime, 7 digits");
    cr_assert_str_eq(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 3), "lastOperationTime")->valuestring,
        "2024-05-03T10:00:00.768931Z", "trailing zeros dropped");
    cr_assert_str_eq(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 0), "lastOperationTime")->valuestring,
        "2024-05-01T09:56:10Z", "no fraction at all");
    cr_assert_str_eq(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 4), "lastOperationTime")->valuestring,
        "2024-05-04T00:00:00.1Z");
}

Test(entities, list_with_state)
{
    rt_response rs = get("entities", "fetchState=TRUE");
    cr_assert_eq(rs.status, 200);
    cJSON *j = body_json(&rs);
    cr_assert_str_eq(ids(j, true),
                     "counter/ counter/a^b@c counter/k1 counter/obj legacy/seven legacy/txt "
                     "odd/stateonly",
                     "with fetchState the state decides");
    cJSON *obj = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 3), "state");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(obj, "value")->valueint, 3, "the state parsed");
    cJSON *txt = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 5), "state");
    cr_assert_str_eq(txt->valuestring, "line1\nline2");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 2), "state")->valueint, 5);
}

Test(entities, list_by_name_ignores_case)
{
    rt_response rs = get("entities/COUNTER", NULL);
    cr_assert_eq(rs.status, 200);
    cr_assert_str_eq(ids(body_json(&rs), false), "counter/ counter/a^b@c counter/k1 counter/obj");
    rs = get("Entities/Legacy/", "fetchState=false");
    cr_assert_str_eq(ids(body_json(&rs), false), "legacy/seven legacy/txt");
    rs = get("entities/count", NULL);
    cr_assert_str_eq(ids(body_json(&rs), false), "", "a name is not a prefix of names");
    rs = get("entities", "taskHub=NoSuchHub42");
    cr_assert_eq(rs.status, 200, "no hub, no entities");
    cr_assert_str_eq(body_text(&rs), "[]");
}

Test(entities, list_time_range)
{
    rt_response rs = get("entities", "lastOperationTimeFrom=2024-05-02T10:00:00.4667920Z&"
                                     "lastOperationTimeTo=2024-05-04T00:00:00.1Z");
    cr_assert_eq(rs.status, 200);
    cr_assert_str_eq(ids(body_json(&rs), false), "counter/a^b@c counter/obj legacy/seven",
                     "both ends inclusive");
    rs = get("entities/counter", "lastOperationTimeTo=2024-05-01T11:56:09.5%2B02:00");
    cr_assert_str_eq(ids(body_json(&rs), false), "counter/k1", "an offset is taken to UTC");
    rs = get("entities/counter", "lastOperationTimeTo=2024-05-01T11:56:10+02:00");
    cr_assert_str_eq(ids(body_json(&rs), false), "counter/ counter/k1",
                     "an unencoded '+' arrives as a space");
    rs = get("entities/counter", "lastOperationTimeFrom=2024-05-03");
    cr_assert_str_eq(ids(body_json(&rs), false), "counter/obj", "a date alone is midnight UTC");
    rs = get("entities/counter", "lastOperationTimeFrom=yesterday");
    cr_assert_str_eq(ids(body_json(&rs), false), "counter/ counter/a^b@c counter/k1 counter/obj",
                     "an unreadable time is no bound");
}

Test(entities, list_to_defaults_to_now)
{
    char future[DG_ISO_LEN];
    dg_iso_format(dg_now_ticks() + 3600 * DG_TICKS_PER_SEC, future);
    seed_entity("@later@x", CORE_5, EXISTS, future);
    rt_response rs = get("entities/later", NULL);
    cr_assert_str_eq(ids(body_json(&rs), false), "", "written after now: not seen");
    rs = get("entities/later", "lastOperationTimeTo=9999-01-01T00:00:00Z");
    cr_assert_str_eq(ids(body_json(&rs), false), "later/x");
}

/* Follows the tokens as the durable-functions client does; returns every id. */
static const char *list_all_pages(const char *path, const char *query, int top, int *pages)
{
    const char *token = NULL, *all = "";
    *pages = 0;
    for (;;) {
        rt_response rs = call((struct req){.method = "GET", .path = path, .query = query, .token = token});
        cr_assert_eq(rs.status, 200);
        cJSON *j = body_json(&rs);
        cr_assert_leq(cJSON_GetArraySize(j), top);
        const char *got = ids(j, strstr(query, "fetchState=true") != NULL);
        if (*got)
            all = dg_arena_printf(a, "%s%s%s", all, *all ? " " : "", got);
        (*pages)++;
        token = header(&rs, "x-ms-continuation-token");
        cr_assert_not_null(token);
        if (!*token)
            return all;
        cr_assert_lt(*pages, 100, "a token that never ends");
    }
}

Test(entities, paging_with_tokens_until_empty)
{
    /* 25 live counters and 10 deleted ones between them, listed 4 at a time. */
    const char *want = "";
    for (int i = 0; i < 35; i++) {
        char key[8];
        snprintf(key, sizeof key, "p%02d", i);
        bool live = i % 7 != 3 && i % 7 != 5;
        if (i >= 28)
            live = false; /* a run of deleted ones at the end: empty pages with a token */
        seed_entity(dg_arena_printf(a, "@pager@%s", key), live ? CORE_5 : CORE_DELETED, live ? EXISTS : "{}",
                    "2024-06-01T00:00:00Z");
        if (live)
            want = dg_arena_printf(a, "%s%spager/%s", want, *want ? " " : "", key);
    }
    int pages;
    cr_assert_str_eq(list_all_pages("entities/pager", "top=4", 4, &pages), want);
    cr_assert_geq(pages, 5, "more than top entities take several pages (%d)", pages);
    cr_assert_str_eq(list_all_pages("entities/pager", "top=4&fetchState=true", 4, &pages), want);
    cr_assert_str_eq(list_all_pages("entities", "top=3&lastOperationTimeFrom=2024-06-01", 3, &pages), want,
                     "without a name");
}

Test(entities, empty_pages_are_requeried_briefly)
{
    for (int i = 0; i < 6; i++)
        seed_entity(dg_arena_printf(a, "@ghost@%c", 'a' + i), CORE_DELETED, "{}", "2024-06-02T00:00:00Z");
    seed_entity("@ghost@z", CORE_5, EXISTS, "2024-06-02T00:00:00Z");
    az_ctx x;
    az_ctx_init(&x, a);
    struct hub_entity_query q = {.name = "ghost", .to = dg_now_ticks(), .top = 2, .requery_ms = 30000};
    struct hub_entity_page pg;
    cr_assert_eq(hub_entity_query(c, &x, hub, &q, &pg), DG_OK);
    cr_assert_eq(pg.n, 1, "three empty pages re-queried within the budget");
    cr_assert_str_eq(pg.items[0].key, "z");
    cr_assert_null(pg.next_pk);
    /* With no budget left after the first page, the empty page comes back with its token. */
    q.requery_ms = 1;
    struct hub_entity_page first;
    cr_assert_eq(hub_entity_query(c, &x, hub, &q, &first), DG_OK);
    if (first.n == 0)
        cr_assert_not_null(first.next_pk, "an empty page always carries a token");
}

Test(entities, bad_continuation_token_is_400)
{
    const char *bad[] = {"bnVsbA==", "not a token", "YSBi=", "IGE"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rt_response rs = call((struct req){.method = "GET", .path = "entities", .token = bad[i]});
        assert_message(&rs, 400, "The continuation token is not valid.");
    }
    char *huge = dg_arena_alloc(a, RT_TOKEN_MAX + 2);
    memset(huge, 'A', RT_TOKEN_MAX + 1);
    huge[RT_TOKEN_MAX + 1] = '\0';
    rt_response rs = call((struct req){.method = "GET", .path = "entities", .token = huge});
    assert_message(&rs, 400, "The continuation token is not valid.");
    rs = call((struct req){.method = "GET", .path = "entities", .token = ""});
    cr_assert_eq(rs.status, 200, "an empty token is the first page");
}

Test(entities, top_defaults_and_caps)
{
    rt_response rs = get("entities", "top=0");
    cr_assert_eq(rs.status, 200);
    cr_assert_eq(cJSON_GetArraySize(body_json(&rs)), 7, "top=0: the default");
    const char *bad[] = {"top=abc", "top=1.5", "top=0x10", "top=%202", "top=+2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(get("entities", bad[i]).status, 400, "%s", bad[i]);
    rs = get("entities", "top=100000");
    cr_assert_eq(rs.status, 200, "capped at the service's 1000");
    rs = get("entities", "top=1");
    cr_assert_leq(cJSON_GetArraySize(body_json(&rs)), 1);
    cr_assert_str_neq(header(&rs, "x-ms-continuation-token"), "");
}

Test(entities, read_only_keys_read_and_may_not_signal)
{
    rt_response rs = call((struct req){.method = "GET", .path = "entities/counter/k1", .key = READ_KEY});
    cr_assert_eq(rs.status, 200);
    rs = call((struct req){.method = "GET", .path = "entities", .key = READ_KEY});
    cr_assert_eq(rs.status, 200);
    rs = call(
        (struct req){.method = "POST", .path = "entities/counter/k1", .query = "op=add", .key = READ_KEY});
    cr_assert_eq(rs.status, 403);
    rs = call((struct req){.method = "DELETE", .path = "entities/counter/k1", .key = READ_KEY});
    cr_assert_eq(rs.status, 403);
    rs = call((struct req){.method = "GET", .path = "entities", .key = "wrong-key-0123456789"});
    cr_assert_eq(rs.status, 401);
}

/* ---- signal ----------------------------------------------------------- */

/* The one message of the queue the entity is routed to (docs/storage-layout.md §9.1), parsed; every
 * other control queue must be empty. */
static cJSON *the_message(const char *entity_id)
{
    az_ctx x;
    az_ctx_init(&x, a);
    struct hub h;
    cr_assert_eq(hub_open(c, &x, hub, 0, &h), DG_OK);
    cr_assert(h.exists);
    cr_assert_eq(h.partitions, 4);
    unsigned want = hub_partition(entity_id, strlen(entity_id), 4);
    cJSON *found = NULL;
    for (unsigned p = 0; p < 4; p++) {
        struct az_qmsg *m;
        size_t n;
        cr_assert_eq(az_queue_peek(c, &x, hub_control_queue_name(&h, a, p), 32, &m, &n), DG_OK);
        cr_assert_eq(n, p == want ? 1u : 0u, "queue %u holds %zu messages (want one on %u)", p, n, want);
        if (n) {
            found = cJSON_ParseWithLength(m[0].text, m[0].text_len);
            cr_assert_not_null(found, "%.*s", (int) m[0].text_len, m[0].text);
            dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, found);
            struct az_qmsg *got;
            size_t gn;
            cr_assert_eq(az_queue_get(c, &x, hub_control_queue_name(&h, a, p), 32, 30, &got, &gn), DG_OK);
            for (size_t i = 0; i < gn; i++)
                az_queue_delete_msg(c, &x, hub_control_queue_name(&h, a, p), got[i].id, got[i].pop_receipt);
        }
    }
    return found;
}

static cJSON *member(cJSON *o, const char *name)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert_not_null(m, "no %s", name);
    return m;
}

/* The member names of o, in order, joined with ','. */
static const char *names_of(cJSON *o)
{
    const char *out = "";
    for (cJSON *m = o->child; m; m = m->next)
        out = dg_arena_printf(a, "%s%s%s", out, *out ? "," : "", m->string);
    return out;
}

static void assert_type_first(cJSON *o, const char *type)
{
    cr_assert_str_eq(o->child->string, "$type");
    cr_assert_str_eq(o->child->valuestring, type);
}

/* Checks the envelope and returns the request message, with its id checked
 * and removed so that callers compare the rest as text. */
static const char *request_of(cJSON *envelope, const char *entity_id)
{
    assert_type_first(envelope, "DurableTask.AzureStorage.MessageData");
    cr_assert_str_eq(
        names_of(envelope),
        "$type,ActivityId,TaskMessage,CompressedBlobName,SequenceNumber,Sender,SerializableTraceContext");
    cr_assert(cJSON_IsNull(member(envelope, "CompressedBlobName")));
    cJSON *sender = member(envelope, "Sender");
    cr_assert_str_eq(member(sender, "InstanceId")->valuestring, "");
    cr_assert_str_eq(member(sender, "ExecutionId")->valuestring, "");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(sender, "$type"));
    cJSON *tm = member(envelope, "TaskMessage");
    assert_type_first(tm, "DurableTask.Core.TaskMessage");
    cr_assert_str_eq(names_of(tm),
                     "$type,Event,SequenceNumber,OrchestrationInstance,OrchestrationExecutionContext");
    cJSON *oi = member(tm, "OrchestrationInstance");
    assert_type_first(oi, "DurableTask.Core.OrchestrationInstance");
    cr_assert_str_eq(names_of(oi), "$type,InstanceId,ExecutionId");
    cr_assert_str_eq(member(oi, "InstanceId")->valuestring, entity_id);
    cr_assert(cJSON_IsNull(member(oi, "ExecutionId")),
              "ExecutionId must be null (docs/storage-layout.md §9.5)");
    cJSON *ev = member(tm, "Event");
    assert_type_first(ev, "DurableTask.Core.History.EventRaisedEvent");
    cr_assert_str_eq(names_of(ev),
                     "$type,Name,Input,ParentTraceContext,EventType,EventId,IsPlayed,Timestamp");
    cr_assert_eq(member(ev, "EventType")->valueint, 15);
    cr_assert_eq(member(ev, "EventId")->valueint, -1);
    cr_assert_str_eq(member(ev, "Name")->valuestring, "op");
    cr_assert(cJSON_IsNull(member(ev, "ParentTraceContext")));
    const char *ts = member(ev, "Timestamp")->valuestring;
    cr_assert_eq(ts[strlen(ts) - 1], 'Z');
    cJSON *req = cJSON_Parse(member(ev, "Input")->valuestring);
    cr_assert_not_null(req);
    dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, req);
    const char *rn = names_of(req);
    cr_assert(strcmp(rn, "op,signal,input,id,Timestamp,Predecessor") == 0 ||
                  strcmp(rn, "op,signal,id,Timestamp,Predecessor") == 0,
              "request members %s", rn);
    const char *id = member(req, "id")->valuestring;
    cr_assert_eq(strlen(id), 36, "a GUID in D format: %s", id);
    for (size_t i = 0; i < 36; i++)
        cr_assert(i == 8 || i == 13 || i == 18 || i == 23 ? id[i] == '-'
                                                          : strchr("0123456789abcdef", id[i]) != NULL,
                  "%s", id);
    const char *txt = member(ev, "Input")->valuestring;
    const char *at = strstr(txt, id);
    cr_assert_not_null(at);
    return dg_arena_printf(a, "%.*s<id>%s", (int) (at - txt), txt, at + 36);
}

static const char *signal_request(struct req r, const char *entity_id)
{
    rt_response rs = call(r);
    cr_assert_eq(rs.status, 202, "status %d: %.*s", rs.status, (int) rs.body_len, rs.body ? rs.body : "");
    cr_assert_null(rs.body, "202 with an empty body");
    return request_of(the_message(entity_id), entity_id);
}

#define TAIL ",\"id\":\"<id>\",\"Timestamp\":\"0001-01-01T00:00:00\",\"Predecessor\":\"0001-01-01T00:00:00\"}"

Test(entities, signal_json_body)
{
    cr_assert_str_eq(signal_request((struct req){.method = "POST",
                                                 .path = "entities/Counter/k1",
                                                 .query = "op=add",
                                                 .content_type = "application/json",
                                                 .body = "5"},
                                    "@counter@k1"),
                     "{\"op\":\"add\",\"signal\":true,\"input\":\"5\"" TAIL);
    cr_assert_str_eq(
        signal_request((struct req){.method = "POST",
                                    .path = "entities/counter/obj",
                                    .query = "op=set",
                                    .content_type = "Application/JSON; charset=utf-8",
                                    .body = " {\"x\": [1, 2.50, \"a\\\"b\"]}\n"},
                       "@counter@obj"),
        "{\"op\":\"set\",\"signal\":true,\"input\":\"{\\\"x\\\":[1,2.50,\\\"a\\\\\\\"b\\\"]}\"" TAIL,
        "compact JSON text");
}

Test(entities, signal_other_media_types_are_strings)
{
    cr_assert_str_eq(
        signal_request((struct req){.method = "POST",
                                    .path = "entities/counter/t",
                                    .query = "op=set",
                                    .content_type = "text/plain",
                                    .body = "line1\nline2 \"q\""},
                       "@counter@t"),
        "{\"op\":\"set\",\"signal\":true,\"input\":\"\\\"line1\\\\nline2 \\\\\\\"q\\\\\\\"\\\"\"" TAIL);
    cr_assert_str_eq(
        signal_request(
            (struct req){.method = "POST", .path = "entities/counter/t", .query = "op=set", .body = "5"},
            "@counter@t"),
        "{\"op\":\"set\",\"signal\":true,\"input\":\"\\\"5\\\"\"" TAIL, "no Content-Type: a string too");
    cr_assert_str_eq(signal_request((struct req){.method = "POST",
                                                 .path = "entities/counter/t",
                                                 .query = "op=set",
                                                 .content_type = "text/plain",
                                                 .body = "a\xff"
                                                         "b\x01",
                                                 .body_len = 4},
                                    "@counter@t"),
                     "{\"op\":\"set\",\"signal\":true,\"input\":\"\\\"a\xef\xbf\xbd"
                     "b\\\\u0001\\\"\"" TAIL,
                     "invalid UTF-8 becomes U+FFFD, control characters are escaped");
}

Test(entities, signal_without_body_or_op)
{
    cr_assert_str_eq(signal_request((struct req){.method = "POST",
                                                 .path = "entities/counter/k1",
                                                 .query = "op=get",
                                                 .content_type = "application/json"},
                                    "@counter@k1"),
                     "{\"op\":\"get\",\"signal\":true" TAIL, "no body: no input");
    cr_assert_str_eq(signal_request((struct req){.method = "POST", .path = "entities/counter"}, "@counter@"),
                     "{\"op\":\"\",\"signal\":true" TAIL, "no key: the empty key; no op: the empty op");
    cr_assert_str_eq(
        signal_request((struct req){.method = "POST", .path = "entities/counter/$", .query = "op=x"},
                       "@counter@$"),
        "{\"op\":\"x\",\"signal\":true" TAIL, "'$' is a plain key when signalling, as in the host");
}

Test(entities, delete_is_the_signal_delete)
{
    cr_assert_str_eq(
        signal_request((struct req){.method = "DELETE", .path = "entities/Counter/k1", .query = "op=add"},
                       "@counter@k1"),
        "{\"op\":\"delete\",\"signal\":true" TAIL);
    cr_assert_str_eq(signal_request((struct req){.method = "DELETE",
                                                 .path = "entities/counter",
                                                 .content_type = "application/json",
                                                 .body = "{\"why\":1}"},
                                    "@counter@"),
                     "{\"op\":\"delete\",\"signal\":true,\"input\":\"{\\\"why\\\":1}\"" TAIL,
                     "the body is handled as for POST");
}

Test(entities, signal_writes_no_row_and_makes_the_hub)
{
    const char *fresh = test_unique_name(a, "Fresh");
    rt_response rs = call((struct req){.method = "POST",
                                       .path = "entities/counter/new",
                                       .query = dg_arena_printf(a, "op=add&taskHub=%s", fresh)});
    cr_assert_eq(rs.status, 202);
    const char *saved = hub;
    hub = fresh;
    cJSON *m = the_message("@counter@new");
    cr_assert_not_null(m);
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity e;
    cr_assert_eq(az_table_get(c, &x, table(), "@counter@new", "", NULL, &e), DG_ENOTFOUND,
                 "no Instances row");
    az_table_delete(c, &x, table());
    hub = saved;
    cr_assert_eq(az_table_get(c, &x, table(), "@counter@new", "", NULL, &e), DG_ENOTFOUND);
}

Test(entities, large_signal_goes_to_a_blob)
{
    size_t n = 60000;
    char *body = dg_arena_alloc(a, n + 3);
    body[0] = '"';
    memset(body + 1, 'q', n);
    body[n + 1] = '"';
    body[n + 2] = '\0';
    rt_response rs = call((struct req){.method = "POST",
                                       .path = "entities/counter/huge",
                                       .query = "op=set",
                                       .content_type = "application/json",
                                       .body = body});
    cr_assert_eq(rs.status, 202);
    cJSON *w = the_message("@counter@huge");
    cr_assert(cJSON_IsNull(member(w, "TaskMessage")));
    const char *blob = member(w, "CompressedBlobName")->valuestring;
    cr_assert_eq(strncmp(blob, "@counter@huge/message-", 22), 0, "%s", blob);
    az_ctx x;
    az_ctx_init(&x, a);
    char *txt;
    size_t tn;
    cr_assert_eq(hub_large_get(c, &x, hub, blob, &txt, &tn), DG_OK);
    cJSON *env_ = cJSON_ParseWithLength(txt, tn);
    cr_assert_not_null(env_);
    dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, env_);
    const char *req = request_of(env_, "@counter@huge");
    cr_assert_eq(strncmp(req, "{\"op\":\"set\",\"signal\":true,\"input\":\"\\\"qqq", 40), 0, "%.60s", req);
}

Test(entities, signal_400s)
{
    rt_response rs = call((struct req){.method = "POST", .path = "entities", .query = "op=add"});
    assert_message(
        &rs, 400,
        "Invalid entity id: entity name must not be a null or empty string. (Parameter 'entityName')");
    rs = call((struct req){.method = "DELETE", .path = "entities/"});
    assert_message(
        &rs, 400,
        "Invalid entity id: entity name must not be a null or empty string. (Parameter 'entityName')");
    rs = call((struct req){.method = "POST", .path = "entities/counter/a%2Fb", .query = "op=add"});
    assert_message(
        &rs, 400, "entityKey (Parameter 'Entity keys must not contain /, \\, #, ?, or control characters.')");
    rs = call((struct req){.method = "DELETE", .path = "entities/counter/a%00b"});
    cr_assert_eq(rs.status, 400, "a NUL in a path is refused at the edge");
    rs = call((struct req){.method = "POST",
                           .path = "entities/counter/k",
                           .query = "op=add",
                           .content_type = "application/json",
                           .body = "5\x01"});
    assert_message(
        &rs, 400,
        "Could not parse JSON content: Unexpected character encountered. Path '', line 1, position 2.");
    rs = call((struct req){.method = "POST", .path = "entities/a%40b/k"});
    assert_message(&rs, 400, "Entity names must not contain @, /, \\, #, ?, or control characters.");
    rs = call((struct req){.method = "POST",
                           .path = "entities/counter/k",
                           .query = "op=add",
                           .content_type = "application/json",
                           .body = "{\"x\":"});
    assert_message(&rs, 400,
                   "Could not parse JSON content: Unexpected end of content. Path '', line 1, position 5.");
    rs = call((struct req){.method = "POST",
                           .path = "entities/counter/k",
                           .query = "op=add",
                           .content_type = "application/json",
                           .body = "{\n  \"x\": tru }"});
    assert_message(
        &rs, 400,
        "Could not parse JSON content: Unexpected character encountered. Path '', line 2, position 8.");
    rs = call((struct req){.method = "POST",
                           .path = "entities/counter/k",
                           .query = "op=add",
                           .content_type = "application/json",
                           .body = "   "});
    assert_message(&rs, 400, "Could not parse JSON content: The request body holds no JSON value.");
    rs = call((struct req){.method = "POST",
                           .path = "entities/counter/k",
                           .query = "op=add",
                           .content_type = "application/json",
                           .body = "5 6"});
    cr_assert_eq(rs.status, 400, "one JSON value only");
    /* Nothing of the above reached a queue. */
    az_ctx x;
    az_ctx_init(&x, a);
    struct hub h;
    cr_assert_eq(hub_open(c, &x, hub, 0, &h), DG_OK);
    cr_assert_not(h.exists, "no hub was made for a refused signal");
}
