/* bench_standin: a stand-in Azure Storage service (Table, Queue and Blob on one
 * port) for bench/frontend.sh. It answers what the gateway asks for a status
 * read, a start and a task hub's partition discovery the way Azure Storage
 * does, without storing anything and without checking signatures, so that the
 * benchmark measures the gateway (or nginx in front of the same stand-in), not
 * storage.
 *
 * One epoll loop per thread (--threads, default 1; the threads share the port
 * through SO_REUSEPORT), non-blocking sockets, HTTP/1.1 keep-alive and
 * pipelining, Content-Length and chunked bodies drained without being kept.
 * With --delay-ms every answer leaves N ms after its request was fully read:
 * the delay is the same for every request, so deadlines arrive in order and a
 * FIFO of connections is the timer queue (O(1) per request). --hang reads
 * requests and never answers them.
 *
 * Counters (per request kind, open connections, answers pending) are served
 * at GET /__stats as JSON and printed to stderr on SIGUSR1. */
#include "http1.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
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

#define HEAD_CAP   (64u << 10) /* request line and headers */
#define BODY_CAP   (8u << 20)  /* request bodies */
#define READ_SIZE  (64u << 10)
#define MAX_EVENTS 512

#define ETAG_TIME "2026-01-01T00%3A00%3A00.0000000Z"
#define ETAG      "W/\"datetime'" ETAG_TIME "'\""
#define JSON_ETAG "W/\\\"datetime'" ETAG_TIME "'\\\""
/* The same inside a printf format. */
#define JSON_ETAG_FMT "W/\\\"datetime'2026-01-01T00%%3A00%%3A00.0000000Z'\\\""
#define TABLE_CT      "application/json;odata=minimalmetadata;streaming=true;charset=utf-8"

static struct {
    int port;
    int delay_ms;
    bool hang;
    bool log;
    int threads;
    int partitions;
    const char *status;
    const char *missing_prefix;
    const char *account;
} opt = {.status = "Completed", .account = "devstoreaccount1", .threads = 1, .partitions = 4};

enum counter {
    C_REQUESTS,
    C_TABLE_GET, /* point reads of a row (Instances and the like), the reads the gateway should spare */
    C_TABLE_QUERY,
    C_TABLE_WRITE,
    C_TABLE_CREATE,
    C_QUEUE_PUT,
    C_QUEUE_OTHER,
    C_BLOB_GET,
    C_BLOB_OTHER,
    C_OTHER,
    C_NOT_FOUND,
    C_BAD, /* 400, 413, 431: refused requests */
    C_CONNS_TOTAL,
    C_COUNT
};
static const char *const counter_names[C_COUNT] = {
    "requests", "table_get",  "table_query", "table_write", "table_create", "queue_put",  "queue_other",
    "blob_get", "blob_other", "other",       "not_found",   "bad",          "conns_total"};
static _Atomic uint64_t counters[C_COUNT];
static _Atomic long conns_open, conns_max, pending,
    pending_max; /* pending: requests read, not answered yet */
static volatile sig_atomic_t stats_signal;

static void gauge_max(_Atomic long *max, long v)
{
    long m = atomic_load(max);
    while (v > m && !atomic_compare_exchange_weak(max, &m, v))
        ;
}

static void pending_add(void)
{
    gauge_max(&pending_max, atomic_fetch_add(&pending, 1) + 1);
}

static void count(enum counter k)
{
    atomic_fetch_add_explicit(&counters[k], 1, memory_order_relaxed);
}

struct buf {
    char *d;
    size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return;
    size_t n = b->cap ? b->cap : 512;
    while (n < b->len + extra)
        n *= 2;
    b->d = realloc(b->d, n);
    if (!b->d)
        abort();
    b->cap = n;
}

static void buf_add(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n + 1);
    memcpy(b->d + b->len, p, n);
    b->len += n;
    b->d[b->len] = '\0';
}

static void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->d ? b->d + b->len : NULL, b->d ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (!b->d || (size_t) n >= b->cap - b->len) {
        buf_reserve(b, (size_t) n + 1);
        va_start(ap, fmt);
        vsnprintf(b->d + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t) n;
}

/* JSON string contents. */
static void buf_json(struct buf *b, const char *s, size_t n)
{
    buf_reserve(b, n * 6 + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char) s[i];
        if (ch == '"' || ch == '\\') {
            b->d[b->len++] = '\\';
            b->d[b->len++] = (char) ch;
        } else if (ch < 0x20) {
            b->len += (size_t) snprintf(b->d + b->len, 7, "\\u%04x", ch);
        } else {
            b->d[b->len++] = (char) ch;
        }
    }
    b->d[b->len] = '\0';
}

static void buf_free(struct buf *b)
{
    free(b->d);
    *b = (struct buf){0};
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

enum cstate { CS_HEAD, CS_BODY, CS_CHUNK, CS_WAIT };

struct conn {
    int fd;
    enum cstate st;
    struct http1_chunked chunk;
    bool close_after; /* close once the answers are written */
    bool peer_gone;   /* EOF read: close after the pending answer */
    bool want_out;    /* EPOLLOUT registered */
    bool in_off;      /* EPOLLIN removed while an answer is pending */
    bool control;     /* the request being read is /__stats: answered at once even with --hang */
    uint64_t left;    /* Content-Length body bytes left */
    long hung;        /* requests held by --hang on this connection */
    struct buf in;    /* unparsed input, only while a request is incomplete */
    struct buf out;   /* answer bytes the socket did not take yet */
    size_t out_off;
    struct buf ans; /* the answer to the request being read, made from its head */
    int64_t due_ns;
    struct conn *prev, *next; /* the thread's timer queue, or its list of closed connections */
};

struct thr {
    int ep, lfd;
    int idx;
    char *scratch;
    struct conn *head, *tail; /* answers waiting for their delay, due order */
    struct conn *dead;        /* closed this round, freed after the events are handled */
    struct buf body, target;
    uint64_t reqno;
    time_t date_sec;
    char date[40];
};

static char listener_tag;

static const char *http_date(struct thr *t)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != t->date_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(t->date, sizeof t->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        t->date_sec = ts.tv_sec;
    }
    return t->date;
}

static const char *reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 409:
        return "Conflict";
    case 413:
        return "Request Entity Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    default:
        return "Unknown";
    }
}

/* The answer to the current request into c->ans: status line, the headers
 * Azure Storage always sends, `extra` (complete header lines), then body. */
static void answer(struct thr *t, struct conn *c, int status, const char *ctype, const char *extra,
                   const char *body, size_t blen)
{
    struct buf *b = &c->ans;
    b->len = 0;
    uint64_t id = ++t->reqno;
    buf_printf(b, "HTTP/1.1 %d %s\r\n", status, reason(status));
    if (status != 204) /* a 204 has no Content-Length (RFC 9110 8.6) */
        buf_printf(b, "Content-Length: %zu\r\n", blen);
    buf_printf(b,
               "Date: %s\r\nx-ms-request-id: %08x-0000-4000-8000-%012llx\r\nx-ms-version: 2019-02-02\r\n"
               "Server: bench_standin\r\n%s%s%s%s%s\r\n",
               http_date(t), (unsigned) t->idx, (unsigned long long) id, ctype ? "Content-Type: " : "",
               ctype ? ctype : "", ctype ? "\r\n" : "", extra ? extra : "",
               c->close_after ? "Connection: close\r\n" : "");
    if (blen)
        buf_add(b, body, blen);
}

static void answer_body(struct thr *t, struct conn *c, int status, const char *ctype, const char *extra)
{
    answer(t, c, status, ctype, extra, t->body.d, t->body.len);
}

static void table_error(struct thr *t, struct conn *c, int status, const char *code, const char *msg)
{
    t->body.len = 0;
    buf_printf(&t->body,
               "{\"odata.error\":{\"code\":\"%s\",\"message\":{\"lang\":\"en-US\",\"value\":\"%s\"}}}", code,
               msg);
    char extra[128];
    snprintf(extra, sizeof extra, "x-ms-error-code: %s\r\n", code);
    answer_body(t, c, status, TABLE_CT, extra);
}

static void xml_error(struct thr *t, struct conn *c, int status, const char *code, const char *msg)
{
    t->body.len = 0;
    buf_printf(
        &t->body,
        "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code><Message>%s</Message>"
        "</Error>",
        code, msg);
    char extra[128];
    snprintf(extra, sizeof extra, "x-ms-error-code: %s\r\n", code);
    answer_body(t, c, status, "application/xml", extra);
}

/* The canned Instances row of a finished E1_HelloSequence, keyed pk. */
static void entity(struct thr *t, struct conn *c, const char *table, size_t tl, const char *pk, size_t pkl)
{
    struct buf *b = &t->body;
    b->len = 0;
    buf_printf(b, "{\"odata.metadata\":\"http://127.0.0.1:%d/%s/$metadata#%.*s/@Element\",", opt.port,
               opt.account, (int) tl, table);
    buf_adds(b, "\"odata.etag\":\"" JSON_ETAG "\",\"PartitionKey\":\"");
    buf_json(b, pk, pkl);
    buf_adds(b, "\",\"RowKey\":\"\",\"Timestamp\":\"2026-01-01T00:00:01.0000000Z\","
                "\"Name\":\"E1_HelloSequence\",\"Version\":\"\",\"RuntimeStatus\":\"");
    buf_adds(b, opt.status);
    buf_adds(
        b, "\",\"CreatedTime@odata.type\":\"Edm.DateTime\",\"CreatedTime\":\"2026-01-01T00:00:00.0000000Z\","
           "\"LastUpdatedTime@odata.type\":\"Edm.DateTime\","
           "\"LastUpdatedTime\":\"2026-01-01T00:00:01.0000000Z\","
           "\"CompletedTime@odata.type\":\"Edm.DateTime\",\"CompletedTime\":\"2026-01-01T00:00:01.0000000Z\","
           "\"Input\":\"null\",\"Output\":\"[\\\"Hello Tokyo!\\\",\\\"Hello Seattle!\\\"]\","
           "\"CustomStatus\":\"null\",\"ExecutionId\":\"0123456789abcdef0123456789abcdef\","
           "\"Generation\":0,\"TaskHubName\":\"DurableFunctionsHub\"}");
    answer_body(t, c, 200, TABLE_CT, "ETag: " ETAG "\r\n");
}

/* Percent-decodes s[0..n) in place ('+' stays a plus, as in a path); returns the new length. */
static size_t pct_decode(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = http1_hexval((unsigned char) s[i + 1])) >= 0 &&
            (l = http1_hexval((unsigned char) s[i + 2])) >= 0) {
            s[o++] = (char) (h * 16 + l);
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return o;
}

/* PartitionKey='...' of decoded key arguments, quotes un-doubled, in place. */
static bool partition_key(char *args, char **pk, size_t *pkl)
{
    char *p = strstr(args, "PartitionKey='");
    if (!p)
        return false;
    p += 14;
    char *o = p;
    for (char *s = p; *s; s++) {
        if (*s == '\'') {
            if (s[1] != '\'') {
                *pk = p;
                *pkl = (size_t) (o - p);
                return true;
            }
            s++;
        }
        *o++ = *s;
    }
    return false;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t sl = strlen(suffix);
    return n >= sl && memcmp(s + n - sl, suffix, sl) == 0;
}

static bool query_has(const char *q, const char *kv)
{
    size_t n = strlen(kv);
    for (const char *p = q; (p = strstr(p, kv)) != NULL; p += n)
        if ((p == q || p[-1] == '&') && (p[n] == '\0' || p[n] == '&'))
            return true;
    return false;
}

static void stats_json(struct buf *b)
{
    buf_adds(b, "{");
    for (int i = 0; i < C_COUNT; i++)
        buf_printf(b, "\"%s\":%llu,", counter_names[i], (unsigned long long) atomic_load(&counters[i]));
    buf_printf(b, "\"conns_open\":%ld,\"conns_max\":%ld,\"pending\":%ld,\"pending_max\":%ld}\n",
               atomic_load(&conns_open), atomic_load(&conns_max), atomic_load(&pending),
               atomic_load(&pending_max));
}

static void queue_message(struct thr *t, struct conn *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t exp = ts.tv_sec + 7 * 86400;
    struct tm tm;
    char ins[40], ex[40];
    gmtime_r(&ts.tv_sec, &tm);
    strftime(ins, sizeof ins, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    gmtime_r(&exp, &tm);
    strftime(ex, sizeof ex, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    t->body.len = 0;
    buf_printf(&t->body,
               "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList><QueueMessage>"
               "<MessageId>%08x-1111-4222-8333-%012llx</MessageId><InsertionTime>%s</InsertionTime>"
               "<ExpirationTime>%s</ExpirationTime><PopReceipt>AgAAAAMAAAAAAAAA%08llx</PopReceipt>"
               "<TimeNextVisible>%s</TimeNextVisible></QueueMessage></QueueMessagesList>",
               (unsigned) t->idx, (unsigned long long) t->reqno, ins, ex, (unsigned long long) t->reqno, ins);
    answer_body(t, c, 201, "application/xml", NULL);
}

/* Makes the answer to one request from its method, target and Prefer header. */
static void route(struct thr *t, struct conn *c, const char *m, char *target, bool prefer_nc)
{
    char *query = strchr(target, '?');
    if (query)
        *query++ = '\0';
    else
        query = "";
    char *p = target;
    size_t al = strlen(opt.account);
    if (p[0] == '/' && strncmp(p + 1, opt.account, al) == 0 && (p[1 + al] == '/' || p[1 + al] == '\0'))
        p += 1 + al;
    if (!*p)
        p = "/";
    bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    if (strcmp(p, "/__stats") == 0) {
        c->control = true;
        t->body.len = 0;
        stats_json(&t->body);
        answer_body(t, c, 200, "application/json", NULL);
        return;
    }
    char *s1 = p + 1;
    char *rest = strchr(s1, '/');
    size_t s1l = rest ? (size_t) (rest - s1) : strlen(s1);
    if (rest)
        rest++;
    char *paren = memchr(s1, '(', s1l);
    if (paren) {
        size_t tl = (size_t) (paren - s1);
        if (tl == 6 && strncasecmp(s1, "Tables", 6) == 0) {
            count(C_TABLE_CREATE);
            answer(t, c, 204, NULL, NULL, NULL, 0); /* table delete */
            return;
        }
        char *close = memchr(paren, ')', s1l - tl);
        size_t argl = close ? (size_t) (close - paren - 1) : 0;
        if (argl == 0) { /* a query: T() */
            count(C_TABLE_QUERY);
            struct buf *b = &t->body;
            b->len = 0;
            buf_printf(b, "{\"odata.metadata\":\"http://127.0.0.1:%d/%s/$metadata#%.*s\",\"value\":[",
                       opt.port, opt.account, (int) tl, s1);
            if (ends_with(s1, tl, "Partitions")) {
                /* Partition discovery (taskhub/hub.c): one lease row per control queue. */
                char hub[64];
                size_t hl = tl - 10 < sizeof hub - 1 ? tl - 10 : sizeof hub - 1;
                for (size_t i = 0; i < hl; i++)
                    hub[i] = (char) tolower((unsigned char) s1[i]);
                hub[hl] = '\0';
                for (int i = 0; i < opt.partitions; i++)
                    buf_printf(b,
                               "%s{\"odata.etag\":\"" JSON_ETAG_FMT
                               "\",\"PartitionKey\":\"\",\"RowKey\":\"%s-control-%02d\"}",
                               i ? "," : "", hub, i);
            }
            buf_adds(b, "]}");
            answer_body(t, c, 200, TABLE_CT, NULL);
            return;
        }
        char *args = paren + 1;
        args[argl] = '\0';
        pct_decode(args, argl);
        char *pk = "";
        size_t pkl = 0;
        partition_key(args, &pk, &pkl);
        if (get) {
            count(C_TABLE_GET);
            bool missing =
                (pkl >= 4 && memcmp(pk, "new-", 4) == 0) ||
                (opt.missing_prefix && strncmp(pk, opt.missing_prefix, strlen(opt.missing_prefix)) == 0);
            if (missing) {
                count(C_NOT_FOUND);
                table_error(t, c, 404, "ResourceNotFound",
                            "The specified resource does not "
                            "exist.\\nRequestId:00000000-0000-0000-0000-000000000000");
            } else {
                entity(t, c, s1, tl, pk, pkl);
            }
            return;
        }
        count(C_TABLE_WRITE); /* PUT, MERGE, PATCH, DELETE */
        answer(t, c, 204, NULL, strcmp(m, "DELETE") == 0 ? NULL : "ETag: " ETAG "\r\n", NULL, 0);
        return;
    }
    if (!rest) {
        if (s1l == 6 && strncasecmp(s1, "Tables", 6) == 0) {
            count(C_TABLE_CREATE);
            if (strcmp(m, "POST") == 0) {
                if (prefer_nc) {
                    answer(t, c, 204, NULL, "Preference-Applied: return-no-content\r\n", NULL, 0);
                } else {
                    t->body.len = 0;
                    buf_printf(&t->body,
                               "{\"odata.metadata\":\"http://127.0.0.1:%d/%s/$metadata#Tables/@Element\"}",
                               opt.port, opt.account);
                    answer_body(t, c, 201, TABLE_CT, NULL);
                }
            } else {
                t->body.len = 0;
                buf_adds(&t->body, "{\"value\":[]}");
                answer_body(t, c, 200, TABLE_CT, NULL);
            }
            return;
        }
        if (strcmp(m, "POST") == 0 && s1l > 0 && strcmp(s1, "$batch") != 0) { /* table insert */
            count(C_TABLE_WRITE);
            if (prefer_nc) {
                answer(t, c, 204, NULL, "ETag: " ETAG "\r\nPreference-Applied: return-no-content\r\n", NULL,
                       0);
            } else {
                t->body.len = 0;
                buf_printf(&t->body,
                           "{\"odata.metadata\":\"http://127.0.0.1:%d/%s/$metadata#%s/@Element\","
                           "\"odata.etag\":\"" JSON_ETAG_FMT
                           "\",\"Timestamp\":\"2026-01-01T00:00:00.0000000Z\"}",
                           opt.port, opt.account, s1);
                answer_body(t, c, 201, TABLE_CT, "ETag: " ETAG "\r\n");
            }
            return;
        }
        if (strcmp(m, "PUT") == 0) { /* a container or a queue */
            bool container = query_has(query, "restype=container");
            count(container ? C_BLOB_OTHER : C_QUEUE_OTHER);
            answer(t, c, 201, NULL, container ? "ETag: \"0x8DE00000000000\"\r\n" : NULL, NULL, 0);
            return;
        }
        if (strcmp(m, "DELETE") == 0) {
            bool container = query_has(query, "restype=container");
            count(container ? C_BLOB_OTHER : C_QUEUE_OTHER);
            answer(t, c, container ? 202 : 204, NULL, NULL, NULL, 0);
            return;
        }
        if (get && query_has(query, "comp=list")) {
            count(C_BLOB_OTHER);
            t->body.len = 0;
            buf_adds(&t->body, "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults>"
                               "<Blobs /><NextMarker /></EnumerationResults>");
            answer_body(t, c, 200, "application/xml", NULL);
            return;
        }
    } else if (strncmp(rest, "messages", 8) == 0 && (rest[8] == '\0' || rest[8] == '/')) {
        if (strcmp(m, "POST") == 0) {
            count(C_QUEUE_PUT);
            queue_message(t, c);
            return;
        }
        count(C_QUEUE_OTHER);
        if (get) {
            t->body.len = 0;
            buf_adds(&t->body, "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList />");
            answer_body(t, c, 200, "application/xml", NULL);
        } else if (strcmp(m, "PUT") == 0) {
            answer(t, c, 204, NULL,
                   "x-ms-popreceipt: AgAAAAMAAAAAAAAA\r\nx-ms-time-next-visible: Thu, 01 Jan 2026 00:00:00 "
                   "GMT\r\n",
                   NULL, 0);
        } else {
            answer(t, c, 204, NULL, NULL, NULL, 0);
        }
        return;
    } else {
        bool leases = ends_with(s1, s1l, "-leases"), applease = ends_with(s1, s1l, "-applease");
        bool large = ends_with(s1, s1l, "-largemessages");
        if (get && (leases || applease || large)) {
            count(C_BLOB_GET);
            const char *blob_headers =
                "ETag: \"0x8DE00000000000\"\r\nLast-Modified: Thu, 01 Jan 2026 00:00:00 "
                "GMT\r\nx-ms-blob-type: BlockBlob\r\n";
            t->body.len = 0;
            if (leases && strcmp(rest, "taskhub.json") == 0) {
                buf_printf(&t->body,
                           "{\"TaskHubName\":\"%.*s\",\"CreatedAt\":\"2026-01-01T00:00:00.0000000Z\","
                           "\"PartitionCount\":%d}",
                           (int) (s1l - 7), s1, opt.partitions);
                answer_body(t, c, 200, "application/octet-stream", blob_headers);
            } else if (applease) {
                buf_adds(&t->body, "{}");
                answer_body(t, c, 200, "application/octet-stream", blob_headers);
            } else {
                count(C_NOT_FOUND);
                xml_error(t, c, 404, "BlobNotFound", "The specified blob does not exist.");
            }
            return;
        }
        if (strcmp(m, "PUT") == 0) {
            count(C_BLOB_OTHER);
            answer(t, c, 201, NULL, "ETag: \"0x8DE00000000000\"\r\nx-ms-request-server-encrypted: true\r\n",
                   NULL, 0);
            return;
        }
        if (strcmp(m, "DELETE") == 0) {
            count(C_BLOB_OTHER);
            answer(t, c, 202, NULL, NULL, NULL, 0);
            return;
        }
    }
    if (get) {
        /* Anything else read (nginx's proxied status path among them): the
         * entity, keyed by the last path segment. */
        count(C_OTHER);
        const char *last = strrchr(target, '/');
        last = last ? last + 1 : target;
        size_t ll = strlen(last);
        char *copy = strndup(last, ll);
        ll = pct_decode(copy, ll);
        entity(t, c, "Instances", 9, copy, ll);
        free(copy);
        return;
    }
    count(C_OTHER);
    xml_error(t, c, 501, "NotImplemented", "bench_standin does not serve this request.");
}

/* ---- connections ---- */

static void conn_close(struct thr *t, struct conn *c)
{
    if (c->fd < 0)
        return;
    if (c->st == CS_WAIT) {
        if (c->prev)
            c->prev->next = c->next;
        else
            t->head = c->next;
        if (c->next)
            c->next->prev = c->prev;
        else
            t->tail = c->prev;
        atomic_fetch_sub(&pending, 1);
    }
    if (c->hung)
        atomic_fetch_sub(&pending, c->hung);
    close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    atomic_fetch_sub(&conns_open, 1);
    c->next = t->dead;
    t->dead = c;
}

static void set_events(struct thr *t, struct conn *c)
{
    struct epoll_event ev = {.events = (c->in_off ? 0 : EPOLLIN) | (c->want_out ? EPOLLOUT : 0),
                             .data.ptr = c};
    epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what is queued; closes when asked to once everything left. */
static void flush(struct thr *t, struct conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.d + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            conn_close(t, c);
            return;
        }
        c->out_off += (size_t) n;
    }
    bool done = c->out_off == c->out.len;
    if (done) {
        c->out.len = c->out_off = 0;
        if (c->out.cap > 16384)
            buf_free(&c->out);
        if (c->close_after || (c->peer_gone && c->st != CS_WAIT)) {
            conn_close(t, c);
            return;
        }
    }
    if (done == c->want_out) {
        c->want_out = !done;
        set_events(t, c);
    }
}

static void send_bytes(struct thr *t, struct conn *c, const char *d, size_t n)
{
    if (c->out.len == 0) {
        ssize_t w;
        do
            w = send(c->fd, d, n, MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        if (w < 0 && errno != EAGAIN) {
            conn_close(t, c);
            return;
        }
        if (w < 0)
            w = 0;
        d += w;
        n -= (size_t) w;
        if (n == 0) {
            if (c->close_after || (c->peer_gone && c->st != CS_WAIT))
                conn_close(t, c);
            return;
        }
    }
    buf_add(&c->out, d, n);
    flush(t, c);
}

static void refuse(struct thr *t, struct conn *c, int status, const char *code, const char *msg)
{
    count(C_BAD);
    c->close_after = true;
    xml_error(t, c, status, code, msg);
    send_bytes(t, c, c->ans.d, c->ans.len);
    if (c->fd >= 0)
        conn_close(t, c);
}

static void finish_request(struct thr *t, struct conn *c)
{
    count(C_REQUESTS);
    if (opt.hang && !c->control) {
        c->hung++;
        pending_add();
        c->st = CS_HEAD;
        return;
    }
    if (opt.delay_ms > 0 && !c->control) {
        c->st = CS_WAIT;
        c->due_ns = now_ns() + (int64_t) opt.delay_ms * 1000000;
        c->next = NULL;
        c->prev = t->tail;
        if (t->tail)
            t->tail->next = c;
        else
            t->head = c;
        t->tail = c;
        pending_add();
        return;
    }
    c->st = CS_HEAD;
    send_bytes(t, c, c->ans.d, c->ans.len);
}

/* A complete request head h[0..n): parses it, makes the answer, sets up the body. */
static void begin_request(struct thr *t, struct conn *c, const char *h, size_t n)
{
    const char *eol = memchr(h, '\n', n);
    const char *sp1 = memchr(h, ' ', (size_t) (eol - h));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t) (eol - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 - h > 15 || eol - sp2 < 9 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
        refuse(t, c, 400, "InvalidRequest", "Malformed request line.");
        return;
    }
    char method[16];
    memcpy(method, h, (size_t) (sp1 - h));
    method[sp1 - h] = '\0';
    bool http10 = sp2[8] == '0';
    bool keep = !http10, chunked = false, expect = false, prefer_nc = false, has_cl = false;
    uint64_t cl = 0;
    for (const char *l = eol + 1; l < h + n;) {
        const char *le = memchr(l, '\n', (size_t) (h + n - l));
        size_t ln = (size_t) (le - l);
        const char *v;
        size_t vl;
        if (http1_header_is(l, ln, "Content-Length", &v, &vl)) {
            char tmp[24];
            if (vl == 0 || vl >= sizeof tmp) {
                refuse(t, c, 400, "InvalidHeaderValue", "Bad Content-Length.");
                return;
            }
            memcpy(tmp, v, vl);
            tmp[vl] = '\0';
            char *end;
            cl = strtoull(tmp, &end, 10);
            has_cl = true;
            if (*end) {
                refuse(t, c, 400, "InvalidHeaderValue", "Bad Content-Length.");
                return;
            }
        } else if (http1_header_is(l, ln, "Transfer-Encoding", &v, &vl)) {
            chunked = http1_has_token(v, vl, "chunked");
        } else if (http1_header_is(l, ln, "Connection", &v, &vl)) {
            if (http1_has_token(v, vl, "close"))
                keep = false;
            else if (http1_has_token(v, vl, "keep-alive"))
                keep = true;
        } else if (http1_header_is(l, ln, "Expect", &v, &vl)) {
            expect = http1_has_token(v, vl, "100-continue");
        } else if (http1_header_is(l, ln, "Prefer", &v, &vl)) {
            prefer_nc = http1_has_token(v, vl, "return-no-content");
        }
        l = le + 1;
    }
    (void) has_cl;
    c->close_after = !keep;
    if (!chunked && cl > BODY_CAP) {
        refuse(t, c, 413, "RequestBodyTooLarge", "The request body is too large.");
        return;
    }
    size_t tl = (size_t) (sp2 - sp1 - 1);
    t->target.len = 0;
    buf_add(&t->target, sp1 + 1, tl);
    if (opt.log)
        fprintf(stderr, "%s %s\n", method, t->target.d);
    c->control = false;
    route(t, c, method, t->target.d, prefer_nc);
    bool body = chunked || cl > 0;
    if (expect && body) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        send_bytes(t, c, cont, sizeof cont - 1);
        if (c->fd < 0)
            return;
    }
    if (chunked) {
        c->st = CS_CHUNK;
        http1_chunked_start(&c->chunk, BODY_CAP);
    } else if (cl > 0) {
        c->st = CS_BODY;
        c->left = cl;
    } else {
        finish_request(t, c);
    }
}

/* Handles requests in d[0..n); returns the bytes used. Stops at an answer
 * that waits for its delay, and at a closed connection. */
static size_t consume(struct thr *t, struct conn *c, const char *d, size_t n)
{
    size_t off = 0;
    while (off < n && c->fd >= 0) {
        switch (c->st) {
        case CS_WAIT:
            return off;
        case CS_HEAD: {
            while (off < n && (d[off] == '\r' || d[off] == '\n'))
                off++;
            if (off == n)
                return off;
            const char *e = memmem(d + off, n - off, "\r\n\r\n", 4);
            size_t hl = e ? (size_t) (e + 4 - (d + off)) : n - off;
            if (hl > HEAD_CAP) {
                refuse(t, c, 431, "RequestHeaderFieldsTooLarge", "The request headers are too large.");
                return n;
            }
            if (!e)
                return off;
            begin_request(t, c, d + off, hl);
            off += hl;
            break;
        }
        case CS_BODY: {
            size_t take = n - off < c->left ? n - off : (size_t) c->left;
            off += take;
            c->left -= take;
            if (c->left == 0)
                finish_request(t, c);
            break;
        }
        case CS_CHUNK: {
            size_t used = 0;
            int r = http1_chunked_step(&c->chunk, d + off, n - off, &used);
            off += used;
            if (r < 0) {
                refuse(t, c, 400, "InvalidInput", "Bad chunked body.");
                return n;
            }
            if (r > 0)
                finish_request(t, c);
            break;
        }
        }
    }
    return off;
}

/* Runs the requests already buffered on c (after a delayed answer left). */
static void consume_buffered(struct thr *t, struct conn *c)
{
    if (c->in.len == 0)
        return;
    size_t used = consume(t, c, c->in.d, c->in.len);
    if (c->fd < 0)
        return;
    memmove(c->in.d, c->in.d + used, c->in.len - used);
    c->in.len -= used;
    if (c->in.len == 0)
        buf_free(&c->in);
}

static void on_readable(struct thr *t, struct conn *c)
{
    for (;;) {
        char *dst;
        size_t room;
        if (c->in.len == 0) {
            dst = t->scratch;
            room = READ_SIZE;
        } else {
            buf_reserve(&c->in, 16384 + 1);
            dst = c->in.d + c->in.len;
            room = c->in.cap - c->in.len - 1;
        }
        ssize_t n = recv(c->fd, dst, room, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            if (n == 0 && c->st == CS_WAIT && !opt.hang) {
                /* A half-close: the pending answer still goes out, then close. */
                c->peer_gone = true;
                c->in_off = true;
                set_events(t, c);
            } else {
                conn_close(t, c);
            }
            return;
        }
        if (dst == t->scratch) {
            size_t used = consume(t, c, dst, (size_t) n);
            if (c->fd < 0)
                return;
            if (used < (size_t) n)
                buf_add(&c->in, dst + used, (size_t) n - used);
        } else {
            c->in.len += (size_t) n;
            consume_buffered(t, c);
            if (c->fd < 0)
                return;
        }
        if (c->st == CS_WAIT && c->in.len > HEAD_CAP && !c->in_off) {
            c->in_off = true; /* a client pipelining a lot behind a delayed answer: pause it */
            set_events(t, c);
            return;
        }
        if ((size_t) n < room)
            return;
    }
}

static void fire_timers(struct thr *t)
{
    if (!t->head)
        return;
    int64_t now = now_ns();
    while (t->head && t->head->due_ns <= now) {
        struct conn *c = t->head;
        t->head = c->next;
        if (t->head)
            t->head->prev = NULL;
        else
            t->tail = NULL;
        c->next = c->prev = NULL;
        atomic_fetch_sub(&pending, 1);
        c->st = CS_HEAD;
        send_bytes(t, c, c->ans.d, c->ans.len);
        if (c->fd < 0)
            continue;
        if (c->peer_gone) {
            if (c->out.len == 0)
                conn_close(t, c);
            continue;
        }
        consume_buffered(t, c);
        if (c->fd >= 0 && c->in_off && c->st != CS_WAIT) {
            c->in_off = false;
            set_events(t, c);
        }
    }
}

static void accept_all(struct thr *t)
{
    for (;;) {
        int fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE) {
                static _Atomic int warned;
                if (!atomic_exchange(&warned, 1))
                    fprintf(stderr, "bench_standin: out of file descriptors, connections wait\n");
            }
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c)
            abort();
        c->fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev);
        count(C_CONNS_TOTAL);
        gauge_max(&conns_max, atomic_fetch_add(&conns_open, 1) + 1);
    }
}

static void *run(void *arg)
{
    struct thr *t = arg;
    struct epoll_event ev[MAX_EVENTS];
    for (;;) {
        struct timespec ts, *tsp = NULL;
        if (t->head) {
            int64_t d = t->head->due_ns - now_ns();
            if (d < 0)
                d = 0;
            ts.tv_sec = d / 1000000000;
            ts.tv_nsec = d % 1000000000;
            tsp = &ts;
        }
        int n = epoll_pwait2(t->ep, ev, MAX_EVENTS, tsp, NULL);
        if (n < 0 && errno != EINTR) {
            perror("bench_standin: epoll_pwait2");
            exit(1);
        }
        if (stats_signal && t->idx == 0) {
            stats_signal = 0;
            struct buf b = {0};
            stats_json(&b);
            fputs(b.d, stderr);
            buf_free(&b);
        }
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == &listener_tag) {
                accept_all(t);
                continue;
            }
            struct conn *c = ev[i].data.ptr;
            if (c->fd < 0)
                continue;
            if (ev[i].events & EPOLLOUT)
                flush(t, c);
            if (c->fd >= 0 && (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                on_readable(t, c);
        }
        fire_timers(t);
        while (t->dead) {
            struct conn *c = t->dead;
            t->dead = c->next;
            buf_free(&c->in);
            buf_free(&c->out);
            buf_free(&c->ans);
            free(c);
        }
    }
    return NULL;
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *) &sa, sizeof sa) != 0 || listen(fd, 65535) != 0) {
        perror("bench_standin: bind 127.0.0.1");
        exit(1);
    }
    return fd;
}

static void on_usr1(int sig)
{
    (void) sig;
    stats_signal = 1;
}

static void usage(FILE *f)
{
    fputs("usage: bench_standin [--port N] [--delay-ms N] [--hang] [--status S] [--missing-prefix P]\n"
          "                     [--partitions N] [--threads N] [--log]\n"
          "A stand-in Azure Storage service (Table, Queue, Blob on one port, 127.0.0.1) for benchmarks.\n"
          "  --port N            port; 0 picks one (default). The first stdout line is port=N\n"
          "  --delay-ms N        answer each request N ms after it was read (default 0)\n"
          "  --hang              read requests, never answer them (GET /__stats excepted)\n"
          "  --status S          RuntimeStatus of the canned instance row (default Completed)\n"
          "  --missing-prefix P  table reads of PartitionKeys starting with P get 404 (new-* always do)\n"
          "  --partitions N      control queues a task hub reports (default 4)\n"
          "  --threads N         event loops sharing the port (default 1)\n"
          "  --log               print each request's method and target to stderr\n"
          "GET /__stats answers the request counters as JSON; SIGUSR1 prints them to stderr.\n",
          f);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--hang") == 0) {
            opt.hang = true;
        } else if (strcmp(a, "--log") == 0) {
            opt.log = true;
        } else if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (v && strcmp(a, "--port") == 0) {
            opt.port = atoi(v), i++;
        } else if (v && strcmp(a, "--delay-ms") == 0) {
            opt.delay_ms = atoi(v), i++;
        } else if (v && strcmp(a, "--status") == 0) {
            opt.status = v, i++;
        } else if (v && strcmp(a, "--missing-prefix") == 0) {
            opt.missing_prefix = v, i++;
        } else if (v && strcmp(a, "--partitions") == 0) {
            opt.partitions = atoi(v), i++;
        } else if (v && strcmp(a, "--threads") == 0) {
            opt.threads = atoi(v), i++;
        } else {
            fprintf(stderr, "bench_standin: unknown or incomplete option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (opt.threads < 1 || opt.threads > 64 || opt.delay_ms < 0 || opt.partitions < 1 ||
        opt.partitions > 16 || opt.port < 0 || opt.port > 65535) {
        usage(stderr);
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_usr1};
    sigaction(SIGUSR1, &sa, NULL);

    struct thr *t = calloc((size_t) opt.threads, sizeof *t);
    pthread_t *tid = calloc((size_t) opt.threads, sizeof *tid);
    for (int i = 0; i < opt.threads; i++) {
        t[i].lfd = listen_on(opt.port);
        if (opt.port == 0) {
            struct sockaddr_in sin;
            socklen_t sl = sizeof sin;
            getsockname(t[i].lfd, (struct sockaddr *) &sin, &sl);
            opt.port = ntohs(sin.sin_port);
        }
        t[i].idx = i;
        t[i].ep = epoll_create1(EPOLL_CLOEXEC);
        t[i].scratch = malloc(READ_SIZE + 1);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &listener_tag};
        epoll_ctl(t[i].ep, EPOLL_CTL_ADD, t[i].lfd, &ev);
    }
    printf("port=%d\n", opt.port);
    fflush(stdout);
    fprintf(stderr, "bench_standin: 127.0.0.1:%d, %d thread(s), delay %d ms%s, RLIMIT_NOFILE %llu\n",
            opt.port, opt.threads, opt.delay_ms, opt.hang ? ", hanging" : "",
            (unsigned long long) rl.rlim_cur);
    for (int i = 1; i < opt.threads; i++)
        pthread_create(&tid[i], NULL, run, &t[i]);
    run(&t[0]);
    return 0;
}
