/* Reading untrusted data files, plain or gzip'd (detected from the magic), with every allocation through the context. */
#ifndef NAS_DATA_READER_H
#define NAS_DATA_READER_H

#include "core/internal.h"

#include <zlib.h>

typedef struct nas__reader {
    nas_context_t *ctx;
    const char *path;        /* borrowed, for messages */
    int fd;
    bool gz;                 /* gzip'd: bytes come out of inflate */
    bool z_ready;            /* inflateInit2 done */
    bool member_end;         /* the current gzip member ended (another may follow) */
    bool fd_eof;
    z_stream zs;
    unsigned char *in;       /* input buffer */
    size_t in_cap;
    size_t in_pos, in_len;   /* plain files: bytes buffered but not yet returned */
    uint64_t file_size;      /* regular files: size on disk; 0 otherwise */
    uint64_t size_hint;      /* likely size of the content (gzip ISIZE, file size), 0 if unknown */
    uint64_t pos;            /* content bytes returned so far */
} nas__reader_t;

/*
 * Open `path` for reading. NAS_E_IO (missing, unreadable, a directory), NAS_E_PARSE (empty file),
 * NAS_E_NOMEM; the message ("file PATH: ...") goes into the context. On failure nothing needs closing.
 */
nas_status_t nas__reader_open(nas__reader_t *r, nas_context_t *ctx, const char *path);

/*
 * Read up to n bytes of content; *got < n only at the end of the content. NAS_E_IO, NAS_E_PARSE
 * (corrupt or truncated gzip data), NAS_E_NOMEM, with the message in the context.
 */
nas_status_t nas__reader_read(nas__reader_t *r, void *buf, size_t n, size_t *got);

/*
 * Read exactly `expected` bytes into a new buffer (*out, freed with nas__free) and check that the
 * content ends there: at most expected + 1 bytes are ever produced, and memory grows with the bytes
 * actually read (a file whose header lies about its size costs what it holds, not what it claims).
 * NAS_E_PARSE with "file PATH: expected N bytes of WHAT, got M" or "more than the N bytes of WHAT".
 */
nas_status_t nas__reader_read_exact(nas__reader_t *r, uint64_t expected, const char *what, uint8_t **out);

/* Close; safe on a reader whose open failed. */
void nas__reader_close(nas__reader_t *r);

#endif /* NAS_DATA_READER_H */
