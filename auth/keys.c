#include "auth/keys.h"

#include "base/json.h"
#include "base/mem.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEYFILE_MAX (256 * 1024)
#define KEY_MIN     16 /* shorter keys are refused: they can be guessed */

enum level { L_ADMIN, L_EXTENSION, L_READ, L_OTHER };

struct entry {
    unsigned char hash[SHA256_DIGEST_LENGTH];
    enum level level;
};

/* One parsed file: immutable once made, freed with its last reference. */
struct auth_keyset {
    _Atomic unsigned long refs;
    struct entry *e;
    size_t n, cap;
};

/* The set in force. The lock covers only reading `cur` and taking a
 * reference (or swapping it): a few instructions, never a wait, so checks on
 * every event loop go through it without contention worth measuring; the
 * check itself runs outside it, on the referenced set. */
struct auth_keys {
    pthread_mutex_t mu;
    auth_keyset *cur;
};

static void fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "key file: %s", msg);
}

static int add(auth_keyset *k, const cJSON *v, enum level level, char *err, size_t errlen)
{
    if (cJSON_IsArray(v)) {
        for (const cJSON *it = v->child; it; it = it->next)
            if (add(k, it, level, err, errlen))
                return -1;
        return 0;
    }
    if (!cJSON_IsString(v)) {
        fail(err, errlen, "every key must be a string or an array of strings");
        return -1;
    }
    size_t n = strlen(v->valuestring);
    if (n < KEY_MIN) {
        fail(err, errlen, "a key is shorter than 16 characters");
        return -1;
    }
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 8;
        k->e = dg_xrealloc(k->e, k->cap * sizeof *k->e);
    }
    SHA256((const unsigned char *) v->valuestring, n, k->e[k->n].hash);
    k->e[k->n].level = level;
    k->n++;
    return 0;
}

static void set_free(auth_keyset *k)
{
    if (!k)
        return;
    if (k->e)
        explicit_bzero(k->e, k->cap * sizeof *k->e);
    free(k->e);
    free(k);
}

static auth_keyset *set_parse(const char *json, size_t n, char *err, size_t errlen)
{
    dg_mem_init();
    auth_keyset *k = dg_xcalloc(1, sizeof *k);
    atomic_init(&k->refs, 1);
    cJSON *root = dg_json_parse(json, n);
    if (!cJSON_IsObject(root)) {
        fail(err, errlen, "not a JSON object");
        goto bad;
    }
    for (const cJSON *it = root->child; it; it = it->next) {
        if (strcmp(it->string, "masterKey") == 0) {
            if (add(k, it, L_ADMIN, err, errlen))
                goto bad;
        } else if (strcmp(it->string, "readOnlyKeys") == 0) {
            if (add(k, it, L_READ, err, errlen))
                goto bad;
        } else if (strcmp(it->string, "systemKeys") == 0) {
            if (!cJSON_IsObject(it)) {
                fail(err, errlen, "systemKeys must be an object of name: key");
                goto bad;
            }
            for (const cJSON *s = it->child; s; s = s->next) {
                enum level l = strcasecmp(s->string, "durabletask_extension") == 0 ? L_EXTENSION : L_OTHER;
                if (add(k, s, l, err, errlen))
                    goto bad;
            }
        } else {
            fail(err, errlen, "unknown member (expected masterKey, systemKeys, readOnlyKeys)");
            goto bad;
        }
    }
    if (k->n == 0) {
        fail(err, errlen, "holds no key");
        goto bad;
    }
    cJSON_Delete(root);
    return k;
bad:
    cJSON_Delete(root);
    set_free(k);
    return NULL;
}

static auth_keyset *set_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(err, errlen, "cannot be opened");
        return NULL;
    }
    char *buf = dg_xmalloc(KEYFILE_MAX + 1);
    size_t n = fread(buf, 1, KEYFILE_MAX + 1, f);
    fclose(f);
    auth_keyset *k = NULL;
    if (n > KEYFILE_MAX)
        fail(err, errlen, "larger than 256 KiB");
    else
        k = set_parse(buf, n, err, errlen);
    explicit_bzero(buf, n);
    free(buf);
    return k;
}

static auth_keys *holder(auth_keyset *set)
{
    if (!set)
        return NULL;
    auth_keys *k = dg_xcalloc(1, sizeof *k);
    pthread_mutex_init(&k->mu, NULL);
    k->cur = set;
    return k;
}

auth_keys *auth_keys_parse(const char *json, size_t n, char *err, size_t errlen)
{
    return holder(set_parse(json, n, err, errlen));
}

auth_keys *auth_keys_load(const char *path, char *err, size_t errlen)
{
    return holder(set_load(path, err, errlen));
}

void auth_keys_destroy(auth_keys *k)
{
    if (!k)
        return;
    auth_keyset_release(k->cur);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

/* The lock is the holder's own bookkeeping, not its value: taking it in a
 * const function changes nothing a caller can see. */
const auth_keyset *auth_keys_acquire(const auth_keys *k)
{
    auth_keys *m = (auth_keys *) k;
    pthread_mutex_lock(&m->mu);
    auth_keyset *set = m->cur;
    atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&m->mu);
    return set;
}

void auth_keyset_release(const auth_keyset *set)
{
    auth_keyset *k = (auth_keyset *) set;
    if (k && atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1)
        set_free(k);
}

static void swap_in(auth_keys *k, auth_keyset *set)
{
    pthread_mutex_lock(&k->mu);
    auth_keyset *old = k->cur;
    k->cur = set;
    pthread_mutex_unlock(&k->mu);
    auth_keyset_release(old); /* freed now, or by the last check still using it */
}

int auth_keys_replace(auth_keys *k, const char *json, size_t n, char *err, size_t errlen)
{
    auth_keyset *set = set_parse(json, n, err, errlen);
    if (!set)
        return -1;
    swap_in(k, set);
    return 0;
}

int auth_keys_reload(auth_keys *k, const char *path, char *err, size_t errlen)
{
    auth_keyset *set = set_load(path, err, errlen);
    if (!set)
        return -1;
    swap_in(k, set);
    return 0;
}

size_t auth_keys_count(const auth_keys *k)
{
    const auth_keyset *set = auth_keys_acquire(k);
    size_t n = set->n;
    auth_keyset_release(set);
    return n;
}

enum auth_result auth_check(const auth_keys *k, const char *presented, size_t n, enum auth_scope need)
{
    const auth_keyset *set = auth_keys_acquire(k);
    enum auth_result r = auth_keyset_check(set, presented, n, need);
    auth_keyset_release(set);
    return r;
}

enum auth_result auth_keyset_check(const auth_keyset *k, const char *presented, size_t n,
                                   enum auth_scope need)
{
    if (!presented || n == 0)
        return AUTH_UNAUTHORIZED;
    unsigned char h[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *) presented, n, h);
    /* Look at every entry, whatever matched, so timing says nothing about which. */
    int found = -1;
    for (size_t i = 0; i < k->n; i++) {
        int eq = CRYPTO_memcmp(h, k->e[i].hash, sizeof h) == 0;
        int best = found < 0 || k->e[i].level < (enum level) found;
        found = eq && best ? (int) k->e[i].level : found;
    }
    if (found < 0)
        return AUTH_UNAUTHORIZED;
    switch ((enum level) found) {
    case L_ADMIN:
    case L_EXTENSION:
        return AUTH_OK;
    case L_READ:
        return need == AUTH_READ ? AUTH_OK : AUTH_FORBIDDEN;
    case L_OTHER:
    default:
        return AUTH_FORBIDDEN;
    }
}
