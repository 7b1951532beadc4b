/* What bench_standin and bench_load both parse of HTTP/1.1: header lines, hex
 * digits and chunked bodies (RFC 9112 §7.1: sizes, extensions, trailers). Header-only:
 * the two programs link nothing of the project. */
#ifndef BENCH_HTTP1_H
#define BENCH_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Whether line[0..n) is the header `name` (ignoring case); its value, trimmed
 * of blanks and a trailing CR, in *value and *vl. */
static inline bool http1_header_is(const char *line, size_t n, const char *name, const char **value,
                                   size_t *vl)
{
    size_t nl = strlen(name);
    if (n <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return false;
    const char *v = line + nl + 1, *e = line + n;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    *value = v;
    *vl = (size_t) (e - v);
    return true;
}

/* Whether the header value v[0..n) holds tok anywhere (ignoring case): enough
 * for the few tokens the benchmarks look for. */
static inline bool http1_has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i + tl <= n; i++)
        if (strncasecmp(v + i, tok, tl) == 0)
            return true;
    return false;
}

static inline int http1_hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

enum http1_ck { CK_SIZE, CK_EXT, CK_DATA, CK_DATA_END, CK_TRAILER_START, CK_TRAILER_LINE };

struct http1_chunked {
    enum http1_ck ck;
    bool digits;
    uint64_t left;  /* bytes left in the current chunk, or its size being read */
    uint64_t total; /* data bytes so far */
    uint64_t cap;   /* a chunk or the whole body past this is refused */
};

static inline void http1_chunked_start(struct http1_chunked *k, uint64_t cap)
{
    *k = (struct http1_chunked){.ck = CK_SIZE, .cap = cap};
}

/* Feeds n body bytes; *used is how many were taken. 1 at the body's end, 0
 * for more, -1 for a malformed or too large body. */
static inline int http1_chunked_step(struct http1_chunked *k, const char *d, size_t n, size_t *used)
{
    size_t i = 0;
    while (i < n) {
        char ch = d[i];
        switch (k->ck) {
        case CK_SIZE:
        case CK_EXT:
            i++;
            if (k->ck == CK_SIZE && http1_hexval((unsigned char) ch) >= 0) {
                k->left = k->left * 16 + (uint64_t) http1_hexval((unsigned char) ch);
                k->digits = true;
                if (k->left > k->cap)
                    return -1;
            } else if (ch == '\n') {
                if (!k->digits)
                    return -1;
                k->ck = k->left ? CK_DATA : CK_TRAILER_START;
            } else if (ch == ';') {
                k->ck = CK_EXT;
            } else if (k->ck == CK_SIZE && ch != '\r' && ch != ' ' && ch != '\t') {
                return -1;
            }
            break;
        case CK_DATA: {
            size_t take = n - i < k->left ? n - i : (size_t) k->left;
            i += take;
            k->left -= take;
            k->total += take;
            if (k->total > k->cap)
                return -1;
            if (k->left == 0)
                k->ck = CK_DATA_END;
            break;
        }
        case CK_DATA_END:
            i++;
            if (ch == '\n') {
                k->ck = CK_SIZE;
                k->digits = false;
                k->left = 0;
            } else if (ch != '\r') {
                return -1;
            }
            break;
        case CK_TRAILER_START:
            i++;
            if (ch == '\n') {
                *used = i;
                return 1;
            }
            if (ch != '\r')
                k->ck = CK_TRAILER_LINE;
            break;
        case CK_TRAILER_LINE:
            i++;
            if (ch == '\n')
                k->ck = CK_TRAILER_START;
            break;
        }
    }
    *used = i;
    return 0;
}

#endif
