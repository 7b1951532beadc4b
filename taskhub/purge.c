#include "taskhub/purge.h"

#include "base/log.h"
#include "base/loop.h"
#include "base/time.h"
#include "storage/blob.h"
#include "storage/odata.h"
#include "storage/table.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"

#include <string.h>

/* One transaction; on 404 (some row already gone, so nothing was applied) the
 * rows are deleted one by one, ignoring those that are gone. */
static dg_err delete_rows(az_client *c, az_ctx *x, const char *table, const az_entity *rows, size_t n,
                          size_t *deleted)
{
    struct az_batch_op ops[AZ_BATCH_MAX];
    for (size_t i = 0; i < n; i++)
        ops[i] = (struct az_batch_op){.kind = AZ_BATCH_DELETE, .e = &rows[i], .if_match = NULL};
    struct az_batch_result res;
    dg_err rc = az_table_batch(c, x, table, ops, n, &res);
    if (!rc) {
        *deleted += n;
        return DG_OK;
    }
    if (rc != DG_ENOTFOUND)
        return rc;
    for (size_t i = 0; i < n; i++) {
        rc = az_table_delete_entity(c, x, table, rows[i].pk, rows[i].rk, NULL);
        if (rc && rc != DG_ENOTFOUND)
            return rc;
        *deleted += rc == DG_OK;
    }
    return DG_OK;
}

static dg_err purge_history(az_client *c, az_ctx *x, const char *hub, const char *pk, size_t *deleted)
{
    const char *table = dg_arena_printf(x->arena, "%sHistory", hub);
    az_filter f;
    az_filter_init(&f);
    az_filter_cmp_str(&f, "PartitionKey", AZ_EQ, pk);
    const char *filter = az_filter_str(&f) ? dg_arena_strdup(x->arena, az_filter_str(&f)) : NULL;
    dg_err rc = filter ? DG_OK : f.err;
    az_filter_free(&f);
    if (rc)
        return rc;
    struct az_query q = {.filter = filter, .select = "PartitionKey,RowKey"};
    do {
        struct az_page pg;
        rc = az_table_query(c, x, table, &q, &pg);
        if (rc == DG_ENOTFOUND)
            return DG_OK; /* no History table: nothing to delete */
        if (rc)
            return rc;
        /* Deleting rows before the continuation's key does not move it. */
        for (size_t at = 0; at < pg.n; at += AZ_BATCH_MAX) {
            size_t k = pg.n - at < AZ_BATCH_MAX ? pg.n - at : AZ_BATCH_MAX;
            if ((rc = delete_rows(c, x, table, pg.items + at, k, deleted)) != DG_OK)
                return rc;
        }
        q.next_pk = pg.next_pk;
        q.next_rk = pg.next_rk;
    } while (q.next_pk);
    return DG_OK;
}

static dg_err purge_blobs(az_client *c, az_ctx *x, const char *hub, const char *prefix, size_t *deleted)
{
    const char *cont = hub_large_container(x->arena, hub);
    const char *marker = NULL;
    do {
        struct az_blob_item *items;
        size_t n;
        const char *next;
        dg_err rc = az_blob_list(c, x, cont, prefix, marker, 0, &items, &n, &next);
        if (rc == DG_ENOTFOUND)
            return DG_OK; /* the container is made on first use */
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++) {
            rc = az_blob_delete(c, x, cont, items[i].name);
            if (rc && rc != DG_ENOTFOUND)
                return rc;
            *deleted += rc == DG_OK;
        }
        marker = next;
    } while (marker);
    return DG_OK;
}

dg_err hub_purge_key(az_client *c, az_ctx *x, const char *hub, const char *pk, struct hub_purge_stats *stats)
{
    struct hub_purge_stats st = {0};
    if (!hub_name_ok(hub) || !pk || !*pk)
        return DG_EINVAL;
    char *id = NULL;
    if (hub_key_unescape(x->arena, pk, strlen(pk), &id) != DG_OK)
        id = NULL; /* not UTF-8: no writer made message blobs for it */
    dg_err rc = purge_history(c, x, hub, pk, &st.history_rows);
    if (!rc && id)
        rc = purge_blobs(c, x, hub, dg_arena_printf(x->arena, "%s/", id), &st.blobs);
    if (!rc && (!id || strcmp(id, pk) != 0))
        rc = purge_blobs(c, x, hub, dg_arena_printf(x->arena, "%s/", pk), &st.blobs);
    if (!rc) {
        rc = az_table_delete_entity(c, x, dg_arena_printf(x->arena, "%sInstances", hub), pk, "", NULL);
        if (rc == DG_ENOTFOUND)
            rc = DG_OK;
    }
    if (stats)
        *stats = st;
    return rc;
}

dg_err hub_purge_instance(az_client *c, az_ctx *x, const char *hub, const char *id,
                          struct hub_purge_stats *stats)
{
    if (!id || !*id)
        return DG_EINVAL;
    return hub_purge_key(c, x, hub, hub_key_escape(x->arena, id, strlen(id)), stats);
}

/* ---- by filter ---- */

/* What the workers of one page share: coroutines of one request, on one
 * thread, so no lock; they interleave only where a storage call parks. */
struct page_work {
    az_client *c;
    const char *hub, *reqid;
    const az_entity *rows;
    size_t n;
    int64_t deadline_ms;
    size_t next;   /* the next row to take: rows [0, next) are taken */
    size_t *taken; /* taken by this call so far, all pages */
    size_t deleted, failed;
    dg_err first_error;
};

static void page_worker(void *arg)
{
    struct page_work *w = arg;
    dg_arena *a = dg_arena_create();
    for (;;) {
        bool stop = w->next >= w->n || (*w->taken > 0 && dg_mono_ms() >= w->deadline_ms) ||
                    dg_co_cancelled() != DG_CANCEL_NONE;
        size_t i = w->next;
        if (stop)
            break;
        w->next++;
        (*w->taken)++;
        az_ctx x;
        az_ctx_init(&x, a);
        x.reqid = w->reqid;
        dg_err rc = hub_purge_key(w->c, &x, w->hub, w->rows[i].pk, NULL);
        if (rc)
            DG_WARN(w->reqid, "purge of one instance failed, skipped: %s (%s)", dg_err_str(rc), x.st.code);
        if (rc) {
            w->failed++;
            if (!w->first_error)
                w->first_error = rc;
        } else {
            w->deleted++;
        }
        dg_arena_reset(a);
    }
    dg_arena_destroy(a);
}

/* Purges rows from the first on until they run out or the deadline passes:
 * the rows taken are always a prefix [0, w->next) and all of them are done
 * when this returns. */
static void purge_page(struct page_work *w, int threads)
{
    struct dg_co_group g = {0};
    int want = threads < (int) w->n ? threads : (int) w->n;
    for (int i = 1; i < want; i++)
        dg_co_group_spawn(&g, page_worker, w);
    page_worker(w); /* the calling coroutine is a worker too */
    dg_co_group_wait(&g);
}

static dg_err purge_by_filter(az_client *c, az_ctx *x, const char *hub, const struct hub_purge_filter *f,
                              struct hub_purge_result *out)
{
    memset(out, 0, sizeof *out);
    if (!hub_name_ok(hub))
        return DG_EINVAL;
    const char *filter;
    dg_err rc = hub_query_filter(x->arena, &f->q, &filter);
    if (rc == DG_ETOOBIG)
        return DG_OK; /* a prefix no key can have: nothing matches */
    if (rc)
        return rc;
    int threads = f->threads < 1                       ? 1
                  : f->threads > HUB_PURGE_MAX_THREADS ? HUB_PURGE_MAX_THREADS
                                                       : f->threads;
    const char *table = dg_arena_printf(x->arena, "%sInstances", hub);
    struct az_query q = {.filter = filter, .select = "PartitionKey,RowKey,RuntimeStatus", .top = 100};
    size_t taken = 0;
    /* Each page lives in its own arena, so a long purge does not pile up rows. */
    dg_arena *pa = dg_arena_create();
    for (;;) {
        az_ctx px;
        az_ctx_init(&px, pa);
        px.reqid = x->reqid;
        px.deadline_ms = x->deadline_ms;
        struct az_page pg;
        rc = az_table_query(c, &px, table, &q, &pg);
        x->st = px.st;
        if (rc == DG_ENOTFOUND) {
            rc = DG_OK; /* no table, or it went away: nothing (more) to purge */
            break;
        }
        if (rc) {
            if (taken > 0) {
                DG_WARN(x->reqid, "purge by filter stops early: %s", dg_err_str(rc));
                out->more = true;
                rc = DG_OK;
            }
            break;
        }
        struct page_work w = {.c = c,
                              .hub = hub,
                              .reqid = x->reqid,
                              .rows = pg.items,
                              .n = pg.n,
                              .deadline_ms = f->deadline_ms,
                              .taken = &taken};
        purge_page(&w, threads);
        out->deleted += w.deleted;
        out->failed += w.failed;
        if (!out->first_error)
            out->first_error = w.first_error;
        if (w.next > 0) {
            out->next_pk = dg_arena_strdup(x->arena, pg.items[w.next - 1].pk);
            out->next_rk = dg_arena_strdup(x->arena, pg.items[w.next - 1].rk);
        }
        if (w.next < w.n) {
            out->more = true; /* the deadline passed inside the page */
            break;
        }
        if (!pg.next_pk)
            break;
        /* Empty pages (the service may send them) are followed past the
         * deadline until one row is taken, so every call makes progress. */
        if (taken > 0 && dg_mono_ms() >= f->deadline_ms) {
            out->more = true;
            break;
        }
        q.next_pk = dg_arena_strdup(x->arena, pg.next_pk);
        q.next_rk = pg.next_rk ? dg_arena_strdup(x->arena, pg.next_rk) : NULL;
        dg_arena_reset(pa);
    }
    dg_arena_destroy(pa);
    if (out->more && !out->next_pk) {
        /* Cut before any row of this call was taken: resume where we started. */
        out->next_pk = f->q.after_pk;
        out->next_rk = f->q.after_rk;
        out->more = out->next_pk != NULL;
    }
    return rc;
}

struct purge_args {
    az_client *c;
    az_ctx *x;
    const char *hub;
    const struct hub_purge_filter *f;
    struct hub_purge_result *out;
    dg_err rc;
};

static void purge_co(void *p)
{
    struct purge_args *pa = p;
    pa->rc = purge_by_filter(pa->c, pa->x, pa->hub, pa->f, pa->out);
}

dg_err hub_purge_by_filter(az_client *c, az_ctx *x, const char *hub, const struct hub_purge_filter *f,
                           struct hub_purge_result *out)
{
    struct purge_args pa = {c, x, hub, f, out, DG_OK};
    dg_co_run(purge_co, &pa); /* the instances of a page are purged by coroutines of their own */
    return pa.rc;
}
