#include "storage/account.h"

#include "base/b64.h"
#include "base/mem.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum setting {
    S_DEV,
    S_PROXY,
    S_PROTOCOL,
    S_NAME,
    S_KEY,
    S_SUFFIX,
    S_BLOB,
    S_QUEUE,
    S_TABLE,
    S_SAS,
    S_FILE, /* FileEndpoint: accepted and ignored, a task hub does not use Azure Files */
    S_COUNT
};

static const char *const setting_names[S_COUNT] = {
    "UseDevelopmentStorage",
    "DevelopmentStorageProxyUri",
    "DefaultEndpointsProtocol",
    "AccountName",
    "AccountKey",
    "EndpointSuffix",
    "BlobEndpoint",
    "QueueEndpoint",
    "TableEndpoint",
    "SharedAccessSignature",
    "FileEndpoint",
};

static void fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    int n = snprintf(err, errlen, "connection string: ");
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t) n < errlen)
        vsnprintf(err + n, errlen - (size_t) n, fmt, ap);
    va_end(ap);
}

void az_account_free(az_account *a)
{
    free(a->name);
    free(a->sas);
    for (int i = 0; i < AZ_SERVICES; i++)
        free(a->endpoint[i]);
    /* The key is a secret: do not leave it in freed memory. */
    memset(a, 0, sizeof *a);
}

void az_account_copy(az_account *dst, const az_account *src)
{
    dg_mem_init(); /* az_client_create copies its account first */
    memset(dst, 0, sizeof *dst);
    dst->name = src->name ? dg_xstrdup(src->name) : NULL;
    dst->sas = src->sas ? dg_xstrdup(src->sas) : NULL;
    memcpy(dst->key, src->key, src->keylen);
    dst->keylen = src->keylen;
    for (int i = 0; i < AZ_SERVICES; i++)
        dst->endpoint[i] = src->endpoint[i] ? dg_xstrdup(src->endpoint[i]) : NULL;
}

/* An endpoint must be an absolute http(s) URL with a host. Stored without trailing '/'. */
static char *endpoint_dup(const char *v)
{
    size_t n = strlen(v);
    const char *host;
    if (strncasecmp(v, "http://", 7) == 0)
        host = v + 7;
    else if (strncasecmp(v, "https://", 8) == 0)
        host = v + 8;
    else
        return NULL;
    if (!*host || *host == '/' || strpbrk(v, "?#"))
        return NULL;
    for (const unsigned char *p = (const unsigned char *) v; *p; p++)
        if (*p <= ' ' || *p == 0x7F) /* a blank or control byte is no part of a URL */
            return NULL;
    while (n && v[n - 1] == '/')
        n--;
    return dg_xstrndup(v, n);
}

/* EndpointSuffix becomes the end of a host name: letters, digits, '-' and
 * '.', nothing a URL would read as a port, a path, a query or a blank. */
static bool host_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-' || s[i] == '.'))
            return false;
    return true;
}

dg_err az_account_parse(const char *s, az_account *out, char *err, size_t errlen)
{
    static const char *const svc_host[AZ_SERVICES] = {"blob", "queue", "table"};
    static const int dev_port[AZ_SERVICES] = {10000, 10001, 10002};
    dg_mem_init();
    char *copy = NULL;
    const char *val[S_COUNT] = {0};
    dg_err rc = DG_EINVAL;

    memset(out, 0, sizeof *out);
    if (!s || !*s) {
        fail(err, errlen, "empty");
        goto out;
    }
    copy = dg_xstrdup(s);
    int segno = 0;
    for (char *save = NULL, *seg = strtok_r(copy, ";", &save); seg; seg = strtok_r(NULL, ";", &save)) {
        segno++;
        while (*seg == ' ' || *seg == '\t' || *seg == '\r' || *seg == '\n')
            seg++;
        if (!*seg)
            continue;
        char *eq = strchr(seg, '=');
        if (!eq) {
            fail(err, errlen, "part %d is not of the form Name=Value", segno);
            goto out;
        }
        *eq = '\0';
        char *name = seg, *value = eq + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        size_t nl = strlen(name);
        while (nl && (name[nl - 1] == ' ' || name[nl - 1] == '\t'))
            name[--nl] = '\0';
        size_t vl = strlen(value);
        while (vl && (value[vl - 1] == ' ' || value[vl - 1] == '\t' || value[vl - 1] == '\r' ||
                      value[vl - 1] == '\n'))
            value[--vl] = '\0';
        int which = -1;
        for (int i = 0; i < S_COUNT; i++)
            if (strcasecmp(name, setting_names[i]) == 0)
                which = i;
        if (which < 0) {
            /* The name may be anything the user typed; print it only if it looks like a name. */
            int printable = nl > 0 && nl < 40;
            for (size_t i = 0; printable && i < nl; i++)
                printable = (name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= 'a' && name[i] <= 'z');
            if (printable)
                fail(err, errlen, "unknown setting '%s'", name);
            else
                fail(err, errlen, "part %d has an unknown setting name", segno);
            goto out;
        }
        if (val[which]) {
            fail(err, errlen, "%s is given twice", setting_names[which]);
            goto out;
        }
        if (!*value) {
            fail(err, errlen, "%s has an empty value", setting_names[which]);
            goto out;
        }
        val[which] = value;
    }

    if (val[S_DEV]) {
        if (strcasecmp(val[S_DEV], "true") != 0) {
            fail(err, errlen, "UseDevelopmentStorage must be 'true'");
            goto out;
        }
        if (val[S_NAME] || val[S_KEY] || val[S_SAS] || val[S_BLOB] || val[S_QUEUE] || val[S_TABLE] ||
            val[S_SUFFIX] || val[S_PROTOCOL]) {
            fail(err, errlen,
                 "UseDevelopmentStorage=true takes no other setting but DevelopmentStorageProxyUri");
            goto out;
        }
        const char *proxy = val[S_PROXY] ? val[S_PROXY] : "http://127.0.0.1";
        char *base = endpoint_dup(proxy);
        if (!base) {
            fail(err, errlen, "DevelopmentStorageProxyUri is not an http(s) URL");
            goto out;
        }
        /* A proxy URI's own port, if any, is replaced by each service's port. */
        char *hoststart = strstr(base, "://") + 3;
        char *bracket = *hoststart == '[' ? strchr(hoststart, ']') : NULL; /* an IPv6 literal's colons stay */
        char *colon = strchr(bracket ? bracket : hoststart, ':');
        if (colon)
            *colon = '\0';
        char *slash = strchr(hoststart, '/');
        if (slash)
            *slash = '\0';
        for (int i = 0; i < AZ_SERVICES; i++) {
            char ep[512];
            int n = snprintf(ep, sizeof ep, "%s:%d/%s", base, dev_port[i], AZ_DEV_ACCOUNT);
            if (n < 0 || (size_t) n >= sizeof ep) {
                free(base);
                fail(err, errlen, "DevelopmentStorageProxyUri is too long");
                goto out;
            }
            out->endpoint[i] = dg_xstrdup(ep);
        }
        free(base);
        out->name = dg_xstrdup(AZ_DEV_ACCOUNT);
        dg_b64_decode_to(AZ_DEV_KEY, strlen(AZ_DEV_KEY), out->key, sizeof out->key, &out->keylen);
        rc = DG_OK;
        goto out;
    }
    if (val[S_PROXY]) {
        fail(err, errlen, "DevelopmentStorageProxyUri needs UseDevelopmentStorage=true");
        goto out;
    }

    const char *proto = "https";
    if (val[S_PROTOCOL]) {
        if (strcasecmp(val[S_PROTOCOL], "https") == 0)
            proto = "https";
        else if (strcasecmp(val[S_PROTOCOL], "http") == 0)
            proto = "http";
        else {
            fail(err, errlen, "DefaultEndpointsProtocol must be http or https");
            goto out;
        }
    }
    if (val[S_NAME]) {
        for (const char *p = val[S_NAME]; *p; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
                  *p == '-')) {
                fail(err, errlen, "AccountName may hold only letters, digits and '-'");
                goto out;
            }
        }
        out->name = dg_xstrdup(val[S_NAME]);
    }
    if (val[S_KEY]) {
        if (dg_b64_decode_to(val[S_KEY], strlen(val[S_KEY]), out->key, sizeof out->key, &out->keylen) ||
            out->keylen == 0) {
            out->keylen = 0;
            fail(err, errlen, "AccountKey is not valid base64");
            goto out;
        }
    }
    if (val[S_SAS]) {
        const char *sas = val[S_SAS];
        while (*sas == '?') /* the token is appended after a '?' of our own */
            sas++;
        if (!*sas || !strstr(sas, "sig=")) {
            fail(err, errlen, "SharedAccessSignature has no sig= part");
            goto out;
        }
        out->sas = dg_xstrdup(sas);
    }
    if (!out->keylen && !out->sas) {
        fail(err, errlen, "needs AccountKey or SharedAccessSignature (or UseDevelopmentStorage=true)");
        goto out;
    }
    if (out->keylen && !out->name) {
        fail(err, errlen, "AccountKey needs AccountName");
        goto out;
    }
    const char *suffix = val[S_SUFFIX] ? val[S_SUFFIX] : "core.windows.net";
    if (!host_name_ok(suffix)) {
        fail(err, errlen, "EndpointSuffix is not a host name");
        goto out;
    }
    const int explicit_idx[AZ_SERVICES] = {S_BLOB, S_QUEUE, S_TABLE};
    int any = 0;
    for (int i = 0; i < AZ_SERVICES; i++) {
        const char *ev = val[explicit_idx[i]];
        if (ev) {
            out->endpoint[i] = endpoint_dup(ev);
            if (!out->endpoint[i]) {
                fail(err, errlen, "%s is not an http(s) URL", setting_names[explicit_idx[i]]);
                goto out;
            }
        } else if (out->name) {
            char ep[512];
            int n = snprintf(ep, sizeof ep, "%s://%s.%s.%s", proto, out->name, svc_host[i], suffix);
            if (n < 0 || (size_t) n >= sizeof ep) {
                fail(err, errlen, "AccountName and EndpointSuffix make too long a host name");
                goto out;
            }
            out->endpoint[i] = dg_xstrdup(ep);
        }
        any |= out->endpoint[i] != NULL;
    }
    if (!any) {
        fail(err, errlen, "needs AccountName or explicit endpoints");
        goto out;
    }
    rc = DG_OK;
out:
    if (copy) {
        explicit_bzero(copy, strlen(s)); /* it held the key */
        free(copy);
    }
    if (rc)
        az_account_free(out);
    return rc;
}
