/* routes/status.c: how stored text becomes input, output and customStatus
 * (docs/http-api.md §5.1): the whole text must be one JSON value, else it is a string. */
#include "routes/handlers.h"

#include <criterion/criterion.h>
#include <string.h>

static char *shown(const char *stored)
{
    cJSON *v = rt_stored_value(stored);
    char *txt = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    return txt;
}

static void assert_shown(const char *stored, const char *want)
{
    char *got = shown(stored);
    cr_assert_str_eq(got, want, "stored %s", stored ? stored : "(none)");
    cJSON_free(got);
}

Test(stored_value, json_values_as_they_are)
{
    assert_shown(NULL, "null");
    assert_shown("null", "null");
    assert_shown("42", "42");
    assert_shown(" true ", "true");
    assert_shown("{\"a\":1}", "{\"a\":1}");
    assert_shown("\"text\"", "\"text\"");
    assert_shown("  ", "\"\"");
}

Test(stored_value, text_that_only_starts_with_json_is_a_string)
{
    assert_shown("null pointer exception", "\"null pointer exception\"");
    assert_shown("42 is the answer", "\"42 is the answer\"");
    assert_shown("true story", "\"true story\"");
    assert_shown("{\"a\":1} and more", "\"{\\\"a\\\":1} and more\"");
    assert_shown("[1,2]x", "\"[1,2]x\"");
}

Test(stored_value, the_status_object_uses_it_for_every_stored_column)
{
    struct hub_instance in = {.id = "i",
                              .name = "n",
                              .runtime_status = "Completed",
                              .input = "true story",
                              .output = "null pointer exception",
                              .custom_status = "42 is the answer"};
    cJSON *o = rt_status_object(&in, true);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o, "input")), "true story");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o, "output")), "null pointer exception");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o, "customStatus")), "42 is the answer");
    cJSON_Delete(o);
}
