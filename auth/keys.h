/* System keys for the management API.
 *
 * A key file is JSON:
 *   {
 *     "masterKey": "..." | ["...", "..."],             admin: passes every route
 *     "systemKeys": { "durabletask_extension": "..." | ["...", ...],
 *                     "<other>_extension": "..." },    only durabletask_extension passes
 *     "readOnlyKeys": ["..."]                          reads only (a dashboard's key)
 *   }
 * Arrays hold several values at once, so a key can be rotated without downtime:
 * add the new value, move clients, remove the old one. Keys are compared in
 * constant time (SHA-256 of each side, then CRYPTO_memcmp against every known
 * key, no early exit) and never logged or echoed. */
#ifndef AUTH_KEYS_H
#define AUTH_KEYS_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct auth_keys auth_keys;

enum auth_scope { AUTH_READ, AUTH_WRITE };
enum auth_result {
    AUTH_OK,
    AUTH_UNAUTHORIZED, /* 401: no key, or a key we do not know */
    AUTH_FORBIDDEN,    /* 403: a known key without the needed scope */
};

/* Parses a key file's text. On failure err gets a reason (never a key). */
auth_keys *auth_keys_parse(const char *json, size_t n, char *err, size_t errlen);
/* Reads and parses a file. */
auth_keys *auth_keys_load(const char *path, char *err, size_t errlen);
void auth_keys_destroy(auth_keys *k);
/* How many key values are known (for the start-up log line). */
size_t auth_keys_count(const auth_keys *k);

/* presented may be NULL (no key sent). */
enum auth_result auth_check(const auth_keys *k, const char *presented, size_t n, enum auth_scope need);

#endif
