#include "taskhub/history.h"

#include "base/b64.h"
#include "base/json.h"
#include "base/log.h"
#include "storage/odata.h"
#include "storage/table.h"
#include "taskhub/hub.h"
#include "taskhub/instance.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"

#include <string.h>

/* docs/storage-layout.md §10; the index is the number. */
static const char *const event_types[] = {
    "ExecutionStarted",
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
    "ExecutionRewound",
};
#define N_EVENT_TYPES ((int) (sizeof event_types / sizeof *event_types))

static int lookup(const char *const *names, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int hub_event_type_parse(const char *name)
{
    return lookup(event_types, N_EVENT_TYPES, name);
}

const char *hub_event_type_name(int type)
{
    return type >= 0 && type < N_EVENT_TYPES ? event_types[type] : NULL;
}

/* How a member is read when its column is there, and what it is without one. */
enum kind {
    K_TYPE,      /* EventType: the number of the table's name */
    K_STR,       /* string; null when absent */
    K_INT,       /* int; 0 when absent */
    K_INT_NULL,  /* int?; null when absent */
    K_BOOL,      /* bool; false when absent */
    K_DATE,      /* DateTime; DateTime.MinValue when absent */
    K_DATE_NULL, /* DateTime?; null when absent */
    K_JSON,      /* an object stored as JSON text; null when absent */
    K_STATUS,    /* OrchestrationStatus: the number of the table's name; 0 when absent */
    K_TIMESTAMP, /* HistoryEvent.Timestamp, stored as _Timestamp */
};

struct member {
    const char *name;
    enum kind kind;
};

/* HistoryEvent's own members come last in every class; then the terminator. */
// clang-format off
#define BASE_MEMBERS {"EventId", K_INT}, {"IsPlayed", K_BOOL}, {"Timestamp", K_TIMESTAMP}, {NULL, K_STR}
// clang-format on

static const struct member m_execution_started[] = {
    {"OrchestrationInstance", K_JSON},
    {"EventType", K_TYPE},
    {"ParentInstance", K_JSON},
    {"Name", K_STR},
    {"Version", K_STR},
    {"Input", K_STR},
    {"Tags", K_JSON},
    {"Correlation", K_STR},
    {"ParentTraceContext", K_JSON},
    {"ScheduledStartTime", K_DATE_NULL},
    {"Generation", K_INT_NULL},
    {"GenerateNewTrace", K_BOOL},
    BASE_MEMBERS,
};
/* ExecutionCompleted and its subclass ContinueAsNew. */
static const struct member m_execution_completed[] = {
    {"EventType", K_TYPE}, {"OrchestrationStatus", K_STATUS}, {"Result", K_STR}, {"FailureDetails", K_JSON},
    BASE_MEMBERS,
};
static const struct member m_execution_terminated[] = {{"EventType", K_TYPE}, {"Input", K_STR}, BASE_MEMBERS};
static const struct member m_task_scheduled[] = {
    {"EventType", K_TYPE},          {"Name", K_STR},  {"Version", K_STR}, {"Input", K_STR},
    {"ParentTraceContext", K_JSON}, {"Tags", K_JSON}, BASE_MEMBERS,
};
/* TaskCompleted and SubOrchestrationInstanceCompleted. */
static const struct member m_completed[] = {
    {"EventType", K_TYPE},
    {"TaskScheduledId", K_INT},
    {"Result", K_STR},
    BASE_MEMBERS,
};
/* TaskFailed and SubOrchestrationInstanceFailed. */
static const struct member m_failed[] = {
    {"EventType", K_TYPE}, {"TaskScheduledId", K_INT}, {"Reason", K_STR},
    {"Details", K_STR},    {"FailureDetails", K_JSON}, BASE_MEMBERS,
};
static const struct member m_suborchestration_created[] = {
    {"EventType", K_TYPE}, {"Name", K_STR},         {"Version", K_STR}, {"InstanceId", K_STR},
    {"Input", K_STR},      {"ClientSpanId", K_STR}, {"Tags", K_JSON},   BASE_MEMBERS,
};
static const struct member m_timer_created[] = {{"EventType", K_TYPE}, {"FireAt", K_DATE}, BASE_MEMBERS};
static const struct member m_timer_fired[] = {
    {"EventType", K_TYPE},
    {"TimerId", K_INT},
    {"FireAt", K_DATE},
    BASE_MEMBERS,
};
static const struct member m_base[] = {{"EventType", K_TYPE}, BASE_MEMBERS};
static const struct member m_event_sent[] = {
    {"EventType", K_TYPE}, {"InstanceId", K_STR}, {"Name", K_STR}, {"Input", K_STR}, BASE_MEMBERS,
};
static const struct member m_event_raised[] = {
    {"EventType", K_TYPE}, {"Name", K_STR}, {"Input", K_STR}, {"ParentTraceContext", K_JSON}, BASE_MEMBERS,
};
static const struct member m_generic[] = {{"Data", K_STR}, {"EventType", K_TYPE}, BASE_MEMBERS};
static const struct member m_history_state[] = {{"EventType", K_TYPE}, {"State", K_JSON}, BASE_MEMBERS};
static const struct member m_reason[] = {{"EventType", K_TYPE}, {"Reason", K_STR}, BASE_MEMBERS};
static const struct member m_execution_rewound[] = {
    {"EventType", K_TYPE},          {"Reason", K_STR}, {"ParentExecutionId", K_STR}, {"InstanceId", K_STR},
    {"ParentTraceContext", K_JSON}, BASE_MEMBERS,
};

/* Indexed by EventType; NULL: no event class (ExecutionFailed). */
static const struct member *const classes[] = {
    m_execution_started,
    m_execution_completed,
    NULL,
    m_execution_terminated,
    m_task_scheduled,
    m_completed,
    m_failed,
    m_suborchestration_created,
    m_completed,
    m_failed,
    m_timer_created,
    m_timer_fired,
    m_base,
    m_base,
    m_event_sent,
    m_event_raised,
    m_execution_completed,
    m_generic,
    m_history_state,
    m_reason,
    m_reason,
    m_execution_rewound,
};
_Static_assert(sizeof classes / sizeof *classes == sizeof event_types / sizeof *event_types,
               "one member list per event type");

static cJSON *time_value(dg_ticks t)
{
    char iso[DG_ISO_LEN];
    dg_iso_format_trimmed(t, iso);
    return cJSON_CreateString(iso);
}

/* A column as JSON, by its EDM type. */
static cJSON *column_value(dg_arena *a, const struct az_prop *p)
{
    switch (p->type) {
    case AZ_EDM_STRING:
    case AZ_EDM_GUID:
        return cJSON_CreateString(p->s);
    case AZ_EDM_INT32:
    case AZ_EDM_INT64:
        return cJSON_CreateNumber((double) p->i);
    case AZ_EDM_BOOL:
        return cJSON_CreateBool(p->b);
    case AZ_EDM_DOUBLE:
        return cJSON_CreateNumber(p->d);
    case AZ_EDM_DATETIME:
        return time_value(p->i);
    case AZ_EDM_BINARY:
        return cJSON_CreateString(dg_b64_encode(a, p->s, p->slen)); /* as Newtonsoft writes byte[] */
    }
    return cJSON_CreateNull();
}

static cJSON *member_value(dg_arena *a, const az_entity *row, const struct member *m)
{
    const struct az_prop *p = az_entity_get(row, m->kind == K_TIMESTAMP ? "_Timestamp" : m->name);
    if (!p) {
        switch (m->kind) {
        case K_INT:
        case K_STATUS:
            return cJSON_CreateNumber(0);
        case K_BOOL:
            return cJSON_CreateFalse();
        case K_DATE:
        case K_TIMESTAMP:
            return cJSON_CreateString("0001-01-01T00:00:00"); /* MinValue, kind unspecified */
        default:
            return cJSON_CreateNull();
        }
    }
    if (m->kind == K_JSON && p->type == AZ_EDM_STRING) {
        cJSON *v = dg_json_parse(p->s, p->slen); /* all of it, as Newtonsoft insists */
        return v ? v : cJSON_CreateString(p->s);
    }
    if (m->kind == K_STATUS && p->type == AZ_EDM_STRING) {
        int s = hub_orchestration_status_parse(p->s);
        return s >= 0 ? cJSON_CreateNumber(s) : cJSON_CreateString(p->s);
    }
    return column_value(a, p);
}

cJSON *hub_history_event(dg_arena *a, const az_entity *row)
{
    const char *type_name = az_entity_str(row, "EventType");
    int type = hub_event_type_parse(type_name);
    const struct member *m = type >= 0 ? classes[type] : NULL;
    cJSON *o = cJSON_CreateObject();
    if (m) {
        for (; m->name; m++)
            cJSON_AddItemToObject(o, m->name,
                                  m->kind == K_TYPE ? cJSON_CreateNumber(type) : member_value(a, row, m));
        return o;
    }
    /* No event class: every column as it is. */
    cJSON_AddItemToObject(o, "EventType",
                          type >= 0   ? cJSON_CreateNumber(type)
                          : type_name ? cJSON_CreateString(type_name)
                                      : cJSON_CreateNull());
    for (size_t i = 0; i < row->n; i++) {
        const struct az_prop *p = &row->props[i];
        if (strcmp(p->name, "EventType") == 0 || strcmp(p->name, "ExecutionId") == 0)
            continue;
        cJSON_AddItemToObject(o, strcmp(p->name, "_Timestamp") == 0 ? "Timestamp" : p->name,
                              column_value(a, p));
    }
    return o;
}

static bool same(const char *x, const char *y)
{
    return x == y || (x && y && strcmp(x, y) == 0);
}

size_t hub_history_select(az_entity *rows, size_t n, az_entity **sel)
{
    const char *exec = NULL;
    bool have_sentinel = false;
    for (size_t i = n; i-- > 0;) {
        if (strcmp(rows[i].rk, "sentinel") == 0) {
            exec = az_entity_str(&rows[i], "ExecutionId");
            have_sentinel = exec != NULL;
            break;
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].rk, "sentinel") == 0)
            continue;
        const char *e = az_entity_str(&rows[i], "ExecutionId");
        if (!have_sentinel && k == 0)
            exec = e;
        if (!same(e, exec))
            break;
        sel[k++] = &rows[i];
    }
    return k;
}

static size_t row_bytes(const az_entity *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n; i++)
        n += strlen(e->props[i].name) + (e->props[i].type == AZ_EDM_STRING ? e->props[i].slen : 8);
    return n;
}

/* Replaces each {Prop}BlobName column by Prop holding the blob's text. */
static dg_err follow_blobs(az_client *c, az_ctx *x, const char *hub, az_entity *row, size_t *bytes)
{
    static const char suffix[] = "BlobName";
    const size_t sn = sizeof suffix - 1;
    for (size_t i = 0; i < row->n;) {
        const struct az_prop *p = &row->props[i];
        size_t len = strlen(p->name);
        if (len <= sn || strcmp(p->name + len - sn, suffix) != 0 || p->type != AZ_EDM_STRING || !p->slen) {
            i++;
            continue;
        }
        const char *blob = p->s;
        char *prop = dg_arena_strndup(x->arena, p->name, len - sn);
        const char *col = p->name;
        char *text;
        size_t tn;
        dg_err rc = hub_large_get(c, x, hub, blob, &text, &tn);
        if (rc) {
            DG_WARN(x->reqid, "history: blob %s: %s", blob, dg_err_str(rc));
            /* A row naming a blob that is not there is a broken hub, not a missing instance. */
            return rc == DG_ENOTFOUND ? DG_EBADRESP : rc;
        }
        *bytes += tn;
        if (*bytes > HUB_HISTORY_MAX_BYTES)
            return DG_ETOOBIG;
        az_entity_remove(row, col); /* p is gone; the next column is now at i */
        az_entity_set_strn(row, x->arena, prop, text, tn);
    }
    return DG_OK;
}

dg_err hub_history_get(az_client *c, az_ctx *x, const char *hub, const char *id, cJSON **out)
{
    *out = NULL;
    if (!hub_name_ok(hub))
        return DG_EINVAL;
    dg_err rc = DG_OK;
    const char *table = hub_table_name(x->arena, hub, "History");
    az_filter f;
    az_filter_init(&f);
    az_filter_cmp_str(&f, "PartitionKey", AZ_EQ, hub_key_escape(x->arena, id, strlen(id)));
    const char *filter = az_filter_str(&f);
    filter = filter ? dg_arena_strdup(x->arena, filter) : NULL;
    az_filter_free(&f);
    if (!filter)
        return DG_EINVAL;

    az_entity *rows = NULL;
    size_t n = 0, cap = 0, bytes = 0;
    struct az_query q = {.filter = filter, .top = 1000};
    int pages = 0;
    do {
        if (++pages > HUB_HISTORY_MAX_PAGES)
            return DG_EBADRESP; /* continuation that never ends */
        struct az_page page;
        rc = az_table_query(c, x, table, &q, &page);
        if (rc == DG_ENOTFOUND && n == 0) { /* no History table: no history */
            rc = DG_OK;
            break;
        }
        if (rc)
            return rc;
        if (n + page.n > HUB_HISTORY_MAX_ROWS)
            return DG_ETOOBIG;
        if (n + page.n > cap) {
            size_t ncap = cap ? cap * 2 : 64;
            while (ncap < n + page.n)
                ncap *= 2;
            az_entity *grown = dg_arena_alloc(x->arena, ncap * sizeof *grown);
            if (n)
                memcpy(grown, rows, n * sizeof *rows);
            rows = grown;
            cap = ncap;
        }
        for (size_t i = 0; i < page.n; i++) {
            bytes += row_bytes(&page.items[i]);
            rows[n++] = page.items[i];
        }
        if (bytes > HUB_HISTORY_MAX_BYTES)
            return DG_ETOOBIG;
        q.next_pk = page.next_pk;
        q.next_rk = page.next_rk;
    } while (q.next_pk);

    az_entity **sel = dg_arena_alloc(x->arena, (n ? n : 1) * sizeof *sel);
    size_t k = hub_history_select(rows, n, sel);
    cJSON *arr = cJSON_CreateArray();
    dg_arena_defer(x->arena, (void (*)(void *)) cJSON_Delete, arr);
    for (size_t i = 0; i < k; i++) {
        rc = follow_blobs(c, x, hub, sel[i], &bytes);
        if (rc)
            return rc;
        cJSON_AddItemToArray(arr, hub_history_event(x->arena, sel[i]));
    }
    *out = arr;
    return DG_OK;
}
