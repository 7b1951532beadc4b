#include "base/b64.h"

#include <openssl/evp.h>
#include <string.h>

char *dg_b64_encode(dg_arena *a, const void *p, size_t n)
{
    size_t outn = 4 * ((n + 2) / 3);
    char *out = dg_arena_alloc(a, outn + 1);
    int w = EVP_EncodeBlock((unsigned char *) out, p, (int) n);
    out[w < 0 ? 0 : w] = '\0';
    return out;
}

dg_err dg_b64_decode_to(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
    if (n % 4 != 0)
        return DG_EINVAL;
    size_t pad = 0;
    if (n >= 1 && s[n - 1] == '=')
        pad++;
    if (n >= 2 && s[n - 2] == '=')
        pad++;
    for (size_t i = 0; i < n - pad; i++) {
        unsigned char c = (unsigned char) s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                 c == '/';
        if (!ok)
            return DG_EINVAL;
    }
    if (n / 4 * 3 - pad > cap)
        return DG_ETOOBIG;
    if (n == 0) {
        *outlen = 0;
        return DG_OK;
    }
    /* EVP_DecodeBlock writes whole triplets, padding included: decode the body
     * in place and the last quartet through a small buffer, so out needs only
     * the real length. */
    size_t body = n - 4;
    if (body && EVP_DecodeBlock(out, (const unsigned char *) s, (int) body) != (int) (body / 4 * 3))
        return DG_EINVAL;
    unsigned char last[3];
    if (EVP_DecodeBlock(last, (const unsigned char *) s + body, 4) != 3)
        return DG_EINVAL;
    memcpy(out + body / 4 * 3, last, 3 - pad);
    *outlen = body / 4 * 3 + 3 - pad;
    return DG_OK;
}

dg_err dg_b64_decode(dg_arena *a, const char *s, size_t n, unsigned char **out, size_t *outlen)
{
    size_t cap = n / 4 * 3 + 3;
    unsigned char *p = dg_arena_alloc(a, cap);
    dg_err rc = dg_b64_decode_to(s, n, p, cap, outlen);
    if (rc)
        return rc;
    *out = p;
    return DG_OK;
}

char *dg_b64url_encode(dg_arena *a, const void *p, size_t n)
{
    char *s = dg_b64_encode(a, p, n);
    size_t len = strlen(s);
    while (len > 0 && s[len - 1] == '=')
        s[--len] = '\0';
    for (size_t i = 0; i < len; i++)
        s[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
    return s;
}

dg_err dg_b64url_decode(dg_arena *a, const char *s, size_t n, unsigned char **out, size_t *outlen)
{
    size_t body = n;
    if (n % 4 == 0) {
        /* Padding is optional, but where it is given it must be right. */
        for (int k = 0; k < 2 && body > 0 && s[body - 1] == '='; k++)
            body--;
    }
    if (body % 4 == 1)
        return DG_EINVAL;
    char *std = dg_arena_alloc(a, body + 4);
    for (size_t i = 0; i < body; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return DG_EINVAL;
        std[i] = (char) c;
    }
    size_t len = body;
    while (len % 4 != 0)
        std[len++] = '=';
    unsigned char *p;
    size_t pn;
    dg_err rc = dg_b64_decode(a, std, len, &p, &pn);
    if (rc)
        return rc;
    /* dg_b64_decode allocates at least pn + 1 bytes (n / 4 * 3 + 3). */
    p[pn] = '\0';
    *out = p;
    *outlen = pn;
    return DG_OK;
}
