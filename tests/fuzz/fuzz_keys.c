/* libFuzzer target: the key file (auth_keys_parse, auth/keys.c). Every key the
 * file names must then pass auth_check with the scope its place gives it
 * (masterKey and systemKeys.durabletask_extension: everything, readOnlyKeys:
 * reads, other system keys: nothing), a near miss of it must not, and a
 * refusal's reason must be one of the fixed messages, never a key. */
#include "auth/keys.h"
#include "base/json.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum level { ADMIN, EXTENSION, READ, OTHER, NONE }; /* best first */

struct key {
    const char *s;
    enum level l;
};

struct keys {
    struct key k[1024];
    size_t n;
    bool full; /* more keys than k holds: the levels are not known, nothing is checked */
};

static void collect(struct keys *ks, const cJSON *v, enum level l)
{
    if (cJSON_IsArray(v))
        for (const cJSON *it = v->child; it; it = it->next)
            collect(ks, it, l);
    else if (cJSON_IsString(v) && ks->n < sizeof ks->k / sizeof ks->k[0])
        ks->k[ks->n++] = (struct key){v->valuestring, l};
    else if (cJSON_IsString(v))
        ks->full = true;
}

static enum level level_of(const struct keys *ks, const char *s)
{
    enum level best = NONE;
    for (size_t i = 0; i < ks->n; i++)
        if (strcmp(ks->k[i].s, s) == 0 && ks->k[i].l < best)
            best = ks->k[i].l;
    return best;
}

static void check(const auth_keys *k, const struct keys *ks, const char *s)
{
    enum level l = level_of(ks, s);
    enum auth_result r = auth_check(k, s, strlen(s), AUTH_READ);
    enum auth_result w = auth_check(k, s, strlen(s), AUTH_WRITE);
    switch (l) {
    case ADMIN:
    case EXTENSION:
        if (r != AUTH_OK || w != AUTH_OK)
            abort();
        break;
    case READ:
        if (r != AUTH_OK || w != AUTH_FORBIDDEN)
            abort();
        break;
    case OTHER:
        if (r != AUTH_FORBIDDEN || w != AUTH_FORBIDDEN)
            abort();
        break;
    case NONE:
        if (r != AUTH_UNAUTHORIZED || w != AUTH_UNAUTHORIZED)
            abort();
        break;
    }
}

static const char *const reasons[] = {
    "not a JSON object",
    "systemKeys must be an object of name: key",
    "unknown member (expected masterKey, systemKeys, readOnlyKeys)",
    "holds no key",
    "every key must be a string or an array of strings",
    "a key is shorter than 16 characters",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    auth_keys *k = auth_keys_parse((const char *) data, size, err, sizeof err);
    if (!k) {
        int known = 0;
        for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
            known |= strncmp(err, "key file: ", 10) == 0 && strcmp(err + 10, reasons[i]) == 0;
        if (!known)
            abort();
        return 0;
    }
    cJSON *root = dg_json_parse((const char *) data, size);
    if (!cJSON_IsObject(root) || auth_keys_count(k) == 0)
        abort();
    static struct keys ks;
    ks.n = 0;
    ks.full = false;
    for (const cJSON *it = root->child; it; it = it->next) {
        if (strcmp(it->string, "masterKey") == 0)
            collect(&ks, it, ADMIN);
        else if (strcmp(it->string, "readOnlyKeys") == 0)
            collect(&ks, it, READ);
        else if (strcmp(it->string, "systemKeys") == 0)
            for (const cJSON *s = it->child; s; s = s->next)
                collect(&ks, s, strcasecmp(s->string, "durabletask_extension") == 0 ? EXTENSION : OTHER);
    }
    if (ks.n == 0)
        abort();
    char miss[512];
    for (size_t i = 0; i < ks.n && !ks.full; i++) {
        check(k, &ks, ks.k[i].s);
        size_t n = strlen(ks.k[i].s);
        if (n < sizeof miss) { /* the same key with its last byte changed, and one byte short */
            memcpy(miss, ks.k[i].s, n + 1);
            miss[n - 1] = (char) (miss[n - 1] == 'x' ? 'y' : 'x');
            check(k, &ks, miss);
            miss[n - 1] = '\0';
            check(k, &ks, miss);
        }
    }
    if (auth_check(k, NULL, 0, AUTH_READ) != AUTH_UNAUTHORIZED ||
        auth_check(k, "", 0, AUTH_READ) != AUTH_UNAUTHORIZED)
        abort();
    cJSON_Delete(root);
    auth_keys_destroy(k);
    return 0;
}
