#include "tests/support/rec_proxy.h"

#include "base/mem.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS  64
#define MAX_CHUNKS 200000
#define STREAM_MAX (64u << 20) /* recorded per connection; a test sends far less */

struct stream {
    char *d;
    size_t len, cap;
    size_t *chunk_at; /* offset of each chunk in d */
    unsigned long *chunk_seq;
    size_t nchunks, chunk_cap;
};

struct rec_proxy {
    int lfd, port, upstream;
    pthread_t acceptor;
    pthread_mutex_t mu;
    unsigned long seq;
    struct stream s[MAX_CONNS];
    int nconns;
    volatile int stop;
};

struct pump {
    struct rec_proxy *p;
    int cfd, ufd, idx;
};

static void record(struct rec_proxy *p, int idx, const char *b, size_t n)
{
    pthread_mutex_lock(&p->mu);
    struct stream *s = &p->s[idx];
    if (s->len + n <= STREAM_MAX && s->nchunks < MAX_CHUNKS) {
        if (s->len + n > s->cap) {
            s->cap = (s->len + n) * 2;
            s->d = dg_xrealloc(s->d, s->cap);
        }
        memcpy(s->d + s->len, b, n);
        if (s->nchunks == s->chunk_cap) {
            s->chunk_cap = s->chunk_cap ? s->chunk_cap * 2 : 64;
            s->chunk_at = dg_xrealloc(s->chunk_at, s->chunk_cap * sizeof *s->chunk_at);
            s->chunk_seq = dg_xrealloc(s->chunk_seq, s->chunk_cap * sizeof *s->chunk_seq);
        }
        s->chunk_at[s->nchunks] = s->len;
        s->chunk_seq[s->nchunks++] = ++p->seq;
        s->len += n;
    }
    pthread_mutex_unlock(&p->mu);
}

static bool send_all(int fd, const char *b, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k <= 0)
            return false;
        b += k;
        n -= (size_t) k;
    }
    return true;
}

static void *pump_main(void *arg)
{
    struct pump *pu = arg;
    char buf[65536];
    struct pollfd fds[2] = {{pu->cfd, POLLIN, 0}, {pu->ufd, POLLIN, 0}};
    while (!pu->p->stop) {
        if (poll(fds, 2, 200) < 0)
            break;
        if (fds[0].revents) {
            ssize_t n = recv(pu->cfd, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            record(pu->p, pu->idx, buf, (size_t) n);
            if (!send_all(pu->ufd, buf, (size_t) n))
                break;
        }
        if (fds[1].revents) {
            ssize_t n = recv(pu->ufd, buf, sizeof buf, 0);
            if (n <= 0 || !send_all(pu->cfd, buf, (size_t) n))
                break;
        }
    }
    close(pu->cfd);
    close(pu->ufd);
    free(pu);
    return NULL;
}

static int connect_upstream(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *accept_main(void *arg)
{
    struct rec_proxy *p = arg;
    while (!p->stop) {
        struct pollfd pf = {p->lfd, POLLIN, 0};
        if (poll(&pf, 1, 200) <= 0)
            continue;
        int cfd = accept(p->lfd, NULL, NULL);
        if (cfd < 0)
            continue;
        int ufd = connect_upstream(p->upstream);
        pthread_mutex_lock(&p->mu);
        int idx = p->nconns < MAX_CONNS ? p->nconns++ : -1;
        pthread_mutex_unlock(&p->mu);
        if (ufd < 0 || idx < 0) {
            close(cfd);
            if (ufd >= 0)
                close(ufd);
            continue;
        }
        struct pump *pu = dg_xmalloc(sizeof *pu);
        *pu = (struct pump){p, cfd, ufd, idx};
        pthread_t t;
        pthread_create(&t, NULL, pump_main, pu);
        pthread_detach(t);
    }
    return NULL;
}

static const char *table_endpoint(const char *cs, int *port)
{
    const char *t = strstr(cs, "TableEndpoint=http://127.0.0.1:");
    cr_assert_not_null(t, "no loopback TableEndpoint in the connection string");
    *port = atoi(t + strlen("TableEndpoint=http://127.0.0.1:"));
    return t;
}

struct rec_proxy *rec_proxy_start(void)
{
    const char *cs = getenv("AZURITE_CONNECTION_STRING");
    cr_assert_not_null(cs, "AZURITE_CONNECTION_STRING is not set: run under tests/support/with-azurite.sh");
    struct rec_proxy *p = dg_xcalloc(1, sizeof *p);
    table_endpoint(cs, &p->upstream);
    pthread_mutex_init(&p->mu, NULL);
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(p->lfd, (struct sockaddr *) &sa, sizeof sa), 0);
    cr_assert_eq(listen(p->lfd, 64), 0);
    socklen_t sl = sizeof sa;
    getsockname(p->lfd, (struct sockaddr *) &sa, &sl);
    p->port = ntohs(sa.sin_port);
    pthread_create(&p->acceptor, NULL, accept_main, p);
    return p;
}

void rec_proxy_stop(struct rec_proxy *p)
{
    p->stop = 1;
    pthread_join(p->acceptor, NULL);
    close(p->lfd);
    usleep(300 * 1000); /* the pumps see the flag within a poll period */
    for (int i = 0; i < p->nconns; i++) {
        free(p->s[i].d);
        free(p->s[i].chunk_at);
        free(p->s[i].chunk_seq);
    }
    pthread_mutex_destroy(&p->mu);
    free(p);
}

az_client *rec_proxy_client(struct rec_proxy *p)
{
    const char *cs = getenv("AZURITE_CONNECTION_STRING");
    int port;
    const char *t = table_endpoint(cs, &port);
    const char *rest = strchr(t, '/') ? strstr(t, "/devstoreaccount1") : NULL;
    cr_assert_not_null(rest);
    char buf[2048];
    snprintf(buf, sizeof buf, "%.*sTableEndpoint=http://127.0.0.1:%d%s", (int) (t - cs), cs, p->port, rest);
    az_account acct;
    char err[256];
    cr_assert_eq(az_account_parse(buf, &acct, err, sizeof err), DG_OK, "%s", err);
    az_client *c = az_client_create(&acct, NULL);
    az_account_free(&acct);
    return c;
}

void rec_proxy_clear(struct rec_proxy *p)
{
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nconns; i++) {
        p->s[i].len = 0;
        p->s[i].nchunks = 0;
    }
    pthread_mutex_unlock(&p->mu);
}

size_t rec_proxy_find(struct rec_proxy *p, const char *needle, unsigned long *seq, size_t max)
{
    size_t found = 0, nl = strlen(needle);
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nconns; i++) {
        struct stream *s = &p->s[i];
        for (size_t at = 0; s->len >= nl && at <= s->len - nl && found < max;) {
            const char *hit = memmem(s->d + at, s->len - at, needle, nl);
            if (!hit)
                break;
            size_t off = (size_t) (hit - s->d), k = 0;
            while (k + 1 < s->nchunks && s->chunk_at[k + 1] <= off)
                k++;
            seq[found++] = s->chunk_seq[k];
            at = off + 1;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return found;
}

char *rec_proxy_dump(struct rec_proxy *p)
{
    pthread_mutex_lock(&p->mu);
    size_t total = 1;
    for (int i = 0; i < p->nconns; i++)
        total += p->s[i].len + 1;
    char *out = dg_xmalloc(total), *o = out;
    for (int i = 0; i < p->nconns; i++) {
        if (p->s[i].len)
            memcpy(o, p->s[i].d, p->s[i].len);
        o += p->s[i].len;
        *o++ = '\n';
    }
    *o = '\0';
    pthread_mutex_unlock(&p->mu);
    return out;
}
