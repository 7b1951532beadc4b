/* GET instances/{id} with showHistory, showHistoryOutput and showInput
 * (docs/http-api.md §4.3, §6) through the router, with no socket, over History rows
 * a real DurableTask.AzureStorage worker wrote (tests/integration/routes/history,
 * made by its regen.sh) seeded into a real Azurite, blobs included as the worker
 * gzipped them. The raw reading (taskhub/history.c) is checked against the
 * framework's own reading of the same rows, the rewrite against §6.2. */
#include "base/url.h"
#include "routes/router.h"
#include "storage/blob.h"
#include "storage/table.h"
#include "taskhub/history.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"
#include "tests/support/azurite_env.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#ifndef DG_HISTORY_FIXTURES
#error "DG_HISTORY_FIXTURES: the directory of the History fixtures"
#endif

static az_client *c;
static dg_arena *a;
static const char *hub;
static struct rt_env env;

static const char *history_table(void)
{
    return dg_arena_printf(a, "%sHistory", hub);
}

static void setup(void)
{
    c = test_azurite_client(NULL, NULL);
    a = dg_arena_create();
    hub = test_unique_name(a, "Hub");
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(az_table_create(c, &x, dg_arena_printf(a, "%sInstances", hub)), DG_OK);
    cr_assert_eq(az_table_create(c, &x, history_table()), DG_OK);
    env = (struct rt_env){.storage = c, .keys = NULL, .default_hub = hub};
}

static void teardown(void)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_table_delete(c, &x, dg_arena_printf(a, "%sInstances", hub));
    az_table_delete(c, &x, history_table());
    az_container_delete(c, &x, hub_large_container(a, hub));
    dg_arena_destroy(a);
    az_client_destroy(c);
}

TestSuite(history, .init = setup, .fini = teardown, .timeout = 120);

/* ---- fixtures ---------------------------------------------------------- */

/* The file's bytes (inflated when it ends in .gz), or NULL when missing. */
static char *slurp(const char *name, size_t *len)
{
    char *path = dg_arena_printf(a, "%s/%s", DG_HISTORY_FIXTURES, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = dg_arena_alloc(a, (size_t) n + 1);
    cr_assert_eq(fread(d, 1, (size_t) n, f), (size_t) n);
    fclose(f);
    d[n] = '\0';
    *len = (size_t) n;
    size_t nl = strlen(name);
    if (nl > 3 && strcmp(name + nl - 3, ".gz") == 0) {
        char *text;
        cr_assert_eq(hub_gunzip(a, d, (size_t) n, 1u << 26, &text, len), DG_OK, "%s", name);
        return text;
    }
    return d;
}

static cJSON *parse(const char *text, size_t n)
{
    cJSON *j = cJSON_ParseWithLength(text, n);
    cr_assert_not_null(j, "not JSON: %.200s", text);
    dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, j);
    return j;
}

/* The rows of ID.rows.jsonl as a cJSON array (freed with the arena). */
static cJSON *fixture_rows(const char *f)
{
    size_t n;
    char *text = slurp(dg_arena_printf(a, "%s.rows.jsonl", f), &n);
    cr_assert_not_null(text, "no fixture %s", f);
    cJSON *arr = cJSON_CreateArray();
    dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, arr);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        cJSON_AddItemToArray(arr, cJSON_Parse(line));
    return arr;
}

static cJSON *row_at(cJSON *rows, const char *rk)
{
    for (cJSON *r = rows->child; r; r = r->next)
        if (strcmp(cJSON_GetObjectItem(r, "RowKey")->valuestring, rk) == 0)
            return r;
    cr_assert_fail("no row %s", rk);
    return NULL;
}

static void set_str(cJSON *row, const char *name, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(row, name);
    cJSON_AddStringToObject(row, name, v);
}

/* One fixture row as the entity the worker wrote: the columns `rows` prints as
 * ISO strings are Edm.DateTime, numbers Int32, the rest as JSON says. URLs into
 * the worker's largemessages container point into this hub's instead. */
static az_entity entity_of(const cJSON *row, const char *pk)
{
    static const char *const dates[] = {
        "_Timestamp",      "FireAt",        "ScheduledStartTime",          "CreatedTime",
        "LastUpdatedTime", "CompletedTime", "CheckpointCompletedTimestamp"};
    static const char theirs[] = "/durablefunctionshub-largemessages/";
    az_entity e;
    az_entity_init(&e, a, pk, cJSON_GetObjectItem(row, "RowKey")->valuestring);
    for (const cJSON *it = row->child; it; it = it->next) {
        const char *k = it->string;
        if (strcmp(k, "odata.etag") == 0 || strcmp(k, "Timestamp") == 0 || strcmp(k, "PartitionKey") == 0 ||
            strcmp(k, "RowKey") == 0 || cJSON_IsNull(it))
            continue;
        bool date = false;
        for (size_t i = 0; i < sizeof dates / sizeof *dates; i++)
            date |= strcmp(k, dates[i]) == 0;
        if (date) {
            dg_ticks t;
            cr_assert_eq(dg_iso_parse(it->valuestring, strlen(it->valuestring), &t), DG_OK);
            az_entity_set_datetime(&e, a, k, t);
        } else if (cJSON_IsString(it)) {
            const char *v = it->valuestring, *at = strstr(v, theirs);
            az_entity_set_str(&e, a, k, at ? hub_large_url(c, a, hub, at + sizeof theirs - 1) : v);
        } else if (cJSON_IsBool(it)) {
            az_entity_set_bool(&e, a, k, cJSON_IsTrue(it));
        } else {
            az_entity_set_i32(&e, a, k, (int32_t) it->valuedouble);
        }
    }
    return e;
}

/* Writes rows as the History partition of id, in batches as the worker does. */
static void put_history(const char *id, const cJSON *rows)
{
    const char *pk = hub_key_escape(a, id, strlen(id));
    struct az_batch_op ops[AZ_BATCH_MAX];
    az_entity *es = dg_arena_alloc(a, AZ_BATCH_MAX * sizeof *es);
    const cJSON *r = rows->child;
    while (r) {
        size_t n = 0;
        for (; r && n < AZ_BATCH_MAX; r = r->next, n++) {
            es[n] = entity_of(r, pk);
            ops[n] = (struct az_batch_op){.kind = AZ_BATCH_UPSERT_REPLACE, .e = &es[n]};
        }
        az_ctx x;
        az_ctx_init(&x, a);
        struct az_batch_result res;
        cr_assert_eq(az_table_batch(c, &x, history_table(), ops, n, &res), DG_OK, "%s", x.st.message);
    }
}

/* The Instances row of fixture f as the row of id, its RuntimeStatus replaced when status is set. */
static void put_instance(const char *id, const char *f, const char *status)
{
    size_t n;
    char *text = slurp(dg_arena_printf(a, "%s.instance.json", f), &n);
    cr_assert_not_null(text);
    cJSON *row = parse(text, n);
    if (status)
        set_str(row, "RuntimeStatus", status);
    az_entity e = entity_of(row, hub_key_escape(a, id, strlen(id)));
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(
        az_table_write(c, &x, dg_arena_printf(a, "%sInstances", hub), AZ_UPSERT_REPLACE, &e, NULL, NULL),
        DG_OK, "%s", x.st.message);
}

/* blobs/f/ * as the worker wrote them (already gzipped) into this hub's container. */
static void put_blobs(const char *f)
{
    DIR *d = opendir(dg_arena_printf(a, "%s/blobs/%s", DG_HISTORY_FIXTURES, f));
    if (!d)
        return;
    az_ctx x;
    az_ctx_init(&x, a);
    const char *cont = hub_large_container(a, hub);
    cr_assert_eq(az_container_create(c, &x, cont), DG_OK);
    for (;;) {
        struct dirent *de = readdir(d);
        if (!de)
            break;
        if (de->d_name[0] == '.')
            continue;
        const char *name = dg_arena_printf(a, "%s/%s", f, de->d_name);
        size_t n;
        FILE *fp = fopen(dg_arena_printf(a, "%s/blobs/%s", DG_HISTORY_FIXTURES, name), "rb");
        cr_assert_not_null(fp);
        char buf[65536];
        n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        cr_assert_eq(az_blob_put(c, &x, cont, name, buf, n, "application/octet-stream", NULL), DG_OK);
    }
    closedir(d);
}

static void seed(const char *f)
{
    put_history(f, fixture_rows(f));
    put_instance(f, f, NULL);
    put_blobs(f);
}

/* ---- requests ---------------------------------------------------------- */

static rt_response get(const char *id, const char *query)
{
    const char *path = dg_arena_printf(a, "/runtime/webhooks/durabletask/instances/%s",
                                       dg_url_encode_a(a, id, strlen(id), NULL));
    rt_request rq = {.arena = a, .method = "GET", .path = path, .raw_query = query};
    rt_response rs;
    rt_dispatch(&env, &rq, &rs);
    return rs;
}

static cJSON *body(const rt_response *rs)
{
    cr_assert_not_null(rs->body, "status %d, no body", rs->status);
    return parse(rs->body, rs->body_len);
}

/* historyEvents of the answer, NULL when absent. */
static cJSON *events(const rt_response *rs)
{
    return cJSON_GetObjectItemCaseSensitive(body(rs), "historyEvents");
}

static cJSON *ev(cJSON *h, int i)
{
    cJSON *e = cJSON_GetArrayItem(h, i);
    cr_assert_not_null(e, "no event %d", i);
    return e;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    cr_assert(cJSON_IsString(v), "%s is not a string", name);
    return v->valuestring;
}

static bool has(const cJSON *o, const char *name)
{
    return cJSON_HasObjectItem(o, name);
}

/* The keys of o, in order, joined with ','. */
static const char *keys(const cJSON *o)
{
    const char *s = "";
    for (const cJSON *it = o->child; it; it = it->next)
        s = dg_arena_printf(a, "%s%s%s", s, *s ? "," : "", it->string);
    return s;
}

/* The event types of h, joined with ','. */
static const char *types(const cJSON *h)
{
    const char *s = "";
    for (const cJSON *it = h->child; it; it = it->next)
        s = dg_arena_printf(a, "%s%s%s", s, *s ? "," : "", str(it, "EventType"));
    return s;
}

/* The framework's own reading of fixture f (DurableTask.Core's GetOrchestrationHistoryAsync). */
static cJSON *framework_reading(const char *f)
{
    size_t n;
    char *text = slurp(dg_arena_printf(a, "%s.history.json", f), &n);
    if (!text)
        text = slurp(dg_arena_printf(a, "%s.history.json.gz", f), &n);
    cr_assert_not_null(text, "no reading for %s", f);
    return parse(text, n);
}

/* The Timestamp the framework read for the event of type t with EventId id. */
static const char *framework_time(const char *f, int t, int id)
{
    cJSON *h = framework_reading(f);
    for (const cJSON *e = h->child; e; e = e->next)
        if (cJSON_GetObjectItem(e, "EventType")->valueint == t &&
            cJSON_GetObjectItem(e, "EventId")->valueint == id)
            return str(e, "Timestamp");
    cr_assert_fail("no event %d/%d in %s", t, id, f);
    return NULL;
}

/* ---- the raw reading --------------------------------------------------- */

Test(history, raw_history_is_the_frameworks_own_reading)
{
    static const char *const ids[] = {"e1", "f1", "rw1", "p1", "lp2", "af1",
                                      "t1", "t2", "w2",  "w3", "c1",  "re1"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        seed(ids[i]);
        az_ctx x;
        az_ctx_init(&x, a);
        cJSON *h;
        cr_assert_eq(hub_history_get(c, &x, hub, ids[i], &h), DG_OK, "%s: %s", ids[i], x.st.message);
        char *got = cJSON_PrintUnformatted(h);
        char *want = cJSON_PrintUnformatted(framework_reading(ids[i]));
        cr_assert_str_eq(got, want, "%s", ids[i]);
        cJSON_free(got);
        cJSON_free(want);
    }
}

Test(history, a_hub_without_history_reads_empty)
{
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(az_table_delete(c, &x, history_table()), DG_OK);
    cJSON *h;
    cr_assert_eq(hub_history_get(c, &x, hub, "e1", &h), DG_OK);
    cr_assert_eq(cJSON_GetArraySize(h), 0);
    put_instance("e1", "e1", NULL);
    rt_response rs = get("e1", "showHistory=true");
    cr_assert_eq(rs.status, 200);
    cr_assert_not(has(body(&rs), "historyEvents"));
}

Test(history, pages_are_followed_to_the_end)
{
    /* ExecutionStarted, 600 scheduled-and-completed tasks, the sentinel: two pages of 1,000. */
    cJSON *fx = fixture_rows("e1");
    cJSON *rows = cJSON_CreateArray();
    dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, rows);
    cJSON_AddItemToArray(rows, cJSON_Duplicate(row_at(fx, "0000000000000001"), 1));
    for (int i = 0; i < 600; i++) {
        cJSON *s = cJSON_Duplicate(row_at(fx, "0000000000000002"), 1);
        cJSON *d = cJSON_Duplicate(row_at(fx, "0000000000000005"), 1);
        set_str(s, "RowKey", dg_arena_printf(a, "%016X", 2 + 2 * i));
        set_str(d, "RowKey", dg_arena_printf(a, "%016X", 3 + 2 * i));
        cJSON_ReplaceItemInObject(s, "EventId", cJSON_CreateNumber(i));
        cJSON_ReplaceItemInObject(d, "TaskScheduledId", cJSON_CreateNumber(i));
        set_str(d, "Result", dg_arena_printf(a, "%d", i));
        cJSON_AddItemToArray(rows, s);
        cJSON_AddItemToArray(rows, d);
    }
    cJSON_AddItemToArray(rows, cJSON_Duplicate(row_at(fx, "sentinel"), 1));
    put_history("long1", rows);
    put_instance("long1", "e1", NULL);
    rt_response rs = get("long1", "showHistory=true&showHistoryOutput=true");
    cr_assert_eq(rs.status, 200);
    cJSON *h = events(&rs);
    cr_assert_eq(cJSON_GetArraySize(h), 601, "ExecutionStarted and 600 merged tasks");
    cJSON *last = ev(h, 600);
    cr_assert_str_eq(str(last, "EventType"), "TaskCompleted");
    cr_assert_eq(cJSON_GetObjectItem(last, "Result")->valueint, 599);
    cr_assert_str_eq(str(last, "FunctionName"), "E1_SayHello");
}

/* ---- the rewrite (§6.2) ------------------------------------------------ */

Test(history, a_completed_sequence_has_the_documented_shape)
{
    seed("e1");
    rt_response rs = get("e1", "showHistory=true&showHistoryOutput=true");
    cr_assert_eq(rs.status, 200);
    cJSON *j = body(&rs);
    cr_assert_str_eq(keys(j), "name,instanceId,runtimeStatus,input,customStatus,output,createdTime,"
                              "lastUpdatedTime,historyEvents");
    cJSON *h = cJSON_GetObjectItem(j, "historyEvents");
    cr_assert_str_eq(types(h),
                     "ExecutionStarted,TaskCompleted,TaskCompleted,TaskCompleted,ExecutionCompleted");
    cJSON *e0 = ev(h, 0);
    cr_assert_str_eq(keys(e0), "EventType,Input,Correlation,ParentTraceContext,ScheduledStartTime,Generation,"
                               "GenerateNewTrace,Timestamp,FunctionName");
    cr_assert_str_eq(str(e0, "FunctionName"), "E1_HelloSequence");
    cr_assert_str_eq(str(e0, "Timestamp"), framework_time("e1", 0, -1));
    static const char *const hello[] = {"Hello Tokyo!", "Hello Seattle!", "Hello London!"};
    for (int i = 0; i < 3; i++) {
        cJSON *t = ev(h, 1 + i);
        cr_assert_str_eq(keys(t), "EventType,Result,Timestamp,ScheduledTime,FunctionName,Input");
        cr_assert_str_eq(str(t, "Result"), hello[i], "Result parsed: a string, not its JSON text");
        cr_assert_str_eq(str(t, "FunctionName"), "E1_SayHello");
        cr_assert_str_eq(str(t, "ScheduledTime"), framework_time("e1", 4, i), "the TaskScheduled time");
        cr_assert(cJSON_IsNull(cJSON_GetObjectItem(t, "Input")), "the provider keeps no activity input");
    }
    cJSON *done = ev(h, 4);
    cr_assert_str_eq(keys(done), "EventType,OrchestrationStatus,Result,FailureDetails,Timestamp");
    cr_assert_str_eq(str(done, "OrchestrationStatus"), "Completed");
    cJSON *out = cJSON_GetObjectItem(done, "Result");
    cr_assert(cJSON_IsArray(out) && cJSON_GetArraySize(out) == 3);
    cr_assert_str_eq(cJSON_GetArrayItem(out, 2)->valuestring, "Hello London!");
}

Test(history, every_flag_combination)
{
    seed("e1");
    for (int mask = 0; mask < 8; mask++) {
        bool sh = mask & 1, so = mask & 2, si = !(mask & 4);
        const char *q = dg_arena_printf(a, "%s&%s&%s", sh ? "showHistory=true" : "",
                                        so ? "showHistoryOutput=true" : "", si ? "" : "showInput=false");
        rt_response rs = get("e1", q);
        cr_assert_eq(rs.status, 200, "%s", q);
        cJSON *h = events(&rs);
        cr_assert_eq(h != NULL, sh, "%s: historyEvents only with showHistory", q);
        if (!sh)
            continue;
        cr_assert_eq(cJSON_GetArraySize(h), 5, "%s", q);
        for (int i = 1; i < 5; i++)
            cr_assert_eq(has(ev(h, i), "Result"), so, "%s: event %d Result", q, i);
        cr_assert_eq(has(ev(h, 0), "Input"), si, "%s: ExecutionStarted Input", q);
        cr_assert_eq(has(ev(h, 1), "Input"), si, "%s: TaskCompleted Input", q);
        for (int i = 0; i < 5; i++)
            cr_assert(!has(ev(h, i), "EventId") && !has(ev(h, i), "IsPlayed"), "%s", q);
    }
    rt_response rs = get("e1", "SHOWHISTORY=True");
    cr_assert_not_null(events(&rs), "names and values ignore case");
    rs = get("e1", "showHistory=1");
    cr_assert_null(events(&rs), "a non-boolean is the default");
}

Test(history, show_input_false_hides_inputs_in_history_too)
{
    seed("t1");
    rt_response rs = get("t1", "showHistory=true");
    cJSON *e0 = ev(events(&rs), 0);
    cr_assert_str_eq(str(e0, "Input"), "{\"seconds\":1}", "ExecutionStarted keeps the raw input text");
    rs = get("t1", "showHistory=true&showInput=false");
    cJSON *j = body(&rs);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "input")));
    cr_assert_not(has(ev(cJSON_GetObjectItem(j, "historyEvents"), 0), "Input"));
}

Test(history, pending_instances_have_their_history_left_unread)
{
    /* A row naming a blob that does not exist: reading this history fails. */
    cJSON *rows = fixture_rows("e1");
    set_str(row_at(rows, "0000000000000001"), "InputBlobName", "pend1/history-missing-Input.json.gz");
    put_history("pend1", rows);
    put_instance("pend1", "e1", "Pending");
    rt_response rs = get("pend1", "showHistory=true&showHistoryOutput=true");
    cr_assert_eq(rs.status, 202);
    cJSON *j = body(&rs);
    cr_assert_str_eq(str(j, "runtimeStatus"), "Pending");
    cr_assert_not(has(j, "historyEvents"));
    put_instance("pend1", "e1", "Running");
    rs = get("pend1", "showHistory=true");
    cr_assert_eq(rs.status, 502, "the same rows are read once the instance runs: got %d", rs.status);
}

Test(history, no_events_no_field)
{
    put_instance("new1", "t2", "Running");
    rt_response rs = get("new1", "showHistory=true");
    cr_assert_eq(rs.status, 202);
    cJSON *j = body(&rs);
    cr_assert_not(has(j, "historyEvents"), "absent, not null and not []");
    cr_assert_str_eq(keys(j), "name,instanceId,runtimeStatus,input,customStatus,output,createdTime,"
                              "lastUpdatedTime");
    cJSON *only = cJSON_CreateArray();
    dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, only);
    cJSON_AddItemToArray(only, cJSON_Duplicate(row_at(fixture_rows("t2"), "sentinel"), 1));
    put_history("new1", only);
    rs = get("new1", "showHistory=true");
    cr_assert_not(has(body(&rs), "historyEvents"), "a sentinel alone is no history");
}

Test(history, older_rows_past_the_current_execution_are_cut)
{
    /* re1 ran E1_HelloSequence (16 rows), then AlwaysFail (4 rows) over it. */
    cJSON *rows = fixture_rows("re1");
    cr_assert_eq(cJSON_GetArraySize(rows), 17);
    const char *id = "re/1#?\x01";
    put_history(id, rows);
    put_instance(id, "re1", NULL);
    rt_response rs = get(id, "showHistory=true&showHistoryOutput=true");
    cr_assert_eq(rs.status, 200);
    cJSON *h = events(&rs);
    cr_assert_str_eq(types(h), "ExecutionStarted,ExecutionCompleted");
    cr_assert_str_eq(str(ev(h, 0), "FunctionName"), "AlwaysFail");
    cr_assert_eq(cJSON_GetObjectItem(ev(h, 0), "Generation")->valueint, 1);
    cr_assert_str_eq(str(ev(h, 1), "OrchestrationStatus"), "Failed");
    cr_assert_str_eq(str(ev(h, 1), "Result"), "boom");
}

Test(history, the_sentinel_decides_and_without_one_the_first_row)
{
    cJSON *rows = fixture_rows("re1");
    cJSON *sentinel = cJSON_DetachItemViaPointer(rows, row_at(rows, "sentinel"));
    put_history("ns1", rows);
    put_instance("ns1", "re1", NULL);
    rt_response rs = get("ns1", "showHistory=true");
    cr_assert_str_eq(types(events(&rs)), "ExecutionStarted,ExecutionCompleted", "the first row's execution");

    /* A sentinel naming an execution whose rows are not (yet) at the front. */
    set_str(sentinel, "ExecutionId", "00000000000000000000000000000000");
    cJSON *one = cJSON_CreateArray();
    dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, one);
    cJSON_AddItemToArray(one, sentinel);
    put_history("ns1", one);
    rs = get("ns1", "showHistory=true");
    cr_assert_not(has(body(&rs), "historyEvents"));
}

Test(history, large_input_and_result_come_from_their_blobs)
{
    seed("lp2");
    rt_response rs = get("lp2", "showHistory=true&showHistoryOutput=true");
    cr_assert_eq(rs.status, 200);
    cJSON *j = body(&rs);
    cJSON *h = cJSON_GetObjectItem(j, "historyEvents");
    cr_assert_str_eq(types(h), "ExecutionStarted,ExecutionCompleted");
    const char *in = str(ev(h, 0), "Input");
    cr_assert_eq(strlen(in), 31002, "the raw input text, quotes included");
    cr_assert(in[0] == '"' && in[1] == 'y' && in[31001] == '"');
    const char *out = str(ev(h, 1), "Result");
    cr_assert_eq(strlen(out), 31000 + 102400, "parsed: the string itself");
    cr_assert(out[0] == 'y' && out[31000] == 'x');
    cr_assert_str_eq(str(j, "output"), out, "the status output is the same value");
    rs = get("lp2", "showHistory=true");
    cr_assert_not(has(ev(events(&rs), 1), "Result"));
}

Test(history, a_failed_activity_keeps_reason_and_failure_details)
{
    seed("f1");
    rt_response rs = get("f1", "showHistory=true&showHistoryOutput=true");
    cr_assert_eq(rs.status, 200);
    cJSON *h = events(&rs);
    cr_assert_str_eq(types(h), "ExecutionStarted,TaskFailed,ExecutionCompleted");
    cJSON *tf = ev(h, 1);
    cr_assert_str_eq(keys(tf),
                     "EventType,Reason,Details,FailureDetails,Timestamp,ScheduledTime,FunctionName,Input");
    cr_assert_str_eq(str(tf, "Reason"), "FlakyActivity failed on purpose");
    cr_assert_str_eq(str(tf, "FunctionName"), "FlakyActivity");
    cr_assert_str_eq(str(ev(h, 2), "OrchestrationStatus"), "Failed");
    cr_assert_str_eq(str(ev(h, 2), "Result"), "FlakyActivity failed on purpose", "not JSON: the text");

    /* As a host with IncludeDetails and FailureDetails propagation writes them. */
    cJSON *rows = fixture_rows("f1");
    static const char fd[] = "{\"ErrorType\":\"System.InvalidOperationException\",\"ErrorMessage\":"
                             "\"FlakyActivity failed on purpose\",\"StackTrace\":\"   at FlakyActivity\","
                             "\"InnerFailure\":null,\"IsNonRetriable\":false,\"Properties\":null}";
    set_str(row_at(rows, "0000000000000005"), "Details", "System.InvalidOperationException: boom");
    set_str(row_at(rows, "0000000000000005"), "FailureDetails", fd);
    set_str(row_at(rows, "0000000000000006"), "FailureDetails", fd);
    put_history("f1d", rows);
    put_instance("f1d", "f1", NULL);
    rs = get("f1d", "showHistory=true&returnInternalServerErrorOnFailure=true");
    cr_assert_eq(rs.status, 500, "the flag still applies, history or not");
    h = events(&rs);
    tf = ev(h, 1);
    cr_assert_str_eq(str(tf, "Details"), "System.InvalidOperationException: boom");
    cJSON *d = cJSON_GetObjectItem(tf, "FailureDetails");
    cr_assert(cJSON_IsObject(d), "parsed back into JSON");
    cr_assert_str_eq(str(d, "ErrorType"), "System.InvalidOperationException");
    cr_assert_str_eq(keys(d), "ErrorType,ErrorMessage,StackTrace,InnerFailure,IsNonRetriable,Properties");
    cr_assert(cJSON_IsObject(cJSON_GetObjectItem(ev(h, 2), "FailureDetails")));
    cr_assert_not(has(ev(h, 2), "Result"), "no showHistoryOutput");
}

Test(history, a_sub_orchestration_is_folded_into_its_completion)
{
    seed("p1");
    rt_response rs = get("p1", "showHistory=true&showHistoryOutput=true");
    cJSON *h = events(&rs);
    cr_assert_str_eq(types(h), "ExecutionStarted,SubOrchestrationInstanceCompleted,ExecutionCompleted");
    cJSON *s = ev(h, 1);
    cr_assert_str_eq(keys(s), "EventType,Result,Timestamp,ScheduledTime,FunctionName,Input");
    cr_assert_str_eq(str(s, "FunctionName"), "E1_HelloSequence");
    cr_assert_str_eq(str(s, "ScheduledTime"), framework_time("p1", 7, 0));
    cr_assert(cJSON_IsArray(cJSON_GetObjectItem(s, "Result")));
}

Test(history, timers)
{
    seed("t1");
    rt_response rs = get("t1", "showHistory=true");
    cJSON *h = events(&rs);
    cr_assert_str_eq(types(h), "ExecutionStarted,TimerCreated,TimerFired,ExecutionCompleted");
    cr_assert_str_eq(keys(ev(h, 1)), "EventType,FireAt,Timestamp");
    cr_assert_str_eq(keys(ev(h, 2)), "EventType,FireAt,Timestamp", "no TimerId");
    cr_assert_str_eq(str(ev(h, 1), "FireAt"), str(ev(h, 2), "FireAt"));
    seed("t2");
    rs = get("t2", "showHistory=true");
    cr_assert_eq(rs.status, 202);
    cr_assert_str_eq(types(events(&rs)), "ExecutionStarted,TimerCreated", "a timer still pending");
}

Test(history, events_suspension_and_termination)
{
    seed("w2");
    rt_response rs = get("w2", "showHistory=true");
    cJSON *h = events(&rs);
    cr_assert_str_eq(types(h),
                     "ExecutionStarted,ExecutionSuspended,ExecutionResumed,EventRaised,ExecutionCompleted");
    cr_assert_str_eq(str(ev(h, 1), "Reason"), "for a while");
    cr_assert_str_eq(str(ev(h, 2), "Reason"), "back again");
    cJSON *raised = ev(h, 3);
    cr_assert_str_eq(keys(raised), "EventType,Name,Input,ParentTraceContext,Timestamp");
    cr_assert_str_eq(str(raised, "Name"), "Approval");
    cr_assert_str_eq(str(raised, "Input"), "\"yes\"", "event data stays raw JSON text");
    seed("w3");
    rs = get("w3", "showHistory=true&showHistoryOutput=true");
    cr_assert_eq(rs.status, 200);
    h = events(&rs);
    cr_assert_str_eq(types(h), "ExecutionStarted,ExecutionTerminated,ExecutionCompleted");
    cr_assert_str_eq(str(ev(h, 1), "Input"), "no longer needed");
    cr_assert_str_eq(str(ev(h, 2), "OrchestrationStatus"), "Terminated");
    cr_assert_str_eq(str(ev(h, 2), "Result"), "no longer needed");
    rs = get("w3", "showHistory=true&showInput=false");
    cr_assert_not(has(ev(events(&rs), 1), "Input"));
}

Test(history, a_rewound_history_shows_generic_events)
{
    seed("rw1");
    rt_response rs = get("rw1", "showHistory=true&showHistoryOutput=true");
    cJSON *h = events(&rs);
    cr_assert_str_eq(types(h),
                     "ExecutionStarted,GenericEvent,GenericEvent,GenericEvent,GenericEvent,TaskCompleted,"
                     "ExecutionCompleted");
    cr_assert_str_eq(keys(ev(h, 1)), "Data,EventType,Timestamp", "only GenericEvent's members");
    cr_assert_str_eq(str(ev(h, 4), "Data"), "try again");
    cr_assert_str_eq(str(ev(h, 5), "FunctionName"), "FlakyActivity");
    cr_assert_str_eq(str(ev(h, 5), "Result"), "ok");
}

Test(history, continue_as_new_is_left_as_the_host_leaves_it)
{
    cJSON *rows = fixture_rows("c1");
    cJSON *done = row_at(rows, "0000000000000003");
    set_str(done, "EventType", "ContinueAsNew");
    set_str(done, "OrchestrationStatus", "ContinuedAsNew");
    set_str(done, "Result", "4");
    put_history("can1", rows);
    put_instance("can1", "c1", "ContinuedAsNew");
    rt_response rs = get("can1", "showHistory=true");
    cr_assert_eq(rs.status, 202);
    cJSON *h = events(&rs);
    cr_assert_str_eq(types(h), "ExecutionStarted,ContinueAsNew");
    cJSON *can = ev(h, 1);
    cr_assert_eq(cJSON_GetObjectItem(can, "OrchestrationStatus")->valueint, 2,
                 "a number, as the host leaves it");
    cr_assert_str_eq(str(can, "Result"), "4", "raw, and without showHistoryOutput");
}

Test(history, a_task_still_running_keeps_its_scheduling_event)
{
    cJSON *all = fixture_rows("e1"), *rows = cJSON_CreateArray();
    dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, rows);
    for (int i = 0; i < 4; i++)
        cJSON_AddItemToArray(rows, cJSON_Duplicate(row_at(all, dg_arena_printf(a, "%016X", i)), 1));
    cJSON_AddItemToArray(rows, cJSON_Duplicate(row_at(all, "sentinel"), 1));
    put_history("run1", rows);
    put_instance("run1", "e1", "Running");
    rt_response rs = get("run1", "showHistory=true");
    cr_assert_eq(rs.status, 202);
    cJSON *h = events(&rs);
    cr_assert_str_eq(types(h), "ExecutionStarted,TaskScheduled");
    cr_assert_str_eq(keys(ev(h, 1)), "EventType,Name,Input,ParentTraceContext,Tags,Timestamp");
    cr_assert_str_eq(str(ev(h, 1), "Name"), "E1_SayHello");
}

Test(history, a_history_past_the_cap_is_refused)
{
    /* Two blobs of 33 MiB each: more than the 64 MiB the gateway returns. */
    size_t n = 33u << 20;
    char *big = dg_arena_alloc(a, n);
    memset(big, 'z', n);
    big[0] = big[n - 1] = '"';
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(hub_large_put(c, &x, hub, "cap1/in.json.gz", big, n), DG_OK);
    cr_assert_eq(hub_large_put(c, &x, hub, "cap1/out.json.gz", big, n), DG_OK);
    cJSON *rows = fixture_rows("e1");
    set_str(row_at(rows, "0000000000000001"), "InputBlobName", "cap1/in.json.gz");
    set_str(row_at(rows, "000000000000000E"), "ResultBlobName", "cap1/out.json.gz");
    put_history("cap1", rows);
    put_instance("cap1", "e1", NULL);
    rt_response rs = get("cap1", "showHistory=true");
    cr_assert_eq(rs.status, 500);
    cJSON *m = cJSON_GetObjectItem(body(&rs), "Message");
    cr_assert(cJSON_IsString(m) && strstr(m->valuestring, "larger than"), "%s", rs.body);
    rs = get("cap1", "");
    cr_assert_eq(rs.status, 200, "without showHistory the status is still there");
}
