#include "storage/sign.h"

#include "base/b64.h"
#include "base/buf.h"
#include "base/mem.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Every string-to-sign is bounded by what we send: URLs and header values are
 * themselves capped, so this is a generous limit, not a tight one. */
#define STS_MAX (256 * 1024)

/* The inputs are capped before they get here (URLs at 16 KiB, a fixed number of
 * headers), so a string to sign past STS_MAX is a broken invariant, not a
 * request to refuse: signing a cut string would only earn a 403 later. The
 * buffer poisons itself, so one check covers every append. */
static char *take(dg_arena *a, dg_buf *b)
{
    char *r = dg_buf_take(b, a);
    if (!r)
        dg_fatal("string to sign past its cap");
    return r;
}

char *az_sts_table(dg_arena *a, const char *verb, const char *content_md5, const char *content_type,
                   const char *date, const char *canon_resource)
{
    return dg_arena_printf(a, "%s\n%s\n%s\n%s\n%s", verb, content_md5 ? content_md5 : "",
                           content_type ? content_type : "", date, canon_resource);
}

char *az_sts_table_lite(dg_arena *a, const char *date, const char *canon_resource)
{
    return dg_arena_printf(a, "%s\n%s", date, canon_resource);
}

static const char *hdr_get(const struct az_kv *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

static int cmp_kv_name(const void *x, const void *y)
{
    const struct az_kv *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    return c ? c : strcmp(a->value, b->value);
}

static char *lower_dup(dg_arena *a, const char *s)
{
    char *r = dg_arena_strdup(a, s);
    for (char *p = r; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    return r;
}

/* Collapses runs of white space in a header value to one space and trims it. */
static void add_header_value(dg_buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    int space = 0;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
            space = 1;
            continue;
        }
        if (space)
            (void) dg_buf_addc(b, ' ');
        space = 0;
        (void) dg_buf_addc(b, *v);
    }
}

char *az_sts_blobqueue(dg_arena *a, const char *verb, const struct az_kv *hdrs, size_t nhdrs,
                       const char *canon_resource)
{
    static const char *const std[] = {"Content-Encoding",
                                      "Content-Language",
                                      "Content-Length",
                                      "Content-MD5",
                                      "Content-Type",
                                      "Date",
                                      "If-Modified-Since",
                                      "If-Match",
                                      "If-None-Match",
                                      "If-Unmodified-Since",
                                      "Range"};
    dg_buf b;
    dg_buf_init(&b, STS_MAX);
    (void) dg_buf_adds(&b, verb);
    (void) dg_buf_addc(&b, '\n');
    for (size_t i = 0; i < sizeof std / sizeof *std; i++) {
        const char *v = hdr_get(hdrs, nhdrs, std[i]);
        if (v && !(i == 2 && strcmp(v, "0") == 0))
            (void) dg_buf_adds(&b, v);
        (void) dg_buf_addc(&b, '\n');
    }
    struct az_kv *xms = dg_arena_alloc(a, sizeof *xms * (nhdrs ? nhdrs : 1));
    size_t nx = 0;
    for (size_t i = 0; i < nhdrs; i++) {
        if (strncasecmp(hdrs[i].name, "x-ms-", 5) == 0) {
            xms[nx].name = lower_dup(a, hdrs[i].name);
            xms[nx].value = hdrs[i].value;
            nx++;
        }
    }
    qsort(xms, nx, sizeof *xms, cmp_kv_name);
    for (size_t i = 0; i < nx; i++) {
        (void) dg_buf_adds(&b, xms[i].name);
        (void) dg_buf_addc(&b, ':');
        add_header_value(&b, xms[i].value);
        (void) dg_buf_addc(&b, '\n');
    }
    (void) dg_buf_adds(&b, canon_resource);
    return take(a, &b);
}

char *az_canon_table(dg_arena *a, const char *account, const char *path, const struct az_kv *query, size_t nq)
{
    const char *comp = NULL;
    for (size_t i = 0; i < nq; i++)
        if (strcasecmp(query[i].name, "comp") == 0)
            comp = query[i].value;
    if (comp)
        return dg_arena_printf(a, "/%s%s?comp=%s", account, path, comp);
    return dg_arena_printf(a, "/%s%s", account, path);
}

char *az_canon_blobqueue(dg_arena *a, const char *account, const char *path, const struct az_kv *query,
                         size_t nq)
{
    dg_buf b;
    dg_buf_init(&b, STS_MAX);
    (void) dg_buf_addf(&b, "/%s%s", account, path);
    struct az_kv *q = dg_arena_alloc(a, sizeof *q * (nq ? nq : 1));
    for (size_t i = 0; i < nq; i++) {
        q[i].name = lower_dup(a, query[i].name);
        q[i].value = query[i].value ? query[i].value : "";
    }
    qsort(q, nq, sizeof *q, cmp_kv_name);
    for (size_t i = 0; i < nq; i++) {
        if (i > 0 && strcmp(q[i].name, q[i - 1].name) == 0) {
            (void) dg_buf_addc(&b, ',');
        } else {
            (void) dg_buf_addc(&b, '\n');
            (void) dg_buf_adds(&b, q[i].name);
            (void) dg_buf_addc(&b, ':');
        }
        (void) dg_buf_adds(&b, q[i].value);
    }
    return take(a, &b);
}

char *az_sign(dg_arena *a, const unsigned char *key, size_t keylen, const char *sts)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), key, (int) keylen, (const unsigned char *) sts, strlen(sts), mac, &maclen))
        dg_fatal("HMAC-SHA256 failed");
    return dg_b64_encode(a, mac, maclen);
}
