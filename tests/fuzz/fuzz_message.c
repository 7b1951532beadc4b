/* libFuzzer target: queue-message envelopes as a worker leaves them, and how
 * the gateway gets at one (taskhub/message.c, taskhub/largemsg.c): the
 * envelope reader (hub_message_input) on the input as text and, when it
 * inflates, as the gzip blob a start message is kept in (hub_gunzip, capped);
 * and the input taken as an Instances Input/Output column that may point at
 * such a blob (hub_large_name_from_url). A name pointed at must stay inside
 * the hub's large-message container: no "." or ".." segment, which the HTTP
 * stack would resolve into another container's path. */
#include "taskhub/largemsg.h"
#include "taskhub/message.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void envelope(dg_arena *a, const char *text, size_t n)
{
    const char *input = (const char *) 1;
    dg_err rc = hub_message_input(a, text, n, &input);
    if (rc != DG_OK && rc != DG_EBADRESP)
        abort();
    if (rc && input)
        abort();
}

static void check_name(const char *name)
{
    if (!*name)
        abort();
    for (const char *seg = name; seg;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t) (end - seg) : strlen(seg);
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            abort();
        seg = end ? end + 1 : NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dg_arena *a = dg_arena_create();
    envelope(a, (const char *) data, size);
    char *text;
    size_t n;
    if (hub_gunzip(a, data, size, 1u << 20, &text, &n) == DG_OK) {
        if (text[n] != '\0')
            abort();
        envelope(a, text, n);
    }
    const char *value = dg_arena_strndup(a, (const char *) data, size);
    const char *name = hub_large_name_from_url(a, "FuzzHub", value);
    if (name)
        check_name(name);
    dg_arena_destroy(a);
    return 0;
}
