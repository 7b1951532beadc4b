/* Randomness from the kernel (getrandom), for ids, boundaries and keys. */
#ifndef DG_RAND_H
#define DG_RAND_H

#include <stddef.h>

/* Fills p with n random bytes; aborts if the kernel cannot provide them. */
void dg_random_bytes(void *p, size_t n);
/* A fast, non-cryptographic random number (xorshift64*, seeded per thread
 * from the kernel): request ids and jitter, never keys or secrets. */
unsigned long long dg_random_fast(void);
/* A random (version 4) UUID in lower-case 8-4-4-4-12 form. */
#define DG_UUID_LEN 37
void dg_uuid4(char out[DG_UUID_LEN]);
/* The same in .NET's "N" format: 32 lower-case hex digits, no dashes (the
 * form of generated instance ids and of execution ids). */
#define DG_UUID_N_LEN 33
void dg_uuid4_n(char out[DG_UUID_N_LEN]);

#endif
