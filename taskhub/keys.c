#include "taskhub/keys.h"

#include "base/buf.h"
#include "base/mem.h"
#include "base/utf8.h"

#include <string.h>

static void utf8_put(dg_buf *b, int32_t cp)
{
    char e[4];
    (void) dg_buf_add(b, e, dg_utf8_put(cp, e));
}

char *hub_key_escape(dg_arena *a, const char *id, size_t n)
{
    dg_buf b;
    dg_buf_init(&b, n * 3 + 1);
    const unsigned char *s = (const unsigned char *) id;
    for (size_t i = 0; i < n;) {
        size_t at = i;
        int32_t cp = dg_utf8_next(s, n, &i);
        if (cp < 0) {
            /* Not UTF-8: keep the byte; such an id cannot come from .NET anyway. */
            (void) dg_buf_addc(&b, (char) s[at]);
            i = at + 1;
            continue;
        }
        switch (cp) {
        case '^':
            (void) dg_buf_adds(&b, "^^");
            break;
        case '/':
            (void) dg_buf_adds(&b, "^0");
            break;
        case '\\':
            (void) dg_buf_adds(&b, "^1");
            break;
        case '#':
            (void) dg_buf_adds(&b, "^2");
            break;
        case '?':
            (void) dg_buf_adds(&b, "^3");
            break;
        default:
            if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F)) {
                (void) dg_buf_addc(&b, '^');
                utf8_put(&b, 0xC0 + cp);
            } else {
                (void) dg_buf_add(&b, id + at, i - at);
            }
        }
    }
    /* Each byte grows to at most 3 (a control character to '^' + 2 bytes). */
    char *r = dg_buf_take(&b, a);
    if (!r)
        dg_fatal("escaped key past its cap");
    return r;
}

dg_err hub_key_unescape(dg_arena *a, const char *key, size_t n, char **out)
{
    dg_buf b;
    dg_buf_init(&b, n + 1);
    const unsigned char *s = (const unsigned char *) key;
    for (size_t i = 0; i < n;) {
        size_t at = i;
        int32_t cp = dg_utf8_next(s, n, &i);
        if (cp < 0) {
            dg_buf_free(&b);
            return DG_EINVAL;
        }
        if (cp != '^' || i >= n) {
            (void) dg_buf_add(&b, key + at, i - at);
            continue;
        }
        size_t nat = i;
        int32_t e = dg_utf8_next(s, n, &i);
        if (e < 0) {
            dg_buf_free(&b);
            return DG_EINVAL;
        }
        switch (e) {
        case '0':
            (void) dg_buf_addc(&b, '/');
            break;
        case '1':
            (void) dg_buf_addc(&b, '\\');
            break;
        case '2':
            (void) dg_buf_addc(&b, '#');
            break;
        case '3':
            (void) dg_buf_addc(&b, '?');
            break;
        default:
            if (e == 0xC0 || (e >= 0xD800 + 0xC0 && e <= 0xDFFF + 0xC0)) {
                /* U+0000 (an id handled with strlen would end there) or a
                 * surrogate (not UTF-8): no id escapes to this. */
                dg_buf_free(&b);
                return DG_EINVAL;
            }
            if (e > 0xC0 && e < 0x10000)
                utf8_put(&b, e - 0xC0);
            else
                (void) dg_buf_add(&b, key + nat, i - nat); /* "^^" -> "^", anything else kept */
        }
    }
    *out = dg_buf_take(&b, a);
    return *out ? DG_OK : DG_EINVAL;
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
