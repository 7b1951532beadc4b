/* base/log.c: secrets never survive redaction; text and JSON lines. */
#include "base/log.h"

#include "base/loop.h"
#include "base/trace.h"

#include <cjson/cJSON.h>
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

/* Runs fn with stderr sent to a file and returns what it wrote (malloc'd). */
static char *captured(void (*fn)(void))
{
    char path[] = "/tmp/dg-log-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_not_null(freopen(path, "w", stderr));
    fn();
    fflush(stderr);
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    unlink(path);
    buf[n] = '\0';
    return buf;
}

static void access_line(void)
{
    const struct dg_log_field f[] = {
        DG_LOGF_S("method", "GET"),
        DG_LOGF_S("target", "/x?code=SECRET&a=\"q\"\x01\\"),
        DG_LOGF_S("auth", "SharedKey acct:SIGNATURE"),
        DG_LOGF_I("status", 200),
        DG_LOGF_N("duration_ms", 1.25),
        DG_LOGF_S("none", NULL),
    };
    dg_log_fields(DG_LOG_INFO, "id-1", NULL, "request", f, sizeof f / sizeof *f);
    dg_log(DG_LOG_WARN, NULL, "plain %s", "line\n\"two\"");
}

Test(log, json_lines_are_objects_with_every_field_redacted)
{
    dg_log_set_format(DG_LOG_JSON);
    char *out = captured(access_line);
    dg_log_set_format(DG_LOG_TEXT);
    char *nl = strchr(out, '\n');
    cr_assert_not_null(nl, "%s", out);
    *nl = '\0';
    cr_assert_null(strstr(out, "SECRET"), "%s", out);
    cr_assert_null(strstr(out, "SIGNATURE"), "%s", out);
    cJSON *j = cJSON_Parse(out);
    cr_assert_not_null(j, "not JSON: %s", out);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "level")->valuestring, "info");
    cr_assert_str_eq(cJSON_GetObjectItem(j, "request_id")->valuestring, "id-1");
    cr_assert_str_eq(cJSON_GetObjectItem(j, "msg")->valuestring, "request");
    cr_assert_str_eq(cJSON_GetObjectItem(j, "method")->valuestring, "GET");
    cr_assert_str_eq(cJSON_GetObjectItem(j, "target")->valuestring, "/x?code=REDACTED&a=\"q\"\\x01\\\\");
    cr_assert_str_eq(cJSON_GetObjectItem(j, "auth")->valuestring, "SharedKey REDACTED");
    cr_assert_eq(cJSON_GetObjectItem(j, "status")->valuedouble, 200);
    cr_assert_float_eq(cJSON_GetObjectItem(j, "duration_ms")->valuedouble, 1.25, 1e-9);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "none")));
    const char *t = cJSON_GetObjectItem(j, "time")->valuestring;
    cr_assert_eq(strlen(t), 24, "%s", t); /* 2026-12-08T01:50:33.642Z */
    cJSON_Delete(j);
    char *second = nl + 1;
    nl = strchr(second, '\n');
    cr_assert_not_null(nl);
    *nl = '\0';
    j = cJSON_Parse(second);
    cr_assert_not_null(j, "not JSON: %s", second);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "request_id")));
    cr_assert_str_eq(cJSON_GetObjectItem(j, "msg")->valuestring, "plain line\\x0a\"two\"");
    cJSON_Delete(j);
    free(out);
}

Test(log, text_fields_are_key_value_quoted_when_needed)
{
    char *out = captured(access_line);
    cr_assert_not_null(
        strstr(out, "info  [id-1] request method=GET target=\"/x?code=REDACTED&a=\\\"q\\\"\\x01\\\\\" "
                    "auth=\"SharedKey REDACTED\" status=200 duration_ms=1.250 none=-\n"),
        "%s", out);
    free(out);
}

static void long_line(void)
{
    static char big[20000];
    memset(big, '"', sizeof big - 1);
    const struct dg_log_field f[] = {DG_LOGF_S("a", big), DG_LOGF_S("b", big), DG_LOGF_I("c", 1)};
    dg_log_fields(DG_LOG_INFO, "id", NULL, "long", f, 3);
}

Test(log, a_json_line_cut_at_the_cap_is_still_an_object)
{
    dg_log_set_format(DG_LOG_JSON);
    char *out = captured(long_line);
    dg_log_set_format(DG_LOG_TEXT);
    size_t n = strlen(out);
    cr_assert_gt(n, 1000);
    cr_assert_eq(out[n - 1], '\n');
    out[n - 1] = '\0';
    cJSON *j = cJSON_Parse(out);
    cr_assert_not_null(j, "not JSON (%zu bytes)", n);
    cJSON_Delete(j);
    free(out);
}

Test(log, formats_parse)
{
    cr_assert_eq(dg_log_format_parse("json"), DG_LOG_JSON);
    cr_assert_eq(dg_log_format_parse("TEXT"), DG_LOG_TEXT);
    cr_assert_eq(dg_log_format_parse("xml"), -1);
}

static void in_request(void *arg)
{
    (void) arg;
    static struct dg_trace t = {.id = "req-in-tree"};
    dg_co_set_trace(dg_co_self(), &t);
    DG_WARN(NULL, "a line given no id");
    DG_WARN("own-id", "a line given its own");
}

static void tree_lines(void)
{
    dg_co_run(in_request, NULL);
}

Test(log, a_line_of_a_requests_coroutines_carries_its_id)
{
    char *out = captured(tree_lines);
    cr_assert_not_null(strstr(out, "warn  [req-in-tree] a line given no id\n"), "%s", out);
    cr_assert_not_null(strstr(out, "warn  [own-id] a line given its own\n"), "%s", out);
    free(out);
}
