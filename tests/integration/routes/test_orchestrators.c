/* Start (docs/http-api.md §4.1) and restart (§4.11) through the router, against a
 * real Azurite: status, headers and body, and what landed in storage (the
 * ExecutionStarted message, the Instances row, the hub's artefacts, blobs). */
#include "base/time.h"
#include "storage/blob.h"
#include "storage/queue.h"
#include "storage/table.h"
#include "taskhub/hub.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"
#include "tests/support/route_harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
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

TestSuite(start, .init = setup, .fini = teardown, .timeout = 90);

#define BASE "/runtime/webhooks/durabletask"

static az_entity row(const char *id)
{
    az_ctx x;
    az_ctx_init(&x, t.a);
    az_entity e;
    cr_assert_eq(az_table_get(t.c, &x, dg_arena_printf(t.a, "%sInstances", t.hub),
                              hub_key_escape(t.a, id, strlen(id)), "", NULL, &e),
                 DG_OK, "no Instances row for %s", id);
    return e;
}

static const cJSON *get(const cJSON *o, const char *path)
{
    /* "A.B.C" */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        cur = cJSON_GetObjectItemCaseSensitive(cur, k);
    return cur;
}

static const char *jstr(const cJSON *o, const char *path)
{
    const cJSON *v = get(o, path);
    cr_assert(cJSON_IsString(v), "%s is not a string", path);
    return v->valuestring;
}

Test(start, creates_the_hub_sends_the_message_then_writes_the_row)
{
    rt_response rs = th_do(&t, "POST", BASE "/orchestrators/E1_HelloSequence/order%2042", NULL,
                           "{ \"city\" : \"Tokyo\" }");
    cr_assert_eq(rs.status, 202, "got %d: %.*s", rs.status, (int) rs.body_len, rs.body);
    cr_assert_str_eq(th_header(&rs, "Retry-After"), "10");
    const char *status_uri = dg_arena_printf(
        t.a, "http://gw.test:7071" BASE "/instances/order%%2042?taskHub=%s&connection=Storage&code=" TH_KEY,
        t.hub);
    cr_assert_str_eq(th_header(&rs, "Location"), status_uri);
    cJSON *b = th_json(&t, &rs);
    const char *keys[] = {"id",
                          "statusQueryGetUri",
                          "sendEventPostUri",
                          "terminatePostUri",
                          "purgeHistoryDeleteUri",
                          "restartPostUri",
                          "suspendPostUri",
                          "resumePostUri"};
    size_t i = 0;
    for (cJSON *it = b->child; it; it = it->next, i++)
        cr_assert_str_eq(it->string, keys[i], "key %zu", i);
    cr_assert_eq(i, 8, "exactly the eight keys of docs/http-api.md §5.2, no rewindPostUri");
    cr_assert_str_eq(jstr(b, "id"), "order 42");
    cr_assert_str_eq(jstr(b, "statusQueryGetUri"), status_uri);
    cr_assert_str_eq(jstr(b, "terminatePostUri"),
                     dg_arena_printf(t.a,
                                     "http://gw.test:7071" BASE
                                     "/instances/order%%2042/terminate?reason={text}&taskHub=%s"
                                     "&connection=Storage&code=" TH_KEY,
                                     t.hub));
    cr_assert_str_eq(jstr(b, "sendEventPostUri"),
                     dg_arena_printf(t.a,
                                     "http://gw.test:7071" BASE
                                     "/instances/order%%2042/raiseEvent/{eventName}?taskHub=%s"
                                     "&connection=Storage&code=" TH_KEY,
                                     t.hub));

    /* The message, on the partition FNV-1a picks among the 4 control queues of a new hub. */
    cJSON *m = th_take_message(&t, "order 42", 4);
    cr_assert_str_eq(th_first_key(m), "$type");
    cr_assert_str_eq(jstr(m, "$type"), "DurableTask.AzureStorage.MessageData");
    cr_assert(cJSON_IsNull(get(m, "CompressedBlobName")));
    cr_assert_str_eq(jstr(m, "Sender.InstanceId"), "");
    cr_assert_str_eq(jstr(m, "Sender.ExecutionId"), "");
    cr_assert_null(get(m, "Sender.$type"), "Sender carries no $type");
    const cJSON *ev = get(m, "TaskMessage.Event");
    cr_assert_str_eq(th_first_key(ev), "$type");
    cr_assert_str_eq(jstr(ev, "$type"), "DurableTask.Core.History.ExecutionStartedEvent");
    cr_assert_eq(get(ev, "EventType")->valueint, 0);
    cr_assert_eq(get(ev, "EventId")->valueint, -1);
    cr_assert(cJSON_IsFalse(get(ev, "IsPlayed")));
    cr_assert_str_eq(jstr(ev, "Name"), "E1_HelloSequence");
    cr_assert_str_eq(jstr(ev, "Version"), "");
    cr_assert_str_eq(jstr(ev, "Input"), "{\"city\":\"Tokyo\"}", "compact JSON text");
    cr_assert_eq(get(ev, "Generation")->valueint, 0);
    cr_assert(cJSON_IsNull(get(ev, "ParentInstance")));
    const char *exec = jstr(ev, "OrchestrationInstance.ExecutionId");
    cr_assert_eq(strlen(exec), 32);
    cr_assert_str_eq(jstr(m, "TaskMessage.OrchestrationInstance.InstanceId"), "order 42");
    cr_assert_str_eq(jstr(m, "TaskMessage.OrchestrationInstance.ExecutionId"), exec);
    const char *ts = jstr(ev, "Timestamp");
    cr_assert_eq(strlen(ts), 28, "7 fraction digits and Z: %s", ts);

    /* The row: Pending, same ExecutionId and Generation, typed columns. */
    az_entity e = row("order 42");
    cr_assert_str_eq(az_entity_str(&e, "RuntimeStatus"), "Pending");
    cr_assert_str_eq(az_entity_str(&e, "ExecutionId"), exec);
    cr_assert_eq(az_entity_get(&e, "Generation")->type, AZ_EDM_INT32);
    cr_assert_eq(az_entity_int(&e, "Generation", -1), 0);
    cr_assert_eq(az_entity_get(&e, "CreatedTime")->type, AZ_EDM_DATETIME);
    dg_ticks tts;
    cr_assert_eq(dg_iso_parse(ts, strlen(ts), &tts), DG_OK);
    cr_assert_eq(az_entity_datetime(&e, "CreatedTime", 0), tts, "CreatedTime is the event's Timestamp");
    cr_assert_str_eq(az_entity_str(&e, "Input"), "{\"city\":\"Tokyo\"}");
    cr_assert_str_eq(az_entity_str(&e, "Name"), "E1_HelloSequence");
    cr_assert_str_eq(az_entity_str(&e, "CustomStatus"), "null");
    cr_assert_str_eq(az_entity_str(&e, "Tags"), "null");
    cr_assert_str_eq(az_entity_str(&e, "TaskHubName"), t.hub);

    /* The hub's artefacts, as the provider makes them. */
    az_ctx x;
    az_ctx_init(&x, t.a);
    struct az_query q = {0};
    struct az_page pg;
    cr_assert_eq(az_table_query(t.c, &x, dg_arena_printf(t.a, "%sPartitions", t.hub), &q, &pg), DG_OK);
    cr_assert_eq(pg.n, 4);
    cr_assert_eq(az_table_query(t.c, &x, dg_arena_printf(t.a, "%sHistory", t.hub), &q, &pg), DG_OK);
    struct hub h;
    cr_assert_eq(hub_open(t.c, &x, t.hub, 7, &h), DG_OK);
    cr_assert_eq(h.partitions, 4);
    char *d;
    size_t n;
    cr_assert_eq(az_blob_get(t.c, &x, dg_arena_printf(t.a, "%s-applease", h.lname),
                             dg_arena_printf(t.a, "%s-appleaseinfo", h.lname), &d, &n),
                 DG_OK);
    cr_assert_str_eq(d, "{}");
    struct az_qmsg *msgs;
    cr_assert_eq(az_queue_peek(t.c, &x, dg_arena_printf(t.a, "%s-workitems", h.lname), 1, &msgs, &n), DG_OK);
}

Test(start, empty_body_is_null_input_and_a_generated_id)
{
    rt_response rs = th_do(&t, "POST", "/durabletask/orchestrators/Hello", NULL, NULL);
    cr_assert_eq(rs.status, 202);
    const char *id = jstr(th_json(&t, &rs), "id");
    cr_assert_eq(strlen(id), 32);
    cr_assert_eq(strspn(id, "0123456789abcdef"), 32, "GUID N format: %s", id);
    cJSON *m = th_take_message(&t, id, 4);
    cr_assert(cJSON_IsNull(get(m, "TaskMessage.Event.Input")));
    az_entity e = row(id);
    cr_assert_null(az_entity_get(&e, "Input"), "no Input column for no input");
    rs = th_do(&t, "POST", "/durabletask/orchestrators/Hello/ws1", NULL, "  \r\n ");
    cr_assert_eq(rs.status, 202, "a blank body is no input");
}

Test(start, bad_json_and_bad_ids_are_400_form_b)
{
    rt_response rs = th_do(&t, "POST", "/durabletask/orchestrators/Hello/x1", NULL, "{\"a\":");
    cr_assert_eq(rs.status, 400);
    cJSON *b = th_json(&t, &rs);
    cr_assert_str_eq(jstr(b, "Message"), "Invalid JSON content");
    cr_assert_str_eq(jstr(b, "ExceptionType"), "Newtonsoft.Json.JsonReaderException");
    cr_assert(cJSON_IsNull(get(b, "StackTrace")));
    cr_assert_eq(th_do(&t, "POST", "/durabletask/orchestrators/Hello/x1", NULL, "{} {}").status, 400,
                 "trailing data");
    cr_assert_eq(th_do(&t, "POST", "/durabletask/orchestrators/Hello/x1", NULL, "\"\xff\"").status, 400,
                 "not UTF-8");
    cr_assert_eq(th_do(&t, "POST", "/durabletask/orchestrators/Hello/x1", NULL, "{}\x01").status, 400,
                 "a control byte after the value (cJSON skips it, the host does not)");
    cr_assert_eq(th_do(&t, "POST", "/durabletask/orchestrators/Hello/x1", NULL, "\x01 5").status, 400,
                 "a control byte before the value");
    const char *bad[] = {"%40entity", "a%23b", "a%3Fb",  "a%5Cb", "a%2Fb",    "tab%09id",
                         "del%7F",    "a%00b", "%C0%80", "%FF",   "%ED%A0%80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rs = th_do(&t, "POST", dg_arena_printf(t.a, "/durabletask/orchestrators/Hello/%s", bad[i]), NULL,
                   NULL);
        cr_assert_eq(rs.status, 400, "%s: %d", bad[i], rs.status);
        b = th_json(&t, &rs);
        cr_assert_str_eq(jstr(b, "Message"), "One or more of the arguments submitted is incorrect");
    }
    char longid[300];
    memset(longid, 'x', 257);
    longid[257] = '\0';
    cr_assert_eq(
        th_do(&t, "POST", dg_arena_printf(t.a, "/durabletask/orchestrators/Hello/%s", longid), NULL, NULL)
            .status,
        400);
    longid[256] = '\0';
    cr_assert_eq(
        th_do(&t, "POST", dg_arena_printf(t.a, "/durabletask/orchestrators/Hello/%s", longid), NULL, NULL)
            .status,
        202, "256 characters are allowed");
}

Test(start, ids_with_spaces_carets_plus_percent_and_non_ascii_round_trip)
{
    const char *enc = "a%20b%5Ec%2Bd%25e%C3%A9%E6%9D%B1";
    const char *id = "a b^c+d%e\xc3\xa9\xe6\x9d\xb1";
    rt_response rs =
        th_do(&t, "POST", dg_arena_printf(t.a, "/durabletask/orchestrators/Hello/%s", enc), NULL, "1");
    cr_assert_eq(rs.status, 202);
    cJSON *b = th_json(&t, &rs);
    cr_assert_str_eq(jstr(b, "id"), id);
    cr_assert(strstr(jstr(b, "statusQueryGetUri"), dg_arena_printf(t.a, "/instances/%s?", enc)), "%s",
              jstr(b, "statusQueryGetUri"));
    cJSON *m = th_take_message(&t, id, 4); /* hashed raw */
    cr_assert_str_eq(jstr(m, "TaskMessage.OrchestrationInstance.InstanceId"), id);
    az_entity e = row(id); /* keyed escaped */
    cr_assert_str_eq(e.pk, "a b^^c+d%e\xc3\xa9\xe6\x9d\xb1");
    rs = th_do(&t, "GET", dg_arena_printf(t.a, "/durabletask/instances/%s", enc), NULL, NULL);
    cr_assert_eq(rs.status, 202);
    cr_assert_str_eq(jstr(th_json(&t, &rs), "instanceId"), id);
}

Test(start, dedupe_409_for_active_and_overwrite_with_generation_plus_one)
{
    th_make_instances_table(&t);
    const char *active[] = {"Running", "Pending", "ContinuedAsNew", "Suspended"};
    for (size_t i = 0; i < 4; i++) {
        const char *id = dg_arena_printf(t.a, "dup%zu", i);
        th_seed_instance(&t, id, "Hello", active[i], "1", NULL);
        rt_response rs =
            th_do(&t, "POST", dg_arena_printf(t.a, "/durabletask/orchestrators/Hello/%s", id), NULL, "2");
        cr_assert_eq(rs.status, 409, "%s: %d", active[i], rs.status);
        cr_assert_str_eq(
            jstr(th_json(&t, &rs), "Message"),
            dg_arena_printf(t.a, "An Orchestration instance with the status %s already exists.", active[i]));
        az_entity e = row(id);
        cr_assert_str_eq(az_entity_str(&e, "Input"), "1", "the existing instance is untouched");
    }
    th_seed_instance(&t, "done", "Hello", "Completed", "1", "\"old output\"");
    rt_response rs = th_do(&t, "POST", "/durabletask/orchestrators/Hello/done", NULL, "2");
    cr_assert_eq(rs.status, 202);
    az_entity e = row("done");
    cr_assert_str_eq(az_entity_str(&e, "RuntimeStatus"), "Pending");
    cr_assert_eq(az_entity_int(&e, "Generation", -1), 1);
    cr_assert_null(az_entity_get(&e, "Output"), "the row was replaced, not merged");
    cr_assert_str_eq(az_entity_str(&e, "Input"), "2");
    cJSON *m = th_take_message(&t, "done", 4);
    cr_assert_eq(get(m, "TaskMessage.Event.Generation")->valueint, 1);
    cr_assert_str_eq(jstr(m, "TaskMessage.Event.OrchestrationInstance.ExecutionId"),
                     az_entity_str(&e, "ExecutionId"));
}

Test(start, version_parameter_and_allow_list)
{
    rt_response rs = th_do(&t, "POST", "/durabletask/orchestrators/Hello/v1", "version=2.1", NULL);
    cr_assert_eq(rs.status, 202);
    cr_assert_str_eq(jstr(th_take_message(&t, "v1", 4), "TaskMessage.Event.Version"), "2.1");
    az_entity e = row("v1");
    cr_assert_str_eq(az_entity_str(&e, "Version"), "2.1");

    static const char *const allow[] = {"Hello", "E1_HelloSequence", NULL};
    t.env.orchestrators = allow;
    rs = th_do(&t, "POST", "/durabletask/orchestrators/Nope/n1", NULL, NULL);
    cr_assert_eq(rs.status, 400);
    cJSON *b = th_json(&t, &rs);
    cr_assert_str_eq(
        jstr(b, "ExceptionMessage"),
        "The function 'Nope' doesn't exist, is disabled, or is not an orchestrator function. Additional "
        "info: The following are the known orchestrator functions: 'Hello', 'E1_HelloSequence'.");
    th_assert_no_message(&t, "n1", 4);
    cr_assert_eq(th_do(&t, "POST", "/durabletask/orchestrators/hello/n2", NULL, NULL).status, 202,
                 "names match ignoring case");
    t.env.orchestrators = NULL;
}

Test(start, routes_to_the_discovered_partition_count)
{
    az_ctx x;
    az_ctx_init(&x, t.a);
    const char *pt = dg_arena_printf(t.a, "%sPartitions", t.hub);
    cr_assert_eq(az_table_create(t.c, &x, pt), DG_OK);
    struct hub h = {.c = t.c, .name = t.hub, .partitions = 2};
    char *l = dg_arena_strdup(t.a, t.hub);
    for (char *p = l; *p; p++)
        *p = (char) (*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    h.lname = l;
    for (unsigned p = 0; p < 2; p++) {
        az_entity e;
        az_entity_init(&e, t.a, "", hub_control_queue_name(&h, t.a, p));
        az_entity_set_bool(&e, t.a, "IsDraining", false);
        cr_assert_eq(az_table_write(t.c, &x, pt, AZ_INSERT, &e, NULL, NULL), DG_OK);
    }
    h.exists = false;
    cr_assert_eq(hub_ensure(&h, &x), DG_OK);
    hub_cache_clear();
    /* "abc" is partition 3 of 4 but 1 of 2 (docs/storage-layout.md §3). */
    cr_assert_eq(th_do(&t, "POST", "/durabletask/orchestrators/Hello/abc", NULL, NULL).status, 202);
    cJSON *m = th_take_message(&t, "abc", 2);
    cr_assert_str_eq(jstr(m, "TaskMessage.OrchestrationInstance.InstanceId"), "abc");
    th_assert_no_message(&t, "abc", 4);
}

static char *big_json_string(size_t n)
{
    char *s = dg_arena_alloc(t.a, n + 3);
    s[0] = '"';
    for (size_t i = 0; i < n; i++)
        s[1 + i] = (char) ('a' + (char) (i % 26));
    s[n + 1] = '"';
    s[n + 2] = '\0';
    return s;
}

Test(start, a_large_input_goes_to_a_message_blob_and_reads_back)
{
    char *in = big_json_string(100000);
    rt_response rs = th_do(&t, "POST", "/durabletask/orchestrators/Hello/big1", NULL, in);
    cr_assert_eq(rs.status, 202);
    cJSON *m = th_take_message(&t, "big1", 4);
    const char *blob = jstr(m, "CompressedBlobName");
    cr_assert(strncmp(blob, "big1/message-", 13) == 0 && strstr(blob, "-ExecutionStarted.json.gz"), "%s",
              blob);
    cr_assert(cJSON_IsNull(get(m, "TaskMessage")));
    cr_assert_null(get(m, "Sender"), "the wrapper has no Sender");
    az_ctx x;
    az_ctx_init(&x, t.a);
    char *text;
    size_t n;
    cr_assert_eq(hub_large_get(t.c, &x, t.hub, blob, &text, &n), DG_OK);
    cJSON *whole = cJSON_ParseWithLength(text, n);
    cr_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(whole, "TaskMessage"), "Event"), "Input")
            ->valuestring,
        in);
    cJSON_Delete(whole);
    az_entity e = row("big1");
    cr_assert(hub_large_is_url(az_entity_str(&e, "Input")), "Input holds the blob URL: %s",
              az_entity_str(&e, "Input"));
    rs = th_do(&t, "GET", "/durabletask/instances/big1", NULL, NULL);
    cr_assert_eq(rs.status, 202);
    cr_assert_str_eq(jstr(th_json(&t, &rs), "input"), dg_arena_strndup(t.a, in + 1, 100000));
}

Test(start, an_input_over_the_table_limit_but_under_the_queue_limit)
{
    char *in = big_json_string(40000); /* > 30 720 UTF-16 units, < 46 080 bytes with the envelope */
    rt_response rs = th_do(&t, "POST", "/durabletask/orchestrators/Hello/mid1", NULL, in);
    cr_assert_eq(rs.status, 202);
    cJSON *m = th_take_message(&t, "mid1", 4);
    cr_assert(cJSON_IsNull(get(m, "CompressedBlobName")), "the message went whole");
    cr_assert_str_eq(jstr(m, "TaskMessage.Event.Input"), in);
    az_entity e = row("mid1");
    const char *url = az_entity_str(&e, "Input");
    cr_assert(hub_large_is_url(url) && strstr(url, "/mid1/history--Input-"), "%s", url);
    rs = th_do(&t, "GET", "/durabletask/instances/mid1", NULL, NULL);
    cr_assert_str_eq(jstr(th_json(&t, &rs), "input"), dg_arena_strndup(t.a, in + 1, 40000));
}

Test(start, links_follow_public_origin_and_forwarded_headers)
{
    struct rt_param fwd[] = {{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "api.example.com"}};
    struct th_req r = {"POST", "/durabletask/orchestrators/Hello/l1", NULL, TH_KEY, NULL, NULL, fwd, 2};
    rt_response rs = th_call(&t, &r);
    cr_assert(strncmp(th_header(&rs, "Location"), "http://gw.test:7071/runtime/", 28) == 0,
              "forwarded headers are ignored unless trusted");
    t.env.trust_forwarded = 1;
    r.path = "/durabletask/orchestrators/Hello/l2";
    rs = th_call(&t, &r);
    cr_assert(strncmp(th_header(&rs, "Location"),
                      "https://api.example.com/runtime/webhooks/durabletask/instances/l2?", 66) == 0,
              "%s", th_header(&rs, "Location"));
    struct rt_param evil[] = {{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "evil.com/x?y"}};
    r.headers = evil;
    r.path = "/durabletask/orchestrators/Hello/l3";
    rs = th_call(&t, &r);
    cr_assert(strncmp(th_header(&rs, "Location"), "http://gw.test:7071/", 20) == 0,
              "an odd host is not pasted, and the scheme does not apply alone: %s",
              th_header(&rs, "Location"));
    const struct rt_param *const halves[] = {(struct rt_param[]){{"X-Forwarded-Proto", "https"}},
                                             (struct rt_param[]){{"X-Forwarded-Host", "api.example.com"}}};
    for (size_t i = 0; i < 2; i++) {
        r.headers = halves[i];
        r.nheaders = 1;
        r.path = dg_arena_printf(t.a, "/durabletask/orchestrators/Hello/half%zu", i);
        rs = th_call(&t, &r);
        cr_assert(strncmp(th_header(&rs, "Location"), "http://gw.test:7071/", 20) == 0,
                  "one forwarded header alone is not used: %s", th_header(&rs, "Location"));
    }
    struct rt_param odd_scheme[] = {{"X-Forwarded-Proto", "gopher"}, {"X-Forwarded-Host", "api.example.com"}};
    r.headers = odd_scheme;
    r.nheaders = 2;
    r.path = "/durabletask/orchestrators/Hello/odd";
    rs = th_call(&t, &r);
    cr_assert(strncmp(th_header(&rs, "Location"), "http://gw.test:7071/", 20) == 0, "%s",
              th_header(&rs, "Location"));
    struct rt_param appended[] = {{"X-Forwarded-Proto", "https"},
                                  {"X-Forwarded-Host", "client-said.com, proxy-said.com"}};
    r.headers = appended;
    r.path = "/durabletask/orchestrators/Hello/l3b";
    rs = th_call(&t, &r);
    cr_assert(strncmp(th_header(&rs, "Location"), "https://proxy-said.com/", 23) == 0,
              "the proxy's value, the last one, wins: %s", th_header(&rs, "Location"));
    t.env.public_origin = "https://public.example.org";
    r.path = "/durabletask/orchestrators/Hello/l4";
    rs = th_call(&t, &r);
    cr_assert(strncmp(th_header(&rs, "Location"), "https://public.example.org/runtime/webhooks/durabletask/",
                      56) == 0);
    t.env.public_origin = NULL;
    t.env.trust_forwarded = 0;
}

Test(start, task_hub_and_connection_parameters)
{
    const char *other = "OtherHub1";
    rt_response rs = th_do(&t, "POST", "/durabletask/orchestrators/Hello/h1",
                           dg_arena_printf(t.a, "taskHub=&taskHub=%s", other), NULL);
    cr_assert_eq(rs.status, 202, "the first non-blank taskHub wins");
    cr_assert(strstr(th_header(&rs, "Location"), "taskHub=OtherHub1&connection=Storage"));
    cr_assert_eq(th_do(&t, "POST", "/durabletask/orchestrators/Hello/h2", "connection=Nope", NULL).status,
                 400);
    cr_assert_eq(
        th_do(&t, "POST", "/durabletask/orchestrators/Hello/h3", "connection=AzureWebJobsStorage", NULL)
            .status,
        202);
    struct rt_connection conns[] = {{"Secondary", t.c}};
    t.env.connections = conns;
    t.env.nconnections = 1;
    rs = th_do(&t, "POST", "/durabletask/orchestrators/Hello/h4", "connection=secondary", NULL);
    cr_assert_eq(rs.status, 202);
    cr_assert(strstr(th_header(&rs, "Location"), "&connection=secondary"));
    t.env.connections = NULL;
    t.env.nconnections = 0;
    cr_assert_eq(th_do(&t, "POST", "/durabletask/orchestrators/Hello/h5", "taskHub=bad-hub", NULL).status,
                 400);
}

Test(start, read_only_keys_cannot_start)
{
    struct th_req r = {"POST", "/durabletask/orchestrators/Hello/ro1", NULL, TH_READ_KEY, NULL, NULL, NULL,
                       0};
    cr_assert_eq(th_call(&t, &r).status, 403);
    r.key = NULL;
    r.query = "code=" TH_READ_KEY;
    cr_assert_eq(th_call(&t, &r).status, 403);
    r.query = NULL;
    cr_assert_eq(th_call(&t, &r).status, 401);
    r.method = "GET";
    r.path = "/durabletask/instances/ro1";
    r.key = TH_READ_KEY;
    cr_assert_eq(th_call(&t, &r).status, 404, "reads are allowed (and there is no such instance)");
}

Test(start, storage_down_is_503_with_retry_after)
{
    az_account acct;
    char err[128];
    cr_assert_eq(
        az_account_parse("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" AZ_DEV_KEY
                         ";BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:1/"
                         "devstoreaccount1;TableEndpoint=http://127.0.0.1:1/devstoreaccount1",
                         &acct, err, sizeof err),
        DG_OK, "%s", err);
    struct az_client_opts o = {.max_attempts = 2, .call_timeout_ms = 2000, .backoff_base_ms = 10};
    az_client *dead = az_client_create(&acct, &o);
    az_account_free(&acct);
    az_client *saved = t.env.storage;
    t.env.storage = dead;
    rt_response rs = th_do(&t, "POST", "/durabletask/orchestrators/Hello/down1", NULL, NULL);
    t.env.storage = saved;
    cr_assert_eq(rs.status, 503);
    cr_assert_str_eq(th_header(&rs, "Retry-After"), "5");
    cr_assert_null(strstr(rs.body, "Eby8"), "no secret in the body");
    az_client_destroy(dead);
}

TestSuite(restart, .init = setup, .fini = teardown, .timeout = 60);

Test(restart, new_id_same_name_and_input)
{
    th_make_instances_table(&t);
    th_seed_instance(&t, "r1", "E1_HelloSequence", "Completed", "{\"x\":1}", "\"done\"");
    rt_response rs = th_do(&t, "POST", "/durabletask/instances/r1/restart", NULL, NULL);
    cr_assert_eq(rs.status, 202, "got %d", rs.status);
    cr_assert_str_eq(th_header(&rs, "Retry-After"), "10");
    const char *id = jstr(th_json(&t, &rs), "id");
    cr_assert_eq(strlen(id), 32);
    cJSON *m = th_take_message(&t, id, 4);
    cr_assert_str_eq(jstr(m, "TaskMessage.Event.Name"), "E1_HelloSequence");
    cr_assert_str_eq(jstr(m, "TaskMessage.Event.Input"), "{\"x\":1}");
    az_entity e = row("r1");
    cr_assert_str_eq(az_entity_str(&e, "RuntimeStatus"), "Completed", "the old instance is untouched");
}

Test(restart, same_id_and_its_rules)
{
    th_make_instances_table(&t);
    th_seed_instance(&t, "r2", "Hello", "Failed", "5", "boom");
    rt_response rs =
        th_do(&t, "POST", "/durabletask/instances/r2/restart", "restartWithNewInstanceId=false", NULL);
    cr_assert_eq(rs.status, 202);
    cr_assert_str_eq(jstr(th_json(&t, &rs), "id"), "r2");
    az_entity e = row("r2");
    cr_assert_str_eq(az_entity_str(&e, "RuntimeStatus"), "Pending");
    cr_assert_eq(az_entity_int(&e, "Generation", -1), 1);
    rs = th_do(&t, "POST", "/durabletask/instances/r2/restart", "restartWithNewInstanceId=false", NULL);
    cr_assert_eq(rs.status, 409, "now it is Pending");
    cr_assert_str_eq(jstr(th_json(&t, &rs), "Message"),
                     "A non-terminal instance with this instance ID already exists.");
    rs = th_do(&t, "POST", "/durabletask/instances/nope/restart", NULL, NULL);
    cr_assert_eq(rs.status, 400);
    cr_assert_str_eq(jstr(th_json(&t, &rs), "Message"),
                     "InstanceId does not match a valid orchestration instance.");
}
