/* JSON text read from storage, from clients and from files: one parser rule
 * for every read, the host's (Newtonsoft reads a value and then insists the
 * text has ended). */
#ifndef DG_JSON_H
#define DG_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* s[0..n) parsed when the whole of it is one JSON value, with only JSON white
 * space (space, tab, CR, LF) around it; NULL otherwise: empty or blank text,
 * trailing text (`null pointer exception`, `42 is the answer`, `true story`),
 * a NUL byte anywhere, or any other byte before the value. cJSON_Parse alone
 * stops after the first value and ignores the rest. Free with cJSON_Delete. */
cJSON *dg_json_parse(const char *s, size_t n);

/* cJSON_PrintUnformatted that never returns NULL: once dg_mem_init ran, it
 * fails only on a tree cJSON cannot print (a bug), and that aborts like running
 * out of memory. Free with cJSON_free. */
char *dg_json_print(const cJSON *j);

#endif
