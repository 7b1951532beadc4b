#include "storage/odata.h"

#include "base/utf8.h"
#include "storage/entity.h"
#include "storage/internal.h"

#include <cjson/cJSON.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define FILTER_MAX (32 * 1024) /* the service's own limit on a URL is far lower */

dg_err az_odata_quote(dg_buf *out, const char *v, size_t n)
{
    dg_err rc = dg_buf_addc(out, '\'');
    for (size_t i = 0; !rc && i < n; i++)
        rc = v[i] == '\'' ? dg_buf_add(out, "''", 2) : dg_buf_addc(out, v[i]);
    return rc ? rc : dg_buf_addc(out, '\'');
}

void az_filter_init(az_filter *f)
{
    dg_buf_init(&f->b, FILTER_MAX);
    f->err = DG_OK;
    f->need_op = false;
}

void az_filter_free(az_filter *f)
{
    dg_buf_free(&f->b);
}

const char *az_filter_str(const az_filter *f)
{
    return f->err ? NULL : dg_buf_str(&f->b);
}

static void put(az_filter *f, const char *s)
{
    if (!f->err)
        f->err = dg_buf_adds(&f->b, s);
}

static int begin_term(az_filter *f, const char *prop, enum az_cmp op)
{
    static const char *const ops[] = {" eq ", " ne ", " gt ", " ge ", " lt ", " le "};
    if (f->err)
        return 0;
    if (f->need_op || !az_prop_name_ok(prop) || (unsigned) op > AZ_LE) {
        f->err = DG_EINVAL;
        return 0;
    }
    put(f, prop);
    put(f, ops[op]);
    f->need_op = true;
    return !f->err;
}

void az_filter_cmp_str(az_filter *f, const char *prop, enum az_cmp op, const char *v)
{
    if (begin_term(f, prop, op))
        f->err = az_odata_quote(&f->b, v, strlen(v));
}

void az_filter_cmp_i32(az_filter *f, const char *prop, enum az_cmp op, int32_t v)
{
    char n[16];
    snprintf(n, sizeof n, "%" PRId32, v);
    if (begin_term(f, prop, op))
        put(f, n);
}

void az_filter_cmp_datetime(az_filter *f, const char *prop, enum az_cmp op, dg_ticks v)
{
    char iso[DG_ISO_LEN], lit[DG_ISO_LEN + 16];
    dg_iso_format(v, iso);
    snprintf(lit, sizeof lit, "datetime'%s'", iso);
    if (begin_term(f, prop, op))
        put(f, lit);
}

static void join(az_filter *f, const char *word)
{
    if (f->err)
        return;
    if (!f->need_op) {
        f->err = DG_EINVAL;
        return;
    }
    put(f, word);
    f->need_op = false;
}

void az_filter_and(az_filter *f)
{
    join(f, " and ");
}

void az_filter_or(az_filter *f)
{
    join(f, " or ");
}

void az_filter_open(az_filter *f)
{
    if (f->need_op)
        f->err = f->err ? f->err : DG_EINVAL;
    put(f, "(");
}

void az_filter_close(az_filter *f)
{
    if (!f->need_op)
        f->err = f->err ? f->err : DG_EINVAL;
    put(f, ")");
}

/* The least string above every string that starts with s[0..n), in the order
 * the service compares keys (ordinal, by UTF-16 code unit): s with its last
 * UTF-16 unit incremented, as DurableTask does, written back in UTF-8 and
 * moved to the next valid string where that unit would be a lone surrogate.
 * Rewrites s in place; returns the new length, or 0 when there is no such
 * string (s is empty, not UTF-8, or only U+FFFF characters).
 *   U+D7FF   -> U+10000 (D800 DC00 follows D7FF; a lone D800 is no string)
 *   U+FFFF   -> drop it and increment the character before (no unit above FFFF)
 *   U+10FFFF -> U+E000  (DBFF DFFF: the next unit that can follow is E000)
 *   else     -> code point + 1 (within a surrogate pair, the next pair) */
static size_t prefix_upper(char *s, size_t n, size_t cap)
{
    while (n > 0) {
        size_t st = n - 1;
        while (st > 0 && ((unsigned char) s[st] & 0xC0) == 0x80)
            st--;
        size_t i = st;
        int32_t cp = dg_utf8_next((const unsigned char *) s, n, &i);
        if (cp < 0 || i != n)
            return 0; /* not UTF-8 */
        if (cp == 0xFFFF) {
            n = st; /* carry into the character before */
            continue;
        }
        int32_t next = cp == 0xD7FF ? 0x10000 : cp == 0x10FFFF ? 0xE000 : cp + 1;
        char enc[4];
        size_t el = dg_utf8_put(next, enc);
        if (st + el + 1 > cap)
            return 0;
        memcpy(s + st, enc, el);
        s[st + el] = '\0';
        return st + el;
    }
    return 0;
}

void az_filter_prefix(az_filter *f, const char *prop, const char *prefix)
{
    size_t n = strlen(prefix);
    if (n == 0)
        return;
    char upper[1024];
    if (n + 4 >= sizeof upper) {
        f->err = f->err ? f->err : DG_ETOOBIG;
        return;
    }
    memcpy(upper, prefix, n + 1);
    size_t k = prefix_upper(upper, n, sizeof upper);
    az_filter_open(f);
    az_filter_cmp_str(f, prop, AZ_GE, prefix);
    if (k > 0) {
        az_filter_and(f);
        az_filter_cmp_str(f, prop, AZ_LT, upper);
    }
    az_filter_close(f);
}

void az_json_error(const cJSON *root, const char **code, const char **message)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "odata.error");
    if (!e)
        e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (cJSON_IsObject(m))
        m = cJSON_GetObjectItemCaseSensitive(m, "value");
    *code = cJSON_IsString(c) ? c->valuestring : NULL;
    *message = cJSON_IsString(m) ? m->valuestring : NULL;
}
