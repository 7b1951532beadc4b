#include "base/str.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

dg_str dg_str_trim(dg_str s)
{
    while (s.n && is_space(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

dg_str dg_str_cut(dg_str s, char sep, dg_str *head)
{
    const char *q = s.n ? memchr(s.p, sep, s.n) : NULL;
    if (!q) {
        *head = s;
        return (dg_str){NULL, 0};
    }
    *head = (dg_str){s.p, (size_t) (q - s.p)};
    return (dg_str){q + 1, s.n - (size_t) (q - s.p) - 1};
}
