/* Data sets registered on a context by name, for evaluators that read `dataset: NAME`. */
#include "data/dataset.h"

#include <string.h>

#define KIND "dataset"

/* What the context holds for one name: views of the caller's data sets. */
typedef struct registered {
    nas_dataset_t *train, *test;
} registered_t;

static void release(nas_context_t *ctx, void *object)
{
    registered_t *r = object;
    nas_dataset_destroy(r->train);
    nas_dataset_destroy(r->test);
    nas__free(ctx, r);
}

/* A view of every sample of ds (a new reference to its storage). */
static nas_status_t view_all(nas_context_t *ctx, const nas_dataset_t *ds, const char *what, nas_dataset_t **out)
{
    nas_status_t st = nas_dataset_subset(ds, 0, nas_dataset_num_samples(ds), out);
    if (st != NAS_OK)
        return nas__ctx_fail(ctx, st, "add_dataset: %s: %s", what, nas_dataset_errmsg(ds));
    return NAS_OK;
}

nas_status_t nas_context_add_dataset(nas_context_t *ctx, const char *name, const nas_dataset_t *train,
                                     const nas_dataset_t *test)
{
    if (!ctx)
        return NAS_E_INVAL;
    if (!train)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "add_dataset: the training data set is NULL");
    if (!nas__valid_name(name))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "add_dataset: name '%s' is not of the form [a-z0-9_-]+ (at most 128)",
                             name ? name : "(null)");
    if (strcmp(name, "fashion-mnist") == 0)
        return nas__ctx_fail(ctx, NAS_E_INVAL, "add_dataset: the name 'fashion-mnist' is reserved for the files");
    if (train->ctx != ctx || (test && test->ctx != ctx))
        return nas__ctx_fail(ctx, NAS_E_INVAL, "add_dataset: the data sets belong to another context");
    if (test) {
        if (test->store->c != train->store->c || test->store->h != train->store->h ||
            test->store->w != train->store->w)
            return nas__ctx_fail(ctx, NAS_E_INVAL,
                                 "add_dataset: test samples are %ux%ux%u, training samples %ux%ux%u",
                                 (unsigned)test->store->c, (unsigned)test->store->h, (unsigned)test->store->w,
                                 (unsigned)train->store->c, (unsigned)train->store->h, (unsigned)train->store->w);
        if (test->store->num_classes > train->store->num_classes)
            return nas__ctx_fail(ctx, NAS_E_INVAL, "add_dataset: the test set has %u classes, the training set %u",
                                 (unsigned)test->store->num_classes, (unsigned)train->store->num_classes);
    }
    if (nas__ctx_attached(ctx, KIND, name))
        return nas__ctx_fail(ctx, NAS_E_EXISTS, "add_dataset: a data set named '%s' is already registered", name);
    registered_t *r = nas__calloc(ctx, 1, sizeof *r);
    if (!r)
        return nas__ctx_fail(ctx, NAS_E_NOMEM, "add_dataset: out of memory");
    nas_status_t st = view_all(ctx, train, "training set", &r->train);
    if (st == NAS_OK && test)
        st = view_all(ctx, test, "test set", &r->test);
    if (st == NAS_OK)
        st = nas__ctx_attach(ctx, KIND, name, r, release);
    if (st != NAS_OK)
        release(ctx, r);
    return st;
}

bool nas__dataset_registered(const nas_context_t *ctx, const char *name, const nas_dataset_t **train,
                             const nas_dataset_t **test)
{
    const registered_t *r = nas__ctx_attached(ctx, KIND, name);
    if (!r)
        return false;
    *train = r->train;
    *test = r->test;
    return true;
}
