/* Durable entities over a task hub (docs/storage-layout.md §9): an entity is an
 * ordinary instance whose id is "@name@key". Its Instances row is written only
 * by the worker's entity scheduler; a client reads that row (the scheduler
 * state in Input, the entity status in CustomStatus) and writes nothing but
 * one EventRaised message per signal. Everything returned lives in the arena
 * given (x->arena for storage calls). */
#ifndef HUB_ENTITY_H
#define HUB_ENTITY_H

#include "base/time.h"
#include "storage/client.h"
#include "taskhub/hub.h"
#include "taskhub/message.h"

#include <stdbool.h>
#include <stddef.h>

/* The name as the extension's EntityId keeps it: lower case, code point by
 * code point (ASCII always; other letters through the C.UTF-8 locale's
 * towlower, close to .NET's ToLowerInvariant). name must be UTF-8. */
const char *hub_entity_name_lower(dg_arena *a, const char *name);
/* The instance id "@" + lowercase(name) + "@" + key (§9.1). */
const char *hub_entity_id(dg_arena *a, const char *name, const char *key);
/* Splits an entity instance id at its second '@' (the key may hold more '@'
 * and may be empty). false when id does not start with '@' or has no second
 * '@'. name and key are copies in a. */
bool hub_entity_split(dg_arena *a, const char *id, const char **name, const char **key);

/* The extension refuses keys holding '/', '\', '#', '?' or control characters
 * (U+0000-U+001F, U+007F-U+009F); the gateway also refuses keys that are not
 * UTF-8. Names: the same rules, plus non-empty and no '@' (which would move
 * the name/key split). */
bool hub_entity_key_ok(const char *key);
bool hub_entity_name_ok(const char *name);

/* The user state inside a scheduler state (§9.2), for both the legacy format
 * (with "exists") and the core format: *state is the text of the "state"
 * member, or NULL when the member is absent or null, which means the entity
 * does not exist (the rule of the current readers, §9.3; "exists" is not
 * consulted). NULL or blank text is a scheduler state without state. A
 * "state" that is not a string (no known writer does that) is returned as its
 * compact JSON text. DG_EBADRESP when the text is not a JSON object. */
dg_err hub_entity_state_of(dg_arena *a, const char *scheduler_state, const char **state);
/* The list rule without state (§9.3): the raw CustomStatus contains the
 * substring "entityExists" (the field is written only when true). */
bool hub_entity_status_exists(const char *custom_status);

/* Reads one entity's state (§9.3 "read one"): the row's Input, followed to
 * its blob when it is a URL, then hub_entity_state_of. DG_ENOTFOUND when the
 * hub, the row or the state is missing. */
dg_err hub_entity_get(az_client *c, az_ctx *x, const char *hub, const char *name, const char *key,
                      const char **state);

struct hub_entity_query {
    const char *name;              /* NULL: every entity; else lowercased, the prefix "@name@" */
    dg_ticks from;                 /* lastOperationTimeFrom; 0: no lower bound */
    dg_ticks to;                   /* lastOperationTimeTo, inclusive (always a bound) */
    int top;                       /* $top of each service page, 1..1000 */
    bool fetch_state;              /* read Input and return the state */
    const char *next_pk, *next_rk; /* where the previous page stopped, or NULL */
    long requery_ms;               /* how long empty pages with a token are re-queried; 0: 100 */
};

struct hub_entity {
    const char *name, *key;  /* from the unescaped PartitionKey */
    dg_ticks last_operation; /* the row's CreatedTime */
    const char *state;       /* the state's JSON text when fetch_state, else NULL */
};

struct hub_entity_page {
    struct hub_entity *items;
    size_t n;
    const char *next_pk, *next_rk; /* NULL when there are no more pages */
};

/* The $filter of §9.4: (CreatedTime ge datetime'from') when from is set,
 * (CreatedTime le datetime'to'), (PartitionKey ge 'prefix') and
 * (PartitionKey lt 'prefix with its last '@' made 'A''), joined with " and ". */
dg_err hub_entity_filter(dg_arena *a, const struct hub_entity_query *q, const char **filter);

/* One page of the entity list (§9.4): one service page, rows that fail the
 * existence rule (§9.3) dropped, and re-queried at once while a page comes
 * back empty with a continuation, for at most q->requery_ms. A hub without an
 * Instances table has no entities (DG_OK, n = 0). Rows whose PartitionKey is
 * not an entity id, or whose state cannot be read as a scheduler state, are
 * left out. */
dg_err hub_entity_query(az_client *c, az_ctx *x, const char *hub, const struct hub_entity_query *q,
                        struct hub_entity_page *out);

/* The request message a client signal carries, as JSON text (§9.5):
 * {"op","signal":true,"input"?,"id","Timestamp","Predecessor"} with the two
 * times at .NET's default. input is JSON text or NULL (no "input" member). */
char *hub_entity_request_json(dg_arena *a, const char *op, const char *input, const char *request_id);

struct hub_signal {
    const char *name;  /* as given; lowercased here */
    const char *key;   /* as given; "" for none */
    const char *op;    /* "" allowed */
    const char *input; /* JSON text, or NULL */
};

/* Sends the signal: one EventRaised named "op" whose Input is the request
 * message, to the current execution (ExecutionId null, so the first signal
 * auto-starts the entity, §9.5), on the control queue of FNV-1a("@name@key").
 * The request's "id" is a new GUID. No table row is written. The caller
 * validates name and key and makes sure the hub exists. */
dg_err hub_entity_signal(const struct hub *h, az_ctx *x, const struct hub_signal *s, struct hub_sent *sent);

#endif
