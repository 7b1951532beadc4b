/* The plain request/response pair that handlers see. Only gateway/ touches
 * libmicrohttpd; it fills an rt_request and sends what the handler put in the
 * rt_response, so handlers are tested without a socket. Everything lives in
 * the request's arena. */
#ifndef RT_HTTP_H
#define RT_HTTP_H

#include "base/arena.h"

#include <stdbool.h>
#include <stddef.h>

struct rt_param {
    const char *name, *value;
};

typedef struct rt_request {
    dg_arena *arena;
    const char *reqid;
    const char *method;
    const char *path;      /* as received, still percent-encoded, without the query */
    const char *url;       /* the absolute URL the client called, query included (for Location) */
    const char *raw_query; /* after '?', as received, or "" */
    const struct rt_param *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
} rt_request;

#define RT_MAX_RESPONSE_HEADERS 8

typedef struct rt_response {
    int status;
    struct rt_param headers[RT_MAX_RESPONSE_HEADERS];
    size_t nheaders;
    const char *content_type; /* NULL: no body, no Content-Type */
    const char *body;
    size_t body_len;
} rt_response;

/* Case-insensitive header lookup; NULL when absent. */
const char *rt_header(const rt_request *rq, const char *name);
void rt_set_header(rt_response *rs, dg_arena *a, const char *name, const char *value);
/* A JSON body (copied into the arena) with Content-Type application/json; charset=utf-8. */
void rt_set_json(rt_response *rs, dg_arena *a, int status, const char *json);
/* The host's error form A: {"Message":"..."}. */
void rt_set_message(rt_response *rs, dg_arena *a, int status, const char *message);
/* The host's error form C: the body is a JSON string literal, "...". */
void rt_set_string(rt_response *rs, dg_arena *a, int status, const char *text);
/* Status only, empty body. */
void rt_set_empty(rt_response *rs, int status);

#endif
