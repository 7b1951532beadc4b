#include "taskhub/entity.h"

#include "base/json.h"
#include "base/log.h"
#include "base/rand.h"
#include "base/utf8.h"
#include "storage/odata.h"
#include "storage/table.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"

#include <cjson/cJSON.h>
#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>

#define DEFAULT_REQUERY_MS 100
/* .NET's default DateTime as Newtonsoft writes it (RequestMessage.Timestamp, Predecessor). */
#define DOTNET_DEFAULT_TIME "0001-01-01T00:00:00"

static pthread_once_t locale_once = PTHREAD_ONCE_INIT;
static locale_t utf8_locale; /* (locale_t) 0 when the C library has no C.UTF-8 */

static void locale_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
}

const char *hub_entity_name_lower(dg_arena *a, const char *name)
{
    size_t n = strlen(name);
    /* Lower case never takes more than 4 bytes per code point, nor more bytes
     * than 3 per input byte. */
    char *out = dg_arena_alloc(a, n * 3 + 1), *o = out;
    pthread_once(&locale_once, locale_init);
    for (size_t i = 0; i < n;) {
        size_t at = i;
        int32_t cp = dg_utf8_next((const unsigned char *) name, n, &i);
        if (cp < 0) {
            *o++ = name[at]; /* not UTF-8: copied as is; the callers refuse such names */
            i = at + 1;
            continue;
        }
        if (cp < 0x80)
            cp = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
        else if (utf8_locale) {
            wint_t l = towlower_l((wint_t) cp, utf8_locale);
            if (l <= 0x10FFFF && !(l >= 0xD800 && l <= 0xDFFF))
                cp = (int32_t) l;
        }
        o += dg_utf8_put(cp, o);
    }
    *o = '\0';
    return out;
}

const char *hub_entity_id(dg_arena *a, const char *name, const char *key)
{
    return dg_arena_printf(a, "@%s@%s", hub_entity_name_lower(a, name), key);
}

bool hub_entity_split(dg_arena *a, const char *id, const char **name, const char **key)
{
    if (!id || id[0] != '@')
        return false;
    const char *at = strchr(id + 1, '@');
    if (!at)
        return false;
    *name = dg_arena_strndup(a, id + 1, (size_t) (at - id - 1));
    *key = dg_arena_strdup(a, at + 1);
    return true;
}

static bool chars_ok(const char *s, bool allow_at)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        int32_t cp = dg_utf8_next((const unsigned char *) s, n, &i);
        if (cp < 0 || cp == '/' || cp == '\\' || cp == '#' || cp == '?' || (cp == '@' && !allow_at))
            return false;
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return false;
    }
    return true;
}

bool hub_entity_key_ok(const char *key)
{
    return key && chars_ok(key, true);
}

bool hub_entity_name_ok(const char *name)
{
    return name && *name && chars_ok(name, false);
}

dg_err hub_entity_state_of(dg_arena *a, const char *scheduler_state, const char **state)
{
    *state = NULL;
    const char *p = scheduler_state;
    while (p && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (!p || !*p)
        return DG_OK;
    cJSON *j = dg_json_parse(p, strlen(p));
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return DG_EBADRESP;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "state");
    if (cJSON_IsString(s)) {
        *state = dg_arena_strdup(a, s->valuestring);
    } else if (s && !cJSON_IsNull(s)) {
        char *txt = dg_json_print(s);
        *state = dg_arena_strdup(a, txt);
        cJSON_free(txt);
    }
    cJSON_Delete(j);
    return DG_OK;
}

bool hub_entity_status_exists(const char *custom_status)
{
    return custom_status && strstr(custom_status, "entityExists");
}

/* The state of a row's Input, followed to its blob. */
static dg_err row_state(az_client *c, az_ctx *x, const char *hub, const char *input, const char **state)
{
    const char *text;
    dg_err rc = hub_large_resolve(c, x, hub, input, &text);
    if (!rc)
        rc = hub_entity_state_of(x->arena, text, state);
    return rc;
}

dg_err hub_entity_get(az_client *c, az_ctx *x, const char *hub, const char *name, const char *key,
                      const char **state)
{
    *state = NULL;
    const char *id = hub_entity_id(x->arena, name, key);
    az_entity e;
    dg_err rc = az_table_get(c, x, hub_table_name(x->arena, hub, "Instances"),
                             hub_key_escape(x->arena, id, strlen(id)), "", "PartitionKey,RowKey,Input", &e);
    if (rc)
        return rc;
    rc = row_state(c, x, hub, az_entity_str(&e, "Input"), state);
    if (rc == DG_ENOTFOUND)
        return DG_EBADRESP; /* the row points at a blob that is not there */
    if (!rc && !*state)
        rc = DG_ENOTFOUND;
    return rc;
}

dg_err hub_entity_filter(dg_arena *a, const struct hub_entity_query *q, const char **filter)
{
    const char *prefix = q->name ? hub_entity_id(a, q->name, "") : "@";
    char *lo = hub_key_escape(a, prefix, strlen(prefix));
    /* The prefix ends in '@' (U+0040), and the bound just above every string
     * with that prefix ends in 'A' instead (docs/storage-layout.md §9.4). */
    char *hi = dg_arena_strdup(a, lo);
    hi[strlen(hi) - 1] = 'A';
    az_filter f;
    az_filter_init(&f);
    if (q->from) {
        az_filter_open(&f);
        az_filter_cmp_datetime(&f, "CreatedTime", AZ_GE, q->from);
        az_filter_close(&f);
        az_filter_and(&f);
    }
    az_filter_open(&f);
    az_filter_cmp_datetime(&f, "CreatedTime", AZ_LE, q->to);
    az_filter_close(&f);
    az_filter_and(&f);
    az_filter_open(&f);
    az_filter_cmp_str(&f, "PartitionKey", AZ_GE, lo);
    az_filter_close(&f);
    az_filter_and(&f);
    az_filter_open(&f);
    az_filter_cmp_str(&f, "PartitionKey", AZ_LT, hi);
    az_filter_close(&f);
    dg_err rc = f.err;
    *filter = rc ? NULL : dg_arena_strdup(a, az_filter_str(&f));
    az_filter_free(&f);
    return rc;
}

/* Appends the row to the page when it is an existing entity (docs/storage-layout.md §9.3). */
static dg_err keep_row(az_client *c, az_ctx *x, const char *hub, const struct hub_entity_query *q,
                       const az_entity *e, struct hub_entity_page *out)
{
    char *id;
    struct hub_entity it = {0};
    if (hub_key_unescape(x->arena, e->pk, strlen(e->pk), &id) ||
        !hub_entity_split(x->arena, id, &it.name, &it.key))
        return DG_OK; /* not an entity row: the prefix range only comes close */
    if (q->fetch_state) {
        dg_err rc = row_state(c, x, hub, az_entity_str(e, "Input"), &it.state);
        if (rc == DG_EBADRESP) {
            DG_WARN(x->reqid, "entity %s: the scheduler state in Input is not a JSON object; left out", id);
            return DG_OK;
        }
        if (rc == DG_ENOTFOUND) {
            DG_WARN(x->reqid, "entity %s: the blob its Input points at is missing; left out", id);
            return DG_OK;
        }
        if (rc)
            return rc;
        if (!it.state)
            return DG_OK;
    } else if (!hub_entity_status_exists(az_entity_str(e, "CustomStatus"))) {
        return DG_OK;
    }
    it.last_operation = az_entity_datetime(e, "CreatedTime", 0);
    out->items[out->n++] = it;
    return DG_OK;
}

dg_err hub_entity_query(az_client *c, az_ctx *x, const char *hub, const struct hub_entity_query *q,
                        struct hub_entity_page *out)
{
    memset(out, 0, sizeof *out);
    struct az_query aq = {
        .select = q->fetch_state ? "PartitionKey,RowKey,CustomStatus,CreatedTime,Input"
                                 : "PartitionKey,RowKey,CustomStatus,CreatedTime",
        .top = q->top,
        .next_pk = q->next_pk,
        .next_rk = q->next_rk,
    };
    dg_err rc = hub_entity_filter(x->arena, q, &aq.filter);
    if (rc)
        return rc;
    long budget = q->requery_ms > 0 ? q->requery_ms : DEFAULT_REQUERY_MS;
    int64_t start = dg_mono_ms();
    const char *table = hub_table_name(x->arena, hub, "Instances");
    for (;;) {
        struct az_page pg;
        rc = az_table_query(c, x, table, &aq, &pg);
        if (rc == DG_ENOTFOUND && strcmp(x->st.code, "TableNotFound") == 0)
            return DG_OK; /* no hub, no entities */
        if (rc)
            return rc;
        out->items = dg_arena_alloc(x->arena, (pg.n ? pg.n : 1) * sizeof *out->items);
        out->n = 0;
        for (size_t i = 0; i < pg.n && !rc; i++)
            rc = keep_row(c, x, hub, q, &pg.items[i], out);
        if (rc)
            return rc;
        out->next_pk = pg.next_pk;
        out->next_rk = pg.next_rk;
        /* Empty pages with a continuation are re-queried at once, briefly (docs/storage-layout.md §9.4). */
        if (!pg.next_pk || out->n > 0 || dg_mono_ms() - start > budget)
            return DG_OK;
        aq.next_pk = pg.next_pk;
        aq.next_rk = pg.next_rk;
    }
}

char *hub_entity_request_json(dg_arena *a, const char *op, const char *input, const char *request_id)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "op", op);
    cJSON_AddTrueToObject(m, "signal");
    if (input)
        cJSON_AddStringToObject(m, "input", input);
    cJSON_AddStringToObject(m, "id", request_id);
    cJSON_AddStringToObject(m, "Timestamp", DOTNET_DEFAULT_TIME);
    cJSON_AddStringToObject(m, "Predecessor", DOTNET_DEFAULT_TIME);
    char *txt = dg_json_print(m);
    char *out = dg_arena_strdup(a, txt);
    cJSON_free(txt);
    cJSON_Delete(m);
    return out;
}

dg_err hub_entity_signal(const struct hub *h, az_ctx *x, const struct hub_signal *s, struct hub_sent *sent)
{
    char rid[DG_UUID_LEN];
    dg_uuid4(rid);
    const char *id = hub_entity_id(x->arena, s->name, s->key);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "Name", "op");
    cJSON_AddStringToObject(f, "Input", hub_entity_request_json(x->arena, s->op, s->input, rid));
    cJSON_AddNullToObject(f, "ParentTraceContext");
    return hub_send_event(h, x, id, NULL, HUB_EV_EVENT_RAISED, f, 0, sent);
}
