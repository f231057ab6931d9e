/* A strict, bounded CSV record reader for benchmark tables (RFC 4180 quoting, any line ending). */
#ifndef NAS_EVAL_CSV_READER_H
#define NAS_EVAL_CSV_READER_H

#include <locale.h>

#include "core/internal.h"

#define NAS__CSV_MAX_BYTES (256u << 20)   /* a larger file is refused (NAS_E_RANGE) */
#define NAS__CSV_MAX_RECORD (1u << 20)    /* bytes of one record (line) */
#define NAS__CSV_MAX_FIELDS 4096          /* fields of one record */

typedef struct nas__csv {
    nas_context_t *ctx;
    const char *path;
    char *text;                /* the whole file */
    size_t len, pos;
    uint64_t line;             /* line of `pos` (1-based) */
    uint64_t record_line;      /* first line of the last record read */
    char *fbuf;                /* fields of the last record, each NUL-terminated */
    size_t fb_len, fb_cap;
    size_t *field_off, *field_len;
    uint32_t num_fields, cap_fields;
    locale_t c_locale;         /* numbers are read in the C locale whatever the host set; 0 if unavailable */
    char errmsg[NAS_ERRMSG_CAP];
} nas__csv_t;

/*
 * Read the file at `path` (kept by pointer: it must outlive the reader). A UTF-8 byte order mark
 * is skipped. NAS_E_IO (unreadable), NAS_E_RANGE (over NAS__CSV_MAX_BYTES), NAS_E_NOMEM; the
 * message, "PATH: what", is in c->errmsg. nas__csv_close() is needed whatever this returns.
 */
nas_status_t nas__csv_open(nas__csv_t *c, nas_context_t *ctx, const char *path);

/*
 * The next record, skipping blank lines: NAS_OK; NAS_E_NOT_FOUND at the end of the file;
 * NAS_E_PARSE (unterminated quote, text after a closing quote, a quote inside an unquoted field,
 * a NUL byte), NAS_E_RANGE (a record over the limits) or NAS_E_NOMEM with "PATH:LINE: what".
 * Unquoted fields are trimmed of spaces and tabs.
 */
nas_status_t nas__csv_next(nas__csv_t *c);

/* Field i of the last record (NUL-terminated; its length is c->field_len[i]). */
static inline const char *nas__csv_field(const nas__csv_t *c, uint32_t i)
{
    return c->fbuf + c->field_off[i];
}

/* Parse a whole field as a double (decimal point '.', whatever the locale; "nan" and "inf" too). */
bool nas__csv_number(const nas__csv_t *c, const char *s, size_t n, double *out);

void nas__csv_close(nas__csv_t *c);

#endif /* NAS_EVAL_CSV_READER_H */
