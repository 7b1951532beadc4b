/* The long-poll through the real binary (issue 5): start-and-wait in both
 * forms and GET instances/{id}/wait against Azurite, with the instance
 * "completed" by writing its Instances row the way a worker does. */
#include "base/time.h"
#include "storage/table.h"
#include "taskhub/keys.h"
#include "tests/support/azurite_env.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

extern char **environ;

static pid_t gw = -1;
static int port;
static az_client *c;
static dg_arena *a;
static const char *hub;
static char keyfile[64];

#define KEY "wait-test-key-0123456789"

struct resp {
    long status;
    char body[65536];
    size_t n;
    char location[1024], retry_after[32];
    double secs;
};

static size_t on_body(char *p, size_t sz, size_t nm, void *u)
{
    struct resp *r = u;
    size_t n = sz * nm;
    if (r->n + n < sizeof r->body) {
        memcpy(r->body + r->n, p, n);
        r->n += n;
        r->body[r->n] = '\0';
    }
    return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *u)
{
    struct resp *r = u;
    size_t n = sz * nm;
    if (n > 10 && strncasecmp(p, "Location: ", 10) == 0)
        snprintf(r->location, sizeof r->location, "%.*s", (int) (n - 12), p + 10);
    if (n > 13 && strncasecmp(p, "Retry-After: ", 13) == 0)
        snprintf(r->retry_after, sizeof r->retry_after, "%.*s", (int) (n - 15), p + 13);
    return n;
}

/* One request; timeout_ms 0: none. Returns the curl code. */
static CURLcode http(const char *method, const char *path, const char *body, long timeout_ms, struct resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *h = curl_easy_init();
    char url[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    struct curl_slist *hd = curl_slist_append(NULL, "x-functions-key: " KEY);
    hd = curl_slist_append(hd, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    else if (strcmp(method, "POST") == 0)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (timeout_ms)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    int64_t t0 = dg_mono_ms();
    CURLcode rc = curl_easy_perform(h);
    r->secs = (double) (dg_mono_ms() - t0) / 1000.0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return rc;
}

static long metric(const char *name)
{
    struct resp r;
    http("GET", "/metrics", NULL, 5000, &r);
    const char *p = r.body;
    size_t n = strlen(name);
    while ((p = strstr(p, name)) != NULL) {
        if (p[n] == ' ' && (p == r.body || p[-1] == '\n'))
            return atol(p + n + 1);
        p += n;
    }
    cr_assert_fail("no metric %s", name);
    return -1;
}

/* Polls /metrics until the counter or gauge reaches want, or 5 s pass: the
 * gateway's own view, instead of a sleep that guesses how long it needs.
 * Returns the last value read. */
static long metric_until(const char *name, long want)
{
    long v = metric(name);
    for (int i = 0; i < 250 && v != want; i++) {
        usleep(20000);
        v = metric(name);
    }
    return v;
}

static void start_gateway(const char *max_waiters)
{
    port = test_free_port();
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    char *argv[] = {(char *) DG_GATEWAY_BIN,
                    "--port",
                    portstr,
                    "--key-file",
                    keyfile,
                    "--task-hub",
                    (char *) hub,
                    "--wait-min-interval-ms",
                    "50",
                    "--max-waiters",
                    (char *) max_waiters,
                    "--log-level",
                    "warn",
                    NULL};
    setenv("AzureWebJobsStorage", getenv("AZURITE_CONNECTION_STRING"), 1);
    cr_assert_eq(posix_spawn(&gw, DG_GATEWAY_BIN, NULL, NULL, argv, environ), 0);
    for (int i = 0; i < 100; i++) {
        struct resp r;
        if (http("GET", "/healthz", NULL, 500, &r) == CURLE_OK && r.status == 200)
            return;
        usleep(50000);
    }
    cr_assert_fail("the gateway did not come up");
}

static void stop_gateway(void)
{
    if (gw > 0) {
        kill(gw, SIGTERM);
        int st;
        waitpid(gw, &st, 0);
        gw = -1;
    }
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    c = test_azurite_client(NULL, NULL);
    a = dg_arena_create();
    hub = test_unique_name(a, "WaitHub");
    snprintf(keyfile, sizeof keyfile, "/tmp/dg-wait-keys-%d.json", (int) getpid());
    FILE *f = fopen(keyfile, "w");
    fprintf(f, "{\"systemKeys\":{\"durabletask_extension\":\"%s\"}}", KEY);
    fclose(f);
    start_gateway("40");
}

static void teardown(void)
{
    stop_gateway();
    unlink(keyfile);
    dg_arena_destroy(a);
    az_client_destroy(c);
    curl_global_cleanup();
}

TestSuite(wait, .init = setup, .fini = teardown, .timeout = 120);

/* What a worker's checkpoint does to the row when the instance ends (storage-schema.md §3.1). */
static void finish(const char *id, const char *status, const char *output)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity e;
    az_entity_init(&e, a, hub_key_escape(a, id, strlen(id)), "");
    az_entity_set_str(&e, a, "RuntimeStatus", status);
    if (output)
        az_entity_set_str(&e, a, "Output", output);
    az_entity_set_str(&e, a, "CustomStatus", "null");
    az_entity_set_datetime(&e, a, "CompletedTime", dg_now_ticks());
    az_entity_set_datetime(&e, a, "LastUpdatedTime", dg_now_ticks());
    cr_assert_eq(
        az_table_write(c, &x, dg_arena_printf(a, "%sInstances", hub), AZ_UPSERT_MERGE, &e, NULL, NULL),
        DG_OK);
}

struct later {
    const char *id, *status, *output;
    int delay_ms;
};

static void *finish_later(void *p)
{
    struct later *l = p;
    usleep((useconds_t) l->delay_ms * 1000);
    finish(l->id, l->status, l->output);
    return NULL;
}

static pthread_t after(struct later *l)
{
    pthread_t t;
    pthread_create(&t, NULL, finish_later, l);
    return t;
}

Test(wait, completed_within_the_timeout_is_200_with_the_bare_output)
{
    struct later l = {"done1", "Completed", "[\"Hello Tokyo!\",\"Hello Seattle!\",\"Hello London!\"]", 600};
    pthread_t t = after(&l);
    struct resp r;
    http("POST",
         "/runtime/webhooks/durabletask/orchestrators/E1_HelloSequence/done1?timeout=5&pollingInterval=0.2",
         "\"Tokyo\"", 0, &r);
    pthread_join(t, NULL);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    cr_assert_str_eq(r.body, "[\"Hello Tokyo!\",\"Hello Seattle!\",\"Hello London!\"]");
    cr_assert_str_eq(r.location, "", "no Location on 200");
    cr_assert(r.secs >= 0.55 && r.secs < 0.6 + 0.2 + 0.3, "answered %.3f s after the start", r.secs);
}

Test(wait, the_sample_route_under_api_and_the_root)
{
    struct resp r;
    http("POST", "/api/orchestrators/E1_HelloSequence/wait?timeout=1&retryInterval=0.25", NULL, 0, &r);
    cr_assert_eq(r.status, 202, "%ld %s", r.status, r.body);
    cr_assert_str_eq(r.retry_after, "10");
    cr_assert(strstr(r.location, "/runtime/webhooks/durabletask/instances/"), "%s", r.location);
    cr_assert(r.secs >= 0.95 && r.secs < 1.0 + 0.25 + 0.3, "timed out after %.3f s", r.secs);
    cr_assert(strstr(r.body, "\"statusQueryGetUri\""), "%s", r.body);
    http("POST", "/orchestrators/E1_HelloSequence/wait?timeout=0.5&retryInterval=0.1", NULL, 0, &r);
    cr_assert_eq(r.status, 202, "the root form too");
}

Test(wait, failed_and_terminated_give_the_status_object)
{
    struct later l = {"fail1", "Failed", "System.Exception: boom", 300};
    pthread_t t = after(&l);
    struct resp r;
    http("POST",
         "/durabletask/orchestrators/Flaky/"
         "fail1?timeout=5&pollingInterval=0.1&returnInternalServerErrorOnFailure=true",
         NULL, 0, &r);
    pthread_join(t, NULL);
    cr_assert_eq(r.status, 200, "start-and-wait forces 200 for Failed: %ld", r.status);
    cr_assert(strstr(r.body, "\"runtimeStatus\":\"Failed\"") &&
                  strstr(r.body, "\"output\":\"System.Exception: boom\""),
              "%s", r.body);
    http("GET", "/durabletask/instances/fail1/wait?returnInternalServerErrorOnFailure=true", NULL, 0, &r);
    cr_assert_eq(r.status, 500, "the GET wait honours the flag on a finished instance");

    http("POST", "/durabletask/orchestrators/Flaky/term1", NULL, 0, &r);
    cr_assert_eq(r.status, 202);
    struct later l2 = {"term1", "Terminated", "stopped by operator", 300};
    t = after(&l2);
    http("GET", "/durabletask/instances/term1/wait?timeout=5&retryInterval=0.1&showInput=false", NULL, 0, &r);
    pthread_join(t, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "\"runtimeStatus\":\"Terminated\"") &&
                  strstr(r.body, "\"output\":\"stopped by operator\""),
              "%s", r.body);
    cr_assert(strstr(r.body, "\"input\":null"), "the waiter's own query applies: %s", r.body);
}

Test(wait, bad_parameters_are_400_before_anything_starts)
{
    const char *bad[] = {"timeout=1&pollingInterval=2", "timeout=0&pollingInterval=0.1", "timeout=abc",
                         "timeout=5&pollingInterval=-1", "pollingInterval=20"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct resp r;
        char path[256];
        snprintf(path, sizeof path, "/durabletask/orchestrators/Hello/bad%zu?%s", i, bad[i]);
        http("POST", path, NULL, 0, &r);
        cr_assert_eq(r.status, 400, "%s: %ld", bad[i], r.status);
        snprintf(path, sizeof path, "/durabletask/instances/bad%zu", i);
        http("GET", path, NULL, 0, &r);
        cr_assert_eq(r.status, 404, "%s: nothing was started", bad[i]);
    }
    struct resp r;
    http("GET", "/durabletask/instances/nope/wait?timeout=1", NULL, 0, &r);
    cr_assert_eq(r.status, 404);
}

Test(wait, a_finished_instance_answers_at_once)
{
    struct resp r;
    http("POST", "/durabletask/orchestrators/Hello/quick1", NULL, 0, &r);
    finish("quick1", "Completed", "42");
    http("GET", "/durabletask/instances/quick1/wait?timeout=10", NULL, 0, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "42");
    cr_assert(r.secs < 0.5);
}

Test(wait, a_client_that_hangs_up_stops_its_wait)
{
    struct resp r;
    http("POST", "/durabletask/orchestrators/Hello/gone1", NULL, 0, &r);
    long before = metric("durable_gateway_wait_disconnects_total");
    CURLcode rc = http("GET", "/durabletask/instances/gone1/wait?timeout=20&retryInterval=1", NULL, 300, &r);
    cr_assert_eq(rc, CURLE_OPERATION_TIMEDOUT);
    cr_assert_eq(metric_until("durable_gateway_wait_disconnects_total", before + 1), before + 1);
    cr_assert_eq(metric_until("durable_gateway_waits_held", 0), 0);
}

struct waiter_arg {
    const char *path;
    struct resp r;
};

static void *wait_thread(void *p)
{
    struct waiter_arg *w = p;
    http("GET", w->path, NULL, 0, &w->r);
    return NULL;
}

Test(wait, waiters_on_one_instance_share_one_read_per_interval)
{
    struct resp r;
    http("POST", "/durabletask/orchestrators/Hello/shared1", NULL, 0, &r);
    enum { N = 30 };
    static struct waiter_arg w[N];
    pthread_t th[N];
    long reads0 = metric("durable_gateway_wait_reads_total");
    int64_t t0 = dg_mono_ms();
    for (int i = 0; i < N; i++) {
        w[i].path = i % 2 ? "/durabletask/instances/shared1/wait?timeout=10&retryInterval=0.2"
                          : "/durabletask/instances/shared1/wait?timeout=10&retryInterval=0.5";
        pthread_create(&th[i], NULL, wait_thread, &w[i]);
    }
    cr_assert_eq(metric_until("durable_gateway_waits_held", N), N);
    cr_assert_eq(metric("durable_gateway_wait_instances"), 1);
    int64_t left = t0 + 2000 - dg_mono_ms(); /* 2 s of waiting at the smallest interval, 0.2 s */
    if (left > 0)
        usleep((useconds_t) left * 1000);
    finish("shared1", "Completed", "{\"ok\":true}");
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].r.status, 200);
        cr_assert_str_eq(w[i].r.body, "{\"ok\":true}");
    }
    long reads = metric("durable_gateway_wait_reads_total") - reads0;
    /* ~11 reads for ~2.2 s at 0.2 s; a per-request poller would have made ~220. */
    cr_assert(reads >= 8 && reads <= 14, "%ld reads", reads);
}

Test(wait, past_the_waiter_cap_is_503_and_nothing_starts)
{
    struct resp r;
    http("POST", "/durabletask/orchestrators/Hello/cap1", NULL, 0, &r);
    enum { N = 40 };
    static struct waiter_arg w[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        w[i].path = "/durabletask/instances/cap1/wait?timeout=3&retryInterval=1";
        pthread_create(&th[i], NULL, wait_thread, &w[i]);
    }
    for (int i = 0; i < 50 && metric("durable_gateway_waits_held") < N; i++)
        usleep(50000);
    cr_assert_eq(metric("durable_gateway_waits_held"), N);
    http("GET", "/durabletask/instances/cap1/wait?timeout=3", NULL, 0, &r);
    cr_assert_eq(r.status, 503);
    cr_assert_str_eq(r.retry_after, "1");
    http("POST", "/durabletask/orchestrators/Hello/cap2?timeout=3&pollingInterval=1", NULL, 0, &r);
    cr_assert_eq(r.status, 503);
    http("GET", "/durabletask/instances/cap2", NULL, 0, &r);
    cr_assert_eq(r.status, 404, "a refused start-and-wait starts nothing");
    finish("cap1", "Completed", "1");
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].r.status, 200);
    }
}

Test(wait, sigterm_answers_every_waiter_at_once)
{
    struct resp r;
    http("POST", "/durabletask/orchestrators/Hello/sd1", NULL, 0, &r);
    enum { N = 10 };
    static struct waiter_arg w[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        w[i].path = "/durabletask/instances/sd1/wait?timeout=60&retryInterval=1";
        pthread_create(&th[i], NULL, wait_thread, &w[i]);
    }
    for (int i = 0; i < 50 && metric("durable_gateway_waits_held") < N; i++)
        usleep(50000);
    int64_t t0 = dg_mono_ms();
    stop_gateway();
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].r.status, 202, "%ld", w[i].r.status);
        cr_assert(strstr(w[i].r.body, "\"id\":\"sd1\""));
    }
    cr_assert(dg_mono_ms() - t0 < 2000, "answered within %lld ms", (long long) (dg_mono_ms() - t0));
}

Test(wait, odd_intervals_neither_crash_nor_outlast_the_timeout)
{
    struct resp r;
    http("POST", "/durabletask/orchestrators/Hello/odd1", NULL, 0, &r);
    /* An interval of 2^32 ms once divided by zero in the scheduler. */
    CURLcode rc = http("GET", "/durabletask/instances/odd1/wait?timeout=42949673&retryInterval=42949672.95",
                       NULL, 500, &r);
    cr_assert_eq(rc, CURLE_OPERATION_TIMEDOUT);
    cr_assert_eq(metric_until("durable_gateway_waits_held", 0), 0, "the hang-up was seen");
    http("GET", "/healthz", NULL, 2000, &r);
    cr_assert_eq(r.status, 200, "the gateway is still up");
    /* A timeout alone, shorter than the default interval, waits that long. */
    http("GET", "/durabletask/instances/odd1/wait?timeout=0.5", NULL, 0, &r);
    cr_assert_eq(r.status, 202, "%ld %s", r.status, r.body);
    cr_assert(r.secs >= 0.45 && r.secs < 1.0, "%.2f s", r.secs);
}

Test(wait, a_finished_start_and_wait_reports_the_started_instance)
{
    /* An instance whose id is the orchestrator's name must not answer for the new one. */
    struct resp r;
    http("POST", "/durabletask/orchestrators/Hello/Hello", NULL, 0, &r);
    finish("Hello", "Completed", "\"wrong instance\"");
    struct later l = {"real1", "Failed", "boom", 400};
    pthread_t t = after(&l);
    http("POST", "/durabletask/orchestrators/Hello/real1?timeout=5&pollingInterval=0.2&showHistory=true",
         NULL, 0, &r);
    pthread_join(t, NULL);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    cr_assert(strstr(r.body, "\"instanceId\":\"real1\"") && strstr(r.body, "\"runtimeStatus\":\"Failed\""),
              "%s", r.body);
}

Test(wait, sigterm_while_answers_are_being_built_answers_everyone_and_exits_cleanly)
{
    struct resp r;
    http("POST", "/durabletask/orchestrators/Hello/big1", NULL, 0, &r);
    enum { N = 30 };
    static struct waiter_arg w[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        w[i].path = "/durabletask/instances/big1/wait?timeout=30&retryInterval=0.1";
        pthread_create(&th[i], NULL, wait_thread, &w[i]);
    }
    for (int i = 0; i < 50 && metric("durable_gateway_waits_held") < N; i++)
        usleep(50000);
    /* A large output (30 KB, near a table column's limit) and a stop right after it lands. */
    char *out = dg_arena_alloc(a, 30002);
    out[0] = '"';
    memset(out + 1, 'x', 29999);
    out[30000] = '"';
    out[30001] = '\0';
    finish("big1", "Completed", out);
    usleep(100000);
    kill(gw, SIGTERM);
    int st;
    waitpid(gw, &st, 0);
    gw = -1;
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the gateway exits 0 (status %d)", st);
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        cr_assert(w[i].r.status == 200 || w[i].r.status == 202, "waiter %d got %ld", i, w[i].r.status);
        if (w[i].r.status == 200)
            cr_assert_eq(w[i].r.n, 30001, "the whole output");
    }
}

/* ---- storage trouble during a wait ----
 * A forwarding proxy in front of Azurite's Table endpoint that answers 503
 * while `failing` is set; the gateway reaches the tables through it under a
 * named connection. SharedKey signs the path and query, not the host, so the
 * requests pass through unchanged. */

static _Atomic int failing;
static char table_endpoint[256]; /* Azurite's, from the connection string */

struct pxreq {
    char uri[8192]; /* path and query as sent */
    char *up;
    size_t n, cap;
};

struct pxresp {
    char *body;
    size_t n;
    struct curl_slist *headers; /* "Name: value" of the answer, to relay */
};

static void *px_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void) cls, (void) conn;
    struct pxreq *r = calloc(1, sizeof *r);
    snprintf(r->uri, sizeof r->uri, "%s", uri);
    return r;
}

static void px_done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void) cls, (void) conn, (void) t;
    struct pxreq *r = *con_cls;
    if (r)
        free(r->up);
    free(r);
    *con_cls = NULL;
}

static enum MHD_Result px_copy_header(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void) kind;
    struct curl_slist **l = cls;
    if (strcasecmp(k, "Host") != 0 && strcasecmp(k, "Content-Length") != 0) {
        char line[4096];
        snprintf(line, sizeof line, "%s: %s", k, v ? v : "");
        *l = curl_slist_append(*l, line);
    }
    return MHD_YES;
}

static size_t px_body(char *p, size_t sz, size_t nm, void *u)
{
    struct pxresp *r = u;
    size_t n = sz * nm;
    r->body = realloc(r->body, r->n + n + 1);
    memcpy(r->body + r->n, p, n);
    r->n += n;
    return n;
}

static size_t px_header(char *p, size_t sz, size_t nm, void *u)
{
    struct pxresp *r = u;
    size_t n = sz * nm;
    char line[2048];
    snprintf(line, sizeof line, "%.*s", (int) n, p);
    line[strcspn(line, "\r\n")] = '\0';
    if (strchr(line, ':') && strncasecmp(line, "Content-Length:", 15) != 0 &&
        strncasecmp(line, "Transfer-Encoding:", 18) != 0 && strncasecmp(line, "Connection:", 11) != 0 &&
        strncasecmp(line, "Keep-Alive:", 11) != 0)
        r->headers = curl_slist_append(r->headers, line);
    return n;
}

static enum MHD_Result proxy(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                             const char *version, const char *data, size_t *data_size, void **con_cls)
{
    (void) cls, (void) url, (void) version;
    struct pxreq *rq = *con_cls;
    if (*data_size) {
        if (rq->n + *data_size > rq->cap) {
            rq->cap = (rq->n + *data_size) * 2;
            rq->up = realloc(rq->up, rq->cap);
        }
        memcpy(rq->up + rq->n, data, *data_size);
        rq->n += *data_size;
        *data_size = 0;
        return MHD_YES;
    }
    if (!rq->cap) { /* the first call brings the headers only */
        rq->cap = 1;
        rq->up = malloc(1);
        return MHD_YES;
    }
    struct MHD_Response *r;
    unsigned status;
    if (atomic_load(&failing)) {
        const char *b = "{\"odata.error\":{\"code\":\"ServerBusy\",\"message\":{\"value\":\"injected\"}}}";
        r = MHD_create_response_from_buffer(strlen(b), (void *) b, MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(r, "Content-Type", "application/json");
        status = 503;
    } else {
        char full[9000];
        /* Azurite's endpoint already ends in /devstoreaccount1. */
        snprintf(full, sizeof full, "%s%s", table_endpoint, rq->uri + strlen("/devstoreaccount1"));
        struct curl_slist *l = NULL;
        MHD_get_connection_values(conn, MHD_HEADER_KIND, px_copy_header, &l);
        struct pxresp out = {0};
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, full);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        if (rq->n) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->up);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long) rq->n);
        }
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, px_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, px_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &out);
        long code = 502;
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(h);
        curl_slist_free_all(l);
        r = MHD_create_response_from_buffer(out.n, out.body ? out.body : (char *) "", MHD_RESPMEM_MUST_COPY);
        for (struct curl_slist *it = out.headers; it; it = it->next) {
            char *colon = strchr(it->data, ':');
            *colon = '\0';
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            if (strncasecmp(it->data, "HTTP/", 5) != 0)
                MHD_add_response_header(r, it->data, v);
        }
        curl_slist_free_all(out.headers);
        free(out.body);
        status = (unsigned) code;
    }
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static struct MHD_Daemon *proxy_start(unsigned *pport)
{
    const char *cs = getenv("AZURITE_CONNECTION_STRING");
    const char *te = strstr(cs, "TableEndpoint=");
    cr_assert_not_null(te);
    te += strlen("TableEndpoint=");
    snprintf(table_endpoint, sizeof table_endpoint, "%.*s", (int) strcspn(te, ";"), te);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                                            0, NULL, NULL, proxy, NULL, MHD_OPTION_URI_LOG_CALLBACK, px_uri,
                                            NULL, MHD_OPTION_NOTIFY_COMPLETED, px_done, NULL, MHD_OPTION_END);
    cr_assert_not_null(d);
    *pport = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return d;
}

/* The same Azurite, tables through the proxy, as the connection named FLAKY. */
static void flaky_connection(unsigned pport)
{
    const char *cs = getenv("AZURITE_CONNECTION_STRING");
    char buf[2048];
    const char *te = strstr(cs, "TableEndpoint=");
    size_t head = (size_t) (te - cs), tail = strcspn(te, ";");
    snprintf(buf, sizeof buf, "%.*sTableEndpoint=http://127.0.0.1:%u/devstoreaccount1%s", (int) head, cs,
             pport, te + tail);
    setenv("FLAKY", buf, 1);
}

TestSuite(trouble, .timeout = 120);

Test(trouble, storage_trouble_during_a_wait_is_retried_until_the_timeout)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    c = test_azurite_client(NULL, NULL);
    a = dg_arena_create();
    hub = test_unique_name(a, "WaitHub");
    snprintf(keyfile, sizeof keyfile, "/tmp/dg-wait-keys-%d.json", (int) getpid());
    FILE *f = fopen(keyfile, "w");
    fprintf(f, "{\"systemKeys\":{\"durabletask_extension\":\"%s\"}}", KEY);
    fclose(f);
    unsigned pport;
    struct MHD_Daemon *px = proxy_start(&pport);
    flaky_connection(pport);
    setenv("DG_CONNECTIONS", "FLAKY", 1);
    start_gateway("40");

    struct resp r;
    http("POST", "/durabletask/orchestrators/Hello/tr1?connection=FLAKY", NULL, 0, &r);
    cr_assert_eq(r.status, 202, "through the proxy: %ld %s", r.status, r.body);

    /* Storage fails for 1.5 s in the middle of a wait; the instance completes meanwhile. */
    struct later l = {"tr1", "Completed", "\"made it\"", 500};
    pthread_t t = after(&l);
    struct waiter_arg w = {
        .path = "/durabletask/instances/tr1/wait?timeout=8&retryInterval=0.2&connection=FLAKY"};
    pthread_t wt;
    pthread_create(&wt, NULL, wait_thread, &w);
    usleep(300000);
    atomic_store(&failing, 1);
    usleep(1500000);
    atomic_store(&failing, 0);
    pthread_join(wt, NULL);
    pthread_join(t, NULL);
    cr_assert_eq(w.r.status, 200, "the wait outlived the trouble: %ld %s", w.r.status, w.r.body);
    cr_assert_str_eq(w.r.body, "\"made it\"");
    cr_assert(w.r.secs >= 1.7, "answered after the trouble, %.2f s", w.r.secs);

    /* Storage failing for the whole wait: the 202 at the deadline, not an error. */
    http("POST", "/durabletask/orchestrators/Hello/tr2?connection=FLAKY", NULL, 0, &r);
    cr_assert_eq(r.status, 202);
    struct waiter_arg w2 = {
        .path = "/durabletask/instances/tr2/wait?timeout=1.5&retryInterval=0.2&connection=FLAKY"};
    pthread_create(&wt, NULL, wait_thread, &w2);
    usleep(200000);
    atomic_store(&failing, 1);
    pthread_join(wt, NULL);
    atomic_store(&failing, 0);
    cr_assert_eq(w2.r.status, 202, "%ld %s", w2.r.status, w2.r.body);
    cr_assert(w2.r.secs >= 1.45 && w2.r.secs < 1.5 + 0.5, "answered at the deadline: %.2f s", w2.r.secs);
    cr_assert(strstr(w2.r.body, "\"id\":\"tr2\""));

    teardown();
    unsetenv("DG_CONNECTIONS");
    MHD_stop_daemon(px);
}
