/* taskhub/message.c: the envelope's sequence numbers are seeded from the clock
 * before any is handed out, however the first callers race. */
#include "taskhub/message.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
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
