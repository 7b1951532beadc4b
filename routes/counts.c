/* GET counts: how many instances match the list's filters, per runtime status
 * (a gateway route, docs/bulk.md), for dashboards. It reads the key and the
 * status of each row and nothing else, over several key ranges at once. */
#include "routes/handlers.h"
#include "taskhub/query.h"

#include <string.h>

/* Ranges read at once; ranges=N (1..16) asks for another number. */
#define COUNT_RANGES_DEFAULT 8

/* Every status, in the order of their numbers (docs/storage-layout.md §10.2), shown
 * even at zero so a dashboard needs no default; "Unknown" only when seen. */
static const char *const statuses[] = {"Running",  "Completed",  "ContinuedAsNew", "Failed",
                                       "Canceled", "Terminated", "Pending",        "Suspended"};

static uint64_t count_of(const struct hub_counts *h, const char *status)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->status[i], status) == 0)
            return h->count[i];
    return 0;
}

void rt_count_instances(const rt_ctx *c, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    struct hub_query q;
    if (!rt_list_filters(c, rs, &q))
        return;
    int ranges = COUNT_RANGES_DEFAULT;
    enum rt_param_result rr = rt_param_int(c, "ranges", &ranges);
    if (rr == RT_PARAM_BAD || (rr == RT_PARAM_OK && (ranges < 1 || ranges > HUB_RANGES_MAX))) {
        rt_set_argument_error(c, rs, "The 'ranges' parameter must be an integer from 1 to 16.");
        return;
    }
    az_ctx x;
    rt_az_ctx(c, &x);
    struct hub_counts h;
    dg_err rc = hub_query_count(c->storage, &x, c->hub, &q, ranges, &h);
    if (rc) {
        rt_storage_error(c, rs, rc);
        return;
    }
    dg_buf b;
    dg_buf_init(&b, 4096);
    dg_buf_addf(&b, "{\"total\":%llu,\"runtimeStatus\":{", (unsigned long long) h.total);
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++)
        dg_buf_addf(&b, "%s\"%s\":%llu", i ? "," : "", statuses[i],
                    (unsigned long long) count_of(&h, statuses[i]));
    uint64_t unknown = count_of(&h, "Unknown") + h.other;
    if (unknown)
        dg_buf_addf(&b, ",\"Unknown\":%llu", (unsigned long long) unknown);
    dg_buf_adds(&b, "}}");
    rt_set_json(rs, a, 200, dg_buf_str(&b));
    dg_buf_free(&b);
}
