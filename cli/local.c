/* Straight to storage: each request goes through the gateway's route
 * handlers in this process (rt_dispatch with an in-memory request, no
 * socket, no key), which do their storage work with the blocking form of the
 * taskhub/ operations. */
#include "base/log.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "routes/router.h"
#include "storage/account.h"
#include "storage/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How long one purge-by-filter request runs before it answers with a
 * continuation: short, so that the progress line moves and Ctrl-C stops the
 * purge within about this long. */
#define LOCAL_PURGE_PAGE_MS 1000

struct cli_local {
    az_client *storage;
    struct rt_env env;
};

cli_local *cli_local_create(const char *connection_string, unsigned partitions, char *why, size_t whylen)
{
    az_account acct;
    char reason[256];
    if (az_account_parse(connection_string, &acct, reason, sizeof reason) != DG_OK) {
        snprintf(why, whylen, "%s", reason);
        return NULL;
    }
    /* A terminal user waits: fewer, shorter retries than the gateway's defaults. */
    struct az_client_opts so = {.call_timeout_ms = 15000, .max_attempts = 3, .connect_timeout_ms = 3000};
    cli_local *l = dg_xcalloc(1, sizeof *l);
    l->storage = az_client_create(&acct, &so);
    az_account_free(&acct);
    l->env = (struct rt_env){
        .storage = l->storage,
        .keys = NULL, /* this process is the caller: there is no one to authenticate */
        .default_hub = "DurableFunctionsHub",
        .default_partitions = partitions,
        .purge_budget_ms = LOCAL_PURGE_PAGE_MS,
    };
    /* The handlers log storage trouble as warnings; here the answer says it, once. */
    dg_log_set_level(DG_LOG_ERROR);
    return l;
}

bool cli_local_call(cli_local *l, dg_arena *a, const struct cli_call *call, struct cli_answer *ans, char *why,
                    size_t whylen)
{
    (void) why;
    (void) whylen;
    struct rt_param h[2];
    size_t nh = 0;
    if (call->body)
        h[nh++] = (struct rt_param){"Content-Type", "application/json"};
    if (call->token)
        h[nh++] = (struct rt_param){"x-ms-continuation-token", call->token};
    rt_request rq = {
        .arena = a,
        .reqid = "cli",
        .method = call->method,
        .path = call->path,
        .raw_query = call->query,
        .headers = h,
        .nheaders = nh,
        .body = call->body ? call->body : "",
        .body_len = call->body ? strlen(call->body) : 0,
    };
    rt_response rs;
    rt_dispatch(&l->env, &rq, &rs);
    ans->status = rs.status;
    ans->body = rs.body ? rs.body : "";
    ans->body_len = rs.body ? rs.body_len : 0;
    ans->token = NULL;
    for (size_t i = 0; i < rs.nheaders; i++)
        if (strcasecmp(rs.headers[i].name, "x-ms-continuation-token") == 0)
            ans->token = rs.headers[i].value;
    return true;
}

void cli_local_destroy(cli_local *l)
{
    if (!l)
        return;
    az_client_destroy(l->storage);
    free(l);
}
