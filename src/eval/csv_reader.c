/* CSV records for benchmark tables: whole-file read under a size limit, RFC 4180 quoting, line numbers. */
#include "eval/csv_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static nas_status_t csv_fail(nas__csv_t *c, nas_status_t st, uint64_t line, const char *what)
{
    return nas__fail(c->errmsg, st, "%s:%llu: %s", c->path, (unsigned long long)line, what);
}

static nas_status_t read_file(nas__csv_t *c, FILE *f)
{
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0)
        return nas__fail(c->errmsg, NAS_E_IO, "%s: cannot stat: %s", c->path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return nas__fail(c->errmsg, NAS_E_IO, "%s: is a folder, not a file", c->path);
    if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > NAS__CSV_MAX_BYTES)
        return nas__fail(c->errmsg, NAS_E_RANGE, "%s: file of %llu bytes is over the limit of %u bytes", c->path,
                         (unsigned long long)sb.st_size, NAS__CSV_MAX_BYTES);
    /* Size from stat when there is one, but read to the end whatever it said (files change). */
    size_t cap = S_ISREG(sb.st_mode) ? (size_t)sb.st_size + 1 : 65536;
    char *buf = nas__malloc(c->ctx, cap);
    if (!buf)
        return nas__fail(c->errmsg, NAS_E_NOMEM, "%s: out of memory reading the file", c->path);
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            if (cap > NAS__CSV_MAX_BYTES) {
                nas__free(c->ctx, buf);
                return nas__fail(c->errmsg, NAS_E_RANGE, "%s: file over the limit of %u bytes", c->path,
                                 NAS__CSV_MAX_BYTES);
            }
            size_t ncap = cap * 2 > (size_t)NAS__CSV_MAX_BYTES + 1 ? (size_t)NAS__CSV_MAX_BYTES + 1 : cap * 2;
            char *p = nas__realloc(c->ctx, buf, ncap);
            if (!p) {
                nas__free(c->ctx, buf);
                return nas__fail(c->errmsg, NAS_E_NOMEM, "%s: out of memory reading the file", c->path);
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        nas__free(c->ctx, buf);
        return nas__fail(c->errmsg, NAS_E_IO, "%s: read error", c->path);
    }
    if (n > NAS__CSV_MAX_BYTES) {
        nas__free(c->ctx, buf);
        return nas__fail(c->errmsg, NAS_E_RANGE, "%s: file over the limit of %u bytes", c->path, NAS__CSV_MAX_BYTES);
    }
    c->text = buf;
    c->len = n;
    return NAS_OK;
}

nas_status_t nas__csv_open(nas__csv_t *c, nas_context_t *ctx, const char *path)
{
    memset(c, 0, sizeof *c);
    c->ctx = ctx;
    c->path = path;
    c->line = 1;
    FILE *f = fopen(path, "rb");
    if (!f)
        return nas__fail(c->errmsg, NAS_E_IO, "%s: cannot open: %s", path, strerror(errno));
    nas_status_t st = read_file(c, f);
    fclose(f);
    if (st != NAS_OK)
        return st;
    if (c->len >= 3 && memcmp(c->text, "\xEF\xBB\xBF", 3) == 0)
        c->pos = 3;
    c->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    return NAS_OK;
}

void nas__csv_close(nas__csv_t *c)
{
    if (c->c_locale)
        freelocale(c->c_locale);
    nas__free(c->ctx, c->text);
    nas__free(c->ctx, c->fbuf);
    nas__free(c->ctx, c->field_off);
    nas__free(c->ctx, c->field_len);
    c->text = c->fbuf = NULL;
    c->field_off = c->field_len = NULL;
    c->c_locale = (locale_t)0;
}

static bool put(nas__csv_t *c, const char *s, size_t n)
{
    if (c->fb_len + n + 1 > c->fb_cap) {
        size_t cap = c->fb_cap ? c->fb_cap : 256;
        while (cap < c->fb_len + n + 1)
            cap *= 2;
        char *p = nas__realloc(c->ctx, c->fbuf, cap);
        if (!p)
            return false;
        c->fbuf = p;
        c->fb_cap = cap;
    }
    memcpy(c->fbuf + c->fb_len, s, n);
    c->fb_len += n;
    return true;
}

static bool add_field(nas__csv_t *c, size_t off)
{
    if (c->num_fields == c->cap_fields) {
        uint32_t cap = c->cap_fields ? c->cap_fields * 2 : 16;
        size_t *o = nas__realloc(c->ctx, c->field_off, cap * sizeof *o);
        if (!o)
            return false;
        c->field_off = o;
        size_t *l = nas__realloc(c->ctx, c->field_len, cap * sizeof *l);
        if (!l)
            return false;
        c->field_len = l;
        c->cap_fields = cap;
    }
    if (!put(c, "", 1))
        return false;
    c->field_off[c->num_fields] = off;
    c->field_len[c->num_fields] = c->fb_len - off - 1;
    c->num_fields++;
    return true;
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static bool ends_field(char ch)
{
    return ch == ',' || ch == '\n' || ch == '\r';
}

/* Skip blank lines (empty, or spaces and tabs only). false at the end of the text. */
static bool skip_blank_lines(nas__csv_t *c)
{
    for (;;) {
        size_t p = c->pos;
        while (p < c->len && is_blank(c->text[p]))
            p++;
        if (p >= c->len) {
            c->pos = p;
            return false;
        }
        if (c->text[p] != '\n' && c->text[p] != '\r')
            return true;
        if (c->text[p] == '\r' && p + 1 < c->len && c->text[p + 1] == '\n')
            p++;
        c->pos = p + 1;
        c->line++;
    }
}

/* A quoted field from c->pos (at the opening quote) into the field buffer. */
static nas_status_t quoted_field(nas__csv_t *c, size_t start)
{
    const char *t = c->text;
    uint64_t qline = c->line;
    c->pos++;
    for (;;) {
        if (c->pos >= c->len)
            return csv_fail(c, NAS_E_PARSE, qline, "unterminated quoted field (its quote opens on this line)");
        if (c->pos - start > NAS__CSV_MAX_RECORD)
            return csv_fail(c, NAS_E_RANGE, qline, "record longer than the limit of 1 MiB");
        char ch = t[c->pos];
        if (ch == '"') {
            if (c->pos + 1 < c->len && t[c->pos + 1] == '"') {
                if (!put(c, "\"", 1))
                    return NAS_E_NOMEM;
                c->pos += 2;
                continue;
            }
            c->pos++;
            break;
        }
        if (ch == '\0')
            return csv_fail(c, NAS_E_PARSE, c->line, "NUL byte in the file");
        if (ch == '\n' || (ch == '\r' && !(c->pos + 1 < c->len && t[c->pos + 1] == '\n')))
            c->line++;
        if (!put(c, &ch, 1))
            return NAS_E_NOMEM;
        c->pos++;
    }
    while (c->pos < c->len && is_blank(t[c->pos]))
        c->pos++;
    if (c->pos < c->len && !ends_field(t[c->pos]))
        return csv_fail(c, NAS_E_PARSE, c->line, "unexpected text after a closing quote (write \"\" for a quote)");
    return NAS_OK;
}

/* An unquoted field from c->pos into the field buffer, trimmed. */
static nas_status_t plain_field(nas__csv_t *c, size_t start)
{
    const char *t = c->text;
    size_t a = c->pos;
    while (c->pos < c->len && !ends_field(t[c->pos])) {
        char ch = t[c->pos];
        if (ch == '"')
            return csv_fail(c, NAS_E_PARSE, c->line, "quote inside an unquoted field (quote the whole field)");
        if (ch == '\0')
            return csv_fail(c, NAS_E_PARSE, c->line, "NUL byte in the file");
        if (c->pos - start > NAS__CSV_MAX_RECORD)
            return csv_fail(c, NAS_E_RANGE, c->line, "line longer than the limit of 1 MiB");
        c->pos++;
    }
    size_t b = c->pos;
    while (b > a && is_blank(t[b - 1]))
        b--;
    if (!put(c, t + a, b - a))
        return NAS_E_NOMEM;
    return NAS_OK;
}

nas_status_t nas__csv_next(nas__csv_t *c)
{
    if (!skip_blank_lines(c))
        return NAS_E_NOT_FOUND;
    c->record_line = c->line;
    c->num_fields = 0;
    c->fb_len = 0;
    size_t start = c->pos;
    const char *t = c->text;
    for (;;) {
        if (c->num_fields >= NAS__CSV_MAX_FIELDS)
            return csv_fail(c, NAS_E_RANGE, c->line, "more than 4096 fields in a record");
        size_t off = c->fb_len;
        while (c->pos < c->len && is_blank(t[c->pos]))
            c->pos++;
        nas_status_t st = c->pos < c->len && t[c->pos] == '"' ? quoted_field(c, start) : plain_field(c, start);
        if (st == NAS_E_NOMEM)
            return csv_fail(c, st, c->line, "out of memory");
        if (st != NAS_OK)
            return st;
        if (!add_field(c, off))
            return csv_fail(c, NAS_E_NOMEM, c->line, "out of memory");
        if (c->pos < c->len && t[c->pos] == ',') {
            c->pos++;
            continue;
        }
        if (c->pos < c->len) {
            if (t[c->pos] == '\r' && c->pos + 1 < c->len && t[c->pos + 1] == '\n')
                c->pos++;
            c->pos++;
            c->line++;
        }
        return NAS_OK;
    }
}

bool nas__csv_number(const nas__csv_t *c, const char *s, size_t n, double *out)
{
    if (n == 0)
        return false;
    locale_t old = (locale_t)0;
    if (c->c_locale)
        old = uselocale(c->c_locale);
    char *end = NULL;
    double v = nas__strtod(s, &end);
    if (c->c_locale)
        uselocale(old);
    if (end != s + n)
        return false;
    *out = v;
    return true;
}
