/* Plain or gzip'd files through zlib's inflate, with the context's allocator and hard size caps. */
#include "data/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IN_CAP (64u * 1024u)
/* First allocation when the content size is not known; later ones double up to the cap. */
#define FIRST_CHUNK (1u << 20)

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    return nas__calloc(opaque, items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    nas__free(opaque, p);
}

/* read() that retries on EINTR; returns bytes read or -1. */
static ssize_t read_some(int fd, void *buf, size_t n)
{
    if (n > (size_t)SSIZE_MAX)
        n = (size_t)SSIZE_MAX;
    for (;;) {
        ssize_t k = read(fd, buf, n);
        if (k >= 0 || errno != EINTR)
            return k;
    }
}

static nas_status_t io_fail(nas__reader_t *r, int err)
{
    return nas__ctx_fail(r->ctx, NAS_E_IO, "file %s: %s", r->path, strerror(err));
}

/*
 * gzip stores the content size modulo 2^32 in its last 4 bytes: a hint for the first allocation.
 * The trailer can be forged, so it is believed only up to what deflate can expand to (1032:1).
 */
static void gzip_size_hint(nas__reader_t *r)
{
    unsigned char t[4];
    if (r->file_size < 18 || pread(r->fd, t, 4, (off_t)(r->file_size - 4)) != 4)
        return;
    uint64_t isize = (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 | (uint64_t)t[3] << 24;
    r->size_hint = isize <= r->file_size * 1032 ? isize : 0;
}

nas_status_t nas__reader_open(nas__reader_t *r, nas_context_t *ctx, const char *path)
{
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->path = path;
    r->fd = -1;
    if (!path)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "file path is NULL");
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        return io_fail(r, errno);
    nas_status_t st;
    struct stat sb;
    if (fstat(r->fd, &sb) != 0) {
        st = io_fail(r, errno);
        goto fail;
    }
    if (S_ISDIR(sb.st_mode)) {
        st = nas__ctx_fail(ctx, NAS_E_IO, "file %s: is a directory", path);
        goto fail;
    }
    if (S_ISREG(sb.st_mode))
        r->file_size = (uint64_t)sb.st_size;
    r->in = nas__malloc(ctx, IN_CAP);
    if (!r->in) {
        st = nas__ctx_fail(ctx, NAS_E_NOMEM, "file %s: out of memory for the read buffer", path);
        goto fail;
    }
    r->in_cap = IN_CAP;
    /* At least two bytes (or the whole file) to look for the gzip magic. */
    while (r->in_len < 2 && !r->fd_eof) {
        ssize_t k = read_some(r->fd, r->in + r->in_len, r->in_cap - r->in_len);
        if (k < 0) {
            st = io_fail(r, errno);
            goto fail;
        }
        r->in_len += (size_t)k;
        r->fd_eof = k == 0;
    }
    if (r->in_len == 0) {
        st = nas__ctx_fail(ctx, NAS_E_PARSE, "file %s: empty file", path);
        goto fail;
    }
    r->gz = r->in_len >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b;
    if (!r->gz) {
        r->size_hint = r->file_size;
        return NAS_OK;
    }
    gzip_size_hint(r);
    r->zs.zalloc = z_alloc;
    r->zs.zfree = z_free;
    r->zs.opaque = ctx;
    r->zs.next_in = r->in;
    r->zs.avail_in = (uInt)r->in_len;
    int zr = inflateInit2(&r->zs, 15 + 16);  /* gzip wrapper only */
    if (zr != Z_OK) {
        st = zr == Z_MEM_ERROR ? nas__ctx_fail(ctx, NAS_E_NOMEM, "file %s: out of memory for gzip", path)
                               : nas__ctx_fail(ctx, NAS_E_INTERNAL, "file %s: zlib init failed (%d)", path, zr);
        goto fail;
    }
    r->z_ready = true;
    return NAS_OK;
fail:
    nas__reader_close(r);
    return st;
}

static nas_status_t read_plain(nas__reader_t *r, unsigned char *dst, size_t n, size_t *got)
{
    size_t done = 0;
    if (r->in_pos < r->in_len) {
        size_t k = r->in_len - r->in_pos < n ? r->in_len - r->in_pos : n;
        memcpy(dst, r->in + r->in_pos, k);
        r->in_pos += k;
        done = k;
    }
    while (done < n && !r->fd_eof) {
        ssize_t k = read_some(r->fd, dst + done, n - done);
        if (k < 0)
            return io_fail(r, errno);
        r->fd_eof = k == 0;
        done += (size_t)k;
    }
    *got = done;
    return NAS_OK;
}

static nas_status_t read_gz(nas__reader_t *r, unsigned char *dst, size_t n, size_t *got)
{
    z_stream *zs = &r->zs;
    size_t done = 0;
    while (done < n) {
        if (zs->avail_in == 0 && !r->fd_eof) {
            ssize_t k = read_some(r->fd, r->in, r->in_cap);
            if (k < 0)
                return io_fail(r, errno);
            r->fd_eof = k == 0;
            zs->next_in = r->in;
            zs->avail_in = (uInt)k;
        }
        if (r->member_end) {
            if (zs->avail_in == 0) {
                if (r->fd_eof)
                    break;  /* the end of the last member is the end of the content */
                continue;
            }
            /* Another gzip member follows (as `cat a.gz b.gz` makes); garbage fails its header check. */
            if (inflateReset(zs) != Z_OK)
                return nas__ctx_fail(r->ctx, NAS_E_INTERNAL, "file %s: zlib reset failed", r->path);
            r->member_end = false;
        }
        size_t want = n - done < UINT_MAX ? n - done : UINT_MAX;
        zs->next_out = dst + done;
        zs->avail_out = (uInt)want;
        uInt in_before = zs->avail_in;
        int zr = inflate(zs, Z_NO_FLUSH);
        size_t produced = want - zs->avail_out;
        done += produced;
        switch (zr) {
        case Z_STREAM_END:
            r->member_end = true;
            break;
        case Z_OK:
        case Z_BUF_ERROR:
            if (produced == 0 && zs->avail_in == in_before && r->fd_eof && zs->avail_in == 0)
                return nas__ctx_fail(r->ctx, NAS_E_PARSE, "file %s: gzip data ends early (truncated file)",
                                     r->path);
            break;
        case Z_MEM_ERROR:
            return nas__ctx_fail(r->ctx, NAS_E_NOMEM, "file %s: out of memory in gzip", r->path);
        default:
            return nas__ctx_fail(r->ctx, NAS_E_PARSE, "file %s: corrupt gzip data (%s)", r->path,
                                 zs->msg ? zs->msg : "unknown zlib error");
        }
    }
    *got = done;
    return NAS_OK;
}

nas_status_t nas__reader_read(nas__reader_t *r, void *buf, size_t n, size_t *got)
{
    *got = 0;
    if (n == 0)
        return NAS_OK;
    nas_status_t st = r->gz ? read_gz(r, buf, n, got) : read_plain(r, buf, n, got);
    r->pos += *got;
    return st;
}

nas_status_t nas__reader_read_exact(nas__reader_t *r, uint64_t expected, const char *what, uint8_t **out)
{
    *out = NULL;
    if (expected > SIZE_MAX - 1)
        return nas__ctx_fail(r->ctx, NAS_E_RANGE, "file %s: %llu bytes of %s do not fit in memory", r->path,
                             (unsigned long long)expected, what);
    /*
     * Start at the hinted size of what is left, else small; grow only as data actually arrives. A hint
     * above `expected` means the file is longer than declared: it fails below after `expected` + 1 bytes.
     */
    uint64_t left = r->size_hint > r->pos ? r->size_hint - r->pos : 0;
    uint64_t cap = left ? left : FIRST_CHUNK;
    if (cap > expected)
        cap = expected;
    if (cap == 0)
        cap = 1;
    uint8_t *buf = nas__malloc(r->ctx, (size_t)cap);
    if (!buf)
        return nas__ctx_fail(r->ctx, NAS_E_NOMEM, "file %s: out of memory for %llu bytes of %s", r->path,
                             (unsigned long long)cap, what);
    uint64_t have = 0;
    nas_status_t st;
    while (have < expected) {
        if (have == cap) {
            uint64_t ncap = cap * 2 < expected ? cap * 2 : expected;
            uint8_t *nb = nas__realloc(r->ctx, buf, (size_t)ncap);
            if (!nb) {
                st = nas__ctx_fail(r->ctx, NAS_E_NOMEM, "file %s: out of memory for %llu bytes of %s", r->path,
                                   (unsigned long long)ncap, what);
                goto fail;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got;
        if ((st = nas__reader_read(r, buf + have, (size_t)(cap - have), &got)) != NAS_OK)
            goto fail;
        if (got == 0)
            break;
        have += got;
    }
    if (have < expected) {
        st = nas__ctx_fail(r->ctx, NAS_E_PARSE, "file %s: expected %llu bytes of %s, got %llu", r->path,
                           (unsigned long long)expected, what, (unsigned long long)have);
        goto fail;
    }
    /* One byte more tells a file that holds more than it declares (and makes gzip check its CRC). */
    unsigned char extra;
    size_t got;
    if ((st = nas__reader_read(r, &extra, 1, &got)) != NAS_OK)
        goto fail;
    if (got != 0) {
        st = nas__ctx_fail(r->ctx, NAS_E_PARSE, "file %s: holds more than the %llu bytes of %s its header declares",
                           r->path, (unsigned long long)expected, what);
        goto fail;
    }
    *out = buf;
    return NAS_OK;
fail:
    nas__free(r->ctx, buf);
    return st;
}

void nas__reader_close(nas__reader_t *r)
{
    if (r->z_ready)
        inflateEnd(&r->zs);
    r->z_ready = false;
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    if (r->in)
        nas__free(r->ctx, r->in);
    r->in = NULL;
}
