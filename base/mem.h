/* Allocation policy, written down once: running out of memory aborts the
 * process with a message (redis zmalloc, h2o h2o_fatal). Nothing in the gateway
 * checks malloc for NULL; instead every buffer fed from the network has a cap
 * (base/buf.h), so a hostile client cannot drive us into this path. */
#ifndef DG_MEM_H
#define DG_MEM_H

#include <stddef.h>

void *dg_xmalloc(size_t n);
void *dg_xcalloc(size_t count, size_t n);
void *dg_xrealloc(void *p, size_t n);
char *dg_xstrdup(const char *s);
char *dg_xstrndup(const char *s, size_t n);
_Noreturn void dg_fatal(const char *what);
/* Routes the libraries' allocations through the functions above, so running
 * out of memory aborts there too: cJSON (cJSON_InitHooks) and libxml2
 * (xmlMemSetup, then xmlInitParser, as a threaded program should). Once per
 * process (pthread_once), before the first parse; idempotent and cheap, so
 * every entry point calls it: the configuration (gw_config_load), connection
 * strings and storage clients (az_account_parse, az_account_copy), the key
 * file (auth_keys_parse) and the router (rt_dispatch). */
void dg_mem_init(void);

#endif
