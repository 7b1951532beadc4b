/* The pass-through to the function app (--upstream): every request outside
 * the gateway's own routes goes to the app and its answer comes back, both
 * bodies streamed through small buffers, on the request's own event loop
 * (README, "The front door"). Only gateway/ touches struct MHD_Connection. */
#ifndef GW_PROXY_H
#define GW_PROXY_H

#include "base/arena.h"
#include "base/loop.h"
#include "routes/http.h"
#include "routes/router.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

struct gw_proxy_conf {
    const char *upstream;     /* scheme://host[:port][/path], no trailing slash */
    long timeout_ms;          /* the upstream's longest silence */
    bool rewrite_links;       /* check-status links of the app's answers point at the gateway */
    const struct rt_env *env; /* the public origin of rewritten links (rt_request_origin) */
    const char *scheme;       /* the gateway's own, "http" or "https": X-Forwarded-Proto */
    const char *origin; /* scheme://listen:port: the scheme of rewritten links, the host without a Host */
};

typedef struct gw_proxy gw_proxy;

/* What the proxy tells the front end: its connection was resumed (the
 * daemon must run before the loop sleeps). */
struct gw_proxy_hooks {
    void (*resumed)(void *arg);
    void *arg;
};

/* Starts passing a request through, at its first call (headers only): the
 * upstream request leaves at once and its body follows as the client sends
 * it. uri is the path and query exactly as sent; a is the request's arena
 * (outlives the proxy's use of it). */
gw_proxy *gw_proxy_begin(const struct gw_proxy_conf *pc, const struct gw_proxy_hooks *hooks,
                         struct MHD_Connection *conn, const char *method, const char *uri, dg_arena *a,
                         const char *reqid);
/* Every later call of the request's access handler. */
enum MHD_Result gw_proxy_on_request(gw_proxy *p, const char *upload, size_t *upload_size);
/* The connection completed (answered, or the client left): the upstream
 * transfer is dropped if still running. The answer the daemon may still hold
 * keeps what it reads alive until it is done. */
void gw_proxy_end(gw_proxy *p);
/* Shutdown: a request not yet answered is answered 503; an answer streaming
 * is cut. */
void gw_proxy_cut(gw_proxy *p);
/* The status the client was answered; 0 before an answer was queued. */
int gw_proxy_status(const gw_proxy *p);

/* The answer's bytes sent so far (body only), for the access line. */
uint64_t gw_proxy_bytes_out(const gw_proxy *p);

/* The check-status links of an upstream answer, rewritten (exposed for
 * tests): in the top-level JSON object body, the string values of the
 * members statusQueryGetUri, sendEventPostUri, terminatePostUri,
 * purgeHistoryDeleteUri, restartPostUri, suspendPostUri, resumePostUri that
 * start with from (an origin, as sent or with "\/" escapes) get to instead;
 * every other byte is kept. NULL when nothing changed or the body is not such
 * an object. */
char *gw_proxy_rewrite_body(dg_arena *a, const char *body, size_t len, const char *from, const char *to,
                            size_t *out_len);

#endif
