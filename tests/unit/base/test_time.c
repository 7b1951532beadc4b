/* base/time.c: the ISO-8601 form storage writes (7 fraction digits, Z) and RFC 1123. */
#include "base/time.h"

#include <criterion/criterion.h>
#include <string.h>

static dg_ticks parse(const char *s)
{
    dg_ticks t = 0;
    cr_assert_eq(dg_iso_parse(s, strlen(s), &t), DG_OK, "rejected %s", s);
    return t;
}

Test(time, iso_roundtrip_seven_digits)
{
    char out[DG_ISO_LEN];
    dg_ticks t = parse("2026-12-01T07:28:30.1004898Z");
    dg_iso_format(t, out);
    cr_assert_str_eq(out, "2026-12-01T07:28:30.1004898Z");
}

Test(time, iso_epoch_and_fraction_padding)
{
    cr_assert_eq(parse("1970-01-01T00:00:00Z"), 0);
    cr_assert_eq(parse("1970-01-01T00:00:01.5Z"), 15000000);
    cr_assert_eq(parse("1970-01-01T00:00:00.123456789Z"), 1234567, "digits past 7 are truncated");
}

Test(time, iso_offsets_and_missing_zone)
{
    cr_assert_eq(parse("2020-01-01T02:00:00+02:00"), parse("2020-01-01T00:00:00Z"));
    cr_assert_eq(parse("2019-12-31T19:30:00-04:30"), parse("2020-01-01T00:00:00Z"));
    cr_assert_eq(parse("2020-01-01T00:00:00"), parse("2020-01-01T00:00:00Z"));
}

Test(time, iso_dotnet_min_value)
{
    char out[DG_ISO_LEN];
    dg_ticks t = parse("0001-01-01T00:00:00Z");
    cr_assert_eq(t, DG_TICKS_MIN);
    dg_iso_format(t, out);
    cr_assert_str_eq(out, "0001-01-01T00:00:00.0000000Z");
}

Test(time, iso_leap_days)
{
    char out[DG_ISO_LEN];
    dg_iso_format(parse("2024-02-29T23:59:59.9999999Z"), out);
    cr_assert_str_eq(out, "2024-02-29T23:59:59.9999999Z");
    dg_ticks t;
    cr_assert_eq(dg_iso_parse("2023-02-29T00:00:00Z", 20, &t), DG_EINVAL);
    cr_assert_eq(dg_iso_parse("2000-02-29T00:00:00Z", 20, &t), DG_OK);
    cr_assert_eq(dg_iso_parse("1900-02-29T00:00:00Z", 20, &t), DG_EINVAL);
}

Test(time, iso_rejects_garbage)
{
    static const char *const bad[] = {"",
                                      "2020-01-01",
                                      "2020-13-01T00:00:00Z",
                                      "2020-01-32T00:00:00Z",
                                      "2020-01-01T24:00:00Z",
                                      "2020-01-01T00:60:00Z",
                                      "2020-01-01T00:00:00.Z",
                                      "2020-01-01T00:00:00ZZ",
                                      "2020-01-01T00:00:00+2:00",
                                      "20x0-01-01T00:00:00Z",
                                      "2020-01-01T00:00:00 garbage"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        dg_ticks t;
        cr_expect_eq(dg_iso_parse(bad[i], strlen(bad[i]), &t), DG_EINVAL, "accepted '%s'", bad[i]);
    }
}

Test(time, iso_trimmed_is_newtonsofts_roundtrip_form)
{
    char out[DG_ISO_LEN];
    dg_iso_format_trimmed(parse("2026-12-01T09:46:54.7055690Z"), out);
    cr_assert_str_eq(out, "2026-12-01T09:46:54.705569Z", "trailing zeros go");
    dg_iso_format_trimmed(parse("2026-12-01T09:46:54.1234567Z"), out);
    cr_assert_str_eq(out, "2026-12-01T09:46:54.1234567Z");
    dg_iso_format_trimmed(parse("2026-12-01T09:46:54.1000000Z"), out);
    cr_assert_str_eq(out, "2026-12-01T09:46:54.1Z");
    dg_iso_format_trimmed(parse("2026-12-01T09:46:54Z"), out);
    cr_assert_str_eq(out, "2026-12-01T09:46:54Z", "no fraction, no dot");
}

Test(time, rfc1123)
{
    char out[DG_RFC1123_LEN];
    dg_rfc1123_format(parse("2026-12-01T07:28:30.99Z"), out);
    cr_assert_str_eq(out, "Tue, 01 Dec 2026 07:28:30 GMT");
    dg_rfc1123_format(0, out);
    cr_assert_str_eq(out, "Thu, 01 Jan 1970 00:00:00 GMT");
}

Test(time, clocks_move)
{
    int64_t m = dg_mono_ms();
    cr_assert_gt(m, 0);
    cr_assert_gt(dg_now_ticks(), parse("2020-01-01T00:00:00Z"));
}
