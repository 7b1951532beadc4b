#include "storage/entity.h"

#include "base/b64.h"
#include "base/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void az_entity_init(az_entity *e, dg_arena *a, const char *pk, const char *rk)
{
    memset(e, 0, sizeof *e);
    e->pk = dg_arena_strdup(a, pk ? pk : "");
    e->rk = dg_arena_strdup(a, rk ? rk : "");
}

bool az_prop_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 255 || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static struct az_prop *slot(az_entity *e, dg_arena *a, const char *name)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->props[i].name, name) == 0)
            return &e->props[i];
    if (e->n == e->cap) {
        size_t ncap = e->cap ? e->cap * 2 : 8;
        struct az_prop *np = dg_arena_alloc(a, ncap * sizeof *np);
        if (e->n)
            memcpy(np, e->props, e->n * sizeof *np);
        e->props = np;
        e->cap = ncap;
    }
    struct az_prop *p = &e->props[e->n++];
    memset(p, 0, sizeof *p);
    p->name = dg_arena_strdup(a, name);
    return p;
}

void az_entity_set_strn(az_entity *e, dg_arena *a, const char *name, const char *v, size_t n)
{
    struct az_prop *p = slot(e, a, name);
    p->type = AZ_EDM_STRING;
    p->s = dg_arena_strndup(a, v, n);
    p->slen = n;
}

void az_entity_set_str(az_entity *e, dg_arena *a, const char *name, const char *v)
{
    az_entity_set_strn(e, a, name, v, strlen(v));
}

void az_entity_set_i32(az_entity *e, dg_arena *a, const char *name, int32_t v)
{
    struct az_prop *p = slot(e, a, name);
    p->type = AZ_EDM_INT32;
    p->i = v;
}

void az_entity_set_i64(az_entity *e, dg_arena *a, const char *name, int64_t v)
{
    struct az_prop *p = slot(e, a, name);
    p->type = AZ_EDM_INT64;
    p->i = v;
}

void az_entity_set_bool(az_entity *e, dg_arena *a, const char *name, bool v)
{
    struct az_prop *p = slot(e, a, name);
    p->type = AZ_EDM_BOOL;
    p->b = v;
}

void az_entity_set_double(az_entity *e, dg_arena *a, const char *name, double v)
{
    struct az_prop *p = slot(e, a, name);
    p->type = AZ_EDM_DOUBLE;
    p->d = v;
}

void az_entity_set_datetime(az_entity *e, dg_arena *a, const char *name, dg_ticks v)
{
    struct az_prop *p = slot(e, a, name);
    p->type = AZ_EDM_DATETIME;
    p->i = v;
}

void az_entity_set_guid(az_entity *e, dg_arena *a, const char *name, const char *v)
{
    struct az_prop *p = slot(e, a, name);
    p->type = AZ_EDM_GUID;
    p->s = dg_arena_strdup(a, v);
    p->slen = strlen(v);
}

void az_entity_set_binary(az_entity *e, dg_arena *a, const char *name, const void *v, size_t n)
{
    struct az_prop *p = slot(e, a, name);
    p->type = AZ_EDM_BINARY;
    char *copy = dg_arena_alloc(a, n + 1);
    if (n)
        memcpy(copy, v, n);
    copy[n] = '\0';
    p->s = copy;
    p->slen = n;
}

bool az_entity_remove(az_entity *e, const char *name)
{
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->props[i].name, name) == 0) {
            memmove(&e->props[i], &e->props[i + 1], (e->n - i - 1) * sizeof *e->props);
            e->n--;
            return true;
        }
    }
    return false;
}

const struct az_prop *az_entity_get(const az_entity *e, const char *name)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->props[i].name, name) == 0)
            return &e->props[i];
    return NULL;
}

const char *az_entity_str(const az_entity *e, const char *name)
{
    const struct az_prop *p = az_entity_get(e, name);
    return p && (p->type == AZ_EDM_STRING || p->type == AZ_EDM_GUID) ? p->s : NULL;
}

int64_t az_entity_int(const az_entity *e, const char *name, int64_t fallback)
{
    const struct az_prop *p = az_entity_get(e, name);
    return p && (p->type == AZ_EDM_INT32 || p->type == AZ_EDM_INT64) ? p->i : fallback;
}

bool az_entity_bool(const az_entity *e, const char *name, bool fallback)
{
    const struct az_prop *p = az_entity_get(e, name);
    return p && p->type == AZ_EDM_BOOL ? p->b : fallback;
}

double az_entity_double(const az_entity *e, const char *name, double fallback)
{
    const struct az_prop *p = az_entity_get(e, name);
    return p && p->type == AZ_EDM_DOUBLE ? p->d : fallback;
}

dg_ticks az_entity_datetime(const az_entity *e, const char *name, dg_ticks fallback)
{
    const struct az_prop *p = az_entity_get(e, name);
    return p && p->type == AZ_EDM_DATETIME ? p->i : fallback;
}

/* The shortest decimal text that reads back as exactly d. cJSON prints 15
 * digits whenever they come within an epsilon of the value, which loses the
 * last bits of many doubles (-8.8888888888888892e+111 came back as
 * ...889e+111); 17 digits always suffice. */
static const char *exact_double(char *buf, size_t cap, double d)
{
    for (int digits = 15; digits < 17; digits++) {
        snprintf(buf, cap, "%.*g", digits, d);
        if (strtod(buf, NULL) == d)
            return buf;
    }
    snprintf(buf, cap, "%.17g", d);
    return buf;
}

static void annotate(cJSON *o, const char *name, const char *type)
{
    char key[300];
    snprintf(key, sizeof key, "%s@odata.type", name);
    cJSON_AddStringToObject(o, key, type);
}

dg_err az_entity_to_json(const az_entity *e, bool with_keys, dg_buf *out)
{
    dg_err rc = DG_OK;
    dg_arena *tmp = NULL;
    cJSON *o = cJSON_CreateObject();
    if (with_keys) {
        cJSON_AddStringToObject(o, "PartitionKey", e->pk);
        cJSON_AddStringToObject(o, "RowKey", e->rk);
    }
    for (size_t i = 0; i < e->n; i++) {
        const struct az_prop *p = &e->props[i];
        if (!az_prop_name_ok(p->name) || strcmp(p->name, "PartitionKey") == 0 ||
            strcmp(p->name, "RowKey") == 0 || strcmp(p->name, "Timestamp") == 0) {
            rc = DG_EINVAL;
            goto out;
        }
        char num[32];
        switch (p->type) {
        case AZ_EDM_STRING: {
            if (memchr(p->s, '\0', p->slen)) {
                rc = DG_EINVAL; /* cJSON strings stop at NUL: refuse rather than truncate */
                goto out;
            }
            cJSON_AddStringToObject(o, p->name, p->s);
            break;
        }
        case AZ_EDM_INT32:
            cJSON_AddNumberToObject(o, p->name, (double) p->i);
            break;
        case AZ_EDM_INT64:
            snprintf(num, sizeof num, "%lld", (long long) p->i);
            cJSON_AddStringToObject(o, p->name, num);
            annotate(o, p->name, "Edm.Int64");
            break;
        case AZ_EDM_BOOL:
            cJSON_AddBoolToObject(o, p->name, p->b);
            break;
        case AZ_EDM_DOUBLE:
            if (isnan(p->d))
                cJSON_AddStringToObject(o, p->name, "NaN");
            else if (isinf(p->d))
                cJSON_AddStringToObject(o, p->name, p->d > 0 ? "Infinity" : "-Infinity");
            else
                cJSON_AddRawToObject(o, p->name, exact_double(num, sizeof num, p->d));
            annotate(o, p->name, "Edm.Double");
            break;
        case AZ_EDM_DATETIME: {
            char iso[DG_ISO_LEN];
            dg_iso_format(p->i, iso);
            cJSON_AddStringToObject(o, p->name, iso);
            annotate(o, p->name, "Edm.DateTime");
            break;
        }
        case AZ_EDM_GUID:
            cJSON_AddStringToObject(o, p->name, p->s);
            annotate(o, p->name, "Edm.Guid");
            break;
        case AZ_EDM_BINARY:
            if (!tmp)
                tmp = dg_arena_create();
            cJSON_AddStringToObject(o, p->name, dg_b64_encode(tmp, p->s, p->slen));
            annotate(o, p->name, "Edm.Binary");
            break;
        }
    }
    char *txt = dg_json_print(o);
    rc = dg_buf_adds(out, txt);
    cJSON_free(txt);
out:
    cJSON_Delete(o);
    dg_arena_destroy(tmp);
    return rc;
}

static const char *annotation_of(const cJSON *obj, const char *name)
{
    char key[300];
    snprintf(key, sizeof key, "%s@odata.type", name);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

/* An Edm.Int64 as the service writes it: an optional '-' and decimal digits,
 * within range (strtoll alone also takes blanks, '+' and an out-of-range
 * value clamped). */
static dg_err parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return DG_EBADRESP;
    const char *d = *s == '-' ? s + 1 : s;
    if (*d < '0' || *d > '9')
        return DG_EBADRESP;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return DG_EBADRESP;
    *out = v;
    return DG_OK;
}

/* The index of the quote that closes the string opened at json[i]. */
static size_t skip_string(const char *json, size_t i, size_t len)
{
    size_t start = i + 1;
    for (i = start; i < len;) {
        const char *q = memchr(json + i, '"', len - i);
        if (!q)
            return len;
        size_t j = (size_t) (q - json), b = 0;
        while (j - b > start && json[j - b - 1] == '\\')
            b++;
        if (b % 2 == 0)
            return j; /* not escaped */
        i = j + 1;
    }
    return len;
}

void az_numscan_init(struct az_numscan *ns, dg_arena *a, const char *json, size_t len)
{
    size_t count = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t k = 0;
        for (size_t i = 0; i < len; i++) {
            char ch = json[i];
            if (ch == '"') {
                i = skip_string(json, i, len);
                continue;
            }
            if (ch == '-' || (ch >= '0' && ch <= '9')) {
                int fl = 0;
                while (i < len && (json[i] == '-' || json[i] == '+' || json[i] == '.' || json[i] == 'e' ||
                                   json[i] == 'E' || (json[i] >= '0' && json[i] <= '9'))) {
                    fl |= json[i] == '.' || json[i] == 'e' || json[i] == 'E';
                    i++;
                }
                i--;
                if (pass == 1)
                    ns->floaty[k] = (unsigned char) fl;
                k++;
            }
        }
        if (pass == 0) {
            count = k;
            if (count == 0)
                break; /* no number: no second pass */
            ns->floaty = dg_arena_alloc(a, count);
        }
    }
    if (count == 0)
        ns->floaty = NULL;
    ns->n = count;
    ns->pos = 0;
}

dg_err az_entity_from_json(dg_arena *a, const cJSON *obj, struct az_numscan *ns, az_entity *out)
{
    if (!cJSON_IsObject(obj))
        return DG_EBADRESP;
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(obj, "PartitionKey");
    const cJSON *rk = cJSON_GetObjectItemCaseSensitive(obj, "RowKey");
    az_entity_init(out, a, cJSON_IsString(pk) ? pk->valuestring : "",
                   cJSON_IsString(rk) ? rk->valuestring : "");
    const cJSON *etag = cJSON_GetObjectItemCaseSensitive(obj, "odata.etag");
    if (cJSON_IsString(etag))
        out->etag = dg_arena_strdup(a, etag->valuestring);
    for (const cJSON *it = obj->child; it; it = it->next) {
        const char *name = it->string;
        if (name && cJSON_IsNumber(it) && ns && (strchr(name, '@') || strncmp(name, "odata.", 6) == 0) &&
            ns->pos < ns->n)
            ns->pos++; /* a number we skip still takes its place in the scan */
        if (!name || strchr(name, '@') || strncmp(name, "odata.", 6) == 0 ||
            strcmp(name, "PartitionKey") == 0 || strcmp(name, "RowKey") == 0)
            continue;
        int floaty = -1; /* unknown */
        if (cJSON_IsNumber(it) && ns)
            floaty = ns->pos < ns->n ? ns->floaty[ns->pos++] : -1;
        const char *type = annotation_of(obj, name);
        if (strcmp(name, "Timestamp") == 0) {
            if (cJSON_IsString(it) && dg_iso_parse(it->valuestring, strlen(it->valuestring), &out->timestamp))
                return DG_EBADRESP;
            continue;
        }
        if (cJSON_IsNull(it))
            continue;
        if (type && strcmp(type, "Edm.Int64") == 0) {
            int64_t v;
            if (!cJSON_IsString(it) || parse_i64(it->valuestring, &v))
                return DG_EBADRESP;
            az_entity_set_i64(out, a, name, v);
        } else if (type && strcmp(type, "Edm.DateTime") == 0) {
            dg_ticks t;
            if (!cJSON_IsString(it) || dg_iso_parse(it->valuestring, strlen(it->valuestring), &t))
                return DG_EBADRESP;
            az_entity_set_datetime(out, a, name, t);
        } else if (type && strcmp(type, "Edm.Double") == 0) {
            double d;
            if (cJSON_IsNumber(it))
                d = it->valuedouble;
            else if (cJSON_IsString(it) && strcmp(it->valuestring, "NaN") == 0)
                d = NAN;
            else if (cJSON_IsString(it) && strcmp(it->valuestring, "Infinity") == 0)
                d = INFINITY;
            else if (cJSON_IsString(it) && strcmp(it->valuestring, "-Infinity") == 0)
                d = -INFINITY;
            else
                return DG_EBADRESP;
            az_entity_set_double(out, a, name, d);
        } else if (type && strcmp(type, "Edm.Guid") == 0) {
            if (!cJSON_IsString(it))
                return DG_EBADRESP;
            az_entity_set_guid(out, a, name, it->valuestring);
        } else if (type && strcmp(type, "Edm.Binary") == 0) {
            unsigned char *bytes;
            size_t n;
            if (!cJSON_IsString(it) || dg_b64_decode(a, it->valuestring, strlen(it->valuestring), &bytes, &n))
                return DG_EBADRESP;
            az_entity_set_binary(out, a, name, bytes, n);
        } else if (type && strcmp(type, "Edm.Int32") == 0) {
            /* Converting 1e100 or 1.5 to int32_t is undefined: an answer we cannot read. */
            double d = it->valuedouble;
            if (!cJSON_IsNumber(it) || d != floor(d) || d < -2147483648.0 || d > 2147483647.0)
                return DG_EBADRESP;
            az_entity_set_i32(out, a, name, (int32_t) d);
        } else if (cJSON_IsString(it)) {
            az_entity_set_str(out, a, name, it->valuestring);
        } else if (cJSON_IsBool(it)) {
            az_entity_set_bool(out, a, name, cJSON_IsTrue(it));
        } else if (cJSON_IsNumber(it)) {
            double d = it->valuedouble;
            int integral = d == floor(d) && d >= -2147483648.0 && d <= 2147483647.0 && floaty != 1;
            if (!type && integral)
                az_entity_set_i32(out, a, name, (int32_t) d);
            else
                az_entity_set_double(out, a, name, d);
        } else {
            return DG_EBADRESP;
        }
    }
    return DG_OK;
}
