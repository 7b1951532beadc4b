/* Rows the real worker wrote, captured as JSON lines
 * (tests/integration/routes/fixtures/README.md): one
 * {"table":"History"|"Instances","entity":{...}} a line, the entity in the
 * Table service's JSON. Every call asserts success; everything lives in the
 * arena given. */
#ifndef DG_TEST_FIXTURE_H
#define DG_TEST_FIXTURE_H

#include "storage/client.h"
#include "storage/entity.h"

#include <stddef.h>

struct fixture_row {
    const char *table; /* "History" or "Instances" */
    az_entity e;
};

struct fixture {
    struct fixture_row *rows;
    size_t n;
};

/* Reads the file at path (at most 200 rows). */
struct fixture fixture_load(dg_arena *a, const char *path);
/* Upserts the rows into hub's tables (which must exist): every row, or only
 * those whose PartitionKey is pk when pk is not NULL. */
void fixture_seed(az_client *c, dg_arena *a, const char *hub, const struct fixture *fx, const char *pk);

#endif
