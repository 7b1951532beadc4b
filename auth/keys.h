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
 * key, no early exit) and never logged or echoed.
 *
 * An auth_keys is the key set in force, which a reload replaces while requests
 * run on other threads (docs/reload.md). A set, once made, never changes: a
 * caller that keeps one across a wait takes a reference (auth_keys_acquire)
 * and gives it back; a replaced set is freed when its last reference goes. */
#ifndef AUTH_KEYS_H
#define AUTH_KEYS_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct auth_keys auth_keys;
typedef struct auth_keyset auth_keyset;

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
/* Call only once no other thread uses k; sets still referenced live on until released. */
void auth_keys_destroy(auth_keys *k);
/* How many key values the set in force holds (for the log lines). */
size_t auth_keys_count(const auth_keys *k);

/* Puts the keys of a file's text (or of the file) in force, from the next
 * check on. A text that does not parse or holds no valid key changes nothing:
 * -1 with a reason in err (never a key). Safe while other threads check. */
int auth_keys_replace(auth_keys *k, const char *json, size_t n, char *err, size_t errlen);
int auth_keys_reload(auth_keys *k, const char *path, char *err, size_t errlen);

/* presented may be NULL (no key sent). Checks against the set in force. */
enum auth_result auth_check(const auth_keys *k, const char *presented, size_t n, enum auth_scope need);

/* The set in force, referenced: valid until auth_keyset_release, whatever
 * replaces it meanwhile. */
const auth_keyset *auth_keys_acquire(const auth_keys *k);
void auth_keyset_release(const auth_keyset *set);
enum auth_result auth_keyset_check(const auth_keyset *set, const char *presented, size_t n,
                                   enum auth_scope need);

#endif
