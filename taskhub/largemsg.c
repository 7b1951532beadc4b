#include "taskhub/largemsg.h"

#include "base/mem.h"
#include "base/str.h"
#include "base/url.h"
#include "base/utf8.h"
#include "storage/blob.h"
#include "taskhub/message.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

dg_err hub_gzip(dg_arena *a, const void *p, size_t n, char **out, size_t *outlen)
{
    z_stream z = {0};
    /* 15 window bits + 16: a gzip wrapper, as .NET's GZipStream writes. */
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return DG_EINVAL;
    size_t cap = deflateBound(&z, (uLong) n);
    char *dst = dg_arena_alloc(a, cap);
    z.next_in = (Bytef *) p;
    z.avail_in = (uInt) n;
    z.next_out = (Bytef *) dst;
    z.avail_out = (uInt) cap;
    int rc = deflate(&z, Z_FINISH);
    size_t got = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END)
        return DG_EINVAL;
    *out = dst;
    *outlen = got;
    return DG_OK;
}

dg_err hub_gunzip(dg_arena *a, const void *p, size_t n, size_t cap, char **out, size_t *outlen)
{
    z_stream z = {0};
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return DG_EBADRESP;
    dg_buf b;
    dg_buf_init(&b, cap);
    char chunk[16384];
    z.next_in = (Bytef *) p;
    z.avail_in = (uInt) n;
    dg_err err = DG_OK;
    int rc;
    do {
        z.next_out = (Bytef *) chunk;
        z.avail_out = sizeof chunk;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            err = DG_EBADRESP;
            break;
        }
        if ((err = dg_buf_add(&b, chunk, sizeof chunk - z.avail_out)) != DG_OK)
            break;
        if (rc != Z_STREAM_END && z.avail_in == 0 && z.avail_out != 0) {
            err = DG_EBADRESP; /* truncated stream */
            break;
        }
    } while (rc != Z_STREAM_END);
    inflateEnd(&z);
    if (!err) {
        *out = dg_arena_strndup(a, dg_buf_str(&b), b.len);
        *outlen = b.len;
    }
    dg_buf_free(&b);
    return err;
}

size_t hub_utf16_units(const char *s, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n;) {
        int32_t cp = dg_utf8_next((const unsigned char *) s, n, &i);
        if (cp < 0) {
            i++;
            units++;
            continue;
        }
        units += cp > 0xFFFF ? 2 : 1;
    }
    return units;
}

const char *hub_large_container(dg_arena *a, const char *hub)
{
    char *c = dg_arena_printf(a, "%s-largemessages", hub);
    for (char *p = c; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    return c;
}

const char *hub_large_url(az_client *c, dg_arena *a, const char *hub, const char *name)
{
    const char *ep = az_client_account(c)->endpoint[AZ_BLOB];
    const char *container = hub_large_container(a, hub);
    dg_buf b;
    /* Room for everything: each byte of the name grows to 3 at most. */
    dg_buf_init(&b, (ep ? strlen(ep) : 0) + strlen(container) + strlen(name) * 3 + 64);
    (void) dg_buf_addf(&b, "%s/%s", ep ? ep : "", container);
    dg_str rest = dg_str_c(name);
    while (rest.p) {
        dg_str seg;
        rest = dg_str_cut(rest, '/', &seg);
        (void) dg_buf_addc(&b, '/');
        (void) dg_url_encode(&b, seg.p, seg.n, NULL);
    }
    const char *r = dg_buf_take(&b, a);
    if (!r) /* the buffer poisons itself: one check covers every append */
        dg_fatal("blob URL past its cap");
    return r;
}

dg_err hub_large_put(az_client *c, az_ctx *x, const char *hub, const char *name, const char *text, size_t n)
{
    char *gz;
    size_t gzn;
    dg_err rc = hub_gzip(x->arena, text, n, &gz, &gzn);
    if (rc)
        return rc;
    const char *cont = hub_large_container(x->arena, hub);
    rc = az_blob_put(c, x, cont, name, gz, gzn, "application/octet-stream", NULL);
    if (rc == DG_ENOTFOUND) {
        /* The container is made on first use (docs/storage-layout.md §1.2). */
        if ((rc = az_container_create(c, x, cont)) == DG_OK)
            rc = az_blob_put(c, x, cont, name, gz, gzn, "application/octet-stream", NULL);
    }
    return rc;
}

dg_err hub_large_get(az_client *c, az_ctx *x, const char *hub, const char *name, char **text, size_t *n)
{
    char *gz;
    size_t gzn;
    dg_err rc = az_blob_get(c, x, hub_large_container(x->arena, hub), name, &gz, &gzn);
    if (rc)
        return rc;
    return hub_gunzip(x->arena, gz, gzn, HUB_MAX_LARGE_PAYLOAD, text, n);
}

bool hub_large_is_url(const char *v)
{
    if (!v || !isalpha((unsigned char) v[0]))
        return false;
    size_t i = 1;
    while (isalnum((unsigned char) v[i]) || v[i] == '+' || v[i] == '-' || v[i] == '.')
        i++;
    if (strncmp(v + i, "://", 3) != 0 || !v[i + 3] || v[i + 3] == '/')
        return false;
    for (const char *p = v; *p; p++)
        if ((unsigned char) *p <= ' ')
            return false;
    return true;
}

const char *hub_large_name_from_url(dg_arena *a, const char *hub, const char *url)
{
    if (!hub_large_is_url(url))
        return NULL;
    const char *path = strchr(strstr(url, "://") + 3, '/');
    if (!path)
        return NULL;
    size_t pn = strcspn(path, "?#");
    const char *cont = hub_large_container(a, hub);
    size_t cn = strlen(cont);
    /* The container is a whole path segment: /{container}/ (host style) or
     * /{account}/{container}/ (path style, as Azurite serves). */
    const char *end = path + pn;
    for (const char *p = path; p < end; p++) {
        if (*p != '/' || (size_t) (end - p) <= cn + 2 || strncasecmp(p + 1, cont, cn) != 0 ||
            p[1 + cn] != '/')
            continue;
        const char *name = p + 2 + cn;
        char *d;
        size_t dn;
        if (dg_url_decode(a, name, (size_t) (end - name), 0, &d, &dn) || memchr(d, '\0', dn) ||
            !az_blob_name_ok(d))
            return NULL; /* a "." or ".." segment would leave the container */
        return d;
    }
    return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

dg_err hub_large_resolve(az_client *c, az_ctx *x, const char *hub, const char *value, const char **out)
{
    *out = value;
    const char *name = value ? hub_large_name_from_url(x->arena, hub, value) : NULL;
    if (!name)
        return DG_OK;
    char *text;
    size_t n;
    dg_err rc = hub_large_get(c, x, hub, name, &text, &n);
    if (rc)
        return rc;
    if (!ends_with(name, "ExecutionStarted.json.gz")) {
        *out = text;
        return DG_OK;
    }
    /* A start message kept whole: the input is the event's Input. */
    if (hub_message_input(x->arena, text, n, out) != DG_OK)
        *out = text;
    return DG_OK;
}
