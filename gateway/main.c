/* durable-gateway: parse the configuration, open the storage account, serve. */
#include "auth/keys.h"
#include "base/log.h"
#include "base/mem.h"
#include "gateway/config.h"
#include "gateway/server.h"
#include "gateway/tls.h"
#include "routes/status_read.h"
#include "storage/account.h"
#include "storage/client.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Splits a comma list into a NULL-terminated array of trimmed, non-empty
 * names. The array and the names are one allocation: free(array) frees both. */
static char **split_list(const char *s, size_t *n)
{
    size_t cap = 2, len = strlen(s);
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    char **v = dg_xcalloc(1, cap * sizeof *v + len + 1);
    *n = 0;
    char *copy = (char *) (v + cap), *save = NULL;
    memcpy(copy, s, len + 1);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\t')
            t++;
        size_t l = strlen(t);
        while (l && (t[l - 1] == ' ' || t[l - 1] == '\t'))
            t[--l] = '\0';
        if (l)
            v[(*n)++] = t;
    }
    return v;
}

static az_client *open_storage(const char *what, const char *connection_string, const struct gw_config *cfg)
{
    az_account acct;
    char why[256];
    if (az_account_parse(connection_string, &acct, why, sizeof why) != DG_OK) {
        fprintf(stderr, "durable-gateway: %s: %s\n", what, why);
        return NULL;
    }
    struct az_client_opts so = {.call_timeout_ms = cfg->storage_timeout_ms};
    az_client *c = az_client_create(&acct, &so);
    az_account_free(&acct);
    return c;
}

/* One line on the certificate in force: when it stops being valid, a
 * warning when that is past or less than 14 days away (clients refuse it). */
static void log_certificate(const char *what, const char *path)
{
    time_t until = (time_t) gw_tls_not_after();
    struct tm tm;
    char when[32] = "?";
    if (gmtime_r(&until, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    long long left = (long long) until - (long long) time(NULL);
    if (left <= 0)
        DG_WARN(NULL, "%s: the TLS certificate %s expired at %s: clients will refuse it", what, path, when);
    else if (left < 14 * 86400LL)
        DG_WARN(NULL, "%s: the TLS certificate %s expires at %s, in %lld day(s)", what, path, when,
                left / 86400);
    else
        DG_INFO(NULL, "%s: the TLS certificate %s is valid until %s", what, path, when);
}

/* SIGHUP: the key file, then the certificate and key, read again. What does
 * not load leaves what is in force, with one error line each (never a key);
 * requests, connections and held waits carry on (docs/reload.md). */
static void reload(const struct gw_config *cfg, auth_keys *keys)
{
    char why[256];
    if (keys) {
        if (auth_keys_reload(keys, cfg->key_file, why, sizeof why) == 0)
            DG_INFO(NULL, "SIGHUP: loaded %zu system key(s) from %s", auth_keys_count(keys), cfg->key_file);
        else
            DG_ERROR(NULL, "SIGHUP: %s: %s; the %zu key(s) loaded before stay in force", cfg->key_file, why,
                     auth_keys_count(keys));
    }
    if (gw_tls_on()) {
        if (gw_tls_reload(why, sizeof why) == 0) {
            DG_INFO(NULL, "SIGHUP: loaded the TLS certificate %s and its key: served from the next handshake",
                    cfg->tls_cert);
            log_certificate("SIGHUP", cfg->tls_cert);
        } else
            DG_ERROR(NULL, "SIGHUP: %s; the certificate loaded before stays in force", why);
    }
    if (!keys && !gw_tls_on())
        DG_INFO(NULL, "SIGHUP: nothing to reload (no key file, no TLS)");
}

int main(int argc, char **argv)
{
    dg_mem_init();
    struct gw_config cfg;
    switch (gw_config_load(argc, argv, &cfg, stdout, stderr)) {
    case GW_CONFIG_EXIT:
        return 0;
    case GW_CONFIG_ERROR:
        return 2;
    case GW_CONFIG_OK:
        break;
    }
    int lvl = dg_log_level_parse(cfg.log_level);
    if (lvl < 0) {
        fprintf(stderr, "durable-gateway: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    dg_log_set_level((enum dg_log_level) lvl);
    int fmt = dg_log_format_parse(cfg.log_format);
    if (fmt < 0) {
        fprintf(stderr, "durable-gateway: --log-format must be text or json\n");
        return 2;
    }
    dg_log_set_format((enum dg_log_format) fmt);

    char why[256];
    if (cfg.tls_cert && gw_tls_init(cfg.tls_cert, cfg.tls_key, why, sizeof why) != 0) {
        fprintf(stderr, "durable-gateway: %s\n", why);
        return 2;
    }
    if (cfg.tls_cert)
        log_certificate("TLS", cfg.tls_cert);
    az_client *storage = open_storage("the connection string", cfg.connection_string, &cfg);
    if (!storage)
        return 2;
    size_t nconn = 0;
    char **conn_names = cfg.connections ? split_list(cfg.connections, &nconn) : NULL;
    struct rt_connection *conns = dg_xcalloc(nconn + 1, sizeof *conns);
    for (size_t i = 0; i < nconn; i++) {
        const char *cs = getenv(conn_names[i]);
        if (!cs || !*cs) {
            fprintf(stderr,
                    "durable-gateway: --connections names %s, but that environment variable is empty\n",
                    conn_names[i]);
            return 2;
        }
        conns[i] = (struct rt_connection){conn_names[i], open_storage(conn_names[i], cs, &cfg)};
        if (!conns[i].storage)
            return 2;
    }
    size_t norch = 0;
    char **orchestrators = cfg.orchestrators ? split_list(cfg.orchestrators, &norch) : NULL;

    auth_keys *keys = NULL;
    if (cfg.key_file) {
        keys = auth_keys_load(cfg.key_file, why, sizeof why);
        if (!keys) {
            fprintf(stderr, "durable-gateway: %s: %s\n", cfg.key_file, why);
            az_client_destroy(storage);
            return 2;
        }
        DG_INFO(NULL, "loaded %zu system key(s) from %s", auth_keys_count(keys), cfg.key_file);
    }
    if (cfg.no_auth)
        DG_WARN(NULL, "*** AUTH IS DISABLED (--no-auth): every request is accepted without a key. "
                      "Use this for local development only. ***");

    /* Signals are taken by this thread alone, with sigwait: every other
     * thread is made with them blocked, so none is lost or lands mid-call. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    rt_status_configure(
        &(struct rt_status_opts){.cache_ms = cfg.status_cache_ms, .collapse_ms = cfg.status_collapse_ms});

    struct rt_env env = {
        .storage = storage,
        .keys = cfg.no_auth ? NULL : keys,
        .default_hub = cfg.task_hub,
        .connections = conns,
        .nconnections = nconn,
        .default_partitions = (unsigned) cfg.partition_count,
        .public_origin = cfg.public_url,
        .trust_forwarded = (int) cfg.trust_forwarded,
        .orchestrators = (const char *const *) orchestrators,
        .app_prefix = cfg.app_prefix,
        .purge_budget_ms = cfg.purge_budget_ms,
        .purge_inflight = (int) cfg.purge_inflight,
    };
    /* Every held request is a socket: allow as many as the system lets us. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    gw_server *srv = gw_server_start(&cfg, &env);
    if (!srv) {
        gw_tls_cleanup();
        auth_keys_destroy(keys);
        az_client_destroy(storage);
        return 1;
    }
    DG_INFO(NULL, "durable-gateway %s listening on %s://%s:%u", DG_VERSION, gw_tls_on() ? "https" : "http",
            cfg.listen, gw_server_port(srv));
    int sig = 0;
    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        reload(&cfg, cfg.no_auth ? NULL : keys);
    }
    DG_INFO(NULL, "shutting down (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
    gw_server_stop(srv);
    gw_tls_cleanup();
    auth_keys_destroy(keys);
    for (size_t i = 0; i < nconn; i++)
        az_client_destroy(conns[i].storage);
    free(conns);
    free(conn_names);
    free(orchestrators);
    az_client_destroy(storage);
    return 0;
}
