/* libnas: context, status codes, allocator and log hooks, random numbers. */
#ifndef LIBNAS_CORE_H
#define LIBNAS_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define NAS_API __declspec(dllexport)
#elif defined(__GNUC__)
#  define NAS_API __attribute__((visibility("default")))
#else
#  define NAS_API
#endif

/*
 * Threads: one rule for every handle in libnas. A handle (and the handles created
 * from it) is used by one thread at a time; distinct contexts are independent.
 */

/*
 * Status codes. Values are explicit, append-only and never renumbered.
 * X(enumerator, value, short name, description)
 */
#define NAS_STATUS_TABLE(X)                                                      \
    X(NAS_OK,            0, "ok",            "success")                          \
    X(NAS_E_INVAL,       1, "invalid",       "invalid argument")                 \
    X(NAS_E_NOMEM,       2, "nomem",         "out of memory")                    \
    X(NAS_E_IO,          3, "io",            "input/output error")               \
    X(NAS_E_PARSE,       4, "parse",         "malformed input")                  \
    X(NAS_E_SPEC,        5, "spec",          "invalid specification")            \
    X(NAS_E_NOT_FOUND,   6, "not_found",     "not found")                        \
    X(NAS_E_EXISTS,      7, "exists",        "already exists")                   \
    X(NAS_E_RANGE,       8, "range",         "value out of range")               \
    X(NAS_E_ABORTED,     9, "aborted",       "aborted by the caller")            \
    X(NAS_E_EXHAUSTED,  10, "exhausted",     "no more candidates")               \
    X(NAS_E_ABI,        11, "abi",           "incompatible ABI version or size") \
    X(NAS_E_UNSUPPORTED,12, "unsupported",   "operation not supported")          \
    X(NAS_E_STATE,      13, "state",         "call not valid in this state")     \
    X(NAS_E_CALLBACK,   14, "callback",      "a host callback failed")           \
    X(NAS_E_DIVERGED,   15, "diverged",      "training diverged")                \
    X(NAS_E_TIMEOUT,    16, "timeout",       "time limit reached")               \
    X(NAS_E_CORRUPT,    17, "corrupt",       "corrupted data")                   \
    X(NAS_E_INTERNAL,   18, "internal",      "internal error")                   \
    X(NAS_E_BUDGET,     19, "budget",        "budget exhausted")                 \
    X(NAS_E_CRASHED,    20, "crashed",       "the trial's process crashed")

/** Status returned by every fallible call. Since 0.1. */
typedef enum nas_status {
#define NAS_X_ENUM(e, v, n, d) e = v,
    NAS_STATUS_TABLE(NAS_X_ENUM)
#undef NAS_X_ENUM
    NAS_STATUS_FORCE_INT32 = 0x7fffffff
} nas_status_t;

/**
 * Short stable name of a status ("ok", "nomem", ...).
 * @return a static string, never NULL; "unknown" for an unknown code. Thread-safe. Since 0.1.
 */
NAS_API const char *nas_status_name(nas_status_t status);

/**
 * One-line English description of a status.
 * @return a static string, never NULL; "unknown status" for an unknown code. Thread-safe. Since 0.1.
 */
NAS_API const char *nas_status_str(nas_status_t status);

/** Library version as "MAJOR.MINOR.PATCH" (static string). Thread-safe. Since 0.1. */
NAS_API const char *nas_version_string(void);

/** Library version as MAJOR*10000 + MINOR*100 + PATCH. Compare with NAS_VERSION_NUMBER. Thread-safe. Since 0.1. */
NAS_API uint32_t nas_version_number(void);

/** Context: owns allocator, log sink, thread count, seed and the registry of searchers and evaluators. */
typedef struct nas_context nas_context_t;

/**
 * Allocator hooks for one context. All three must be set. realloc_fn(p, 0) is never called;
 * free_fn(NULL) is never called. user_data is passed back unchanged.
 */
typedef struct nas_allocator {
    size_t struct_size;   /**< sizeof(nas_allocator_t) */
    void *(*malloc_fn)(void *user_data, size_t size);
    void *(*realloc_fn)(void *user_data, void *ptr, size_t size);
    void (*free_fn)(void *user_data, void *ptr);
    void *user_data;
} nas_allocator_t;

/** Log levels. */
typedef enum nas_log_level {
    NAS_LOG_ERROR = 0,
    NAS_LOG_WARN = 1,
    NAS_LOG_INFO = 2,
    NAS_LOG_DEBUG = 3
} nas_log_level_t;

/** Log callback: one message (UTF-8, no trailing newline), valid only during the call. */
typedef void (*nas_log_fn)(void *user_data, int32_t level, const char *message);

/** Options for nas_context_create(). Initialize with NAS_CONTEXT_OPTS_INIT. */
typedef struct nas_context_opts {
    size_t struct_size;                /**< sizeof(nas_context_opts_t) */
    const nas_allocator_t *allocator;  /**< NULL: the C library's malloc; copied at creation */
    nas_log_fn log_fn;                 /**< NULL: messages are dropped */
    void *log_user_data;
    int32_t log_level;                 /**< messages above this level are dropped */
    int32_t num_threads;               /**< compute threads; 0: the environment variable NAS_NUM_THREADS
                                            when it holds a count in [1, 4095], else all cores */
    uint64_t seed;                     /**< root seed of every random stream */
} nas_context_opts_t;

#define NAS_CONTEXT_OPTS_INIT { sizeof(nas_context_opts_t), NULL, NULL, NULL, NAS_LOG_WARN, 0, 0 }

/**
 * Create a context.
 * @param[out] out   the new context; NULL on failure
 * @param[in]  opts  options, or NULL for defaults; only the first opts->struct_size bytes are read
 * @return NAS_OK; NAS_E_INVAL (NULL out, bad struct_size, incomplete allocator); NAS_E_NOMEM.
 * Built-in searchers and evaluators are registered before this returns. Since 0.1.
 */
NAS_API nas_status_t nas_context_create(nas_context_t **out, const nas_context_opts_t *opts);

/** Destroy a context. Every handle created from it must be destroyed first. NULL is a no-op. Since 0.1. */
NAS_API void nas_context_destroy(nas_context_t *ctx);

/**
 * Last detailed error message of calls made on this context (and of handle creations that failed
 * before a handle existed). Owned by the context, valid until its next failing call; "" if none.
 * Never NULL, also for a NULL ctx. Since 0.1.
 */
NAS_API const char *nas_context_errmsg(const nas_context_t *ctx);

/** Root seed of the context. Since 0.1. */
NAS_API uint64_t nas_context_seed(const nas_context_t *ctx);

/** Number of compute threads the context uses (resolved: never 0). Since 0.1. */
NAS_API int32_t nas_context_num_threads(const nas_context_t *ctx);

/** Send a message to the context's log sink (used by plugins so their logs go where the host wants). Since 0.1. */
NAS_API void nas_context_log(nas_context_t *ctx, int32_t level, const char *message);

/* ---------------------------------------------------------------------- */
/* Random numbers: a small counter-free generator (xoshiro256**) with a   */
/* seeding function so independent streams derive from (seed, stream).   */

typedef struct nas_rng nas_rng_t;

/**
 * Create a generator for stream `stream` of `seed`. Equal (seed, stream) give equal sequences
 * on every platform. Since 0.1.
 */
NAS_API nas_status_t nas_rng_create(nas_rng_t **out, nas_context_t *ctx, uint64_t seed, uint64_t stream);
/** Destroy a generator. NULL is a no-op. Since 0.1. */
NAS_API void nas_rng_destroy(nas_rng_t *rng);
/** Next 64 random bits. Since 0.1. */
NAS_API uint64_t nas_rng_u64(nas_rng_t *rng);
/** Uniform double in [0, 1) with 53 random bits. Since 0.1. */
NAS_API double nas_rng_uniform(nas_rng_t *rng);
/** Uniform integer in [0, n) without modulo bias; 0 when n == 0. Since 0.1. */
NAS_API uint64_t nas_rng_below(nas_rng_t *rng, uint64_t n);
/** Standard normal deviate. Since 0.1. */
NAS_API double nas_rng_normal(nas_rng_t *rng);

#ifdef __cplusplus
}
#endif
#endif /* LIBNAS_CORE_H */
