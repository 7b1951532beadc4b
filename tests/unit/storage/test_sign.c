/* storage/sign.c: strings-to-sign and signatures for fixed inputs. The expected
 * signatures were computed independently with `openssl dgst -sha256 -mac HMAC`. */
#include "base/arena.h"
#include "base/b64.h"
#include "storage/account.h"
#include "storage/sign.h"

#include <criterion/criterion.h>
#include <string.h>

static dg_arena *a;
static unsigned char key[64];
static size_t keylen;

static void setup(void)
{
    a = dg_arena_create();
    cr_assert_eq(dg_b64_decode_to(AZ_DEV_KEY, strlen(AZ_DEV_KEY), key, sizeof key, &keylen), DG_OK);
}

static void teardown(void)
{
    dg_arena_destroy(a);
}

TestSuite(sign, .init = setup, .fini = teardown);

Test(sign, dev_key_decodes_to_64_bytes)
{
    cr_assert_eq(keylen, 64);
    cr_assert_eq(key[0], 0x11);
}

Test(sign, table_canonical_resource_path_style_repeats_account)
{
    cr_assert_str_eq(az_canon_table(a, "devstoreaccount1", "/devstoreaccount1/Tables", NULL, 0),
                     "/devstoreaccount1/devstoreaccount1/Tables");
}

Test(sign, table_canonical_resource_keeps_only_comp)
{
    struct az_kv q[] = {{"$filter", "x eq 1"}, {"comp", "acl"}, {"$top", "5"}};
    cr_assert_str_eq(az_canon_table(a, "acct", "/t()", q, 3), "/acct/t()?comp=acl");
}

Test(sign, table_string_to_sign_and_signature)
{
    const char *canon = az_canon_table(a, "devstoreaccount1", "/devstoreaccount1/Tables", NULL, 0);
    const char *sts = az_sts_table(a, "GET", NULL, NULL, "Tue, 01 Dec 2026 07:28:30 GMT", canon);
    cr_assert_str_eq(sts,
                     "GET\n\n\nTue, 01 Dec 2026 07:28:30 GMT\n/devstoreaccount1/devstoreaccount1/Tables");
    cr_assert_str_eq(az_sign(a, key, keylen, sts), "y10ecI4iMwZZm24xTyOY+UkcR7t5Wvgm/fzhGWwzzDM=");
}

Test(sign, table_lite_string_to_sign)
{
    cr_assert_str_eq(az_sts_table_lite(a, "Tue, 01 Dec 2026 07:28:30 GMT", "/acct/t()"),
                     "Tue, 01 Dec 2026 07:28:30 GMT\n/acct/t()");
}

Test(sign, blob_string_to_sign_and_signature)
{
    struct az_kv h[] = {
        {"x-ms-version", "2021-08-06"},
        {"Content-Type", "application/octet-stream"},
        {"X-MS-Date", "Tue, 01 Dec 2026 07:28:30 GMT"},
        {"x-ms-blob-type", "  BlockBlob "},
        {"Content-Length", "11"},
        {"Accept", "ignored"},
    };
    const char *canon = az_canon_blobqueue(a, "devstoreaccount1", "/devstoreaccount1/c1/a%20b.txt", NULL, 0);
    const char *sts = az_sts_blobqueue(a, "PUT", h, 6, canon);
    cr_assert_str_eq(sts, "PUT\n\n\n11\n\napplication/octet-stream\n\n\n\n\n\n\n"
                          "x-ms-blob-type:BlockBlob\nx-ms-date:Tue, 01 Dec 2026 07:28:30 GMT\n"
                          "x-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/c1/a%20b.txt");
    cr_assert_str_eq(az_sign(a, key, keylen, sts), "P29vfh8ph7itPxHKMaM+yDtQzX/YV8ejtnpd3uk/djQ=");
}

Test(sign, blobqueue_zero_content_length_is_empty)
{
    struct az_kv h[] = {{"Content-Length", "0"}, {"x-ms-date", "D"}};
    const char *sts = az_sts_blobqueue(a, "DELETE", h, 2, "/a/a/q");
    cr_assert_str_eq(sts, "DELETE\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:D\n/a/a/q");
}

Test(sign, blobqueue_query_sorted_lowercased_and_grouped)
{
    struct az_kv q[] = {{"restype", "container"},
                        {"COMP", "list"},
                        {"prefix", "a b"},
                        {"include", "snapshots"},
                        {"include", "metadata"}};
    cr_assert_str_eq(az_canon_blobqueue(a, "acct", "/c", q, 5),
                     "/acct/c\ncomp:list\ninclude:metadata,snapshots\nprefix:a b\nrestype:container");
}
