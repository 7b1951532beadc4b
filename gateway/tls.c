#include "gateway/tls.h"

#include "base/mem.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define PEM_MAX   (1u << 20) /* a certificate chain or a key file: far more than any real one */
#define CHAIN_MAX 16         /* certificates in the chain file */

/* Modern protocol versions only: TLS 1.3 and 1.2 (no SSL 3, TLS 1.0, 1.1 or
 * DTLS), and in 1.2 only forward-secret key exchange (ECDHE) with AEAD
 * ciphers (no RSA key exchange, no CBC). The client's order of groups is
 * kept: the server's own would often cost a HelloRetryRequest, one more
 * round trip, when the client's key share is X25519. */
#define PRIORITIES                                                                                           \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-RSA:-DHE-RSA:-DHE-DSS:-CIPHER-ALL:+CHACHA20-POLY1305:"      \
    "+AES-128-GCM:+AES-256-GCM"

/* A certificate chain and its key, as loaded: immutable, freed with its last
 * reference (the pair in force holds one, a handshake copying it another). */
struct pair {
    _Atomic unsigned long refs;
    gnutls_x509_crt_t *crts; /* gnutls_malloc'd by gnutls_x509_crt_list_import2 */
    unsigned ncrts;
    gnutls_x509_privkey_t key;
    time_t not_after; /* the first certificate's */
};

static struct {
    pthread_mutex_t mu; /* covers reading `cur` and taking a reference, or swapping it */
    struct pair *cur;
    char *cert_path, *key_path;
    bool on;
    struct MHD_OptionItem opts[3];
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .opts = {{MHD_OPTION_END, 0, NULL}}};

static void pair_free(struct pair *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->ncrts; i++)
        gnutls_x509_crt_deinit(p->crts[i]);
    gnutls_free(p->crts);
    if (p->key)
        gnutls_x509_privkey_deinit(p->key); /* GnuTLS clears the key's numbers */
    free(p);
}

static void pair_release(struct pair *p)
{
    if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        pair_free(p);
}

static struct pair *pair_acquire(void)
{
    pthread_mutex_lock(&g.mu);
    struct pair *p = g.cur;
    if (p)
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&g.mu);
    return p;
}

/* The whole file, capped; the caller clears and frees d->data. */
static int read_pem(const char *path, const char *what, gnutls_datum_t *d, char *err, size_t errlen)
{
    d->data = NULL;
    d->size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s %s: cannot be opened", what, path);
        return -1;
    }
    unsigned char *buf = dg_xmalloc(PEM_MAX + 1);
    size_t n = fread(buf, 1, PEM_MAX + 1, f);
    fclose(f);
    d->data = buf;
    d->size = (unsigned) n;
    if (n > PEM_MAX) {
        snprintf(err, errlen, "%s %s: larger than 1 MiB", what, path);
        return -1;
    }
    if (n == 0) {
        snprintf(err, errlen, "%s %s: empty", what, path);
        return -1;
    }
    buf[n] = '\0';
    return 0;
}

static void datum_clear(gnutls_datum_t *d)
{
    if (d->data)
        explicit_bzero(d->data, d->size);
    free(d->data);
    d->data = NULL;
}

/* Loads and checks a pair: a chain of PEM certificates, a private key, and the
 * key belongs to the first certificate. */
static struct pair *pair_load(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    gnutls_datum_t cd = {0}, kd = {0};
    struct pair *p = dg_xcalloc(1, sizeof *p);
    atomic_init(&p->refs, 1);
    int rc;
    if (read_pem(cert_path, "--tls-cert", &cd, err, errlen) ||
        read_pem(key_path, "--tls-key", &kd, err, errlen))
        goto bad;
    unsigned n = CHAIN_MAX;
    rc = gnutls_x509_crt_list_import2(&p->crts, &n, &cd, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0 || n == 0) {
        snprintf(err, errlen, "--tls-cert %s: no PEM certificate in it (%s)", cert_path,
                 rc < 0 ? gnutls_strerror(rc) : "none found");
        goto bad;
    }
    p->ncrts = n;
    rc = gnutls_x509_privkey_init(&p->key);
    if (rc >= 0)
        rc = gnutls_x509_privkey_import2(p->key, &kd, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN);
    if (rc < 0) {
        /* GnuTLS's reason names the format, never the key's content. */
        snprintf(err, errlen, "--tls-key %s: not an unencrypted PEM private key (%s)", key_path,
                 gnutls_strerror(rc));
        goto bad;
    }
    unsigned char cid[64], kid[64];
    size_t cn = sizeof cid, kn = sizeof kid;
    if (gnutls_x509_crt_get_key_id(p->crts[0], 0, cid, &cn) < 0 ||
        gnutls_x509_privkey_get_key_id(p->key, 0, kid, &kn) < 0 || cn != kn || memcmp(cid, kid, cn) != 0) {
        snprintf(err, errlen, "--tls-key %s is not the key of the certificate in --tls-cert %s", key_path,
                 cert_path);
        goto bad;
    }
    p->not_after = gnutls_x509_crt_get_expiration_time(p->crts[0]);
    datum_clear(&cd);
    datum_clear(&kd);
    return p;
bad:
    datum_clear(&cd);
    datum_clear(&kd);
    pair_free(p);
    return NULL;
}

/* GnuTLS asks, in each handshake, for the certificate to send. It gets copies
 * of the pair in force, which it frees with the session
 * (GNUTLS_CERT_RETR_DEINIT_ALL): a reload may free the pair they came from at
 * any time after. */
static int retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info, gnutls_pcert_st **certs,
                    unsigned int *ncerts, gnutls_ocsp_data_st **ocsp, unsigned int *nocsp,
                    gnutls_privkey_t *privkey, unsigned int *flags)
{
    (void) session;
    (void) info;
    struct pair *p = pair_acquire();
    gnutls_pcert_st *pc = NULL;
    gnutls_privkey_t k = NULL;
    unsigned done = 0;
    int rc = -1;
    if (!p)
        goto out;
    pc = gnutls_malloc(p->ncrts * sizeof *pc);
    if (!pc)
        goto out;
    for (; done < p->ncrts; done++)
        if (gnutls_pcert_import_x509(&pc[done], p->crts[done], 0) < 0)
            goto out;
    if (gnutls_privkey_init(&k) < 0 || gnutls_privkey_import_x509(k, p->key, GNUTLS_PRIVKEY_IMPORT_COPY) < 0)
        goto out;
    *certs = pc;
    *ncerts = p->ncrts;
    *ocsp = NULL;
    *nocsp = 0;
    *privkey = k;
    *flags = GNUTLS_CERT_RETR_DEINIT_ALL;
    pc = NULL;
    k = NULL;
    rc = 0;
out:
    if (pc) {
        for (unsigned i = 0; i < done; i++)
            gnutls_pcert_deinit(&pc[i]);
        gnutls_free(pc);
    }
    if (k)
        gnutls_privkey_deinit(k);
    pair_release(p);
    return rc;
}

int gw_tls_init(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, errlen,
                 "this libmicrohttpd was built without TLS: --tls-cert and --tls-key cannot be "
                 "served (serve plain HTTP behind a TLS ingress instead)");
        return -1;
    }
    struct pair *p = pair_load(cert_path, key_path, err, errlen);
    if (!p)
        return -1;
    dg_mem_init();
    g.cert_path = dg_xstrdup(cert_path);
    g.key_path = dg_xstrdup(key_path);
    g.cur = p;
    g.on = true;
    g.opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *) PRIORITIES};
    g.opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK2, 0, (void *) retrieve};
    g.opts[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return 0;
}

int gw_tls_reload(char *err, size_t errlen)
{
    struct pair *p = pair_load(g.cert_path, g.key_path, err, errlen);
    if (!p)
        return -1;
    pthread_mutex_lock(&g.mu);
    struct pair *old = g.cur;
    g.cur = p;
    pthread_mutex_unlock(&g.mu);
    pair_release(old); /* freed now, or when the handshake copying it is done */
    return 0;
}

void gw_tls_listener(int fd)
{
    if (!g.on)
        return;
    /* A handshake writes small records in a row (a HelloRetryRequest then a
     * ChangeCipherSpec, then the server's flight); with Nagle on, each waits
     * for the peer's delayed ACK, 40 ms on Linux. libmicrohttpd turns Nagle off
     * only when it sends an answer; accepted sockets inherit this. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

long long gw_tls_not_after(void)
{
    struct pair *p = pair_acquire();
    long long t = p ? (long long) p->not_after : 0;
    pair_release(p);
    return t;
}

bool gw_tls_on(void)
{
    return g.on;
}

const struct MHD_OptionItem *gw_tls_options(void)
{
    return g.opts;
}

void gw_tls_cleanup(void)
{
    pthread_mutex_lock(&g.mu);
    struct pair *old = g.cur;
    g.cur = NULL;
    pthread_mutex_unlock(&g.mu);
    pair_release(old);
    free(g.cert_path);
    free(g.key_path);
    g.cert_path = g.key_path = NULL;
    g.on = false;
    g.opts[0] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
}
