#include "taskhub/query.h"

#include "base/log.h"
#include "storage/odata.h"
#include "storage/table.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"

#include <string.h>

/* 1601-01-01T00:00:00Z, the earliest instant an Edm.DateTime holds. */
#define EDM_DATETIME_MIN (-11644473600LL * DG_TICKS_PER_SEC)

/* Joins the next condition to those before it. */
static void next_condition(az_filter *f, bool *any)
{
    if (*any)
        az_filter_and(f);
    *any = true;
}

static void any_of(az_filter *f, const char *prop, const char *const *v, size_t n)
{
    az_filter_open(f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            az_filter_or(f);
        az_filter_cmp_str(f, prop, AZ_EQ, v[i]);
    }
    az_filter_close(f);
}

dg_err hub_query_filter(dg_arena *a, const struct hub_query *q, const char **out)
{
    az_filter f;
    az_filter_init(&f);
    bool any = false;
    /* Before 1601 every row matches: the service has no earlier DateTime. */
    if (q->has_from && q->created_from > EDM_DATETIME_MIN) {
        next_condition(&f, &any);
        az_filter_open(&f);
        az_filter_cmp_datetime(&f, "CreatedTime", AZ_GE, q->created_from);
        az_filter_close(&f);
    }
    if (q->has_to) {
        next_condition(&f, &any);
        az_filter_open(&f);
        az_filter_cmp_datetime(&f, "CreatedTime", AZ_LE,
                               q->created_to < EDM_DATETIME_MIN ? EDM_DATETIME_MIN : q->created_to);
        az_filter_close(&f);
    }
    if (q->nstatuses) {
        next_condition(&f, &any);
        any_of(&f, "RuntimeStatus", q->statuses, q->nstatuses);
    }
    if (q->nnames) {
        next_condition(&f, &any);
        any_of(&f, "Name", q->names, q->nnames);
    }
    if (q->id_prefix && *q->id_prefix) {
        /* Escaping works character by character, so the escaped prefix is a
         * prefix of exactly the escaped ids that start with the prefix. */
        next_condition(&f, &any);
        az_filter_prefix(&f, "PartitionKey", hub_key_escape(a, q->id_prefix, strlen(q->id_prefix)));
    }
    /* Entities (ids "@name@key") are left out whatever the prefix: a prefix of
     * "@" names no orchestration (start refuses a leading '@'). */
    next_condition(&f, &any);
    az_filter_open(&f);
    az_filter_cmp_str(&f, "PartitionKey", AZ_LT, "@");
    az_filter_or(&f);
    az_filter_cmp_str(&f, "PartitionKey", AZ_GE, "A");
    az_filter_close(&f);
    if (q->after_pk) {
        next_condition(&f, &any);
        az_filter_open(&f);
        az_filter_cmp_str(&f, "PartitionKey", AZ_GT, q->after_pk);
        az_filter_or(&f);
        az_filter_open(&f);
        az_filter_cmp_str(&f, "PartitionKey", AZ_EQ, q->after_pk);
        az_filter_and(&f);
        az_filter_cmp_str(&f, "RowKey", AZ_GT, q->after_rk ? q->after_rk : "");
        az_filter_close(&f);
        az_filter_close(&f);
    }
    const char *s = az_filter_str(&f);
    dg_err rc = s ? DG_OK : f.err;
    *out = s ? dg_arena_strdup(a, s) : NULL;
    az_filter_free(&f);
    return rc;
}

/* A blob that is gone leaves the stored value (the URL): one lost payload
 * should not hide a whole page of instances. */
static dg_err resolve(az_client *c, az_ctx *x, const char *hub, const char **value)
{
    const char *v;
    dg_err rc = hub_large_resolve(c, x, hub, *value, &v);
    if (rc == DG_ENOTFOUND) {
        DG_WARN(x->reqid, "large payload of an instance is gone: %s", dg_redact(x->arena, *value));
        return DG_OK;
    }
    if (!rc)
        *value = v;
    return rc;
}

dg_err hub_query_instances(az_client *c, az_ctx *x, const char *hub, const struct hub_query *q,
                           unsigned flags, int top, const char *next_pk, const char *next_rk,
                           struct hub_instance_page *out)
{
    memset(out, 0, sizeof *out);
    if (!hub_name_ok(hub))
        return DG_EINVAL;
    const char *filter;
    dg_err rc = hub_query_filter(x->arena, q, &filter);
    if (rc)
        return rc;
    const char *select =
        dg_arena_printf(x->arena, "%s%s%s", HUB_INSTANCE_COLUMNS_NO_IO, flags & HUB_GET_INPUT ? ",Input" : "",
                        flags & HUB_GET_OUTPUT ? ",Output" : "");
    struct az_query aq = {
        .filter = filter, .select = select, .top = top, .next_pk = next_pk, .next_rk = next_rk};
    struct az_page pg;
    rc = az_table_query(c, x, dg_arena_printf(x->arena, "%sInstances", hub), &aq, &pg);
    if (rc)
        return rc;
    out->items = dg_arena_alloc(x->arena, (pg.n ? pg.n : 1) * sizeof *out->items);
    for (size_t i = 0; i < pg.n; i++) {
        struct hub_instance *in = &out->items[out->n];
        if (hub_instance_from_entity(x->arena, &pg.items[i], in) != DG_OK) {
            DG_WARN(x->reqid, "skipping an Instances row whose PartitionKey is not an escaped id");
            continue;
        }
        /* The key range is exact in the service's UTF-16 order; this keeps the
         * answer right where it is not (a prefix with no upper bound, a store
         * that orders otherwise). */
        if (q->id_prefix && strncmp(in->id, q->id_prefix, strlen(q->id_prefix)) != 0)
            continue;
        if ((flags & HUB_GET_INPUT) && (rc = resolve(c, x, hub, &in->input)) != DG_OK)
            return rc;
        if ((flags & HUB_GET_OUTPUT) && (rc = resolve(c, x, hub, &in->output)) != DG_OK)
            return rc;
        out->n++;
    }
    out->next_pk = pg.next_pk;
    out->next_rk = pg.next_rk;
    return DG_OK;
}
