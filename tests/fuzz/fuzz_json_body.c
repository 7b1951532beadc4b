/* libFuzzer target: JSON request bodies as the routes read them: the start,
 * raise and lifecycle bodies (rt_body_json, routes/json.c), an entity
 * signal's operation input (rt_signal_input, routes/entities.c, for a JSON
 * and a text body), the one-value parse under both (dg_json_parse,
 * base/json.c) and the stored-value reading of status answers
 * (rt_stored_value, routes/status.c). Checked: the compact text a body
 * becomes is the same JSON value; both body readers accept the same bodies;
 * a text signal becomes a JSON string holding exactly the body; a stored
 * value always yields printable JSON. */
#include "base/json.h"
#include "base/utf8.h"
#include "routes/handlers.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void ctx(rt_ctx *c, rt_request *rq, dg_arena *a, struct rt_param *ct, const char *type,
                const uint8_t *data, size_t size)
{
    *ct = (struct rt_param){"Content-Type", type};
    *rq = (rt_request){.arena = a,
                       .reqid = "fuzz",
                       .method = "POST",
                       .path = "/",
                       .raw_query = "",
                       .headers = ct,
                       .nheaders = 1,
                       .body = (const char *) data,
                       .body_len = size};
    *c = (rt_ctx){.rq = rq};
}

static bool utf8_ok(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;)
        if (dg_utf8_next(s, n, &i) < 0)
            return false;
    return true;
}

/* The same JSON value: cJSON_Compare calls infinity (1e400) unequal to itself,
 * so the two values are compared as cJSON prints them. */
static bool same_value(const cJSON *x, const cJSON *y)
{
    if (!x || !y)
        return false;
    char *px = dg_json_print(x), *py = dg_json_print(y);
    bool eq = strcmp(px, py) == 0;
    cJSON_free(px);
    cJSON_free(py);
    return eq;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dg_arena *a = dg_arena_create();
    rt_ctx c;
    rt_request rq;
    struct rt_param ct;
    rt_response rs = {0};

    ctx(&c, &rq, a, &ct, "application/json; charset=utf-8", data, size);
    const char *json = NULL;
    enum rt_body_result r = rt_body_json(&c, &json);
    cJSON *orig = dg_json_parse((const char *) data, size);
    if (r == RT_BODY_OK) {
        cJSON *again = json ? dg_json_parse(json, strlen(json)) : NULL;
        if (!same_value(orig, again))
            abort(); /* the compact text is not the value that was sent */
        cJSON_Delete(again);
    } else if (r == RT_BODY_EMPTY) {
        if (orig || json)
            abort();
    }
    const char *input = NULL;
    bool ok = rt_signal_input(&c, &rs, &input);
    if (size > 0 && ok != (r == RT_BODY_OK))
        abort(); /* the two body readers disagree */
    if (ok && input) {
        cJSON *v = dg_json_parse(input, strlen(input));
        if (!same_value(v, orig))
            abort();
        cJSON_Delete(v);
    } else if (!ok && (rs.status != 400 || !rs.body)) {
        abort();
    }
    cJSON_Delete(orig);

    /* A text body: the signal's input is that text as a JSON string. */
    ctx(&c, &rq, a, &ct, "text/plain", data, size);
    input = NULL;
    rs = (rt_response){0};
    if (!rt_signal_input(&c, &rs, &input))
        abort();
    if (size > 0) {
        cJSON *v = input ? dg_json_parse(input, strlen(input)) : NULL;
        if (!cJSON_IsString(v))
            abort();
        bool plain = !memchr(data, '\0', size) && utf8_ok(data, size);
        if (plain && (strlen(v->valuestring) != size || memcmp(v->valuestring, data, size) != 0))
            abort();
        cJSON_Delete(v);
    }

    /* The same bytes as a stored Input, Output or CustomStatus. */
    const char *stored = dg_arena_strndup(a, (const char *) data, size);
    cJSON *sv = rt_stored_value(stored);
    char *printed = dg_json_print(sv);
    cJSON *back = dg_json_parse(printed, strlen(printed));
    if (!back)
        abort();
    cJSON_Delete(back);
    cJSON_free(printed);
    cJSON_Delete(sv);
    dg_arena_destroy(a);
    return 0;
}
