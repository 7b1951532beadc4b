/* storage/odata.c: literal escaping is the client's job, and a value can never
 * change the shape of a filter. */
#include "base/time.h"
#include "storage/odata.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

Test(odata, quote_doubles_single_quotes)
{
    dg_buf b;
    dg_buf_init(&b, 1000);
    cr_assert_eq(az_odata_quote(&b, "it's 'x'", 8), DG_OK);
    cr_assert_str_eq(dg_buf_str(&b), "'it''s ''x'''");
    dg_buf_reset(&b);
    az_odata_quote(&b, "", 0);
    cr_assert_str_eq(dg_buf_str(&b), "''");
    dg_buf_free(&b);
}

Test(odata, filter_builder)
{
    az_filter f;
    az_filter_init(&f);
    az_filter_cmp_str(&f, "PartitionKey", AZ_EQ, "o'neil");
    az_filter_and(&f);
    az_filter_open(&f);
    az_filter_cmp_i32(&f, "n", AZ_GE, -2);
    az_filter_or(&f);
    az_filter_cmp_i32(&f, "m", AZ_LT, 2147483647);
    az_filter_close(&f);
    az_filter_and(&f);
    dg_ticks t;
    dg_iso_parse("2020-01-01T00:00:00Z", 20, &t);
    az_filter_cmp_datetime(&f, "CreatedTime", AZ_GT, t);
    cr_assert_str_eq(az_filter_str(&f),
                     "PartitionKey eq 'o''neil' and (n ge -2 or m lt 2147483647) and CreatedTime "
                     "gt datetime'2020-01-01T00:00:00.0000000Z'");
    az_filter_free(&f);
}

Test(odata, injection_attempts_stay_literals)
{
    az_filter f;
    az_filter_init(&f);
    az_filter_cmp_str(&f, "RowKey", AZ_EQ, "x' or RowKey ne 'y");
    cr_assert_str_eq(az_filter_str(&f), "RowKey eq 'x'' or RowKey ne ''y'");
    az_filter_free(&f);

    az_filter_init(&f);
    az_filter_cmp_str(&f, "RowKey eq 'a' or x", AZ_EQ, "v");
    cr_assert_null(az_filter_str(&f), "a property name must be an identifier");
    az_filter_free(&f);
}

Test(odata, misuse_is_an_error)
{
    az_filter f;
    az_filter_init(&f);
    az_filter_cmp_i32(&f, "a", AZ_EQ, 1);
    az_filter_cmp_i32(&f, "b", AZ_EQ, 1);
    cr_assert_null(az_filter_str(&f), "two terms without an operator");
    az_filter_free(&f);

    az_filter_init(&f);
    az_filter_and(&f);
    cr_assert_null(az_filter_str(&f), "a leading operator");
    az_filter_free(&f);

    az_filter_init(&f);
    az_filter_open(&f);
    az_filter_close(&f);
    cr_assert_null(az_filter_str(&f), "an empty parenthesis");
    az_filter_free(&f);
}

Test(odata, prefix_ranges)
{
    az_filter f;
    az_filter_init(&f);
    az_filter_prefix(&f, "PartitionKey", "abc");
    cr_assert_str_eq(az_filter_str(&f), "(PartitionKey ge 'abc' and PartitionKey lt 'abd')");
    az_filter_free(&f);

    az_filter_init(&f);
    az_filter_prefix(&f, "PartitionKey", "a'z");
    cr_assert_str_eq(az_filter_str(&f), "(PartitionKey ge 'a''z' and PartitionKey lt 'a''{')");
    az_filter_free(&f);

    /* U+00E9 'é' (C3 A9) -> U+00EA 'ê' (C3 AA); U+00BF (C2 BF) -> U+00C0 (C3 80). */
    az_filter_init(&f);
    az_filter_prefix(&f, "P", "x\xc3\xa9");
    cr_assert_str_eq(az_filter_str(&f), "(P ge 'x\xc3\xa9' and P lt 'x\xc3\xaa')");
    az_filter_free(&f);
    az_filter_init(&f);
    az_filter_prefix(&f, "P", "\xc2\xbf");
    cr_assert_str_eq(az_filter_str(&f), "(P ge '\xc2\xbf' and P lt '\xc3\x80')");
    az_filter_free(&f);

    az_filter_init(&f);
    az_filter_prefix(&f, "P", "");
    cr_assert_str_eq(az_filter_str(&f), "");
    az_filter_free(&f);
}

static const char *range_of(const char *prefix)
{
    static char out[256];
    az_filter f;
    az_filter_init(&f);
    az_filter_prefix(&f, "P", prefix);
    snprintf(out, sizeof out, "%s", az_filter_str(&f) ? az_filter_str(&f) : "(error)");
    az_filter_free(&f);
    return out;
}

/* The upper bound is the next string in the service's ordinal UTF-16 order. */
Test(odata, prefix_upper_bounds_at_the_edges_of_utf16)
{
    /* U+10FFFF (DBFF DFFF): the next unit that can follow is U+E000, not nothing. */
    cr_assert_str_eq(range_of("a\xf4\x8f\xbf\xbf"), "(P ge 'a\xf4\x8f\xbf\xbf' and P lt 'a\xee\x80\x80')");
    /* U+D7FF: U+10000 (D800 DC00) comes next, and before U+E000. */
    cr_assert_str_eq(range_of("a\xed\x9f\xbf"), "(P ge 'a\xed\x9f\xbf' and P lt 'a\xf0\x90\x80\x80')");
    /* U+FFFF carries into the character before. */
    cr_assert_str_eq(range_of("ab\xef\xbf\xbf"), "(P ge 'ab\xef\xbf\xbf' and P lt 'ac')");
    cr_assert_str_eq(range_of("a\xef\xbf\xbf\xef\xbf\xbf"),
                     "(P ge 'a\xef\xbf\xbf\xef\xbf\xbf' and P lt 'b')");
    /* Within surrogate pairs: the next pair. U+1F600 -> U+1F601; U+103FF (D800 DFFF) -> U+10400. */
    cr_assert_str_eq(range_of("\xf0\x9f\x98\x80"), "(P ge '\xf0\x9f\x98\x80' and P lt '\xf0\x9f\x98\x81')");
    cr_assert_str_eq(range_of("\xf0\x90\x8f\xbf"), "(P ge '\xf0\x90\x8f\xbf' and P lt '\xf0\x90\x90\x80')");
    /* No string above: the lower bound alone (callers keep only real matches). */
    cr_assert_str_eq(range_of("\xef\xbf\xbf"), "(P ge '\xef\xbf\xbf')");
}
