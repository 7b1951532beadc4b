/* What DurableTask's TaskHubClient does to a hub, for one instance at a time:
 * start (docs/storage-layout.md §8.1), raise, terminate, suspend and resume (§8.2). */
#ifndef HUB_CLIENT_H
#define HUB_CLIENT_H

#include "taskhub/hub.h"
#include "taskhub/instance.h"

#include <stdbool.h>

struct hub_start {
    const char *instance_id; /* UTF-8; validated by the caller */
    const char *name;        /* orchestrator name */
    const char *version;     /* NULL: "" */
    const char *input;       /* JSON text, or NULL for no input */
    bool overwrite_active;   /* false: an active instance blocks the start (DG_ECONFLICT) */
    bool fresh_id;           /* the id was just generated (a random GUID): no row can exist, none is read */
};

struct hub_started {
    char execution_id[33];
    int generation;
    const char *existing_status; /* on DG_ECONFLICT: the status that blocked the start */
};

/* Starts an instance: reads the existing row (dedupe, Generation + 1; not for a fresh id), makes
 * the hub when it does not exist, sends ExecutionStarted to the instance's
 * control queue, then writes the Instances row as Pending with the same
 * ExecutionId and Generation (Insert, or Replace with the row's ETag).
 * Input over the table limit goes to a blob and the row holds its URL. */
dg_err hub_start_instance(struct hub *h, az_ctx *x, const struct hub_start *req, struct hub_started *out);

/* One event to the instance's current execution (ExecutionId null). The
 * callers check the instance's status first. */
dg_err hub_raise_event(struct hub *h, az_ctx *x, const char *id, const char *event_name,
                       const char *input_json);
dg_err hub_terminate(struct hub *h, az_ctx *x, const char *id, const char *reason);
dg_err hub_suspend(struct hub *h, az_ctx *x, const char *id, const char *reason);
dg_err hub_resume(struct hub *h, az_ctx *x, const char *id, const char *reason);

#endif
