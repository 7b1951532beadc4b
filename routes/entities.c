/* Entity routes (docs/http-api.md §4.12): read one entity's state, list entities,
 * signal an operation, and delete (the signal "delete"). Storage side in
 * taskhub/entity.c (docs/storage-layout.md §9). */
#include "base/json.h"
#include "base/mem.h"
#include "base/utf8.h"
#include "routes/handlers.h"
#include "taskhub/entity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The host's own texts: EntityId's constructor and SignalEntityAsyncInternal,
 * whose ArgumentException takes its two arguments the wrong way round, so its
 * Message is the parameter name followed by the sentence. */
#define NO_NAME_MESSAGE                                                                                      \
    "Invalid entity id: entity name must not be a null or empty string. (Parameter 'entityName')"
#define BAD_KEY_MESSAGE                                                                                      \
    "entityKey (Parameter 'Entity keys must not contain /, \\, #, ?, or control characters.')"
/* The host has no rule of its own for names beyond "not empty" (an unknown
 * entity function is refused later); '@' would move the name/key split. */
#define BAD_NAME_MESSAGE  "Entity names must not contain @, /, \\, #, ?, or control characters."
#define BAD_TOKEN_MESSAGE "The continuation token is not valid."

#define DEFAULT_TOP 100
#define MAX_TOP     1000 /* the Table service's largest page */

/* false (and the 400 answer) when the name or key cannot address an entity. */
static bool check_id(const rt_ctx *c, rt_response *rs, const char *name, const char *key)
{
    dg_arena *a = c->rq->arena;
    if (!hub_entity_name_ok(name)) {
        rt_set_message(rs, a, 400, *name ? BAD_NAME_MESSAGE : NO_NAME_MESSAGE);
        return false;
    }
    if (!hub_entity_key_ok(key)) {
        rt_set_message(rs, a, 400, BAD_KEY_MESSAGE);
        return false;
    }
    return true;
}

/* lastOperationTime (docs/http-api.md §5.4): Newtonsoft's default form. */
static void entity_time(dg_ticks t, char out[DG_ISO_LEN])
{
    dg_iso_format_trimmed(t ? t : DG_TICKS_MIN, out);
}

/* A query time as the host's DateTime.TryParse would take it, in UTC: what
 * dg_iso_parse reads, or a date alone (midnight UTC). false when absent or
 * unreadable, which the host treats as absent. */
static bool query_time(const rt_ctx *c, const char *name, dg_ticks *out)
{
    const char *v = rt_query(c, name);
    if (!v || !*v)
        return false;
    size_t n = strlen(v);
    char *t = dg_arena_strdup(c->rq->arena, v);
    /* An unencoded '+' of an offset arrives as a space. */
    char *sp = n > 19 ? strchr(t + 19, ' ') : NULL;
    if (sp)
        *sp = '+';
    if (n == 10 && v[4] == '-' && v[7] == '-') {
        char buf[24];
        memcpy(buf, v, 10);
        memcpy(buf + 10, "T00:00:00Z", 11);
        return dg_iso_parse(buf, 20, out) == DG_OK;
    }
    return dg_iso_parse(t, n, out) == DG_OK;
}

/* top: a decimal integer (rt_param_int), below 1 the default; -1 when it is
 * not one (the caller answers 400). */
static int query_top(const rt_ctx *c)
{
    int n = DEFAULT_TOP;
    switch (rt_param_int(c, "top", &n)) {
    case RT_PARAM_BAD:
        return -1;
    case RT_PARAM_ABSENT:
        return DEFAULT_TOP;
    case RT_PARAM_OK:
        break;
    }
    return n < 1 ? DEFAULT_TOP : n > MAX_TOP ? MAX_TOP : n;
}

/* Stored state text as a JSON value: the JSON it holds, else the text as a
 * string (what the host does for lists; for reads it would fail). */
static cJSON *state_value(const char *state)
{
    return state ? rt_stored_value(state) : cJSON_CreateNull();
}

void rt_get_entity(const rt_ctx *c, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    const char *name = c->seg[1];
    /* "$" is the empty key, on this route only (the host's HandleGetEntityRequestAsync). */
    const char *key = strcmp(c->seg[2], "$") == 0 ? "" : c->seg[2];
    if (!check_id(c, rs, name, key))
        return;
    az_ctx x;
    rt_az_ctx(c, &x);
    const char *state;
    dg_err rc = hub_entity_get(c->storage, &x, c->hub, name, key, &state);
    if (rc) {
        rt_storage_error(c, rs, rc); /* 404, empty, when there is no row or no state */
        return;
    }
    cJSON *j = dg_json_parse(state, strlen(state));
    if (j) {
        /* The state text is the body, as stored. */
        cJSON_Delete(j);
        rt_set_json(rs, a, 200, state);
        return;
    }
    rt_set_cjson(rs, a, 200, state_value(state));
}

void rt_list_entities(const rt_ctx *c, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    struct hub_entity_query q = {
        .name = c->nseg > 1 ? c->seg[1] : NULL,
        .top = query_top(c),
        .fetch_state = rt_query_bool(c, "fetchState", false),
    };
    if (q.name && !hub_entity_name_ok(q.name)) {
        rt_set_message(rs, a, 400, BAD_NAME_MESSAGE);
        return;
    }
    if (q.top < 0) {
        rt_set_argument_error(c, rs, "The 'top' parameter must be a decimal integer.");
        return;
    }
    if (!query_time(c, "lastOperationTimeFrom", &q.from) || q.from <= DG_TICKS_MIN)
        q.from = 0; /* DateTime.MinValue is no bound */
    if (!query_time(c, "lastOperationTimeTo", &q.to))
        q.to = dg_now_ticks();
    if (rt_token_decode(a, rt_header(c->rq, RT_TOKEN_HEADER), &q.next_pk, &q.next_rk) != DG_OK) {
        rt_set_message(rs, a, 400, BAD_TOKEN_MESSAGE);
        return;
    }
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub_entity_page pg;
    dg_err rc = hub_entity_query(c->storage, &x, c->hub, &q, &pg);
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < pg.n; i++) {
        const struct hub_entity *e = &pg.items[i];
        cJSON *o = cJSON_CreateObject();
        cJSON *id = cJSON_AddObjectToObject(o, "entityId");
        cJSON_AddStringToObject(id, "name", e->name);
        cJSON_AddStringToObject(id, "key", e->key);
        char t[DG_ISO_LEN];
        entity_time(e->last_operation, t);
        cJSON_AddStringToObject(o, "lastOperationTime", t);
        cJSON_AddItemToObject(o, "state", state_value(e->state));
        cJSON_AddItemToArray(arr, o);
    }
    rt_set_cjson(rs, a, 200, arr);
    rt_set_header(rs, a, RT_TOKEN_HEADER, rt_token_encode(a, pg.next_pk, pg.next_rk));
}

/* Appends s[0..n) as a JSON string literal: invalid UTF-8 becomes U+FFFD (as
 * .NET's decoder reads it), control characters and NUL are escaped. */
static void json_string(dg_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    (void) dg_buf_addc(b, '"');
    for (size_t i = 0; i < n;) {
        size_t at = i;
        int32_t cp = dg_utf8_next((const unsigned char *) s, n, &i);
        if (cp < 0) {
            (void) dg_buf_adds(b, "\xEF\xBF\xBD");
            i = at + 1;
        } else if (cp == '"' || cp == '\\') {
            (void) dg_buf_addc(b, '\\');
            (void) dg_buf_addc(b, (char) cp);
        } else if (cp == '\n') {
            (void) dg_buf_adds(b, "\\n");
        } else if (cp == '\r') {
            (void) dg_buf_adds(b, "\\r");
        } else if (cp == '\t') {
            (void) dg_buf_adds(b, "\\t");
        } else if (cp < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[cp >> 4], hex[cp & 15]};
            (void) dg_buf_add(b, e, sizeof e);
        } else {
            (void) dg_buf_add(b, s + at, i - at);
        }
    }
    (void) dg_buf_addc(b, '"');
}

/* Line and position (1-based) of byte off in s, as Newtonsoft reports them. */
static void where(const char *s, size_t off, int *line, int *pos)
{
    *line = 1;
    *pos = 0;
    for (size_t i = 0; i < off; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *pos = 0;
        } else if (((unsigned char) s[i] & 0xC0) != 0x80) {
            (*pos)++;
        }
    }
}

/* The operation input of a signal (docs/http-api.md §4.12): NULL for no body; compact JSON for
 * application/json; the raw text as a JSON string otherwise. false (and the
 * 400 answer) when a JSON body does not parse. */
bool rt_signal_input(const rt_ctx *c, rt_response *rs, const char **input)
{
    const rt_request *rq = c->rq;
    dg_arena *a = rq->arena;
    *input = NULL;
    if (!rq->body || rq->body_len == 0)
        return true;
    if (!rt_is_json_content(c)) {
        dg_buf b;
        dg_buf_init(&b, 2 * rq->body_len * 3 + 16); /* every byte may grow to \u00XX */
        json_string(&b, rq->body, rq->body_len);
        *input = dg_buf_take(&b, a);
        if (!*input) /* the buffer poisons itself: one check covers every append */
            dg_fatal("escaped signal input past its cap");
        return true;
    }
    const char *detail = NULL;
    size_t i = 0;
    while (i < rq->body_len && strchr(" \t\r\n", rq->body[i]))
        i++;
    bool utf8 = true;
    for (size_t k = 0; k < rq->body_len && utf8;)
        utf8 = dg_utf8_next((const unsigned char *) rq->body, rq->body_len, &k) >= 0;
    const char *nul = memchr(rq->body, '\0', rq->body_len);
    char *copy = dg_arena_strndup(a, rq->body, rq->body_len);
    const char *end = NULL;
    cJSON *j = NULL;
    if (!utf8)
        detail = "The request body is not valid UTF-8.";
    else if (nul)
        detail = "The request body holds a NUL character.";
    else if (i == rq->body_len)
        detail = "The request body holds no JSON value.";
    else if (!(j = cJSON_ParseWithOpts(copy, &end, 1))) {
        size_t off = end && end >= copy ? (size_t) (end - copy) : 0;
        int line, pos;
        where(copy, off < rq->body_len ? off + 1 : off, &line, &pos);
        detail =
            off >= rq->body_len
                ? dg_arena_printf(a, "Unexpected end of content. Path '', line %d, position %d.", line, pos)
                : dg_arena_printf(a, "Unexpected character encountered. Path '', line %d, position %d.", line,
                                  pos);
    } else {
        /* cJSON skips any byte up to 0x20 around the value, not only JSON
         * white space: dg_json_parse does not, and neither does the host. */
        cJSON *strict = dg_json_parse(copy, rq->body_len);
        if (!strict) {
            size_t off = 0;
            while (off < rq->body_len && ((unsigned char) copy[off] >= 0x20 || strchr(" \t\r\n", copy[off])))
                off++;
            int line, pos;
            where(copy, off + 1, &line, &pos);
            detail = dg_arena_printf(a, "Unexpected character encountered. Path '', line %d, position %d.",
                                     line, pos);
        }
        cJSON_Delete(strict);
    }
    cJSON_Delete(j);
    if (detail) {
        rt_set_message(rs, a, 400, dg_arena_printf(a, "Could not parse JSON content: %s", detail));
        return false;
    }
    cJSON_Minify(copy);
    *input = copy;
    return true;
}

void rt_signal_entity(const rt_ctx *c, rt_response *rs)
{
    bool del = strcmp(c->rq->method, "DELETE") == 0;
    const char *op = del ? "delete" : rt_query(c, "op");
    /* No "$" here: the host reads it as the empty key only when reading. */
    struct hub_signal s = {.name = c->seg[1], .key = c->nseg > 2 ? c->seg[2] : "", .op = op ? op : ""};
    if (!check_id(c, rs, s.name, s.key) || !rt_signal_input(c, rs, &s.input))
        return;
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub h;
    struct hub_sent sent;
    dg_err rc = hub_open(c->storage, &x, c->hub, c->env->default_partitions, &h);
    if (!rc)
        rc = hub_ensure(&h, &x); /* as the provider's client does before it sends */
    if (!rc)
        rc = hub_entity_signal(&h, &x, &s, &sent);
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    rt_set_empty(rs, 202);
}

void rt_signal_entity_no_name(const rt_ctx *c, rt_response *rs)
{
    rt_set_message(rs, c->rq->arena, 400, NO_NAME_MESSAGE);
}
