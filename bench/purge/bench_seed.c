/* Seeds a task hub for bench/cli-purge.sh and bench/bulk.sh: the hub made as a
 * client makes it (hub_ensure: tables, queues, partition rows), then COUNT
 * instances, each with EVENTS History rows and the sentinel, in
 * DurableTask.AzureStorage's format (tests/support/hub_rows.c): one Instances
 * insert and one History batch per instance, from THREADS threads.
 *
 * IDS: "seq" (the default) names them "bench-000000"..; "hex" gives each 32
 * lower-case hex digits made from its number, as the framework's generated ids
 * (GUIDs without dashes) look. STATUSES: "completed" (the default) makes every
 * one Completed; "mixed" makes one in ten Failed, one in ten Running, one in
 * twenty Terminated and the rest Completed.
 *
 * usage: bench_seed HUB COUNT EVENTS [THREADS [IDS [STATUSES]]]
 *        (AZURITE_CONNECTION_STRING names the storage) */
#include "base/time.h"
#include "storage/table.h"
#include "taskhub/hub.h"
#include "tests/support/hub_rows.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static az_client *az;
static const char *hub;
static int count, events;
static bool hex_ids, mixed;

/* splitmix64: a fixed, well-spread 64-bit value per instance number. */
static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static const char *status_of(int i)
{
    if (!mixed)
        return "Completed";
    switch (i % 20) {
    case 3:
    case 13:
        return "Failed";
    case 7:
    case 17:
        return "Running";
    case 9:
        return "Terminated";
    default:
        return "Completed";
    }
}
static atomic_int next, failed;

static void *seeder(void *arg)
{
    (void) arg;
    dg_arena *a = dg_arena_create(); /* reset after each instance */
    char instances[64], history[64];
    snprintf(instances, sizeof instances, "%sInstances", hub);
    snprintf(history, sizeof history, "%sHistory", hub);
    int i;
    while ((i = atomic_fetch_add(&next, 1)) < count) {
        char id[40];
        if (hex_ids)
            snprintf(id, sizeof id, "%016llx%016llx", (unsigned long long) mix((uint64_t) i),
                     (unsigned long long) mix((uint64_t) i + 0x100000000ULL));
        else
            snprintf(id, sizeof id, "bench-%06d", i);
        struct seed_instance si = {
            .id = id, .status = status_of(i), .input = "\"Tokyo\"", .output = "[\"Hello\"]"};
        az_ctx x;
        az_ctx_init(&x, a);
        az_entity e;
        hub_rows_instance(a, hub, &si, &e);
        dg_err rc = az_table_write(az, &x, instances, AZ_UPSERT_REPLACE, &e, NULL, NULL);
        az_entity *rows;
        size_t n = hub_rows_history(a, id, events, &rows);
        struct az_batch_op ops[AZ_BATCH_MAX];
        for (size_t k = 0; k < n; k++)
            ops[k] = (struct az_batch_op){AZ_BATCH_UPSERT_REPLACE, &rows[k], NULL};
        struct az_batch_result res;
        if (!rc)
            rc = az_table_batch(az, &x, history, ops, n, &res);
        if (rc) {
            fprintf(stderr, "bench_seed: %s: %s %s\n", id, dg_err_str(rc), x.st.message);
            atomic_fetch_add(&failed, 1);
        }
        dg_arena_reset(a);
    }
    dg_arena_destroy(a);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 7) {
        fprintf(stderr, "usage: bench_seed HUB COUNT EVENTS [THREADS [seq|hex [completed|mixed]]]\n");
        return 2;
    }
    hex_ids = argc >= 6 && strcmp(argv[5], "hex") == 0;
    mixed = argc >= 7 && strcmp(argv[6], "mixed") == 0;
    if ((argc >= 6 && !hex_ids && strcmp(argv[5], "seq") != 0) ||
        (argc >= 7 && !mixed && strcmp(argv[6], "completed") != 0)) {
        fprintf(stderr, "bench_seed: IDS is seq or hex, STATUSES completed or mixed\n");
        return 2;
    }
    hub = argv[1];
    count = atoi(argv[2]);
    events = atoi(argv[3]);
    int threads = argc >= 5 ? atoi(argv[4]) : 8;
    if (count < 1 || events < 2 || events >= AZ_BATCH_MAX || threads < 1 || threads > 64) {
        fprintf(stderr, "bench_seed: COUNT >= 1, EVENTS 2..%d, THREADS 1..64\n", AZ_BATCH_MAX - 1);
        return 2;
    }
    az_account acct;
    char err[256];
    if (az_account_parse(getenv("AZURITE_CONNECTION_STRING"), &acct, err, sizeof err)) {
        fprintf(stderr, "bench_seed: %s\n", err);
        return 2;
    }
    az = az_client_create(&acct, NULL);
    az_account_free(&acct);
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    struct hub h;
    dg_err rc = hub_open(az, &x, hub, 4, &h);
    if (!rc)
        rc = hub_ensure(&h, &x);
    if (rc) {
        fprintf(stderr, "bench_seed: making hub %s: %s %s\n", hub, dg_err_str(rc), x.st.message);
        return 1;
    }
    int64_t t0 = dg_mono_ms();
    pthread_t *t = calloc((size_t) threads, sizeof *t);
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, seeder, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double secs = (double) (dg_mono_ms() - t0) / 1000.0;
    fprintf(stderr, "bench_seed: %s: %d instances with %d history rows each in %.1f s\n", hub, count,
            events + 1, secs);
    free(t);
    dg_arena_destroy(a);
    az_client_destroy(az);
    return atomic_load(&failed) ? 1 : 0;
}
