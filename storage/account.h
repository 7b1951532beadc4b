/* Storage accounts from connection strings.
 *
 * Accepted forms (setting names are case-insensitive, values are not):
 *   UseDevelopmentStorage=true[;DevelopmentStorageProxyUri=http://host]
 *       Azurite's well-known account devstoreaccount1, path-style endpoints on
 *       ports 10000 (blob), 10001 (queue) and 10002 (table).
 *   DefaultEndpointsProtocol=https;AccountName=N;AccountKey=K[;EndpointSuffix=S]
 *       host-style endpoints https://N.blob.S and so on (S defaults to core.windows.net).
 *   BlobEndpoint=URL;QueueEndpoint=URL;TableEndpoint=URL
 *       explicit endpoints (each overrides the derived one); with an AccountKey
 *       they need an AccountName too, to sign.
 *   SharedAccessSignature=sv=...&sig=...
 *       a SAS token, appended to every request instead of SharedKey signing.
 * Errors name the setting at fault and never echo a value. */
#ifndef AZ_ACCOUNT_H
#define AZ_ACCOUNT_H

#include "base/err.h"

#include <stddef.h>

enum az_service { AZ_BLOB = 0, AZ_QUEUE = 1, AZ_TABLE = 2 };
#define AZ_SERVICES 3

#define AZ_MAX_KEY 128

typedef struct az_account {
    char *name;                    /* owned; NULL when only a SAS and endpoints were given */
    unsigned char key[AZ_MAX_KEY]; /* the decoded AccountKey */
    size_t keylen;                 /* 0: no key */
    char *sas;                     /* owned, without a leading '?'; NULL: none */
    char *endpoint[AZ_SERVICES]; /* owned, "scheme://host[:port][/path]" without a trailing '/'; NULL: none */
} az_account;

/* Parses s into *out (zeroed first). On failure writes a one-line reason into
 * err (which never contains a secret) and leaves *out empty. */
dg_err az_account_parse(const char *s, az_account *out, char *err, size_t errlen);
void az_account_free(az_account *a);
/* A deep copy of src into dst. */
void az_account_copy(az_account *dst, const az_account *src);

/* Azurite's well-known development account. */
#define AZ_DEV_ACCOUNT "devstoreaccount1"
#define AZ_DEV_KEY     "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

#endif
