/* base/log.c: secrets never survive redaction. */
#include "base/log.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Test(log, redacts_query_secrets)
{
    dg_arena *a = dg_arena_create();
    cr_assert_str_eq(dg_redact(a, "http://h/x?a=1&code=abc%3D%3D&b=2"), "http://h/x?a=1&code=REDACTED&b=2");
    cr_assert_str_eq(dg_redact(a, "https://a.blob/c?sv=2020&sig=XyZ%2B%3D&se=1"),
                     "https://a.blob/c?sv=2020&sig=REDACTED&se=1");
    cr_assert_str_eq(dg_redact(a, "/x?CODE=k"), "/x?CODE=REDACTED");
    dg_arena_destroy(a);
}

Test(log, redacts_the_code_the_router_reads_whatever_its_spelling)
{
    dg_arena *a = dg_arena_create();
    const char *want = "/runtime/webhooks/durabletask/instances/x?%63ode=REDACTED&a=1";
    cr_assert_str_eq(dg_redact_target(a, "/runtime/webhooks/durabletask/instances/x?%63ode=KEY&a=1"), want);
    cr_assert_str_eq(dg_redact(a, "/runtime/webhooks/durabletask/instances/x?%63ode=KEY&a=1"), want,
                     "dg_redact takes a target the same way");
    cr_assert_str_eq(dg_redact_target(a, "/x?%43%4F%44%45=KEY"), "/x?%43%4F%44%45=REDACTED");
    cr_assert_str_eq(dg_redact_target(a, "/x?c%6Fde=KEY"), "/x?c%6Fde=REDACTED");
    cr_assert_str_eq(dg_redact_target(a, "/x?CoDe=KEY"), "/x?CoDe=REDACTED");
    cr_assert_str_eq(dg_redact_target(a, "/x?%20code%20=KEY"), "/x?%20code%20=REDACTED");
    cr_assert_str_eq(dg_redact_target(a, "/x?code%00x=KEY"), "/x?code%00x=REDACTED");
    cr_assert_str_eq(dg_redact_target(a, "/x?Sig=S&%73ig=T"), "/x?Sig=REDACTED&%73ig=REDACTED");
    dg_arena_destroy(a);
}

Test(log, redacts_a_code_up_to_the_next_ampersand)
{
    dg_arena *a = dg_arena_create();
    cr_assert_str_eq(dg_redact_target(a, "/x?code=KE;Y&b=2"), "/x?code=REDACTED&b=2",
                     "';' is part of the key");
    cr_assert_str_eq(dg_redact(a, "/x?code=KE;Y"), "/x?code=REDACTED");
    cr_assert_str_eq(dg_redact_target(a, "/x?code=K E Y#frag"), "/x?code=REDACTED");
    cr_assert_str_eq(dg_redact_target(a, "/x?a=1&code=&code=K2&&"), "/x?a=1&code=REDACTED&code=REDACTED&&");
    cr_assert_str_eq(dg_redact_target(a, "/x?codex=1&xcode=2&code"), "/x?codex=1&xcode=2&code",
                     "other names, and a code without a value");
    cr_assert_str_eq(dg_redact_target(a, "/x/code=KEY"), "/x/code=KEY", "no query, nothing to redact");
    cr_assert_str_eq(dg_redact_target(a, "https://acct.blob.core.windows.net/c/b?sv=1&sig=S%2B;x&se=2"),
                     "https://acct.blob.core.windows.net/c/b?sv=1&sig=REDACTED&se=2");
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
    /* Redacting may grow the text past twice its length: nothing is cut. */
    char many[5 * 40 + 1] = "", want[13 * 40 + 1] = "";
    for (int i = 0; i < 40; i++) {
        memcpy(many + 5 * i, "sig=;", 6);
        memcpy(want + 13 * i, "sig=REDACTED;", 14);
    }
    cr_assert_str_eq(dg_redact(a, many), want);
    dg_arena_destroy(a);
}

#define ESC(lit) esc(lit, sizeof(lit) - 1)

static const char *esc(const char *s, size_t n)
{
    static char out[256];
    dg_log_escape(out, sizeof out, s, n);
    return out;
}

Test(log, escapes_control_and_non_utf8_bytes)
{
    cr_assert_str_eq(ESC("plain /x?a=1 \xc3\xa9"), "plain /x?a=1 \xc3\xa9", "UTF-8 stays");
    cr_assert_str_eq(ESC("a\x1b[31mb"), "a\\x1b[31mb");
    cr_assert_str_eq(ESC("a\rb\nc"), "a\\x0db\\x0ac");
    cr_assert_str_eq(ESC("\x01\x7f\x00"), "\\x01\\x7f\\x00");
    cr_assert_str_eq(ESC("\xff\xc0\x80\xed\xa0\x80"), "\\xff\\xc0\\x80\\xed\\xa0\\x80",
                     "invalid, overlong, surrogate");
    cr_assert_str_eq(ESC("\xc3"), "\\xc3", "a cut sequence");
    cr_assert_str_eq(ESC("back\\slash"), "back\\\\slash",
                     "a backslash is doubled, so no text fakes an escape");
    char small[6];
    cr_assert_eq(dg_log_escape(small, sizeof small, "ab\x1b", 3), 2,
                 "an escape that does not fit is left out");
    cr_assert_str_eq(small, "ab");
}

Test(log, a_line_carries_no_raw_control_byte)
{
    char path[] = "/tmp/dg-log-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_not_null(freopen(path, "w", stderr));
    dg_log(DG_LOG_ERROR, "r\n1", "GET %s -> %d", "/x\x1b[2J\r\x01\x7f\xff?code=REDACTED", 401);
    fflush(stderr);
    FILE *f = fopen(path, "rb");
    char line[512];
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    unlink(path);
    line[n] = '\0';
    cr_assert_not_null(strstr(line, "[r\\x0a1] GET /x\\x1b[2J\\x0d\\x01\\x7f\\xff?code=REDACTED -> 401\n"),
                       "%s", line);
    for (size_t i = 0; i + 1 < n; i++)
        cr_assert((unsigned char) line[i] >= 0x20 && line[i] != 0x7F, "raw byte %#x at %zu", line[i], i);
    cr_assert_eq(line[n - 1], '\n');
}

Test(log, levels_parse)
{
    cr_assert_eq(dg_log_level_parse("DEBUG"), DG_LOG_DEBUG);
    cr_assert_eq(dg_log_level_parse("error"), DG_LOG_ERROR);
    cr_assert_eq(dg_log_level_parse("loud"), -1);
}
