/* Percent-encoding (RFC 3986) for URL paths and query strings. */
#ifndef DG_URL_H
#define DG_URL_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"

#include <stddef.h>

/* Appends s, percent-encoding every byte that is not unreserved
 * (ALPHA / DIGIT / "-" / "." / "_" / "~") and not in `keep`. */
dg_err dg_url_encode(dg_buf *out, const char *s, size_t n, const char *keep);
char *dg_url_encode_a(dg_arena *a, const char *s, size_t n, const char *keep);
/* s with every byte that may not stand raw in a URL sent back in a header
 * percent-encoded: control bytes (a bare CR would end the header), space, DEL
 * and every byte from 0x80 (raw UTF-8 or not). Everything else, '%' included,
 * is kept, so an already encoded target is unchanged. The result lives in a. */
char *dg_url_escape_raw(dg_arena *a, const char *s);
/* The value of a hex digit, or -1. */
int dg_hexval(char c);
/* Decodes %XX escapes (and '+' as space when plus_space); DG_EINVAL on a bad
 * escape. The result lives in the arena; it may contain NUL bytes, so *outlen
 * gives the length. */
dg_err dg_url_decode(dg_arena *a, const char *s, size_t n, int plus_space, char **out, size_t *outlen);

#endif
