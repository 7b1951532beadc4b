/* A bump allocator that frees everything at once (nginx r->pool, h2o req->pool).
 * One arena per request or per storage call chain; nothing allocated from it is
 * freed piecemeal. Non-memory clean-ups (cJSON trees, curl lists) are registered
 * with dg_arena_defer() and run, newest first, by reset and destroy. */
#ifndef DG_ARENA_H
#define DG_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct dg_arena dg_arena;

dg_arena *dg_arena_create(void);
/* An arena whose first block holds `first` bytes (later blocks are the usual
 * size): for records kept a long time, such as held requests. */
dg_arena *dg_arena_create_sized(size_t first);
/* Runs the deferred clean-ups and frees every block. NULL is accepted. */
void dg_arena_destroy(dg_arena *a);
/* Runs the deferred clean-ups and forgets every allocation, keeping one block. */
void dg_arena_reset(dg_arena *a);

/* Memory aligned for any type, uninitialised / zeroed. Aborts when out of memory. */
void *dg_arena_alloc(dg_arena *a, size_t n);
void *dg_arena_zalloc(dg_arena *a, size_t n);
char *dg_arena_strndup(dg_arena *a, const char *s, size_t n);
char *dg_arena_strdup(dg_arena *a, const char *s);
char *dg_arena_printf(dg_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *dg_arena_vprintf(dg_arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Registers fn(p) to run when the arena is reset or destroyed. */
void dg_arena_defer(dg_arena *a, void (*fn)(void *), void *p);

/* Bytes handed out since creation or the last reset (for tests and metrics). */
size_t dg_arena_used(const dg_arena *a);

#endif
