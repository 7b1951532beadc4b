/* What the swappable key set costs a check (docs/reload.md): auth_check takes
 * the set in force (mutex, reference, mutex) around the comparison. The
 * reference is the same comparison on a set already held (auth_keyset_check),
 * in the same run, on 1 and on 2 threads, without reloads and with one every
 * millisecond. The machine is shared: each figure is the best of 5 runs,
 * the two kinds alternating.
 *
 * usage: bench_keys [CHECKS_PER_THREAD]  (default 1,000,000) */
#include "auth/keys.h"
#include "base/time.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY    "bench-master-key-0123456789"
#define ROUNDS 5

/* The file of a small deployment: a master key, two extension keys (one rotating), a dashboard's. */
static const char *file =
    "{\"masterKey\":\"" KEY "\",\"systemKeys\":{\"durabletask_extension\":"
    "[\"ext-old-0123456789\",\"ext-new-0123456789\"]},\"readOnlyKeys\":[\"dash-0123456789ab\"]}";

static auth_keys *keys;
static long per_thread;
static _Atomic int stop_reloads;
static _Atomic long sink;

struct run {
    int held; /* 1: the reference, auth_keyset_check on a set taken once */
};

static void *checker(void *arg)
{
    const struct run *r = arg;
    long ok = 0;
    const auth_keyset *set = r->held ? auth_keys_acquire(keys) : NULL;
    for (long i = 0; i < per_thread; i++) {
        enum auth_result a = set ? auth_keyset_check(set, KEY, sizeof KEY - 1, AUTH_WRITE)
                                 : auth_check(keys, KEY, sizeof KEY - 1, AUTH_WRITE);
        ok += a == AUTH_OK;
    }
    if (set)
        auth_keyset_release(set);
    atomic_fetch_add(&sink, ok);
    return NULL;
}

static void *reloader(void *arg)
{
    (void) arg;
    char err[128];
    while (!atomic_load(&stop_reloads)) {
        auth_keys_replace(keys, file, strlen(file), err, sizeof err);
        usleep(1000);
    }
    return NULL;
}

/* ns per check of one thread, `threads` of them checking at once */
static double measure(int threads, int held, int reloads)
{
    pthread_t t[2], rl;
    struct run r = {held};
    atomic_store(&stop_reloads, 0);
    if (reloads)
        pthread_create(&rl, NULL, reloader, NULL);
    int64_t t0 = dg_mono_us();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, checker, &r);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    int64_t us = dg_mono_us() - t0;
    atomic_store(&stop_reloads, 1);
    if (reloads)
        pthread_join(rl, NULL);
    return (double) us * 1000.0 / (double) per_thread;
}

int main(int argc, char **argv)
{
    per_thread = argc > 1 ? atol(argv[1]) : 1000000;
    char err[128];
    keys = auth_keys_parse(file, strlen(file), err, sizeof err);
    if (!keys) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("bench_keys: %ld checks per thread, %zu keys in the set\n", per_thread, auth_keys_count(keys));
    printf("%-8s %-10s %14s %14s %8s\n", "threads", "reloads", "held set ns", "auth_check ns", "ratio");
    for (int threads = 1; threads <= 2; threads++)
        for (int reloads = 0; reloads <= 1; reloads++) {
            double ref = 1e18, got = 1e18;
            for (int k = 0; k < ROUNDS; k++) {
                double x = measure(threads, 1, reloads), y = measure(threads, 0, reloads);
                ref = x < ref ? x : ref;
                got = y < got ? y : got;
            }
            printf("%-8d %-10s %14.1f %14.1f %8.3f\n", threads, reloads ? "every 1ms" : "none", ref, got,
                   got / ref);
        }
    long expect = ROUNDS * (8 * per_thread + 4 * per_thread);
    auth_keys_destroy(keys);
    if (atomic_load(&sink) != expect) {
        fprintf(stderr, "bench_keys: %ld checks passed of %ld\n", atomic_load(&sink), expect);
        return 1;
    }
    return 0;
}
