#include "gateway/proxy.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "gateway/metrics.h"
#include "storage/transfer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

/* Each direction holds at most this much: past it the sender waits (the
 * client's socket is not read, libcurl's transfer is paused). */
#define IN_CAP  (64u << 10)
#define OUT_CAP (64u << 10)
/* An answer whose links are rewritten is held whole up to this; a larger one
 * is passed on as it is. */
#define REWRITE_CAP (1u << 20)
/* The upstream's head: lines and bytes. */
#define HEAD_LINES 128
#define HEAD_BYTES (32u << 10)
/* A connection suspended this long is watched for the client's hang-up. */
#define HUP_WATCH_AFTER_MS 20

enum px_wait { PX_RUNNING, PX_FOR_ROOM, PX_FOR_HEAD, PX_FOR_DATA };

struct px_header {
    const char *name, *value;
};

struct gw_proxy {
    const struct gw_proxy_conf *pc;
    struct gw_proxy_hooks hooks;
    struct MHD_Connection *conn;
    dg_loop *loop;
    dg_arena *a;
    const char *reqid;
    const char *method;
    const char *uri;
    const char *origin;    /* the gateway's as the client called it (rewritten links) */
    const char *up_origin; /* the upstream's scheme://host[:port] */
    int refs;              /* the request, and the answer while the daemon holds it */
    int64_t t0_us;

    CURL *h;
    struct curl_slist *hdrs;
    struct az_transfer xf;
    bool running; /* in the multi handle */
    bool finished;
    CURLcode result;

    /* the request body, client -> upstream */
    char *in;
    size_t in_off, in_len;
    bool in_eof, read_paused;
    bool sent_all; /* the whole request body is out: the upstream's turn */

    /* the answer, upstream -> client */
    int status;
    struct px_header *hv;
    size_t nh, head_bytes;
    bool head_done, head_bad;
    int64_t length; /* Content-Length of the answer; -1 unknown */
    bool rewrite;   /* holding a JSON answer whole to rewrite its links */
    char *out;
    size_t out_cap, out_off, out_len, out_limit;
    bool write_paused;
    uint64_t bytes_out;

    /* the connection */
    enum px_wait wait;
    bool suspended, queued, gone, cut;
    int error; /* the answer when the upstream failed before its head: 502, 503, 504 */
    struct dg_watch hup;
    struct dg_timer timer;
    int64_t suspended_at, active_at;
};

/* ---- headers ---- */

/* Hop-by-hop (RFC 9110 §7.6.1) or set by the gateway or libcurl itself. */
static bool hop_by_hop(const char *name)
{
    static const char *const names[] = {"Connection",        "Keep-Alive", "TE",   "Trailer",
                                        "Transfer-Encoding", "Upgrade",    "Host", "Expect",
                                        "Content-Length"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    return strncasecmp(name, "Proxy-", 6) == 0;
}

/* Whether the Connection header's comma list names name. */
static bool named_in(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t l = strcspn(p, ",");
        size_t t = l;
        while (t && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        if (t == n && strncasecmp(p, name, n) == 0)
            return true;
        p += l;
    }
    return false;
}

struct collect {
    gw_proxy *p;
    const char *connection;
    const char *xff, *xfproto, *xfhost, *host;
    bool accept, request_id;
    struct rt_param *all;
    size_t nall, cap;
};

static enum MHD_Result each_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void) kind;
    struct collect *c = cls;
    value = value ? value : "";
    if (c->nall < c->cap)
        c->all[c->nall++] = (struct rt_param){key, value};
    if (strcasecmp(key, "X-Forwarded-For") == 0) {
        c->xff = value;
        return MHD_YES;
    }
    if (strcasecmp(key, "X-Forwarded-Proto") == 0) {
        c->xfproto = value;
        return MHD_YES;
    }
    if (strcasecmp(key, "X-Forwarded-Host") == 0) {
        c->xfhost = value;
        return MHD_YES;
    }
    if (strcasecmp(key, "Host") == 0)
        c->host = value;
    if (strcasecmp(key, "Accept") == 0)
        c->accept = true;
    if (strcasecmp(key, "X-Request-Id") == 0)
        c->request_id = true;
    if (hop_by_hop(key) || (c->connection && named_in(c->connection, key)))
        return MHD_YES;
    c->p->hdrs = curl_slist_append(c->p->hdrs, dg_arena_printf(c->p->a, "%s: %s", key, value));
    return MHD_YES;
}

static const char *client_ip(struct MHD_Connection *conn, char *buf, size_t cap)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET &&
        inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, (socklen_t) cap))
        return buf;
    if (sa && sa->sa_family == AF_INET6 &&
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, buf, (socklen_t) cap))
        return buf;
    return "unknown";
}

/* ---- the connection ---- */

static void unref(gw_proxy *p);

static void hup_off(gw_proxy *p)
{
    if (p->hup.events)
        dg_watch_set(p->loop, &p->hup, 0);
}

static void suspend(gw_proxy *p, enum px_wait why)
{
    p->wait = why;
    if (p->suspended)
        return;
    MHD_suspend_connection(p->conn);
    p->suspended = true;
    p->suspended_at = dg_mono_ms();
}

static void resume(gw_proxy *p)
{
    p->wait = PX_RUNNING;
    if (!p->suspended)
        return;
    p->suspended = false;
    hup_off(p);
    MHD_resume_connection(p->conn);
    p->hooks.resumed(p->hooks.arg);
}

static void stop_transfer(gw_proxy *p)
{
    if (p->running) {
        az_transfer_abort(p->h);
        p->running = false;
    }
}

static void on_hup(struct dg_watch *w, uint32_t revents)
{
    (void) revents;
    gw_proxy *p = w->data;
    hup_off(p);
    p->gone = true;
    stop_transfer(p);
    resume(p); /* the access handler, called again, closes the connection */
}

/* Not on the client: it has sent what it had and takes what comes. */
static bool waiting_on_upstream(const gw_proxy *p)
{
    return p->running && !p->read_paused && !p->write_paused;
}

/* When the upstream's silence ends the exchange. While the request body is
 * still going out, a slow reader upstream is not silence: the kernel takes
 * bytes again only once half its send buffer drained, which at a slow
 * reader's pace takes seconds; so the bound is ten times as long then. */
static int64_t silence_deadline(const gw_proxy *p)
{
    return p->active_at + (p->sent_all ? p->pc->timeout_ms : 10 * p->pc->timeout_ms);
}

/* The next time the timer matters: the hang-up watch of a suspended
 * connection, the upstream's silence. */
static void timer_arm(gw_proxy *p)
{
    int64_t at = INT64_MAX;
    if (waiting_on_upstream(p))
        at = silence_deadline(p);
    if (p->suspended && !p->hup.events && !p->gone)
        at = p->suspended_at + HUP_WATCH_AFTER_MS < at ? p->suspended_at + HUP_WATCH_AFTER_MS : at;
    if (at == INT64_MAX)
        dg_timer_stop(p->loop, &p->timer);
    else if (!dg_timer_armed(&p->timer) || p->timer.at != at)
        dg_timer_start(p->loop, &p->timer, at);
}

static void on_timer(struct dg_timer *t)
{
    gw_proxy *p = t->data;
    int64_t now = dg_mono_ms();
    if (p->suspended && !p->hup.events && !p->gone && now >= p->suspended_at + HUP_WATCH_AFTER_MS) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(p->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci) {
            p->hup = (struct dg_watch){.fd = ci->connect_fd, .cb = on_hup, .data = p};
            dg_watch_set(p->loop, &p->hup, EPOLLRDHUP);
        }
    }
    if (waiting_on_upstream(p) && now >= silence_deadline(p)) {
        DG_WARN(p->reqid, "upstream %s %s: silent for %lld ms", p->method, dg_redact(p->a, p->uri),
                (long long) (now - p->active_at));
        stop_transfer(p);
        p->finished = true;
        p->result = CURLE_OPERATION_TIMEDOUT;
        if (!p->head_done)
            p->error = 504;
        resume(p);
    }
    timer_arm(p);
}

/* ---- libcurl's side ---- */

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    gw_proxy *p = ud;
    size_t max = size * nitems;
    if (p->in_len == 0) {
        if (p->in_eof) {
            if (!p->sent_all) {
                p->sent_all = true; /* from now on the upstream owes the answer */
                p->active_at = dg_mono_ms();
            }
            return 0;
        }
        p->read_paused = true; /* resumed when the client sends more */
        return CURL_READFUNC_PAUSE;
    }
    size_t n = p->in_len < max ? p->in_len : max;
    memcpy(buf, p->in + p->in_off, n);
    p->in_off += n;
    p->in_len -= n;
    if (!p->in_len)
        p->in_off = 0;
    p->active_at = dg_mono_ms();
    if (p->wait == PX_FOR_ROOM)
        resume(p); /* the access handler takes the rest of the client's piece */
    return n;
}

static bool is_json(const char *ct)
{
    if (!ct)
        return false;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0);
}

static const char *head_value(const gw_proxy *p, const char *name)
{
    for (size_t i = 0; i < p->nh; i++)
        if (strcasecmp(p->hv[i].name, name) == 0)
            return p->hv[i].value;
    return NULL;
}

static void head_complete(gw_proxy *p)
{
    p->head_done = true;
    const char *cl = head_value(p, "Content-Length");
    char *end;
    unsigned long long v = cl ? strtoull(cl, &end, 10) : 0;
    p->length = cl && end != cl && *end == '\0' && v < (1ull << 62) ? (int64_t) v : -1;
    if (strcmp(p->method, "HEAD") == 0 || p->status == 204 || p->status == 304)
        p->length = p->length < 0 ? 0 : p->length;
    p->rewrite = p->pc->rewrite_links && strcmp(p->method, "HEAD") != 0 &&
                 is_json(head_value(p, "Content-Type")) && !head_value(p, "Content-Encoding") &&
                 (p->length < 0 || p->length <= (int64_t) REWRITE_CAP);
    p->out_limit = p->rewrite ? REWRITE_CAP : OUT_CAP;
    if (!p->rewrite && p->wait == PX_FOR_HEAD)
        resume(p);
}

static size_t on_head(char *buf, size_t size, size_t nitems, void *ud)
{
    gw_proxy *p = ud;
    size_t n = size * nitems;
    p->active_at = dg_mono_ms();
    size_t l = n;
    while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
        l--;
    if (l >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* A status line: a new head (after a 1xx, the final one). */
        const char *sp = memchr(buf, ' ', l);
        p->status = sp && sp + 4 <= buf + l ? atoi(sp + 1) : 0;
        p->nh = 0;
        p->head_bytes = 0;
        return n;
    }
    if (l == 0) {
        if (p->status >= 200 && !p->head_done)
            head_complete(p);
        return n;
    }
    if (buf[0] == ' ' || buf[0] == '\t')
        return n; /* obsolete line folding: dropped */
    const char *colon = memchr(buf, ':', l);
    if (!colon || colon == buf)
        return n;
    p->head_bytes += l;
    if (p->nh == HEAD_LINES || p->head_bytes > HEAD_BYTES) {
        p->head_bad = true;
        return 0; /* ends the transfer: 502 */
    }
    const char *v = colon + 1;
    while (v < buf + l && (*v == ' ' || *v == '\t'))
        v++;
    if (!p->hv)
        p->hv = dg_arena_alloc(p->a, HEAD_LINES * sizeof *p->hv);
    p->hv[p->nh++] = (struct px_header){dg_arena_strndup(p->a, buf, (size_t) (colon - buf)),
                                        dg_arena_strndup(p->a, v, (size_t) (buf + l - v))};
    return n;
}

static size_t on_data(char *data, size_t size, size_t nitems, void *ud)
{
    gw_proxy *p = ud;
    size_t n = size * nitems;
    if (p->gone || p->cut)
        return 0;
    if (p->out_len + n > p->out_limit) {
        if (p->rewrite) {
            /* Too large to be a check-status answer: passed on as it is. */
            p->rewrite = false;
            p->out_limit = p->out_len + n > OUT_CAP ? p->out_len + n : OUT_CAP;
            if (p->wait == PX_FOR_HEAD)
                resume(p);
        } else {
            p->write_paused = true; /* resumed when the client took some */
            return CURL_WRITEFUNC_PAUSE;
        }
    }
    if (p->out_off + p->out_len + n > p->out_cap) {
        if (p->out_off) {
            memmove(p->out, p->out + p->out_off, p->out_len);
            p->out_off = 0;
        }
        if (p->out_len + n > p->out_cap) {
            /* A small answer of known length gets just its size (most do:
             * a 16 KiB block per request costs the allocator more than the copy). */
            size_t cap = p->out_cap                                        ? p->out_cap
                         : p->length > 0 && p->length <= (int64_t) OUT_CAP ? (size_t) p->length
                                                                           : 16384;
            while (cap < p->out_len + n)
                cap *= 2;
            p->out = dg_xrealloc(p->out, cap);
            p->out_cap = cap;
        }
    }
    memcpy(p->out + p->out_off + p->out_len, data, n);
    p->out_len += n;
    p->active_at = dg_mono_ms();
    if (p->wait == PX_FOR_DATA)
        resume(p);
    return n;
}

static void on_done(struct az_transfer *t, CURLcode cc)
{
    gw_proxy *p = (gw_proxy *) ((char *) t - offsetof(gw_proxy, xf));
    p->running = false;
    p->finished = true;
    p->result = cc;
    if (!p->head_done && !p->error) {
        p->error = cc == CURLE_OPERATION_TIMEDOUT ? 504 : 502;
        if (cc == CURLE_OK)
            p->error = 502; /* an answer with no head we could read */
        DG_WARN(p->reqid, "upstream %s %s: %s", p->method, dg_redact(p->a, p->uri),
                p->head_bad ? "head too large" : curl_easy_strerror(cc));
    }
    if (p->wait == PX_FOR_HEAD || p->wait == PX_FOR_DATA)
        resume(p);
    timer_arm(p);
}

/* ---- the answer ---- */

static ssize_t read_answer(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void) pos;
    gw_proxy *p = cls;
    if (p->cut || p->gone)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* shutdown: the rest is not sent */
    if (p->out_len) {
        size_t n = p->out_len < max ? p->out_len : max;
        memcpy(buf, p->out + p->out_off, n);
        p->out_off += n;
        p->out_len -= n;
        if (!p->out_len)
            p->out_off = 0;
        p->bytes_out += n;
        if (p->write_paused && p->out_len + CURL_MAX_WRITE_SIZE <= p->out_limit && p->running) {
            p->write_paused = false;
            p->active_at = dg_mono_ms();
            curl_easy_pause(p->h, CURLPAUSE_CONT); /* may deliver into out at once */
            timer_arm(p);
        }
        return (ssize_t) n;
    }
    if (p->finished)
        return p->result == CURLE_OK ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
    suspend(p, PX_FOR_DATA);
    timer_arm(p);
    return 0;
}

static void answer_freed(void *cls)
{
    unref(cls);
}

/* The rewritten value of a Location pointing at the upstream's origin. */
static const char *rewrite_location(gw_proxy *p, const char *v)
{
    size_t on = strlen(p->up_origin);
    if (strncasecmp(v, p->up_origin, on) == 0 && (v[on] == '/' || v[on] == '\0' || v[on] == '?'))
        return dg_arena_printf(p->a, "%s%s", p->origin, v + on);
    return v;
}

static enum MHD_Result queue_error(gw_proxy *p, int status, const char *msg)
{
    rt_response rs = {0};
    rt_set_message(&rs, p->a, status, msg);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(rs.body_len, (void *) rs.body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs.content_type);
    MHD_add_response_header(r, "X-Request-Id", p->reqid);
    if (status == 503)
        MHD_add_response_header(r, "Retry-After", "1");
    p->queued = true;
    p->status = status;
    p->bytes_out += rs.body_len;
    enum MHD_Result ret = MHD_queue_response(p->conn, (unsigned) status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result queue_answer(gw_proxy *p)
{
    if (p->cut)
        return queue_error(p, 503, "The gateway is shutting down; retry the request.");
    if (p->error == 504)
        return queue_error(p, 504, "The function app did not answer within the gateway's upstream timeout.");
    if (p->error || !p->head_done)
        return queue_error(p, 502,
                           p->head_bad ? "The function app's answer has a head the gateway cannot pass on."
                                       : "The function app could not be reached or gave no answer.");
    struct MHD_Response *r;
    bool whole = p->finished && p->result == CURLE_OK;
    if (whole && p->rewrite) {
        size_t nl = 0;
        char *nb = gw_proxy_rewrite_body(p->a, p->out ? p->out + p->out_off : "", p->out_len, p->up_origin,
                                         p->origin, &nl);
        if (nb) {
            free(p->out);
            p->out = dg_xmalloc(nl ? nl : 1);
            memcpy(p->out, nb, nl);
            p->out_off = 0;
            p->out_len = p->out_cap = nl;
        }
    }
    if (whole && (p->length < 0 || p->rewrite || (uint64_t) p->length == p->out_len) &&
        strcmp(p->method, "HEAD") != 0) {
        /* The whole answer is here (most small ones): one buffer, sent with its head. */
        r = MHD_create_response_from_buffer(p->out_len, p->out ? p->out + p->out_off : (void *) "",
                                            MHD_RESPMEM_MUST_COPY);
        p->bytes_out += p->out_len;
        p->out_len = 0;
    } else {
        uint64_t size = p->length >= 0 ? (uint64_t) p->length : MHD_SIZE_UNKNOWN;
        r = MHD_create_response_from_callback(size, 16384, read_answer, p, answer_freed);
        if (r)
            p->refs++;
    }
    if (!r)
        return MHD_NO;
    const char *connection = head_value(p, "Connection");
    bool has_id = false; /* the app's own X-Request-Id (often ours, echoed) is passed on, not doubled */
    for (size_t i = 0; i < p->nh; i++) {
        const char *name = p->hv[i].name, *v = p->hv[i].value;
        if (hop_by_hop(name) || strcasecmp(name, "Date") == 0 || (connection && named_in(connection, name)))
            continue;
        if (p->pc->rewrite_links && strcasecmp(name, "Location") == 0)
            v = rewrite_location(p, v);
        has_id = has_id || strcasecmp(name, "X-Request-Id") == 0;
        MHD_add_response_header(r, name, *v ? v : " ");
    }
    if (!has_id)
        MHD_add_response_header(r, "X-Request-Id", p->reqid);
    p->queued = true;
    enum MHD_Result ret = MHD_queue_response(p->conn, (unsigned) p->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- the request ---- */

gw_proxy *gw_proxy_begin(const struct gw_proxy_conf *pc, const struct gw_proxy_hooks *hooks,
                         struct MHD_Connection *conn, const char *method, const char *uri, dg_arena *a,
                         const char *reqid)
{
    gw_proxy *p = dg_xcalloc(1, sizeof *p);
    p->pc = pc;
    p->hooks = *hooks;
    p->conn = conn;
    p->loop = dg_loop_current();
    p->a = a;
    p->reqid = reqid;
    p->method = dg_arena_strdup(a, method);
    p->uri = uri;
    p->refs = 1;
    p->t0_us = dg_mono_us();
    p->active_at = dg_mono_ms();
    p->length = -1;
    p->out_limit = OUT_CAP;
    dg_timer_init(&p->timer, on_timer, p);

    struct collect c = {.p = p, .cap = 64};
    c.all = dg_arena_alloc(a, c.cap * sizeof *c.all);
    c.connection = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Connection");
    MHD_get_connection_values(conn, MHD_HEADER_KIND, each_header, &c);
    char ip[INET6_ADDRSTRLEN];
    const char *me = client_ip(conn, ip, sizeof ip);
    bool trust = pc->env->trust_forwarded;
    p->hdrs =
        curl_slist_append(p->hdrs, dg_arena_printf(a, "X-Forwarded-For: %s%s%s", trust && c.xff ? c.xff : "",
                                                   trust && c.xff ? ", " : "", me));
    p->hdrs = curl_slist_append(
        p->hdrs, dg_arena_printf(a, "X-Forwarded-Proto: %s", trust && c.xfproto ? c.xfproto : pc->scheme));
    if ((trust && c.xfhost) || c.host)
        p->hdrs = curl_slist_append(
            p->hdrs, dg_arena_printf(a, "X-Forwarded-Host: %s", trust && c.xfhost ? c.xfhost : c.host));
    if (!c.request_id) /* the app's logs join the gateway's on the id the client got */
        p->hdrs = curl_slist_append(p->hdrs, dg_arena_printf(a, "X-Request-Id: %s", reqid));
    p->hdrs = curl_slist_append(p->hdrs, "Expect:"); /* the client's own 100-continue was answered by us */
    if (!c.accept)
        p->hdrs = curl_slist_append(p->hdrs, "Accept:"); /* nothing libcurl would add on its own */
    if (pc->rewrite_links) {
        size_t on = strncmp(pc->upstream, "https://", 8) == 0 ? 8 : 7;
        p->up_origin = dg_arena_strndup(a, pc->upstream, on + strcspn(pc->upstream + on, "/"));
        rt_request rq = {.arena = a,
                         .method = method,
                         .path = uri,
                         .origin = pc->origin,
                         .headers = c.all,
                         .nheaders = c.nall};
        p->origin = rt_request_origin(pc->env, &rq);
    }

    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    bool body = (cl && strtoull(cl, NULL, 10) > 0) || te;
    CURL *h = p->h = az_transfer_handle();
    curl_easy_setopt(h, CURLOPT_URL, dg_arena_printf(a, "%s%s", pc->upstream, uri));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, p->hdrs);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_head);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, p);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, pc->timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTP_TRANSFER_DECODING, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L); /* gzip passes as it is */
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0 && !body) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
            strcmp(method, "PATCH") == 0) {
            curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, p);
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                             (curl_off_t) (cl && !te ? (curl_off_t) strtoull(cl, NULL, 10) : -1));
            if (body)
                p->in = dg_xmalloc(IN_CAP);
        }
    }
    if (!body)
        p->in_eof = true;
    if (!body && !p->in)
        p->sent_all = true;
    p->xf.done = on_done;
    if (!az_transfer_start(h, &p->xf)) {
        p->finished = true;
        p->error = 502;
    } else {
        p->running = true;
    }
    timer_arm(p);
    return p;
}

enum MHD_Result gw_proxy_on_request(gw_proxy *p, const char *upload, size_t *upload_size)
{
    if (p->gone)
        return MHD_NO; /* the client hung up while we waited */
    if (p->queued)
        return MHD_YES;
    if (*upload_size) {
        if (p->finished || p->cut || !p->in) {
            *upload_size = 0; /* the upstream is done with us: the rest is read and dropped */
            return MHD_YES;
        }
        if (p->in_off && p->in_len + *upload_size > IN_CAP) {
            memmove(p->in, p->in + p->in_off, p->in_len);
            p->in_off = 0;
        }
        size_t room = IN_CAP - p->in_off - p->in_len;
        size_t n = *upload_size < room ? *upload_size : room;
        memcpy(p->in + p->in_off + p->in_len, upload, n);
        p->in_len += n;
        *upload_size -= n;
        if (p->read_paused && n) {
            p->read_paused = false;
            p->active_at = dg_mono_ms();
            curl_easy_pause(p->h, CURLPAUSE_CONT);
        }
        if (*upload_size) {
            suspend(p, PX_FOR_ROOM); /* the client waits until the upstream took some */
            timer_arm(p);
        }
        return MHD_YES;
    }
    if (!p->in_eof) {
        p->in_eof = true;
        if (p->read_paused && p->running) {
            p->read_paused = false;
            p->active_at = dg_mono_ms();
            curl_easy_pause(p->h, CURLPAUSE_CONT);
        }
    }
    if (!p->finished && !p->cut && (!p->head_done || p->rewrite)) {
        suspend(p, PX_FOR_HEAD);
        timer_arm(p);
        return MHD_YES;
    }
    return queue_answer(p);
}

static void unref(gw_proxy *p)
{
    if (--p->refs > 0)
        return;
    free(p->in);
    free(p->out);
    free(p);
}

void gw_proxy_end(gw_proxy *p)
{
    stop_transfer(p);
    hup_off(p);
    dg_timer_stop(p->loop, &p->timer);
    if (p->h) {
        az_transfer_handle_put(p->h);
        p->h = NULL;
    }
    curl_slist_free_all(p->hdrs);
    p->hdrs = NULL;
    /* To the answer's last byte; 499, as in requests_total, when the client left before an answer. */
    gw_metrics_upstream(p->queued ? p->status : 499, dg_mono_us() - p->t0_us);
    p->gone = true;
    unref(p);
}

void gw_proxy_cut(gw_proxy *p)
{
    if (p->gone)
        return;
    p->cut = true;
    stop_transfer(p);
    if (p->queued) {
        /* An answer already streaming cannot become a 503: it ends now, not
         * when a slow client next makes room (the descriptor stays the daemon's). */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(p->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci)
            shutdown(ci->connect_fd, SHUT_RDWR);
    }
    resume(p);
}

int gw_proxy_status(const gw_proxy *p)
{
    return p->status;
}

uint64_t gw_proxy_bytes_out(const gw_proxy *p)
{
    return p->bytes_out;
}

/* ---- rewriting the app's check-status links ---- */

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the JSON string starting at p (its opening quote), or NULL. */
static const char *string_end(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* The end of the JSON value starting at p (not validated beyond nesting), or NULL. */
static const char *value_end(const char *p, const char *e)
{
    if (p >= e)
        return NULL;
    if (*p == '"')
        return string_end(p, e);
    int depth = 0;
    for (; p < e; p++) {
        if (*p == '"') {
            p = string_end(p, e);
            if (!p)
                return NULL;
            p--;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (depth == 0)
                return p;
            if (--depth == 0)
                return p + 1;
        } else if (depth == 0 && (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
            return p;
        }
    }
    return depth == 0 ? p : NULL;
}

static bool link_member(const char *k, size_t n)
{
    static const char *const names[] = {"statusQueryGetUri",     "sendEventPostUri", "terminatePostUri",
                                        "purgeHistoryDeleteUri", "restartPostUri",   "suspendPostUri",
                                        "resumePostUri"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == n && memcmp(k, names[i], n) == 0)
            return true;
    return false;
}

/* from with every '/' as "\/", as some JSON writers escape it. */
static char *escaped_slashes(dg_arena *a, const char *s)
{
    size_t n = strlen(s), k = 0;
    char *o = dg_arena_alloc(a, 2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '/')
            o[k++] = '\\';
        o[k++] = s[i];
    }
    o[k] = '\0';
    return o;
}

char *gw_proxy_rewrite_body(dg_arena *a, const char *body, size_t len, const char *from, const char *to,
                            size_t *out_len)
{
    const char *e = body + len, *p = skip_ws(body, e);
    if (p == e || *p != '{')
        return NULL;
    const char *forms[2][2] = {{from, to}, {escaped_slashes(a, from), escaped_slashes(a, to)}};
    /* Pieces of the output: spans of the body between replaced prefixes. */
    size_t cap = 16, n = 0;
    struct {
        const char *src;
        size_t n;
        const char *ins;
    } *piece = dg_arena_alloc(a, cap * sizeof *piece);
    const char *copied = body;
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}')
        return NULL;
    while (p < e) {
        if (*p != '"')
            return NULL;
        const char *ke = string_end(p, e);
        if (!ke)
            return NULL;
        const char *k = p + 1;
        size_t kn = (size_t) (ke - 1 - k);
        p = skip_ws(ke, e);
        if (p == e || *p != ':')
            return NULL;
        p = skip_ws(p + 1, e);
        const char *ve = value_end(p, e);
        if (!ve)
            return NULL;
        if (*p == '"' && link_member(k, kn)) {
            for (int f = 0; f < 2; f++) {
                size_t fl = strlen(forms[f][0]);
                const char *v = p + 1;
                if ((size_t) (ve - 1 - v) >= fl && strncasecmp(v, forms[f][0], fl) == 0 &&
                    (v + fl == ve - 1 || v[fl] == '/' || v[fl] == '\\' || v[fl] == '?')) {
                    if (n == cap) {
                        void *np = dg_arena_alloc(a, 2 * cap * sizeof *piece);
                        memcpy(np, piece, cap * sizeof *piece);
                        piece = np;
                        cap *= 2;
                    }
                    piece[n].src = copied;
                    piece[n].n = (size_t) (v - copied);
                    piece[n].ins = forms[f][1];
                    n++;
                    copied = v + fl;
                    break;
                }
            }
        }
        p = skip_ws(ve, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}')
            break;
        return NULL;
    }
    if (p >= e || n == 0)
        return NULL;
    size_t total = (size_t) (e - copied);
    for (size_t i = 0; i < n; i++)
        total += piece[i].n + strlen(piece[i].ins);
    char *o = dg_arena_alloc(a, total + 1), *w = o;
    for (size_t i = 0; i < n; i++) {
        memcpy(w, piece[i].src, piece[i].n);
        w += piece[i].n;
        size_t il = strlen(piece[i].ins);
        memcpy(w, piece[i].ins, il);
        w += il;
    }
    memcpy(w, copied, (size_t) (e - copied));
    w += e - copied;
    *w = '\0';
    *out_len = total;
    return o;
}
