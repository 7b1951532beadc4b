/* Large payloads in the {h}-largemessages container (docs/storage-layout.md §7):
 * gzip blobs of UTF-8 text, referred to by a relative blob name (queue
 * envelopes' CompressedBlobName, History rows' {Prop}BlobName) or by an
 * absolute URL (Instances rows' Input/Output). */
#ifndef HUB_LARGEMSG_H
#define HUB_LARGEMSG_H

#include "storage/client.h"

#include <stdbool.h>
#include <stddef.h>

/* Queue envelopes above this many UTF-8 bytes go to a blob (§7.1). */
#define HUB_MAX_QUEUE_PAYLOAD 46080
/* Table values above this many UTF-16 code units go to a blob (§7.2). */
#define HUB_MAX_TABLE_UNITS 30720
/* The most a stored payload may inflate to before the gateway refuses it. */
#define HUB_MAX_LARGE_PAYLOAD (64u << 20)

/* gzip (RFC 1952) of p; *out lives in the arena. */
dg_err hub_gzip(dg_arena *a, const void *p, size_t n, char **out, size_t *outlen);
/* Inflates a gzip stream; DG_ETOOBIG past cap bytes, DG_EBADRESP when it is not gzip.
 * *out is NUL-terminated. */
dg_err hub_gunzip(dg_arena *a, const void *p, size_t n, size_t cap, char **out, size_t *outlen);

/* How many UTF-16 code units the UTF-8 text takes (what the Table limit counts). */
size_t hub_utf16_units(const char *s, size_t n);

/* "{lower-case hub}-largemessages". */
const char *hub_large_container(dg_arena *a, const char *hub);
/* The absolute URL of a blob in that container: the account's blob endpoint,
 * the container, and each '/'-separated segment of name percent-encoded. */
const char *hub_large_url(az_client *c, dg_arena *a, const char *hub, const char *name);

/* Uploads text gzipped as blob `name`, creating the container on first use. */
dg_err hub_large_put(az_client *c, az_ctx *x, const char *hub, const char *name, const char *text, size_t n);
/* Downloads and inflates blob `name`. */
dg_err hub_large_get(az_client *c, az_ctx *x, const char *hub, const char *name, char **text, size_t *n);

/* True when v is an absolute URI (scheme "://" ...), which the provider reads
 * as a blob reference in Input/Output columns. */
bool hub_large_is_url(const char *v);
/* The blob name an Input/Output URL points at inside the hub's container, or
 * NULL when the URL is not in that container. */
const char *hub_large_name_from_url(dg_arena *a, const char *hub, const char *url);
/* The value of an Instances Input/Output column as the provider reads it: a URL
 * is followed and inflated; a start-message blob (a name ending in
 * "ExecutionStarted.json.gz") yields its envelope's TaskMessage.Event.Input.
 * Anything else (NULL included) is returned as is. */
dg_err hub_large_resolve(az_client *c, az_ctx *x, const char *hub, const char *value, const char **out);

#endif
