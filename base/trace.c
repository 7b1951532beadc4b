#include "base/trace.h"

#include "base/rand.h"

#include <string.h>

void dg_trace_id_make(char out[DG_REQID_MAX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned long long r = dg_random_fast();
    for (int i = 0; i < 12; i++)
        out[i] = hex[(r >> (4 * i)) & 15];
    out[12] = '\0';
}

static bool safe(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '.' || ch == ':';
}

bool dg_trace_id_take(char out[DG_REQID_MAX + 1], const char *in)
{
    if (!in)
        return false;
    size_t n = strlen(in);
    if (n > DG_REQID_MAX)
        n = DG_REQID_MAX;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!safe(in[i]))
            return false;
    memcpy(out, in, n);
    out[n] = '\0';
    return true;
}
