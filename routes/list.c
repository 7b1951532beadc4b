/* GET instances: list and query (docs/http-api.md §4.4) over one OData query per
 * service page (docs/storage-layout.md §8.5), and its fast form for whole-hub
 * reads, ranges=N: N key ranges of the Instances table queried at once
 * (docs/bulk.md). The answer is written straight into one buffer: stored
 * JSON is checked and copied, not parsed into a tree and printed again. */
#include "base/json.h"
#include "base/str.h"
#include "base/time.h"
#include "routes/handlers.h"
#include "taskhub/query.h"

#include <string.h>

#define LIST_TOP_DEFAULT 100
#define LIST_TOP_MAX     1000
/* The service may answer a page with no rows and a continuation; one request
 * keeps following them for about this long before it answers. */
#define LIST_EMPTY_PAGES_MS 100
/* The answer's cap: 1,000 rows (16,000 in the fast form) with their Input and Output. */
#define LIST_BODY_MAX ((size_t) 1 << 30)
/* The fast form's token: one plain token per range (docs/bulk.md). */
#define RANGES_TOKEN_MAX (HUB_RANGES_MAX * RT_TOKEN_MAX)
#define JSON_DEPTH_MAX   1000 /* cJSON's: deeper stored text is a string, as before */

/* ---- the answer's JSON ---- */

/* A JSON string as cJSON prints one: ", \ and the C escapes by name, other
 * control characters as \u00XX, everything else as it is. */
static void put_str(dg_buf *b, const char *s)
{
    static const char hexd[] = "0123456789abcdef";
    dg_buf_addc(b, '"');
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char) *p;
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        dg_buf_add(b, run, (size_t) (p - run));
        run = p + 1;
        char esc[7] = {'\\', 0};
        size_t n = 2;
        switch (ch) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hexd[ch >> 4];
            esc[5] = hexd[ch & 15];
            n = 6;
        }
        dg_buf_add(b, esc, n);
    }
    dg_buf_add(b, run, strlen(run));
    dg_buf_addc(b, '"');
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the JSON string opening at p, or NULL when it is not one by
 * JSON's grammar (a raw control character, an unknown escape). */
static const char *json_string_end(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        unsigned char ch = (unsigned char) *p;
        if (ch == '"')
            return p + 1;
        if (ch < 0x20)
            return NULL;
        if (ch != '\\')
            continue;
        if (++p >= end)
            return NULL;
        if (*p == 'u') {
            if (end - p < 5)
                return NULL;
            for (int i = 1; i <= 4; i++)
                if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                    return NULL;
            p += 4;
        } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
            return NULL;
        }
    }
    return NULL;
}

static const char *json_number_end(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    if (p < end && *p == '.') {
        if (++p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

/* Appends s[0..n) without the white space between its tokens when it is one
 * JSON value by RFC 8259 (strings and numbers as written); false, with
 * nothing appended, when it is not. */
static bool put_json_compact(dg_buf *b, const char *s, size_t n)
{
    enum { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, COLON, AFTER } st = VALUE;
    char stack[JSON_DEPTH_MAX];
    int depth = 0;
    size_t mark = b->len;
    const char *p = s, *end = s + n;
    for (;;) {
        p = skip_ws(p, end);
        if (st == AFTER && depth == 0) {
            if (p == end)
                return true;
            goto bad;
        }
        if (p >= end)
            goto bad;
        const char *q;
        switch (st) {
        case VALUE_OR_CLOSE:
        case KEY_OR_CLOSE:
            if (*p == (st == KEY_OR_CLOSE ? '}' : ']')) {
                depth--;
                dg_buf_addc(b, *p++);
                st = AFTER;
                continue;
            }
            if (st == KEY_OR_CLOSE) {
                st = KEY;
                continue;
            }
            /* fall through */
        case VALUE:
            switch (*p) {
            case '{':
            case '[':
                if (depth == JSON_DEPTH_MAX)
                    goto bad;
                stack[depth++] = *p;
                st = *p == '{' ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
                dg_buf_addc(b, *p++);
                continue;
            case '"':
                q = json_string_end(p, end);
                break;
            case 't':
                q = end - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
                break;
            case 'f':
                q = end - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
                break;
            case 'n':
                q = end - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
                break;
            default:
                q = json_number_end(p, end);
            }
            if (!q)
                goto bad;
            dg_buf_add(b, p, (size_t) (q - p));
            p = q;
            st = AFTER;
            continue;
        case KEY:
            if (*p != '"' || !(q = json_string_end(p, end)))
                goto bad;
            dg_buf_add(b, p, (size_t) (q - p));
            p = q;
            st = COLON;
            continue;
        case COLON:
            if (*p != ':')
                goto bad;
            dg_buf_addc(b, *p++);
            st = VALUE;
            continue;
        case AFTER:
            if (*p == ',') {
                dg_buf_addc(b, *p++);
                st = stack[depth - 1] == '{' ? KEY : VALUE;
                continue;
            }
            if (*p == (stack[depth - 1] == '{' ? '}' : ']')) {
                depth--;
                dg_buf_addc(b, *p++);
                continue;
            }
            goto bad;
        }
    }
bad:
    if (!dg_buf_err(b)) {
        b->len = mark;
        if (b->d)
            b->d[mark] = '\0';
    }
    return false;
}

/* Stored text as rt_stored_value() makes it (NULL -> null, blank -> "",
 * JSON -> the value, else a string), without a tree for the JSON case. */
static void put_stored(dg_buf *b, const char *s)
{
    if (!s) {
        dg_buf_adds(b, "null");
        return;
    }
    size_t n = strlen(s);
    const char *v = skip_ws(s, s + n);
    if (v == s + n) {
        dg_buf_adds(b, "\"\"");
        return;
    }
    if (put_json_compact(b, s, n))
        return;
    /* Not strict JSON: what cJSON makes of it (almost always a string). */
    cJSON *j = rt_stored_value(s);
    char *txt = dg_json_print(j);
    dg_buf_adds(b, txt);
    cJSON_free(txt);
    cJSON_Delete(j);
}

/* yyyy-MM-ddTHH:mm:ssZ: whole seconds, literal Z (status.c's form). */
static void put_time(dg_buf *b, dg_ticks t)
{
    char iso[DG_ISO_LEN];
    dg_iso_format(t ? t : DG_TICKS_MIN, iso);
    memcpy(iso + 19, "Z", 2);
    dg_buf_addc(b, '"');
    dg_buf_add(b, iso, 20);
    dg_buf_addc(b, '"');
}

/* rt_status_object()'s members in its order. */
static void put_status(dg_buf *b, const struct hub_instance *in, bool show_input)
{
    dg_buf_adds(b, "{\"name\":");
    if (in->name)
        put_str(b, in->name);
    else
        dg_buf_adds(b, "null");
    dg_buf_adds(b, ",\"instanceId\":");
    put_str(b, in->id);
    dg_buf_adds(b, ",\"runtimeStatus\":");
    put_str(b, in->runtime_status ? in->runtime_status : "Unknown");
    dg_buf_adds(b, ",\"input\":");
    put_stored(b, show_input ? in->input : NULL);
    dg_buf_adds(b, ",\"customStatus\":");
    put_stored(b, in->custom_status);
    dg_buf_adds(b, ",\"output\":");
    put_stored(b, in->output);
    dg_buf_adds(b, ",\"createdTime\":");
    put_time(b, in->created);
    dg_buf_adds(b, ",\"lastUpdatedTime\":");
    put_time(b, in->last_updated);
    dg_buf_addc(b, '}');
}

static void put_page(dg_buf *b, const struct hub_instance_page *pg, bool show_input, bool *first)
{
    for (size_t i = 0; i < pg->n; i++) {
        if (!*first)
            dg_buf_addc(b, ',');
        *first = false;
        put_status(b, &pg->items[i], show_input);
    }
}

static void set_body(const rt_ctx *c, rt_response *rs, dg_buf *b)
{
    if (dg_buf_err(b)) {
        rt_set_message(rs, c->rq->arena, 500, "The answer is too large; ask for fewer rows with 'top'.");
    } else {
        rs->status = 200;
        rs->content_type = "application/json; charset=utf-8";
        rs->body = dg_arena_strndup(c->rq->arena, dg_buf_str(b), b->len);
        rs->body_len = b->len;
    }
    dg_buf_free(b);
}

/* ---- filters, shared with the counts route ---- */

bool rt_list_filters(const rt_ctx *c, rt_response *rs, struct hub_query *q)
{
    memset(q, 0, sizeof *q);
    static const char *const times[] = {"createdTimeFrom", "createdTimeTo"};
    for (int i = 0; i < 2; i++) {
        enum rt_param_result r = rt_param_time(c, times[i], i ? &q->created_to : &q->created_from);
        if (r == RT_PARAM_BAD) {
            rt_set_argument_error(
                c, rs, dg_arena_printf(c->rq->arena, "The value of '%s' is not a date and time.", times[i]));
            return false;
        }
        *(i ? &q->has_to : &q->has_from) = r == RT_PARAM_OK;
    }
    const char *bad;
    if (!rt_param_statuses(c, &q->statuses, &q->nstatuses, &bad)) {
        rt_set_argument_error(c, rs, dg_arena_printf(c->rq->arena, "'%s' is not a runtime status.", bad));
        return false;
    }
    q->nnames = rt_param_list(c, "name", &q->names); /* a gateway extension */
    q->id_prefix = rt_query(c, "instanceIdPrefix");
    return true;
}

/* ---- the fast form's token: "r<N>" and one part per range, each "-" (done)
 * or a plain token (rt_token_encode) of where the range goes on ---- */

static const char *ranges_token_encode(dg_arena *a, int n, const struct hub_range_cursor *cur)
{
    bool all_done = true;
    for (int i = 0; i < n; i++)
        all_done = all_done && cur[i].done;
    if (all_done)
        return "";
    const char *t = dg_arena_printf(a, "r%d", n);
    for (int i = 0; i < n; i++)
        t = dg_arena_printf(a, "%s.%s", t,
                            cur[i].done      ? "-"
                            : cur[i].next_pk ? rt_token_encode(a, cur[i].next_pk, cur[i].next_rk)
                                             : "");
    return t;
}

/* DG_OK with every range at its start for no token; DG_EINVAL for a token
 * over RANGES_TOKEN_MAX, of another number of ranges, or with a part that is
 * neither "-", "" nor a valid plain token. */
static dg_err ranges_token_decode(dg_arena *a, const char *token, int n, struct hub_range_cursor *cur)
{
    memset(cur, 0, (size_t) n * sizeof *cur);
    dg_str t = dg_str_trim(dg_str_c(token));
    if (!t.n)
        return DG_OK;
    if (t.n > RANGES_TOKEN_MAX)
        return DG_EINVAL;
    char *s = dg_arena_strndup(a, t.p, t.n);
    const char *head = dg_arena_printf(a, "r%d.", n);
    if (strncmp(s, head, strlen(head)) != 0)
        return DG_EINVAL;
    char *p = s + strlen(head) - 1; /* at the first '.' */
    for (int i = 0; i < n; i++) {
        if (*p != '.')
            return DG_EINVAL;
        char *part = p + 1;
        char *dot = strchr(part, '.');
        p = dot ? dot : part + strlen(part);
        if (dot)
            *dot = '\0';
        if (strcmp(part, "-") == 0) {
            cur[i].done = true;
        } else if (*part) {
            if (rt_token_decode(a, part, &cur[i].next_pk, &cur[i].next_rk) != DG_OK || !cur[i].next_pk)
                return DG_EINVAL;
        }
        if (dot)
            *dot = '.';
    }
    return *p ? DG_EINVAL : DG_OK;
}

static void list_ranges(const rt_ctx *c, rt_response *rs, const struct hub_query *q, int nranges, int top,
                        bool show_input)
{
    dg_arena *a = c->rq->arena;
    struct hub_range_cursor cur[HUB_RANGES_MAX];
    bool fresh = !rt_header(c->rq, RT_TOKEN_HEADER) || !*rt_header(c->rq, RT_TOKEN_HEADER);
    if (ranges_token_decode(a, rt_header(c->rq, RT_TOKEN_HEADER), nranges, cur) != DG_OK) {
        rt_set_message(rs, a, 400, "The continuation token is not valid.");
        return;
    }
    dg_buf b;
    dg_buf_init(&b, LIST_BODY_MAX);
    dg_buf_addc(&b, '[');
    bool first = true;
    int64_t until = dg_mono_ms() + LIST_EMPTY_PAGES_MS;
    struct hub_instance_page pages[HUB_RANGES_MAX];
    for (;;) {
        az_ctx x;
        rt_az_ctx(c, &x);
        dg_err rc =
            hub_query_ranges(c->storage, &x, c->hub, q, HUB_GET_OUTPUT | (show_input ? HUB_GET_INPUT : 0),
                             top, nranges, cur, pages);
        if (rc) {
            dg_buf_free(&b);
            if (rc == DG_ESTORAGE && !fresh)
                rt_set_message(rs, a, 400, "The continuation token is not valid.");
            else
                rt_storage_error(c, rs, rc);
            return;
        }
        fresh = true; /* a refusal from here on is not the token's */
        bool any = false, more = false;
        for (int i = 0; i < nranges; i++) {
            put_page(&b, &pages[i], show_input, &first);
            any = any || pages[i].n > 0;
            more = more || !cur[i].done;
        }
        if (any || !more || dg_mono_ms() >= until)
            break;
    }
    dg_buf_addc(&b, ']');
    set_body(c, rs, &b);
    if (rs->status == 200)
        rt_set_header(rs, a, RT_TOKEN_HEADER, ranges_token_encode(a, nranges, cur));
}

void rt_list_instances(const rt_ctx *c, rt_response *rs)
{
    dg_arena *a = c->rq->arena;
    const char *hub = c->hub; /* validated by the router */
    struct hub_query q;
    if (!rt_list_filters(c, rs, &q))
        return;
    bool show_input = rt_query_bool(c, "showInput", true);
    int top = LIST_TOP_DEFAULT;
    enum rt_param_result tr = rt_param_int(c, "top", &top);
    if (tr == RT_PARAM_BAD) {
        rt_set_argument_error(c, rs, "The 'top' parameter must be a decimal integer.");
        return;
    }
    if (tr == RT_PARAM_OK)
        top = top < 1 ? 1 : top > LIST_TOP_MAX ? LIST_TOP_MAX : top;
    int nranges = 0;
    enum rt_param_result rr = rt_param_int(c, "ranges", &nranges); /* the fast form, a gateway extension */
    if (rr == RT_PARAM_BAD || (rr == RT_PARAM_OK && (nranges < 2 || nranges > HUB_RANGES_MAX))) {
        rt_set_argument_error(c, rs, "The 'ranges' parameter must be an integer from 2 to 16.");
        return;
    }
    if (rr == RT_PARAM_OK) {
        list_ranges(c, rs, &q, nranges, top, show_input);
        return;
    }

    const char *pk, *rk;
    if (rt_token_decode(a, rt_header(c->rq, RT_TOKEN_HEADER), &pk, &rk) != DG_OK) {
        rt_set_message(rs, a, 400, "The continuation token is not valid.");
        return;
    }
    dg_buf b;
    dg_buf_init(&b, LIST_BODY_MAX);
    dg_buf_addc(&b, '[');
    bool first_item = true;
    int64_t until = dg_mono_ms() + LIST_EMPTY_PAGES_MS;
    bool first = true;
    dg_err rc;
    for (;;) {
        az_ctx x;
        rt_az_ctx(c, &x);
        struct hub_instance_page pg;
        rc = hub_query_instances(c->storage, &x, hub, &q, HUB_GET_OUTPUT | (show_input ? HUB_GET_INPUT : 0),
                                 top, pk, rk, &pg);
        if (rc == DG_ESTORAGE && first && pk) {
            /* The service refused the keys of a token that decoded well. */
            dg_buf_free(&b);
            rt_set_message(rs, a, 400, "The continuation token is not valid.");
            return;
        }
        if (rc == DG_ENOTFOUND || rc == DG_ETOOBIG) {
            /* No Instances table (or it went away), or a prefix longer than
             * any key: no (more) instances. */
            rc = DG_OK;
            pk = rk = NULL;
            break;
        }
        if (rc)
            break;
        put_page(&b, &pg, show_input, &first_item);
        pk = pg.next_pk;
        rk = pg.next_rk;
        first = false;
        if (pg.n > 0 || !pk || dg_mono_ms() >= until)
            break;
    }
    if (rc) {
        dg_buf_free(&b);
        rt_storage_error(c, rs, rc);
        return;
    }
    dg_buf_addc(&b, ']');
    set_body(c, rs, &b);
    /* Always sent; empty on the last page (docs/http-api.md §7.1), never a token that repeats. */
    if (rs->status == 200)
        rt_set_header(rs, a, RT_TOKEN_HEADER, rt_token_encode(a, pk, rk));
}
