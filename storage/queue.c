#include "storage/queue.h"

#include "base/buf.h"
#include "storage/internal.h"
#include "storage/xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_MAX (64u * 1024 * 4) /* escaped text of a 64 KiB message, with room */

bool az_queue_name_ok(const char *name)
{
    return az_dns_name_ok(name);
}

dg_err az_queue_create(az_client *c, az_ctx *x, const char *queue)
{
    if (!az_queue_name_ok(queue))
        return az_refuse(x, DG_EINVAL, "invalid queue name");
    struct az_request r = {.svc = AZ_QUEUE,
                           .op = AZ_OP_CREATE_QUEUE,
                           .method = "PUT",
                           .path = dg_arena_printf(x->arena, "/%s", queue)};
    struct az_response resp;
    dg_err rc = az_call(c, x, &r, &resp);
    if (rc == DG_ECONFLICT && strcmp(x->st.code, "QueueAlreadyExists") == 0)
        rc = DG_OK;
    az_response_free(&resp);
    return rc;
}

dg_err az_queue_delete(az_client *c, az_ctx *x, const char *queue)
{
    if (!az_queue_name_ok(queue))
        return az_refuse(x, DG_EINVAL, "invalid queue name");
    struct az_request r = {.svc = AZ_QUEUE,
                           .op = AZ_OP_DELETE_QUEUE,
                           .method = "DELETE",
                           .path = dg_arena_printf(x->arena, "/%s", queue)};
    struct az_response resp;
    dg_err rc = az_call(c, x, &r, &resp);
    az_response_free(&resp);
    return rc;
}

/* XML 1.0 cannot carry most control characters at all: refuse them. */
static dg_err xml_escape(dg_buf *b, const char *s, size_t n)
{
    dg_err rc = DG_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char ch = (unsigned char) s[i];
        switch (ch) {
        case '<':
            rc = dg_buf_adds(b, "&lt;");
            break;
        case '>':
            rc = dg_buf_adds(b, "&gt;");
            break;
        case '&':
            rc = dg_buf_adds(b, "&amp;");
            break;
        case '"':
            rc = dg_buf_adds(b, "&quot;");
            break;
        case '\'':
            rc = dg_buf_adds(b, "&apos;");
            break;
        case '\r':
            rc = dg_buf_adds(b, "&#13;"); /* XML parsers would turn a raw CR into LF */
            break;
        default:
            if (ch < 0x20 && ch != '\t' && ch != '\n')
                return DG_EINVAL;
            rc = dg_buf_addc(b, (char) ch);
        }
    }
    return rc;
}

static void parse_msg(dg_arena *a, xmlNodePtr m, struct az_qmsg *q)
{
    memset(q, 0, sizeof *q);
    q->id = az_xml_child_text(a, m, "MessageId");
    q->pop_receipt = az_xml_child_text(a, m, "PopReceipt");
    const char *t = az_xml_child_text(a, m, "MessageText");
    q->text = t ? t : "";
    q->text_len = strlen(q->text);
    const char *dc = az_xml_child_text(a, m, "DequeueCount");
    q->dequeue_count = dc ? strtol(dc, NULL, 10) : 0;
}

dg_err az_queue_list_read(az_ctx *x, const struct az_response *resp, struct az_qmsg **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    xmlDocPtr doc = az_xml_parse(x->arena, dg_buf_str(&resp->body), resp->body.len);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || strcmp((const char *) root->name, "QueueMessagesList") != 0)
        return DG_EBADRESP;
    size_t count = 0;
    for (xmlNodePtr m = root->children; m; m = m->next)
        count += m->type == XML_ELEMENT_NODE && strcmp((const char *) m->name, "QueueMessage") == 0;
    *out = dg_arena_zalloc(x->arena, (count ? count : 1) * sizeof **out);
    for (xmlNodePtr m = root->children; m; m = m->next)
        if (m->type == XML_ELEMENT_NODE && strcmp((const char *) m->name, "QueueMessage") == 0)
            parse_msg(x->arena, m, &(*out)[(*n)++]);
    return DG_OK;
}

dg_err az_queue_put(az_client *c, az_ctx *x, const char *queue, const char *text, size_t n, long visibility_s,
                    long ttl_s, struct az_qmsg *out)
{
    if (!az_queue_name_ok(queue))
        return az_refuse(x, DG_EINVAL, "invalid queue name");
    dg_buf b;
    dg_buf_init(&b, MSG_MAX);
    dg_err rc = dg_buf_adds(&b, "<QueueMessage><MessageText>");
    if (!rc)
        rc = xml_escape(&b, text, n);
    if (!rc)
        rc = dg_buf_adds(&b, "</MessageText></QueueMessage>");
    if (rc) {
        dg_buf_free(&b);
        return az_refuse(
            x, rc, rc == DG_ETOOBIG ? "message too large" : "message text has characters XML cannot carry");
    }
    struct az_request r = {.svc = AZ_QUEUE,
                           .op = AZ_OP_PUT_MESSAGE,
                           .method = "POST",
                           .path = dg_arena_printf(x->arena, "/%s/messages", queue)};
    if (visibility_s > 0)
        az_req_query(&r, "visibilitytimeout", dg_arena_printf(x->arena, "%ld", visibility_s));
    if (ttl_s != 0)
        az_req_query(&r, "messagettl", dg_arena_printf(x->arena, "%ld", ttl_s < 0 ? -1L : ttl_s));
    az_req_header(&r, "Content-Type", "application/xml");
    r.body = dg_arena_strndup(x->arena, dg_buf_str(&b), b.len);
    r.body_len = b.len;
    dg_buf_free(&b);
    struct az_response resp;
    rc = az_call(c, x, &r, &resp);
    if (!rc && out) {
        struct az_qmsg *list;
        size_t got;
        rc = az_queue_list_read(x, &resp, &list, &got);
        if (!rc && got == 1) {
            *out = list[0];
            out->text = dg_arena_strndup(x->arena, text, n);
            out->text_len = n;
        } else if (!rc) {
            rc = DG_EBADRESP;
        }
    }
    az_response_free(&resp);
    return rc;
}

static dg_err get_or_peek(az_client *c, az_ctx *x, const char *queue, int max, long visibility_s, int peek,
                          struct az_qmsg **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!az_queue_name_ok(queue))
        return az_refuse(x, DG_EINVAL, "invalid queue name");
    if (max < 1 || max > 32)
        return DG_EINVAL;
    struct az_request r = {.svc = AZ_QUEUE,
                           .op = peek ? AZ_OP_PEEK_MESSAGES : AZ_OP_GET_MESSAGES,
                           .method = "GET",
                           .path = dg_arena_printf(x->arena, "/%s/messages", queue)};
    az_req_query(&r, "numofmessages", dg_arena_printf(x->arena, "%d", max));
    if (peek)
        az_req_query(&r, "peekonly", "true");
    else if (visibility_s > 0)
        az_req_query(&r, "visibilitytimeout", dg_arena_printf(x->arena, "%ld", visibility_s));
    struct az_response resp;
    dg_err rc = az_call(c, x, &r, &resp);
    if (!rc)
        rc = az_queue_list_read(x, &resp, out, n);
    az_response_free(&resp);
    return rc;
}

dg_err az_queue_get(az_client *c, az_ctx *x, const char *queue, int max, long visibility_s,
                    struct az_qmsg **out, size_t *n)
{
    return get_or_peek(c, x, queue, max, visibility_s, 0, out, n);
}

dg_err az_queue_peek(az_client *c, az_ctx *x, const char *queue, int max, struct az_qmsg **out, size_t *n)
{
    return get_or_peek(c, x, queue, max, 0, 1, out, n);
}

dg_err az_queue_delete_msg(az_client *c, az_ctx *x, const char *queue, const char *id,
                           const char *pop_receipt)
{
    if (!az_queue_name_ok(queue))
        return az_refuse(x, DG_EINVAL, "invalid queue name");
    if (!id || !pop_receipt)
        return DG_EINVAL;
    struct az_request r = {
        .svc = AZ_QUEUE,
        .op = AZ_OP_DELETE_MESSAGE,
        .method = "DELETE",
        .path = dg_arena_printf(x->arena, "/%s/messages/%s", queue, az_path_segment(x->arena, id))};
    az_req_query(&r, "popreceipt", pop_receipt);
    struct az_response resp;
    dg_err rc = az_call(c, x, &r, &resp);
    az_response_free(&resp);
    return rc;
}
