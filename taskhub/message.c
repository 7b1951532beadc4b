#include "taskhub/message.h"

#include "base/json.h"
#include "base/rand.h"
#include "storage/queue.h"
#include "taskhub/history.h"
#include "taskhub/largemsg.h"

#include <stdatomic.h>
#include <string.h>

static const struct {
    enum hub_event_type t;
    const char *type;
} events[] = {
    {HUB_EV_EXECUTION_STARTED, "DurableTask.Core.History.ExecutionStartedEvent"},
    {HUB_EV_EXECUTION_TERMINATED, "DurableTask.Core.History.ExecutionTerminatedEvent"},
    {HUB_EV_EVENT_RAISED, "DurableTask.Core.History.EventRaisedEvent"},
    {HUB_EV_GENERIC, "DurableTask.Core.History.GenericEvent"},
    {HUB_EV_EXECUTION_SUSPENDED, "DurableTask.Core.History.ExecutionSuspendedEvent"},
    {HUB_EV_EXECUTION_RESUMED, "DurableTask.Core.History.ExecutionResumedEvent"},
};

static const char *event_dotnet_type(enum hub_event_type t)
{
    for (size_t i = 0; i < sizeof events / sizeof *events; i++)
        if (events[i].t == t)
            return events[i].type;
    return NULL;
}

int64_t hub_sequence_next(_Atomic int64_t *counter, int64_t (*seed)(void))
{
    /* Seeding first and counting after: a caller that came second to an
     * unseeded counter used to take 1, 2, ... while the first was still
     * seeding it. Now every caller that sees it unseeded offers a seed and
     * only the first compare-exchange lands; all of them count from it. */
    if (atomic_load(counter) == 0) {
        int64_t base = seed();
        int64_t expected = 0;
        atomic_compare_exchange_strong(counter, &expected, base > 0 ? base : 1);
    }
    return atomic_fetch_add(counter, 1);
}

static int64_t clock_seed(void)
{
    return dg_now_ticks() / 10;
}

/* The envelope's SequenceNumber orders messages that land in the same second
 * (docs/storage-layout.md §6.3): increasing within the process, and across restarts, since it starts
 * from the wall clock in microseconds (well inside a double's exact range). */
static int64_t next_sequence(void)
{
    static _Atomic int64_t seq;
    return hub_sequence_next(&seq, clock_seed);
}

dg_err hub_message_input(dg_arena *a, const char *text, size_t n, const char **input)
{
    *input = NULL;
    cJSON *env = dg_json_parse(text, n);
    if (!env)
        return DG_EBADRESP;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(env, "TaskMessage"), "Event"),
        "Input");
    if (cJSON_IsString(in))
        *input = dg_arena_strdup(a, in->valuestring);
    cJSON_Delete(env);
    return DG_OK;
}

cJSON *hub_orchestration_instance(const char *instance_id, const char *execution_id)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "$type", "DurableTask.Core.OrchestrationInstance");
    cJSON_AddStringToObject(o, "InstanceId", instance_id);
    cJSON_AddItemToObject(o, "ExecutionId",
                          execution_id ? cJSON_CreateString(execution_id) : cJSON_CreateNull());
    return o;
}

static char *envelope(const char *activity_id, cJSON *task_message, const char *blob_name, int64_t seq,
                      bool with_sender)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "$type", "DurableTask.AzureStorage.MessageData");
    cJSON_AddStringToObject(m, "ActivityId", activity_id);
    cJSON_AddItemToObject(m, "TaskMessage", task_message ? task_message : cJSON_CreateNull());
    cJSON_AddItemToObject(m, "CompressedBlobName",
                          blob_name ? cJSON_CreateString(blob_name) : cJSON_CreateNull());
    cJSON_AddNumberToObject(m, "SequenceNumber", (double) seq);
    if (with_sender) {
        /* Always present, without $type (docs/storage-layout.md §6.1): the worker reads Sender.InstanceId. */
        cJSON *sender = cJSON_AddObjectToObject(m, "Sender");
        cJSON_AddStringToObject(sender, "InstanceId", "");
        cJSON_AddStringToObject(sender, "ExecutionId", "");
    }
    cJSON_AddNullToObject(m, "SerializableTraceContext");
    char *txt = dg_json_print(m);
    cJSON_Delete(m);
    return txt;
}

dg_err hub_send_event(const struct hub *h, az_ctx *x, const char *instance_id, const char *execution_id,
                      enum hub_event_type type, cJSON *fields, dg_ticks timestamp, struct hub_sent *sent)
{
    const char *dtype = event_dotnet_type(type);
    if (!dtype) {
        cJSON_Delete(fields);
        return DG_EINVAL;
    }
    memset(sent, 0, sizeof *sent);
    sent->timestamp = timestamp ? timestamp : dg_now_ticks();
    dg_uuid4(sent->activity_id);

    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "$type", dtype);
    for (cJSON *f = fields ? fields->child : NULL; f;) {
        cJSON *next = f->next;
        cJSON_AddItemToObject(ev, f->string, cJSON_DetachItemViaPointer(fields, f));
        f = next;
    }
    cJSON_Delete(fields);
    char ts[DG_ISO_LEN];
    dg_iso_format(sent->timestamp, ts);
    cJSON_AddNumberToObject(ev, "EventType", type);
    cJSON_AddNumberToObject(ev, "EventId", -1);
    cJSON_AddFalseToObject(ev, "IsPlayed");
    cJSON_AddStringToObject(ev, "Timestamp", ts);

    cJSON *tm = cJSON_CreateObject();
    cJSON_AddStringToObject(tm, "$type", "DurableTask.Core.TaskMessage");
    cJSON_AddItemToObject(tm, "Event", ev);
    cJSON_AddNumberToObject(tm, "SequenceNumber", 0);
    cJSON_AddItemToObject(tm, "OrchestrationInstance", hub_orchestration_instance(instance_id, execution_id));
    cJSON_AddNullToObject(tm, "OrchestrationExecutionContext");

    int64_t seq = next_sequence();
    char *txt = envelope(sent->activity_id, tm, NULL, seq, true);
    size_t n = strlen(txt);
    dg_err rc = DG_OK;
    char *wrapper = NULL;
    const char *queue = hub_control_queue(h, x->arena, instance_id);
    if (n > HUB_MAX_QUEUE_PAYLOAD) {
        /* The whole envelope goes to a blob named after the unescaped id; the
         * queue gets a wrapper that points at it (docs/storage-layout.md §7.1). */
        char hex[33];
        size_t k = 0;
        for (const char *p = sent->activity_id; *p; p++)
            if (*p != '-')
                hex[k++] = *p;
        hex[k] = '\0';
        sent->blob_name = dg_arena_printf(x->arena, "%s/message-%s-%s.json.gz", instance_id, hex,
                                          hub_event_type_name(type));
        rc = hub_large_put(h->c, x, h->name, sent->blob_name, txt, n);
        if (!rc) {
            sent->blob_url = hub_large_url(h->c, x->arena, h->name, sent->blob_name);
            wrapper = envelope("00000000-0000-0000-0000-000000000000", NULL, sent->blob_name, 0, false);
            rc = az_queue_put(h->c, x, queue, wrapper, strlen(wrapper), 0, -1, NULL);
        }
    } else {
        rc = az_queue_put(h->c, x, queue, txt, n, 0, -1, NULL);
    }
    cJSON_free(txt);
    cJSON_free(wrapper);
    return rc;
}
