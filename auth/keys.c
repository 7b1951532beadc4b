#include "auth/keys.h"

#include "base/json.h"
#include "base/mem.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
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

struct auth_keys {
    struct entry *e;
    size_t n, cap;
};

static void fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "key file: %s", msg);
}

static int add(auth_keys *k, const cJSON *v, enum level level, char *err, size_t errlen)
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

auth_keys *auth_keys_parse(const char *json, size_t n, char *err, size_t errlen)
{
    dg_mem_init();
    auth_keys *k = dg_xcalloc(1, sizeof *k);
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
    auth_keys_destroy(k);
    return NULL;
}

auth_keys *auth_keys_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(err, errlen, "cannot be opened");
        return NULL;
    }
    char *buf = dg_xmalloc(KEYFILE_MAX + 1);
    size_t n = fread(buf, 1, KEYFILE_MAX + 1, f);
    fclose(f);
    auth_keys *k = NULL;
    if (n > KEYFILE_MAX)
        fail(err, errlen, "larger than 256 KiB");
    else
        k = auth_keys_parse(buf, n, err, errlen);
    explicit_bzero(buf, n);
    free(buf);
    return k;
}

void auth_keys_destroy(auth_keys *k)
{
    if (!k)
        return;
    if (k->e)
        explicit_bzero(k->e, k->cap * sizeof *k->e);
    free(k->e);
    free(k);
}

size_t auth_keys_count(const auth_keys *k)
{
    return k->n;
}

enum auth_result auth_check(const auth_keys *k, const char *presented, size_t n, enum auth_scope need)
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
