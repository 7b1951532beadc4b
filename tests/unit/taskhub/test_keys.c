/* taskhub/keys.c: the key-escaping vectors of docs/storage-layout.md §2 and the
 * FNV-1a partition vectors of §3. */
#include "taskhub/instance.h"
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
TestSuite(keys, .init = setup, .fini = teardown);

static void roundtrip(const char *id, const char *escaped)
{
    char *e = hub_key_escape(a, id, strlen(id));
    cr_assert_str_eq(e, escaped, "escape(%s)", id);
    char *u;
    cr_assert_eq(hub_key_unescape(a, e, strlen(e), &u), DG_OK);
    cr_assert_str_eq(u, id, "unescape(%s)", e);
}

Test(keys, escape_vectors)
{
    roundtrip("a/b#c", "a^0b^2c");
    roundtrip("x^y", "x^^y");
    roundtrip("back\\slash?q", "back^1slash^3q");
    roundtrip("tab\there", "tab^\xc3\x89here"); /* U+0009 -> ^U+00C9 'É' */
    roundtrip("del\x7f", "del^\xc4\xbf");       /* U+007F -> ^U+013F 'Ŀ' */
    roundtrip("c1\xc2\x85", "c1^\xc5\x85");     /* U+0085 -> ^U+0145 */
    roundtrip("space and +plus %25 \xc3\xa9t\xc3\xa9", "space and +plus %25 \xc3\xa9t\xc3\xa9");
    roundtrip("", "");
    roundtrip("^", "^^");
}

Test(keys, unescape_keeps_unknown_escapes)
{
    char *u;
    cr_assert_eq(hub_key_unescape(a, "a^zb^", 5, &u), DG_OK);
    cr_assert_str_eq(u, "azb^");
    cr_assert_eq(hub_key_unescape(a, "bad\xff", 4, &u), DG_EINVAL);
}

Test(keys, unescape_refuses_a_nul_or_a_surrogate)
{
    char *u = NULL;
    cr_assert_eq(hub_key_unescape(a,
                                  "a^\xc3\x80"
                                  "b",
                                  5, &u),
                 DG_EINVAL, "^U+00C0 would be U+0000");
    cr_assert_eq(hub_key_unescape(a, "^\xc3\x80", 3, &u), DG_EINVAL);
    cr_assert_eq(hub_key_unescape(a, "a^\xee\x80\x80", 6, &u), DG_EINVAL, "^U+E000 would be U+DF40");
    cr_assert_eq(hub_key_unescape(a, "a^\xee\x82\xbf", 6, &u), DG_EINVAL, "^U+E0BF would be U+DFFF");
    cr_assert_eq(hub_key_unescape(a, "a^\xc3\x81", 4, &u), DG_OK, "U+0001 is an id's control character");
    cr_assert_eq(strlen(u), 2);
    cr_assert_eq(u[1], '\x01');
    cr_assert_eq(hub_key_unescape(a, "a^\xee\x83\x80", 6, &u), DG_OK, "^U+E0C0 is U+E000");
    cr_assert_str_eq(u, "a\xee\x80\x80");
    /* A row with such a key is not an instance: reads answer an unreadable row. */
    az_entity e;
    az_entity_init(&e, a, "x^\xc3\x80y", "");
    struct hub_instance in;
    cr_assert_eq(hub_instance_from_entity(a, &e, &in), DG_EBADRESP);
}

Test(keys, fnv1a_vectors)
{
    cr_assert_eq(hub_fnv1a("a", 1), 0xE40C292Cu);
    cr_assert_eq(hub_fnv1a("foobar", 6), 0xBF9CF968u);
    cr_assert_eq(hub_fnv1a("", 0), 0x811C9DC5u);
    cr_assert_eq(hub_fnv1a("abc", 3), 0x1A47E90Bu);
    cr_assert_eq(hub_fnv1a("myinstance", 10), 0xC06A6290u);
    cr_assert_eq(hub_fnv1a("f71ac761454f41468d9923ac39e9bdbc", 32), 0x6198F775u);
    cr_assert_eq(hub_fnv1a("02541b97a3da488a8e13dbd686a9c011", 32), 0xB1A6D8C7u);
    cr_assert_eq(hub_fnv1a("@counter@myentity", 17), 0xB1C4FB1Eu);
    cr_assert_eq(hub_fnv1a("h\xc3\xa9llo", 6), 0x4AA48540u);
}

Test(keys, partitions)
{
    cr_assert_eq(hub_partition("", 0, 4), 1);
    cr_assert_eq(hub_partition("abc", 3, 4), 3);
    cr_assert_eq(hub_partition("abc", 3, 16), 11);
    cr_assert_eq(hub_partition("f71ac761454f41468d9923ac39e9bdbc", 32, 16), 5);
    cr_assert_eq(hub_partition("02541b97a3da488a8e13dbd686a9c011", 32, 4), 3);
    cr_assert_eq(hub_partition("@counter@myentity", 17, 16), 14);
    cr_assert_eq(hub_partition("h\xc3\xa9llo", 6, 4), 0);
}
