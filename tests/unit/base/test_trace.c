/* base/trace.c: request ids, made and taken from a client. */
#include "base/trace.h"

#include <criterion/criterion.h>
#include <string.h>

Test(trace, made_ids_are_12_hex_digits)
{
    char a[DG_REQID_MAX + 1], b[DG_REQID_MAX + 1];
    dg_trace_id_make(a);
    dg_trace_id_make(b);
    cr_assert_eq(strlen(a), 12);
    cr_assert_eq(strspn(a, "0123456789abcdef"), 12);
    cr_assert_str_neq(a, b);
}

Test(trace, a_safe_client_id_is_kept)
{
    char out[DG_REQID_MAX + 1] = "x";
    cr_assert(dg_trace_id_take(out, "5c2f9e1a-0b7d-4c3e-9f10-2a6b8d4e7f01"));
    cr_assert_str_eq(out, "5c2f9e1a-0b7d-4c3e-9f10-2a6b8d4e7f01");
    cr_assert(dg_trace_id_take(out, "Ab_9.z:1"));
    cr_assert_str_eq(out, "Ab_9.z:1");
}

Test(trace, a_long_id_is_cut_to_the_cap)
{
    char in[200], out[DG_REQID_MAX + 1];
    memset(in, 'a', sizeof in - 1);
    in[sizeof in - 1] = '\0';
    cr_assert(dg_trace_id_take(out, in));
    cr_assert_eq(strlen(out), DG_REQID_MAX);
}

Test(trace, unsafe_or_empty_ids_are_refused)
{
    char out[DG_REQID_MAX + 1] = "kept";
    const char *bad[] = {"",    "a b", "a\"b", "a\\b",     "a\nb", "a\x01",
                         "x;y", "a=b", "a/b",  "\xc3\xa9", "a,b",  "%41"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_not(dg_trace_id_take(out, bad[i]), "%s", bad[i]);
        cr_assert_str_eq(out, "kept");
    }
    cr_assert_not(dg_trace_id_take(out, NULL));
}
