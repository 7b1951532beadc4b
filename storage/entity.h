/* Table entities with typed properties (the EDM types of the Table service).
 *
 * An entity and everything it points to live in one arena. Properties keep
 * their EDM type both ways: on write every type the JSON value alone would not
 * tell (Int64, Double, DateTime, Guid, Binary) carries its "@odata.type"
 * annotation; on read the annotations the service sends are honoured and the
 * rest inferred as the service does (string, boolean, Int32 for integral numbers,
 * Double otherwise). */
#ifndef AZ_ENTITY_H
#define AZ_ENTITY_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/time.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum az_edm {
    AZ_EDM_STRING,
    AZ_EDM_INT32,
    AZ_EDM_INT64,
    AZ_EDM_BOOL,
    AZ_EDM_DOUBLE,
    AZ_EDM_DATETIME,
    AZ_EDM_GUID,
    AZ_EDM_BINARY,
};

struct az_prop {
    const char *name;
    enum az_edm type;
    const char *s; /* STRING, GUID: NUL-terminated text; BINARY: bytes */
    size_t slen;   /* STRING, GUID, BINARY: length of s */
    int64_t i;     /* INT32, INT64; DATETIME: dg_ticks */
    double d;      /* DOUBLE */
    bool b;        /* BOOL */
};

typedef struct az_entity {
    const char *pk, *rk;
    const char *etag;   /* from the service; NULL on entities we build */
    dg_ticks timestamp; /* the service's Timestamp; 0 when unknown */
    struct az_prop *props;
    size_t n, cap;
} az_entity;

/* pk and rk are copied into the arena. */
void az_entity_init(az_entity *e, dg_arena *a, const char *pk, const char *rk);
/* Each setter replaces a property of the same name. Strings are copied. */
void az_entity_set_str(az_entity *e, dg_arena *a, const char *name, const char *v);
void az_entity_set_strn(az_entity *e, dg_arena *a, const char *name, const char *v, size_t n);
void az_entity_set_i32(az_entity *e, dg_arena *a, const char *name, int32_t v);
void az_entity_set_i64(az_entity *e, dg_arena *a, const char *name, int64_t v);
void az_entity_set_bool(az_entity *e, dg_arena *a, const char *name, bool v);
void az_entity_set_double(az_entity *e, dg_arena *a, const char *name, double v);
void az_entity_set_datetime(az_entity *e, dg_arena *a, const char *name, dg_ticks v);
void az_entity_set_guid(az_entity *e, dg_arena *a, const char *name, const char *v);
void az_entity_set_binary(az_entity *e, dg_arena *a, const char *name, const void *p, size_t n);
/* Removes a property; returns whether it was there. */
bool az_entity_remove(az_entity *e, const char *name);

const struct az_prop *az_entity_get(const az_entity *e, const char *name);
/* Typed getters: NULL / the fallback when absent or of another type. */
const char *az_entity_str(const az_entity *e, const char *name);
int64_t az_entity_int(const az_entity *e, const char *name, int64_t fallback); /* INT32 or INT64 */
bool az_entity_bool(const az_entity *e, const char *name, bool fallback);
double az_entity_double(const az_entity *e, const char *name, double fallback);
dg_ticks az_entity_datetime(const az_entity *e, const char *name, dg_ticks fallback);

/* The JSON the Table service takes on insert/update (PartitionKey and RowKey
 * included when with_keys). DG_EINVAL for a name the service would refuse. */
dg_err az_entity_to_json(const az_entity *e, bool with_keys, dg_buf *out);
/* cJSON keeps no trace of how a number was written, yet the service tells a
 * Double from an Int32 by it ("2.0" against "2") when it sends no annotation.
 * A scan of the raw text records, for every number in document order, whether
 * it had a fraction or an exponent; the reader consumes them in the same order. */
struct az_numscan {
    unsigned char *floaty; /* one flag per number, in document order */
    size_t n, pos;
};
void az_numscan_init(struct az_numscan *ns, dg_arena *a, const char *json, size_t len);

/* Reads one entity object of a service answer. ns may be NULL, and then a
 * bare number is an Int32 when it is integral and in range. */
dg_err az_entity_from_json(dg_arena *a, const cJSON *obj, struct az_numscan *ns, az_entity *out);

/* The same rules in one pass over the text, without a cJSON tree (entity_read.c):
 * az_entity_parse reads an answer that is one entity object; az_entities_parse
 * a query answer, {"value":[entity, ...], ...}. Strings are decoded into a;
 * the text must be one JSON value with nothing after it. DG_EBADRESP for text
 * that is not, or an entity these rules refuse. */
dg_err az_entity_parse(dg_arena *a, const char *json, size_t len, az_entity *out);
dg_err az_entities_parse(dg_arena *a, const char *json, size_t len, az_entity **items, size_t *n);

/* Valid property name: a C-identifier, 1..255 characters. */
bool az_prop_name_ok(const char *name);

#endif
