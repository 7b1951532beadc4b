#include "gateway/metrics.h"

#include "base/mem.h"
#include "base/metrics.h"
#include "routes/router.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Request durations: from a cache hit (tens of µs) to the longest long-poll (300 s). */
static const double request_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5,    1,     2.5,    5,     10,   30,    60,   120, 300};
static const double upstream_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,      2.5,   5,    10,    30,   60};

static const char *const version_values[] = {DG_VERSION};
static const char *const own_names[GW_ROUTES_OWN] = {"healthz", "readyz", "metrics", "upstream", "unmatched"};

static const char **g_route_values; /* the table's names, then own_names */
static unsigned g_ntable, g_nroutes;
static dg_metric *g_requests, *g_duration, *g_in_flight, *g_running, *g_connections;
static dg_metric *g_up_requests, *g_up_duration;
static double g_start_time;

static double read_start_time(void)
{
    /* starttime (field 22 of /proc/self/stat, ticks after boot) + btime of /proc/stat */
    double t = 0;
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ticks = 0;
    for (int field = 2; p && *p && field < 22; p++)
        if (*p == ' ')
            field++;
    if (p)
        ticks = strtoull(p, NULL, 10);
    f = fopen("/proc/stat", "r");
    unsigned long long btime = 0;
    while (f && fgets(buf, sizeof buf, f))
        if (sscanf(buf, "btime %llu", &btime) == 1)
            break;
    if (f)
        fclose(f);
    if (btime && ticks)
        t = (double) btime + (double) ticks / (double) sysconf(_SC_CLK_TCK);
    return t;
}

void gw_metrics_init(void)
{
    if (g_requests)
        return;
    const char *const *names;
    g_ntable = (unsigned) rt_route_names(&names);
    g_nroutes = g_ntable + GW_ROUTES_OWN;
    g_route_values = dg_xcalloc(g_nroutes, sizeof *g_route_values);
    for (unsigned i = 0; i < g_ntable; i++)
        g_route_values[i] = names[i];
    for (unsigned i = 0; i < GW_ROUTES_OWN; i++)
        g_route_values[g_ntable + i] = own_names[i];
    struct dg_mlabel route = {"route", g_route_values, g_nroutes};

    g_requests = dg_metric_register(&(struct dg_metric_def){
        .type = DG_METRIC_COUNTER,
        .name = "durable_gateway_requests_total",
        .help = "HTTP requests answered, by route and status code (499: no answer, the client left).",
        .labels = {route, dg_mlabel_code},
        .nlabels = 2});
    g_duration = dg_metric_register(&(struct dg_metric_def){
        .type = DG_METRIC_HISTOGRAM,
        .name = "durable_gateway_request_duration_seconds",
        .help = "Time from a request's first line to its answer's last byte, by route.",
        .labels = {route},
        .nlabels = 1,
        .bounds = request_bounds,
        .nbounds = sizeof request_bounds / sizeof *request_bounds});
    g_in_flight = dg_metric_register(&(struct dg_metric_def){
        .type = DG_METRIC_GAUGE,
        .name = "durable_gateway_requests_in_flight",
        .help = "Requests received and not yet completed, held long-polls included."});
    g_running = dg_metric_register(&(struct dg_metric_def){
        .type = DG_METRIC_GAUGE,
        .name = "durable_gateway_requests_running",
        .help = "Requests whose handler is running (waiting on storage or computing)."});
    g_connections = dg_metric_register(&(struct dg_metric_def){.type = DG_METRIC_GAUGE,
                                                               .name = "durable_gateway_client_connections",
                                                               .help = "Open client connections."});
    g_up_requests = dg_metric_register(&(struct dg_metric_def){
        .type = DG_METRIC_COUNTER,
        .name = "durable_gateway_upstream_requests_total",
        .help = "Requests passed through to the upstream, by the status of the answer.",
        .labels = {dg_mlabel_code},
        .nlabels = 1});
    g_up_duration = dg_metric_register(&(struct dg_metric_def){
        .type = DG_METRIC_HISTOGRAM,
        .name = "durable_gateway_upstream_request_duration_seconds",
        .help = "Time from sending a request to the upstream to its answer's last byte.",
        .bounds = upstream_bounds,
        .nbounds = sizeof upstream_bounds / sizeof *upstream_bounds});
    dg_metric *info =
        dg_metric_register(&(struct dg_metric_def){.type = DG_METRIC_GAUGE,
                                                   .name = "durable_gateway_build_info",
                                                   .help = "Always 1; the version label is the gateway's.",
                                                   .labels = {{"version", version_values, 1}},
                                                   .nlabels = 1});
    dg_metric_gauge_add(info, 0, 1);
    g_start_time = read_start_time();
}

unsigned gw_metrics_route_of(unsigned rt_route)
{
    return rt_route >= 1 && rt_route <= g_ntable ? rt_route - 1 : g_ntable + GW_ROUTE_UNMATCHED;
}

unsigned gw_metrics_route_own(enum gw_route r)
{
    return g_ntable + (unsigned) r;
}

const char *gw_metrics_route_name(unsigned route)
{
    return route < g_nroutes ? g_route_values[route] : "unmatched";
}

void gw_metrics_request(unsigned route, int status, int64_t duration_us)
{
    dg_metric_add(g_requests, dg_metric_series2(g_requests, route, dg_metric_code_index(status)), 1);
    dg_metric_observe_us(g_duration, route, duration_us > 0 ? (uint64_t) duration_us : 0);
}

void gw_metrics_in_flight(int delta)
{
    dg_metric_gauge_add(g_in_flight, 0, delta);
}

long gw_metrics_in_flight_now(void)
{
    return (long) dg_metric_value(g_in_flight, 0);
}

void gw_metrics_running(int delta)
{
    dg_metric_gauge_add(g_running, 0, delta);
}

long gw_metrics_running_now(void)
{
    return (long) dg_metric_value(g_running, 0);
}

void gw_metrics_connection(int delta)
{
    dg_metric_gauge_add(g_connections, 0, delta);
}

void gw_metrics_upstream(int status, int64_t duration_us)
{
    dg_metric_add(g_up_requests, dg_metric_code_index(status), 1);
    dg_metric_observe_us(g_up_duration, 0, duration_us > 0 ? (uint64_t) duration_us : 0);
}

static long count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

void gw_metrics_process(dg_buf *out)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    dg_metrics_write(out, DG_METRIC_GAUGE, "process_resident_memory_bytes", "Resident memory size in bytes.",
                     (double) resident * (double) page);
    dg_metrics_write(out, DG_METRIC_GAUGE, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
                     (double) size * (double) page);
    dg_metrics_write(out, DG_METRIC_GAUGE, "process_open_fds", "Number of open file descriptors.",
                     (double) count_fds());
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        dg_metrics_write(out, DG_METRIC_GAUGE, "process_max_fds", "Maximum number of open file descriptors.",
                         (double) rl.rlim_cur);
    dg_metrics_write(out, DG_METRIC_GAUGE, "process_start_time_seconds",
                     "Start time of the process since the Unix epoch in seconds.", g_start_time);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        dg_metrics_write(out, DG_METRIC_COUNTER, "process_cpu_seconds_total",
                         "Total user and system CPU time spent in seconds.",
                         (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                             (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}
