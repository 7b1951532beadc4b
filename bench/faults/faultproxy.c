/* bench_faultproxy: a loopback TCP proxy between the gateway and its storage
 * (Azurite) that injects storage faults, switchable while it runs. Used by
 * bench/reliability.sh.
 *
 *   bench_faultproxy --upstream PORT [--upstream PORT ...] [--control-port P]
 *
 * Each --upstream gets a listening port of its own (printed "listen UPSTREAM
 * PORT", then "control PORT"), so the three services of a storage account map
 * to three proxy ports. The client side is parsed into HTTP/1.1 requests
 * (Content-Length bodies; libcurl never pipelines), and each request draws its
 * fault when its head is in, with probability p:
 *
 *   pass        forward as is
 *   latency     hold the request ms milliseconds before it goes upstream
 *   slow        forward the answer in 64-byte pieces, one every ms milliseconds
 *   status      answer code (500, 503, ...) with Retry-After: retry_after itself,
 *               in storage's error form (JSON for tables, XML otherwise); the
 *               upstream connection is kept in step
 *   drop        close the connection (FIN) without an answer
 *   reset       close it with a reset (RST)
 *   hang        accept the request and never answer (nor close)
 *   down        every new connection is closed at once, and so are open ones
 *
 * Control, over HTTP on the control port (curl):
 *   GET /mode?m=status&code=503&retry_after=1&p=0.5&ms=200   set the fault
 *   GET /stats      counters, one "name value" a line
 *   GET /close      close every proxied connection now
 *
 * Bounded: at most MAX_PAIRS connections (more are closed at once), 256 KiB
 * buffered per direction (reading stops while a buffer is full), a 64 KiB
 * request head. One thread, epoll, level-triggered. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_UP     8
#define MAX_PAIRS  4096
#define BUF_CAP    (256u << 10)
#define HEAD_CAP   (64u << 10)
#define SLOW_PIECE 64

enum fault { F_PASS, F_LATENCY, F_SLOW, F_STATUS, F_DROP, F_RESET, F_HANG, F_DOWN, F_COUNT };
static const char *fault_names[F_COUNT] = {"pass", "latency", "slow", "status",
                                           "drop", "reset",   "hang", "down"};

static struct {
    enum fault mode;
    double p;
    int ms, code, retry_after;
} cfg = {F_PASS, 1.0, 200, 503, 1};

static struct {
    unsigned long long accepted, requests, refused, injected[F_COUNT], open;
} st;

struct buf {
    char *d;
    size_t len, off;
};

struct pair {
    int cfd, ufd, up;
    bool connected, hang, slow, closing;
    char *in; /* client bytes not yet handled */
    size_t in_len;
    uint64_t body_left; /* of the current request: to forward, or to skip */
    bool skipping;      /* the current request is answered here: its body is dropped */
    bool answer_json;
    int answer_code, answer_retry;
    struct buf to_u, to_c;
    int64_t release_at; /* latency: to_u is held until then */
    int64_t slow_next;  /* slow: the next piece to the client goes then */
};

static int ep;
static int up_port[MAX_UP], nup;
static int lfd[MAX_UP], cfd_listen;
static struct pair *pairs[MAX_PAIRS];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: the draw of each request's fault */
static uint64_t rng = 88172645463325252ull;
static double draw(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double) ((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int listen_on(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) != 0 || listen(fd, 1024) != 0) {
        perror("bench_faultproxy: listen");
        exit(2);
    }
    socklen_t l = sizeof sa;
    getsockname(fd, (struct sockaddr *) &sa, &l);
    return fd;
}

static int port_of(int fd)
{
    struct sockaddr_in sa;
    socklen_t l = sizeof sa;
    getsockname(fd, (struct sockaddr *) &sa, &l);
    return ntohs(sa.sin_port);
}

/* Tags in epoll data: the pair's slot times two, plus one for its upstream side. */
static void watch(int fd, uint64_t tag, uint32_t ev, int op)
{
    struct epoll_event e = {.events = ev, .data.u64 = tag};
    epoll_ctl(ep, op, fd, &e);
}

static bool buf_add(struct buf *b, const char *d, size_t n)
{
    if (b->len - b->off + n > BUF_CAP)
        return false;
    if (b->off && b->off == b->len)
        b->off = b->len = 0;
    if (!b->d)
        b->d = malloc(BUF_CAP);
    if (b->len + n > BUF_CAP) {
        memmove(b->d, b->d + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    memcpy(b->d + b->len, d, n);
    b->len += n;
    return true;
}

static size_t buf_pending(const struct buf *b)
{
    return b->len - b->off;
}

static void pair_close(int slot, bool reset)
{
    struct pair *p = pairs[slot];
    if (!p)
        return;
    if (reset) {
        struct linger lg = {1, 0};
        setsockopt(p->cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(p->cfd);
    if (p->ufd >= 0)
        close(p->ufd);
    free(p->in);
    free(p->to_u.d);
    free(p->to_c.d);
    free(p);
    pairs[slot] = NULL;
    st.open--;
}

/* Which events each side wants now. */
static void rearm(int slot)
{
    struct pair *p = pairs[slot];
    int64_t t = now_ms();
    uint32_t ce = 0, ue = 0;
    if (p->in_len < HEAD_CAP && buf_pending(&p->to_u) < BUF_CAP / 2)
        ce |= EPOLLIN;
    if (buf_pending(&p->to_c) && !(p->slow && t < p->slow_next))
        ce |= EPOLLOUT;
    if (p->ufd >= 0) {
        if (!p->connected)
            ue |= EPOLLOUT;
        else {
            if (buf_pending(&p->to_c) < BUF_CAP / 2)
                ue |= EPOLLIN;
            if (buf_pending(&p->to_u) && t >= p->release_at)
                ue |= EPOLLOUT;
        }
    }
    watch(p->cfd, (uint64_t) slot * 2, ce, EPOLL_CTL_MOD);
    if (p->ufd >= 0)
        watch(p->ufd, (uint64_t) slot * 2 + 1, ue, EPOLL_CTL_MOD);
}

static void answer(struct pair *p)
{
    char body[512], head[512];
    const char *reason = p->answer_code == 503   ? "Service Unavailable"
                         : p->answer_code == 500 ? "Internal Server Error"
                                                 : "Error";
    const char *code = p->answer_code == 503 ? "ServerBusy" : "InternalError";
    int bl =
        p->answer_json
            ? snprintf(
                  body, sizeof body,
                  "{\"odata.error\":{\"code\":\"%s\",\"message\":{\"lang\":\"en-US\",\"value\":\"Injected "
                  "by bench_faultproxy.\"}}}",
                  code)
            : snprintf(body, sizeof body,
                       "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code><Message>Injected by "
                       "bench_faultproxy.</Message></Error>",
                       code);
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nRetry-After: %d\r\n"
                      "x-ms-error-code: %s\r\n\r\n",
                      p->answer_code, reason,
                      p->answer_json ? "application/json;odata=minimalmetadata;streaming=true;charset=utf-8"
                                     : "application/xml",
                      bl, p->answer_retry, code);
    buf_add(&p->to_c, head, (size_t) hl);
    buf_add(&p->to_c, body, (size_t) bl);
}

/* Handles the client bytes in p->in: request heads draw a fault; bodies are
 * forwarded or dropped. Returns false when the pair was closed. */
static bool client_bytes(int slot)
{
    struct pair *p = pairs[slot];
    size_t used = 0;
    while (used < p->in_len) {
        if (p->hang) {
            used = p->in_len;
            break;
        }
        if (p->body_left) {
            size_t n = p->in_len - used;
            if (n > p->body_left)
                n = (size_t) p->body_left;
            if (!p->skipping && !buf_add(&p->to_u, p->in + used, n))
                break; /* full: wait for upstream to take some */
            used += n;
            p->body_left -= n;
            if (!p->body_left && p->skipping) {
                answer(p);
                p->skipping = false;
            }
            continue;
        }
        char *end = memmem(p->in + used, p->in_len - used, "\r\n\r\n", 4);
        if (!end)
            break;
        size_t hl = (size_t) (end + 4 - (p->in + used));
        uint64_t cl = 0;
        bool json = false;
        for (char *l = p->in + used; l < end;) {
            char *eol = memmem(l, (size_t) (end + 2 - l), "\r\n", 2);
            size_t ll = (size_t) (eol - l);
            if (ll > 15 && strncasecmp(l, "Content-Length:", 15) == 0)
                cl = strtoull(l + 15, NULL, 10); /* the line ends in CR: strtoull stops there */
            if (ll > 7 && strncasecmp(l, "Accept:", 7) == 0 && memmem(l, ll, "json", 4))
                json = true;
            l = eol + 2;
        }
        st.requests++;
        enum fault f = cfg.mode != F_PASS && draw() < cfg.p ? cfg.mode : F_PASS;
        st.injected[f]++;
        if (f == F_DROP || f == F_RESET || f == F_DOWN) {
            pair_close(slot, f == F_RESET);
            return false;
        }
        if (f == F_HANG) {
            p->hang = true;
            used = p->in_len;
            break;
        }
        p->slow = f == F_SLOW;
        if (f == F_STATUS) {
            p->skipping = true;
            p->answer_json = json;
            p->answer_code = cfg.code;
            p->answer_retry = cfg.retry_after;
            used += hl;
            p->body_left = cl;
            if (!cl) {
                answer(p);
                p->skipping = false;
            }
            continue;
        }
        if (!buf_add(&p->to_u, p->in + used, hl))
            break;
        if (f == F_LATENCY)
            p->release_at = now_ms() + cfg.ms;
        used += hl;
        p->body_left = cl;
    }
    memmove(p->in, p->in + used, p->in_len - used);
    p->in_len -= used;
    return true;
}

static void on_accept(int which)
{
    for (;;) {
        int fd = accept4(lfd[which], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        st.accepted++;
        int slot = 0;
        while (slot < MAX_PAIRS && pairs[slot])
            slot++;
        if (slot == MAX_PAIRS || cfg.mode == F_DOWN) {
            st.refused++;
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct pair *p = calloc(1, sizeof *p);
        p->cfd = fd;
        p->up = which;
        p->in = malloc(HEAD_CAP);
        p->ufd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        setsockopt(p->ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) up_port[which])};
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        pairs[slot] = p;
        st.open++;
        if (connect(p->ufd, (struct sockaddr *) &sa, sizeof sa) == 0)
            p->connected = true;
        else if (errno != EINPROGRESS) {
            pair_close(slot, false); /* storage is down: so is this connection */
            continue;
        }
        watch(p->cfd, (uint64_t) slot * 2, EPOLLIN, EPOLL_CTL_ADD);
        watch(p->ufd, (uint64_t) slot * 2 + 1, EPOLLOUT, EPOLL_CTL_ADD);
        rearm(slot);
    }
}

static bool flush(int fd, struct buf *b, size_t max)
{
    size_t n = buf_pending(b);
    if (n > max)
        n = max;
    if (!n)
        return true;
    ssize_t w = send(fd, b->d + b->off, n, MSG_NOSIGNAL);
    if (w < 0)
        return errno == EAGAIN || errno == EINTR;
    b->off += (size_t) w;
    return true;
}

static void on_pair(int slot, bool upstream, uint32_t ev)
{
    struct pair *p = pairs[slot];
    if (!p)
        return;
    char tmp[65536];
    if (upstream) {
        if (!p->connected) {
            int err = 0;
            socklen_t l = sizeof err;
            getsockopt(p->ufd, SOL_SOCKET, SO_ERROR, &err, &l);
            if (err) {
                pair_close(slot, false);
                return;
            }
            p->connected = true;
        }
        if (ev & EPOLLIN) {
            size_t room = BUF_CAP - buf_pending(&p->to_c);
            ssize_t n = recv(p->ufd, tmp, room < sizeof tmp ? room : sizeof tmp, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                pair_close(slot, false); /* storage closed: the client's side follows */
                return;
            }
            if (n > 0 && !p->hang)
                buf_add(&p->to_c, tmp, (size_t) n);
        }
        if ((ev & EPOLLOUT) && now_ms() >= p->release_at && !flush(p->ufd, &p->to_u, SIZE_MAX)) {
            pair_close(slot, false);
            return;
        }
    } else {
        if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            ssize_t n = recv(p->cfd, p->in + p->in_len, HEAD_CAP - p->in_len, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                pair_close(slot, false);
                return;
            }
            if (n > 0) {
                p->in_len += (size_t) n;
                if (!client_bytes(slot))
                    return;
            }
        }
        if (ev & EPOLLOUT) {
            if (!flush(p->cfd, &p->to_c, p->slow ? SLOW_PIECE : SIZE_MAX)) {
                pair_close(slot, false);
                return;
            }
            if (p->slow)
                p->slow_next = now_ms() + cfg.ms;
        }
    }
    if (p->in_len && !client_bytes(slot))
        return;
    rearm(slot);
}

static void control(void)
{
    int fd = accept4(cfd_listen, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[2048] = {0}, out[4096];
    ssize_t n = recv(fd, req, sizeof req - 1, 0);
    int code = 200, len = 0;
    char *sp = n > 0 ? strchr(req, ' ') : NULL;
    char *target = sp ? sp + 1 : "";
    char *end = strchr(target, ' ');
    if (end)
        *end = '\0';
    if (strncmp(target, "/mode", 5) == 0) {
        char *q = strchr(target, '?');
        enum fault m = cfg.mode;
        for (char *kv = q ? strtok(q + 1, "&") : NULL; kv; kv = strtok(NULL, "&")) {
            char *v = strchr(kv, '=');
            if (!v)
                continue;
            *v++ = '\0';
            if (strcmp(kv, "m") == 0) {
                int k = 0;
                while (k < F_COUNT && strcmp(fault_names[k], v) != 0)
                    k++;
                if (k == F_COUNT)
                    code = 400;
                else
                    m = (enum fault) k;
            } else if (strcmp(kv, "p") == 0)
                cfg.p = atof(v);
            else if (strcmp(kv, "ms") == 0)
                cfg.ms = atoi(v);
            else if (strcmp(kv, "code") == 0)
                cfg.code = atoi(v);
            else if (strcmp(kv, "retry_after") == 0)
                cfg.retry_after = atoi(v);
        }
        if (code == 200) {
            cfg.mode = m;
            if (m == F_DOWN)
                for (int i = 0; i < MAX_PAIRS; i++)
                    pair_close(i, false);
        }
        len = snprintf(out, sizeof out, "mode %s p %.3f ms %d code %d retry_after %d\n",
                       fault_names[cfg.mode], cfg.p, cfg.ms, cfg.code, cfg.retry_after);
    } else if (strcmp(target, "/close") == 0) {
        for (int i = 0; i < MAX_PAIRS; i++)
            pair_close(i, false);
        len = snprintf(out, sizeof out, "closed\n");
    } else if (strcmp(target, "/stats") == 0) {
        len = snprintf(out, sizeof out, "mode %s\naccepted %llu\nrefused %llu\nopen %llu\nrequests %llu\n",
                       fault_names[cfg.mode], st.accepted, st.refused, st.open, st.requests);
        for (int k = 0; k < F_COUNT; k++)
            len += snprintf(out + len, sizeof out - (size_t) len, "injected_%s %llu\n", fault_names[k],
                            st.injected[k]);
    } else {
        code = 404;
    }
    char head[256];
    int hl = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
                      code, len);
    (void) !send(fd, head, (size_t) hl, MSG_NOSIGNAL);
    (void) !send(fd, out, (size_t) len, MSG_NOSIGNAL);
    close(fd);
}

int main(int argc, char **argv)
{
    int control_port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--upstream") == 0 && nup < MAX_UP)
            up_port[nup++] = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--control-port") == 0)
            control_port = atoi(argv[i + 1]);
        else {
            fprintf(stderr,
                    "usage: bench_faultproxy --upstream PORT [--upstream PORT ...] [--control-port P]\n");
            return 2;
        }
    }
    if (!nup) {
        fprintf(stderr, "usage: bench_faultproxy --upstream PORT [--upstream PORT ...] [--control-port P]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < nup; i++) {
        lfd[i] = listen_on(0);
        watch(lfd[i], (uint64_t) (MAX_PAIRS * 2 + i), EPOLLIN, EPOLL_CTL_ADD);
        printf("listen %d %d\n", up_port[i], port_of(lfd[i]));
    }
    cfd_listen = listen_on(control_port);
    watch(cfd_listen, (uint64_t) (MAX_PAIRS * 2 + MAX_UP), EPOLLIN, EPOLL_CTL_ADD);
    printf("control %d\n", port_of(cfd_listen));
    fflush(stdout);
    struct epoll_event evs[256];
    for (;;) {
        /* Held requests (latency) and paced answers (slow) need a tick. */
        bool timed = false;
        int64_t t = now_ms();
        for (int i = 0; i < MAX_PAIRS && !timed; i++)
            if (pairs[i] && ((buf_pending(&pairs[i]->to_u) && pairs[i]->release_at > t) ||
                             (pairs[i]->slow && buf_pending(&pairs[i]->to_c))))
                timed = true;
        int n = epoll_wait(ep, evs, 256, timed ? 5 : -1);
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            if (tag == MAX_PAIRS * 2 + MAX_UP)
                control();
            else if (tag >= MAX_PAIRS * 2)
                on_accept((int) (tag - MAX_PAIRS * 2));
            else
                on_pair((int) (tag / 2), tag & 1, evs[i].events);
        }
        if (timed)
            for (int i = 0; i < MAX_PAIRS; i++)
                if (pairs[i] &&
                    (buf_pending(&pairs[i]->to_u) || (pairs[i]->slow && buf_pending(&pairs[i]->to_c))))
                    rearm(i);
    }
}
