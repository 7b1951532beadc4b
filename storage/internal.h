/* Private to storage/: the one request/response pair every operation goes
 * through, and the call that signs, sends, retries and classifies it. */
#ifndef AZ_INTERNAL_H
#define AZ_INTERNAL_H

#include "base/buf.h"
#include "storage/client.h"
#include "storage/sign.h"

#include <stdbool.h>
#include <stdio.h>

#define AZ_MAX_QUERY   12
#define AZ_MAX_HEADERS 16

/* What a call is, for metrics (durable_gateway_storage_calls_total's
 * operation label, names in http.c). */
enum az_op {
    AZ_OP_OTHER,
    AZ_OP_CREATE_TABLE,
    AZ_OP_DELETE_TABLE,
    AZ_OP_GET_ENTITY,
    AZ_OP_QUERY_ENTITIES,
    AZ_OP_INSERT_ENTITY,
    AZ_OP_INSERT_OR_REPLACE_ENTITY,
    AZ_OP_INSERT_OR_MERGE_ENTITY,
    AZ_OP_UPDATE_ENTITY,
    AZ_OP_MERGE_ENTITY,
    AZ_OP_DELETE_ENTITY,
    AZ_OP_BATCH,
    AZ_OP_CREATE_QUEUE,
    AZ_OP_DELETE_QUEUE,
    AZ_OP_PUT_MESSAGE,
    AZ_OP_GET_MESSAGES,
    AZ_OP_PEEK_MESSAGES,
    AZ_OP_DELETE_MESSAGE,
    AZ_OP_CREATE_CONTAINER,
    AZ_OP_DELETE_CONTAINER,
    AZ_OP_PUT_BLOB,
    AZ_OP_GET_BLOB,
    AZ_OP_DELETE_BLOB,
    AZ_OP_LIST_BLOBS,
    AZ_OPS,
};

struct az_request {
    enum az_service svc;
    enum az_op op;
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

/* Refuses a call before anything is sent: x->st says no answer came and why
 * (the reason is for logs and tests, never a secret). Returns rc. */
static inline dg_err az_refuse(az_ctx *x, dg_err rc, const char *why)
{
    x->st.http = 0;
    x->st.attempts = 0;
    x->st.code[0] = '\0';
    snprintf(x->st.message, sizeof x->st.message, "%s", why);
    return rc;
}

struct cJSON;
/* The code and message of a JSON error body: the Table service's
 * {"odata.error":{"code":...,"message":{"value":...}}}, or the same under
 * "error" with a plain string message. Pointers into root, NULL when absent
 * (root NULL included). Defined in odata.c. */
void az_json_error(const struct cJSON *root, const char **code, const char **message);

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
