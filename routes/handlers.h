/* Private to routes/: one function per route, listed in router.c's table. */
#ifndef RT_HANDLERS_H
#define RT_HANDLERS_H

#include "routes/router.h"

void rt_get_status(const rt_ctx *c, rt_response *rs);

#endif
