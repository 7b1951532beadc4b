/* Clocks and the date formats storage speaks.
 * Wall-clock instants are `dg_ticks`: 100-nanosecond units since 1970-01-01Z,
 * which covers .NET's DateTime range (year 1 to 9999) and its 7 fraction digits. */
#ifndef DG_TIME_H
#define DG_TIME_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

typedef int64_t dg_ticks;

#define DG_TICKS_PER_SEC 10000000LL
/* .NET's DateTime.MinValue, 0001-01-01T00:00:00Z. */
#define DG_TICKS_MIN (-62135596800LL * DG_TICKS_PER_SEC)

/* Monotonic milliseconds, for deadlines and intervals. */
int64_t dg_mono_ms(void);
/* The same clock in microseconds, where order within a millisecond matters. */
int64_t dg_mono_us(void);
/* The wall clock, in ticks. */
dg_ticks dg_now_ticks(void);

/* "2026-12-01T07:28:30.1004898Z": always 7 fraction digits. out needs 29 bytes. */
#define DG_ISO_LEN 29
void dg_iso_format(dg_ticks t, char out[DG_ISO_LEN]);
/* The same as .NET's round-trip form Newtonsoft writes for a UTC DateTime:
 * up to 7 fraction digits with trailing zeros dropped (no fraction: no dot). */
void dg_iso_format_trimmed(dg_ticks t, char out[DG_ISO_LEN]);
/* Accepts "YYYY-MM-DDTHH:MM:SS[.f{1,7}+](Z|±HH:MM)"; fraction digits past 7 are
 * dropped (truncated, as .NET does). A missing zone is taken as UTC. */
dg_err dg_iso_parse(const char *s, size_t n, dg_ticks *out);

/* "Tue, 01 Dec 2026 07:28:30 GMT" (RFC 1123, the x-ms-date form). out needs 30 bytes. */
#define DG_RFC1123_LEN 30
void dg_rfc1123_format(dg_ticks t, char out[DG_RFC1123_LEN]);

#endif
