/* Blob service operations on block blobs and containers. */
#ifndef AZ_BLOB_H
#define AZ_BLOB_H

#include "storage/client.h"

#include <stdbool.h>

/* Container names: 3-63 lower-case letters, digits and single dashes, starting
 * with a letter or digit. */
bool az_container_name_ok(const char *name);

/* Blob names: 1-1024 bytes, no "." or ".." segment (the URL's path would be
 * resolved into another container's). */
bool az_blob_name_ok(const char *name);

/* DG_OK also when the container exists already. */
dg_err az_container_create(az_client *c, az_ctx *x, const char *container);
dg_err az_container_delete(az_client *c, az_ctx *x, const char *container);

/* content_type and content_encoding may be NULL. */
dg_err az_blob_put(az_client *c, az_ctx *x, const char *container, const char *name, const void *data,
                   size_t n, const char *content_type, const char *content_encoding);
/* *data (arena memory, NUL-terminated for convenience) and *n receive the contents. */
dg_err az_blob_get(az_client *c, az_ctx *x, const char *container, const char *name, char **data, size_t *n);
dg_err az_blob_delete(az_client *c, az_ctx *x, const char *container, const char *name);

struct az_blob_item {
    const char *name;
    long long size;
    const char *etag;
    const char *content_encoding; /* NULL when none */
};
/* One page of the blobs whose names start with prefix (NULL: all). marker: the
 * previous page's next_marker, or NULL. max: 1..5000 or 0 for the service's page. */
dg_err az_blob_list(az_client *c, az_ctx *x, const char *container, const char *prefix, const char *marker,
                    int max, struct az_blob_item **items, size_t *n, const char **next_marker);

#endif
