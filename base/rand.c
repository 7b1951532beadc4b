#include "base/rand.h"

#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

void dg_random_bytes(void *p, size_t n)
{
    unsigned char *q = p;
    while (n > 0) {
        ssize_t r = getrandom(q, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            dg_fatal("getrandom failed");
        }
        q += r;
        n -= (size_t) r;
    }
}

void dg_uuid4(char out[DG_UUID_LEN])
{
    unsigned char b[16];
    dg_random_bytes(b, sizeof b);
    b[6] = (unsigned char) ((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char) ((b[8] & 0x3F) | 0x80);
    snprintf(out, DG_UUID_LEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

void dg_uuid4_n(char out[DG_UUID_N_LEN])
{
    char u[DG_UUID_LEN];
    dg_uuid4(u);
    size_t k = 0;
    for (const char *p = u; *p; p++)
        if (*p != '-')
            out[k++] = *p;
    out[k] = '\0';
}

unsigned long long dg_random_fast(void)
{
    static _Thread_local unsigned long long x;
    while (!x)
        dg_random_bytes(&x, sizeof x);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return x * 2685821657736338717ULL;
}
