/* A loopback TCP proxy in front of Azurite's Table endpoint that records what
 * the storage client sends, so a test can check the requests a route makes
 * (the columns it asks for, the order of its writes). Bytes are forwarded as
 * they come, both ways; what clients send is kept per connection, each chunk
 * numbered in the order it arrived across all connections. */
#ifndef DG_TEST_REC_PROXY_H
#define DG_TEST_REC_PROXY_H

#include "storage/client.h"

#include <stddef.h>

struct rec_proxy;

/* Listens on a free loopback port, forwarding to Azurite's Table port (from
 * AZURITE_CONNECTION_STRING). Asserts success. */
struct rec_proxy *rec_proxy_start(void);
void rec_proxy_stop(struct rec_proxy *p);
/* A storage client whose Table calls go through the proxy (blobs and queues
 * go straight to Azurite). Destroy it before stopping the proxy. */
az_client *rec_proxy_client(struct rec_proxy *p);
/* Forgets what was recorded so far. */
void rec_proxy_clear(struct rec_proxy *p);
/* The arrival numbers of the chunks in which each occurrence of needle starts,
 * in stream order per connection; at most max; returns how many were found. */
size_t rec_proxy_find(struct rec_proxy *p, const char *needle, unsigned long *seq, size_t max);

/* Everything recorded, the connections one after another (free() it). */
char *rec_proxy_dump(struct rec_proxy *p);

#endif
