/* durable-gateway: parse the configuration, open the storage account, serve. */
#include "auth/keys.h"
#include "base/log.h"
#include "gateway/config.h"
#include "gateway/server.h"
#include "storage/account.h"
#include "storage/client.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void) sig;
    g_stop = 1;
}

int main(int argc, char **argv)
{
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

    az_account acct;
    char why[256];
    if (az_account_parse(cfg.connection_string, &acct, why, sizeof why) != DG_OK) {
        fprintf(stderr, "durable-gateway: %s\n", why);
        return 2;
    }
    struct az_client_opts so = {.call_timeout_ms = cfg.storage_timeout_ms};
    az_client *storage = az_client_create(&acct, &so);
    az_account_free(&acct);

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

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    gw_server *srv = gw_server_start(&cfg, storage, cfg.no_auth ? NULL : keys);
    if (!srv) {
        auth_keys_destroy(keys);
        az_client_destroy(storage);
        return 1;
    }
    DG_INFO(NULL, "durable-gateway %s listening on http://%s:%u", DG_VERSION, cfg.listen,
            gw_server_port(srv));
    while (!g_stop)
        pause();
    DG_INFO(NULL, "shutting down");
    gw_server_stop(srv);
    auth_keys_destroy(keys);
    az_client_destroy(storage);
    return 0;
}
