#include "base/mem.h"

#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/xmlmemory.h>
#include <pthread.h>
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

static void *json_malloc(size_t n)
{
    return dg_xmalloc(n);
}

static void mem_init_once(void)
{
    cJSON_Hooks hooks = {.malloc_fn = json_malloc, .free_fn = free};
    cJSON_InitHooks(&hooks);
    if (xmlMemSetup(free, dg_xmalloc, dg_xrealloc, dg_xstrdup) != 0)
        dg_fatal("xmlMemSetup failed");
    xmlInitParser();
}

void dg_mem_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, mem_init_once);
}
