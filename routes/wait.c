/* The long-poll's route side (routes/wait.h, docs/http-api.md §4.2). */
#include "routes/wait.h"

#include "base/json.h"
#include "routes/handlers.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

/* Decimal seconds: digits with an optional fraction ("2", "0.5", ".5", "2."),
 * nothing else: no sign, blanks, exponent, hex (strtod read 0x10 as 16), inf or nan. */
static bool decimal_seconds(const char *v)
{
    size_t i = 0, digits = 0;
    for (; v[i] >= '0' && v[i] <= '9'; i++)
        digits++;
    if (v[i] == '.')
        for (i++; v[i] >= '0' && v[i] <= '9'; i++)
            digits++;
    return digits > 0 && v[i] == '\0';
}

/* Seconds, fractions allowed, to milliseconds; -1 when not a decimal number. */
static int64_t seconds_ms(const char *v)
{
    if (!decimal_seconds(v))
        return -1;
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d) || d > 1e9)
        return -1;
    return (int64_t) llround(d * 1000.0);
}

bool rt_wait_params(const rt_ctx *c, rt_response *rs, const char *interval_name, bool always,
                    struct rt_wait_spec *out)
{
    dg_arena *a = c->rq->arena;
    const struct rt_wait_limits *l = c->env->waits;
    const char *tv = rt_query(c, "timeout");
    const char *iv = rt_query(c, interval_name);
    memset(out, 0, sizeof *out);
    out->wanted = always || tv || iv;
    if (!out->wanted)
        return true;
    out->timeout_ms = l ? l->default_timeout_ms : 10000;
    out->interval_ms = l ? l->default_interval_ms : 1000;
    if (tv && (out->timeout_ms = seconds_ms(tv)) <= 0) {
        rt_set_error(rs, a, 400, "One or more of the arguments submitted is incorrect",
                     "The 'timeout' parameter must be a positive number of seconds.",
                     "System.ArgumentException");
        return false;
    }
    if (iv && (out->interval_ms = seconds_ms(iv)) <= 0) {
        rt_set_error(
            rs, a, 400, "One or more of the arguments submitted is incorrect",
            dg_arena_printf(a, "The '%s' parameter must be a positive number of seconds.", interval_name),
            "System.ArgumentException");
        return false;
    }
    if (iv && out->interval_ms > out->timeout_ms) {
        const char *msg =
            dg_arena_printf(a, "Total timeout %s should be bigger than retry timeout %s", tv ? tv : "10", iv);
        rt_set_error(rs, a, 400, msg, msg, "System.ArgumentException");
        return false;
    }
    /* The caps, then an interval never longer than the time left to wait (a
     * default interval under a short timeout, or a timeout cut by the cap). */
    if (l && out->timeout_ms > l->max_timeout_ms)
        out->timeout_ms = l->max_timeout_ms;
    if (l && out->interval_ms < l->min_interval_ms)
        out->interval_ms = l->min_interval_ms;
    if (out->interval_ms > out->timeout_ms)
        out->interval_ms = out->timeout_ms;
    return true;
}

bool rt_wait_reserve(const rt_ctx *c, rt_response *rs)
{
    struct rt_wait_limits *l = c->env->waits;
    if (l) {
        long n = atomic_fetch_add(&l->active, 1) + 1;
        if (n <= l->max_waiters)
            return true;
        atomic_fetch_sub(&l->active, 1);
    }
    rt_set_message(rs, c->rq->arena, 503,
                   "The gateway holds as many waiting requests as it is configured to; retry later.");
    rt_set_header(rs, c->rq->arena, "Retry-After", "1");
    return false;
}

void rt_wait_release(const struct rt_env *env)
{
    if (env->waits)
        atomic_fetch_sub(&env->waits->active, 1);
}

static const char *dup(dg_arena *a, const char *s)
{
    return s ? dg_arena_strdup(a, s) : NULL;
}

/* A held request lives long and by the thousand, so it keeps only what its
 * answer needs, in an arena of its own, and the request's arena (headers,
 * body, the storage calls made so far) can go. */
void rt_wait_hold(const rt_ctx *c, rt_response *rs, const char *id, const struct rt_wait_spec *spec,
                  bool failure_is_200)
{
    dg_arena *a = dg_arena_create_sized(1024 - 64);
    struct rt_wait *w = dg_arena_zalloc(a, sizeof *w);
    const rt_request *rq = c->rq;
    w->rq = (rt_request){.arena = a,
                         .reqid = dup(a, rq->reqid),
                         .method = dup(a, rq->method),
                         .path = dup(a, rq->path),
                         .origin = dup(a, rq->origin),
                         .raw_query = dup(a, rq->raw_query),
                         .body = "",
                         .t0_ms = rq->t0_ms};
    w->ctx = *c;
    w->ctx.rq = &w->rq;
    w->ctx.hub = dup(a, c->hub);
    w->ctx.connection = dup(a, c->connection);
    w->ctx.origin = dup(a, c->origin);
    w->ctx.url = dup(a, c->url);
    w->ctx.key = dup(a, c->key);
    /* Answers are status answers for the instance waited on, whatever route
     * held the request (orchestrators/{name}/... or instances/{old}/restart). */
    w->ctx.seg[0] = "instances";
    w->ctx.seg[1] = dup(a, id);
    w->ctx.nseg = 2;
    w->ctx.query = dg_arena_alloc(a, (c->nquery ? c->nquery : 1) * sizeof *w->ctx.query);
    for (size_t i = 0; i < c->nquery; i++)
        w->ctx.query[i] = (struct rt_param){dup(a, c->query[i].name), dup(a, c->query[i].value)};
    w->id = dup(a, id);
    w->interval_ms = spec->interval_ms;
    int64_t t0 = rq->t0_ms ? rq->t0_ms : dg_mono_ms();
    w->deadline_ms = t0 + spec->timeout_ms;
    w->failure_is_200 = failure_is_200;
    memset(rs, 0, sizeof *rs);
    rs->wait = w;
}

void rt_wait_timeout(struct rt_wait *w, rt_response *rs)
{
    memset(rs, 0, sizeof *rs);
    rt_set_check_status(&w->ctx, rs, w->id);
}

dg_err rt_wait_read_status(const struct rt_wait *w, dg_arena *a, const char **status)
{
    az_ctx x;
    az_ctx_init(&x, a);
    x.reqid = w->rq.reqid;
    return hub_instance_status(w->ctx.storage, &x, w->ctx.hub, w->id, status);
}

dg_err rt_wait_read_final(const struct rt_wait *w, dg_arena *a, struct hub_instance *in)
{
    az_ctx x;
    az_ctx_init(&x, a);
    x.reqid = w->rq.reqid;
    return hub_instance_get(w->ctx.storage, &x, w->ctx.hub, w->id, HUB_GET_INPUT | HUB_GET_OUTPUT, in);
}

struct rt_shared *rt_wait_completed_body(const struct hub_instance *in)
{
    if (!in->runtime_status || strcmp(in->runtime_status, "Completed") != 0)
        return NULL;
    cJSON *v = rt_stored_value(in->output);
    char *txt = dg_json_print(v);
    cJSON_Delete(v);
    struct rt_shared *sh = rt_shared_new(txt ? txt : "null", txt ? strlen(txt) : 4);
    cJSON_free(txt);
    return sh;
}

void rt_wait_answer(struct rt_wait *w, const struct hub_instance *in, struct rt_shared *completed_body,
                    rt_response *rs)
{
    memset(rs, 0, sizeof *rs);
    if (completed_body) {
        rt_set_json_shared(rs, 200, completed_body);
        return;
    }
    if (rt_query_bool(&w->ctx, "showHistory", false)) {
        /* The full status answer with its history: read again for this waiter. */
        rt_get_status(&w->ctx, rs);
    } else {
        rt_status_answer(&w->ctx, in, rs);
    }
    if (w->failure_is_200 && rs->status == 500 && in->runtime_status &&
        strcmp(in->runtime_status, "Failed") == 0)
        rs->status = 200;
}

void rt_wait_instance(const rt_ctx *c, rt_response *rs)
{
    struct rt_wait_spec spec;
    if (!rt_wait_params(c, rs, "retryInterval", true, &spec))
        return;
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub_instance in;
    dg_err rc = hub_instance_get(c->storage, &x, c->hub, c->seg[1], 0, &in);
    if (rc) {
        rt_storage_error(c, rs, rc); /* 404 when there is no such instance */
        return;
    }
    if (!hub_status_active(in.runtime_status)) {
        /* Finished already: answer as a finished wait would. */
        struct rt_wait w = {.ctx = *c, .rq = *c->rq, .id = c->seg[1]};
        w.ctx.rq = &w.rq;
        if ((rc = rt_wait_read_final(&w, c->rq->arena, &in)) != DG_OK) {
            rt_storage_error(c, rs, rc);
            return;
        }
        struct rt_shared *body = rt_wait_completed_body(&in);
        rt_wait_answer(&w, &in, body, rs);
        rt_shared_unref(body);
        return;
    }
    if (!rt_wait_reserve(c, rs))
        return;
    rt_wait_hold(c, rs, c->seg[1], &spec, false);
}
