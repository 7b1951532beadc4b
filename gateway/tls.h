/* HTTPS: libmicrohttpd's GnuTLS support, TLS 1.2 and 1.3 only, with the
 * certificate and key read from files and replaceable while serving
 * (docs/reload.md). Each handshake takes the pair in force through GnuTLS's
 * certificate callback, so a reload reaches the next handshake and leaves
 * open connections alone. That callback has no user pointer: the state is the
 * process's, set up once by main before the server starts. */
#ifndef GW_TLS_H
#define GW_TLS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* Reads and checks the pair (PEM: the certificate, then any intermediates;
 * an unencrypted private key that belongs to the first certificate). 0, or
 * -1 with a reason in err (which names neither file's content). Fails too if
 * libmicrohttpd was built without TLS. Call once, before gw_tls_options. */
int gw_tls_init(const char *cert_path, const char *key_path, char *err, size_t errlen);
/* Reads both files again; a pair that does not load or match leaves the one
 * in force (-1 with a reason). Safe while handshakes run on other threads. */
int gw_tls_reload(char *err, size_t errlen);
/* Readies the listening socket for TLS (no Nagle delay in handshakes); nothing when TLS is off. */
void gw_tls_listener(int fd);
/* The notAfter of the certificate in force (seconds since the epoch); 0 when TLS is off. */
long long gw_tls_not_after(void);
/* True after a successful gw_tls_init. */
bool gw_tls_on(void);
/* Daemon options for MHD_OPTION_ARRAY (the protocol versions and the
 * certificate callback; MHD_USE_TLS goes with them), or a lone MHD_OPTION_END
 * when TLS is off. Static storage. */
const struct MHD_OptionItem *gw_tls_options(void);
/* After the server stopped. */
void gw_tls_cleanup(void);

#endif
