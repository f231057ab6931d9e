/* Cross-file internals of libnas: allocation through the context, error messages, small containers. */
#ifndef NAS_CORE_INTERNAL_H
#define NAS_CORE_INTERNAL_H

#include <locale.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "libnas/nas.h"

#define NAS_ERRMSG_CAP 1024

#if defined(__GNUC__)
#  define NAS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define NAS_PRINTF(f, a)
#endif

/* Registry entries: copies of the vtables with owned strings. */
struct nas__searcher_entry { nas_searcher_vtable_t vt; char *name; char *description; };
struct nas__evaluator_entry { nas_evaluator_vtable_t vt; char *name; char *description; };

struct nas_context {
    nas_allocator_t alloc;
    nas_log_fn log_fn;
    void *log_user_data;
    int32_t log_level;
    int32_t num_threads;
    uint64_t seed;
    struct nas__searcher_entry *searchers;
    uint32_t num_searchers, cap_searchers;
    struct nas__evaluator_entry *evaluators;
    uint32_t num_evaluators, cap_evaluators;
    struct nas__attachment *attachments;
    uint32_t num_attachments, cap_attachments;
    char errmsg[NAS_ERRMSG_CAP];
};

/*
 * Named objects a higher layer hangs on the context (e.g. data sets registered for evaluators), so
 * that core does not depend on their types: the context calls `release` on each at destruction, in
 * reverse order of attachment, before anything of its own is freed.
 */
typedef void (*nas__release_fn)(nas_context_t *ctx, void *object);
typedef struct nas__attachment {
    const char *kind;      /* a static string naming the kind, e.g. "dataset" */
    char *name;
    void *object;
    nas__release_fn release;
} nas__attachment_t;
/* Attach `object` as (kind, name); NAS_E_EXISTS when taken, NAS_E_NOMEM. On failure the caller keeps it. */
nas_status_t nas__ctx_attach(nas_context_t *ctx, const char *kind, const char *name, void *object,
                             nas__release_fn release);
/* The object attached as (kind, name), or NULL. */
void *nas__ctx_attached(const nas_context_t *ctx, const char *kind, const char *name);

/* Allocation through the context's hooks. All return NULL on failure (and on size overflow). */
void *nas__malloc(nas_context_t *ctx, size_t size);
void *nas__calloc(nas_context_t *ctx, size_t n, size_t size);
void *nas__realloc(nas_context_t *ctx, void *ptr, size_t size);
/* Grow *ptr to hold at least `need` elements of `elem` bytes (amortized doubling). */
bool nas__grow(nas_context_t *ctx, void **ptr, uint32_t *cap, uint32_t need, size_t elem);
void nas__free(nas_context_t *ctx, void *ptr);
char *nas__strdup(nas_context_t *ctx, const char *s);
char *nas__strndup(nas_context_t *ctx, const char *s, size_t n);

/* Write a formatted message into a handle's buffer (NAS_ERRMSG_CAP bytes) and return `st`. */
nas_status_t nas__fail(char *errbuf, nas_status_t st, const char *fmt, ...) NAS_PRINTF(3, 4);
nas_status_t nas__vfail(char *errbuf, nas_status_t st, const char *fmt, va_list ap);
/* Same, into the context's message. */
nas_status_t nas__ctx_fail(nas_context_t *ctx, nas_status_t st, const char *fmt, ...) NAS_PRINTF(3, 4);
void nas__logf(nas_context_t *ctx, int32_t level, const char *fmt, ...) NAS_PRINTF(3, 4);

/* Options structs: copy the first min(caller size, ours) bytes over defaults. */
bool nas__copy_opts(void *dst, size_t dst_size, const void *src, size_t src_size);

/* Names of strategies, evaluators: [a-z0-9_-]+; keys: [A-Za-z0-9_.-]+. */
bool nas__valid_name(const char *s);
bool nas__valid_key(const char *s);

/* Registry lookups (NULL if absent). */
const struct nas__searcher_entry *nas__find_searcher(const nas_context_t *ctx, const char *name);
const struct nas__evaluator_entry *nas__find_evaluator(const nas_context_t *ctx, const char *name);

/* strtod in the C locale, whatever LC_NUMERIC the host set ("0.5" is one half everywhere). */
double nas__strtod(const char *s, char **end);
/* Switch the calling thread to the C locale; give the result back to nas__c_locale_leave(). */
locale_t nas__c_locale_enter(void);
void nas__c_locale_leave(locale_t old);

/* Seconds on a monotonic clock. */
double nas__now(void);

/* fsync of the folder holding `path` (best effort: errors are ignored). */
void nas__fsync_folder(nas_context_t *ctx, const char *path);
/* Write `len` bytes to path atomically: a temporary file in the same folder, fsync, rename, fsync of the folder. */
nas_status_t nas__write_file_atomic(nas_context_t *ctx, const char *path, const char *data, size_t len, char *errbuf);
/*
 * Read a whole file of at most max bytes (NUL-terminated copy, *len without the NUL). NAS_E_NOT_FOUND
 * when it does not exist, NAS_E_IO, NAS_E_RANGE (larger than max), NAS_E_NOMEM; "PATH: why" in errbuf.
 */
nas_status_t nas__read_file(nas_context_t *ctx, const char *path, size_t max, char **data, size_t *len, char *errbuf);

/* The four words of a generator's state (checkpoints); set refuses the all-zero state. */
void nas__rng_get_state(const nas_rng_t *rng, uint64_t out[4]);
bool nas__rng_set_state(nas_rng_t *rng, const uint64_t in[4]);

/* 64-bit mixing (splitmix64 finalizer) and FNV-1a for strings: stable across platforms. */
uint64_t nas__mix64(uint64_t x);
uint64_t nas__hash_bytes(const void *data, size_t n, uint64_t seed);

/* Growable string with JSON helpers. On allocation failure `failed` is set and further appends are no-ops. */
typedef struct nas__sb {
    nas_context_t *ctx;
    char *data;
    size_t len, cap;
    bool failed;
} nas__sb_t;

void nas__sb_init(nas__sb_t *sb, nas_context_t *ctx);
void nas__sb_free(nas__sb_t *sb);
void nas__sb_append(nas__sb_t *sb, const char *s, size_t n);
void nas__sb_puts(nas__sb_t *sb, const char *s);
void nas__sb_putc(nas__sb_t *sb, char c);
void nas__sb_printf(nas__sb_t *sb, const char *fmt, ...) NAS_PRINTF(2, 3);
/* Shortest decimal that reads back as the same double ("nan", "inf", "-inf" for non-finite). */
void nas__sb_double(nas__sb_t *sb, double v);
/* JSON string literal with escapes. */
void nas__sb_json_str(nas__sb_t *sb, const char *s);
/* JSON number; non-finite values become null. */
void nas__sb_json_num(nas__sb_t *sb, double v);
/* Format a double into buf (shortest round-trip), returns length. buf >= 32 bytes. */
int nas__fmt_double(char *buf, size_t cap, double v);

/* Open-addressing set of 64-bit keys. */
typedef struct nas__u64set {
    nas_context_t *ctx;
    uint64_t *keys;
    uint8_t *used;
    size_t count, cap;
} nas__u64set_t;

void nas__u64set_init(nas__u64set_t *set, nas_context_t *ctx);
void nas__u64set_free(nas__u64set_t *set);
/* Insert; *added tells whether the key was new. NAS_E_NOMEM on failure. */
nas_status_t nas__u64set_insert(nas__u64set_t *set, uint64_t key, bool *added);
bool nas__u64set_has(const nas__u64set_t *set, uint64_t key);

/* Parameters (src/core/params.c)                                          */

/* Limits of a parameter set (keys are at most 128 bytes, see nas__valid_key). */
#define NAS__PARAMS_MAX_KEYS 1024
#define NAS__PARAMS_MAX_VALUE (64u << 10)

/*
 * Forget which keys were read. Searcher and evaluator creation call this before the strategy's
 * create() so that one parameter set can serve several creations. The flags live in the set and
 * change through a const pointer: reading a parameter is logically const.
 */
void nas__params_reset_used(const nas_params_t *p);

/*
 * NAS_E_INVAL with "unknown parameter 'KEY' for WHO (it reads: a, b)" in errbuf if a key of `p`
 * was never read since the last reset; NAS_OK otherwise (also for a NULL p).
 */
nas_status_t nas__params_check_unused(const nas_params_t *p, char *errbuf, const char *who);

/* The context of a space, and whether nas_space_build() succeeded (src/space/space.c). */
nas_context_t *nas__space_context(const nas_space_t *space);
bool nas__space_is_built(const nas_space_t *space);

/* Built-in registration (each in its own file; called from nas_context_create). */
nas_status_t nas__register_random(nas_context_t *ctx);
nas_status_t nas__register_grid(nas_context_t *ctx);
nas_status_t nas__register_evolution(nas_context_t *ctx);   /* evolution (regularized/aging) */
nas_status_t nas__register_local(nas_context_t *ctx);       /* local search */
nas_status_t nas__register_nsga2(nas_context_t *ctx);       /* NSGA-II */
nas_status_t nas__register_reinforce(nas_context_t *ctx);   /* REINFORCE (+ LSTM controller) */
nas_status_t nas__register_tpe(nas_context_t *ctx);         /* TPE */
nas_status_t nas__register_hyperband(nas_context_t *ctx);   /* successive halving, Hyperband, BOHB */
nas_status_t nas__register_darts(nas_context_t *ctx);       /* DARTS, GDAS (one-shot, run hook) */
nas_status_t nas__register_gdas(nas_context_t *ctx);
nas_status_t nas__register_spos(nas_context_t *ctx);        /* SPOS, FairNAS (one-shot, run hook) */
nas_status_t nas__register_fairnas(nas_context_t *ctx);
nas_status_t nas__register_supernet(nas_context_t *ctx);    /* the "supernet" evaluator */
nas_status_t nas__register_proxyless(nas_context_t *ctx);
nas_status_t nas__register_enas(nas_context_t *ctx);
nas_status_t nas__register_table(nas_context_t *ctx);
nas_status_t nas__register_train(nas_context_t *ctx);

#endif /* NAS_CORE_INTERNAL_H */
