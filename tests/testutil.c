#define _GNU_SOURCE
#include "testutil.h"

#include <ftw.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *tu_malloc(void *ud, size_t size)
{
    tu_alloc_t *a = ud;
    a->allocs++;
    if (a->fail_at && a->allocs == a->fail_at) {
        a->failures++;
        return NULL;
    }
    void *p = malloc(size);
    if (p)
        a->live++;
    return p;
}

static void *tu_realloc(void *ud, void *ptr, size_t size)
{
    tu_alloc_t *a = ud;
    a->allocs++;
    if (a->fail_at && a->allocs == a->fail_at) {
        a->failures++;
        return NULL;
    }
    void *p = realloc(ptr, size);
    if (p && !ptr)
        a->live++;
    return p;
}

static void tu_free(void *ud, void *ptr)
{
    tu_alloc_t *a = ud;
    if (ptr)
        a->live--;
    free(ptr);
}

void tu_alloc_hooks(nas_allocator_t *out, tu_alloc_t *state)
{
    out->struct_size = sizeof(*out);
    out->malloc_fn = tu_malloc;
    out->realloc_fn = tu_realloc;
    out->free_fn = tu_free;
    out->user_data = state;
}

nas_context_t *tu_context(tu_alloc_t *state, uint64_t seed)
{
    static nas_allocator_t hooks;
    tu_alloc_hooks(&hooks, state);
    nas_context_opts_t o = NAS_CONTEXT_OPTS_INIT;
    o.allocator = &hooks;
    o.seed = seed;
    nas_context_t *ctx = NULL;
    if (nas_context_create(&ctx, &o) != NAS_OK)
        return NULL;
    return ctx;
}

nas_context_t *tu_context_plain(uint64_t seed)
{
    nas_context_opts_t o = NAS_CONTEXT_OPTS_INIT;
    o.seed = seed;
    nas_context_t *ctx = NULL;
    assert_int_equal(nas_context_create(&ctx, &o), NAS_OK);
    assert_non_null(ctx);
    return ctx;
}

const char *tu_src_path(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("NAS_SOURCE_ROOT");
    if (!root)
        root = NAS_SOURCE_ROOT;
    snprintf(buf, sizeof buf, "%s/%s", root, rel);
    return buf;
}

/* Folders made by tu_tmpdir(), removed when the test program exits (by its own process only: a
 * forked child that calls exit() must not delete them under its parent). NAS_TEST_KEEP=1 keeps them. */
#define TU_MAX_TMPDIRS 256
static char tu_dirs[TU_MAX_TMPDIRS][32];
static int tu_num_dirs;
static pid_t tu_owner;

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_tmpdirs(void)
{
    if (getpid() != tu_owner)
        return;
    const char *keep = getenv("NAS_TEST_KEEP");
    if (keep && *keep && strcmp(keep, "0") != 0)
        return;
    for (int i = 0; i < tu_num_dirs; i++)
        nftw(tu_dirs[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tu_tmpdir(void)
{
    static char buf[32];
    snprintf(buf, sizeof buf, "/tmp/nas-test-XXXXXX");
    if (!mkdtemp(buf))
        fail_msg("mkdtemp failed");
    if (tu_num_dirs == 0) {
        tu_owner = getpid();
        atexit(remove_tmpdirs);
    }
    if (tu_num_dirs < TU_MAX_TMPDIRS)
        memcpy(tu_dirs[tu_num_dirs++], buf, sizeof buf);
    return buf;
}

int tu_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void tu_oom_sweep(tu_oom_body body, void *arg)
{
    for (long n = 1; n < 1000000; n++) {
        tu_alloc_t a = {0};
        a.fail_at = n;
        nas_context_t *ctx = tu_context(&a, 7);
        if (!ctx) {
            /* The context itself failed to allocate: nothing may leak. */
            assert_int_equal(a.live, 0);
            continue;
        }
        nas_status_t st = body(ctx, arg);
        nas_context_destroy(ctx);
        if (a.live != 0)
            fail_msg("allocation %ld failing leaked %ld block(s) (status %s)", n, a.live, nas_status_name(st));
        if (a.failures == 0) {
            assert_int_equal(st, NAS_OK);
            return;  /* every allocation point has been failed once */
        }
        if (st != NAS_E_NOMEM && st != NAS_OK)
            fail_msg("allocation %ld failing gave status %s, expected nomem", n, nas_status_name(st));
    }
    fail_msg("out-of-memory sweep did not finish");
}

bool tu_comma_locale(void)
{
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "de_DE.utf8"))
        return true;
    const char *dir = "/tmp/nas-test-locales";
    char path[256];
    snprintf(path, sizeof path, "%s/de_DE.UTF-8/LC_NUMERIC", dir);
    if (access(path, R_OK) != 0 && access("/usr/share/i18n/locales/de_DE", R_OK) == 0) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "mkdir -p %s && localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", dir, dir);
        if (system(cmd) != 0)
            return false;
    }
    setenv("LOCPATH", dir, 1);
    return setlocale(LC_NUMERIC, "de_DE.UTF-8") != NULL;
}

nas_context_t *tu_context_threads(uint64_t seed)
{
    nas_context_opts_t o = NAS_CONTEXT_OPTS_INIT;
    o.seed = seed;
    const char *t = getenv("NAS_TEST_THREADS");
    o.num_threads = t ? atoi(t) : 1;
    nas_context_t *c = NULL;
    assert_int_equal(nas_context_create(&c, &o), NAS_OK);
    return c;
}

nas_params_t *tu_params(nas_context_t *ctx, const char *const (*kv)[2], size_t n)
{
    nas_params_t *p = NULL;
    assert_int_equal(nas_params_create(&p, ctx), NAS_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(nas_params_set(p, kv[i][0], kv[i][1]), NAS_OK);
    return p;
}
