#include "base/buf.h"

#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dg_buf_init(dg_buf *b, size_t max)
{
    b->d = NULL;
    b->len = 0;
    b->alloc = 0;
    b->max = max;
    b->err = DG_OK;
}

void dg_buf_free(dg_buf *b)
{
    free(b->d);
    dg_buf_init(b, b->max);
}

void dg_buf_reset(dg_buf *b)
{
    b->err = DG_OK;
    b->len = 0;
    if (b->d)
        b->d[0] = '\0';
}

/* Frees the contents and makes every later append fail with err. */
static dg_err poison(dg_buf *b, dg_err err)
{
    free(b->d);
    b->d = NULL;
    b->len = 0;
    b->alloc = 0;
    b->err = err;
    return err;
}

dg_err dg_buf_add(dg_buf *b, const void *p, size_t n)
{
    if (b->err)
        return b->err;
    if (n > b->max - b->len)
        return poison(b, DG_ETOOBIG);
    if (b->len + n + 1 > b->alloc) {
        size_t a = b->alloc ? b->alloc : 256;
        while (a < b->len + n + 1)
            a *= 2;
        if (a > b->max + 1)
            a = b->max + 1;
        b->d = dg_xrealloc(b->d, a);
        b->alloc = a;
    }
    if (n)
        memcpy(b->d + b->len, p, n);
    b->len += n;
    b->d[b->len] = '\0';
    return DG_OK;
}

dg_err dg_buf_adds(dg_buf *b, const char *s)
{
    return dg_buf_add(b, s, strlen(s));
}

dg_err dg_buf_addc(dg_buf *b, char c)
{
    return dg_buf_add(b, &c, 1);
}

dg_err dg_buf_addf(dg_buf *b, const char *fmt, ...)
{
    if (b->err)
        return b->err;
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return poison(b, DG_EINVAL);
    if ((size_t) n < sizeof small)
        return dg_buf_add(b, small, (size_t) n);
    char *big = dg_xmalloc((size_t) n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t) n + 1, fmt, ap);
    va_end(ap);
    dg_err rc = dg_buf_add(b, big, (size_t) n);
    free(big);
    return rc;
}

dg_err dg_buf_err(const dg_buf *b)
{
    return b->err;
}

const char *dg_buf_str(const dg_buf *b)
{
    return b->d ? b->d : "";
}

char *dg_buf_take(dg_buf *b, dg_arena *a)
{
    char *p = b->err ? NULL : dg_arena_strndup(a, dg_buf_str(b), b->len);
    dg_buf_free(b);
    return p;
}
