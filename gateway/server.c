#include "gateway/server.h"

#include "base/arena.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "base/time.h"
#include "gateway/proxy.h"
#include "base/trace.h"
#include "gateway/metrics.h"
#include "gateway/ready.h"
#include "gateway/tls.h"
#include "gateway/wait.h"
#include "routes/status_read.h"
#include "routes/router.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BODY_CAP (4u << 20) /* request bodies: the largest payload a task hub accepts in one start */

#define TOO_BIG "{\"Message\":\"The request body exceeds the gateway's limit of 4 MiB.\"}"

/* A suspended request's socket is watched for a hang-up once it has run this long. */
#define HUP_WATCH_AFTER_MS 20
/* The request line and headers: the gateway's cap, checked before anything
 * else (libmicrohttpd's per-connection memory, 16 KiB, must also hold the
 * answer's headers, which may carry a 2 KiB Location). */
#define HEADERS_CAP (8u << 10)

/* Lingering close (RFC 9112 §9.6): a connection closed while its client may
 * still be sending (a refused body, a refused connection) is read and the
 * bytes dropped for at most this long and this much, so the client reads the
 * answer instead of a reset. At most LINGER_MAX per loop; past it, closed at once. */
#define LINGER_MS    5000
#define LINGER_BYTES ((size_t) 64 << 20)
#define LINGER_MAX   1024
/* A connection refused at the limits may send its request this long (it is
 * read and dropped) before it is closed. */
#define REFUSED_MS 1000
/* Room in each daemon above --connection-limit for refused connections still closing. */
#define REFUSED_ROOM 1024
#define IP_BUCKETS   4096

struct gw_worker;

/* The phases of a connection that have an overall deadline; each has one
 * duration, so each list is in deadline order (appended at its tail). */
enum conn_phase {
    PH_NONE,    /* a handler runs or the answer is sent: the request's own deadline governs */
    PH_HEAD,    /* the request line and headers are coming (--header-timeout-ms) */
    PH_BODY,    /* the body is coming (--body-timeout-ms) */
    PH_IDLE,    /* kept alive between requests (--connection-timeout, not reset by dribbled bytes) */
    PH_REFUSED, /* over a connection limit: answered 503, closing (REFUSED_MS) */
    PH_COUNT
};

/* One per client connection (libmicrohttpd's socket context), made when it is accepted. */
struct gw_conn {
    struct gw_worker *wk;
    int fd;
    enum conn_phase phase;
    int64_t due;
    uint32_t ip; /* IPv4 address, network order, counted in the per-address table */
    bool ip_counted;
    bool linger; /* the client may still be sending when this closes: drain first */
    struct gw_conn *prev, *next;
};

struct conn_list {
    struct gw_conn *head, *tail;
};

/* A closed connection's socket, kept open (a duplicate descriptor) to read and drop what its client still
 * sends. */
struct lingering {
    struct gw_worker *wk;
    struct dg_watch w;
    struct dg_timer t;
    size_t got;
    struct lingering *prev, *next;
};

struct ip_count {
    uint32_t addr;
    long n;
    struct ip_count *next;
};

struct gw_server {
    const struct gw_config *cfg;
    struct rt_env env;
    struct rt_wait_limits limits;
    gw_waits *waits;
    unsigned port;
    int listen_fd;
    char origin[64]; /* http://listen:port, when a request has no usable Host */
    /* requests made by the URI callback and not yet completed, and those whose
     * handler runs: gateway/metrics.h's in-flight and running gauges */
    _Atomic uint64_t deadlines, hangups, shutdown_cut;
    int nworkers;
    struct gw_worker *workers;
    struct gw_ready ready;
    _Atomic uint64_t refused_limit, refused_ip, dropped_head, dropped_body, dropped_idle, lingered;
    _Atomic long conns;    /* client connections open (accepted, not yet closed) */
    pthread_mutex_t ip_mu; /* the per-address counts, shared by every loop */
    struct ip_count *ip[IP_BUCKETS];
    struct gw_proxy_conf proxy; /* upstream NULL: no pass-through */
};

/* One event loop: its thread, its libmicrohttpd daemon (external epoll mode
 * on the shared listening socket), and the requests whose handlers it runs. */
struct gw_worker {
    gw_server *s;
    int index;
    dg_loop *loop;
    pthread_t tid;
    struct MHD_Daemon *d;
    struct dg_watch mhd;     /* the daemon's own epoll descriptor */
    struct dg_timer mhd_t;   /* libmicrohttpd's next timeout */
    bool run_mhd;            /* connections were resumed: run the daemon before sleeping */
    struct request *running; /* requests whose handler coroutine is alive */
    _Atomic int phase;       /* 0 serving, 1 quiesced, 2 stopped */
    struct conn_list q[PH_COUNT];
    struct dg_timer sweep; /* the earliest deadline of the lists above */
    struct lingering *lingering;
    int nlingering;
    char *drain; /* scratch for the bytes lingering clients send */
};

/* One per request, made when the request line arrives (URI callback), freed on completion. */
struct request {
    struct gw_worker *wk;
    struct MHD_Connection *conn;
    struct gw_conn *gc;
    dg_arena *arena;
    char *uri;             /* path and query exactly as sent */
    struct dg_trace trace; /* the request id, and the storage calls for the access line */
    unsigned route;        /* gateway/metrics.h's route index */
    int status;            /* of the answer queued; 0: none (yet) */
    size_t bytes_in, bytes_out;
    int64_t t0_us;
    char method[16]; /* as sent (cut), for the access line */
    dg_buf body;
    int started;
    int held; /* suspended in the long-poll: waiter below */
    int64_t t0_ms;
    int64_t deadline_ms; /* t0_ms + --request-timeout-ms */
    struct gw_waiter waiter;
    /* the handler, run in a coroutine on the worker's loop */
    rt_request req;
    rt_response rs;
    dg_co *co;
    bool suspended; /* the connection sleeps while the handler waits on storage */
    bool finished;  /* the handler returned: rs is the answer */
    bool orphaned;  /* the connection completed first: the handler's end frees the request */
    enum dg_cancel why;
    struct dg_watch hup;   /* the client's socket, for a hang-up while suspended */
    struct dg_timer limit; /* the request's deadline */
    gw_proxy *px;          /* passed through to the function app */
    struct request *prev, *next;
};

static void request_free(struct request *rq)
{
    rt_shared_unref(rq->waiter.answer.shared); /* an answer that was never sent */
    rt_shared_unref(rq->rs.shared);
    dg_buf_free(&rq->body);
    dg_arena_destroy(rq->arena);
    free(rq);
}

static void on_deadline(struct dg_timer *t);
static struct gw_conn *conn_of(struct MHD_Connection *conn);
static void phase_set(struct gw_conn *gc, enum conn_phase ph);

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct gw_worker *wk = cls;
    gw_metrics_in_flight(1);
    struct request *rq = dg_xcalloc(1, sizeof *rq);
    rq->wk = wk;
    rq->conn = conn;
    rq->gc = conn_of(conn);
    /* A kept-alive connection's next request line is in: its headers have
     * --header-timeout-ms from now. */
    if (rq->gc && rq->gc->phase == PH_IDLE)
        phase_set(rq->gc, PH_HEAD);
    dg_timer_init(&rq->limit, on_deadline, rq);
    rq->t0_us = dg_mono_us();
    rq->t0_ms = rq->t0_us / 1000;
    rq->arena = dg_arena_create();
    rq->uri = dg_arena_strdup(rq->arena, uri ? uri : "/");
    rq->route = gw_metrics_route_of(0);
    dg_trace_id_make(rq->trace.id); /* until the headers bring the client's own */
    dg_buf_init(&rq->body, BODY_CAP);
    return rq;
}

struct header_list {
    dg_arena *a;
    struct rt_param *v;
    size_t n, cap;
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
    if (h->n < h->cap)
        h->v[h->n++] =
            (struct rt_param){dg_arena_strdup(h->a, key), dg_arena_strdup(h->a, value ? value : "")};
    return MHD_YES;
}

static void release_shared(void *cls)
{
    rt_shared_unref(cls);
}

/* Queues rs with the request's X-Request-Id. A shared body is not copied:
 * its reference passes to the response and is released when libmicrohttpd is
 * done with it. */
static enum MHD_Result send_response(struct request *rq, rt_response *rs)
{
    struct MHD_Connection *conn = rq->conn;
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
         * on the last page, docs/http-api.md §7.1). */
        const char *v = rs->headers[i].value;
        MHD_add_response_header(r, rs->headers[i].name, *v ? v : " ");
    }
    MHD_add_response_header(r, "X-Request-Id", rq->trace.id);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned) rs->status, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES) {
        rq->status = rs->status;
        rq->bytes_out = strcmp(rq->method, "HEAD") == 0 ? 0 : rs->body_len;
    }
    return ret;
}

/* /metrics: every registered metric (requests, storage calls: recorded per
 * thread and summed now), the counts kept by the pipeline, the long-poll and
 * the status reads, and the process's (docs/metrics.md). */
static enum MHD_Result send_metrics(struct request *rq)
{
    gw_server *s = rq->wk->s;
    struct gw_wait_stats w;
    gw_waits_stats(s->waits, &w);
    struct rt_status_stats ss;
    rt_status_stats(&ss);
    struct dg_loop_stats ls;
    dg_loop_stats(&ls);
    dg_buf b;
    dg_buf_init(&b, (size_t) 64 << 20); /* the series are bounded: far below this */
    static const struct {
        enum dg_metric_type t;
        const char *name, *help;
    } fixed[] = {
        {DG_METRIC_COUNTER, "durable_gateway_request_deadlines_total",
         "Requests cut at --request-timeout-ms (answered 504)."},
        {DG_METRIC_COUNTER, "durable_gateway_request_hangups_total",
         "Requests whose client hung up while the handler ran."},
        {DG_METRIC_COUNTER, "durable_gateway_request_shutdown_cuts_total",
         "Requests cut at shutdown after the grace (answered 503)."},
        {DG_METRIC_COUNTER, "durable_gateway_status_reads_total", "Storage reads made for status requests."},
        {DG_METRIC_COUNTER, "durable_gateway_status_reads_collapsed_total",
         "Status requests answered by a read another request made."},
        {DG_METRIC_COUNTER, "durable_gateway_status_cache_hits_total",
         "Status requests answered from a recent read (--status-cache-ms)."},
        {DG_METRIC_GAUGE, "durable_gateway_coroutines", "Coroutines alive on every loop."},
        {DG_METRIC_GAUGE, "durable_gateway_storage_ready", "1 while /readyz answers 200, else 0."},
        {DG_METRIC_GAUGE, "durable_gateway_waits_held", "Long-poll requests held now."},
        {DG_METRIC_GAUGE, "durable_gateway_wait_instances", "Instances the held long-polls wait on."},
        {DG_METRIC_COUNTER, "durable_gateway_wait_reads_total", "Status reads made for held long-polls."},
        {DG_METRIC_COUNTER, "durable_gateway_waits_completed_total",
         "Long-polls answered because their instance finished."},
        {DG_METRIC_COUNTER, "durable_gateway_wait_timeouts_total",
         "Long-polls answered 202 at their timeout."},
        {DG_METRIC_COUNTER, "durable_gateway_wait_disconnects_total",
         "Long-polls whose client hung up while held."},
        {DG_METRIC_COUNTER, "durable_gateway_connections_refused_limit_total",
         "Connections answered 503 at --connection-limit."},
        {DG_METRIC_COUNTER, "durable_gateway_connections_refused_per_ip_total",
         "Connections answered 503 at --per-ip-connection-limit."},
        {DG_METRIC_COUNTER, "durable_gateway_connections_dropped_head_total",
         "Connections closed: request line and headers not in within --header-timeout-ms."},
        {DG_METRIC_COUNTER, "durable_gateway_connections_dropped_body_total",
         "Connections closed: request body not in within --body-timeout-ms."},
        {DG_METRIC_COUNTER, "durable_gateway_connections_dropped_idle_total",
         "Kept-alive connections closed: no next request line within --connection-timeout."},
        {DG_METRIC_COUNTER, "durable_gateway_connections_lingered_total",
         "Connections drained after their answer (a refused body or connection) before closing."},
    };
    const double v[] = {
        (double) atomic_load(&s->deadlines),
        (double) atomic_load(&s->hangups),
        (double) atomic_load(&s->shutdown_cut),
        (double) ss.reads,
        (double) ss.collapsed,
        (double) ss.cache_hits,
        (double) ls.coroutines,
        gw_ready_ok(&s->ready) ? 1 : 0,
        (double) w.held,
        (double) w.groups,
        (double) w.reads,
        (double) w.completed,
        (double) w.timeouts,
        (double) w.disconnects,
        (double) atomic_load(&s->refused_limit),
        (double) atomic_load(&s->refused_ip),
        (double) atomic_load(&s->dropped_head),
        (double) atomic_load(&s->dropped_body),
        (double) atomic_load(&s->dropped_idle),
        (double) atomic_load(&s->lingered),
    };
    _Static_assert(sizeof fixed / sizeof *fixed == sizeof v / sizeof *v, "one value per metric");
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        dg_metrics_write(&b, fixed[i].t, fixed[i].name, fixed[i].help, v[i]);
    gw_metrics_process(&b);
    dg_metrics_render(&b);
    if (dg_buf_err(&b))
        dg_fatal("metrics: the text outgrew its cap");
    rt_response rs = {.status = 200,
                      .content_type = "text/plain; version=0.0.4; charset=utf-8",
                      .body = dg_buf_str(&b),
                      .body_len = b.len};
    enum MHD_Result ret = send_response(rq, &rs); /* libmicrohttpd copies the body */
    dg_buf_free(&b);
    return ret;
}

/* A fixed JSON answer for the gateway's own paths (health, body cap). */
static enum MHD_Result send_json(struct request *rq, int status, const char *json)
{
    rt_response rs = {0};
    rt_set_json(&rs, rq->arena, status, json);
    return send_response(rq, &rs);
}

/* ---- connections: overall deadlines of the request head and body, the
 * connection limits, lingering close (docs/pipeline.md, "Connections") ---- */

static int64_t phase_ms(const struct gw_server *s, enum conn_phase ph)
{
    switch (ph) {
    case PH_HEAD:
        return s->cfg->header_timeout_ms;
    case PH_BODY:
        return s->cfg->body_timeout_ms;
    case PH_IDLE:
        /* A second past libmicrohttpd's idle timeout, which closes a silent
         * connection first: only one kept open by dribbled bytes reaches it. */
        return s->cfg->connection_timeout * 1000 + 1000;
    case PH_REFUSED:
        return REFUSED_MS;
    default:
        return 0;
    }
}

static void sweep_arm(struct gw_worker *wk)
{
    int64_t at = 0;
    for (int i = 0; i < PH_COUNT; i++)
        if (wk->q[i].head && (!at || wk->q[i].head->due < at))
            at = wk->q[i].head->due;
    if (at)
        dg_timer_start(wk->loop, &wk->sweep, at);
    else
        dg_timer_stop(wk->loop, &wk->sweep);
}

static void phase_unlink(struct gw_conn *gc)
{
    struct conn_list *l = &gc->wk->q[gc->phase];
    if (gc->prev)
        gc->prev->next = gc->next;
    else if (l->head == gc)
        l->head = gc->next;
    if (gc->next)
        gc->next->prev = gc->prev;
    else if (l->tail == gc)
        l->tail = gc->prev;
    gc->prev = gc->next = NULL;
    gc->phase = PH_NONE;
}

/* Moves gc to phase ph, whose deadline starts now. */
static void phase_set(struct gw_conn *gc, enum conn_phase ph)
{
    struct gw_worker *wk = gc->wk;
    if (gc->phase == ph && ph != PH_NONE && ph != PH_IDLE)
        return; /* an overall deadline: not moved by progress within the phase */
    phase_unlink(gc);
    gc->phase = ph;
    if (ph == PH_NONE)
        return;
    struct conn_list *l = &wk->q[ph];
    gc->due = dg_mono_ms() + phase_ms(wk->s, ph);
    gc->prev = l->tail;
    if (l->tail)
        l->tail->next = gc;
    else
        l->head = gc;
    l->tail = gc;
    if (!dg_timer_armed(&wk->sweep) || gc->due < wk->sweep.at)
        dg_timer_start(wk->loop, &wk->sweep, gc->due);
}

/* A connection past its phase's deadline: both directions are shut, so
 * libmicrohttpd reads the end at once and closes it (its own idle timer is
 * reset by every byte, so a client dribbling bytes would never reach it). */
static void on_sweep(struct dg_timer *t)
{
    struct gw_worker *wk = t->data;
    gw_server *s = wk->s;
    int64_t now = dg_mono_ms();
    for (int ph = PH_HEAD; ph < PH_COUNT; ph++) {
        struct gw_conn *gc;
        while ((gc = wk->q[ph].head) && gc->due <= now) {
            phase_unlink(gc);
            if (ph != PH_REFUSED) {
                char ip[INET_ADDRSTRLEN] = "?";
                inet_ntop(AF_INET, &gc->ip, ip, sizeof ip);
                atomic_fetch_add(ph == PH_HEAD   ? &s->dropped_head
                                 : ph == PH_BODY ? &s->dropped_body
                                                 : &s->dropped_idle,
                                 1);
                DG_INFO(NULL, "connection from %s dropped: %s not complete within %lld ms", ip,
                        ph == PH_HEAD   ? "request line and headers"
                        : ph == PH_BODY ? "request body"
                                        : "next request line",
                        (long long) phase_ms(s, (enum conn_phase) ph));
            }
            shutdown(gc->fd, SHUT_RDWR);
            wk->run_mhd = true;
        }
    }
    sweep_arm(wk);
}

/* Writes a whole small answer straight to the socket, for the two cases
 * libmicrohttpd cannot queue one: before any request (a refused connection)
 * and in the middle of a body (a chunked body past the cap). Nothing else is
 * being written on the connection then. */
static void raw_answer(int fd, int status, const char *reason, const char *extra, const char *json)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: "
                     "%zu\r\nConnection: close\r\n%s\r\n%s",
                     status, reason, strlen(json), extra, json);
    if (n > 0 && (size_t) n < sizeof buf)
        (void) !send(fd, buf, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static long ip_add(gw_server *s, uint32_t addr, long d)
{
    unsigned h = (unsigned) ((addr * 2654435761u) >> 20) % IP_BUCKETS;
    long n = 0;
    pthread_mutex_lock(&s->ip_mu);
    struct ip_count **pp = &s->ip[h];
    while (*pp && (*pp)->addr != addr)
        pp = &(*pp)->next;
    if (!*pp && d > 0) {
        *pp = dg_xcalloc(1, sizeof **pp);
        (*pp)->addr = addr;
    }
    if (*pp) {
        n = (*pp)->n += d;
        if (n <= 0) {
            struct ip_count *dead = *pp;
            *pp = dead->next;
            free(dead);
        }
    }
    pthread_mutex_unlock(&s->ip_mu);
    return n;
}

static void linger_end(struct lingering *lg)
{
    struct gw_worker *wk = lg->wk;
    dg_watch_set(wk->loop, &lg->w, 0);
    dg_timer_stop(wk->loop, &lg->t);
    close(lg->w.fd);
    if (lg->prev)
        lg->prev->next = lg->next;
    else
        wk->lingering = lg->next;
    if (lg->next)
        lg->next->prev = lg->prev;
    wk->nlingering--;
    free(lg);
}

static void on_linger_read(struct dg_watch *w, uint32_t revents)
{
    (void) revents;
    struct lingering *lg = w->data;
    for (;;) {
        ssize_t n = recv(w->fd, lg->wk->drain, 65536, MSG_DONTWAIT);
        if (n > 0 && (lg->got += (size_t) n) < LINGER_BYTES)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        linger_end(lg); /* the client is done (0), gone (error), or has sent enough */
        return;
    }
}

static void on_linger_timer(struct dg_timer *t)
{
    linger_end(t->data);
}

/* libmicrohttpd closes fd next: a duplicate keeps the socket (its answer and
 * end already sent) open to drain. */
static void linger_start(struct gw_worker *wk, int fd)
{
    int dup = wk->nlingering < LINGER_MAX ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (dup < 0)
        return;
    if (!wk->drain)
        wk->drain = dg_xmalloc(65536);
    struct lingering *lg = dg_xcalloc(1, sizeof *lg);
    lg->wk = wk;
    lg->w = (struct dg_watch){.fd = dup, .cb = on_linger_read, .data = lg};
    dg_timer_init(&lg->t, on_linger_timer, lg);
    lg->next = wk->lingering;
    if (wk->lingering)
        wk->lingering->prev = lg;
    wk->lingering = lg;
    wk->nlingering++;
    atomic_fetch_add(&wk->s->lingered, 1);
    shutdown(dup, SHUT_WR); /* done already unless the daemon skipped it */
    dg_watch_set(wk->loop, &lg->w, EPOLLIN | EPOLLRDHUP);
    dg_timer_start(wk->loop, &lg->t, dg_mono_ms() + LINGER_MS);
}

#define LIMIT_503                                                                                            \
    "{\"Message\":\"The gateway is at its limit of client connections (%s); retry the request.\"}"

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct gw_worker *wk = cls;
    gw_server *s = wk->s;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct gw_conn *gc = dg_xcalloc(1, sizeof *gc);
        gc->wk = wk;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        gc->fd = ci ? ci->connect_fd : -1;
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
            gc->ip = ((const struct sockaddr_in *) (const void *) ci->client_addr)->sin_addr.s_addr;
        *socket_context = gc;
        gw_metrics_connection(1);
        long open = atomic_fetch_add(&s->conns, 1) + 1;
        long from_ip = 0;
        if (s->cfg->per_ip_connection_limit > 0) {
            gc->ip_counted = true;
            from_ip = ip_add(s, gc->ip, 1);
        }
        const char *why = NULL;
        if (open > s->cfg->connection_limit) {
            why = "--connection-limit";
            atomic_fetch_add(&s->refused_limit, 1);
        } else if (gc->ip_counted && from_ip > s->cfg->per_ip_connection_limit) {
            why = "from one address: --per-ip-connection-limit";
            atomic_fetch_add(&s->refused_ip, 1);
        }
        if (why) {
            char json[256];
            snprintf(json, sizeof json, LIMIT_503, why);
            raw_answer(gc->fd, 503, "Service Unavailable", "Retry-After: 1\r\n", json);
            gc->linger = true;
            phase_set(gc, PH_REFUSED);
            DG_DEBUG(NULL, "connection refused: %s", why);
            return;
        }
        phase_set(gc, PH_HEAD);
        return;
    }
    struct gw_conn *gc = *socket_context;
    if (!gc)
        return;
    *socket_context = NULL;
    phase_unlink(gc);
    gw_metrics_connection(-1);
    atomic_fetch_sub(&s->conns, 1);
    if (gc->ip_counted)
        ip_add(s, gc->ip, -1);
    if (gc->linger && atomic_load(&wk->phase) == 0)
        linger_start(wk, gc->fd);
    free(gc);
}

static struct gw_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void) cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    /* The handler's MHD_NO is how the gateway closes a connection it answered
     * itself (a refused body or connection) or whose client left: expected. */
    if (strncmp(line, "Application reported internal error", 35) == 0) {
        DG_DEBUG(NULL, "http: %s", line);
        return;
    }
    DG_WARN(NULL, "http: %s", line);
}

static void running_unlink(struct request *rq);
/* A request ends (answered, or the connection closed first): its access
 * line and its metrics. 499 stands for no answer (the client left, or the
 * gateway closed the connection). */
static void access_done(struct request *rq)
{
    int64_t us = dg_mono_us() - rq->t0_us;
    int status = rq->status ? rq->status : 499;
    gw_metrics_request(rq->route, status, us);
    gw_metrics_in_flight(-1);
    if (!dg_log_enabled(DG_LOG_INFO))
        return;
    const struct dg_log_field f[] = {
        DG_LOGF_S("method", rq->method[0] ? rq->method : NULL),
        DG_LOGF_S("target", rq->uri),
        DG_LOGF_S("route", gw_metrics_route_name(rq->route)),
        DG_LOGF_I("status", status),
        DG_LOGF_N("duration_ms", (double) us / 1000.0),
        DG_LOGF_I("storage_calls", rq->trace.storage_calls),
        DG_LOGF_I("bytes_in", rq->bytes_in),
        DG_LOGF_I("bytes_out", rq->bytes_out),
    };
    dg_log_fields(DG_LOG_INFO, rq->trace.id, rq->arena, "request", f, sizeof f / sizeof *f);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void) cls;
    (void) conn;
    (void) toe;
    struct request *rq = *con_cls;
    if (!rq)
        return;
    *con_cls = NULL;
    if (rq->gc && rq->gc->phase != PH_REFUSED)
        phase_set(rq->gc, PH_IDLE); /* kept alive until its next request line, or closed */
    if (rq->px) {
        /* The pass-through's answer: its status and bytes for the access line. */
        rq->status = gw_proxy_status(rq->px);
        rq->bytes_out = gw_proxy_bytes_out(rq->px);
        access_done(rq);
        gw_proxy_end(rq->px);
        rq->px = NULL;
        gw_metrics_running(-1);
        running_unlink(rq);
        request_free(rq);
        return;
    }
    access_done(rq);
    if (rq->co) {
        /* The daemon closes a connection whose handler still runs (at stop):
         * the handler's end frees the request. */
        rq->orphaned = true;
        dg_co_cancel(rq->co, DG_CANCEL_SHUTDOWN);
        return;
    }
    request_free(rq);
}

/* libmicrohttpd opened or closed a client connection (on the worker's thread). */
/* ---- the handler's coroutine ---- */

static void running_unlink(struct request *rq)
{
    struct gw_worker *wk = rq->wk;
    if (rq->prev)
        rq->prev->next = rq->next;
    else if (wk->running == rq)
        wk->running = rq->next;
    if (rq->next)
        rq->next->prev = rq->prev;
    rq->prev = rq->next = NULL;
}

static void handler_body(void *arg)
{
    struct request *rq = arg;
    rt_dispatch(&rq->wk->s->env, &rq->req, &rq->rs);
    rq->route = gw_metrics_route_of(rq->rs.route);
}

static void set_shutting_down(rt_response *rs, dg_arena *a)
{
    rt_set_message(rs, a, 503, "The gateway is shutting down; retry the request.");
    rt_set_header(rs, a, "Retry-After", "1");
}

/* The answer of a request its deadline or the shutdown cut short, in the host's error form. */
static void cut_answer(struct request *rq)
{
    gw_server *s = rq->wk->s;
    rt_shared_unref(rq->rs.shared);
    memset(&rq->rs, 0, sizeof rq->rs);
    if (rq->why == DG_CANCEL_DEADLINE) {
        rt_set_message(&rq->rs, rq->arena, 504,
                       dg_arena_printf(
                           rq->arena, "The request did not complete within the gateway's deadline of %ld ms.",
                           s->cfg->request_timeout_ms));
        rt_set_header(&rq->rs, rq->arena, "Retry-After", "1");
    } else {
        set_shutting_down(&rq->rs, rq->arena);
    }
}

static void hold(struct request *rq, struct MHD_Connection *conn);

/* Runs on the worker's loop when the handler returned. */
static void handler_done(dg_co *co, void *arg)
{
    (void) co;
    struct request *rq = arg;
    gw_server *s = rq->wk->s;
    gw_metrics_running(-1);
    rq->co = NULL;
    rq->finished = true;
    running_unlink(rq);
    dg_timer_stop(rq->wk->loop, &rq->limit);
    if (rq->hup.events)
        dg_watch_set(rq->wk->loop, &rq->hup, 0);
    if (rq->orphaned) {
        request_free(rq);
        return;
    }
    if (rq->why != DG_CANCEL_NONE && rq->rs.wait) {
        /* A wait that was to start, for a client gone or a request cut: give
         * its slot and arena back. */
        rt_wait_release(&s->env);
        dg_arena_destroy(rq->rs.wait->rq.arena);
        rq->rs.wait = NULL;
    }
    if (rq->why == DG_CANCEL_DEADLINE || rq->why == DG_CANCEL_SHUTDOWN)
        cut_answer(rq);
    if (!rq->suspended)
        return; /* answered by on_request, which is still on the stack */
    if (rq->rs.wait && rq->why == DG_CANCEL_NONE) {
        hold(rq, rq->conn); /* stays suspended: the long-poll resumes it */
        return;
    }
    rq->suspended = false;
    MHD_resume_connection(rq->conn);
    rq->wk->run_mhd = true;
}

static void on_hangup(struct dg_watch *w, uint32_t revents)
{
    (void) revents;
    struct request *rq = w->data;
    dg_watch_set(rq->wk->loop, w, 0);
    if (!rq->co)
        return;
    if (rq->why == DG_CANCEL_NONE)
        rq->why = DG_CANCEL_HANGUP;
    atomic_fetch_add(&rq->wk->s->hangups, 1);
    dg_co_cancel(rq->co, DG_CANCEL_HANGUP);
}

static void on_deadline(struct dg_timer *t)
{
    struct request *rq = t->data;
    if (!rq->co)
        return;
    if (!rq->hup.cb && dg_mono_ms() < rq->deadline_ms) {
        /* Still running: from now on a hang-up of the client is watched
         * (most requests end before this, and save the two system calls). */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci) {
            rq->hup = (struct dg_watch){.fd = ci->connect_fd, .cb = on_hangup, .data = rq};
            dg_watch_set(rq->wk->loop, &rq->hup, EPOLLRDHUP);
        }
        dg_timer_start(rq->wk->loop, t, rq->deadline_ms);
        return;
    }
    if (rq->why == DG_CANCEL_NONE || rq->why == DG_CANCEL_HANGUP)
        rq->why = DG_CANCEL_DEADLINE;
    atomic_fetch_add(&rq->wk->s->deadlines, 1);
    dg_co_cancel(rq->co, DG_CANCEL_DEADLINE);
}

static void resume_posted(void *arg)
{
    struct request *rq = arg;
    MHD_resume_connection(rq->conn);
    rq->wk->run_mhd = true;
}

/* The long-poll answered: the connection is woken by its own loop. */
static void resume_waiter(struct gw_waiter *w)
{
    struct request *rq = (struct request *) ((char *) w - offsetof(struct request, waiter));
    dg_loop_post(rq->wk->loop, resume_posted, rq);
}

/* Takes over a request the long-poll holds: its connection is suspended. */
static void hold(struct request *rq, struct MHD_Connection *conn)
{
    gw_server *s = rq->wk->s;
    rt_response *rs = &rq->rs;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    rq->waiter = (struct gw_waiter){
        .w = rs->wait, .conn = conn, .fd = ci ? ci->connect_fd : -1, .resume = resume_waiter};
    rq->held = 1;
    /* Keep only the wait's own small arena while the request sleeps. */
    rq->uri = dg_arena_strdup(rs->wait->rq.arena, rq->uri);
    dg_buf_free(&rq->body);
    dg_arena_destroy(rq->arena);
    rq->arena = rs->wait->rq.arena;
    rs->wait = NULL;
    gw_waits_add(s->waits, &rq->waiter);
}

/* The gateway's own paths (health, readiness, metrics, the routes): never passed through. */
static bool own_path(gw_server *s, const char *method, const char *uri, dg_arena *a)
{
    size_t n = strcspn(uri, "?");
    while (n > 1 && uri[n - 1] == '/')
        n--;
    if ((n == 8 && (strncasecmp(uri, "/healthz", 8) == 0 || strncasecmp(uri, "/metrics", 8) == 0)) ||
        (n == 7 && strncasecmp(uri, "/readyz", 7) == 0))
        return true;
    return rt_is_gateway_path(&s->env, method, dg_arena_strndup(a, uri, strcspn(uri, "?")), a);
}

static void proxy_resumed(void *arg)
{
    struct gw_worker *wk = arg;
    wk->run_mhd = true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size,
                                  void **con_cls)
{
    (void) version;
    struct gw_worker *wk = cls;
    gw_server *s = wk->s;
    struct request *rq = *con_cls;
    if (!rq)
        return MHD_NO; /* the URI callback always makes one */
    if (rq->held) {
        /* Resumed by the long-poll: answer, or drop a client that hung up
         * (the access line, at completion, says 499). */
        if (rq->waiter.state == GW_CANCELLED)
            return MHD_NO;
        if (rq->waiter.state != GW_ANSWERED)
            return MHD_YES;
        rq->held = 0;
        return send_response(rq, &rq->waiter.answer);
    }
    if (rq->px) {
        size_t offered = *upload_size;
        enum MHD_Result r = gw_proxy_on_request(rq->px, upload, upload_size);
        rq->bytes_in += offered - *upload_size;
        return r;
    }
    if (rq->co || rq->suspended)
        return MHD_YES; /* the handler still runs */
    if (rq->finished) {
        /* Resumed: the handler's answer, or nothing for a client that left. */
        if (rq->why == DG_CANCEL_HANGUP)
            return MHD_NO;
        return send_response(rq, &rq->rs);
    }
    if (rq->gc && rq->gc->phase == PH_REFUSED)
        return MHD_NO; /* answered 503 when it connected: close (lingering) */
    if (!rq->started) {
        rq->started = 1; /* the first call brings the headers only */
        if (rq->gc)
            phase_set(rq->gc, PH_BODY);
        snprintf(rq->method, sizeof rq->method, "%s", method);
        /* The client's request id, kept when it is safe (base/trace.h), else the one made. */
        if (!dg_trace_id_take(rq->trace.id,
                              MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-ms-client-request-id")))
            dg_trace_id_take(rq->trace.id,
                             MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id"));
        size_t hsize = strlen(rq->uri);
        MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &hsize);
        bool pass = s->proxy.upstream && !own_path(s, method, rq->uri, rq->arena);
        /* A body announced over the cap is refused before it is read (a
         * passed-through body streams, whatever its size). */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (!pass && cl && strtoull(cl, NULL, 10) > BODY_CAP) {
            /* Answered before the body is read; libmicrohttpd then closes,
             * and the body the client still sends is drained first. */
            if (rq->gc) {
                rq->gc->linger = true;
                phase_set(rq->gc, PH_NONE);
            }
            return send_json(rq, MHD_HTTP_CONTENT_TOO_LARGE, TOO_BIG);
        }
        if (hsize > HEADERS_CAP)
            return send_json(
                rq, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                "{\"Message\":\"The request line and headers exceed the gateway's limit of 8 KiB.\"}");
        if (pass) {
            if (atomic_load(&wk->phase) != 0) {
                rt_response rs = {0};
                set_shutting_down(&rs, rq->arena);
                return send_response(rq, &rs);
            }
            /* Passed through: the upstream request leaves now, its body follows.
             * A streamed body has no overall deadline (it may be any size):
             * the upstream's silence and the idle timeout bound it. */
            if (rq->gc)
                phase_set(rq->gc, PH_NONE);
            rq->route = gw_metrics_route_own(GW_ROUTE_UPSTREAM);
            struct gw_proxy_hooks hooks = {proxy_resumed, wk};
            gw_metrics_running(1);
            rq->next = wk->running;
            if (wk->running)
                wk->running->prev = rq;
            wk->running = rq;
            rq->px = gw_proxy_begin(&s->proxy, &hooks, conn, method, rq->uri, rq->arena, rq->trace.id);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        rq->bytes_in += n;
        *upload_size = 0;
        if (dg_buf_add(&rq->body, upload, n) == DG_OK)
            return MHD_YES;
        /* A chunked body past the cap (a Content-Length over it was refused
         * with the headers): libmicrohttpd queues no answer in the middle of
         * a body, so the 413 is written on the socket directly, the
         * connection closed, and the rest of the body drained. */
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci)
            raw_answer(ci->connect_fd, MHD_HTTP_CONTENT_TOO_LARGE, "Content Too Large",
                       dg_arena_printf(rq->arena, "X-Request-Id: %s\r\n", rq->trace.id), TOO_BIG);
        if (rq->gc) {
            rq->gc->linger = true;
            phase_set(rq->gc, PH_NONE);
        }
        rq->status = MHD_HTTP_CONTENT_TOO_LARGE;
        return MHD_NO;
    }
    if (rq->gc)
        phase_set(rq->gc, PH_NONE); /* the request is in: its own deadline governs now */
    size_t ul = strlen(url);
    while (ul > 1 && url[ul - 1] == '/')
        ul--;
    /* The gateway's own paths never wait on storage. */
    if (ul == 8 && strncasecmp(url, "/metrics", 8) == 0 && strcmp(method, "GET") == 0) {
        rq->route = gw_metrics_route_own(GW_ROUTE_METRICS);
        return send_metrics(rq);
    }
    if ((ul == 8 && strncasecmp(url, "/healthz", 8) == 0) ||
        (ul == 7 && strncasecmp(url, "/readyz", 7) == 0)) {
        rq->route = gw_metrics_route_own(ul == 8 ? GW_ROUTE_HEALTHZ : GW_ROUTE_READYZ);
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return send_json(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"Message\":\"Use GET.\"}");
        if (ul == 8)
            return send_json(rq, MHD_HTTP_OK, "{\"status\":\"healthy\",\"version\":\"" DG_VERSION "\"}");
        int64_t age = gw_ready_age_ms(&s->ready);
        bool ok = gw_ready_ok(&s->ready); /* once: the status and the body agree */
        const char *j = dg_arena_printf(rq->arena, "{\"status\":\"%s\",\"storageAnsweredMsAgo\":%lld}",
                                        ok ? "ready" : "not ready", (long long) age);
        return send_json(rq, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, j);
    }
    if (atomic_load(&wk->phase) != 0) {
        rt_response rs = {0};
        set_shutting_down(&rs, rq->arena);
        return send_response(rq, &rs);
    }
    /* Every header the client sent (their total is capped by HEADERS_CAP): a
     * key after the 64th is as good as the first. */
    int nh = MHD_get_connection_values(conn, MHD_HEADER_KIND, NULL, NULL);
    struct header_list hl = {rq->arena, dg_arena_alloc(rq->arena, (size_t) (nh > 0 ? nh : 1) * sizeof *hl.v),
                             0, (size_t) (nh > 0 ? nh : 0)};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &hl);
    const char *q = strchr(rq->uri, '?');
    rq->req = (rt_request){
        .arena = rq->arena,
        .reqid = rq->trace.id,
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
    /* The handler runs in a coroutine: where it waits on storage, it parks
     * and the loop serves others; the connection sleeps meanwhile. */
    gw_metrics_running(1);
    rq->co = dg_co_create(wk->loop, handler_body, rq, handler_done);
    dg_co_set_trace(rq->co, &rq->trace);
    rq->deadline_ms = rq->t0_ms + s->cfg->request_timeout_ms;
    dg_co_set_deadline(rq->co, rq->deadline_ms);
    rq->next = wk->running;
    if (wk->running)
        wk->running->prev = rq;
    wk->running = rq;
    dg_co_start(rq->co);
    if (rq->finished) {
        /* Answered without waiting (no storage, a cache, a refusal). */
        if (rq->rs.wait) {
            MHD_suspend_connection(conn);
            rq->suspended = true;
            hold(rq, conn);
            return MHD_YES;
        }
        return send_response(rq, &rq->rs);
    }
    MHD_suspend_connection(conn);
    rq->suspended = true;
    int64_t arm = dg_mono_ms() + HUP_WATCH_AFTER_MS;
    dg_timer_start(wk->loop, &rq->limit, arm < rq->deadline_ms ? arm : rq->deadline_ms);
    return MHD_YES;
}

/* ---- the workers ---- */

static void mhd_run(struct gw_worker *wk)
{
    wk->run_mhd = false;
    MHD_run(wk->d);
}

static void on_mhd_fd(struct dg_watch *w, uint32_t revents)
{
    (void) revents;
    mhd_run(w->data);
}

static void on_mhd_timer(struct dg_timer *t)
{
    mhd_run(t->data);
}

/* Before the loop sleeps: run the daemon for connections resumed meanwhile,
 * and wake for its next timeout. */
static void mhd_prepare(void *arg)
{
    struct gw_worker *wk = arg;
    if (!wk->d)
        return;
    if (wk->run_mhd)
        mhd_run(wk);
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(wk->d, &ms) == MHD_YES)
        dg_timer_start(wk->loop, &wk->mhd_t, dg_mono_ms() + (int64_t) (ms > 60000 ? 60000 : ms));
    else
        dg_timer_stop(wk->loop, &wk->mhd_t);
}

static void *worker_main(void *arg)
{
    struct gw_worker *wk = arg;
    dg_loop_run(wk->loop);
    return NULL;
}

/* Posted to each worker at shutdown. */
static void worker_quiesce(void *arg)
{
    struct gw_worker *wk = arg;
    MHD_quiesce_daemon(wk->d); /* the listening socket is the server's: closed once, by it */
    atomic_store(&wk->phase, 1);
}

static void worker_cut(void *arg)
{
    struct gw_worker *wk = arg;
    for (struct request *rq = wk->running; rq; rq = rq->next) {
        if (rq->px) {
            atomic_fetch_add(&wk->s->shutdown_cut, 1);
            gw_proxy_cut(rq->px);
            continue;
        }
        if (rq->why == DG_CANCEL_NONE || rq->why == DG_CANCEL_HANGUP)
            rq->why = rq->why == DG_CANCEL_HANGUP ? DG_CANCEL_HANGUP : DG_CANCEL_SHUTDOWN;
        atomic_fetch_add(&wk->s->shutdown_cut, 1);
        dg_co_cancel(rq->co, DG_CANCEL_SHUTDOWN);
    }
}

static void worker_stop(void *arg)
{
    struct gw_worker *wk = arg;
    dg_watch_set(wk->loop, &wk->mhd, 0);
    dg_timer_stop(wk->loop, &wk->mhd_t);
    MHD_stop_daemon(wk->d);
    wk->d = NULL;
    dg_timer_stop(wk->loop, &wk->sweep);
    while (wk->lingering)
        linger_end(wk->lingering);
    free(wk->drain);
    wk->drain = NULL;
    atomic_store(&wk->phase, 2);
    dg_loop_stop(wk->loop);
}

static int listen_socket(const struct gw_config *cfg, unsigned *port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t) cfg->port);
    if (inet_pton(AF_INET, cfg->listen, &sa.sin_addr) != 1) {
        DG_ERROR(NULL, "--listen %s is not an IPv4 address", cfg->listen);
        return -1;
    }
    /* Non-blocking: every worker's daemon accepts from it, and the one that
     * loses the race must get EAGAIN, not sleep in accept(). */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *) &sa, sizeof sa) != 0 || listen(fd, 4096) != 0) {
        DG_ERROR(NULL, "cannot listen on %s:%ld (address in use or not available)", cfg->listen, cfg->port);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *) &sa, &len);
    *port = ntohs(sa.sin_port);
    return fd;
}

gw_server *gw_server_start(const struct gw_config *cfg, const struct rt_env *env)
{
    gw_metrics_init();
    unsigned port = 0;
    int lfd = listen_socket(cfg, &port);
    if (lfd < 0)
        return NULL;
    gw_tls_listener(lfd);
    gw_server *s = dg_xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->env = *env;
    s->listen_fd = lfd;
    s->port = port;
    snprintf(s->origin, sizeof s->origin, "%s://%s:%u", gw_tls_on() ? "https" : "http", cfg->listen, s->port);
    s->limits = (struct rt_wait_limits){
        .default_timeout_ms = cfg->wait_timeout_ms,
        .default_interval_ms = cfg->wait_interval_ms,
        .max_timeout_ms = cfg->wait_max_timeout_ms,
        .min_interval_ms = cfg->wait_min_interval_ms,
        .max_waiters = cfg->max_waiters,
    };
    s->env.waits = &s->limits;
    s->proxy = (struct gw_proxy_conf){.upstream = cfg->upstream,
                                      .timeout_ms = cfg->upstream_timeout_ms,
                                      .rewrite_links = cfg->rewrite_upstream_links != 0,
                                      .env = &s->env,
                                      .scheme = gw_tls_on() ? "https" : "http",
                                      .origin = s->origin};
    s->waits = gw_waits_create(&s->env, (int) cfg->wait_readers);
    gw_ready_start(&s->ready, gw_waits_loop(s->waits), s->env.storage, s->env.default_hub);
    long n = cfg->threads > 0 ? cfg->threads : sysconf(_SC_NPROCESSORS_ONLN);
    s->nworkers = n < 1 ? 1 : (int) n;
    s->workers = dg_xcalloc((size_t) s->nworkers, sizeof *s->workers);
    pthread_mutex_init(&s->ip_mu, NULL);
    for (int i = 0; i < s->nworkers; i++) {
        struct gw_worker *wk = &s->workers[i];
        wk->s = s;
        wk->index = i;
        wk->loop = dg_loop_create();
        /* External epoll mode: the worker's loop drives the daemon, so a
         * handler, its storage calls and its answer share one thread. */
        unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
        flags |= gw_tls_on() ? MHD_USE_TLS : 0; /* with gw_tls_options below */
        /* The connection limits are the gateway's, across all loops
         * (on_connection): each daemon may hold them all, so none stops
         * accepting and leaves clients in the backlog. libmicrohttpd's own
         * per-address limit counts per daemon, that is per loop, so it is not used. */
        wk->d =
            MHD_start_daemon(flags, 0, NULL, NULL, on_request, wk, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                             MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_CONNECTION_LIMIT,
                             (unsigned) cfg->connection_limit + REFUSED_ROOM, MHD_OPTION_CONNECTION_TIMEOUT,
                             (unsigned) cfg->connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                             (size_t) 16 * 1024, MHD_OPTION_NOTIFY_COMPLETED, on_completed, wk,
                             MHD_OPTION_URI_LOG_CALLBACK, on_uri, wk, MHD_OPTION_NOTIFY_CONNECTION,
                             on_connection, wk, MHD_OPTION_ARRAY, gw_tls_options(), MHD_OPTION_END);
        const union MHD_DaemonInfo *info =
            wk->d ? MHD_get_daemon_info(wk->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
        if (!info)
            dg_fatal("cannot start the HTTP daemon");
        wk->mhd = (struct dg_watch){.fd = info->epoll_fd, .cb = on_mhd_fd, .data = wk};
        dg_watch_set(wk->loop, &wk->mhd, EPOLLIN);
        dg_timer_init(&wk->mhd_t, on_mhd_timer, wk);
        dg_timer_init(&wk->sweep, on_sweep, wk);
        dg_loop_set_prepare(wk->loop, mhd_prepare, wk);
        if (pthread_create(&wk->tid, NULL, worker_main, wk) != 0)
            dg_fatal("cannot start an event-loop thread");
    }
    return s;
}

unsigned gw_server_port(const gw_server *s)
{
    return s->port;
}

static void each_worker(gw_server *s, void (*fn)(void *))
{
    for (int i = 0; i < s->nworkers; i++)
        dg_loop_post(s->workers[i].loop, fn, &s->workers[i]);
}

static void wait_phase(gw_server *s, int phase)
{
    for (int i = 0; i < s->nworkers; i++)
        while (atomic_load(&s->workers[i].phase) < phase)
            usleep(1000);
}

void gw_server_stop(gw_server *s)
{
    if (!s)
        return;
    /* Take no new connections (new requests on open ones are answered 503),
     * answer every waiter at once with its 202, let the handlers still
     * running finish within the grace, cut the rest (503), give the answers a
     * moment to leave, then stop. */
    each_worker(s, worker_quiesce);
    wait_phase(s, 1);
    close(s->listen_fd);
    gw_waits_drain(s->waits);
    int64_t until = dg_mono_ms() + s->cfg->shutdown_grace_ms;
    while (gw_metrics_running_now() > 0 && dg_mono_ms() < until)
        usleep(5000);
    if (gw_metrics_running_now() > 0) {
        DG_WARN(NULL, "shutdown: %ld request(s) still running after %ld ms: answered 503",
                gw_metrics_running_now(), s->cfg->shutdown_grace_ms);
        each_worker(s, worker_cut);
    }
    until = dg_mono_ms() + 1000;
    while ((gw_metrics_running_now() > 0 || gw_metrics_in_flight_now() > 0) && dg_mono_ms() < until)
        usleep(2000);
    each_worker(s, worker_stop);
    for (int i = 0; i < s->nworkers; i++) {
        pthread_join(s->workers[i].tid, NULL);
        dg_loop_destroy(s->workers[i].loop);
    }
    gw_ready_stop(&s->ready);
    gw_waits_destroy(s->waits);
    for (int i = 0; i < IP_BUCKETS; i++)
        while (s->ip[i]) {
            struct ip_count *dead = s->ip[i];
            s->ip[i] = dead->next;
            free(dead);
        }
    pthread_mutex_destroy(&s->ip_mu);
    free(s->workers);
    free(s);
}
