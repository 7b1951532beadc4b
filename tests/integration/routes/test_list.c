/* GET instances (docs/http-api.md §4.4) through the router, with no socket, over
 * Instances rows seeded in DurableTask.AzureStorage's exact format in a real
 * Azurite: every filter alone and combined, invalid values ignored, escaped
 * ids, prefix ranges and their neighbours, entity rows, paging by
 * continuation token. */
#include "base/b64.h"
#include "storage/blob.h"
#include "routes/router.h"
#include "storage/table.h"
#include "taskhub/largemsg.h"
#include "tests/support/azurite_env.h"
#include "tests/support/hub_seed.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdlib.h>
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

#define SPECIAL "a/b#c?d^e f+g%h\xc3\xa9"

/* Fourteen orchestrations and two entities. */
static const struct seed_instance rows[] = {
    {"alpha1", "E1", "Completed", "2024-05-01T10:00:00.1234567Z", "\"Tokyo\"", "[\"Hello Tokyo!\"]"},
    {"alpha", "E2", "Pending", "2024-05-01T12:00:00Z", NULL, NULL},
    {"alpha2", "E1", "Running", "2024-05-02T10:00:00Z", "{\"x\":1}", NULL},
    {"alph", "E1", "Terminated", "2024-05-03T10:00:00Z", NULL, "stopped"},
    {"alphb", "E1", "Failed", "2024-05-04T10:00:00Z", NULL, "System.Exception: boom"},
    {"beta", "Other", "Failed", "2024-05-05T10:00:00Z", NULL, NULL},
    {SPECIAL, "E1", "Suspended", "2024-05-06T10:00:00Z", NULL, NULL},
    {"a/b#x", "E1", "Completed", "2024-05-06T11:00:00Z", NULL, NULL},
    {"A1", "E1", "Completed", "2024-05-07T10:00:00Z", NULL, NULL},
    {"!bang", "E1", "Completed", "2024-05-07T11:00:00Z", NULL, NULL},
    {"h\xc3\xa9llo", "E1", "Completed", "2024-05-08T10:00:00Z", NULL, NULL},
    {"hfllo", "E1", "Completed", "2024-05-08T11:00:00Z", NULL, NULL},
    {"tab\there", "E1", "Completed", "2024-05-09T10:00:00Z", NULL, NULL},
    {"o'brien", "E1", "Completed", "2024-05-09T11:00:00Z", NULL, NULL},
    {"@counter@k1", "counter", "Running", "2024-05-01T11:00:00Z", "{\"sorter\":{}}", NULL},
    {"@other@k2", "other", "Running", "2024-05-01T11:00:00Z", "{\"sorter\":{}}", NULL},
};
#define ALL "!bang,A1,SPECIAL,a/b#x,alph,alpha,alpha1,alpha2,alphb,beta,hfllo,h\xc3\xa9llo,o'brien,tab\\there"

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
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        seed_instance(c, a, hub, &rows[i]);
}

static void teardown(void)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_table_delete(c, &x, dg_arena_printf(a, "%sInstances", hub));
    az_container_delete(c, &x, hub_large_container(a, hub));
    auth_keys_destroy(keys);
    dg_arena_destroy(a);
    az_client_destroy(c);
}

TestSuite(list, .init = setup, .fini = teardown, .timeout = 120);

static rt_response call(const char *path, const char *query, const char *key, const char *token)
{
    struct rt_param *h = dg_arena_alloc(a, 2 * sizeof *h);
    size_t nh = 0;
    if (key)
        h[nh++] = (struct rt_param){"x-functions-key", key};
    if (token)
        h[nh++] = (struct rt_param){"x-ms-continuation-token", token};
    rt_request rq = {
        .arena = a, .method = "GET", .path = path, .raw_query = query, .headers = h, .nheaders = nh};
    rt_response rs;
    rt_dispatch(&env, &rq, &rs);
    return rs;
}

static rt_response list(const char *query)
{
    return call("/runtime/webhooks/durabletask/instances", query, KEY, NULL);
}

static const char *header(const rt_response *rs, const char *name)
{
    for (size_t i = 0; i < rs->nheaders; i++)
        if (strcasecmp(rs->headers[i].name, name) == 0)
            return rs->headers[i].value;
    return NULL;
}

static cJSON *body(const rt_response *rs)
{
    cr_assert_not_null(rs->body);
    cr_assert_str_eq(rs->content_type, "application/json; charset=utf-8");
    cJSON *j = cJSON_ParseWithLength(rs->body, rs->body_len);
    cr_assert_not_null(j, "not JSON: %.*s", (int) rs->body_len, rs->body);
    dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, j);
    return j;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *) x, *(const char *const *) y);
}

/* The instanceIds of a 200 answer, sorted and joined with ',' (SPECIAL for the
 * id of that name, "\t" written as "\\t"). */
static const char *ids(const rt_response *rs)
{
    cr_assert_eq(rs->status, 200, "status %d: %.*s", rs->status, (int) rs->body_len,
                 rs->body ? rs->body : "");
    cJSON *j = body(rs);
    cr_assert(cJSON_IsArray(j));
    size_t n = (size_t) cJSON_GetArraySize(j);
    const char **v = dg_arena_alloc(a, (n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, (int) i), "instanceId");
        cr_assert(cJSON_IsString(id));
        v[i] = strcmp(id->valuestring, SPECIAL) == 0       ? "SPECIAL"
               : strcmp(id->valuestring, "tab\there") == 0 ? "tab\\there"
                                                           : id->valuestring;
    }
    qsort(v, n, sizeof *v, cmp_str);
    char *out = dg_arena_strdup(a, "");
    for (size_t i = 0; i < n; i++)
        out = dg_arena_printf(a, "%s%s%s", out, i ? "," : "", v[i]);
    return out;
}

static const char *ids_of(rt_response rs)
{
    return ids(&rs);
}

/* The ids a list with this query answers. */
static const char *listed(const char *query)
{
    return ids_of(list(query));
}

static cJSON *find(cJSON *arr, const char *id)
{
    cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "instanceId");
        if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
            return it;
    }
    cr_assert_fail("no %s in the list", id);
    return NULL;
}

static const char *token_of(const char *text)
{
    return dg_b64url_encode(a, text, strlen(text));
}

Test(list, all_orchestrations_without_entities_and_an_empty_token)
{
    rt_response rs = list("");
    cr_assert_str_eq(ids(&rs), ALL);
    cr_assert_str_eq(header(&rs, "x-ms-continuation-token"), "", "always sent, empty on the last page");
    cJSON *j = body(&rs);
    char *one = cJSON_PrintUnformatted(find(j, "alpha1"));
    cr_assert_str_eq(
        one, "{\"name\":\"E1\",\"instanceId\":\"alpha1\",\"runtimeStatus\":\"Completed\","
             "\"input\":\"Tokyo\",\"customStatus\":null,\"output\":[\"Hello Tokyo!\"],"
             "\"createdTime\":\"2024-05-01T10:00:00Z\",\"lastUpdatedTime\":\"2024-05-01T10:00:03Z\"}");
    cJSON_free(one);
    cr_assert_null(cJSON_GetObjectItem(find(j, "alpha2"), "historyEvents"));
    cr_assert_str_eq(cJSON_GetObjectItem(find(j, SPECIAL), "runtimeStatus")->valuestring, "Suspended");
    cr_assert_str_eq(cJSON_GetObjectItem(find(j, "tab\there"), "name")->valuestring, "E1");

    rs = call("/durabletask/Instances/", "", KEY, NULL);
    cr_assert_str_eq(ids(&rs), ALL, "a trailing slash and either base path");
    rs = list("showHistory=true&showHistoryOutput=true");
    cr_assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(body(&rs), 0), "historyEvents"),
                   "history is never listed");
}

Test(list, created_time_range_is_inclusive_and_normalised_to_utc)
{
    cr_assert_str_eq(listed("createdTimeFrom=2024-05-01T12:00:00Z&createdTimeTo=2024-05-02T10:00:00Z"),
                     "alpha,alpha2");
    cr_assert_str_eq(listed("createdTimeFrom=2024-05-01T14:00:00%2B02:00&"
                            "createdTimeTo=2024-05-02T05:00:00-05:00"),
                     "alpha,alpha2", "offsets are converted to UTC");
    cr_assert_str_eq(listed("createdTimeFrom=2024-05-01T14:00:00+02:00&"
                            "createdTimeTo=2024-05-02T12:00:00+0200"),
                     "alpha,alpha2", "an unencoded '+' (a space once decoded) and +HHMM");
    cr_assert_str_eq(listed("createdTimeFrom=2024-05-08"), "hfllo,h\xc3\xa9llo,o'brien,tab\\there",
                     "a date alone is midnight UTC");
    cr_assert_str_eq(listed("createdTimeTo=2024-05-01T12:00"), "alpha,alpha1", "no seconds, no zone: UTC");
    cr_assert_str_eq(listed("createdTimeFrom=2024-05-01T10:00:00.123Z&"
                            "createdTimeTo=2024-05-01T10:00:00.124Z"),
                     "alpha1", "fractions count");
    cr_assert_str_eq(listed("createdTimeFrom=2024-05-09T10:00:00.000Z"), "o'brien,tab\\there",
                     "what JS's toISOString() sends");
    cr_assert_str_eq(listed("createdTimeFrom=1200-01-01T00:00:00Z&createdTimeTo=2024-05-01T12:00:00Z"),
                     "alpha,alpha1", "before the first Edm.DateTime");
}

Test(list, a_time_that_is_not_one_is_400)
{
    /* The host drops such a filter and lists the whole range (docs/differences.md). */
    const char *q[] = {"createdTimeFrom=yesterday", "createdTimeTo=2024-13-01T00:00:00Z",
                       "createdTimeFrom=2024-01-01T00:00:00Z'%20or%20'1'%20eq%20'1"};
    for (size_t i = 0; i < 3; i++) {
        rt_response rs = list(q[i]);
        cr_assert_eq(rs.status, 400, "%s", q[i]);
        cr_assert(rs.body && memmem(rs.body, rs.body_len, "is not a date and time", 22), "%.*s",
                  (int) rs.body_len, rs.body ? rs.body : "");
    }
}

Test(list, invalid_flags_are_ignored)
{
    cr_assert_str_eq(listed("showInput=maybe"), ALL);
    rt_response rs = list("showInput=maybe");
    cr_assert_str_eq(cJSON_GetObjectItem(find(body(&rs), "alpha1"), "input")->valuestring, "Tokyo");
}

Test(list, runtime_status_filters)
{
    cr_assert_str_eq(listed("runtimeStatus=Failed"), "alphb,beta");
    cr_assert_str_eq(listed("runtimeStatus=Running,Pending"), "alpha,alpha2",
                     "entity rows look Running but are left out");
    cr_assert_str_eq(listed("runtimeStatus=Failed&RUNTIMESTATUS=Suspended"), "SPECIAL,alphb,beta",
                     "repeated parameters merge");
    cr_assert_str_eq(listed("runtimeStatus=5,%20Pending%20"), "alph,alpha", "enum numbers, items trimmed");
    cr_assert_str_eq(listed("runtimeStatus=Canceled"), "");
    cr_assert_str_eq(listed("runtimeStatus=,"), ALL, "a blank list is no status filter");
}

Test(list, top_that_is_not_a_decimal_integer_is_400)
{
    const char *bad[] = {"top=lots", "top=1.5", "top=0x10", "top=%202", "top=+2", "top=2%20", "top=1e2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rt_response rs = list(bad[i]);
        cr_assert_eq(rs.status, 400, "%s: %d", bad[i], rs.status);
        cJSON *j = body(&rs);
        cr_assert_str_eq(cJSON_GetObjectItem(j, "ExceptionType")->valuestring, "System.ArgumentException");
    }
    cr_assert_eq(list("top=").status, 200, "blank is absent");
}

Test(list, unknown_status_names_are_400)
{
    const char *bad[] = {"runtimeStatus=Compelted", "runtimeStatus=running", "runtimeStatus=Failed,bogus",
                         "runtimeStatus=Failed&runtimeStatus=Nope", "runtimeStatus=42"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rt_response rs = list(bad[i]);
        cr_assert_eq(rs.status, 400, "%s: %d", bad[i], rs.status);
        cJSON *j = body(&rs);
        cr_assert_str_eq(cJSON_GetObjectItem(j, "Message")->valuestring,
                         "One or more of the arguments submitted is incorrect");
        cr_assert_str_eq(cJSON_GetObjectItem(j, "ExceptionType")->valuestring, "System.ArgumentException");
    }
}

Test(list, instance_id_prefix_is_a_key_range_over_the_escaped_prefix)
{
    cr_assert_str_eq(listed("instanceIdPrefix=alpha"), "alpha,alpha1,alpha2", "neither alph nor alphb");
    cr_assert_str_eq(listed("instanceIdPrefix=a%2Fb%23c"), "SPECIAL", "not a/b#x");
    cr_assert_str_eq(listed("instanceIdPrefix=a%2Fb%23c%3Fd%5Ee%20f%2Bg%25h%C3%A9"), "SPECIAL");
    cr_assert_str_eq(listed("instanceIdPrefix=a%2Fb"), "SPECIAL,a/b#x");
    cr_assert_str_eq(listed("instanceIdPrefix=h%C3%A9"), "h\xc3\xa9llo", "not hfllo");
    cr_assert_str_eq(listed("instanceIdPrefix=tab%09"), "tab\\there");
    cr_assert_str_eq(listed("instanceIdPrefix=o'"), "o'brien");
    cr_assert_str_eq(listed("instanceIdPrefix=nomatch"), "");
    cr_assert_str_eq(listed("instanceIdPrefix="), ALL);
}

Test(list, prefixes_at_the_top_of_unicode_have_an_upper_bound)
{
    const char *ids[] = {"z\xf4\x8f\xbf\xbfx", "z\xef\xbf\xbfy", "z\xee\x80\x80", "{"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        seed_instance(c, a, hub, &(struct seed_instance){ids[i], "E1", "Completed", NULL, NULL, NULL});
    /* U+10FFFF last: the range ends at U+E000, so z U+E000, z U+FFFF y and { stay out. */
    cr_assert_str_eq(listed("instanceIdPrefix=z%F4%8F%BF%BF"), "z\xf4\x8f\xbf\xbfx");
    cr_assert_str_eq(listed("instanceIdPrefix=z%EF%BF%BF"), "z\xef\xbf\xbfy", "U+FFFF carries");
    cr_assert_str_eq(listed("instanceIdPrefix=%EF%BF%BF"), "", "no upper bound: only real matches");
}

Test(list, invalid_prefixes_are_400)
{
    const char *bad[] = {"instanceIdPrefix=%00",       "instanceIdPrefix=a%00",
                         "instanceIdPrefix=%FF",       "instanceIdPrefix=%C0%80",
                         "instanceIdPrefix=%ED%A0%80", "instanceIdPrefix=z%F4%8F%BF"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(list(bad[i]).status, 400, "%s", bad[i]);
}

Test(list, entity_rows_are_left_out_whatever_the_prefix)
{
    cr_assert_str_eq(listed("instanceIdPrefix=%40"), "");
    cr_assert_str_eq(listed("instanceIdPrefix=%40counter"), "");
    cr_assert_str_eq(listed("runtimeStatus=Running&createdTimeTo=2024-05-01T11:00:00Z"), "",
                     "the Running entity rows of that time are left out");
    cr_assert_str_eq(listed("createdTimeTo=2024-05-01T11:30:00Z"), "alpha1");
    cr_assert_str_eq(listed("createdTimeFrom=2024-05-07T00:00:00Z&createdTimeTo=2024-05-07T23:00:00Z"),
                     "!bang,A1", "the neighbours '!' and 'A' of '@' stay");
}

Test(list, name_filter_is_a_gateway_extension)
{
    cr_assert_str_eq(listed("name=E2"), "alpha");
    cr_assert_str_eq(listed("name=Other,E2"), "alpha,beta");
    cr_assert_str_eq(listed("name=e2"), "", "names compare exactly");
    cr_assert_str_eq(listed("name=counter&instanceIdPrefix=%40"), "", "entities are not listed");
}

Test(list, filters_combine)
{
    cr_assert_str_eq(listed("runtimeStatus=Completed,Running,Pending&instanceIdPrefix=alpha&"
                            "createdTimeFrom=2024-05-01T11:00:00Z&name=E1"),
                     "alpha2");
    cr_assert_str_eq(listed("runtimeStatus=Completed&createdTimeFrom=2024-05-06T00:00:00Z&"
                            "createdTimeTo=2024-05-08T10:00:00Z&name=E1"),
                     "!bang,A1,a/b#x,h\xc3\xa9llo");
}

Test(list, show_input_and_payloads_in_blobs)
{
    rt_response rs = list("showInput=false");
    cJSON *j = body(&rs);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(find(j, "alpha1"), "input")));
    cr_assert(cJSON_IsArray(cJSON_GetObjectItem(find(j, "alpha1"), "output")), "output is always listed");

    seed_blob(c, a, hub, "big1/history--Input-1A2B3C4D-Input.json.gz", "{\"big\":true}");
    seed_blob(c, a, hub, "big1/history-0000000000000005-ExecutionCompleted-0A0B0C0D-Result.json.gz",
              "[1,2,3]");
    struct seed_instance big1 = {
        "big1",
        "E1",
        "Completed",
        "2024-06-01T00:00:00Z",
        hub_large_url(c, a, hub, "big1/history--Input-1A2B3C4D-Input.json.gz"),
        hub_large_url(c, a, hub, "big1/history-0000000000000005-ExecutionCompleted-0A0B0C0D-Result.json.gz")};
    const char *gone = hub_large_url(c, a, hub, "big2/history--Input-00000000-Input.json.gz");
    struct seed_instance big2 = {"big2", "E1", "Running", "2024-06-01T00:00:00Z", gone, NULL};
    seed_instance(c, a, hub, &big1);
    seed_instance(c, a, hub, &big2);
    rs = list("instanceIdPrefix=big");
    j = body(&rs);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(find(j, "big1"), "input"), "big")->type, cJSON_True);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(find(j, "big1"), "output")), 3);
    cr_assert_str_eq(cJSON_GetObjectItem(find(j, "big2"), "input")->valuestring, gone,
                     "a blob that is gone leaves the stored URL");
    rs = list("instanceIdPrefix=big&showInput=false");
    j = body(&rs);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(find(j, "big1"), "input")));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(find(j, "big1"), "output")), 3);
}

/* Follows the tokens as the JS client does: the same URL, the token in the
 * request header, until the answer's token is empty. */
static void follow(const char *query, int top, int want, int want_pages)
{
    const char *token = NULL;
    int pages = 0;
    const char *seen = "";
    int total = 0;
    do {
        rt_response rs = call("/durabletask/instances/", query, KEY, token);
        cr_assert_eq(rs.status, 200);
        cJSON *j = body(&rs);
        int n = cJSON_GetArraySize(j);
        cr_assert(n >= 1 && n <= top, "page %d holds %d", pages, n);
        cJSON *it;
        cJSON_ArrayForEach(it, j)
        {
            const char *id = cJSON_GetObjectItem(it, "instanceId")->valuestring;
            cr_assert_null(strstr(seen, dg_arena_printf(a, ",%s,", id)), "%s twice", id);
            seen = dg_arena_printf(a, "%s,%s,", seen, id);
            total++;
        }
        token = header(&rs, "x-ms-continuation-token");
        cr_assert_not_null(token);
        cr_assert(strcmp(token, "null") != 0 && strcmp(token, "bnVsbA==") != 0);
        for (const char *p = token; *p; p++)
            cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p),
                      "header-safe: %s", token);
        pages++;
        cr_assert(pages <= want_pages, "too many pages");
    } while (*token);
    cr_assert_eq(total, want);
    cr_assert_eq(pages, want_pages);
}

Test(list, paging_follows_tokens_without_duplicates_or_losses)
{
    for (int i = 0; i < 25; i++) {
        struct seed_instance in = {dg_arena_printf(a, "p-%02d", i), "E1", i % 3 ? "Completed" : "Running",
                                   "2024-07-01T00:00:00Z",          NULL, NULL};
        seed_instance(c, a, hub, &in);
    }
    follow("instanceIdPrefix=p-&top=7", 7, 25, 4);
    follow("instanceIdPrefix=p-&top=5", 5, 25, 5);
    follow("top=10", 10, 25 + 14, 4);
    follow("runtimeStatus=Running&top=3", 3, 9 + 1, 4);
    follow("instanceIdPrefix=p-&top=0", 1, 25, 25);
    follow("instanceIdPrefix=p-&top=-4", 1, 25, 25);
    follow("instanceIdPrefix=p-&top=5000", 1000, 25, 1);
    follow("instanceIdPrefix=p-", 100, 25, 1);
}

Test(list, bad_tokens_are_400)
{
    static const char msg[] = "{\"Message\":\"The continuation token is not valid.\"}";
    const char *bad[] = {"%%%",
                         "bnVsbA==x",
                         token_of("nospace"),
                         token_of(" leading-space"),
                         token_of("a\x01 b"),
                         token_of("a\xff b"),
                         "Zm9vY"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rt_response rs = call("/durabletask/instances", "", KEY, bad[i]);
        cr_assert_eq(rs.status, 400, "token %s", bad[i]);
        cr_assert_str_eq(rs.body, msg);
    }
    char *longtok = dg_arena_alloc(a, 5001);
    memset(longtok, 'A', 5000);
    longtok[5000] = '\0';
    cr_assert_eq(call("/durabletask/instances", "", KEY, longtok).status, 400, "past 4 KiB");
    cr_assert_str_eq(ids_of(call("/durabletask/instances", "", KEY, "")), ALL,
                     "an empty token is the first page");
}

Test(list, missing_hub_is_an_empty_list_and_bad_hub_400)
{
    rt_response rs = list("taskHub=NoSuchHub42");
    cr_assert_str_eq(ids(&rs), "");
    cr_assert_str_eq(rs.body, "[]");
    cr_assert_str_eq(header(&rs, "x-ms-continuation-token"), "");
    cr_assert_eq(list("taskHub=bad-hub").status, 400);
}

Test(list, read_only_keys_may_list)
{
    cr_assert_eq(call("/durabletask/instances", "", "dashboard-0123456789", NULL).status, 200);
    cr_assert_eq(call("/durabletask/instances", "", NULL, NULL).status, 401);
}
