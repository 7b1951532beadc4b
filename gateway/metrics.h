/* The gateway's metrics (docs/metrics.md): what the front end records per
 * request, the upstream pass-through's series, the process metrics, and the
 * text of /metrics. Recording is per-thread (base/metrics.h): no lock and no
 * shared atomic per request. */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include "base/buf.h"

#include <stdint.h>

/* Route label values besides the route table's names (rt_route_names). */
enum gw_route {
    GW_ROUTE_HEALTHZ,
    GW_ROUTE_READYZ,
    GW_ROUTE_METRICS,
    GW_ROUTE_UPSTREAM,  /* passed through to --upstream (gateway/proxy.c) */
    GW_ROUTE_UNMATCHED, /* nothing matched: the 404s, refusals before routing */
    GW_ROUTES_OWN,
};

/* Registers the families; once, before any thread records. */
void gw_metrics_init(void);

/* The route label index of a routed answer (rt_response.route: 1 + the
 * table's index, 0 unmatched) and of the gateway's own paths. */
unsigned gw_metrics_route_of(unsigned rt_route);
unsigned gw_metrics_route_own(enum gw_route r);
/* The label value of a route index, for the access log. */
const char *gw_metrics_route_name(unsigned route);

/* One answered request: durable_gateway_requests_total{route,code} and
 * durable_gateway_request_duration_seconds{route}. */
void gw_metrics_request(unsigned route, int status, int64_t duration_us);
/* durable_gateway_requests_in_flight: +1 when a request's line arrives, -1
 * when it completes. */
void gw_metrics_in_flight(int delta);
long gw_metrics_in_flight_now(void);
/* durable_gateway_requests_running: handlers running (in a coroutine). */
void gw_metrics_running(int delta);
long gw_metrics_running_now(void);
/* durable_gateway_client_connections: +1 per accepted client connection, -1 when closed. */
void gw_metrics_connection(int delta);

/* The upstream pass-through (reserved for gateway/proxy.c): one answer with
 * the upstream's status (or the gateway's 502/504 when it gave none), in
 * durable_gateway_upstream_requests_total{code} and
 * durable_gateway_upstream_request_duration_seconds. */
void gw_metrics_upstream(int status, int64_t duration_us);

/* Appends the process metrics: process_resident_memory_bytes,
 * process_open_fds, process_max_fds, process_start_time_seconds,
 * process_cpu_seconds_total (from /proc/self). */
void gw_metrics_process(dg_buf *out);

#endif
