#include "storage/blob.h"

#include "base/url.h"
#include "storage/internal.h"
#include "storage/xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool az_container_name_ok(const char *name)
{
    return az_dns_name_ok(name);
}

static char *blob_path(dg_arena *a, const char *container, const char *name)
{
    return dg_arena_printf(a, "/%s/%s", container, dg_url_encode_a(a, name, strlen(name), "/"));
}

bool az_blob_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 1024)
        return false;
    for (const char *seg = name; seg;) {
        const char *slash = strchr(seg, '/');
        size_t sn = slash ? (size_t) (slash - seg) : strlen(seg);
        if ((sn == 1 && seg[0] == '.') || (sn == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg = slash ? slash + 1 : NULL;
    }
    return true;
}

/* PUT or DELETE of a whole container. */
static dg_err container_call(az_client *c, az_ctx *x, const char *method, enum az_op op,
                             const char *container)
{
    if (!az_container_name_ok(container))
        return az_refuse(x, DG_EINVAL, "invalid container name");
    struct az_request r = {
        .svc = AZ_BLOB, .op = op, .method = method, .path = dg_arena_printf(x->arena, "/%s", container)};
    az_req_query(&r, "restype", "container");
    struct az_response resp;
    dg_err rc = az_call(c, x, &r, &resp);
    az_response_free(&resp);
    return rc;
}

dg_err az_container_create(az_client *c, az_ctx *x, const char *container)
{
    dg_err rc = container_call(c, x, "PUT", AZ_OP_CREATE_CONTAINER, container);
    return rc == DG_ECONFLICT && strcmp(x->st.code, "ContainerAlreadyExists") == 0 ? DG_OK : rc;
}

dg_err az_container_delete(az_client *c, az_ctx *x, const char *container)
{
    return container_call(c, x, "DELETE", AZ_OP_DELETE_CONTAINER, container);
}

dg_err az_blob_put(az_client *c, az_ctx *x, const char *container, const char *name, const void *data,
                   size_t n, const char *content_type, const char *content_encoding)
{
    if (!az_container_name_ok(container) || !az_blob_name_ok(name))
        return az_refuse(x, DG_EINVAL, "invalid container or blob name");
    struct az_request r = {
        .svc = AZ_BLOB, .op = AZ_OP_PUT_BLOB, .method = "PUT", .path = blob_path(x->arena, container, name)};
    az_req_header(&r, "x-ms-blob-type", "BlockBlob");
    az_req_header(&r, "Content-Type", content_type ? content_type : "application/octet-stream");
    if (content_encoding)
        az_req_header(&r, "Content-Encoding", content_encoding);
    r.body = n ? data : "";
    r.body_len = n;
    struct az_response resp;
    dg_err rc = az_call(c, x, &r, &resp);
    az_response_free(&resp);
    return rc;
}

dg_err az_blob_get(az_client *c, az_ctx *x, const char *container, const char *name, char **data, size_t *n)
{
    *data = NULL;
    *n = 0;
    if (!az_container_name_ok(container) || !az_blob_name_ok(name))
        return az_refuse(x, DG_EINVAL, "invalid container or blob name");
    struct az_request r = {
        .svc = AZ_BLOB, .op = AZ_OP_GET_BLOB, .method = "GET", .path = blob_path(x->arena, container, name)};
    struct az_response resp;
    dg_err rc = az_call(c, x, &r, &resp);
    if (!rc) {
        *data = dg_arena_strndup(x->arena, dg_buf_str(&resp.body), resp.body.len);
        *n = resp.body.len;
    }
    az_response_free(&resp);
    return rc;
}

dg_err az_blob_delete(az_client *c, az_ctx *x, const char *container, const char *name)
{
    if (!az_container_name_ok(container) || !az_blob_name_ok(name))
        return az_refuse(x, DG_EINVAL, "invalid container or blob name");
    struct az_request r = {.svc = AZ_BLOB,
                           .op = AZ_OP_DELETE_BLOB,
                           .method = "DELETE",
                           .path = blob_path(x->arena, container, name)};
    struct az_response resp;
    dg_err rc = az_call(c, x, &r, &resp);
    az_response_free(&resp);
    return rc;
}

dg_err az_blob_list_read(az_ctx *x, const struct az_response *resp, struct az_blob_item **items, size_t *n,
                         const char **next_marker)
{
    *items = NULL;
    *n = 0;
    *next_marker = NULL;
    xmlDocPtr doc = az_xml_parse(x->arena, dg_buf_str(&resp->body), resp->body.len);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || strcmp((const char *) root->name, "EnumerationResults") != 0)
        return DG_EBADRESP;
    xmlNodePtr blobs = az_xml_child(root, "Blobs");
    size_t count = 0;
    for (xmlNodePtr b = blobs ? blobs->children : NULL; b; b = b->next)
        count += b->type == XML_ELEMENT_NODE && strcmp((const char *) b->name, "Blob") == 0;
    *items = dg_arena_zalloc(x->arena, (count ? count : 1) * sizeof **items);
    for (xmlNodePtr b = blobs ? blobs->children : NULL; b; b = b->next) {
        if (b->type != XML_ELEMENT_NODE || strcmp((const char *) b->name, "Blob") != 0)
            continue;
        struct az_blob_item *it = &(*items)[(*n)++];
        it->name = az_xml_child_text(x->arena, b, "Name");
        xmlNodePtr props = az_xml_child(b, "Properties");
        const char *len = az_xml_child_text(x->arena, props, "Content-Length");
        it->size = len ? strtoll(len, NULL, 10) : 0;
        it->etag = az_xml_child_text(x->arena, props, "Etag");
        const char *enc = az_xml_child_text(x->arena, props, "Content-Encoding");
        it->content_encoding = enc && *enc ? enc : NULL;
        if (!it->name)
            return DG_EBADRESP;
    }
    const char *nm = az_xml_child_text(x->arena, root, "NextMarker");
    *next_marker = nm && *nm ? nm : NULL;
    return DG_OK;
}

dg_err az_blob_list(az_client *c, az_ctx *x, const char *container, const char *prefix, const char *marker,
                    int max, struct az_blob_item **items, size_t *n, const char **next_marker)
{
    *items = NULL;
    *n = 0;
    *next_marker = NULL;
    if (!az_container_name_ok(container))
        return az_refuse(x, DG_EINVAL, "invalid container name");
    if (max < 0 || max > 5000)
        return az_refuse(x, DG_EINVAL, "maxresults must be 1..5000");
    struct az_request r = {.svc = AZ_BLOB,
                           .op = AZ_OP_LIST_BLOBS,
                           .method = "GET",
                           .path = dg_arena_printf(x->arena, "/%s", container)};
    az_req_query(&r, "restype", "container");
    az_req_query(&r, "comp", "list");
    if (prefix && *prefix)
        az_req_query(&r, "prefix", prefix);
    if (marker && *marker)
        az_req_query(&r, "marker", marker);
    if (max > 0)
        az_req_query(&r, "maxresults", dg_arena_printf(x->arena, "%d", max));
    struct az_response resp;
    dg_err rc = az_call(c, x, &r, &resp);
    if (!rc)
        rc = az_blob_list_read(x, &resp, items, n, next_marker);
    az_response_free(&resp);
    return rc;
}
