/* libFuzzer target: connection strings (az_account_parse, storage/account.c),
 * as the configuration or the environment gives them. What is accepted must
 * be usable as it stands (absolute http(s) endpoints with a host and nothing
 * a URL would have to escape, a name that signs, a SAS with a signature); what
 * is refused gets a reason that echoes no value: no byte outside the fixed
 * messages' alphabet, where a key's '+' or '/' or a URL's '/' would show. */
#include "storage/account.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void check_endpoint(const char *ep)
{
    const char *host;
    if (strncasecmp(ep, "http://", 7) == 0)
        host = ep + 7;
    else if (strncasecmp(ep, "https://", 8) == 0)
        host = ep + 8;
    else
        abort();
    size_t n = strlen(ep);
    if (!*host || *host == '/' || ep[n - 1] == '/' || strpbrk(ep, " ?#\t\r\n"))
        abort();
}

static void check_account(const az_account *a)
{
    int any = 0;
    for (int i = 0; i < AZ_SERVICES; i++)
        if (a->endpoint[i]) {
            check_endpoint(a->endpoint[i]);
            any = 1;
        }
    if (!any || a->keylen > AZ_MAX_KEY || (a->keylen && !a->name) || (!a->keylen && !a->sas))
        abort();
    if (a->name)
        for (const char *p = a->name; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  *p == '-'))
                abort();
    if (a->sas && (a->sas[0] == '?' || !strstr(a->sas, "sig=")))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0'; /* an environment variable or a configuration string stops at NUL */
    az_account a;
    char err[256] = "";
    if (az_account_parse(s, &a, err, sizeof err) == DG_OK) {
        check_account(&a);
        az_account b;
        az_account_copy(&b, &a);
        check_account(&b);
        if (b.keylen != a.keylen || memcmp(b.key, a.key, a.keylen) != 0)
            abort();
        az_account_free(&b);
        az_account_free(&a);
    } else {
        const unsigned char *z = (const unsigned char *) &a;
        for (size_t i = 0; i < sizeof a; i++)
            if (z[i])
                abort(); /* refused: nothing kept, the key not either */
        if (strncmp(err, "connection string: ", 19) != 0)
            abort();
        for (const unsigned char *p = (const unsigned char *) err; *p; p++)
            if (*p < 0x20 || *p >= 0x7F || *p == '+' || *p == '/')
                abort();
    }
    free(s);
    return 0;
}
