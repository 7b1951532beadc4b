/* storage/table.c against a real Azurite: every operation, typed round-trips,
 * continuation across pages, atomic batches, auth failures. */
#include "base/time.h"
#include "storage/odata.h"
#include "storage/table.h"
#include "tests/support/azurite_env.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

static az_client *c;
static dg_arena *a;
static az_ctx x;
static const char *tbl;

static void setup(void)
{
    c = test_azurite_client(NULL, NULL);
    a = dg_arena_create();
    az_ctx_init(&x, a);
    tbl = test_unique_name(a, "t");
    cr_assert_eq(az_table_create(c, &x, tbl), DG_OK, "%ld %s %s", x.st.http, x.st.code, x.st.message);
}

static void teardown(void)
{
    az_table_delete(c, &x, tbl);
    dg_arena_destroy(a);
    az_client_destroy(c);
}

TestSuite(table, .init = setup, .fini = teardown, .timeout = 60);

Test(table, create_is_idempotent_and_delete_reports_missing)
{
    cr_assert_eq(az_table_create(c, &x, tbl), DG_OK, "an existing table is tolerated");
    const char *other = test_unique_name(a, "gone");
    cr_assert_eq(az_table_delete(c, &x, other), DG_ENOTFOUND);
    cr_assert_eq(x.st.http, 404);
    cr_assert_eq(az_table_create(c, &x, "bad-name"), DG_EINVAL);
}

Test(table, insert_get_typed_roundtrip)
{
    az_entity e;
    az_entity_init(&e, a, "p'1", "r 1 \xc3\xa9");
    az_entity_set_str(&e, a, "S", "<x> & 'y' \"z\" \xe2\x82\xac");
    az_entity_set_i32(&e, a, "I", -2147483647);
    az_entity_set_i64(&e, a, "L", 9007199254740993LL);
    az_entity_set_bool(&e, a, "B", true);
    az_entity_set_double(&e, a, "D", 2.0);
    az_entity_set_double(&e, a, "F", 0.1);
    dg_ticks t;
    cr_assert_eq(dg_iso_parse("2026-12-01T07:28:30.1004898Z", 28, &t), DG_OK);
    az_entity_set_datetime(&e, a, "T", t);
    az_entity_set_guid(&e, a, "G", "c9a646d3-9c61-4cb7-bfcd-ee2522c8f633");
    az_entity_set_binary(&e, a, "Bin", "\0\xff", 2);
    const char *etag = NULL;
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_INSERT, &e, NULL, &etag), DG_OK, "%s %s", x.st.code,
                 x.st.message);
    cr_assert_not_null(etag);

    az_entity g;
    cr_assert_eq(az_table_get(c, &x, tbl, "p'1", "r 1 \xc3\xa9", NULL, &g), DG_OK, "%s", x.st.code);
    cr_assert_str_eq(g.pk, "p'1");
    cr_assert_str_eq(g.etag, etag);
    cr_assert_gt(g.timestamp, 0);
    cr_assert_str_eq(az_entity_str(&g, "S"), "<x> & 'y' \"z\" \xe2\x82\xac");
    cr_assert_eq(az_entity_get(&g, "I")->type, AZ_EDM_INT32);
    cr_assert_eq(az_entity_int(&g, "I", 0), -2147483647);
    cr_assert_eq(az_entity_get(&g, "L")->type, AZ_EDM_INT64);
    cr_assert_eq(az_entity_int(&g, "L", 0), 9007199254740993LL);
    cr_assert_eq(az_entity_get(&g, "B")->type, AZ_EDM_BOOL);
    cr_assert_eq(az_entity_get(&g, "D")->type, AZ_EDM_DOUBLE, "a whole double reads back as Double");
    cr_assert_eq(az_entity_double(&g, "D", 0), 2.0);
    cr_assert_eq(az_entity_double(&g, "F", 0), 0.1);
    cr_assert_eq(az_entity_get(&g, "T")->type, AZ_EDM_DATETIME);
    cr_assert_eq(az_entity_datetime(&g, "T", 0), t, "7 fraction digits survive");
    cr_assert_eq(az_entity_get(&g, "G")->type, AZ_EDM_GUID);
    cr_assert_eq(az_entity_get(&g, "Bin")->type, AZ_EDM_BINARY);
    cr_assert_eq(memcmp(az_entity_get(&g, "Bin")->s, "\0\xff", 2), 0);

    az_entity sel;
    cr_assert_eq(az_table_get(c, &x, tbl, "p'1", "r 1 \xc3\xa9", "I,L", &sel), DG_OK);
    cr_assert_not_null(az_entity_get(&sel, "I"));
    cr_assert_null(az_entity_get(&sel, "S"), "$select leaves other columns out");
}

Test(table, insert_conflict_and_missing)
{
    az_entity e;
    az_entity_init(&e, a, "p", "dup");
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_INSERT, &e, NULL, NULL), DG_OK);
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_INSERT, &e, NULL, NULL), DG_ECONFLICT);
    cr_assert_str_eq(x.st.code, "EntityAlreadyExists");
    cr_assert_eq(x.st.attempts, 1, "a 409 is not retried");
    az_entity g;
    cr_assert_eq(az_table_get(c, &x, tbl, "p", "nope", NULL, &g), DG_ENOTFOUND);
    cr_assert_str_eq(x.st.code, "ResourceNotFound");
    cr_assert_eq(az_table_get(c, &x, test_unique_name(a, "none"), "p", "r", NULL, &g), DG_ENOTFOUND);
    cr_assert_str_eq(x.st.code, "TableNotFound");
}

Test(table, upserts_replace_merge_and_etags)
{
    az_entity e;
    az_entity_init(&e, a, "p", "u");
    az_entity_set_i32(&e, a, "A", 1);
    az_entity_set_i32(&e, a, "B", 2);
    const char *e1 = NULL, *e2 = NULL, *e3 = NULL;
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_UPSERT_REPLACE, &e, NULL, &e1), DG_OK,
                 "insert-or-replace inserts");

    az_entity m;
    az_entity_init(&m, a, "p", "u");
    az_entity_set_i32(&m, a, "C", 3);
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_UPSERT_MERGE, &m, NULL, &e2), DG_OK);
    az_entity g;
    cr_assert_eq(az_table_get(c, &x, tbl, "p", "u", NULL, &g), DG_OK);
    cr_assert_eq(az_entity_int(&g, "A", 0), 1, "merge keeps old columns");
    cr_assert_eq(az_entity_int(&g, "C", 0), 3);
    cr_assert_str_neq(e1, e2);

    /* Replace with a stale ETag fails; with the current one it succeeds and drops columns. */
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_REPLACE, &m, e1, NULL), DG_EPRECOND);
    cr_assert_str_eq(x.st.code, "UpdateConditionNotSatisfied");
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_REPLACE, &m, g.etag, &e3), DG_OK, "%s", x.st.code);
    cr_assert_eq(az_table_get(c, &x, tbl, "p", "u", NULL, &g), DG_OK);
    cr_assert_null(az_entity_get(&g, "A"), "replace drops columns");

    /* Merge with If-Match: stale fails, current works; replace/merge of a missing row is 404. */
    az_entity_set_i32(&m, a, "D", 4);
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_MERGE, &m, e2, NULL), DG_EPRECOND);
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_MERGE, &m, e3, NULL), DG_OK);
    az_entity miss;
    az_entity_init(&miss, a, "p", "missing");
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_REPLACE, &miss, NULL, NULL), DG_ENOTFOUND);
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_MERGE, &miss, "*", NULL), DG_ENOTFOUND);
}

Test(table, delete_with_if_match)
{
    az_entity e;
    az_entity_init(&e, a, "p", "d");
    const char *e1 = NULL, *e2 = NULL;
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_INSERT, &e, NULL, &e1), DG_OK);
    az_entity_set_i32(&e, a, "v", 1);
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_UPSERT_REPLACE, &e, NULL, &e2), DG_OK);
    cr_assert_eq(az_table_delete_entity(c, &x, tbl, "p", "d", e1), DG_EPRECOND);
    cr_assert_eq(az_table_delete_entity(c, &x, tbl, "p", "d", e2), DG_OK);
    cr_assert_eq(az_table_delete_entity(c, &x, tbl, "p", "d", NULL), DG_ENOTFOUND);
}

Test(table, query_filter_select_and_continuation)
{
    for (int i = 0; i < 23; i++) {
        az_entity e;
        az_entity_init(&e, a, i % 2 ? "odd" : "even", dg_arena_printf(a, "r%02d", i));
        az_entity_set_i32(&e, a, "n", i);
        az_entity_set_str(&e, a, "s", i == 7 ? "it's" : "plain");
        cr_assert_eq(az_table_write(c, &x, tbl, AZ_INSERT, &e, NULL, NULL), DG_OK);
    }
    az_filter f;
    az_filter_init(&f);
    az_filter_cmp_i32(&f, "n", AZ_GE, 3);
    struct az_query q = {.filter = az_filter_str(&f), .select = "n", .top = 4};
    int pages = 0, total = 0, last_had_token = 1;
    do {
        struct az_page p;
        cr_assert_eq(az_table_query(c, &x, tbl, &q, &p), DG_OK, "%s %s", x.st.code, x.st.message);
        pages++;
        total += (int) p.n;
        cr_assert_leq(p.n, 4);
        for (size_t i = 0; i < p.n; i++) {
            cr_assert_geq(az_entity_int(&p.items[i], "n", -1), 3);
            cr_assert_null(az_entity_get(&p.items[i], "s"));
        }
        q.next_pk = p.next_pk;
        q.next_rk = p.next_rk;
        last_had_token = p.next_pk != NULL;
    } while (q.next_pk);
    az_filter_free(&f);
    cr_assert_eq(total, 20);
    cr_assert_geq(pages, 5);
    cr_assert_not(last_had_token, "the last page carries no continuation");

    /* A quote in a value is escaped by the client. */
    az_filter_init(&f);
    az_filter_cmp_str(&f, "s", AZ_EQ, "it's");
    struct az_query q2 = {.filter = az_filter_str(&f)};
    struct az_page p;
    cr_assert_eq(az_table_query(c, &x, tbl, &q2, &p), DG_OK);
    cr_assert_eq(p.n, 1);
    cr_assert_str_eq(p.items[0].rk, "r07");
    cr_assert_not_null(p.items[0].etag);
    az_filter_free(&f);

    /* A key range on PartitionKey. */
    az_filter_init(&f);
    az_filter_prefix(&f, "PartitionKey", "ev");
    struct az_query q3 = {.filter = az_filter_str(&f)};
    cr_assert_eq(az_table_query(c, &x, tbl, &q3, &p), DG_OK);
    cr_assert_eq(p.n, 12);
    az_filter_free(&f);
}

Test(table, batch_applies_all)
{
    az_entity pre;
    az_entity_init(&pre, a, "b", "3");
    const char *etag3 = NULL;
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_INSERT, &pre, NULL, &etag3), DG_OK);
    az_entity_init(&pre, a, "b", "4");
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_INSERT, &pre, NULL, NULL), DG_OK);

    az_entity e[5];
    struct az_batch_op ops[5];
    for (int i = 0; i < 5; i++) {
        az_entity_init(&e[i], a, "b", dg_arena_printf(a, "%d", i));
        az_entity_set_i64(&e[i], a, "v", 100 + i);
    }
    ops[0] = (struct az_batch_op){AZ_BATCH_INSERT, &e[0], NULL};
    ops[1] = (struct az_batch_op){AZ_BATCH_UPSERT_REPLACE, &e[1], NULL};
    ops[2] = (struct az_batch_op){AZ_BATCH_UPSERT_MERGE, &e[2], NULL};
    ops[3] = (struct az_batch_op){AZ_BATCH_REPLACE, &e[3], etag3};
    ops[4] = (struct az_batch_op){AZ_BATCH_DELETE, &e[4], NULL};
    struct az_batch_result res;
    cr_assert_eq(az_table_batch(c, &x, tbl, ops, 5, &res), DG_OK, "%s %s", x.st.code, x.st.message);
    cr_assert_eq(res.failed, -1);
    for (int i = 0; i < 5; i++)
        cr_assert(res.status[i] >= 200 && res.status[i] < 300, "op %d: %ld", i, res.status[i]);
    az_entity g;
    cr_assert_eq(az_table_get(c, &x, tbl, "b", "3", NULL, &g), DG_OK);
    cr_assert_eq(az_entity_int(&g, "v", 0), 103);
    cr_assert_eq(az_table_get(c, &x, tbl, "b", "4", NULL, &g), DG_ENOTFOUND);
}

Test(table, batch_of_100_deletes)
{
    az_entity e[100];
    struct az_batch_op ops[100];
    for (int i = 0; i < 100; i++) {
        az_entity_init(&e[i], a, "big", dg_arena_printf(a, "%03d", i));
        ops[i] = (struct az_batch_op){AZ_BATCH_INSERT, &e[i], NULL};
    }
    struct az_batch_result res;
    cr_assert_eq(az_table_batch(c, &x, tbl, ops, 100, &res), DG_OK, "%s %s", x.st.code, x.st.message);
    for (int i = 0; i < 100; i++)
        ops[i].kind = AZ_BATCH_DELETE;
    cr_assert_eq(az_table_batch(c, &x, tbl, ops, 100, &res), DG_OK, "%s %s", x.st.code, x.st.message);
    struct az_query q = {0};
    struct az_page p;
    cr_assert_eq(az_table_query(c, &x, tbl, &q, &p), DG_OK);
    cr_assert_eq(p.n, 0);
    cr_assert_eq(az_table_batch(c, &x, tbl, ops, 101, &res), DG_EINVAL, "more than 100 operations");
}

Test(table, batch_fails_atomically)
{
    az_entity pre;
    az_entity_init(&pre, a, "b", "exists");
    cr_assert_eq(az_table_write(c, &x, tbl, AZ_INSERT, &pre, NULL, NULL), DG_OK);
    az_entity e0, e1, e2;
    az_entity_init(&e0, a, "b", "new0");
    az_entity_init(&e1, a, "b", "exists");
    az_entity_init(&e2, a, "b", "new2");
    struct az_batch_op ops[3] = {
        {AZ_BATCH_INSERT, &e0, NULL}, {AZ_BATCH_INSERT, &e1, NULL}, {AZ_BATCH_INSERT, &e2, NULL}};
    struct az_batch_result res;
    cr_assert_eq(az_table_batch(c, &x, tbl, ops, 3, &res), DG_ECONFLICT);
    cr_assert_str_eq(x.st.code, "EntityAlreadyExists");
    cr_assert_eq(res.failed, 1);
    cr_assert_eq(res.status[1], 409);
    cr_assert_eq(res.status[0], 0);
    az_entity g;
    cr_assert_eq(az_table_get(c, &x, tbl, "b", "new0", NULL, &g), DG_ENOTFOUND,
                 "nothing of a failed batch lands");
    cr_assert_eq(az_table_get(c, &x, tbl, "b", "new2", NULL, &g), DG_ENOTFOUND);
}

Test(table, batch_past_its_cap_is_refused_whole)
{
    /* Two parts of 1.5 MiB and a third of 1.5 MiB: the third does not fit in
     * the 4 MiB batch. Nothing is sent (no part is cut or left out of a body
     * that is sent anyway) and nothing lands. */
    size_t big = 3u << 19;
    char *s = dg_arena_alloc(a, big + 1);
    memset(s, 'x', big);
    s[big] = '\0';
    az_entity e[4];
    struct az_batch_op ops[4];
    for (int i = 0; i < 4; i++) {
        az_entity_init(&e[i], a, "p", dg_arena_printf(a, "r%d", i));
        if (i < 3)
            az_entity_set_str(&e[i], a, "S", s);
        ops[i] = (struct az_batch_op){AZ_BATCH_INSERT, &e[i], NULL};
    }
    struct az_batch_result res;
    cr_assert_eq(az_table_batch(c, &x, tbl, ops, 4, &res), DG_ETOOBIG);
    cr_assert_eq(x.st.http, 0, "refused before any request");
    az_entity got;
    for (int i = 0; i < 4; i++)
        cr_assert_eq(az_table_get(c, &x, tbl, "p", dg_arena_printf(a, "r%d", i), NULL, &got), DG_ENOTFOUND,
                     "part %d did not land", i);
}

Test(table, batch_rejects_mixed_partitions)
{
    az_entity e0, e1;
    az_entity_init(&e0, a, "p1", "a");
    az_entity_init(&e1, a, "p2", "a");
    struct az_batch_op ops[2] = {{AZ_BATCH_INSERT, &e0, NULL}, {AZ_BATCH_INSERT, &e1, NULL}};
    struct az_batch_result res;
    cr_assert_eq(az_table_batch(c, &x, tbl, ops, 2, &res), DG_EINVAL);
    cr_assert_eq(x.st.attempts, 0, "refused before sending");
}

Test(table, wrong_key_is_an_auth_error_not_retried)
{
    az_client *bad =
        test_azurite_client("AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
                            "KBHBeksoGMGw==",
                            NULL);
    az_entity g;
    cr_assert_eq(az_table_get(bad, &x, tbl, "p", "r", NULL, &g), DG_EAUTH);
    cr_assert_eq(x.st.http, 403);
    cr_assert_str_eq(x.st.code, "AuthorizationFailure");
    cr_assert_eq(x.st.attempts, 1);
    struct az_stats s;
    az_client_stats(bad, &s);
    cr_assert_eq(s.retries, 0);
    az_client_destroy(bad);
}
