/* Helpers shared by the cmocka tests. */
#ifndef NAS_TESTUTIL_H
#define NAS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "libnas/nas.h"

/* An allocator that counts live blocks and can fail the Nth allocation (0 = never). */
typedef struct tu_alloc {
    long allocs;       /* allocations so far */
    long live;         /* blocks not yet freed */
    long fail_at;      /* fail the allocation with this 1-based number; 0: never */
    long failures;     /* allocations refused */
} tu_alloc_t;

/* Fill an allocator table that uses `state`. */
void tu_alloc_hooks(nas_allocator_t *out, tu_alloc_t *state);
/* A context with that allocator (fail_at counts from this call's allocations too). */
nas_context_t *tu_context(tu_alloc_t *state, uint64_t seed);
/* A context with the default allocator; fails the test if it cannot be made. */
nas_context_t *tu_context_plain(uint64_t seed);
/* Same, with the thread count of NAS_TEST_THREADS (default 1: two oneDNN processes on two cores slow
 * each other down badly, and meson runs tests side by side). */
nas_context_t *tu_context_threads(uint64_t seed);
/* Parameters from n key-value pairs; fails the test on an error. */
nas_params_t *tu_params(nas_context_t *ctx, const char *const (*kv)[2], size_t n);

/* Path of a file in the source tree (static buffer, valid until the next call). */
const char *tu_src_path(const char *rel);
/* A fresh empty temporary folder (static buffer). */
const char *tu_tmpdir(void);
/* Write text to a file; returns 0 on success. */
int tu_write_file(const char *path, const char *text);
/* Read a whole file (malloc'd, NUL-terminated) or NULL. */
char *tu_read_file(const char *path, size_t *len);

/*
 * Switch LC_NUMERIC to a locale whose decimal point is a comma (de_DE), compiling one with
 * localedef into /tmp/nas-test-locales (LOCPATH) when the system has only the sources.
 * Returns false when none can be had (the caller skips); restore with setlocale(LC_NUMERIC, "C").
 */
bool tu_comma_locale(void);

/*
 * Out-of-memory sweep: for N = 1, 2, ... run `body` with the Nth allocation failing, until a run
 * needs no failure. `body` must return the status of the operation and free what it made;
 * the sweep asserts a clean status (NAS_E_NOMEM or NAS_OK) and no leaked block for every N.
 */
typedef nas_status_t (*tu_oom_body)(nas_context_t *ctx, void *arg);
void tu_oom_sweep(tu_oom_body body, void *arg);

#endif
