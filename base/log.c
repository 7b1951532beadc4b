#include "base/log.h"

#include "base/buf.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/trace.h"
#include "base/url.h"
#include "base/utf8.h"

#include <stdarg.h>
#include <stdbool.h>
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

int dg_log_level_parse(const char *s)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return -1;
}

size_t dg_log_escape(char *out, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t w = 0;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < n;) {
        size_t at = i;
        int32_t cp = dg_utf8_next((const unsigned char *) s, n, &i);
        if (cp >= 0x20 && cp != 0x7F && cp != '\\') {
            if (w + (i - at) >= cap)
                break;
            memcpy(out + w, s + at, i - at);
            w += i - at;
            continue;
        }
        if (w + 4 >= cap)
            break;
        unsigned char ch = (unsigned char) s[at];
        out[w++] = '\\';
        if (cp == '\\') {
            out[w++] = '\\';
        } else {
            out[w++] = 'x';
            out[w++] = hex[ch >> 4];
            out[w++] = hex[ch & 15];
        }
        i = at + 1; /* a malformed sequence: this byte alone, then resync */
    }
    out[w] = '\0';
    return w;
}

/* A line being built: bounded, always room to close it (a JSON object ends
 * whatever was cut). */
#define LINE_CAP  12288
#define LINE_TAIL 8

struct line {
    char b[LINE_CAP];
    size_t at;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (l->at + n > LINE_CAP - LINE_TAIL)
        n = LINE_CAP - LINE_TAIL - l->at;
    memcpy(l->b + l->at, s, n);
    l->at += n;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

enum esc { ESC_PLAIN, ESC_JSON, ESC_QUOTED };

/* s escaped as dg_log_escape does (no control byte, valid UTF-8, '\'
 * doubled), then, for JSON, '"' and '\' escaped, and for a quoted text
 * value '"' as \". */
static void put_esc(struct line *l, const char *s, size_t n, enum esc how)
{
    char tmp[4 * 2048 + 8];
    size_t m = dg_log_escape(tmp, sizeof tmp, s, n);
    for (size_t i = 0; i < m; i++) {
        char ch = tmp[i];
        bool esc = (how == ESC_JSON && (ch == '"' || ch == '\\')) || (how == ESC_QUOTED && ch == '"');
        if (l->at + 2 > LINE_CAP - 64) /* room left to close the value and the line */
            break;
        if (esc)
            l->b[l->at++] = '\\';
        l->b[l->at++] = ch;
    }
}

static _Atomic int g_format = DG_LOG_TEXT;

void dg_log_set_format(enum dg_log_format f)
{
    g_format = (int) f;
}

int dg_log_format_parse(const char *s)
{
    if (strcasecmp(s, "text") == 0)
        return DG_LOG_TEXT;
    if (strcasecmp(s, "json") == 0)
        return DG_LOG_JSON;
    return -1;
}

bool dg_log_enabled(enum dg_log_level lvl)
{
    return (int) lvl >= g_level;
}

static const char *const tags[] = {"debug", "info", "warn", "error"};

/* The time, the level, the id and the message. */
static void begin(struct line *l, bool json, enum dg_log_level lvl, const char *reqid, const char *msg,
                  size_t mn)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char t[80];
    snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    struct dg_trace *tr = reqid ? NULL : dg_co_trace();
    if (tr) /* a line of a request's coroutines that was given no id: the request's own */
        reqid = tr->id;
    const char *id = reqid ? reqid : "-";
    size_t idn = strnlen(id, 64);
    l->at = 0;
    if (json) {
        puts_(l, "{\"time\":\"");
        puts_(l, t);
        puts_(l, "\",\"level\":\"");
        puts_(l, tags[lvl]);
        puts_(l, "\",\"request_id\":");
        if (reqid) {
            puts_(l, "\"");
            put_esc(l, id, idn, ESC_JSON);
            puts_(l, "\"");
        } else {
            puts_(l, "null");
        }
        puts_(l, ",\"msg\":\"");
        put_esc(l, msg, mn, ESC_JSON);
        puts_(l, "\"");
        return;
    }
    char head[112];
    snprintf(head, sizeof head, "%s %-5s [", t, tags[lvl]);
    puts_(l, head);
    put_esc(l, id, idn, ESC_PLAIN);
    puts_(l, "] ");
    put_esc(l, msg, mn, ESC_PLAIN);
}

/* One write per line, so lines from different threads do not interleave. */
static void end(struct line *l, bool json)
{
    if (json)
        l->b[l->at++] = '}';
    l->b[l->at++] = '\n';
    fwrite(l->b, 1, l->at, stderr);
}

void dg_log(enum dg_log_level lvl, const char *reqid, const char *fmt, ...)
{
    if ((int) lvl < g_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t mn = (size_t) m < sizeof msg ? (size_t) m : sizeof msg - 1;
    struct line l;
    bool json = g_format == DG_LOG_JSON;
    begin(&l, json, lvl, reqid, msg, mn);
    end(&l, json);
}

void dg_log_fields(enum dg_log_level lvl, const char *reqid, dg_arena *a, const char *msg,
                   const struct dg_log_field *f, size_t n)
{
    if ((int) lvl < g_level)
        return;
    dg_arena *own = a ? NULL : dg_arena_create();
    struct line l;
    bool json = g_format == DG_LOG_JSON;
    begin(&l, json, lvl, reqid, msg, strlen(msg));
    for (size_t i = 0; i < n && l.at < LINE_CAP - 128; i++) {
        char num[48];
        const char *v = num;
        bool str = f[i].type == DG_LOGF_STR;
        if (str && f[i].s)
            v = dg_redact(a ? a : own, f[i].s);
        else if (str)
            v = json ? "null" : "-";
        else if (f[i].type == DG_LOGF_INT)
            snprintf(num, sizeof num, "%lld", f[i].i);
        else
            snprintf(num, sizeof num, "%.3f", f[i].d);
        puts_(&l, json ? ",\"" : " ");
        puts_(&l, f[i].key);
        puts_(&l, json ? "\":" : "=");
        if (!str || !f[i].s) {
            puts_(&l, v);
            continue;
        }
        size_t vn = strlen(v);
        bool quote = json || vn == 0 || strpbrk(v, " \"=") != NULL;
        if (quote)
            puts_(&l, "\"");
        put_esc(&l, v, vn, json ? ESC_JSON : quote ? ESC_QUOTED : ESC_PLAIN);
        if (quote)
            puts_(&l, "\"");
    }
    end(&l, json);
    dg_arena_destroy(own);
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

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether the raw name p[0..n) of a query parameter reads as code or sig: trimmed,
 * decoded as the router does (a bad escape kept as it is, so a name the router
 * would drop is still looked at), trimmed again and cut at a NUL. */
static bool secret_param(const char *p, size_t n)
{
    while (n && blank(*p))
        p++, n--;
    while (n && blank(p[n - 1]))
        n--;
    char name[8];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (ch == '%' && i + 2 < n && dg_hexval(p[i + 1]) >= 0 && dg_hexval(p[i + 2]) >= 0) {
            ch = (char) (dg_hexval(p[i + 1]) * 16 + dg_hexval(p[i + 2]));
            i += 2;
        } else if (ch == '+') {
            ch = ' ';
        }
        if (ch == '\0')
            break;
        if (k == sizeof name)
            return false; /* longer than any secret's name */
        name[k++] = ch;
    }
    size_t st = 0;
    while (st < k && blank(name[st]))
        st++;
    while (k > st && blank(name[k - 1]))
        k--;
    return (k - st == 4 && strncasecmp(name + st, "code", 4) == 0) ||
           (k - st == 3 && strncasecmp(name + st, "sig", 3) == 0);
}

char *dg_redact_target(dg_arena *a, const char *target)
{
    const char *q = strchr(target, '?');
    if (!q)
        return dg_arena_strdup(a, target);
    dg_buf b;
    dg_buf_init(&b, (size_t) -1 / 4); /* no cap: the text is in memory already */
    (void) dg_buf_add(&b, target, (size_t) (q + 1 - target));
    const char *p = q + 1;
    for (;;) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        if (eq && secret_param(p, (size_t) (eq - p))) {
            (void) dg_buf_add(&b, p, (size_t) (eq + 1 - p));
            (void) dg_buf_adds(&b, "REDACTED");
        } else {
            (void) dg_buf_add(&b, p, n);
        }
        if (!p[n])
            break;
        (void) dg_buf_addc(&b, '&');
        p += n + 1;
    }
    char *r = dg_buf_take(&b, a);
    if (!r)
        dg_fatal("redacted target past its cap");
    return r;
}

char *dg_redact(dg_arena *a, const char *s)
{
    if (s[0] == '/' || strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0)
        return dg_redact_target(a, s);
    dg_buf b;
    dg_buf_init(&b, (size_t) -1 / 4); /* no cap: the text is in memory already (REDACTED may outgrow it) */
    size_t i = 0, n = strlen(s);
    while (i < n) {
        /* A "SharedKey account:signature" or "SharedKeyLite ..." value. */
        if (strncasecmp(s + i, "SharedKey", 9) == 0) {
            size_t j = i + 9;
            if (strncasecmp(s + j, "Lite", 4) == 0)
                j += 4;
            if (s[j] == ' ') {
                (void) dg_buf_add(&b, s + i, j + 1 - i);
                (void) dg_buf_adds(&b, "REDACTED");
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
            (void) dg_buf_addc(&b, '=');
            i++;
            int kind = secret_kind(s + st, i - 1 - st);
            if (kind) {
                (void) dg_buf_adds(&b, "REDACTED");
                while (i < n && s[i] != ';' && (kind == 2 || (s[i] != '&' && s[i] != ' ')))
                    i++;
            }
            continue;
        }
        (void) dg_buf_addc(&b, s[i]);
        i++;
    }
    char *r = dg_buf_take(&b, a);
    if (!r)
        dg_fatal("redacted text past its cap");
    return r;
}
