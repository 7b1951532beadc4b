/* auth/keys.c: scopes, rotation, 401 against 403, bad files. */
#include "auth/keys.h"

#include <criterion/criterion.h>
#include <string.h>

static const char *file =
    "{\"masterKey\":\"master-key-0123456789\","
    "\"systemKeys\":{\"DurableTask_Extension\":[\"ext-old-0123456789\",\"ext-new-0123456789\"],"
    "\"other_extension\":\"other-key-0123456789\"},"
    "\"readOnlyKeys\":[\"dashboard-0123456789\"]}";

static enum auth_result check(auth_keys *k, const char *key, enum auth_scope s)
{
    return auth_check(k, key, key ? strlen(key) : 0, s);
}

Test(auth, scopes)
{
    char err[128];
    auth_keys *k = auth_keys_parse(file, strlen(file), err, sizeof err);
    cr_assert_not_null(k, "%s", err);
    cr_assert_eq(auth_keys_count(k), 5);
    cr_assert_eq(check(k, "master-key-0123456789", AUTH_WRITE), AUTH_OK);
    cr_assert_eq(check(k, "ext-old-0123456789", AUTH_WRITE), AUTH_OK, "both values of a rotated key pass");
    cr_assert_eq(check(k, "ext-new-0123456789", AUTH_READ), AUTH_OK);
    cr_assert_eq(check(k, "dashboard-0123456789", AUTH_READ), AUTH_OK);
    cr_assert_eq(check(k, "dashboard-0123456789", AUTH_WRITE), AUTH_FORBIDDEN,
                 "read-only key on a write: 403");
    cr_assert_eq(check(k, "other-key-0123456789", AUTH_READ), AUTH_FORBIDDEN, "another extension's key: 403");
    cr_assert_eq(check(k, "unknown-key-0123456789", AUTH_READ), AUTH_UNAUTHORIZED);
    cr_assert_eq(check(k, "master-key-012345678", AUTH_READ), AUTH_UNAUTHORIZED, "a prefix is not the key");
    cr_assert_eq(check(k, NULL, AUTH_READ), AUTH_UNAUTHORIZED);
    cr_assert_eq(check(k, "", AUTH_READ), AUTH_UNAUTHORIZED);
    auth_keys_destroy(k);
}

Test(auth, bad_files_never_echo_keys)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{}",
        "{\"masterKey\":\"short\"}",
        "{\"masterKey\":42}",
        "{\"systemKeys\":[\"x\"]}",
        "{\"masterKey\":\"master-key-0123456789\",\"bogus\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char err[128] = "";
        auth_keys *k = auth_keys_parse(bad[i], strlen(bad[i]), err, sizeof err);
        cr_expect_null(k, "accepted %s", bad[i]);
        cr_expect_neq(err[0], '\0');
        cr_expect_null(strstr(err, "master-key"), "%s", err);
        auth_keys_destroy(k);
    }
    char err[128];
    cr_assert_null(auth_keys_load("/nonexistent/keys.json", err, sizeof err));
    cr_assert_str_eq(err, "key file: cannot be opened");
}
