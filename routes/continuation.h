/* Continuation tokens of list answers (http-api.md §4.4, §4.12): the
 * x-ms-continuation-token header, both ways. The token carries the table
 * service's continuation as DurableTask.AzureStorage v2 writes it,
 * "<NextPartitionKey> <NextRowKey>" (one space, storage-schema.md §9.7), sent
 * as base64url without padding (RFC 4648 §5) so that it stays header-safe
 * whatever the keys hold. Clients treat it as opaque. */
#ifndef RT_CONTINUATION_H
#define RT_CONTINUATION_H

#include "base/arena.h"

#define RT_CONTINUATION_HEADER "x-ms-continuation-token"
/* The longest token accepted, encoded. */
#define RT_CONTINUATION_MAX 4096

/* The token for the page after (pk, rk); "" when pk is NULL or empty (the
 * last page: the header is then sent empty). rk may be NULL. In a. */
const char *rt_continuation_encode(dg_arena *a, const char *pk, const char *rk);

/* The inverse. 0 with *pk and *rk NULL for an absent or empty token (the
 * first page); 0 with *pk set (and *rk NULL when the row key is empty) for a
 * good one; -1 for a token longer than RT_CONTINUATION_MAX, not base64url,
 * not UTF-8, holding a control character, or without a non-empty partition
 * key followed by a space. Both strings live in a. */
int rt_continuation_decode(dg_arena *a, const char *token, const char **pk, const char **rk);

#endif
