#include "gateway/server.h"

#include "base/arena.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_CAP (4u << 20) /* request bodies: the largest payload a task hub accepts in one start */

struct gw_server {
    struct MHD_Daemon *d;
    const struct gw_config *cfg;
    az_client *storage;
    unsigned port;
};

/* One per request, made on its first callback, freed on completion. */
struct request {
    dg_arena *arena;
    dg_buf body;
    int too_big;
};

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

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, const char *json)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(json), (void *) json, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
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
    (void) s;
    struct request *rq = *con_cls;
    if (!rq) {
        rq = dg_xcalloc(1, sizeof *rq);
        rq->arena = dg_arena_create();
        dg_buf_init(&rq->body, BODY_CAP);
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_big && dg_buf_add(&rq->body, upload, *upload_size))
            rq->too_big = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->too_big)
        return send_json(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                         "{\"Message\":\"The request body exceeds the gateway's limit of 4 MiB.\"}");
    size_t ul = strlen(url);
    while (ul > 1 && url[ul - 1] == '/')
        ul--;
    if (ul == 8 && strncasecmp(url, "/healthz", 8) == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return send_json(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"Message\":\"Use GET.\"}");
        return send_json(conn, MHD_HTTP_OK, "{\"status\":\"healthy\",\"version\":\"" DG_VERSION "\"}");
    }
    return send_json(conn, MHD_HTTP_NOT_FOUND, "{\"Message\":\"No route matches this request.\"}");
}

gw_server *gw_server_start(const struct gw_config *cfg, az_client *storage)
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
    s->storage = storage;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    s->d = MHD_start_daemon(flags, (uint16_t) cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned) cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned) cfg->connection_limit, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned) cfg->connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t) 32 * 1024, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    if (!s->d) {
        DG_ERROR(NULL, "cannot listen on %s:%ld (address in use or not available)", cfg->listen, cfg->port);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : (unsigned) cfg->port;
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
    MHD_stop_daemon(s->d);
    free(s);
}
