/* IDX files (MNIST, Fashion-MNIST): unsigned-byte images and labels, plain or gzip'd. */
#include "data/dataset.h"
#include "data/reader.h"

#include <string.h>

#define IDX_UBYTE 0x08

/* Read and check the header; dims[0] is the sample count. */
static nas_status_t read_header(nas__reader_t *r, bool images, uint32_t dims[4], uint32_t *ndims)
{
    unsigned char hdr[4 + 4 * 4];
    size_t got;
    nas_status_t st;
    if ((st = nas__reader_read(r, hdr, 4, &got)) != NAS_OK)
        return st;
    if (got < 4)
        return nas__ctx_fail(r->ctx, NAS_E_PARSE, "file %s: truncated IDX header (%zu of 4 magic bytes)", r->path,
                             got);
    uint32_t magic = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (hdr[0] != 0 || hdr[1] != 0)
        return nas__ctx_fail(r->ctx, NAS_E_PARSE, "file %s: not an IDX file (magic 0x%08x)", r->path, magic);
    if (hdr[2] != IDX_UBYTE)
        return nas__ctx_fail(r->ctx, NAS_E_PARSE,
                             "file %s: IDX element type 0x%02x is not unsigned bytes (0x08; magic 0x%08x)", r->path,
                             hdr[2], magic);
    uint32_t nd = hdr[3];
    if (images ? (nd != 3 && nd != 4) : nd != 1)
        return nas__ctx_fail(r->ctx, NAS_E_PARSE, "file %s: an IDX %s file has %s dimensions, this one %u (magic 0x%08x)",
                             r->path, images ? "image" : "label", images ? "3 or 4" : "1", nd, magic);
    if ((st = nas__reader_read(r, hdr + 4, 4 * nd, &got)) != NAS_OK)
        return st;
    if (got < 4 * nd)
        return nas__ctx_fail(r->ctx, NAS_E_PARSE, "file %s: truncated IDX header (%zu of %u dimension bytes)",
                             r->path, got, 4 * nd);
    for (uint32_t i = 0; i < nd; i++) {
        const unsigned char *p = hdr + 4 + 4 * i;
        dims[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (dims[i] == 0)
            return nas__ctx_fail(r->ctx, NAS_E_PARSE, "file %s: IDX dimension %u is 0", r->path, i);
    }
    if (dims[0] > NAS_DATA_MAX_SAMPLES)
        return nas__ctx_fail(r->ctx, NAS_E_RANGE, "file %s: %u samples exceed the limit of %u", r->path, dims[0],
                             NAS_DATA_MAX_SAMPLES);
    /* Step by step: three factors below 2^32 could overflow 64 bits. */
    uint64_t values = 1;
    for (uint32_t i = 1; i < nd; i++) {
        values *= dims[i];
        if (values > NAS_DATA_MAX_SAMPLE_VALUES)
            return nas__ctx_fail(r->ctx, NAS_E_RANGE, "file %s: samples of %s values exceed the limit of %u",
                                 r->path, nd == 4 ? "C x H x W" : "H x W", NAS_DATA_MAX_SAMPLE_VALUES);
    }
    *ndims = nd;
    return NAS_OK;
}

nas_status_t nas_dataset_load_idx(nas_dataset_t **out, nas_context_t *ctx, const char *images_path,
                                  const char *labels_path)
{
    if (!out)
        return ctx ? nas__ctx_fail(ctx, NAS_E_INVAL, "load_idx: out is NULL") : NAS_E_INVAL;
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    if (!images_path || !labels_path)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "load_idx: images_path and labels_path must not be NULL");

    nas__reader_t ri, rl;
    uint32_t idims[4] = {0}, ldims[4] = {0}, ind = 0, lnd = 0;
    uint8_t *pixels = NULL, *bytes = NULL;
    int32_t *labels = NULL;
    struct nas__store *s = NULL;
    nas_status_t st;
    /* Both headers first: a count mismatch fails before megabytes are read. */
    if ((st = nas__reader_open(&ri, ctx, images_path)) != NAS_OK)
        return st;
    if ((st = nas__reader_open(&rl, ctx, labels_path)) != NAS_OK)
        goto out_close_images;
    if ((st = read_header(&ri, true, idims, &ind)) != NAS_OK || (st = read_header(&rl, false, ldims, &lnd)) != NAS_OK)
        goto out;
    if (ldims[0] != idims[0]) {
        st = nas__ctx_fail(ctx, NAS_E_PARSE, "file %s: %u labels for the %u images of file %s", labels_path, ldims[0],
                           idims[0], images_path);
        goto out;
    }
    uint64_t n = idims[0];
    uint32_t c = ind == 4 ? idims[1] : 1, h = idims[ind - 2], w = idims[ind - 1];
    size_t chw = (size_t)c * h * w;
    if ((st = nas__reader_read_exact(&ri, n * chw, "pixel data", &pixels)) != NAS_OK ||
        (st = nas__reader_read_exact(&rl, n, "label data", &bytes)) != NAS_OK)
        goto out;

    labels = nas__malloc(ctx, (size_t)n * sizeof *labels);
    if (!labels || nas__store_create(&s, ctx) != NAS_OK) {
        st = nas__ctx_fail(ctx, NAS_E_NOMEM, "file %s: out of memory for %llu labels", labels_path,
                           (unsigned long long)n);
        goto out;
    }
    uint32_t max_label = 0;
    for (uint64_t i = 0; i < n; i++) {
        labels[i] = bytes[i];
        if (bytes[i] > max_label)
            max_label = bytes[i];
    }
    /* A byte label is < 256, so max + 1 classes is always within NAS_DATA_MAX_CLASSES. */
    s->is_u8 = true;
    s->u8 = pixels;
    s->owned_pixels = pixels;
    s->labels = labels;
    s->owned_labels = labels;
    pixels = NULL;
    labels = NULL;
    s->n = n;
    s->c = c;
    s->h = h;
    s->w = w;
    s->chw = chw;
    s->num_classes = max_label + 1;
    st = nas__dataset_create(out, s, n, 0, NULL);
out:
    nas__store_release(s);
    nas__free(ctx, labels);
    nas__free(ctx, bytes);
    nas__free(ctx, pixels);
    nas__reader_close(&rl);
out_close_images:
    nas__reader_close(&ri);
    return st;
}
