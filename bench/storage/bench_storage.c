/* Table point-get and insert rate of durable-gateway's storage client against
 * the storage account in AZURITE_CONNECTION_STRING (bench/storage.sh starts
 * one). Prints one JSON line: rates, latency percentiles and connections opened
 * per 1,000 calls. usage: bench_storage [N] [THREADS] */
#include "base/time.h"
#include "storage/table.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct job {
    az_client *c;
    const char *table;
    int first, count;
    int insert; /* 1: insert, 0: point get */
    int64_t *lat_us;
    int errors;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *run(void *p)
{
    struct job *j = p;
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    for (int i = j->first; i < j->first + j->count; i++) {
        dg_arena_reset(a);
        char rk[32];
        snprintf(rk, sizeof rk, "r%08d", i);
        int64_t t0 = now_us();
        dg_err rc;
        if (j->insert) {
            az_entity e;
            az_entity_init(&e, a, "bench", rk);
            az_entity_set_str(&e, a, "Name", "E1_HelloSequence");
            az_entity_set_str(&e, a, "RuntimeStatus", "Running");
            az_entity_set_i32(&e, a, "Generation", 1);
            az_entity_set_datetime(&e, a, "CreatedTime", dg_now_ticks());
            rc = az_table_write(j->c, &x, j->table, AZ_INSERT, &e, NULL, NULL);
        } else {
            az_entity g;
            rc = az_table_get(j->c, &x, j->table, "bench", rk, NULL, &g);
        }
        j->lat_us[i] = now_us() - t0;
        j->errors += rc != DG_OK;
    }
    dg_arena_destroy(a);
    return NULL;
}

static int cmp64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *) x, b = *(const int64_t *) y;
    return a < b ? -1 : a > b;
}

static void phase(az_client *c, const char *table, int n, int threads, int insert, const char *name)
{
    int64_t *lat = calloc((size_t) n, sizeof *lat);
    struct job jobs[64];
    pthread_t th[64];
    struct az_stats s0, s1;
    az_client_stats(c, &s0);
    int64_t t0 = now_us();
    for (int t = 0; t < threads; t++) {
        int per = n / threads;
        jobs[t] = (struct job){c, table, t * per, t == threads - 1 ? n - t * per : per, insert, lat, 0};
        pthread_create(&th[t], NULL, run, &jobs[t]);
    }
    int errors = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        errors += jobs[t].errors;
    }
    double secs = (double) (now_us() - t0) / 1e6;
    az_client_stats(c, &s1);
    qsort(lat, (size_t) n, sizeof *lat, cmp64);
    printf("{\"op\":\"%s\",\"client\":\"durable-gateway\",\"n\":%d,\"threads\":%d,\"ops_per_s\":%.0f,"
           "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"errors\":%d,\"connections_per_1000\":%.2f}\n",
           name, n, threads, n / secs, lat[n / 2] / 1000.0, lat[(size_t) n * 99 / 100] / 1000.0, errors,
           1000.0 * (double) (s1.connections - s0.connections) / (double) (s1.requests - s0.requests));
    free(lat);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    if (n < 10 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: bench_storage [N>=10] [THREADS 1..64]\n");
        return 2;
    }
    const char *cs = getenv("AZURITE_CONNECTION_STRING");
    az_account acct;
    char err[256];
    if (!cs || az_account_parse(cs, &acct, err, sizeof err)) {
        fprintf(stderr, "bench_storage: set AZURITE_CONNECTION_STRING (bench/storage.sh does)\n");
        return 2;
    }
    az_client *c = az_client_create(&acct, NULL);
    az_account_free(&acct);
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    char table[64];
    snprintf(table, sizeof table, "benchc%d", threads);
    az_table_delete(c, &x, table);
    if (az_table_create(c, &x, table)) {
        fprintf(stderr, "bench_storage: cannot create table: %s %s\n", x.st.code, x.st.message);
        return 1;
    }
    phase(c, table, n, threads, 1, "insert");
    phase(c, table, n, threads, 0, "point_get");
    az_table_delete(c, &x, table);
    dg_arena_destroy(a);
    az_client_destroy(c);
    return 0;
}
