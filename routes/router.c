#include "routes/router.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/url.h"
#include "base/utf8.h"
#include "routes/handlers.h"
#include "routes/status_read.h"
#include "taskhub/instance.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Route names for metrics and the access log (rt_route_names); a name may
 * cover several rows. */
enum {
    R_GET_STATUS = 1,
    R_START,
    R_RAISE_EVENT,
    R_TERMINATE,
    R_SUSPEND,
    R_RESUME,
    R_RESTART,
    R_REWIND,
    R_WAIT,
    R_LIST_INSTANCES,
    R_PURGE_INSTANCE,
    R_PURGE_BY_FILTER,
    R_DELETE_TASK_HUB,
    R_LIST_ENTITIES,
    R_GET_ENTITY,
    R_SIGNAL_ENTITY,
    R_START_AND_WAIT,
    R_COUNT_INSTANCES,
    R_END,
};

static const char *const route_names[R_END - 1] = {
    [R_GET_STATUS - 1] = "get_status",
    [R_START - 1] = "start",
    [R_RAISE_EVENT - 1] = "raise_event",
    [R_TERMINATE - 1] = "terminate",
    [R_SUSPEND - 1] = "suspend",
    [R_RESUME - 1] = "resume",
    [R_RESTART - 1] = "restart",
    [R_REWIND - 1] = "rewind",
    [R_WAIT - 1] = "wait",
    [R_LIST_INSTANCES - 1] = "list_instances",
    [R_PURGE_INSTANCE - 1] = "purge_instance",
    [R_PURGE_BY_FILTER - 1] = "purge_by_filter",
    [R_DELETE_TASK_HUB - 1] = "delete_task_hub",
    [R_LIST_ENTITIES - 1] = "list_entities",
    [R_GET_ENTITY - 1] = "get_entity",
    [R_SIGNAL_ENTITY - 1] = "signal_entity",
    [R_START_AND_WAIT - 1] = "start_and_wait",
    [R_COUNT_INSTANCES - 1] = "count_instances",
};

size_t rt_route_names(const char *const **names)
{
    *names = route_names;
    return R_END - 1;
}

struct route {
    unsigned name; /* R_... */
    const char *method;
    const char *pattern[RT_MAX_SEGMENTS + 1]; /* literal segments, "{}" for a value, NULL-terminated */
    enum auth_scope scope;
    void (*handler)(const rt_ctx *c, rt_response *rs);
};

/* First match wins; literals compare ignoring case (docs/http-api.md §1.2). */
static const struct route routes[] = {
    {R_GET_STATUS, "GET", {"instances", "{}", NULL}, AUTH_READ, rt_get_status},
    {R_START, "POST", {"orchestrators", "{}", NULL}, AUTH_WRITE, rt_start},
    {R_START, "POST", {"orchestrators", "{}", "{}", NULL}, AUTH_WRITE, rt_start},
    {R_RAISE_EVENT, "POST", {"instances", "{}", "raiseEvent", "{}", NULL}, AUTH_WRITE, rt_raise_event},
    {R_TERMINATE, "POST", {"instances", "{}", "terminate", NULL}, AUTH_WRITE, rt_terminate},
    {R_SUSPEND, "POST", {"instances", "{}", "suspend", NULL}, AUTH_WRITE, rt_suspend},
    {R_RESUME, "POST", {"instances", "{}", "resume", NULL}, AUTH_WRITE, rt_resume},
    {R_RESTART, "POST", {"instances", "{}", "restart", NULL}, AUTH_WRITE, rt_restart},
    {R_REWIND, "POST", {"instances", "{}", "rewind", NULL}, AUTH_WRITE, rt_rewind},
    {R_WAIT, "GET", {"instances", "{}", "wait", NULL}, AUTH_READ, rt_wait_instance},
    {R_LIST_INSTANCES, "GET", {"instances", NULL}, AUTH_READ, rt_list_instances},
    {R_PURGE_INSTANCE, "DELETE", {"instances", "{}", NULL}, AUTH_WRITE, rt_purge_instance},
    {R_PURGE_BY_FILTER, "DELETE", {"instances", NULL}, AUTH_WRITE, rt_purge_by_filter},
    {R_DELETE_TASK_HUB, "DELETE", {"taskhub", NULL}, AUTH_WRITE, rt_delete_hub},
    {R_COUNT_INSTANCES,
     "GET",
     {"counts", NULL},
     AUTH_READ,
     rt_count_instances}, /* a gateway route, docs/bulk.md */
    {R_LIST_ENTITIES, "GET", {"entities", NULL}, AUTH_READ, rt_list_entities},
    {R_LIST_ENTITIES, "GET", {"entities", "{}", NULL}, AUTH_READ, rt_list_entities},
    {R_GET_ENTITY, "GET", {"entities", "{}", "{}", NULL}, AUTH_READ, rt_get_entity},
    {R_SIGNAL_ENTITY, "POST", {"entities", NULL}, AUTH_WRITE, rt_signal_entity_no_name},
    {R_SIGNAL_ENTITY, "POST", {"entities", "{}", NULL}, AUTH_WRITE, rt_signal_entity},
    {R_SIGNAL_ENTITY, "POST", {"entities", "{}", "{}", NULL}, AUTH_WRITE, rt_signal_entity},
    {R_SIGNAL_ENTITY, "DELETE", {"entities", NULL}, AUTH_WRITE, rt_signal_entity_no_name},
    {R_SIGNAL_ENTITY, "DELETE", {"entities", "{}", NULL}, AUTH_WRITE, rt_signal_entity},
    {R_SIGNAL_ENTITY, "DELETE", {"entities", "{}", "{}", NULL}, AUTH_WRITE, rt_signal_entity},
};

/* Under the app's own paths (/{prefix}/... and /...): the HttpSyncStart sample's route. */
static const struct route app_routes[] = {
    {R_START_AND_WAIT, "POST", {"orchestrators", "{}", "wait", NULL}, AUTH_WRITE, rt_start_wait},
};

static const char *const bases[] = {"/runtime/webhooks/durabletask", "/durabletask"};

const char *rt_query(const rt_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nquery; i++)
        if (strcasecmp(c->query[i].name, name) == 0)
            return c->query[i].value;
    return NULL;
}

bool rt_query_bool(const rt_ctx *c, const char *name, bool def)
{
    const char *v = rt_query(c, name);
    if (v && strcasecmp(v, "true") == 0)
        return true;
    if (v && strcasecmp(v, "false") == 0)
        return false;
    return def;
}

/* The task hub of the request: the taskHub parameter, else the configured default. */
static const char *request_hub(const rt_ctx *c)
{
    const char *h = rt_query(c, "taskHub");
    return h && *h ? h : c->env->default_hub;
}

void rt_az_ctx(const rt_ctx *c, az_ctx *x)
{
    az_ctx_init(x, c->rq->arena);
    x->reqid = c->rq->reqid;
}

/* A Host (or X-Forwarded-Host) value safe to paste into a URL: a name or
 * address and an optional port, nothing else. */
static bool host_ok(const char *h)
{
    if (!h || !*h || strlen(h) > 255)
        return false;
    for (const char *p = h; *p; p++)
        if (!(isalnum((unsigned char) *p) || strchr("-.:[]_", *p)))
            return false;
    return true;
}

/* The value a proxy in front of us set: the last of repeated headers and the
 * last item of a comma list (proxies append to what the client sent). */
static const char *forwarded(const rt_request *rq, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < rq->nheaders; i++)
        if (strcasecmp(rq->headers[i].name, name) == 0)
            v = rq->headers[i].value;
    if (!v)
        return NULL;
    const char *comma = strrchr(v, ',');
    dg_str last = dg_str_trim(dg_str_c(comma ? comma + 1 : v));
    return last.n ? dg_arena_strndup(rq->arena, last.p, last.n) : NULL;
}

/* The origin of generated links: the configured public origin, else (when
 * trusted) the forwarded scheme and host when both are present and usable (a
 * scheme of http or https, a plain host[:port]), else the Host the client
 * called. Never one forwarded header alone: a proxy that sets only one is not
 * the proxy --trust-forwarded was meant for, and half of its view mixed with
 * the request's own makes links to an origin nobody serves. */
const char *rt_request_origin(const struct rt_env *env, const rt_request *rq)
{
    if (env->public_origin)
        return env->public_origin;
    /* The scheme the gateway serves (https with --tls-cert), unless a trusted proxy says otherwise. */
    const char *scheme = rq->origin && strncmp(rq->origin, "https:", 6) == 0 ? "https" : "http";
    const char *host = rt_header(rq, "Host");
    if (env->trust_forwarded) {
        const char *proto = forwarded(rq, "X-Forwarded-Proto");
        const char *fh = forwarded(rq, "X-Forwarded-Host");
        if (proto && (strcasecmp(proto, "https") == 0 || strcasecmp(proto, "http") == 0) && host_ok(fh)) {
            scheme = strcasecmp(proto, "https") == 0 ? "https" : "http";
            host = fh;
        }
    }
    if (host_ok(host))
        return dg_arena_printf(rq->arena, "%s://%s", scheme, host);
    return rq->origin ? rq->origin : "http://127.0.0.1";
}

/* The connection named by the request: absent, "Storage" or "AzureWebJobsStorage"
 * is the default one (docs/http-api.md §1.4); others come from the configuration. */
static az_client *request_storage(const struct rt_env *env, const char *name)
{
    if (!name || !*name || strcasecmp(name, "Storage") == 0 || strcasecmp(name, "AzureWebJobsStorage") == 0)
        return env->storage;
    for (size_t i = 0; i < env->nconnections; i++)
        if (strcasecmp(env->connections[i].name, name) == 0)
            return env->connections[i].storage;
    return NULL;
}

/* Text a handler may take as a C string: no NUL byte (a value would end
 * there: code=KEY%00anything compared as KEY) and valid UTF-8 (no overlong
 * form such as %C0%80, no %FF, no encoded surrogate), as the host's and the
 * storage service's strings are. */
static bool text_ok(const char *s, size_t n)
{
    if (memchr(s, '\0', n))
        return false;
    for (size_t i = 0; i < n;)
        if (dg_utf8_next((const unsigned char *) s, n, &i) < 0)
            return false;
    return true;
}

/* Pairs split on '&', name and value trimmed then decoded ('+' is a space);
 * repeated names joined with ',', except taskHub and connection, where the
 * first non-blank value wins. Undecodable pairs are dropped. A name or value
 * that decodes to something text_ok refuses is kept in *bad (the first one),
 * and the request is refused. */
static void parse_query(dg_arena *a, const char *q, rt_ctx *c, const char **bad)
{
    *bad = NULL;
    size_t cap = 1;
    for (const char *p = q; *p; p++)
        cap += *p == '&';
    c->query = dg_arena_alloc(a, cap * sizeof *c->query);
    c->nquery = 0;
    dg_str rest = dg_str_c(q);
    while (rest.p && rest.n) {
        dg_str pair;
        rest = dg_str_cut(rest, '&', &pair);
        dg_str name, value;
        value = dg_str_cut(pair, '=', &name);
        name = dg_str_trim(name);
        value = dg_str_trim(value);
        char *dn, *dv;
        size_t nn, nv;
        if (!name.n || dg_url_decode(a, name.p, name.n, 1, &dn, &nn) ||
            dg_url_decode(a, value.p ? value.p : "", value.n, 1, &dv, &nv))
            continue;
        if (!text_ok(dn, nn) || !text_ok(dv, nv)) {
            if (!*bad)
                *bad = text_ok(dn, nn) ? dn : "";
            continue;
        }
        size_t i;
        for (i = 0; i < c->nquery; i++)
            if (strcasecmp(c->query[i].name, dn) == 0)
                break;
        if (i < c->nquery && (strcasecmp(dn, "taskHub") == 0 || strcasecmp(dn, "connection") == 0)) {
            /* The first non-blank value wins (docs/http-api.md §1.4). */
            if (!*c->query[i].value)
                c->query[i].value = dv;
        } else if (i < c->nquery)
            c->query[i].value = dg_arena_printf(a, "%s,%s", c->query[i].value, dv);
        else
            c->query[c->nquery++] = (struct rt_param){dn, dv};
    }
}

/* The path after the base, split on '/' before decoding, so an encoded "%2F"
 * stays inside one segment (an instance id may hold '/'). Empty segments from
 * leading, trailing or doubled slashes are dropped. -1: no base matches or the
 * path does not decode; -2: a segment decodes to something text_ok refuses. */
static bool has_base(const char *path, const char *base, size_t n)
{
    return strncasecmp(path, base, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int split_path(dg_arena *a, const struct rt_env *env, const char *path, rt_ctx *c, int *app)
{
    const char *rest = NULL;
    *app = 0;
    for (size_t i = 0; i < sizeof bases / sizeof *bases && !rest; i++)
        if (has_base(path, bases[i], strlen(bases[i])))
            rest = path + strlen(bases[i]);
    if (!rest) {
        /* The app's own paths: /{prefix}/... first, then the root. */
        const char *prefix = env->app_prefix ? env->app_prefix : "api";
        size_t pn = strlen(prefix);
        *app = 1;
        rest = pn && path[0] == '/' && has_base(path + 1, prefix, pn) ? path + 1 + pn : path;
        if (!has_base(rest, "/orchestrators", 14))
            return -1; /* not ours: 404 whatever the key */
    }
    c->nseg = 0;
    dg_str s = dg_str_c(rest);
    while (s.p && s.n) {
        dg_str seg;
        s = dg_str_cut(s, '/', &seg);
        if (!seg.n)
            continue;
        if (c->nseg == RT_MAX_SEGMENTS)
            return -1;
        char *d;
        size_t dn;
        if (dg_url_decode(a, seg.p, seg.n, 0, &d, &dn))
            return -1;
        if (!text_ok(d, dn))
            return -2;
        c->seg[c->nseg++] = d;
    }
    return 0;
}

static int matches(const struct route *r, const rt_ctx *c)
{
    size_t i = 0;
    for (; r->pattern[i]; i++) {
        if (i >= c->nseg)
            return 0;
        if (strcmp(r->pattern[i], "{}") != 0 && strcasecmp(r->pattern[i], c->seg[i]) != 0)
            return 0;
    }
    return i == c->nseg;
}

void rt_storage_error(const rt_ctx *c, rt_response *rs, dg_err rc)
{
    dg_arena *a = c->rq->arena;
    DG_WARN(c->rq->reqid, "storage: %s", dg_err_str(rc));
    switch (rc) {
    case DG_ENOTFOUND:
        rt_set_empty(rs, 404);
        return;
    case DG_EUNAVAIL:
    case DG_ETHROTTLED:
        rt_set_message(rs, a, 503, "The task hub's storage is unavailable or throttled; retry later.");
        rt_set_header(rs, a, "Retry-After", "5");
        return;
    case DG_ETIMEOUT:
        rt_set_message(rs, a, 504, "The task hub's storage did not answer in time.");
        rt_set_header(rs, a, "Retry-After", "5");
        return;
    case DG_ECANCELED:
        /* The gateway replaces this answer with the cancellation's own (504 past
         * the request's deadline, 503 at shutdown); a gone client reads none. */
        rt_set_message(rs, a, 503, "The request was cancelled before it completed; retry it.");
        rt_set_header(rs, a, "Retry-After", "1");
        return;
    case DG_EBADRESP:
    case DG_EAUTH:
        /* An auth failure is the gateway's configuration, not the caller's fault. */
        rt_set_message(rs, a, 502,
                       rc == DG_EAUTH ? "The gateway's storage credentials were refused."
                                      : "The task hub's storage gave an answer the gateway cannot read.");
        return;
    default:
        rt_set_message(rs, a, 500, "Something went wrong while processing your request");
    }
}

/* After a write route: no status answer reuses a read made before it. */
static void invalidate_written(const rt_ctx *c)
{
    if (strcmp(c->seg[0], "instances") == 0) {
        if (c->nseg >= 2)
            rt_status_invalidate(c->storage, c->hub, c->seg[1]);
        else
            rt_status_invalidate_all(); /* purge by filter */
    } else if (strcmp(c->seg[0], "orchestrators") == 0 && c->nseg == 3) {
        rt_status_invalidate(c->storage, c->hub, c->seg[2]);
    }
}

bool rt_is_gateway_path(const struct rt_env *env, const char *method, const char *path, dg_arena *a)
{
    for (size_t i = 0; i < sizeof bases / sizeof *bases; i++)
        if (has_base(path, bases[i], strlen(bases[i])))
            return true;
    /* Of the app's paths, only those a route of ours serves exactly. */
    rt_ctx c = {.env = env};
    int app;
    if (split_path(a, env, path, &c, &app) != 0)
        return false;
    for (size_t i = 0; i < sizeof app_routes / sizeof *app_routes; i++)
        if (strcmp(app_routes[i].method, method) == 0 && matches(&app_routes[i], &c))
            return true;
    return false;
}

void rt_dispatch(const struct rt_env *env, const rt_request *rq, rt_response *rs)
{
    dg_mem_init(); /* once per process; the server calls it first, tests may not */
    dg_arena *a = rq->arena;
    rt_ctx c = {.env = env, .rq = rq};
    memset(rs, 0, sizeof *rs);
    int app;
    int sp = split_path(a, env, rq->path, &c, &app);
    if (sp == -1) {
        rt_set_empty(rs, 404);
        return;
    }
    const struct route *r = NULL;
    const struct route *table = app ? app_routes : routes;
    size_t ntable = app ? sizeof app_routes / sizeof *app_routes : sizeof routes / sizeof *routes;
    for (size_t i = 0; i < ntable && !r && sp == 0; i++)
        if (strcmp(table[i].method, rq->method) == 0 && matches(&table[i], &c))
            r = &table[i];
    rs->route = r ? r->name : 0;
    const char *bad;
    parse_query(a, rq->raw_query ? rq->raw_query : "", &c, &bad);
    if (sp == -2 || bad) {
        /* Before the key and any storage call: the text cannot be an id, a
         * name, a key or a value (storage would refuse it as a key, or a C
         * string would end early). The host's catch-all argument error. */
        const char *what = sp == -2 ? "A path segment"
                           : *bad   ? dg_arena_printf(a, "The value of the query parameter '%s'", bad)
                                    : "A query parameter name";
        rt_set_error(rs, a, 400, "One or more of the arguments submitted is incorrect",
                     dg_arena_printf(a, "%s holds a NUL character or is not valid UTF-8.", what),
                     "System.ArgumentException");
        return;
    }
    if (env->keys) {
        /* The key travels in x-functions-key or code=; the header wins. Checked
         * before the route, so an unauthenticated caller learns nothing of routes. */
        const char *key = rt_header(rq, "x-functions-key");
        if (!key || !*key)
            key = rt_query(&c, "code");
        c.key = key;
        enum auth_result ar = auth_check(env->keys, key, key ? strlen(key) : 0, r ? r->scope : AUTH_READ);
        if (ar != AUTH_OK) {
            rt_set_empty(rs, ar == AUTH_UNAUTHORIZED ? 401 : 403);
            return;
        }
    }
    if (!r) {
        rt_set_empty(rs, 404);
        return;
    }
    /* Validate at the edge what every handler needs: the hub and the connection. */
    c.hub = request_hub(&c);
    if (!hub_name_ok(c.hub)) {
        rt_set_message(
            rs, a, 400,
            "The task hub name is not valid: it must be 3 to 45 letters and digits, starting with a letter.");
        return;
    }
    const char *conn = rt_query(&c, "connection");
    c.storage = request_storage(env, conn);
    if (!c.storage) {
        rt_set_message(rs, a, 400, "The connection named in the 'connection' parameter is not configured.");
        return;
    }
    c.connection = conn && *conn ? conn : "Storage";
    c.origin = rt_request_origin(env, rq);
    /* Sent back as Location: raw control and non-ASCII bytes of the target are
     * percent-encoded, so a bare CR cannot end the header and nothing but a URL
     * reaches it. */
    c.url = dg_arena_printf(a, "%s%s%s%s", c.origin, dg_url_escape_raw(a, rq->path),
                            rq->raw_query && *rq->raw_query ? "?" : "",
                            rq->raw_query ? dg_url_escape_raw(a, rq->raw_query) : "");
    r->handler(&c, rs);
    rs->route = r->name; /* again: a handler may have started rs over */
    if (r->scope == AUTH_WRITE)
        invalidate_written(&c);
}
