/* Counters, gauges and histograms for /metrics, cheap enough for every
 * request of a loop serving tens of thousands a second (docs/metrics.md).
 *
 * Every thread that records anything has its own block of 64-bit slots,
 * registered once in a global list; recording is a load and a store to the
 * thread's own memory (relaxed atomics, so the scraper may read it: no lock,
 * no locked instruction, no cache line shared with another thread). A scrape
 * sums the blocks under the registry's mutex, which nothing on a request's
 * path takes. A thread that exits folds its block into the retired totals.
 *
 * A metric has a fixed set of labels, each with a fixed list of values given
 * at registration, so a series is an index computed by the caller
 * (dg_metric_series2/3) and nothing is looked up when recording. Histograms
 * have fixed buckets (upper bounds in seconds; values are recorded in
 * microseconds). */
#ifndef DG_METRICS_H
#define DG_METRICS_H

#include "base/buf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum dg_metric_type { DG_METRIC_COUNTER, DG_METRIC_GAUGE, DG_METRIC_HISTOGRAM };

#define DG_METRIC_LABELS  3
#define DG_METRIC_BUCKETS 24

/* A label: its name and every value it takes (the strings must outlive the metric). */
struct dg_mlabel {
    const char *name;
    const char *const *values;
    unsigned n;
};

/* What to register. name NULL: a private metric, never rendered (read with
 * dg_metric_value). */
struct dg_metric_def {
    enum dg_metric_type type;
    const char *name; /* full Prometheus name, e.g. durable_gateway_requests_total */
    const char *help;
    struct dg_mlabel labels[DG_METRIC_LABELS];
    unsigned nlabels;
    const double *bounds; /* histograms: ascending upper bounds in seconds, +Inf implied */
    unsigned nbounds;     /* at most DG_METRIC_BUCKETS */
};

typedef struct dg_metric {
    struct dg_metric_def def;
    unsigned series; /* the product of the labels' value counts */
    unsigned width;  /* slots per series: 1, or a histogram's nbounds + 1 buckets and the sum */
    unsigned base;   /* the first slot */
    uint64_t bounds_us[DG_METRIC_BUCKETS];
    bool released;
    struct dg_metric *next;
} dg_metric;

/* Registers a metric; thread-safe, any time. Its series all start at zero.
 * The returned handle lives until dg_metric_release (process lifetime for
 * named ones). Aborts when the slot space is exhausted or a label value holds
 * a character Prometheus would need escaped. */
dg_metric *dg_metric_register(const struct dg_metric_def *def);
/* Gives a private metric's slots back (zeroed for the next user); m must no
 * longer be recorded to by any thread. */
void dg_metric_release(dg_metric *m);

/* ---- recording (the hot path) ---- */

#define DG_METRIC_SLOTS 32768

extern _Thread_local _Atomic uint64_t *dg_metrics_tl;
/* The calling thread's block, made and registered on first use. */
_Atomic uint64_t *dg_metrics_block(void);

static inline void dg_metric_slot_add(unsigned slot, uint64_t n)
{
    _Atomic uint64_t *b = dg_metrics_tl;
    if (__builtin_expect(b == NULL, 0))
        b = dg_metrics_block();
    /* Only this thread writes the slot: a plain read-modify-write, atomic
     * only so that the scraper's read is not a data race. */
    atomic_store_explicit(&b[slot], atomic_load_explicit(&b[slot], memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* The series of label value indices; one out of range gives an index past
 * every series, which recording ignores. */
static inline unsigned dg_metric_series2(const dg_metric *m, unsigned i0, unsigned i1)
{
    if (i0 >= m->def.labels[0].n || i1 >= m->def.labels[1].n)
        return UINT32_MAX;
    return i0 * m->def.labels[1].n + i1;
}

static inline unsigned dg_metric_series3(const dg_metric *m, unsigned i0, unsigned i1, unsigned i2)
{
    if (i0 >= m->def.labels[0].n || i1 >= m->def.labels[1].n || i2 >= m->def.labels[2].n)
        return UINT32_MAX;
    return (i0 * m->def.labels[1].n + i1) * m->def.labels[2].n + i2;
}

/* Counters and gauges: series out of range are ignored. A gauge goes down by
 * adding a negative delta (dg_metric_gauge_add). */
static inline void dg_metric_add(const dg_metric *m, unsigned series, uint64_t n)
{
    if (series < m->series)
        dg_metric_slot_add(m->base + series, n);
}

static inline void dg_metric_gauge_add(const dg_metric *m, unsigned series, int64_t delta)
{
    dg_metric_add(m, series, (uint64_t) delta);
}

/* Histograms: one observation of us microseconds. */
void dg_metric_observe_us(const dg_metric *m, unsigned series, uint64_t us);

/* ---- reading (scrape time) ---- */

/* One series summed over every thread (a histogram's: its count); a gauge's
 * may be negative. Takes the registry's mutex: not for the hot path. */
int64_t dg_metric_value(const dg_metric *m, unsigned series);

/* Appends every named metric in Prometheus text format (version 0.0.4), in
 * registration order: counters and gauges with labels show the series that
 * are not zero, unlabelled ones always; histograms show their labelled
 * series that have observations, cumulative buckets, _sum in seconds, _count. */
void dg_metrics_render(dg_buf *out);

/* Appends one unlabelled metric computed at scrape time. */
void dg_metrics_write(dg_buf *out, enum dg_metric_type type, const char *name, const char *help, double v);

/* The "code" label: HTTP statuses 100..599, series index status - 100
 * (dg_metric_code_index gives DG_METRIC_CODES, out of range, for others). */
#define DG_METRIC_CODES 500
extern const struct dg_mlabel dg_mlabel_code;
static inline unsigned dg_metric_code_index(int status)
{
    return status >= 100 && status < 600 ? (unsigned) (status - 100) : DG_METRIC_CODES;
}

#endif
