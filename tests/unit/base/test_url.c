/* base/url.c: percent-encoding both ways. */
#include "base/url.h"

#include <criterion/criterion.h>
#include <string.h>

Test(url, encode_reserved_and_utf8)
{
    dg_arena *a = dg_arena_create();
    cr_assert_str_eq(dg_url_encode_a(a, "a b+c/d?e#f%g^h", 15, NULL), "a%20b%2Bc%2Fd%3Fe%23f%25g%5Eh");
    cr_assert_str_eq(dg_url_encode_a(a, "dir/x y", 7, "/"), "dir/x%20y");
    cr_assert_str_eq(dg_url_encode_a(a, "\xc3\xa9", 2, NULL), "%C3%A9");
    cr_assert_str_eq(dg_url_encode_a(a, "AZaz09-._~", 10, NULL), "AZaz09-._~");
    dg_arena_destroy(a);
}

Test(url, decode)
{
    dg_arena *a = dg_arena_create();
    char *out;
    size_t n;
    cr_assert_eq(dg_url_decode(a, "a%20b+c%2f", 10, 1, &out, &n), DG_OK);
    cr_assert_str_eq(out, "a b c/");
    cr_assert_eq(dg_url_decode(a, "a+b", 3, 0, &out, &n), DG_OK);
    cr_assert_str_eq(out, "a+b");
    cr_assert_eq(dg_url_decode(a, "x%00y", 5, 0, &out, &n), DG_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(dg_url_decode(a, "bad%2", 5, 0, &out, &n), DG_EINVAL);
    cr_assert_eq(dg_url_decode(a, "bad%", 4, 0, &out, &n), DG_EINVAL);
    cr_assert_eq(dg_url_decode(a, "bad%zz", 6, 0, &out, &n), DG_EINVAL);
    dg_arena_destroy(a);
}

Test(url, escape_raw_keeps_a_url_and_encodes_what_cannot_stand_in_a_header)
{
    dg_arena *a = dg_arena_create();
    cr_assert_str_eq(dg_url_escape_raw(a, "/x/a%2Fb?q=1&code=k%3D"), "/x/a%2Fb?q=1&code=k%3D");
    cr_assert_str_eq(dg_url_escape_raw(a, "/x\r\nSet-Cookie: a=b"), "/x%0D%0ASet-Cookie:%20a=b");
    cr_assert_str_eq(dg_url_escape_raw(a, "\x1b\x01\x7f\xff\xc3\xa9"), "%1B%01%7F%FF%C3%A9");
    cr_assert_str_eq(dg_url_escape_raw(a, ""), "");
    dg_arena_destroy(a);
}
