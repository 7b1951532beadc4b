/* base/b64.c: RFC 4648 vectors, padding, rejection. */
#include "base/b64.h"

#include <criterion/criterion.h>
#include <string.h>

Test(b64, rfc4648_vectors)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    dg_arena *a = dg_arena_create();
    for (int i = 0; i < 7; i++) {
        cr_assert_str_eq(dg_b64_encode(a, plain[i], strlen(plain[i])), enc[i]);
        unsigned char *out;
        size_t n;
        cr_assert_eq(dg_b64_decode(a, enc[i], strlen(enc[i]), &out, &n), DG_OK);
        cr_assert_eq(n, strlen(plain[i]), "length of %s", enc[i]);
        cr_assert_eq(memcmp(out, plain[i], n), 0);
    }
    dg_arena_destroy(a);
}

Test(b64, binary_with_nul)
{
    dg_arena *a = dg_arena_create();
    unsigned char in[] = {0, 255, 0, 1, 2};
    char *e = dg_b64_encode(a, in, 5);
    unsigned char *out;
    size_t n;
    cr_assert_eq(dg_b64_decode(a, e, strlen(e), &out, &n), DG_OK);
    cr_assert_eq(n, 5);
    cr_assert_eq(memcmp(in, out, 5), 0);
    dg_arena_destroy(a);
}

Test(b64, rejects_bad_input)
{
    unsigned char out[16];
    size_t n;
    cr_assert_eq(dg_b64_decode_to("Zm9", 3, out, sizeof out, &n), DG_EINVAL);
    cr_assert_eq(dg_b64_decode_to("Zm9v!!==", 8, out, sizeof out, &n), DG_EINVAL);
    cr_assert_eq(dg_b64_decode_to("Zm 9v", 5, out, sizeof out, &n), DG_EINVAL);
    cr_assert_eq(dg_b64_decode_to("Zm9vYmFyZm9vYmFyZm9vYmFy", 24, out, 4, &n), DG_ETOOBIG);
}

Test(b64, url_variant_round_trips_without_padding)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "\xfb\xff\xbf"};
    static const char *const enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "-_-_"};
    dg_arena *a = dg_arena_create();
    for (int i = 0; i < 7; i++) {
        cr_assert_str_eq(dg_b64url_encode(a, plain[i], strlen(plain[i])), enc[i]);
        unsigned char *out;
        size_t n;
        cr_assert_eq(dg_b64url_decode(a, enc[i], strlen(enc[i]), &out, &n), DG_OK, "%s", enc[i]);
        cr_assert_eq(n, strlen(plain[i]), "length of %s", enc[i]);
        cr_assert_eq(memcmp(out, plain[i], n), 0);
        cr_assert_eq(out[n], '\0');
    }
    unsigned char *out;
    size_t n;
    cr_assert_eq(dg_b64url_decode(a, "Zg==", 4, &out, &n), DG_OK, "padding is accepted");
    cr_assert_eq(n, 1);
    cr_assert_eq(dg_b64url_decode(a, "Zm9vY", 5, &out, &n), DG_EINVAL, "a length of 4k+1 is not base64");
    cr_assert_eq(dg_b64url_decode(a, "Zm+v", 4, &out, &n), DG_EINVAL, "'+' is the standard alphabet");
    cr_assert_eq(dg_b64url_decode(a, "Zm/v", 4, &out, &n), DG_EINVAL);
    cr_assert_eq(dg_b64url_decode(a, "Zm9v=", 5, &out, &n), DG_EINVAL);
    cr_assert_eq(dg_b64url_decode(a, "Z===", 4, &out, &n), DG_EINVAL);
    cr_assert_eq(dg_b64url_decode(a, "Zm 9", 4, &out, &n), DG_EINVAL);
    dg_arena_destroy(a);
}
