/* Raise event (docs/http-api.md §4.7), terminate (§4.8), suspend and resume (§4.9)
 * through the router over a real Azurite: the status checks, the content
 * checks, and the one control-queue message each sends (docs/storage-layout.md §6, §8). */
#include "taskhub/hub.h"
#include "tests/support/route_harness.h"

#include <criterion/criterion.h>
#include <string.h>

static struct th t;

/* A hub the gateway made (4 partitions), with instances in every status. */
static void setup(void)
{
    th_init(&t);
    cr_assert_eq(th_do(&t, "POST", "/durabletask/orchestrators/Hello/made", NULL, NULL).status, 202);
    (void) th_take_message(&t, "made", 4);
    const char *st[] = {"Running",   "Pending", "Suspended",  "ContinuedAsNew",
                        "Completed", "Failed",  "Terminated", "Canceled"};
    for (size_t i = 0; i < sizeof st / sizeof *st; i++)
        th_seed_instance(&t, st[i], "Hello", st[i], NULL, NULL);
    th_seed_instance(&t, "a/b#c?d", "Hello", "Running", NULL, NULL); /* written by another client */
}

static void teardown(void)
{
    th_fini(&t);
}

TestSuite(lifecycle, .init = setup, .fini = teardown, .timeout = 60);

static const cJSON *get(const cJSON *o, const char *a, const char *b, const char *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c)
        v = cJSON_GetObjectItemCaseSensitive(v, c);
    return v;
}

/* The common shape of a client event message: $type first, ExecutionId null, Sender empty. */
static const cJSON *check_envelope(const cJSON *m, const char *id, const char *type, int event_type)
{
    cr_assert_str_eq(th_first_key(m), "$type");
    cr_assert_str_eq(get(m, "Sender", "InstanceId", NULL)->valuestring, "");
    cr_assert_str_eq(get(m, "Sender", "ExecutionId", NULL)->valuestring, "");
    cr_assert_str_eq(get(m, "TaskMessage", "OrchestrationInstance", "InstanceId")->valuestring, id);
    cr_assert(cJSON_IsNull(get(m, "TaskMessage", "OrchestrationInstance", "ExecutionId")),
              "ExecutionId null: the current execution");
    const cJSON *ev = get(m, "TaskMessage", "Event", NULL);
    cr_assert_str_eq(th_first_key(ev), "$type");
    cr_assert_str_eq(get(ev, "$type", NULL, NULL)->valuestring, type);
    cr_assert_eq(get(ev, "EventType", NULL, NULL)->valueint, event_type);
    cr_assert_eq(get(ev, "EventId", NULL, NULL)->valueint, -1);
    return ev;
}

Test(lifecycle, raise_event_sends_event_raised)
{
    const char *ok[] = {"Running", "Pending", "Suspended", "ContinuedAsNew"};
    for (size_t i = 0; i < 4; i++) {
        rt_response rs =
            th_do(&t, "POST", dg_arena_printf(t.a, "/durabletask/instances/%s/raiseEvent/Approval", ok[i]),
                  NULL, "{ \"approved\": true }");
        cr_assert_eq(rs.status, 202, "%s: %d", ok[i], rs.status);
        cr_assert_null(rs.body);
        const cJSON *ev = check_envelope(th_take_message(&t, ok[i], 4), ok[i],
                                         "DurableTask.Core.History.EventRaisedEvent", 15);
        cr_assert_str_eq(get(ev, "Name", NULL, NULL)->valuestring, "Approval");
        cr_assert_str_eq(get(ev, "Input", NULL, NULL)->valuestring, "{\"approved\":true}");
    }
}

Test(lifecycle, raise_event_status_and_content_checks)
{
    cr_assert_eq(th_do(&t, "POST", "/durabletask/instances/nope/raiseEvent/E", NULL, "1").status, 404);
    const char *done[] = {"Completed", "Failed", "Terminated", "Canceled"};
    for (size_t i = 0; i < 4; i++) {
        rt_response rs = th_do(
            &t, "POST", dg_arena_printf(t.a, "/durabletask/instances/%s/raiseEvent/E", done[i]), NULL, "1");
        cr_assert_eq(rs.status, 410, "%s", done[i]);
        cr_assert_null(rs.body);
    }
    struct th_req r = {
        "POST", "/durabletask/instances/Running/raiseEvent/E", NULL, TH_KEY, "text/plain", "1", NULL, 0};
    rt_response rs = th_call(&t, &r);
    cr_assert_eq(rs.status, 400);
    cr_assert_str_eq(cJSON_GetObjectItem(th_json(&t, &rs), "Message")->valuestring,
                     "Only application/json request content is supported");
    r.content_type = "Application/JSON; charset=utf-8";
    cr_assert_eq(th_call(&t, &r).status, 202, "media type ignoring case, with parameters");
    (void) th_take_message(&t, "Running", 4);
    r.body = "";
    rs = th_call(&t, &r);
    cr_assert_eq(rs.status, 400, "an empty body is not JSON here");
    cr_assert_str_eq(cJSON_GetObjectItem(th_json(&t, &rs), "Message")->valuestring, "Invalid JSON content");
    r.body = "{nope";
    cr_assert_eq(th_call(&t, &r).status, 400);
    r.content_type = NULL;
    r.body = "1";
    cr_assert_eq(th_call(&t, &r).status, 400, "no content type");
    th_assert_no_message(&t, "Running", 4);
}

Test(lifecycle, ids_other_clients_wrote_are_addressed)
{
    rt_response rs = th_do(&t, "POST", "/durabletask/instances/a%2Fb%23c%3Fd/raiseEvent/Go", NULL, "\"x\"");
    cr_assert_eq(rs.status, 202);
    check_envelope(th_take_message(&t, "a/b#c?d", 4), "a/b#c?d", "DurableTask.Core.History.EventRaisedEvent",
                   15);
    rs = th_do(&t, "POST", "/durabletask/instances/a%2Fb%23c%3Fd/terminate", "reason=bye", NULL);
    cr_assert_eq(rs.status, 202);
    check_envelope(th_take_message(&t, "a/b#c?d", 4), "a/b#c?d",
                   "DurableTask.Core.History.ExecutionTerminatedEvent", 3);
}

Test(lifecycle, terminate)
{
    rt_response rs =
        th_do(&t, "POST", "/durabletask/instances/Suspended/terminate", "reason=operator%20said%20so", NULL);
    cr_assert_eq(rs.status, 202);
    const cJSON *ev = check_envelope(th_take_message(&t, "Suspended", 4), "Suspended",
                                     "DurableTask.Core.History.ExecutionTerminatedEvent", 3);
    cr_assert_str_eq(get(ev, "Input", NULL, NULL)->valuestring, "operator said so");
    cr_assert_eq(th_do(&t, "POST", "/durabletask/instances/Pending/terminate", NULL, NULL).status, 202);
    ev = check_envelope(th_take_message(&t, "Pending", 4), "Pending",
                        "DurableTask.Core.History.ExecutionTerminatedEvent", 3);
    cr_assert(cJSON_IsNull(get(ev, "Input", NULL, NULL)), "no reason: null");
    cr_assert_eq(th_do(&t, "POST", "/durabletask/instances/nope/terminate", NULL, NULL).status, 404);
    cr_assert_eq(th_do(&t, "POST", "/durabletask/instances/Completed/terminate", NULL, NULL).status, 410);
    cr_assert_eq(th_do(&t, "POST", "/durabletask/instances/Canceled/terminate", NULL, NULL).status, 410);
}

Test(lifecycle, suspend_and_resume)
{
    rt_response rs = th_do(&t, "POST", "/durabletask/instances/Running/suspend", "reason=maintenance", NULL);
    cr_assert_eq(rs.status, 202);
    const cJSON *ev = check_envelope(th_take_message(&t, "Running", 4), "Running",
                                     "DurableTask.Core.History.ExecutionSuspendedEvent", 19);
    cr_assert_str_eq(get(ev, "Reason", NULL, NULL)->valuestring, "maintenance");
    rs = th_do(&t, "POST", "/durabletask/instances/Suspended/resume", "reason={text}", NULL);
    cr_assert_eq(rs.status, 202);
    ev = check_envelope(th_take_message(&t, "Suspended", 4), "Suspended",
                        "DurableTask.Core.History.ExecutionResumedEvent", 20);
    cr_assert_str_eq(get(ev, "Reason", NULL, NULL)->valuestring, "{text}", "an unfilled placeholder is kept");
    rs = th_do(&t, "POST", "/durabletask/instances/Suspended/suspend", NULL, NULL);
    cr_assert_eq(rs.status, 409);
    cr_assert(strstr(cJSON_GetObjectItem(th_json(&t, &rs), "Message")->valuestring, "Suspended state"));
    cr_assert_eq(th_do(&t, "POST", "/durabletask/instances/Running/resume", NULL, NULL).status, 409);
    cr_assert_eq(th_do(&t, "POST", "/durabletask/instances/Failed/suspend", NULL, NULL).status, 410);
    cr_assert_eq(th_do(&t, "POST", "/durabletask/instances/Terminated/resume", NULL, NULL).status, 410);
    cr_assert_eq(th_do(&t, "POST", "/durabletask/instances/nope/suspend", NULL, NULL).status, 404);
    th_assert_no_message(&t, "Suspended", 4);
    th_assert_no_message(&t, "Running", 4);
}

Test(lifecycle, entities_are_refused_and_read_only_keys_too)
{
    rt_response rs = th_do(&t, "POST", "/durabletask/instances/%40counter%40k/terminate", NULL, NULL);
    cr_assert_eq(rs.status, 400);
    struct th_req r = {
        "POST", "/durabletask/instances/Running/terminate", NULL, TH_READ_KEY, NULL, NULL, NULL, 0};
    cr_assert_eq(th_call(&t, &r).status, 403);
    r.path = "/durabletask/instances/Running/raiseEvent/E";
    r.content_type = "application/json";
    r.body = "1";
    cr_assert_eq(th_call(&t, &r).status, 403);
    th_assert_no_message(&t, "Running", 4);
}
