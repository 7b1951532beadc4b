/* Long-poll benchmark (issue 5): holds N concurrent waiters spread over M
 * instances on a running gateway, measures the gateway while they wait, then
 * completes the instances (writing their Instances rows as a worker does) and
 * measures how fast every waiter gets its one answer.
 *
 * usage: bench_wait GATEWAY_PID PORT HUB WAITERS INSTANCES INTERVAL_S
 * (AZURITE_CONNECTION_STRING names the storage; the hub's instances are
 * started through the gateway first.) Prints a report and exits 1 when any
 * waiter got a wrong, missing or extra answer. */
#include "base/time.h"
#include "storage/table.h"
#include "taskhub/keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int port;

struct conn {
    int fd;
    int instance;
    char in[2048];
    size_t n;
    int answers;   /* complete responses read */
    int status;    /* of the first */
    int ok;        /* body matched */
    int64_t at_ms; /* when the first answer was complete */
};

/* Blocking one-shot request for the setup steps; returns the status. */
static int request(const char *method, const char *path, char *body, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                     method, path);
    if (write(fd, req, (size_t) n) != n) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(fd, body + got, cap - 1 - got)) > 0)
        got += (size_t) r;
    body[got] = '\0';
    close(fd);
    int status = 0;
    sscanf(body, "HTTP/1.1 %d", &status);
    return status;
}

/* A metric's value, its labelled series summed; -1 when absent. */
static long metric(const char *name)
{
    static char buf[1 << 20];
    if (request("GET", "/metrics", buf, sizeof buf) != 200)
        return -1;
    char needle[128];
    snprintf(needle, sizeof needle, "\n%s", name); /* a sample line, not its # TYPE line */
    size_t n = strlen(needle);
    long sum = -1;
    for (const char *p = strstr(buf, needle); p; p = strstr(p + n, needle)) {
        const char *v = p + n;
        if (*v == '{')
            v = strchr(v, '}') ? strchr(v, '}') + 1 : v;
        else if (*v != ' ')
            continue;
        sum = (sum < 0 ? 0 : sum) + atol(v + 1);
    }
    return sum;
}

static long rss_kib(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

/* utime + stime of the process, in seconds. */
static double cpu_s(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    /* fields after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

/* Reads what is there; counts complete responses (Content-Length framed). */
static void on_readable(struct conn *c, const char *const *want)
{
    for (;;) {
        ssize_t r = read(c->fd, c->in + c->n, sizeof c->in - 1 - c->n);
        if (r <= 0)
            return;
        c->n += (size_t) r;
        c->in[c->n] = '\0';
        for (;;) {
            char *end = strstr(c->in, "\r\n\r\n");
            if (!end)
                break;
            const char *cl = strcasestr(c->in, "Content-Length:");
            size_t len = cl && cl < end ? (size_t) atol(cl + 15) : 0;
            size_t total = (size_t) (end + 4 - c->in) + len;
            if (c->n < total)
                break;
            if (c->answers++ == 0) {
                c->at_ms = dg_mono_ms();
                sscanf(c->in, "HTTP/1.1 %d", &c->status);
                c->ok = c->status == 200 && len == strlen(want[c->instance]) &&
                        memcmp(end + 4, want[c->instance], len) == 0;
            }
            memmove(c->in, c->in + total, c->n - total);
            c->n -= total;
            c->in[c->n] = '\0';
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: bench_wait GATEWAY_PID PORT HUB WAITERS INSTANCES INTERVAL_S\n");
        return 2;
    }
    int pid = atoi(argv[1]);
    port = atoi(argv[2]);
    const char *hub = argv[3];
    int nw = atoi(argv[4]), ni = atoi(argv[5]);
    double interval = atof(argv[6]);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    dg_arena *a = dg_arena_create();
    char buf[8192];
    const char **want = calloc((size_t) ni, sizeof *want);
    for (int i = 0; i < ni; i++) {
        char path[256];
        snprintf(path, sizeof path, "/durabletask/orchestrators/Bench/bench-%d", i);
        if (request("POST", path, buf, sizeof buf) != 202) {
            fprintf(stderr, "bench: start of bench-%d failed: %.200s\n", i, buf);
            return 1;
        }
        want[i] = dg_arena_printf(a, "{\"instance\":%d,\"result\":\"done\"}", i);
    }
    sleep(1);
    long rss0 = rss_kib(pid);

    /* Open the waiters in batches, so the listen backlog never overflows. */
    int ep = epoll_create1(0);
    struct conn *cs = calloc((size_t) nw, sizeof *cs);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int64_t t_open = dg_mono_ms();
    for (int i = 0; i < nw; i++) {
        struct conn *c = &cs[i];
        c->instance = i % ni;
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
            fprintf(stderr, "bench: connect %d: %s\n", i, strerror(errno));
            return 1;
        }
        char req[512];
        int n = snprintf(req, sizeof req,
                         "GET /durabletask/instances/bench-%d/wait?timeout=600&retryInterval=%g HTTP/1.1\r\n"
                         "Host: 127.0.0.1\r\n\r\n",
                         c->instance, interval);
        if (write(c->fd, req, (size_t) n) != n)
            return 1;
        fcntl(c->fd, F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        if (i % 500 == 499)
            while (metric("durable_gateway_waits_held") < i + 1 - 250)
                usleep(10000);
    }
    long held = 0;
    for (int k = 0; k < 600 && (held = metric("durable_gateway_waits_held")) < nw; k++)
        usleep(100000);
    double open_s = (double) (dg_mono_ms() - t_open) / 1000.0;
    if (held < nw) {
        fprintf(stderr, "bench: only %ld of %d waiters are held\n", held, nw);
        return 1;
    }
    sleep(2); /* let the start-up reads settle */
    long rss1 = rss_kib(pid);

    /* The quiet phase: everyone waits. */
    const int window = 10;
    long reads0 = metric("durable_gateway_wait_reads_total"),
         sreq0 = metric("durable_gateway_storage_attempts_total");
    double cpu0 = cpu_s(pid);
    int64_t w0 = dg_mono_ms();
    sleep((unsigned) window);
    double secs = (double) (dg_mono_ms() - w0) / 1000.0;
    double cpu1 = cpu_s(pid);
    long reads1 = metric("durable_gateway_wait_reads_total"),
         sreq1 = metric("durable_gateway_storage_attempts_total");
    double reads_per_s = (double) (reads1 - reads0) / secs;
    double storage_per_s = (double) (sreq1 - sreq0) / secs;
    double host_per_s = (double) nw / interval;

    /* Complete every instance as a worker's checkpoint does, noting when each row landed. */
    az_account acct;
    char err[256];
    if (az_account_parse(getenv("AZURITE_CONNECTION_STRING"), &acct, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        return 2;
    }
    az_client *cl = az_client_create(&acct, NULL);
    az_account_free(&acct);
    int64_t *done_at = calloc((size_t) ni, sizeof *done_at);
    const char *table = dg_arena_printf(a, "%sInstances", hub);
    for (int i = 0; i < ni; i++) {
        az_ctx x;
        az_ctx_init(&x, a);
        az_entity e;
        const char *id = dg_arena_printf(a, "bench-%d", i);
        az_entity_init(&e, a, hub_key_escape(a, id, strlen(id)), "");
        az_entity_set_str(&e, a, "RuntimeStatus", "Completed");
        az_entity_set_str(&e, a, "Output", want[i]);
        az_entity_set_datetime(&e, a, "CompletedTime", dg_now_ticks());
        if (az_table_write(cl, &x, table, AZ_UPSERT_MERGE, &e, NULL, NULL) != DG_OK) {
            fprintf(stderr, "bench: completing %s failed\n", id);
            return 1;
        }
        done_at[i] = dg_mono_ms();
    }
    /* Collect the answers, then linger so an extra answer would be seen. */
    struct epoll_event evs[512];
    int answered = 0;
    int64_t until = dg_mono_ms() + (int64_t) (interval * 1000) * 5 + 5000;
    while (answered < nw && dg_mono_ms() < until) {
        int n = epoll_wait(ep, evs, 512, 100);
        for (int k = 0; k < n; k++) {
            struct conn *c = evs[k].data.ptr;
            int before = c->answers;
            on_readable(c, want);
            if (before == 0 && c->answers > 0)
                answered++;
        }
    }
    int64_t linger = dg_mono_ms() + 500;
    while (dg_mono_ms() < linger) {
        int n = epoll_wait(ep, evs, 512, 100);
        for (int k = 0; k < n; k++)
            on_readable(evs[k].data.ptr, want);
    }
    int good = 0, wrong = 0, missing = 0, extra = 0;
    int64_t *lat = calloc((size_t) nw, sizeof *lat);
    int nl = 0;
    for (int i = 0; i < nw; i++) {
        struct conn *c = &cs[i];
        if (c->answers == 0)
            missing++;
        else if (c->answers > 1)
            extra++;
        else if (!c->ok)
            wrong++;
        else {
            good++;
            lat[nl++] = c->at_ms - done_at[c->instance];
        }
    }
    qsort(lat, (size_t) nl, sizeof *lat, cmp_i64);
    double p50 = nl ? (double) lat[nl / 2] : -1, p99 = nl ? (double) lat[(nl * 99) / 100] : -1;
    double ims = interval * 1000.0;

    printf("waiters %d over %d instances, retry interval %.3g s, all held after %.1f s\n", nw, ni, interval,
           open_s);
    printf("gateway RSS: %ld KiB idle, %ld KiB with every waiter held: %.2f KiB per waiter (target < 8)\n",
           rss0, rss1, (double) (rss1 - rss0) / nw);
    printf("gateway CPU while all wait: %.2f%% of one core over %.1f s (target < 2%%)\n",
           100.0 * (cpu1 - cpu0) / secs, secs);
    printf("status reads during the wait: %.1f/s (storage requests %.1f/s); a per-request poller: %.0f/s; "
           "%.0fx fewer (target >= 50x)\n",
           reads_per_s, storage_per_s, host_per_s, reads_per_s > 0 ? host_per_s / reads_per_s : 0.0);
    printf("completion to answer: p50 %.0f ms (%.2f intervals), p99 %.0f ms (%.2f intervals); target p99 < "
           "%.0f ms\n",
           p50, p50 / ims, p99, p99 / ims, ims + 50);
    printf("answers: %d correct, %d wrong, %d missing, %d extra, of %d\n", good, wrong, missing, extra, nw);
    bool pass = good == nw;
    printf("%s\n", pass ? "every waiter got exactly one correct answer"
                        : "FAIL: not every waiter got one correct answer");
    for (int i = 0; i < nw; i++)
        close(cs[i].fd);
    az_client_destroy(cl);
    return pass ? 0 : 1;
}
