/* OData $filter expressions for Table queries, built from raw values.
 *
 * Callers never escape: every string value goes through az_odata_quote(),
 * which wraps it in single quotes and doubles the quotes inside, and property
 * names are checked to be identifiers, so no value can change the shape of
 * the filter. */
#ifndef AZ_ODATA_H
#define AZ_ODATA_H

#include "base/buf.h"
#include "base/err.h"
#include "base/time.h"

#include <stdbool.h>
#include <stdint.h>

/* Appends 'v' with single quotes doubled. */
dg_err az_odata_quote(dg_buf *out, const char *v, size_t n);

enum az_cmp { AZ_EQ, AZ_NE, AZ_GT, AZ_GE, AZ_LT, AZ_LE };

typedef struct az_filter {
    dg_buf b;
    dg_err err; /* the first error; every later call is a no-op */
    bool need_op;
} az_filter;

void az_filter_init(az_filter *f);
void az_filter_free(az_filter *f);
/* The filter text, or NULL after an error. "" for an empty filter. */
const char *az_filter_str(const az_filter *f);

/* Comparisons. Consecutive terms must be joined with and/or. */
void az_filter_cmp_str(az_filter *f, const char *prop, enum az_cmp op, const char *v);
void az_filter_cmp_i32(az_filter *f, const char *prop, enum az_cmp op, int32_t v);
void az_filter_cmp_datetime(az_filter *f, const char *prop, enum az_cmp op, dg_ticks v);
void az_filter_and(az_filter *f);
void az_filter_or(az_filter *f);
void az_filter_open(az_filter *f);
void az_filter_close(az_filter *f);
/* prop ge 'prefix' and prop lt 'prefix with its last UTF-16 unit incremented'
 * (moved on past surrogates; a trailing U+FFFF carries into the character
 * before): every string with that prefix in the service's ordinal UTF-16
 * order, as a key range the service can seek on. A prefix with no such bound
 * (only U+FFFF characters, or not UTF-8, which callers refuse first) gets the
 * lower bound alone, so callers keep only the rows that really start with it.
 * An empty prefix adds nothing (and needs no joining operator). */
void az_filter_prefix(az_filter *f, const char *prop, const char *prefix);

#endif
