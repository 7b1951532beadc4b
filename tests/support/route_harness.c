#include "tests/support/route_harness.h"

#include "storage/blob.h"
#include "storage/queue.h"
#include "storage/table.h"
#include "taskhub/hub.h"
#include "taskhub/keys.h"
#include "tests/support/azurite_env.h"

#include <criterion/criterion.h>
#include <string.h>
#include <strings.h>

static const char *keyfile =
    "{\"masterKey\":\"master-key-0123456789\",\"systemKeys\":{\"durabletask_extension\":\"" TH_KEY
    "\",\"other_extension\":\"other-key-0123456789\"},\"readOnlyKeys\":[\"" TH_READ_KEY "\"]}";

void th_init(struct th *t)
{
    memset(t, 0, sizeof *t);
    t->c = test_azurite_client(NULL, NULL);
    t->a = dg_arena_create();
    t->hub = test_unique_name(t->a, "Hub");
    char err[128];
    t->keys = auth_keys_parse(keyfile, strlen(keyfile), err, sizeof err);
    cr_assert_not_null(t->keys, "%s", err);
    t->env = (struct rt_env){.storage = t->c, .keys = t->keys, .default_hub = t->hub};
    hub_cache_clear();
}

void th_fini(struct th *t)
{
    auth_keys_destroy(t->keys);
    dg_arena_destroy(t->a);
    az_client_destroy(t->c);
}

rt_response th_call(struct th *t, const struct th_req *r)
{
    struct rt_param *h = dg_arena_alloc(t->a, (r->nheaders + 3) * sizeof *h);
    size_t n = 0;
    h[n++] = (struct rt_param){"Host", "gw.test:7071"};
    if (r->key)
        h[n++] = (struct rt_param){"x-functions-key", r->key};
    if (r->content_type)
        h[n++] = (struct rt_param){"Content-Type", r->content_type};
    for (size_t i = 0; i < r->nheaders; i++)
        h[n++] = r->headers[i];
    rt_request rq = {.arena = t->a,
                     .reqid = "test",
                     .method = r->method,
                     .path = r->path,
                     .raw_query = r->query ? r->query : "",
                     .headers = h,
                     .nheaders = n,
                     .body = r->body ? r->body : "",
                     .body_len = r->body ? strlen(r->body) : 0};
    rt_response rs;
    rt_dispatch(&t->env, &rq, &rs);
    return rs;
}

rt_response th_do(struct th *t, const char *method, const char *path, const char *query, const char *body)
{
    struct th_req r = {method, path, query, TH_KEY, body ? "application/json" : NULL, body, NULL, 0};
    return th_call(t, &r);
}

const char *th_header(const rt_response *rs, const char *name)
{
    for (size_t i = 0; i < rs->nheaders; i++)
        if (strcasecmp(rs->headers[i].name, name) == 0)
            return rs->headers[i].value;
    return NULL;
}

cJSON *th_json(struct th *t, const rt_response *rs)
{
    cr_assert_not_null(rs->body, "status %d without a body", rs->status);
    cr_assert_str_eq(rs->content_type, "application/json; charset=utf-8");
    cJSON *j = cJSON_ParseWithLength(rs->body, rs->body_len);
    cr_assert_not_null(j, "not JSON: %.*s", (int) rs->body_len, rs->body);
    dg_arena_defer(t->a, (void (*)(void *)) cJSON_Delete, j);
    return j;
}

void th_make_instances_table(struct th *t)
{
    az_ctx x;
    az_ctx_init(&x, t->a);
    cr_assert_eq(az_table_create(t->c, &x, dg_arena_printf(t->a, "%sInstances", t->hub)), DG_OK);
}

void th_seed_instance(struct th *t, const char *id, const char *name, const char *status, const char *input,
                      const char *output)
{
    az_ctx x;
    az_ctx_init(&x, t->a);
    az_entity e;
    az_entity_init(&e, t->a, hub_key_escape(t->a, id, strlen(id)), "");
    az_entity_set_str(&e, t->a, "Name", name);
    az_entity_set_str(&e, t->a, "Version", "");
    if (input)
        az_entity_set_str(&e, t->a, "Input", input);
    if (output)
        az_entity_set_str(&e, t->a, "Output", output);
    az_entity_set_str(&e, t->a, "CustomStatus", "null");
    az_entity_set_str(&e, t->a, "RuntimeStatus", status);
    dg_ticks now = dg_now_ticks();
    az_entity_set_datetime(&e, t->a, "CreatedTime", now - 60 * DG_TICKS_PER_SEC);
    az_entity_set_datetime(&e, t->a, "LastUpdatedTime", now);
    az_entity_set_str(&e, t->a, "ExecutionId", "0123456789abcdef0123456789abcdef");
    az_entity_set_i32(&e, t->a, "Generation", 0);
    az_entity_set_str(&e, t->a, "Tags", "null");
    az_entity_set_str(&e, t->a, "TaskHubName", t->hub);
    cr_assert_eq(az_table_write(t->c, &x, dg_arena_printf(t->a, "%sInstances", t->hub), AZ_UPSERT_REPLACE, &e,
                                NULL, NULL),
                 DG_OK, "%s", x.st.message);
}

static const char *queue_of(struct th *t, const char *id, unsigned partitions)
{
    struct hub h = {.name = t->hub, .lname = NULL, .partitions = partitions};
    char *l = dg_arena_strdup(t->a, t->hub);
    for (char *p = l; *p; p++)
        *p = (char) (*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    h.lname = l;
    return hub_control_queue(&h, t->a, id);
}

cJSON *th_take_message(struct th *t, const char *id, unsigned partitions)
{
    az_ctx x;
    az_ctx_init(&x, t->a);
    const char *q = queue_of(t, id, partitions);
    struct az_qmsg *m;
    size_t n;
    cr_assert_eq(az_queue_get(t->c, &x, q, 32, 30, &m, &n), DG_OK, "%s: %s", q, x.st.message);
    cr_assert_eq(n, 1, "%zu messages on %s", n, q);
    cJSON *j = cJSON_ParseWithLength(m[0].text, m[0].text_len);
    cr_assert_not_null(j, "not JSON: %s", m[0].text);
    dg_arena_defer(t->a, (void (*)(void *)) cJSON_Delete, j);
    cr_assert_eq(az_queue_delete_msg(t->c, &x, q, m[0].id, m[0].pop_receipt), DG_OK);
    return j;
}

void th_assert_no_message(struct th *t, const char *id, unsigned partitions)
{
    az_ctx x;
    az_ctx_init(&x, t->a);
    const char *q = queue_of(t, id, partitions);
    struct az_qmsg *m;
    size_t n = 0;
    dg_err rc = az_queue_peek(t->c, &x, q, 32, &m, &n);
    cr_assert(rc == DG_ENOTFOUND || (rc == DG_OK && n == 0), "%zu messages on %s", n, q);
}

const char *th_first_key(const cJSON *o)
{
    return o && o->child ? o->child->string : NULL;
}
