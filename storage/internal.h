/* Private to storage/: the one request/response pair every operation goes
 * through, and the call that signs, sends, retries and classifies it. */
#ifndef AZ_INTERNAL_H
#define AZ_INTERNAL_H

#include "base/buf.h"
#include "storage/client.h"
#include "storage/sign.h"

#include <stdbool.h>

#define AZ_MAX_QUERY   12
#define AZ_MAX_HEADERS 16

struct az_request {
    enum az_service svc;
    const char *method;
    const char *path; /* relative to the endpoint, starting with '/', already percent-encoded */
    struct az_kv query[AZ_MAX_QUERY]; /* decoded values; encoded when the URL is built */
    size_t nquery;
    struct az_kv hdr[AZ_MAX_HEADERS]; /* besides x-ms-date, x-ms-version, Authorization */
    size_t nhdr;
    const char *body;
    size_t body_len;
    bool table_json; /* add the Table service's Accept/DataServiceVersion headers */
};

struct az_response {
    long status;
    dg_buf body;           /* capped at the client's max_response */
    struct az_kv *headers; /* arena memory; names as received */
    size_t nheaders;
};

static inline void az_req_query(struct az_request *r, const char *name, const char *value)
{
    if (r->nquery < AZ_MAX_QUERY)
        r->query[r->nquery++] = (struct az_kv){name, value};
}

static inline void az_req_header(struct az_request *r, const char *name, const char *value)
{
    if (r->nhdr < AZ_MAX_HEADERS)
        r->hdr[r->nhdr++] = (struct az_kv){name, value};
}

/* Sends r, retrying transient failures within x's deadline. DG_OK for a 2xx
 * answer; otherwise the error mapped from the status, with x->st filled. resp
 * is initialised by the call and always needs az_response_free(). */
dg_err az_call(az_client *c, az_ctx *x, const struct az_request *r, struct az_response *resp);
void az_response_free(struct az_response *resp);
/* Case-insensitive header lookup; NULL when absent. */
const char *az_response_header(const struct az_response *resp, const char *name);

/* Maps an HTTP status and service error code to the error enum. */
dg_err az_map_status(long status, const char *code);

/* The readers of answers already received, one per answer format that is not
 * a plain entity (each is also a libFuzzer target's entry point, tests/fuzz):
 * the inner responses of a $batch answer (n operations sent), a queue's
 * message list, a container's blob listing, and an error body's code and
 * message (JSON or XML) into x->st. Results live in x->arena. */
struct az_batch_result;
struct az_qmsg;
struct az_blob_item;
dg_err az_table_batch_read(az_ctx *x, const struct az_response *resp, size_t n, struct az_batch_result *res);
dg_err az_queue_list_read(az_ctx *x, const struct az_response *resp, struct az_qmsg **out, size_t *n);
dg_err az_blob_list_read(az_ctx *x, const struct az_response *resp, struct az_blob_item **items, size_t *n,
                         const char **next_marker);
void az_error_read(az_ctx *x, const struct az_response *resp);

/* Queue and container names: 3-63 lower-case letters, digits and single
 * dashes, starting and ending with a letter or digit. */
bool az_dns_name_ok(const char *name);

/* Percent-encodes a path segment (keeps nothing but unreserved characters). */
char *az_path_segment(dg_arena *a, const char *s);

#endif
