/* durable: the command-line client. The command and flag tables, the
 * parsing of the command line, --help, and the run: settings, checks, the
 * transport (straight to storage or through a gateway), the command. */
#include "base/arena.h"
#include "cli/cli.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum flag_kind {
    FLAG_STR,  /* --flag VALUE or --flag=VALUE */
    FLAG_BOOL, /* --flag, --flag true|false, --flag=true|false */
    FLAG_LIST, /* --flag A B C (the values up to the next --flag; each may hold A,B or "A B") */
};

struct flag {
    const char *name;
    enum flag_kind kind;
    size_t offset; /* into struct cli_opts */
    const char *value;
    const char *help;
};

#define OPT(field) offsetof(struct cli_opts, field)

/* Every flag once; the commands list which of these they take. */
static const struct flag flags[] = {
    {"id", FLAG_STR, OPT(id), "ID", "the instance id"},
    {"function-name", FLAG_STR, OPT(function_name), "NAME", "the orchestrator function to start"},
    {"input", FLAG_STR, OPT(input), "JSON|@FILE", "the orchestration's input: JSON, or @ and a JSON file"},
    {"reason", FLAG_STR, OPT(reason), "TEXT", "why (kept with the instance)"},
    {"event-name", FLAG_STR, OPT(event_name), "NAME", "the event's name"},
    {"event-data", FLAG_STR, OPT(event_data), "JSON|@FILE",
     "the event's payload: JSON, or @ and a JSON file"},
    {"show-input", FLAG_BOOL, OPT(show_input), "true|false", "include the input"},
    {"show-output", FLAG_BOOL, OPT(show_output), "true|false", "include the output"},
    {"created-after", FLAG_STR, OPT(created_after), "TIME",
     "created at or after this ISO 8601 time (UTC unless it says)"},
    {"created-before", FLAG_STR, OPT(created_before), "TIME", "created at or before this ISO 8601 time"},
    {"runtime-status", FLAG_LIST, OPT(runtime_status), "S...",
     "only these statuses: Running Pending Completed Failed Terminated Canceled ContinuedAsNew Suspended"},
    {"top", FLAG_STR, OPT(top), "N", "instances per page, 1 to 1000 (default 10; 1000 with --all)"},
    {"continuation-token", FLAG_STR, OPT(continuation_token), "TOKEN",
     "start at this page (printed by the previous one)"},
    {"all", FLAG_BOOL, OPT(all), NULL, "every page, following the continuation tokens"},
    {"name", FLAG_LIST, OPT(name), "NAME...", "only instances of these orchestrators"},
    {"instance-id-prefix", FLAG_STR, OPT(instance_id_prefix), "P", "only ids starting with P"},
    {"yes", FLAG_BOOL, OPT(yes), NULL, "do not ask for confirmation"},
    {"connection-string-setting", FLAG_STR, OPT(connection_setting), "NAME",
     "the setting holding the storage connection string (default AzureWebJobsStorage)"},
    {"task-hub-name", FLAG_STR, OPT(task_hub), "NAME",
     "the task hub (default host.json's hubName, else DurableFunctionsHub)"},
    {"gateway", FLAG_STR, OPT(gateway), "URL", "send the command through the durable-gateway at URL instead"},
    {"key", FLAG_STR, OPT(key), "KEY", "the gateway's system key (default $DURABLE_GATEWAY_KEY)"},
};

/* Taken by every command. */
static const char *const common[] = {"connection-string-setting", "task-hub-name", "gateway", "key", NULL};

#define MAX_CMD_FLAGS 12

struct command {
    const char *name;
    int (*run)(struct cli *c);
    const char *summary;
    const char *flags[MAX_CMD_FLAGS]; /* NULL-terminated */
    const char *required[3];
    const char *example;
};

static const struct command commands[] = {
    {"start-new",
     cli_start_new,
     "Start a new instance of an orchestrator function",
     {"function-name", "input", "id", NULL},
     {"function-name", NULL},
     "durable start-new --function-name E1_HelloSequence --input '\"Tokyo\"' --id order-42"},
    {"get-runtime-status",
     cli_get_runtime_status,
     "Print the status of an instance",
     {"id", "show-input", "show-output", NULL},
     {"id", NULL},
     "durable get-runtime-status --id order-42 --show-output true"},
    {"get-history",
     cli_get_history,
     "Print the history events of an instance",
     {"id", NULL},
     {"id", NULL},
     "durable get-history --id order-42"},
    {"get-instances",
     cli_get_instances,
     "Print the status of instances, a page at a time (or --all)",
     {"created-after", "created-before", "runtime-status", "top", "continuation-token", "all", "name",
      "instance-id-prefix", "show-input", NULL},
     {NULL},
     "durable get-instances --runtime-status Running Pending --created-after 2024-05-01 --all"},
    {"terminate",
     cli_terminate,
     "Terminate a running instance",
     {"id", "reason", NULL},
     {"id", NULL},
     "durable terminate --id order-42 --reason 'cancelled by the customer'"},
    {"raise-event",
     cli_raise_event,
     "Send an event to a running instance",
     {"id", "event-name", "event-data", NULL},
     {"id", "event-name", NULL},
     "durable raise-event --id order-42 --event-name Approval --event-data '{\"ok\":true}'"},
    {"rewind",
     cli_rewind,
     "Rewind a failed instance: its failed tasks run again",
     {"id", "reason", NULL},
     {"id", NULL},
     "durable rewind --id order-42 --reason 'the bug is fixed'"},
    {"suspend",
     cli_suspend,
     "Suspend a running instance",
     {"id", "reason", NULL},
     {"id", NULL},
     "durable suspend --id order-42 --reason maintenance"},
    {"resume",
     cli_resume,
     "Resume a suspended instance",
     {"id", "reason", NULL},
     {"id", NULL},
     "durable resume --id order-42"},
    {"purge-history",
     cli_purge_history,
     "Delete finished instances, their history and blobs (Ctrl-C stops between pages; run again to go on)",
     {"created-after", "created-before", "runtime-status", NULL},
     {NULL},
     "durable purge-history --created-before 2024-06-01 --runtime-status Completed Failed"},
    {"delete-task-hub",
     cli_delete_task_hub,
     "Delete the task hub: its tables, queues and containers (asks first on a terminal)",
     {"yes", NULL},
     {NULL},
     "durable delete-task-hub --task-hub-name OldHub --yes"},
};

#define NCOMMANDS (sizeof commands / sizeof *commands)

static const struct flag *flag_named(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        if (strlen(flags[i].name) == n && strncmp(flags[i].name, name, n) == 0)
            return &flags[i];
    return NULL;
}

static bool takes(const struct command *cmd, const char *name)
{
    for (const char *const *f = cmd->flags; *f; f++)
        if (strcmp(*f, name) == 0)
            return true;
    for (const char *const *f = common; *f; f++)
        if (strcmp(*f, name) == 0)
            return true;
    return false;
}

static void help_flag(FILE *out, const char *name)
{
    const struct flag *f = flag_named(name, strlen(name));
    const char *v = f->value ? f->value : "";
    fprintf(out, "  --%s %-*s %s\n", f->name, (int) (36 - strlen(f->name)), v, f->help);
}

static void help_program(FILE *out)
{
    fprintf(out, "usage: durable COMMAND [FLAGS]   (durable COMMAND --help for its flags)\n\n"
                 "Manage Durable Functions task hubs in Azure Storage, as `func durable` does: straight to\n"
                 "storage, or through a durable-gateway with --gateway URL --key KEY.\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-20s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nflags of every command:\n");
    for (const char *const *f = common; *f; f++)
        help_flag(out, *f);
    fprintf(out,
            "\nThe connection string is the environment variable the setting names, else that entry of\n"
            "local.settings.json's Values in the working directory. JSON goes to stdout (indented on a\n"
            "terminal), messages to stderr. Exit status: 0 done, 1 failed, 2 bad usage, 130 interrupted.\n");
}

static void help_command(FILE *out, const struct command *cmd)
{
    fprintf(out, "usage: durable %s", cmd->name);
    for (const char *const *f = cmd->flags; *f; f++) {
        bool req = false;
        for (const char *const *r = cmd->required; *r; r++)
            req = req || strcmp(*r, *f) == 0;
        const struct flag *fl = flag_named(*f, strlen(*f));
        fprintf(out, " %s--%s%s%s%s", req ? "" : "[", fl->name, fl->value ? " " : "",
                fl->value ? fl->value : "", req ? "" : "]");
    }
    fprintf(out, "\n\n%s.\n\nflags:\n", cmd->summary);
    for (const char *const *f = cmd->flags; *f; f++)
        help_flag(out, *f);
    for (const char *const *f = common; *f; f++)
        help_flag(out, *f);
    fprintf(out, "\nexample:\n  %s\n", cmd->example);
}

static void list_add(dg_arena *a, struct cli_list *l, const char *v, size_t n)
{
    const char **grown = dg_arena_alloc(a, (l->n + 1) * sizeof *grown);
    if (l->n)
        memcpy(grown, l->v, l->n * sizeof *grown);
    grown[l->n++] = dg_arena_strndup(a, v, n);
    l->v = grown;
}

/* Splits one value of a list flag at spaces and commas. */
static void list_add_split(dg_arena *a, struct cli_list *l, const char *v)
{
    for (const char *p = v; *p;) {
        size_t n = strcspn(p, " ,\t");
        if (n)
            list_add(a, l, p, n);
        p += n;
        p += strspn(p, " ,\t");
    }
}

static bool parse_bool(const char *v, int *out)
{
    if (strcasecmp(v, "true") == 0)
        *out = 1;
    else if (strcasecmp(v, "false") == 0)
        *out = 0;
    else
        return false;
    return true;
}

/* Parses argv[2..] for cmd into c->o. CLI_OK, CLI_USAGE after one line, or
 * -1 when --help was asked for (and printed). */
static int parse_flags(struct cli *c, const struct command *cmd, int argc, char **argv)
{
    struct cli_opts *o = &c->o;
    bool seen[sizeof flags / sizeof *flags] = {false};
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            help_command(stdout, cmd);
            return -1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            cli_error("%s: unexpected argument '%s' (flags start with --; see durable %s --help)", cmd->name,
                      arg, cmd->name);
            return CLI_USAGE;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nn = eq ? (size_t) (eq - name) : strlen(name);
        const struct flag *f = flag_named(name, nn);
        if (!f || !takes(cmd, f->name)) {
            cli_error("%s: unknown flag --%.*s (see durable %s --help)", cmd->name, (int) nn, name,
                      cmd->name);
            return CLI_USAGE;
        }
        size_t k = (size_t) (f - flags);
        if (seen[k] && f->kind != FLAG_LIST) {
            cli_error("%s: --%s given twice", cmd->name, f->name);
            return CLI_USAGE;
        }
        seen[k] = true;
        char *field = (char *) o + f->offset;
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        bool next_is_value = next && strncmp(next, "--", 2) != 0;
        switch (f->kind) {
        case FLAG_STR: {
            const char *v = eq ? eq + 1 : next_is_value ? argv[++i] : NULL;
            if (!v) {
                cli_error("%s: --%s needs a value (%s)", cmd->name, f->name, f->value);
                return CLI_USAGE;
            }
            *(const char **) field = v;
            break;
        }
        case FLAG_BOOL: {
            int b = 1;
            if (eq) {
                if (!parse_bool(eq + 1, &b)) {
                    cli_error("%s: --%s takes true or false, not '%s'", cmd->name, f->name, eq + 1);
                    return CLI_USAGE;
                }
            } else if (next_is_value && parse_bool(next, &b)) {
                i++;
            } else if (next_is_value && f->value) {
                cli_error("%s: --%s takes true or false, not '%s'", cmd->name, f->name, next);
                return CLI_USAGE;
            }
            *(int *) field = b;
            break;
        }
        case FLAG_LIST: {
            struct cli_list *l = (struct cli_list *) field;
            size_t before = l->n;
            if (eq)
                list_add_split(c->a, l, eq + 1);
            else
                while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
                    list_add_split(c->a, l, argv[++i]);
            if (l->n == before) {
                cli_error("%s: --%s needs at least one value (%s)", cmd->name, f->name, f->value);
                return CLI_USAGE;
            }
            break;
        }
        }
    }
    for (const char *const *r = cmd->required; *r; r++) {
        const struct flag *f = flag_named(*r, strlen(*r));
        if (!*(const char **) ((char *) o + f->offset)) {
            cli_error("%s: --%s is required (see durable %s --help)", cmd->name, f->name, cmd->name);
            return CLI_USAGE;
        }
    }
    const char *const nonempty[] = {"id", "function-name", "event-name", NULL};
    for (const char *const *r = nonempty; *r; r++) {
        const struct flag *f = flag_named(*r, strlen(*r));
        const char *v = *(const char **) ((char *) o + f->offset);
        if (v && !*v) {
            cli_error("%s: --%s cannot be empty", cmd->name, f->name);
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

static int run(struct cli *c, const struct command *cmd)
{
    const char *cs = NULL;
    int rc = cli_settings(c, c->o.gateway ? NULL : &cs);
    if (rc == CLI_OK)
        rc = cli_check_values(c);
    if (rc)
        return rc;
    char why[512];
    if (c->o.gateway) {
        const char *key = c->o.key ? c->o.key : getenv("DURABLE_GATEWAY_KEY");
        c->gw = cli_gw_create(c->o.gateway, key, why, sizeof why);
        if (!c->gw) {
            cli_error("%s", why);
            return CLI_USAGE;
        }
    } else {
        c->local = cli_local_create(cs, c->partitions, why, sizeof why);
        if (!c->local) {
            cli_error("the connection string in %s is not valid: %s", c->connection, why);
            return CLI_USAGE;
        }
    }
    rc = cmd->run(c);
    cli_gw_destroy(c->gw);
    cli_local_destroy(c->local);
    return rc;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a closed stdout (durable ... | head) is a write error, not a kill */
    if (argc < 2) {
        help_program(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || (strcmp(name, "help") == 0 && argc == 2)) {
        help_program(stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("durable %s\n", DG_VERSION);
        return CLI_OK;
    }
    bool help = strcmp(name, "help") == 0;
    if (help)
        name = argv[2];
    const struct command *cmd = NULL;
    for (size_t i = 0; i < NCOMMANDS && !cmd; i++)
        if (strcmp(commands[i].name, name) == 0)
            cmd = &commands[i];
    if (!cmd) {
        cli_error("unknown command '%s' (durable --help lists them)", name);
        return CLI_USAGE;
    }
    if (help) {
        help_command(stdout, cmd);
        return CLI_OK;
    }
    struct cli c = {.a = dg_arena_create(),
                    .o = {.show_input = -1, .show_output = -1},
                    .out_tty = isatty(STDOUT_FILENO),
                    .err_tty = isatty(STDERR_FILENO)};
    int rc = parse_flags(&c, cmd, argc, argv);
    if (rc == -1)
        rc = CLI_OK;
    else if (rc == CLI_OK)
        rc = run(&c, cmd);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == CLI_OK)
            cli_error("could not write the output");
        rc = rc ? rc : CLI_FAILED;
    }
    dg_arena_destroy(c.a);
    return rc;
}
