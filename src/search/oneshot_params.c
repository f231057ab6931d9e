/* The parameters every one-shot strategy shares (nas__oneshot_params). */
#include "search/oneshot.h"

#include "search/search_internal.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Parameters                                                              */

static nas_status_t bad_param(nas_searcher_t *self, const char *key, const char *why)
{
    char msg[256];
    snprintf(msg, sizeof msg, "parameter '%s': %s", key, why);
    nas_searcher_set_errmsg(self, msg);
    return NAS_E_INVAL;
}

/* A real parameter in [lo, hi]. */
static nas_status_t real(nas_searcher_t *self, const nas_params_t *p, const char *key, double lo, double hi,
                         double *v)
{
    nas_status_t st = nas_params_get_double(p, key, *v, v);
    if (st != NAS_OK) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(p));
        return st;
    }
    if (!(*v >= lo && *v <= hi)) {
        char why[128];
        snprintf(why, sizeof why, "%g is outside [%g, %g]", *v, lo, hi);
        return bad_param(self, key, why);
    }
    return NAS_OK;
}

static nas_status_t count(nas_searcher_t *self, const nas_params_t *p, const char *key, int64_t lo, int64_t hi,
                          int64_t *v)
{
    nas_status_t st = nas_params_get_int(p, key, *v, v);
    if (st != NAS_OK) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(p));
        return st;
    }
    if (*v < lo || *v > hi) {
        char why[128];
        snprintf(why, sizeof why, "%lld is outside [%lld, %lld]", (long long)*v, (long long)lo, (long long)hi);
        return bad_param(self, key, why);
    }
    return NAS_OK;
}

nas_status_t nas__oneshot_refuse_arch_params(nas_searcher_t *self, const nas_params_t *params, const char *strategy)
{
    static const char *const keys[] = { "arch_lr", "arch_wd", "alpha_init_std", "max_skip", "keep_none" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = NULL;
        if (nas_params_get_string(params, keys[i], &v) == NAS_OK) {
            char why[160];
            snprintf(why, sizeof why, "does not apply: %s learns no architecture weights", strategy);
            return bad_param(self, keys[i], why);
        }
    }
    return NAS_OK;
}

nas_status_t nas__oneshot_params(nas_searcher_t *self, const nas_params_t *params, nas__oneshot_cfg_t *cfg,
                                 char **alphas_path)
{
    *alphas_path = NULL;
    int64_t epochs = cfg->epochs, batch = cfg->batch_size;
    int64_t max_skip = cfg->max_skip == UINT32_MAX ? -1 : (int64_t)cfg->max_skip;
    nas_status_t st;
    if ((st = count(self, params, "epochs", 1, 100000, &epochs)) != NAS_OK ||
        (st = count(self, params, "batch_size", 0, 1 << 16, &batch)) != NAS_OK ||
        (st = count(self, params, "max_skip", -1, 1 << 20, &max_skip)) != NAS_OK ||
        (st = real(self, params, "w_lr", 1e-12, 100.0, &cfg->w_lr)) != NAS_OK ||
        (st = real(self, params, "w_lr_min", 0.0, cfg->w_lr, &cfg->w_lr_min)) != NAS_OK ||
        (st = real(self, params, "w_momentum", 0.0, 0.999999, &cfg->w_momentum)) != NAS_OK ||
        (st = real(self, params, "w_wd", 0.0, 1.0, &cfg->w_wd)) != NAS_OK ||
        (st = real(self, params, "grad_clip", 0.0, 1e12, &cfg->w_clip)) != NAS_OK ||
        (st = real(self, params, "arch_lr", 1e-12, 100.0, &cfg->arch_lr)) != NAS_OK ||
        (st = real(self, params, "arch_wd", 0.0, 1.0, &cfg->arch_wd)) != NAS_OK ||
        (st = real(self, params, "alpha_init_std", 0.0, 10.0, &cfg->alpha_init_std)) != NAS_OK ||
        (st = real(self, params, "retrain_epochs", 0.0, 1e6, &cfg->retrain_epochs)) != NAS_OK)
        return st;
    cfg->epochs = (uint32_t)epochs;
    cfg->batch_size = (uint32_t)batch;
    cfg->max_skip = max_skip < 0 ? UINT32_MAX : (uint32_t)max_skip;
    if ((st = nas_params_get_bool(params, "keep_none", cfg->keep_none, &cfg->keep_none)) != NAS_OK ||
        (st = nas_params_get_bool(params, "finetune", cfg->finetune, &cfg->finetune)) != NAS_OK) {
        nas_searcher_set_errmsg(self, nas_params_errmsg(params));
        return st;
    }
    const char *paths[2] = { NULL, NULL };
    static const char *const keys[2] = { "alphas_path", "derived_path" };
    size_t len = 0;
    for (int i = 0; i < 2; i++) {
        st = nas_params_get_string(params, keys[i], &paths[i]);
        if (st == NAS_E_NOT_FOUND) {
            paths[i] = NULL;
            continue;
        }
        if (st != NAS_OK) {
            nas_searcher_set_errmsg(self, nas_params_errmsg(params));
            return st;
        }
        if (!paths[i][0])
            return bad_param(self, keys[i], "empty path");
        len += strlen(paths[i]) + 1;
    }
    cfg->alphas_path = cfg->derived_path = NULL;
    if (len == 0)
        return NAS_OK;
    char *block = nas__malloc(nas_searcher_context(self), len);
    if (!block)
        return NAS_E_NOMEM;
    *alphas_path = block;
    for (int i = 0; i < 2; i++) {
        if (!paths[i])
            continue;
        size_t n = strlen(paths[i]) + 1;
        memcpy(block, paths[i], n);
        *(i == 0 ? &cfg->alphas_path : &cfg->derived_path) = block;
        block += n;
    }
    return NAS_OK;
}
