/* The only file that touches libcurl: the handle pool, signing each attempt,
 * the retry loop and the classification of answers. */
#include "base/buf.h"
#include "base/json.h"
#include "base/loop.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "base/rand.h"
#include "base/str.h"
#include "base/time.h"
#include "base/trace.h"
#include "base/url.h"
#include "storage/internal.h"
#include "storage/transfer.h"
#include "storage/xml.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HEADERS_MAX (64 * 1024) /* all response headers of one answer */
#define URL_MAX     (16 * 1024)

struct az_client {
    az_account acct;
    struct az_client_opts o;
    const char *base_path[AZ_SERVICES]; /* the endpoint's own path, "" or "/devstoreaccount1" */
    dg_metric *stats; /* private, per thread like every metric: requests, connections, retries */
};

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;

/* ---- metrics (docs/metrics.md): per thread, summed at scrape time ---- */

static const char *const service_names[AZ_SERVICES] = {
    [AZ_TABLE] = "table", [AZ_QUEUE] = "queue", [AZ_BLOB] = "blob"};
static const char *const op_names[AZ_OPS] = {
    [AZ_OP_OTHER] = "other",
    [AZ_OP_CREATE_TABLE] = "create_table",
    [AZ_OP_DELETE_TABLE] = "delete_table",
    [AZ_OP_GET_ENTITY] = "get_entity",
    [AZ_OP_QUERY_ENTITIES] = "query_entities",
    [AZ_OP_INSERT_ENTITY] = "insert_entity",
    [AZ_OP_INSERT_OR_REPLACE_ENTITY] = "insert_or_replace_entity",
    [AZ_OP_INSERT_OR_MERGE_ENTITY] = "insert_or_merge_entity",
    [AZ_OP_UPDATE_ENTITY] = "update_entity",
    [AZ_OP_MERGE_ENTITY] = "merge_entity",
    [AZ_OP_DELETE_ENTITY] = "delete_entity",
    [AZ_OP_BATCH] = "batch",
    [AZ_OP_CREATE_QUEUE] = "create_queue",
    [AZ_OP_DELETE_QUEUE] = "delete_queue",
    [AZ_OP_PUT_MESSAGE] = "put_message",
    [AZ_OP_GET_MESSAGES] = "get_messages",
    [AZ_OP_PEEK_MESSAGES] = "peek_messages",
    [AZ_OP_DELETE_MESSAGE] = "delete_message",
    [AZ_OP_CREATE_CONTAINER] = "create_container",
    [AZ_OP_DELETE_CONTAINER] = "delete_container",
    [AZ_OP_PUT_BLOB] = "put_blob",
    [AZ_OP_GET_BLOB] = "get_blob",
    [AZ_OP_DELETE_BLOB] = "delete_blob",
    [AZ_OP_LIST_BLOBS] = "list_blobs",
};
/* The outcome of a call: its dg_err, by value (base/err.h). */
#define OUTCOMES (DG_ECANCELED + 1)
static const char *const outcome_names[OUTCOMES] = {
    [DG_OK] = "ok",
    [DG_EINVAL] = "invalid",
    [DG_ENOTFOUND] = "not_found",
    [DG_ECONFLICT] = "conflict",
    [DG_EPRECOND] = "precondition_failed",
    [DG_EAUTH] = "auth_failed",
    [DG_ETHROTTLED] = "throttled",
    [DG_EUNAVAIL] = "unavailable",
    [DG_ETIMEOUT] = "timeout",
    [DG_EBADRESP] = "bad_response",
    [DG_ETOOBIG] = "too_big",
    [DG_ESTORAGE] = "client_error",
    [DG_ECANCELED] = "cancelled",
};
static const double call_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                     0.25,   0.5,   1,      2.5,   5,    10,    30};

static pthread_once_t g_metrics_once = PTHREAD_ONCE_INIT;
static dg_metric *g_calls, *g_call_duration, *g_attempts, *g_retries, *g_connections;

enum { ST_REQUESTS, ST_CONNECTIONS, ST_RETRIES, ST_N };

static void metrics_init(void)
{
    struct dg_mlabel service = {"service", service_names, AZ_SERVICES};
    struct dg_mlabel op = {"operation", op_names, AZ_OPS};
    struct dg_mlabel outcome = {"outcome", outcome_names, OUTCOMES};
    g_calls = dg_metric_register(&(struct dg_metric_def){
        .type = DG_METRIC_COUNTER,
        .name = "durable_gateway_storage_calls_total",
        .help = "Storage calls (a call's retries are one call), by service, operation and outcome.",
        .labels = {service, op, outcome},
        .nlabels = 3});
    g_call_duration = dg_metric_register(&(struct dg_metric_def){
        .type = DG_METRIC_HISTOGRAM,
        .name = "durable_gateway_storage_call_duration_seconds",
        .help = "Time a storage call took, retries and back-off included, by service and operation.",
        .labels = {service, op},
        .nlabels = 2,
        .bounds = call_bounds,
        .nbounds = sizeof call_bounds / sizeof *call_bounds});
    g_attempts = dg_metric_register(&(struct dg_metric_def){
        .type = DG_METRIC_COUNTER,
        .name = "durable_gateway_storage_attempts_total",
        .help = "HTTP requests sent to storage, retries included, by service and operation.",
        .labels = {service, op},
        .nlabels = 2});
    g_retries = dg_metric_register(&(struct dg_metric_def){
        .type = DG_METRIC_COUNTER,
        .name = "durable_gateway_storage_retries_total",
        .help = "HTTP requests to storage that were retries of a call, by service and operation.",
        .labels = {service, op},
        .nlabels = 2});
    g_connections =
        dg_metric_register(&(struct dg_metric_def){.type = DG_METRIC_COUNTER,
                                                   .name = "durable_gateway_storage_connections_opened_total",
                                                   .help = "TCP connections opened to storage."});
}

static void curl_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        dg_fatal("curl_global_init failed");
}

az_client *az_client_create(const az_account *acct, const struct az_client_opts *opts)
{
    pthread_once(&g_curl_once, curl_init_once);
    pthread_once(&g_metrics_once, metrics_init);
    az_client *c = dg_xcalloc(1, sizeof *c);
    c->stats = dg_metric_register(
        &(struct dg_metric_def){.type = DG_METRIC_COUNTER, .labels = {{"stat", NULL, ST_N}}, .nlabels = 1});
    az_account_copy(&c->acct, acct);
    if (opts)
        c->o = *opts;
    if (c->o.connect_timeout_ms <= 0)
        c->o.connect_timeout_ms = 5000;
    if (c->o.call_timeout_ms <= 0)
        c->o.call_timeout_ms = 30000;
    if (c->o.max_attempts <= 0)
        c->o.max_attempts = 5;
    if (c->o.backoff_base_ms <= 0)
        c->o.backoff_base_ms = 100;
    if (c->o.backoff_max_ms <= 0)
        c->o.backoff_max_ms = 4000;
    if (c->o.max_response == 0)
        c->o.max_response = 64u << 20;
    c->o.api_version = c->o.api_version ? dg_xstrdup(c->o.api_version) : NULL;
    for (int i = 0; i < AZ_SERVICES; i++) {
        const char *ep = c->acct.endpoint[i];
        const char *p = ep ? strchr(strstr(ep, "://") + 3, '/') : NULL;
        c->base_path[i] = p ? p : "";
    }
    return c;
}

void az_client_destroy(az_client *c)
{
    if (!c)
        return;
    free((char *) c->o.api_version);
    dg_metric_release(c->stats);
    az_account_free(&c->acct);
    free(c);
}

void az_client_stats(az_client *c, struct az_stats *out)
{
    out->requests = (uint64_t) dg_metric_value(c->stats, ST_REQUESTS);
    out->connections = (uint64_t) dg_metric_value(c->stats, ST_CONNECTIONS);
    out->retries = (uint64_t) dg_metric_value(c->stats, ST_RETRIES);
}

const az_account *az_client_account(const az_client *c)
{
    return &c->acct;
}

/* ---- the multi handle of each event loop (docs/pipeline.md) ----
 *
 * Every loop has its own libcurl multi handle, so its own connection cache
 * and its own idle easy handles: no lock is taken per call. Sockets are
 * watched by the loop's epoll; libcurl's timer is one loop timer. A call is a
 * transfer added to the multi handle by the calling coroutine, which parks
 * until the transfer is done. */

#define IDLE_HANDLES 32

#define MAX_CONNECTS 8192
#define RECV_BUFFER  4096
#define IDLE_CONN_S  5 /* kept-alive storage connections per loop */

struct mloop {
    dg_loop *loop;
    CURLM *multi;
    struct dg_timer timer;
    CURL *idle[IDLE_HANDLES];
    int nidle;
    struct msock **byfd; /* every socket libcurl has open, by descriptor */
    size_t nbyfd;
};

/* A socket of libcurl's. While its connection waits in the cache (libcurl
 * said CURL_POLL_REMOVE) it stays in the loop's epoll: the next transfer on
 * it then costs no epoll_ctl. It leaves epoll when something happens on it
 * meanwhile (the server closed it) or when libcurl closes it. */
struct msock {
    struct dg_watch w;
    struct mloop *m;
    bool idle;
};

static void check_done(struct mloop *m)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct az_transfer *xf = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &xf);
        CURLcode cc = msg->data.result;
        curl_multi_remove_handle(m->multi, msg->easy_handle);
        if (xf) {
            xf->result = cc;
            xf->finished = true;
            if (xf->done)
                xf->done(xf, cc);
            else
                dg_co_wake(xf->co);
        }
    }
}

static void on_sock(struct dg_watch *w, uint32_t revents)
{
    struct msock *k = w->data;
    struct mloop *m = k->m;
    if (k->idle) {
        dg_watch_set(m->loop, w, 0); /* libcurl checks the connection when it takes it again */
        return;
    }
    int flags = 0;
    if (revents & EPOLLIN)
        flags |= CURL_CSELECT_IN;
    if (revents & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (revents & (EPOLLERR | EPOLLHUP))
        flags |= CURL_CSELECT_ERR;
    int running;
    curl_multi_socket_action(m->multi, w->fd, flags, &running);
    check_done(m);
}

static int socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void) e;
    struct mloop *m = userp;
    struct msock *k = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (k) {
            k->idle = true;
            curl_multi_assign(m->multi, s, NULL);
        }
        return 0;
    }
    if (!k) {
        if ((size_t) s >= m->nbyfd) {
            size_t n = m->nbyfd ? m->nbyfd : 1024;
            while (n <= (size_t) s)
                n *= 2;
            m->byfd = dg_xrealloc(m->byfd, n * sizeof *m->byfd);
            memset(m->byfd + m->nbyfd, 0, (n - m->nbyfd) * sizeof *m->byfd);
            m->nbyfd = n;
        }
        k = m->byfd[s];
        if (!k) {
            k = dg_xcalloc(1, sizeof *k);
            k->w = (struct dg_watch){.fd = s, .cb = on_sock, .data = k};
            k->m = m;
            m->byfd[s] = k;
        }
        curl_multi_assign(m->multi, s, k);
    }
    k->idle = false;
    uint32_t ev = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    if (ev != k->w.events)
        dg_watch_set(m->loop, &k->w, ev);
    return 0;
}

/* libcurl closes a socket: it leaves epoll and the table before its number can be reused. */
static int close_cb(void *clientp, curl_socket_t s)
{
    struct mloop *m = clientp;
    struct msock *k = (size_t) s < m->nbyfd ? m->byfd[s] : NULL;
    if (k) {
        dg_watch_set(m->loop, &k->w, 0);
        free(k);
        m->byfd[s] = NULL;
    }
    return close(s);
}

static void on_timer(struct dg_timer *t)
{
    struct mloop *m = t->data;
    int running;
    curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(m);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void) multi;
    struct mloop *m = userp;
    if (timeout_ms < 0)
        dg_timer_stop(m->loop, &m->timer);
    else
        dg_timer_start(m->loop, &m->timer, dg_mono_ms() + timeout_ms);
    return 0;
}

static void mloop_free(void *p)
{
    struct mloop *m = p;
    dg_timer_stop(m->loop, &m->timer);
    for (int i = 0; i < m->nidle; i++)
        curl_easy_cleanup(m->idle[i]);
    curl_multi_cleanup(m->multi); /* closes the cached connections through close_cb */
    for (size_t i = 0; i < m->nbyfd; i++)
        free(m->byfd[i]);
    free(m->byfd);
    free(m);
}

static struct mloop *mloop_get(void)
{
    dg_loop *l = dg_loop_current();
    struct mloop *m = dg_loop_slot(l, DG_LOOP_SLOT_STORAGE);
    if (m)
        return m;
    m = dg_xcalloc(1, sizeof *m);
    m->loop = l;
    m->multi = curl_multi_init();
    if (!m->multi)
        dg_fatal("curl_multi_init failed");
    dg_timer_init(&m->timer, on_timer, m);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    /* Keep every connection a burst opened: the default keeps four per
     * transfer in flight, and closes the rest as a burst ends. */
    curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long) MAX_CONNECTS);
    dg_loop_set_slot(l, DG_LOOP_SLOT_STORAGE, m, mloop_free);
    return m;
}

static CURL *handle_get(struct mloop *m)
{
    if (m->nidle > 0)
        return m->idle[--m->nidle];
    CURL *h = curl_easy_init();
    if (!h)
        dg_fatal("curl_easy_init failed");
    return h;
}

static void handle_put(struct mloop *m, CURL *h)
{
    if (m->nidle < IDLE_HANDLES)
        m->idle[m->nidle++] = h;
    else
        curl_easy_cleanup(h);
}

/* The options of every transfer of the loop's. */
static void reset_handle(struct mloop *m, CURL *h)
{
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* A burst's extra connections are closed once idle this long. */
    curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, (long) IDLE_CONN_S);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, m);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
}

CURL *az_transfer_handle(void)
{
    struct mloop *m = mloop_get();
    CURL *h = handle_get(m);
    reset_handle(m, h);
    return h;
}

void az_transfer_handle_put(CURL *h)
{
    handle_put(mloop_get(), h);
}

bool az_transfer_start(CURL *h, struct az_transfer *t)
{
    t->co = NULL;
    t->finished = false;
    curl_easy_setopt(h, CURLOPT_PRIVATE, (char *) t);
    return curl_multi_add_handle(mloop_get()->multi, h) == CURLM_OK;
}

void az_transfer_abort(CURL *h)
{
    curl_multi_remove_handle(mloop_get()->multi, h);
}

/* Runs h to its end on the caller's loop, parked meanwhile. A cancellation
 * removes the transfer (DG_ECANCELED), except that a write already sent
 * finishes on a hang-up (the loop's cancel ignores hang-ups of trees that wrote). */
static dg_err perform(struct mloop *m, CURL *h, CURLcode *cc)
{
    struct az_transfer xf = {.co = dg_co_self()};
    curl_easy_setopt(h, CURLOPT_PRIVATE, (char *) &xf);
    if (curl_multi_add_handle(m->multi, h) != CURLM_OK) {
        *cc = CURLE_FAILED_INIT;
        return DG_OK;
    }
    while (!xf.finished) {
        if (dg_co_cancelled() != DG_CANCEL_NONE) {
            curl_multi_remove_handle(m->multi, h);
            return DG_ECANCELED;
        }
        dg_co_park();
    }
    *cc = xf.result;
    return DG_OK;
}

/* ---- answers ---- */

struct sink {
    struct az_response *resp;
    dg_arena *a;
    size_t header_bytes;
    int too_big;
    struct az_kv *hv;
    size_t hcap;
};

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    struct sink *s = user;
    size_t k = size * n;
    if (dg_buf_add(&s->resp->body, p, k)) {
        s->too_big = 1;
        return 0;
    }
    return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    struct sink *s = user;
    size_t k = size * n;
    s->header_bytes += k;
    if (s->header_bytes > HEADERS_MAX) {
        s->too_big = 1;
        return 0;
    }
    if (k >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        s->resp->nheaders = 0; /* a new header block (after 100 Continue) */
        return k;
    }
    const char *colon = memchr(p, ':', k);
    if (!colon)
        return k;
    dg_str name = dg_str_trim((dg_str){p, (size_t) (colon - p)});
    dg_str value = dg_str_trim((dg_str){colon + 1, k - (size_t) (colon + 1 - p)});
    if (s->resp->nheaders == s->hcap) {
        size_t ncap = s->hcap ? s->hcap * 2 : 16;
        struct az_kv *nv = dg_arena_alloc(s->a, ncap * sizeof *nv);
        if (s->hcap)
            memcpy(nv, s->hv, s->hcap * sizeof *nv);
        s->hv = nv;
        s->hcap = ncap;
        s->resp->headers = nv;
    }
    s->hv[s->resp->nheaders].name = dg_arena_strndup(s->a, name.p, name.n);
    s->hv[s->resp->nheaders].value = dg_arena_strndup(s->a, value.p, value.n);
    s->resp->nheaders++;
    return k;
}

const char *az_response_header(const struct az_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

void az_response_free(struct az_response *resp)
{
    dg_buf_free(&resp->body);
    resp->headers = NULL;
    resp->nheaders = 0;
}

dg_err az_map_status(long status, const char *code)
{
    if (status >= 200 && status < 300)
        return DG_OK;
    switch (status) {
    case 401:
    case 403:
        return DG_EAUTH;
    case 404:
        return DG_ENOTFOUND;
    case 409:
        return DG_ECONFLICT;
    case 412:
        return DG_EPRECOND;
    case 408:
        return DG_ETIMEOUT;
    case 413:
        return DG_ETOOBIG;
    case 429:
        return DG_ETHROTTLED;
    case 503:
        return code && strcmp(code, "ServerBusy") == 0 ? DG_ETHROTTLED : DG_EUNAVAIL;
    default:
        break;
    }
    if (status >= 500)
        return DG_EUNAVAIL;
    return DG_ESTORAGE;
}

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    if (src)
        while (src[n] && src[n] != '\n' && src[n] != '\r' && n + 1 < cap)
            n++;
    if (src && n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Fills x->st.code/message from the header and the JSON or XML error body. */
void az_error_read(az_ctx *x, const struct az_response *resp)
{
    const char *hc = az_response_header(resp, "x-ms-error-code");
    copy_trunc(x->st.code, sizeof x->st.code, hc);
    if (resp->body.len == 0)
        return;
    const char *b = dg_buf_str(&resp->body);
    if (b[0] == '{') {
        cJSON *j = dg_json_parse(b, resp->body.len);
        const char *code, *msg;
        az_json_error(j, &code, &msg);
        if (!x->st.code[0] && code)
            copy_trunc(x->st.code, sizeof x->st.code, code);
        if (msg)
            copy_trunc(x->st.message, sizeof x->st.message, msg);
        cJSON_Delete(j);
        return;
    }
    if (b[0] == '<' || (b[0] == '\xef' && resp->body.len > 3)) {
        xmlDocPtr doc = az_xml_parse(x->arena, b, resp->body.len);
        xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
        if (!x->st.code[0])
            copy_trunc(x->st.code, sizeof x->st.code, az_xml_child_text(x->arena, root, "Code"));
        copy_trunc(x->st.message, sizeof x->st.message, az_xml_child_text(x->arena, root, "Message"));
    }
}

/* ---- requests ---- */

static char *build_url(dg_arena *a, az_client *c, const struct az_request *r)
{
    dg_buf u;
    dg_buf_init(&u, URL_MAX);
    dg_buf_adds(&u, c->acct.endpoint[r->svc]);
    dg_buf_adds(&u, r->path);
    char sep = '?';
    for (size_t i = 0; i < r->nquery; i++) {
        dg_buf_addc(&u, sep);
        sep = '&';
        dg_url_encode(&u, r->query[i].name, strlen(r->query[i].name), "$");
        dg_buf_addc(&u, '=');
        dg_url_encode(&u, r->query[i].value, strlen(r->query[i].value), NULL);
    }
    if (c->acct.sas) {
        dg_buf_addc(&u, sep);
        dg_buf_adds(&u, c->acct.sas);
    }
    char *s = dg_buf_err(&u) || u.len >= URL_MAX ? NULL : dg_arena_strndup(a, dg_buf_str(&u), u.len);
    dg_buf_free(&u);
    return s;
}

/* A header list built in the call's arena, which outlives the transfer
 * (libcurl only reads the list): no malloc, copy and free per line, nor a
 * printf, for every header of every attempt. */
struct hlist {
    struct curl_slist *head, **tail;
};

static void hl_add(dg_arena *a, struct hlist *l, const char *line)
{
    struct curl_slist *e = dg_arena_alloc(a, sizeof *e);
    e->data = (char *) line;
    e->next = NULL;
    *l->tail = e;
    l->tail = &e->next;
}

/* "name: value" */
static void hl_add_kv(dg_arena *a, struct hlist *l, const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    char *line = dg_arena_alloc(a, n + v + 3);
    memcpy(line, name, n);
    line[n] = ':';
    line[n + 1] = ' ';
    memcpy(line + n + 2, value, v + 1);
    hl_add(a, l, line);
}

/* Builds the header list of one attempt, signed with a fresh date. */
static struct curl_slist *build_headers(dg_arena *a, az_client *c, const struct az_request *r,
                                        const char *reqid)
{
    char date[DG_RFC1123_LEN];
    dg_rfc1123_format(dg_now_ticks(), date);
    const char *version = c->o.api_version;
    if (!version)
        version = r->svc == AZ_TABLE ? "2019-02-02" : "2021-08-06";

    struct az_kv all[AZ_MAX_HEADERS + 8];
    size_t n = 0;
    all[n++] = (struct az_kv){"x-ms-date", date};
    all[n++] = (struct az_kv){"x-ms-version", version};
    if (r->table_json) {
        all[n++] = (struct az_kv){"Accept", "application/json;odata=minimalmetadata"};
        all[n++] = (struct az_kv){"DataServiceVersion", "3.0;NetFx"};
        all[n++] = (struct az_kv){"MaxDataServiceVersion", "3.0;NetFx"};
    }
    if (reqid) /* joins storage's logs with ours; signed like every x-ms- header */
        all[n++] = (struct az_kv){"x-ms-client-request-id", reqid};
    for (size_t i = 0; i < r->nhdr; i++)
        all[n++] = r->hdr[i];
    const char *len = dg_arena_printf(a, "%zu", r->body_len);
    int sends_body = r->body != NULL;

    struct hlist list = {NULL, NULL};
    list.tail = &list.head;
    for (size_t i = 0; i < n; i++)
        hl_add_kv(a, &list, all[i].name, all[i].value);
    hl_add(a, &list, "Expect:"); /* no 100-continue round trip */
    const char *ct = NULL;
    for (size_t i = 0; i < r->nhdr; i++)
        if (strcasecmp(r->hdr[i].name, "Content-Type") == 0)
            ct = r->hdr[i].value;
    if (!ct) /* curl would otherwise add a form Content-Type we did not sign */
        hl_add(a, &list, "Content-Type:");

    if (c->acct.keylen && !c->acct.sas) {
        const char *fullpath = dg_arena_printf(a, "%s%s", c->base_path[r->svc], r->path);
        char *sts;
        const char *scheme = "SharedKey";
        if (r->svc == AZ_TABLE) {
            char *canon = az_canon_table(a, c->acct.name, fullpath, r->query, r->nquery);
            if (c->o.table_shared_key_lite) {
                sts = az_sts_table_lite(a, date, canon);
                scheme = "SharedKeyLite";
            } else {
                sts = az_sts_table(a, r->method, NULL, ct, date, canon);
            }
        } else {
            all[n++] = (struct az_kv){"Content-Length", sends_body ? len : "0"};
            sts = az_sts_blobqueue(a, r->method, all, n,
                                   az_canon_blobqueue(a, c->acct.name, fullpath, r->query, r->nquery));
        }
        char *sig = az_sign(a, c->acct.key, c->acct.keylen, sts);
        hl_add(a, &list, dg_arena_printf(a, "Authorization: %s %s:%s", scheme, c->acct.name, sig));
    }
    return list.head;
}

static int retryable_status(long s)
{
    return s == 408 || s == 429 || s == 500 || s == 503;
}

static int retryable_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return 1;
    default:
        return 0;
    }
}

static bool is_write(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static dg_err call_attempts(az_client *c, az_ctx *x, const struct az_request *r, struct az_response *resp,
                            const char *reqid)
{
    dg_arena *a = x->arena;
    memset(resp, 0, sizeof *resp);
    dg_buf_init(&resp->body, c->o.max_response);
    x->st.http = 0;
    x->st.code[0] = x->st.message[0] = '\0';
    x->st.attempts = 0;
    if (!c->acct.endpoint[r->svc]) {
        copy_trunc(x->st.message, sizeof x->st.message,
                   "the connection string names no endpoint for this service");
        return DG_EINVAL;
    }
    int64_t deadline = x->deadline_ms ? x->deadline_ms : dg_mono_ms() + c->o.call_timeout_ms;
    int64_t request_deadline = dg_co_deadline(); /* the whole request's, retries included */
    if (request_deadline && request_deadline < deadline)
        deadline = request_deadline;
    char *url = build_url(a, c, r);
    if (!url)
        return DG_ETOOBIG;

    dg_err rc = DG_ETIMEOUT;
    struct mloop *m = mloop_get();
    CURL *h = handle_get(m);
    bool write = is_write(r->method);
    for (int attempt = 0; attempt < c->o.max_attempts; attempt++) {
        if (dg_co_cancelled() != DG_CANCEL_NONE) {
            copy_trunc(x->st.message, sizeof x->st.message, "the request was cancelled");
            rc = DG_ECANCELED;
            break;
        }
        int64_t left = deadline - dg_mono_ms();
        if (left <= 0) {
            if (attempt == 0)
                rc = DG_ETIMEOUT;
            break;
        }
        unsigned ss = dg_metric_series2(g_attempts, r->svc, r->op);
        if (attempt > 0) {
            dg_metric_add(c->stats, ST_RETRIES, 1);
            dg_metric_add(g_retries, ss, 1);
        }
        dg_metric_add(c->stats, ST_REQUESTS, 1);
        dg_metric_add(g_attempts, ss, 1);
        x->st.attempts++;
        dg_buf_reset(&resp->body);
        resp->nheaders = 0;
        struct sink s = {.resp = resp, .a = a};
        struct curl_slist *hl = build_headers(a, c, r, reqid);

        reset_handle(m, h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
        /* libcurl's receive buffer (16 KiB by default) is a transfer's largest
         * piece of memory; storage answers mostly fit in a few KiB, and a
         * large one costs only more reads. */
        curl_easy_setopt(h, CURLOPT_BUFFERSIZE, (long) RECV_BUFFER);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) left);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         (long) (left < c->o.connect_timeout_ms ? left : c->o.connect_timeout_ms));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
        if (strcmp(r->method, "GET") == 0) {
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        } else if (strcmp(r->method, "HEAD") == 0) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
            if (r->body || strcmp(r->method, "DELETE") != 0) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) r->body_len);
            }
        }

        int64_t t0 = dg_mono_ms();
        if (write)
            dg_co_mark_write();
        CURLcode cc;
        if (perform(m, h, &cc) == DG_ECANCELED) {
            copy_trunc(x->st.message, sizeof x->st.message, "the request was cancelled");
            rc = DG_ECANCELED;
            break;
        }
        long nconn = 0;
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nconn);
        if (nconn > 0) {
            dg_metric_add(c->stats, ST_CONNECTIONS, (uint64_t) nconn);
            dg_metric_add(g_connections, 0, (uint64_t) nconn);
        }
        long status = 0;
        if (cc == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        resp->status = status;
        x->st.http = status;

        if (cc != CURLE_OK) {
            if (s.too_big) {
                copy_trunc(x->st.message, sizeof x->st.message, "the answer exceeds the response cap");
                rc = DG_ETOOBIG;
                break;
            }
            copy_trunc(x->st.message, sizeof x->st.message, curl_easy_strerror(cc));
            rc = cc == CURLE_OPERATION_TIMEDOUT ? DG_ETIMEOUT : DG_EUNAVAIL;
            DG_WARN(reqid, "storage %s %s: %s (attempt %d, %lld ms)", r->method, dg_redact(a, url),
                    curl_easy_strerror(cc), attempt + 1, (long long) (dg_mono_ms() - t0));
            if (!retryable_curl(cc))
                break;
        } else {
            DG_DEBUG(reqid, "storage %s %s -> %ld (%lld ms)", r->method, dg_redact(a, url), status,
                     (long long) (dg_mono_ms() - t0));
            if (status >= 200 && status < 300) {
                rc = DG_OK;
                break;
            }
            az_error_read(x, resp);
            rc = az_map_status(status, x->st.code);
            if (!retryable_status(status))
                break;
            DG_WARN(reqid, "storage %s %s -> %ld %s (attempt %d)", r->method, dg_redact(a, url), status,
                    x->st.code, attempt + 1);
        }
        if (attempt + 1 >= c->o.max_attempts)
            break;
        /* Exponential back-off with jitter: half the step fixed, half random. */
        long step = c->o.backoff_base_ms << (attempt < 16 ? attempt : 16);
        if (step > c->o.backoff_max_ms || step <= 0)
            step = c->o.backoff_max_ms;
        long wait = step / 2 + (long) (dg_random_fast() % (unsigned long long) (step / 2 + 1));
        const char *ra = az_response_header(resp, "Retry-After");
        if (ra && (status == 429 || status == 503)) {
            long secs = strtol(ra, NULL, 10);
            if (secs > 3600)
                secs = 3600; /* longer than any deadline: no overflow below */
            if (secs > 0 && secs * 1000 > wait)
                wait = secs * 1000;
        }
        left = deadline - dg_mono_ms();
        if (wait >= left)
            break; /* no time for another try: report what we have */
        if (!dg_co_sleep_ms(wait)) {
            rc = DG_ECANCELED;
            break;
        }
    }
    handle_put(m, h);
    return rc;
}

/* One call: its attempts, then what it counts (the request's trace, the metrics). */
static dg_err call(az_client *c, az_ctx *x, const struct az_request *r, struct az_response *resp)
{
    int64_t t0 = dg_mono_us();
    struct dg_trace *t = dg_co_trace();
    const char *reqid = x->reqid;
    if (t) {
        t->storage_calls++;
        reqid = dg_arena_strdup(x->arena, t->id); /* kept by the call, whatever happens to the tree */
    }
    dg_err rc = call_attempts(c, x, r, resp, reqid);
    unsigned svc = (unsigned) r->svc, op = (unsigned) r->op;
    dg_metric_add(g_calls, dg_metric_series3(g_calls, svc, op, (unsigned) rc), 1);
    dg_metric_observe_us(g_call_duration, dg_metric_series2(g_call_duration, svc, op),
                         (uint64_t) (dg_mono_us() - t0));
    return rc;
}

struct call_args {
    az_client *c;
    az_ctx *x;
    const struct az_request *r;
    struct az_response *resp;
    dg_err rc;
};

static void call_co(void *p)
{
    struct call_args *ca = p;
    ca->rc = call(ca->c, ca->x, ca->r, ca->resp);
}

dg_err az_call(az_client *c, az_ctx *x, const struct az_request *r, struct az_response *resp)
{
    if (dg_co_self())
        return call(c, x, r, resp);
    /* The blocking form: the same call, on this thread's own loop. */
    struct call_args ca = {c, x, r, resp, DG_OK};
    dg_co_run(call_co, &ca);
    return ca.rc;
}

char *az_path_segment(dg_arena *a, const char *s)
{
    return dg_url_encode_a(a, s, strlen(s), NULL);
}

bool az_dns_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 3 || n > 63 || name[0] == '-' || name[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
            return false;
        if (ch == '-' && name[i + 1] == '-')
            return false;
    }
    return true;
}
