/*
 * A small JSON reader (RFC 8259) for the nas tool: summary.json and journal lines.
 *
 * The library has its own reader (src/core/json.c), but it is internal and allocates through a
 * context; the tool is built on the public API only, so it carries this plain-malloc one.
 */
#ifndef NAS_TOOLS_JSON_READ_H
#define NAS_TOOLS_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum jr_type { JR_NULL, JR_BOOL, JR_NUM, JR_STR, JR_ARR, JR_OBJ } jr_type_t;

typedef struct jr jr_t;
struct jr {
    jr_type_t type;
    bool b;
    double num;
    char *str;          /* NUL-terminated UTF-8 (strings with \u0000 are refused) */
    uint32_t n;         /* items of an array or object */
    jr_t *items;
    char **keys;        /* object keys, parallel to items */
};

#define JR_MAX_DEPTH 64
#define JR_MAX_ITEMS 10000000u

/*
 * Parse exactly one JSON value (surrounding whitespace allowed) from text[0..len). NULL on error
 * with "offset N: what" (or "out of memory") in err[0..errcap). Free the result with jr_free().
 */
jr_t *jr_parse(const char *text, size_t len, char *err, size_t errcap);
void jr_free(jr_t *v);

/* Member `key` of an object (the last one when repeated), or NULL (also when obj is no object). */
const jr_t *jr_get(const jr_t *obj, const char *key);
/* Typed members: NULL/false when absent or of another type. */
const char *jr_str(const jr_t *obj, const char *key);
bool jr_num(const jr_t *obj, const char *key, double *out);

#endif /* NAS_TOOLS_JSON_READ_H */
