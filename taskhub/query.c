#include "taskhub/query.h"

#include "base/log.h"
#include "base/loop.h"
#include "storage/odata.h"
#include "storage/table.h"
#include "taskhub/hub.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"

#include "base/mem.h"

#include <stdlib.h>
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
    if (q->range_lo) {
        next_condition(&f, &any);
        az_filter_open(&f);
        az_filter_cmp_str(&f, "PartitionKey", AZ_GE, q->range_lo);
        az_filter_close(&f);
    }
    if (q->range_hi) {
        next_condition(&f, &any);
        az_filter_open(&f);
        az_filter_cmp_str(&f, "PartitionKey", AZ_LT, q->range_hi);
        az_filter_close(&f);
    }
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

const char *hub_query_columns(unsigned flags)
{
    switch (flags & (HUB_GET_INPUT | HUB_GET_OUTPUT)) {
    case HUB_GET_INPUT | HUB_GET_OUTPUT:
        return HUB_LIST_COLUMNS ",Input,Output";
    case HUB_GET_INPUT:
        return HUB_LIST_COLUMNS ",Input";
    case HUB_GET_OUTPUT:
        return HUB_LIST_COLUMNS ",Output";
    default:
        return HUB_LIST_COLUMNS;
    }
}

/* hub_instance_from_entity() for the columns of HUB_LIST_COLUMNS, in one
 * pass over the row's properties instead of a lookup by name per field. */
static dg_err list_row(dg_arena *a, const az_entity *e, struct hub_instance *out)
{
    memset(out, 0, sizeof *out);
    char *id;
    if (hub_key_unescape(a, e->pk, strlen(e->pk), &id))
        return DG_EBADRESP;
    out->id = id;
    out->etag = e->etag;
    for (size_t i = 0; i < e->n; i++) {
        const struct az_prop *p = &e->props[i];
        bool str = p->type == AZ_EDM_STRING || p->type == AZ_EDM_GUID, dt = p->type == AZ_EDM_DATETIME;
        const char *n = p->name;
        if (str && strcmp(n, "Name") == 0)
            out->name = p->s;
        else if (str && strcmp(n, "RuntimeStatus") == 0)
            out->runtime_status = p->s;
        else if (str && strcmp(n, "Input") == 0)
            out->input = p->s;
        else if (str && strcmp(n, "Output") == 0)
            out->output = p->s;
        else if (str && strcmp(n, "CustomStatus") == 0)
            out->custom_status = p->s;
        else if (dt && strcmp(n, "CreatedTime") == 0)
            out->created = p->i;
        else if (dt && strcmp(n, "LastUpdatedTime") == 0)
            out->last_updated = p->i;
    }
    return DG_OK;
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
    struct az_query aq = {.filter = filter,
                          .select = hub_query_columns(flags),
                          .top = top,
                          .next_pk = next_pk,
                          .next_rk = next_rk};
    struct az_page pg;
    rc = az_table_query(c, x, hub_table_name(x->arena, hub, "Instances"), &aq, &pg);
    if (rc)
        return rc;
    out->items = dg_arena_alloc(x->arena, (pg.n ? pg.n : 1) * sizeof *out->items);
    for (size_t i = 0; i < pg.n; i++) {
        struct hub_instance *in = &out->items[out->n];
        if (list_row(x->arena, &pg.items[i], in) != DG_OK) {
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

/* ---- parallel key ranges ---- */

void hub_query_range(int i, int n, const char **lo, const char **hi)
{
    static const char *const hex[16] = {"0", "1", "2", "3", "4", "5", "6", "7",
                                        "8", "9", "a", "b", "c", "d", "e", "f"};
    if (n < 2)
        n = 1;
    if (n > HUB_RANGES_MAX)
        n = HUB_RANGES_MAX;
    *lo = i <= 0 ? NULL : hex[(i * 16) / n];
    *hi = i >= n - 1 ? NULL : hex[((i + 1) * 16) / n];
}

struct range_job {
    az_client *c;
    az_ctx *x; /* the caller's: arena and deadline shared (one thread, see below) */
    const char *hub;
    const struct hub_query *q;
    unsigned flags;
    int top, i, n;
    struct hub_range_cursor *cur;
    struct hub_instance_page *page;
    dg_err rc;
};

/* The coroutines of one request run on one thread and switch only where a
 * storage call parks, never inside an arena allocation: they share its arena. */
static void range_page(void *arg)
{
    struct range_job *j = arg;
    struct hub_query rq = *j->q;
    hub_query_range(j->i, j->n, &rq.range_lo, &rq.range_hi);
    az_ctx x;
    az_ctx_init(&x, j->x->arena);
    x.reqid = j->x->reqid;
    x.deadline_ms = j->x->deadline_ms;
    j->rc = hub_query_instances(j->c, &x, j->hub, &rq, j->flags, j->top, j->cur->next_pk, j->cur->next_rk,
                                j->page);
    if (j->rc == DG_ENOTFOUND || j->rc == DG_ETOOBIG) {
        j->rc = DG_OK; /* no table, or a prefix no key can have: nothing in this range */
        memset(j->page, 0, sizeof *j->page);
    }
    if (j->rc)
        return;
    j->cur->next_pk = j->page->next_pk;
    j->cur->next_rk = j->page->next_rk;
    j->cur->done = j->page->next_pk == NULL;
}

struct ranges_args {
    struct range_job *jobs;
    int n;
};

static void ranges_co(void *arg)
{
    struct ranges_args *ra = arg;
    struct dg_co_group g = {0};
    int last = -1;
    for (int i = 0; i < ra->n; i++) {
        if (ra->jobs[i].cur->done)
            continue;
        if (last >= 0)
            dg_co_group_spawn(&g, range_page, &ra->jobs[last]);
        last = i;
    }
    if (last >= 0)
        range_page(&ra->jobs[last]); /* the calling coroutine takes one range itself */
    dg_co_group_wait(&g);
}

dg_err hub_query_ranges(az_client *c, az_ctx *x, const char *hub, const struct hub_query *q, unsigned flags,
                        int top, int n, struct hub_range_cursor *cur, struct hub_instance_page *pages)
{
    if (n < 1 || n > HUB_RANGES_MAX)
        return DG_EINVAL;
    struct range_job jobs[HUB_RANGES_MAX];
    for (int i = 0; i < n; i++) {
        memset(&pages[i], 0, sizeof pages[i]);
        jobs[i] = (struct range_job){c, x, hub, q, flags, top, i, n, &cur[i], &pages[i], DG_OK};
    }
    struct ranges_args ra = {jobs, n};
    dg_co_run(ranges_co, &ra);
    for (int i = 0; i < n; i++)
        if (jobs[i].rc)
            return jobs[i].rc;
    return DG_OK;
}

/* ---- counts ---- */

struct count_job {
    az_client *c;
    const az_ctx *x;
    const char *hub;
    const char *filter;
    const char *prefix;
    struct hub_counts counts;
    dg_err rc;
};

static void tally(struct hub_counts *h, const char *status, uint64_t k)
{
    h->total += k;
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->status[i], status) == 0) {
            h->count[i] += k;
            return;
        }
    if (h->n < sizeof h->count / sizeof *h->count) {
        h->status[h->n] = status;
        h->count[h->n++] = k;
    } else {
        h->other += k;
    }
}

/* The statuses a count can meet are few and known: keeping them as static
 * strings lets each page's arena go. A row without one, or with a value that
 * names none, counts as "Unknown", the status the list shows for a row without one. */
static const char *status_name(const char *s)
{
    const char *known = s ? hub_status_parse(s, strlen(s)) : NULL;
    return known && strcmp(known, s) == 0 ? known : "Unknown";
}

static void count_range(void *arg)
{
    struct count_job *j = arg;
    dg_arena *pa = dg_arena_create(); /* one page at a time */
    struct az_query aq = {.filter = j->filter, .select = HUB_COUNT_COLUMNS, .top = 1000};
    struct az_cursor cur = {0};
    size_t plen = j->prefix ? strlen(j->prefix) : 0;
    for (;;) {
        dg_arena_reset(pa);
        const char *table = hub_table_name(pa, j->hub, "Instances");
        az_ctx x;
        az_ctx_init(&x, pa);
        x.reqid = j->x->reqid;
        x.deadline_ms = j->x->deadline_ms;
        aq.next_pk = cur.pk;
        aq.next_rk = cur.rk;
        struct az_page pg;
        j->rc = az_table_query(j->c, &x, table, &aq, &pg);
        if (j->rc == DG_ENOTFOUND)
            j->rc = DG_OK; /* no table: nothing to count */
        if (j->rc)
            break;
        for (size_t i = 0; i < pg.n; i++) {
            char *id;
            if (hub_key_unescape(pa, pg.items[i].pk, strlen(pg.items[i].pk), &id) != DG_OK)
                continue; /* the list skips it too */
            if (plen && strncmp(id, j->prefix, plen) != 0)
                continue;
            tally(&j->counts, status_name(az_entity_str(&pg.items[i], "RuntimeStatus")), 1);
        }
        if (!az_cursor_take(&cur, &pg))
            break;
    }
    az_cursor_free(&cur);
    dg_arena_destroy(pa);
}

struct count_args {
    struct count_job *jobs;
    int n;
};

static void count_co(void *arg)
{
    struct count_args *ca = arg;
    struct dg_co_group g = {0};
    for (int i = 1; i < ca->n; i++)
        dg_co_group_spawn(&g, count_range, &ca->jobs[i]);
    count_range(&ca->jobs[0]);
    dg_co_group_wait(&g);
}

dg_err hub_query_count(az_client *c, az_ctx *x, const char *hub, const struct hub_query *q, int ranges,
                       struct hub_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!hub_name_ok(hub))
        return DG_EINVAL;
    if (ranges < 1)
        ranges = 1;
    if (ranges > HUB_RANGES_MAX)
        ranges = HUB_RANGES_MAX;
    struct count_job jobs[HUB_RANGES_MAX];
    for (int i = 0; i < ranges; i++) {
        struct hub_query rq = *q;
        if (ranges > 1)
            hub_query_range(i, ranges, &rq.range_lo, &rq.range_hi);
        const char *filter;
        dg_err rc = hub_query_filter(x->arena, &rq, &filter);
        if (rc == DG_ETOOBIG)
            return DG_OK; /* a prefix no key can have: none */
        if (rc)
            return rc;
        jobs[i] = (struct count_job){.c = c, .x = x, .hub = hub, .filter = filter, .prefix = q->id_prefix};
    }
    struct count_args ca = {jobs, ranges};
    dg_co_run(count_co, &ca);
    for (int i = 0; i < ranges; i++) {
        if (jobs[i].rc)
            return jobs[i].rc;
        for (size_t k = 0; k < jobs[i].counts.n; k++)
            tally(out, jobs[i].counts.status[k], jobs[i].counts.count[k]);
        out->total += jobs[i].counts.other;
        out->other += jobs[i].counts.other;
    }
    return DG_OK;
}
