#include "base/log.h"

#include "base/buf.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static _Atomic int g_level = DG_LOG_INFO;

void dg_log_set_level(enum dg_log_level lvl)
{
    g_level = (int) lvl;
}

enum dg_log_level dg_log_get_level(void)
{
    return (enum dg_log_level) g_level;
}

int dg_log_level_parse(const char *s)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return -1;
}

void dg_log(enum dg_log_level lvl, const char *reqid, const char *fmt, ...)
{
    static const char *const tags[] = {"debug", "info", "warn", "error"};
    if ((int) lvl < g_level)
        return;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     tags[lvl], reqid ? reqid : "-");
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t) n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t) n, fmt, ap);
    va_end(ap);
    /* One fputs per line, so lines from different threads do not interleave. */
    size_t len = strlen(line);
    if (len >= sizeof line - 1)
        len = sizeof line - 2;
    line[len] = '\n';
    line[len + 1] = '\0';
    fputs(line, stderr);
}

/* 0: not a secret; 1: a query parameter (ends at '&', ';' or a space); 2: a
 * connection-string part (ends at ';' only: a SAS holds '&' and a key '='). */
static int secret_kind(const char *name, size_t n)
{
    static const struct {
        const char *name;
        int kind;
    } secret[] = {{"code", 1}, {"sig", 1}, {"accountkey", 2}, {"sharedaccesssignature", 2}};
    for (size_t i = 0; i < sizeof secret / sizeof *secret; i++)
        if (strlen(secret[i].name) == n && strncasecmp(name, secret[i].name, n) == 0)
            return secret[i].kind;
    return 0;
}

char *dg_redact(dg_arena *a, const char *s)
{
    dg_buf b;
    dg_buf_init(&b, strlen(s) * 2 + 64);
    size_t i = 0, n = strlen(s);
    while (i < n) {
        /* A "SharedKey account:signature" or "SharedKeyLite ..." value. */
        if (strncasecmp(s + i, "SharedKey", 9) == 0) {
            size_t j = i + 9;
            if (strncasecmp(s + j, "Lite", 4) == 0)
                j += 4;
            if (s[j] == ' ') {
                dg_buf_add(&b, s + i, j + 1 - i);
                dg_buf_adds(&b, "REDACTED");
                i = j + 1;
                while (i < n && s[i] != ' ' && s[i] != ',' && s[i] != ';' && s[i] != '&')
                    i++;
                continue;
            }
        }
        /* name=value, where name starts after a separator. */
        if (s[i] == '=') {
            size_t st = i;
            while (st > 0 && s[st - 1] != '?' && s[st - 1] != '&' && s[st - 1] != ';' && s[st - 1] != ' ')
                st--;
            dg_buf_addc(&b, '=');
            i++;
            int kind = secret_kind(s + st, i - 1 - st);
            if (kind) {
                dg_buf_adds(&b, "REDACTED");
                while (i < n && s[i] != ';' && (kind == 2 || (s[i] != '&' && s[i] != ' ')))
                    i++;
            }
            continue;
        }
        dg_buf_addc(&b, s[i]);
        i++;
    }
    char *r = dg_arena_strndup(a, dg_buf_str(&b), b.len);
    dg_buf_free(&b);
    return r;
}
