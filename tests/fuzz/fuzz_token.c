/* libFuzzer target: the continuation token of list and purge answers
 * (rt_token_decode, routes/params.c), as a client sends it back in
 * x-ms-continuation-token. A token that decodes must survive a round trip
 * through rt_token_encode, and so must any pair of keys the service could
 * hand out (split from the input at its first NUL). */
#include "routes/handlers.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void same(const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
        abort();
}

static bool clean(const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dg_arena *a = dg_arena_create();
    const char *token = dg_arena_strndup(a, (const char *) data, size); /* a header value stops at NUL */
    const char *pk, *rk;
    if (rt_token_decode(a, token, &pk, &rk) == DG_OK && pk) {
        if (!*pk || strchr(pk, ' ') || !clean(pk) || (rk && (!*rk || !clean(rk))))
            abort();
        const char *pk2, *rk2;
        if (rt_token_decode(a, rt_token_encode(a, pk, rk), &pk2, &rk2) != DG_OK)
            abort();
        same(pk, pk2);
        same(rk, rk2);
    }
    /* Keys as the service sends them: pk NUL rk. */
    const char *nul = memchr(data, '\0', size);
    const char *kpk = token;
    const char *krk =
        nul ? dg_arena_strndup(a, nul + 1, size - (size_t) (nul - (const char *) data) - 1) : "";
    const char *enc = rt_token_encode(a, kpk, krk);
    if (!*kpk != !*enc)
        abort();
    if (*kpk && !strchr(kpk, ' ') && rt_token_decode(a, enc, &pk, &rk) == DG_OK) {
        same(pk, kpk);
        same(rk, *krk ? krk : NULL);
    }
    dg_arena_destroy(a);
    return 0;
}
