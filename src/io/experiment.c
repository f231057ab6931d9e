/* Experiment files (docs/experiments.md): a space, a searcher, an evaluator, a budget, a seed and an
 * output folder in one YAML file. Relative paths resolve against the experiment file's folder. */
#include "io/yaml_doc.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct nas_experiment {
    nas_context_t *ctx;
    nas_space_t *space;
    char *name, *searcher, *objectives, *constraints, *evaluator, *output;
    nas_params_t *searcher_params, *evaluator_params;
    uint64_t seed, max_trials;
    double max_seconds, max_cost, trial_seconds;
    bool isolate;
};

typedef struct loader {
    nas_context_t *ctx;
    const nas__ydoc_t *doc;
    const char *base;   /* folder relative paths resolve against; NULL: as given */
    nas_experiment_t *exp;
} loader_t;

static const char *const top_keys[] = { "name", "description", "space", "searcher", "evaluator", "budget", "seed",
                                        "output", NULL };
static const char *const searcher_keys[] = { "name", "params", "objectives", "constraints", NULL };
static const char *const evaluator_keys[] = { "name", "params", NULL };
static const char *const budget_keys[] = { "trials", "seconds", "cost", "trial_seconds", "isolate", NULL };

static nas_status_t nomem(const loader_t *L)
{
    return nas__ctx_fail(L->ctx, NAS_E_NOMEM, "%s: out of memory loading the experiment", L->doc->origin);
}

/* base/path, or path itself when it is absolute or there is no base. */
static char *resolve(nas_context_t *ctx, const char *base, const char *path)
{
    if (!base || !*base || path[0] == '/' || !*path)
        return nas__strdup(ctx, path);
    size_t nb = strlen(base), np = strlen(path);
    bool slash = base[nb - 1] == '/';
    char *r = nas__malloc(ctx, nb + np + 2);
    if (!r)
        return NULL;
    memcpy(r, base, nb);
    if (!slash)
        r[nb++] = '/';
    memcpy(r + nb, path, np + 1);
    return r;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Parameters whose values are paths (resolved like the space file). */
static bool is_path_key(const char *key)
{
    return strcmp(key, "path") == 0 || ends_with(key, "_path") || ends_with(key, "_file");
}

static nas_status_t set_string(const loader_t *L, char **dst, const char *value)
{
    char *s = nas__strdup(L->ctx, value);
    if (!s)
        return nomem(L);
    nas__free(L->ctx, *dst);
    *dst = s;
    return NAS_OK;
}

static nas_status_t read_params(const loader_t *L, const nas__ynode_t *node, const char *what, nas_params_t *params)
{
    const nas__ydoc_t *doc = L->doc;
    if (nas__ynode_is_null(node))
        return NAS_OK;   /* "params:" with nothing after it */
    nas_status_t st = nas__yexpect_map(doc, node, what);
    if (st != NAS_OK)
        return st;
    for (uint32_t i = 0; i + 1 < node->n; i += 2) {
        const nas__ynode_t *k = node->items[i], *v = node->items[i + 1];
        if (!nas__valid_key(k->text))
            return nas__yfail(doc, k, NAS_E_SPEC, "parameter name '%.64s' must match [A-Za-z0-9_.-]+", k->text);
        if (v->kind != NAS__Y_SCALAR || nas__ynode_is_null(v))
            return nas__yfail(doc, v, NAS_E_SPEC, "parameter '%s' needs a single value (a number or a word)",
                              k->text);
        char *resolved = NULL;
        const char *value = v->text;
        if (is_path_key(k->text)) {
            if (!(resolved = resolve(L->ctx, L->base, v->text)))
                return nomem(L);
            value = resolved;
        }
        st = nas_params_set(params, k->text, value);
        nas__free(L->ctx, resolved);
        if (st == NAS_E_NOMEM)
            return nomem(L);
        if (st != NAS_OK)
            return nas__yfail(doc, k, st, "parameter '%s': %s", k->text, nas_params_errmsg(params));
    }
    return NAS_OK;
}

/* "name" of a searcher or evaluator: a scalar shorthand or the name key of the section. */
static nas_status_t read_component_name(const loader_t *L, const nas__ynode_t *node, const char *what, char **dst)
{
    const char *name;
    nas_status_t st = nas__yread_str(L->doc, node, what, &name);
    if (st != NAS_OK)
        return st;
    if (!nas__valid_name(name))
        return nas__yfail(L->doc, node, NAS_E_SPEC, "%s '%.64s' must match [a-z0-9_-]+", what, name);
    return set_string(L, dst, name);
}

/* A string, or a list of strings joined with commas, into *dst (objectives, constraints). */
static nas_status_t read_joined(const loader_t *L, const nas__ynode_t *node, const char *what, char **dst)
{
    const nas__ydoc_t *doc = L->doc;
    nas_status_t st;
    const char *s;
    if (node->kind != NAS__Y_SEQ) {
        if ((st = nas__yread_str(doc, node, what, &s)) != NAS_OK)
            return st;
        if (!*s)
            return nas__yfail(doc, node, NAS_E_SPEC, "%s is empty", what);
        return set_string(L, dst, s);
    }
    if (node->n == 0)
        return nas__yfail(doc, node, NAS_E_SPEC, "%s is an empty list", what);
    nas__sb_t sb;
    nas__sb_init(&sb, L->ctx);
    for (uint32_t i = 0; i < node->n; i++) {
        if ((st = nas__yread_str(doc, node->items[i], what, &s)) != NAS_OK) {
            nas__sb_free(&sb);
            return st;
        }
        if (i)
            nas__sb_putc(&sb, ',');
        nas__sb_puts(&sb, s);
    }
    if (sb.failed) {
        nas__sb_free(&sb);
        return nomem(L);
    }
    nas__free(L->ctx, *dst);
    *dst = sb.data;
    return NAS_OK;
}

static nas_status_t read_searcher(const loader_t *L, const nas__ynode_t *node)
{
    const nas__ydoc_t *doc = L->doc;
    if (node->kind == NAS__Y_SCALAR)
        return read_component_name(L, node, "searcher", &L->exp->searcher);
    nas_status_t st;
    if ((st = nas__yexpect_map(doc, node, "searcher")) != NAS_OK ||
        (st = nas__ycheck_keys(doc, node, "searcher", searcher_keys)) != NAS_OK)
        return st;
    const nas__ynode_t *v;
    v = nas__ymap_get(node, "name", NULL);
    if (v && (st = read_component_name(L, v, "searcher.name", &L->exp->searcher)) != NAS_OK)
        return st;
    if ((v = nas__ymap_get(node, "objectives", NULL)) &&
        (st = read_joined(L, v, "searcher.objectives", &L->exp->objectives)) != NAS_OK)
        return st;
    if ((v = nas__ymap_get(node, "constraints", NULL)) &&
        (st = read_joined(L, v, "searcher.constraints", &L->exp->constraints)) != NAS_OK)
        return st;
    if ((v = nas__ymap_get(node, "params", NULL)))
        return read_params(L, v, "searcher.params", L->exp->searcher_params);
    return NAS_OK;
}

static nas_status_t read_evaluator(const loader_t *L, const nas__ynode_t *node)
{
    const nas__ydoc_t *doc = L->doc;
    if (node->kind == NAS__Y_SCALAR)
        return read_component_name(L, node, "evaluator", &L->exp->evaluator);
    nas_status_t st;
    if ((st = nas__yexpect_map(doc, node, "evaluator")) != NAS_OK ||
        (st = nas__ycheck_keys(doc, node, "evaluator", evaluator_keys)) != NAS_OK)
        return st;
    const nas__ynode_t *v;
    v = nas__ymap_get(node, "name", NULL);
    if (v && (st = read_component_name(L, v, "evaluator.name", &L->exp->evaluator)) != NAS_OK)
        return st;
    if ((v = nas__ymap_get(node, "params", NULL)))
        return read_params(L, v, "evaluator.params", L->exp->evaluator_params);
    return NAS_OK;
}

static nas_status_t read_budget(const loader_t *L, const nas__ynode_t *node)
{
    const nas__ydoc_t *doc = L->doc;
    nas_status_t st;
    if ((st = nas__yexpect_map(doc, node, "budget")) != NAS_OK ||
        (st = nas__ycheck_keys(doc, node, "budget", budget_keys)) != NAS_OK)
        return st;
    const nas__ynode_t *v;
    v = nas__ymap_get(node, "trials", NULL);
    if (v && (st = nas__yread_u64(doc, v, "budget.trials", &L->exp->max_trials)) != NAS_OK)
        return st;
    if ((v = nas__ymap_get(node, "isolate", NULL)) && (st = nas__yread_bool(doc, v, "budget.isolate",
                                                                            &L->exp->isolate)) != NAS_OK)
        return st;
    static const char *const reals[] = { "seconds", "cost", "trial_seconds" };
    double *dst[] = { &L->exp->max_seconds, &L->exp->max_cost, &L->exp->trial_seconds };
    for (int i = 0; i < 3; i++) {
        if (!(v = nas__ymap_get(node, reals[i], NULL)))
            continue;
        char what[32];
        snprintf(what, sizeof what, "budget.%s", reals[i]);
        if ((st = nas__yread_double(doc, v, what, dst[i])) != NAS_OK)
            return st;
        if (*dst[i] < 0)
            return nas__yfail(doc, v, NAS_E_SPEC, "%s must be >= 0 (0: unlimited)", what);
    }
    return NAS_OK;
}

static nas_status_t read_space(const loader_t *L, const nas__ynode_t *node)
{
    const nas__ydoc_t *doc = L->doc;
    if (node->kind == NAS__Y_MAP)
        return nas__space_from_yaml(&L->exp->space, L->ctx, doc, node, "space");
    const char *rel;
    nas_status_t st = nas__yread_str(doc, node, "space (a file path or an inline mapping)", &rel);
    if (st != NAS_OK)
        return st;
    char *path = resolve(L->ctx, L->base, rel);
    if (!path)
        return nomem(L);
    st = nas_space_load_file(&L->exp->space, L->ctx, path);
    nas__free(L->ctx, path);
    if (st == NAS_E_IO || (st == NAS_E_RANGE && !L->exp->space)) {
        /* The space file itself is missing or too big: say which line asked for it. */
        char msg[NAS_ERRMSG_CAP];
        snprintf(msg, sizeof msg, "%s", nas_context_errmsg(L->ctx));
        return nas__yfail(doc, node, st, "space file: %s", msg);
    }
    return st;
}

static nas_status_t load(const loader_t *L, const nas__ynode_t *root)
{
    const nas__ydoc_t *doc = L->doc;
    nas_experiment_t *exp = L->exp;
    nas_status_t st;
    if (!root)
        return nas__yfail(doc, NULL, NAS_E_SPEC, "the experiment file is empty");
    if ((st = nas__yexpect_map(doc, root, "an experiment")) != NAS_OK ||
        (st = nas__ycheck_keys(doc, root, "an experiment", top_keys)) != NAS_OK)
        return st;
    const nas__ynode_t *v;
    const char *s;
    if ((v = nas__ymap_get(root, "name", NULL))) {
        if ((st = nas__yread_str(doc, v, "name", &s)) != NAS_OK || (st = set_string(L, &exp->name, s)) != NAS_OK)
            return st;
    }
    if ((v = nas__ymap_get(root, "description", NULL)) && (st = nas__yread_str(doc, v, "description", &s)) != NAS_OK)
        return st;
    if ((v = nas__ymap_get(root, "searcher", NULL)) && (st = read_searcher(L, v)) != NAS_OK)
        return st;
    if ((v = nas__ymap_get(root, "evaluator", NULL)) && (st = read_evaluator(L, v)) != NAS_OK)
        return st;
    if ((v = nas__ymap_get(root, "budget", NULL)) && (st = read_budget(L, v)) != NAS_OK)
        return st;
    if ((v = nas__ymap_get(root, "seed", NULL)) && (st = nas__yread_u64(doc, v, "seed", &exp->seed)) != NAS_OK)
        return st;
    if ((v = nas__ymap_get(root, "output", NULL))) {
        if ((st = nas__yread_str(doc, v, "output", &s)) != NAS_OK)
            return st;
        char *r = resolve(L->ctx, L->base, s);
        if (!r)
            return nomem(L);
        nas__free(L->ctx, exp->output);
        exp->output = r;
    }
    /* The space last: its messages come from another file, and everything else is checked by then. */
    if (!(v = nas__ymap_get(root, "space", NULL)) || nas__ynode_is_null(v))
        return nas__yfail(doc, v ? v : root, NAS_E_SPEC,
                          "an experiment needs a 'space': a space file path or an inline space mapping");
    return read_space(L, v);
}

static nas_status_t from_doc(nas_experiment_t **out, nas_context_t *ctx, const nas__ydoc_t *doc, const char *base)
{
    nas_experiment_t *exp = nas__calloc(ctx, 1, sizeof *exp);
    if (!exp)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "%s: out of memory loading the experiment", doc->origin);
    exp->ctx = ctx;
    loader_t L = { ctx, doc, base, exp };
    nas_status_t st;
    if (!(exp->name = nas__strdup(ctx, "")) || !(exp->searcher = nas__strdup(ctx, "random")) ||
        !(exp->objectives = nas__strdup(ctx, "accuracy:max")) || !(exp->constraints = nas__strdup(ctx, "")) || !(exp->evaluator = nas__strdup(ctx, "table")) ||
        !(exp->output = nas__strdup(ctx, ""))) {
        st = nomem(&L);
        goto out_destroy;
    }
    if ((st = nas_params_create(&exp->searcher_params, ctx)) != NAS_OK ||
        (st = nas_params_create(&exp->evaluator_params, ctx)) != NAS_OK) {
        if (st == NAS_E_NOMEM)
            st = nomem(&L);
        goto out_destroy;
    }
    if ((st = load(&L, doc->root)) != NAS_OK)
        goto out_destroy;
    *out = exp;
    return NAS_OK;

out_destroy:
    nas_experiment_destroy(exp);
    return st;
}

nas_status_t nas_experiment_load_string(nas_experiment_t **out, nas_context_t *ctx, const char *yaml, size_t len,
                                        const char *base_dir)
{
    if (!out)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_experiment_load_string: out is NULL");
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    if (!yaml)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_experiment_load_string: yaml is NULL");
    if (len > NAS_SPACE_MAX_FILE_BYTES)
        return nas__ctx_fail(ctx, NAS_E_RANGE, "<string>: %zu bytes of YAML, over the limit of %u", len,
                             NAS_SPACE_MAX_FILE_BYTES);
    nas__ydoc_t *doc;
    nas_status_t st = nas__ydoc_parse(&doc, ctx, yaml, len, "<string>");
    if (st != NAS_OK)
        return st;
    st = from_doc(out, ctx, doc, base_dir);
    nas__ydoc_free(doc);
    return st;
}

nas_status_t nas_experiment_load_file(nas_experiment_t **out, nas_context_t *ctx, const char *path)
{
    if (!out)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_experiment_load_file: out is NULL");
    *out = NULL;
    if (!ctx)
        return NAS_E_INVAL;
    if (!path)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_experiment_load_file: path is NULL");
    /* The folder of the file: everything before the last '/', "/" for a file at the root. */
    const char *slash = strrchr(path, '/');
    char *base = NULL;
    if (slash && !(base = nas__strndup(ctx, path, slash == path ? 1 : (size_t)(slash - path))))
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "%s: out of memory loading the experiment", path);
    nas__ydoc_t *doc;
    nas_status_t st = nas__ydoc_load_file(&doc, ctx, path, NAS_SPACE_MAX_FILE_BYTES);
    if (st == NAS_OK) {
        st = from_doc(out, ctx, doc, base);
        nas__ydoc_free(doc);
    }
    nas__free(ctx, base);
    return st;
}

void nas_experiment_destroy(nas_experiment_t *exp)
{
    if (!exp)
        return;
    nas_context_t *ctx = exp->ctx;
    nas_space_destroy(exp->space);
    nas_params_destroy(exp->searcher_params);
    nas_params_destroy(exp->evaluator_params);
    nas__free(ctx, exp->name);
    nas__free(ctx, exp->searcher);
    nas__free(ctx, exp->objectives);
    nas__free(ctx, exp->constraints);
    nas__free(ctx, exp->evaluator);
    nas__free(ctx, exp->output);
    nas__free(ctx, exp);
}

nas_space_t *nas_experiment_space(const nas_experiment_t *exp)
{
    return exp ? exp->space : NULL;
}

const char *nas_experiment_name(const nas_experiment_t *exp)
{
    return exp ? exp->name : "";
}

const char *nas_experiment_searcher(const nas_experiment_t *exp)
{
    return exp ? exp->searcher : "random";
}

const nas_params_t *nas_experiment_searcher_params(const nas_experiment_t *exp)
{
    return exp ? exp->searcher_params : NULL;
}

const char *nas_experiment_objectives(const nas_experiment_t *exp)
{
    return exp ? exp->objectives : "accuracy:max";
}

const char *nas_experiment_constraints(const nas_experiment_t *exp)
{
    return exp ? exp->constraints : "";
}

const char *nas_experiment_evaluator(const nas_experiment_t *exp)
{
    return exp ? exp->evaluator : "table";
}

const nas_params_t *nas_experiment_evaluator_params(const nas_experiment_t *exp)
{
    return exp ? exp->evaluator_params : NULL;
}

uint64_t nas_experiment_seed(const nas_experiment_t *exp)
{
    return exp ? exp->seed : 0;
}

const char *nas_experiment_output_dir(const nas_experiment_t *exp)
{
    return exp ? exp->output : "";
}

nas_status_t nas_experiment_budget(const nas_experiment_t *exp, nas_run_opts_t *opts)
{
    if (!exp || !opts || opts->struct_size < sizeof(size_t))
        return NAS_E_INVAL;
    /* Only the members the caller's struct covers. */
    size_t n = opts->struct_size;
    if (n >= offsetof(nas_run_opts_t, max_trials) + sizeof opts->max_trials)
        opts->max_trials = exp->max_trials;
    if (n >= offsetof(nas_run_opts_t, max_seconds) + sizeof opts->max_seconds)
        opts->max_seconds = exp->max_seconds;
    if (n >= offsetof(nas_run_opts_t, max_cost) + sizeof opts->max_cost)
        opts->max_cost = exp->max_cost;
    if (n >= offsetof(nas_run_opts_t, isolate) + sizeof opts->isolate)
        opts->isolate = exp->isolate;
    if (n >= offsetof(nas_run_opts_t, trial_timeout) + sizeof opts->trial_timeout)
        opts->trial_timeout = exp->trial_seconds;
    return NAS_OK;
}
