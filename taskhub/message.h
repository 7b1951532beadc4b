/* Control-queue messages as a DurableTask client sends them (docs/storage-layout.md
 * §6): a MessageData envelope holding a TaskMessage whose Event is one history
 * event, $type first on every object, Sender present and empty, and envelopes
 * over 45 KiB moved to a gzip blob (§7.1). */
#ifndef HUB_MESSAGE_H
#define HUB_MESSAGE_H

#include "base/time.h"
#include "taskhub/history.h"
#include "taskhub/hub.h"

#include <cjson/cJSON.h>
#include <stdint.h>

struct hub_sent {
    char activity_id[37];  /* the envelope's ActivityId */
    const char *blob_name; /* the large-message blob, or NULL when the message went whole */
    const char *blob_url;  /* its absolute URL, or NULL */
    dg_ticks timestamp;    /* the event's Timestamp */
};

/* Sends one event to the control queue of `instance_id`. `fields` is a cJSON
 * object with the event's own members in order (e.g. Name, Input); this
 * function adds $type first and the base members (EventType, EventId -1,
 * IsPlayed false, Timestamp) last, and takes ownership of `fields`.
 * execution_id NULL means "the current execution" (raise, terminate, suspend,
 * resume, rewind); a start passes the new execution's id. timestamp 0: now. */
dg_err hub_send_event(const struct hub *h, az_ctx *x, const char *instance_id, const char *execution_id,
                      enum hub_event_type type, cJSON *fields, dg_ticks timestamp, struct hub_sent *sent);

/* The reader of an envelope as a worker finds it (the text of a queue message,
 * or of a start message kept whole in a blob, §6.1): *input is the event's
 * TaskMessage.Event.Input (a JSON string holding the serialized input) copied
 * into a, or NULL when the envelope has none or it is not a string.
 * DG_EBADRESP (and *input NULL) when text is not one JSON value. */
dg_err hub_message_input(dg_arena *a, const char *text, size_t n, const char **input);

/* The OrchestrationInstance object {"$type","InstanceId","ExecutionId"}. */
cJSON *hub_orchestration_instance(const char *instance_id, const char *execution_id);

/* The counter behind the envelope's SequenceNumber (§6.3), exposed for tests:
 * *counter is 0 until seeded; callers that find it unseeded race to seed it
 * with seed() by compare-exchange, and every value handed out, to any caller,
 * is at least the winning seed and distinct from every other. */
int64_t hub_sequence_next(_Atomic int64_t *counter, int64_t (*seed)(void));

#endif
