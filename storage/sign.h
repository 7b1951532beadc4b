/* Shared Key signing for Azure Storage (HMAC-SHA256 with OpenSSL).
 *
 * The string-to-sign builders are separate from the HMAC so that tests can check
 * each against fixed inputs. All strings live in the arena.
 *
 * Canonicalised resource: "/" + account + the request's URL path exactly as sent
 * (so a path-style endpoint such as Azurite's repeats the account:
 * "/devstoreaccount1/devstoreaccount1/Tables").
 *   Table SharedKey / SharedKeyLite: + "?comp=V" when the query has comp.
 *   Blob and Queue SharedKey: + "\nname:v1,v2" for every query parameter, names
 *   lower-cased and sorted, values decoded and sorted. */
#ifndef AZ_SIGN_H
#define AZ_SIGN_H

#include "base/arena.h"

#include <stddef.h>

struct az_kv {
    const char *name;
    const char *value;
};

/* "VERB\nContent-MD5\nContent-Type\nDate\nCanonicalizedResource" */
char *az_sts_table(dg_arena *a, const char *verb, const char *content_md5, const char *content_type,
                   const char *date, const char *canon_resource);
/* "Date\nCanonicalizedResource" */
char *az_sts_table_lite(dg_arena *a, const char *date, const char *canon_resource);
/* The 2015-02-21+ Blob/Queue layout: twelve standard header lines (Content-Length
 * empty when 0), the x-ms-* headers canonicalised, then the resource. Headers are
 * looked up case-insensitively in hdrs; x-ms-date must be among them. */
char *az_sts_blobqueue(dg_arena *a, const char *verb, const struct az_kv *hdrs, size_t nhdrs,
                       const char *canon_resource);

/* canon for Table: "/" account path ["?comp=" v]. */
char *az_canon_table(dg_arena *a, const char *account, const char *path, const struct az_kv *query,
                     size_t nq);
/* canon for Blob/Queue: "/" account path + sorted "\nname:values" lines (values decoded). */
char *az_canon_blobqueue(dg_arena *a, const char *account, const char *path, const struct az_kv *query,
                         size_t nq);

/* base64(HMAC-SHA256(key, sts)). */
char *az_sign(dg_arena *a, const unsigned char *key, size_t keylen, const char *sts);

#endif
