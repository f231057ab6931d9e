/*
 * Model files. Format version 1; every integer and float little-endian, floats IEEE-754 binary32:
 *
 *   offset  size  field
 *   0       8     magic "NASMODEL"
 *   8       4     format version (1)
 *   12      4     flags (0; readers refuse bits they do not know)
 *   16      8     size of the whole file in bytes, checksum included
 *   24      16    input channels, height, width, classes (u32 each)
 *   40      8     channel_scale (f64; 0: none)      \  build overrides, so that the
 *   48      8     cells_per_stage, stem_stride (i32) /  same network is rebuilt
 *   56      16    space fingerprint, network fingerprint (u64 each)
 *   72      24    params, FLOPs per sample (i64), optimizer steps trained (u64)
 *   96      8C    normalization: C means, then C standard deviations (f32)
 *   ...           space name (u32 length + bytes), canonical arch string (u32 length + bytes),
 *                 space YAML (u64 length + bytes; 0: none)
 *   ...           tensor count T (u32), then T entries {graph node u32, kind u32, floats u64}
 *                 (kinds: 0 weight OIHW / fc O x CHW, 1 bias, 2 BN scale, 3 BN shift, 4 BN running
 *                 mean, 5 BN running variance), in the order of nas__plan_export
 *   ...           the tensors' floats, one after the other in plain layouts
 *   size - 4  4   CRC-32 (zlib's crc32) of every byte before it
 *
 * Readers check, in order: the file size (at least the fixed part, at most NAS_MODEL_MAX_FILE_BYTES),
 * the magic, the recorded size against the real one (truncation), the checksum (any bit flip), the
 * version, then every field with bounds while parsing. A CRC-32 catches every error of up to 32
 * consecutive bits, so a single bit flip anywhere is always NAS_E_CORRUPT.
 */
#include "model/model_internal.h"


#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAGIC "NASMODEL"
#define FORMAT_VERSION 1u
#define FIXED_BYTES 96u             /* up to the normalization */
#define MIN_BYTES (FIXED_BYTES + 4u + 4u + 8u + 4u + 4u)
#define MAX_NAME 4096u
#define MAX_ARCH (1u << 20)
#define MAX_TENSORS (1u << 24)

static uint32_t crc(const uint8_t *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

/* ---------------------------------------------------------------------- */
/* Writing                                                                 */

typedef struct wbuf {
    uint8_t *p;
    size_t off;
} wbuf_t;

static void w_u32(wbuf_t *w, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        w->p[w->off++] = (uint8_t)(v >> (8 * i));
}

static void w_u64(wbuf_t *w, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        w->p[w->off++] = (uint8_t)(v >> (8 * i));
}

static void w_f64(wbuf_t *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    w_u64(w, u);
}

static void w_f32(wbuf_t *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    w_u32(w, u);
}

static void w_bytes(wbuf_t *w, const void *s, size_t n)
{
    if (n)
        memcpy(w->p + w->off, s, n);
    w->off += n;
}

static size_t file_size(const nas_model_t *m)
{
    return FIXED_BYTES + 8u * (size_t)m->bopts.in_c + 4u + strlen(m->space_name) + 4u + strlen(m->arch) + 8u +
           m->space_yaml_len + 4u + 16u * (size_t)m->num_tensors + 4u * (size_t)m->state_n + 4u;
}

static void serialize(const nas_model_t *m, wbuf_t *w, size_t size)
{
    w_bytes(w, MAGIC, 8);
    w_u32(w, FORMAT_VERSION);
    w_u32(w, 0);
    w_u64(w, size);
    w_u32(w, (uint32_t)m->bopts.in_c);
    w_u32(w, (uint32_t)m->bopts.in_h);
    w_u32(w, (uint32_t)m->bopts.in_w);
    w_u32(w, (uint32_t)m->bopts.num_classes);
    w_f64(w, m->bopts.channel_scale);
    w_u32(w, (uint32_t)m->bopts.cells_per_stage);
    w_u32(w, (uint32_t)m->bopts.stem_stride);
    w_u64(w, m->space_fp);
    w_u64(w, m->graph_fp);
    w_u64(w, (uint64_t)m->params);
    w_u64(w, (uint64_t)m->flops);
    w_u64(w, m->steps_trained);
    for (int32_t c = 0; c < m->bopts.in_c; c++)
        w_f32(w, m->mean[c]);
    for (int32_t c = 0; c < m->bopts.in_c; c++)
        w_f32(w, m->std[c]);
    size_t n = strlen(m->space_name);
    w_u32(w, (uint32_t)n);
    w_bytes(w, m->space_name, n);
    n = strlen(m->arch);
    w_u32(w, (uint32_t)n);
    w_bytes(w, m->arch, n);
    w_u64(w, m->space_yaml_len);
    w_bytes(w, m->space_yaml, m->space_yaml_len);
    w_u32(w, m->num_tensors);
    for (uint32_t t = 0; t < m->num_tensors; t++) {
        w_u32(w, m->tensors[t].node);
        w_u32(w, m->tensors[t].kind);
        w_u64(w, m->tensors[t].elems);
    }
    for (int64_t i = 0; i < m->state_n; i++)
        w_f32(w, m->state[i]);
    w_u32(w, crc(w->p, w->off));
}

nas_status_t nas_model_save(nas_model_t *m, const char *path)
{
    if (!m)
        return NAS_E_INVAL;
    if (!path || !*path)
        return nas__fail(m->errmsg, NAS_E_INVAL, "nas_model_save: path is NULL or empty");
    if (strlen(m->space_name) > MAX_NAME || strlen(m->arch) > MAX_ARCH)
        return nas__fail(m->errmsg, NAS_E_RANGE, "nas_model_save: the space name or arch string is too long");
    size_t size = file_size(m);
    if (size > NAS_MODEL_MAX_FILE_BYTES)
        return nas__fail(m->errmsg, NAS_E_RANGE, "nas_model_save: the model needs %zu bytes, over the %u-byte limit "
                         "of model files", size, NAS_MODEL_MAX_FILE_BYTES);
    wbuf_t w = { nas__malloc(m->ctx, size), 0 };
    if (!w.p)
        return nas__fail(m->errmsg, NAS_E_NOMEM, "nas_model_save: out of memory for %zu bytes", size);
    serialize(m, &w, size);
    nas_status_t st = nas__write_file_atomic(m->ctx, path, (const char *)w.p, w.off, m->errmsg);
    nas__free(m->ctx, w.p);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                 */

/* A bounds-checked cursor: every read past `len` fails and records what was being read. */
typedef struct rbuf {
    const uint8_t *p;
    size_t len, off;
    const char *fail;   /* the field that did not fit, or NULL */
} rbuf_t;

static bool r_need(rbuf_t *r, size_t n, const char *what)
{
    if (r->fail)
        return false;
    if (n > r->len - r->off) {
        r->fail = what;
        return false;
    }
    return true;
}

static uint32_t r_u32(rbuf_t *r, const char *what)
{
    if (!r_need(r, 4, what))
        return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)r->p[r->off++] << (8 * i);
    return v;
}

static uint64_t r_u64(rbuf_t *r, const char *what)
{
    if (!r_need(r, 8, what))
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->p[r->off++] << (8 * i);
    return v;
}

static double r_f64(rbuf_t *r, const char *what)
{
    uint64_t u = r_u64(r, what);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static float r_f32(rbuf_t *r, const char *what)
{
    uint32_t u = r_u32(r, what);
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* A string of `len` bytes (not NUL-terminated in the file); NULL if it does not fit. */
static const char *r_bytes(rbuf_t *r, uint64_t len, const char *what)
{
    if (len > SIZE_MAX || !r_need(r, (size_t)len, what))
        return NULL;
    const char *s = (const char *)r->p + r->off;
    r->off += (size_t)len;
    return s;
}

/* Everything the header says, pointing into the file's bytes. */
typedef struct header {
    nas__build_opts_t b;
    uint64_t space_fp, graph_fp, steps;
    int64_t params, flops;
    size_t norm_off;      /* offset of the normalization */
    const char *name, *arch, *yaml;
    uint32_t name_len, arch_len;
    uint64_t yaml_len;
    uint32_t num_tensors;
    size_t tensors_off;   /* offset of the tensor table */
    size_t data_off;      /* offset of the floats */
    uint64_t data_n;
} header_t;

/* The model file being loaded. */
typedef struct loading {
    nas_context_t *ctx;
    const char *path;
    uint8_t *buf;
    size_t len;
} loading_t;

static nas_status_t corrupt(const loading_t *l, const char *fmt, ...) NAS_PRINTF(2, 3);

static nas_status_t corrupt(const loading_t *l, const char *fmt, ...)
{
    char what[NAS_ERRMSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return nas__ctx_fail(l->ctx, NAS_E_CORRUPT, "%s: %s", l->path, what);
}

static nas_status_t read_all(loading_t *l)
{
    int fd = open(l->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nas__ctx_fail(l->ctx, NAS_E_IO, "%s: cannot open: %s", l->path, strerror(errno));
    nas_status_t st = NAS_OK;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        st = nas__ctx_fail(l->ctx, NAS_E_IO, "%s: cannot stat: %s", l->path, strerror(errno));
        goto out_close;
    }
    if (S_ISDIR(sb.st_mode)) {
        st = nas__ctx_fail(l->ctx, NAS_E_IO, "%s: is a folder, not a model file", l->path);
        goto out_close;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = nas__ctx_fail(l->ctx, NAS_E_IO, "%s: not a regular file", l->path);
        goto out_close;
    }
    if ((uint64_t)sb.st_size > NAS_MODEL_MAX_FILE_BYTES) {
        st = nas__ctx_fail(l->ctx, NAS_E_RANGE, "%s: %lld bytes, over the %u-byte limit of model files", l->path,
                           (long long)sb.st_size, NAS_MODEL_MAX_FILE_BYTES);
        goto out_close;
    }
    l->len = (size_t)sb.st_size;
    if (!(l->buf = nas__malloc(l->ctx, l->len ? l->len : 1))) {
        st = nas__ctx_fail(l->ctx, NAS_E_NOMEM, "%s: out of memory for %zu bytes", l->path, l->len);
        goto out_close;
    }
    size_t done = 0;
    while (done < l->len) {
        ssize_t n = read(fd, l->buf + done, l->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = nas__ctx_fail(l->ctx, NAS_E_IO, "%s: cannot read: %s", l->path, strerror(errno));
            goto out_close;
        }
        if (n == 0)
            break;   /* the file shrank while we read: the checks below see a truncated file */
        done += (size_t)n;
    }
    l->len = done;
out_close:
    close(fd);
    return st;
}

/* Magic, size, checksum, version: before anything else is trusted. */
static nas_status_t check_envelope(const loading_t *l)
{
    if (l->len < 8 || memcmp(l->buf, MAGIC, 8) != 0) {
        bool empty = l->len == 0;
        return corrupt(l, "%s", empty ? "empty file, not a libnas model" : "not a libnas model file (bad magic)");
    }
    if (l->len < MIN_BYTES)
        return corrupt(l, "truncated: %zu bytes, shorter than any model file (%u)", l->len, MIN_BYTES);
    rbuf_t r = { l->buf, l->len, 16, NULL };
    uint64_t size = r_u64(&r, "size");
    if (size != l->len)
        return corrupt(l, "%s: the file has %zu bytes, its header says %llu", size > l->len ? "truncated" : "bad size",
                       l->len, (unsigned long long)size);
    uint32_t stored = (uint32_t)l->buf[l->len - 4] | (uint32_t)l->buf[l->len - 3] << 8 |
                      (uint32_t)l->buf[l->len - 2] << 16 | (uint32_t)l->buf[l->len - 1] << 24;
    uint32_t computed = crc(l->buf, l->len - 4);
    if (stored != computed)
        return corrupt(l, "checksum mismatch (stored 0x%08x, computed 0x%08x): the file is corrupted", stored,
                       computed);
    r.off = 8;
    uint32_t version = r_u32(&r, "version"), flags = r_u32(&r, "flags");
    if (version != FORMAT_VERSION)
        return nas__ctx_fail(l->ctx, version > FORMAT_VERSION ? NAS_E_UNSUPPORTED : NAS_E_CORRUPT,
                             "%s: format version %u; this libnas reads version %u", l->path, version, FORMAT_VERSION);
    if (flags != 0)
        return nas__ctx_fail(l->ctx, NAS_E_UNSUPPORTED, "%s: unknown flags 0x%x", l->path, flags);
    return NAS_OK;
}

static nas_status_t check_build(const loading_t *l, const nas__build_opts_t *b)
{
    if (b->in_c < 1 || b->in_h < 1 || b->in_w < 1 || b->in_c > NAS__GRAPH_MAX_DIM || b->in_h > NAS__GRAPH_MAX_DIM ||
        b->in_w > NAS__GRAPH_MAX_DIM)
        return corrupt(l, "bad input shape %d x %d x %d", (int)b->in_c, (int)b->in_h, (int)b->in_w);
    if (b->num_classes < 2 || b->num_classes > (int32_t)NAS_DATA_MAX_CLASSES)
        return corrupt(l, "bad number of classes %d", (int)b->num_classes);
    if (!(b->channel_scale >= 0.0 && b->channel_scale <= 64.0) || b->cells_per_stage < 0 ||
        b->cells_per_stage > 1024 || b->stem_stride < 0 || b->stem_stride > 2)
        return corrupt(l, "bad build options (channel_scale %g, cells_per_stage %d, stem_stride %d)",
                       b->channel_scale, (int)b->cells_per_stage, (int)b->stem_stride);
    return NAS_OK;
}

static nas_status_t parse_header(const loading_t *l, header_t *h)
{
    rbuf_t r = { l->buf, l->len - 4, 24, NULL };   /* the checksum is not part of the content */
    nas__build_opts_t d = NAS__BUILD_OPTS_INIT;
    h->b = d;
    h->b.in_c = (int32_t)r_u32(&r, "shape");
    h->b.in_h = (int32_t)r_u32(&r, "shape");
    h->b.in_w = (int32_t)r_u32(&r, "shape");
    h->b.num_classes = (int32_t)r_u32(&r, "classes");
    h->b.channel_scale = r_f64(&r, "build options");
    h->b.cells_per_stage = (int32_t)r_u32(&r, "build options");
    h->b.stem_stride = (int32_t)r_u32(&r, "build options");
    h->space_fp = r_u64(&r, "fingerprints");
    h->graph_fp = r_u64(&r, "fingerprints");
    h->params = (int64_t)r_u64(&r, "counts");
    h->flops = (int64_t)r_u64(&r, "counts");
    h->steps = r_u64(&r, "counts");
    nas_status_t st = check_build(l, &h->b);
    if (st != NAS_OK)
        return st;
    h->norm_off = r.off;
    if (!r_need(&r, 8u * (size_t)h->b.in_c, "normalization"))
        return corrupt(l, "truncated in the normalization");
    rbuf_t n = { l->buf, r.off + 8u * (size_t)h->b.in_c, r.off, NULL };
    for (int32_t c = 0; c < h->b.in_c; c++) {
        float mean = r_f32(&n, "normalization");
        if (!isfinite(mean))
            return corrupt(l, "bad normalization mean of channel %d", (int)c);
    }
    for (int32_t c = 0; c < h->b.in_c; c++) {
        float std = r_f32(&n, "normalization");
        if (!isfinite(std) || !(std > 0.0f))
            return corrupt(l, "bad normalization deviation of channel %d", (int)c);
    }
    r.off = n.off;
    h->name_len = r_u32(&r, "space name");
    if (h->name_len > MAX_NAME)
        return corrupt(l, "space name of %u bytes (at most %u)", h->name_len, MAX_NAME);
    h->name = r_bytes(&r, h->name_len, "space name");
    h->arch_len = r_u32(&r, "architecture");
    if (h->arch_len > MAX_ARCH)
        return corrupt(l, "architecture string of %u bytes (at most %u)", h->arch_len, MAX_ARCH);
    h->arch = r_bytes(&r, h->arch_len, "architecture");
    h->yaml_len = r_u64(&r, "space YAML");
    if (h->yaml_len > NAS_SPACE_MAX_FILE_BYTES)
        return corrupt(l, "space YAML of %llu bytes (at most %u)", (unsigned long long)h->yaml_len,
                       NAS_SPACE_MAX_FILE_BYTES);
    h->yaml = r_bytes(&r, h->yaml_len, "space YAML");
    h->num_tensors = r_u32(&r, "tensor count");
    if (h->num_tensors > MAX_TENSORS || (!r.fail && (uint64_t)h->num_tensors * 16u > r.len - r.off))
        return corrupt(l, "a table of %u tensors does not fit in the file", h->num_tensors);
    h->tensors_off = r.off;
    h->data_n = 0;
    for (uint32_t t = 0; t < h->num_tensors && !r.fail; t++) {
        r.off += 8;   /* node and kind: compared with the rebuilt network's later */
        uint64_t e = r_u64(&r, "tensor table");
        if (e > (r.len - r.off) / 4 || h->data_n + e > (r.len - r.off) / 4)
            return corrupt(l, "tensor %u holds %llu floats, more than the file", t, (unsigned long long)e);
        h->data_n += e;
    }
    if (r.fail)
        return corrupt(l, "truncated in the %s", r.fail);
    h->data_off = r.off;
    if (r.len - r.off != 4 * h->data_n)
        return corrupt(l, "%zu bytes of parameters, the tensor table says %llu", r.len - r.off,
                       (unsigned long long)(4 * h->data_n));
    if (memchr(h->name, 0, h->name_len) || memchr(h->arch, 0, h->arch_len) || memchr(h->yaml, 0, h->yaml_len))
        return corrupt(l, "a NUL byte inside the space name, architecture or YAML");
    return NAS_OK;
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                 */

/* The network of the saved arch in `space`, checked against the file, with the saved weights. */
static nas_status_t rebuild(const loading_t *l, const header_t *h, nas_space_t *space, nas_model_t **out)
{
    nas_context_t *ctx = l->ctx;
    const char *sname = nas_space_name(space);
    if (strlen(sname) != h->name_len || memcmp(sname, h->name, h->name_len) != 0)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "%s: the model was saved from space '%.*s', not '%s'", l->path,
                             (int)h->name_len, h->name, sname);
    if (nas__space_fingerprint(space) != h->space_fp)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "%s: space '%s' differs from the one the model was saved from (its "
                             "decisions or their options changed)", l->path, sname);
    nas_arch_t *arch = NULL;
    char *str = nas__strndup(ctx, h->arch, h->arch_len);
    nas_status_t st = str ? nas_arch_create(&arch, space) : NAS_E_NOMEM;
    if (st != NAS_OK) {
        nas__ctx_fail(ctx, st, "%s: out of memory", l->path);
        goto out_free;
    }
    if ((st = nas_arch_from_string(arch, str)) != NAS_OK) {
        st = nas__ctx_fail(ctx, st == NAS_E_NOMEM ? st : NAS_E_INVAL, "%s: '%.200s' is not an architecture of space "
                           "'%s': %s", l->path, str, sname, nas_space_errmsg(space));
        goto out_free;
    }
    /* the network first: a mismatch is refused before any plan (and its memory) exists */
    nas__graph_t *g = NULL;
    if ((st = nas__model_graph(arch, &h->b, &g)) != NAS_OK)
        goto out_free;
    nas_model_t *m = NULL;
    bool same = nas__graph_fingerprint(g) == h->graph_fp;
    if (same && (st = nas__model_build(&m, arch, &h->b, 1, g)) != NAS_OK)
        goto out_free;
    if (!same)
        nas__graph_destroy(g);
    same = same && m->num_tensors == h->num_tensors && (uint64_t)m->state_n == h->data_n;
    rbuf_t r = { l->buf, l->len - 4, h->tensors_off, NULL };
    for (uint32_t t = 0; same && t < h->num_tensors; t++) {
        uint32_t node = r_u32(&r, "tensor table"), kind = r_u32(&r, "tensor table");
        uint64_t elems = r_u64(&r, "tensor table");
        same = node == m->tensors[t].node && kind == m->tensors[t].kind && elems == m->tensors[t].elems;
    }
    if (!same) {
        st = nas__ctx_fail(ctx, NAS_E_INVAL, "%s: space '%s' builds another network for '%.200s' than the one saved "
                           "(a channel count, cell count or op of the space changed?)", l->path, sname, str);
        nas_model_destroy(m);
        goto out_free;
    }
    r.off = h->data_off;
    for (int64_t i = 0; i < m->state_n; i++)
        m->state[i] = r_f32(&r, "parameters");
    r.off = h->norm_off;
    for (int32_t c = 0; c < m->bopts.in_c; c++)
        m->mean[c] = r_f32(&r, "normalization");
    for (int32_t c = 0; c < m->bopts.in_c; c++)
        m->std[c] = r_f32(&r, "normalization");
    m->version++;   /* the cached plan holds the initial weights */
    m->steps_trained = h->steps;
    *out = m;
out_free:
    nas_arch_destroy(arch);
    nas__free(ctx, str);
    return st;
}

/* The space stored in the file (NULL space argument). */
static nas_status_t embedded_space(const loading_t *l, const header_t *h, nas_space_t **out)
{
    if (h->yaml_len == 0)
        return nas__ctx_fail(l->ctx, NAS_E_INVAL, "%s: the file holds no space YAML: pass the space '%.*s' the model "
                             "was saved from", l->path, (int)h->name_len, h->name);
    size_t n = strlen(l->path);
    char *origin = nas__malloc(l->ctx, n + 18);
    if (!origin)
        return nas__ctx_fail(l->ctx, NAS_E_NOMEM, "%s: out of memory", l->path);
    memcpy(origin, l->path, n);
    memcpy(origin + n, " (embedded space)", 18);
    nas_status_t st = nas_space_load_string(out, l->ctx, h->yaml, (size_t)h->yaml_len, origin);
    nas__free(l->ctx, origin);
    return st;
}

nas_status_t nas_model_load(nas_model_t **out, nas_context_t *ctx, const char *path, nas_space_t *space)
{
    if (out)
        *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    if (!out || !path)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_model_load: out or path is NULL");
    if (space && (nas__space_context(space) != ctx || !nas__space_is_built(space)))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_model_load: the space is not built or belongs to another context");
    loading_t l = { ctx, path, NULL, 0 };
    header_t h;
    memset(&h, 0, sizeof h);
    nas_space_t *own = NULL;
    nas_model_t *m = NULL;
    nas_status_t st;
    if ((st = read_all(&l)) != NAS_OK || (st = check_envelope(&l)) != NAS_OK || (st = parse_header(&l, &h)) != NAS_OK)
        goto out_free;
    if (!space && (st = embedded_space(&l, &h, &own)) != NAS_OK)
        goto out_free;
    if ((st = rebuild(&l, &h, space ? space : own, &m)) != NAS_OK)
        goto out_free;
    if (h.yaml_len && !(m->space_yaml = nas__strndup(ctx, h.yaml, (size_t)h.yaml_len))) {
        st = nas__ctx_fail(ctx, NAS_E_NOMEM, "%s: out of memory", path);
        goto out_free;
    }
    m->space_yaml_len = (size_t)h.yaml_len;
    m->own_space = own;
    own = NULL;
    *out = m;
    m = NULL;
out_free:
    nas_model_destroy(m);
    nas_space_destroy(own);
    nas__free(ctx, l.buf);
    return st;
}
