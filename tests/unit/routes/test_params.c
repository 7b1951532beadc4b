/* routes/params.c: the lenient timestamps of docs/http-api.md §1.3, ints, comma
 * lists, runtimeStatus, and the continuation token's codec (header-safe,
 * defensive on input). */
#include "base/b64.h"
#include "base/rand.h"
#include "routes/handlers.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

static dg_arena *a;
static rt_request rq;

static void setup(void)
{
    a = dg_arena_create();
    rq = (rt_request){.arena = a};
}

static void teardown(void)
{
    dg_arena_destroy(a);
}

TestSuite(params, .init = setup, .fini = teardown);

/* A context whose only parameter is name=value (already decoded). */
static rt_ctx one(const char *name, const char *value)
{
    struct rt_param *p = dg_arena_alloc(a, sizeof *p);
    *p = (struct rt_param){name, value};
    return (rt_ctx){.rq = &rq, .query = p, .nquery = 1};
}

static const char *time_of(const char *value)
{
    rt_ctx c = one("t", value);
    dg_ticks t;
    enum rt_param_result r = rt_param_time(&c, "T", &t);
    if (r != RT_PARAM_OK)
        return r == RT_PARAM_BAD ? "invalid" : "absent";
    char iso[DG_ISO_LEN];
    dg_iso_format(t, iso);
    return dg_arena_strdup(a, iso);
}

Test(params, times_in_every_iso_form_become_utc)
{
    cr_assert_str_eq(time_of("2024-05-01T10:00:00Z"), "2024-05-01T10:00:00.0000000Z");
    cr_assert_str_eq(time_of("2020-01-01T00:00:00.000Z"), "2020-01-01T00:00:00.0000000Z", "JS toISOString()");
    cr_assert_str_eq(time_of("2024-05-01T10:00:00.1234567Z"), "2024-05-01T10:00:00.1234567Z");
    cr_assert_str_eq(time_of("2024-05-01T10:00:00.123456789Z"), "2024-05-01T10:00:00.1234567Z");
    cr_assert_str_eq(time_of("2024-05-01T12:00:00+02:00"), "2024-05-01T10:00:00.0000000Z");
    cr_assert_str_eq(time_of("2024-05-01T05:00:00-05:00"), "2024-05-01T10:00:00.0000000Z");
    cr_assert_str_eq(time_of("2024-05-01T12:00:00 02:00"), "2024-05-01T10:00:00.0000000Z",
                     "'+' became a space");
    cr_assert_str_eq(time_of("2024-05-01T12:00:00.5 02:00"), "2024-05-01T10:00:00.5000000Z");
    cr_assert_str_eq(time_of("2024-05-01T12:00:00+0200"), "2024-05-01T10:00:00.0000000Z");
    cr_assert_str_eq(time_of("2024-05-01T12:00:00+02"), "2024-05-01T10:00:00.0000000Z");
    cr_assert_str_eq(time_of("2024-05-01T10:00:00"), "2024-05-01T10:00:00.0000000Z", "no zone: UTC");
    cr_assert_str_eq(time_of("2024-05-01 10:00:00"), "2024-05-01T10:00:00.0000000Z");
    cr_assert_str_eq(time_of("2024-05-01T10:00"), "2024-05-01T10:00:00.0000000Z");
    cr_assert_str_eq(time_of("2024-05-01T12:00+02:00"), "2024-05-01T10:00:00.0000000Z");
    cr_assert_str_eq(time_of("2024-05-01"), "2024-05-01T00:00:00.0000000Z");
    cr_assert_str_eq(time_of("24-05-01"), "0024-05-01T00:00:00.0000000Z", "short years are left-padded");
    cr_assert_str_eq(time_of("999-12-31T23:59:59Z"), "0999-12-31T23:59:59.0000000Z");
}

Test(params, bad_times_are_invalid)
{
    cr_assert_str_eq(time_of(""), "absent", "an empty value is no value");
    const char *bad[] = {"yesterday",
                         "2024",
                         "2024-05",
                         "12345-01-01",
                         "2024-13-01",
                         "2024-02-30",
                         "2024-05-01T",
                         "2024-05-01T10",
                         "2024-05-01T25:00:00Z",
                         "2024-05-01T10:00:00Q",
                         "2024-05-01T10:00:00+2:00",
                         "2024-05-01T10:00:00Z trailing",
                         "-2024-05-01",
                         "2024-05-01T10:00:00.Z"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_str_eq(time_of(bad[i]), "invalid", "%s", bad[i]);
    char lng[200];
    memset(lng, '1', sizeof lng - 1);
    lng[sizeof lng - 1] = '\0';
    memcpy(lng, "2024-05-01T10:00:00.", 20);
    cr_assert_str_eq(time_of(lng), "invalid", "too long for the buffer");
    rt_ctx c = one("other", "2024-05-01");
    dg_ticks t;
    cr_assert_eq(rt_param_time(&c, "t", &t), RT_PARAM_ABSENT, "absent");
    c = one("t", "");
    cr_assert_eq(rt_param_time(&c, "t", &t), RT_PARAM_ABSENT, "empty is absent");
    c = one("t", "yesterday");
    cr_assert_eq(rt_param_time(&c, "t", &t), RT_PARAM_BAD, "not a time");
}

Test(params, ints)
{
    int v = 7;
    rt_ctx c = one("top", "42");
    cr_assert_eq(rt_param_int(&c, "TOP", &v), RT_PARAM_OK);
    cr_assert_eq(v, 42);
    c = one("top", "-3");
    cr_assert_eq(rt_param_int(&c, "top", &v), RT_PARAM_OK);
    cr_assert_eq(v, -3);
    c = one("top", "99999999999999999999");
    cr_assert_eq(rt_param_int(&c, "top", &v), RT_PARAM_OK, "a decimal integer past int is cut to it");
    cr_assert_eq(v, INT_MAX);
    c = one("top", "-2147483649");
    cr_assert_eq(rt_param_int(&c, "top", &v), RT_PARAM_OK);
    cr_assert_eq(v, INT_MIN);
    c = one("top", "");
    cr_assert_eq(rt_param_int(&c, "top", &v), RT_PARAM_ABSENT, "blank is absent");
    c = one("x", "1");
    cr_assert_eq(rt_param_int(&c, "top", &v), RT_PARAM_ABSENT);
    const char *bad[] = {"4x", "x", " 4", "4 ", "1.5", "0x10", "+2", "-", "1e3", "\xd9\xa3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        c = one("top", bad[i]);
        cr_assert_eq(rt_param_int(&c, "top", &v), RT_PARAM_BAD, "%s", bad[i]);
    }
}

/* timeout and the intervals: decimal seconds with an optional fraction. */
static int wait_answer(const char *timeout, const char *interval, struct rt_wait_spec *spec)
{
    static const struct rt_env env0;
    struct rt_param *p = dg_arena_alloc(a, 2 * sizeof *p);
    size_t n = 0;
    if (timeout)
        p[n++] = (struct rt_param){"timeout", timeout};
    if (interval)
        p[n++] = (struct rt_param){"pollingInterval", interval};
    rt_ctx c = {.env = &env0, .rq = &rq, .query = p, .nquery = n};
    rt_response rs = {0};
    return rt_wait_params(&c, &rs, "pollingInterval", false, spec) ? 0 : rs.status;
}

Test(params, wait_seconds_are_decimal_numbers)
{
    struct rt_wait_spec s;
    cr_assert_eq(wait_answer("16", "0.5", &s), 0);
    cr_assert_eq(s.timeout_ms, 16000);
    cr_assert_eq(s.interval_ms, 500);
    cr_assert_eq(wait_answer(".25", NULL, &s), 0);
    cr_assert_eq(s.timeout_ms, 250);
    cr_assert_eq(wait_answer("2.", "1", &s), 0);
    cr_assert_eq(s.timeout_ms, 2000);
    const char *bad[] = {"0x10", "1e1",      " 5", "5 ", "+5", "-5",   "inf",
                         "nan",  "infinity", "5s", ".",  "",   "1.2.3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(wait_answer(bad[i], NULL, &s), 400, "timeout=%s", bad[i]);
        cr_assert_eq(wait_answer("10", bad[i], &s), 400, "pollingInterval=%s", bad[i]);
    }
}

Test(params, lists_and_statuses)
{
    rt_ctx c = one("runtimeStatus", " Running ,,Completed,running,Bogus,3,Running,9, Pending");
    const char *const *v;
    cr_assert_eq(rt_param_list(&c, "runtimestatus", &v), 8);
    cr_assert_str_eq(v[0], "Running");
    cr_assert_str_eq(v[7], "Pending");
    size_t n;
    const char *bad;
    cr_assert_not(rt_param_statuses(&c, &v, &n, &bad));
    cr_assert_str_eq(bad, "running", "names are case-sensitive: the first item that is none is refused");
    cr_assert_eq(n, 0);
    c = one("runtimeStatus", " Running ,,Completed,Running,3, Pending");
    cr_assert(rt_param_statuses(&c, &v, &n, &bad));
    cr_assert_eq(n, 4, "known names once each, numbers as names");
    cr_assert_str_eq(v[0], "Running");
    cr_assert_str_eq(v[1], "Completed");
    cr_assert_str_eq(v[2], "Failed");
    cr_assert_str_eq(v[3], "Pending");
    c = one("runtimeStatus", "Compelted");
    cr_assert_not(rt_param_statuses(&c, &v, &n, &bad));
    cr_assert_str_eq(bad, "Compelted");
    c = one("runtimeStatus", "Failed,9");
    cr_assert_not(rt_param_statuses(&c, &v, &n, &bad), "9 is no status number");
    c = one("x", "y");
    cr_assert_eq(rt_param_list(&c, "runtimeStatus", &v), 0);
    cr_assert(rt_param_statuses(&c, &v, &n, &bad));
    cr_assert_eq(n, 0, "absent: no status condition");
    c = one("runtimeStatus", " , ");
    cr_assert(rt_param_statuses(&c, &v, &n, &bad));
    cr_assert_eq(n, 0, "blank: no status condition");
}

Test(params, token_round_trip_is_header_safe)
{
    const char *keys[][2] = {{"1!8!YWJj", "1!0!"}, {"p+/=x", ""}, {"a^0b^2c \xc3\xa9", "r k"}, {"x", NULL}};
    for (size_t i = 0; i < 4; i++) {
        const char *t = rt_token_encode(a, keys[i][0], keys[i][1]);
        cr_assert(*t);
        cr_assert_eq(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     strlen(t));
        const char *pk, *rk;
        cr_assert_eq(rt_token_decode(a, t, &pk, &rk), DG_OK);
        /* The first space splits: a space inside the first key would move into the second. */
        if (!strchr(keys[i][0], ' ')) {
            cr_assert_str_eq(pk, keys[i][0]);
            if (keys[i][1] && *keys[i][1])
                cr_assert_str_eq(rk, keys[i][1]);
            else
                cr_assert_null(rk);
        }
    }
    cr_assert_str_eq(rt_token_encode(a, NULL, "x"), "");
    cr_assert_str_eq(rt_token_encode(a, "", "x"), "");
}

Test(params, token_decoding_is_defensive)
{
    const char *pk, *rk;
    cr_assert_eq(rt_token_decode(a, NULL, &pk, &rk), DG_OK);
    cr_assert_null(pk);
    cr_assert_eq(rt_token_decode(a, "  ", &pk, &rk), DG_OK);
    cr_assert_null(pk);
    const char *t = dg_b64url_encode(a, "pk rk", 5);
    cr_assert_eq(rt_token_decode(a, dg_arena_printf(a, " %s ", t), &pk, &rk), DG_OK, "trimmed");
    cr_assert_str_eq(pk, "pk");
    const char *bad[] = {"null",
                         "bnVsbA==",
                         "%%%",
                         "a",
                         dg_b64url_encode(a, "nospace", 7),
                         dg_b64url_encode(a, " rk", 3),
                         dg_b64url_encode(a, "p\0k rk", 6),
                         dg_b64url_encode(a, "p\x7f rk", 5),
                         dg_b64url_encode(a, "pk r\xc2\x85", 6),
                         dg_b64url_encode(a, "\xc3\x28 x", 4)};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(rt_token_decode(a, bad[i], &pk, &rk), DG_EINVAL, "%zu: %s", i, bad[i]);
    /* Past the cap, whatever it holds. */
    char *big = dg_arena_alloc(a, RT_TOKEN_MAX + 2);
    memset(big, 'A', RT_TOKEN_MAX + 1);
    big[RT_TOKEN_MAX + 1] = '\0';
    cr_assert_eq(rt_token_decode(a, big, &pk, &rk), DG_EINVAL);
    big[RT_TOKEN_MAX - 1] = '\0'; /* 4095 A's: base64url of NUL bytes */
    cr_assert_eq(rt_token_decode(a, big, &pk, &rk), DG_EINVAL);
}

Test(params, token_decoding_survives_random_input)
{
    for (int i = 0; i < 2000; i++) {
        unsigned char r[64];
        dg_random_bytes(r, sizeof r);
        size_t n = r[0] % 60;
        char s[64];
        for (size_t k = 0; k < n; k++)
            s[k] = "ABCab01-_= \x01\xff"[r[k + 1] % 13];
        s[n] = '\0';
        const char *pk, *rk;
        dg_err rc = rt_token_decode(a, s, &pk, &rk);
        cr_assert(rc == DG_OK || rc == DG_EINVAL);
        if (rc == DG_OK && pk)
            cr_assert(*pk && !strchr(pk, ' '));
    }
}
