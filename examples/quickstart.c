/*
 * Search a small cell space on Fashion-MNIST with regularized evolution, every candidate trained for
 * real (oneDNN, CPU) on a few thousand images; then train the best one a little longer and save it.
 * Run it from the source root: quickstart [TRIALS [MODEL_PATH]] (defaults: 8, quickstart.nasmodel).
 */
#include <libnas/nas.h>
#include <stdio.h>
#include <stdlib.h>

#define SPACE_PATH "spaces/fmnist-nb201.yaml"
#define DATA_DIR "/usr/share/datasets/fashion-mnist"

static int fail(const char *what, nas_status_t st, const char *msg)
{
    fprintf(stderr, "quickstart: %s: %s\n", what, msg && *msg ? msg : nas_status_str(st));
    return 1;
}

/* 0 unless s is a positive decimal integer. */
static unsigned long parse_count(const char *s)
{
    char *end;
    unsigned long v = s[0] >= '0' && s[0] <= '9' ? strtoul(s, &end, 10) : 0;
    return v && !*end ? v : 0;
}

int main(int argc, char **argv)
{
    /* Every candidate: one epoch on 1500 images, scored on 500 others (a cheap proxy of the real task). */
    static const char *const train_params[][2] = {
        { "data_dir", DATA_DIR }, { "max_samples", "2000" }, { "val_fraction", "0.25" },
        { "epochs", "1" },        { "batch_size", "64" },    { "lr", "0.1" },
        { "stem_stride", "2" },   { "latency", "false" },
    };
    unsigned long trials = argc > 1 ? parse_count(argv[1]) : 8;
    const char *model_path = argc > 2 ? argv[2] : "quickstart.nasmodel";
    if (argc > 3 || trials == 0) {
        fprintf(stderr, "usage: quickstart [TRIALS [MODEL_PATH]]  (TRIALS a positive integer)\n");
        return 2;
    }

    nas_context_t *ctx = NULL;
    nas_space_t *space = NULL;
    nas_params_t *eparams = NULL, *sparams = NULL;
    nas_evaluator_t *ev = NULL;
    nas_searcher_t *searcher = NULL;
    nas_run_t *run = NULL;
    nas_arch_t *best = NULL;
    nas_dataset_t *all = NULL, *train = NULL;
    nas_model_t *model = NULL;
    int rc = 1;
    nas_status_t st;

    if ((st = nas_context_create(&ctx, NULL)) != NAS_OK)
        return fail("context", st, NULL);
    /* The space keeps its YAML text, and models made from it embed it: the saved file loads on its own. */
    if ((st = nas_space_load_file(&space, ctx, SPACE_PATH)) != NAS_OK) {
        fail("space (run from the source root)", st, nas_context_errmsg(ctx));
        goto out;
    }

    /* The search: the "train" evaluator and regularized evolution (population 4, tournaments of 2). */
    if ((st = nas_params_create(&eparams, ctx)) != NAS_OK || (st = nas_params_create(&sparams, ctx)) != NAS_OK) {
        fail("params", st, NULL);
        goto out;
    }
    for (size_t i = 0; i < sizeof train_params / sizeof train_params[0]; i++)
        if ((st = nas_params_set(eparams, train_params[i][0], train_params[i][1])) != NAS_OK) {
            fail("params", st, nas_params_errmsg(eparams));
            goto out;
        }
    if ((st = nas_params_set(sparams, "population", "4")) != NAS_OK ||
        (st = nas_params_set(sparams, "sample", "2")) != NAS_OK) {
        fail("params", st, nas_params_errmsg(sparams));
        goto out;
    }
    if ((st = nas_evaluator_create(&ev, space, "train", eparams)) != NAS_OK) {
        fail("train evaluator", st, nas_context_errmsg(ctx));
        goto out;
    }
    nas_searcher_opts_t sopts = NAS_SEARCHER_OPTS_INIT;
    sopts.seed = 1;
    sopts.objectives = "accuracy:max";
    if ((st = nas_searcher_create(&searcher, space, "evolution", sparams, &sopts)) != NAS_OK) {
        fail("searcher", st, nas_context_errmsg(ctx));
        goto out;
    }
    nas_run_opts_t ropts = NAS_RUN_OPTS_INIT;
    ropts.max_trials = trials;
    if ((st = nas_run_create(&run, searcher, ev, &ropts)) != NAS_OK) {
        fail("run", st, nas_context_errmsg(ctx));
        goto out;
    }
    if ((st = nas_run_execute(run)) != NAS_OK) {
        fail("search", st, nas_run_errmsg(run));
        goto out;
    }
    uint64_t index, trial;
    const char *arch;
    const nas_result_t *res;
    double acc, params;
    if ((st = nas_run_best(run, &index)) != NAS_OK || (st = nas_run_trial(run, index, &trial, &arch, &res)) != NAS_OK ||
        (st = nas_result_get_metric(res, "accuracy", &acc)) != NAS_OK ||
        (st = nas_result_get_metric(res, "params", &params)) != NAS_OK) {
        fail("best trial", st, nas_run_errmsg(run));
        goto out;
    }
    printf("searched %llu trials\n", (unsigned long long)nas_run_num_trials(run));
    printf("best: trial %llu, accuracy %.2f%%, %.0f params\n%s\n", (unsigned long long)trial, acc, params, arch);

    /* Train the best architecture for one epoch on 6000 images, then save it. */
    if ((st = nas_arch_create(&best, space)) != NAS_OK || (st = nas_arch_from_string(best, arch)) != NAS_OK) {
        fail("best arch", st, nas_space_errmsg(space));
        goto out;
    }
    if ((st = nas_dataset_load_idx(&all, ctx, DATA_DIR "/train-images-idx3-ubyte.gz",
                                   DATA_DIR "/train-labels-idx1-ubyte.gz")) != NAS_OK) {
        fail("data", st, nas_context_errmsg(ctx));
        goto out;
    }
    float mean, std;   /* one channel; the model keeps the normalization it was trained with */
    if ((st = nas_dataset_subset(all, 0, 6000, &train)) != NAS_OK ||
        (st = nas_dataset_compute_stats(train, &mean, &std, 1)) != NAS_OK ||
        (st = nas_dataset_set_normalization(train, &mean, &std, 1)) != NAS_OK) {
        fail("data", st, train ? nas_dataset_errmsg(train) : nas_dataset_errmsg(all));
        goto out;
    }
    nas_model_opts_t mopts = NAS_MODEL_OPTS_INIT;
    mopts.dataset = train;
    mopts.stem_stride = 2;   /* the network the search trained */
    if ((st = nas_model_create(&model, best, &mopts)) != NAS_OK) {
        fail("model", st, nas_context_errmsg(ctx));
        goto out;
    }
    nas_train_opts_t topts = NAS_TRAIN_OPTS_INIT;
    topts.batch_size = 64;
    topts.lr = 0.1;
    nas_train_result_t tres = { .struct_size = sizeof tres };
    if ((st = nas_model_train(model, train, &topts, &tres)) != NAS_OK) {
        fail("training", st, nas_model_errmsg(model));
        goto out;
    }
    if ((st = nas_model_save(model, model_path)) != NAS_OK) {
        fail("save", st, nas_model_errmsg(model));
        goto out;
    }
    printf("trained %llu steps: loss %.3f, training accuracy %.2f%%\n", (unsigned long long)tres.steps, tres.loss,
           tres.accuracy);
    printf("saved %s\n", model_path);
    rc = 0;
out:
    nas_model_destroy(model);
    nas_dataset_destroy(train);
    nas_dataset_destroy(all);
    nas_arch_destroy(best);
    nas_run_destroy(run);
    nas_searcher_destroy(searcher);
    nas_evaluator_destroy(ev);
    nas_params_destroy(sparams);
    nas_params_destroy(eparams);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
    return rc;
}
