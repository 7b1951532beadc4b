/* UTF-8 code points, one at a time. */
#ifndef DG_UTF8_H
#define DG_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the code point at s[*i] and advances *i past it; -1 (and *i unmoved)
 * for a malformed, overlong or surrogate sequence. */
int32_t dg_utf8_next(const unsigned char *s, size_t n, size_t *i);
/* Encodes cp (0..0x10FFFF) into out; returns the length, 1 to 4. */
size_t dg_utf8_put(int32_t cp, char out[4]);

#endif
