/* Query parameters beyond rt_query/rt_query_bool (docs/http-api.md §1.3) and the
 * continuation token of list and purge answers. */
#include "base/b64.h"
#include "base/str.h"
#include "base/utf8.h"
#include "routes/handlers.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Rewrites the lenient forms into what dg_iso_parse takes; false when the
 * value cannot be one. buf holds cap bytes. */
static bool normalise_time(const char *v, char *buf, size_t cap)
{
    size_t n = strlen(v), yd = 0;
    while (yd < n && is_digit(v[yd]))
        yd++;
    if (yd == 0 || yd > 4 || yd == n || v[yd] != '-' || n + 16 >= cap)
        return false;
    /* A year of fewer than 4 digits is left-padded, as EXTNEW does for Python. */
    size_t pad = 4 - yd;
    memset(buf, '0', pad);
    memcpy(buf + pad, v, n + 1);
    n += pad;
    if (n == 10) {
        memcpy(buf + n, "T00:00:00", 10); /* a date alone is midnight */
        return true;
    }
    if (n >= 16 && buf[16] != ':') {
        /* Hours and minutes without seconds. */
        memmove(buf + 19, buf + 16, n - 16 + 1);
        memcpy(buf + 16, ":00", 3);
        n += 3;
    }
    size_t i = 19;
    if (i < n && buf[i] == '.')
        for (i++; i < n && is_digit(buf[i]); i++)
            ;
    if (i < n && buf[i] == ' ')
        buf[i] = '+'; /* an unencoded '+' in a query string arrives as a space */
    if (i < n && (buf[i] == '+' || buf[i] == '-')) {
        size_t z = n - i - 1; /* digits of the offset: HH, HHMM or HH:MM */
        if (z == 2) {
            memcpy(buf + n, ":00", 4);
        } else if (z == 4 && is_digit(buf[i + 1]) && is_digit(buf[i + 2]) && is_digit(buf[i + 3])) {
            memmove(buf + i + 4, buf + i + 3, 3);
            buf[i + 3] = ':';
        }
    }
    return true;
}

bool rt_time_parse(const char *v, dg_ticks *out)
{
    char buf[96];
    if (!v || !normalise_time(v, buf, sizeof buf))
        return false;
    return dg_iso_parse(buf, strlen(buf), out) == DG_OK;
}

enum rt_param_result rt_param_time(const rt_ctx *c, const char *name, dg_ticks *out)
{
    const char *v = rt_query(c, name);
    if (!v || !*v)
        return RT_PARAM_ABSENT;
    return rt_time_parse(v, out) ? RT_PARAM_OK : RT_PARAM_BAD;
}

enum rt_param_result rt_param_int(const rt_ctx *c, const char *name, int *out)
{
    const char *v = rt_query(c, name);
    if (!v || !*v)
        return RT_PARAM_ABSENT;
    const char *d = *v == '-' ? v + 1 : v;
    if (!*d)
        return RT_PARAM_BAD;
    long long n = 0;
    for (const char *p = d; *p; p++) {
        if (!is_digit(*p))
            return RT_PARAM_BAD;
        if (n <= INT_MAX)
            n = n * 10 + (*p - '0');
    }
    if (*v == '-')
        n = -n;
    *out = n > INT_MAX ? INT_MAX : n < INT_MIN ? INT_MIN : (int) n;
    return RT_PARAM_OK;
}

size_t rt_param_list(const rt_ctx *c, const char *name, const char *const **out)
{
    const char *v = rt_query(c, name);
    dg_arena *a = c->rq->arena;
    size_t cap = 1;
    for (const char *p = v ? v : ""; *p; p++)
        cap += *p == ',';
    const char **items = dg_arena_alloc(a, cap * sizeof *items);
    size_t n = 0;
    dg_str rest = dg_str_c(v);
    while (rest.p) {
        dg_str item;
        rest = dg_str_cut(rest, ',', &item);
        item = dg_str_trim(item);
        if (item.n)
            items[n++] = dg_arena_strndup(a, item.p, item.n);
    }
    *out = items;
    return n;
}

bool rt_param_statuses(const rt_ctx *c, const char *const **out, size_t *n, const char **bad)
{
    const char *const *raw;
    size_t nraw = rt_param_list(c, "runtimeStatus", &raw);
    const char **st = dg_arena_alloc(c->rq->arena, (nraw ? nraw : 1) * sizeof *st);
    *out = st;
    *n = 0;
    *bad = NULL;
    for (size_t i = 0; i < nraw; i++) {
        const char *s = hub_status_parse(raw[i], strlen(raw[i]));
        if (!s) {
            *bad = raw[i];
            *n = 0;
            return false;
        }
        bool dup = false;
        for (size_t k = 0; k < *n && !dup; k++)
            dup = st[k] == s;
        if (!dup)
            st[(*n)++] = s;
    }
    return true;
}

void rt_set_argument_error(const rt_ctx *c, rt_response *rs, const char *exception_message)
{
    rt_set_error(rs, c->rq->arena, 400, "One or more of the arguments submitted is incorrect",
                 exception_message, "System.ArgumentException");
}

const char *rt_token_encode(dg_arena *a, const char *pk, const char *rk)
{
    if (!pk || !*pk)
        return "";
    const char *text = dg_arena_printf(a, "%s %s", pk, rk ? rk : "");
    return dg_b64url_encode(a, text, strlen(text));
}

dg_err rt_token_decode(dg_arena *a, const char *token, const char **pk, const char **rk)
{
    *pk = NULL;
    *rk = NULL;
    dg_str t = dg_str_trim(dg_str_c(token));
    if (!t.n)
        return DG_OK;
    if (t.n > RT_TOKEN_MAX)
        return DG_EINVAL;
    unsigned char *d;
    size_t n;
    if (dg_b64url_decode(a, t.p, t.n, &d, &n) != DG_OK)
        return DG_EINVAL;
    /* UTF-8 without control characters (NUL included), so the keys are safe
     * both in an OData literal and in a query string. */
    for (size_t i = 0; i < n;) {
        int32_t cp = dg_utf8_next(d, n, &i);
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return DG_EINVAL;
    }
    char *sp = memchr(d, ' ', n);
    if (!sp || sp == (char *) d)
        return DG_EINVAL;
    *sp = '\0';
    *pk = (const char *) d;
    *rk = sp[1] ? sp + 1 : NULL;
    return DG_OK;
}
