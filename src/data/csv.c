/* CSV files: one sample per row, C*H*W numbers and an integer label; strict, with file:line:column errors. */
#include "data/dataset.h"
#include "data/reader.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

struct csv {
    nas_context_t *ctx;
    const char *path;
    uint32_t ncols, label_col;
    size_t chw;
    float scale;
    uint64_t line;              /* current line (1-based) and where it starts, for messages */
    const char *line_start;
};

/* Length and start of a field for "%.*s", clipped so a huge field cannot crowd out the message. */
#define FIELD(a, b) (int)((b) - (a) < 40 ? (b) - (a) : 40), (a)

static nas_status_t csv_fail(const struct csv *p, nas_status_t st, const char *at, const char *fmt, ...)
    NAS_PRINTF(4, 5);

static nas_status_t csv_fail(const struct csv *p, nas_status_t st, const char *at, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return nas__ctx_fail(p->ctx, st, "%s:%llu:%zu: %s", p->path, (unsigned long long)p->line,
                         (size_t)(at - p->line_start) + 1, what);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const double exact_pow10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

enum { NUM_OK, NUM_SYNTAX, NUM_RANGE };

/*
 * A decimal number [+-]digits[.digits][(e|E)[+-]digits], parsed here rather than with strtod so the
 * host's locale cannot change the decimal point, and "nan", "inf" or hex are refused. 19 significant
 * digits are kept: plenty for a float.
 */
static int parse_number(const char *s, const char *e, float *out)
{
    bool neg = false;
    if (s < e && (*s == '+' || *s == '-'))
        neg = *s++ == '-';
    uint64_t mant = 0;
    int32_t exp10 = 0, sig = 0, digits = 0;
    for (; s < e && is_digit(*s); s++, digits++) {
        if (sig < 19) {
            mant = mant * 10 + (uint64_t)(*s - '0');
            sig += mant != 0;
        } else {
            exp10++;
        }
    }
    if (s < e && *s == '.') {
        for (s++; s < e && is_digit(*s); s++, digits++) {
            if (sig < 19) {
                mant = mant * 10 + (uint64_t)(*s - '0');
                sig += mant != 0;
                exp10--;
            }
        }
    }
    if (digits == 0)
        return NUM_SYNTAX;
    if (s < e && (*s == 'e' || *s == 'E')) {
        s++;
        bool eneg = false;
        if (s < e && (*s == '+' || *s == '-'))
            eneg = *s++ == '-';
        if (s == e || !is_digit(*s))
            return NUM_SYNTAX;
        int32_t x = 0;
        for (; s < e && is_digit(*s); s++)
            if (x < 100000)
                x = x * 10 + (*s - '0');
        exp10 += eneg ? -x : x;
    }
    if (s != e)
        return NUM_SYNTAX;
    /* One correctly rounded operation when the power of ten is exact (|exp10| <= 22). */
    double v = (double)mant;
    if (mant == 0 || exp10 == 0)
        ;
    else if (exp10 > 400)
        return NUM_RANGE;
    else if (exp10 < -400)
        v = 0.0;
    else if (exp10 > 0)
        v *= exp10 <= 22 ? exact_pow10[exp10] : pow(10.0, exp10);
    else if (exp10 >= -22)
        v /= exact_pow10[-exp10];
    else
        v *= pow(10.0, exp10);
    if (!(v <= FLT_MAX))
        return NUM_RANGE;
    *out = (float)(neg ? -v : v);
    return NUM_OK;
}

/* A label: decimal digits only, below NAS_DATA_MAX_CLASSES. */
static nas_status_t parse_label(const struct csv *p, const char *s, const char *e, int32_t *out)
{
    if (s == e)
        return csv_fail(p, NAS_E_PARSE, s, "empty label");
    if (*s == '-')
        return csv_fail(p, NAS_E_PARSE, s, "negative label '%.*s'", FIELD(s, e));
    const char *d = s + (*s == '+');
    if (d == e)
        return csv_fail(p, NAS_E_PARSE, s, "label '%.*s' is not an integer", FIELD(s, e));
    uint32_t v = 0;
    for (const char *q = d; q < e; q++) {
        if (!is_digit(*q))
            return csv_fail(p, NAS_E_PARSE, s, "label '%.*s' is not an integer", FIELD(s, e));
        if (v < NAS_DATA_MAX_CLASSES)
            v = v * 10 + (uint32_t)(*q - '0');
    }
    if (v >= NAS_DATA_MAX_CLASSES)
        return csv_fail(p, NAS_E_RANGE, s, "label '%.*s' is over the limit of %u", FIELD(s, e),
                        NAS_DATA_MAX_CLASSES - 1);
    *out = (int32_t)v;
    return NAS_OK;
}

static nas_status_t parse_value(const struct csv *p, const char *a, const char *b, float *out)
{
    if (a == b)
        return csv_fail(p, NAS_E_PARSE, a, "empty field");
    switch (parse_number(a, b, out)) {
    case NUM_SYNTAX:
        return csv_fail(p, NAS_E_PARSE, a, "'%.*s' is not a number", FIELD(a, b));
    case NUM_RANGE:
        return csv_fail(p, NAS_E_PARSE, a, "'%.*s' is out of the float range", FIELD(a, b));
    default:
        break;
    }
    *out *= p->scale;
    if (!isfinite(*out))
        return csv_fail(p, NAS_E_PARSE, a, "'%.*s' times the scale is out of the float range", FIELD(a, b));
    return NAS_OK;
}

/* One row [s, e) (no newline). values may be NULL: parse and check without storing. */
static nas_status_t parse_row(const struct csv *p, const char *s, const char *e, float *values, int32_t *label)
{
    uint32_t col = 0;
    for (const char *f = s;; col++) {
        const char *q = memchr(f, ',', (size_t)(e - f));
        if (!q)
            q = e;
        const char *a = f, *b = q;
        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        if (col >= p->ncols)
            return csv_fail(p, NAS_E_PARSE, a, "more than the %u columns expected", p->ncols);
        nas_status_t st;
        if (col == p->label_col) {
            st = parse_label(p, a, b, label);
        } else {
            float v = 0.0f;
            st = parse_value(p, a, b, &v);
            if (st == NAS_OK && values)
                values[col < p->label_col ? col : col - 1] = v;
        }
        if (st != NAS_OK)
            return st;
        if (q == e)
            break;
        f = q + 1;
    }
    if (col + 1 < p->ncols)
        return csv_fail(p, NAS_E_PARSE, e, "expected %u columns, got %u", p->ncols, col + 1);
    return NAS_OK;
}

/* The whole content of the file (gzip'd or not). */
static nas_status_t read_all(nas__reader_t *r, char **out, size_t *len)
{
    size_t cap = r->size_hint && r->size_hint < SIZE_MAX / 4 ? (size_t)r->size_hint + 1 : 65536, have = 0;
    char *buf = nas__malloc(r->ctx, cap);
    if (!buf)
        return nas__ctx_fail(r->ctx, NAS_E_NOMEM, "file %s: out of memory reading it", r->path);
    for (;;) {
        if (have == cap) {
            char *nb = cap <= SIZE_MAX / 2 ? nas__realloc(r->ctx, buf, cap * 2) : NULL;
            if (!nb) {
                nas__free(r->ctx, buf);
                return nas__ctx_fail(r->ctx, NAS_E_NOMEM, "file %s: out of memory reading it", r->path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got;
        nas_status_t st = nas__reader_read(r, buf + have, cap - have, &got);
        if (st != NAS_OK) {
            nas__free(r->ctx, buf);
            return st;
        }
        if (got == 0)
            break;
        have += got;
    }
    *out = buf;
    *len = have;
    return NAS_OK;
}

/*
 * Rows a valid file can hold: each has exactly C*H*W commas, so no more than commas / (C*H*W),
 * nor more than its lines. This bounds the value array by the file's size.
 */
static uint64_t row_capacity(const char *text, size_t len, size_t chw)
{
    uint64_t lines = 0, commas = 0;
    for (size_t i = 0; i < len; i++) {
        lines += text[i] == '\n';
        commas += text[i] == ',';
    }
    lines += len && text[len - 1] != '\n';
    uint64_t cap = commas / chw;
    return cap < lines ? cap : lines;
}

/* Parse every row into values/labels (room for `cap` rows); *rows and *max_label out. */
static nas_status_t parse_all(struct csv *p, const char *text, size_t len, bool header, uint64_t cap, float *values,
                              int32_t *labels, uint64_t *rows, int32_t *max_label)
{
    const char *s = text, *end = text + len;
    uint64_t n = 0, blank_line = 0;
    *max_label = -1;
    for (p->line = 1; s < end; p->line++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (e > s && e[-1] == '\r')
            e--;
        p->line_start = s;
        if (p->line == 1 && header) {
            s = next;
            continue;
        }
        if (e == s) {
            /* Blank lines are allowed only at the end of the file. */
            if (!blank_line)
                blank_line = p->line;
            s = next;
            continue;
        }
        if (blank_line)
            return nas__ctx_fail(p->ctx, NAS_E_PARSE, "%s:%llu:1: empty line before the data of line %llu", p->path,
                                 (unsigned long long)blank_line, (unsigned long long)p->line);
        if (n >= NAS_DATA_MAX_SAMPLES)
            return csv_fail(p, NAS_E_RANGE, s, "more than the limit of %u samples", NAS_DATA_MAX_SAMPLES);
        bool room = n < cap;
        int32_t label = 0;
        nas_status_t st = parse_row(p, s, e, room ? values + n * p->chw : NULL, &label);
        if (st != NAS_OK)
            return st;
        if (!room)  /* cannot happen: a valid row brings its chw commas */
            return csv_fail(p, NAS_E_INTERNAL, s, "row capacity %llu exceeded", (unsigned long long)cap);
        labels[n++] = label;
        if (label > *max_label)
            *max_label = label;
        s = next;
    }
    *rows = n;
    return NAS_OK;
}

nas_status_t nas_dataset_load_csv(nas_dataset_t **out, nas_context_t *ctx, const char *path,
                                  const nas_csv_opts_t *opts)
{
    if (!out)
        return ctx ? nas__ctx_fail(ctx, NAS_E_INVAL, "load_csv: out is NULL") : NAS_E_INVAL;
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    nas_csv_opts_t o = NAS_CSV_OPTS_INIT;
    if (opts && !nas__copy_opts(&o, sizeof o, opts, opts->struct_size))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "load_csv: bad options struct_size %zu", opts->struct_size);
    uint64_t chw = (uint64_t)o.channels * o.height * o.width;
    if (chw == 0 || !isfinite(o.scale))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "load_csv: shape %ux%ux%u and scale %g must be positive and finite",
                             o.channels, o.height, o.width, (double)o.scale);
    if (chw > NAS_DATA_MAX_SAMPLE_VALUES)
        return nas__ctx_fail(ctx, NAS_E_RANGE, "load_csv: samples of %llu values exceed the limit of %u",
                             (unsigned long long)chw, NAS_DATA_MAX_SAMPLE_VALUES);
    struct csv p = { ctx, path, (uint32_t)chw + 1, 0, (size_t)chw, o.scale != 0.0f ? o.scale : 1.0f, 0, NULL };
    if (o.label_column < -1 || o.label_column >= (int64_t)p.ncols)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "load_csv: label_column %d is not -1 or in [0, %u)",
                             (int)o.label_column, p.ncols);
    p.label_col = o.label_column < 0 ? p.ncols - 1 : (uint32_t)o.label_column;

    nas__reader_t r;
    char *text = NULL;
    size_t len = 0;
    float *values = NULL;
    int32_t *labels = NULL;
    struct nas__store *s = NULL;
    nas_status_t st = nas__reader_open(&r, ctx, path);
    if (st != NAS_OK)
        return st;
    st = read_all(&r, &text, &len);
    nas__reader_close(&r);
    if (st != NAS_OK)
        return st;

    uint64_t cap = row_capacity(text, len, p.chw), rows = 0;
    int32_t max_label = -1;
    values = nas__malloc(ctx, (size_t)(cap * p.chw) * sizeof *values);
    labels = nas__malloc(ctx, (size_t)cap * sizeof *labels);
    if (!values || !labels || nas__store_create(&s, ctx) != NAS_OK) {
        st = nas__ctx_fail(ctx, NAS_E_NOMEM, "file %s: out of memory for %llu samples", path, (unsigned long long)cap);
        goto out;
    }
    if ((st = parse_all(&p, text, len, o.header, cap, values, labels, &rows, &max_label)) != NAS_OK)
        goto out;
    if (rows == 0) {
        st = nas__ctx_fail(ctx, NAS_E_PARSE, "file %s: no samples", path);
        goto out;
    }
    s->is_u8 = false;
    s->f32 = values;
    s->owned_pixels = values;
    s->labels = labels;
    s->owned_labels = labels;
    values = NULL;
    labels = NULL;
    s->n = rows;
    s->c = o.channels;
    s->h = o.height;
    s->w = o.width;
    s->chw = p.chw;
    s->num_classes = (uint32_t)max_label + 1;
    st = nas__dataset_create(out, s, rows, 0, NULL);
out:
    nas__store_release(s);
    nas__free(ctx, labels);
    nas__free(ctx, values);
    nas__free(ctx, text);
    return st;
}
