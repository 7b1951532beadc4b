/* bench_hubcheck: what a fault storm left in a task hub, read straight from
 * storage, for bench/reliability.sh (AZURITE_CONNECTION_STRING names it).
 *
 *   bench_hubcheck starts HUB ANSWERS
 *       ANSWERS holds "ID STATUS" lines: each start as its client saw it.
 *       Reads every Instances row and every message of the control queues
 *       (dequeued, hidden for 10 minutes: the hub has no worker) and checks
 *       that every Pending row has an ExecutionStarted message of the same
 *       execution, and every start answered 202 has its row and that message.
 *       Prints one line of figures; exit 1 when anything is half-written.
 *   bench_hubcheck count HUB PREFIX
 *       Prints "instances=N history=N": rows whose PartitionKey starts with PREFIX. */
#include "storage/account.h"
#include "storage/odata.h"
#include "storage/queue.h"
#include "storage/table.h"
#include "taskhub/hub.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IDS 200000

struct started {
    char *id, *exec;
};

static az_client *open_client(void)
{
    const char *cs = getenv("AZURITE_CONNECTION_STRING");
    az_account acct;
    char why[256];
    if (!cs || az_account_parse(cs, &acct, why, sizeof why) != DG_OK) {
        fprintf(stderr, "bench_hubcheck: set AZURITE_CONNECTION_STRING\n");
        exit(2);
    }
    struct az_client_opts o = {.call_timeout_ms = 30000};
    az_client *c = az_client_create(&acct, &o);
    az_account_free(&acct);
    return c;
}

/* Calls fn on every row of table matching filter (NULL: all). */
static long each_row(az_client *c, dg_arena *a, const char *table, const char *filter, const char *select,
                     void (*fn)(const az_entity *e, void *cls), void *cls)
{
    struct az_query q = {.filter = filter, .select = select, .top = 1000};
    long n = 0;
    for (;;) {
        az_ctx x;
        az_ctx_init(&x, a);
        struct az_page pg;
        dg_err rc = az_table_query(c, &x, table, &q, &pg);
        if (rc == DG_ENOTFOUND)
            return n;
        if (rc) {
            fprintf(stderr, "bench_hubcheck: %s: %s %s\n", table, dg_err_str(rc), x.st.message);
            exit(2);
        }
        for (size_t i = 0; i < pg.n; i++, n++)
            if (fn)
                fn(&pg.items[i], cls);
        if (!pg.next_pk)
            return n;
        q.next_pk = pg.next_pk;
        q.next_rk = pg.next_rk;
    }
}

static struct started *msgs;
static size_t nmsgs;

static const char *find_exec(const char *id, const char *exec)
{
    for (size_t i = 0; i < nmsgs; i++)
        if (strcmp(msgs[i].id, id) == 0 && (!exec || strcmp(msgs[i].exec, exec) == 0))
            return msgs[i].exec;
    return NULL;
}

struct row {
    char *id, *status, *exec;
};
static struct row *rows;
static size_t nrows;

static void take_row(const az_entity *e, void *cls)
{
    (void) cls;
    if (nrows == MAX_IDS)
        return;
    const char *st = az_entity_str(e, "RuntimeStatus"), *ex = az_entity_str(e, "ExecutionId");
    if (e->pk[0] == '@')
        return; /* entities */
    rows[nrows++] = (struct row){strdup(e->pk), strdup(st ? st : ""), strdup(ex ? ex : "")};
}

static const struct row *find_row(const char *id)
{
    for (size_t i = 0; i < nrows; i++)
        if (strcmp(rows[i].id, id) == 0)
            return &rows[i];
    return NULL;
}

static int starts(const char *hubname, const char *answers)
{
    az_client *c = open_client();
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    struct hub h;
    if (hub_open(c, &x, hubname, 4, &h) != DG_OK) {
        fprintf(stderr, "bench_hubcheck: cannot open hub %s\n", hubname);
        return 2;
    }
    msgs = calloc(MAX_IDS, sizeof *msgs);
    rows = calloc(MAX_IDS, sizeof *rows);
    long other_msgs = 0;
    dg_arena *ma = dg_arena_create(); /* each batch of messages, reset after it */
    for (unsigned p = 0; p < h.partitions; p++) {
        const char *q = hub_control_queue_name(&h, a, p);
        for (;;) {
            struct az_qmsg *m;
            size_t n = 0;
            az_ctx_init(&x, ma);
            dg_err rc = az_queue_get(c, &x, q, 32, 600, &m, &n);
            if (rc == DG_ENOTFOUND || (rc == DG_OK && n == 0))
                break;
            if (rc) {
                fprintf(stderr, "bench_hubcheck: %s: %s\n", q, dg_err_str(rc));
                return 2;
            }
            for (size_t i = 0; i < n; i++) {
                cJSON *j = cJSON_ParseWithLength(m[i].text, m[i].text_len);
                cJSON *tm = cJSON_GetObjectItemCaseSensitive(j, "TaskMessage");
                cJSON *ev = cJSON_GetObjectItemCaseSensitive(tm, "Event");
                cJSON *oi = cJSON_GetObjectItemCaseSensitive(tm, "OrchestrationInstance");
                cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "$type");
                cJSON *id = cJSON_GetObjectItemCaseSensitive(oi, "InstanceId");
                cJSON *ex = cJSON_GetObjectItemCaseSensitive(oi, "ExecutionId");
                if (cJSON_IsString(type) && strstr(type->valuestring, "ExecutionStartedEvent") &&
                    cJSON_IsString(id) && nmsgs < MAX_IDS)
                    msgs[nmsgs++] = (struct started){strdup(id->valuestring),
                                                     strdup(cJSON_IsString(ex) ? ex->valuestring : "")};
                else
                    other_msgs++;
                cJSON_Delete(j);
            }
            dg_arena_reset(ma);
        }
    }
    dg_arena_destroy(ma);
    each_row(c, a, hub_table(&h, a, "Instances"), NULL, "PartitionKey,RuntimeStatus,ExecutionId", take_row,
             NULL);
    long pending = 0, pending_orphan = 0;
    for (size_t i = 0; i < nrows; i++) {
        if (strcmp(rows[i].status, "Pending") != 0)
            continue;
        pending++;
        if (!find_exec(rows[i].id, rows[i].exec)) {
            pending_orphan++;
            fprintf(stderr, "half-written: Pending row %s (execution %s) has no start message\n", rows[i].id,
                    rows[i].exec);
        }
    }
    FILE *f = fopen(answers, "r");
    long accepted = 0, failed = 0, missing_row = 0, missing_msg = 0;
    char id[512];
    int code;
    while (f && fscanf(f, "%511s %d", id, &code) == 2) {
        if (code != 202) {
            failed++;
            continue;
        }
        accepted++;
        const struct row *r = find_row(id);
        if (!r) {
            missing_row++;
            fprintf(stderr, "lost: %s was answered 202 but has no Instances row\n", id);
        } else if (!find_exec(id, r->exec)) {
            missing_msg++;
            fprintf(stderr, "lost: %s was answered 202 but has no start message for execution %s\n", id,
                    r->exec);
        }
    }
    if (f)
        fclose(f);
    printf("rows=%zu pending=%ld start_messages=%zu other_messages=%ld pending_without_message=%ld "
           "answered_202=%ld answered_other=%ld accepted_without_row=%ld accepted_without_message=%ld\n",
           nrows, pending, nmsgs, other_msgs, pending_orphan, accepted, failed, missing_row, missing_msg);
    dg_arena_destroy(a);
    az_client_destroy(c);
    return pending_orphan || missing_row || missing_msg ? 1 : 0;
}

static int count(const char *hubname, const char *prefix)
{
    az_client *c = open_client();
    dg_arena *a = dg_arena_create();
    az_filter f;
    az_filter_init(&f);
    az_filter_prefix(&f, "PartitionKey", prefix);
    char ti[128], th[128];
    snprintf(ti, sizeof ti, "%sInstances", hubname);
    snprintf(th, sizeof th, "%sHistory", hubname);
    long ni = each_row(c, a, ti, az_filter_str(&f), "PartitionKey", NULL, NULL);
    long nh = each_row(c, a, th, az_filter_str(&f), "PartitionKey", NULL, NULL);
    printf("instances=%ld history=%ld\n", ni, nh);
    az_filter_free(&f);
    dg_arena_destroy(a);
    az_client_destroy(c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "starts") == 0)
        return starts(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "count") == 0)
        return count(argv[2], argv[3]);
    fprintf(stderr, "usage: bench_hubcheck starts HUB ANSWERS | bench_hubcheck count HUB PREFIX\n");
    return 2;
}
