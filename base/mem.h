/* Allocation policy, written down once: running out of memory aborts the
 * process with a message (redis zmalloc, h2o h2o_fatal). Nothing in the gateway
 * checks malloc for NULL; instead every buffer fed from the network has a cap
 * (base/buf.h), so a hostile client cannot drive us into this path. */
#ifndef DG_MEM_H
#define DG_MEM_H

#include <stddef.h>

void *dg_xmalloc(size_t n);
void *dg_xcalloc(size_t count, size_t n);
void *dg_xrealloc(void *p, size_t n);
char *dg_xstrdup(const char *s);
char *dg_xstrndup(const char *s, size_t n);
_Noreturn void dg_fatal(const char *what);

#endif
