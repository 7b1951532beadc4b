#include "base/json.h"

#include "base/mem.h"

#include <string.h>

static int json_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

cJSON *dg_json_parse(const char *s, size_t n)
{
    if (!s || memchr(s, '\0', n))
        return NULL;
    size_t i = 0;
    while (i < n && json_space(s[i]))
        i++;
    /* A value starts here, or it is not JSON (cJSON would skip any control
     * byte and a byte-order mark). */
    if (i == n || !strchr("{[\"-0123456789tfn", s[i]))
        return NULL;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(s + i, n - i, &end, 0);
    if (!j)
        return NULL;
    size_t k = (size_t) (end - s);
    while (k < n && json_space(s[k]))
        k++;
    if (k != n) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

char *dg_json_print(const cJSON *j)
{
    char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
    if (!txt)
        dg_fatal("cJSON_PrintUnformatted failed");
    return txt;
}
