/* taskhub/entity.c without storage: ids, lower case, key rules, the two
 * scheduler-state formats as the real worker and the extension write them
 * (docs/storage-layout.md §9.2), the list filter of §9.4 and the request
 * message of §9.5. */
#include "taskhub/entity.h"

#include "taskhub/keys.h"

#include <criterion/criterion.h>
#include <string.h>

static dg_arena *a;
static void setup(void)
{
    a = dg_arena_create();
}
static void teardown(void)
{
    dg_arena_destroy(a);
}
TestSuite(entity, .init = setup, .fini = teardown);

Test(entity, ids_lowercase_the_name_only)
{
    cr_assert_str_eq(hub_entity_id(a, "Counter", "MyKey"), "@counter@MyKey");
    cr_assert_str_eq(hub_entity_id(a, "counter", ""), "@counter@");
    cr_assert_str_eq(hub_entity_id(a, "\xc3\x89t\xc3\xa9", "K"), "@\xc3\xa9t\xc3\xa9@K", "É -> é");
    cr_assert_str_eq(hub_entity_name_lower(a, "\xce\xa3\xce\x91"), "\xcf\x83\xce\xb1", "ΣΑ -> σα");
    cr_assert_str_eq(hub_entity_name_lower(a, "ABC_xyz-09"), "abc_xyz-09");
}

Test(entity, split_at_the_second_at)
{
    const char *n, *k;
    cr_assert(hub_entity_split(a, "@counter@a^b@c", &n, &k));
    cr_assert_str_eq(n, "counter");
    cr_assert_str_eq(k, "a^b@c", "the key keeps later '@'");
    cr_assert(hub_entity_split(a, "@counter@", &n, &k));
    cr_assert_str_eq(k, "");
    cr_assert_not(hub_entity_split(a, "@counter", &n, &k));
    cr_assert_not(hub_entity_split(a, "counter@x", &n, &k));
    cr_assert_not(hub_entity_split(a, "", &n, &k));
}

Test(entity, key_and_name_rules)
{
    cr_assert(hub_entity_key_ok(""));
    cr_assert(hub_entity_key_ok("a^b@c %+\xc3\xa9"));
    const char *bad[] = {"a/b", "a\\b", "a#b", "a?b", "tab\t", "del\x7f", "c1\xc2\x85", "\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_not(hub_entity_key_ok(bad[i]), "key %s", bad[i]);
    cr_assert(hub_entity_name_ok("Counter"));
    cr_assert_not(hub_entity_name_ok(""));
    cr_assert_not(hub_entity_name_ok("a@b"));
    cr_assert_not(hub_entity_name_ok("a/b"));
}

static const char *state_of(const char *scheduler_state)
{
    const char *s = "unset";
    cr_assert_eq(hub_entity_state_of(a, scheduler_state, &s), DG_OK, "%s", scheduler_state);
    return s;
}

Test(entity, scheduler_state_both_formats)
{
    /* Core format, as DurableTask.Core 3.11.2's TaskEntityDispatcher wrote it. */
    cr_assert_str_eq(state_of("{\"state\":\"5\",\"sorter\":{}}"), "5");
    cr_assert_str_eq(state_of("{\"state\":\"{\\\"value\\\":3,\\\"s\\\":\\\"x\\\\\\\"y\\\"}\",\"sorter\":{}}"),
                     "{\"value\":3,\"s\":\"x\\\"y\"}");
    cr_assert_null(state_of("{\"sorter\":{}}"), "deleted: no state");
    /* Legacy format (the extension's scheduler). */
    cr_assert_str_eq(state_of("{\"exists\":true,\"state\":\"5\",\"sorter\":{}}"), "5");
    cr_assert_null(state_of("{\"sorter\":{},\"queue\":[]}"));
    /* The current readers look at "state" only. */
    cr_assert_str_eq(state_of("{\"exists\":false,\"state\":\"1\"}"), "1");
    cr_assert_null(state_of("{\"exists\":true,\"state\":null}"));
    cr_assert_str_eq(state_of("{\"state\":\"null\"}"), "null", "a state of JSON null still exists");
    cr_assert_str_eq(state_of("{\"state\":{\"a\":1}}"), "{\"a\":1}", "a non-string state, leniently");
    cr_assert_null(state_of(NULL));
    cr_assert_null(state_of("  "));
    const char *s;
    cr_assert_eq(hub_entity_state_of(a, "not json", &s), DG_EBADRESP);
    cr_assert_eq(hub_entity_state_of(a, "[1]", &s), DG_EBADRESP);
    cr_assert_eq(hub_entity_state_of(a, "{\"state\":\"5\"} trailing", &s), DG_EBADRESP,
                 "a scheduler state is JSON only when all of it is");
}

Test(entity, status_exists_is_a_substring_test)
{
    cr_assert(hub_entity_status_exists("{\"entityExists\":true}"));
    cr_assert(hub_entity_status_exists("{\"entityExists\":true,\"lockedBy\":\"o1\"}"));
    cr_assert_not(hub_entity_status_exists("{}"));
    cr_assert_not(hub_entity_status_exists(NULL));
    cr_assert_not(hub_entity_status_exists("null"));
}

static dg_ticks at(const char *iso)
{
    dg_ticks t;
    cr_assert_eq(dg_iso_parse(iso, strlen(iso), &t), DG_OK);
    return t;
}

Test(entity, list_filter_is_the_one_of_12_7)
{
    const char *f;
    struct hub_entity_query q = {
        .name = "Counter", .from = at("2026-01-01T00:00:00Z"), .to = at("2026-02-03T04:05:06.1234567Z")};
    cr_assert_eq(hub_entity_filter(a, &q, &f), DG_OK);
    cr_assert_str_eq(f, "(CreatedTime ge datetime'2026-01-01T00:00:00.0000000Z') and "
                        "(CreatedTime le datetime'2026-02-03T04:05:06.1234567Z') and "
                        "(PartitionKey ge '@counter@') and (PartitionKey lt '@counterA')");
    q = (struct hub_entity_query){.to = at("2026-02-03T04:05:06Z")};
    cr_assert_eq(hub_entity_filter(a, &q, &f), DG_OK);
    cr_assert_str_eq(f, "(CreatedTime le datetime'2026-02-03T04:05:06.0000000Z') and "
                        "(PartitionKey ge '@') and (PartitionKey lt 'A')");
    q.name = "it's^";
    cr_assert_eq(hub_entity_filter(a, &q, &f), DG_OK);
    cr_assert_str_eq(f,
                     "(CreatedTime le datetime'2026-02-03T04:05:06.0000000Z') and "
                     "(PartitionKey ge '@it''s^^@') and (PartitionKey lt '@it''s^^A')",
                     "the prefix is escaped, then quoted");
}

Test(entity, request_message)
{
    const char *id = "7e4a1f7f-71f2-4026-b05e-b61e3eacdde1";
    cr_assert_str_eq(
        hub_entity_request_json(a, "add", "5", id),
        "{\"op\":\"add\",\"signal\":true,\"input\":\"5\",\"id\":\"7e4a1f7f-71f2-4026-b05e-b61e3eacdde1\","
        "\"Timestamp\":\"0001-01-01T00:00:00\",\"Predecessor\":\"0001-01-01T00:00:00\"}");
    cr_assert_str_eq(hub_entity_request_json(a, "", NULL, id),
                     "{\"op\":\"\",\"signal\":true,\"id\":\"7e4a1f7f-71f2-4026-b05e-b61e3eacdde1\","
                     "\"Timestamp\":\"0001-01-01T00:00:00\",\"Predecessor\":\"0001-01-01T00:00:00\"}");
    cr_assert_str_eq(
        hub_entity_request_json(a, "set", "{\"x\":1}", id),
        "{\"op\":\"set\",\"signal\":true,\"input\":\"{\\\"x\\\":1}\",\"id\":\"7e4a1f7f-71f2-4026-b05e-"
        "b61e3eacdde1\",\"Timestamp\":\"0001-01-01T00:00:00\",\"Predecessor\":\"0001-01-01T00:00:00\"}");
}

Test(entity, partitions_of_12_2)
{
    const char *id = hub_entity_id(a, "Counter", "k1");
    cr_assert_eq(hub_fnv1a(id, strlen(id)), 0x1E73E8EBu);
    cr_assert_eq(hub_partition(id, strlen(id), 4), 3u);
    cr_assert_eq(hub_partition(id, strlen(id), 16), 11u);
}
