/* How DurableTask.AzureStorage turns instance ids into table keys and control
 * queues (docs/storage-layout.md §2 and §3). */
#ifndef HUB_KEYS_H
#define HUB_KEYS_H

#include "base/arena.h"
#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

/* The PartitionKey form of an instance id: '^' -> "^^", '/' -> "^0", '\' -> "^1",
 * '#' -> "^2", '?' -> "^3", and U+0000-U+001F, U+007F-U+009F -> '^' + (U+00C0 + code).
 * Escape once only: the escape is not idempotent. id must be UTF-8. */
char *hub_key_escape(dg_arena *a, const char *id, size_t n);
/* The inverse. DG_EINVAL when key is not valid UTF-8 or unescapes to U+0000
 * ("^" U+00C0) or a surrogate: ids are handled as C strings, and no id escapes
 * to those. Callers skip such a row in a list and answer DG_EBADRESP for a read. */
dg_err hub_key_unescape(dg_arena *a, const char *key, size_t n, char **out);

/* 32-bit FNV-1a over the bytes (the UTF-8 of the unescaped id). */
uint32_t hub_fnv1a(const void *p, size_t n);
/* The control-queue partition of an instance: fnv1a(id) mod partitions. */
unsigned hub_partition(const char *id, size_t n, unsigned partitions);

#endif
