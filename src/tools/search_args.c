/* nas search: its command line, and search.args (what --resume needs to rebuild the same search). */
#if !defined(_XOPEN_SOURCE) || _XOPEN_SOURCE < 700
#undef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath */
#endif
#include "search.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int search_parse_args(int argc, char **argv, search_args_t *a, bool *help)
{
    cli_opt_t opts[] = {
        { "out", 'o', true, NULL, false },     { "trials", 't', true, NULL, false },
        { "seed", 's', true, NULL, false },    { "force", 'f', false, NULL, false },
        { "quiet", 'q', false, NULL, false },  { "verbose", 'v', false, NULL, false },
        { "json", 0, false, NULL, false },     { "help", 'h', false, NULL, false },
        { "resume", 'r', true, NULL, false },
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    const char *pos[1];
    size_t npos;
    int rc = cli_parse("search", argc, argv, opts, nopts, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    memset(a, 0, sizeof *a);
    *help = cli_opt(opts, nopts, "help")->seen;
    if (*help)
        return CLI_OK;
    cli_opt_t *o = cli_opt(opts, nopts, "resume");
    if (o->seen) {
        if (o->value[0] == '\0') {
            cli_error("search: --resume needs the output folder of the search");
            return CLI_USAGE;
        }
        if (npos || cli_opt(opts, nopts, "out")->seen || cli_opt(opts, nopts, "seed")->seen) {
            cli_error("search: --resume takes the experiment, folder and seed from %s/search.args: do not give "
                      "an experiment file, --out or --seed with it", o->value);
            return CLI_USAGE;
        }
        a->resume = o->value;
    } else if (npos != 1) {
        cli_error("search: missing the experiment file (usage: nas search EXPERIMENT.yaml [--out DIR])");
        return CLI_USAGE;
    } else {
        a->experiment = pos[0];
    }
    o = cli_opt(opts, nopts, "out");
    if (o->seen && o->value[0] == '\0') {
        cli_error("search: --out needs a folder name");
        return CLI_USAGE;
    }
    a->out = o->seen ? o->value : NULL;
    o = cli_opt(opts, nopts, "trials");
    if (o->seen && (rc = cli_parse_u64(o->value, "search: --trials", 1, UINT64_MAX, &a->trials)) != CLI_OK)
        return rc;
    o = cli_opt(opts, nopts, "seed");
    a->has_seed = o->seen;
    if (o->seen && (rc = cli_parse_u64(o->value, "search: --seed", 0, UINT64_MAX, &a->seed)) != CLI_OK)
        return rc;
    a->force = cli_opt(opts, nopts, "force")->seen;
    a->json = cli_opt(opts, nopts, "json")->seen;
    bool quiet = cli_opt(opts, nopts, "quiet")->seen, verbose = cli_opt(opts, nopts, "verbose")->seen;
    if (quiet && verbose) {
        cli_error("search: --quiet and --verbose exclude each other");
        return CLI_USAGE;
    }
    a->verbosity = quiet ? -1 : verbose ? 1 : 0;
    return CLI_OK;
}


/* FNV-1a of a file's bytes as 16 hex digits into hex[17]; false if unreadable. */
static bool file_hash(const char *path, char hex[17])
{
    size_t len;
    char *text = cli_read_file(path, 64u << 20, &len);
    if (!text)
        return false;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 0x100000001b3ull;
    free(text);
    snprintf(hex, 17, "%016" PRIx64, h);
    return true;
}

static bool text_cb(FILE *f, const void *text)
{
    return fputs(text, f) >= 0;
}

/* search.args: what a later --resume needs to rebuild the same search. */
int search_save_args(const search_args_t *a, const char *dir, uint64_t trials)
{
    char *abs = realpath(a->experiment, NULL);
    char hex[17];
    if (!abs || !file_hash(abs, hex)) {
        cli_error("cannot read '%s': %s", a->experiment, strerror(errno));
        free(abs);
        return CLI_FAIL;
    }
    if (strchr(abs, '\n')) {
        cli_error("search: the experiment's path has a newline in it; --resume could not read it back");
        free(abs);
        return CLI_FAIL;
    }
    size_t cap = strlen(abs) + 256;
    char *text = malloc(cap), *path = cli_join(dir, "search.args");
    int rc = CLI_FAIL;
    if (!text || !path) {
        cli_error("out of memory");
    } else {
        snprintf(text, cap, "# written by nas search, read by nas search --resume\nexperiment=%s\n"
                 "experiment_hash=%s\nhas_seed=%d\nseed=%" PRIu64 "\ntrials=%" PRIu64 "\n",
                 abs, hex, a->has_seed ? 1 : 0, a->seed, trials);
        rc = cli_write_file_atomic(path, text_cb, text);
    }
    free(path);
    free(text);
    free(abs);
    return rc;
}

/* Read DIR/search.args into a (experiment, seed, trials unless --trials was given). */
int search_load_args(search_args_t *a, const char *dir, bool force)
{
    char *path = cli_join(dir, "search.args");
    size_t len;
    char *text = path ? cli_read_file(path, 1u << 16, &len) : NULL;
    if (!text) {
        cli_error("search: cannot resume from '%s': no readable search.args there (is it the output folder of "
                  "a nas search?)", dir);
        free(path);
        return CLI_FAIL;
    }
    char hash[17] = "";
    bool have_exp = false, have_seed = false;
    int rc = CLI_OK;
    for (char *line = strtok(text, "\n"); line && rc == CLI_OK; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq)
            continue;
        *eq = '\0';
        const char *k = line, *v = eq + 1;
        uint64_t n;
        if (strcmp(k, "experiment") == 0) {
            free(a->experiment_buf);
            a->experiment_buf = strdup(v);
            a->experiment = a->experiment_buf;
            have_exp = a->experiment_buf != NULL;
        } else if (strcmp(k, "experiment_hash") == 0 && strlen(v) == 16) {
            memcpy(hash, v, 17);
        } else if (strcmp(k, "has_seed") == 0) {
            a->has_seed = strcmp(v, "1") == 0;
        } else if (strcmp(k, "seed") == 0) {
            rc = cli_parse_u64(v, "search.args: seed", 0, UINT64_MAX, &a->seed);
            have_seed = true;
        } else if (strcmp(k, "trials") == 0) {
            rc = cli_parse_u64(v, "search.args: trials", 0, UINT64_MAX, &n);
            if (rc == CLI_OK && !a->trials)
                a->trials = n;
        }
    }
    free(text);
    if (rc == CLI_OK && (!have_exp || !have_seed || !hash[0])) {
        cli_error("search: %s is incomplete (experiment, experiment_hash and seed are needed)", path);
        rc = CLI_FAIL;
    }
    char now[17];
    if (rc == CLI_OK && !file_hash(a->experiment, now)) {
        cli_error("search: cannot resume: the experiment file '%s' is not readable: %s", a->experiment,
                  strerror(errno));
        rc = CLI_FAIL;
    } else if (rc == CLI_OK && strcmp(now, hash) != 0 && !force) {
        cli_error("search: cannot resume: the experiment file '%s' changed since the search started (pass --force "
                  "to resume with it anyway)", a->experiment);
        rc = CLI_FAIL;
    }
    free(path);
    return rc;
}

