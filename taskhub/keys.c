#include "taskhub/keys.h"

#include "base/buf.h"

#include <string.h>

/* Decodes one UTF-8 code point at s[*i], advancing *i; -1 when malformed. */
static int32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    unsigned char c = s[*i];
    int32_t cp;
    size_t len;
    if (c < 0x80) {
        cp = c;
        len = 1;
    } else if ((c & 0xE0) == 0xC0) {
        cp = c & 0x1F;
        len = 2;
    } else if ((c & 0xF0) == 0xE0) {
        cp = c & 0x0F;
        len = 3;
    } else if ((c & 0xF8) == 0xF0) {
        cp = c & 0x07;
        len = 4;
    } else {
        return -1;
    }
    if (*i + len > n)
        return -1;
    for (size_t k = 1; k < len; k++) {
        if ((s[*i + k] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[*i + k] & 0x3F);
    }
    static const int32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *i += len;
    return cp;
}

static void utf8_put(dg_buf *b, int32_t cp)
{
    char e[4];
    size_t n;
    if (cp < 0x80) {
        e[0] = (char) cp;
        n = 1;
    } else if (cp < 0x800) {
        e[0] = (char) (0xC0 | (cp >> 6));
        e[1] = (char) (0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        e[0] = (char) (0xE0 | (cp >> 12));
        e[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        e[2] = (char) (0x80 | (cp & 0x3F));
        n = 3;
    } else {
        e[0] = (char) (0xF0 | (cp >> 18));
        e[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
        e[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
        e[3] = (char) (0x80 | (cp & 0x3F));
        n = 4;
    }
    dg_buf_add(b, e, n);
}

static char *take(dg_arena *a, dg_buf *b)
{
    char *r = dg_arena_strndup(a, dg_buf_str(b), b->len);
    dg_buf_free(b);
    return r;
}

char *hub_key_escape(dg_arena *a, const char *id, size_t n)
{
    dg_buf b;
    dg_buf_init(&b, n * 3 + 1);
    const unsigned char *s = (const unsigned char *) id;
    for (size_t i = 0; i < n;) {
        size_t at = i;
        int32_t cp = utf8_next(s, n, &i);
        if (cp < 0) {
            /* Not UTF-8: keep the byte; such an id cannot come from .NET anyway. */
            dg_buf_addc(&b, (char) s[at]);
            i = at + 1;
            continue;
        }
        switch (cp) {
        case '^':
            dg_buf_adds(&b, "^^");
            break;
        case '/':
            dg_buf_adds(&b, "^0");
            break;
        case '\\':
            dg_buf_adds(&b, "^1");
            break;
        case '#':
            dg_buf_adds(&b, "^2");
            break;
        case '?':
            dg_buf_adds(&b, "^3");
            break;
        default:
            if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F)) {
                dg_buf_addc(&b, '^');
                utf8_put(&b, 0xC0 + cp);
            } else {
                dg_buf_add(&b, id + at, i - at);
            }
        }
    }
    return take(a, &b);
}

dg_err hub_key_unescape(dg_arena *a, const char *key, size_t n, char **out)
{
    dg_buf b;
    dg_buf_init(&b, n + 1);
    const unsigned char *s = (const unsigned char *) key;
    for (size_t i = 0; i < n;) {
        size_t at = i;
        int32_t cp = utf8_next(s, n, &i);
        if (cp < 0) {
            dg_buf_free(&b);
            return DG_EINVAL;
        }
        if (cp != '^' || i >= n) {
            dg_buf_add(&b, key + at, i - at);
            continue;
        }
        size_t nat = i;
        int32_t e = utf8_next(s, n, &i);
        if (e < 0) {
            dg_buf_free(&b);
            return DG_EINVAL;
        }
        switch (e) {
        case '0':
            dg_buf_addc(&b, '/');
            break;
        case '1':
            dg_buf_addc(&b, '\\');
            break;
        case '2':
            dg_buf_addc(&b, '#');
            break;
        case '3':
            dg_buf_addc(&b, '?');
            break;
        default:
            if (e >= 0xC0 && e < 0x10000)
                utf8_put(&b, e - 0xC0);
            else
                dg_buf_add(&b, key + nat, i - nat); /* "^^" -> "^", anything else kept */
        }
    }
    *out = take(a, &b);
    return DG_OK;
}

uint32_t hub_fnv1a(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

unsigned hub_partition(const char *id, size_t n, unsigned partitions)
{
    return partitions ? hub_fnv1a(id, n) % partitions : 0;
}
