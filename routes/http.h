/* The plain request/response pair that handlers see. Only gateway/ touches
 * libmicrohttpd; it fills an rt_request and sends what the handler put in the
 * rt_response, so handlers are tested without a socket. Everything lives in
 * the request's arena. */
#ifndef RT_HTTP_H
#define RT_HTTP_H

#include "base/arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rt_param {
    const char *name, *value;
};

typedef struct rt_request {
    dg_arena *arena;
    const char *reqid;
    const char *method;
    const char *path;      /* as received, still percent-encoded, without the query */
    const char *origin;    /* "http://host[:port]" the server answers on, used when Host is absent or odd */
    const char *raw_query; /* after '?', as received, or "" */
    const struct rt_param *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
    int64_t t0_ms; /* when the request arrived (dg_mono_ms), for wait deadlines; 0: now */
} rt_request;

#define RT_MAX_RESPONSE_HEADERS 8

struct rt_wait;

/* A response body shared by many answers (every waiter on one finished
 * instance): reference-counted, freed by the last holder. */
struct rt_shared {
    _Atomic long refs;
    size_t n;
    char data[]; /* NUL-terminated */
};
/* A copy of p with one reference, held by the caller. */
struct rt_shared *rt_shared_new(const char *p, size_t n);
void rt_shared_ref(struct rt_shared *sh);
void rt_shared_unref(struct rt_shared *sh);

typedef struct rt_response {
    /* Set by a handler that wants the request held until an instance finishes
     * (the long-poll): the gateway suspends the connection and answers later
     * with rt_wait_answer() or the wait's timeout answer. status etc. unused then. */
    struct rt_wait *wait;
    int status;
    struct rt_param headers[RT_MAX_RESPONSE_HEADERS];
    size_t nheaders;
    const char *content_type; /* NULL: no body, no Content-Type */
    const char *body;
    size_t body_len;
    struct rt_shared *shared; /* when body is a shared one: a reference the response holds */
    unsigned route;           /* set by rt_dispatch: 1 + index into rt_route_names(), 0: none matched */
} rt_response;

/* Case-insensitive header lookup; NULL when absent. */
const char *rt_header(const rt_request *rq, const char *name);
void rt_set_header(rt_response *rs, dg_arena *a, const char *name, const char *value);
/* A JSON body (copied into the arena) with Content-Type application/json; charset=utf-8. */
void rt_set_json(rt_response *rs, dg_arena *a, int status, const char *json);
/* A JSON body shared with other answers; rs takes a reference to it. */
void rt_set_json_shared(rt_response *rs, int status, struct rt_shared *sh);
/* The host's error form A: {"Message":"..."}. */
void rt_set_message(rt_response *rs, dg_arena *a, int status, const char *message);
/* The host's error form B: {"Message","ExceptionMessage","ExceptionType","StackTrace":null}. */
void rt_set_error(rt_response *rs, dg_arena *a, int status, const char *message,
                  const char *exception_message, const char *exception_type);
/* The host's error form C: the body is one JSON string. */
void rt_set_string(rt_response *rs, dg_arena *a, int status, const char *text);
/* Status only, empty body. */
void rt_set_empty(rt_response *rs, int status);

#endif
