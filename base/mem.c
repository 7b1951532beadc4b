#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void dg_fatal(const char *what)
{
    fprintf(stderr, "durable-gateway: fatal: %s\n", what);
    abort();
}

void *dg_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        dg_fatal("out of memory");
    return p;
}

void *dg_xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        dg_fatal("out of memory");
    return p;
}

void *dg_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        dg_fatal("out of memory");
    return q;
}

char *dg_xstrndup(const char *s, size_t n)
{
    char *p = dg_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *dg_xstrdup(const char *s)
{
    return dg_xstrndup(s, strlen(s));
}
