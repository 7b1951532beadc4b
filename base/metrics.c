#include "base/metrics.h"

#include "base/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Thread_local _Atomic uint64_t *dg_metrics_tl;

/* The registry: metrics in registration order, every live thread's block and
 * the totals of threads that ended. One mutex, taken to register, to scrape
 * and when a thread starts or ends recording; never to record. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static dg_metric *g_first, **g_last = &g_first;
static unsigned g_next_slot;
static _Atomic uint64_t **g_blocks;
static size_t g_nblocks, g_capblocks;
static uint64_t *g_retired; /* DG_METRIC_SLOTS, made when the first thread ends */
static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static char g_code_text[DG_METRIC_CODES][4];
static const char *g_code_values[DG_METRIC_CODES];
const struct dg_mlabel dg_mlabel_code = {"code", g_code_values, DG_METRIC_CODES};

__attribute__((constructor)) static void codes_init(void)
{
    for (int i = 0; i < DG_METRIC_CODES; i++) {
        snprintf(g_code_text[i], sizeof g_code_text[i], "%d", 100 + i);
        g_code_values[i] = g_code_text[i];
    }
}

/* A thread ends: its counts join the retired totals, its block is freed. */
static void block_retire(void *p)
{
    _Atomic uint64_t *b = p;
    pthread_mutex_lock(&g_mu);
    if (!g_retired)
        g_retired = dg_xcalloc(DG_METRIC_SLOTS, sizeof *g_retired);
    for (unsigned i = 0; i < g_next_slot; i++)
        g_retired[i] += atomic_load_explicit(&b[i], memory_order_relaxed);
    for (size_t i = 0; i < g_nblocks; i++)
        if (g_blocks[i] == b) {
            g_blocks[i] = g_blocks[--g_nblocks];
            break;
        }
    pthread_mutex_unlock(&g_mu);
    if (dg_metrics_tl == b)
        dg_metrics_tl = NULL;
    free(p);
}

static void key_init(void)
{
    if (pthread_key_create(&g_key, block_retire) != 0)
        dg_fatal("metrics: pthread_key_create");
}

_Atomic uint64_t *dg_metrics_block(void)
{
    pthread_once(&g_once, key_init);
    /* Zeroed pages from the system: only the slots a thread touches become resident. */
    _Atomic uint64_t *b = dg_xcalloc(DG_METRIC_SLOTS, sizeof *b);
    pthread_mutex_lock(&g_mu);
    if (g_nblocks == g_capblocks) {
        g_capblocks = g_capblocks ? 2 * g_capblocks : 16;
        g_blocks = dg_xrealloc(g_blocks, g_capblocks * sizeof *g_blocks);
    }
    g_blocks[g_nblocks++] = b;
    pthread_mutex_unlock(&g_mu);
    pthread_setspecific(g_key, b);
    dg_metrics_tl = b;
    return b;
}

static bool text_ok(const char *s)
{
    return s && !strpbrk(s, "\"\\\n");
}

dg_metric *dg_metric_register(const struct dg_metric_def *def)
{
    dg_metric *m = dg_xcalloc(1, sizeof *m);
    m->def = *def;
    m->series = 1;
    for (unsigned i = 0; i < def->nlabels && i < DG_METRIC_LABELS; i++) {
        const struct dg_mlabel *l = &def->labels[i];
        if (l->n == 0)
            dg_fatal("metrics: a label without values");
        if (def->name && !text_ok(l->name))
            dg_fatal("metrics: a label without a name");
        for (unsigned v = 0; def->name && v < l->n; v++)
            if (!text_ok(l->values[v]))
                dg_fatal("metrics: a label value that needs escaping");
        m->series *= l->n;
    }
    m->width = 1;
    if (def->type == DG_METRIC_HISTOGRAM) {
        if (def->nbounds > DG_METRIC_BUCKETS)
            dg_fatal("metrics: too many buckets");
        for (unsigned i = 0; i < def->nbounds; i++)
            m->bounds_us[i] = (uint64_t) (def->bounds[i] * 1e6 + 0.5);
        m->width = def->nbounds + 2; /* the buckets, +Inf, the sum */
    }
    pthread_mutex_lock(&g_mu);
    /* A private metric's released range of the same size is reused. */
    dg_metric **pp = &g_first;
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->released && (*pp)->series * (*pp)->width == m->series * m->width)
            break;
    if (*pp) {
        dg_metric *old = *pp;
        m->base = old->base;
        m->next = old->next;
        *pp = m;
        if (g_last == &old->next)
            g_last = &m->next;
        free(old);
    } else {
        if ((size_t) g_next_slot + (size_t) m->series * m->width > DG_METRIC_SLOTS)
            dg_fatal("metrics: out of slots");
        m->base = g_next_slot;
        g_next_slot += m->series * m->width;
        *g_last = m;
        g_last = &m->next;
    }
    pthread_mutex_unlock(&g_mu);
    return m;
}

void dg_metric_release(dg_metric *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&g_mu);
    unsigned n = m->series * m->width;
    for (size_t i = 0; i < g_nblocks; i++)
        for (unsigned k = 0; k < n; k++)
            atomic_store_explicit(&g_blocks[i][m->base + k], 0, memory_order_relaxed);
    if (g_retired)
        memset(g_retired + m->base, 0, n * sizeof *g_retired);
    m->released = true;
    m->def.name = NULL;
    pthread_mutex_unlock(&g_mu);
}

void dg_metric_observe_us(const dg_metric *m, unsigned series, uint64_t us)
{
    if (series >= m->series)
        return;
    unsigned i = 0;
    while (i < m->def.nbounds && us > m->bounds_us[i])
        i++;
    unsigned at = m->base + series * m->width;
    dg_metric_slot_add(at + i, 1);
    dg_metric_slot_add(at + m->def.nbounds + 1, us);
}

/* Under g_mu: slot summed over every block and the retired totals. */
static uint64_t slot_sum(unsigned slot)
{
    uint64_t v = g_retired ? g_retired[slot] : 0;
    for (size_t i = 0; i < g_nblocks; i++)
        v += atomic_load_explicit(&g_blocks[i][slot], memory_order_relaxed);
    return v;
}

int64_t dg_metric_value(const dg_metric *m, unsigned series)
{
    if (series >= m->series)
        return 0;
    pthread_mutex_lock(&g_mu);
    uint64_t v = 0;
    unsigned at = m->base + series * m->width;
    if (m->def.type == DG_METRIC_HISTOGRAM)
        for (unsigned i = 0; i <= m->def.nbounds; i++)
            v += slot_sum(at + i);
    else
        v = slot_sum(at);
    pthread_mutex_unlock(&g_mu);
    return (int64_t) v;
}

static const char *type_name(enum dg_metric_type t)
{
    return t == DG_METRIC_COUNTER ? "counter" : t == DG_METRIC_GAUGE ? "gauge" : "histogram";
}

static void header(dg_buf *out, const char *name, const char *help, enum dg_metric_type t)
{
    dg_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help ? help : name, name, type_name(t));
}

/* {a="x",b="y" (open: the caller adds le= or the closing brace) */
static void labels(dg_buf *out, const dg_metric *m, unsigned series)
{
    unsigned idx[DG_METRIC_LABELS];
    for (int i = (int) m->def.nlabels - 1; i >= 0; i--) {
        idx[i] = series % m->def.labels[i].n;
        series /= m->def.labels[i].n;
    }
    for (unsigned i = 0; i < m->def.nlabels; i++)
        dg_buf_addf(out, "%s%s=\"%s\"", i ? "," : "{", m->def.labels[i].name,
                    m->def.labels[i].values[idx[i]]);
}

static void render_one(dg_buf *out, const dg_metric *m, const uint64_t *v)
{
    const char *name = m->def.name;
    bool labelled = m->def.nlabels > 0;
    header(out, name, m->def.help, m->def.type);
    for (unsigned s = 0; s < m->series; s++) {
        const uint64_t *sv = v + (size_t) s * m->width;
        if (m->def.type != DG_METRIC_HISTOGRAM) {
            if (labelled && sv[0] == 0)
                continue;
            dg_buf_adds(out, name);
            labels(out, m, s);
            if (labelled)
                dg_buf_addc(out, '}');
            if (m->def.type == DG_METRIC_GAUGE)
                dg_buf_addf(out, " %lld\n", (long long) (int64_t) sv[0]);
            else
                dg_buf_addf(out, " %llu\n", (unsigned long long) sv[0]);
            continue;
        }
        uint64_t count = 0;
        for (unsigned i = 0; i <= m->def.nbounds; i++)
            count += sv[i];
        if (labelled && count == 0)
            continue;
        uint64_t cum = 0;
        for (unsigned i = 0; i <= m->def.nbounds; i++) {
            cum += sv[i];
            dg_buf_addf(out, "%s_bucket", name);
            labels(out, m, s);
            if (i < m->def.nbounds)
                dg_buf_addf(out, "%sle=\"%g\"} %llu\n", labelled ? "," : "{", m->def.bounds[i],
                            (unsigned long long) cum);
            else
                dg_buf_addf(out, "%sle=\"+Inf\"} %llu\n", labelled ? "," : "{", (unsigned long long) cum);
        }
        uint64_t sum_us = sv[m->def.nbounds + 1];
        dg_buf_addf(out, "%s_sum", name);
        labels(out, m, s);
        dg_buf_addf(out, "%s %llu.%06llu\n", labelled ? "}" : "", (unsigned long long) (sum_us / 1000000),
                    (unsigned long long) (sum_us % 1000000));
        dg_buf_addf(out, "%s_count", name);
        labels(out, m, s);
        dg_buf_addf(out, "%s %llu\n", labelled ? "}" : "", (unsigned long long) count);
    }
}

void dg_metrics_render(dg_buf *out)
{
    pthread_mutex_lock(&g_mu);
    uint64_t *v = NULL;
    size_t cap = 0;
    for (const dg_metric *m = g_first; m; m = m->next) {
        if (!m->def.name || m->released)
            continue;
        size_t n = (size_t) m->series * m->width;
        if (n > cap) {
            v = dg_xrealloc(v, n * sizeof *v);
            cap = n;
        }
        for (size_t k = 0; k < n; k++)
            v[k] = slot_sum(m->base + (unsigned) k);
        render_one(out, m, v);
    }
    pthread_mutex_unlock(&g_mu);
    free(v);
}

void dg_metrics_write(dg_buf *out, enum dg_metric_type type, const char *name, const char *help, double v)
{
    header(out, name, help, type);
    dg_buf_addf(out, "%s %.15g\n", name, v);
}
