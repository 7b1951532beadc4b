/* libFuzzer target: the XML answers of the Queue and Blob services
 * (storage/xml.c and its callers): a queue's message list
 * (az_queue_list_read), a container's blob listing (az_blob_list_read) and
 * an error body (az_error_read, which also takes the JSON form). Every
 * message read has its text and a length that matches it, every blob listed
 * has a name, and the error code and message kept are bounded one-line texts. */
#include "storage/blob.h"
#include "storage/internal.h"
#include "storage/queue.h"

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
    dg_arena *a = dg_arena_create();
    az_ctx x;
    az_ctx_init(&x, a);
    struct az_response resp = {.status = 200};
    dg_buf_init(&resp.body, 8u << 20);
    (void) dg_buf_add(&resp.body, data, size);

    struct az_qmsg *msgs;
    size_t n;
    if (az_queue_list_read(&x, &resp, &msgs, &n) == DG_OK)
        for (size_t i = 0; i < n; i++)
            if (!msgs[i].text || strlen(msgs[i].text) != msgs[i].text_len)
                abort();

    struct az_blob_item *items;
    const char *next;
    if (az_blob_list_read(&x, &resp, &items, &n, &next) == DG_OK) {
        for (size_t i = 0; i < n; i++)
            if (!items[i].name)
                abort();
        if (next && !*next)
            abort();
    }

    resp.status = 403;
    az_error_read(&x, &resp);
    one_line(x.st.code, sizeof x.st.code);
    one_line(x.st.message, sizeof x.st.message);

    az_response_free(&resp);
    dg_arena_destroy(a);
    return 0;
}
