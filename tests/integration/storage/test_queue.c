/* storage/queue.c against a real Azurite. */
#include "storage/queue.h"
#include "tests/support/azurite_env.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static az_client *c;
static dg_arena *a;
static az_ctx x;
static const char *q;

static void setup(void)
{
    c = test_azurite_client(NULL, NULL);
    a = dg_arena_create();
    az_ctx_init(&x, a);
    q = test_unique_name(a, "q-");
    cr_assert_eq(az_queue_create(c, &x, q), DG_OK, "%ld %s %s", x.st.http, x.st.code, x.st.message);
}

static void teardown(void)
{
    az_queue_delete(c, &x, q);
    dg_arena_destroy(a);
    az_client_destroy(c);
}

TestSuite(queue, .init = setup, .fini = teardown, .timeout = 60);

Test(queue, create_twice_and_names)
{
    cr_assert_eq(az_queue_create(c, &x, q), DG_OK);
    cr_assert_eq(az_queue_create(c, &x, "Upper"), DG_EINVAL);
    cr_assert_eq(az_queue_create(c, &x, "q2"), DG_EINVAL, "3 characters at least");
    cr_assert_eq(az_queue_create(c, &x, "a--b"), DG_EINVAL);
}

Test(queue, put_peek_get_delete)
{
    const char *text =
        "{\"$type\":\"DurableTask.AzureStorage.MessageData\",\"x\":\"<&>'\\\"\r\n\xe2\x82\xac\"}";
    struct az_qmsg put;
    cr_assert_eq(az_queue_put(c, &x, q, text, strlen(text), 0, -1, &put), DG_OK, "%s %s", x.st.code,
                 x.st.message);
    cr_assert_not_null(put.id);
    cr_assert_not_null(put.pop_receipt);

    struct az_qmsg *m;
    size_t n;
    cr_assert_eq(az_queue_peek(c, &x, q, 32, &m, &n), DG_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(m[0].text, text, "XML escaping round-trips, CR included");
    cr_assert_str_eq(m[0].id, put.id);

    cr_assert_eq(az_queue_get(c, &x, q, 1, 30, &m, &n), DG_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(m[0].dequeue_count, 1);
    struct az_qmsg *again;
    size_t n2;
    cr_assert_eq(az_queue_get(c, &x, q, 1, 30, &again, &n2), DG_OK);
    cr_assert_eq(n2, 0, "a dequeued message is invisible");
    cr_assert_eq(az_queue_delete_msg(c, &x, q, m[0].id, "stale-receipt"), DG_ESTORAGE);
    cr_assert_eq(az_queue_delete_msg(c, &x, q, m[0].id, m[0].pop_receipt), DG_OK, "%s", x.st.code);
    cr_assert_eq(az_queue_peek(c, &x, q, 32, &m, &n), DG_OK);
    cr_assert_eq(n, 0);
}

Test(queue, visibility_timeout_hides_a_new_message)
{
    cr_assert_eq(az_queue_put(c, &x, q, "later", 5, 60, 3600, NULL), DG_OK, "%s", x.st.message);
    cr_assert_eq(az_queue_put(c, &x, q, "now", 3, 0, 0, NULL), DG_OK);
    struct az_qmsg *m;
    size_t n;
    cr_assert_eq(az_queue_peek(c, &x, q, 32, &m, &n), DG_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(m[0].text, "now");
}

Test(queue, refuses_control_characters_and_missing_queue)
{
    cr_assert_eq(az_queue_put(c, &x, q, "a\x01", 2, 0, 0, NULL), DG_EINVAL);
    cr_assert_eq(az_queue_put(c, &x, test_unique_name(a, "nope-"), "x", 1, 0, 0, NULL), DG_ENOTFOUND);
    cr_assert_str_eq(x.st.code, "QueueNotFound");
}

Test(queue, many_messages_in_batches_of_32)
{
    for (int i = 0; i < 40; i++) {
        char t[16];
        snprintf(t, sizeof t, "m%d", i);
        cr_assert_eq(az_queue_put(c, &x, q, t, strlen(t), 0, 0, NULL), DG_OK);
    }
    size_t total = 0;
    for (int round = 0; round < 3; round++) {
        struct az_qmsg *m;
        size_t n;
        cr_assert_eq(az_queue_get(c, &x, q, 32, 60, &m, &n), DG_OK);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(az_queue_delete_msg(c, &x, q, m[i].id, m[i].pop_receipt), DG_OK);
        total += n;
    }
    cr_assert_eq(total, 40);
}
