#include "routes/continuation.h"

#include "base/b64.h"
#include "base/utf8.h"

#include <string.h>

const char *rt_continuation_encode(dg_arena *a, const char *pk, const char *rk)
{
    if (!pk || !*pk)
        return "";
    const char *raw = dg_arena_printf(a, "%s %s", pk, rk ? rk : "");
    char *t = dg_b64_encode(a, raw, strlen(raw));
    size_t n = strlen(t);
    while (n && t[n - 1] == '=')
        n--;
    t[n] = '\0';
    for (char *p = t; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return t;
}

int rt_continuation_decode(dg_arena *a, const char *token, const char **pk, const char **rk)
{
    *pk = *rk = NULL;
    if (!token || !*token)
        return 0;
    size_t n = strlen(token);
    if (n > RT_CONTINUATION_MAX || n % 4 == 1)
        return -1;
    /* Back to standard base64 with its padding; '+', '/' and '=' are not base64url. */
    char *s = dg_arena_alloc(a, n + 3);
    for (size_t i = 0; i < n; i++) {
        char ch = token[i];
        if (ch == '+' || ch == '/' || ch == '=')
            return -1;
        s[i] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    }
    size_t m = n;
    while (m % 4)
        s[m++] = '=';
    unsigned char *raw;
    size_t rn;
    if (dg_b64_decode(a, s, m, &raw, &rn))
        return -1;
    for (size_t i = 0; i < rn;) {
        int32_t cp = dg_utf8_next(raw, rn, &i);
        if (cp < 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return -1;
    }
    const unsigned char *sp = memchr(raw, ' ', rn);
    if (!sp || sp == raw)
        return -1;
    size_t pn = (size_t) (sp - raw);
    *pk = dg_arena_strndup(a, (const char *) raw, pn);
    *rk = pn + 1 < rn ? dg_arena_strndup(a, (const char *) sp + 1, rn - pn - 1) : NULL;
    return 0;
}
