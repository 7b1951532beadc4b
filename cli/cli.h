/* durable: the command-line client (the `func durable` commands).
 *
 * Every command is one or more requests of the management API
 * (/runtime/webhooks/durabletask/...), sent one of two ways:
 *   - straight to storage (the default): the request goes through the
 *     gateway's own route handlers in this process (rt_dispatch with an
 *     in-memory request, routes/ over the blocking taskhub/ operations), so
 *     every check, every storage semantic and every JSON shape is the
 *     gateway's and there is no second implementation of any;
 *   - through a running gateway (--gateway URL): the same request over HTTP
 *     (gateway.c, the only user of libcurl here).
 * The answer is read the same way in both modes (commands.c), so the two
 * print the same thing for the same hub.
 *
 * Everything lives in the run's arena or in the arena passed in. */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include "base/arena.h"
#include "base/buf.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2, CLI_INTERRUPTED = 130 };

/* Flags that take several values (--runtime-status A B, --name X Y). */
struct cli_list {
    const char **v;
    size_t n;
};

/* What the command line said; NULL / -1 / false when a flag was not given. */
struct cli_opts {
    const char *id, *function_name, *input, *reason, *event_name, *event_data;
    const char *created_after, *created_before, *top, *continuation_token, *instance_id_prefix;
    struct cli_list runtime_status, name;
    int show_input, show_output; /* -1: not given, else 0 or 1 */
    int all, yes;                /* 0 or 1 */
    const char *connection_setting, *task_hub, *gateway, *key;
};

/* One request of the management API. Commands fill path and query relative
 * to the base path and without the hub; the transports get them whole
 * ("/runtime/webhooks/durabletask/..." and "taskHub=...&..."). */
struct cli_call {
    const char *method;
    const char *path;  /* each segment percent-encoded: "instances/a%2Fb" */
    const char *query; /* encoded name=value pairs joined with '&'; may be "" */
    const char *token; /* x-ms-continuation-token to send, or NULL */
    const char *body;  /* JSON text sent as application/json, or NULL for no body */
};

/* Its answer. */
struct cli_answer {
    int status;
    const char *body; /* NUL-terminated, "" when empty */
    size_t body_len;
    const char *token; /* the answer's x-ms-continuation-token, or NULL */
};

typedef struct cli_local cli_local;
typedef struct cli_gw cli_gw;

struct cli {
    dg_arena *a; /* the run's */
    struct cli_opts o;
    const char *hub;        /* the task hub to send, or NULL: the gateway's default */
    const char *connection; /* the connection setting's name */
    bool connection_given;  /* --connection-string-setting was given (sent to a gateway) */
    unsigned partitions;    /* host.json's partitionCount, 0: the default */
    cli_local *local;       /* exactly one of these two */
    cli_gw *gw;
    bool out_tty, err_tty;
};

/* settings.c: host.json, local.settings.json and the environment, as Core
 * Tools reads them. Fills c->hub, c->connection, c->partitions and, in
 * storage mode, *connection_string. CLI_OK, or CLI_USAGE after one line on stderr. */
int cli_settings(struct cli *c, const char **connection_string);
/* The whole file (at most cap bytes), NUL-terminated, in a. false with a
 * reason in why when it cannot be read or is larger. */
bool cli_read_file(dg_arena *a, const char *path, size_t cap, char **data, size_t *n, char *why,
                   size_t whylen);

/* local.c: requests through the route handlers, straight to storage. NULL
 * with a reason when the connection string is not valid. */
cli_local *cli_local_create(const char *connection_string, unsigned partitions, char *why, size_t whylen);
bool cli_local_call(cli_local *l, dg_arena *a, const struct cli_call *call, struct cli_answer *ans, char *why,
                    size_t whylen);
void cli_local_destroy(cli_local *l);

/* gateway.c: requests to a running gateway. NULL with a reason when the URL
 * is not http(s)://host[:port][/base]. key may be NULL (a --no-auth gateway). */
cli_gw *cli_gw_create(const char *url, const char *key, char *why, size_t whylen);
/* false with a reason when no answer came (refused, timed out, too large). */
bool cli_gw_call(cli_gw *g, dg_arena *a, const struct cli_call *call, struct cli_answer *ans, char *why,
                 size_t whylen);
void cli_gw_destroy(cli_gw *g);

/* commands.c: one function per command; each returns the exit status. */
int cli_start_new(struct cli *c);
int cli_get_runtime_status(struct cli *c);
int cli_get_history(struct cli *c);
int cli_get_instances(struct cli *c);
int cli_terminate(struct cli *c);
int cli_raise_event(struct cli *c);
int cli_rewind(struct cli *c);
int cli_suspend(struct cli *c);
int cli_resume(struct cli *c);
int cli_purge_history(struct cli *c);
int cli_delete_task_hub(struct cli *c);
/* Checks the values of the flags given (times, statuses, JSON, files, numbers)
 * before anything is sent: CLI_OK, or CLI_USAGE after one line on stderr. */
int cli_check_values(struct cli *c);

/* output.c */
/* "durable: " + the message, one line on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A line on stderr without the prefix (what a command did). */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* j on stdout: indented on a terminal, compact otherwise; one trailing newline. */
void cli_print_json(const struct cli *c, const cJSON *j);

/* A progress line on stderr that updates in place, on a terminal only; the
 * next message (cli_error, cli_note) clears it first. */
struct cli_progress {
    bool on;
    long long t0_ms;
};
void cli_progress_init(struct cli_progress *p, const struct cli *c);
/* "<verb> N instances (R/s)". */
void cli_progress_show(struct cli_progress *p, const char *verb, size_t n);
/* Clears the line, if one was shown. */
void cli_progress_end(struct cli_progress *p);

#endif
