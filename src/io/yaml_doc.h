/* A small YAML document tree over libyaml: mappings, sequences and scalars, each with its line and
 * column, built under size limits (no anchors or aliases, bounded nesting and node count), plus
 * typed readers that fail with "ORIGIN:LINE:COLUMN: what". No libyaml type leaves src/io. */
#ifndef NAS_IO_YAML_DOC_H
#define NAS_IO_YAML_DOC_H

#include "core/internal.h"

#define NAS__YAML_MAX_DEPTH 64
#define NAS__YAML_MAX_NODES (1u << 20)
#define NAS__YAML_MAX_KEYS 4096   /* keys of one mapping */

typedef enum nas__ykind {
    NAS__Y_SCALAR = 1,
    NAS__Y_SEQ = 2,
    NAS__Y_MAP = 3
} nas__ykind_t;

typedef struct nas__ynode nas__ynode_t;
struct nas__ynode {
    int32_t kind;            /* nas__ykind_t */
    uint32_t line, col;      /* 1-based */
    char *text;              /* scalar: NUL-terminated value (no embedded NUL) */
    bool plain;              /* scalar written without quotes (may be a number, bool or null) */
    nas__ynode_t **items;    /* seq: n items; map: n (key, value) pairs as items[2i], items[2i+1] */
    uint32_t n, cap;
};

typedef struct nas__ydoc {
    nas_context_t *ctx;
    char *origin;            /* file name or "<string>" for messages */
    nas__ynode_t *root;      /* NULL for an empty document */
    uint32_t num_nodes;
} nas__ydoc_t;

/* Parse `len` bytes of YAML. Errors (NAS_E_PARSE, NAS_E_RANGE, NAS_E_NOMEM) go to the context. */
nas_status_t nas__ydoc_parse(nas__ydoc_t **out, nas_context_t *ctx, const char *text, size_t len, const char *origin);
/* Read a file of at most `max_bytes` and parse it (NAS_E_IO, NAS_E_RANGE for a larger file). */
nas_status_t nas__ydoc_load_file(nas__ydoc_t **out, nas_context_t *ctx, const char *path, size_t max_bytes);
void nas__ydoc_free(nas__ydoc_t *doc);


/* "ORIGIN:LINE:COLUMN: message" into the context (node NULL: the document's start). */
nas_status_t nas__yfail(const nas__ydoc_t *doc, const nas__ynode_t *node, nas_status_t st, const char *fmt, ...)
    NAS_PRINTF(4, 5);

/* Value of key in a mapping, or NULL. `key_node` (if not NULL) receives the key node. */
const nas__ynode_t *nas__ymap_get(const nas__ynode_t *map, const char *key, const nas__ynode_t **key_node);

/* Checks that fail with a message naming `what` (e.g. "cell.ops"). */
nas_status_t nas__yexpect_map(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what);
nas_status_t nas__yexpect_seq(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what);
/* Every key of `map` must be in the NULL-terminated `allowed` list (typo safety). */
nas_status_t nas__ycheck_keys(const nas__ydoc_t *doc, const nas__ynode_t *map, const char *what,
                              const char *const *allowed);

/* Null: a plain "", "~" or "null". */
bool nas__ynode_is_null(const nas__ynode_t *node);
/* Scalars of a type; fail naming `what` when the node is something else or out of [lo, hi]. */
nas_status_t nas__yread_str(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what, const char **out);
nas_status_t nas__yread_int(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what, int64_t lo,
                            int64_t hi, int64_t *out);
nas_status_t nas__yread_u64(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what, uint64_t *out);
nas_status_t nas__yread_double(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what, double *out);
nas_status_t nas__yread_bool(const nas__ydoc_t *doc, const nas__ynode_t *node, const char *what, bool *out);

/* Internal loaders shared by the space and experiment files. */
nas_status_t nas__space_from_yaml(nas_space_t **out, nas_context_t *ctx, const nas__ydoc_t *doc,
                                  const nas__ynode_t *root, const char *default_name);

#endif /* NAS_IO_YAML_DOC_H */
