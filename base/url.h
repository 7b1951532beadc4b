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
/* Decodes %XX escapes (and '+' as space when plus_space); DG_EINVAL on a bad
 * escape. The result lives in the arena; it may contain NUL bytes, so *outlen
 * gives the length. */
dg_err dg_url_decode(dg_arena *a, const char *s, size_t n, int plus_space, char **out, size_t *outlen);

#endif
