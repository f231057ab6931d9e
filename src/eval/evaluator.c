/* The evaluator handle: registry lookup, parameter check, candidate checks around the vtable. */
#include "search/search_internal.h"
#include "eval/eval_internal.h"

#include <stdio.h>
#include <string.h>

struct nas_evaluator {
    nas_context_t *ctx;
    nas_space_t *space;
    nas_evaluator_vtable_t vt;   /* copy of the registry entry (the registry may move) */
    char *name;
    void *state;
    bool created;                /* vt.create succeeded: destroy is owed */
    char errmsg[NAS_ERRMSG_CAP];
};

static void free_evaluator(nas_evaluator_t *ev)
{
    nas__free(ev->ctx, ev->name);
    nas__free(ev->ctx, ev);
}

nas_status_t nas_evaluator_create(nas_evaluator_t **out, nas_space_t *space, const char *name,
                                  const nas_params_t *params)
{
    if (!out)
        return space ? nas__ctx_fail(nas__space_context(space), NAS_E_INVAL, "nas_evaluator_create: out is NULL") : NAS_E_INVAL;
    *out = NULL;
    if (!space)
        return NAS_E_INVAL;
    nas_context_t *ctx = nas__space_context(space);
    if (!nas__space_is_built(space))
        return nas__ctx_fail(ctx, NAS_E_STATE, "nas_evaluator_create: the space is not built");
    if (!name)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "nas_evaluator_create: name is NULL");
    const struct nas__evaluator_entry *e = nas__find_evaluator(ctx, name);
    if (!e)
        return nas__ctx_fail(ctx, NAS_E_NOT_FOUND, "no evaluator named '%s' is registered", name);

    nas_evaluator_t *ev = nas__calloc(ctx, 1, sizeof *ev);
    if (!ev)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating evaluator '%s'", name);
    ev->ctx = ctx;
    ev->space = space;
    ev->vt = e->vt;
    nas_status_t st;
    if (!(ev->name = nas__strdup(ctx, e->name))) {
        st = nas__ctx_fail(ctx, NAS_E_NOMEM, "out of memory creating evaluator '%s'", name);
        goto out_free;
    }
    ev->vt.name = ev->name;
    ev->vt.description = NULL;   /* owned by the registry; not needed here */

    nas__params_reset_used(params);
    void *state = NULL;
    st = ev->vt.create(ev, params, &state);
    ev->state = state;
    if (st != NAS_OK) {
        if (ev->errmsg[0])
            nas__ctx_fail(ctx, st, "evaluator '%s': %s", ev->name, ev->errmsg);
        else
            nas__ctx_fail(ctx, st, "evaluator '%s': create failed (%s)", ev->name, nas_status_str(st));
        goto out_destroy_state;
    }
    ev->created = true;
    char who[160];
    snprintf(who, sizeof who, "evaluator '%s'", ev->name);
    if ((st = nas__params_check_unused(params, ctx->errmsg, who)) != NAS_OK)
        goto out_destroy_state;
    *out = ev;
    return NAS_OK;

out_destroy_state:
    if (ev->created || ev->state)
        ev->vt.destroy(ev->state);
out_free:
    free_evaluator(ev);
    return st;
}

void nas_evaluator_destroy(nas_evaluator_t *ev)
{
    if (!ev)
        return;
    if (ev->created)
        ev->vt.destroy(ev->state);
    free_evaluator(ev);
}

const char *nas_evaluator_errmsg(const nas_evaluator_t *ev)
{
    return ev ? ev->errmsg : "";
}

const char *nas_evaluator_name(const nas_evaluator_t *ev)
{
    return ev ? ev->name : "";
}

nas_status_t nas_evaluator_evaluate(nas_evaluator_t *ev, const nas_candidate_t *cand, nas_result_t *res)
{
    if (!ev)
        return NAS_E_INVAL;
    if (!cand || cand->struct_size < sizeof *cand)
        return nas__fail(ev->errmsg, NAS_E_INVAL, "nas_evaluator_evaluate: NULL candidate or struct_size too small "
                         "(use NAS_CANDIDATE_INIT)");
    if (!cand->arch || nas_arch_space(cand->arch) != ev->space)
        return nas__fail(ev->errmsg, NAS_E_INVAL, "nas_evaluator_evaluate: the candidate's arch is NULL or belongs "
                         "to another space");
    if (!res)
        return nas__fail(ev->errmsg, NAS_E_INVAL, "nas_evaluator_evaluate: result is NULL");
    nas_result_clear(res);
    ev->errmsg[0] = '\0';
    nas_status_t st = ev->vt.evaluate(ev, ev->state, cand, res);
    if (st != NAS_OK && !ev->errmsg[0])
        nas__fail(ev->errmsg, st, "evaluator '%s': evaluate failed (%s)", ev->name, nas_status_str(st));
    return st;
}

nas_space_t *nas_evaluator_space(const nas_evaluator_t *ev)
{
    return ev ? ev->space : NULL;
}

void nas_evaluator_set_errmsg(nas_evaluator_t *ev, const char *message)
{
    if (ev)
        nas__fail(ev->errmsg, NAS_OK, "%s", message ? message : "");
}

void *nas_evaluator_user_data(const nas_evaluator_t *ev)
{
    return ev ? ev->vt.user_data : NULL;
}

nas_context_t *nas__evaluator_context(const nas_evaluator_t *ev)
{
    return ev->ctx;
}

nas_context_t *nas_evaluator_context(const nas_evaluator_t *ev)
{
    return ev ? ev->ctx : NULL;
}

void *nas__evaluator_state(const nas_evaluator_t *ev)
{
    return ev ? ev->state : NULL;
}
