/* The request a coroutine tree works for (base/loop.h dg_co_set_trace): its
 * id, written on every log line of the request and sent to storage as
 * x-ms-client-request-id, and what the request has cost so far, for its
 * access line. Only the tree's own loop thread touches it. */
#ifndef DG_TRACE_H
#define DG_TRACE_H

#include <stdbool.h>
#include <stddef.h>

/* The longest request id kept from a client; longer ones are cut to it. */
#define DG_REQID_MAX 64

struct dg_trace {
    char id[DG_REQID_MAX + 1];
    unsigned storage_calls; /* storage calls made (a call's retries are one call) */
};

/* A fresh id: 12 lower-case hex digits (48 random bits, no system call). */
void dg_trace_id_make(char out[DG_REQID_MAX + 1]);

/* Takes a client's id (x-ms-client-request-id or X-Request-Id) into out:
 * true when in is non-empty and made only of letters, digits and "-_.:"
 * (what storage's and every log reader's parsers take as they are), cut to
 * DG_REQID_MAX bytes. false (out untouched) for anything else: the caller
 * then makes one. */
bool dg_trace_id_take(char out[DG_REQID_MAX + 1], const char *in);

#endif
