#include "gateway/ready.h"

#include "base/log.h"
#include "base/loop.h"
#include "base/time.h"
#include "storage/table.h"
#include "taskhub/hub.h"

#include <stdio.h>
#include <unistd.h>

static void probe(void *arg)
{
    struct gw_ready *r = arg;
    dg_arena *a = dg_arena_create();
    const char *table = hub_table_name(a, r->hub, "Instances");
    char name[64];
    snprintf(name, sizeof name, "%s", table);
    dg_arena_reset(a);
    while (dg_co_cancelled() == DG_CANCEL_NONE) {
        az_ctx x;
        az_ctx_init(&x, a);
        x.deadline_ms = dg_mono_ms() + 2000;
        struct az_query q = {.select = "PartitionKey", .top = 1};
        struct az_page pg;
        dg_err rc = az_table_query(r->storage, &x, name, &q, &pg);
        /* Any answer of the service counts, a missing table too (a hub not
         * made yet); refused credentials, 5xx and silence do not. */
        if (rc == DG_OK || rc == DG_ENOTFOUND)
            atomic_store(&r->last_ok_ms, dg_mono_ms());
        else if (rc != DG_ECANCELED)
            DG_DEBUG(NULL, "readiness: storage: %s", dg_err_str(rc));
        dg_arena_reset(a);
        if (!dg_co_sleep_ms(GW_READY_EVERY_MS))
            break;
    }
    dg_arena_destroy(a);
}

static void probe_done(struct dg_co *co, void *arg)
{
    (void) co;
    struct gw_ready *r = arg;
    r->co = NULL;
    atomic_store(&r->ended, true);
}

static void start_on_loop(void *arg)
{
    struct gw_ready *r = arg;
    r->co = dg_co_create(r->loop, probe, r, probe_done);
    dg_co_start(r->co);
}

static void stop_on_loop(void *arg)
{
    struct gw_ready *r = arg;
    if (r->co)
        dg_co_cancel(r->co, DG_CANCEL_SHUTDOWN);
}

void gw_ready_start(struct gw_ready *r, struct dg_loop *loop, az_client *storage, const char *hub)
{
    r->loop = loop;
    r->storage = storage;
    r->hub = hub;
    r->co = NULL;
    atomic_init(&r->last_ok_ms, 0);
    atomic_init(&r->ended, false);
    dg_loop_post(loop, start_on_loop, r);
}

void gw_ready_stop(struct gw_ready *r)
{
    if (!r->loop)
        return;
    dg_loop_post(r->loop, stop_on_loop, r);
    while (!atomic_load(&r->ended))
        usleep(1000);
}

bool gw_ready_ok(struct gw_ready *r)
{
    int64_t t = atomic_load(&r->last_ok_ms);
    return t && dg_mono_ms() - t <= GW_READY_WINDOW_MS;
}

int64_t gw_ready_age_ms(struct gw_ready *r)
{
    int64_t t = atomic_load(&r->last_ok_ms);
    return t ? dg_mono_ms() - t : -1;
}
