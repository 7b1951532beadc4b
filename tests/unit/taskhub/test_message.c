/* taskhub/message.c: the envelope's sequence numbers are seeded from the clock
 * before any is handed out, however the first callers race; the envelope
 * reader; and (taskhub/largemsg.c) which URLs point into the hub's
 * large-message container. */
#include "storage/blob.h"
#include "taskhub/largemsg.h"
#include "taskhub/message.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define SEED    1000000
#define THREADS 8

/* A slow clock: the first callers are all inside it at once. */
static int64_t slow_seed(void)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return SEED;
}

static _Atomic int64_t counter;
static pthread_barrier_t start;
static int64_t got[THREADS];

static void *take(void *p)
{
    int k = (int) (intptr_t) p;
    pthread_barrier_wait(&start);
    got[k] = hub_sequence_next(&counter, slow_seed);
    return NULL;
}

Test(sequence, racing_first_callers_all_count_from_the_seed)
{
    pthread_t t[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, take, (void *) (intptr_t) i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++) {
        cr_assert_geq(got[i], SEED, "caller %d got %lld, not seeded from the clock", i, (long long) got[i]);
        cr_assert_lt(got[i], SEED + THREADS);
        for (int k = 0; k < i; k++)
            cr_assert_neq(got[i], got[k], "two callers got %lld", (long long) got[i]);
    }
    cr_assert_eq(hub_sequence_next(&counter, slow_seed), SEED + THREADS, "later callers go on counting");
}

static int64_t zero_seed(void)
{
    return 0;
}

Test(sequence, a_zero_seed_still_seeds)
{
    _Atomic int64_t c = 0;
    cr_assert_eq(hub_sequence_next(&c, zero_seed), 1);
    cr_assert_eq(hub_sequence_next(&c, zero_seed), 2);
}

/* The envelope reader (hub_message_input): the event's Input, whatever else
 * the envelope holds; none when it has no string Input; an error only for text
 * that is not one JSON value. */
Test(envelope, reads_the_event_input)
{
    dg_arena *a = dg_arena_create();
    const char *in;
    const char *env =
        "{\"$type\":\"DurableTask.AzureStorage.MessageData\",\"TaskMessage\":{\"Event\":"
        "{\"Name\":\"Hello\",\"Input\":\"{\\\"city\\\":\\\"Tokyo\\\"}\"}},\"SequenceNumber\":1}";
    cr_assert_eq(hub_message_input(a, env, strlen(env), &in), DG_OK);
    cr_assert_str_eq(in, "{\"city\":\"Tokyo\"}");
    const char *none = "{\"TaskMessage\":{\"Event\":{\"Input\":null}}}";
    cr_assert_eq(hub_message_input(a, none, strlen(none), &in), DG_OK);
    cr_assert_null(in);
    cr_assert_eq(hub_message_input(a, "[1]", 3, &in), DG_OK);
    cr_assert_null(in);
    cr_assert_eq(hub_message_input(a, "{} trailing", 11, &in), DG_EBADRESP);
    cr_assert_null(in);
    dg_arena_destroy(a);
}

/* Found by tests/fuzz (fuzz_message): a stored Input/Output URL whose blob
 * name holds a "." or ".." segment, plain or percent-encoded, was taken as a
 * name inside the hub's container, and the HTTP stack resolves such a path
 * into another container's blob. */
Test(large, a_url_with_dot_segments_is_not_in_the_container)
{
    dg_arena *a = dg_arena_create();
    const char *base = "http://127.0.0.1:10000/devstoreaccount1/myhub-largemessages/";
    const char *ok = dg_arena_printf(a, "%sabc/ExecutionStarted.json.gz", base);
    cr_assert_str_eq(hub_large_name_from_url(a, "MyHub", ok), "abc/ExecutionStarted.json.gz");
    cr_assert_str_eq(hub_large_name_from_url(a, "MyHub", dg_arena_printf(a, "%sa..b/.c", base)), "a..b/.c");
    const char *bad[] = {"../other/secret.json.gz", "%2E%2E/other/x", "abc/./x", "abc/..", ".", "abc/%2e"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_null(hub_large_name_from_url(a, "MyHub", dg_arena_printf(a, "%s%s", base, bad[i])), "%s",
                       bad[i]);
    cr_assert(!az_blob_name_ok("x/../y"));
    cr_assert(az_blob_name_ok("x/...y"));
    dg_arena_destroy(a);
}
