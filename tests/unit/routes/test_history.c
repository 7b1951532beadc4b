/* routes/history.c: the host's rewrite of the raw history into historyEvents
 * (docs/http-api.md §6.2), on raw events written the way taskhub/history.c (and
 * DurableTask.Core) writes them. */
#include "routes/handlers.h"

#include <criterion/criterion.h>
#include <string.h>

static dg_arena *a;
static void setup(void)
{
    a = dg_arena_create();
}
static void teardown(void)
{
    dg_arena_destroy(a);
}
TestSuite(history_events, .init = setup, .fini = teardown);

#define T0 "\"Timestamp\":\"2024-05-01T10:00:00.1Z\""
#define T1 "\"Timestamp\":\"2024-05-01T10:00:01.1Z\""
#define T2 "\"Timestamp\":\"2024-05-01T10:00:02.1Z\""

static const char *rewrite(const char *raw, bool show_input, bool show_output)
{
    cJSON *j = cJSON_Parse(raw);
    cr_assert_not_null(j, "bad test JSON: %s", raw);
    rt_history_events(a, j, show_input, show_output);
    char *t = cJSON_PrintUnformatted(j);
    const char *r = dg_arena_strdup(a, t);
    cJSON_free(t);
    cJSON_Delete(j);
    return r;
}

static const char *started =
    "{\"OrchestrationInstance\":{\"InstanceId\":\"i\",\"ExecutionId\":\"x\"},\"EventType\":0,"
    "\"ParentInstance\":null,\"Name\":\"Hello\",\"Version\":\"\",\"Input\":\"{\\\"x\\\":1}\",\"Tags\":null,"
    "\"Correlation\":null,\"ParentTraceContext\":null,\"ScheduledStartTime\":null,\"Generation\":0,"
    "\"GenerateNewTrace\":false,\"EventId\":-1,\"IsPlayed\":true," T0 "}";

Test(history_events, execution_started_moves_name_to_the_end_and_keeps_raw_input)
{
    cr_assert_str_eq(rewrite(dg_arena_printf(a, "[%s]", started), true, false),
                     "[{\"EventType\":\"ExecutionStarted\",\"Input\":\"{\\\"x\\\":1}\",\"Correlation\":null,"
                     "\"ParentTraceContext\":null,\"ScheduledStartTime\":null,\"Generation\":0,"
                     "\"GenerateNewTrace\":false," T0 ",\"FunctionName\":\"Hello\"}]");
    cr_assert_str_eq(rewrite(dg_arena_printf(a, "[%s]", started), false, true),
                     "[{\"EventType\":\"ExecutionStarted\",\"Correlation\":null,\"ParentTraceContext\":null,"
                     "\"ScheduledStartTime\":null,\"Generation\":0,\"GenerateNewTrace\":false," T0
                     ",\"FunctionName\":\"Hello\"}]");
}

static const char *scheduled(int id, const char *name, const char *input, const char *ts)
{
    return dg_arena_printf(a,
                           "{\"EventType\":4,\"Name\":\"%s\",\"Version\":\"\",\"Input\":%s,"
                           "\"ParentTraceContext\":null,\"Tags\":null,\"EventId\":%d,\"IsPlayed\":false,%s}",
                           name, input, id, ts);
}

Test(history_events, completions_absorb_their_scheduling_event)
{
    const char *raw = dg_arena_printf(
        a,
        "[{\"EventType\":12,\"EventId\":-1,\"IsPlayed\":false," T0 "},%s,{\"EventType\":13,\"EventId\":-1,"
        "\"IsPlayed\":false," T0 "},{\"EventType\":5,\"TaskScheduledId\":0,\"Result\":\"\\\"Hi!\\\"\","
        "\"EventId\":-1,\"IsPlayed\":true," T2 "}]",
        scheduled(0, "SayHi", "\"\\\"Tokyo\\\"\"", T1));
    cr_assert_str_eq(rewrite(raw, true, true),
                     "[{\"EventType\":\"TaskCompleted\",\"Result\":\"Hi!\"," T2
                     ",\"ScheduledTime\":\"2024-05-01T10:00:01.1Z\",\"FunctionName\":\"SayHi\","
                     "\"Input\":\"\\\"Tokyo\\\"\"}]");
    cr_assert_str_eq(rewrite(raw, true, false),
                     "[{\"EventType\":\"TaskCompleted\"," T2 ",\"ScheduledTime\":\"2024-05-01T10:00:01.1Z\","
                     "\"FunctionName\":\"SayHi\",\"Input\":\"\\\"Tokyo\\\"\"}]");
    cr_assert_str_eq(rewrite(raw, false, false),
                     "[{\"EventType\":\"TaskCompleted\"," T2 ",\"ScheduledTime\":\"2024-05-01T10:00:01.1Z\","
                     "\"FunctionName\":\"SayHi\"}]");
}

Test(history_events, failures_keep_reason_details_and_failure_details)
{
    const char *raw = dg_arena_printf(
        a,
        "[%s,{\"EventType\":6,\"TaskScheduledId\":7,\"Reason\":\"boom\",\"Details\":\"trace\","
        "\"FailureDetails\":{\"ErrorType\":\"E\"},\"EventId\":-1,\"IsPlayed\":true," T2 "}]",
        scheduled(7, "Flaky", "null", T1));
    cr_assert_str_eq(
        rewrite(raw, true, true),
        "[{\"EventType\":\"TaskFailed\",\"Reason\":\"boom\",\"Details\":\"trace\","
        "\"FailureDetails\":{\"ErrorType\":\"E\"}," T2
        ",\"ScheduledTime\":\"2024-05-01T10:00:01.1Z\",\"FunctionName\":\"Flaky\",\"Input\":null}]");
}

Test(history_events, sub_orchestrations_merge_like_tasks)
{
    const char *raw =
        "[{\"EventType\":7,\"Name\":\"Child\",\"Version\":\"\",\"InstanceId\":\"c:0\",\"Input\":\"1\","
        "\"ClientSpanId\":null,\"Tags\":null,\"EventId\":0,\"IsPlayed\":false," T1 "},"
        "{\"EventType\":9,\"TaskScheduledId\":0,\"Reason\":\"r\",\"Details\":null,\"FailureDetails\":null,"
        "\"EventId\":-1,\"IsPlayed\":true," T2 "},"
        "{\"EventType\":7,\"Name\":\"Child\",\"Version\":\"\",\"InstanceId\":\"c:1\",\"Input\":null,"
        "\"ClientSpanId\":null,\"Tags\":null,\"EventId\":1,\"IsPlayed\":false," T1 "},"
        "{\"EventType\":8,\"TaskScheduledId\":1,\"Result\":\"[1,2]\",\"EventId\":-1,\"IsPlayed\":true," T2
        "}]";
    cr_assert_str_eq(
        rewrite(raw, true, true),
        "[{\"EventType\":\"SubOrchestrationInstanceFailed\",\"Reason\":\"r\",\"Details\":null,"
        "\"FailureDetails\":null," T2 ",\"ScheduledTime\":\"2024-05-01T10:00:01.1Z\","
        "\"FunctionName\":\"Child\",\"Input\":\"1\"},"
        "{\"EventType\":\"SubOrchestrationInstanceCompleted\",\"Result\":[1,2]," T2
        ",\"ScheduledTime\":\"2024-05-01T10:00:01.1Z\",\"FunctionName\":\"Child\",\"Input\":null}]");
}

Test(history_events, a_task_and_a_sub_orchestration_with_one_id_do_not_mix)
{
    const char *raw = dg_arena_printf(
        a,
        "[%s,{\"EventType\":7,\"Name\":\"Child\",\"Version\":\"\",\"InstanceId\":\"c\",\"Input\":null,"
        "\"ClientSpanId\":null,\"Tags\":null,\"EventId\":0,\"IsPlayed\":false," T1 "},"
        "{\"EventType\":8,\"TaskScheduledId\":0,\"Result\":null,\"EventId\":-1,\"IsPlayed\":true," T2 "}]",
        scheduled(0, "Act", "null", T0));
    cr_assert_str_eq(rewrite(raw, false, false),
                     "[{\"EventType\":\"TaskScheduled\",\"Name\":\"Act\",\"ParentTraceContext\":null,"
                     "\"Tags\":null," T0 "},{\"EventType\":\"SubOrchestrationInstanceCompleted\"," T2
                     ",\"ScheduledTime\":\"2024-05-01T10:00:01.1Z\",\"FunctionName\":\"Child\"}]");
}

Test(history_events, unmatched_events_stay_and_the_later_duplicate_wins)
{
    const char *raw = dg_arena_printf(
        a,
        "[%s,%s,{\"EventType\":5,\"TaskScheduledId\":3,\"Result\":\"1\",\"EventId\":-1,\"IsPlayed\":true," T2
        "},{\"EventType\":5,\"TaskScheduledId\":9,\"Result\":\"2\",\"EventId\":-1,\"IsPlayed\":true," T2 "}]",
        scheduled(3, "First", "null", T0), scheduled(3, "Second", "null", T1));
    cr_assert_str_eq(rewrite(raw, false, true),
                     "[{\"EventType\":\"TaskScheduled\",\"Name\":\"First\",\"ParentTraceContext\":null,"
                     "\"Tags\":null," T0 "},"
                     "{\"EventType\":\"TaskCompleted\",\"Result\":1," T2
                     ",\"ScheduledTime\":\"2024-05-01T10:00:01.1Z\",\"FunctionName\":\"Second\"},"
                     "{\"EventType\":\"TaskCompleted\",\"Result\":2," T2 "}]");
}

Test(history_events, execution_completed_status_name_and_gated_result)
{
    const char *raw = "[{\"EventType\":1,\"OrchestrationStatus\":3,\"Result\":\"boom\",\"FailureDetails\":"
                      "{\"ErrorType\":\"E\"},\"EventId\":4,\"IsPlayed\":false," T2 "}]";
    cr_assert_str_eq(
        rewrite(raw, true, true),
        "[{\"EventType\":\"ExecutionCompleted\",\"OrchestrationStatus\":\"Failed\",\"Result\":\"boom\","
        "\"FailureDetails\":{\"ErrorType\":\"E\"}," T2 "}]");
    cr_assert_str_eq(rewrite(raw, true, false),
                     "[{\"EventType\":\"ExecutionCompleted\",\"OrchestrationStatus\":\"Failed\","
                     "\"FailureDetails\":{\"ErrorType\":\"E\"}," T2 "}]");
}

Test(history_events, continue_as_new_is_not_execution_completed)
{
    const char *raw = "[{\"EventType\":16,\"OrchestrationStatus\":2,\"Result\":\"4\",\"FailureDetails\":null,"
                      "\"EventId\":0,\"IsPlayed\":false," T2 "}]";
    const char *want = "[{\"EventType\":\"ContinueAsNew\",\"OrchestrationStatus\":2,\"Result\":\"4\","
                       "\"FailureDetails\":null," T2 "}]";
    cr_assert_str_eq(rewrite(raw, true, false), want);
    cr_assert_str_eq(rewrite(raw, true, true), want);
}

Test(history_events, results_parse_like_output)
{
    static const struct {
        const char *stored, *shown;
    } cases[] = {
        {"\"\\\"Hello\\\"\"", "\"Hello\""},
        {"\"{\\\"a\\\":[1]}\"", "{\"a\":[1]}"},
        {"\"   \"", "\"\""},
        {"\"not json\"", "\"not json\""},
        {"null", "null"},
        {"\"\"", "\"\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *raw = dg_arena_printf(a,
                                          "[{\"EventType\":1,\"OrchestrationStatus\":1,\"Result\":%s,"
                                          "\"FailureDetails\":null,\"EventId\":0,\"IsPlayed\":false," T2 "}]",
                                          cases[i].stored);
        const char *want = dg_arena_printf(a,
                                           "[{\"EventType\":\"ExecutionCompleted\",\"OrchestrationStatus\":"
                                           "\"Completed\",\"Result\":%s,\"FailureDetails\":null," T2 "}]",
                                           cases[i].shown);
        cr_assert_str_eq(rewrite(raw, true, true), want, "Result %s", cases[i].stored);
    }
}

Test(history_events, timers_events_and_terminations)
{
    const char *raw =
        "[{\"EventType\":10,\"FireAt\":\"2024-05-01T10:00:05Z\",\"EventId\":0,\"IsPlayed\":false," T0 "},"
        "{\"EventType\":11,\"TimerId\":0,\"FireAt\":\"2024-05-01T10:00:05Z\",\"EventId\":-1,\"IsPlayed\":"
        "true," T1 "},"
        "{\"EventType\":15,\"Name\":\"Approval\",\"Input\":\"true\",\"ParentTraceContext\":null,\"EventId\":-"
        "1,"
        "\"IsPlayed\":true," T1 "},"
        "{\"EventType\":19,\"Reason\":\"pause\",\"EventId\":-1,\"IsPlayed\":true," T1 "},"
        "{\"EventType\":3,\"Input\":\"stop\",\"EventId\":-1,\"IsPlayed\":true," T2 "}]";
    cr_assert_str_eq(rewrite(raw, true, false),
                     "[{\"EventType\":\"TimerCreated\",\"FireAt\":\"2024-05-01T10:00:05Z\"," T0 "},"
                     "{\"EventType\":\"TimerFired\",\"FireAt\":\"2024-05-01T10:00:05Z\"," T1 "},"
                     "{\"EventType\":\"EventRaised\",\"Name\":\"Approval\",\"Input\":\"true\","
                     "\"ParentTraceContext\":null," T1 "},"
                     "{\"EventType\":\"ExecutionSuspended\",\"Reason\":\"pause\"," T1 "},"
                     "{\"EventType\":\"ExecutionTerminated\",\"Input\":\"stop\"," T2 "}]");
    cr_assert_str_eq(rewrite(raw, false, false),
                     "[{\"EventType\":\"TimerCreated\",\"FireAt\":\"2024-05-01T10:00:05Z\"," T0 "},"
                     "{\"EventType\":\"TimerFired\",\"FireAt\":\"2024-05-01T10:00:05Z\"," T1 "},"
                     "{\"EventType\":\"EventRaised\",\"Name\":\"Approval\",\"ParentTraceContext\":null," T1
                     "},"
                     "{\"EventType\":\"ExecutionSuspended\",\"Reason\":\"pause\"," T1 "},"
                     "{\"EventType\":\"ExecutionTerminated\"," T2 "}]");
}

Test(history_events, every_event_type_gets_its_name)
{
    static const char *const names[] = {"ExecutionStarted",
                                        "ExecutionCompleted",
                                        "ExecutionFailed",
                                        "ExecutionTerminated",
                                        "TaskScheduled",
                                        "TaskCompleted",
                                        "TaskFailed",
                                        "SubOrchestrationInstanceCreated",
                                        "SubOrchestrationInstanceCompleted",
                                        "SubOrchestrationInstanceFailed",
                                        "TimerCreated",
                                        "TimerFired",
                                        NULL,
                                        NULL,
                                        "EventSent",
                                        "EventRaised",
                                        "ContinueAsNew",
                                        "GenericEvent",
                                        "HistoryState",
                                        "ExecutionSuspended",
                                        "ExecutionResumed",
                                        "ExecutionRewound"};
    for (int i = 0; i < 22; i++) {
        const char *raw = dg_arena_printf(a, "[{\"EventType\":%d,\"EventId\":5,\"IsPlayed\":false}]", i);
        const char *got = rewrite(raw, true, true);
        if (!names[i]) {
            cr_assert_str_eq(got, "[]", "OrchestratorStarted/Completed leave (%d)", i);
            continue;
        }
        const char *want = dg_arena_printf(a, "\"EventType\":\"%s\"", names[i]);
        cr_assert(strstr(got, want), "%d: %s", i, got);
        cr_assert_null(strstr(got, "EventId"), "%d: %s", i, got);
    }
}

Test(history_events, event_types_the_enum_cannot_parse_stay_untouched)
{
    cr_assert_str_eq(
        rewrite("[{\"EventType\":\"SomethingNew\",\"EventId\":1,\"IsPlayed\":false,\"Input\":\"i\"}]", false,
                false),
        "[{\"EventType\":\"SomethingNew\",\"EventId\":1,\"IsPlayed\":false,\"Input\":\"i\"}]");
    /* An integer outside the enum still parses (.NET enums take any integer): base rules only. */
    cr_assert_str_eq(
        rewrite("[{\"EventType\":99,\"EventId\":1,\"IsPlayed\":false,\"Input\":\"i\"}]", false, false),
        "[{\"EventType\":\"99\"}]");
    cr_assert_str_eq(
        rewrite("[{\"EventType\":\"TaskCompleted\",\"TaskScheduledId\":1,\"EventId\":1}]", true, false),
        "[{\"EventType\":\"TaskCompleted\"}]", "a name parses too");
    cr_assert_str_eq(rewrite("[]", true, true), "[]");
    cr_assert_str_eq(rewrite("[1,\"x\",null]", true, true), "[1,\"x\",null]");
}
