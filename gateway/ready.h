/* Readiness (/readyz): whether the default connection's storage answered
 * lately. One cheap read a second on the background loop, shared by every
 * probe; a probe itself never waits on storage. */
#ifndef GW_READY_H
#define GW_READY_H

#include "storage/client.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct dg_loop;
struct dg_co;

struct gw_ready {
    struct dg_loop *loop;
    az_client *storage;
    const char *hub;
    struct dg_co *co;
    _Atomic int64_t last_ok_ms; /* dg_mono_ms() of the last answer; 0: none yet */
    _Atomic bool ended;
};

#define GW_READY_WINDOW_MS 5000 /* ready while storage answered within this */
#define GW_READY_EVERY_MS  1000

/* Starts the probing coroutine on loop (which another thread runs). */
void gw_ready_start(struct gw_ready *r, struct dg_loop *loop, az_client *storage, const char *hub);
/* Ends it and waits until it has (before the loop stops). */
void gw_ready_stop(struct gw_ready *r);
bool gw_ready_ok(struct gw_ready *r);
/* Milliseconds since storage last answered; -1: never. */
int64_t gw_ready_age_ms(struct gw_ready *r);

#endif
