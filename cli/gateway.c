/* Through a running gateway (--gateway URL --key KEY): the same requests as
 * straight to storage, over HTTP with plain libcurl easy calls on one
 * kept-alive connection. The only user of libcurl in cli/. */
#include "base/buf.h"
#include "base/mem.h"
#include "cli/cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Caps on what a gateway may send back: the answers are JSON the gateway
 * builds, a list page of 1,000 instances with their inputs included. */
#define GW_MAX_BODY   (256u << 20)
#define GW_MAX_HEADER 8192

struct cli_gw {
    CURL *h;
    char *origin; /* "http://host:port", without a trailing '/' */
    char *key;    /* NULL: none sent */
};

struct gw_reply {
    dg_buf body;
    dg_buf token;
    bool has_token;
};

cli_gw *cli_gw_create(const char *url, const char *key, char *why, size_t whylen)
{
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    if (!((n > 7 && strncasecmp(url, "http://", 7) == 0) ||
          (n > 8 && strncasecmp(url, "https://", 8) == 0)) ||
        memchr(url, '?', n) || memchr(url, '#', n)) {
        snprintf(why, whylen,
                 "--gateway must be an http:// or https:// address, such as http://127.0.0.1:7071");
        return NULL;
    }
    /* The base path is the client's to add: take the origin alone, also when
     * the address was given with /runtime/webhooks/durabletask. */
    const char *host = url + (url[4] == ':' ? 7 : 8);
    const char *slash = memchr(host, '/', n - (size_t) (host - url));
    if (slash) {
        const char *rest = slash;
        size_t rn = n - (size_t) (slash - url);
        if (!(rn == 29 && strncasecmp(rest, "/runtime/webhooks/durabletask", 29) == 0) &&
            !(rn == 12 && strncasecmp(rest, "/durabletask", 12) == 0)) {
            snprintf(why, whylen,
                     "--gateway takes the gateway's address without a path, such as http://127.0.0.1:7071");
            return NULL;
        }
        n = (size_t) (slash - url);
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(why, whylen, "libcurl did not initialise");
        return NULL;
    }
    cli_gw *g = dg_xcalloc(1, sizeof *g);
    g->h = curl_easy_init();
    if (!g->h)
        dg_fatal("curl_easy_init");
    g->origin = dg_xstrndup(url, n);
    g->key = key && *key ? dg_xstrdup(key) : NULL;
    return g;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *u)
{
    struct gw_reply *r = u;
    return dg_buf_add(&r->body, p, sz * nm) == DG_OK ? sz * nm : 0;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *u)
{
    struct gw_reply *r = u;
    size_t n = sz * nm;
    static const char name[] = "x-ms-continuation-token:";
    size_t nn = sizeof name - 1;
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new answer (after a 100 Continue): forget the old one */
        dg_buf_reset(&r->token);
        r->has_token = false;
    } else if (n > nn && strncasecmp(p, name, nn) == 0) {
        size_t i = nn, e = n;
        while (i < e && (p[i] == ' ' || p[i] == '\t'))
            i++;
        while (e > i && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' ' || p[e - 1] == '\t'))
            e--;
        dg_buf_reset(&r->token);
        if (dg_buf_add(&r->token, p + i, e - i) != DG_OK)
            return 0; /* longer than any token the gateway sends */
        r->has_token = true;
    }
    return n;
}

bool cli_gw_call(cli_gw *g, dg_arena *a, const struct cli_call *call, struct cli_answer *ans, char *why,
                 size_t whylen)
{
    struct gw_reply r = {.has_token = false};
    dg_buf_init(&r.body, GW_MAX_BODY);
    dg_buf_init(&r.token, GW_MAX_HEADER);
    const char *url =
        dg_arena_printf(a, "%s%s%s%s", g->origin, call->path, *call->query ? "?" : "", call->query);
    struct curl_slist *hd = NULL;
    if (g->key)
        hd = curl_slist_append(hd, dg_arena_printf(a, "x-functions-key: %s", g->key));
    if (call->token)
        hd = curl_slist_append(hd, dg_arena_printf(a, "x-ms-continuation-token: %s", call->token));
    if (call->body)
        hd = curl_slist_append(hd, "Content-Type: application/json");
    hd = curl_slist_append(hd, "Expect:"); /* no 100-continue round trip for bodies */
    CURL *h = g->h;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call->method);
    if (strcmp(call->method, "POST") == 0 || call->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, call->body ? call->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) (call->body ? strlen(call->body) : 0));
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    /* A purge page runs for the gateway's --purge-budget-ms (20 s by default). */
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 300000L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "durable/" DG_VERSION);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    bool ok = rc == CURLE_OK;
    if (!ok) {
        if (rc == CURLE_WRITE_ERROR)
            snprintf(why, whylen, "the gateway at %s sent an answer larger than this client takes",
                     g->origin);
        else
            snprintf(why, whylen, "no answer from the gateway at %s: %s", g->origin, curl_easy_strerror(rc));
    } else {
        ans->status = (int) status;
        ans->body_len = r.body.len;
        ans->body = dg_arena_strndup(a, dg_buf_str(&r.body), r.body.len);
        ans->token = r.has_token ? dg_arena_strdup(a, dg_buf_str(&r.token)) : NULL;
    }
    dg_buf_free(&r.body);
    dg_buf_free(&r.token);
    return ok;
}

void cli_gw_destroy(cli_gw *g)
{
    if (!g)
        return;
    curl_easy_cleanup(g->h);
    free(g->origin);
    free(g->key);
    free(g);
    curl_global_cleanup();
}
