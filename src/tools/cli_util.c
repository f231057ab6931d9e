/* The nas tool: error reporting, option parsing, Ctrl-C, files and JSON output. */
#include "cli.h"
#include "progress.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Flatten a message to one line: control characters become spaces, trailing blanks go. */
static void one_line(char *s)
{
    size_t n = 0;
    for (char *p = s; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
        n++;
    }
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
}

void cli_error(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    one_line(buf);
    progress_suspend();
    fprintf(stderr, "nas: error: %s\n", buf);
}

void cli_lib_error(nas_status_t st, const char *msg, const char *what)
{
    if (msg && *msg)
        cli_error("%s", msg);
    else
        cli_error("%s: %s", what, nas_status_str(st));
}

cli_opt_t *cli_opt(cli_opt_t *opts, size_t nopts, const char *long_name)
{
    for (size_t i = 0; i < nopts; i++)
        if (strcmp(opts[i].long_name, long_name) == 0)
            return &opts[i];
    return NULL;
}

static cli_opt_t *find_long(cli_opt_t *opts, size_t nopts, const char *name, size_t len)
{
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].long_name) == len && strncmp(opts[i].long_name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static cli_opt_t *find_short(cli_opt_t *opts, size_t nopts, char c)
{
    for (size_t i = 0; i < nopts; i++)
        if (opts[i].short_name && opts[i].short_name == c)
            return &opts[i];
    return NULL;
}

/* Parse one option token at argv[*i]; may consume the next token as its value. */
static int parse_option(const char *cmd, int argc, char **argv, int *i, cli_opt_t *opts, size_t nopts)
{
    const char *arg = argv[*i];
    cli_opt_t *o;
    const char *inline_value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        o = find_long(opts, nopts, name, len);
        if (!o) {
            cli_error("%s: unknown option '--%.*s' (see 'nas help %s')", cmd, (int)len, name, cmd);
            return CLI_USAGE;
        }
        if (eq) {
            if (!o->has_value) {
                cli_error("%s: option '--%s' takes no value", cmd, o->long_name);
                return CLI_USAGE;
            }
            inline_value = eq + 1;
        }
    } else {
        o = find_short(opts, nopts, arg[1]);
        if (!o) {
            cli_error("%s: unknown option '-%c' (see 'nas help %s')", cmd, arg[1], cmd);
            return CLI_USAGE;
        }
        if (arg[2] != '\0') {
            if (!o->has_value) {
                cli_error("%s: option '-%c' takes no value", cmd, arg[1]);
                return CLI_USAGE;
            }
            inline_value = arg + 2;
        }
    }
    if (o->has_value) {
        if (!inline_value) {
            if (*i + 1 >= argc) {
                cli_error("%s: option '--%s' needs a value", cmd, o->long_name);
                return CLI_USAGE;
            }
            inline_value = argv[++*i];
        }
        o->value = inline_value;
    }
    o->seen = true;
    return CLI_OK;
}

int cli_parse(const char *cmd, int argc, char **argv, cli_opt_t *opts, size_t nopts, const char **pos,
              size_t max_pos, size_t *npos)
{
    bool options_done = false;
    *npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            int rc = parse_option(cmd, argc, argv, &i, opts, nopts);
            if (rc != CLI_OK)
                return rc;
            continue;
        }
        if (*npos >= max_pos) {
            cli_error("%s: unexpected argument '%s' (see 'nas help %s')", cmd, arg, cmd);
            return CLI_USAGE;
        }
        pos[(*npos)++] = arg;
    }
    return CLI_OK;
}

int cli_parse_u64(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9') {
        cli_error("%s: expected a non-negative integer, got '%s'", what, s ? s : "");
        return CLI_USAGE;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        cli_error("%s: expected a non-negative integer, got '%s'", what, s);
        return CLI_USAGE;
    }
    if (v < min || v > max) {
        cli_error("%s: %s is out of range [%" PRIu64 ", %" PRIu64 "]", what, s, min, max);
        return CLI_USAGE;
    }
    *out = (uint64_t)v;
    return CLI_OK;
}

static volatile sig_atomic_t interrupted;
static struct sigaction old_int, old_term;
static bool trapped_int, trapped_term;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

void cli_trap_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;   /* a second Ctrl-C ends the process at once */
    interrupted = 0;
    trapped_int = sigaction(SIGINT, &sa, &old_int) == 0;
    trapped_term = sigaction(SIGTERM, &sa, &old_term) == 0;
}

void cli_untrap_signals(void)
{
    if (trapped_int)
        sigaction(SIGINT, &old_int, NULL);
    if (trapped_term)
        sigaction(SIGTERM, &old_term, NULL);
    trapped_int = trapped_term = false;
}

bool cli_interrupted(void)
{
    return interrupted != 0;
}

bool cli_cancel_cb(void *user_data)
{
    (void)user_data;
    return interrupted != 0;
}

static void log_sink(void *user_data, int32_t level, const char *message)
{
    int verbosity = *(const int *)user_data;
    /* Errors come back to the tool as statuses with messages; print them once, there. */
    if (level == NAS_LOG_ERROR && verbosity <= 0)
        return;
    static const char *const names[] = { "error", "warning", "info", "debug" };
    const char *name = level >= 0 && level <= NAS_LOG_DEBUG ? names[level] : "log";
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", message ? message : "");
    one_line(buf);
    progress_suspend();   /* not appended to a progress bar */
    fprintf(stderr, "nas: %s: %s\n", name, buf);
}

int cli_context(nas_context_t **out, uint64_t seed, int verbosity)
{
    static int sink_verbosity;
    sink_verbosity = verbosity;
    nas_context_opts_t opts = NAS_CONTEXT_OPTS_INIT;
    opts.seed = seed;
    opts.log_fn = log_sink;
    opts.log_user_data = &sink_verbosity;
    opts.log_level = verbosity < 0 ? NAS_LOG_ERROR : verbosity == 0 ? NAS_LOG_WARN : NAS_LOG_INFO;
    nas_status_t st = nas_context_create(out, &opts);
    if (st != NAS_OK) {
        cli_error("cannot create a libnas context: %s", nas_status_str(st));
        return CLI_FAIL;
    }
    return CLI_OK;
}

char *cli_arch_string(const nas_arch_t *arch, uint32_t flags)
{
    size_t cap = 256, len = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *buf = malloc(cap);
        if (!buf) {
            cli_error("out of memory");
            return NULL;
        }
        nas_status_t st = nas_arch_to_string(arch, flags, buf, cap, &len);
        if (st == NAS_OK)
            return buf;
        free(buf);
        if (st != NAS_E_RANGE) {
            cli_lib_error(st, nas_space_errmsg(nas_arch_space(arch)), "cannot format an architecture");
            return NULL;
        }
        cap = len + 1;
    }
    cli_error("cannot format an architecture: its length keeps changing");
    return NULL;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0777) == 0)
        return CLI_OK;
    int err = errno;
    struct stat sb;
    if (err == EEXIST && stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return CLI_OK;
        cli_error("cannot create folder '%s': a file of that name exists", path);
        return CLI_FAIL;
    }
    cli_error("cannot create folder '%s': %s", path, strerror(err));
    return CLI_FAIL;
}

int cli_mkdir_p(const char *path)
{
    size_t n = strlen(path);
    if (n == 0) {
        cli_error("empty folder name");
        return CLI_FAIL;
    }
    char *copy = malloc(n + 1);
    if (!copy) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    memcpy(copy, path, n + 1);
    int rc = CLI_OK;
    /* Create every prefix that ends before a '/', then the whole path. */
    for (size_t i = 1; i < n && rc == CLI_OK; i++) {
        if (copy[i] != '/' || copy[i - 1] == '/')
            continue;
        copy[i] = '\0';
        rc = make_dir(copy);
        copy[i] = '/';
    }
    if (rc == CLI_OK)
        rc = make_dir(copy);
    free(copy);
    return rc;
}

char *cli_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    bool slash = a > 0 && dir[a - 1] != '/';
    char *s = malloc(a + slash + b + 1);
    if (!s)
        return NULL;
    memcpy(s, dir, a);
    if (slash)
        s[a] = '/';
    memcpy(s + a + slash, name, b + 1);
    return s;
}

bool cli_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

char *cli_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool bad = !buf || ferror(f) || n > max;
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void cli_format_double(char *buf, size_t cap, double v)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

void cli_json_number(FILE *f, double v)
{
    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    char buf[64];
    cli_format_double(buf, sizeof buf, v);
    fputs(buf, f);
}

int cli_write_file_atomic(const char *path, bool (*write)(FILE *f, const void *arg), const void *arg)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    if (!tmp) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        cli_error("cannot write '%s': %s", tmp, strerror(errno));
        free(tmp);
        return CLI_FAIL;
    }
    bool ok = write(f, arg) && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int err = errno;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        cli_error("cannot write '%s': %s", path, strerror(ok ? errno : err));
        remove(tmp);
        free(tmp);
        return CLI_FAIL;
    }
    free(tmp);
    return CLI_OK;
}
