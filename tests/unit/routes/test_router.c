/* routes/router.c at the edge: what no handler and no storage call may see.
 * The storage client points at a closed loopback port, so an answer that got
 * as far as storage is a 503: a 400 here was given before any storage call. */
#include "routes/router.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <string.h>

#define KEY "ext-key-0123456789"

static dg_arena *a;
static az_client *dead;
static auth_keys *keys;
static struct rt_env env;

static void setup(void)
{
    a = dg_arena_create();
    az_account acct;
    char err[128];
    cr_assert_eq(az_account_parse("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
                                  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
                                  "KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:1/a;QueueEndpoint=http://"
                                  "127.0.0.1:1/a;TableEndpoint=http://127.0.0.1:1/a",
                                  &acct, err, sizeof err),
                 DG_OK, "%s", err);
    struct az_client_opts o = {.max_attempts = 1, .call_timeout_ms = 2000, .backoff_base_ms = 10};
    dead = az_client_create(&acct, &o);
    az_account_free(&acct);
    const char *kf = "{\"systemKeys\":{\"durabletask_extension\":\"" KEY "\"}}";
    keys = auth_keys_parse(kf, strlen(kf), err, sizeof err);
    cr_assert_not_null(keys, "%s", err);
    env = (struct rt_env){.storage = dead, .keys = keys, .default_hub = "EdgeHub"};
}

static void teardown(void)
{
    auth_keys_destroy(keys);
    az_client_destroy(dead);
    dg_arena_destroy(a);
}

TestSuite(edge, .init = setup, .fini = teardown, .timeout = 60);

/* One request; key NULL: only what the query carries. */
static rt_response call(const char *method, const char *path, const char *query, const char *key)
{
    struct rt_param *h = dg_arena_alloc(a, 2 * sizeof *h);
    size_t nh = 0;
    h[nh++] = (struct rt_param){"Host", "127.0.0.1:7071"};
    if (key)
        h[nh++] = (struct rt_param){"x-functions-key", key};
    rt_request rq = {.arena = a,
                     .reqid = "t",
                     .method = method,
                     .path = path,
                     .raw_query = query ? query : "",
                     .headers = h,
                     .nheaders = nh,
                     .body = "",
                     .body_len = 0};
    rt_response rs;
    rt_dispatch(&env, &rq, &rs);
    return rs;
}

static void assert_refused(rt_response rs, const char *what)
{
    cr_assert_eq(rs.status, 400, "%s: got %d (%s)", what, rs.status, rs.body ? rs.body : "");
    cJSON *j = cJSON_ParseWithLength(rs.body, rs.body_len);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "Message")),
                     "One or more of the arguments submitted is incorrect", "%s: the host's form B", what);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "ExceptionType")),
                     "System.ArgumentException");
    cJSON_Delete(j);
}

#define B "/runtime/webhooks/durabletask/"

Test(edge, ids_that_are_not_utf8_are_400_before_storage)
{
    assert_refused(call("GET", B "instances/%C0%80", NULL, KEY), "an overlong NUL");
    assert_refused(call("GET", B "instances/a%C1%BFb", NULL, KEY), "an overlong '\\x7f'");
    assert_refused(call("GET", B "instances/%E0%80%AF", NULL, KEY), "an overlong '/'");
    assert_refused(call("GET", B "instances/%FF", NULL, KEY), "%FF");
    assert_refused(call("GET", B "instances/%ED%A0%80", NULL, KEY), "an encoded surrogate");
    assert_refused(call("GET", B "instances/a\xC0\x80", NULL, KEY), "raw overlong bytes");
    assert_refused(call("GET", B "instances/%C3", NULL, KEY), "a cut sequence");
    assert_refused(call("POST", B "orchestrators/Hello/%C0%80", NULL, KEY), "start");
    assert_refused(call("DELETE", B "instances/%FF", NULL, KEY), "purge");
    /* A valid multi-byte id goes on to storage (closed: 503). */
    cr_assert_eq(call("GET", B "instances/%C3%A9t%C3%A9", NULL, KEY).status, 503);
}

Test(edge, a_decoded_nul_anywhere_is_400_before_storage)
{
    assert_refused(call("POST", B "orchestrators/Hello/a%00b", NULL, KEY), "a start id");
    assert_refused(call("POST", B "orchestrators/He%00llo", NULL, KEY), "an orchestrator name");
    assert_refused(call("GET", B "instances/abc%00", NULL, KEY), "an id");
    assert_refused(call("POST", B "instances/abc/raiseEvent/ev%00x", NULL, KEY), "an event name");
    assert_refused(call("POST", B "instances/abc/terminate", "reason=why%00not", KEY), "a reason");
    assert_refused(call("GET", B "entities/count%00er/k", NULL, KEY), "an entity name");
    assert_refused(call("GET", B "instances", "instanceIdPrefix=%00", KEY), "a prefix");
    assert_refused(call("GET", B "instances", "taskHub=Hub%00x", KEY), "a hub");
    assert_refused(call("GET", B "instances/abc", "sh%00owInput=false", KEY), "a parameter name");
}

Test(edge, a_key_with_a_nul_does_not_authenticate)
{
    cr_assert_eq(call("GET", B "instances/abc", "code=" KEY, NULL).status, 503, "the key itself passes");
    assert_refused(call("GET", B "instances/abc", "code=" KEY "%00anything", NULL), "code=KEY%00...");
    assert_refused(call("GET", B "instances/abc", "code=" KEY "%FF", NULL), "code=KEY%FF");
    cr_assert_eq(call("GET", B "instances/abc", "code=wrong", NULL).status, 401);
}
