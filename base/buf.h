/* A growable byte buffer with a hard cap set when it is made (curl's dynbuf
 * `toobig`). Every buffer filled from the network is one of these: growing past
 * the cap fails with DG_ETOOBIG and leaves the buffer as it was. The contents
 * are always NUL-terminated, so d can be handed to C string APIs. */
#ifndef DG_BUF_H
#define DG_BUF_H

#include "base/err.h"

#include <stdarg.h>
#include <stddef.h>

typedef struct dg_buf {
    char *d;    /* owned; NULL until the first byte is added */
    size_t len; /* bytes used, not counting the NUL */
    size_t alloc;
    size_t max; /* the cap: len never exceeds it */
} dg_buf;

void dg_buf_init(dg_buf *b, size_t max);
void dg_buf_free(dg_buf *b);
void dg_buf_reset(dg_buf *b); /* len = 0, keeps the memory */
dg_err dg_buf_add(dg_buf *b, const void *p, size_t n);
dg_err dg_buf_adds(dg_buf *b, const char *s);
dg_err dg_buf_addc(dg_buf *b, char c);
dg_err dg_buf_addf(dg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "" when empty, never NULL. */
const char *dg_buf_str(const dg_buf *b);
/* Hands the contents to the caller (free() it) and re-initialises the buffer. */
char *dg_buf_take(dg_buf *b);

#endif
