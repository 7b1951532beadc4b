/* Configuration: parsed once, from flags then environment then defaults, into
 * an immutable struct that modules receive their part of. The option table in
 * config.c is the single source of the flags, their environment variables and
 * the --help text. */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdio.h>

struct gw_config {
    const char *listen;            /* address to bind, default 127.0.0.1 */
    long port;                     /* default 7071, the Functions host's local port */
    const char *connection_string; /* secret-bearing: never log it */
    const char *log_level;
    const char *log_format;
    long threads;                 /* event loops (0: one per core) */
    long request_timeout_ms;      /* deadline of a whole request */
    long shutdown_grace_ms;       /* SIGTERM: time for running requests before they are cut */
    long status_cache_ms;         /* status answers may reuse a read this old; 0: never */
    long status_collapse_ms;      /* gathering window of contended status reads */
    long connection_limit;        /* concurrent connections */
    long per_ip_connection_limit; /* concurrent connections from one address; 0: no limit */
    long connection_timeout;      /* idle seconds before a connection is closed */
    long header_timeout_ms;       /* request line and headers: overall deadline from the connection's start */
    long body_timeout_ms;         /* request body: overall deadline from the end of the headers */
    long storage_timeout_ms;      /* deadline of one storage call, retries included */
    const char *key_file;         /* system keys (auth/keys.h); required unless no_auth */
    long no_auth;                 /* 1: accept every request without a key (development only) */
    const char *task_hub;      /* resolved: --task-hub, else host.json's hubName, else DurableFunctionsHub */
    const char *config_file;   /* JSON object of option names to values, below flags and environment */
    long partition_count;      /* control queues of hubs the gateway creates (existing hubs are discovered) */
    const char *public_url;    /* scheme://host[:port] of generated links; NULL: the request's Host */
    long trust_forwarded;      /* take X-Forwarded-Proto and X-Forwarded-Host for generated links */
    const char *orchestrators; /* comma list: the only orchestrator names start accepts; NULL: any */
    const char *connections;   /* comma list of connection names, each an environment variable */
    long purge_budget_ms;      /* time one purge-by-filter request may take before it answers with a token */
    long purge_inflight;       /* storage calls in flight at once for one purge-by-filter request */
    const char *app_prefix;    /* the app's HTTP route prefix for /{prefix}/orchestrators/{name}/wait */
    long wait_timeout_ms;      /* long-poll: timeout when the request gives none */
    long wait_interval_ms;     /* long-poll: read interval when the request gives none */
    long wait_max_timeout_ms;  /* long-poll: longer timeouts are cut to this */
    long wait_min_interval_ms; /* long-poll: shorter intervals are raised to this */
    long max_waiters;          /* long-poll: held requests at once; past it 503 */
    long wait_readers;         /* long-poll: status reads in flight at once */
    const char *upstream;      /* the function app every other request is passed to; NULL: none */
    long upstream_timeout_ms;  /* pass-through: the upstream's longest silence */
    long rewrite_upstream_links; /* pass-through: the app's check-status links point at the gateway */
    const char *tls_cert;        /* PEM certificate chain: HTTPS (with tls_key); NULL: plain HTTP */
    const char *tls_key;         /* PEM private key of tls_cert */
};

enum gw_config_result { GW_CONFIG_OK, GW_CONFIG_EXIT, GW_CONFIG_ERROR };

/* Fills *out. GW_CONFIG_EXIT after --help or --version (printed to `out_stream`),
 * GW_CONFIG_ERROR with a message on `err_stream`. Strings point into argv or the
 * environment, which outlive the process's use of them. */
enum gw_config_result gw_config_load(int argc, char **argv, struct gw_config *out, FILE *out_stream,
                                     FILE *err_stream);

#endif
