#include "taskhub/purge.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/loop.h"
#include "base/time.h"
#include "storage/blob.h"
#include "storage/odata.h"
#include "storage/table.h"
#include "taskhub/hub.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"

#include <stdlib.h>
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
    const char *table = hub_table_name(x->arena, hub, "History");
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
        rc = az_table_delete_entity(c, x, hub_table_name(x->arena, hub, "Instances"), pk, "", NULL);
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

/* ---- by filter (docs/bulk.md) ----
 *
 * One page of Instances rows at a time (keys and status, 100 rows), then:
 *  1. one blob listing of the whole {h}-largemessages container (one name): when
 *     it has none, no instance of the page has blobs to delete and the listings
 *     per instance are skipped;
 *  2. the History rows of the page's instances, read by key range, a run of
 *     CHUNK consecutive instances per query (rows of other instances inside a
 *     range are read and left alone), the chunks at once;
 *  3. `inflight` workers take the instances in key order, each one at a time:
 *     its History rows in transactions of up to 100, its blobs when there are
 *     any, its Instances row last.
 * Each worker has one storage call in flight at most, so the purge has at most
 * `inflight` (steps 1 and 2 stay under it too). An instance whose History could
 * not be read by range is purged as hub_purge_key() does. */

#define PAGE      100
#define CHUNK     25
#define CHUNK_CAP 20000 /* rows kept per chunk; past it the chunk's instances go one by one */

struct inst_rows {
    const az_entity *rows; /* its History rows (keys only) */
    size_t n;
    bool known; /* read by range: rows/n are all of them */
};

/* What the coroutines of one page share: coroutines of one request, on one
 * thread, so no lock; they interleave only where a storage call parks. */
struct page_work {
    az_client *c;
    const char *hub, *reqid;
    const char *history; /* "{hub}History" */
    const az_entity *rows;
    size_t n;
    struct inst_rows *hist; /* per row of the page */
    bool blobs;             /* the container may hold blobs of these instances */
    int64_t deadline_ms, call_deadline_ms;
    size_t next;   /* the next row to take: rows [0, next) are taken */
    size_t *taken; /* taken by this call so far, all pages */
    size_t deleted, failed;
    dg_err first_error;
};

struct chunk_job {
    struct page_work *w;
    dg_arena *a; /* the page's: rows kept live until the page is done */
    size_t from, to;
};

static void read_chunk(void *arg)
{
    struct chunk_job *j = arg;
    struct page_work *w = j->w;
    dg_arena *pa = dg_arena_create(); /* each service page; the rows kept are copied out */
    az_filter f;
    az_filter_init(&f);
    az_filter_open(&f);
    az_filter_cmp_str(&f, "PartitionKey", AZ_GE, w->rows[j->from].pk);
    az_filter_close(&f);
    az_filter_and(&f);
    az_filter_open(&f);
    az_filter_cmp_str(&f, "PartitionKey", AZ_LE, w->rows[j->to - 1].pk);
    az_filter_close(&f);
    const char *filter = az_filter_str(&f) ? dg_arena_strdup(j->a, az_filter_str(&f)) : NULL;
    az_filter_free(&f);
    size_t m = j->to - j->from, kept = 0;
    size_t *cap = dg_arena_alloc(j->a, m * sizeof *cap);
    az_entity **rows = dg_arena_alloc(j->a, m * sizeof *rows);
    for (size_t i = 0; i < m; i++) {
        cap[i] = 0;
        rows[i] = NULL;
        w->hist[j->from + i] = (struct inst_rows){NULL, 0, false};
    }
    struct az_query q = {.filter = filter, .select = "PartitionKey,RowKey", .top = 1000};
    struct az_cursor cur = {0};
    bool ok = filter != NULL;
    while (ok) {
        dg_arena_reset(pa);
        az_ctx x;
        az_ctx_init(&x, pa);
        x.reqid = w->reqid;
        x.deadline_ms = w->call_deadline_ms;
        q.next_pk = cur.pk;
        q.next_rk = cur.rk;
        struct az_page pg;
        dg_err rc = az_table_query(w->c, &x, w->history, &q, &pg);
        if (rc == DG_ENOTFOUND) {
            pg.n = 0; /* no History table: nothing to delete */
            pg.next_pk = NULL;
        } else if (rc) {
            ok = false;
            break;
        }
        for (size_t r = 0; r < pg.n && ok; r++) {
            const az_entity *e = &pg.items[r];
            for (size_t i = 0; i < m; i++) {
                if (strcmp(e->pk, w->rows[j->from + i].pk) != 0)
                    continue;
                struct inst_rows *h = &w->hist[j->from + i];
                if (h->n == cap[i]) {
                    size_t ncap = cap[i] ? cap[i] * 2 : 16;
                    az_entity *nr = dg_arena_alloc(j->a, ncap * sizeof *nr);
                    if (h->n)
                        memcpy(nr, rows[i], h->n * sizeof *nr);
                    rows[i] = nr;
                    cap[i] = ncap;
                }
                rows[i][h->n] =
                    (az_entity){.pk = w->rows[j->from + i].pk, .rk = dg_arena_strdup(j->a, e->rk)};
                h->rows = rows[i];
                h->n++;
                ok = ++kept <= CHUNK_CAP;
                break;
            }
        }
        if (!az_cursor_take(&cur, &pg))
            break;
    }
    az_cursor_free(&cur);
    for (size_t i = 0; i < m; i++)
        w->hist[j->from + i].known = ok;
    dg_arena_destroy(pa);
}

/* One instance whose History rows are known: those in transactions, its blobs
 * when the container has any, its Instances row last. */
static dg_err purge_known(struct page_work *w, az_ctx *x, size_t i)
{
    const struct inst_rows *h = &w->hist[i];
    const char *pk = w->rows[i].pk;
    size_t deleted = 0;
    for (size_t at = 0; at < h->n; at += AZ_BATCH_MAX) {
        size_t k = h->n - at < AZ_BATCH_MAX ? h->n - at : AZ_BATCH_MAX;
        dg_err rc = delete_rows(w->c, x, w->history, h->rows + at, k, &deleted);
        if (rc)
            return rc;
    }
    if (w->blobs) {
        size_t blobs = 0;
        char *id = NULL;
        if (hub_key_unescape(x->arena, pk, strlen(pk), &id) != DG_OK)
            id = NULL;
        dg_err rc = id ? purge_blobs(w->c, x, w->hub, dg_arena_printf(x->arena, "%s/", id), &blobs) : DG_OK;
        if (!rc && (!id || strcmp(id, pk) != 0))
            rc = purge_blobs(w->c, x, w->hub, dg_arena_printf(x->arena, "%s/", pk), &blobs);
        if (rc)
            return rc;
    }
    dg_err rc = az_table_delete_entity(w->c, x, hub_table_name(x->arena, w->hub, "Instances"), pk, "", NULL);
    return rc == DG_ENOTFOUND ? DG_OK : rc;
}

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
        dg_err rc =
            w->hist[i].known ? purge_known(w, &x, i) : hub_purge_key(w->c, &x, w->hub, w->rows[i].pk, NULL);
        if (rc) {
            DG_WARN(w->reqid, "purge of one instance failed, skipped: %s (%s)", dg_err_str(rc), x.st.code);
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

static void chunk_co(void *arg)
{
    read_chunk(arg);
}

/* Whether {h}-largemessages may hold a blob: false only when the service said
 * it has none (or there is no container). */
static bool any_blob(az_client *c, const char *hub, const char *reqid)
{
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    x.reqid = reqid;
    struct az_blob_item *items;
    size_t n = 0;
    const char *next = NULL;
    dg_err rc = az_blob_list(c, &x, hub_large_container(a, hub), NULL, NULL, 1, &items, &n, &next);
    bool any = !(rc == DG_ENOTFOUND || (rc == DG_OK && n == 0 && !next));
    dg_arena_destroy(a);
    return any;
}

/* Purges rows from the first on until they run out or the deadline passes:
 * the rows taken are always a prefix [0, w->next) and all of them are done
 * when this returns. */
static void purge_page(struct page_work *w, int inflight)
{
    dg_arena *ca = dg_arena_create(); /* the page's History keys */
    w->hist = dg_arena_alloc(ca, (w->n ? w->n : 1) * sizeof *w->hist);
    w->blobs = any_blob(w->c, w->hub, w->reqid);
    struct chunk_job jobs[PAGE / CHUNK + 1];
    size_t nj = 0;
    for (size_t at = 0; at < w->n && nj < sizeof jobs / sizeof *jobs; at += CHUNK)
        jobs[nj++] = (struct chunk_job){w, ca, at, at + CHUNK < w->n ? at + CHUNK : w->n};
    for (size_t at = nj * CHUNK; at < w->n; at++)
        w->hist[at] = (struct inst_rows){NULL, 0, false}; /* a page larger than PAGE: one by one */
    struct dg_co_group g = {0};
    for (size_t i = 1; i < nj; i++)
        dg_co_group_spawn(&g, chunk_co, &jobs[i]);
    if (nj)
        read_chunk(&jobs[0]);
    dg_co_group_wait(&g);

    int want = inflight < (int) w->n ? inflight : (int) w->n;
    for (int i = 1; i < want; i++)
        dg_co_group_spawn(&g, page_worker, w);
    page_worker(w); /* the calling coroutine is a worker too */
    dg_co_group_wait(&g);
    dg_arena_destroy(ca);
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
    int inflight = f->inflight < 1                        ? 1
                   : f->inflight > HUB_PURGE_MAX_INFLIGHT ? HUB_PURGE_MAX_INFLIGHT
                                                          : f->inflight;
    const char *table = hub_table_name(x->arena, hub, "Instances");
    const char *history = hub_table_name(x->arena, hub, "History");
    struct az_query q = {.filter = filter, .select = "PartitionKey,RowKey,RuntimeStatus", .top = PAGE};
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
                              .history = history,
                              .rows = pg.items,
                              .n = pg.n,
                              .deadline_ms = f->deadline_ms,
                              .call_deadline_ms = x->deadline_ms,
                              .taken = &taken};
        if (pg.n)
            purge_page(&w, inflight);
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
