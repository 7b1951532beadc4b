/* For integration tests run under tests/support/with-azurite.sh. */
#ifndef DG_TEST_AZURITE_ENV_H
#define DG_TEST_AZURITE_ENV_H

#include "storage/client.h"

/* A client on the test's Azurite (from AZURITE_CONNECTION_STRING); aborts the
 * test with a clear message when the variable is missing. key_override, when
 * not NULL, replaces the account key (base64) to provoke auth failures. */
az_client *test_azurite_client(const char *key_override, const struct az_client_opts *opts);
/* A loopback TCP port nothing listens on right now (for a gateway to take). */
int test_free_port(void);
/* A fresh, valid table/queue/container name with the given prefix. */
const char *test_unique_name(dg_arena *a, const char *prefix);

#endif
