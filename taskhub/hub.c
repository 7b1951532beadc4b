#include "taskhub/hub.h"

#include "base/json.h"
#include "base/time.h"
#include "storage/blob.h"
#include "storage/queue.h"
#include "storage/table.h"
#include "taskhub/instance.h"
#include "taskhub/keys.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* A small cache of partition counts: hubs are few and the count is fixed for a
 * hub's life, so a linear table with a TTL is enough. It holds no state that
 * matters to correctness across replicas: a miss only costs a read. */
#define CACHE_SLOTS  64
#define CACHE_TTL_MS 60000

static struct {
    pthread_mutex_t mu;
    struct slot {
        const az_client *c;
        char name[46];
        unsigned partitions;
        int64_t expires;
    } s[CACHE_SLOTS];
    unsigned next;
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static bool cache_get(const az_client *c, const char *name, unsigned *partitions)
{
    bool hit = false;
    int64_t now = dg_mono_ms();
    pthread_mutex_lock(&cache.mu);
    for (unsigned i = 0; i < CACHE_SLOTS && !hit; i++) {
        struct slot *s = &cache.s[i];
        if (s->c == c && s->expires > now && strcmp(s->name, name) == 0) {
            *partitions = s->partitions;
            hit = true;
        }
    }
    pthread_mutex_unlock(&cache.mu);
    return hit;
}

static void cache_put(const az_client *c, const char *name, unsigned partitions)
{
    if (strlen(name) >= sizeof cache.s[0].name)
        return;
    pthread_mutex_lock(&cache.mu);
    struct slot *s = NULL;
    for (unsigned i = 0; i < CACHE_SLOTS && !s; i++)
        if (cache.s[i].c == c && strcmp(cache.s[i].name, name) == 0)
            s = &cache.s[i];
    if (!s)
        s = &cache.s[cache.next++ % CACHE_SLOTS];
    s->c = c;
    memcpy(s->name, name, strlen(name) + 1);
    s->partitions = partitions;
    s->expires = dg_mono_ms() + CACHE_TTL_MS;
    pthread_mutex_unlock(&cache.mu);
}

void hub_cache_forget(const az_client *c, const char *name)
{
    pthread_mutex_lock(&cache.mu);
    for (unsigned i = 0; i < CACHE_SLOTS; i++)
        if (cache.s[i].c == c && strcmp(cache.s[i].name, name) == 0)
            cache.s[i].expires = 0;
    pthread_mutex_unlock(&cache.mu);
}

void hub_cache_clear(void)
{
    pthread_mutex_lock(&cache.mu);
    memset(cache.s, 0, sizeof cache.s);
    pthread_mutex_unlock(&cache.mu);
}

const char *hub_table_name(dg_arena *a, const char *hub, const char *suffix)
{
    return dg_arena_printf(a, "%s%s", hub, suffix);
}

const char *hub_table(const struct hub *h, dg_arena *a, const char *suffix)
{
    return hub_table_name(a, h->name, suffix);
}

const char *hub_control_queue_name(const struct hub *h, dg_arena *a, unsigned p)
{
    return dg_arena_printf(a, "%s-control-%02u", h->lname, p);
}

const char *hub_control_queue(const struct hub *h, dg_arena *a, const char *id)
{
    return hub_control_queue_name(h, a, hub_partition(id, strlen(id), h->partitions));
}

/* Rows of {H}Partitions; 0 with DG_OK when the table is empty, DG_ENOTFOUND
 * when absent. *whole: the rows are exactly {h}-control-00 .. NN-1, not a hub
 * caught half-made (its leases are inserted one by one, or in parallel). */
static dg_err count_partition_rows(az_client *c, az_ctx *x, const char *table, const char *lname, unsigned *n,
                                   bool *whole)
{
    *n = 0;
    *whole = true;
    bool seen[HUB_MAX_PARTITIONS] = {false};
    size_t ln = strlen(lname);
    struct az_query q = {.select = "RowKey", .top = 100};
    for (int pages = 0; pages < 10; pages++) {
        struct az_page pg;
        dg_err rc = az_table_query(c, x, table, &q, &pg);
        if (rc)
            return rc;
        for (size_t i = 0; i < pg.n; i++) {
            const char *rk = pg.items[i].rk;
            unsigned p = 0;
            if (rk && strncmp(rk, lname, ln) == 0 && strncmp(rk + ln, "-control-", 9) == 0 &&
                strlen(rk + ln + 9) == 2 && sscanf(rk + ln + 9, "%2u", &p) == 1 && p < HUB_MAX_PARTITIONS)
                seen[p] = true;
            else
                *whole = false;
        }
        *n += (unsigned) pg.n;
        if (!pg.next_pk)
            break;
        q.next_pk = pg.next_pk;
        q.next_rk = pg.next_rk;
    }
    for (unsigned p = 0; p < *n && p < HUB_MAX_PARTITIONS; p++)
        if (!seen[p])
            *whole = false;
    return DG_OK;
}

/* PartitionCount of {h}-leases/taskhub.json (the blob lease managers). */
static dg_err taskhub_json_count(az_client *c, az_ctx *x, const char *lname, unsigned *n)
{
    char *data;
    size_t len;
    dg_err rc = az_blob_get(c, x, dg_arena_printf(x->arena, "%s-leases", lname), "taskhub.json", &data, &len);
    if (rc)
        return rc;
    cJSON *j = dg_json_parse(data, len);
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(j, "PartitionCount");
    rc = cJSON_IsNumber(pc) ? DG_OK : DG_EBADRESP;
    if (!rc)
        *n = (unsigned) pc->valueint;
    cJSON_Delete(j);
    return rc;
}

/* The hub's names, nothing read yet. */
static dg_err hub_names(az_client *c, dg_arena *a, const char *name, struct hub *out)
{
    memset(out, 0, sizeof *out);
    if (!hub_name_ok(name))
        return DG_EINVAL;
    out->c = c;
    out->name = dg_arena_strdup(a, name);
    char *l = dg_arena_strdup(a, name);
    for (char *p = l; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    out->lname = l;
    return DG_OK;
}

dg_err hub_open(az_client *c, az_ctx *x, const char *name, unsigned default_partitions, struct hub *out)
{
    if (hub_names(c, x->arena, name, out))
        return DG_EINVAL;
    const char *l = out->lname;
    if (default_partitions < 1 || default_partitions > HUB_MAX_PARTITIONS)
        default_partitions = 4;
    unsigned n;
    if (cache_get(c, name, &n)) {
        out->partitions = n;
        out->exists = true;
        return DG_OK;
    }
    bool whole = true;
    dg_err rc = count_partition_rows(c, x, hub_table(out, x->arena, "Partitions"), l, &n, &whole);
    if (rc == DG_ENOTFOUND)
        rc = taskhub_json_count(c, x, l, &n);
    if (rc == DG_ENOTFOUND || (rc == DG_OK && n == 0)) {
        out->partitions = default_partitions;
        return DG_OK; /* not made yet: hub_ensure makes it */
    }
    if (rc)
        return rc;
    if (n < 1 || n > HUB_MAX_PARTITIONS)
        return DG_EBADRESP;
    out->partitions = n;
    out->exists = true;
    if (whole)
        cache_put(c, name, n);
    return DG_OK;
}

static dg_err ignore_conflict(dg_err rc)
{
    return rc == DG_ECONFLICT ? DG_OK : rc;
}

dg_err hub_ensure(struct hub *h, az_ctx *x)
{
    if (h->exists)
        return DG_OK;
    az_client *c = h->c;
    dg_arena *a = x->arena;
    /* 1. The app-lease container and its info blob, made even without app leases. */
    const char *applease = dg_arena_printf(a, "%s-applease", h->lname);
    dg_err rc = az_container_create(c, x, applease);
    if (rc)
        return rc;
    const char *info = dg_arena_printf(a, "%s-appleaseinfo", h->lname);
    char *data;
    size_t len;
    rc = az_blob_get(c, x, applease, info, &data, &len);
    if (rc == DG_ENOTFOUND)
        rc = az_blob_put(c, x, applease, info, "{}", 2, "application/octet-stream", NULL);
    if (rc)
        return rc;
    /* 2. The lease store, 3. the tables, the queues and one lease row per control queue. */
    const char *ptable = hub_table(h, a, "Partitions");
    if ((rc = az_table_create(c, x, ptable)) || (rc = az_table_create(c, x, hub_table(h, a, "Instances"))) ||
        (rc = az_table_create(c, x, hub_table(h, a, "History"))) ||
        (rc = az_queue_create(c, x, dg_arena_printf(a, "%s-workitems", h->lname))))
        return rc;
    for (unsigned p = 0; p < h->partitions; p++) {
        const char *q = hub_control_queue_name(h, a, p);
        if ((rc = az_queue_create(c, x, q)) != DG_OK)
            return rc;
        /* An unowned lease: no owner, no times, not draining. */
        az_entity e;
        az_entity_init(&e, a, "", q);
        az_entity_set_bool(&e, a, "IsDraining", false);
        if ((rc = ignore_conflict(az_table_write(c, x, ptable, AZ_INSERT, &e, NULL, NULL))) != DG_OK)
            return rc;
    }
    h->exists = true;
    cache_put(c, h->name, h->partitions);
    return DG_OK;
}

/* One artefact deleted: its name noted, or nothing when it was not there. */
static dg_err deleted(dg_err rc, const char *name, struct hub_deleted *out)
{
    if (rc == DG_ENOTFOUND)
        return DG_OK;
    if (!rc && out->n < HUB_MAX_ARTEFACTS)
        out->names[out->n++] = name;
    return rc;
}

dg_err hub_delete(az_client *c, az_ctx *x, const char *name, struct hub_deleted *out)
{
    out->n = 0;
    dg_arena *a = x->arena;
    /* The names only: a delete needs no partition count (it tries every queue name). */
    struct hub h;
    if (hub_names(c, a, name, &h))
        return DG_EINVAL;
    const char *l = h.lname;
    dg_err rc = DG_OK;
    for (unsigned p = 0; p < HUB_MAX_PARTITIONS && !rc; p++) {
        const char *q = hub_control_queue_name(&h, a, p);
        rc = deleted(az_queue_delete(c, x, q), q, out);
    }
    const char *wq = dg_arena_printf(a, "%s-workitems", l);
    if (!rc)
        rc = deleted(az_queue_delete(c, x, wq), wq, out);
    static const char *const tables[] = {"Instances", "History", "Partitions"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables && !rc; i++) {
        const char *t = hub_table(&h, a, tables[i]);
        rc = deleted(az_table_delete(c, x, t), t, out);
    }
    static const char *const containers[] = {"leases", "applease", "largemessages"};
    for (size_t i = 0; i < sizeof containers / sizeof *containers && !rc; i++) {
        const char *k = dg_arena_printf(a, "%s-%s", l, containers[i]);
        rc = az_container_delete(c, x, k);
        /* A running worker may hold the app lease on its container (412); the
         * provider ignores that too, and the container stays. */
        if (rc == DG_EPRECOND && strcmp(containers[i], "applease") == 0)
            rc = DG_ENOTFOUND;
        rc = deleted(rc, k, out);
    }
    hub_cache_forget(c, name);
    return rc;
}
