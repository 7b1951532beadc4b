/* libFuzzer target: entities as the Table service answers them
 * (az_entity_from_json with az_numscan_init, storage/entity.c): one entity
 * (a point read) or a query page's "value" array, with "@odata.type"
 * annotations. Every entity read must be writable again
 * (az_entity_to_json, unless a name is one the service refuses), and what is
 * written must read back to the same properties, types and values. */
#include "base/json.h"
#include "storage/entity.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool same_prop(const struct az_prop *p, const struct az_prop *q)
{
    if (!q || p->type != q->type)
        return false;
    switch (p->type) {
    case AZ_EDM_STRING:
    case AZ_EDM_GUID:
    case AZ_EDM_BINARY:
        return p->slen == q->slen && memcmp(p->s, q->s, p->slen) == 0;
    case AZ_EDM_INT32:
    case AZ_EDM_INT64:
    case AZ_EDM_DATETIME:
        return p->i == q->i;
    case AZ_EDM_BOOL:
        return p->b == q->b;
    case AZ_EDM_DOUBLE:
        return (isnan(p->d) && isnan(q->d)) || p->d == q->d;
    }
    return false;
}

static void round_trip(dg_arena *a, const az_entity *e)
{
    dg_buf b;
    dg_buf_init(&b, 8u << 20);
    if (az_entity_to_json(e, true, &b) == DG_OK) {
        cJSON *j = dg_json_parse(dg_buf_str(&b), b.len);
        if (!j)
            abort(); /* we wrote text that is not JSON */
        struct az_numscan ns;
        az_numscan_init(&ns, a, dg_buf_str(&b), b.len);
        az_entity back;
        if (az_entity_from_json(a, j, &ns, &back) != DG_OK)
            abort(); /* we cannot read what we write */
        if (strcmp(back.pk, e->pk) != 0 || strcmp(back.rk, e->rk) != 0 || back.n != e->n)
            abort();
        for (size_t i = 0; i < e->n; i++)
            if (!same_prop(&e->props[i], az_entity_get(&back, e->props[i].name)))
                abort();
        cJSON_Delete(j);
    }
    dg_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dg_arena *a = dg_arena_create();
    const char *text = (const char *) data;
    cJSON *j = dg_json_parse(text, size);
    if (j) {
        struct az_numscan ns;
        az_numscan_init(&ns, a, text, size);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "value");
        az_entity e;
        if (cJSON_IsArray(v)) { /* a query page, as az_table_query reads it */
            for (const cJSON *it = v->child; it; it = it->next)
                if (az_entity_from_json(a, it, &ns, &e) == DG_OK)
                    round_trip(a, &e);
                else
                    break;
        } else if (az_entity_from_json(a, j, &ns, &e) == DG_OK) {
            round_trip(a, &e);
        }
        /* Without the scan, as a caller that has no raw text reads it. */
        if (!cJSON_IsArray(v) && az_entity_from_json(a, j, NULL, &e) == DG_OK)
            round_trip(a, &e);
        cJSON_Delete(j);
    }
    dg_arena_destroy(a);
    return 0;
}
