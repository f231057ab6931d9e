/* A small JSON reader (RFC 8259) for the library's own files: journals, summaries, reports. */
#ifndef NAS_CORE_JSON_H
#define NAS_CORE_JSON_H

#include "core/internal.h"

typedef enum nas__jtype {
    NAS__J_NULL,
    NAS__J_BOOL,
    NAS__J_NUM,
    NAS__J_STR,
    NAS__J_ARR,
    NAS__J_OBJ
} nas__jtype_t;

typedef struct nas__json nas__json_t;
struct nas__json {
    nas__jtype_t type;
    bool b;
    double num;
    char *str;             /* NUL-terminated (embedded NULs are refused) */
    uint32_t n;            /* items of an array or object */
    nas__json_t *items;
    char **keys;           /* object keys, parallel to items */
};

#define NAS__JSON_MAX_DEPTH 64

/*
 * Parse exactly one JSON value (surrounding whitespace allowed) from text[0..len). NAS_E_PARSE
 * with "offset N: what" in errbuf for malformed text (depth over NAS__JSON_MAX_DEPTH included);
 * NAS_E_NOMEM. Numbers are read in the C locale.
 */
nas_status_t nas__json_parse(nas_context_t *ctx, const char *text, size_t len, nas__json_t **out, char *errbuf);
void nas__json_free(nas_context_t *ctx, nas__json_t *v);

/* Member `key` of an object (the last one when repeated), or NULL. */
const nas__json_t *nas__json_get(const nas__json_t *obj, const char *key);
/* Typed members: NULL/false when absent or of another type. */
const char *nas__json_str(const nas__json_t *obj, const char *key);
bool nas__json_num(const nas__json_t *obj, const char *key, double *out);

#endif /* NAS_CORE_JSON_H */
