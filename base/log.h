/* Logging: four levels, printf-checked formats, one line per call on stderr,
 * each tagged with a request id (or "-"). Secrets never reach a log line:
 * anything that may carry one (URLs, connection strings) goes through
 * dg_redact() first. */
#ifndef DG_LOG_H
#define DG_LOG_H

#include "base/arena.h"

enum dg_log_level { DG_LOG_DEBUG, DG_LOG_INFO, DG_LOG_WARN, DG_LOG_ERROR };

void dg_log_set_level(enum dg_log_level lvl);
enum dg_log_level dg_log_get_level(void);
/* Parses "debug", "info", "warn", "error"; -1 if unknown. */
int dg_log_level_parse(const char *s);

void dg_log(enum dg_log_level lvl, const char *reqid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define DG_DEBUG(id, ...) dg_log(DG_LOG_DEBUG, (id), __VA_ARGS__)
#define DG_INFO(id, ...)  dg_log(DG_LOG_INFO, (id), __VA_ARGS__)
#define DG_WARN(id, ...)  dg_log(DG_LOG_WARN, (id), __VA_ARGS__)
#define DG_ERROR(id, ...) dg_log(DG_LOG_ERROR, (id), __VA_ARGS__)

/* A copy of s in which the value of every secret-bearing parameter is replaced by
 * "REDACTED": query parameters `code`, `sig` (and any SAS `sig`), connection-string
 * parts `AccountKey` and `SharedAccessSignature`, and `SharedKey account:signature`
 * authorisation values. Names are matched case-insensitively. */
char *dg_redact(dg_arena *a, const char *s);

#endif
