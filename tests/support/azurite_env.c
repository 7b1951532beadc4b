#include "tests/support/azurite_env.h"

#include "base/rand.h"

#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

az_client *test_azurite_client(const char *key_override, const struct az_client_opts *opts)
{
    const char *cs = getenv("AZURITE_CONNECTION_STRING");
    if (!cs)
        cr_assert_fail("AZURITE_CONNECTION_STRING is not set: run under tests/support/with-azurite.sh");
    char buf[2048];
    if (key_override) {
        const char *k = strstr(cs, "AccountKey=");
        const char *end = k ? strchr(k, ';') : NULL;
        cr_assert(k && end);
        snprintf(buf, sizeof buf, "%.*sAccountKey=%s%s", (int) (k - cs), cs, key_override, end);
        cs = buf;
    }
    az_account acct;
    char err[256];
    cr_assert_eq(az_account_parse(cs, &acct, err, sizeof err), DG_OK, "%s", err);
    az_client *c = az_client_create(&acct, opts);
    az_account_free(&acct);
    return c;
}

const char *test_unique_name(dg_arena *a, const char *prefix)
{
    unsigned char r[6];
    dg_random_bytes(r, sizeof r);
    return dg_arena_printf(a, "%s%02x%02x%02x%02x%02x%02x", prefix, r[0], r[1], r[2], r[3], r[4], r[5]);
}

int test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
    socklen_t l = sizeof sa;
    getsockname(fd, (struct sockaddr *) &sa, &l);
    close(fd);
    return ntohs(sa.sin_port);
}
