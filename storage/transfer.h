/* Raw libcurl transfers on the calling thread's event loop, for callers that
 * speak HTTP themselves (the reverse proxy, gateway/proxy.c): the same multi
 * handle, connection cache and easy-handle pool as the storage calls
 * (storage/http.c, docs/pipeline.md), so nothing here takes a lock or blocks.
 * Loop thread only. */
#ifndef AZ_TRANSFER_H
#define AZ_TRANSFER_H

#include <curl/curl.h>
#include <stdbool.h>

struct dg_co;

/* One transfer in flight. done runs on the loop when libcurl finished it
 * (never from inside az_transfer_start or az_transfer_abort). */
struct az_transfer {
    void (*done)(struct az_transfer *t, CURLcode result);
    /* private: a storage call parks its coroutine instead of a done */
    struct dg_co *co;
    bool finished;
    CURLcode result;
};

/* An easy handle from the loop's pool, reset, with the options every
 * transfer of the loop needs (socket bookkeeping, no signals, TCP_NODELAY,
 * the idle-connection age, http and https only). */
CURL *az_transfer_handle(void);
/* Back to the pool (after done, or after az_transfer_abort). */
void az_transfer_handle_put(CURL *h);
/* Adds h to the loop's multi handle; false if libcurl refused it. */
bool az_transfer_start(CURL *h, struct az_transfer *t);
/* Removes a transfer that has not finished; done is not called. */
void az_transfer_abort(CURL *h);

#endif
