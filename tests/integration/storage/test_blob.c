/* storage/blob.c against a real Azurite. */
#include "storage/blob.h"
#include "tests/support/azurite_env.h"

#include <criterion/criterion.h>
#include <string.h>

static az_client *c;
static dg_arena *a;
static az_ctx x;
static const char *ct;

static void setup(void)
{
    c = test_azurite_client(NULL, NULL);
    a = dg_arena_create();
    az_ctx_init(&x, a);
    ct = test_unique_name(a, "c-");
    cr_assert_eq(az_container_create(c, &x, ct), DG_OK, "%ld %s %s", x.st.http, x.st.code, x.st.message);
}

static void teardown(void)
{
    az_container_delete(c, &x, ct);
    dg_arena_destroy(a);
    az_client_destroy(c);
}

TestSuite(blob, .init = setup, .fini = teardown, .timeout = 60);

Test(blob, container_twice)
{
    cr_assert_eq(az_container_create(c, &x, ct), DG_OK);
    cr_assert_eq(az_container_create(c, &x, "Bad_Name"), DG_EINVAL);
}

Test(blob, put_get_delete_binary_and_odd_names)
{
    static const char *const names[] = {"plain.bin", "dir/sub/a b+c%d.json.gz", "\xc3\xa9t\xc3\xa9/^x"};
    unsigned char data[3000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char) (i * 7);
    for (size_t k = 0; k < 3; k++) {
        cr_assert_eq(az_blob_put(c, &x, ct, names[k], data, sizeof data, "application/octet-stream", "gzip"),
                     DG_OK, "%s: %s %s", names[k], x.st.code, x.st.message);
        char *got;
        size_t n;
        cr_assert_eq(az_blob_get(c, &x, ct, names[k], &got, &n), DG_OK, "%s", names[k]);
        cr_assert_eq(n, sizeof data);
        cr_assert_eq(memcmp(got, data, n), 0);
    }
    cr_assert_eq(az_blob_put(c, &x, ct, "empty", "", 0, NULL, NULL), DG_OK);
    char *got;
    size_t n;
    cr_assert_eq(az_blob_get(c, &x, ct, "empty", &got, &n), DG_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(az_blob_delete(c, &x, ct, names[1]), DG_OK);
    cr_assert_eq(az_blob_get(c, &x, ct, names[1], &got, &n), DG_ENOTFOUND);
    cr_assert_str_eq(x.st.code, "BlobNotFound");
    cr_assert_eq(az_blob_delete(c, &x, ct, names[1]), DG_ENOTFOUND);
}

Test(blob, list_by_prefix_with_paging)
{
    for (int i = 0; i < 7; i++) {
        cr_assert_eq(az_blob_put(c, &x, ct, dg_arena_printf(a, "inst1/m%d", i), "x", 1, NULL, NULL), DG_OK);
    }
    cr_assert_eq(az_blob_put(c, &x, ct, "inst10/other", "y", 1, NULL, NULL), DG_OK);
    cr_assert_eq(az_blob_put(c, &x, ct, "zzz", "z", 1, NULL, NULL), DG_OK);

    const char *marker = NULL;
    int total = 0, pages = 0;
    do {
        struct az_blob_item *items;
        size_t n;
        cr_assert_eq(az_blob_list(c, &x, ct, "inst1/", marker, 3, &items, &n, &marker), DG_OK, "%s",
                     x.st.message);
        for (size_t i = 0; i < n; i++) {
            cr_assert_eq(strncmp(items[i].name, "inst1/", 6), 0, "%s", items[i].name);
            cr_assert_eq(items[i].size, 1);
        }
        total += (int) n;
        pages++;
    } while (marker);
    cr_assert_eq(total, 7);
    cr_assert_eq(pages, 3);

    struct az_blob_item *items;
    size_t n;
    cr_assert_eq(az_blob_list(c, &x, ct, "inst1", NULL, 0, &items, &n, &marker), DG_OK);
    cr_assert_eq(n, 8, "a prefix without '/' also matches inst10/");
    cr_assert_null(marker);
}

Test(blob, missing_container)
{
    cr_assert_eq(az_blob_put(c, &x, test_unique_name(a, "none-"), "b", "x", 1, NULL, NULL), DG_ENOTFOUND);
    cr_assert_str_eq(x.st.code, "ContainerNotFound");
}

Test(blob, wrong_key)
{
    az_client *bad =
        test_azurite_client("AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
                            "KBHBeksoGMGw==",
                            NULL);
    char *got;
    size_t n;
    cr_assert_eq(az_blob_get(bad, &x, ct, "x", &got, &n), DG_EAUTH);
    cr_assert_eq(x.st.http, 403);
    az_client_destroy(bad);
}
