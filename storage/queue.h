/* Queue service operations. Message text is sent as given (XML-escaped on the
 * wire); DurableTask's messages are JSON text. */
#ifndef AZ_QUEUE_H
#define AZ_QUEUE_H

#include "storage/client.h"

#include <stdbool.h>

/* Queue names: 3-63 lower-case letters, digits and single dashes, starting and
 * ending with a letter or digit. */
bool az_queue_name_ok(const char *name);

/* DG_OK also when the queue exists already. */
dg_err az_queue_create(az_client *c, az_ctx *x, const char *queue);
dg_err az_queue_delete(az_client *c, az_ctx *x, const char *queue);

struct az_qmsg {
    const char *id;
    const char *pop_receipt; /* NULL for peeked messages */
    const char *text;
    size_t text_len;
    long dequeue_count;
};

/* visibility_s: seconds before the message becomes visible (0 = at once).
 * ttl_s: seconds to live; 0 = the service's default (7 days); -1 = never expires.
 * out (may be NULL) receives the message id and pop receipt. */
dg_err az_queue_put(az_client *c, az_ctx *x, const char *queue, const char *text, size_t n, long visibility_s,
                    long ttl_s, struct az_qmsg *out);
/* Dequeues up to max (1..32) messages, hiding them for visibility_s seconds. */
dg_err az_queue_get(az_client *c, az_ctx *x, const char *queue, int max, long visibility_s,
                    struct az_qmsg **out, size_t *n);
/* Looks at up to max (1..32) messages without hiding them. */
dg_err az_queue_peek(az_client *c, az_ctx *x, const char *queue, int max, struct az_qmsg **out, size_t *n);
dg_err az_queue_delete_msg(az_client *c, az_ctx *x, const char *queue, const char *id,
                           const char *pop_receipt);

#endif
