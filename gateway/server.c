#include "gateway/server.h"

#include "base/arena.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/time.h"
#include "gateway/wait.h"
#include "routes/router.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BODY_CAP (4u << 20) /* request bodies: the largest payload a task hub accepts in one start */

#define TOO_BIG "{\"Message\":\"The request body exceeds the gateway's limit of 4 MiB.\"}"

#define HEADERS_MAX 64
/* The request line and headers: the gateway's cap, checked before anything
 * else (libmicrohttpd's per-connection memory, 16 KiB, must also hold the
 * answer's headers, which may carry a 2 KiB Location). */
#define HEADERS_CAP (8u << 10)

struct gw_server {
    struct MHD_Daemon *d;
    const struct gw_config *cfg;
    struct rt_env env;
    struct rt_wait_limits limits;
    gw_waits *waits;
    unsigned port;
    char origin[64];            /* http://listen:port, when a request has no usable Host */
    _Atomic long open_requests; /* made by the URI callback, not yet completed */
};

/* One per request, made when the request line arrives (URI callback), freed on completion. */
struct request {
    dg_arena *arena;
    char *uri; /* path and query exactly as sent */
    char reqid[13];
    dg_buf body;
    int started;
    int too_big;
    size_t discarded; /* body bytes dropped past the cap */
    int held;         /* suspended in the long-poll: waiter below */
    int64_t t0_ms;
    const char *method;
    struct gw_waiter waiter;
};

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct gw_server *s = cls;
    (void) conn;
    atomic_fetch_add(&s->open_requests, 1);
    struct request *rq = dg_xcalloc(1, sizeof *rq);
    rq->t0_ms = dg_mono_ms();
    rq->arena = dg_arena_create();
    rq->uri = dg_arena_strdup(rq->arena, uri ? uri : "/");
    unsigned char r[6];
    dg_random_bytes(r, sizeof r);
    snprintf(rq->reqid, sizeof rq->reqid, "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5]);
    dg_buf_init(&rq->body, BODY_CAP);
    return rq;
}

struct header_list {
    dg_arena *a;
    struct rt_param *v;
    size_t n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void) kind;
    size_t *n = cls;
    *n += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void) kind;
    struct header_list *h = cls;
    if (h->n < HEADERS_MAX)
        h->v[h->n++] =
            (struct rt_param){dg_arena_strdup(h->a, key), dg_arena_strdup(h->a, value ? value : "")};
    return MHD_YES;
}

static void release_shared(void *cls)
{
    rt_shared_unref(cls);
}

/* Queues rs. A shared body is not copied: its reference passes to the
 * response and is released when libmicrohttpd is done with it. */
static enum MHD_Result send_response(struct MHD_Connection *conn, rt_response *rs)
{
    struct MHD_Response *r;
    if (rs->shared) {
        r = MHD_create_response_from_buffer_with_free_callback_cls(rs->body_len, (void *) rs->body,
                                                                   release_shared, rs->shared);
        if (!r)
            rt_shared_unref(rs->shared);
        rs->shared = NULL;
    } else {
        r = MHD_create_response_from_buffer(rs->body_len, (void *) (rs->body ? rs->body : ""),
                                            MHD_RESPMEM_MUST_COPY);
    }
    if (!r)
        return MHD_NO;
    if (rs->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
    for (size_t i = 0; i < rs->nheaders; i++) {
        /* libmicrohttpd refuses an empty value; a lone space is only the
         * optional whitespace around a value, which every parser strips (RFC
         * 9110 §5.5), so the header still arrives, empty (x-ms-continuation-token
         * on the last page, http-api.md §10.4). */
        const char *v = rs->headers[i].value;
        MHD_add_response_header(r, rs->headers[i].name, *v ? v : " ");
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned) rs->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Prometheus text of the gateway's own counters: storage calls and the long-poll. */
static enum MHD_Result send_metrics(struct gw_server *s, struct MHD_Connection *conn, dg_arena *a)
{
    struct az_stats st;
    az_client_stats(s->env.storage, &st);
    struct gw_wait_stats w;
    gw_waits_stats(s->waits, &w);
    const char *txt = dg_arena_printf(
        a,
        "# TYPE dg_storage_requests_total counter\ndg_storage_requests_total %llu\n"
        "# TYPE dg_storage_connections_total counter\ndg_storage_connections_total %llu\n"
        "# TYPE dg_storage_retries_total counter\ndg_storage_retries_total %llu\n"
        "# TYPE dg_wait_held gauge\ndg_wait_held %llu\n"
        "# TYPE dg_wait_instances gauge\ndg_wait_instances %llu\n"
        "# TYPE dg_wait_reads_total counter\ndg_wait_reads_total %llu\n"
        "# TYPE dg_wait_completed_total counter\ndg_wait_completed_total %llu\n"
        "# TYPE dg_wait_timeouts_total counter\ndg_wait_timeouts_total %llu\n"
        "# TYPE dg_wait_disconnects_total counter\ndg_wait_disconnects_total %llu\n"
        "# TYPE dg_requests_open gauge\ndg_requests_open %ld\n",
        (unsigned long long) st.requests, (unsigned long long) st.connections,
        (unsigned long long) st.retries, (unsigned long long) w.held, (unsigned long long) w.groups,
        (unsigned long long) w.reads, (unsigned long long) w.completed, (unsigned long long) w.timeouts,
        (unsigned long long) w.disconnects, atomic_load(&s->open_requests));
    rt_response rs = {
        .status = 200, .content_type = "text/plain; version=0.0.4", .body = txt, .body_len = strlen(txt)};
    return send_response(conn, &rs);
}

/* A fixed JSON answer for the gateway's own paths (health, body cap). */
static enum MHD_Result send_json(struct MHD_Connection *conn, dg_arena *a, int status, const char *json)
{
    rt_response rs = {0};
    rt_set_json(&rs, a, status, json);
    return send_response(conn, &rs);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void) cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    DG_WARN(NULL, "http: %s", line);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct gw_server *s = cls;
    (void) conn;
    (void) toe;
    struct request *rq = *con_cls;
    if (!rq)
        return;
    atomic_fetch_sub(&s->open_requests, 1);
    rt_shared_unref(rq->waiter.answer.shared); /* an answer that was never sent */
    dg_buf_free(&rq->body);
    dg_arena_destroy(rq->arena);
    free(rq);
    *con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size,
                                  void **con_cls)
{
    (void) version;
    struct gw_server *s = cls;
    struct request *rq = *con_cls;
    if (!rq)
        return MHD_NO; /* the URI callback always makes one */
    if (rq->held) {
        /* Resumed by the long-poll: answer, or drop a client that hung up. */
        if (rq->waiter.state == GW_CANCELLED) {
            DG_INFO(rq->reqid, "%s %s -> client gone while waiting", method, dg_redact(rq->arena, rq->uri));
            return MHD_NO;
        }
        if (rq->waiter.state != GW_ANSWERED)
            return MHD_YES;
        rq->held = 0;
        DG_INFO(rq->reqid, "%s %s -> %d after %lld ms", method, dg_redact(rq->arena, rq->uri),
                rq->waiter.answer.status, (long long) (dg_mono_ms() - rq->t0_ms));
        return send_response(conn, &rq->waiter.answer);
    }
    if (!rq->started) {
        rq->started = 1; /* the first call brings the headers only */
        size_t hsize = strlen(rq->uri);
        MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &hsize);
        /* A body announced over the cap is refused before it is read. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > BODY_CAP)
            return send_json(conn, rq->arena, MHD_HTTP_CONTENT_TOO_LARGE, TOO_BIG);
        if (hsize > HEADERS_CAP)
            return send_json(
                conn, rq->arena, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                "{\"Message\":\"The request line and headers exceed the gateway's limit of 8 KiB.\"}");
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_big && dg_buf_add(&rq->body, upload, *upload_size) != DG_OK)
            rq->too_big = 1;
        rq->discarded += rq->too_big ? *upload_size : 0;
        *upload_size = 0;
        /* A chunked body that never ends is cut off: past twice the cap, close. */
        return rq->discarded > 2 * (size_t) BODY_CAP ? MHD_NO : MHD_YES;
    }
    if (rq->too_big)
        return send_json(conn, rq->arena, MHD_HTTP_CONTENT_TOO_LARGE, TOO_BIG);
    size_t ul = strlen(url);
    while (ul > 1 && url[ul - 1] == '/')
        ul--;
    if (ul == 8 && strncasecmp(url, "/metrics", 8) == 0 && strcmp(method, "GET") == 0)
        return send_metrics(s, conn, rq->arena);
    if (ul == 8 && strncasecmp(url, "/healthz", 8) == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return send_json(conn, rq->arena, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"Message\":\"Use GET.\"}");
        return send_json(conn, rq->arena, MHD_HTTP_OK,
                         "{\"status\":\"healthy\",\"version\":\"" DG_VERSION "\"}");
    }
    struct header_list hl = {rq->arena, dg_arena_alloc(rq->arena, HEADERS_MAX * sizeof *hl.v), 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &hl);
    const char *q = strchr(rq->uri, '?');
    rt_request req = {
        .arena = rq->arena,
        .reqid = rq->reqid,
        .method = method,
        .path = q ? dg_arena_strndup(rq->arena, rq->uri, (size_t) (q - rq->uri)) : rq->uri,
        .origin = s->origin,
        .raw_query = q ? q + 1 : "",
        .headers = hl.v,
        .nheaders = hl.n,
        .body = rq->body.d ? rq->body.d : "",
        .body_len = rq->body.len,
        .t0_ms = rq->t0_ms,
    };
    rt_response rs;
    rt_dispatch(&s->env, &req, &rs);
    if (rs.wait) {
        /* Hold the request: no thread waits, the connection sleeps until the
         * scheduler answers it or the client hangs up. */
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        rq->waiter = (struct gw_waiter){.w = rs.wait, .conn = conn, .fd = ci ? ci->connect_fd : -1};
        rq->held = 1;
        /* Keep only the wait's own small arena while the request sleeps. */
        rq->uri = dg_arena_strdup(rs.wait->rq.arena, rq->uri);
        dg_buf_free(&rq->body);
        dg_arena_destroy(rq->arena);
        rq->arena = rs.wait->rq.arena;
        MHD_suspend_connection(conn);
        gw_waits_add(s->waits, &rq->waiter);
        return MHD_YES;
    }
    DG_INFO(rq->reqid, "%s %s -> %d", method, dg_redact(rq->arena, rq->uri), rs.status);
    return send_response(conn, &rs);
}

gw_server *gw_server_start(const struct gw_config *cfg, const struct rt_env *env)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t) cfg->port);
    if (inet_pton(AF_INET, cfg->listen, &sa.sin_addr) != 1) {
        DG_ERROR(NULL, "--listen %s is not an IPv4 address", cfg->listen);
        return NULL;
    }
    gw_server *s = dg_xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->env = *env;
    s->limits = (struct rt_wait_limits){
        .default_timeout_ms = cfg->wait_timeout_ms,
        .default_interval_ms = cfg->wait_interval_ms,
        .max_timeout_ms = cfg->wait_max_timeout_ms,
        .min_interval_ms = cfg->wait_min_interval_ms,
        .max_waiters = cfg->max_waiters,
    };
    s->env.waits = &s->limits;
    s->waits = gw_waits_create(&s->env, (int) cfg->wait_readers);
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    s->d = MHD_start_daemon(
        flags, (uint16_t) cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned) cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned) cfg->connection_limit, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) cfg->connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 16 * 1024, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    if (!s->d) {
        DG_ERROR(NULL, "cannot listen on %s:%ld (address in use or not available)", cfg->listen, cfg->port);
        gw_waits_destroy(s->waits);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : (unsigned) cfg->port;
    snprintf(s->origin, sizeof s->origin, "http://%s:%u", cfg->listen, s->port);
    return s;
}

unsigned gw_server_port(const gw_server *s)
{
    return s->port;
}

void gw_server_stop(gw_server *s)
{
    if (!s)
        return;
    /* Take no new connections, answer every waiter at once with its 202, give
     * the answers in flight a moment to leave, then stop. */
    MHD_quiesce_daemon(s->d);
    gw_waits_drain(s->waits);
    int64_t until = dg_mono_ms() + 3000;
    while (atomic_load(&s->open_requests) > 0 && dg_mono_ms() < until)
        usleep(10000);
    MHD_stop_daemon(s->d);
    gw_waits_destroy(s->waits);
    free(s);
}
