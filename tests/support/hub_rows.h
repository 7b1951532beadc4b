/* Task-hub rows as DurableTask.AzureStorage writes them (docs/storage-layout.md
 * §4, §5), built in memory with no storage call and no assertion: for the
 * test seeders (hub_seed.h) and the benchmarks' seeders alike. Everything
 * lives in the arena given. */
#ifndef DG_TEST_HUB_ROWS_H
#define DG_TEST_HUB_ROWS_H

#include "base/arena.h"
#include "storage/entity.h"

#include <stddef.h>

struct seed_instance {
    const char *id;      /* unescaped */
    const char *name;    /* orchestrator name; NULL: "E1_HelloSequence" */
    const char *status;  /* RuntimeStatus */
    const char *created; /* ISO-8601 CreatedTime; NULL: 2024-05-01T10:00:00.1234567Z */
    const char *input;   /* NULL: no Input column */
    const char *output;  /* NULL: no Output column */
};

/* The Instances row of one instance. A created time that does not parse
 * aborts: it is a literal of the caller's. */
void hub_rows_instance(dg_arena *a, const char *hub, const struct seed_instance *in, az_entity *e);
/* Its History: `events` rows (RowKey 16 upper-case hex digits from 0: an
 * OrchestratorStarted, an ExecutionStarted, scheduled and completed tasks, the
 * ExecutionCompleted last) and the sentinel, events + 1 entities in *rows. */
size_t hub_rows_history(dg_arena *a, const char *id, int events, az_entity **rows);

#endif
