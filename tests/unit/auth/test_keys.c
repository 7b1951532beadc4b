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

Test(auth, replace_adds_and_removes_keys_and_a_bad_text_keeps_the_old)
{
    char err[128];
    const char *one = "{\"masterKey\":[\"old-master-0123456789\"]}";
    const char *two = "{\"masterKey\":[\"new-master-0123456789\"],\"readOnlyKeys\":\"dash-new-0123456789\"}";
    auth_keys *k = auth_keys_parse(one, strlen(one), err, sizeof err);
    cr_assert_not_null(k, "%s", err);
    cr_assert_eq(auth_keys_replace(k, two, strlen(two), err, sizeof err), 0, "%s", err);
    cr_assert_eq(auth_keys_count(k), 2);
    cr_assert_eq(check(k, "old-master-0123456789", AUTH_READ), AUTH_UNAUTHORIZED, "a removed key fails");
    cr_assert_eq(check(k, "new-master-0123456789", AUTH_WRITE), AUTH_OK, "an added key passes");
    cr_assert_eq(check(k, "dash-new-0123456789", AUTH_WRITE), AUTH_FORBIDDEN);
    static const char *const bad[] = {"not json", "{}", "{\"masterKey\":\"short\"}", "{\"masterKey\":[]}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        cr_expect_eq(auth_keys_replace(k, bad[i], strlen(bad[i]), err, sizeof err), -1, "accepted %s",
                     bad[i]);
        cr_expect_neq(err[0], '\0');
        cr_expect_eq(check(k, "new-master-0123456789", AUTH_WRITE), AUTH_OK, "the keys in force stay");
        cr_expect_eq(auth_keys_count(k), 2);
    }
    err[0] = '\0';
    cr_assert_eq(auth_keys_reload(k, "/nonexistent/keys.json", err, sizeof err), -1);
    cr_assert_str_eq(err, "key file: cannot be opened");
    cr_assert_eq(check(k, "new-master-0123456789", AUTH_WRITE), AUTH_OK);
    auth_keys_destroy(k);
}

Test(auth, an_acquired_set_outlives_its_replacement)
{
    char err[128];
    const char *one = "{\"masterKey\":\"old-master-0123456789\"}";
    const char *two = "{\"masterKey\":\"new-master-0123456789\"}";
    auth_keys *k = auth_keys_parse(one, strlen(one), err, sizeof err);
    const auth_keyset *held = auth_keys_acquire(k);
    cr_assert_eq(auth_keys_replace(k, two, strlen(two), err, sizeof err), 0);
    /* The request that took the old set still checks against it (ASan would
     * report a use after free here if the replacement freed it). */
    cr_assert_eq(auth_keyset_check(held, "old-master-0123456789", 21, AUTH_WRITE), AUTH_OK);
    cr_assert_eq(check(k, "old-master-0123456789", AUTH_WRITE), AUTH_UNAUTHORIZED);
    auth_keyset_release(held);
    auth_keys_destroy(k);
}

/* Checks on four threads while the main thread swaps sets as fast as it can:
 * every check sees one whole set, the old or the new, never a freed one. */
#include <pthread.h>
#include <stdatomic.h>

static _Atomic int stop_checks;
static _Atomic long bad_results;

static void *checker(void *arg)
{
    auth_keys *k = arg;
    long n = 0;
    while (!atomic_load(&stop_checks) || n < 1000) {
        /* "both" is in every set; "a" and "b" each in one of the two. */
        enum auth_result both = check(k, "both-keys-0123456789", AUTH_WRITE);
        enum auth_result a = check(k, "only-in-a-0123456789", AUTH_READ);
        if (both != AUTH_OK || (a != AUTH_OK && a != AUTH_UNAUTHORIZED))
            atomic_fetch_add(&bad_results, 1);
        n++;
    }
    return NULL;
}

Test(auth, replace_is_safe_against_checks_on_other_threads)
{
    char err[128];
    const char *a = "{\"masterKey\":[\"both-keys-0123456789\",\"only-in-a-0123456789\"]}";
    const char *b = "{\"masterKey\":[\"both-keys-0123456789\",\"only-in-b-0123456789\"]}";
    auth_keys *k = auth_keys_parse(a, strlen(a), err, sizeof err);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, checker, k);
    for (int i = 0; i < 20000; i++)
        cr_assert_eq(auth_keys_replace(k, i % 2 ? a : b, strlen(i % 2 ? a : b), err, sizeof err), 0);
    atomic_store(&stop_checks, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(atomic_load(&bad_results), 0);
    auth_keys_destroy(k);
}
