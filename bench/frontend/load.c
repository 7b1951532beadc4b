/* bench_load: a closed-loop HTTP/1.1 load generator for bench/frontend.sh,
 * like wrk but with what the front-end benchmark needs: per-connection or
 * per-request instance ids, one-request-per-connection runs (--once) for the
 * hung-storage rows, request timeouts that reopen the connection, every
 * answer's status counted, and a probe (one request at a time on its own
 * connection, e.g. /healthz every 10 ms) whose latency is reported apart.
 *
 * One epoll loop per thread (--threads, default 1), edge-triggered, no
 * epoll_ctl per request; connections are opened at most --max-connecting at a
 * time so that thousands do not overflow the server's accept queue. Latency
 * is the time from writing a request to reading its answer's last byte, kept
 * in a log-bucketed histogram (exact below 1024 us, within 0.2% above).
 *
 * The last stdout line is machine-readable:
 *   rps=... requests=... p50_ms=... p90_ms=... p99_ms=... max_ms=... errors=... timeouts=...
 *   status_2xx=... status_3xx=... status_4xx=... status_5xx=... status_504=... status_503=...
 *   answered=... probe_requests=... probe_p50_ms=... probe_p99_ms=... probe_max_ms=... ...
 * requests, rps, the percentiles and the status/error/timeout counts cover the
 * measured window (after --warmup-s); answered counts every answer of the run. */
#include "http1.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SCRATCH     (256u << 10)
#define HEAD_CAP    (64u << 10)
#define MAX_EVENTS  512
#define MAX_HEADERS 32
#define BACKOFF_NS  (10 * 1000000LL) /* before reopening after an error */
#define MAX_WAIT_NS (50 * 1000000LL) /* longest epoll sleep: stop flags are seen this fast */

/* ---- histogram: microseconds, exact below 1024, then 512 buckets per power of two (0.2%) ---- */

#define SUB_BITS 10
#define SUB      (1 << SUB_BITS)
#define HALF     (SUB / 2)
#define MAX_EXP  40 /* 2^40 us, about 12 days */
#define NBUCKETS (SUB + (MAX_EXP - SUB_BITS) * HALF)

struct hist {
    uint64_t *b;
    uint64_t n, max;
};

static int hidx(uint64_t v)
{
    if (v < SUB)
        return (int) v;
    int msb = 63 - __builtin_clzll(v);
    if (msb >= MAX_EXP)
        return NBUCKETS - 1;
    int shift = msb - SUB_BITS + 1;
    return SUB + (msb - SUB_BITS) * HALF + (int) ((v >> shift) - HALF);
}

/* The middle of bucket i's range. */
static double hval(int i)
{
    if (i < SUB)
        return i;
    int j = i - SUB, e = j / HALF;
    uint64_t m = (uint64_t) (j % HALF + HALF);
    int shift = e + 1;
    return (double) (m << shift) + (double) (1ull << shift) / 2;
}

static void hist_init(struct hist *h)
{
    h->b = calloc(NBUCKETS, sizeof *h->b);
    if (!h->b)
        abort();
}

static void hist_add(struct hist *h, uint64_t us)
{
    h->b[hidx(us)]++;
    h->n++;
    if (us > h->max)
        h->max = us;
}

static void hist_merge(struct hist *into, const struct hist *h)
{
    for (int i = 0; i < NBUCKETS; i++)
        into->b[i] += h->b[i];
    into->n += h->n;
    if (h->max > into->max)
        into->max = h->max;
}

/* Milliseconds at quantile q (0..1). */
static double hist_q(const struct hist *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t want = (uint64_t) (q * (double) h->n + 0.5);
    if (want < 1)
        want = 1;
    uint64_t seen = 0;
    for (int i = 0; i < NBUCKETS; i++) {
        seen += h->b[i];
        if (seen >= want) {
            double v = hval(i);
            return (v > (double) h->max ? (double) h->max : v) / 1000.0;
        }
    }
    return (double) h->max / 1000.0;
}

/* ---- options ---- */

static struct {
    struct sockaddr_in addr;
    char host[64];
    int connections;
    double duration_s, warmup_s;
    uint64_t requests;
    const char *method;
    const char *path_template;
    int ids;
    bool unique_ids;
    const char *headers[MAX_HEADERS];
    int nheaders;
    const char *body;
    bool has_body;
    int timeout_ms;
    bool once;
    const char *probe_path;
    int probe_interval_ms;
    int threads;
    int max_connecting;
} opt = {.method = "GET",
         .path_template = "/",
         .timeout_ms = 30000,
         .probe_interval_ms = 10,
         .threads = 1,
         .max_connecting = 256};

static int64_t t_start, t_warm, t_end;
static _Atomic int stop;
static _Atomic uint64_t measured_total;
static _Atomic long active_total; /* --once: connections not finished */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- connections ---- */

enum lstate { L_IDLE, L_WAITQ, L_CONNECTING, L_SENDING, L_READING, L_BACKOFF, L_DONE };
enum pstate { P_NONE, P_HEAD, P_BODY, P_CHUNK, P_UNTIL_CLOSE };
enum list { LIST_NONE, LIST_FLIGHT, LIST_BACKOFF, LIST_WAITQ };

struct lconn {
    int fd;
    int idx; /* connection number, 0..connections-1 */
    enum lstate st;
    bool probe;
    bool close_after;
    enum pstate ps;
    struct http1_chunked chunk;
    uint64_t left;
    int status;
    char *req; /* the request bytes */
    size_t req_len, req_off, req_cap;
    uint64_t seq;
    int64_t t_send; /* request written (or connect started), ns */
    int64_t t_wake; /* backoff end */
    char *h;        /* a response head split across reads */
    size_t hl, hcap;
    enum list list;
    struct lconn *prev, *next;
};

struct fifo {
    struct lconn *head, *tail;
};

struct counts {
    uint64_t answered, measured, errors, timeouts, st[6], s503, s504;
    uint64_t probe_n, probe_timeouts, probe_errors;
};

struct lthr {
    int idx, ep;
    pthread_t tid;
    struct lconn *conns; /* this thread's: every nthreads-th connection */
    int n;
    struct lconn probe;
    int64_t probe_next;
    struct hist h, ph;
    struct counts k;
    int connecting;
    long active;
    struct fifo flight, backoff, waitq;
    char *scratch;
};

static struct {
    char *pre;     /* method, path up to the first {id} */
    char **pieces; /* the path between {id}s */
    int npieces;   /* pieces after the first {id} */
    char *tail;    /* " HTTP/1.1", Host, headers, Content-Length, blank line, body */
    size_t pre_len, tail_len;
    char *probe_req;
} tpl;

static void fifo_push(struct fifo *f, struct lconn *c, enum list which)
{
    c->list = which;
    c->next = NULL;
    c->prev = f->tail;
    if (f->tail)
        f->tail->next = c;
    else
        f->head = c;
    f->tail = c;
}

static void fifo_remove(struct lthr *t, struct lconn *c)
{
    struct fifo *f = c->list == LIST_FLIGHT    ? &t->flight
                     : c->list == LIST_BACKOFF ? &t->backoff
                     : c->list == LIST_WAITQ   ? &t->waitq
                                               : NULL;
    if (!f)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        f->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        f->tail = c->prev;
    c->prev = c->next = NULL;
    c->list = LIST_NONE;
}

static void req_reserve(struct lconn *c, size_t n)
{
    if (n <= c->req_cap)
        return;
    c->req = realloc(c->req, n);
    if (!c->req)
        abort();
    c->req_cap = n;
}

/* The request bytes of c with instance id `id`. */
static void build_request(struct lconn *c, const char *id)
{
    size_t idl = strlen(id), n = tpl.pre_len + tpl.tail_len;
    for (int i = 0; i < tpl.npieces; i++)
        n += idl + strlen(tpl.pieces[i]);
    req_reserve(c, n + 1);
    char *p = c->req;
    memcpy(p, tpl.pre, tpl.pre_len);
    p += tpl.pre_len;
    for (int i = 0; i < tpl.npieces; i++) {
        memcpy(p, id, idl);
        p += idl;
        size_t pl = strlen(tpl.pieces[i]);
        memcpy(p, tpl.pieces[i], pl);
        p += pl;
    }
    memcpy(p, tpl.tail, tpl.tail_len);
    p += tpl.tail_len;
    c->req_len = (size_t) (p - c->req);
}

static void conn_shut(struct lthr *t, struct lconn *c)
{
    if (c->st == L_CONNECTING)
        t->connecting--;
    fifo_remove(t, c);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->ps = P_NONE;
    c->hl = 0;
    c->st = L_IDLE;
}

static void conn_finish(struct lthr *t, struct lconn *c)
{
    conn_shut(t, c);
    c->st = L_DONE;
    t->active--;
    atomic_fetch_sub(&active_total, 1);
}

static bool in_window(int64_t at)
{
    return at >= t_warm && at < t_end;
}

static void start_send(struct lthr *t, struct lconn *c);
static void want_connect(struct lthr *t, struct lconn *c);

static void do_connect(struct lthr *t, struct lconn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("bench_load: socket");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->st = L_CONNECTING;
    if (!c->probe)
        t->connecting++;
    c->t_send = now_ns();
    fifo_remove(t, c);
    fifo_push(&t->flight, c, LIST_FLIGHT);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP, .data.ptr = c};
    epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev);
    int r = connect(fd, (struct sockaddr *) &opt.addr, sizeof opt.addr);
    if (r != 0 && errno != EINPROGRESS) {
        /* Reported as an error by the event the failed socket raises. */
    }
}

static void next_waiting(struct lthr *t)
{
    while (t->connecting < opt.max_connecting && t->waitq.head) {
        struct lconn *c = t->waitq.head;
        fifo_remove(t, c);
        do_connect(t, c);
    }
}

static void want_connect(struct lthr *t, struct lconn *c)
{
    if (c->probe || t->connecting < opt.max_connecting) {
        do_connect(t, c);
    } else {
        c->st = L_WAITQ;
        fifo_push(&t->waitq, c, LIST_WAITQ);
    }
}

/* A request that got no answer: the connection closed or reset, or it timed out. */
static void failed(struct lthr *t, struct lconn *c, bool timeout)
{
    int64_t now = now_ns();
    bool was_connecting = c->st == L_CONNECTING;
    if (c->probe) {
        if (timeout) {
            t->k.probe_timeouts++;
            if (in_window(now))
                hist_add(&t->ph, (uint64_t) ((now - c->t_send) / 1000));
        } else {
            t->k.probe_errors++;
        }
        conn_shut(t, c);
        return; /* reopened at the next probe time */
    }
    if (in_window(now) || opt.once) {
        if (timeout)
            t->k.timeouts++;
        else
            t->k.errors++;
    }
    conn_shut(t, c);
    if (was_connecting)
        next_waiting(t);
    if (opt.once) {
        conn_finish(t, c);
        return;
    }
    if (atomic_load(&stop))
        return;
    c->st = L_BACKOFF;
    c->t_wake = now + BACKOFF_NS;
    fifo_push(&t->backoff, c, LIST_BACKOFF);
}

static void start_send(struct lthr *t, struct lconn *c)
{
    if (c->probe) {
        c->req = tpl.probe_req;
        c->req_len = strlen(tpl.probe_req);
    } else if (opt.unique_ids) {
        char id[64];
        snprintf(id, sizeof id, "new-%d-%llu", c->idx, (unsigned long long) c->seq++);
        build_request(c, id);
    }
    c->req_off = 0;
    c->st = L_SENDING;
    c->ps = P_HEAD;
    c->hl = 0;
    c->t_send = now_ns();
    fifo_remove(t, c);
    fifo_push(&t->flight, c, LIST_FLIGHT);
    while (c->req_off < c->req_len) {
        ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return; /* the rest on EPOLLOUT */
        if (n <= 0) {
            failed(t, c, false);
            return;
        }
        c->req_off += (size_t) n;
    }
    c->st = L_READING;
}

static void completed(struct lthr *t, struct lconn *c)
{
    int64_t now = now_ns();
    uint64_t us = (uint64_t) ((now - c->t_send) / 1000);
    fifo_remove(t, c);
    c->ps = P_NONE;
    if (c->probe) {
        t->k.probe_n++;
        if (in_window(now))
            hist_add(&t->ph, us);
        c->st = L_IDLE;
        if (c->close_after)
            conn_shut(t, c);
        return;
    }
    t->k.answered++;
    bool counted = in_window(now) || opt.once;
    if (counted && opt.requests) {
        uint64_t nth = atomic_fetch_add(&measured_total, 1) + 1;
        if (nth >= opt.requests)
            atomic_store(&stop, 1);
        counted = nth <= opt.requests; /* answers past N, from other connections, are not measured */
    }
    if (counted) {
        t->k.measured++;
        hist_add(&t->h, us);
        int cls = c->status / 100;
        t->k.st[cls >= 1 && cls <= 5 ? cls : 0]++;
        if (c->status == 503)
            t->k.s503++;
        if (c->status == 504)
            t->k.s504++;
    }
    if (opt.once) {
        conn_finish(t, c);
        return;
    }
    if (atomic_load(&stop) || now >= t_end) {
        c->st = L_IDLE;
        return;
    }
    if (c->close_after) {
        conn_shut(t, c);
        want_connect(t, c);
        return;
    }
    start_send(t, c);
}

/* A response head h[0..n): -1 bad, 0 more to read, 1 complete (no body). */
static int parse_head(struct lconn *c, const char *h, size_t n)
{
    if (n < 12 || strncmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ')
        return -1;
    int status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
    if (status < 100 || status > 599)
        return -1;
    bool http10 = h[7] == '0', keep = !http10, chunked = false, has_cl = false;
    uint64_t cl = 0;
    const char *l = memchr(h, '\n', n);
    for (l = l ? l + 1 : h + n; l < h + n;) {
        const char *le = memchr(l, '\n', (size_t) (h + n - l));
        if (!le)
            break;
        const char *v;
        size_t vl;
        size_t ln = (size_t) (le - l);
        if (http1_header_is(l, ln, "Content-Length", &v, &vl)) {
            cl = strtoull(v, NULL, 10);
            has_cl = true;
        } else if (http1_header_is(l, ln, "Transfer-Encoding", &v, &vl)) {
            chunked = http1_has_token(v, vl, "chunked");
        } else if (http1_header_is(l, ln, "Connection", &v, &vl)) {
            if (http1_has_token(v, vl, "close"))
                keep = false;
            else if (http1_has_token(v, vl, "keep-alive"))
                keep = true;
        }
        l = le + 1;
    }
    if (status < 200) {
        c->ps = P_HEAD; /* an interim answer: the real one follows */
        return 0;
    }
    c->status = status;
    c->close_after = !keep;
    if (status == 204 || status == 304 || (has_cl && cl == 0 && !chunked))
        return 1;
    if (chunked) {
        c->ps = P_CHUNK;
        http1_chunked_start(&c->chunk, 1ull << 40);
    } else if (has_cl) {
        c->ps = P_BODY;
        c->left = cl;
    } else {
        c->ps = P_UNTIL_CLOSE;
        c->close_after = true;
    }
    return 0;
}

/* Room for n bytes of a split response head, grown as needed (most heads arrive whole). */
static void head_reserve(struct lconn *c, size_t n)
{
    if (n <= c->hcap)
        return;
    size_t cap = c->hcap ? c->hcap : 1024;
    while (cap < n)
        cap *= 2;
    c->h = realloc(c->h, cap);
    if (!c->h)
        abort();
    c->hcap = cap;
}

/* Response bytes: -1 bad (or bytes nobody asked for), 0 more, 1 the answer is complete. */
static int feed(struct lconn *c, const char *d, size_t n)
{
    size_t off = 0;
    while (off < n) {
        switch (c->ps) {
        case P_NONE:
            return -1;
        case P_HEAD: {
            const char *h;
            size_t hn;
            size_t used;
            if (c->hl == 0) {
                const char *e = memmem(d + off, n - off, "\r\n\r\n", 4);
                if (!e) {
                    if (n - off > HEAD_CAP)
                        return -1;
                    head_reserve(c, n - off);
                    memcpy(c->h, d + off, n - off);
                    c->hl = n - off;
                    return 0;
                }
                h = d + off;
                hn = (size_t) (e + 4 - h);
                used = hn;
            } else {
                size_t old = c->hl, take = n - off < HEAD_CAP + 4 - old ? n - off : HEAD_CAP + 4 - old;
                head_reserve(c, old + take);
                memcpy(c->h + old, d + off, take);
                c->hl += take;
                size_t from = old > 3 ? old - 3 : 0;
                const char *e = memmem(c->h + from, c->hl - from, "\r\n\r\n", 4);
                if (!e) {
                    if (c->hl > HEAD_CAP)
                        return -1;
                    return 0;
                }
                h = c->h;
                hn = (size_t) (e + 4 - h);
                used = hn - old;
                c->hl = 0;
            }
            off += used;
            int r = parse_head(c, h, hn);
            if (r < 0)
                return -1;
            if (r > 0)
                return off == n ? 1 : -1;
            break;
        }
        case P_BODY: {
            size_t take = n - off < c->left ? n - off : (size_t) c->left;
            off += take;
            c->left -= take;
            if (c->left == 0)
                return off == n ? 1 : -1;
            break;
        }
        case P_CHUNK: {
            size_t used = 0;
            int r = http1_chunked_step(&c->chunk, d + off, n - off, &used);
            off += used;
            if (r < 0)
                return -1;
            if (r > 0)
                return off == n ? 1 : -1;
            break;
        }
        case P_UNTIL_CLOSE:
            return 0;
        }
    }
    return 0;
}

static void on_event(struct lthr *t, struct lconn *c, uint32_t ev)
{
    if (c->st == L_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        if (ev & EPOLLERR || getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) {
            failed(t, c, false);
            return;
        }
        if (!(ev & EPOLLOUT))
            return;
        if (!c->probe)
            t->connecting--;
        c->st = L_IDLE;
        next_waiting(t);
        if (c->probe) {
            if (now_ns() < t->probe_next)
                return; /* connected early: the probe goes out at its time */
        } else if (atomic_load(&stop)) {
            return;
        }
        start_send(t, c);
        return;
    }
    if ((ev & EPOLLOUT) && c->st == L_SENDING) {
        while (c->req_off < c->req_len) {
            ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EAGAIN)
                break;
            if (n <= 0) {
                failed(t, c, false);
                return;
            }
            c->req_off += (size_t) n;
        }
        if (c->req_off == c->req_len)
            c->st = L_READING;
    }
    if (!(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        return;
    for (;;) {
        ssize_t n = recv(c->fd, t->scratch, SCRATCH, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n > 0) {
            int r = feed(c, t->scratch, (size_t) n);
            if (r < 0) {
                failed(t, c, false);
                return;
            }
            if (r > 0) {
                completed(t, c);
                return;
            }
            if ((size_t) n < SCRATCH)
                return; /* drained: edge-triggered, more data raises a new event */
            continue;
        }
        /* Closed or reset. */
        if (n == 0 && c->ps == P_UNTIL_CLOSE) {
            completed(t, c);
            conn_shut(t, c);
            if (!c->probe && !opt.once && !atomic_load(&stop) && now_ns() < t_end)
                want_connect(t, c);
            return;
        }
        if (c->st == L_SENDING || c->st == L_READING) {
            failed(t, c, false);
            return;
        }
        /* An idle keep-alive connection the server closed: reopen quietly. */
        conn_shut(t, c);
        if (!c->probe && !opt.once && !atomic_load(&stop) && now_ns() < t_end)
            want_connect(t, c);
        return;
    }
}

static bool finished(struct lthr *t, int64_t now)
{
    (void) t;
    if (atomic_load(&stop) || now >= t_end)
        return true;
    if (opt.once && atomic_load(&active_total) == 0)
        return true;
    return false;
}

static void timers(struct lthr *t, int64_t now)
{
    int64_t tmo = (int64_t) opt.timeout_ms * 1000000;
    while (t->flight.head && t->flight.head->t_send + tmo <= now)
        failed(t, t->flight.head, true);
    while (t->backoff.head && t->backoff.head->t_wake <= now) {
        struct lconn *c = t->backoff.head;
        fifo_remove(t, c);
        c->st = L_IDLE;
        want_connect(t, c);
    }
    if (opt.probe_path && t->idx == 0 && now >= t->probe_next) {
        struct lconn *p = &t->probe;
        if (p->fd < 0) {
            do_connect(t, p);
        } else if (p->st == L_IDLE) {
            start_send(t, p);
            t->probe_next = p->t_send + (int64_t) opt.probe_interval_ms * 1000000;
        }
    }
}

static void *run(void *arg)
{
    struct lthr *t = arg;
    struct epoll_event ev[MAX_EVENTS];
    for (int i = 0; i < t->n; i++)
        want_connect(t, &t->conns[i]);
    for (;;) {
        int64_t now = now_ns();
        if (finished(t, now))
            break;
        timers(t, now);
        int64_t wake = now + MAX_WAIT_NS;
        if (t->flight.head && t->flight.head->t_send + (int64_t) opt.timeout_ms * 1000000 < wake)
            wake = t->flight.head->t_send + (int64_t) opt.timeout_ms * 1000000;
        if (t->backoff.head && t->backoff.head->t_wake < wake)
            wake = t->backoff.head->t_wake;
        if (opt.probe_path && t->idx == 0 && t->probe.st == L_IDLE && t->probe_next < wake)
            wake = t->probe_next; /* a probe in flight or connecting waits for its answer, not the clock */
        if (t_end < wake)
            wake = t_end;
        int64_t d = wake - now_ns();
        if (d < 0)
            d = 0;
        struct timespec ts = {.tv_sec = d / 1000000000, .tv_nsec = d % 1000000000};
        int n = epoll_pwait2(t->ep, ev, MAX_EVENTS, &ts, NULL);
        if (n < 0 && errno != EINTR) {
            perror("bench_load: epoll_pwait2");
            exit(1);
        }
        for (int i = 0; i < n; i++) {
            struct lconn *c = ev[i].data.ptr;
            if (c->fd >= 0)
                on_event(t, c, ev[i].events);
        }
    }
    return NULL;
}

/* ---- setup and report ---- */

static void usage(FILE *f)
{
    fputs("usage: bench_load --url-base http://127.0.0.1:PORT [options]\n"
          "  --connections N          concurrent connections (default 50, up to 12000 and beyond)\n"
          "  --duration-s S           measure for S seconds after the warm-up (default 10)\n"
          "  --requests N             or stop after N measured answers\n"
          "  --warmup-s S             run S seconds before measuring (default 0)\n"
          "  --method M               GET (default), POST, ...\n"
          "  --path-template T        request target; {id} is replaced by the instance id (default /)\n"
          "  --ids K                  connection c uses id bench-{c % K} (default K = connections)\n"
          "  --unique-ids             a fresh id per request instead: new-{conn}-{seq}\n"
          "  --header 'Name: value'   an extra request header (repeatable)\n"
          "  --body STR               request body (sent with Content-Length)\n"
          "  --timeout-ms T           an answer not read by then is a timeout; the connection is reopened\n"
          "                           (default 30000)\n"
          "  --once                   each connection sends one request and waits for its answer; the run\n"
          "                           ends when every connection has its answer, error or timeout\n"
          "  --probe-path P           also send GET P one at a time on a connection of its own ...\n"
          "  --probe-interval-ms I    ... every I ms (default 10); its latency is reported apart\n"
          "  --threads N              event loops (default 1)\n"
          "  --max-connecting N       connects in progress at once (default 256)\n",
          f);
}

static void split_template(void)
{
    const char *t = opt.path_template;
    const char *first = strstr(t, "{id}");
    size_t prel = first ? (size_t) (first - t) : strlen(t);
    size_t ml = strlen(opt.method);
    tpl.pre = malloc(ml + 1 + prel + 1);
    memcpy(tpl.pre, opt.method, ml);
    tpl.pre[ml] = ' ';
    memcpy(tpl.pre + ml + 1, t, prel);
    tpl.pre_len = ml + 1 + prel;
    tpl.pieces = calloc(strlen(t) / 4 + 1, sizeof *tpl.pieces);
    for (const char *p = first; p; p = strstr(p, "{id}")) {
        p += 4;
        const char *nx = strstr(p, "{id}");
        size_t pl = nx ? (size_t) (nx - p) : strlen(p);
        tpl.pieces[tpl.npieces++] = strndup(p, pl);
    }
    size_t cap = 256 + strlen(opt.host) + (opt.body ? strlen(opt.body) : 0);
    for (int i = 0; i < opt.nheaders; i++)
        cap += strlen(opt.headers[i]) + 2;
    tpl.tail = malloc(cap);
    size_t n = (size_t) snprintf(tpl.tail, cap, " HTTP/1.1\r\nHost: %s\r\n", opt.host);
    for (int i = 0; i < opt.nheaders; i++)
        n += (size_t) snprintf(tpl.tail + n, cap - n, "%s\r\n", opt.headers[i]);
    bool body = opt.has_body || strcmp(opt.method, "POST") == 0 || strcmp(opt.method, "PUT") == 0;
    if (body)
        n += (size_t) snprintf(tpl.tail + n, cap - n, "Content-Length: %zu\r\n",
                               opt.body ? strlen(opt.body) : 0);
    n += (size_t) snprintf(tpl.tail + n, cap - n, "\r\n%s", opt.body ? opt.body : "");
    tpl.tail_len = n;
    if (opt.probe_path) {
        size_t pc = strlen(opt.probe_path) + strlen(opt.host) + 64;
        tpl.probe_req = malloc(pc);
        snprintf(tpl.probe_req, pc, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", opt.probe_path, opt.host);
    }
}

static int parse_url(const char *u)
{
    if (strncmp(u, "http://", 7) != 0)
        return -1;
    const char *h = u + 7, *colon = strchr(h, ':');
    if (!colon || (size_t) (colon - h) >= 32)
        return -1;
    char host[32];
    memcpy(host, h, (size_t) (colon - h));
    host[colon - h] = '\0';
    int port = atoi(colon + 1);
    if (port <= 0 || port > 65535)
        return -1;
    opt.addr.sin_family = AF_INET;
    opt.addr.sin_port = htons((uint16_t) port);
    if (inet_pton(AF_INET, host, &opt.addr.sin_addr) != 1)
        return -1;
    snprintf(opt.host, sizeof opt.host, "%s:%d", host, port);
    return 0;
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--once") == 0) {
            opt.once = true;
        } else if (strcmp(a, "--unique-ids") == 0) {
            opt.unique_ids = true;
        } else if (!v) {
            fprintf(stderr, "bench_load: unknown or incomplete option %s\n", a);
            usage(stderr);
            return 2;
        } else if (strcmp(a, "--url-base") == 0) {
            url = v, i++;
        } else if (strcmp(a, "--connections") == 0) {
            opt.connections = atoi(v), i++;
        } else if (strcmp(a, "--duration-s") == 0) {
            opt.duration_s = atof(v), i++;
        } else if (strcmp(a, "--warmup-s") == 0) {
            opt.warmup_s = atof(v), i++;
        } else if (strcmp(a, "--requests") == 0) {
            opt.requests = strtoull(v, NULL, 10), i++;
        } else if (strcmp(a, "--method") == 0) {
            opt.method = v, i++;
        } else if (strcmp(a, "--path-template") == 0) {
            opt.path_template = v, i++;
        } else if (strcmp(a, "--ids") == 0) {
            opt.ids = atoi(v), i++;
        } else if (strcmp(a, "--header") == 0 && opt.nheaders < MAX_HEADERS) {
            opt.headers[opt.nheaders++] = v, i++;
        } else if (strcmp(a, "--body") == 0) {
            opt.body = v, opt.has_body = true, i++;
        } else if (strcmp(a, "--timeout-ms") == 0) {
            opt.timeout_ms = atoi(v), i++;
        } else if (strcmp(a, "--probe-path") == 0) {
            opt.probe_path = v, i++;
        } else if (strcmp(a, "--probe-interval-ms") == 0) {
            opt.probe_interval_ms = atoi(v), i++;
        } else if (strcmp(a, "--threads") == 0) {
            opt.threads = atoi(v), i++;
        } else if (strcmp(a, "--max-connecting") == 0) {
            opt.max_connecting = atoi(v), i++;
        } else {
            fprintf(stderr, "bench_load: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!url || parse_url(url) != 0) {
        fprintf(stderr, "bench_load: --url-base http://IPV4:PORT is required\n");
        return 2;
    }
    if (opt.connections <= 0)
        opt.connections = 50;
    if (opt.ids <= 0)
        opt.ids = opt.connections;
    if (opt.threads < 1 || opt.threads > 16 || opt.timeout_ms <= 0 || opt.max_connecting < 1 ||
        opt.probe_interval_ms < 1) {
        usage(stderr);
        return 2;
    }
    if (opt.duration_s <= 0 && !opt.requests && !opt.once)
        opt.duration_s = 10;

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if ((rlim_t) opt.connections + 64 > rl.rlim_cur)
        fprintf(stderr, "bench_load: warning: %d connections but RLIMIT_NOFILE is %llu\n", opt.connections,
                (unsigned long long) rl.rlim_cur);
    signal(SIGPIPE, SIG_IGN);
    split_template();

    struct lthr *th = calloc((size_t) opt.threads, sizeof *th);
    for (int i = 0; i < opt.threads; i++) {
        struct lthr *t = &th[i];
        t->idx = i;
        t->ep = epoll_create1(EPOLL_CLOEXEC);
        t->scratch = malloc(SCRATCH);
        hist_init(&t->h);
        hist_init(&t->ph);
        t->conns = calloc((size_t) (opt.connections / opt.threads + 1), sizeof *t->conns);
        t->probe = (struct lconn){.fd = -1, .probe = true, .idx = -1};
    }
    for (int c = 0; c < opt.connections; c++) {
        struct lthr *t = &th[c % opt.threads];
        struct lconn *lc = &t->conns[t->n++];
        lc->fd = -1;
        lc->idx = c;
        if (!opt.unique_ids) {
            char id[32];
            snprintf(id, sizeof id, "bench-%d", c % opt.ids);
            build_request(lc, id);
        }
        t->active++;
    }
    atomic_store(&active_total, opt.connections);
    t_start = now_ns();
    t_warm = t_start + (int64_t) (opt.warmup_s * 1e9);
    t_end = opt.duration_s > 0 ? t_warm + (int64_t) (opt.duration_s * 1e9) : INT64_MAX;
    th[0].probe_next = t_start;
    for (int i = 1; i < opt.threads; i++)
        pthread_create(&th[i].tid, NULL, run, &th[i]);
    run(&th[0]);
    atomic_store(&stop, 1);
    for (int i = 1; i < opt.threads; i++)
        pthread_join(th[i].tid, NULL);
    int64_t t_stop = now_ns();
    if (t_stop > t_end)
        t_stop = t_end;

    struct hist h, ph;
    hist_init(&h);
    hist_init(&ph);
    struct counts k = {0};
    for (int i = 0; i < opt.threads; i++) {
        hist_merge(&h, &th[i].h);
        hist_merge(&ph, &th[i].ph);
        struct counts *x = &th[i].k;
        k.answered += x->answered;
        k.measured += x->measured;
        k.errors += x->errors;
        k.timeouts += x->timeouts;
        for (int j = 0; j < 6; j++)
            k.st[j] += x->st[j];
        k.s503 += x->s503;
        k.s504 += x->s504;
        k.probe_n += x->probe_n;
        k.probe_timeouts += x->probe_timeouts;
        k.probe_errors += x->probe_errors;
    }
    int64_t from = opt.once ? t_start : t_warm;
    double secs = (double) (t_stop - from) / 1e9;
    if (secs <= 0)
        secs = 1e-9;
    double rps = (double) k.measured / secs;
    fprintf(stderr,
            "bench_load: %llu answers in %.2f s = %.1f/s over %d connections; latency p50 %.3f p90 %.3f p99 "
            "%.3f max %.3f ms; 2xx %llu 3xx %llu 4xx %llu 5xx %llu (503 %llu, 504 %llu); errors %llu, "
            "timeouts %llu",
            (unsigned long long) k.measured, secs, rps, opt.connections, hist_q(&h, 0.5), hist_q(&h, 0.9),
            hist_q(&h, 0.99), (double) h.max / 1000.0, (unsigned long long) k.st[2],
            (unsigned long long) k.st[3], (unsigned long long) k.st[4], (unsigned long long) k.st[5],
            (unsigned long long) k.s503, (unsigned long long) k.s504, (unsigned long long) k.errors,
            (unsigned long long) k.timeouts);
    if (opt.probe_path)
        fprintf(stderr, "; probe %s: %llu answers, p50 %.3f p99 %.3f max %.3f ms, %llu timeouts, %llu errors",
                opt.probe_path, (unsigned long long) k.probe_n, hist_q(&ph, 0.5), hist_q(&ph, 0.99),
                (double) ph.max / 1000.0, (unsigned long long) k.probe_timeouts,
                (unsigned long long) k.probe_errors);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 +
                 (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
    fprintf(stderr, "; bench_load itself used %.2f s of CPU (%.0f%% of one core)\n", cpu,
            100.0 * cpu / ((double) (now_ns() - t_start) / 1e9));
    printf("rps=%.1f requests=%llu p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%llu timeouts=%llu "
           "status_2xx=%llu status_3xx=%llu status_4xx=%llu status_5xx=%llu status_504=%llu status_503=%llu "
           "answered=%llu probe_requests=%llu probe_p50_ms=%.3f probe_p99_ms=%.3f probe_max_ms=%.3f "
           "probe_timeouts=%llu probe_errors=%llu duration_s=%.3f connections=%d load_cpu_s=%.2f\n",
           rps, (unsigned long long) k.measured, hist_q(&h, 0.5), hist_q(&h, 0.9), hist_q(&h, 0.99),
           (double) h.max / 1000.0, (unsigned long long) k.errors, (unsigned long long) k.timeouts,
           (unsigned long long) k.st[2], (unsigned long long) k.st[3], (unsigned long long) k.st[4],
           (unsigned long long) k.st[5], (unsigned long long) k.s504, (unsigned long long) k.s503,
           (unsigned long long) k.answered, (unsigned long long) k.probe_n, hist_q(&ph, 0.5),
           hist_q(&ph, 0.99), (double) ph.max / 1000.0, (unsigned long long) k.probe_timeouts,
           (unsigned long long) k.probe_errors, secs, opt.connections, cpu);
    return 0;
}
