/* base/metrics.c: per-thread slots summed at scrape, the text format. */
#include "base/metrics.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char *const colours[] = {"red", "green"};
static const char *const sizes[] = {"s", "m", "l"};

static char *render(void)
{
    dg_buf b;
    dg_buf_init(&b, 1 << 22);
    dg_metrics_render(&b);
    cr_assert_eq(dg_buf_err(&b), DG_OK);
    return dg_buf_take(&b);
}

static dg_metric *g_c;

static void *bump(void *arg)
{
    (void) arg;
    for (int i = 0; i < 1000; i++)
        dg_metric_add(g_c, dg_metric_series2(g_c, 1, 2), 1);
    return NULL; /* the thread ends: its block joins the retired totals */
}

Test(metrics, counters_from_many_threads_sum_and_survive_their_threads)
{
    g_c = dg_metric_register(&(struct dg_metric_def){.type = DG_METRIC_COUNTER,
                                                     .name = "t_things_total",
                                                     .help = "Things.",
                                                     .labels = {{"colour", colours, 2}, {"size", sizes, 3}},
                                                     .nlabels = 2});
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, bump, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    dg_metric_add(g_c, dg_metric_series2(g_c, 0, 0), 7);
    dg_metric_add(g_c, dg_metric_series2(g_c, 2, 0), 1); /* no such colour: ignored */
    dg_metric_add(g_c, dg_metric_series2(g_c, 0, 3), 1); /* no such size: ignored, not the next colour's */
    cr_assert_eq(dg_metric_value(g_c, dg_metric_series2(g_c, 1, 2)), 4000);
    char *t = render();
    cr_assert_not_null(strstr(t, "# HELP t_things_total Things.\n# TYPE t_things_total counter\n"
                                 "t_things_total{colour=\"red\",size=\"s\"} 7\n"
                                 "t_things_total{colour=\"green\",size=\"l\"} 4000\n"),
                       "%s", t);
    cr_assert_null(strstr(t, "t_things_total{colour=\"red\",size=\"m\"}"), "zero series are left out");
    cr_assert_null(strstr(t, "t_things_total{colour=\"green\",size=\"s\"}"), "%s", t);
    free(t);
}

Test(metrics, unlabelled_metrics_show_even_at_zero_and_gauges_go_negative)
{
    dg_metric *c =
        dg_metric_register(&(struct dg_metric_def){.type = DG_METRIC_COUNTER, .name = "t_zero_total"});
    dg_metric *g = dg_metric_register(&(struct dg_metric_def){.type = DG_METRIC_GAUGE, .name = "t_level"});
    (void) c;
    dg_metric_gauge_add(g, 0, 2);
    dg_metric_gauge_add(g, 0, -5);
    cr_assert_eq(dg_metric_value(g, 0), -3);
    char *t = render();
    cr_assert_not_null(strstr(t, "# TYPE t_zero_total counter\nt_zero_total 0\n"), "%s", t);
    cr_assert_not_null(strstr(t, "# TYPE t_level gauge\nt_level -3\n"), "%s", t);
    free(t);
}

Test(metrics, histograms_have_cumulative_buckets_sum_and_count)
{
    static const double bounds[] = {0.001, 0.01, 0.1};
    dg_metric *h = dg_metric_register(&(struct dg_metric_def){.type = DG_METRIC_HISTOGRAM,
                                                              .name = "t_wait_seconds",
                                                              .help = "Waits.",
                                                              .labels = {{"size", sizes, 3}},
                                                              .nlabels = 1,
                                                              .bounds = bounds,
                                                              .nbounds = 3});
    dg_metric_observe_us(h, 1, 500);     /* <= 1 ms */
    dg_metric_observe_us(h, 1, 1000);    /* on the bound: le="0.001" */
    dg_metric_observe_us(h, 1, 20000);   /* <= 100 ms */
    dg_metric_observe_us(h, 1, 2000000); /* +Inf only */
    dg_metric_observe_us(h, 3, 1);       /* no such series */
    cr_assert_eq(dg_metric_value(h, 1), 4);
    char *t = render();
    cr_assert_not_null(strstr(t, "# TYPE t_wait_seconds histogram\n"
                                 "t_wait_seconds_bucket{size=\"m\",le=\"0.001\"} 2\n"
                                 "t_wait_seconds_bucket{size=\"m\",le=\"0.01\"} 2\n"
                                 "t_wait_seconds_bucket{size=\"m\",le=\"0.1\"} 3\n"
                                 "t_wait_seconds_bucket{size=\"m\",le=\"+Inf\"} 4\n"
                                 "t_wait_seconds_sum{size=\"m\"} 2.021500\n"
                                 "t_wait_seconds_count{size=\"m\"} 4\n"),
                       "%s", t);
    cr_assert_null(strstr(t, "size=\"s\""), "a series without observations is left out");
    free(t);
}

Test(metrics, private_metrics_are_not_rendered_and_released_slots_come_back_zeroed)
{
    dg_metric *p = dg_metric_register(
        &(struct dg_metric_def){.type = DG_METRIC_COUNTER, .labels = {{"x", NULL, 3}}, .nlabels = 1});
    dg_metric_add(p, 2, 5);
    cr_assert_eq(dg_metric_value(p, 2), 5);
    unsigned base = p->base;
    dg_metric_release(p);
    dg_metric *q = dg_metric_register(
        &(struct dg_metric_def){.type = DG_METRIC_COUNTER, .labels = {{"x", NULL, 3}}, .nlabels = 1});
    cr_assert_eq(q->base, base, "the same slots are reused");
    cr_assert_eq(dg_metric_value(q, 2), 0);
    char *t = render();
    cr_assert_null(strstr(t, " 5\n"), "%s", t);
    free(t);
}

Test(metrics, the_code_label_covers_100_to_599)
{
    cr_assert_eq(dg_mlabel_code.n, 500);
    cr_assert_str_eq(dg_mlabel_code.values[dg_metric_code_index(200)], "200");
    cr_assert_str_eq(dg_mlabel_code.values[dg_metric_code_index(599)], "599");
    cr_assert_eq(dg_metric_code_index(600), DG_METRIC_CODES);
    cr_assert_eq(dg_metric_code_index(99), DG_METRIC_CODES);
}

Test(metrics, scrape_time_values)
{
    dg_buf b;
    dg_buf_init(&b, 4096);
    dg_metrics_write(&b, DG_METRIC_GAUGE, "t_start_seconds", "Start.", 1765158000.125);
    cr_assert_str_eq(dg_buf_str(&b), "# HELP t_start_seconds Start.\n# TYPE t_start_seconds gauge\n"
                                     "t_start_seconds 1765158000.125\n");
    dg_buf_free(&b);
}
