/* base/log.c: secrets never survive redaction. */
#include "base/log.h"

#include <criterion/criterion.h>
#include <string.h>

Test(log, redacts_query_secrets)
{
    dg_arena *a = dg_arena_create();
    cr_assert_str_eq(dg_redact(a, "http://h/x?a=1&code=abc%3D%3D&b=2"), "http://h/x?a=1&code=REDACTED&b=2");
    cr_assert_str_eq(dg_redact(a, "https://a.blob/c?sv=2020&sig=XyZ%2B%3D&se=1"),
                     "https://a.blob/c?sv=2020&sig=REDACTED&se=1");
    cr_assert_str_eq(dg_redact(a, "/x?CODE=k"), "/x?CODE=REDACTED");
    dg_arena_destroy(a);
}

Test(log, redacts_connection_strings_and_auth_headers)
{
    dg_arena *a = dg_arena_create();
    cr_assert_str_eq(dg_redact(a, "AccountName=n;AccountKey=abc/d+e==;EndpointSuffix=s"),
                     "AccountName=n;AccountKey=REDACTED;EndpointSuffix=s");
    cr_assert_str_eq(dg_redact(a, "Authorization: SharedKey acct:SiGnAtUrE="),
                     "Authorization: SharedKey REDACTED");
    cr_assert_str_eq(dg_redact(a, "SharedAccessSignature=sv=1&sig=x"), "SharedAccessSignature=REDACTED");
    cr_assert_str_eq(dg_redact(a, "nothing secret here: a=b"), "nothing secret here: a=b");
    dg_arena_destroy(a);
}

Test(log, levels_parse)
{
    cr_assert_eq(dg_log_level_parse("DEBUG"), DG_LOG_DEBUG);
    cr_assert_eq(dg_log_level_parse("error"), DG_LOG_ERROR);
    cr_assert_eq(dg_log_level_parse("loud"), -1);
}
