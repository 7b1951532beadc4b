/* Where the task hub and its storage come from, as Core Tools finds them
 * (DurableManager): the flags, then host.json's durableTask section in the
 * working directory for the hub name, the connection setting's name and the
 * partition count; the connection string is the environment variable of
 * that name, else local.settings.json's Values entry (the name ignoring case). */
#include "cli/cli.h"
#include "taskhub/instance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SETTINGS_MAX_FILE (1u << 20) /* host.json and local.settings.json are small */

bool cli_read_file(dg_arena *a, const char *path, size_t cap, char **data, size_t *n, char *why,
                   size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "cannot read '%s': %s", path, strerror(errno));
        return false;
    }
    dg_buf b;
    dg_buf_init(&b, cap);
    char chunk[65536];
    size_t got;
    bool ok = true;
    while (ok && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        ok = dg_buf_add(&b, chunk, got) == DG_OK;
    if (!ok)
        snprintf(why, whylen, "'%s' is larger than %zu MiB", path, cap >> 20);
    else if (ferror(f)) {
        snprintf(why, whylen, "cannot read '%s': %s", path, strerror(errno));
        ok = false;
    }
    fclose(f);
    if (ok) {
        *n = b.len;
        *data = dg_arena_strndup(a, dg_buf_str(&b), b.len);
    }
    dg_buf_free(&b);
    return ok;
}

/* The file parsed, NULL when it does not exist; false after a message when
 * it exists but is not a JSON object. The tree is freed with the arena. */
static bool settings_file(struct cli *c, const char *path, cJSON **out)
{
    *out = NULL;
    char *data, why[512];
    size_t n;
    FILE *probe = fopen(path, "rb");
    if (!probe && errno == ENOENT)
        return true;
    if (probe)
        fclose(probe);
    if (!cli_read_file(c->a, path, SETTINGS_MAX_FILE, &data, &n, why, sizeof why)) {
        cli_error("%s", why);
        return false;
    }
    cJSON *j = cJSON_ParseWithLength(data, n);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        cli_error("%s in the working directory is not a JSON object", path);
        return false;
    }
    dg_arena_defer(c->a, (void (*)(void *)) cJSON_Delete, j);
    *out = j;
    return true;
}

/* A member by name ignoring case, as Newtonsoft's GetValue(..., OrdinalIgnoreCase). */
static const cJSON *member(const cJSON *o, const char *name)
{
    const cJSON *it;
    if (!cJSON_IsObject(o))
        return NULL;
    cJSON_ArrayForEach(it, o)
    {
        if (it->string && strcasecmp(it->string, name) == 0)
            return it;
    }
    return NULL;
}

static const char *member_str(const cJSON *o, const char *name)
{
    const cJSON *v = member(o, name);
    return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

int cli_settings(struct cli *c, const char **connection_string)
{
    cJSON *host;
    if (!settings_file(c, "host.json", &host))
        return CLI_USAGE;
    /* Functions 2.0 and later: extensions.durableTask; 1.x: durableTask. */
    const cJSON *dt = member(member(host, "extensions"), "durableTask");
    if (!dt)
        dt = member(host, "durableTask");
    const cJSON *provider = member(dt, "storageProvider");
    const char *host_hub = member_str(dt, "hubName");
    const char *host_conn = member_str(dt, "AzureStorageConnectionStringName");
    if (!host_conn)
        host_conn = member_str(provider, "connectionStringName");
    const cJSON *pc = member(provider, "partitionCount");
    if (cJSON_IsNumber(pc) && pc->valuedouble >= 1 && pc->valuedouble <= 16)
        c->partitions = (unsigned) pc->valueint;

    /* Through a gateway with no hub named anywhere, the gateway's default hub is the one meant. */
    c->hub = c->o.task_hub  ? c->o.task_hub
             : host_hub     ? host_hub
             : c->o.gateway ? NULL
                            : "DurableFunctionsHub";
    if (c->hub && !hub_name_ok(c->hub)) {
        cli_error("'%s' is not a valid task hub name: 3 to 45 letters and digits, starting with a letter%s",
                  c->hub, c->o.task_hub ? "" : " (from host.json)");
        return CLI_USAGE;
    }
    c->connection_given = c->o.connection_setting != NULL;
    c->connection = c->o.connection_setting ? c->o.connection_setting
                    : host_conn             ? host_conn
                                            : "AzureWebJobsStorage";
    if (!*c->connection) {
        cli_error("--connection-string-setting needs the name of a setting");
        return CLI_USAGE;
    }
    if (!connection_string)
        return CLI_OK; /* through a gateway: the gateway has the connection strings */

    const char *cs = getenv(c->connection);
    if (!cs || !*cs) {
        cJSON *local;
        if (!settings_file(c, "local.settings.json", &local))
            return CLI_USAGE;
        if (cJSON_IsTrue(member(local, "IsEncrypted"))) {
            cli_error("local.settings.json is encrypted (IsEncrypted): set %s in the environment instead",
                      c->connection);
            return CLI_USAGE;
        }
        cs = member_str(member(local, "Values"), c->connection);
    }
    if (!cs) {
        cli_error("no connection string: set the environment variable %s, or put it in local.settings.json's "
                  "Values (%s=UseDevelopmentStorage=true for Azurite)",
                  c->connection, c->connection);
        return CLI_USAGE;
    }
    *connection_string = cs;
    return CLI_OK;
}
