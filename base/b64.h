/* Base64 (RFC 4648, with padding) over OpenSSL's EVP block coders, and its
 * URL- and header-safe variant base64url (RFC 4648 §5: '-' and '_' for '+'
 * and '/', no padding). */
#ifndef DG_B64_H
#define DG_B64_H

#include "base/arena.h"
#include "base/err.h"

#include <stddef.h>

/* Encodes n bytes; the result lives in the arena, NUL-terminated. */
char *dg_b64_encode(dg_arena *a, const void *p, size_t n);
/* Decodes s (padding required, no whitespace) into *out (arena memory) and
 * its length into *outlen. DG_EINVAL when s is not base64. */
dg_err dg_b64_decode(dg_arena *a, const char *s, size_t n, unsigned char **out, size_t *outlen);
/* Same into a caller buffer of cap bytes. */
dg_err dg_b64_decode_to(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen);

/* base64url without padding; the result lives in the arena, NUL-terminated. */
char *dg_b64url_encode(dg_arena *a, const void *p, size_t n);
/* Decodes base64url, with or without its padding, into *out (arena memory,
 * NUL-terminated for convenience) and its length into *outlen. DG_EINVAL when
 * s is not base64url. */
dg_err dg_b64url_decode(dg_arena *a, const char *s, size_t n, unsigned char **out, size_t *outlen);

#endif
