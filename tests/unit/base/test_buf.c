/* base/buf.c and base/arena.c: caps hold, a failed append poisons the buffer. */
#include "base/arena.h"
#include "base/buf.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

Test(buf, grows_and_terminates)
{
    dg_buf b;
    dg_buf_init(&b, 100000);
    cr_assert_str_eq(dg_buf_str(&b), "");
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(dg_buf_addf(&b, "%03d", i % 1000), DG_OK);
    cr_assert_eq(b.len, 3000);
    cr_assert_eq(strncmp(b.d, "000001002", 9), 0);
    cr_assert_eq(b.d[b.len], '\0');
    dg_buf_free(&b);
}

Test(buf, a_failed_append_poisons_the_buffer)
{
    dg_buf b;
    dg_buf_init(&b, 10);
    cr_assert_eq(dg_buf_adds(&b, "0123456"), DG_OK);
    cr_assert_eq(dg_buf_err(&b), DG_OK);
    cr_assert_eq(dg_buf_adds(&b, "789x"), DG_ETOOBIG);
    /* The contents are gone, and a later append that would fit fails too: a
     * part past the cap cannot be skipped while the parts after it land. */
    cr_assert_eq(b.len, 0);
    cr_assert_null(b.d);
    cr_assert_str_eq(dg_buf_str(&b), "");
    cr_assert_eq(dg_buf_addc(&b, 'y'), DG_ETOOBIG);
    cr_assert_eq(dg_buf_add(&b, "", 0), DG_ETOOBIG);
    cr_assert_eq(dg_buf_addf(&b, "%d", 1), DG_ETOOBIG);
    cr_assert_eq(dg_buf_err(&b), DG_ETOOBIG);
    cr_assert_eq(b.len, 0);
    dg_arena *a = dg_arena_create();
    cr_assert_null(dg_buf_take(&b, a), "a poisoned buffer hands out nothing");
    dg_arena_destroy(a);
    /* take, reset and free start the buffer over. */
    cr_assert_eq(dg_buf_err(&b), DG_OK);
    cr_assert_eq(dg_buf_adds(&b, "0123456789"), DG_OK);
    cr_assert_eq(dg_buf_addc(&b, 'x'), DG_ETOOBIG, "the cap is hard");
    dg_buf_reset(&b);
    cr_assert_eq(dg_buf_err(&b), DG_OK);
    cr_assert_eq(dg_buf_adds(&b, "abc"), DG_OK);
    cr_assert_str_eq(dg_buf_str(&b), "abc");
    cr_assert_eq(dg_buf_addf(&b, "%s", "a string longer than ten"), DG_ETOOBIG);
    cr_assert_eq(b.len, 0);
    dg_buf_free(&b);
    cr_assert_eq(dg_buf_adds(&b, "fits"), DG_OK);
    dg_buf_free(&b);
}

Test(buf, long_formatted_append)
{
    dg_buf b;
    dg_buf_init(&b, 4096);
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_assert_eq(dg_buf_addf(&b, "<%s>", big), DG_OK);
    cr_assert_eq(b.len, 1001);
    dg_arena *a = dg_arena_create();
    char *t = dg_buf_take(&b, a);
    cr_assert_eq(t[0], '<');
    cr_assert_eq(strlen(t), 1001);
    cr_assert_eq(b.len, 0);
    cr_assert_null(b.d, "the buffer's own memory is freed");
    dg_arena_destroy(a);
}

/* Sizes whose block header or rounding would wrap abort instead of handing
 * out a small block as a huge one. */
Test(arena, a_size_that_wraps_aborts, .signal = SIGABRT)
{
    dg_arena *a = dg_arena_create();
    void *p = dg_arena_alloc(a, SIZE_MAX - 20); /* rounds to SIZE_MAX - 15: the header would wrap */
    cr_log_error("got %p", p);
}

Test(arena, a_size_that_wraps_when_rounded_aborts, .signal = SIGABRT)
{
    dg_arena *a = dg_arena_create();
    void *p = dg_arena_alloc(a, SIZE_MAX - 4);
    cr_log_error("got %p", p);
}

Test(arena, strndup_of_the_largest_size_aborts, .signal = SIGABRT)
{
    dg_arena *a = dg_arena_create();
    char *p = dg_arena_strndup(a, "", SIZE_MAX);
    cr_log_error("got %p", (void *) p);
}

Test(arena, a_huge_first_block_aborts, .signal = SIGABRT)
{
    dg_arena *a = dg_arena_create_sized(SIZE_MAX - 8);
    cr_log_error("got %p", (void *) a);
}

static int ran;
static void mark(void *p)
{
    ran += *(int *) p;
}

Test(arena, alloc_align_defer_reset)
{
    dg_arena *a = dg_arena_create();
    for (int i = 0; i < 2000; i++) {
        char *p = dg_arena_alloc(a, (size_t) (i % 37) + 1);
        cr_assert_eq((uintptr_t) p % 16, 0);
        memset(p, 1, (size_t) (i % 37) + 1);
    }
    char *big = dg_arena_alloc(a, 100000);
    memset(big, 2, 100000);
    cr_assert_str_eq(dg_arena_printf(a, "%d-%s", 42, "x"), "42-x");
    int one = 1, ten = 10;
    ran = 0;
    dg_arena_defer(a, mark, &one);
    dg_arena_defer(a, mark, &ten);
    dg_arena_reset(a);
    cr_assert_eq(ran, 11);
    cr_assert_eq(dg_arena_used(a), 0);
    cr_assert_str_eq(dg_arena_strndup(a, "abcdef", 3), "abc");
    dg_arena_defer(a, mark, &one);
    dg_arena_destroy(a);
    cr_assert_eq(ran, 12);
}
