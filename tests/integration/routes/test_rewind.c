/* POST instances/{id}/rewind (docs/http-api.md §4.10, docs/storage-layout.md §8.3)
 * through the router, with no socket, over History and Instances rows that the
 * real worker wrote (fixtures/README.md says how they were captured). The
 * expected rows are the ones the framework's own rewind left: after the
 * gateway's rewind every column must be the same, except where the gateway
 * differs on purpose (said at each test). */
#include "base/time.h"
#include "routes/router.h"
#include "storage/queue.h"
#include "storage/table.h"
#include "taskhub/hub.h"
#include "taskhub/keys.h"
#include "tests/support/azurite_env.h"
#include "tests/support/fixture.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static az_client *c;
static dg_arena *a;
static const char *hub;
static struct hub h;
static auth_keys *keys;
static struct rt_env env;

static const char *keyfile =
    "{\"masterKey\":\"master-key-0123456789\",\"readOnlyKeys\":[\"read-key-0123456789\"]}";
#define KEY "master-key-0123456789"

static struct fixture load(const char *name)
{
    return fixture_load(a, dg_arena_printf(a, "%s/%s", DG_FIXTURE_DIR, name));
}

static const char *table_of(const char *which)
{
    return dg_arena_printf(a, "%s%s", hub, which);
}

static void put(const char *table, const az_entity *e)
{
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(az_table_write(c, &x, table_of(table), AZ_UPSERT_REPLACE, e, NULL, NULL), DG_OK, "%s",
                 x.st.message);
}

static void seed_only(const struct fixture *fx, const char *pk)
{
    fixture_seed(c, a, hub, fx, pk);
}

static void seed(const char *name)
{
    struct fixture fx = load(name);
    seed_only(&fx, NULL);
}

static az_entity get_row(const char *table, const char *pk, const char *rk)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity e;
    cr_assert_eq(az_table_get(c, &x, table_of(table), pk, rk, NULL, &e), DG_OK, "%s %s/%s: %s", table, pk, rk,
                 x.st.message);
    return e;
}

static const char *prop_text(const struct az_prop *p)
{
    switch (p->type) {
    case AZ_EDM_STRING:
    case AZ_EDM_GUID:
        return dg_arena_printf(a, "'%s'", p->s);
    case AZ_EDM_BOOL:
        return p->b ? "true" : "false";
    case AZ_EDM_DOUBLE:
        return dg_arena_printf(a, "%g", p->d);
    default:
        return dg_arena_printf(a, "%lld (type %d)", (long long) p->i, (int) p->type);
    }
}

static bool prop_eq(const struct az_prop *x, const struct az_prop *y)
{
    if (x->type != y->type)
        return false;
    switch (x->type) {
    case AZ_EDM_STRING:
    case AZ_EDM_GUID:
    case AZ_EDM_BINARY:
        return x->slen == y->slen && memcmp(x->s, y->s, x->slen) == 0;
    case AZ_EDM_BOOL:
        return x->b == y->b;
    case AZ_EDM_DOUBLE:
        return x->d == y->d;
    default:
        return x->i == y->i;
    }
}

/* A column the comparison leaves out: the pk/rk row's column ("*" for every row). */
struct skip {
    const char *pk, *rk, *column;
};

static bool skipped(const struct skip *sk, const char *pk, const char *rk, const char *col)
{
    for (; sk && sk->column; sk++)
        if ((strcmp(sk->pk, "*") == 0 || strcmp(sk->pk, pk) == 0) &&
            (strcmp(sk->rk, "*") == 0 || strcmp(sk->rk, rk) == 0) && strcmp(sk->column, col) == 0)
            return true;
    return false;
}

/* Every row of the fixture is in storage with exactly its columns (types and
 * values), less the skipped ones; and each History partition holds no more rows. */
static void expect_rows(const char *name, const struct skip *sk)
{
    struct fixture fx = load(name);
    for (size_t i = 0; i < fx.n; i++) {
        const az_entity *want = &fx.rows[i].e;
        az_entity got = get_row(fx.rows[i].table, want->pk, want->rk);
        const char *where = dg_arena_printf(a, "%s %s/%s", fx.rows[i].table, want->pk, want->rk);
        for (size_t k = 0; k < want->n; k++) {
            const struct az_prop *w = &want->props[k];
            if (skipped(sk, want->pk, want->rk, w->name))
                continue;
            const struct az_prop *g = az_entity_get(&got, w->name);
            cr_assert_not_null(g, "%s: column %s is missing", where, w->name);
            cr_assert(prop_eq(w, g), "%s: %s is %s, the framework left %s", where, w->name, prop_text(g),
                      prop_text(w));
        }
        for (size_t k = 0; k < got.n; k++)
            cr_assert(skipped(sk, want->pk, want->rk, got.props[k].name) ||
                          az_entity_get(want, got.props[k].name),
                      "%s: unexpected column %s = %s", where, got.props[k].name, prop_text(&got.props[k]));
    }
    for (size_t i = 0; i < fx.n; i++) {
        if (strcmp(fx.rows[i].table, "History") != 0 || strcmp(fx.rows[i].e.rk, "sentinel") != 0)
            continue;
        size_t want = 0;
        for (size_t k = 0; k < fx.n; k++)
            want += strcmp(fx.rows[k].table, "History") == 0 && strcmp(fx.rows[k].e.pk, fx.rows[i].e.pk) == 0;
        az_ctx x;
        az_ctx_init(&x, a);
        char filter[300];
        snprintf(filter, sizeof filter, "PartitionKey eq '%s'", fx.rows[i].e.pk);
        struct az_query q = {.filter = filter, .select = "RowKey"};
        struct az_page pg;
        cr_assert_eq(az_table_query(c, &x, table_of("History"), &q, &pg), DG_OK);
        cr_assert_eq(pg.n, want, "%s: %zu History rows, expected %zu", fx.rows[i].e.pk, pg.n, want);
    }
}

/* The Instances row's LastUpdatedTime is the gateway's now, not the framework's. */
static const struct skip instances_time[] = {{"*", "", "LastUpdatedTime"}, {NULL, NULL, NULL}};

static void expect_recent(const char *pk)
{
    az_entity e = get_row("Instances", pk, "");
    dg_ticks t = az_entity_datetime(&e, "LastUpdatedTime", 0);
    dg_ticks now = dg_now_ticks();
    cr_assert(t > now - 60 * DG_TICKS_PER_SEC && t <= now + DG_TICKS_PER_SEC,
              "%s: LastUpdatedTime is not now", pk);
    cr_assert_str_eq(az_entity_str(&e, "RuntimeStatus"), "Pending");
}

static void setup(void)
{
    c = test_azurite_client(NULL, NULL);
    a = dg_arena_create();
    hub = test_unique_name(a, "Rw");
    az_ctx x;
    az_ctx_init(&x, a);
    /* The hub as a worker made it: four partitions, tables, queues. */
    cr_assert_eq(hub_open(c, &x, hub, 4, &h), DG_OK);
    cr_assert_eq(hub_ensure(&h, &x), DG_OK, "%s", x.st.message);
    char err[128];
    keys = auth_keys_parse(keyfile, strlen(keyfile), err, sizeof err);
    cr_assert_not_null(keys, "%s", err);
    env = (struct rt_env){.storage = c, .keys = keys, .default_hub = hub};
}

static void teardown(void)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_table_delete(c, &x, table_of("Instances"));
    az_table_delete(c, &x, table_of("History"));
    az_table_delete(c, &x, table_of("Partitions"));
    for (unsigned p = 0; p < h.partitions; p++)
        az_queue_delete(c, &x, hub_control_queue_name(&h, a, p));
    az_queue_delete(c, &x, dg_arena_printf(a, "%s-workitems", h.lname));
    auth_keys_destroy(keys);
    dg_arena_destroy(a);
    az_client_destroy(c);
    hub_cache_clear();
}

TestSuite(rewind, .init = setup, .fini = teardown, .timeout = 120);

static rt_response post_key(const char *path, const char *query, const char *key)
{
    static struct rt_param hd[2];
    rt_request rq = {
        .arena = a, .method = "POST", .path = path, .raw_query = query, .headers = hd, .nheaders = 2};
    hd[0] = (struct rt_param){"Host", "gw"};
    hd[1] = (struct rt_param){"x-functions-key", key};
    rt_response rs;
    rt_dispatch(&env, &rq, &rs);
    return rs;
}

static rt_response post(const char *path, const char *query)
{
    return post_key(path, query, KEY);
}

static void expect_202(const char *id, const char *query)
{
    rt_response rs = post(dg_arena_printf(a, "/runtime/webhooks/durabletask/instances/%s/rewind", id), query);
    cr_assert_eq(rs.status, 202, "rewind %s: %d %.*s", id, rs.status, (int) rs.body_len,
                 rs.body ? rs.body : "");
    cr_assert_null(rs.body, "202 has no body");
    cr_assert_null(rs.content_type);
}

/* The body as the JSON string it must be (form C). */
static void expect_string(const rt_response *rs, int status, const char *text)
{
    cr_assert_eq(rs->status, status, "got %d", rs->status);
    cr_assert_str_eq(rs->content_type, "application/json; charset=utf-8");
    cJSON *j = cJSON_ParseWithLength(rs->body, rs->body_len);
    cr_assert(cJSON_IsString(j), "form C is one JSON string: %.*s", (int) rs->body_len, rs->body);
    cr_assert_str_eq(j->valuestring, text);
    cJSON_Delete(j);
}

struct msg {
    const char *queue;
    cJSON *j;
};

/* Every message on the hub's control queues, parsed (at most 32 a queue). */
static size_t peek_all(struct msg *out, size_t cap)
{
    size_t n = 0;
    for (unsigned p = 0; p < h.partitions; p++) {
        az_ctx x;
        az_ctx_init(&x, a);
        const char *q = hub_control_queue_name(&h, a, p);
        struct az_qmsg *m;
        size_t k;
        cr_assert_eq(az_queue_peek(c, &x, q, 32, &m, &k), DG_OK);
        for (size_t i = 0; i < k && n < cap; i++) {
            cJSON *j = cJSON_ParseWithLength(m[i].text, m[i].text_len);
            cr_assert_not_null(j, "not JSON: %.*s", (int) m[i].text_len, m[i].text);
            dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, j);
            out[n++] = (struct msg){q, j};
        }
    }
    return n;
}

static const char *msg_instance(const struct msg *m)
{
    return cJSON_GetObjectItem(
               cJSON_GetObjectItem(cJSON_GetObjectItem(m->j, "TaskMessage"), "OrchestrationInstance"),
               "InstanceId")
        ->valuestring;
}

/* Same members in the same order, same types, same values, except the ones that
 * differ between any two messages. */
static void same_shape(const cJSON *want, const cJSON *got, const char *path)
{
    cr_assert_eq(want->type & 0xff, got->type & 0xff, "%s: type differs", path);
    if (cJSON_IsObject(want)) {
        const cJSON *w = want->child, *g = got->child;
        for (; w && g; w = w->next, g = g->next) {
            cr_assert_str_eq(g->string, w->string, "%s: member order differs", path);
            const char *sub = dg_arena_printf(a, "%s.%s", path, w->string);
            if (strcmp(w->string, "ActivityId") == 0 || strcmp(w->string, "Timestamp") == 0 ||
                strcmp(sub, "$.SequenceNumber") == 0)
                continue;
            same_shape(w, g, sub);
        }
        cr_assert(!w && !g, "%s: member count differs", path);
    } else if (cJSON_IsString(want)) {
        cr_assert_str_eq(got->valuestring, want->valuestring, "%s", path);
    } else if (cJSON_IsNumber(want)) {
        cr_assert_eq(got->valuedouble, want->valuedouble, "%s", path);
    }
}

/* The GenericEvent messages on the control queues go to exactly the instances
 * named (in any order), each on the queue its id hashes to, each shaped
 * exactly as the framework's message to the same instance. */
static void expect_messages(const char *const *ids, size_t nids, const char *data)
{
    struct msg m[64];
    size_t n = peek_all(m, 64);
    cr_assert_eq(n, nids, "%zu messages, expected %zu", n, nids);
    FILE *f = fopen(DG_FIXTURE_DIR "/rewind_messages.framework.jsonl", "r");
    cr_assert_not_null(f);
    char line[8192];
    cJSON *framework[16];
    size_t nf = 0;
    while (nf < 16 && fgets(line, sizeof line, f)) {
        cJSON *l = cJSON_Parse(line);
        cr_assert_not_null(l);
        dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, l);
        framework[nf] = cJSON_Parse(cJSON_GetObjectItem(l, "text")->valuestring);
        dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, framework[nf]);
        nf++;
    }
    fclose(f);
    for (size_t i = 0; i < nids; i++) {
        const struct msg *hit = NULL;
        for (size_t k = 0; k < n && !hit; k++)
            if (strcmp(msg_instance(&m[k]), ids[i]) == 0)
                hit = &m[k];
        cr_assert_not_null(hit, "no message to %s", ids[i]);
        cr_assert_str_eq(hit->queue, hub_control_queue(&h, a, ids[i]), "%s: wrong control queue", ids[i]);
        const cJSON *j = hit->j;
        /* What a reader of this one message checks first. */
        cr_assert_str_eq(j->child->string, "$type");
        cr_assert_str_eq(j->child->valuestring, "DurableTask.AzureStorage.MessageData");
        const cJSON *tm = cJSON_GetObjectItem(j, "TaskMessage");
        const cJSON *ev = cJSON_GetObjectItem(tm, "Event");
        cr_assert_str_eq(ev->child->string, "$type", "$type comes first");
        cr_assert_str_eq(ev->child->valuestring, "DurableTask.Core.History.GenericEvent");
        cr_assert_eq(cJSON_GetObjectItem(ev, "EventType")->valueint, 17);
        cr_assert_eq(cJSON_GetObjectItem(ev, "EventId")->valueint, -1);
        const cJSON *d = cJSON_GetObjectItem(ev, "Data");
        if (data)
            cr_assert_str_eq(d->valuestring, data);
        else
            cr_assert(cJSON_IsNull(d), "no reason: Data is null");
        cr_assert(cJSON_IsNull(
                      cJSON_GetObjectItem(cJSON_GetObjectItem(tm, "OrchestrationInstance"), "ExecutionId")),
                  "ExecutionId null: the current execution");
        const cJSON *sender = cJSON_GetObjectItem(j, "Sender");
        cr_assert_str_eq(cJSON_GetObjectItem(sender, "InstanceId")->valuestring, "");
        cr_assert_str_eq(cJSON_GetObjectItem(sender, "ExecutionId")->valuestring, "");
        cr_assert_null(cJSON_GetObjectItem(sender, "$type"), "Sender carries no $type");
        /* And the framework's message to the same instance, member by member. */
        for (size_t k = 0; k < nf; k++) {
            const cJSON *fi =
                cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(framework[k], "TaskMessage"),
                                                        "OrchestrationInstance"),
                                    "InstanceId");
            const cJSON *fd = cJSON_GetObjectItem(
                cJSON_GetObjectItem(cJSON_GetObjectItem(framework[k], "TaskMessage"), "Event"), "Data");
            if (strcmp(fi->valuestring, ids[i]) == 0 && data && cJSON_IsString(fd) &&
                strcmp(fd->valuestring, data) == 0)
                same_shape(framework[k], j, "$");
        }
    }
}

static void expect_no_messages(void)
{
    struct msg m[8];
    cr_assert_eq(peek_all(m, 8), 0, "nothing is sent");
}

Test(rewind, failonce_rows_and_message_match_the_framework)
{
    seed("rewind_failonce.jsonl");
    expect_202("f1", "reason=fx%20reason");
    expect_rows("rewind_failonce.framework.jsonl", instances_time);
    expect_recent("f1");
    const char *ids[] = {"f1"};
    expect_messages(ids, 1, "fx reason");
}

Test(rewind, framework_messages_are_on_the_queues_the_gateway_computes)
{
    /* The captured messages went to the worker's hub of four partitions. */
    FILE *f = fopen(DG_FIXTURE_DIR "/rewind_messages.framework.jsonl", "r");
    cr_assert_not_null(f);
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        cJSON *l = cJSON_Parse(line);
        cJSON *m = cJSON_Parse(cJSON_GetObjectItem(l, "text")->valuestring);
        const char *id = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "TaskMessage"),
                                                                 "OrchestrationInstance"),
                                             "InstanceId")
                             ->valuestring;
        cr_assert_str_eq(cJSON_GetObjectItem(l, "queue")->valuestring,
                         dg_arena_printf(a, "control-%02u", hub_partition(id, strlen(id), 4)), "%s", id);
        cJSON_Delete(m);
        cJSON_Delete(l);
        n++;
    }
    fclose(f);
    cr_assert_eq(n, 7);
}

Test(rewind, sub_orchestration_is_rewound_and_only_the_leaf_gets_the_message)
{
    seed("rewind_tree.jsonl");
    expect_202("t1", "reason=fx+reason");
    expect_rows("rewind_tree.framework.jsonl", instances_time);
    expect_recent("t1");
    expect_recent("t1-0");
    const char *ids[] = {"t1-0"};
    expect_messages(ids, 1, "fx reason");
}

static const char *const tree2_leaves[] = {"t2-0-0", "t2-0-1", "t2-1-0", "t2-1-1"};

Test(rewind, two_levels_two_children_four_leaves)
{
    seed("rewind_tree2.jsonl");
    expect_202("t2", "reason=fx%20reason");
    expect_rows("rewind_tree2.framework.jsonl", instances_time);
    const char *all[] = {"t2", "t2-0", "t2-1", "t2-0-0", "t2-0-1", "t2-1-0", "t2-1-1"};
    for (size_t i = 0; i < 7; i++)
        expect_recent(all[i]);
    expect_messages(tree2_leaves, 4, "fx reason");
}

Test(rewind, retry_after_the_provider_rewound_only_the_task_scheduled_row)
{
    /* A rewind that stopped after its first write: TaskScheduled is a
     * GenericEvent already, TaskFailed is not. The provider's own retry fails
     * here for good (it looks the TaskScheduled row up by its old type). */
    struct fixture after = load("rewind_failonce.framework.jsonl");
    seed("rewind_failonce.jsonl");
    for (size_t i = 0; i < after.n; i++)
        if (strcmp(after.rows[i].table, "History") == 0 &&
            strcmp(after.rows[i].e.rk, "0000000000000002") == 0)
            put("History", &after.rows[i].e);
    expect_202("f1", "reason=fx%20reason");
    expect_rows("rewind_failonce.framework.jsonl", instances_time);
    const char *ids[] = {"f1"};
    expect_messages(ids, 1, "fx reason");
}

Test(rewind, retry_after_one_subtree_was_rewound_messages_its_leaves)
{
    /* Cut short after t2-0 and its children were rewound (history and
     * Instances row), before t2-1 and t2. The retry must still reach the
     * leaves under t2-0, not t2-0 itself, whose failure rows are rewound. */
    struct fixture after = load("rewind_tree2.framework.jsonl");
    seed("rewind_tree2.jsonl");
    seed_only(&after, "t2-0");
    seed_only(&after, "t2-0-0");
    seed_only(&after, "t2-0-1");
    expect_202("t2", "reason=fx%20reason");
    expect_rows("rewind_tree2.framework.jsonl", instances_time);
    expect_messages(tree2_leaves, 4, "fx reason");
}

Test(rewind, pending_with_the_rewind_not_picked_up_sends_the_message_again)
{
    /* Cut short after the last Instances merge, before the message: the rows
     * are as the framework leaves them, and the instance says Pending. */
    seed("rewind_tree2.framework.jsonl");
    expect_202("t2", "reason=fx%20reason");
    expect_rows("rewind_tree2.framework.jsonl", instances_time);
    expect_messages(tree2_leaves, 4, "fx reason");
}

Test(rewind, pending_after_the_worker_ran_again_is_412)
{
    struct fixture after = load("rewind_failonce.framework.jsonl");
    seed_only(&after, NULL);
    /* The worker picked the message up: a new episode after the rewound rows. */
    az_entity e;
    az_entity_init(&e, a, "f1", "0000000000000008");
    az_entity_set_i32(&e, a, "EventId", -1);
    az_entity_set_bool(&e, a, "IsPlayed", false);
    az_entity_set_datetime(&e, a, "_Timestamp", dg_now_ticks());
    az_entity_set_str(&e, a, "EventType", "OrchestratorStarted");
    az_entity_set_str(&e, a, "ExecutionId", az_entity_str(&after.rows[0].e, "ExecutionId"));
    put("History", &e);
    rt_response rs = post("/durabletask/instances/f1/rewind", "");
    expect_string(
        &rs, 412,
        "This orchestration has status Pending, but only orchestrations in the \"Failed\" state can be "
        "rewound.");
    expect_no_messages();
}

Test(rewind, second_rewind_leaves_earlier_rewound_rows_alone)
{
    /* f2 was rewound once, ran, and failed again. The framework's second
     * rewind also rewrites the first rewind's ExecutionCompleted row (now a
     * GenericEvent) to Reason "Rewound: GenericEvent"; the gateway leaves rows
     * already rewound as they are. Everything else is the same. */
    seed("rewind_refailed.jsonl");
    expect_202("f2", "reason=second");
    const struct skip sk[] = {
        {"*", "", "LastUpdatedTime"}, {"f2", "0000000000000006", "Reason"}, {NULL, NULL, NULL}};
    expect_rows("rewind_refailed.framework.jsonl", sk);
    az_entity row6 = get_row("History", "f2", "0000000000000006");
    cr_assert_str_eq(az_entity_str(&row6, "Reason"), "Rewound: ExecutionCompleted");
    const char *ids[] = {"f2"};
    expect_messages(ids, 1, "second");
}

Test(rewind, leftover_rows_of_an_older_execution_are_not_the_current_one)
{
    /* After ContinueAsNew into a shorter history, rows past its end keep the
     * old ExecutionId. The provider takes the newest OrchestratorStarted row
     * (here a leftover) for the current execution; the gateway the sentinel's. */
    seed("rewind_failonce.jsonl");
    static const char *const old[][3] = {
        {"0000000000000008", "OrchestratorStarted", NULL},    {"0000000000000009", "TaskScheduled", NULL},
        {"000000000000000A", "OrchestratorStarted", NULL},    {"000000000000000B", "TaskFailed", NULL},
        {"000000000000000C", "ExecutionCompleted", "Failed"},
    };
    for (size_t i = 0; i < sizeof old / sizeof *old; i++) {
        az_entity e;
        az_entity_init(&e, a, "f1", old[i][0]);
        az_entity_set_str(&e, a, "EventType", old[i][1]);
        az_entity_set_str(&e, a, "ExecutionId", "0123456789abcdef0123456789abcdef");
        az_entity_set_i32(&e, a, "EventId", strcmp(old[i][1], "TaskScheduled") == 0 ? 0 : -1);
        if (strcmp(old[i][1], "TaskFailed") == 0)
            az_entity_set_i32(&e, a, "TaskScheduledId", 0);
        if (old[i][2])
            az_entity_set_str(&e, a, "OrchestrationStatus", old[i][2]);
        put("History", &e);
    }
    expect_202("f1", "reason=fx%20reason");
    struct fixture want = load("rewind_failonce.framework.jsonl");
    for (size_t i = 0; i < want.n; i++) {
        if (strcmp(want.rows[i].table, "History") != 0 || !az_entity_str(&want.rows[i].e, "EventType"))
            continue;
        az_entity got = get_row("History", "f1", want.rows[i].e.rk);
        cr_assert_str_eq(az_entity_str(&got, "EventType"), az_entity_str(&want.rows[i].e, "EventType"), "%s",
                         want.rows[i].e.rk);
    }
    for (size_t i = 0; i < sizeof old / sizeof *old; i++) {
        az_entity got = get_row("History", "f1", old[i][0]);
        cr_assert_str_eq(az_entity_str(&got, "EventType"), old[i][1], "leftover %s untouched", old[i][0]);
        cr_assert_null(az_entity_str(&got, "Reason"));
    }
}

Test(rewind, without_a_sentinel_the_newest_orchestrator_started_row_names_the_execution)
{
    struct fixture fx = load("rewind_failonce.jsonl");
    for (size_t i = 0; i < fx.n; i++)
        if (strcmp(fx.rows[i].e.rk, "sentinel") != 0)
            put(fx.rows[i].table, &fx.rows[i].e);
    expect_202("f1", "reason=fx%20reason");
    struct fixture want = load("rewind_failonce.framework.jsonl");
    for (size_t i = 0; i < want.n; i++) {
        if (strcmp(want.rows[i].table, "History") != 0 || strcmp(want.rows[i].e.rk, "sentinel") == 0)
            continue;
        az_entity got = get_row("History", "f1", want.rows[i].e.rk);
        cr_assert_str_eq(az_entity_str(&got, "EventType"), az_entity_str(&want.rows[i].e, "EventType"), "%s",
                         want.rows[i].e.rk);
        const char *reason = az_entity_str(&want.rows[i].e, "Reason");
        if (reason)
            cr_assert_str_eq(az_entity_str(&got, "Reason"), reason, "%s", want.rows[i].e.rk);
    }
    const char *ids[] = {"f1"};
    expect_messages(ids, 1, "fx reason");
}

Test(rewind, a_sub_orchestration_that_ran_again_is_left_alone)
{
    /* t1-0 shows an episode after its failure and its row says Completed:
     * the provider would set it back to Pending; the gateway leaves it. */
    seed("rewind_tree.jsonl");
    az_entity e;
    az_entity_init(&e, a, "t1-0", "0000000000000008");
    az_entity_set_i32(&e, a, "EventId", -1);
    az_entity_set_bool(&e, a, "IsPlayed", false);
    az_entity_set_str(&e, a, "EventType", "OrchestratorStarted");
    az_entity sentinel = get_row("History", "t1-0", "sentinel");
    az_entity_set_str(&e, a, "ExecutionId", az_entity_str(&sentinel, "ExecutionId"));
    put("History", &e);
    az_entity st;
    az_entity_init(&st, a, "t1-0", "");
    az_entity_set_str(&st, a, "RuntimeStatus", "Completed");
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(az_table_write(c, &x, table_of("Instances"), AZ_MERGE, &st, "*", NULL), DG_OK);
    expect_202("t1", "reason=fx%20reason");
    az_entity child = get_row("Instances", "t1-0", "");
    cr_assert_str_eq(az_entity_str(&child, "RuntimeStatus"), "Completed");
    az_entity tf = get_row("History", "t1-0", "0000000000000005");
    cr_assert_str_eq(az_entity_str(&tf, "EventType"), "TaskFailed", "the child's history is untouched");
    az_entity pf = get_row("History", "t1", "0000000000000005");
    cr_assert_str_eq(az_entity_str(&pf, "EventType"), "GenericEvent", "the parent is rewound");
    expect_no_messages();
}

Test(rewind, escaped_ids_and_no_reason)
{
    /* The FailOnce rows under an id that needs key escaping. */
    const char *id = "a/b#c?d^e";
    const char *pk = hub_key_escape(a, id, strlen(id));
    struct fixture fx = load("rewind_failonce.jsonl");
    for (size_t i = 0; i < fx.n; i++) {
        fx.rows[i].e.pk = pk;
        put(fx.rows[i].table, &fx.rows[i].e);
    }
    expect_202("a%2Fb%23c%3Fd%5Ee", "");
    az_entity tf = get_row("History", pk, "0000000000000005");
    cr_assert_str_eq(az_entity_str(&tf, "Reason"), "Rewound: TaskFailed");
    expect_recent(pk);
    const char *ids[] = {id};
    expect_messages(ids, 1, NULL);
}

Test(rewind, unknown_instance_is_404_with_the_host_text)
{
    rt_response rs = post("/runtime/webhooks/durabletask/instances/nope/rewind", "");
    expect_string(&rs, 404, "No orchestration with instance ID \"$nope\" found.");
    rs = post("/durabletask/instances/f1/rewind", "taskHub=NoSuchHub42");
    expect_string(&rs, 404, "No orchestration with instance ID \"$f1\" found.");
}

static void seed_status(const char *status)
{
    seed("rewind_failonce.jsonl");
    az_entity st;
    az_entity_init(&st, a, "f1", "");
    az_entity_set_str(&st, a, "RuntimeStatus", status);
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(az_table_write(c, &x, table_of("Instances"), AZ_MERGE, &st, "*", NULL), DG_OK);
}

static void expect_412_untouched(const char *status)
{
    rt_response rs = post("/runtime/webhooks/durabletask/instances/f1/rewind", "reason=x");
    expect_string(
        &rs, 412,
        dg_arena_printf(a,
                        "This orchestration has status %s, but only orchestrations in the \"Failed\" "
                        "state can be rewound.",
                        status));
    az_entity tf = get_row("History", "f1", "0000000000000005");
    cr_assert_str_eq(az_entity_str(&tf, "EventType"), "TaskFailed", "history untouched");
    az_entity in = get_row("Instances", "f1", "");
    cr_assert_str_eq(az_entity_str(&in, "RuntimeStatus"), status);
    expect_no_messages();
}

Test(rewind, running_is_412)
{
    seed_status("Running");
    expect_412_untouched("Running");
}

Test(rewind, completed_is_412)
{
    seed_status("Completed");
    expect_412_untouched("Completed");
}

Test(rewind, pending_of_a_new_start_is_412)
{
    /* Pending with failure rows that were never rewound: a fresh start. */
    seed_status("Pending");
    expect_412_untouched("Pending");
}

Test(rewind, entity_ids_are_400_form_a)
{
    rt_response rs = post("/runtime/webhooks/durabletask/instances/%40counter%40k/rewind", "");
    cr_assert_eq(rs.status, 400);
    cJSON *j = cJSON_ParseWithLength(rs.body, rs.body_len);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(j, "Message")), "form A");
    cr_assert_not_null(strstr(cJSON_GetObjectItem(j, "Message")->valuestring, "@counter@k"));
    cJSON_Delete(j);
}

Test(rewind, needs_a_write_key)
{
    seed("rewind_failonce.jsonl");
    rt_response rs = post_key("/durabletask/instances/f1/rewind", "", "read-key-0123456789");
    cr_assert_eq(rs.status, 403);
    rs = post_key("/durabletask/instances/f1/rewind", "", "wrong-key-0123456789");
    cr_assert_eq(rs.status, 401);
    az_entity tf = get_row("History", "f1", "0000000000000005");
    cr_assert_str_eq(az_entity_str(&tf, "EventType"), "TaskFailed");
    rs = post("/durabletask/Instances/f1/REWIND/", "");
    cr_assert_eq(rs.status, 202, "literal segments ignore case, a trailing slash is fine");
}
