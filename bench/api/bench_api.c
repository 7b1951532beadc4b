/* Management API benchmark (issue 3): requests per second and latency of
 * status, list (top=100) and start through a running gateway, next to the same
 * storage operations issued directly with the gateway's own storage and task
 * hub code in the same run, so the gateway's overhead (HTTP, routing, key
 * check, JSON) shows as a ratio. Both sides make the same storage calls: the
 * direct status read and list page go through the functions the routes call
 * (hub_instance_get, hub_query_instances) with the flags the routes pass for
 * the requests sent here, so the $filter and $select are the same.
 *
 * usage: bench_api PORT HUB N   (AZURITE_CONNECTION_STRING names the storage;
 * BENCH_KEY, when set, is sent as x-functions-key, as users run the gateway)
 * Prints one line per operation and client, then the ratios. */
#include "base/time.h"
#include "storage/odata.h"
#include "storage/table.h"
#include "taskhub/client.h"
#include "taskhub/hub.h"
#include "taskhub/instance.h"
#include "taskhub/query.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int port;
static const char *hub;
static az_client *az;

struct stats {
    double ops_per_s, p50_ms, p99_ms;
    int errors;
};

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static struct stats summarize(double *lat, int n, double total_s, int errors)
{
    qsort(lat, (size_t) n, sizeof *lat, cmp_d);
    return (struct stats){n / total_s, lat[n / 2], lat[(n * 99) / 100], errors};
}

static size_t sink(char *p, size_t sz, size_t nm, void *u)
{
    (void) p;
    (void) u;
    return sz * nm;
}

/* One kept-alive connection for the whole run, as a real client would hold.
 * Request i goes to prefix + (i % mod); returns its latency in ms, *errors
 * counts the answers other than want. */
static double gateway_one(CURL *h, const char *method, const char *prefix, int mod, int i, long want,
                          int *errors)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s%d", port, prefix, i % mod);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "POST") == 0)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{\"city\":\"Tokyo\"}");
    else
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    long code = 0;
    if (curl_easy_perform(h) != CURLE_OK ||
        (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), code != want))
        (*errors)++;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double) (b.tv_sec - a.tv_sec) * 1e3 + (double) (b.tv_nsec - a.tv_nsec) / 1e6;
}

/* The same requests in a row (seeding). */
static struct stats via_gateway(CURL *h, const char *method, const char *prefix, int mod, int n, long want)
{
    double *lat = calloc((size_t) n, sizeof *lat);
    int errors = 0;
    int64_t t0 = dg_mono_ms();
    for (int i = 0; i < n; i++)
        lat[i] = gateway_one(h, method, prefix, mod, i, want, &errors);
    double secs = (double) (dg_mono_ms() - t0) / 1000.0;
    struct stats s = summarize(lat, n, secs, errors);
    free(lat);
    return s;
}

enum op { OP_STATUS, OP_LIST, OP_START };

/* What the status and list routes read for a request without showInput=false. */
#define STATUS_FLAGS (HUB_GET_INPUT | HUB_GET_OUTPUT)

/* Operation i issued directly; returns its latency in ms. */
static double direct_one(dg_arena *a, enum op op, int i, const char *prefix, int *errors)
{
    {
        struct timespec ta, tb;
        clock_gettime(CLOCK_MONOTONIC, &ta);
        az_ctx x;
        az_ctx_init(&x, a);
        dg_err rc = DG_OK;
        if (op == OP_STATUS) {
            /* What GET instances/{id} reads (showInput defaults to true): the
             * row with HUB_INSTANCE_COLUMNS_NO_IO, Input and Output selected. */
            struct hub_instance in;
            rc = hub_instance_get(az, &x, hub, dg_arena_printf(a, "seed-%d", i % 100), STATUS_FLAGS, &in);
        } else if (op == OP_LIST) {
            /* What GET instances?top=100 asks: one page of 100, entities left
             * out, the same columns (the answer's: taskhub/query.h). */
            az_filter f;
            az_filter_init(&f);
            az_filter_cmp_str(&f, "PartitionKey", AZ_LT, "@");
            az_filter_or(&f);
            az_filter_cmp_str(&f, "PartitionKey", AZ_GE, "A");
            struct az_query q = {.filter = dg_arena_strdup(a, az_filter_str(&f)),
                                 .select = hub_query_columns(STATUS_FLAGS),
                                 .top = 100};
            az_filter_free(&f);
            struct az_page pg;
            rc = az_table_query(az, &x, dg_arena_printf(a, "%sInstances", hub), &q, &pg);
            if (!rc && pg.n != 100)
                rc = DG_EBADRESP;
        } else {
            /* What POST orchestrators/{name}/{id} does: read, message, row. */
            struct hub h;
            rc = hub_open(az, &x, hub, 4, &h);
            struct hub_start req = {.instance_id = dg_arena_printf(a, "%s%d", prefix, i),
                                    .name = "Bench",
                                    .input = "{\"city\":\"Tokyo\"}"};
            struct hub_started st;
            if (!rc)
                rc = hub_start_instance(&h, &x, &req, &st);
        }
        clock_gettime(CLOCK_MONOTONIC, &tb);
        if (rc)
            (*errors)++;
        dg_arena_reset(a);
        return (double) (tb.tv_sec - ta.tv_sec) * 1e3 + (double) (tb.tv_nsec - ta.tv_nsec) / 1e6;
    }
}

/* n operations, each issued directly and then through the gateway, in turn, so
 * a burst of load from elsewhere on the machine falls on both alike. ops/s is
 * of the time each side spent in its own calls. */
static void pair(CURL *h, enum op op, int n, const char *dprefix, const char *method, const char *gprefix,
                 int mod, long want, struct stats *d, struct stats *g)
{
    double *dl = calloc((size_t) n, sizeof *dl), *gl = calloc((size_t) n, sizeof *gl);
    int de = 0, ge = 0;
    double ds = 0, gs = 0;
    dg_arena *a = dg_arena_create();
    for (int i = 0; i < n; i++) {
        ds += dl[i] = direct_one(a, op, i, dprefix, &de);
        gs += gl[i] = gateway_one(h, method, gprefix, mod, i, want, &ge);
    }
    *d = summarize(dl, n, ds / 1000.0, de);
    *g = summarize(gl, n, gs / 1000.0, ge);
    dg_arena_destroy(a);
    free(dl);
    free(gl);
}

static void line(const char *op, const char *client, struct stats s)
{
    printf("%-8s %-16s %8.0f %8.3f %8.3f %6d\n", op, client, s.ops_per_s, s.p50_ms, s.p99_ms, s.errors);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_api PORT HUB N\n");
        return 2;
    }
    port = atoi(argv[1]);
    hub = argv[2];
    int n = atoi(argv[3]);
    az_account acct;
    char err[256];
    if (az_account_parse(getenv("AZURITE_CONNECTION_STRING"), &acct, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        return 2;
    }
    az = az_client_create(&acct, NULL);
    az_account_free(&acct);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    const char *key = getenv("BENCH_KEY");
    char key_header[512];
    if (key && *key) {
        snprintf(key_header, sizeof key_header, "x-functions-key: %s", key);
        hd = curl_slist_append(hd, key_header);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);

    /* 200 instances to read and list, started through the gateway (Pending: status answers 202). */
    struct stats seed = via_gateway(h, "POST", "/durabletask/orchestrators/Bench/seed-", 200, 200, 202);
    if (seed.errors) {
        fprintf(stderr, "bench: seeding failed (%d errors)\n", seed.errors);
        return 1;
    }
    printf("keys %s; both sides select %s,Input,Output\n", key && *key ? "on (x-functions-key)" : "off",
           HUB_INSTANCE_COLUMNS_NO_IO);
    printf("%-8s %-16s %8s %8s %8s %6s\n", "op", "client", "ops/s", "p50 ms", "p99 ms", "errors");
    struct stats g[3], d[3];
    /* Each operation direct and through the gateway in turn, twice, keeping the second (warm) run. */
    for (int round = 0; round < 2; round++) {
        pair(h, OP_STATUS, n, NULL, "GET", "/durabletask/instances/seed-", 100, 202, &d[0], &g[0]);
        pair(h, OP_LIST, n / 4, NULL, "GET", "/durabletask/instances?top=100&x=", n, 200, &d[1], &g[1]);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "direct-%d-", round);
        char gwp[128];
        snprintf(gwp, sizeof gwp, "/durabletask/orchestrators/Bench/gw-%d-", round);
        pair(h, OP_START, n / 2, prefix, "POST", gwp, n, 202, &d[2], &g[2]);
    }
    const char *names[] = {"status", "list100", "start"};
    for (int i = 0; i < 3; i++) {
        line(names[i], "direct storage", d[i]);
        line(names[i], "via gateway", g[i]);
    }
    printf("\ngateway / direct (throughput; p50 latency overhead):\n");
    for (int i = 0; i < 3; i++)
        printf("  %-8s %.2fx throughput, +%.3f ms p50 (%.2fx)\n", names[i], g[i].ops_per_s / d[i].ops_per_s,
               g[i].p50_ms - d[i].p50_ms, g[i].p50_ms / d[i].p50_ms);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    az_client_destroy(az);
    int errs = 0;
    for (int i = 0; i < 3; i++)
        errs += g[i].errors + d[i].errors;
    return errs ? 1 : 0;
}
