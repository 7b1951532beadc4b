/* Logging: four levels, printf-checked formats, one line per call on stderr,
 * each tagged with a request id (or "-"). Secrets never reach a log line:
 * anything that may carry one (URLs, connection strings) goes through
 * dg_redact() first. */
#ifndef DG_LOG_H
#define DG_LOG_H

#include "base/arena.h"

#include <stdbool.h>

enum dg_log_level { DG_LOG_DEBUG, DG_LOG_INFO, DG_LOG_WARN, DG_LOG_ERROR };

void dg_log_set_level(enum dg_log_level lvl);
/* Parses "debug", "info", "warn", "error"; -1 if unknown. */
int dg_log_level_parse(const char *s);

/* text (the default): "TIME LEVEL [ID] MESSAGE key=value ..."; json: one
 * object per line, {"time","level","request_id","msg", fields...}. */
enum dg_log_format { DG_LOG_TEXT, DG_LOG_JSON };
void dg_log_set_format(enum dg_log_format f);
/* Parses "text", "json"; -1 if unknown. */
int dg_log_format_parse(const char *s);
/* Whether a line of lvl would be written (to skip building fields for nothing). */
bool dg_log_enabled(enum dg_log_level lvl);

/* One line: the time, the level, the request id (reqid, else the id of the
 * request whose coroutine writes the line, base/trace.h), then the formatted message
 * with every byte that could forge or garble a line escaped (dg_log_escape):
 * what a client sent (a request target, a header) is logged as it came,
 * without a raw ESC, CR or LF in it. */
void dg_log(enum dg_log_level lvl, const char *reqid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies s[0..n) into out (cap bytes, NUL-terminated), writing each control
 * byte (0x00-0x1F, 0x7F) and each byte that is not part of valid UTF-8 as
 * \xNN and a backslash as \\; valid UTF-8 and printable ASCII stay as they
 * are. Stops before an escape that would not fit whole. Returns the length
 * written. */
size_t dg_log_escape(char *out, size_t cap, const char *s, size_t n);

/* A field of a structured line: a string (NULL is written as null), an
 * integer or a number. */
struct dg_log_field {
    const char *key; /* a plain name: letters, digits and '_' */
    enum { DG_LOGF_STR, DG_LOGF_INT, DG_LOGF_NUM } type;
    const char *s;
    long long i;
    double d;
};
#define DG_LOGF_S(k, v) ((struct dg_log_field){.key = (k), .type = DG_LOGF_STR, .s = (v)})
#define DG_LOGF_I(k, v) ((struct dg_log_field){.key = (k), .type = DG_LOGF_INT, .i = (long long) (v)})
#define DG_LOGF_N(k, v) ((struct dg_log_field){.key = (k), .type = DG_LOGF_NUM, .d = (double) (v)})

/* One line of msg and fields. Every string value goes through dg_redact
 * (in a, or a temporary arena when a is NULL) and is escaped like a message;
 * in text, a value holding a space, '"' or '=' (or nothing) is quoted,
 * key="..." with '"' written as \". */
void dg_log_fields(enum dg_log_level lvl, const char *reqid, dg_arena *a, const char *msg,
                   const struct dg_log_field *f, size_t n);

#define DG_DEBUG(id, ...) dg_log(DG_LOG_DEBUG, (id), __VA_ARGS__)
#define DG_INFO(id, ...)  dg_log(DG_LOG_INFO, (id), __VA_ARGS__)
#define DG_WARN(id, ...)  dg_log(DG_LOG_WARN, (id), __VA_ARGS__)
#define DG_ERROR(id, ...) dg_log(DG_LOG_ERROR, (id), __VA_ARGS__)

/* A copy of s in which the value of every secret-bearing parameter is replaced by
 * "REDACTED": query parameters `code`, `sig` (and any SAS `sig`), connection-string
 * parts `AccountKey` and `SharedAccessSignature`, and `SharedKey account:signature`
 * authorisation values. Names are matched case-insensitively. A request target
 * or URL (s starts with '/', "http://" or "https://") is redacted by
 * dg_redact_target instead. */
char *dg_redact(dg_arena *a, const char *s);

/* A request target or URL ("/path?query", "https://host/path?query") for a log
 * line: the value of every query parameter whose name, read as the router
 * reads it (split on '&', trimmed, percent-decoded with '+' as a space), is
 * `code` or `sig` in any case becomes REDACTED, up to the next '&' whatever it
 * holds (';' included). So ?%63ode=KEY, ?CoDe=KEY and ?code=K;EY are all
 * redacted; the path and every other parameter are kept as sent (dg_log escapes
 * control bytes). The result lives in a. */
char *dg_redact_target(dg_arena *a, const char *target);

#endif
