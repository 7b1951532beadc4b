/* One error enum for the whole gateway. Zero is success; callers write
 * `rc = f(...); if (rc) goto out;`. The mapping to HTTP statuses lives in one
 * place (routes/, later); the storage layer keeps the service's own error code
 * beside the enum value (see storage/az.h, struct az_status). */
#ifndef DG_ERR_H
#define DG_ERR_H

typedef enum dg_err {
    DG_OK = 0,
    DG_EINVAL,     /* the caller's input is malformed or out of range */
    DG_ENOTFOUND,  /* 404 from storage, or no such thing */
    DG_ECONFLICT,  /* 409: already exists, being deleted, lease held */
    DG_EPRECOND,   /* 412: an If-Match condition failed */
    DG_EAUTH,      /* 401/403 from storage: bad key, bad SAS, clock skew */
    DG_ETHROTTLED, /* 429/503 from storage, still so after the retries */
    DG_EUNAVAIL,   /* connection refused/reset, 5xx, still so after the retries */
    DG_ETIMEOUT,   /* the call's deadline passed */
    DG_EBADRESP,   /* storage answered something we cannot parse */
    DG_ETOOBIG,    /* a capped buffer would have grown past its cap */
    DG_ESTORAGE,   /* any other 4xx answer from storage */
    DG_ECANCELED,  /* the request was cancelled (client gone, deadline, shutdown) */
} dg_err;

/* A short, constant, lower-case name for logs and tests ("not found"). */
const char *dg_err_str(dg_err e);

#endif
