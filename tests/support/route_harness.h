/* A request/response harness for handler tests: rt_dispatch with no socket,
 * over a real Azurite (tests/support/with-azurite.sh), plus seeding and
 * inspection of task-hub artefacts in DurableTask's own formats. */
#ifndef DG_TEST_ROUTE_HARNESS_H
#define DG_TEST_ROUTE_HARNESS_H

#include "routes/router.h"

#include <cjson/cJSON.h>

#define TH_KEY      "ext-key-0123456789"
#define TH_READ_KEY "read-key-0123456789"

struct th {
    az_client *c;
    dg_arena *a;
    const char *hub;
    auth_keys *keys;
    struct rt_env env;
};

/* A fresh hub name (nothing made yet), keys with a master, an extension, another
 * system and a read-only key. */
void th_init(struct th *t);
void th_fini(struct th *t);

struct th_req {
    const char *method, *path, *query; /* query may be NULL */
    const char *key;                   /* x-functions-key, or NULL */
    const char *content_type;          /* or NULL */
    const char *body;                  /* or NULL */
    const struct rt_param *headers;    /* more headers */
    size_t nheaders;
};
rt_response th_call(struct th *t, const struct th_req *r);
/* Shorthand: method, path, query, body (content type application/json when body != NULL), extension key. */
rt_response th_do(struct th *t, const char *method, const char *path, const char *query, const char *body);

const char *th_header(const rt_response *rs, const char *name);
/* The body parsed (asserts it is JSON with the API's content type); freed with the arena. */
cJSON *th_json(struct th *t, const rt_response *rs);

/* An Instances row as a worker leaves it (docs/storage-layout.md §4). */
void th_seed_instance(struct th *t, const char *id, const char *name, const char *status, const char *input,
                      const char *output);
/* Creates the hub's Instances table (and nothing else). */
void th_make_instances_table(struct th *t);
/* The one message waiting on the instance's control queue (partitions: the
 * hub's count), parsed; asserts there is exactly one. The message is deleted. */
cJSON *th_take_message(struct th *t, const char *id, unsigned partitions);
/* Asserts the queue of that id's partition holds no message. */
void th_assert_no_message(struct th *t, const char *id, unsigned partitions);
/* The first key of a JSON object. */
const char *th_first_key(const cJSON *o);

#endif
