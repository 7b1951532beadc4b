/* base/json.c: a stored or sent text is JSON only when the whole of it is one value. */
#include "base/json.h"

#include <criterion/criterion.h>
#include <string.h>

static bool whole(const char *s)
{
    cJSON *j = dg_json_parse(s, strlen(s));
    cJSON_Delete(j);
    return j != NULL;
}

Test(json, the_whole_text_is_one_value)
{
    cr_assert(whole("null"));
    cr_assert(whole("42"));
    cr_assert(whole(" true \r\n\t"));
    cr_assert(whole("\"s\""));
    cr_assert(whole("{\"a\":[1,2]}"));
    cr_assert(whole("-0.5e3"));
}

Test(json, trailing_text_is_not_json)
{
    cr_assert_not(whole("null pointer exception"));
    cr_assert_not(whole("42 is the answer"));
    cr_assert_not(whole("true story"));
    cr_assert_not(whole("{\"a\":1} {\"b\":2}"));
    cr_assert_not(whole("[1]]"));
    cr_assert_not(whole("1\x01"));
}

Test(json, odd_bytes_around_or_inside_are_not_json)
{
    cr_assert_not(whole(""));
    cr_assert_not(whole("   "));
    cr_assert_not(whole("\x01 42"), "cJSON skips any control byte; Newtonsoft does not");
    cr_assert_not(whole("\xEF\xBB\xBF"
                        "42"),
                  "no byte-order mark");
    cr_assert_null(dg_json_parse("\"a\0b\"", 5), "a NUL byte");
    cr_assert_null(dg_json_parse("42\0", 3), "a NUL after the value");
    cJSON *j = dg_json_parse("42 junk", 2); /* only the given length counts */
    cr_assert(cJSON_IsNumber(j));
    cJSON_Delete(j);
}
