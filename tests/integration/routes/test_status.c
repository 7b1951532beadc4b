/* GET instances/{id} (docs/http-api.md §4.3) through the router, with no socket,
 * over Instances rows seeded in DurableTask.AzureStorage's exact format in a
 * real Azurite. Also the router's path, query and key rules. */
#include "base/time.h"
#include "routes/router.h"
#include "storage/table.h"
#include "taskhub/keys.h"
#include "tests/support/azurite_env.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <string.h>

static az_client *c;
static dg_arena *a;
static const char *hub;
static auth_keys *keys;
static struct rt_env env;

static const char *keyfile =
    "{\"masterKey\":\"master-key-0123456789\",\"systemKeys\":{\"durabletask_extension\":"
    "\"ext-key-0123456789\",\"other_extension\":\"other-key-0123456789\"}}";

/* The row a worker leaves behind (docs/storage-layout.md §4). */
static void seed(const char *id, const char *status, const char *input, const char *output,
                 const char *custom)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity e;
    az_entity_init(&e, a, hub_key_escape(a, id, strlen(id)), "");
    az_entity_set_str(&e, a, "Name", "E1_HelloSequence");
    az_entity_set_str(&e, a, "Version", "");
    if (input)
        az_entity_set_str(&e, a, "Input", input);
    if (output)
        az_entity_set_str(&e, a, "Output", output);
    az_entity_set_str(&e, a, "CustomStatus", custom ? custom : "null");
    az_entity_set_str(&e, a, "RuntimeStatus", status);
    dg_ticks t;
    dg_iso_parse("2024-05-01T10:00:00.1234567Z", 28, &t);
    az_entity_set_datetime(&e, a, "CreatedTime", t);
    az_entity_set_datetime(&e, a, "LastUpdatedTime", t + 3 * DG_TICKS_PER_SEC + 9999999);
    az_entity_set_str(&e, a, "ExecutionId", "0123456789abcdef0123456789abcdef");
    az_entity_set_i32(&e, a, "Generation", 0);
    az_entity_set_str(&e, a, "Tags", "null");
    az_entity_set_str(&e, a, "TaskHubName", hub);
    cr_assert_eq(
        az_table_write(c, &x, dg_arena_printf(a, "%sInstances", hub), AZ_UPSERT_REPLACE, &e, NULL, NULL),
        DG_OK, "%s", x.st.message);
}

static void setup(void)
{
    c = test_azurite_client(NULL, NULL);
    a = dg_arena_create();
    hub = test_unique_name(a, "Hub");
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(az_table_create(c, &x, dg_arena_printf(a, "%sInstances", hub)), DG_OK);
    char err[128];
    keys = auth_keys_parse(keyfile, strlen(keyfile), err, sizeof err);
    cr_assert_not_null(keys, "%s", err);
    env = (struct rt_env){.storage = c, .keys = keys, .default_hub = hub};
    seed("run1", "Running", "{\"x\":1}", NULL, NULL);
    seed("done1", "Completed", "\"Tokyo\"", "[\"Hello Tokyo!\",\"Hello Seattle!\",\"Hello London!\"]",
         "{\"stage\":2}");
    seed("fail1", "Failed", NULL, "System.Exception: boom", NULL);
    seed("term1", "Terminated", "", "stopped by operator", NULL);
    seed("a/b#c?d^e f+g%h\xc3\xa9", "Suspended", "  ", "suspended for maintenance", NULL);
    seed("odd1", "Exploded", NULL, NULL, NULL);
}

static void teardown(void)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_table_delete(c, &x, dg_arena_printf(a, "%sInstances", hub));
    auth_keys_destroy(keys);
    dg_arena_destroy(a);
    az_client_destroy(c);
}

TestSuite(status, .init = setup, .fini = teardown, .timeout = 60);

static rt_response get(const char *method, const char *path, const char *query, const char *hdr_key)
{
    static struct rt_param h[2];
    rt_request rq = {
        .arena = a, .method = method, .path = path, .raw_query = query, .headers = h, .nheaders = 1};
    h[0] = (struct rt_param){"Host", "gw"};
    if (hdr_key)
        h[rq.nheaders++] = (struct rt_param){"X-Functions-Key", hdr_key};
    rt_response rs;
    rt_dispatch(&env, &rq, &rs);
    return rs;
}

static cJSON *body(const rt_response *rs)
{
    cr_assert_not_null(rs->body);
    cr_assert_str_eq(rs->content_type, "application/json; charset=utf-8");
    cJSON *j = cJSON_ParseWithLength(rs->body, rs->body_len);
    cr_assert_not_null(j, "not JSON: %.*s", (int) rs->body_len, rs->body);
    return j;
}

static const char *header(const rt_response *rs, const char *name)
{
    for (size_t i = 0; i < rs->nheaders; i++)
        if (strcasecmp(rs->headers[i].name, name) == 0)
            return rs->headers[i].value;
    return NULL;
}

#define KEY "ext-key-0123456789"

Test(status, running_is_202_with_location_and_retry_after)
{
    rt_response rs = get("GET", "/runtime/webhooks/durabletask/instances/run1", "code=" KEY, NULL);
    cr_assert_eq(rs.status, 202);
    cr_assert_str_eq(header(&rs, "Location"),
                     "http://gw/runtime/webhooks/durabletask/instances/run1?code=" KEY);
    cr_assert_str_eq(header(&rs, "Retry-After"), "5");
    cJSON *j = body(&rs);
    char *txt = cJSON_PrintUnformatted(j);
    cr_assert_str_eq(
        txt, "{\"name\":\"E1_HelloSequence\",\"instanceId\":\"run1\",\"runtimeStatus\":\"Running\","
             "\"input\":{\"x\":1},\"customStatus\":null,\"output\":null,"
             "\"createdTime\":\"2024-05-01T10:00:00Z\",\"lastUpdatedTime\":\"2024-05-01T10:00:04Z\"}");
    cJSON_free(txt);
    cJSON_Delete(j);
}

Test(status, location_percent_encodes_raw_control_and_non_ascii_bytes)
{
    rt_response rs = get("GET", "/runtime/webhooks/durabletask/instances/run1",
                         "code=" KEY "&x=a\rb\x1b[1m\x7f\xc3\xa9", NULL);
    cr_assert_eq(rs.status, 202);
    const char *loc = header(&rs, "Location");
    cr_assert_str_eq(loc, "http://gw/runtime/webhooks/durabletask/instances/run1?code=" KEY
                          "&x=a%0Db%1B[1m%7F%C3%A9");
    rs = get("GET", "/runtime/webhooks/durabletask/instances/run1", "code=" KEY "&x=%0D%0A", NULL);
    cr_assert_str_eq(header(&rs, "Location"),
                     "http://gw/runtime/webhooks/durabletask/instances/run1?code=" KEY "&x=%0D%0A",
                     "an encoded target stays as sent");
}

Test(status, completed_is_200_with_parsed_output)
{
    rt_response rs = get("GET", "/durabletask/Instances/done1/", "", KEY);
    cr_assert_eq(rs.status, 200);
    cr_assert_null(header(&rs, "Location"));
    cJSON *j = body(&rs);
    cJSON *out = cJSON_GetObjectItem(j, "output");
    cr_assert(cJSON_IsArray(out));
    cr_assert_str_eq(cJSON_GetArrayItem(out, 2)->valuestring, "Hello London!");
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "customStatus"), "stage")->valueint, 2);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "input")->valuestring, "Tokyo");
    cJSON_Delete(j);
}

Test(status, show_input_false_nulls_the_input)
{
    rt_response rs = get("GET", "/durabletask/instances/done1", "SHOWINPUT=False", KEY);
    cr_assert_eq(rs.status, 200);
    cJSON *j = body(&rs);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "input")));
    cJSON_Delete(j);
    rs = get("GET", "/durabletask/instances/done1", "showInput=maybe", KEY);
    j = body(&rs);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(j, "input")), "a non-boolean value means the default");
    cJSON_Delete(j);
}

Test(status, failed_is_200_or_500_on_request)
{
    rt_response rs = get("GET", "/durabletask/instances/fail1", "", KEY);
    cr_assert_eq(rs.status, 200);
    cJSON *j = body(&rs);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "output")->valuestring, "System.Exception: boom");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "input")), "an absent Input is null");
    cJSON_Delete(j);
    rs = get("GET", "/durabletask/instances/fail1", "returnInternalServerErrorOnFailure=true", KEY);
    cr_assert_eq(rs.status, 500);
    j = body(&rs);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "runtimeStatus")->valuestring, "Failed");
    cJSON_Delete(j);
}

Test(status, terminated_reason_and_blank_input)
{
    rt_response rs = get("GET", "/durabletask/instances/term1", "", KEY);
    cr_assert_eq(rs.status, 200);
    cJSON *j = body(&rs);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "output")->valuestring, "stopped by operator");
    cr_assert_str_eq(cJSON_GetObjectItem(j, "input")->valuestring, "", "a blank value is \"\"");
    cJSON_Delete(j);
}

Test(status, escaped_ids_round_trip_through_the_url)
{
    rt_response rs = get("GET", "/durabletask/instances/a%2Fb%23c%3Fd%5Ee%20f%2Bg%25h%C3%A9", "", KEY);
    cr_assert_eq(rs.status, 202, "got %d", rs.status);
    cJSON *j = body(&rs);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "instanceId")->valuestring, "a/b#c?d^e f+g%h\xc3\xa9");
    cr_assert_str_eq(cJSON_GetObjectItem(j, "runtimeStatus")->valuestring, "Suspended");
    cJSON_Delete(j);
    rs = get("GET", "/durabletask/instances/a+b", "", KEY);
    cr_assert_eq(rs.status, 404, "'+' in a path is a plus, not a space");
}

Test(status, unknown_status_is_500_and_missing_is_404)
{
    rt_response rs = get("GET", "/durabletask/instances/odd1", "", KEY);
    cr_assert_eq(rs.status, 500);
    rs = get("GET", "/durabletask/instances/nope", "", KEY);
    cr_assert_eq(rs.status, 404);
    cr_assert_null(rs.body);
    rs = get("GET", "/durabletask/instances/run1", dg_arena_printf(a, "taskHub=%s", "NoSuchHub42"), KEY);
    cr_assert_eq(rs.status, 404, "a hub whose tables do not exist has no instances");
    rs = get("GET", "/durabletask/instances/run1", "taskHub=bad-hub", KEY);
    cr_assert_eq(rs.status, 400);
}

Test(status, task_hub_parameter_selects_the_hub)
{
    const char *saved = env.default_hub;
    env.default_hub = "SomeOtherHub";
    rt_response rs = get("GET", "/durabletask/instances/done1", dg_arena_printf(a, "TaskHub=%s", hub), KEY);
    env.default_hub = saved;
    cr_assert_eq(rs.status, 200);
}

Test(status, keys_401_403_and_header_wins)
{
    cr_assert_eq(get("GET", "/durabletask/instances/done1", "", NULL).status, 401, "no key");
    cr_assert_eq(get("GET", "/durabletask/instances/done1", "code=wrong-key-0123456789", NULL).status, 401);
    cr_assert_eq(get("GET", "/durabletask/instances/done1", "code=other-key-0123456789", NULL).status, 403);
    cr_assert_eq(get("GET", "/durabletask/instances/done1", "code=master-key-0123456789", NULL).status, 200);
    cr_assert_eq(get("GET", "/durabletask/instances/done1", "code=" KEY, "wrong-key-0123456789").status, 401,
                 "the header wins over code=");
    cr_assert_eq(get("GET", "/durabletask/nothing/here", "", NULL).status, 401,
                 "unauthenticated: no route facts");
}

Test(status, unmatched_paths_are_404_with_empty_body)
{
    rt_response rs = get("GET", "/durabletask/nothing/here", "", KEY);
    cr_assert_eq(rs.status, 404);
    cr_assert_null(rs.body);
    cr_assert_eq(get("GET", "/other/instances/done1", "", KEY).status, 404);
    cr_assert_eq(get("GET", "/durabletaskx/instances/done1", "", KEY).status, 404);
    cr_assert_eq(get("PATCH", "/durabletask/instances/done1", "", KEY).status, 404);
    cr_assert_eq(get("GET", "/durabletask/instances/bad%zz", "", KEY).status, 404, "an undecodable path");
}

Test(status, auth_disabled_accepts_anything)
{
    const auth_keys *saved = env.keys;
    env.keys = NULL;
    rt_response rs = get("GET", "/durabletask/instances/done1", "", NULL);
    env.keys = saved;
    cr_assert_eq(rs.status, 200);
}
