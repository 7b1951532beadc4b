/* What the client prints: JSON on stdout, messages and progress on stderr. */
#include "base/time.h"
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* A progress line is on the terminal: a message first clears it. */
static bool line_shown;

static void clear_line(void)
{
    if (line_shown)
        fputs("\r\033[K", stderr);
    line_shown = false;
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    clear_line();
    fputs("durable: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    clear_line();
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_print_json(const struct cli *c, const cJSON *j)
{
    char *txt = c->out_tty ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
    if (!txt)
        abort(); /* cJSON only fails to print when out of memory */
    if (!c->out_tty) {
        fputs(txt, stdout);
    } else {
        /* cJSON indents with tabs and writes a tab after each ':'. A tab is
         * never inside a string (it prints as \t), so every one is layout:
         * two spaces per level, one space after a colon. */
        bool line_start = true;
        for (const char *p = txt; *p; p++) {
            if (*p == '\t')
                fputs(line_start ? "  " : " ", stdout);
            else {
                fputc(*p, stdout);
                line_start = *p == '\n';
            }
        }
    }
    fputc('\n', stdout);
    fflush(stdout);
    cJSON_free(txt);
}

void cli_progress_init(struct cli_progress *p, const struct cli *c)
{
    p->on = c->err_tty;
    p->t0_ms = dg_mono_ms();
}

void cli_progress_show(struct cli_progress *p, const char *verb, size_t n)
{
    if (!p->on)
        return;
    double secs = (double) (dg_mono_ms() - p->t0_ms) / 1000.0;
    /* \r to the start, \033[K clears what a longer earlier line left. */
    fprintf(stderr, "\r%s %zu instances (%.0f/s)\033[K", verb, n, secs > 0 ? (double) n / secs : 0.0);
    fflush(stderr);
    line_shown = true;
}

void cli_progress_end(struct cli_progress *p)
{
    (void) p;
    clear_line();
}
