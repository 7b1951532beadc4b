/* The commands: each is one or more requests of the management API (the
 * same in both modes, cli.h), and the answer turned into the JSON on stdout,
 * a line on stderr and the exit status. */
#include "base/time.h"
#include "base/url.h"
#include "cli/cli.h"
#include "routes/router.h"
#include "taskhub/history.h"
#include "taskhub/instance.h"
#include "taskhub/largemsg.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define API_BASE "/runtime/webhooks/durabletask/"
/* --input and --event-data files: at most what the hub keeps of one payload
 * (a gateway refuses bodies over 4 MiB with 413 before that). */
#define PAYLOAD_MAX HUB_MAX_LARGE_PAYLOAD
/* Pages of get-instances --all when --top is not given: the list's largest. */
#define LIST_ALL_PAGE "1000"

/* Appends name=value, the value percent-encoded. */
static void q_add(dg_arena *a, const char **q, const char *name, const char *value)
{
    *q = dg_arena_printf(a, "%s%s%s=%s", *q, **q ? "&" : "", name,
                         dg_url_encode_a(a, value, strlen(value), ""));
}

/* One path segment (an instance id, a name), '/' included, percent-encoded. */
static const char *seg(dg_arena *a, const char *s)
{
    return dg_url_encode_a(a, s, strlen(s), "");
}

static const char *join(dg_arena *a, const struct cli_list *l)
{
    const char *s = "";
    for (size_t i = 0; i < l->n; i++)
        s = dg_arena_printf(a, "%s%s%s", s, i ? "," : "", l->v[i]);
    return s;
}

static const char *hub_desc(const struct cli *c)
{
    return c->hub ? dg_arena_printf(c->a, "task hub '%s'", c->hub) : "the gateway's default task hub";
}

/* Sends the call with the hub (and, to a gateway, a connection named with
 * --connection-string-setting) added. false after a message when no answer came. */
static bool send_call(struct cli *c, dg_arena *a, const struct cli_call *call, struct cli_answer *ans)
{
    const char *q = "";
    if (c->hub)
        q_add(a, &q, "taskHub", c->hub);
    if (c->gw && c->connection_given)
        q_add(a, &q, "connection", c->connection);
    struct cli_call whole = *call;
    whole.path = dg_arena_printf(a, API_BASE "%s", call->path);
    whole.query = dg_arena_printf(a, "%s%s%s", q, *q && *call->query ? "&" : "", call->query);
    char why[512];
    bool ok = c->gw ? cli_gw_call(c->gw, a, &whole, ans, why, sizeof why)
                    : cli_local_call(c->local, a, &whole, ans, why, sizeof why);
    if (!ok)
        cli_error("%s", why);
    return ok;
}

/* The body as JSON, freed with a; NULL when it is not JSON. */
static cJSON *body_json(dg_arena *a, const struct cli_answer *ans)
{
    cJSON *j = cJSON_ParseWithLength(ans->body, ans->body_len);
    if (j)
        dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, j);
    return j;
}

/* The reason in an error answer: the bare string, or ExceptionMessage, else
 * Message, of the host's error objects. NULL when there is none. */
static const char *answer_reason(dg_arena *a, const struct cli_answer *ans)
{
    const cJSON *j = body_json(a, ans);
    if (cJSON_IsString(j))
        return j->valuestring;
    const cJSON *em = cJSON_GetObjectItemCaseSensitive(j, "ExceptionMessage");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "Message");
    return cJSON_IsString(em) && *em->valuestring ? em->valuestring
           : cJSON_IsString(m)                    ? m->valuestring
                                                  : NULL;
}

/* Says in one line why the answer is a failure and gives the exit status:
 * CLI_USAGE for what the API calls bad input (400), else CLI_FAILED.
 * not_found, when not NULL, is what a 404 means for this command. */
static int fail(struct cli *c, dg_arena *a, const struct cli_answer *ans, const char *not_found)
{
    const char *why = answer_reason(a, ans);
    if (ans->status == 404 && not_found)
        why = not_found;
    else if (ans->status == 401)
        why = "the gateway refused the key (401): give a system key with --key or DURABLE_GATEWAY_KEY";
    else if (ans->status == 403)
        why = "the gateway refused this key for this command (403): a read-only key, or another extension's";
    if (!why)
        why = dg_arena_printf(a, "the %s answered %d", c->gw ? "gateway" : "task hub", ans->status);
    cli_error("%s", why);
    return ans->status == 400 ? CLI_USAGE : CLI_FAILED;
}

static const char *no_instance(struct cli *c)
{
    return dg_arena_printf(c->a, "no instance '%s' in %s", c->o.id, hub_desc(c));
}

/* ---- checks before anything is sent ---- */

static bool check_time(struct cli *c, const char *flag, const char **v, dg_ticks *t)
{
    if (!*v)
        return true;
    if (!rt_time_parse(*v, t)) {
        cli_error("%s: '%s' is not an ISO 8601 time (such as 2024-05-01, 2024-05-01T10:00:00Z or "
                  "2024-05-01T12:00:00+02:00)",
                  flag, *v);
        return false;
    }
    char iso[DG_ISO_LEN];
    dg_iso_format(*t, iso);
    *v = dg_arena_strdup(c->a, iso);
    return true;
}

/* The stored name of a status given in any case (Core Tools parses them
 * ignoring case) or as its number; NULL for anything else. */
static const char *status_name(const char *s)
{
    for (int i = 0; hub_orchestration_status_name(i); i++)
        if (strcasecmp(s, hub_orchestration_status_name(i)) == 0)
            return hub_orchestration_status_name(i);
    return hub_status_parse(s, strlen(s));
}

static bool check_statuses(struct cli *c, bool terminal_only)
{
    struct cli_list *l = &c->o.runtime_status;
    for (size_t i = 0; i < l->n; i++) {
        const char *s = status_name(l->v[i]);
        if (!s) {
            cli_error("--runtime-status: '%s' is not a runtime status (Running, Completed, ContinuedAsNew, "
                      "Failed, Canceled, Terminated, Pending, Suspended)",
                      l->v[i]);
            return false;
        }
        if (terminal_only && !hub_status_terminal(s)) {
            /* The provider would drop it and, with nothing left, purge every status. */
            cli_error("--runtime-status: purge-history takes finished statuses only (Completed, Failed, "
                      "Terminated, Canceled), not %s",
                      s);
            return false;
        }
        l->v[i] = s;
    }
    return true;
}

/* Inline JSON, or @file: the text, checked to be one JSON value. */
static bool check_json(struct cli *c, const char *flag, const char **v)
{
    if (!*v)
        return true;
    const char *text = *v;
    const char *file = text[0] == '@' ? text + 1 : NULL;
    if (file) {
        char *data, why[512];
        size_t n;
        if (!cli_read_file(c->a, file, PAYLOAD_MAX, &data, &n, why, sizeof why)) {
            cli_error("%s: %s", flag, why);
            return false;
        }
        if (strlen(data) != n) {
            cli_error("%s: '%s' holds a NUL byte: it is not JSON text", flag, file);
            return false;
        }
        text = data;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
    if (!j) {
        size_t line = 1;
        for (const char *p = text; end && p < end; p++)
            line += *p == '\n';
        if (file)
            cli_error("%s: '%s' is not valid JSON (line %zu)", flag, file, line);
        else
            cli_error("%s: not valid JSON; a string needs its quotes, as in '\"Tokyo\"'", flag);
        return false;
    }
    cJSON_Delete(j);
    *v = text;
    return true;
}

static bool check_top(struct cli *c)
{
    const char *v = c->o.top;
    if (!v)
        return true;
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 1 || n > 1000) {
        cli_error("--top: '%s' is not a number from 1 to 1000", v);
        return false;
    }
    return true;
}

int cli_check_values(struct cli *c)
{
    struct cli_opts *o = &c->o;
    dg_ticks after = 0, before = 0;
    if (!check_time(c, "--created-after", &o->created_after, &after) ||
        !check_time(c, "--created-before", &o->created_before, &before))
        return CLI_USAGE;
    if (o->created_after && o->created_before && after > before) {
        cli_error("--created-after is later than --created-before: nothing can match");
        return CLI_USAGE;
    }
    if (!check_statuses(c, false) || !check_top(c) || !check_json(c, "--input", &o->input) ||
        !check_json(c, "--event-data", &o->event_data))
        return CLI_USAGE;
    if (o->key && !o->gateway) {
        cli_error("--key goes with --gateway: straight to storage there is no key to give");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* ---- the commands ---- */

int cli_start_new(struct cli *c)
{
    dg_arena *a = c->a;
    const char *name = c->o.function_name;
    const char *path = c->o.id ? dg_arena_printf(a, "orchestrators/%s/%s", seg(a, name), seg(a, c->o.id))
                               : dg_arena_printf(a, "orchestrators/%s", seg(a, name));
    struct cli_call call = {"POST", path, "", NULL, c->o.input};
    struct cli_answer ans;
    if (!send_call(c, a, &call, &ans))
        return CLI_FAILED;
    if (ans.status != 202)
        return fail(c, a, &ans, NULL);
    cJSON *j = body_json(a, &ans);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    if (!cJSON_IsString(id)) {
        cli_error("the answer to the start has no instance id");
        return CLI_FAILED;
    }
    if (c->gw) {
        cli_print_json(c, j); /* the check-status links point at that gateway */
    } else {
        /* Straight to storage there is no gateway for links to point at: the id alone. */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", id->valuestring);
        cli_print_json(c, o);
        cJSON_Delete(o);
    }
    cli_note("Started '%s' as instance '%s' in %s.", name, id->valuestring, hub_desc(c));
    return CLI_OK;
}

/* GET instances/{id}?query: the status object (freed with the run's arena),
 * or NULL with *rc set after a message. */
static cJSON *status_of(struct cli *c, const char *query, int *rc)
{
    dg_arena *a = c->a;
    struct cli_call call = {"GET", dg_arena_printf(a, "instances/%s", seg(a, c->o.id)), query, NULL, NULL};
    struct cli_answer ans;
    if (!send_call(c, a, &call, &ans)) {
        *rc = CLI_FAILED;
        return NULL;
    }
    cJSON *j = body_json(a, &ans);
    if ((ans.status != 200 && ans.status != 202) || !cJSON_IsObject(j)) {
        *rc = fail(c, a, &ans, no_instance(c));
        return NULL;
    }
    return j;
}

int cli_get_runtime_status(struct cli *c)
{
    /* Core Tools leaves input and output out unless asked. */
    int rc;
    cJSON *j = status_of(c, c->o.show_input == 1 ? "showInput=true" : "showInput=false", &rc);
    if (!j)
        return rc;
    if (c->o.show_output != 1)
        cJSON_ReplaceItemInObjectCaseSensitive(j, "output", cJSON_CreateNull());
    cli_print_json(c, j);
    return CLI_OK;
}

int cli_get_history(struct cli *c)
{
    int rc;
    cJSON *j = status_of(c, "showHistory=true&showHistoryOutput=true", &rc);
    if (!j)
        return rc;
    /* No events to show (a Pending instance, say): the answer has none, the list is empty. */
    cJSON *events = cJSON_GetObjectItemCaseSensitive(j, "historyEvents");
    if (!cJSON_IsArray(events)) {
        events = cJSON_CreateArray();
        cJSON_AddItemToObject(j, "historyEvents", events);
    }
    cli_print_json(c, events);
    return CLI_OK;
}

/* ---- requests answered in pages (get-instances, purge-history) ---- */

static volatile sig_atomic_t interrupted; /* set by purge-history's SIGINT handler */

/* One page's answer: CLI_OK with *n grown by its instances, PAGES_DONE when
 * it says there is nothing more, else an exit status after a message. */
#define PAGES_DONE (-1)
struct pager;
typedef int (*page_fn)(struct cli *c, dg_arena *page, const struct cli_answer *ans, struct pager *p);

struct pager {
    const char *method, *query;
    const char *token; /* in: the first page's, or NULL; out: the next page's, NULL after the last */
    bool all;          /* follow the tokens (else one page) */
    const char *verb;  /* of the progress line */
    page_fn page;
    void *ctx;
    size_t n; /* instances so far */
};

/* Sends p's request page after page on "instances", with a progress line
 * between pages on a terminal, until the last page, the first page when
 * !p->all, a failure, or Ctrl-C (CLI_INTERRUPTED). */
static int follow(struct cli *c, struct pager *p)
{
    struct cli_progress prog;
    cli_progress_init(&prog, c);
    dg_arena *page = dg_arena_create();
    int rc = CLI_OK;
    for (;;) {
        dg_arena_reset(page);
        struct cli_call call = {p->method, "instances", p->query, p->token, NULL};
        struct cli_answer ans;
        if (!send_call(c, page, &call, &ans)) {
            rc = CLI_FAILED;
            break;
        }
        rc = p->page(c, page, &ans, p);
        if (rc) {
            p->token = NULL;
            if (rc == PAGES_DONE)
                rc = CLI_OK;
            break;
        }
        p->token = ans.token && *ans.token ? dg_arena_strdup(c->a, ans.token) : NULL;
        if (!p->all || !p->token)
            break;
        cli_progress_show(&prog, p->verb, p->n);
        if (interrupted) {
            rc = CLI_INTERRUPTED;
            break;
        }
    }
    dg_arena_destroy(page);
    cli_progress_end(&prog);
    return rc;
}

/* A list page: its instances moved to the array in p->ctx. */
static int list_page(struct cli *c, dg_arena *page, const struct cli_answer *ans, struct pager *p)
{
    cJSON *arr = body_json(page, ans);
    if (ans->status != 200 || !cJSON_IsArray(arr))
        return fail(c, page, ans, NULL);
    cJSON *it;
    while ((it = cJSON_DetachItemFromArray(arr, 0)) != NULL) {
        cJSON_AddItemToArray(p->ctx, it);
        p->n++;
    }
    return CLI_OK;
}

int cli_get_instances(struct cli *c)
{
    dg_arena *a = c->a;
    const struct cli_opts *o = &c->o;
    const char *q = "";
    if (o->created_after)
        q_add(a, &q, "createdTimeFrom", o->created_after);
    if (o->created_before)
        q_add(a, &q, "createdTimeTo", o->created_before);
    if (o->runtime_status.n)
        q_add(a, &q, "runtimeStatus", join(a, &o->runtime_status));
    if (o->name.n)
        q_add(a, &q, "name", join(a, &o->name));
    if (o->instance_id_prefix)
        q_add(a, &q, "instanceIdPrefix", o->instance_id_prefix);
    if (o->show_input != -1)
        q_add(a, &q, "showInput", o->show_input ? "true" : "false");
    q_add(a, &q, "top", o->top ? o->top : o->all ? LIST_ALL_PAGE : "10"); /* Core Tools' default page: 10 */

    cJSON *all = cJSON_CreateArray();
    dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, all);
    struct pager pg = {.method = "GET",
                       .query = q,
                       .token = o->continuation_token,
                       .all = o->all,
                       .verb = "listed",
                       .page = list_page,
                       .ctx = all};
    int rc = follow(c, &pg);
    if (rc)
        return rc;
    cli_print_json(c, all);
    if (pg.token)
        cli_note("More instances follow: run again with --continuation-token %s", pg.token);
    return CLI_OK;
}

/* terminate, suspend, resume, rewind: one POST to instances/{id}/{op}. */
static int instance_op(struct cli *c, const char *op, const char *finished, const char *done)
{
    dg_arena *a = c->a;
    const char *q = "";
    if (c->o.reason)
        q_add(a, &q, "reason", c->o.reason);
    struct cli_call call = {"POST", dg_arena_printf(a, "instances/%s/%s", seg(a, c->o.id), op), q, NULL,
                            NULL};
    struct cli_answer ans;
    if (!send_call(c, a, &call, &ans))
        return CLI_FAILED;
    if (ans.status == 410) {
        cli_error("instance '%s' has already finished: %s", c->o.id, finished);
        return CLI_FAILED;
    }
    if (ans.status != 202)
        return fail(c, a, &ans, no_instance(c));
    cli_note("%s instance '%s'.", done, c->o.id);
    return CLI_OK;
}

int cli_terminate(struct cli *c)
{
    return instance_op(c, "terminate", "there is nothing to terminate", "Sent a termination request to");
}

int cli_suspend(struct cli *c)
{
    return instance_op(c, "suspend", "it cannot be suspended", "Sent a suspend request to");
}

int cli_resume(struct cli *c)
{
    return instance_op(c, "resume", "it cannot be resumed", "Sent a resume request to");
}

int cli_rewind(struct cli *c)
{
    return instance_op(c, "rewind", "only a Failed instance can be rewound", "Sent a rewind request to");
}

int cli_raise_event(struct cli *c)
{
    dg_arena *a = c->a;
    const char *path =
        dg_arena_printf(a, "instances/%s/raiseEvent/%s", seg(a, c->o.id), seg(a, c->o.event_name));
    struct cli_call call = {"POST", path, "", NULL, c->o.event_data ? c->o.event_data : "null"};
    struct cli_answer ans;
    if (!send_call(c, a, &call, &ans))
        return CLI_FAILED;
    if (ans.status == 410) {
        cli_error("instance '%s' has already finished: it takes no more events", c->o.id);
        return CLI_FAILED;
    }
    if (ans.status != 202)
        return fail(c, a, &ans, no_instance(c));
    cli_note("Raised event '%s' to instance '%s'.", c->o.event_name, c->o.id);
    return CLI_OK;
}

/* ---- purge-history: pages, progress, Ctrl-C between pages ---- */

static void on_interrupt(int sig)
{
    (void) sig;
    interrupted = 1;
    static const char msg[] =
        "\ndurable: stopping after the instances in progress (Ctrl-C again to quit at once)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void) w;
}

static void print_deleted(const struct cli *c, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "instancesDeleted", (double) n);
    cli_print_json(c, o);
    cJSON_Delete(o);
}

/* A purge page: {"instancesDeleted":n}, or 404 when nothing (more) matched. */
static int purge_page(struct cli *c, dg_arena *page, const struct cli_answer *ans, struct pager *p)
{
    if (ans->status == 404)
        return PAGES_DONE;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(body_json(page, ans), "instancesDeleted");
    if (ans->status != 200 || !cJSON_IsNumber(d))
        return fail(c, page, ans, NULL);
    p->n += (size_t) d->valuedouble;
    return CLI_OK;
}

int cli_purge_history(struct cli *c)
{
    dg_arena *a = c->a;
    const struct cli_opts *o = &c->o;
    if (!check_statuses(c, true))
        return CLI_USAGE;
    const char *q = "";
    /* Core Tools' default range starts at DateTime.MinValue; the route's end is now. */
    q_add(a, &q, "createdTimeFrom", o->created_after ? o->created_after : "0001-01-01T00:00:00Z");
    if (o->created_before)
        q_add(a, &q, "createdTimeTo", o->created_before);
    if (o->runtime_status.n)
        q_add(a, &q, "runtimeStatus", join(a, &o->runtime_status));

    /* One handler, reset after the first signal: the first Ctrl-C lets the
     * page in progress end (its instances are purged whole: the Instances row
     * goes last) and stops; a second one kills the process, which is just as
     * safe, since a half-purged instance keeps its row and the next run
     * finishes it. */
    struct sigaction sa = {.sa_handler = on_interrupt, .sa_flags = SA_RESETHAND | SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    int64_t t0 = dg_mono_ms();
    struct pager pg = {.method = "DELETE", .query = q, .all = true, .verb = "purged", .page = purge_page};
    int rc = follow(c, &pg);
    signal(SIGINT, SIG_DFL);
    double secs = (double) (dg_mono_ms() - t0) / 1000.0;
    size_t n = pg.n;
    if (rc != CLI_OK && rc != CLI_INTERRUPTED && n == 0)
        return rc; /* the reason is said; nothing was purged */
    print_deleted(c, n);
    const char *many = n == 1 ? "" : "s";
    if (rc == CLI_INTERRUPTED)
        cli_note("Interrupted: purged %zu instance%s; run the same command again to purge the rest.", n,
                 many);
    else if (rc == CLI_OK)
        cli_note("Purged %zu instance%s from %s in %.1f s.", n, many, hub_desc(c), secs);
    else
        cli_note("Purged %zu instance%s before the failure above; run the same command again to go on.", n,
                 many);
    return rc;
}

/* ---- delete-task-hub ---- */

static bool confirmed(const struct cli *c)
{
    fprintf(stderr, "Delete %s with every instance, its history, queues and blobs? [y/N] ", hub_desc(c));
    fflush(stderr);
    char line[64];
    if (!fgets(line, sizeof line, stdin))
        return false;
    return strcasecmp(line, "y\n") == 0 || strcasecmp(line, "yes\n") == 0;
}

int cli_delete_task_hub(struct cli *c)
{
    dg_arena *a = c->a;
    if (!c->o.yes && isatty(STDIN_FILENO) && !confirmed(c)) {
        cli_error("nothing deleted");
        return CLI_FAILED;
    }
    struct cli_call call = {"DELETE", "taskhub", "", NULL, NULL};
    struct cli_answer ans;
    if (!send_call(c, a, &call, &ans))
        return CLI_FAILED;
    cJSON *j = body_json(a, &ans);
    if (ans.status != 200 || !cJSON_IsObject(j))
        return fail(c, a, &ans, dg_arena_printf(a, "%s has nothing to delete", hub_desc(c)));
    cli_print_json(c, j);
    const cJSON *hub = cJSON_GetObjectItemCaseSensitive(j, "taskHub");
    cli_note("Deleted task hub '%s'.", cJSON_IsString(hub) ? hub->valuestring : "?");
    return CLI_OK;
}
