/* String slices: pointer + length, NUL-terminated only at library boundaries
 * (ngx_str_t, h2o_iovec_t). A slice never owns its bytes. */
#ifndef DG_STR_H
#define DG_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

typedef struct dg_str {
    const char *p;
    size_t n;
} dg_str;

#define DG_STR(lit) ((dg_str){(lit), sizeof(lit) - 1})

static inline dg_str dg_str_c(const char *s)
{
    return (dg_str){s, s ? strlen(s) : 0};
}

/* FNV-1a, 64 bits, over n bytes, continuing from h (start with DG_FNV64_INIT):
 * for in-memory hash tables only, never for anything stored. */
#define DG_FNV64_INIT 14695981039346656037ULL
static inline unsigned long long dg_fnv64(unsigned long long h, const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *) p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

/* Removes leading and trailing spaces, tabs, CR and LF. */
dg_str dg_str_trim(dg_str s);

/* Splits s at the first `sep`: head gets what precedes it, the return value what
 * follows. Without a separator the head is all of s and the rest is {NULL, 0}. */
dg_str dg_str_cut(dg_str s, char sep, dg_str *head);

#endif
