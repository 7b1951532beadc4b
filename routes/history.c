/* historyEvents of the status object (docs/http-api.md §6.2): the host's rewrite of
 * the raw history taskhub/history.c reads, step by step in the host's order,
 * so that every quirk comes out the same:
 *   - EventType becomes its name; an EventType that is no integer and no known
 *     name leaves the event untouched (the host's Enum.TryParse fails);
 *   - TaskScheduled and SubOrchestrationInstanceCreated lose Version and are
 *     remembered by EventId; the completion or failure that names them in
 *     TaskScheduledId gets their Timestamp as ScheduledTime, their Name as
 *     FunctionName and (showInput) their Input, and they leave the output;
 *   - TaskCompleted and SubOrchestrationInstanceCompleted keep Result only with
 *     showHistoryOutput, parsed like output (rt_stored_value); the Failed kinds
 *     keep Reason, Details and FailureDetails;
 *   - ExecutionStarted: Name moves to FunctionName at the end; OrchestrationInstance,
 *     ParentInstance, Version and Tags go; Input stays the raw string;
 *   - ExecutionCompleted: OrchestrationStatus becomes its name; Result as above;
 *   - ContinueAsNew, although it has the same members, is not ExecutionCompleted
 *     to the host: OrchestrationStatus stays a number and Result stays raw;
 *   - TimerFired loses TimerId; OrchestratorStarted/Completed leave the output;
 *   - then every event loses EventId, IsPlayed, and Input unless showInput.
 * One choice where the host has none: two scheduling events with the same
 * EventId (the host's dictionary throws, answering 400) - the later one wins. */
#include "routes/handlers.h"
#include "taskhub/history.h"
#include "taskhub/instance.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Enum.TryParse over the value's text: a name of the enum, or any integer
 * (which prints as its name, or as the number when it names nothing). Returns
 * the text to write, NULL when it does not parse; *num gets the number (-1 for
 * one outside the enum). */
static const char *enum_text(const cJSON *v, int (*parse)(const char *), const char *(*name)(int), char *buf,
                             size_t cap, int *num)
{
    long n;
    *num = -1;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!(d >= INT32_MIN && d <= INT32_MAX) || d != (double) (long) d)
            return NULL; /* not an Int32: the enum's parse fails */
        n = (long) d;
    } else if (cJSON_IsString(v)) {
        int k = parse(v->valuestring);
        if (k >= 0) {
            *num = k;
            return name(k);
        }
        char *end;
        errno = 0;
        n = strtol(v->valuestring, &end, 10);
        if (errno || end == v->valuestring || *end || n < INT32_MIN || n > INT32_MAX)
            return NULL;
    } else {
        return NULL;
    }
    const char *s = n >= 0 ? name((int) n) : NULL;
    if (s) {
        *num = (int) n;
        return s;
    }
    snprintf(buf, cap, "%ld", n);
    return buf;
}

/* JObject's item[name] = v: in place when the key is there, else at the end. */
static void set(cJSON *o, const char *name, cJSON *v)
{
    if (cJSON_GetObjectItemCaseSensitive(o, name))
        cJSON_ReplaceItemInObjectCaseSensitive(o, name, v);
    else
        cJSON_AddItemToObject(o, name, v);
}

static void drop(cJSON *o, const char *name)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, name);
}

/* (string)item[name]: the string, or null. */
static cJSON *string_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? cJSON_CreateString(v->valuestring) : cJSON_CreateNull();
}

/* Scheduling events by (kind, EventId): open addressing, the later one wins. */
struct slot {
    int used, kind;
    double id;
    size_t index;
};
struct sched {
    struct slot *s;
    size_t mask;
};

static size_t slot_of(const struct sched *t, int kind, double id)
{
    uint64_t h;
    if (id == 0)
        id = 0; /* -0.0 and 0.0 are one key */
    memcpy(&h, &id, sizeof h);
    h = (h ^ (uint64_t) kind) * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t) (h >> 17) & t->mask;
    while (t->s[i].used && !(t->s[i].kind == kind && t->s[i].id == id))
        i = (i + 1) & t->mask;
    return i;
}

static void remember(struct sched *t, int kind, const cJSON *item, size_t index)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "EventId");
    if (!cJSON_IsNumber(id))
        return;
    size_t i = slot_of(t, kind, id->valuedouble);
    t->s[i] = (struct slot){1, kind, id->valuedouble, index};
}

/* The completion or failure gets its scheduling event's data; that event goes. */
static void aggregate(struct sched *t, int kind, cJSON *item, cJSON **items, bool *gone, bool show_input)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "TaskScheduledId");
    if (!cJSON_IsNumber(id))
        return;
    const struct slot *s = &t->s[slot_of(t, kind, id->valuedouble)];
    if (!s->used)
        return;
    const cJSON *scheduled = items[s->index];
    set(item, "ScheduledTime", string_of(scheduled, "Timestamp"));
    set(item, "FunctionName", string_of(scheduled, "Name"));
    if (show_input)
        set(item, "Input", string_of(scheduled, "Input"));
    gone[s->index] = true;
}

/* Result kept and parsed (showHistoryOutput), or removed. */
static void result(cJSON *item, bool show_output)
{
    if (!show_output) {
        drop(item, "Result");
        return;
    }
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(item, "Result");
    set(item, "Result", rt_stored_value(cJSON_IsString(r) ? r->valuestring : NULL));
}

void rt_history_events(dg_arena *a, cJSON *events, bool show_input, bool show_output)
{
    size_t n = (size_t) cJSON_GetArraySize(events);
    if (!n)
        return;
    cJSON **items = dg_arena_alloc(a, n * sizeof *items);
    bool *gone = dg_arena_zalloc(a, n * sizeof *gone);
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    struct sched t = {dg_arena_zalloc(a, cap * sizeof *t.s), cap - 1};
    size_t i = 0;
    for (cJSON *it = events->child; it; it = it->next)
        items[i++] = it;

    for (i = 0; i < n; i++) {
        cJSON *item = items[i];
        char buf[24];
        int type;
        const char *name = cJSON_IsObject(item)
                               ? enum_text(cJSON_GetObjectItemCaseSensitive(item, "EventType"),
                                           hub_event_type_parse, hub_event_type_name, buf, sizeof buf, &type)
                               : NULL;
        if (!name)
            continue;
        set(item, "EventType", cJSON_CreateString(name));
        switch (type) {
        case HUB_EV_TASK_SCHEDULED:
        case HUB_EV_SUB_CREATED:
            remember(&t, type, item, i);
            drop(item, "Version");
            break;
        case HUB_EV_TASK_COMPLETED:
        case HUB_EV_TASK_FAILED:
        case HUB_EV_SUB_COMPLETED:
        case HUB_EV_SUB_FAILED: {
            int kind = type == HUB_EV_TASK_COMPLETED || type == HUB_EV_TASK_FAILED ? HUB_EV_TASK_SCHEDULED
                                                                                   : HUB_EV_SUB_CREATED;
            aggregate(&t, kind, item, items, gone, show_input);
            drop(item, "TaskScheduledId");
            if (type == HUB_EV_TASK_COMPLETED || type == HUB_EV_SUB_COMPLETED)
                result(item, show_output);
            break;
        }
        case HUB_EV_EXECUTION_STARTED: {
            cJSON *fn = cJSON_DetachItemFromObjectCaseSensitive(item, "Name");
            cJSON_AddItemToObject(item, "FunctionName", fn ? fn : cJSON_CreateNull());
            drop(item, "OrchestrationInstance");
            drop(item, "ParentInstance");
            drop(item, "Version");
            drop(item, "Tags");
            break;
        }
        case HUB_EV_EXECUTION_COMPLETED: {
            char sbuf[24];
            int status;
            const char *s = enum_text(cJSON_GetObjectItemCaseSensitive(item, "OrchestrationStatus"),
                                      hub_orchestration_status_parse, hub_orchestration_status_name, sbuf,
                                      sizeof sbuf, &status);
            if (s)
                set(item, "OrchestrationStatus", cJSON_CreateString(s));
            result(item, show_output);
            break;
        }
        case HUB_EV_TIMER_FIRED:
            drop(item, "TimerId");
            break;
        case HUB_EV_ORCHESTRATOR_STARTED:
        case HUB_EV_ORCHESTRATOR_COMPLETED:
            gone[i] = true;
            break;
        default:
            break;
        }
        if (!show_input)
            drop(item, "Input");
        drop(item, "EventId");
        drop(item, "IsPlayed");
    }

    for (i = 0; i < n; i++)
        if (gone[i])
            cJSON_Delete(cJSON_DetachItemViaPointer(events, items[i]));
}
