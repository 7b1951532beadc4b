#include "gateway/config.h"

#include "base/json.h"
#include "base/mem.h"
#include "taskhub/instance.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

enum opt_type { OPT_STR, OPT_LONG, OPT_FLAG };

struct opt {
    const char *flag; /* without the leading "--" */
    const char *env;  /* NULL: no environment variable */
    enum opt_type type;
    size_t offset;
    const char *def; /* default, as text */
    long min, max;   /* for OPT_LONG */
    const char *help;
};

#define OFF(f) offsetof(struct gw_config, f)

static const struct opt opts[] = {
    {"listen", "DG_LISTEN", OPT_STR, OFF(listen), "127.0.0.1", 0, 0, "address to listen on"},
    {"port", "DG_PORT", OPT_LONG, OFF(port), "7071", 0, 65535, "TCP port (0 picks a free one)"},
    {"connection-string", "AzureWebJobsStorage", OPT_STR, OFF(connection_string), NULL, 0, 0,
     "Azure Storage connection string of the task hub (UseDevelopmentStorage=true for Azurite)"},
    {"log-level", "DG_LOG_LEVEL", OPT_STR, OFF(log_level), "info", 0, 0, "debug, info, warn or error"},
    {"log-format", "DG_LOG_FORMAT", OPT_STR, OFF(log_format), "text", 0, 0,
     "text, or json: one object per line (time, level, request_id, msg and the line's fields)"},
    {"threads", "DG_THREADS", OPT_LONG, OFF(threads), "0", 0, 256,
     "event loops, each a thread serving HTTP and storage calls (0: one per core)"},
    {"request-timeout-ms", "DG_REQUEST_TIMEOUT_MS", OPT_LONG, OFF(request_timeout_ms), "30000", 100, 3600000,
     "deadline of a whole request, its storage calls and retries included; past it, 504"},
    {"shutdown-grace-ms", "DG_SHUTDOWN_GRACE_MS", OPT_LONG, OFF(shutdown_grace_ms), "5000", 0, 600000,
     "on SIGTERM, how long requests still running may take before they are answered 503"},
    {"status-cache-ms", "DG_STATUS_CACHE_MS", OPT_LONG, OFF(status_cache_ms), "0", 0, 60000,
     "status answers may reuse a storage read this old (0: never); a write through this gateway ends it"},
    {"status-collapse-ms", "DG_STATUS_COLLAPSE_MS", OPT_LONG, OFF(status_collapse_ms), "2", 0, 1000,
     "how long the next status read of an instance polled by several clients at once waits for more "
     "requests to share it (0: never)"},
    {"connection-limit", "DG_CONNECTION_LIMIT", OPT_LONG, OFF(connection_limit), "16000", 16, 1000000,
     "most concurrent client connections; past it a new client is answered 503 and closed"},
    {"per-ip-connection-limit", "DG_PER_IP_CONNECTION_LIMIT", OPT_LONG, OFF(per_ip_connection_limit), "0", 0,
     1000000,
     "most concurrent connections from one client address; past it, 503 and closed (0: no limit; "
     "behind a proxy every client has the proxy's address)"},
    {"connection-timeout", "DG_CONNECTION_TIMEOUT", OPT_LONG, OFF(connection_timeout), "120", 1, 86400,
     "seconds an idle client connection is kept"},
    {"header-timeout-ms", "DG_HEADER_TIMEOUT_MS", OPT_LONG, OFF(header_timeout_ms), "10000", 100, 600000,
     "a request line and headers must arrive within this of the connection's start (or of the request "
     "line on a kept-alive connection), however steadily the bytes come; else the connection is dropped"},
    {"body-timeout-ms", "DG_BODY_TIMEOUT_MS", OPT_LONG, OFF(body_timeout_ms), "30000", 100, 3600000,
     "a request body must arrive within this of its headers; else the connection is dropped"},
    {"storage-timeout-ms", "DG_STORAGE_TIMEOUT_MS", OPT_LONG, OFF(storage_timeout_ms), "15000", 100, 600000,
     "deadline of one storage call, retries included"},
    {"key-file", "DG_KEY_FILE", OPT_STR, OFF(key_file), NULL, 0, 0,
     "JSON file of system keys (masterKey, systemKeys.durabletask_extension, readOnlyKeys)"},
    {"no-auth", "DG_NO_AUTH", OPT_FLAG, OFF(no_auth), "0", 0, 1,
     "accept requests without a key: local development only, never the default"},
    {"task-hub", "DG_TASK_HUB", OPT_STR, OFF(task_hub), NULL, 0, 0,
     "default task hub [default: host.json's extensions.durableTask.hubName, else DurableFunctionsHub]"},
    {"partition-count", "DG_PARTITION_COUNT", OPT_LONG, OFF(partition_count), "4", 1, 16,
     "control queues of a hub the gateway creates; existing hubs are discovered"},
    {"public-url", "DG_PUBLIC_URL", OPT_STR, OFF(public_url), NULL, 0, 0,
     "scheme://host[:port] for generated links [default: from the request's Host]"},
    {"trust-forwarded", "DG_TRUST_FORWARDED", OPT_FLAG, OFF(trust_forwarded), "0", 0, 1,
     "build links from X-Forwarded-Proto and X-Forwarded-Host (only behind a proxy that sets them)"},
    {"orchestrators", "DG_ORCHESTRATORS", OPT_STR, OFF(orchestrators), NULL, 0, 0,
     "comma list of the orchestrator names start accepts [default: any]"},
    {"connections", "DG_CONNECTIONS", OPT_STR, OFF(connections), NULL, 0, 0,
     "comma list of extra connection names for the 'connection' parameter; each name is an "
     "environment variable holding a connection string"},
    {"purge-budget-ms", "DG_PURGE_BUDGET_MS", OPT_LONG, OFF(purge_budget_ms), "20000", 100, 600000,
     "time one purge-by-filter request may take before answering with a continuation token"},
    {"purge-inflight", "DG_PURGE_INFLIGHT", OPT_LONG, OFF(purge_inflight), "32", 1, 256,
     "storage calls one purge-by-filter request keeps in flight at once (docs/bulk.md)"},
    {"app-prefix", "DG_APP_PREFIX", OPT_STR, OFF(app_prefix), "api", 0, 0,
     "the app's HTTP route prefix: POST /{prefix}/orchestrators/{name}/wait is served (and "
     "/orchestrators/...)"},
    {"wait-timeout-ms", "DG_WAIT_TIMEOUT_MS", OPT_LONG, OFF(wait_timeout_ms), "10000", 1, 86400000,
     "wait for completion: the timeout when the request gives none"},
    {"wait-interval-ms", "DG_WAIT_INTERVAL_MS", OPT_LONG, OFF(wait_interval_ms), "1000", 1, 86400000,
     "wait for completion: how often the instance is read when the request gives no interval"},
    {"wait-max-timeout-ms", "DG_WAIT_MAX_TIMEOUT_MS", OPT_LONG, OFF(wait_max_timeout_ms), "300000", 1,
     86400000, "wait for completion: longer timeouts are cut to this"},
    {"wait-min-interval-ms", "DG_WAIT_MIN_INTERVAL_MS", OPT_LONG, OFF(wait_min_interval_ms), "100", 1,
     86400000, "wait for completion: shorter intervals are raised to this (bounds storage reads)"},
    {"max-waiters", "DG_MAX_WAITERS", OPT_LONG, OFF(max_waiters), "20000", 0, 10000000,
     "wait for completion: requests held at once; past this, 503 with Retry-After"},
    {"wait-readers", "DG_WAIT_READERS", OPT_LONG, OFF(wait_readers), "64", 1, 4096,
     "wait for completion: concurrent storage reads of waited-on instances"},
    {"upstream", "DG_UPSTREAM", OPT_STR, OFF(upstream), NULL, 0, 0,
     "http(s)://host[:port][/path] of the function app: every request outside the gateway's own routes is "
     "passed through to it (default: none, such requests are 404)"},
    {"upstream-timeout-ms", "DG_UPSTREAM_TIMEOUT_MS", OPT_LONG, OFF(upstream_timeout_ms), "30000", 100,
     3600000, "pass-through: time the upstream may go without sending or taking a byte before 504"},
    {"rewrite-upstream-links", "DG_REWRITE_UPSTREAM_LINKS", OPT_FLAG, OFF(rewrite_upstream_links), "0", 0, 1,
     "pass-through: point the app's check-status links (Location, statusQueryGetUri, ...) at the gateway"},
    {"tls-cert", "DG_TLS_CERT", OPT_STR, OFF(tls_cert), NULL, 0, 0,
     "PEM certificate (then any intermediates): serve HTTPS, TLS 1.2 and 1.3 only, with --tls-key; "
     "SIGHUP reads both again [default: plain HTTP]"},
    {"tls-key", "DG_TLS_KEY", OPT_STR, OFF(tls_key), NULL, 0, 0,
     "PEM private key of --tls-cert (unencrypted)"},
    {"config", "DG_CONFIG", OPT_STR, OFF(config_file), NULL, 0, 0,
     "JSON file of option names to values, e.g. {\"port\": 8080}; flags and environment win over it"},
};

#define NOPTS (sizeof opts / sizeof *opts)

/* host.json's extensions.durableTask.hubName in the working directory, as the
 * func durable commands resolve it; DurableFunctionsHub otherwise. The string
 * is kept for the life of the process. */
static const char *hub_from_host_json(void)
{
    static char hub[64] = "DurableFunctionsHub";
    FILE *f = fopen("host.json", "rb");
    if (!f)
        return hub;
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cJSON *j = dg_json_parse(buf, n);
    cJSON *ext = cJSON_GetObjectItemCaseSensitive(j, "extensions");
    cJSON *dt = cJSON_GetObjectItemCaseSensitive(ext, "durableTask");
    cJSON *name = cJSON_GetObjectItemCaseSensitive(dt, "hubName");
    if (cJSON_IsString(name) && strlen(name->valuestring) < sizeof hub)
        snprintf(hub, sizeof hub, "%s", name->valuestring);
    cJSON_Delete(j);
    return hub;
}

/* What the configuration keeps for the life of the process, held here so it
 * stays reachable (option strings point into it): the config file's tree and
 * the trimmed --public-url. */
static cJSON *g_file;
static char *g_public_url;
static char *g_upstream;

/* An http(s)://host[:port] URL (with a path when path_ok), trailing slashes
 * dropped: *v is replaced by the kept copy in *keep. false, with why, when it is
 * not such a URL (no host, a blank, '?', '#' or '@'). */
static bool base_url(const char **v, char **keep, bool path_ok, const char *why, FILE *err)
{
    const char *u = *v;
    size_t n = strlen(u);
    while (n && u[n - 1] == '/')
        n--;
    const char *host = strncmp(u, "https://", 8) == 0 ? u + 8 : strncmp(u, "http://", 7) == 0 ? u + 7 : NULL;
    size_t hn = host && host < u + n ? strcspn(host, "/") : 0;
    if (!host || !hn || (!path_ok && host + hn < u + n) ||
        strcspn(host, " \t?#@") < (size_t) (u + n - host)) {
        fprintf(err, "durable-gateway: %s\n", why);
        return false;
    }
    free(*keep);
    *keep = dg_xstrndup(u, n);
    *v = *keep;
    return true;
}

/* The config file, kept for the life of the process (option strings point
 * into it). NULL with a message when it cannot be read or is not an object. */
static cJSON *load_file(const char *path, FILE *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(err, "durable-gateway: --config %s: cannot open it\n", path);
        return NULL;
    }
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int big = !feof(f);
    fclose(f);
    cJSON *j = big ? NULL : dg_json_parse(buf, n);
    if (!cJSON_IsObject(j)) {
        fprintf(err, "durable-gateway: --config %s: not a JSON object of options (or over 64 KiB)\n", path);
        cJSON_Delete(j);
        return NULL;
    }
    for (cJSON *it = j->child; it; it = it->next) {
        size_t k = 0;
        while (k < NOPTS && strcmp(opts[k].flag, it->string) != 0)
            k++;
        if (k == NOPTS || strcmp(it->string, "config") == 0) {
            fprintf(err, "durable-gateway: --config %s: unknown option \"%s\"\n", path, it->string);
            cJSON_Delete(j);
            return NULL;
        }
    }
    return j;
}

/* A file value as option text: strings as they are, numbers and booleans printed. */
static const char *file_value(cJSON *file, const char *flag)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(file, flag);
    if (cJSON_IsString(it))
        return it->valuestring;
    if (cJSON_IsBool(it))
        return cJSON_IsTrue(it) ? "1" : "0";
    if (cJSON_IsNumber(it)) {
        /* The printed number replaces the item, so the tree owns the text. */
        char *text = dg_json_print(it);
        cJSON *str = cJSON_CreateString(text);
        cJSON_free(text);
        cJSON_ReplaceItemInObjectCaseSensitive(file, flag, str);
        return str->valuestring;
    }
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: durable-gateway [options]\n\n"
               "A stateless HTTP gateway for Durable Functions task hubs in Azure Storage.\n\n"
               "options (each may also come from the environment variable named):\n");
    for (size_t i = 0; i < NOPTS; i++) {
        fprintf(f, "  --%-22s %s", opts[i].flag, opts[i].help);
        if (opts[i].def)
            fprintf(f, " [default: %s]", opts[i].def);
        if (opts[i].env)
            fprintf(f, " (env %s)", opts[i].env);
        fputc('\n', f);
    }
    fprintf(f, "  --%-22s %s\n  --%-22s %s\n", "help", "print this text", "version", "print the version");
}

static int set(const struct opt *o, const char *v, struct gw_config *out, FILE *err, const char *from)
{
    char *base = (char *) out + o->offset;
    if (o->type == OPT_STR) {
        *(const char **) base = v;
        return 0;
    }
    if (o->type == OPT_FLAG) {
        int on = strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0;
        if (!on && strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0) {
            fprintf(err, "durable-gateway: %s --%s is true or false\n", from, o->flag);
            return -1;
        }
        *(long *) base = on;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || !*v || *end || n < o->min || n > o->max) {
        fprintf(err, "durable-gateway: %s --%s must be a whole number from %ld to %ld\n", from, o->flag,
                o->min, o->max);
        return -1;
    }
    *(long *) base = n;
    return 0;
}

enum gw_config_result gw_config_load(int argc, char **argv, struct gw_config *out, FILE *out_stream,
                                     FILE *err_stream)
{
    dg_mem_init();
    memset(out, 0, sizeof *out);
    int given[NOPTS] = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(out_stream);
            return GW_CONFIG_EXIT;
        }
        if (strcmp(a, "--version") == 0) {
            fprintf(out_stream, "durable-gateway %s\n", DG_VERSION);
            return GW_CONFIG_EXIT;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(err_stream, "durable-gateway: unexpected argument (see --help)\n");
            return GW_CONFIG_ERROR;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t) (eq - name) : strlen(name);
        const struct opt *o = NULL;
        for (size_t k = 0; k < NOPTS; k++)
            if (strlen(opts[k].flag) == nl && strncmp(opts[k].flag, name, nl) == 0)
                o = &opts[k];
        if (!o) {
            fprintf(err_stream, "durable-gateway: unknown option --%.*s (see --help)\n", (int) nl, name);
            return GW_CONFIG_ERROR;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v && o->type == OPT_FLAG)
            v = "1";
        if (!v) {
            if (i + 1 >= argc) {
                fprintf(err_stream, "durable-gateway: --%s needs a value\n", o->flag);
                return GW_CONFIG_ERROR;
            }
            v = argv[++i];
        }
        if (set(o, v, out, err_stream, "option") != 0)
            return GW_CONFIG_ERROR;
        given[o - opts] = 1;
    }
    const struct opt *cfg_opt = &opts[NOPTS - 1];
    if (!given[NOPTS - 1] && getenv(cfg_opt->env) && *getenv(cfg_opt->env))
        out->config_file = getenv(cfg_opt->env);
    cJSON *file = NULL;
    if (out->config_file && !(file = load_file(out->config_file, err_stream)))
        return GW_CONFIG_ERROR;
    cJSON_Delete(g_file); /* a previous call's, if any */
    g_file = file;
    for (size_t k = 0; k < NOPTS; k++) {
        if (given[k])
            continue;
        const char *v = opts[k].env ? getenv(opts[k].env) : NULL;
        const char *fv = file_value(file, opts[k].flag);
        if (v && *v) {
            if (set(&opts[k], v, out, err_stream, "environment") != 0)
                return GW_CONFIG_ERROR;
        } else if (fv) {
            if (set(&opts[k], fv, out, err_stream, "config file") != 0)
                return GW_CONFIG_ERROR;
        } else if (opts[k].def) {
            set(&opts[k], opts[k].def, out, err_stream, "default");
        }
    }
    bool from_host_json = !out->task_hub;
    if (from_host_json)
        out->task_hub = hub_from_host_json();
    if (!hub_name_ok(out->task_hub)) {
        /* Every request without taskHub would be answered 400: stop now. */
        fprintf(err_stream,
                "durable-gateway: %s: the task hub name is not valid: it must be 3 to 45 letters and digits, "
                "starting with a letter\n",
                from_host_json ? "host.json's extensions.durableTask.hubName" : "--task-hub (DG_TASK_HUB)");
        return GW_CONFIG_ERROR;
    }
    if (out->public_url && !base_url(&out->public_url, &g_public_url, false,
                                     "--public-url must be http(s)://host[:port] with no path", err_stream))
        return GW_CONFIG_ERROR;
    if (out->upstream &&
        !base_url(&out->upstream, &g_upstream, true,
                  "--upstream must be http(s)://host[:port][/path] with no query, user or fragment",
                  err_stream))
        return GW_CONFIG_ERROR;
    if (!out->tls_cert != !out->tls_key) {
        fprintf(err_stream, "durable-gateway: --tls-cert and --tls-key go together: pass both (HTTPS) or "
                            "neither (plain HTTP)\n");
        return GW_CONFIG_ERROR;
    }
    if (!out->key_file && !out->no_auth) {
        fprintf(err_stream,
                "durable-gateway: no keys: pass --key-file FILE (or --no-auth for local development)\n");
        return GW_CONFIG_ERROR;
    }
    if (!out->connection_string) {
        fprintf(err_stream, "durable-gateway: no storage: set --connection-string or AzureWebJobsStorage "
                            "(UseDevelopmentStorage=true for Azurite)\n");
        return GW_CONFIG_ERROR;
    }
    return GW_CONFIG_OK;
}
