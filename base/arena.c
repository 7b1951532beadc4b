#include "base/arena.h"

#include "base/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 4096
#define ARENA_ALIGN 16

struct block {
    struct block *next;
    size_t size, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct deferred {
    struct deferred *next;
    void (*fn)(void *);
    void *p;
};

struct dg_arena {
    struct block *head;
    struct deferred *defers;
    size_t used;
};

static struct block *block_new(size_t size)
{
    /* sizeof *b + size must not wrap to a small block that is then used as a
     * huge one: no real allocation comes near, so a size that would is a bug. */
    if (size > SIZE_MAX - sizeof(struct block))
        dg_fatal("arena allocation overflow");
    struct block *b = dg_xmalloc(sizeof *b + size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

dg_arena *dg_arena_create(void)
{
    return dg_arena_create_sized(ARENA_BLOCK);
}

dg_arena *dg_arena_create_sized(size_t first)
{
    dg_arena *a = dg_xcalloc(1, sizeof *a);
    a->head = block_new(first);
    return a;
}

static void run_defers(dg_arena *a)
{
    while (a->defers) {
        struct deferred *d = a->defers;
        a->defers = d->next;
        d->fn(d->p);
    }
}

void dg_arena_reset(dg_arena *a)
{
    run_defers(a);
    struct block *keep = a->head;
    while (keep->next) {
        struct block *n = keep->next;
        keep->next = n->next;
        free(n);
    }
    keep->used = 0;
    a->used = 0;
}

void dg_arena_destroy(dg_arena *a)
{
    if (!a)
        return;
    run_defers(a);
    while (a->head) {
        struct block *n = a->head->next;
        free(a->head);
        a->head = n;
    }
    free(a);
}

void *dg_arena_alloc(dg_arena *a, size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t) (ARENA_ALIGN - 1);
    if (need < n)
        dg_fatal("arena allocation overflow");
    a->used += need;
    struct block *b = a->head;
    if (b->size - b->used >= need) {
        void *p = b->data + b->used;
        b->used += need;
        return p;
    }
    if (need > ARENA_BLOCK / 4) {
        /* A large allocation gets a block of its own behind the current one,
         * so the current block's free room stays usable. */
        struct block *big = block_new(need);
        big->used = need;
        big->next = b->next;
        b->next = big;
        return big->data;
    }
    struct block *nb = block_new(ARENA_BLOCK);
    nb->next = b;
    a->head = nb;
    nb->used = need;
    return nb->data;
}

void *dg_arena_zalloc(dg_arena *a, size_t n)
{
    void *p = dg_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *dg_arena_strndup(dg_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        dg_fatal("arena allocation overflow");
    char *p = dg_arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *dg_arena_strdup(dg_arena *a, const char *s)
{
    return dg_arena_strndup(a, s, strlen(s));
}

char *dg_arena_vprintf(dg_arena *a, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        dg_fatal("bad format string");
    char *p = dg_arena_alloc(a, (size_t) n + 1);
    vsnprintf(p, (size_t) n + 1, fmt, ap);
    return p;
}

char *dg_arena_printf(dg_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = dg_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void dg_arena_defer(dg_arena *a, void (*fn)(void *), void *p)
{
    struct deferred *d = dg_arena_alloc(a, sizeof *d);
    d->fn = fn;
    d->p = p;
    d->next = a->defers;
    a->defers = d;
}

size_t dg_arena_used(const dg_arena *a)
{
    return a->used;
}
