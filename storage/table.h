/* Table service operations. Results live in x->arena; x->st holds the last
 * answer's status and the service's error code. */
#ifndef AZ_TABLE_H
#define AZ_TABLE_H

#include "storage/client.h"
#include "storage/entity.h"

/* Table names: 3-63 letters and digits, starting with a letter. */
bool az_table_name_ok(const char *name);

/* DG_OK also when the table already exists. */
dg_err az_table_create(az_client *c, az_ctx *x, const char *table);
/* DG_ENOTFOUND when there is no such table. */
dg_err az_table_delete(az_client *c, az_ctx *x, const char *table);

/* Point read. select: comma-separated property names or NULL for all.
 * DG_ENOTFOUND with st.code "ResourceNotFound" (no entity) or "TableNotFound". */
dg_err az_table_get(az_client *c, az_ctx *x, const char *table, const char *pk, const char *rk,
                    const char *select, az_entity *out);

/* Writes. etag_out (may be NULL) receives the new ETag. */
enum az_write {
    AZ_INSERT,         /* fails with DG_ECONFLICT "EntityAlreadyExists" */
    AZ_UPSERT_REPLACE, /* insert or replace */
    AZ_UPSERT_MERGE,   /* insert or merge */
    AZ_REPLACE,        /* replace an existing entity; if_match: an ETag or "*" */
    AZ_MERGE,          /* merge into an existing entity; if_match: an ETag or "*" */
};
dg_err az_table_write(az_client *c, az_ctx *x, const char *table, enum az_write mode, const az_entity *e,
                      const char *if_match, const char **etag_out);
/* if_match: an ETag, or NULL for "*". DG_EPRECOND "UpdateConditionNotSatisfied" on a stale ETag. */
dg_err az_table_delete_entity(az_client *c, az_ctx *x, const char *table, const char *pk, const char *rk,
                              const char *if_match);

struct az_query {
    const char *filter;            /* from az_filter_str(), or NULL */
    const char *select;            /* comma-separated names, or NULL */
    int top;                       /* 1..1000, or 0 for the service's page size */
    const char *next_pk, *next_rk; /* continuation from a previous page, or NULL */
};

struct az_page {
    az_entity *items;
    size_t n;
    const char *next_pk, *next_rk; /* NULL on the last page */
};

/* Where a paged query goes on, copied out of the page's arena so that the
 * arena can be reset between pages: az_cursor_take after each page, its pk
 * and rk as the next query's next_pk and next_rk, az_cursor_free at the end. */
struct az_cursor {
    char *pk, *rk;
};
/* Takes pg's continuation into c (freeing the last); false on the last page. */
bool az_cursor_take(struct az_cursor *c, const struct az_page *pg);
void az_cursor_free(struct az_cursor *c);

/* One page of a query. Follow next_pk/next_rk for the rest. */
dg_err az_table_query(az_client *c, az_ctx *x, const char *table, const struct az_query *q,
                      struct az_page *out);

/* Entity group transactions: up to 100 operations on one partition, applied
 * all or none. */
#define AZ_BATCH_MAX 100
enum az_batch_kind {
    AZ_BATCH_INSERT,
    AZ_BATCH_UPSERT_REPLACE,
    AZ_BATCH_UPSERT_MERGE,
    AZ_BATCH_REPLACE,
    AZ_BATCH_MERGE,
    AZ_BATCH_DELETE,
};
struct az_batch_op {
    enum az_batch_kind kind;
    const az_entity *e;   /* for DELETE only pk and rk are used */
    const char *if_match; /* REPLACE, MERGE, DELETE: an ETag, or NULL for "*" */
};
struct az_batch_result {
    long status[AZ_BATCH_MAX]; /* each operation's inner status; 0 for those not applied */
    int failed;                /* index of the operation that failed, -1 when none or unknown */
};
/* DG_OK when every operation was applied. Otherwise nothing was applied, the
 * error is mapped from the failing operation's status, and x->st carries its
 * code (e.g. "EntityAlreadyExists"). */
dg_err az_table_batch(az_client *c, az_ctx *x, const char *table, const struct az_batch_op *ops, size_t n,
                      struct az_batch_result *res);

#endif
