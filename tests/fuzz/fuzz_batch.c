/* libFuzzer target: the answer to an entity group transaction, a multipart
 * body of inner HTTP responses (az_table_batch_read, storage/table.c). The
 * first input byte says how many operations were sent (1..100), the rest is
 * the answer. On success every operation has a 2xx status; on failure the
 * failing index is one that was sent (or -1), only it carries a status, and
 * the service's code and message are bounded one-line texts. */
#include "storage/internal.h"
#include "storage/table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void one_line(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap || strpbrk(s, "\r\n"))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = 1 + data[0] % AZ_BATCH_MAX;
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    struct az_response resp = {.status = 202};
    dg_buf_init(&resp.body, 8u << 20);
    (void) dg_buf_add(&resp.body, data + 1, size - 1);
    struct az_batch_result res;
    memset(&res, 0, sizeof res);
    res.failed = -1;
    dg_err rc = az_table_batch_read(&x, &resp, n, &res);
    if (rc == DG_OK) {
        for (size_t i = 0; i < n; i++)
            if (res.status[i] < 200 || res.status[i] > 299)
                abort();
    } else {
        if (res.failed < -1 || res.failed >= (int) n)
            abort();
        for (size_t i = 0; i < AZ_BATCH_MAX; i++)
            if (res.status[i] && (int) i != res.failed && x.st.http)
                abort(); /* a failed batch applied nothing but the failing operation's answer */
    }
    one_line(x.st.code, sizeof x.st.code);
    one_line(x.st.message, sizeof x.st.message);
    az_response_free(&resp);
    dg_arena_destroy(a);
    return 0;
}
