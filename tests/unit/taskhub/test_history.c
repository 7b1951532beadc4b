/* taskhub/history.c, the pure steps: which rows are the current execution
 * (docs/storage-layout.md §8.7), how one row becomes its HistoryEvent object
 * (§5.3, docs/http-api.md §6.1), the enum tables (docs/storage-layout.md §10) and Newtonsoft's dates.
 * tests/integration/routes/test_history.c checks the same against the real
 * framework's reading of real rows. */
#include "taskhub/history.h"
#include "taskhub/instance.h"

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
TestSuite(history, .init = setup, .fini = teardown);

static dg_ticks iso(const char *s)
{
    dg_ticks t;
    cr_assert_eq(dg_iso_parse(s, strlen(s), &t), DG_OK, "%s", s);
    return t;
}

static const char *json(cJSON *j)
{
    char *t = cJSON_PrintUnformatted(j);
    const char *r = dg_arena_strdup(a, t);
    cJSON_free(t);
    cJSON_Delete(j);
    return r;
}

Test(history, enum_tables)
{
    static const char *const types[] = {"ExecutionStarted",
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
                                        "OrchestratorStarted",
                                        "OrchestratorCompleted",
                                        "EventSent",
                                        "EventRaised",
                                        "ContinueAsNew",
                                        "GenericEvent",
                                        "HistoryState",
                                        "ExecutionSuspended",
                                        "ExecutionResumed",
                                        "ExecutionRewound"};
    for (int i = 0; i < 22; i++) {
        cr_assert_eq(hub_event_type_parse(types[i]), i, "%s", types[i]);
        cr_assert_str_eq(hub_event_type_name(i), types[i]);
    }
    cr_assert_eq(hub_event_type_parse("taskcompleted"), -1, "names are case-sensitive");
    cr_assert_eq(hub_event_type_parse(NULL), -1);
    cr_assert_null(hub_event_type_name(22));
    cr_assert_null(hub_event_type_name(-1));
    static const char *const st[] = {"Running",  "Completed",  "ContinuedAsNew", "Failed",
                                     "Canceled", "Terminated", "Pending",        "Suspended"};
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(hub_orchestration_status_parse(st[i]), i, "%s", st[i]);
        cr_assert_str_eq(hub_orchestration_status_name(i), st[i]);
    }
    cr_assert_eq(hub_orchestration_status_parse("Unknown"), -1);
    cr_assert_null(hub_orchestration_status_name(8));
}

static az_entity row(const char *rk, const char *exec, const char *type)
{
    az_entity e;
    az_entity_init(&e, a, "i", rk);
    if (exec)
        az_entity_set_str(&e, a, "ExecutionId", exec);
    if (type) {
        az_entity_set_str(&e, a, "EventType", type);
        az_entity_set_i32(&e, a, "EventId", -1);
        az_entity_set_bool(&e, a, "IsPlayed", false);
        az_entity_set_datetime(&e, a, "_Timestamp", iso("2024-05-01T10:00:00.5Z"));
    }
    return e;
}

static size_t select_rows(az_entity *rows, size_t n, const char *want)
{
    az_entity *sel[8];
    size_t k = hub_history_select(rows, n, sel);
    char got[64] = "";
    for (size_t i = 0; i < k; i++) {
        cr_assert_lt(strlen(got) + strlen(sel[i]->rk) + 2, sizeof got);
        if (i)
            memcpy(got + strlen(got), ",", 2);
        memcpy(got + strlen(got), sel[i]->rk, strlen(sel[i]->rk) + 1);
    }
    cr_assert_str_eq(got, want);
    return k;
}

Test(history, the_sentinel_names_the_execution)
{
    az_entity rows[] = {row("0000000000000000", "new", "OrchestratorStarted"),
                        row("0000000000000001", "new", "ExecutionStarted"),
                        row("0000000000000002", "old", "TaskCompleted"),
                        row("0000000000000003", "new", "TaskCompleted"), row("sentinel", "new", NULL)};
    select_rows(rows, 5, "0000000000000000,0000000000000001");
}

Test(history, without_a_sentinel_the_first_row_names_it)
{
    az_entity rows[] = {row("0000000000000000", "b", "OrchestratorStarted"),
                        row("0000000000000001", "b", "ExecutionStarted"),
                        row("0000000000000002", "a", "TaskCompleted")};
    select_rows(rows, 3, "0000000000000000,0000000000000001");
}

Test(history, a_sentinel_for_another_execution_selects_nothing)
{
    az_entity rows[] = {row("0000000000000000", "old", "OrchestratorStarted"), row("sentinel", "new", NULL)};
    select_rows(rows, 2, "");
    az_entity only[] = {row("sentinel", "new", NULL)};
    select_rows(only, 1, "");
    select_rows(NULL, 0, "");
}

Test(history, a_sentinel_without_execution_id_falls_back_to_the_first_row)
{
    az_entity rows[] = {row("0000000000000000", "x", "OrchestratorStarted"),
                        row("0000000000000001", "x", "ExecutionStarted"), row("sentinel", NULL, NULL)};
    select_rows(rows, 3, "0000000000000000,0000000000000001");
}

Test(history, members_in_class_order_with_nulls_and_defaults)
{
    az_entity e = row("0000000000000001", "x", "ExecutionStarted");
    az_entity_set_str(&e, a, "Name", "Hello");
    az_entity_set_str(&e, a, "OrchestrationInstance", "{\"InstanceId\":\"i\",\"ExecutionId\":\"x\"}");
    az_entity_set_str(&e, a, "ParentInstance", "null");
    az_entity_set_str(&e, a, "Tags", "{\"k\":\"v\"}");
    az_entity_set_datetime(&e, a, "ScheduledStartTime", iso("2024-05-01T11:00:00Z"));
    cr_assert_str_eq(
        json(hub_history_event(a, &e)),
        "{\"OrchestrationInstance\":{\"InstanceId\":\"i\",\"ExecutionId\":\"x\"},\"EventType\":0,"
        "\"ParentInstance\":null,\"Name\":\"Hello\",\"Version\":null,\"Input\":null,"
        "\"Tags\":{\"k\":\"v\"},\"Correlation\":null,\"ParentTraceContext\":null,"
        "\"ScheduledStartTime\":\"2024-05-01T11:00:00Z\",\"Generation\":null,"
        "\"GenerateNewTrace\":false,\"EventId\":-1,\"IsPlayed\":false,"
        "\"Timestamp\":\"2024-05-01T10:00:00.5Z\"}");
}

Test(history, value_members_default_as_uninitialised_dotnet_objects)
{
    az_entity e;
    az_entity_init(&e, a, "i", "0000000000000005");
    az_entity_set_str(&e, a, "EventType", "TimerFired");
    cr_assert_str_eq(json(hub_history_event(a, &e)),
                     "{\"EventType\":11,\"TimerId\":0,\"FireAt\":\"0001-01-01T00:00:00\",\"EventId\":0,"
                     "\"IsPlayed\":false,\"Timestamp\":\"0001-01-01T00:00:00\"}");
}

Test(history, json_columns_and_failure_details)
{
    az_entity e = row("0000000000000005", "x", "TaskFailed");
    az_entity_set_i32(&e, a, "TaskScheduledId", 3);
    az_entity_set_str(&e, a, "Reason", "boom");
    az_entity_set_str(&e, a, "Details", "System.Exception: boom\n   at X");
    az_entity_set_str(&e, a, "FailureDetails",
                      "{\"ErrorType\":\"System.Exception\",\"ErrorMessage\":\"boom\",\"StackTrace\":null,"
                      "\"InnerFailure\":null,\"IsNonRetriable\":false,\"Properties\":null}");
    cr_assert_str_eq(
        json(hub_history_event(a, &e)),
        "{\"EventType\":6,\"TaskScheduledId\":3,\"Reason\":\"boom\","
        "\"Details\":\"System.Exception: boom\\n   at X\","
        "\"FailureDetails\":{\"ErrorType\":\"System.Exception\",\"ErrorMessage\":\"boom\","
        "\"StackTrace\":null,\"InnerFailure\":null,\"IsNonRetriable\":false,\"Properties\":null},"
        "\"EventId\":-1,\"IsPlayed\":false,\"Timestamp\":\"2024-05-01T10:00:00.5Z\"}");
    az_entity_set_str(&e, a, "FailureDetails", "null");
    cJSON *j = hub_history_event(a, &e);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "FailureDetails")), "\"null\" is null");
    cJSON_Delete(j);
    az_entity_set_str(&e, a, "FailureDetails", "{broken");
    j = hub_history_event(a, &e);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "FailureDetails")->valuestring, "{broken", "not JSON: the text");
    cJSON_Delete(j);
}

Test(history, orchestration_status_becomes_its_number)
{
    az_entity e = row("0000000000000005", "x", "ExecutionCompleted");
    az_entity_set_str(&e, a, "OrchestrationStatus", "Terminated");
    az_entity_set_str(&e, a, "Result", "stop");
    az_entity_set_str(&e, a, "FailureDetails", "null");
    cr_assert_str_eq(json(hub_history_event(a, &e)),
                     "{\"EventType\":1,\"OrchestrationStatus\":5,\"Result\":\"stop\",\"FailureDetails\":null,"
                     "\"EventId\":-1,\"IsPlayed\":false,\"Timestamp\":\"2024-05-01T10:00:00.5Z\"}");
    az_entity c = row("0000000000000005", "x", "ContinueAsNew");
    az_entity_set_str(&c, a, "OrchestrationStatus", "ContinuedAsNew");
    az_entity_set_str(&c, a, "Result", "4");
    cr_assert_str_eq(json(hub_history_event(a, &c)),
                     "{\"EventType\":16,\"OrchestrationStatus\":2,\"Result\":\"4\",\"FailureDetails\":null,"
                     "\"EventId\":-1,\"IsPlayed\":false,\"Timestamp\":\"2024-05-01T10:00:00.5Z\"}");
    az_entity_set_str(&c, a, "OrchestrationStatus", "Exploded");
    cJSON *j = hub_history_event(a, &c);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "OrchestrationStatus")->valuestring, "Exploded");
    cJSON_Delete(j);
}

Test(history, columns_that_are_no_member_are_dropped)
{
    /* What a legacy rewind leaves: the TaskScheduled columns on a GenericEvent row. */
    az_entity e = row("0000000000000002", "x", "GenericEvent");
    az_entity_set_str(&e, a, "Name", "FlakyActivity");
    az_entity_set_str(&e, a, "Version", "");
    az_entity_set_str(&e, a, "Reason", "Rewound: TaskScheduled");
    cr_assert_str_eq(json(hub_history_event(a, &e)),
                     "{\"Data\":null,\"EventType\":17,\"EventId\":-1,\"IsPlayed\":false,"
                     "\"Timestamp\":\"2024-05-01T10:00:00.5Z\"}");
}

Test(history, rows_without_an_event_class_pass_through)
{
    az_entity e = row("0000000000000002", "x", "SomethingNew");
    az_entity_set_str(&e, a, "Payload", "p");
    az_entity_set_i64(&e, a, "Big", 1234567890123LL);
    az_entity_set_binary(&e, a, "Bytes", "\x01\x02", 2);
    cr_assert_str_eq(json(hub_history_event(a, &e)),
                     "{\"EventType\":\"SomethingNew\",\"EventId\":-1,\"IsPlayed\":false,"
                     "\"Timestamp\":\"2024-05-01T10:00:00.5Z\",\"Payload\":\"p\",\"Big\":1234567890123,"
                     "\"Bytes\":\"AQI=\"}");
    az_entity f = row("0000000000000002", "x", "ExecutionFailed");
    cr_assert_str_eq(
        json(hub_history_event(a, &f)),
        "{\"EventType\":2,\"EventId\":-1,\"IsPlayed\":false,\"Timestamp\":\"2024-05-01T10:00:00.5Z\"}");
}
