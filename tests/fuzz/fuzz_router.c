/* libFuzzer target: a whole request through the router (rt_dispatch,
 * routes/router.c): base path and path split, percent-decoding, query
 * parsing, the key, route matching, the edge checks and then the handler.
 * Storage is a closed loopback port (127.0.0.1:1) with one attempt per call,
 * so a request that gets as far as storage is refused at once, never waits.
 *
 * The input is a request as text:
 *     METHOD TARGET\n
 *     Name: value\n        (headers, up to a blank line)
 *     \n
 *     body
 * Checked on every answer: a status in 100..599 and never 500 or 502, at most the headers a
 * response holds, header values a client can take as they are (no control
 * byte), a JSON body wherever the content type says JSON, and a body only
 * with a content type. */
#include "base/json.h"
#include "base/log.h"
#include "routes/router.h"
#include "routes/wait.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY      "fuzz-ext-key-0123456789"
#define READ_KEY "fuzz-read-key-0123456789"

static az_client *dead;
static auth_keys *keys;
static struct rt_connection conns[1];
static struct rt_wait_limits waits = {.default_timeout_ms = 10000,
                                      .default_interval_ms = 1000,
                                      .max_timeout_ms = 60000,
                                      .min_interval_ms = 100,
                                      .max_waiters = 4};
static const char *const orchestrators[] = {"Hello", "Fuzzed", NULL};
static struct rt_env env;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    dg_log_set_level(DG_LOG_ERROR); /* a warning per refused storage call would fill the run's log */
    az_account acct;
    char err[128];
    if (az_account_parse("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" AZ_DEV_KEY
                         ";BlobEndpoint=http://127.0.0.1:1/a;QueueEndpoint=http://127.0.0.1:1/a;"
                         "TableEndpoint=http://127.0.0.1:1/a",
                         &acct, err, sizeof err) != DG_OK)
        abort();
    struct az_client_opts o = {.max_attempts = 1, .connect_timeout_ms = 100, .call_timeout_ms = 200};
    dead = az_client_create(&acct, &o);
    az_account_free(&acct);
    const char *kf =
        "{\"masterKey\":\"fuzz-master-key-0123456789\",\"systemKeys\":{\"durabletask_extension\":\"" KEY
        "\",\"other_extension\":\"fuzz-other-key-0123456789\"},\"readOnlyKeys\":[\"" READ_KEY "\"]}";
    keys = auth_keys_parse(kf, strlen(kf), err, sizeof err);
    if (!keys)
        abort();
    conns[0] = (struct rt_connection){"Other", dead};
    env = (struct rt_env){.storage = dead,
                          .keys = keys,
                          .default_hub = "FuzzHub",
                          .connections = conns,
                          .nconnections = 1,
                          .trust_forwarded = 1,
                          .orchestrators = orchestrators,
                          .waits = &waits,
                          .purge_budget_ms = 200};
    return 0;
}

/* The next line of [*p, end) without its CR LF, NUL-terminated in a; NULL at the end. */
static char *line(dg_arena *a, const char **p, const char *end)
{
    if (*p >= end)
        return NULL;
    const char *nl = memchr(*p, '\n', (size_t) (end - *p));
    const char *stop = nl ? nl : end;
    size_t n = (size_t) (stop - *p);
    if (n && (*p)[n - 1] == '\r')
        n--;
    char *s = dg_arena_strndup(a, *p, n);
    *p = nl ? nl + 1 : end;
    return s;
}

static void check(const rt_response *rs)
{
    if (rs->wait)
        return;
    if (rs->status < 100 || rs->status > 599 || rs->nheaders > RT_MAX_RESPONSE_HEADERS)
        abort();
    /* Storage is only ever unreachable here (503 or 504): a 500 or 502 is a
     * request the edge let through that the storage layer then refused, or a
     * handler's own failure. */
    if (rs->status == 500 || rs->status == 502)
        abort();
    for (size_t i = 0; i < rs->nheaders; i++) {
        if (!rs->headers[i].name || !rs->headers[i].value)
            abort();
        for (const unsigned char *v = (const unsigned char *) rs->headers[i].value; *v; v++)
            if ((*v < 0x20 && *v != '\t') || *v == 0x7F)
                abort();
    }
    if (rs->body && rs->body_len && !rs->content_type)
        abort();
    if (rs->content_type && strncasecmp(rs->content_type, "application/json", 16) == 0) {
        cJSON *j = rs->body ? dg_json_parse(rs->body, rs->body_len) : NULL;
        if (!j)
            abort();
        cJSON_Delete(j);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dg_arena *a = dg_arena_create();
    const char *p = (const char *) data, *end = p + size;
    char *first = line(a, &p, end);
    if (!first) {
        dg_arena_destroy(a);
        return 0;
    }
    char *sp = strchr(first, ' ');
    const char *method = first, *target = "/";
    if (sp) {
        *sp = '\0';
        target = sp + 1;
    }
    const char *q = strchr(target, '?');
    const char *path = q ? dg_arena_strndup(a, target, (size_t) (q - target)) : target;
    struct rt_param h[48];
    size_t nh = 0;
    for (char *l; nh < sizeof h / sizeof h[0] && (l = line(a, &p, end)) && *l;) {
        char *colon = strchr(l, ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        h[nh++] = (struct rt_param){l, v};
    }
    rt_request rq = {.arena = a,
                     .reqid = "fuzz",
                     .method = method,
                     .path = path,
                     .origin = "http://127.0.0.1:7071",
                     .raw_query = q ? q + 1 : "",
                     .headers = h,
                     .nheaders = nh,
                     .body = p,
                     .body_len = (size_t) (end - p)};
    rt_response rs;
    rt_dispatch(&env, &rq, &rs);
    check(&rs);
    if (rs.wait) { /* a held request: give it back as the gateway would */
        rt_wait_release(&env);
        dg_arena_destroy(rs.wait->rq.arena);
    }
    if (rs.shared)
        rt_shared_unref(rs.shared);
    dg_arena_destroy(a);
    return 0;
}
