/* base/mem.c: running out of memory aborts, in cJSON and libxml2 too. */
#include "base/mem.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <libxml/xmlmemory.h>
#include <signal.h>
#include <stdint.h>

/* Under AddressSanitizer an impossible allocation must fail as malloc does
 * (NULL), not stop the process with ASan's own report. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

#define HUGE_SIZE (SIZE_MAX / 2)

Test(mem, libxml2_allocates_through_the_project_allocator)
{
    dg_mem_init();
    dg_mem_init(); /* idempotent */
    xmlFreeFunc f;
    xmlMallocFunc m;
    xmlReallocFunc r;
    xmlStrdupFunc s;
    cr_assert_eq(xmlMemGet(&f, &m, &r, &s), 0);
    cr_assert_eq((void *) m, (void *) dg_xmalloc);
    cr_assert_eq((void *) r, (void *) dg_xrealloc);
    cr_assert_eq((void *) s, (void *) dg_xstrdup);
}

Test(mem, cjson_out_of_memory_aborts, .signal = SIGABRT)
{
    dg_mem_init();
    void *p = cJSON_malloc(HUGE_SIZE);
    cr_log_error("cJSON_malloc returned %p instead of aborting", p);
}

Test(mem, libxml2_out_of_memory_aborts, .signal = SIGABRT)
{
    dg_mem_init();
    void *p = xmlMalloc(HUGE_SIZE);
    cr_log_error("xmlMalloc returned %p instead of aborting", p);
}

Test(mem, plain_out_of_memory_aborts, .signal = SIGABRT)
{
    void *p = dg_xmalloc(HUGE_SIZE);
    cr_log_error("dg_xmalloc returned %p instead of aborting", p);
}
