/* Table service answers read in one pass over the text (entity.h): no cJSON
 * tree, no second scan for how numbers were written, no lookup by name per
 * property. The typing rules are az_entity_from_json's. */
#include "base/b64.h"
#include "base/time.h"
#include "storage/entity.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64 /* of values skipped outside the entities; the service nests two deep */

enum kind { K_STR, K_NUM, K_TRUE, K_FALSE, K_NULL, K_NESTED };

struct member {
    const char *name;
    size_t nlen;
    enum kind kind;
    const char *s; /* K_STR: decoded, NUL-terminated; K_NUM: the text as written */
    size_t slen;
    bool floaty; /* K_NUM: written with a fraction or an exponent */
};

struct rd {
    const char *p, *end;
    dg_arena *a;
    struct member *m; /* one object's members, reused from object to object */
    size_t cap;
};

static void ws(struct rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char) cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char) (0xC0 | (cp >> 6));
        o[1] = (char) (0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char) (0xE0 | (cp >> 12));
        o[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char) (0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char) (0xF0 | (cp >> 18));
    o[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char) (0x80 | (cp & 0x3F));
    return 4;
}

/* The string at r->p (its opening quote), decoded into the arena. The common
 * case, no escape, is one memchr and one copy. */
static dg_err str(struct rd *r, const char **out, size_t *len)
{
    const char *s = ++r->p;
    const char *q = memchr(s, '"', (size_t) (r->end - s));
    if (!q)
        return DG_EBADRESP;
    if (!memchr(s, '\\', (size_t) (q - s))) {
        /* Raw control characters are let through, as cJSON lets them through. */
        *out = dg_arena_strndup(r->a, s, (size_t) (q - s));
        *len = (size_t) (q - s);
        r->p = q + 1;
        return DG_OK;
    }
    /* Escapes never make the text longer. Find the real end first. */
    const char *e = s;
    while (e < r->end && *e != '"') {
        if (*e == '\\')
            e++;
        e++;
    }
    if (e >= r->end)
        return DG_EBADRESP;
    char *o = dg_arena_alloc(r->a, (size_t) (e - s) + 1);
    size_t n = 0;
    for (const char *c = s; c < e; c++) {
        if (*c != '\\') {
            o[n++] = *c;
            continue;
        }
        c++;
        switch (*c) {
        case '"':
            o[n++] = '"';
            break;
        case '\\':
            o[n++] = '\\';
            break;
        case '/':
            o[n++] = '/';
            break;
        case 'b':
            o[n++] = '\b';
            break;
        case 'f':
            o[n++] = '\f';
            break;
        case 'n':
            o[n++] = '\n';
            break;
        case 'r':
            o[n++] = '\r';
            break;
        case 't':
            o[n++] = '\t';
            break;
        case 'u': {
            if (e - c < 5)
                return DG_EBADRESP;
            int u = hex4(c + 1);
            if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
                return DG_EBADRESP;
            c += 4;
            unsigned cp = (unsigned) u;
            if (u >= 0xD800 && u <= 0xDBFF) {
                int lo = e - c >= 7 && c[1] == '\\' && c[2] == 'u' ? hex4(c + 3) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return DG_EBADRESP;
                cp = 0x10000 + (((unsigned) u - 0xD800) << 10) + ((unsigned) lo - 0xDC00);
                c += 6;
            }
            n += put_utf8(o + n, cp); /* at most as long as the escape it replaces */
            break;
        }
        default:
            return DG_EBADRESP;
        }
    }
    o[n] = '\0';
    *out = o;
    *len = n;
    r->p = e + 1;
    return DG_OK;
}

/* A number by JSON's grammar; *floaty when it has a fraction or an exponent. */
static dg_err num(struct rd *r, bool *floaty)
{
    const char *p = r->p;
    *floaty = false;
    if (p < r->end && *p == '-')
        p++;
    if (p >= r->end || *p < '0' || *p > '9')
        return DG_EBADRESP;
    if (*p == '0')
        p++;
    else
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    if (p < r->end && *p == '.') {
        *floaty = true;
        p++;
        if (p >= r->end || *p < '0' || *p > '9')
            return DG_EBADRESP;
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < r->end && (*p == 'e' || *p == 'E')) {
        *floaty = true;
        p++;
        if (p < r->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= r->end || *p < '0' || *p > '9')
            return DG_EBADRESP;
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    r->p = p;
    return DG_OK;
}

static dg_err lit(struct rd *r, const char *w, size_t n)
{
    if ((size_t) (r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return DG_EBADRESP;
    r->p += n;
    return DG_OK;
}

/* Skips any value (the answer's members other than "value"). */
static dg_err skip(struct rd *r, int depth)
{
    const char *s;
    size_t n;
    bool fl;
    ws(r);
    if (r->p >= r->end || depth > MAX_DEPTH)
        return DG_EBADRESP;
    switch (*r->p) {
    case '"':
        return str(r, &s, &n);
    case 't':
        return lit(r, "true", 4);
    case 'f':
        return lit(r, "false", 5);
    case 'n':
        return lit(r, "null", 4);
    case '{':
    case '[': {
        char close = *r->p == '{' ? '}' : ']';
        bool obj = close == '}';
        r->p++;
        ws(r);
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return DG_OK;
        }
        for (;;) {
            ws(r);
            if (obj) {
                if (r->p >= r->end || *r->p != '"' || str(r, &s, &n))
                    return DG_EBADRESP;
                ws(r);
                if (r->p >= r->end || *r->p++ != ':')
                    return DG_EBADRESP;
            }
            if (skip(r, depth + 1))
                return DG_EBADRESP;
            ws(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                continue;
            }
            if (r->p < r->end && *r->p == close) {
                r->p++;
                return DG_OK;
            }
            return DG_EBADRESP;
        }
    }
    default:
        return num(r, &fl);
    }
}

/* One member's value. Nested values are skipped and marked: an entity holds none. */
static dg_err member_value(struct rd *r, struct member *m)
{
    ws(r);
    if (r->p >= r->end)
        return DG_EBADRESP;
    switch (*r->p) {
    case '"':
        m->kind = K_STR;
        return str(r, &m->s, &m->slen);
    case 't':
        m->kind = K_TRUE;
        return lit(r, "true", 4);
    case 'f':
        m->kind = K_FALSE;
        return lit(r, "false", 5);
    case 'n':
        m->kind = K_NULL;
        return lit(r, "null", 4);
    case '{':
    case '[':
        m->kind = K_NESTED;
        return skip(r, 1);
    default: {
        bool fl;
        const char *s = r->p;
        dg_err rc = num(r, &fl);
        m->kind = K_NUM;
        m->s = s;
        m->slen = (size_t) (r->p - s);
        m->floaty = fl;
        return rc;
    }
    }
}

static bool named(const struct member *m, const char *name, size_t n)
{
    return m->nlen == n && memcmp(m->name, name, n) == 0;
}

/* The Edm type annotation of member i: the service writes it just before the
 * value, so that one is looked at first. */
static const char *annotation(const struct member *m, size_t count, size_t i)
{
    size_t n = m[i].nlen;
    char key[300];
    if (n > 255)
        return NULL;
    memcpy(key, m[i].name, n);
    memcpy(key + n, "@odata.type", 12);
    size_t kn = n + 11;
    if (i > 0 && named(&m[i - 1], key, kn))
        return m[i - 1].kind == K_STR ? m[i - 1].s : NULL;
    for (size_t k = 0; k < count; k++)
        if (k != i - 1 && named(&m[k], key, kn))
            return m[k].kind == K_STR ? m[k].s : NULL;
    return NULL;
}

static double number_of(const struct member *m)
{
    char buf[64];
    const char *t = m->s;
    if (m->slen < sizeof buf) {
        memcpy(buf, m->s, m->slen);
        buf[m->slen] = '\0';
        t = buf;
    }
    return strtod(t, NULL); /* the text ends at a character strtod stops at anyway */
}

static struct az_prop *push(az_entity *e, const struct member *m)
{
    struct az_prop *p = &e->props[e->n++];
    memset(p, 0, sizeof *p);
    p->name = m->name;
    return p;
}

/* The members of one object into an entity, by az_entity_from_json's rules. */
static dg_err to_entity(struct rd *r, size_t count, az_entity *out)
{
    struct member *m = r->m;
    memset(out, 0, sizeof *out);
    out->pk = "";
    out->rk = "";
    out->props = dg_arena_alloc(r->a, (count ? count : 1) * sizeof *out->props);
    out->cap = count ? count : 1;
    for (size_t i = 0; i < count; i++) {
        const struct member *it = &m[i];
        bool floaty = it->floaty;
        size_t nlen = it->nlen;
        const char *name = it->name;
        if (named(it, "PartitionKey", 12)) {
            if (it->kind == K_STR)
                out->pk = it->s;
            continue;
        }
        if (named(it, "RowKey", 6)) {
            if (it->kind == K_STR)
                out->rk = it->s;
            continue;
        }
        if (named(it, "odata.etag", 10)) {
            if (it->kind == K_STR)
                out->etag = it->s;
            continue;
        }
        if (memchr(name, '@', nlen) || (nlen >= 6 && memcmp(name, "odata.", 6) == 0))
            continue;
        if (named(it, "Timestamp", 9)) {
            if (it->kind == K_STR && dg_iso_parse(it->s, it->slen, &out->timestamp))
                return DG_EBADRESP;
            continue;
        }
        if (it->kind == K_NULL)
            continue;
        if (it->kind == K_NESTED)
            return DG_EBADRESP;
        const char *type = annotation(m, count, i);
        struct az_prop *p;
        if (type && strcmp(type, "Edm.Int64") == 0) {
            if (it->kind != K_STR || !it->slen)
                return DG_EBADRESP;
            const char *d = it->s[0] == '-' ? it->s + 1 : it->s;
            if (*d < '0' || *d > '9')
                return DG_EBADRESP;
            char *end;
            errno = 0;
            long long v = strtoll(it->s, &end, 10);
            if (errno || *end)
                return DG_EBADRESP;
            p = push(out, it);
            p->type = AZ_EDM_INT64;
            p->i = v;
        } else if (type && strcmp(type, "Edm.DateTime") == 0) {
            dg_ticks t;
            if (it->kind != K_STR || dg_iso_parse(it->s, it->slen, &t))
                return DG_EBADRESP;
            p = push(out, it);
            p->type = AZ_EDM_DATETIME;
            p->i = t;
        } else if (type && strcmp(type, "Edm.Double") == 0) {
            double d;
            if (it->kind == K_NUM)
                d = number_of(it);
            else if (it->kind == K_STR && strcmp(it->s, "NaN") == 0)
                d = NAN;
            else if (it->kind == K_STR && strcmp(it->s, "Infinity") == 0)
                d = INFINITY;
            else if (it->kind == K_STR && strcmp(it->s, "-Infinity") == 0)
                d = -INFINITY;
            else
                return DG_EBADRESP;
            p = push(out, it);
            p->type = AZ_EDM_DOUBLE;
            p->d = d;
        } else if (type && strcmp(type, "Edm.Guid") == 0) {
            if (it->kind != K_STR)
                return DG_EBADRESP;
            p = push(out, it);
            p->type = AZ_EDM_GUID;
            p->s = it->s;
            p->slen = it->slen;
        } else if (type && strcmp(type, "Edm.Binary") == 0) {
            unsigned char *bytes;
            size_t n;
            if (it->kind != K_STR || dg_b64_decode(r->a, it->s, it->slen, &bytes, &n))
                return DG_EBADRESP;
            char *copy = dg_arena_alloc(r->a, n + 1);
            if (n)
                memcpy(copy, bytes, n);
            copy[n] = '\0';
            p = push(out, it);
            p->type = AZ_EDM_BINARY;
            p->s = copy;
            p->slen = n;
        } else if (type && strcmp(type, "Edm.Int32") == 0) {
            double d = it->kind == K_NUM ? number_of(it) : 0.5;
            if (it->kind != K_NUM || d != floor(d) || d < -2147483648.0 || d > 2147483647.0)
                return DG_EBADRESP;
            p = push(out, it);
            p->type = AZ_EDM_INT32;
            p->i = (int32_t) d;
        } else if (it->kind == K_STR) {
            p = push(out, it);
            p->type = AZ_EDM_STRING;
            p->s = it->s;
            p->slen = it->slen;
        } else if (it->kind == K_TRUE || it->kind == K_FALSE) {
            p = push(out, it);
            p->type = AZ_EDM_BOOL;
            p->b = it->kind == K_TRUE;
        } else {
            double d = number_of(it);
            bool integral = d == floor(d) && d >= -2147483648.0 && d <= 2147483647.0 && !floaty;
            p = push(out, it);
            if (!type && integral) {
                p->type = AZ_EDM_INT32;
                p->i = (int32_t) d;
            } else {
                p->type = AZ_EDM_DOUBLE;
                p->d = d;
            }
        }
    }
    return DG_OK;
}

/* The object at r->p into *out. */
static dg_err object(struct rd *r, az_entity *out)
{
    ws(r);
    if (r->p >= r->end || *r->p != '{')
        return DG_EBADRESP;
    r->p++;
    size_t count = 0;
    ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return to_entity(r, 0, out);
    }
    for (;;) {
        ws(r);
        if (count == r->cap) {
            size_t ncap = r->cap ? r->cap * 2 : 32;
            struct member *nm = dg_arena_alloc(r->a, ncap * sizeof *nm);
            if (count)
                memcpy(nm, r->m, count * sizeof *nm);
            r->m = nm;
            r->cap = ncap;
        }
        struct member *m = &r->m[count];
        m->floaty = false;
        if (r->p >= r->end || *r->p != '"' || str(r, &m->name, &m->nlen))
            return DG_EBADRESP;
        ws(r);
        if (r->p >= r->end || *r->p++ != ':')
            return DG_EBADRESP;
        if (member_value(r, m))
            return DG_EBADRESP;
        count++;
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return to_entity(r, count, out);
        }
        return DG_EBADRESP;
    }
}

static bool at_end(struct rd *r)
{
    ws(r);
    return r->p == r->end;
}

dg_err az_entity_parse(dg_arena *a, const char *json, size_t len, az_entity *out)
{
    struct rd r = {json, json + len, a, NULL, 0};
    if (memchr(json, '\0', len))
        return DG_EBADRESP;
    dg_err rc = object(&r, out);
    return !rc && !at_end(&r) ? DG_EBADRESP : rc;
}

dg_err az_entities_parse(dg_arena *a, const char *json, size_t len, az_entity **items, size_t *n)
{
    struct rd r = {json, json + len, a, NULL, 0};
    *items = NULL;
    *n = 0;
    if (memchr(json, '\0', len))
        return DG_EBADRESP;
    bool seen = false;
    ws(&r);
    if (r.p >= r.end || *r.p++ != '{')
        return DG_EBADRESP;
    ws(&r);
    if (r.p < r.end && *r.p == '}')
        r.p++;
    else
        for (;;) {
            const char *name;
            size_t nlen;
            ws(&r);
            if (r.p >= r.end || *r.p != '"' || str(&r, &name, &nlen))
                return DG_EBADRESP;
            ws(&r);
            if (r.p >= r.end || *r.p++ != ':')
                return DG_EBADRESP;
            ws(&r);
            if (nlen == 5 && memcmp(name, "value", 5) == 0 && r.p < r.end && *r.p == '[') {
                size_t k = 0, vcap = 16;
                az_entity *v = dg_arena_alloc(a, vcap * sizeof *v);
                r.p++;
                ws(&r);
                if (r.p < r.end && *r.p == ']')
                    r.p++;
                else
                    for (;;) {
                        if (k == vcap) {
                            az_entity *nv = dg_arena_alloc(a, vcap * 2 * sizeof *nv);
                            memcpy(nv, v, k * sizeof *nv);
                            v = nv;
                            vcap *= 2;
                        }
                        if (object(&r, &v[k]))
                            return DG_EBADRESP;
                        k++;
                        ws(&r);
                        if (r.p < r.end && *r.p == ',') {
                            r.p++;
                            continue;
                        }
                        if (r.p < r.end && *r.p == ']') {
                            r.p++;
                            break;
                        }
                        return DG_EBADRESP;
                    }
                *items = v;
                *n = k;
                seen = true;
            } else if (skip(&r, 1)) {
                return DG_EBADRESP;
            }
            ws(&r);
            if (r.p < r.end && *r.p == ',') {
                r.p++;
                continue;
            }
            if (r.p < r.end && *r.p == '}') {
                r.p++;
                break;
            }
            return DG_EBADRESP;
        }
    return seen && at_end(&r) ? DG_OK : DG_EBADRESP;
}
