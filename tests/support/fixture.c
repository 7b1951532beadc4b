#include "tests/support/fixture.h"

#include "storage/table.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define FIXTURE_MAX_ROWS 200

struct fixture fixture_load(dg_arena *a, const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    struct fixture fx = {.rows = dg_arena_alloc(a, FIXTURE_MAX_ROWS * sizeof *fx.rows)};
    char line[16384];
    while (fgets(line, sizeof line, f)) {
        if (line[0] != '{')
            continue;
        cr_assert_lt(fx.n, FIXTURE_MAX_ROWS);
        cJSON *j = cJSON_Parse(line);
        cr_assert_not_null(j, "bad line in %s", path);
        dg_arena_defer(a, (void (*)(void *)) cJSON_Delete, j);
        struct fixture_row *r = &fx.rows[fx.n++];
        r->table = dg_arena_strdup(a, cJSON_GetObjectItem(j, "table")->valuestring);
        /* The entity's text again, so that numbers keep how they were written. */
        char *txt = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "entity"));
        struct az_numscan ns;
        az_numscan_init(&ns, a, txt, strlen(txt));
        cr_assert_eq(az_entity_from_json(a, cJSON_GetObjectItem(j, "entity"), &ns, &r->e), DG_OK);
        cJSON_free(txt);
    }
    fclose(f);
    return fx;
}

void fixture_seed(az_client *c, dg_arena *a, const char *hub, const struct fixture *fx, const char *pk)
{
    for (size_t i = 0; i < fx->n; i++) {
        if (pk && strcmp(fx->rows[i].e.pk, pk) != 0)
            continue;
        az_ctx x;
        az_ctx_init(&x, a);
        cr_assert_eq(az_table_write(c, &x, dg_arena_printf(a, "%s%s", hub, fx->rows[i].table),
                                    AZ_UPSERT_REPLACE, &fx->rows[i].e, NULL, NULL),
                     DG_OK, "%s", x.st.message);
    }
}
