/* Task-hub rows and blobs as DurableTask.AzureStorage writes them
 * (docs/storage-layout.md §4, §5, §7; the rows themselves come from hub_rows.h), for route tests, and the
 * counts a test checks storage with afterwards. Every call asserts success; everything lives in the arena
 * given. */
#ifndef DG_TEST_HUB_SEED_H
#define DG_TEST_HUB_SEED_H

#include "storage/client.h"
#include "tests/support/hub_rows.h"

#include <stdbool.h>
#include <stddef.h>

/* Upserts the Instances row of one instance (the table must exist). */
void seed_instance(az_client *c, dg_arena *a, const char *hub, const struct seed_instance *in);
/* Writes events History rows (RowKey 16 upper-case hex digits from 0, in entity
 * group transactions of at most 100) and the sentinel row. The table is made
 * when missing. */
void seed_history(az_client *c, dg_arena *a, const char *hub, const char *id, int events);
/* A gzip blob in {h}-largemessages (the container is made when missing). */
void seed_blob(az_client *c, dg_arena *a, const char *hub, const char *name, const char *text);

/* What is left: History rows of an instance, whether its Instances row exists,
 * and the blobs of {h}-largemessages whose names start with prefix. */
size_t count_history(az_client *c, dg_arena *a, const char *hub, const char *id);
bool instance_exists(az_client *c, dg_arena *a, const char *hub, const char *id);
size_t count_blobs(az_client *c, dg_arena *a, const char *hub, const char *prefix);

#endif
