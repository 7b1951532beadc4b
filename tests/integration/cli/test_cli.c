/* The durable command-line client (cli/) as a user runs it: build/durable
 * against a private Azurite, straight to storage and through a real
 * build/durable-gateway (--gateway), over task-hub rows in the DurableTask
 * format. Each test checks stdout (the JSON), stderr (one line) and the exit
 * status, what landed in storage, and, for get-instances --all,
 * get-runtime-status, get-history and purge-history, that the client prints
 * what the gateway answers for the same hub. */
#include "base/str.h"
#include "base/time.h"
#include "storage/queue.h"
#include "storage/table.h"
#include "taskhub/hub.h"
#include "taskhub/keys.h"
#include "tests/support/azurite_env.h"
#include "tests/support/fixture.h"
#include "tests/support/hub_seed.h"
#include "tests/support/route_harness.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#define KEY      "cli-test-key-0123456789"
#define READ_KEY "cli-read-key-0123456789"

enum mode { STORAGE, GATEWAY };
static const char *const mode_name[] = {"storage", "gateway"};

static struct th t;
static pid_t gw = -1;
static int port;
static char gw_url[64];
static char dir[64]; /* the working directory of every run: no host.json unless a test writes one */

/* ---- the gateway ---- */

struct http {
    long status;
    dg_buf body;
    char token[4096];
};

static size_t on_body(char *p, size_t sz, size_t nm, void *u)
{
    struct http *r = u;
    return dg_buf_add(&r->body, p, sz * nm) == DG_OK ? sz * nm : 0;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *u)
{
    struct http *r = u;
    size_t n = sz * nm;
    if (n > 24 && strncasecmp(p, "x-ms-continuation-token:", 24) == 0) {
        dg_str v = dg_str_trim((dg_str){p + 24, n - 24});
        snprintf(r->token, sizeof r->token, "%.*s", (int) v.n, v.p);
    }
    return n;
}

/* One request to the gateway with the system key; the body freed by the caller (dg_buf_free). */
static struct http http(const char *method, const char *path_query, const char *token)
{
    struct http r = {0};
    dg_buf_init(&r.body, 64u << 20);
    CURL *h = curl_easy_init();
    char url[4096];
    snprintf(url, sizeof url, "%s%s", gw_url, path_query);
    struct curl_slist *hd = curl_slist_append(NULL, "x-functions-key: " KEY);
    char tk[4200];
    if (token) {
        snprintf(tk, sizeof tk, "x-ms-continuation-token: %s", token);
        hd = curl_slist_append(hd, tk);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return r;
}

static cJSON *http_json(const char *method, const char *path_query, const char *token, long want, char *next,
                        size_t nextlen)
{
    struct http r = http(method, path_query, token);
    cr_assert_eq(r.status, want, "%s %s: %ld %s", method, path_query, r.status, dg_buf_str(&r.body));
    cJSON *j = cJSON_Parse(dg_buf_str(&r.body));
    cr_assert_not_null(j, "%s %s: not JSON: %s", method, path_query, dg_buf_str(&r.body));
    dg_arena_defer(t.a, (void (*)(void *)) cJSON_Delete, j);
    if (next)
        snprintf(next, nextlen, "%s", r.token);
    dg_buf_free(&r.body);
    return j;
}

static void start_gateway(void)
{
    port = test_free_port();
    snprintf(gw_url, sizeof gw_url, "http://127.0.0.1:%d", port);
    char keyfile[128], portstr[16];
    snprintf(keyfile, sizeof keyfile, "%s/keys.json", dir);
    FILE *f = fopen(keyfile, "w");
    fprintf(f, "{\"systemKeys\":{\"durabletask_extension\":\"%s\"},\"readOnlyKeys\":[\"%s\"]}", KEY,
            READ_KEY);
    fclose(f);
    snprintf(portstr, sizeof portstr, "%d", port);
    /* Purge pages of a second, as the client's own straight to storage. */
    char *argv[] = {(char *) DG_GATEWAY_BIN, "--port", portstr,       "--key-file", keyfile,
                    "--purge-budget-ms",     "1000",   "--log-level", "warn",       NULL};
    gw = fork();
    cr_assert_neq(gw, -1);
    if (gw == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a test killed at its timeout takes its gateway along */
        setenv("AzureWebJobsStorage", getenv("AZURITE_CONNECTION_STRING"), 1);
        char log[128];
        snprintf(log, sizeof log, "%s/gateway.log", dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(DG_GATEWAY_BIN, argv);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        struct http r = http("GET", "/healthz", NULL);
        dg_buf_free(&r.body);
        if (r.status == 200)
            return;
        usleep(25000);
    }
    cr_assert_fail("the gateway did not come up");
}

static const char *slurp(const char *path);

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    th_init(&t);
    snprintf(dir, sizeof dir, "/tmp/dg-cli-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    start_gateway();
}

static void teardown(void)
{
    if (gw > 0) {
        /* The gateway stops cleanly: exit 0, no sanitizer report (its log is in dir until now). */
        kill(gw, SIGTERM);
        int st;
        waitpid(gw, &st, 0);
        char log[128];
        snprintf(log, sizeof log, "%s/gateway.log", dir);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the gateway's exit after SIGTERM: %d; its log:\n%s",
                  st, slurp(log));
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    th_fini(&t);
    curl_global_cleanup();
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 240);

/* ---- running the client ---- */

struct run {
    int rc;
    const char *out, *err;
};

#define MAX_ARGS 40

struct spec {
    enum mode mode;
    bool no_hub;            /* leave --task-hub-name out */
    bool no_storage;        /* AzureWebJobsStorage unset */
    const char *stdin_text; /* NULL: /dev/null */
    const char *const *env; /* more NAME=VALUE, NULL-terminated */
    const char *key;        /* gateway mode: the key to give; NULL: KEY */
    const char *args[MAX_ARGS];
};

static const char *slurp(const char *path)
{
    char *data;
    size_t n;
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = dg_arena_alloc(t.a, (size_t) len + 1);
    n = fread(data, 1, (size_t) len, f);
    data[n] = '\0';
    fclose(f);
    return data;
}

/* The argument vector: the command's own, then the hub and the mode's flags. */
static char **argv_of(const struct spec *s)
{
    char **argv = dg_arena_zalloc(t.a, (MAX_ARGS + 8) * sizeof *argv);
    size_t n = 0;
    argv[n++] = (char *) DG_DURABLE_BIN;
    for (size_t i = 0; i < MAX_ARGS && s->args[i]; i++)
        argv[n++] = (char *) s->args[i];
    if (!s->no_hub) {
        argv[n++] = "--task-hub-name";
        argv[n++] = (char *) t.hub;
    }
    if (s->mode == GATEWAY) {
        argv[n++] = "--gateway";
        argv[n++] = gw_url;
        argv[n++] = "--key";
        argv[n++] = (char *) (s->key ? s->key : KEY);
    }
    return argv;
}

/* In the child: only the environment the spec gives, and the test's directory. */
static void child_env(const struct spec *s)
{
    char *cs = strdup(getenv("AZURITE_CONNECTION_STRING"));
    clearenv();
    setenv("PATH", "/usr/bin:/bin", 1);
    if (!s->no_storage)
        setenv("AzureWebJobsStorage", cs, 1);
    for (const char *const *e = s->env; e && *e; e++)
        putenv((char *) *e);
    if (chdir(dir) != 0)
        _exit(126);
}

static struct run run(const struct spec *s)
{
    char out[128], err[128], in[128];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(err, sizeof err, "%s/err", dir);
    snprintf(in, sizeof in, "%s/in", dir);
    FILE *f = fopen(in, "w");
    fputs(s->stdin_text ? s->stdin_text : "", f);
    fclose(f);
    char **argv = argv_of(s);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int fi = open(in, O_RDONLY), fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600),
            fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fi, STDIN_FILENO);
        dup2(fo, STDOUT_FILENO);
        dup2(fe, STDERR_FILENO);
        child_env(s);
        execv(DG_DURABLE_BIN, argv);
        _exit(127);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    struct run r = {.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)};
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

#define RUN(m, ...) run(&(struct spec){.mode = (m), .args = {__VA_ARGS__, NULL}})

static size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Exit 0 and stdout one JSON value (compact: stdout is no terminal). */
static cJSON *json_ok(const struct run *r, const char *what)
{
    cr_assert_eq(r->rc, 0, "%s: exit %d, stderr: %s", what, r->rc, r->err);
    cr_assert_eq(lines(r->out), 1, "%s: stdout is not one line: %s", what, r->out);
    cJSON *j = cJSON_Parse(r->out);
    cr_assert_not_null(j, "%s: stdout is not JSON: %s", what, r->out);
    dg_arena_defer(t.a, (void (*)(void *)) cJSON_Delete, j);
    return j;
}

/* The exit status, nothing on stdout and exactly one line on stderr holding text. */
static void one_line(const struct run *r, int rc, const char *text, const char *what)
{
    cr_assert_eq(r->rc, rc, "%s: exit %d (want %d), stderr: %s", what, r->rc, rc, r->err);
    cr_assert_str_empty(r->out, "%s: stdout: %s", what, r->out);
    cr_assert_eq(lines(r->err), 1, "%s: stderr is not one line: %s", what, r->err);
    cr_assert(strstr(r->err, text), "%s: stderr lacks '%s': %s", what, text, r->err);
    cr_assert(strncmp(r->err, "durable: ", 9) == 0, "%s: %s", what, r->err);
}

static void same_json(const cJSON *got, const cJSON *want, const char *what)
{
    if (!cJSON_Compare(got, want, true)) {
        char *g = cJSON_PrintUnformatted(got), *w = cJSON_PrintUnformatted(want);
        cr_assert_fail("%s:\n client  %s\n gateway %s", what, g, w);
    }
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void seed_at(const char *id, const char *name, const char *status, const char *created,
                    const char *input, const char *output)
{
    struct seed_instance si = {id, name, status, created, input, output};
    seed_instance(t.c, t.a, t.hub, &si);
}

static const char *api(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *api(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *rest = dg_arena_vprintf(t.a, fmt, ap);
    va_end(ap);
    return dg_arena_printf(t.a, "/runtime/webhooks/durabletask/%s%staskHub=%s", rest,
                           strchr(rest, '?') ? "&" : "?", t.hub);
}

/* ---- start-new ---- */

Test(cli, start_new_both_modes)
{
    for (int m = STORAGE; m <= GATEWAY; m++) {
        const char *id = dg_arena_printf(t.a, "start-%s", mode_name[m]);
        struct run r = RUN(m, "start-new", "--function-name", "E1_HelloSequence", "--input",
                           "{\"city\":\"Tokyo\"}", "--id", id);
        cJSON *j = json_ok(&r, mode_name[m]);
        cr_assert_str_eq(str(j, "id"), id);
        if (m == STORAGE)
            cr_assert_eq(cJSON_GetArraySize(j), 1, "straight to storage there are no links: %s", r.out);
        else
            cr_assert(str(j, "statusQueryGetUri") && strstr(str(j, "statusQueryGetUri"), gw_url), "%s",
                      r.out);
        cr_assert_eq(lines(r.err), 1);
        cr_assert(strstr(r.err, "Started 'E1_HelloSequence' as instance"), "%s", r.err);
        /* What landed: a Pending row with the input, and ExecutionStarted on the instance's control queue. */
        az_ctx x;
        az_ctx_init(&x, t.a);
        struct hub_instance in;
        cr_assert_eq(hub_instance_get(t.c, &x, t.hub, id, HUB_GET_INPUT, &in), DG_OK);
        cr_assert_str_eq(in.runtime_status, "Pending");
        cr_assert_str_eq(in.input, "{\"city\":\"Tokyo\"}");
        cJSON *msg = th_take_message(&t, id, 4);
        cJSON *ev = cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "TaskMessage"), "Event");
        cr_assert_eq(cJSON_GetObjectItem(ev, "EventType")->valueint, 0, "ExecutionStarted");

        /* Again: a duplicate of an active instance, exit 1 and why. */
        r = RUN(m, "start-new", "--function-name", "E1_HelloSequence", "--id", id);
        one_line(&r, 1, "already exists", "duplicate");
    }
}

Test(cli, start_new_input_file_and_generated_id)
{
    char path[128];
    snprintf(path, sizeof path, "%s/input.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\n  \"items\": [1, 2, 3],\n  \"name\": \"caf\xc3\xa9\"\n}\n", f);
    fclose(f);
    for (int m = STORAGE; m <= GATEWAY; m++) {
        struct run r = RUN(m, "start-new", "--function-name", "Batch", "--input", "@input.json");
        const char *id = str(json_ok(&r, mode_name[m]), "id");
        cr_assert_eq(strlen(id), 32, "a new GUID in N form: %s", id);
        az_ctx x;
        az_ctx_init(&x, t.a);
        struct hub_instance in;
        cr_assert_eq(hub_instance_get(t.c, &x, t.hub, id, HUB_GET_INPUT, &in), DG_OK);
        cr_assert_str_eq(in.input, "{\"items\":[1,2,3],\"name\":\"caf\xc3\xa9\"}");
    }
}

/* ---- get-runtime-status and get-history, against the gateway's answers ---- */

Test(cli, get_runtime_status_matches_the_gateway)
{
    th_make_instances_table(&t);
    seed_at("s1", "E1_HelloSequence", "Completed", NULL, "\"Tokyo\"", "[\"Hello Tokyo!\"]");
    seed_at("s/2 x", "E1_HelloSequence", "Running", NULL, "{\"a\":1}", NULL);
    const char *ids[] = {"s1", "s/2 x"};
    const char *url_ids[] = {"s1", "s%2F2%20x"};
    for (size_t i = 0; i < 2; i++) {
        cJSON *want = http_json("GET", api("instances/%s", url_ids[i]), NULL, i == 0 ? 200 : 202, NULL, 0);
        for (int m = STORAGE; m <= GATEWAY; m++) {
            struct run r =
                RUN(m, "get-runtime-status", "--id", ids[i], "--show-input", "true", "--show-output", "true");
            same_json(json_ok(&r, mode_name[m]), want,
                      "get-runtime-status --show-input true --show-output true");
            /* Core Tools' defaults: no input, no output, the same fields. */
            r = RUN(m, "get-runtime-status", "--id", ids[i]);
            cJSON *j = json_ok(&r, mode_name[m]);
            cr_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "input")) &&
                      cJSON_IsNull(cJSON_GetObjectItem(j, "output")));
            cJSON *w = cJSON_Duplicate(want, true);
            cJSON_ReplaceItemInObject(w, "input", cJSON_CreateNull());
            cJSON_ReplaceItemInObject(w, "output", cJSON_CreateNull());
            same_json(j, w, "get-runtime-status");
            cJSON_Delete(w);
            /* --show-input alone means true. */
            r = RUN(m, "get-runtime-status", "--show-input", "--id", ids[i]);
            same_json(cJSON_GetObjectItem(json_ok(&r, mode_name[m]), "input"),
                      cJSON_GetObjectItem(want, "input"), "--show-input alone");
        }
    }
    for (int m = STORAGE; m <= GATEWAY; m++) {
        struct run r = RUN(m, "get-runtime-status", "--id", "nobody");
        one_line(&r, 1, "no instance 'nobody'", mode_name[m]);
    }
}

Test(cli, get_history_matches_the_gateway)
{
    th_make_instances_table(&t);
    seed_at("h1", "E1_HelloSequence", "Completed", NULL, "\"Tokyo\"", "[\"Hello\"]");
    seed_history(t.c, t.a, t.hub, "h1", 6);
    cJSON *want = cJSON_GetObjectItem(
        http_json("GET", api("instances/h1?showHistory=true&showHistoryOutput=true"), NULL, 200, NULL, 0),
        "historyEvents");
    cr_assert_gt(cJSON_GetArraySize(want), 2, "%s", cJSON_PrintUnformatted(want));
    seed_at("h2", "E1_HelloSequence", "Pending", NULL, NULL, NULL);
    for (int m = STORAGE; m <= GATEWAY; m++) {
        struct run r = RUN(m, "get-history", "--id", "h1");
        same_json(json_ok(&r, mode_name[m]), want, "get-history");
        r = RUN(m, "get-history", "--id", "h2");
        cr_assert_str_eq(r.out, "[]\n", "a Pending instance has no history to show");
        r = RUN(m, "get-history", "--id", "nobody");
        one_line(&r, 1, "no instance 'nobody'", mode_name[m]);
    }
}

/* ---- get-instances ---- */

/* Every instance the gateway lists for the query, following its continuation tokens. */
static cJSON *gateway_list(const char *query)
{
    cJSON *all = cJSON_CreateArray();
    dg_arena_defer(t.a, (void (*)(void *)) cJSON_Delete, all);
    char token[4096] = "";
    do {
        cJSON *page =
            http_json("GET", api("instances?%s", query), *token ? token : NULL, 200, token, sizeof token);
        cJSON *it;
        while ((it = cJSON_DetachItemFromArray(page, 0)) != NULL)
            cJSON_AddItemToArray(all, it);
    } while (*token);
    return all;
}

static void seed_list(void)
{
    th_make_instances_table(&t);
    static const char *const statuses[] = {"Completed", "Running", "Failed", "Pending", "Terminated"};
    for (int i = 0; i < 25; i++) {
        const char *id = dg_arena_printf(t.a, "%s-%02d", i < 12 ? "order" : "batch", i);
        const char *created = dg_arena_printf(t.a, "2024-05-%02dT10:00:00.5Z", 1 + i);
        seed_at(id, i % 2 ? "E1_HelloSequence" : "Batch", statuses[i % 5], created, "\"in\"",
                i % 5 == 0 ? "\"out\"" : NULL);
    }
}

Test(cli, get_instances_all_matches_the_gateway)
{
    seed_list();
    struct {
        const char *query;
        const char *args[10];
        int count;
    } cases[] = {
        {"top=1000", {NULL}, 25},
        {"top=1000&runtimeStatus=Completed,Failed", {"--runtime-status", "completed", "Failed", NULL}, 10},
        {"top=1000&runtimeStatus=Running,Pending", {"--runtime-status", "Running Pending", NULL}, 10},
        {"top=1000&createdTimeFrom=2024-05-05T00:00:00Z&createdTimeTo=2024-05-10T10:00:00.5Z",
         {"--created-after", "2024-05-05", "--created-before", "2024-05-10T12:00:00.5+02:00", NULL},
         6},
        {"top=1000&name=Batch", {"--name", "Batch", NULL}, 13},
        {"top=1000&instanceIdPrefix=batch", {"--instance-id-prefix", "batch", NULL}, 13},
        {"top=1000&showInput=false", {"--show-input", "false", NULL}, 25},
        {"top=1000&runtimeStatus=Completed&name=Batch",
         {"--runtime-status", "Completed", "--name", "Batch", NULL},
         3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        cJSON *want = gateway_list(cases[k].query);
        cr_assert_eq(cJSON_GetArraySize(want), cases[k].count, "%s: %d", cases[k].query,
                     cJSON_GetArraySize(want));
        for (int m = STORAGE; m <= GATEWAY; m++) {
            for (int page3 = 0; page3 < 2; page3++) {
                struct spec s = {.mode = m, .args = {"get-instances", "--all"}};
                size_t n = 2;
                if (page3) {
                    s.args[n++] = "--top";
                    s.args[n++] = "3";
                }
                for (size_t i = 0; cases[k].args[i]; i++)
                    s.args[n++] = cases[k].args[i];
                struct run r = run(&s);
                same_json(json_ok(&r, cases[k].query), want, cases[k].query);
                cr_assert_str_empty(r.err, "no progress line when stderr is no terminal: %s", r.err);
            }
        }
    }
}

Test(cli, get_instances_pages_of_ten_and_the_token)
{
    seed_list();
    cJSON *want = gateway_list("top=1000");
    for (int m = STORAGE; m <= GATEWAY; m++) {
        cJSON *got = cJSON_CreateArray();
        const char *token = NULL;
        int pages = 0;
        do {
            struct spec s = {.mode = m,
                             .args = {"get-instances", token ? "--continuation-token" : NULL, token}};
            struct run r = run(&s);
            cJSON *page = json_ok(&r, mode_name[m]);
            cr_assert_leq(cJSON_GetArraySize(page), 10, "Core Tools' default page is 10");
            cJSON *it;
            while ((it = cJSON_DetachItemFromArray(page, 0)) != NULL)
                cJSON_AddItemToArray(got, it);
            const char *p = strstr(r.err, "--continuation-token ");
            token = p ? dg_arena_strndup(t.a, p + 21, strcspn(p + 21, "\n")) : NULL;
            cr_assert_eq(lines(r.err), token ? 1 : 0, "%s", r.err);
            pages++;
        } while (token && pages < 10);
        cr_assert_eq(pages, 3);
        same_json(got, want, "get-instances page by page");
        cJSON_Delete(got);
    }
    /* A token one mode printed works in the other: the format is the gateway's. */
    struct run r = RUN(STORAGE, "get-instances", "--top", "20");
    const char *p = strstr(r.err, "--continuation-token ");
    cr_assert_not_null(p, "%s", r.err);
    const char *token = dg_arena_strndup(t.a, p + 21, strcspn(p + 21, "\n"));
    r = RUN(GATEWAY, "get-instances", "--continuation-token", token);
    cr_assert_eq(cJSON_GetArraySize(json_ok(&r, "token across modes")), 5);
    r = RUN(GATEWAY, "get-instances", "--continuation-token", "%%%");
    one_line(&r, 2, "continuation token is not valid", "bad token");
    r = RUN(STORAGE, "get-instances", "--continuation-token", "%%%");
    one_line(&r, 2, "continuation token is not valid", "bad token");
}

/* ---- terminate, suspend, resume, raise-event, rewind ---- */

static int event_type(const char *id)
{
    cJSON *msg = th_take_message(&t, id, 4);
    return cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "TaskMessage"), "Event"),
                               "EventType")
        ->valueint;
}

Test(cli, messages_to_running_instances)
{
    /* A hub made by a start (so it has its 4 control queues), then a Running row. */
    struct run r = RUN(STORAGE, "start-new", "--function-name", "WaitForEvent", "--id", "w1");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    (void) th_take_message(&t, "w1", 4);
    seed_at("w1", "WaitForEvent", "Running", NULL, NULL, NULL);
    seed_at("done", "WaitForEvent", "Completed", NULL, NULL, "1");
    for (int m = STORAGE; m <= GATEWAY; m++) {
        r = RUN(m, "raise-event", "--id", "w1", "--event-name", "Approval", "--event-data", "{\"ok\":true}");
        cr_assert_eq(r.rc, 0, "%s", r.err);
        cr_assert_str_empty(r.out);
        cr_assert_str_eq(r.err, "Raised event 'Approval' to instance 'w1'.\n");
        cJSON *msg = th_take_message(&t, "w1", 4);
        cJSON *ev = cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "TaskMessage"), "Event");
        cr_assert_eq(cJSON_GetObjectItem(ev, "EventType")->valueint, 15);
        cr_assert_str_eq(str(ev, "Name"), "Approval");
        cr_assert_str_eq(str(ev, "Input"), "{\"ok\":true}");

        r = RUN(m, "raise-event", "--id", "w1", "--event-name", "NoData");
        cr_assert_eq(r.rc, 0, "%s", r.err);
        cr_assert_str_eq(str(cJSON_GetObjectItem(
                                 cJSON_GetObjectItem(th_take_message(&t, "w1", 4), "TaskMessage"), "Event"),
                             "Input"),
                         "null");

        r = RUN(m, "suspend", "--id", "w1", "--reason", "maintenance");
        cr_assert_eq(r.rc, 0, "%s", r.err);
        cr_assert_str_eq(r.err, "Sent a suspend request to instance 'w1'.\n");
        cr_assert_eq(event_type("w1"), 19);
        r = RUN(m, "resume", "--id", "w1");
        one_line(&r, 1, "because instance is in the Running state", "resume of a running instance");
        seed_at("w1", "WaitForEvent", "Suspended", NULL, NULL, NULL);
        r = RUN(m, "resume", "--id", "w1", "--reason", "done");
        cr_assert_eq(r.rc, 0, "%s", r.err);
        cr_assert_eq(event_type("w1"), 20);
        seed_at("w1", "WaitForEvent", "Running", NULL, NULL, NULL);
        r = RUN(m, "terminate", "--id", "w1", "--reason", "cancelled by the customer");
        cr_assert_eq(r.rc, 0, "%s", r.err);
        cr_assert_str_eq(r.err, "Sent a termination request to instance 'w1'.\n");
        msg = th_take_message(&t, "w1", 4);
        ev = cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "TaskMessage"), "Event");
        cr_assert_eq(cJSON_GetObjectItem(ev, "EventType")->valueint, 3);
        cr_assert_str_eq(str(ev, "Input"), "cancelled by the customer");

        /* Finished, missing: exit 1 and nothing sent. */
        const char *const ops[] = {"terminate", "suspend", "resume"};
        for (size_t i = 0; i < 3; i++) {
            r = RUN(m, ops[i], "--id", "done");
            one_line(&r, 1, "instance 'done' has already finished", ops[i]);
            r = RUN(m, ops[i], "--id", "nobody");
            one_line(&r, 1, "no instance 'nobody'", ops[i]);
        }
        r = RUN(m, "raise-event", "--id", "done", "--event-name", "Late");
        one_line(&r, 1, "has already finished", "raise to a finished instance");
        r = RUN(m, "raise-event", "--id", "nobody", "--event-name", "E");
        one_line(&r, 1, "no instance 'nobody'", "raise to nobody");
        th_assert_no_message(&t, "done", 4);
        th_assert_no_message(&t, "w1", 4);
    }
}

Test(cli, rewind_a_failed_instance)
{
    az_ctx x;
    az_ctx_init(&x, t.a);
    struct run r = RUN(STORAGE, "start-new", "--function-name", "FailOnce", "--id", "made");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    (void) th_take_message(&t, "made", 4);
    struct fixture fx = fixture_load(t.a, DG_FIXTURE_DIR "/rewind_failonce.jsonl");
    for (int m = STORAGE; m <= GATEWAY; m++) {
        fixture_seed(t.c, t.a, t.hub, &fx, NULL); /* f1, Failed, as the worker left it */
        r = RUN(m, "rewind", "--id", "f1", "--reason", "the bug is fixed");
        cr_assert_eq(r.rc, 0, "%s", r.err);
        cr_assert_str_eq(r.err, "Sent a rewind request to instance 'f1'.\n");
        struct hub_instance in;
        cr_assert_eq(hub_instance_get(t.c, &x, t.hub, "f1", 0, &in), DG_OK);
        cr_assert_str_eq(in.runtime_status, "Pending");
        cJSON *ev =
            cJSON_GetObjectItem(cJSON_GetObjectItem(th_take_message(&t, "f1", 4), "TaskMessage"), "Event");
        cr_assert_eq(cJSON_GetObjectItem(ev, "EventType")->valueint, 17, "GenericEvent");
        cr_assert_str_eq(str(ev, "Data"), "the bug is fixed");
        r = RUN(m, "rewind", "--id", "made");
        one_line(&r, 1, "", "rewind of a Pending instance with no history");
        seed_at("c1", "FailOnce", "Completed", NULL, NULL, NULL);
        r = RUN(m, "rewind", "--id", "c1");
        one_line(&r, 1, "only orchestrations in the \"Failed\" state can be rewound", "rewind of Completed");
        r = RUN(m, "rewind", "--id", "nobody");
        one_line(&r, 1, "no instance 'nobody'", "rewind of nobody");
    }
}

/* ---- purge-history ---- */

static void seed_purgeable(const char *hub, int n, int events)
{
    az_ctx x;
    az_ctx_init(&x, t.a);
    az_table_create(t.c, &x, dg_arena_printf(t.a, "%sInstances", hub));
    for (int i = 0; i < n; i++) {
        const char *id = dg_arena_printf(t.a, "p%04d", i);
        const char *status = i % 10 == 7 ? "Running" : i % 10 == 8 ? "Failed" : "Completed";
        struct seed_instance si = {
            id, NULL, status, i % 2 ? "2024-05-01T10:00:00Z" : "2024-06-01T10:00:00Z", "\"in\"", "\"out\""};
        seed_instance(t.c, t.a, hub, &si);
        if (events)
            seed_history(t.c, t.a, hub, id, events);
    }
}

static cJSON *ids_left(const char *hub)
{
    const char *saved = t.hub;
    t.hub = hub;
    cJSON *all = gateway_list("top=1000&showInput=false");
    t.hub = saved;
    cJSON *ids = cJSON_CreateArray();
    dg_arena_defer(t.a, (void (*)(void *)) cJSON_Delete, ids);
    const cJSON *it;
    cJSON_ArrayForEach(it, all) cJSON_AddItemToArray(ids, cJSON_CreateString(str(it, "instanceId")));
    return ids;
}

Test(cli, purge_history_matches_the_gateway)
{
    /* The same rows in three hubs: one purged through the gateway's API, one by each mode. */
    const char *hubs[3] = {t.hub, test_unique_name(t.a, "PurgeA"), test_unique_name(t.a, "PurgeB")};
    for (int h = 0; h < 3; h++)
        seed_purgeable(hubs[h], 40, 3);
    /* The gateway's DELETE, page after page: Completed and Failed created in May. */
    size_t want = 0;
    char token[4096] = "";
    do {
        cJSON *j =
            http_json("DELETE",
                      api("instances?createdTimeFrom=2024-05-01T00:00:00Z&createdTimeTo=2024-05-31T00:00:00Z"
                          "&runtimeStatus=Completed,Failed"),
                      *token ? token : NULL, 200, token, sizeof token);
        want += (size_t) cJSON_GetObjectItem(j, "instancesDeleted")->valueint;
    } while (*token);
    cr_assert_gt(want, 0);
    cJSON *left = ids_left(t.hub);
    for (int m = STORAGE; m <= GATEWAY; m++) {
        struct spec s = {.mode = m,
                         .no_hub = true,
                         .args = {"purge-history", "--created-after", "2024-05-01", "--created-before",
                                  "2024-05-31", "--runtime-status", "Completed", "Failed", "--task-hub-name",
                                  hubs[1 + m]}};
        struct run r = run(&s);
        cJSON *j = json_ok(&r, mode_name[m]);
        cr_assert_eq(cJSON_GetObjectItem(j, "instancesDeleted")->valueint, (int) want, "%s", r.out);
        cr_assert(strstr(r.err, dg_arena_printf(t.a, "Purged %zu instances from task hub", want)), "%s",
                  r.err);
        same_json(ids_left(hubs[1 + m]), left, "the instances left");
        /* Their history went too; what is left kept all of it. */
        cr_assert_eq(count_history(t.c, t.a, hubs[1 + m], "p0001"), 0);
        cr_assert_eq(count_history(t.c, t.a, hubs[1 + m], "p0000"), 4);
        /* Nothing left to purge: 0, exit 0. */
        r = run(&s);
        cr_assert_eq(cJSON_GetObjectItem(json_ok(&r, "again"), "instancesDeleted")->valueint, 0);
    }
}

Test(cli, purge_history_every_status_by_default)
{
    seed_purgeable(t.hub, 20, 0);
    for (int m = STORAGE; m <= GATEWAY; m++) {
        if (m == GATEWAY)
            seed_purgeable(t.hub, 20, 0);
        struct run r = RUN(m, "purge-history");
        /* As Core Tools: no --runtime-status is every status, Running included (docs/storage-layout.md §8.6).
         */
        cr_assert_eq(cJSON_GetObjectItem(json_ok(&r, mode_name[m]), "instancesDeleted")->valueint, 20, "%s",
                     r.out);
        cr_assert_eq(cJSON_GetArraySize(ids_left(t.hub)), 0);
    }
}

/* ---- a terminal: progress lines, Ctrl-C, confirmation ---- */

struct tty_run {
    int rc;
    const char *text; /* everything the client wrote to the terminal */
};

/* Runs the client on a pseudo-terminal (stdin, stdout and stderr). When
 * `when` shows up in the output, sends SIGINT (interrupt) or writes answer. */
static struct tty_run run_tty(const struct spec *s, const char *when, bool interrupt, const char *answer)
{
    char **argv = argv_of(s);
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        child_env(s);
        execv(DG_DURABLE_BIN, argv);
        _exit(127);
    }
    dg_buf out;
    dg_buf_init(&out, 16u << 20);
    bool fired = false;
    for (;;) {
        struct pollfd p = {.fd = master, .events = POLLIN};
        int pr = poll(&p, 1, 60000);
        cr_assert_gt(pr, 0, "the client went quiet for a minute: %s", dg_buf_str(&out));
        char buf[4096];
        ssize_t n = read(master, buf, sizeof buf);
        if (n <= 0)
            break; /* EIO once the child is gone */
        dg_buf_add(&out, buf, (size_t) n);
        if (when && !fired && strstr(dg_buf_str(&out), when)) {
            fired = true;
            if (interrupt)
                kill(pid, SIGINT);
            else
                cr_assert_eq(write(master, answer, strlen(answer)), (ssize_t) strlen(answer));
        }
    }
    int st;
    waitpid(pid, &st, 0);
    close(master);
    struct tty_run r = {.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
                        .text = dg_arena_strdup(t.a, dg_buf_str(&out))};
    dg_buf_free(&out);
    cr_assert(!when || fired, "'%s' never showed: %s", when, r.text);
    return r;
}

Test(cli, progress_on_a_terminal_only)
{
    seed_list();
    for (int m = STORAGE; m <= GATEWAY; m++) {
        struct spec s = {.mode = m, .args = {"get-instances", "--all", "--top", "4"}};
        struct tty_run r = run_tty(&s, NULL, false, NULL);
        cr_assert_eq(r.rc, 0, "%s", r.text);
        cr_assert(strstr(r.text, "\rlisted 4 instances ("), "%s", r.text);
        cr_assert(strstr(r.text, "\rlisted 24 instances ("), "%s", r.text);
        cr_assert(strstr(r.text, "/s)\033[K"), "%s", r.text);
        cr_assert(strstr(r.text, "[{\r\n    \"name\": "), "indented JSON on a terminal: %s", r.text);
        cr_assert(strstr(r.text, "\"instanceId\": \"batch-12\""), "%s", r.text);
    }
}

static int deleted_in(const char *text)
{
    const char *p = strstr(text, "\"instancesDeleted\": ");
    cr_assert_not_null(p, "%s", text);
    return atoi(p + 20);
}

Test(cli, purge_interrupted_leaves_no_instance_half_purged)
{
    /* Enough for more than the two pages of about a second each (the one
     * that shows the line, the one in progress at the signal) to do. */
    enum {
        N = 4000,
        EVENTS = 3
    }; /* pages of up to 1,000: the one shown and the one in progress leave more */
    for (int m = STORAGE; m <= GATEWAY; m++) {
        seed_purgeable(t.hub, N, EVENTS);
        /* Ctrl-C once the first page has shown its progress line. */
        struct spec s = {.mode = m, .args = {"purge-history", "--runtime-status", "Completed"}};
        struct tty_run r = run_tty(&s, "\rpurged ", true, NULL);
        cr_assert_eq(r.rc, 130, "%s", r.text);
        cr_assert(strstr(r.text, "stopping after the instances in progress"), "%s", r.text);
        cr_assert(strstr(r.text, "Interrupted: purged "), "%s", r.text);
        cr_assert(strstr(r.text, "run the same command again"), "%s", r.text);
        int done = deleted_in(r.text);
        const int completed = N - 2 * (N / 10);
        cr_assert(done > 0 && done < completed, "%d of %d", done, completed);
        /* Every instance is whole or gone: a row keeps all its history, no row means no history. */
        int gone = 0;
        for (int i = 0; i < N; i++) {
            const char *id = dg_arena_printf(t.a, "p%04d", i);
            bool row = instance_exists(t.c, t.a, t.hub, id);
            size_t hist = count_history(t.c, t.a, t.hub, id);
            cr_assert(row ? hist == EVENTS + 1 : hist == 0, "%s: row %d, %zu history rows", id, row, hist);
            gone += !row;
        }
        cr_assert_eq(gone, done);
        /* Again, to the end. */
        struct run again = run(&s);
        cr_assert_eq(cJSON_GetObjectItem(json_ok(&again, "again"), "instancesDeleted")->valueint,
                     completed - done, "%s", again.err);
    }
}

Test(cli, delete_task_hub)
{
    for (int m = STORAGE; m <= GATEWAY; m++) {
        struct run r = RUN(m, "start-new", "--function-name", "E1_HelloSequence", "--id", "x");
        cr_assert_eq(r.rc, 0, "%s", r.err);
        /* On a terminal it asks; anything but y keeps the hub. */
        struct spec s = {.mode = m, .args = {"delete-task-hub"}};
        struct tty_run tr = run_tty(&s, "[y/N] ", false, "n\n");
        cr_assert_eq(tr.rc, 1, "%s", tr.text);
        cr_assert(strstr(tr.text, "nothing deleted"), "%s", tr.text);
        cr_assert(instance_exists(t.c, t.a, t.hub, "x"));
        tr = run_tty(&s, "[y/N] ", false, "y\n");
        cr_assert_eq(tr.rc, 0, "%s", tr.text);
        cr_assert(strstr(tr.text, "Deleted task hub"), "%s", tr.text);
        az_ctx x;
        az_ctx_init(&x, t.a);
        struct az_query q = {.top = 1};
        struct az_page pg;
        cr_assert_eq(az_table_query(t.c, &x, dg_arena_printf(t.a, "%sInstances", t.hub), &q, &pg),
                     DG_ENOTFOUND);
        /* Not on a terminal (a script): no question, as Core Tools; --yes too. */
        r = RUN(m, "start-new", "--function-name", "E1_HelloSequence", "--id", "x");
        cr_assert_eq(r.rc, 0, "%s", r.err);
        r = RUN(m, "delete-task-hub");
        cJSON *j = json_ok(&r, mode_name[m]);
        cr_assert_str_eq(str(j, "taskHub"), t.hub);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "deleted")), 4 + 1 + 3 + 1, "%s", r.out);
        r = RUN(m, "delete-task-hub", "--yes");
        one_line(&r, 1, "has nothing to delete", "a hub that is gone");
    }
}

/* ---- bad input: one line, exit 2, nothing sent ---- */

Test(cli, bad_input_is_one_line_and_exit_2)
{
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    FILE *f = fopen(bad, "w");
    fputs("{\"a\": 1,\n \"b\": }\n", f);
    fclose(f);
    struct {
        const char *args[8];
        const char *text;
    } cases[] = {
        {{"get-instances", "--bogus"}, "unknown flag --bogus"},
        {{"get-runtime-status", "--top", "3", "--id", "x"}, "unknown flag --top"},
        {{"frobnicate"}, "unknown command 'frobnicate'"},
        {{"get-runtime-status"}, "--id is required"},
        {{"start-new", "--input", "{}"}, "--function-name is required"},
        {{"raise-event", "--id", "x"}, "--event-name is required"},
        {{"get-runtime-status", "--id"}, "--id needs a value"},
        {{"get-runtime-status", "--id", ""}, "--id cannot be empty"},
        {{"get-runtime-status", "--id", "a", "--id", "b"}, "--id given twice"},
        {{"get-runtime-status", "--id", "a", "stray"}, "unexpected argument 'stray'"},
        {{"get-runtime-status", "--id", "a", "--show-input", "maybe"}, "takes true or false"},
        {{"get-instances", "--created-after", "yesterday"}, "'yesterday' is not an ISO 8601 time"},
        {{"purge-history", "--created-before", "2024-13-01"}, "is not an ISO 8601 time"},
        {{"get-instances", "--created-after", "2024-06-01", "--created-before", "2024-05-01"},
         "is later than"},
        {{"get-instances", "--runtime-status", "Runing"}, "'Runing' is not a runtime status"},
        {{"get-instances", "--runtime-status"}, "--runtime-status needs at least one value"},
        {{"get-instances", "--top", "0"}, "--top: '0' is not a number from 1 to 1000"},
        {{"get-instances", "--top", "ten"}, "is not a number from 1 to 1000"},
        {{"purge-history", "--runtime-status", "Running"}, "finished statuses only"},
        {{"start-new", "--function-name", "F", "--input", "Tokyo"}, "--input: not valid JSON"},
        {{"start-new", "--function-name", "F", "--input", "@bad.json"},
         "'bad.json' is not valid JSON (line 2)"},
        {{"start-new", "--function-name", "F", "--input", "@missing.json"},
         "cannot read 'missing.json': No such file"},
        {{"raise-event", "--id", "w", "--event-name", "E", "--event-data", "{oops"},
         "--event-data: not valid JSON"},
        {{"start-new", "--function-name", "F", "--id", "a/b"}, "is not valid"},
        {{"start-new", "--function-name", "F", "--task-hub-name", "x-y"},
         "'x-y' is not a valid task hub name"},
    };
    for (int m = STORAGE; m <= GATEWAY; m++) {
        for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
            struct spec s = {.mode = m};
            memcpy(s.args, cases[k].args, sizeof cases[k].args);
            if (strcmp(cases[k].text, "'x-y' is not a valid task hub name") == 0)
                s.no_hub = true;
            struct run r = run(&s);
            one_line(&r, 2, cases[k].text, dg_arena_printf(t.a, "%s: %s", mode_name[m], cases[k].args[0]));
        }
    }
    /* Nothing was started, nothing sent: the hub was never even made. */
    struct az_query q = {.top = 1};
    struct az_page pg;
    az_ctx x;
    az_ctx_init(&x, t.a);
    cr_assert_eq(az_table_query(t.c, &x, dg_arena_printf(t.a, "%sInstances", t.hub), &q, &pg), DG_ENOTFOUND);

    /* A missing connection setting, straight to storage. */
    struct run r = run(&(struct spec){.mode = STORAGE, .no_storage = true, .args = {"get-instances"}});
    one_line(&r, 2, "no connection string: set the environment variable AzureWebJobsStorage", "no setting");
    r = run(
        &(struct spec){.mode = STORAGE, .args = {"get-instances", "--connection-string-setting", "Nope"}});
    one_line(&r, 2, "set the environment variable Nope", "a setting that is not there");
    static const char *const bad_cs[] = {"AzureWebJobsStorage=AccountName=x", NULL};
    r = run(&(struct spec){.mode = STORAGE, .no_storage = true, .env = bad_cs, .args = {"get-instances"}});
    one_line(&r, 2, "the connection string in AzureWebJobsStorage is not valid", "a bad connection string");
    r = run(&(struct spec){.mode = STORAGE, .args = {"get-instances", "--key", "k"}});
    one_line(&r, 2, "--key goes with --gateway", "a key without a gateway");
    r = run(&(struct spec){.mode = STORAGE, .args = {"get-instances", "--gateway", "ftp://x"}});
    one_line(&r, 2, "--gateway must be an http:// or https:// address", "a bad gateway address");
}

/* NAME=a connection string to a port nothing listens on. */
static const char *unreachable(const char *name, int closed)
{
    return dg_arena_printf(t.a,
                           "%s=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=%s;"
                           "TableEndpoint=http://127.0.0.1:%d/devstoreaccount1;"
                           "QueueEndpoint=http://127.0.0.1:%d/devstoreaccount1;"
                           "BlobEndpoint=http://127.0.0.1:%d/devstoreaccount1",
                           name, AZ_DEV_KEY, closed, closed, closed);
}

Test(cli, failed_operations_are_one_line_and_exit_1)
{
    /* Storage that does not answer. */
    int closed = test_free_port();
    const char *const env[] = {unreachable("AzureWebJobsStorage", closed), NULL};
    struct run r =
        run(&(struct spec){.mode = STORAGE, .no_storage = true, .env = env, .args = {"get-instances"}});
    one_line(&r, 1, "storage is unavailable", "storage down");
    /* A gateway that does not answer, a wrong key, a read-only key on a write. */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed);
    r = run(&(struct spec){.mode = STORAGE, .args = {"get-instances", "--gateway", url}});
    one_line(&r, 1, "no answer from the gateway at", "gateway down");
    r = run(&(struct spec){.mode = GATEWAY, .key = "wrong-key-0123456789", .args = {"get-instances"}});
    one_line(&r, 1, "the gateway refused the key (401)", "wrong key");
    r = run(&(struct spec){.mode = GATEWAY, .key = READ_KEY, .args = {"get-instances"}});
    cr_assert_eq(r.rc, 0, "a read-only key may list: %s", r.err);
    r = run(&(struct spec){.mode = GATEWAY, .key = READ_KEY, .args = {"terminate", "--id", "x"}});
    one_line(&r, 1, "(403)", "read-only key on a write");
    /* The key can come from the environment too. */
    static const char *const key_env[] = {"DURABLE_GATEWAY_KEY=" KEY, NULL};
    r = run(&(struct spec){.mode = STORAGE, .env = key_env, .args = {"get-instances", "--gateway", gw_url}});
    cr_assert_eq(r.rc, 0, "%s", r.err);
}

/* ---- settings as Core Tools reads them ---- */

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

Test(cli, host_json_and_local_settings)
{
    th_make_instances_table(&t);
    seed_at("hj", "E1_HelloSequence", "Completed", NULL, NULL, NULL);
    /* host.json names the hub (any case of hubName); local.settings.json holds the connection string. */
    write_file("host.json", dg_arena_printf(t.a,
                                            "{\"version\":\"2.0\",\"extensions\":{\"durableTask\":"
                                            "{\"HubName\":\"%s\"}}}",
                                            t.hub));
    write_file("local.settings.json",
               dg_arena_printf(t.a, "{\"IsEncrypted\":false,\"Values\":{\"azurewebjobsstorage\":\"%s\"}}",
                               getenv("AZURITE_CONNECTION_STRING")));
    struct run r = run(&(struct spec){
        .mode = STORAGE, .no_hub = true, .no_storage = true, .args = {"get-runtime-status", "--id", "hj"}});
    cr_assert_str_eq(str(json_ok(&r, "from the files"), "instanceId"), "hj");
    /* Through a gateway the hub comes from host.json too. */
    r = run(&(struct spec){.mode = GATEWAY, .no_hub = true, .args = {"get-runtime-status", "--id", "hj"}});
    cr_assert_str_eq(str(json_ok(&r, "gateway, hub from host.json"), "instanceId"), "hj");
    /* The environment wins over local.settings.json; --connection-string-setting picks another setting. */
    const char *const env[] = {unreachable("Other", test_free_port()), NULL};
    write_file("local.settings.json",
               dg_arena_printf(t.a, "{\"Values\":{\"Other\":\"%s\"}}", getenv("AZURITE_CONNECTION_STRING")));
    r = run(
        &(struct spec){.mode = STORAGE,
                       .no_hub = true,
                       .no_storage = true,
                       .args = {"get-runtime-status", "--id", "hj", "--connection-string-setting", "Other"}});
    cr_assert_eq(r.rc, 0, "%s", r.err);
    r = run(
        &(struct spec){.mode = STORAGE,
                       .no_hub = true,
                       .no_storage = true,
                       .env = env,
                       .args = {"get-runtime-status", "--id", "hj", "--connection-string-setting", "Other"}});
    one_line(&r, 1, "storage is unavailable", "the environment's (unreachable) storage wins");
    write_file("host.json", "{\"version\": \"2.0\",");
    r = run(&(struct spec){.mode = STORAGE, .no_hub = true, .args = {"get-instances"}});
    one_line(&r, 2, "host.json in the working directory is not a JSON object", "a broken host.json");
    write_file("host.json", "{\"version\":\"2.0\"}");
    write_file("local.settings.json", "{\"IsEncrypted\":true,\"Values\":{}}");
    r = run(&(struct spec){.mode = STORAGE, .no_hub = true, .no_storage = true, .args = {"get-instances"}});
    one_line(&r, 2, "local.settings.json is encrypted", "encrypted settings");
}

Test(cli, help_and_version)
{
    struct run r = run(&(struct spec){.no_hub = true, .args = {"--help"}});
    cr_assert_eq(r.rc, 0);
    static const char *const cmds[] = {
        "start-new", "get-runtime-status", "get-history",     "get-instances", "terminate", "raise-event",
        "rewind",    "purge-history",      "delete-task-hub", "suspend",       "resume"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        cr_assert(strstr(r.out, cmds[i]), "%s missing from --help", cmds[i]);
        struct run c = run(&(struct spec){.no_hub = true, .args = {cmds[i], "--help"}});
        cr_assert_eq(c.rc, 0);
        cr_assert(strstr(c.out, dg_arena_printf(t.a, "usage: durable %s", cmds[i])), "%s", c.out);
        cr_assert(strstr(c.out, "--task-hub-name") && strstr(c.out, "example:"), "%s", c.out);
        struct run h = run(&(struct spec){.no_hub = true, .args = {"help", cmds[i]}});
        cr_assert_str_eq(h.out, c.out);
    }
    r = run(&(struct spec){.no_hub = true, .args = {"--version"}});
    cr_assert_eq(r.rc, 0);
    cr_assert(strncmp(r.out, "durable ", 8) == 0, "%s", r.out);
    r = run(&(struct spec){.no_hub = true, .args = {NULL}});
    cr_assert_eq(r.rc, 2);
    cr_assert(strstr(r.err, "usage: durable COMMAND"), "%s", r.err);
}
