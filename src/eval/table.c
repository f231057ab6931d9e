/*
 * The "table" evaluator: results looked up in a benchmark table (NAS-Bench-201 style CSV).
 *
 * Parameters: path (required), key_column (default "arch"), cost_column (optional).
 * The file has a header row; the key column holds architecture strings of the space, every other
 * column is numeric and becomes a metric of its name; the cost column gives the trial cost and
 * stays a metric too. Every key is parsed with nas_arch_from_string() at creation (a table of
 * another space is refused) and stored in canonical form, so lookups are one string hash away.
 * Malformed input gives NAS_E_PARSE (NAS_E_RANGE over a limit, NAS_E_IO for an unreadable file)
 * with "PATH:LINE: what" in the message.
 */
#include "eval/csv_reader.h"
#include "search/search_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_KEY_MSG 120   /* bytes of a key quoted in a message */

typedef struct table {
    nas_context_t *ctx;
    char *path;
    char **names;          /* metric columns (every column but the key), in file order */
    uint32_t num_metrics;
    int32_t cost;          /* index of the cost column among the metrics, or -1 */
    uint32_t rows, cap_rows;
    double *values;        /* rows x num_metrics */
    size_t *key_off;       /* per row: offset of its canonical key in `keys` */
    uint64_t *key_hash;    /* per row */
    uint64_t *key_line;    /* per row: line of the file, for duplicate messages */
    nas__sb_t keys;        /* canonical keys, NUL-separated */
    uint32_t *slots;       /* open addressing: row + 1, 0 = empty; power-of-two size */
    size_t num_slots;
    char *buf;             /* candidate key of the current lookup */
    size_t buf_cap;
} table_t;

static void table_destroy(void *state)
{
    table_t *t = state;
    if (!t)
        return;
    nas_context_t *ctx = t->ctx;
    for (uint32_t i = 0; i < t->num_metrics; i++)
        nas__free(ctx, t->names[i]);
    nas__free(ctx, t->names);
    nas__free(ctx, t->values);
    nas__free(ctx, t->key_off);
    nas__free(ctx, t->key_hash);
    nas__free(ctx, t->key_line);
    nas__sb_free(&t->keys);
    nas__free(ctx, t->slots);
    nas__free(ctx, t->buf);
    nas__free(ctx, t->path);
    nas__free(ctx, t);
}

/* ---------------------------------------------------------------------- */
/* Hash index over canonical keys                                          */

static const char *row_key(const table_t *t, uint32_t row)
{
    return t->keys.data + t->key_off[row];
}

/* Row of `key` or UINT32_MAX. */
static uint32_t find_row(const table_t *t, const char *key, uint64_t h)
{
    if (!t->num_slots)
        return UINT32_MAX;
    size_t mask = t->num_slots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint32_t s = t->slots[i];
        if (s == 0)
            return UINT32_MAX;
        if (t->key_hash[s - 1] == h && strcmp(row_key(t, s - 1), key) == 0)
            return s - 1;
    }
}

static void place(uint32_t *slots, size_t num_slots, uint64_t h, uint32_t row)
{
    size_t mask = num_slots - 1;
    size_t i = (size_t)h & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = row + 1;
}

/* Keep the load factor under 1/2 for `rows` entries. */
static bool reserve_slots(table_t *t, uint32_t rows)
{
    if ((size_t)rows * 2 <= t->num_slots)
        return true;
    size_t n = t->num_slots ? t->num_slots : 64;
    while (n < (size_t)rows * 2)
        n *= 2;
    uint32_t *slots = nas__calloc(t->ctx, n, sizeof *slots);
    if (!slots)
        return false;
    for (uint32_t r = 0; r < t->rows; r++)
        place(slots, n, t->key_hash[r], r);
    nas__free(t->ctx, t->slots);
    t->slots = slots;
    t->num_slots = n;
    return true;
}

/* Room for one more row in every per-row array. */
static bool reserve_row(table_t *t)
{
    if (t->rows < t->cap_rows)
        return reserve_slots(t, t->rows + 1);
    if (t->cap_rows >= UINT32_MAX / 2)
        return false;
    uint32_t cap = t->cap_rows ? t->cap_rows * 2 : 1024;
    size_t nm = t->num_metrics;
    if (nm && (size_t)cap > SIZE_MAX / sizeof(double) / nm)
        return false;
    double *v = nas__realloc(t->ctx, t->values, (size_t)cap * nm * sizeof *v);
    if (!v)
        return false;
    t->values = v;
    size_t *off = nas__realloc(t->ctx, t->key_off, (size_t)cap * sizeof *off);
    if (!off)
        return false;
    t->key_off = off;
    uint64_t *h = nas__realloc(t->ctx, t->key_hash, (size_t)cap * sizeof *h);
    if (!h)
        return false;
    t->key_hash = h;
    uint64_t *l = nas__realloc(t->ctx, t->key_line, (size_t)cap * sizeof *l);
    if (!l)
        return false;
    t->key_line = l;
    t->cap_rows = cap;
    return reserve_slots(t, t->rows + 1);
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                  */

typedef struct loader {
    table_t *t;
    nas_evaluator_t *self;
    nas_space_t *space;
    nas__csv_t csv;
    nas_arch_t *arch;      /* scratch for parsing keys */
    const char *key_column;
    uint32_t key_col;      /* index in the file's columns */
    uint32_t num_cols;
    char errmsg[NAS_ERRMSG_CAP];
} loader_t;

static nas_status_t load_fail(loader_t *l, nas_status_t st, uint64_t line, const char *fmt, ...) NAS_PRINTF(4, 5);

static nas_status_t load_fail(loader_t *l, nas_status_t st, uint64_t line, const char *fmt, ...)
{
    char what[NAS_ERRMSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return nas__fail(l->errmsg, st, "%s:%llu: %s", l->t->path, (unsigned long long)line, what);
}

static bool valid_column_name(const char *s, size_t n)
{
    if (n == 0 || n > 256)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static nas_status_t read_header(loader_t *l, const char *key_column, const char *cost_column)
{
    table_t *t = l->t;
    nas__csv_t *c = &l->csv;
    nas_status_t st = nas__csv_next(c);
    if (st == NAS_E_NOT_FOUND)
        return load_fail(l, NAS_E_PARSE, c->line, "empty file (expected a header row naming the columns)");
    if (st != NAS_OK)
        return nas__fail(l->errmsg, st, "%s", c->errmsg);
    uint64_t line = c->record_line;
    l->num_cols = c->num_fields;
    int64_t key = -1;
    for (uint32_t i = 0; i < c->num_fields; i++) {
        const char *name = nas__csv_field(c, i);
        if (!valid_column_name(name, c->field_len[i]))
            return load_fail(l, NAS_E_PARSE, line, "column %u of the header has an empty or invalid name",
                             (unsigned)i + 1);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(nas__csv_field(c, j), name) == 0)
                return load_fail(l, NAS_E_PARSE, line, "column '%s' appears twice in the header", name);
        if (strcmp(name, key_column) == 0)
            key = i;
    }
    if (key < 0)
        return load_fail(l, NAS_E_PARSE, line, "no key column '%s' in the header (set parameter 'key_column')",
                         key_column);
    if (l->num_cols < 2)
        return load_fail(l, NAS_E_PARSE, line, "no metric columns beside the key column '%s'", key_column);
    l->key_col = (uint32_t)key;
    l->key_column = key_column;
    t->names = nas__calloc(t->ctx, l->num_cols - 1, sizeof *t->names);
    if (!t->names)
        return NAS_E_NOMEM;
    t->cost = -1;
    for (uint32_t i = 0; i < l->num_cols; i++) {
        if (i == l->key_col)
            continue;
        const char *name = nas__csv_field(c, i);
        if (cost_column && strcmp(name, cost_column) == 0)
            t->cost = (int32_t)t->num_metrics;
        if (!(t->names[t->num_metrics] = nas__strdup(t->ctx, name)))
            return NAS_E_NOMEM;
        t->num_metrics++;
    }
    if (cost_column && t->cost < 0)
        return load_fail(l, NAS_E_PARSE, line, "no cost column '%s' in the header", cost_column);
    return NAS_OK;
}

/* The canonical (arch-only) string of l->arch, into t->buf. */
static nas_status_t canonical(table_t *t, const nas_arch_t *arch)
{
    size_t len = 0;
    nas_status_t st = nas_arch_to_string(arch, NAS_STRING_ARCH_ONLY, t->buf, t->buf_cap, &len);
    if (st == NAS_E_RANGE && len + 1 > t->buf_cap) {
        char *b = nas__realloc(t->ctx, t->buf, len + 1);
        if (!b)
            return NAS_E_NOMEM;
        t->buf = b;
        t->buf_cap = len + 1;
        st = nas_arch_to_string(arch, NAS_STRING_ARCH_ONLY, t->buf, t->buf_cap, &len);
    }
    return st;
}

static nas_status_t read_key(loader_t *l, uint64_t line)
{
    table_t *t = l->t;
    nas__csv_t *c = &l->csv;
    const char *key = nas__csv_field(c, l->key_col);
    size_t klen = c->field_len[l->key_col];
    if (klen == 0)
        return load_fail(l, NAS_E_PARSE, line, "empty key in column '%s'", l->key_column);
    nas_status_t st = nas_arch_from_string(l->arch, key);
    if (st == NAS_E_NOMEM)
        return st;
    if (st != NAS_OK)
        return load_fail(l, NAS_E_PARSE, line, "'%.*s%s' is not an architecture of space '%s': %s",
                         (int)(klen > MAX_KEY_MSG ? MAX_KEY_MSG : klen), key, klen > MAX_KEY_MSG ? "..." : "",
                         nas_space_name(l->space), nas_space_errmsg(l->space));
    if ((st = canonical(t, l->arch)) != NAS_OK)
        return st == NAS_E_NOMEM ? st : load_fail(l, st, line, "cannot write the key back as a string");
    size_t n = strlen(t->buf);
    uint64_t h = nas__hash_bytes(t->buf, n, 0);
    uint32_t dup = find_row(t, t->buf, h);
    if (dup != UINT32_MAX)
        return load_fail(l, NAS_E_PARSE, line, "architecture '%.*s%s' appears twice (first on line %llu)",
                         (int)(n > MAX_KEY_MSG ? MAX_KEY_MSG : n), t->buf, n > MAX_KEY_MSG ? "..." : "",
                         (unsigned long long)t->key_line[dup]);
    size_t off = t->keys.len;
    nas__sb_append(&t->keys, t->buf, n + 1);   /* with its NUL: keys are separated by NULs */
    if (t->keys.failed)
        return NAS_E_NOMEM;
    t->key_off[t->rows] = off;
    t->key_hash[t->rows] = h;
    t->key_line[t->rows] = line;
    place(t->slots, t->num_slots, h, t->rows);
    return NAS_OK;
}

static nas_status_t read_rows(loader_t *l)
{
    table_t *t = l->t;
    nas__csv_t *c = &l->csv;
    nas_status_t st;
    while ((st = nas__csv_next(c)) == NAS_OK) {
        uint64_t line = c->record_line;
        if (c->num_fields != l->num_cols)
            return load_fail(l, NAS_E_PARSE, line, "row has %u fields, the header has %u", (unsigned)c->num_fields,
                             (unsigned)l->num_cols);
        if (!reserve_row(t))
            return NAS_E_NOMEM;
        double *v = t->values + (size_t)t->rows * t->num_metrics;
        for (uint32_t i = 0, m = 0; i < l->num_cols; i++) {
            if (i == l->key_col)
                continue;
            const char *f = nas__csv_field(c, i);
            if (!nas__csv_number(c, f, c->field_len[i], &v[m]))
                return load_fail(l, NAS_E_PARSE, line, "column '%s': '%.*s' is not a number", t->names[m],
                                 (int)(c->field_len[i] > 40 ? 40 : c->field_len[i]), f);
            if ((int32_t)m == t->cost && !(isfinite(v[m]) && v[m] >= 0.0))
                return load_fail(l, NAS_E_PARSE, line, "cost column '%s': %s is not a finite number >= 0",
                                 t->names[m], f);
            m++;
        }
        if ((st = read_key(l, line)) != NAS_OK)
            return st;
        t->rows++;
    }
    if (st != NAS_E_NOT_FOUND)
        return nas__fail(l->errmsg, st, "%s", c->errmsg);
    if (t->rows == 0)
        return load_fail(l, NAS_E_PARSE, c->line, "no data rows after the header");
    return NAS_OK;
}

static nas_status_t load(loader_t *l, const char *key_column, const char *cost_column)
{
    nas_status_t st = nas__csv_open(&l->csv, l->t->ctx, l->t->path);
    if (st != NAS_OK)
        return nas__fail(l->errmsg, st, "%s", l->csv.errmsg);
    if ((st = nas_arch_create(&l->arch, l->space)) == NAS_OK && (st = read_header(l, key_column, cost_column)) == NAS_OK)
        st = read_rows(l);
    if (st == NAS_E_NOMEM)
        nas__fail(l->errmsg, st, "%s: out of memory loading the table", l->t->path);
    nas_arch_destroy(l->arch);
    nas__csv_close(&l->csv);
    return st;
}

static nas_status_t param_failed(nas_evaluator_t *self, const nas_params_t *params, nas_status_t st)
{
    nas_evaluator_set_errmsg(self, nas_params_errmsg(params));
    return st;
}

static nas_status_t table_create(nas_evaluator_t *self, const nas_params_t *params, void **state)
{
    nas_context_t *ctx = nas__evaluator_context(self);
    const char *path = NULL, *key_column = "arch", *cost_column = NULL;
    nas_status_t st = nas_params_get_string(params, "path", &path);
    if (st == NAS_E_NOT_FOUND) {
        nas_evaluator_set_errmsg(self, "parameter 'path' (the CSV file) is required");
        return NAS_E_INVAL;
    }
    if (st != NAS_OK)
        return param_failed(self, params, st);
    if ((st = nas_params_get_string(params, "key_column", &key_column)) != NAS_OK && st != NAS_E_NOT_FOUND)
        return param_failed(self, params, st);
    if ((st = nas_params_get_string(params, "cost_column", &cost_column)) != NAS_OK && st != NAS_E_NOT_FOUND)
        return param_failed(self, params, st);
    if (!*path || !*key_column || (cost_column && !*cost_column)) {
        nas_evaluator_set_errmsg(self, "parameters 'path', 'key_column' and 'cost_column' cannot be empty");
        return NAS_E_INVAL;
    }
    if (cost_column && strcmp(cost_column, key_column) == 0) {
        nas_evaluator_set_errmsg(self, "the cost column cannot be the key column");
        return NAS_E_INVAL;
    }

    table_t *t = nas__calloc(ctx, 1, sizeof *t);
    if (!t)
        return NAS_E_NOMEM;
    *state = t;   /* destroy() frees whatever is done when a step below fails */
    t->ctx = ctx;
    t->cost = -1;
    nas__sb_init(&t->keys, ctx);
    if (!(t->path = nas__strdup(ctx, path)))
        return NAS_E_NOMEM;
    loader_t l;
    memset(&l, 0, sizeof l);
    l.t = t;
    l.self = self;
    l.space = nas_evaluator_space(self);
    st = load(&l, key_column, cost_column);
    if (st != NAS_OK)
        nas_evaluator_set_errmsg(self, l.errmsg);
    return st;
}

static nas_status_t table_evaluate(nas_evaluator_t *self, void *state, const nas_candidate_t *cand,
                                   nas_result_t *res)
{
    table_t *t = state;
    nas_status_t st = canonical(t, cand->arch);
    if (st != NAS_OK) {
        nas_evaluator_set_errmsg(self, "table: cannot write the candidate as a string");
        return st;
    }
    uint32_t row = find_row(t, t->buf, nas__hash_bytes(t->buf, strlen(t->buf), 0));
    if (row == UINT32_MAX) {
        nas__sb_t msg;
        nas__sb_init(&msg, t->ctx);
        nas__sb_printf(&msg, "not in the table %s: %s", t->path, t->buf);
        st = nas_result_set_status(res, NAS_E_NOT_FOUND, msg.failed ? "not in the table" : msg.data);
        nas__sb_free(&msg);
        return st;
    }
    const double *v = t->values + (size_t)row * t->num_metrics;
    for (uint32_t m = 0; m < t->num_metrics; m++)
        if ((st = nas_result_set_metric(res, t->names[m], v[m])) != NAS_OK)
            return st;
    if (t->cost >= 0)
        st = nas_result_set_cost(res, v[t->cost]);
    return st;
}

static const nas_evaluator_vtable_t table_vtable = {
    .abi_version = NAS_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(nas_evaluator_vtable_t),
    .name = "table",
    .description = "benchmark lookup in a CSV table (params: path, key_column, cost_column)",
    .create = table_create,
    .destroy = table_destroy,
    .evaluate = table_evaluate,
    .user_data = NULL,
};

nas_status_t nas__register_table(nas_context_t *ctx)
{
    return nas_context_register_evaluator(ctx, &table_vtable);
}
