#include "gateway/config.h"

#include <errno.h>
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
    {"threads", "DG_THREADS", OPT_LONG, OFF(threads), "4", 1, 256, "HTTP worker threads"},
    {"connection-limit", "DG_CONNECTION_LIMIT", OPT_LONG, OFF(connection_limit), "16000", 16, 1000000,
     "most concurrent client connections"},
    {"connection-timeout", "DG_CONNECTION_TIMEOUT", OPT_LONG, OFF(connection_timeout), "120", 1, 86400,
     "seconds an idle client connection is kept"},
    {"storage-timeout-ms", "DG_STORAGE_TIMEOUT_MS", OPT_LONG, OFF(storage_timeout_ms), "15000", 100, 600000,
     "deadline of one storage call, retries included"},
    {"key-file", "DG_KEY_FILE", OPT_STR, OFF(key_file), NULL, 0, 0,
     "JSON file of system keys (masterKey, systemKeys.durabletask_extension, readOnlyKeys)"},
    {"no-auth", "DG_NO_AUTH", OPT_FLAG, OFF(no_auth), "0", 0, 1,
     "accept requests without a key: local development only, never the default"},
    {"task-hub", "DG_TASK_HUB", OPT_STR, OFF(task_hub), NULL, 0, 0,
     "default task hub [default: host.json's extensions.durableTask.hubName, else DurableFunctionsHub]"},
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
    cJSON *j = cJSON_ParseWithLength(buf, n);
    cJSON *ext = cJSON_GetObjectItemCaseSensitive(j, "extensions");
    cJSON *dt = cJSON_GetObjectItemCaseSensitive(ext, "durableTask");
    cJSON *name = cJSON_GetObjectItemCaseSensitive(dt, "hubName");
    if (cJSON_IsString(name) && strlen(name->valuestring) < sizeof hub)
        snprintf(hub, sizeof hub, "%s", name->valuestring);
    cJSON_Delete(j);
    return hub;
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
    for (size_t k = 0; k < NOPTS; k++) {
        if (given[k])
            continue;
        const char *v = opts[k].env ? getenv(opts[k].env) : NULL;
        if (v && *v) {
            if (set(&opts[k], v, out, err_stream, "environment") != 0)
                return GW_CONFIG_ERROR;
        } else if (opts[k].def) {
            set(&opts[k], opts[k].def, out, err_stream, "default");
        }
    }
    if (!out->task_hub)
        out->task_hub = hub_from_host_json();
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
