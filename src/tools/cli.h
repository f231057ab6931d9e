/* The nas command-line tool: helpers shared by its commands. Built on the public API only. */
#ifndef NAS_CLI_H
#define NAS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libnas/nas.h>

/* Exit codes: 0 success, 1 a failure (bad file, library error), 2 a usage error, 130 interrupted. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_INTERRUPTED = 130 };

#if defined(__GNUC__)
#  define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define CLI_PRINTF(f, a)
#endif

/* Print "nas: error: MESSAGE" as exactly one line on stderr (newlines in MESSAGE become spaces). */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* Report a failed library call: its detailed message if there is one, else "WHAT: status description". */
void cli_lib_error(nas_status_t st, const char *msg, const char *what);

/* One option of a command. `value` and `seen` are filled by cli_parse(). */
typedef struct cli_opt {
    const char *long_name;   /* without the leading "--" */
    char short_name;         /* 0: none */
    bool has_value;
    const char *value;
    bool seen;
} cli_opt_t;

/*
 * Parse argv[0..argc) of command `cmd` (argv[0] is the first argument after the command name):
 * "--name value", "--name=value", "-x value", "-xvalue", "--" ends options. Positionals go to pos
 * (at most max_pos, else a usage error). Returns CLI_OK or CLI_USAGE (message printed).
 */
int cli_parse(const char *cmd, int argc, char **argv, cli_opt_t *opts, size_t nopts, const char **pos,
              size_t max_pos, size_t *npos);
/* The option named `long_name` (which must exist in opts). */
cli_opt_t *cli_opt(cli_opt_t *opts, size_t nopts, const char *long_name);

/* Parse an unsigned decimal integer in [min, max] given to option `what`; CLI_USAGE with a message if bad. */
int cli_parse_u64(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Ctrl-C and SIGTERM while a long call runs: cli_trap_signals() makes them set a flag that
 * cli_cancel_cb() (a nas_cancel_fn) and cli_interrupted() report; a second one ends the process at
 * once. cli_untrap_signals() puts the previous handlers back.
 */
void cli_trap_signals(void);
void cli_untrap_signals(void);
bool cli_interrupted(void);
bool cli_cancel_cb(void *user_data);

/* A context for the tool: the log goes to stderr ("nas: warning: ..."); verbosity -1 quiet, 0 normal, 1 verbose. */
int cli_context(nas_context_t **out, uint64_t seed, int verbosity);

/* Canonical string of an arch (malloc'd) or NULL with an error printed. */
char *cli_arch_string(const nas_arch_t *arch, uint32_t flags);

/* Create `path` and its missing parents (like mkdir -p). CLI_OK or CLI_FAIL (message printed). */
int cli_mkdir_p(const char *path);
/* "dir/name" (malloc'd) or NULL on allocation failure. */
char *cli_join(const char *dir, const char *name);
/* Whether a file exists at path. */
bool cli_exists(const char *path);
/*
 * Write path through PATH.tmp: `write` fills the file (false: it failed), then fflush, fsync and
 * rename over path. CLI_OK, or CLI_FAIL with "cannot write 'PATH': why" printed (PATH.tmp removed).
 */
int cli_write_file_atomic(const char *path, bool (*write)(FILE *f, const void *arg), const void *arg);
/* Read a whole small file (at most max bytes; malloc'd, NUL-terminated) or NULL. */
char *cli_read_file(const char *path, size_t max, size_t *len);

/* JSON output: a string with escapes, and a number ("null" for NaN and infinities, shortest exact form). */
void cli_json_string(FILE *f, const char *s);
void cli_json_number(FILE *f, double v);
/* A double in its shortest form that reads back exactly (at most 17 significant digits). */
void cli_format_double(char *buf, size_t cap, double v);

/* Commands. argv[0] is the first argument after the command word(s). */
int cli_cmd_space(int argc, char **argv);
int cli_cmd_search(int argc, char **argv);
int cli_cmd_train(int argc, char **argv);
int cli_cmd_report(int argc, char **argv);

/* Help texts. */
void cli_help_space(FILE *f);
void cli_help_search(FILE *f);
void cli_help_train(FILE *f);
void cli_help_report(FILE *f);

#endif /* NAS_CLI_H */
