/* The provider's legacy rewind (docs/storage-layout.md §8.3), made safe to cut
 * short and run again.
 *
 * Two phases. The plan reads, from the root down, each instance's current
 * execution and its failure rows, and lists the instances children first; it
 * writes nothing, so every limit is checked before the first write. The apply
 * phase then goes through that list: an instance's rewritten rows, in
 * entity-group transactions conditioned on the ETags the plan read, then its
 * Instances row; and after the root, the messages.
 *
 * Why this order: while an instance's failed ExecutionCompleted row stands,
 * its history is terminal, so the worker ignores anything sent to it and a
 * rewind cut short leaves nothing a worker would act on. That row is written
 * last (in the last transaction when there are several); the parent's rows
 * wait until its whole subtree is rewound; nothing is sent until the root's
 * Instances row is Pending, which keeps a quick worker from writing Running
 * before the Pending merge lands on top of it. */
#include "taskhub/rewind.h"

#include "base/log.h"
#include "base/time.h"
#include "storage/odata.h"
#include "storage/table.h"
#include "taskhub/instance.h"
#include "taskhub/keys.h"
#include "taskhub/message.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ATTEMPTS 3
#define PAGE     1000
#define REWOUND  "Rewound: "

/* The columns of a History row that a rewind reads. */
#define ROW_COLUMNS "RowKey,EventType,EventId,TaskScheduledId,OrchestrationStatus,Reason,InstanceId"

struct row {
    const char *rk, *etag;
    const char *type;        /* EventType */
    const char *status;      /* OrchestrationStatus (ExecutionCompleted), or NULL */
    const char *reason;      /* Reason, or NULL */
    const char *instance_id; /* InstanceId (SubOrchestrationInstanceCreated), or NULL */
    int64_t event_id;
    int64_t scheduled_id; /* TaskScheduledId, or -1 */
    struct row *partner;  /* a failure's TaskScheduled or SubOrchestrationInstanceCreated row */
};

/* One instance of the rewind. */
struct node {
    const char *id, *pk, *xid;
    struct row *rows; /* the failure rows of the current execution, rewound or not */
    size_t nrows, cap;
    const struct row *last_failed; /* newest row with OrchestrationStatus Failed */
    const char *prev_failed;       /* RowKey of the one before it, or NULL */
    const char *last_started;      /* RowKey of the newest OrchestratorStarted, or NULL */
    bool leaf;                     /* no failed sub-orchestrations: it gets a message */
};

struct walk {
    struct hub *h;
    az_ctx *x;
    const char *history, *instances; /* table names */
    const char *seen[HUB_REWIND_MAX_INSTANCES];
    size_t nseen;
    struct node *order[HUB_REWIND_MAX_INSTANCES]; /* children before parents */
    size_t norder;
};

/* How the current execution ended, as its history tells. */
enum state {
    ST_OTHER,   /* not failed, or it has run again since it failed */
    ST_FAILED,  /* its last episode ended in a failed ExecutionCompleted */
    ST_REWOUND, /* that row is rewound and no episode has run since: a rewind in flight */
};

static bool eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* "PartitionKey eq pk and ExecutionId eq xid and (" ... */
static void filter_exec(az_filter *f, const char *pk, const char *xid)
{
    az_filter_init(f);
    az_filter_cmp_str(f, "PartitionKey", AZ_EQ, pk);
    if (xid) {
        az_filter_and(f);
        az_filter_cmp_str(f, "ExecutionId", AZ_EQ, xid);
    }
}

static const char *filter_done(dg_arena *a, az_filter *f)
{
    const char *s = az_filter_str(f);
    const char *r = s ? dg_arena_strdup(a, s) : NULL;
    az_filter_free(f);
    return r;
}

typedef dg_err (*row_fn)(struct walk *w, const az_entity *e, void *arg);

/* Every page of a History query; fn sees each entity. */
static dg_err query_all(struct walk *w, const char *filter, const char *select, row_fn fn, void *arg)
{
    if (!filter)
        return DG_EINVAL;
    struct az_query q = {.filter = filter, .select = select, .top = PAGE};
    size_t total = 0;
    for (;;) {
        struct az_page pg;
        dg_err rc = az_table_query(w->h->c, w->x, w->history, &q, &pg);
        if (rc)
            return rc;
        total += pg.n;
        if (total > HUB_REWIND_MAX_ROWS)
            return DG_ETOOBIG;
        for (size_t i = 0; i < pg.n; i++)
            if ((rc = fn(w, &pg.items[i], arg)) != DG_OK)
                return rc;
        if (!pg.next_pk)
            return DG_OK;
        q.next_pk = pg.next_pk;
        q.next_rk = pg.next_rk;
    }
}

static void row_from(const az_entity *e, struct row *r)
{
    memset(r, 0, sizeof *r);
    r->rk = str_or_empty(e->rk);
    r->etag = e->etag;
    r->type = str_or_empty(az_entity_str(e, "EventType"));
    r->status = az_entity_str(e, "OrchestrationStatus");
    r->reason = az_entity_str(e, "Reason");
    r->instance_id = az_entity_str(e, "InstanceId");
    r->event_id = az_entity_int(e, "EventId", -1);
    r->scheduled_id = az_entity_int(e, "TaskScheduledId", -1);
}

static bool rewound(const struct row *r)
{
    return eq(r->type, "GenericEvent") && r->reason && strncmp(r->reason, REWOUND, strlen(REWOUND)) == 0;
}

/* The newest OrchestratorStarted row's ExecutionId (the provider's choice). */
static dg_err newest_started(struct walk *w, const az_entity *e, void *arg)
{
    (void) w;
    const char **best = arg; /* best[0]: RowKey, best[1]: ExecutionId */
    const char *xid = az_entity_str(e, "ExecutionId");
    if (xid && *xid && (!best[0] || strcmp(e->rk, best[0]) > 0)) {
        best[0] = e->rk;
        best[1] = xid;
    }
    return DG_OK;
}

/* The current execution: the sentinel's ExecutionId, as the worker's own
 * history reader takes it (§8.7); without a sentinel, the newest
 * OrchestratorStarted row's, as the provider's rewind does. */
static dg_err current_execution(struct walk *w, struct node *n)
{
    az_entity e;
    dg_err rc = az_table_get(w->h->c, w->x, w->history, n->pk, "sentinel", "ExecutionId", &e);
    if (rc == DG_OK && az_entity_str(&e, "ExecutionId") && *az_entity_str(&e, "ExecutionId")) {
        n->xid = az_entity_str(&e, "ExecutionId");
        return DG_OK;
    }
    if (rc && rc != DG_ENOTFOUND)
        return rc;
    az_filter f;
    filter_exec(&f, n->pk, NULL);
    az_filter_and(&f);
    az_filter_cmp_str(&f, "EventType", AZ_EQ, "OrchestratorStarted");
    const char *best[2] = {NULL, NULL};
    rc = query_all(w, filter_done(w->x->arena, &f), "RowKey,ExecutionId", newest_started, best);
    if (rc)
        return rc;
    if (!best[1])
        return DG_ENOTFOUND;
    n->xid = best[1];
    return DG_OK;
}

static dg_err add_failure_row(struct walk *w, const az_entity *e, void *arg)
{
    struct node *n = arg;
    const char *type = az_entity_str(e, "EventType");
    if (eq(type, "OrchestratorStarted")) {
        if (!n->last_started || strcmp(e->rk, n->last_started) > 0)
            n->last_started = e->rk;
        return DG_OK;
    }
    if (n->nrows == n->cap) {
        size_t cap = n->cap ? 2 * n->cap : 8;
        struct row *v = dg_arena_alloc(w->x->arena, cap * sizeof *v);
        if (n->nrows)
            memcpy(v, n->rows, n->nrows * sizeof *v);
        n->rows = v;
        n->cap = cap;
    }
    row_from(e, &n->rows[n->nrows++]);
    return DG_OK;
}

static dg_err keep_first(struct walk *w, const az_entity *e, void *arg)
{
    struct row **best = arg;
    if (!*best || strcmp(e->rk, (*best)->rk) < 0) {
        *best = dg_arena_alloc(w->x->arena, sizeof **best);
        row_from(e, *best);
    }
    return DG_OK;
}

/* The row with EventId id and EventType type in the execution (the first by
 * RowKey when several, as the provider takes [0]), or NULL. */
static dg_err find_partner(struct walk *w, const struct node *n, int64_t id, const char *type,
                           struct row **out)
{
    *out = NULL;
    if (id < 0 || id > INT32_MAX)
        return DG_OK;
    az_filter f;
    filter_exec(&f, n->pk, n->xid);
    az_filter_and(&f);
    az_filter_cmp_i32(&f, "EventId", AZ_EQ, (int32_t) id);
    az_filter_and(&f);
    az_filter_cmp_str(&f, "EventType", AZ_EQ, type);
    return query_all(w, filter_done(w->x->arena, &f), ROW_COLUMNS, keep_first, out);
}

/* Whether r is a sub-orchestration failure to follow down: not rewound yet
 * (as the provider), or rewound by a rewind of this same failure that was cut
 * short (it lies after the previous failed ExecutionCompleted). */
static bool follow_child(const struct node *n, const struct row *r)
{
    if (eq(r->type, "SubOrchestrationInstanceFailed"))
        return true;
    if (!eq(r->type, "GenericEvent") || !eq(r->reason, REWOUND "SubOrchestrationInstanceFailed"))
        return false;
    return n->last_failed && strcmp(r->rk, n->last_failed->rk) <= 0 &&
           (!n->prev_failed || strcmp(r->rk, n->prev_failed) > 0);
}

/* Reads the failure rows of n's current execution and their partners:
 * TaskFailed, SubOrchestrationInstanceFailed, the failed ExecutionCompleted
 * (all three also when rewound), and the OrchestratorStarted rows. */
static dg_err load(struct walk *w, struct node *n)
{
    n->nrows = 0;
    n->last_failed = NULL;
    n->prev_failed = n->last_started = NULL;
    az_filter f;
    filter_exec(&f, n->pk, n->xid);
    az_filter_and(&f);
    az_filter_open(&f);
    az_filter_cmp_str(&f, "EventType", AZ_EQ, "OrchestratorStarted");
    az_filter_or(&f);
    az_filter_cmp_str(&f, "EventType", AZ_EQ, "TaskFailed");
    az_filter_or(&f);
    az_filter_cmp_str(&f, "EventType", AZ_EQ, "SubOrchestrationInstanceFailed");
    az_filter_or(&f);
    az_filter_cmp_str(&f, "OrchestrationStatus", AZ_EQ, "Failed");
    az_filter_or(&f);
    az_filter_cmp_str(&f, "Reason", AZ_EQ, REWOUND "SubOrchestrationInstanceFailed");
    az_filter_close(&f);
    dg_err rc = query_all(w, filter_done(w->x->arena, &f), ROW_COLUMNS, add_failure_row, n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n->nrows; i++) {
        const struct row *r = &n->rows[i];
        if (!eq(r->status, "Failed"))
            continue;
        if (!n->last_failed || strcmp(r->rk, n->last_failed->rk) > 0) {
            if (n->last_failed)
                n->prev_failed = n->last_failed->rk;
            n->last_failed = r;
        } else if (!n->prev_failed || strcmp(r->rk, n->prev_failed) > 0) {
            n->prev_failed = r->rk;
        }
    }
    for (size_t i = 0; i < n->nrows && !rc; i++) {
        struct row *r = &n->rows[i];
        if (eq(r->type, "TaskFailed"))
            rc = find_partner(w, n, r->scheduled_id, "TaskScheduled", &r->partner);
        else if (follow_child(n, r))
            rc = find_partner(w, n, r->scheduled_id, "SubOrchestrationInstanceCreated", &r->partner);
    }
    return rc;
}

static enum state classify(const struct node *n)
{
    const struct row *l = n->last_failed;
    if (!l || (n->last_started && strcmp(n->last_started, l->rk) > 0))
        return ST_OTHER;
    return rewound(l) ? ST_REWOUND : ST_FAILED;
}

static bool seen(struct walk *w, const char *id)
{
    for (size_t i = 0; i < w->nseen; i++)
        if (strcmp(w->seen[i], id) == 0)
            return true;
    return false;
}

/* Plans the rewind of id and its failed sub-orchestrations; root is the
 * Instances row of the instance the caller named, NULL below it. */
static dg_err plan(struct walk *w, const char *id, const struct hub_instance *root)
{
    if (seen(w, id))
        return DG_OK; /* reached twice: planned already */
    if (w->nseen == HUB_REWIND_MAX_INSTANCES)
        return DG_ETOOBIG;
    w->seen[w->nseen++] = id;
    struct node *n = dg_arena_zalloc(w->x->arena, sizeof *n);
    n->id = id;
    n->pk = hub_key_escape(w->x->arena, id, strlen(id));
    dg_err rc = current_execution(w, n);
    if (rc == DG_ENOTFOUND && !root) {
        DG_WARN(w->x->reqid, "rewind: sub-orchestration %s has no history; left alone", id);
        return DG_OK;
    }
    if (rc == DG_ENOTFOUND) {
        DG_WARN(w->x->reqid, "rewind: %s has an Instances row but no history", id);
        return DG_ECONFLICT;
    }
    if (!rc)
        rc = load(w, n);
    if (rc)
        return rc;
    enum state st = classify(n);
    if (root) {
        /* Failed: go, whatever the history says (the provider does). Pending:
         * only to finish a rewind of this very execution cut short. */
        bool resume = eq(root->runtime_status, "Pending") && st == ST_REWOUND &&
                      (!root->execution_id || !*root->execution_id || eq(root->execution_id, n->xid));
        if (!eq(root->runtime_status, "Failed") && !resume)
            return DG_EPRECOND;
    } else if (st == ST_OTHER) {
        /* Running or done again: rewinding it would put a live row back to Pending. */
        DG_INFO(w->x->reqid, "rewind: sub-orchestration %s has not failed; left alone", id);
        return DG_OK;
    }
    n->leaf = true;
    for (size_t i = 0; i < n->nrows; i++) {
        const struct row *r = &n->rows[i];
        if (!follow_child(n, r))
            continue;
        n->leaf = false;
        if (r->partner && r->partner->instance_id && *r->partner->instance_id) {
            if ((rc = plan(w, r->partner->instance_id, NULL)) != DG_OK)
                return rc;
        } else {
            DG_WARN(w->x->reqid, "rewind: %s row %s has no SubOrchestrationInstanceCreated row", id, r->rk);
        }
    }
    w->order[w->norder++] = n;
    return DG_OK;
}

struct op {
    const struct row *r;
    const char *type; /* the new EventType, or NULL to keep it */
    const char *reason;
    bool last; /* a failed ExecutionCompleted: in the last transaction */
};

static int op_cmp(const void *pa, const void *pb)
{
    const struct op *a = pa, *b = pb;
    if (a->last != b->last)
        return a->last ? 1 : -1;
    return strcmp(a->r->rk, b->r->rk);
}

static void add_op(struct op *ops, size_t *n, const struct row *r, const char *type, const char *reason,
                   bool last)
{
    ops[(*n)++] = (struct op){r, type, reason, last};
}

/* What the provider rewrites, less what is rewound already: each TaskFailed
 * and its TaskScheduled become GenericEvent; a SubOrchestrationInstanceFailed
 * becomes GenericEvent and its SubOrchestrationInstanceCreated only gets a
 * Reason; a failed ExecutionCompleted becomes GenericEvent. Reason is
 * "Rewound: <the EventType it had>". */
static size_t build_ops(dg_arena *a, const struct node *n, struct op **out)
{
    struct op *ops = dg_arena_alloc(a, (2 * n->nrows + 1) * sizeof *ops);
    size_t k = 0;
    for (size_t i = 0; i < n->nrows; i++) {
        const struct row *r = &n->rows[i];
        if (eq(r->type, "GenericEvent"))
            continue;
        const char *reason = dg_arena_printf(a, REWOUND "%s", r->type);
        if (eq(r->type, "TaskFailed")) {
            if (r->partner)
                add_op(ops, &k, r->partner, "GenericEvent", REWOUND "TaskScheduled", false);
            add_op(ops, &k, r, "GenericEvent", reason, false);
        } else if (eq(r->type, "SubOrchestrationInstanceFailed")) {
            if (r->partner && !eq(r->partner->reason, REWOUND "SubOrchestrationInstanceCreated"))
                add_op(ops, &k, r->partner, NULL, REWOUND "SubOrchestrationInstanceCreated", false);
            add_op(ops, &k, r, "GenericEvent", reason, false);
        } else if (eq(r->status, "Failed")) {
            add_op(ops, &k, r, "GenericEvent", reason, true);
        }
    }
    qsort(ops, k, sizeof *ops, op_cmp);
    /* One row named twice (two failures of one task) must be written once. */
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || strcmp(ops[m - 1].r->rk, ops[i].r->rk) != 0)
            ops[m++] = ops[i];
    *out = ops;
    return m;
}

static dg_err write_ops(struct walk *w, const struct node *n, const struct op *ops, size_t nops)
{
    dg_arena *a = w->x->arena;
    for (size_t at = 0; at < nops; at += AZ_BATCH_MAX) {
        size_t k = nops - at < AZ_BATCH_MAX ? nops - at : AZ_BATCH_MAX;
        struct az_batch_op b[AZ_BATCH_MAX];
        az_entity *e = dg_arena_alloc(a, k * sizeof *e);
        for (size_t i = 0; i < k; i++) {
            const struct op *o = &ops[at + i];
            az_entity_init(&e[i], a, n->pk, o->r->rk);
            if (o->type)
                az_entity_set_str(&e[i], a, "EventType", o->type);
            az_entity_set_str(&e[i], a, "Reason", o->reason);
            /* Merge, not the provider's Replace of the whole row read back:
             * the same row in the end, without carrying every column. */
            b[i] = (struct az_batch_op){AZ_BATCH_MERGE, &e[i], o->r->etag};
        }
        struct az_batch_result res;
        dg_err rc = az_table_batch(w->h->c, w->x, w->history, b, k, &res);
        if (rc)
            return rc;
    }
    return DG_OK;
}

/* Rewrites n's rows, re-reading them when another writer got there first. */
static dg_err apply(struct walk *w, struct node *n)
{
    dg_err rc = DG_OK;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        if (attempt > 0 && (rc = load(w, n)) != DG_OK)
            return rc;
        struct op *ops;
        size_t nops = build_ops(w->x->arena, n, &ops);
        rc = write_ops(w, n, ops, nops);
        if (rc != DG_EPRECOND && rc != DG_ENOTFOUND)
            break;
        DG_INFO(w->x->reqid, "rewind: history of %s changed while rewinding (%s); reading it again", n->id,
                dg_err_str(rc));
        rc = DG_ECONFLICT;
    }
    if (rc)
        return rc;
    /* The provider's UpdateStatusForRewindAsync: Merge, If-Match "*". */
    az_entity e;
    az_entity_init(&e, w->x->arena, n->pk, "");
    az_entity_set_str(&e, w->x->arena, "RuntimeStatus", "Pending");
    az_entity_set_datetime(&e, w->x->arena, "LastUpdatedTime", dg_now_ticks());
    rc = az_table_write(w->h->c, w->x, w->instances, AZ_MERGE, &e, "*", NULL);
    if (rc == DG_ENOTFOUND && n != w->order[w->norder - 1]) {
        DG_WARN(w->x->reqid, "rewind: sub-orchestration %s has no Instances row", n->id);
        rc = DG_OK;
    }
    return rc;
}

dg_err hub_rewind(struct hub *h, az_ctx *x, const char *id, const char *reason)
{
    struct walk *w = dg_arena_zalloc(x->arena, sizeof *w);
    w->h = h;
    w->x = x;
    w->history = hub_table(h, x->arena, "History");
    w->instances = hub_table(h, x->arena, "Instances");
    struct hub_instance root;
    dg_err rc = hub_instance_get(h->c, x, h->name, id, 0, &root);
    if (!rc)
        rc = plan(w, dg_arena_strdup(x->arena, id), &root);
    for (size_t i = 0; i < w->norder && !rc; i++)
        rc = apply(w, w->order[i]);
    size_t sent = 0;
    for (size_t i = 0; i < w->norder && !rc; i++) {
        if (!w->order[i]->leaf)
            continue;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddItemToObject(f, "Data", reason ? cJSON_CreateString(reason) : cJSON_CreateNull());
        struct hub_sent s;
        rc = hub_send_event(h, x, w->order[i]->id, NULL, HUB_EV_GENERIC, f, 0, &s);
        sent += !rc;
    }
    if (!rc)
        DG_INFO(x->reqid, "rewind %s: %zu instance(s) rewound, %zu message(s) sent", id, w->norder, sent);
    return rc;
}
