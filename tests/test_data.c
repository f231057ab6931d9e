/* Data: IDX and CSV loading (good and hostile files), caller buffers, views, normalization, the batch loader. */
#include "testutil.h"
#include "core/internal.h"
#include "data/loader.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

static char g_dir[256];

/* Path of a file in this run's temporary folder (rotating static buffers: up to 16 alive at once). */
static const char *tmp(const char *name)
{
    static char bufs[16][512];
    static int next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", g_dir, name);
    return b;
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "%s", tu_tmpdir());
    return 0;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void write_bytes(const char *path, bool gz, const void *data, size_t len)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        if (len)
            assert_int_equal(gzwrite(f, data, (unsigned)len), (int)len);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        if (len)
            assert_int_equal(fwrite(data, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
    }
}

/* An IDX file: magic, dims (big-endian), then `len` data bytes. */
static void write_idx(const char *path, bool gz, uint32_t magic, const uint32_t *dims, int nd, const uint8_t *data,
                      size_t len)
{
    size_t hdr = 4 + 4 * (size_t)nd;
    unsigned char *buf = malloc(hdr + len + 1);
    put_be32(buf, magic);
    for (int i = 0; i < nd; i++)
        put_be32(buf + 4 + 4 * i, dims[i]);
    if (len)
        memcpy(buf + hdr, data, len);
    write_bytes(path, gz, buf, hdr + len);
    free(buf);
}

/* Images of n x h x w (or n x c x h x w) with pixel k of sample i = (7 i + 3 k) mod 256, labels i mod k. */
static uint8_t px(uint64_t i, size_t k)
{
    return (uint8_t)((7 * i + 3 * k) % 256);
}

static void write_dataset(const char *img, const char *lbl, bool gz, uint32_t n, uint32_t c, uint32_t h, uint32_t w,
                          uint32_t classes)
{
    size_t chw = (size_t)c * h * w;
    uint8_t *pix = malloc(n * chw), *lab = malloc(n);
    for (uint32_t i = 0; i < n; i++) {
        for (size_t k = 0; k < chw; k++)
            pix[i * chw + k] = px(i, k);
        lab[i] = (uint8_t)(i % classes);
    }
    uint32_t d4[4] = { n, c, h, w }, d3[3] = { n, h, w };
    if (c == 1)
        write_idx(img, gz, 0x00000803, d3, 3, pix, n * chw);
    else
        write_idx(img, gz, 0x00000804, d4, 4, pix, n * chw);
    write_idx(lbl, gz, 0x00000801, &n, 1, lab, n);
    free(pix);
    free(lab);
}

static void check_roundtrip(nas_context_t *ctx, const char *img, const char *lbl, uint32_t n, uint32_t c, uint32_t h,
                            uint32_t w, uint32_t classes)
{
    nas_dataset_t *ds = NULL;
    nas_status_t st = nas_dataset_load_idx(&ds, ctx, img, lbl);
    if (st != NAS_OK)
        fail_msg("load_idx: %s: %s", nas_status_name(st), nas_context_errmsg(ctx));
    assert_int_equal(nas_dataset_num_samples(ds), n);
    uint32_t gc, gh, gw;
    nas_dataset_shape(ds, &gc, &gh, &gw);
    assert_int_equal(gc, c);
    assert_int_equal(gh, h);
    assert_int_equal(gw, w);
    assert_int_equal(nas_dataset_num_classes(ds), classes);
    size_t chw = (size_t)c * h * w;
    float *x = malloc(chw * sizeof *x);
    for (uint32_t i = 0; i < n; i++) {
        int32_t lab = -1;
        assert_int_equal(nas_dataset_get(ds, i, x, &lab), NAS_OK);
        assert_int_equal(lab, (int32_t)(i % classes));
        for (size_t k = 0; k < chw; k++)
            assert_float_equal(x[k], px(i, k) / 255.0f, 1e-6);
    }
    free(x);
    nas_dataset_destroy(ds);
}

static void test_idx_roundtrip(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    for (int gz = 0; gz < 2; gz++) {
        const char *img = tmp("rt-img"), *lbl = tmp("rt-lbl");
        write_dataset(img, lbl, gz, 17, 1, 5, 7, 4);
        check_roundtrip(ctx, img, lbl, 17, 1, 5, 7, 4);
        write_dataset(img, lbl, gz, 9, 3, 4, 2, 9);
        check_roundtrip(ctx, img, lbl, 9, 3, 4, 2, 9);
    }
    /* A gzip file of several members (as `cat a.gz b.gz` makes) reads as one content. */
    const char *img = tmp("mm-img"), *lbl = tmp("mm-lbl"), *part = tmp("mm-part");
    write_dataset(img, lbl, false, 6, 1, 3, 3, 2);
    size_t len;
    char *raw = tu_read_file(img, &len);
    write_bytes(img, true, raw, 10);
    write_bytes(part, true, raw + 10, len - 10);
    char *a = tu_read_file(img, &len);
    size_t blen;
    char *b = tu_read_file(part, &blen);
    FILE *f = fopen(img, "wb");
    fwrite(a, 1, len, f);
    fwrite(b, 1, blen, f);
    fclose(f);
    check_roundtrip(ctx, img, lbl, 6, 1, 3, 3, 2);
    free(raw);
    free(a);
    free(b);
    nas_context_destroy(ctx);
}

static void expect_idx_fail(nas_context_t *ctx, const char *img, const char *lbl, nas_status_t want,
                            const char *bad_file, const char *needle)
{
    nas_dataset_t *ds = (nas_dataset_t *)0x1;
    nas_status_t st = nas_dataset_load_idx(&ds, ctx, img, lbl);
    const char *m = nas_context_errmsg(ctx);
    if (st != want)
        fail_msg("[%s] expected %s, got %s: %s", needle, nas_status_name(want), nas_status_name(st), m);
    assert_null(ds);
    char named[600];
    snprintf(named, sizeof named, "file %s:", bad_file);
    if (!strstr(m, named))
        fail_msg("message does not name %s: %s", bad_file, m);
    if (!strstr(m, needle))
        fail_msg("message lacks '%s': %s", needle, m);
}

static void test_idx_malformed(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    const char *img = tmp("bad-img"), *lbl = tmp("bad-lbl"), *lbl_ok = tmp("ok-lbl"), *img_ok = tmp("ok-img");
    uint8_t pix[24] = {0}, lab[2] = { 0, 1 };
    uint32_t n = 2, ok_dims[3] = { 2, 3, 4 };
    write_idx(lbl_ok, false, 0x00000801, &n, 1, lab, 2);
    write_idx(img_ok, false, 0x00000803, ok_dims, 3, pix, 24);

    write_idx(img, false, 0x12340803, ok_dims, 3, pix, 24);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "not an IDX file (magic 0x12340803)");
    write_idx(img, false, 0x00000d03, ok_dims, 3, pix, 24);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "not unsigned bytes");
    write_idx(img, false, 0x00000802, ok_dims, 2, pix, 24);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "3 or 4 dimensions");
    write_idx(img, false, 0x00000803, (uint32_t[]){ 2, 0, 4 }, 3, pix, 24);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "dimension 1 is 0");
    write_idx(img, false, 0x00000803, (uint32_t[]){ 0, 3, 4 }, 3, pix, 24);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "dimension 0 is 0");
    write_idx(img, false, 0x00000803, (uint32_t[]){ 0xffffffffu, 3, 4 }, 3, pix, 24);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_RANGE, img, "exceed the limit");
    write_idx(img, false, 0x00000803, (uint32_t[]){ 2, 65536, 65536 }, 3, pix, 24);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_RANGE, img, "exceed the limit");
    write_idx(img, false, 0x00000804, (uint32_t[]){ 2, 0xffffffffu, 0xffffffffu, 0xffffffffu }, 4, pix, 24);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_RANGE, img, "exceed the limit");
    for (int gz = 0; gz < 2; gz++) {
        write_idx(img, gz, 0x00000803, ok_dims, 3, pix, 23);
        expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "expected 24 bytes of pixel data, got 23");
        /* More data than the dims declare (a gzip bomb's shape: a tiny declared size, a large content). */
        uint8_t *big = calloc(1, 1 << 20);
        write_idx(img, gz, 0x00000803, ok_dims, 3, big, 1 << 20);
        free(big);
        expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "holds more than the 24 bytes of pixel data");
    }
    write_bytes(img, false, "\0\0\x08\x03\0\0", 6);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "truncated IDX header");
    write_bytes(img, false, "\0\0", 2);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "truncated IDX header");
    write_bytes(img, false, "", 0);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "empty file");
    expect_idx_fail(ctx, g_dir, lbl_ok, NAS_E_IO, g_dir, "is a directory");
    expect_idx_fail(ctx, tmp("no-such-file"), lbl_ok, NAS_E_IO, tmp("no-such-file"), "No such file");
    expect_idx_fail(ctx, img_ok, tmp("no-labels"), NAS_E_IO, tmp("no-labels"), "No such file");

    /* gzip magic followed by garbage; a valid member followed by garbage; a gzip stream cut short. */
    write_bytes(img, false, "\x1f\x8b\x08\x00garbage-garbage-garbage", 27);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "corrupt gzip data");
    write_idx(img, true, 0x00000803, ok_dims, 3, pix, 24);
    size_t len;
    char *gzd = tu_read_file(img, &len);
    FILE *f = fopen(img, "ab");
    fputs("trailing junk", f);
    fclose(f);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "corrupt gzip data");
    write_bytes(img, false, gzd, len - 12);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "gzip data ends early");
    /* A flipped bit in the CRC: caught because the reader goes on to the end of the member. */
    gzd[len - 8] ^= 0x40;
    write_bytes(img, false, gzd, len);
    expect_idx_fail(ctx, img, lbl_ok, NAS_E_PARSE, img, "corrupt gzip data");
    free(gzd);

    /* Label files: count mismatch, wrong dims, truncated. */
    write_idx(lbl, false, 0x00000801, (uint32_t[]){ 3 }, 1, (const uint8_t *)"\0\1\2", 3);
    expect_idx_fail(ctx, img_ok, lbl, NAS_E_PARSE, lbl, "3 labels for the 2 images");
    write_idx(lbl, false, 0x00000803, ok_dims, 3, pix, 24);
    expect_idx_fail(ctx, img_ok, lbl, NAS_E_PARSE, lbl, "has 1 dimensions");
    write_idx(lbl, true, 0x00000801, &n, 1, lab, 1);
    expect_idx_fail(ctx, img_ok, lbl, NAS_E_PARSE, lbl, "expected 2 bytes of label data, got 1");

    /* NULL arguments. */
    nas_dataset_t *ds = NULL;
    assert_int_equal(nas_dataset_load_idx(NULL, ctx, img_ok, lbl_ok), NAS_E_INVAL);
    assert_int_equal(nas_dataset_load_idx(&ds, NULL, img_ok, lbl_ok), NAS_E_INVAL);
    assert_int_equal(nas_dataset_load_idx(&ds, ctx, NULL, lbl_ok), NAS_E_INVAL);
    assert_null(ds);
    nas_context_destroy(ctx);
}

/* An allocator that records the largest single request, to check what a lying file costs. */
static size_t g_max_request;

static void *big_malloc(void *ud, size_t size)
{
    (void)ud;
    if (size > g_max_request)
        g_max_request = size;
    return malloc(size);
}

static void *big_realloc(void *ud, void *p, size_t size)
{
    (void)ud;
    if (size > g_max_request)
        g_max_request = size;
    return realloc(p, size);
}

static void big_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

static void test_idx_lying_dims_cost(void **state)
{
    (void)state;
    nas_allocator_t a = { sizeof a, big_malloc, big_realloc, big_free, NULL };
    nas_context_opts_t o = NAS_CONTEXT_OPTS_INIT;
    o.allocator = &a;
    nas_context_t *ctx = NULL;
    assert_int_equal(nas_context_create(&ctx, &o), NAS_OK);
    /* Declares 10^8 images of 28x28 (78 GB) but holds 10 bytes, plain and gzip'd (forged ISIZE too). */
    const char *img = tmp("lie-img"), *lbl = tmp("lie-lbl");
    uint32_t dims[3] = { 100000000u, 28, 28 }, ln = 100000000u;
    uint8_t ten[10] = {0};
    write_idx(lbl, false, 0x00000801, &ln, 1, ten, 10);
    for (int gz = 0; gz < 2; gz++) {
        write_idx(img, gz, 0x00000803, dims, 3, ten, 10);
        if (gz) {
            /* Forge the gzip trailer's size to 4 GB - 1. */
            FILE *f = fopen(img, "r+b");
            fseek(f, -4, SEEK_END);
            fwrite("\xff\xff\xff\xff", 1, 4, f);
            fclose(f);
        }
        g_max_request = 0;
        nas_dataset_t *ds = NULL;
        nas_status_t st = nas_dataset_load_idx(&ds, ctx, img, lbl);
        assert_int_equal(st, NAS_E_PARSE);
        assert_null(ds);
        if (!gz)
            assert_non_null(strstr(nas_context_errmsg(ctx), "expected 78400000000 bytes of pixel data, got 10"));
        /* The buffer grew with the data actually present, never to the declared size. */
        if (g_max_request > (2u << 20))
            fail_msg("a lying header cost an allocation of %zu bytes", g_max_request);
    }
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* CSV                                                                     */

static nas_csv_opts_t csv_opts(uint32_t c, uint32_t h, uint32_t w, int32_t label_col, bool header, float scale)
{
    nas_csv_opts_t o = NAS_CSV_OPTS_INIT;
    o.channels = c;
    o.height = h;
    o.width = w;
    o.label_column = label_col;
    o.header = header;
    o.scale = scale;
    return o;
}

static void test_csv_good(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    const char *p = tmp("good.csv");
    assert_int_equal(tu_write_file(p, "a,b,c,label\r\n1, 2.5 ,-3e-1,2\r\n0.125,+4,1E2,0\n\t0.1,3.14159265358979323846,"
                                      "123456789012345678901234,1\n\n\n"), 0);
    nas_csv_opts_t o = csv_opts(1, 1, 3, -1, true, 0.0f);
    nas_dataset_t *ds = NULL;
    if (nas_dataset_load_csv(&ds, ctx, p, &o) != NAS_OK)
        fail_msg("%s", nas_context_errmsg(ctx));
    assert_int_equal(nas_dataset_num_samples(ds), 3);
    assert_int_equal(nas_dataset_num_classes(ds), 3);
    float want[3][3] = { { 1.0f, 2.5f, -0.3f }, { 0.125f, 4.0f, 100.0f }, { 0.1f, 3.14159265358979323846f, 1.2345679e23f } };
    int32_t want_lab[3] = { 2, 0, 1 };
    for (int i = 0; i < 3; i++) {
        float x[3];
        int32_t lab;
        assert_int_equal(nas_dataset_get(ds, (uint64_t)i, x, &lab), NAS_OK);
        assert_int_equal(lab, want_lab[i]);
        for (int k = 0; k < 3; k++)
            assert_true(x[k] == want[i][k]);  /* correctly rounded */
    }
    nas_dataset_destroy(ds);

    /* Label first, no header, a scale, no trailing newline. Also through gzip. */
    for (int gz = 0; gz < 2; gz++) {
        const char *text = "1,2,4\n0,6,8";
        write_bytes(p, gz, text, strlen(text));
        o = csv_opts(1, 2, 1, 0, false, 0.5f);
        assert_int_equal(nas_dataset_load_csv(&ds, ctx, p, &o), NAS_OK);
        assert_int_equal(nas_dataset_num_samples(ds), 2);
        float x[2];
        int32_t lab;
        assert_int_equal(nas_dataset_get(ds, 1, x, &lab), NAS_OK);
        assert_int_equal(lab, 0);
        assert_true(x[0] == 3.0f && x[1] == 4.0f);
        assert_int_equal(nas_dataset_get(ds, 0, x, &lab), NAS_OK);
        assert_int_equal(lab, 1);
        assert_true(x[0] == 1.0f && x[1] == 2.0f);
        nas_dataset_destroy(ds);
    }
    /* NULL options: defaults (1x1x1, label last, header). */
    assert_int_equal(tu_write_file(p, "x,y\n5,1\n"), 0);
    assert_int_equal(nas_dataset_load_csv(&ds, ctx, p, NULL), NAS_OK);
    assert_int_equal(nas_dataset_num_classes(ds), 2);
    nas_dataset_destroy(ds);
    nas_context_destroy(ctx);
}

static void expect_csv_fail(nas_context_t *ctx, const char *text, const nas_csv_opts_t *o, nas_status_t want,
                            const char *where, const char *needle)
{
    const char *p = tmp("bad.csv");
    assert_int_equal(tu_write_file(p, text), 0);
    nas_dataset_t *ds = (nas_dataset_t *)0x1;
    nas_status_t st = nas_dataset_load_csv(&ds, ctx, p, o);
    const char *m = nas_context_errmsg(ctx);
    if (st != want)
        fail_msg("[%s] expected %s, got %s: %s", text, nas_status_name(want), nas_status_name(st), m);
    assert_null(ds);
    char loc[600];
    snprintf(loc, sizeof loc, "%s%s", p, where);
    if (where && !strstr(m, loc))
        fail_msg("[%s] message lacks '%s': %s", text, loc, m);
    if (!strstr(m, needle))
        fail_msg("[%s] message lacks '%s': %s", text, needle, m);
}

static void test_csv_bad(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_csv_opts_t o = csv_opts(1, 1, 2, -1, false, 0.0f);
    expect_csv_fail(ctx, "1,2,0\n1,x,0\n", &o, NAS_E_PARSE, ":2:3:", "'x' is not a number");
    expect_csv_fail(ctx, "1,2,0\n1,2\n", &o, NAS_E_PARSE, ":2:4:", "expected 3 columns, got 2");
    expect_csv_fail(ctx, "1,2,0,5\n", &o, NAS_E_PARSE, ":1:7:", "more than the 3 columns");
    expect_csv_fail(ctx, "1,2,-1\n", &o, NAS_E_PARSE, ":1:5:", "negative label '-1'");
    expect_csv_fail(ctx, "1,2,0\r\n3,4, 1.5\r\n", &o, NAS_E_PARSE, ":2:6:", "label '1.5' is not an integer");
    expect_csv_fail(ctx, "1,2,1e1\n", &o, NAS_E_PARSE, ":1:5:", "not an integer");
    expect_csv_fail(ctx, "1,,0\n", &o, NAS_E_PARSE, ":1:3:", "empty field");
    expect_csv_fail(ctx, "1,2,\n", &o, NAS_E_PARSE, ":1:5:", "empty label");
    expect_csv_fail(ctx, "1,2,0\n\n1,2,0\n", &o, NAS_E_PARSE, ":2:1:", "empty line");
    expect_csv_fail(ctx, "1,2,70000\n", &o, NAS_E_RANGE, ":1:5:", "over the limit");
    expect_csv_fail(ctx, "nan,2,0\n", &o, NAS_E_PARSE, ":1:1:", "'nan' is not a number");
    expect_csv_fail(ctx, "inf,2,0\n", &o, NAS_E_PARSE, ":1:1:", "'inf' is not a number");
    expect_csv_fail(ctx, "0x10,2,0\n", &o, NAS_E_PARSE, ":1:1:", "not a number");
    expect_csv_fail(ctx, "1.2.3,2,0\n", &o, NAS_E_PARSE, ":1:1:", "not a number");
    expect_csv_fail(ctx, "1,2e,0\n", &o, NAS_E_PARSE, ":1:3:", "not a number");
    expect_csv_fail(ctx, "1,.,0\n", &o, NAS_E_PARSE, ":1:3:", "not a number");
    expect_csv_fail(ctx, "1e999,2,0\n", &o, NAS_E_PARSE, ":1:1:", "out of the float range");
    expect_csv_fail(ctx, "", &o, NAS_E_PARSE, NULL, "empty file");
    expect_csv_fail(ctx, "\n\n", &o, NAS_E_PARSE, NULL, "no samples");
    o.header = true;
    expect_csv_fail(ctx, "a,b,label\n", &o, NAS_E_PARSE, NULL, "no samples");
    o.scale = 1e30f;
    expect_csv_fail(ctx, "a,b,label\n1e20,0,0\n", &o, NAS_E_PARSE, ":2:1:", "times the scale");
    o = csv_opts(1, 1, 2, 5, false, 0.0f);
    expect_csv_fail(ctx, "1,2,0\n", &o, NAS_E_INVAL, NULL, "label_column 5");
    o = csv_opts(0, 1, 2, -1, false, 0.0f);
    expect_csv_fail(ctx, "1,2,0\n", &o, NAS_E_INVAL, NULL, "shape 0x1x2");
    o = csv_opts(4096, 4096, 2, -1, false, 0.0f);
    expect_csv_fail(ctx, "1,2,0\n", &o, NAS_E_RANGE, NULL, "exceed the limit");
    o = csv_opts(1, 1, 2, -1, false, 0.0f);
    o.struct_size = 3;
    expect_csv_fail(ctx, "1,2,0\n", &o, NAS_E_INVAL, NULL, "struct_size");
    nas_dataset_t *ds = NULL;
    assert_int_equal(nas_dataset_load_csv(&ds, ctx, tmp("missing.csv"), NULL), NAS_E_IO);
    assert_non_null(strstr(nas_context_errmsg(ctx), "missing.csv"));
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Caller buffers, views                                                   */

static void test_buffer_borrowed(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    float img[3 * 2 * 2];
    int32_t lab[3] = { 0, 2, 1 };
    for (int i = 0; i < 12; i++)
        img[i] = (float)i;
    nas_dataset_t *ds = NULL;
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, img, lab, 3, 1, 2, 2, 3), NAS_OK);
    float x[4];
    int32_t l;
    assert_int_equal(nas_dataset_get(ds, 1, x, &l), NAS_OK);
    assert_true(x[0] == 4.0f && x[3] == 7.0f);
    assert_int_equal(l, 2);
    /* No copy: the data set sees the caller's writes. */
    img[5] = 42.0f;
    assert_int_equal(nas_dataset_get(ds, 1, x, NULL), NAS_OK);
    assert_true(x[1] == 42.0f);
    /* Out of range sample: message in the data set's buffer. */
    assert_int_equal(nas_dataset_get(ds, 3, x, &l), NAS_E_RANGE);
    assert_non_null(strstr(nas_dataset_errmsg(ds), "sample 3"));
    assert_int_equal(nas_dataset_get(ds, 0, NULL, &l), NAS_E_INVAL);
    nas_dataset_destroy(ds);

    ds = (nas_dataset_t *)0x1;
    lab[1] = 3;
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, img, lab, 3, 1, 2, 2, 3), NAS_E_RANGE);
    assert_null(ds);
    assert_non_null(strstr(nas_context_errmsg(ctx), "label 1 is 3"));
    lab[1] = -1;
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, img, lab, 3, 1, 2, 2, 3), NAS_E_RANGE);
    lab[1] = 1;
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, img, lab, 0, 1, 2, 2, 3), NAS_E_INVAL);
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, img, lab, 3, 1, 0, 2, 3), NAS_E_INVAL);
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, NULL, lab, 3, 1, 2, 2, 3), NAS_E_INVAL);
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, img, lab, 3, 1, 2, 2, 70000), NAS_E_RANGE);
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, img, lab, 3, 4096, 4096, 2, 3), NAS_E_RANGE);
    assert_int_equal(nas_dataset_from_buffer(NULL, ctx, img, lab, 3, 1, 2, 2, 3), NAS_E_INVAL);
    assert_null(ds);
    /* NULL handles are harmless. */
    nas_dataset_destroy(NULL);
    assert_string_equal(nas_dataset_errmsg(NULL), "");
    assert_int_equal(nas_dataset_num_samples(NULL), 0);
    nas_context_destroy(ctx);
}

/* 1000 samples of one value each (the sample's id), classes of 100, 200, 300, 400 samples interleaved. */
#define SPLIT_N 1000
static float g_ids[SPLIT_N];
static int32_t g_cls[SPLIT_N];

static nas_dataset_t *make_ids(nas_context_t *ctx)
{
    static const int32_t cls_of[10] = { 0, 1, 1, 2, 2, 2, 3, 3, 3, 3 };
    for (int i = 0; i < SPLIT_N; i++) {
        g_ids[i] = (float)i;
        g_cls[i] = cls_of[i % 10];
    }
    nas_dataset_t *ds = NULL;
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, g_ids, g_cls, SPLIT_N, 1, 1, 1, 4), NAS_OK);
    return ds;
}

/* The ids of a view's samples, in its order; checks each label against the id. */
static void view_ids(const nas_dataset_t *v, int *ids)
{
    for (uint64_t i = 0; i < nas_dataset_num_samples(v); i++) {
        float x;
        int32_t l;
        assert_int_equal(nas_dataset_get(v, i, &x, &l), NAS_OK);
        ids[i] = (int)x;
        assert_int_equal(l, g_cls[ids[i]]);
    }
}

static void test_split(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_dataset_t *ds = make_ids(ctx), *a = NULL, *b = NULL, *a2 = NULL, *b2 = NULL;
    assert_int_equal(nas_dataset_split(ds, 0.25, 11, &a, &b), NAS_OK);
    assert_int_equal(nas_dataset_num_samples(a), 750);
    assert_int_equal(nas_dataset_num_samples(b), 250);
    assert_int_equal(nas_dataset_num_classes(b), 4);
    static int ia[SPLIT_N], ib[SPLIT_N], ja[SPLIT_N], jb[SPLIT_N];
    view_ids(a, ia);
    view_ids(b, ib);
    /* Disjoint and covering; stratified: each class in exact proportion; order kept. */
    int seen[SPLIT_N] = {0}, per_class[4] = {0};
    for (int i = 0; i < 750; i++)
        seen[ia[i]]++;
    for (int i = 0; i < 250; i++) {
        seen[ib[i]]++;
        per_class[g_cls[ib[i]]]++;
    }
    for (int i = 0; i < SPLIT_N; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(per_class[0], 25);
    assert_int_equal(per_class[1], 50);
    assert_int_equal(per_class[2], 75);
    assert_int_equal(per_class[3], 100);
    for (int i = 1; i < 250; i++)
        assert_true(ib[i - 1] < ib[i]);

    /* Same seed: same split; another seed: another one. */
    assert_int_equal(nas_dataset_split(ds, 0.25, 11, &a2, &b2), NAS_OK);
    view_ids(a2, ja);
    view_ids(b2, jb);
    assert_memory_equal(ia, ja, 750 * sizeof *ia);
    assert_memory_equal(ib, jb, 250 * sizeof *ib);
    nas_dataset_destroy(a2);
    nas_dataset_destroy(b2);
    assert_int_equal(nas_dataset_split(ds, 0.25, 12, &a2, &b2), NAS_OK);
    view_ids(b2, jb);
    assert_memory_not_equal(ib, jb, 250 * sizeof *ib);
    nas_dataset_destroy(a2);
    nas_dataset_destroy(b2);

    /* A view of a view: split `a` again; its parts are inside `a`. Then destroy the parents first. */
    assert_int_equal(nas_dataset_split(a, 0.2, 5, &a2, &b2), NAS_OK);
    assert_int_equal(nas_dataset_num_samples(b2), 150);
    nas_dataset_destroy(ds);
    nas_dataset_destroy(a);
    view_ids(b2, jb);
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 750; i++)
        seen[ia[i]] = 1;
    for (int i = 0; i < 150; i++)
        assert_int_equal(seen[jb[i]], 1);
    nas_dataset_destroy(b);
    nas_dataset_destroy(a2);
    nas_dataset_destroy(b2);
    nas_context_destroy(ctx);
}

static void test_split_rounding_and_errors(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    /* 3 classes of 3: half of 9 is round(4.5) = 5, one or two of each class (largest remainder). */
    float x[9] = {0};
    int32_t lab[9] = { 0, 1, 2, 0, 1, 2, 0, 1, 2 };
    nas_dataset_t *ds = NULL, *a = NULL, *b = NULL;
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, x, lab, 9, 1, 1, 1, 3), NAS_OK);
    for (uint64_t seed = 0; seed < 20; seed++) {
        assert_int_equal(nas_dataset_split(ds, 0.5, seed, &a, &b), NAS_OK);
        assert_int_equal(nas_dataset_num_samples(b), 5);
        int per[3] = {0};
        for (uint64_t i = 0; i < 5; i++) {
            int32_t l;
            assert_int_equal(nas_dataset_get(b, i, x, &l), NAS_OK);
            per[l]++;
        }
        for (int c = 0; c < 3; c++)
            assert_true(per[c] == 1 || per[c] == 2);
        nas_dataset_destroy(a);
        nas_dataset_destroy(b);
    }
    a = b = (nas_dataset_t *)0x1;
    assert_int_equal(nas_dataset_split(ds, 0.0, 1, &a, &b), NAS_E_RANGE);
    assert_null(a);
    assert_null(b);
    assert_int_equal(nas_dataset_split(ds, 1.0, 1, &a, &b), NAS_E_RANGE);
    assert_int_equal(nas_dataset_split(ds, NAN, 1, &a, &b), NAS_E_RANGE);
    assert_int_equal(nas_dataset_split(ds, 0.01, 1, &a, &b), NAS_E_RANGE);
    assert_non_null(strstr(nas_dataset_errmsg(ds), "leaves one side empty"));
    assert_int_equal(nas_dataset_split(ds, 0.99, 1, &a, &b), NAS_E_RANGE);
    assert_int_equal(nas_dataset_split(ds, 0.5, 1, NULL, &b), NAS_E_INVAL);
    assert_int_equal(nas_dataset_split(NULL, 0.5, 1, &a, &b), NAS_E_INVAL);
    nas_dataset_destroy(ds);
    nas_context_destroy(ctx);
}

static void test_subset(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_dataset_t *ds = make_ids(ctx), *s = NULL, *s2 = NULL, *a = NULL, *b = NULL;
    static int ids[SPLIT_N];
    assert_int_equal(nas_dataset_subset(ds, 100, 50, &s), NAS_OK);
    assert_int_equal(nas_dataset_subset(s, 10, 5, &s2), NAS_OK);
    view_ids(s2, ids);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ids[i], 110 + i);
    nas_dataset_destroy(s2);
    /* Subset of an indexed view. */
    assert_int_equal(nas_dataset_split(ds, 0.5, 3, &a, &b), NAS_OK);
    static int ib[SPLIT_N];
    view_ids(b, ib);
    assert_int_equal(nas_dataset_subset(b, 7, 3, &s2), NAS_OK);
    view_ids(s2, ids);
    assert_memory_equal(ids, ib + 7, 3 * sizeof *ids);
    nas_dataset_destroy(s2);
    /* The whole range is fine; anything outside is not. */
    assert_int_equal(nas_dataset_subset(s, 0, 50, &s2), NAS_OK);
    nas_dataset_destroy(s2);
    s2 = (nas_dataset_t *)0x1;
    assert_int_equal(nas_dataset_subset(s, 0, 51, &s2), NAS_E_RANGE);
    assert_null(s2);
    assert_non_null(strstr(nas_dataset_errmsg(s), "not inside the 50 samples"));
    assert_int_equal(nas_dataset_subset(s, 50, 1, &s2), NAS_E_RANGE);
    assert_int_equal(nas_dataset_subset(s, 10, 0, &s2), NAS_E_RANGE);
    assert_int_equal(nas_dataset_subset(s, 1, UINT64_MAX, &s2), NAS_E_RANGE);
    assert_int_equal(nas_dataset_subset(s, UINT64_MAX, 2, &s2), NAS_E_RANGE);
    assert_int_equal(nas_dataset_subset(b, 0, 501, &s2), NAS_E_RANGE);
    assert_int_equal(nas_dataset_subset(s, 0, 1, NULL), NAS_E_INVAL);
    assert_int_equal(nas_dataset_subset(NULL, 0, 1, &s2), NAS_E_INVAL);
    nas_dataset_destroy(ds);
    nas_dataset_destroy(s);
    nas_dataset_destroy(a);
    nas_dataset_destroy(b);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Normalization and statistics                                            */

static void test_normalization_stats(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    /* 2 samples of 2 channels of 2 values: channel 0 holds 1, 2, 3, 6; channel 1 holds 10, 10, 20, 40. */
    float img[8] = { 1, 2, 10, 10, 3, 6, 20, 40 };
    int32_t lab[2] = { 0, 1 };
    nas_dataset_t *ds = NULL, *v = NULL;
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, img, lab, 2, 2, 1, 2, 2), NAS_OK);
    float mean[2], sd[2];
    assert_int_equal(nas_dataset_compute_stats(ds, mean, sd, 2), NAS_OK);
    /* Hand: mean 3, population variance (4 + 1 + 0 + 9) / 4 = 3.5; mean 20, variance (100+100+0+400)/4 = 150. */
    assert_float_equal(mean[0], 3.0, 1e-6);
    assert_float_equal(sd[0], sqrt(3.5), 1e-6);
    assert_float_equal(mean[1], 20.0, 1e-6);
    assert_float_equal(sd[1], sqrt(150.0), 1e-5);
    /* Stats of a view cover its samples only. */
    assert_int_equal(nas_dataset_subset(ds, 1, 1, &v), NAS_OK);
    assert_int_equal(nas_dataset_compute_stats(v, mean, sd, 2), NAS_OK);
    assert_float_equal(mean[0], 4.5, 1e-6);
    assert_float_equal(sd[0], 1.5, 1e-6);
    nas_dataset_destroy(v);

    float m2[2] = { 3.0f, 20.0f }, s2[2] = { 2.0f, 10.0f };
    assert_int_equal(nas_dataset_set_normalization(ds, m2, s2, 2), NAS_OK);
    float x[4];
    assert_int_equal(nas_dataset_get(ds, 1, x, NULL), NAS_OK);
    assert_float_equal(x[0], 0.0, 1e-6);
    assert_float_equal(x[1], 1.5, 1e-6);
    assert_float_equal(x[2], 0.0, 1e-6);
    assert_float_equal(x[3], 2.0, 1e-6);
    /* compute_stats ignores the normalization. */
    assert_int_equal(nas_dataset_compute_stats(ds, mean, sd, 2), NAS_OK);
    assert_float_equal(mean[0], 3.0, 1e-6);
    /* A view inherits the setting at creation and keeps it when the parent changes. */
    assert_int_equal(nas_dataset_subset(ds, 0, 2, &v), NAS_OK);
    assert_int_equal(nas_dataset_set_normalization(ds, NULL, NULL, 0), NAS_OK);
    assert_int_equal(nas_dataset_get(v, 1, x, NULL), NAS_OK);
    assert_float_equal(x[1], 1.5, 1e-6);
    assert_int_equal(nas_dataset_get(ds, 1, x, NULL), NAS_OK);
    assert_float_equal(x[1], 6.0, 1e-6);
    nas_dataset_destroy(v);

    /* Bad settings are refused and leave the old one. */
    s2[1] = 0.0f;
    assert_int_equal(nas_dataset_set_normalization(ds, m2, s2, 2), NAS_E_RANGE);
    assert_non_null(strstr(nas_dataset_errmsg(ds), "channel 1"));
    s2[1] = 1.0f;
    m2[0] = NAN;
    assert_int_equal(nas_dataset_set_normalization(ds, m2, s2, 2), NAS_E_RANGE);
    m2[0] = 0.0f;
    assert_int_equal(nas_dataset_set_normalization(ds, m2, s2, 1), NAS_E_INVAL);
    assert_int_equal(nas_dataset_set_normalization(ds, m2, NULL, 2), NAS_E_INVAL);
    assert_int_equal(nas_dataset_compute_stats(ds, mean, sd, 3), NAS_E_INVAL);
    assert_int_equal(nas_dataset_compute_stats(ds, NULL, sd, 2), NAS_E_INVAL);
    assert_int_equal(nas_dataset_get(ds, 1, x, NULL), NAS_OK);
    assert_float_equal(x[1], 6.0, 1e-6);
    nas_dataset_destroy(ds);

    /* Byte storage: values are x / 255 before normalization; stats from the bytes. */
    const char *img_p = tmp("st-img"), *lbl_p = tmp("st-lbl");
    uint8_t pix[4] = { 0, 51, 102, 255 }, l2[2] = { 0, 1 };
    uint32_t dims[3] = { 2, 1, 2 }, n = 2;
    write_idx(img_p, false, 0x00000803, dims, 3, pix, 4);
    write_idx(lbl_p, false, 0x00000801, &n, 1, l2, 2);
    assert_int_equal(nas_dataset_load_idx(&ds, ctx, img_p, lbl_p), NAS_OK);
    assert_int_equal(nas_dataset_compute_stats(ds, mean, sd, 1), NAS_OK);
    double mu = (0 + 0.2 + 0.4 + 1.0) / 4.0;
    double var = ((0 - mu) * (0 - mu) + (0.2 - mu) * (0.2 - mu) + (0.4 - mu) * (0.4 - mu) + (1 - mu) * (1 - mu)) / 4;
    assert_float_equal(mean[0], mu, 1e-6);
    assert_float_equal(sd[0], sqrt(var), 1e-6);
    assert_int_equal(nas_dataset_set_normalization(ds, mean, sd, 1), NAS_OK);
    assert_int_equal(nas_dataset_get(ds, 1, x, NULL), NAS_OK);
    assert_float_equal(x[0], (0.4 - mu) / sqrt(var), 1e-5);
    assert_float_equal(x[1], (1.0 - mu) / sqrt(var), 1e-5);

    /* Augmentation settings: pad must be smaller than the image (1 x 2 here). */
    assert_int_equal(nas_dataset_set_augmentation(ds, 0, true), NAS_OK);
    assert_int_equal(nas_dataset_set_augmentation(ds, 1, true), NAS_E_RANGE);
    assert_non_null(strstr(nas_dataset_errmsg(ds), "pad 1"));
    assert_int_equal(nas_dataset_set_augmentation(ds, 0, false), NAS_OK);
    nas_dataset_destroy(ds);
    nas_context_destroy(ctx);
}

/* ---------------------------------------------------------------------- */
/* Loader                                                                  */

#define LN 103
#define LCHW 12
static float g_limg[LN * LCHW];
static int32_t g_llab[LN];

/* Sample i holds i * 100 + k at value k; label i mod 7. */
static nas_dataset_t *make_loader_set(nas_context_t *ctx)
{
    for (int i = 0; i < LN; i++) {
        for (int k = 0; k < LCHW; k++)
            g_limg[i * LCHW + k] = (float)(i * 100 + k);
        g_llab[i] = i % 7;
    }
    nas_dataset_t *ds = NULL;
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, g_limg, g_llab, LN, 2, 2, 3, 7), NAS_OK);
    return ds;
}

/* One epoch: the ids in order; checks every sample's values and label; returns the number of samples. */
static int run_epoch(nas__loader_t *l, uint32_t batch, int *ids, int *batches, uint32_t *last_count)
{
    float *img = malloc((size_t)batch * LCHW * sizeof *img);
    int32_t *lab = malloc(batch * sizeof *lab);
    int got = 0;
    uint32_t count;
    *batches = 0;
    nas_status_t st;
    while ((st = nas__loader_next(l, img, lab, &count)) == NAS_OK) {
        assert_true(count >= 1 && count <= batch);
        for (uint32_t j = 0; j < count; j++) {
            int id = (int)(img[j * LCHW] / 100.0f);
            assert_true(id >= 0 && id < LN);
            for (int k = 0; k < LCHW; k++)
                assert_true(img[j * LCHW + k] == (float)(id * 100 + k));
            assert_int_equal(lab[j], g_llab[id]);
            ids[got++] = id;
        }
        *last_count = count;
        (*batches)++;
    }
    assert_int_equal(st, NAS_E_EXHAUSTED);
    assert_int_equal(count, 0);
    /* And it stays exhausted. */
    assert_int_equal(nas__loader_next(l, img, lab, &count), NAS_E_EXHAUSTED);
    free(img);
    free(lab);
    return got;
}

static void test_loader_epochs(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_dataset_t *ds = make_loader_set(ctx);
    nas__loader_t *l = NULL, *l2 = NULL;
    assert_int_equal(nas__loader_create(&l, ds, 10, NAS__LOADER_SHUFFLE, 99), NAS_OK);
    assert_int_equal(nas__loader_batches_per_epoch(l), 11);
    assert_int_equal(nas__loader_num_samples(l), LN);
    int e0[LN], e1[LN], again[LN], batches;
    uint32_t last = 0;
    /* Every sample exactly once, a partial last batch of 3. */
    assert_int_equal(run_epoch(l, 10, e0, &batches, &last), LN);
    assert_int_equal(batches, 11);
    assert_int_equal(last, 3);
    int seen[LN] = {0};
    for (int i = 0; i < LN; i++)
        seen[e0[i]]++;
    for (int i = 0; i < LN; i++)
        assert_int_equal(seen[i], 1);
    bool sorted = true;
    for (int i = 1; i < LN; i++)
        sorted = sorted && e0[i - 1] < e0[i];
    assert_false(sorted);
    /* Another epoch: another order, still a permutation. */
    assert_int_equal(nas__loader_start_epoch(l, 1), NAS_OK);
    assert_int_equal(run_epoch(l, 10, e1, &batches, &last), LN);
    assert_memory_not_equal(e0, e1, sizeof e0);
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < LN; i++)
        seen[e1[i]]++;
    for (int i = 0; i < LN; i++)
        assert_int_equal(seen[i], 1);
    /* Back to epoch 0: the same order; a fresh loader jumping straight to epoch 1: epoch 1's order. */
    assert_int_equal(nas__loader_start_epoch(l, 0), NAS_OK);
    run_epoch(l, 10, again, &batches, &last);
    assert_memory_equal(e0, again, sizeof e0);
    assert_int_equal(nas__loader_create(&l2, ds, 10, NAS__LOADER_SHUFFLE, 99), NAS_OK);
    assert_int_equal(nas__loader_start_epoch(l2, 1), NAS_OK);
    run_epoch(l2, 10, again, &batches, &last);
    assert_memory_equal(e1, again, sizeof e1);
    nas__loader_destroy(l2);
    /* Another seed: another order. */
    assert_int_equal(nas__loader_create(&l2, ds, 10, NAS__LOADER_SHUFFLE, 100), NAS_OK);
    run_epoch(l2, 10, again, &batches, &last);
    assert_memory_not_equal(e0, again, sizeof e0);
    nas__loader_destroy(l2);
    nas__loader_destroy(l);

    /* DROP_LAST: 10 full batches, 100 distinct samples. */
    assert_int_equal(nas__loader_create(&l, ds, 10, NAS__LOADER_SHUFFLE | NAS__LOADER_DROP_LAST, 5), NAS_OK);
    assert_int_equal(nas__loader_batches_per_epoch(l), 10);
    assert_int_equal(run_epoch(l, 10, e0, &batches, &last), 100);
    assert_int_equal(batches, 10);
    assert_int_equal(last, 10);
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 100; i++)
        assert_int_equal(seen[e0[i]]++, 0);
    nas__loader_destroy(l);

    /* No shuffle: the data set's order, also for a view; the loader outlives the data sets. */
    nas_dataset_t *a = NULL, *b = NULL;
    assert_int_equal(nas_dataset_split(ds, 0.3, 4, &a, &b), NAS_OK);
    int ib[LN];
    uint64_t nb = nas_dataset_num_samples(b);
    for (uint64_t i = 0; i < nb; i++) {
        float x[LCHW];
        assert_int_equal(nas_dataset_get(b, i, x, NULL), NAS_OK);
        ib[i] = (int)(x[0] / 100.0f);
    }
    assert_int_equal(nas__loader_create(&l, b, 64, 0, 5), NAS_OK);
    nas_dataset_destroy(a);
    nas_dataset_destroy(b);
    nas_dataset_destroy(ds);
    assert_int_equal(run_epoch(l, 64, e0, &batches, &last), (int)nb);
    assert_int_equal(batches, 1);
    assert_memory_equal(e0, ib, nb * sizeof *ib);
    nas__loader_destroy(l);
    nas_context_destroy(ctx);
}

static void test_loader_errors(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    nas_dataset_t *ds = make_loader_set(ctx);
    nas__loader_t *l = (nas__loader_t *)0x1;
    assert_int_equal(nas__loader_create(&l, ds, 0, 0, 1), NAS_E_INVAL);
    assert_null(l);
    assert_int_equal(nas__loader_create(&l, ds, 10, 0x100, 1), NAS_E_INVAL);
    assert_int_equal(nas__loader_create(&l, NULL, 10, 0, 1), NAS_E_INVAL);
    assert_int_equal(nas__loader_create(NULL, ds, 10, 0, 1), NAS_E_INVAL);
    assert_int_equal(nas__loader_create(&l, ds, LN + 1, NAS__LOADER_DROP_LAST, 1), NAS_E_RANGE);
    assert_non_null(strstr(nas_context_errmsg(ctx), "no full batch"));
    /* Without DROP_LAST a batch larger than the data set is one partial batch. */
    assert_int_equal(nas__loader_create(&l, ds, LN + 1, 0, 1), NAS_OK);
    assert_int_equal(nas__loader_batches_per_epoch(l), 1);
    float *img = malloc((LN + 1) * LCHW * sizeof *img);
    int32_t lab[LN + 1];
    uint32_t count = 77;
    assert_int_equal(nas__loader_next(l, NULL, lab, &count), NAS_E_INVAL);
    assert_int_equal(count, 0);
    assert_non_null(strstr(nas__loader_errmsg(l), "must not be NULL"));
    assert_int_equal(nas__loader_next(l, img, lab, &count), NAS_OK);
    assert_int_equal(count, LN);
    free(img);
    nas__loader_destroy(l);
    nas__loader_destroy(NULL);
    assert_int_equal(nas__loader_start_epoch(NULL, 0), NAS_E_INVAL);
    nas_dataset_destroy(ds);
    nas_context_destroy(ctx);
}

/* Crafted 5x6 images: value 1 + y*6 + x + 1000*id, so every pixel tells where it came from. */
#define AH 5
#define AW 6
#define AN 8

static float ref_aug(int id, int y, int x, int dy, int dx, int flip)
{
    int xs = flip ? AW - 1 - x : x, sy = y + dy, sx = xs + dx;
    if (sy < 0 || sy >= AH || sx < 0 || sx >= AW)
        return 0.0f;
    return (float)(1 + sy * AW + sx + 1000 * id);
}

/* Which (id, dy, dx, flip) produced `out` (after the affine a*x+b), or -1. Writes the transform to t. */
static int find_transform(const float *out, int pad, float scale, float shift, int t[3])
{
    for (int id = 0; id < AN; id++)
        for (int dy = -pad; dy <= pad; dy++)
            for (int dx = -pad; dx <= pad; dx++)
                for (int flip = 0; flip < 2; flip++) {
                    /* Neighbouring pixels differ by `scale` (0.25 here): the tolerance is far below. */
                    bool ok = true;
                    for (int y = 0; y < AH && ok; y++)
                        for (int x = 0; x < AW && ok; x++)
                            ok = fabsf(out[y * AW + x] - (ref_aug(id, y, x, dy, dx, flip) * scale + shift)) <= 1e-2f;
                    if (ok) {
                        t[0] = dy;
                        t[1] = dx;
                        t[2] = flip;
                        return id;
                    }
                }
    return -1;
}

static void test_loader_augment(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    static float img[AN * AH * AW];
    int32_t lab[AN];
    for (int i = 0; i < AN; i++) {
        for (int k = 0; k < AH * AW; k++)
            img[i * AH * AW + k] = (float)(1 + k + 1000 * i);
        lab[i] = i % 3;
    }
    nas_dataset_t *ds = NULL;
    assert_int_equal(nas_dataset_from_buffer(&ds, ctx, img, lab, AN, 1, AH, AW, 3), NAS_OK);
    assert_int_equal(nas_dataset_set_augmentation(ds, 2, true), NAS_OK);
    /* Normalization applies after the crop: padding is a raw zero, i.e. (0 - mean) / std. */
    float mean = 500.0f, sd = 4.0f;
    assert_int_equal(nas_dataset_set_normalization(ds, &mean, &sd, 1), NAS_OK);
    nas__loader_t *l = NULL, *l2 = NULL;
    assert_int_equal(nas__loader_create(&l, ds, 3, NAS__LOADER_SHUFFLE | NAS__LOADER_AUGMENT, 7), NAS_OK);
    assert_int_equal(nas__loader_create(&l2, ds, 3, NAS__LOADER_SHUFFLE | NAS__LOADER_AUGMENT, 7), NAS_OK);
    float out[3 * AH * AW], out2[3 * AH * AW];
    int32_t ol[3], ol2[3];
    uint32_t count, count2;
    int flips[2] = {0}, dys[5] = {0}, dxs[5] = {0}, identity = 0;
    for (uint64_t epoch = 0; epoch < 40; epoch++) {
        assert_int_equal(nas__loader_start_epoch(l, epoch), NAS_OK);
        assert_int_equal(nas__loader_start_epoch(l2, epoch), NAS_OK);
        int per_epoch[AN] = {0};
        while (nas__loader_next(l, out, ol, &count) == NAS_OK) {
            /* Same (seed, epoch): same batches, augmentation included. */
            assert_int_equal(nas__loader_next(l2, out2, ol2, &count2), NAS_OK);
            assert_int_equal(count, count2);
            assert_memory_equal(out, out2, count * AH * AW * sizeof *out);
            for (uint32_t j = 0; j < count; j++) {
                int t[3];
                int id = find_transform(out + j * AH * AW, 2, 1.0f / sd, -mean / sd, t);
                if (id < 0)
                    fail_msg("epoch %llu sample %u is not a shift/flip of an input", (unsigned long long)epoch, j);
                assert_int_equal(ol[j], lab[id]);
                per_epoch[id]++;
                flips[t[2]]++;
                dys[t[0] + 2]++;
                dxs[t[1] + 2]++;
                identity += t[0] == 0 && t[1] == 0 && t[2] == 0;
            }
        }
        for (int i = 0; i < AN; i++)
            assert_int_equal(per_epoch[i], 1);
    }
    /* 320 draws: both flips and every offset appear (each has probability >= 1/5 per draw). */
    assert_true(flips[0] > 0 && flips[1] > 0);
    for (int k = 0; k < 5; k++)
        assert_true(dys[k] > 0 && dxs[k] > 0);
    assert_true(identity < 320);
    nas__loader_destroy(l2);

    /* The loader keeps the settings it was created with; without AUGMENT nothing moves. */
    assert_int_equal(nas_dataset_set_augmentation(ds, 0, false), NAS_OK);
    assert_int_equal(nas__loader_start_epoch(l, 0), NAS_OK);
    assert_int_equal(nas__loader_create(&l2, ds, 3, NAS__LOADER_SHUFFLE, 7), NAS_OK);
    bool moved = false;
    while (nas__loader_next(l, out, ol, &count) == NAS_OK) {
        assert_int_equal(nas__loader_next(l2, out2, ol2, &count2), NAS_OK);
        for (uint32_t j = 0; j < count; j++) {
            int t[3];
            assert_true(find_transform(out2 + j * AH * AW, 0, 1.0f / sd, -mean / sd, t) >= 0);
            moved = moved || memcmp(out + j * AH * AW, out2 + j * AH * AW, AH * AW * sizeof *out) != 0;
        }
    }
    assert_true(moved);
    nas__loader_destroy(l2);
    nas__loader_destroy(l);
    nas_dataset_destroy(ds);
    nas_context_destroy(ctx);
}

/* Byte storage through the augmenting path (the hot path for Fashion-MNIST) against nas_dataset_get. */
static void test_loader_bytes(void **state)
{
    (void)state;
    nas_context_t *ctx = tu_context_plain(1);
    const char *img = tmp("lb-img"), *lbl = tmp("lb-lbl");
    write_dataset(img, lbl, true, 20, 3, 4, 5, 4);
    nas_dataset_t *ds = NULL;
    assert_int_equal(nas_dataset_load_idx(&ds, ctx, img, lbl), NAS_OK);
    float mean[3] = { 0.1f, 0.2f, 0.3f }, sd[3] = { 0.5f, 1.0f, 2.0f };
    assert_int_equal(nas_dataset_set_normalization(ds, mean, sd, 3), NAS_OK);
    nas__loader_t *l = NULL;
    assert_int_equal(nas__loader_create(&l, ds, 8, 0, 1), NAS_OK);
    float out[8 * 60], ref[60];
    int32_t lab[8], rl;
    uint32_t count;
    uint64_t i = 0;
    while (nas__loader_next(l, out, lab, &count) == NAS_OK) {
        for (uint32_t j = 0; j < count; j++, i++) {
            assert_int_equal(nas_dataset_get(ds, i, ref, &rl), NAS_OK);
            assert_int_equal(lab[j], rl);
            assert_memory_equal(out + j * 60, ref, sizeof ref);
        }
    }
    assert_int_equal(i, 20);
    nas__loader_destroy(l);
    /* Augmenting with pad 0 and hflip: each sample is itself or its mirror image. */
    assert_int_equal(nas_dataset_set_augmentation(ds, 0, true), NAS_OK);
    assert_int_equal(nas__loader_create(&l, ds, 8, NAS__LOADER_AUGMENT, 1), NAS_OK);
    i = 0;
    int mirrored = 0;
    while (nas__loader_next(l, out, lab, &count) == NAS_OK) {
        for (uint32_t j = 0; j < count; j++, i++) {
            assert_int_equal(nas_dataset_get(ds, i, ref, &rl), NAS_OK);
            bool same = memcmp(out + j * 60, ref, sizeof ref) == 0, mirror = true;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 5; x++)
                        mirror = mirror && out[j * 60 + c * 20 + y * 5 + x] == ref[c * 20 + y * 5 + (4 - x)];
            assert_true(same || mirror);
            mirrored += !same;
        }
    }
    assert_true(mirrored > 0 && mirrored < 20);
    nas__loader_destroy(l);
    nas_dataset_destroy(ds);
    nas_context_destroy(ctx);
}

/* nas__loader_next never allocates: every buffer comes from nas__loader_create. */
static void test_loader_no_alloc(void **state)
{
    (void)state;
    tu_alloc_t a = {0};
    nas_context_t *ctx = tu_context(&a, 1);
    assert_non_null(ctx);
    const char *img = tmp("na-img"), *lbl = tmp("na-lbl");
    write_dataset(img, lbl, true, 50, 1, 6, 6, 5);
    nas_dataset_t *ds = NULL;
    assert_int_equal(nas_dataset_load_idx(&ds, ctx, img, lbl), NAS_OK);
    assert_int_equal(nas_dataset_set_augmentation(ds, 2, true), NAS_OK);
    nas__loader_t *l = NULL;
    assert_int_equal(nas__loader_create(&l, ds, 16, NAS__LOADER_SHUFFLE | NAS__LOADER_AUGMENT, 3), NAS_OK);
    float out[16 * 36];
    int32_t lab[16];
    uint32_t count;
    long before = a.allocs;
    int batches = 0;
    while (nas__loader_next(l, out, lab, &count) == NAS_OK)
        batches++;
    assert_int_equal(batches, 4);
    assert_int_equal(a.allocs, before);
    nas__loader_destroy(l);
    nas_dataset_destroy(ds);
    nas_context_destroy(ctx);
    assert_int_equal(a.live, 0);
}

/* ---------------------------------------------------------------------- */
/* Out-of-memory sweeps                                                    */

struct paths {
    const char *img, *lbl;
};

static nas_status_t oom_load_idx(nas_context_t *ctx, void *arg)
{
    struct paths *p = arg;
    nas_dataset_t *ds = NULL;
    nas_status_t st = nas_dataset_load_idx(&ds, ctx, p->img, p->lbl);
    if (st == NAS_OK)
        assert_int_equal(nas_dataset_num_samples(ds), 12);
    else
        assert_null(ds);
    nas_dataset_destroy(ds);
    return st;
}

static nas_status_t oom_load_csv(nas_context_t *ctx, void *arg)
{
    nas_csv_opts_t o = csv_opts(1, 1, 2, -1, true, 0.0f);
    nas_dataset_t *ds = NULL;
    nas_status_t st = nas_dataset_load_csv(&ds, ctx, arg, &o);
    nas_dataset_destroy(ds);
    return st;
}

static nas_status_t oom_split_loader(nas_context_t *ctx, void *arg)
{
    struct paths *p = arg;
    nas_dataset_t *ds = NULL, *a = NULL, *b = NULL, *s = NULL;
    nas__loader_t *l = NULL;
    float img[4 * 3 * 4 * 5];
    int32_t lab[4];
    uint32_t count;
    nas_status_t st = nas_dataset_load_idx(&ds, ctx, p->img, p->lbl);
    if (st != NAS_OK)
        return st;
    if ((st = nas_dataset_set_augmentation(ds, 1, true)) != NAS_OK ||
        (st = nas_dataset_split(ds, 0.25, 3, &a, &b)) != NAS_OK || (st = nas_dataset_subset(a, 1, 4, &s)) != NAS_OK ||
        (st = nas__loader_create(&l, a, 4, NAS__LOADER_SHUFFLE | NAS__LOADER_AUGMENT, 9)) != NAS_OK ||
        (st = nas__loader_next(l, img, lab, &count)) != NAS_OK || (st = nas__loader_start_epoch(l, 1)) != NAS_OK ||
        (st = nas__loader_next(l, img, lab, &count)) != NAS_OK)
        goto out;
out:
    nas__loader_destroy(l);
    nas_dataset_destroy(s);
    nas_dataset_destroy(b);
    nas_dataset_destroy(ds);
    nas_dataset_destroy(a);
    return st;
}

static void test_oom(void **state)
{
    (void)state;
    struct paths gz = { tmp("oom-img.gz"), tmp("oom-lbl.gz") };
    write_dataset(gz.img, gz.lbl, true, 12, 3, 4, 5, 3);
    tu_oom_sweep(oom_load_idx, &gz);
    tu_oom_sweep(oom_split_loader, &gz);
    struct paths plain = { tmp("oom-img"), tmp("oom-lbl") };
    write_dataset(plain.img, plain.lbl, false, 12, 1, 4, 5, 3);
    tu_oom_sweep(oom_load_idx, &plain);
    const char *csv = tmp("oom.csv");
    assert_int_equal(tu_write_file(csv, "a,b,l\n1,2,0\n3,4,1\n"), 0);
    tu_oom_sweep(oom_load_csv, (void *)csv);
}

/* ---------------------------------------------------------------------- */
/* The real thing: Fashion-MNIST's test set from the Debian package.       */

#define FMNIST "/usr/share/datasets/fashion-mnist/"

static void test_fashion_mnist_t10k(void **state)
{
    (void)state;
    struct stat sb;
    if (stat(FMNIST "t10k-images-idx3-ubyte.gz", &sb) != 0) {
        print_message("dataset-fashion-mnist is not installed: skipped\n");
        skip();
    }
    nas_context_t *ctx = tu_context_plain(1);
    nas_dataset_t *ds = NULL;
    nas_status_t st = nas_dataset_load_idx(&ds, ctx, FMNIST "t10k-images-idx3-ubyte.gz",
                                           FMNIST "t10k-labels-idx1-ubyte.gz");
    if (st != NAS_OK)
        fail_msg("%s", nas_context_errmsg(ctx));
    assert_int_equal(nas_dataset_num_samples(ds), 10000);
    uint32_t c, h, w;
    nas_dataset_shape(ds, &c, &h, &w);
    assert_int_equal(c, 1);
    assert_int_equal(h, 28);
    assert_int_equal(w, 28);
    assert_int_equal(nas_dataset_num_classes(ds), 10);
    int hist[10] = {0};
    float x[784];
    for (uint64_t i = 0; i < 10000; i++) {
        int32_t l;
        assert_int_equal(nas_dataset_get(ds, i, x, &l), NAS_OK);
        hist[l]++;
    }
    for (int k = 0; k < 10; k++)
        assert_int_equal(hist[k], 1000);
    float mean, sd;
    assert_int_equal(nas_dataset_compute_stats(ds, &mean, &sd, 1), NAS_OK);
    assert_true(mean > 0.27f && mean < 0.30f);
    assert_true(sd > 0.34f && sd < 0.36f);
    assert_int_equal(nas_dataset_set_normalization(ds, &mean, &sd, 1), NAS_OK);
    assert_int_equal(nas_dataset_set_augmentation(ds, 2, true), NAS_OK);

    /* One augmented, shuffled epoch in batches of 128; the time is reported, not asserted. */
    nas__loader_t *l = NULL;
    assert_int_equal(nas__loader_create(&l, ds, 128, NAS__LOADER_SHUFFLE | NAS__LOADER_AUGMENT, 1), NAS_OK);
    float *img = malloc(128 * 784 * sizeof *img);
    int32_t lab[128];
    uint32_t count;
    int lh[10] = {0};
    /* CPU time of this thread as well as wall time: a loaded machine inflates only the latter. */
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    double t0 = nas__now();
    uint64_t batches = 0;
    while (nas__loader_next(l, img, lab, &count) == NAS_OK) {
        for (uint32_t j = 0; j < count; j++)
            lh[lab[j]]++;
        batches++;
    }
    double dt = nas__now() - t0;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) * 1e-9;
    assert_int_equal(batches, nas__loader_batches_per_epoch(l));
    for (int k = 0; k < 10; k++)
        assert_int_equal(lh[k], 1000);
    print_message("loader: %.1f us wall, %.1f us CPU per augmented batch of 128 (%llu batches)\n",
                  dt / (double)batches * 1e6, cpu / (double)batches * 1e6, (unsigned long long)batches);
    free(img);
    nas__loader_destroy(l);
    nas_dataset_destroy(ds);
    nas_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_roundtrip),
        cmocka_unit_test(test_idx_malformed),
        cmocka_unit_test(test_idx_lying_dims_cost),
        cmocka_unit_test(test_csv_good),
        cmocka_unit_test(test_csv_bad),
        cmocka_unit_test(test_buffer_borrowed),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_split_rounding_and_errors),
        cmocka_unit_test(test_subset),
        cmocka_unit_test(test_normalization_stats),
        cmocka_unit_test(test_loader_epochs),
        cmocka_unit_test(test_loader_errors),
        cmocka_unit_test(test_loader_augment),
        cmocka_unit_test(test_loader_bytes),
        cmocka_unit_test(test_loader_no_alloc),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_fashion_mnist_t10k),
    };
    return cmocka_run_group_tests(tests, setup_dir, NULL);
}
