#include "base/url.h"

#include "base/mem.h"

#include <string.h>

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

dg_err dg_url_encode(dg_buf *out, const char *s, size_t n, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        dg_err rc;
        if (unreserved(c) || (keep && c && strchr(keep, c))) {
            rc = dg_buf_addc(out, (char) c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = dg_buf_add(out, e, 3);
        }
        if (rc)
            return rc;
    }
    return DG_OK;
}

char *dg_url_encode_a(dg_arena *a, const char *s, size_t n, const char *keep)
{
    dg_buf b;
    dg_buf_init(&b, (size_t) -1 / 4); /* no cap: the input is in memory already */
    (void) dg_url_encode(&b, s, n, keep);
    char *r = dg_buf_take(&b, a);
    if (!r)
        dg_fatal("URL encoding past its cap");
    return r;
}

int dg_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

dg_err dg_url_decode(dg_arena *a, const char *s, size_t n, int plus_space, char **out, size_t *outlen)
{
    char *r = dg_arena_alloc(a, n + 1);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n)
                return DG_EINVAL;
            int h = dg_hexval(s[i + 1]);
            int l = dg_hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return DG_EINVAL;
            r[w++] = (char) (h * 16 + l);
            i += 2;
        } else if (plus_space && s[i] == '+') {
            r[w++] = ' ';
        } else {
            r[w++] = s[i];
        }
    }
    r[w] = '\0';
    *out = r;
    *outlen = w;
    return DG_OK;
}

char *dg_url_escape_raw(dg_arena *a, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s), extra = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        extra += c <= 0x20 || c >= 0x7F ? 2 : 0;
    }
    char *r = dg_arena_alloc(a, n + extra + 1);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c <= 0x20 || c >= 0x7F) {
            r[w++] = '%';
            r[w++] = hex[c >> 4];
            r[w++] = hex[c & 15];
        } else {
            r[w++] = (char) c;
        }
    }
    r[w] = '\0';
    return r;
}
