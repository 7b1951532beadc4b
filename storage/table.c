#include "storage/table.h"

#include "base/json.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/url.h"
#include "storage/internal.h"
#include "storage/odata.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BODY_MAX  (4u << 20) /* the service's own limit on an entity or a batch body */
#define BATCH_MAX (4u << 20)

bool az_table_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 3 || n > 63 || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            return false;
    }
    return true;
}

static struct az_request table_req(enum az_op op, const char *method, const char *path)
{
    struct az_request r = {.svc = AZ_TABLE, .op = op, .method = method, .path = path, .table_json = true};
    return r;
}

/* "tbl(PartitionKey='pk',RowKey='rk')", keys OData-quoted, then percent-encoded.
 * NULL when the keys are too long for a request (the buffers poison themselves,
 * so one check at the end sees any append that failed). */
static char *entity_path(dg_arena *a, const char *table, const char *pk, const char *rk)
{
    dg_buf q, u;
    dg_buf_init(&q, BODY_MAX);
    dg_buf_init(&u, BODY_MAX);
    dg_err rc = dg_buf_addf(&u, "/%s(PartitionKey=", table);
    if (!rc)
        rc = az_odata_quote(&q, pk, strlen(pk));
    if (!rc)
        rc = dg_url_encode(&u, q.d, q.len, "'");
    if (!rc)
        rc = dg_buf_adds(&u, ",RowKey=");
    dg_buf_reset(&q);
    if (!rc)
        rc = az_odata_quote(&q, rk, strlen(rk));
    if (!rc)
        rc = dg_url_encode(&u, q.d, q.len, "'");
    if (!rc)
        rc = dg_buf_addc(&u, ')');
    char *r = rc ? NULL : dg_arena_strndup(a, dg_buf_str(&u), u.len);
    dg_buf_free(&q);
    dg_buf_free(&u);
    return r;
}

dg_err az_table_create(az_client *c, az_ctx *x, const char *table)
{
    if (!az_table_name_ok(table))
        return az_refuse(x, DG_EINVAL, "invalid table name");
    struct az_request r = table_req(AZ_OP_CREATE_TABLE, "POST", "/Tables");
    char *body = dg_arena_printf(x->arena, "{\"TableName\":\"%s\"}", table);
    r.body = body;
    r.body_len = strlen(body);
    az_req_header(&r, "Content-Type", "application/json");
    az_req_header(&r, "Prefer", "return-no-content");
    struct az_response resp;
    dg_err rc = az_call(c, x, &r, &resp);
    if (rc == DG_ECONFLICT && strcmp(x->st.code, "TableAlreadyExists") == 0)
        rc = DG_OK;
    az_response_free(&resp);
    return rc;
}

dg_err az_table_delete(az_client *c, az_ctx *x, const char *table)
{
    if (!az_table_name_ok(table))
        return az_refuse(x, DG_EINVAL, "invalid table name");
    struct az_request r =
        table_req(AZ_OP_DELETE_TABLE, "DELETE", dg_arena_printf(x->arena, "/Tables('%s')", table));
    struct az_response resp;
    dg_err rc = az_call(c, x, &r, &resp);
    az_response_free(&resp);
    return rc;
}

/* The path of one entity, after checking the table name and the keys; a
 * refusal (az_refuse) when they cannot make a request. */
static dg_err key_path(az_ctx *x, const char *table, const char *pk, const char *rk, const char **path)
{
    if (!az_table_name_ok(table) || !pk || !rk)
        return az_refuse(x, DG_EINVAL, "invalid table name or key");
    *path = entity_path(x->arena, table, pk, rk);
    return *path ? DG_OK : az_refuse(x, DG_EINVAL, "keys too long");
}

static dg_err parse_entity_body(az_ctx *x, const struct az_response *resp, az_entity *out)
{
    return az_entity_parse(x->arena, dg_buf_str(&resp->body), resp->body.len, out);
}

dg_err az_table_get(az_client *c, az_ctx *x, const char *table, const char *pk, const char *rk,
                    const char *select, az_entity *out)
{
    const char *path;
    dg_err rc = key_path(x, table, pk, rk, &path);
    if (rc)
        return rc;
    struct az_request r = table_req(AZ_OP_GET_ENTITY, "GET", path);
    if (select)
        az_req_query(&r, "$select", select);
    struct az_response resp;
    rc = az_call(c, x, &r, &resp);
    if (!rc)
        rc = parse_entity_body(x, &resp, out);
    if (!rc) {
        const char *etag = az_response_header(&resp, "ETag");
        if (etag)
            out->etag = dg_arena_strdup(x->arena, etag);
        /* $select may leave the keys out of the body: they are known anyway. */
        out->pk = dg_arena_strdup(x->arena, pk);
        out->rk = dg_arena_strdup(x->arena, rk);
    }
    az_response_free(&resp);
    return rc;
}

dg_err az_table_write(az_client *c, az_ctx *x, const char *table, enum az_write mode, const az_entity *e,
                      const char *if_match, const char **etag_out)
{
    const char *path = ""; /* an insert posts to the table */
    dg_err rc = DG_OK;
    if (mode != AZ_INSERT)
        rc = key_path(x, table, e->pk, e->rk, &path);
    else if (!az_table_name_ok(table) || !e->pk || !e->rk)
        rc = az_refuse(x, DG_EINVAL, "invalid table name or key");
    if (rc)
        return rc;
    dg_buf body;
    dg_buf_init(&body, BODY_MAX);
    if ((rc = az_entity_to_json(e, true, &body)) != DG_OK) {
        dg_buf_free(&body);
        return az_refuse(x, rc, rc == DG_ETOOBIG ? "entity too large" : "invalid property");
    }
    struct az_request r;
    switch (mode) {
    case AZ_INSERT:
        r = table_req(AZ_OP_INSERT_ENTITY, "POST", dg_arena_printf(x->arena, "/%s", table));
        az_req_header(&r, "Prefer", "return-no-content");
        break;
    case AZ_UPSERT_REPLACE:
    case AZ_REPLACE:
        r = table_req(mode == AZ_REPLACE ? AZ_OP_UPDATE_ENTITY : AZ_OP_INSERT_OR_REPLACE_ENTITY, "PUT", path);
        break;
    case AZ_UPSERT_MERGE:
    case AZ_MERGE:
    default:
        r = table_req(mode == AZ_UPSERT_MERGE ? AZ_OP_INSERT_OR_MERGE_ENTITY : AZ_OP_MERGE_ENTITY, "MERGE",
                      path);
        break;
    }
    if (mode == AZ_REPLACE || mode == AZ_MERGE)
        az_req_header(&r, "If-Match", if_match ? if_match : "*");
    az_req_header(&r, "Content-Type", "application/json");
    r.body = dg_arena_strndup(x->arena, dg_buf_str(&body), body.len);
    r.body_len = body.len;
    dg_buf_free(&body);
    struct az_response resp;
    rc = az_call(c, x, &r, &resp);
    if (!rc && etag_out) {
        const char *etag = az_response_header(&resp, "ETag");
        *etag_out = etag ? dg_arena_strdup(x->arena, etag) : NULL;
    }
    az_response_free(&resp);
    return rc;
}

dg_err az_table_delete_entity(az_client *c, az_ctx *x, const char *table, const char *pk, const char *rk,
                              const char *if_match)
{
    const char *path;
    dg_err rc = key_path(x, table, pk, rk, &path);
    if (rc)
        return rc;
    struct az_request r = table_req(AZ_OP_DELETE_ENTITY, "DELETE", path);
    az_req_header(&r, "If-Match", if_match ? if_match : "*");
    struct az_response resp;
    rc = az_call(c, x, &r, &resp);
    az_response_free(&resp);
    return rc;
}

bool az_cursor_take(struct az_cursor *c, const struct az_page *pg)
{
    az_cursor_free(c);
    c->pk = pg->next_pk ? dg_xstrdup(pg->next_pk) : NULL;
    c->rk = pg->next_rk ? dg_xstrdup(pg->next_rk) : NULL;
    return c->pk != NULL;
}

void az_cursor_free(struct az_cursor *c)
{
    free(c->pk);
    free(c->rk);
    c->pk = c->rk = NULL;
}

dg_err az_table_query(az_client *c, az_ctx *x, const char *table, const struct az_query *q,
                      struct az_page *out)
{
    memset(out, 0, sizeof *out);
    if (!az_table_name_ok(table) || (q->top < 0 || q->top > 1000))
        return az_refuse(x, DG_EINVAL, "invalid table name or $top");
    struct az_request r = table_req(AZ_OP_QUERY_ENTITIES, "GET", dg_arena_printf(x->arena, "/%s()", table));
    if (q->filter && *q->filter)
        az_req_query(&r, "$filter", q->filter);
    if (q->select && *q->select)
        az_req_query(&r, "$select", q->select);
    if (q->top > 0)
        az_req_query(&r, "$top", dg_arena_printf(x->arena, "%d", q->top));
    if (q->next_pk && *q->next_pk)
        az_req_query(&r, "NextPartitionKey", q->next_pk);
    if (q->next_rk && *q->next_rk)
        az_req_query(&r, "NextRowKey", q->next_rk);
    struct az_response resp;
    dg_err rc = az_call(c, x, &r, &resp);
    if (rc)
        goto out;
    rc = az_entities_parse(x->arena, dg_buf_str(&resp.body), resp.body.len, &out->items, &out->n);
    if (rc)
        goto out;
    const char *npk = az_response_header(&resp, "x-ms-continuation-NextPartitionKey");
    const char *nrk = az_response_header(&resp, "x-ms-continuation-NextRowKey");
    out->next_pk = npk && *npk ? dg_arena_strdup(x->arena, npk) : NULL;
    out->next_rk = nrk && *nrk ? dg_arena_strdup(x->arena, nrk) : NULL;
    if (!out->next_pk)
        out->next_rk = NULL;
out:
    az_response_free(&resp);
    return rc;
}

/* ---- entity group transactions ---- */

/* Appends one part of a changeset. The buffer poisons itself on the first
 * append that does not fit, so the result of the last one stands for all. */
static dg_err batch_part(dg_buf *b, const char *changeset, const char *method, const char *url,
                         const char *if_match, const char *json, size_t json_len)
{
    (void) dg_buf_addf(
        b, "--%s\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n", changeset);
    (void) dg_buf_addf(b, "%s %s HTTP/1.1\r\n", method, url);
    (void) dg_buf_adds(b, "Accept: application/json;odata=minimalmetadata\r\nDataServiceVersion: 3.0;\r\n");
    if (if_match)
        (void) dg_buf_addf(b, "If-Match: %s\r\n", if_match);
    if (json) {
        (void) dg_buf_adds(b, "Content-Type: application/json\r\nPrefer: return-no-content\r\n");
        (void) dg_buf_addf(b, "Content-Length: %zu\r\n\r\n", json_len);
        (void) dg_buf_add(b, json, json_len);
    }
    (void) dg_buf_adds(b, "\r\n");
    return dg_buf_err(b);
}

/* Reads the inner responses: one status line each, in order on success; a
 * single error response (whose message starts "index:") on failure. */
dg_err az_table_batch_read(az_ctx *x, const struct az_response *resp, size_t n, struct az_batch_result *res)
{
    const char *p = dg_buf_str(&resp->body);
    const char *end = p + resp->body.len;
    size_t seen = 0;
    long fail_status = 0;
    while (p < end) {
        const char *h = strstr(p, "HTTP/1.1 ");
        if (!h)
            break;
        long st = strtol(h + 9, NULL, 10);
        p = h + 9;
        if (st < 200 || st > 599) /* an interim 1xx is no operation's answer */
            return DG_EBADRESP;
        if (st < 300) {
            if (seen < n)
                res->status[seen] = st;
            seen++;
            continue;
        }
        fail_status = st;
        /* The error body: JSON after the part's blank line. */
        const char *body = strstr(h, "\r\n\r\n");
        int idx = -1;
        if (body) {
            body += 4;
            const char *stop = strstr(body, "\r\n--");
            size_t blen = stop ? (size_t) (stop - body) : strlen(body);
            struct az_response inner = {.status = st};
            dg_buf_init(&inner.body, blen + 1);
            cJSON *j = dg_buf_add(&inner.body, body, blen)
                           ? NULL
                           : dg_json_parse(dg_buf_str(&inner.body), inner.body.len);
            const char *code, *msg;
            az_json_error(j, &code, &msg);
            if (code) /* its first line, as az_error_read keeps it */
                snprintf(x->st.code, sizeof x->st.code, "%.*s", (int) strcspn(code, "\r\n"), code);
            if (msg) {
                /* "<index of the failed operation>:<message>" */
                char *colon = NULL;
                long v = strtol(msg, &colon, 10);
                if (colon && *colon == ':' && colon != msg && v >= 0 && (size_t) v < n)
                    idx = (int) v;
                const char *m = colon && *colon == ':' ? colon + 1 : msg;
                size_t ml = strcspn(m, "\r\n");
                if (ml >= sizeof x->st.message)
                    ml = sizeof x->st.message - 1;
                memcpy(x->st.message, m, ml);
                x->st.message[ml] = '\0';
            }
            cJSON_Delete(j);
            dg_buf_free(&inner.body);
        }
        if (idx < 0 && n == 1)
            idx = 0;
        res->failed = idx;
        break;
    }
    if (fail_status) {
        for (size_t i = 0; i < n; i++)
            res->status[i] = 0;
        if (res->failed >= 0)
            res->status[res->failed] = fail_status;
        x->st.http = fail_status;
        return az_map_status(fail_status, x->st.code);
    }
    if (seen != n)
        return DG_EBADRESP;
    return DG_OK;
}

dg_err az_table_batch(az_client *c, az_ctx *x, const char *table, const struct az_batch_op *ops, size_t n,
                      struct az_batch_result *res)
{
    memset(res, 0, sizeof *res);
    res->failed = -1;
    if (!az_table_name_ok(table) || n == 0 || n > AZ_BATCH_MAX)
        return az_refuse(x, DG_EINVAL, "a batch needs a valid table and 1 to 100 operations");
    for (size_t i = 0; i < n; i++) {
        if (!ops[i].e || !ops[i].e->pk || !ops[i].e->rk || strcmp(ops[i].e->pk, ops[0].e->pk) != 0)
            return az_refuse(x, DG_EINVAL, "every operation of a batch must name the same partition");
    }
    const char *ep = az_client_account(c)->endpoint[AZ_TABLE];
    if (!ep)
        return az_refuse(x, DG_EINVAL, "the connection string names no table endpoint");
    char batch_id[DG_UUID_LEN], cs_id[DG_UUID_LEN];
    dg_uuid4(batch_id);
    dg_uuid4(cs_id);
    const char *boundary = dg_arena_printf(x->arena, "batch_%s", batch_id);
    const char *changeset = dg_arena_printf(x->arena, "changeset_%s", cs_id);
    dg_buf b, json;
    dg_buf_init(&b, BATCH_MAX);
    dg_buf_init(&json, BODY_MAX);
    dg_err rc =
        dg_buf_addf(&b, "--%s\r\nContent-Type: multipart/mixed; boundary=%s\r\n\r\n", boundary, changeset);
    for (size_t i = 0; i < n && !rc; i++) {
        const az_entity *e = ops[i].e;
        const char *path = entity_path(x->arena, table, e->pk, e->rk);
        if (!path) {
            rc = DG_EINVAL;
            break;
        }
        const char *url = dg_arena_printf(x->arena, "%s%s", ep, path);
        const char *im = ops[i].if_match ? ops[i].if_match : "*";
        dg_buf_reset(&json);
        if (ops[i].kind != AZ_BATCH_DELETE)
            rc = az_entity_to_json(e, true, &json);
        if (rc)
            break;
        switch (ops[i].kind) {
        case AZ_BATCH_INSERT:
            rc = batch_part(&b, changeset, "POST", dg_arena_printf(x->arena, "%s/%s", ep, table), NULL,
                            json.d, json.len);
            break;
        case AZ_BATCH_UPSERT_REPLACE:
            rc = batch_part(&b, changeset, "PUT", url, NULL, json.d, json.len);
            break;
        case AZ_BATCH_UPSERT_MERGE:
            rc = batch_part(&b, changeset, "MERGE", url, NULL, json.d, json.len);
            break;
        case AZ_BATCH_REPLACE:
            rc = batch_part(&b, changeset, "PUT", url, im, json.d, json.len);
            break;
        case AZ_BATCH_MERGE:
            rc = batch_part(&b, changeset, "MERGE", url, im, json.d, json.len);
            break;
        case AZ_BATCH_DELETE:
            rc = batch_part(&b, changeset, "DELETE", url, im, NULL, 0);
            break;
        }
    }
    if (!rc)
        rc = dg_buf_addf(&b, "--%s--\r\n--%s--\r\n", changeset, boundary);
    dg_buf_free(&json);
    if (rc) {
        dg_buf_free(&b);
        return az_refuse(x, rc, rc == DG_ETOOBIG ? "the batch exceeds 4 MiB" : "invalid entity in batch");
    }
    struct az_request r = table_req(AZ_OP_BATCH, "POST", "/$batch");
    az_req_header(&r, "Content-Type", dg_arena_printf(x->arena, "multipart/mixed; boundary=%s", boundary));
    r.body = dg_arena_strndup(x->arena, dg_buf_str(&b), b.len);
    r.body_len = b.len;
    dg_buf_free(&b);
    struct az_response resp;
    rc = az_call(c, x, &r, &resp);
    if (!rc)
        rc = az_table_batch_read(x, &resp, n, res);
    az_response_free(&resp);
    return rc;
}
