/* A growable byte buffer with a hard cap set when it is made (curl's dynbuf
 * `toobig`). Every buffer filled from the network is one of these. The contents
 * are always NUL-terminated, so d can be handed to C string APIs.
 *
 * A failed append poisons the buffer (curl's dynbuf frees it too): growing past
 * the cap fails with DG_ETOOBIG, the contents are freed (d NULL, len 0, str ""),
 * and every later append fails with the same error until dg_buf_reset(),
 * dg_buf_free() or dg_buf_init() starts the buffer over. So a caller may append
 * in many steps and check once, with dg_buf_err(), before it uses the contents:
 * a part that did not fit can never be skipped silently while later parts land. */
#ifndef DG_BUF_H
#define DG_BUF_H

#include "base/arena.h"
#include "base/err.h"

#include <stdarg.h>
#include <stddef.h>

typedef struct dg_buf {
    char *d;    /* owned; NULL until the first byte is added */
    size_t len; /* bytes used, not counting the NUL */
    size_t alloc;
    size_t max; /* the cap: len never exceeds it */
    dg_err err; /* DG_OK, or the failure that poisoned the buffer */
} dg_buf;

void dg_buf_init(dg_buf *b, size_t max);
void dg_buf_free(dg_buf *b);
void dg_buf_reset(dg_buf *b); /* len = 0, keeps the memory, clears a failure */
dg_err dg_buf_add(dg_buf *b, const void *p, size_t n);
dg_err dg_buf_adds(dg_buf *b, const char *s);
dg_err dg_buf_addc(dg_buf *b, char c);
dg_err dg_buf_addf(dg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* DG_OK, or the error of the first append that failed since the buffer was
 * (re)started: check it before using contents built in several appends. */
dg_err dg_buf_err(const dg_buf *b);
/* "" when empty (or poisoned), never NULL. */
const char *dg_buf_str(const dg_buf *b);
/* The contents copied into arena a (NUL-terminated), and the buffer freed and
 * started over; NULL (the buffer started over too) when it is poisoned, so
 * one check of the result covers every append before it. */
char *dg_buf_take(dg_buf *b, dg_arena *a);

#endif
