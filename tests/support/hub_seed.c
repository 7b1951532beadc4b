#include "tests/support/hub_seed.h"

#include "base/time.h"
#include "storage/blob.h"
#include "storage/odata.h"
#include "storage/table.h"
#include "taskhub/keys.h"
#include "taskhub/largemsg.h"

#include <criterion/criterion.h>
#include <string.h>

void seed_instance(az_client *c, dg_arena *a, const char *hub, const struct seed_instance *in)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity e;
    hub_rows_instance(a, hub, in, &e);
    cr_assert_eq(
        az_table_write(c, &x, dg_arena_printf(a, "%sInstances", hub), AZ_UPSERT_REPLACE, &e, NULL, NULL),
        DG_OK, "%s", x.st.message);
}

void seed_history(az_client *c, dg_arena *a, const char *hub, const char *id, int events)
{
    az_ctx x;
    az_ctx_init(&x, a);
    const char *table = dg_arena_printf(a, "%sHistory", hub);
    cr_assert_eq(az_table_create(c, &x, table), DG_OK);
    az_entity *rows;
    size_t total = hub_rows_history(a, id, events, &rows);
    struct az_batch_op *ops = dg_arena_alloc(a, total * sizeof *ops);
    for (size_t i = 0; i < total; i++)
        ops[i] = (struct az_batch_op){AZ_BATCH_UPSERT_REPLACE, &rows[i], NULL};
    for (size_t at = 0; at < total; at += AZ_BATCH_MAX) {
        size_t k = total - at < AZ_BATCH_MAX ? total - at : AZ_BATCH_MAX;
        struct az_batch_result res;
        cr_assert_eq(az_table_batch(c, &x, table, ops + at, k, &res), DG_OK, "%s %s", x.st.code,
                     x.st.message);
    }
}

void seed_blob(az_client *c, dg_arena *a, const char *hub, const char *name, const char *text)
{
    az_ctx x;
    az_ctx_init(&x, a);
    cr_assert_eq(hub_large_put(c, &x, hub, name, text, strlen(text)), DG_OK, "%s", x.st.message);
}

size_t count_history(az_client *c, dg_arena *a, const char *hub, const char *id)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_filter f;
    az_filter_init(&f);
    az_filter_cmp_str(&f, "PartitionKey", AZ_EQ, hub_key_escape(a, id, strlen(id)));
    struct az_query q = {.filter = dg_arena_strdup(a, az_filter_str(&f)), .select = "PartitionKey,RowKey"};
    az_filter_free(&f);
    size_t n = 0;
    do {
        struct az_page pg;
        dg_err rc = az_table_query(c, &x, dg_arena_printf(a, "%sHistory", hub), &q, &pg);
        if (rc == DG_ENOTFOUND)
            return 0;
        cr_assert_eq(rc, DG_OK, "%s", x.st.message);
        n += pg.n;
        q.next_pk = pg.next_pk;
        q.next_rk = pg.next_rk;
    } while (q.next_pk);
    return n;
}

bool instance_exists(az_client *c, dg_arena *a, const char *hub, const char *id)
{
    az_ctx x;
    az_ctx_init(&x, a);
    az_entity e;
    dg_err rc = az_table_get(c, &x, dg_arena_printf(a, "%sInstances", hub), hub_key_escape(a, id, strlen(id)),
                             "", "PartitionKey", &e);
    cr_assert(rc == DG_OK || rc == DG_ENOTFOUND, "%s", x.st.message);
    return rc == DG_OK;
}

size_t count_blobs(az_client *c, dg_arena *a, const char *hub, const char *prefix)
{
    az_ctx x;
    az_ctx_init(&x, a);
    const char *marker = NULL;
    size_t total = 0;
    do {
        struct az_blob_item *items;
        size_t n;
        dg_err rc = az_blob_list(c, &x, hub_large_container(a, hub), prefix, marker, 0, &items, &n, &marker);
        if (rc == DG_ENOTFOUND)
            return 0;
        cr_assert_eq(rc, DG_OK, "%s", x.st.message);
        total += n;
    } while (marker);
    return total;
}
