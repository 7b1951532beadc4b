/* storage/entity.c: EDM encoding on write, types honoured and inferred on read. */
#include "base/time.h"
#include "storage/entity.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static cJSON *to_json(const az_entity *e)
{
    dg_buf b;
    dg_buf_init(&b, 1 << 20);
    cr_assert_eq(az_entity_to_json(e, true, &b), DG_OK);
    cJSON *j = cJSON_Parse(dg_buf_str(&b));
    dg_buf_free(&b);
    cr_assert_not_null(j);
    return j;
}

static const char *jstr(cJSON *j, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    cr_assert(cJSON_IsString(v), "%s is not a string", k);
    return v->valuestring;
}

Test(entity, write_annotations)
{
    dg_arena *a = dg_arena_create();
    az_entity e;
    az_entity_init(&e, a, "p'k", "r k");
    az_entity_set_str(&e, a, "S", "text \"quoted\"");
    az_entity_set_i32(&e, a, "I", -7);
    az_entity_set_i64(&e, a, "L", 9007199254740993LL);
    az_entity_set_bool(&e, a, "B", true);
    az_entity_set_double(&e, a, "D", 3.0);
    dg_ticks t;
    dg_iso_parse("2026-12-01T07:28:30.1004898Z", 28, &t);
    az_entity_set_datetime(&e, a, "T", t);
    az_entity_set_guid(&e, a, "G", "c9a646d3-9c61-4cb7-bfcd-ee2522c8f633");
    az_entity_set_binary(&e, a, "Bin", "\0\1\2", 3);
    cJSON *j = to_json(&e);
    cr_assert_str_eq(jstr(j, "PartitionKey"), "p'k");
    cr_assert_str_eq(jstr(j, "RowKey"), "r k");
    cr_assert_str_eq(jstr(j, "S"), "text \"quoted\"");
    cr_assert_eq(cJSON_GetObjectItem(j, "I")->valuedouble, -7);
    cr_assert_null(cJSON_GetObjectItem(j, "I@odata.type"), "Int32 is inferred: no annotation");
    cr_assert_str_eq(jstr(j, "L"), "9007199254740993", "Int64 travels as a string");
    cr_assert_str_eq(jstr(j, "L@odata.type"), "Edm.Int64");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "B")));
    cr_assert_str_eq(jstr(j, "D@odata.type"), "Edm.Double", "a whole double must not read back as Int32");
    cr_assert_str_eq(jstr(j, "T"), "2026-12-01T07:28:30.1004898Z");
    cr_assert_str_eq(jstr(j, "T@odata.type"), "Edm.DateTime");
    cr_assert_str_eq(jstr(j, "G@odata.type"), "Edm.Guid");
    cr_assert_str_eq(jstr(j, "Bin"), "AAEC");
    cr_assert_str_eq(jstr(j, "Bin@odata.type"), "Edm.Binary");
    cJSON_Delete(j);
    dg_arena_destroy(a);
}

Test(entity, write_rejects_bad_names)
{
    dg_arena *a = dg_arena_create();
    az_entity e;
    az_entity_init(&e, a, "p", "r");
    az_entity_set_str(&e, a, "bad name", "x");
    dg_buf b;
    dg_buf_init(&b, 1000);
    cr_assert_eq(az_entity_to_json(&e, true, &b), DG_EINVAL);
    az_entity_init(&e, a, "p", "r");
    az_entity_set_str(&e, a, "RowKey", "x");
    cr_assert_eq(az_entity_to_json(&e, true, &b), DG_EINVAL);
    dg_buf_free(&b);
    dg_arena_destroy(a);
}

Test(entity, read_types)
{
    const char *txt =
        "{\"odata.etag\":\"W/\\\"datetime'x'\\\"\",\"PartitionKey\":\"p\",\"RowKey\":\"r\","
        "\"Timestamp\":\"2026-12-01T07:28:30.1004898Z\",\"Timestamp@odata.type\":\"Edm.DateTime\","
        "\"S\":\"s\",\"I\":42,\"L\":\"-5\",\"L@odata.type\":\"Edm.Int64\",\"B\":false,"
        "\"D\":1.5,\"W\":4,\"W@odata.type\":\"Edm.Double\",\"N\":\"NaN\",\"N@odata.type\":"
        "\"Edm.Double\",\"T\":\"0001-01-01T00:00:00Z\",\"T@odata.type\":\"Edm.DateTime\","
        "\"Big\":3000000000,\"Bin\":\"AAEC\",\"Bin@odata.type\":\"Edm.Binary\"}";
    cJSON *j = cJSON_Parse(txt);
    dg_arena *a = dg_arena_create();
    az_entity e;
    cr_assert_eq(az_entity_from_json(a, j, NULL, &e), DG_OK);
    cr_assert_str_eq(e.pk, "p");
    cr_assert_str_eq(e.rk, "r");
    cr_assert_str_eq(e.etag, "W/\"datetime'x'\"");
    cr_assert_neq(e.timestamp, 0);
    cr_assert_null(az_entity_get(&e, "Timestamp"), "Timestamp is a system property, not a column");
    cr_assert_str_eq(az_entity_str(&e, "S"), "s");
    cr_assert_eq(az_entity_get(&e, "I")->type, AZ_EDM_INT32);
    cr_assert_eq(az_entity_int(&e, "I", 0), 42);
    cr_assert_eq(az_entity_get(&e, "L")->type, AZ_EDM_INT64);
    cr_assert_eq(az_entity_int(&e, "L", 0), -5);
    cr_assert_eq(az_entity_bool(&e, "B", true), false);
    cr_assert_eq(az_entity_double(&e, "D", 0), 1.5);
    cr_assert_eq(az_entity_get(&e, "W")->type, AZ_EDM_DOUBLE);
    cr_assert(isnan(az_entity_double(&e, "N", 0)));
    cr_assert_eq(az_entity_datetime(&e, "T", 0), DG_TICKS_MIN);
    cr_assert_eq(az_entity_get(&e, "Big")->type, AZ_EDM_DOUBLE, "past Int32 range a bare number is a Double");
    cr_assert_eq(az_entity_get(&e, "Bin")->slen, 3);
    cr_assert_eq(memcmp(az_entity_get(&e, "Bin")->s, "\0\1\2", 3), 0);
    cJSON_Delete(j);
    dg_arena_destroy(a);
}

Test(entity, read_rejects_mistyped_values)
{
    const char *bad[] = {"{\"L\":5,\"L@odata.type\":\"Edm.Int64\"}",
                         "{\"L\":\"5x\",\"L@odata.type\":\"Edm.Int64\"}",
                         "{\"T\":\"yesterday\",\"T@odata.type\":\"Edm.DateTime\"}",
                         "{\"B\":\"!!\",\"B@odata.type\":\"Edm.Binary\"}",
                         "{\"O\":{\"nested\":1}}",
                         "{\"I\":1e100,\"I@odata.type\":\"Edm.Int32\"}",
                         "{\"I\":-1e100,\"I@odata.type\":\"Edm.Int32\"}",
                         "{\"I\":2147483648,\"I@odata.type\":\"Edm.Int32\"}",
                         "{\"I\":-2147483649,\"I@odata.type\":\"Edm.Int32\"}",
                         "{\"I\":1.5,\"I@odata.type\":\"Edm.Int32\"}",
                         "{\"I\":\"5\",\"I@odata.type\":\"Edm.Int32\"}",
                         "{\"L\":\"9223372036854775808\",\"L@odata.type\":\"Edm.Int64\"}",
                         "{\"L\":\"-9223372036854775809\",\"L@odata.type\":\"Edm.Int64\"}",
                         "{\"L\":\" 5\",\"L@odata.type\":\"Edm.Int64\"}",
                         "{\"L\":\"+5\",\"L@odata.type\":\"Edm.Int64\"}",
                         "{\"L\":\"-\",\"L@odata.type\":\"Edm.Int64\"}",
                         "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *j = cJSON_Parse(bad[i]);
        dg_arena *a = dg_arena_create();
        az_entity e;
        cr_expect_eq(az_entity_from_json(a, j, NULL, &e), DG_EBADRESP, "accepted %s", bad[i]);
        cJSON_Delete(j);
        dg_arena_destroy(a);
    }
}

Test(entity, read_int_extremes)
{
    const char *txt = "{\"I\":-2147483648,\"I@odata.type\":\"Edm.Int32\",\"J\":2147483647,"
                      "\"L\":\"-9223372036854775808\",\"L@odata.type\":\"Edm.Int64\","
                      "\"M\":\"9223372036854775807\",\"M@odata.type\":\"Edm.Int64\"}";
    cJSON *j = cJSON_Parse(txt);
    dg_arena *a = dg_arena_create();
    az_entity e;
    cr_assert_eq(az_entity_from_json(a, j, NULL, &e), DG_OK);
    cr_assert_eq(az_entity_get(&e, "I")->type, AZ_EDM_INT32);
    cr_assert_eq(az_entity_int(&e, "I", 0), INT32_MIN);
    cr_assert_eq(az_entity_int(&e, "J", 0), INT32_MAX);
    cr_assert_eq(az_entity_int(&e, "L", 0), INT64_MIN);
    cr_assert_eq(az_entity_int(&e, "M", 0), INT64_MAX);
    cJSON_Delete(j);
    dg_arena_destroy(a);
}

Test(entity, raw_scan_tells_double_from_int32)
{
    const char *txt = "{\"s\":\"1.5 and -2 in a string \\\" 3\",\"D\":2.0,\"I\":2,\"E\":1e3,\"N\":-7}";
    cJSON *j = cJSON_Parse(txt);
    cr_assert_not_null(j);
    dg_arena *a = dg_arena_create();
    struct az_numscan ns;
    az_numscan_init(&ns, a, txt, strlen(txt));
    cr_assert_eq(ns.n, 4, "numbers inside strings do not count");
    az_entity e;
    cr_assert_eq(az_entity_from_json(a, j, &ns, &e), DG_OK);
    cr_assert_eq(az_entity_get(&e, "D")->type, AZ_EDM_DOUBLE);
    cr_assert_eq(az_entity_get(&e, "I")->type, AZ_EDM_INT32);
    cr_assert_eq(az_entity_get(&e, "E")->type, AZ_EDM_DOUBLE);
    cr_assert_eq(az_entity_int(&e, "N", 0), -7);
    cJSON_Delete(j);
    dg_arena_destroy(a);
}

Test(entity, setters_replace_and_remove)
{
    dg_arena *a = dg_arena_create();
    az_entity e;
    az_entity_init(&e, a, "p", "r");
    for (int i = 0; i < 20; i++) {
        char name[8];
        snprintf(name, sizeof name, "c%d", i);
        az_entity_set_i32(&e, a, name, i);
    }
    az_entity_set_str(&e, a, "c3", "now a string");
    cr_assert_eq(e.n, 20);
    cr_assert_str_eq(az_entity_str(&e, "c3"), "now a string");
    cr_assert(az_entity_remove(&e, "c0"));
    cr_assert_not(az_entity_remove(&e, "c0"));
    cr_assert_eq(e.n, 19);
    cr_assert_eq(az_entity_int(&e, "c19", -1), 19);
    dg_arena_destroy(a);
}

/* entity_read.c: the one-pass reader gives what the cJSON reader gives. */
static void same_entity(const az_entity *x, const az_entity *y, const char *txt)
{
    cr_assert_str_eq(x->pk, y->pk, "%s", txt);
    cr_assert_str_eq(x->rk, y->rk, "%s", txt);
    cr_assert_eq(!x->etag, !y->etag, "%s", txt);
    if (x->etag)
        cr_assert_str_eq(x->etag, y->etag, "%s", txt);
    cr_assert_eq(x->timestamp, y->timestamp, "%s", txt);
    cr_assert_eq(x->n, y->n, "%s: %zu against %zu properties", txt, x->n, y->n);
    for (size_t i = 0; i < x->n; i++) {
        const struct az_prop *p = &x->props[i], *q = az_entity_get(y, p->name);
        cr_assert_not_null(q, "%s: %s", txt, p->name);
        cr_assert_eq(p->type, q->type, "%s: %s", txt, p->name);
        cr_assert_eq(p->i, q->i, "%s: %s", txt, p->name);
        cr_assert_eq(p->b, q->b, "%s: %s", txt, p->name);
        cr_assert(p->d == q->d || (isnan(p->d) && isnan(q->d)), "%s: %s", txt, p->name);
        cr_assert_eq(p->slen, q->slen, "%s: %s", txt, p->name);
        if (p->slen)
            cr_assert_eq(memcmp(p->s, q->s, p->slen), 0, "%s: %s", txt, p->name);
    }
}

static dg_err read_cjson(dg_arena *a, const char *txt, az_entity *e)
{
    cJSON *j = cJSON_Parse(txt);
    if (!j)
        return DG_EBADRESP;
    struct az_numscan ns;
    az_numscan_init(&ns, a, txt, strlen(txt));
    dg_err rc = az_entity_from_json(a, j, &ns, e);
    cJSON_Delete(j);
    return rc;
}

Test(entity, one_pass_reader_agrees)
{
    const char *good[] = {
        "{\"odata.etag\":\"W/\\\"datetime'x'\\\"\",\"PartitionKey\":\"p\",\"RowKey\":\"r\","
        "\"Timestamp\":\"2026-12-01T07:28:30.1004898Z\",\"Timestamp@odata.type\":\"Edm.DateTime\","
        "\"S\":\"s\",\"I\":42,\"L\":\"-5\",\"L@odata.type\":\"Edm.Int64\",\"B\":false,\"C\":true,"
        "\"D\":1.5,\"W\":4,\"W@odata.type\":\"Edm.Double\",\"N\":\"NaN\",\"N@odata.type\":"
        "\"Edm.Double\",\"T\":\"0001-01-01T00:00:00Z\",\"T@odata.type\":\"Edm.DateTime\","
        "\"Big\":3000000000,\"Bin\":\"AAEC\",\"Bin@odata.type\":\"Edm.Binary\",\"Z\":null}",
        "{\"I\":-2147483648,\"I@odata.type\":\"Edm.Int32\",\"J\":2147483647,"
        "\"L\":\"-9223372036854775808\",\"L@odata.type\":\"Edm.Int64\","
        "\"M\":\"9223372036854775807\",\"M@odata.type\":\"Edm.Int64\"}",
        "{\"s\":\"1.5 and -2 in a string \\\" 3\",\"D\":2.0,\"I\":2,\"E\":1e3,\"N\":-7,\"F\":-0.25E-2}",
        "{\"Esc\":\"a\\\\b\\/"
        "c\\n\\t\\\"\\u00e9\\ud83d\\ude00\\u0041\",\"G\":\"d3c1b7e2-0000-4000-8000-000000000000\","
        "\"G@odata.type\":\"Edm.Guid\",\"Later\":5,\"X\":\"x\",\"Later@odata.type\":\"Edm.Int32\"}",
        " { } ",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        dg_arena *a = dg_arena_create();
        az_entity x, y;
        cr_assert_eq(read_cjson(a, good[i], &x), DG_OK, "%s", good[i]);
        cr_assert_eq(az_entity_parse(a, good[i], strlen(good[i]), &y), DG_OK, "%s", good[i]);
        same_entity(&x, &y, good[i]);
        dg_arena_destroy(a);
    }
    const char *bad[] = {"{\"L\":5,\"L@odata.type\":\"Edm.Int64\"}",
                         "{\"T\":\"yesterday\",\"T@odata.type\":\"Edm.DateTime\"}",
                         "{\"B\":\"!!\",\"B@odata.type\":\"Edm.Binary\"}",
                         "{\"O\":{\"nested\":1}}",
                         "{\"O\":[1]}",
                         "{\"I\":1.5,\"I@odata.type\":\"Edm.Int32\"}",
                         "{\"L\":\"9223372036854775808\",\"L@odata.type\":\"Edm.Int64\"}",
                         "{\"L\":\"+5\",\"L@odata.type\":\"Edm.Int64\"}",
                         "[1]",
                         "{\"S\":\"open}",
                         "{\"S\":\"\\x\"}",
                         "{\"S\":\"\\ud800\"}",
                         "{\"S\":1}x",
                         "{\"S\" 1}",
                         "{\"S\":01}",
                         "{\"S\":1.}",
                         "{\"S\":tru}",
                         "{\"S\":1,}",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        dg_arena *a = dg_arena_create();
        az_entity y;
        cr_expect_eq(az_entity_parse(a, bad[i], strlen(bad[i]), &y), DG_EBADRESP, "accepted %s", bad[i]);
        dg_arena_destroy(a);
    }
}

Test(entity, one_pass_reader_reads_a_query_answer)
{
    const char *txt = "{\"odata.metadata\":\"http://x/$metadata#T\",\"value\":[{\"PartitionKey\":\"a\","
                      "\"RowKey\":\"\",\"N\":1},{\"PartitionKey\":\"b\\u00e9\",\"RowKey\":\"1\",\"S\":\"t\"}"
                      "],\"odata.nextLink\":{\"deep\":[1,{\"x\":null}]}}";
    dg_arena *a = dg_arena_create();
    az_entity *v;
    size_t n;
    cr_assert_eq(az_entities_parse(a, txt, strlen(txt), &v, &n), DG_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(v[0].pk, "a");
    cr_assert_eq(az_entity_int(&v[0], "N", 0), 1);
    cr_assert_str_eq(v[1].pk, "b\xc3\xa9");
    cr_assert_str_eq(az_entity_str(&v[1], "S"), "t");
    cr_assert_eq(az_entities_parse(a, "{\"value\":[]}", 12, &v, &n), DG_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(az_entities_parse(a, "{\"other\":[]}", 12, &v, &n), DG_EBADRESP, "no value array");
    cr_assert_eq(az_entities_parse(a, "{\"value\":[{}] ", 14, &v, &n), DG_EBADRESP);
    dg_arena_destroy(a);
}

/* Found by tests/fuzz (fuzz_entity): a Double was written with 15 significant
 * digits whenever cJSON found them close enough, so it read back changed in its
 * last bits. Every double now reads back exactly. */
Test(entity, doubles_are_written_exactly)
{
    const double v[] = {-8.8888888888888892e+111, 0.1, 1.0 / 3.0, 2.0, 5e-324, 1.7976931348623157e308, -0.0};
    dg_arena *a = dg_arena_create();
    az_entity e;
    az_entity_init(&e, a, "p", "r");
    char name[8];
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        snprintf(name, sizeof name, "D%zu", i);
        az_entity_set_double(&e, a, name, v[i]);
    }
    dg_buf b;
    dg_buf_init(&b, 1 << 20);
    cr_assert_eq(az_entity_to_json(&e, true, &b), DG_OK);
    cJSON *j = cJSON_Parse(dg_buf_str(&b));
    cr_assert_not_null(j);
    struct az_numscan ns;
    az_numscan_init(&ns, a, dg_buf_str(&b), b.len);
    az_entity back;
    cr_assert_eq(az_entity_from_json(a, j, &ns, &back), DG_OK);
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        snprintf(name, sizeof name, "D%zu", i);
        const struct az_prop *p = az_entity_get(&back, name);
        cr_assert(p && p->type == AZ_EDM_DOUBLE, "%s", name);
        cr_assert(memcmp(&p->d, &v[i], sizeof p->d) == 0, "%s: %.17g came back as %.17g (%s)", name, v[i],
                  p->d, dg_buf_str(&b));
    }
    cJSON_Delete(j);
    dg_buf_free(&b);
    dg_arena_destroy(a);
}
