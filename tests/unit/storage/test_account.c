/* storage/account.c: connection strings, good and bad. No error may echo a key. */
#include "storage/account.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

Test(account, development_storage)
{
    az_account a;
    char err[256];
    cr_assert_eq(az_account_parse("UseDevelopmentStorage=true", &a, err, sizeof err), DG_OK, "%s", err);
    cr_assert_str_eq(a.name, "devstoreaccount1");
    cr_assert_eq(a.keylen, 64);
    cr_assert_str_eq(a.endpoint[AZ_BLOB], "http://127.0.0.1:10000/devstoreaccount1");
    cr_assert_str_eq(a.endpoint[AZ_QUEUE], "http://127.0.0.1:10001/devstoreaccount1");
    cr_assert_str_eq(a.endpoint[AZ_TABLE], "http://127.0.0.1:10002/devstoreaccount1");
    az_account_free(&a);
}

Test(account, development_storage_proxy_and_case)
{
    az_account a;
    char err[256];
    cr_assert_eq(
        az_account_parse(" usedevelopmentstorage = TRUE ; DevelopmentStorageProxyUri=http://azurite:99/x", &a,
                         err, sizeof err),
        DG_OK, "%s", err);
    cr_assert_str_eq(a.endpoint[AZ_TABLE], "http://azurite:10002/devstoreaccount1");
    az_account_free(&a);
}

Test(account, host_style_from_name_and_key)
{
    az_account a;
    char err[256];
    cr_assert_eq(az_account_parse("DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey=" KEY
                                  ";EndpointSuffix=core.chinacloudapi.cn",
                                  &a, err, sizeof err),
                 DG_OK, "%s", err);
    cr_assert_str_eq(a.endpoint[AZ_BLOB], "https://myacct.blob.core.chinacloudapi.cn");
    cr_assert_str_eq(a.endpoint[AZ_TABLE], "https://myacct.table.core.chinacloudapi.cn");
    cr_assert_null(a.sas);
    az_account_free(&a);
}

Test(account, default_suffix_and_protocol)
{
    az_account a;
    char err[256];
    cr_assert_eq(az_account_parse("AccountName=x1;AccountKey=" KEY, &a, err, sizeof err), DG_OK, "%s", err);
    cr_assert_str_eq(a.endpoint[AZ_QUEUE], "https://x1.queue.core.windows.net");
    az_account_free(&a);
}

Test(account, explicit_endpoints_override)
{
    az_account a;
    char err[256];
    cr_assert_eq(az_account_parse(
                     "AccountName=devstoreaccount1;AccountKey=" KEY
                     ";TableEndpoint=http://127.0.0.1:1234/devstoreaccount1/;DefaultEndpointsProtocol=http",
                     &a, err, sizeof err),
                 DG_OK, "%s", err);
    cr_assert_str_eq(a.endpoint[AZ_TABLE], "http://127.0.0.1:1234/devstoreaccount1");
    cr_assert_str_eq(a.endpoint[AZ_BLOB], "http://devstoreaccount1.blob.core.windows.net");
    az_account_free(&a);
}

Test(account, sas_with_endpoints_only)
{
    az_account a;
    char err[256];
    cr_assert_eq(az_account_parse("BlobEndpoint=https://a.blob.core.windows.net;"
                                  "SharedAccessSignature=?sv=2020-08-04&ss=bqt&sig=abc%3D",
                                  &a, err, sizeof err),
                 DG_OK, "%s", err);
    cr_assert_str_eq(a.sas, "sv=2020-08-04&ss=bqt&sig=abc%3D");
    cr_assert_eq(a.keylen, 0);
    cr_assert_null(a.endpoint[AZ_TABLE]);
    az_account_free(&a);
}

static void expect_bad(const char *cs, const char *want)
{
    az_account a;
    char err[256] = "";
    cr_assert_eq(az_account_parse(cs, &a, err, sizeof err), DG_EINVAL, "accepted: %s", cs);
    cr_assert(strstr(err, want), "error '%s' lacks '%s'", err, want);
    cr_assert_null(strstr(err, "Eby8vdM02"), "error echoes the key: %s", err);
    cr_assert_null(strstr(err, "s3cr3t"), "error echoes a secret: %s", err);
    cr_assert_null(a.name);
}

Test(account, bad_strings)
{
    expect_bad("", "empty");
    expect_bad("AccountName=x", "needs AccountKey");
    expect_bad("AccountKey=" KEY, "needs AccountName");
    expect_bad("AccountName=x;AccountKey=s3cr3t!!", "AccountKey is not valid base64");
    expect_bad("AccountName=x;AccountKey=" KEY ";AccountName=y", "given twice");
    expect_bad("AccountName=x;AccountKey=" KEY ";Bogus=1", "unknown setting 'Bogus'");
    expect_bad("AccountName=x;AccountKey=" KEY ";s3cr3t", "is not of the form");
    expect_bad("UseDevelopmentStorage=false", "must be 'true'");
    expect_bad("UseDevelopmentStorage=true;AccountKey=" KEY, "takes no other setting");
    expect_bad("AccountName=x;AccountKey=" KEY ";TableEndpoint=ftp://h",
               "TableEndpoint is not an http(s) URL");
    expect_bad("AccountName=x;AccountKey=" KEY ";DefaultEndpointsProtocol=gopher", "must be http or https");
    expect_bad("AccountName=bad_name;AccountKey=" KEY, "AccountName may hold only");
    expect_bad("SharedAccessSignature=sv=1&s3cr3t=1", "no sig= part");
    expect_bad("AccountName=x;AccountKey=", "AccountKey has an empty value");
}

/* Found by tests/fuzz (fuzz_account): the suffix became part of every URL
 * unchecked, so a blank, '/', '?' or ':' in it made endpoints that are not the
 * account's, and a long name or proxy was cut silently at 512 bytes. */
Test(account, suffix_is_a_host_name_and_nothing_is_cut)
{
    expect_bad("AccountName=x;AccountKey=" KEY ";EndpointSuffix=core.windows .net",
               "EndpointSuffix is not a host name");
    expect_bad("AccountName=x;AccountKey=" KEY ";EndpointSuffix=evil.example/x?",
               "EndpointSuffix is not a host name");
    expect_bad("AccountName=x;AccountKey=" KEY ";EndpointSuffix=h:1", "EndpointSuffix is not a host name");
    expect_bad("AccountName=x;AccountKey=" KEY ";QueueEndpoint=https://a.queue\tb",
               "QueueEndpoint is not an http(s) URL");
    char s[1024];
    snprintf(s, sizeof s, "AccountName=%0500d;AccountKey=%s", 0, KEY);
    expect_bad(s, "too long a host name");
    snprintf(s, sizeof s, "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://%0600d", 0);
    expect_bad(s, "DevelopmentStorageProxyUri is too long");
}

/* Found by tests/fuzz (fuzz_account): only one leading '?' of a SAS was
 * dropped, so "??sv=..." made every URL "...??sv=...". */
Test(account, sas_without_its_question_marks)
{
    az_account a;
    char err[256];
    cr_assert_eq(
        az_account_parse("TableEndpoint=http://t;SharedAccessSignature=???sv=1&sig=abc", &a, err, sizeof err),
        DG_OK, "%s", err);
    cr_assert_str_eq(a.sas, "sv=1&sig=abc");
    az_account_free(&a);
    expect_bad("TableEndpoint=http://t;SharedAccessSignature=???", "no sig= part");
}

/* An IPv6 proxy keeps its address; only a port after the bracket is replaced. */
Test(account, development_storage_ipv6_proxy)
{
    az_account a;
    char err[256];
    cr_assert_eq(az_account_parse("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://[::1]:8080",
                                  &a, err, sizeof err),
                 DG_OK, "%s", err);
    cr_assert_str_eq(a.endpoint[AZ_QUEUE], "http://[::1]:10001/devstoreaccount1");
    az_account_free(&a);
}
