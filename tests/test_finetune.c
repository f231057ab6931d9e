/*
 * Fine-tuning from a supernet: the state nas__plan_export_paths takes from a supernet along an
 * architecture's paths imports into that architecture's discrete network and gives the same outputs
 * as the supernet running those paths (NAS-Bench-201-like cells, DARTS-like cells with input picks,
 * reduction cells and the supernet-only BN after pools, chains with skips); a one-shot search with
 * finetune retrains from those weights; inherited weights of the wrong size fail the trial clearly.
 */
#include "testutil.h"

#include "eval/eval_internal.h"
#include "nn/build.h"
#include "nn/exec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char NB201_YAML[] = "name: ft-nb201\nfamily: cell\ncell:\n"
                                 "  ops: [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3]\n"
                                 "  num_inputs: 1\n  num_nodes: 3\n  inputs_per_node: 0\n  output: last\n"
                                 "macro:\n  stem_channels: 16\n  stages:\n"
                                 "    - {cells: 1, channels: 16}\n    - {cells: 1, channels: 32}\n"
                                 "  reduction: residual\n";

static const char DARTS_YAML[] = "name: ft-darts\nfamily: cell\ncell:\n"
                                 "  ops: [none, max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, dil_conv_3x3]\n"
                                 "  num_inputs: 2\n  num_nodes: 2\n  inputs_per_node: 2\n"
                                 "  cell_types: [normal, reduce]\n  output: concat\n"
                                 "macro:\n  stem_channels: 24\n  stages:\n"
                                 "    - {cells: 1, channels: 8}\n    - {cells: 1, channels: 16}\n"
                                 "  reduction: cell\n";

static const char CHAIN_YAML[] = "name: ft-chain\nfamily: chain\nchain:\n"
                                 "  ops: [mb3_e3, mb5_e6, skip]\n  stem_channels: 16\n  head_channels: 32\n"
                                 "  stages:\n    - {channels: 16, stride: 2, depths: [2]}\n"
                                 "    - {channels: 24, stride: 2, depths: [2]}\n";

static nas__plan_t *compile(nas__dev_t *dev, const nas__graph_t *g, int batch, uint64_t stream)
{
    nas__plan_opts_t o = NAS__PLAN_OPTS_INIT;
    o.batch = batch;
    o.train = true;
    o.init_stream = stream;
    nas__plan_t *p = NULL;
    if (nas__plan_create(&p, dev, g, &o) != NAS_OK)
        fail_msg("compile: %s", nas_context_errmsg(nas__dev_context(dev)));
    return p;
}

static double eval_loss(nas__plan_t *p, const float *x, const int32_t *y, float *out)
{
    assert_int_equal(nas__plan_set_input(p, x), NAS_OK);
    assert_int_equal(nas__plan_set_labels(p, y), NAS_OK);
    assert_int_equal(nas__plan_forward(p, false), NAS_OK);
    (void)out;
    return nas__plan_loss(p);
}

/* For `archs` random architectures of the space: the supernet (some training steps first, so that the
 * weights and BN statistics are not the initial ones) along the arch's paths equals the discrete
 * network with the exported state. */
static void check_space(const char *yaml, int archs)
{
    nas_context_t *ctx = tu_context_threads(3);
    nas_space_t *s = NULL;
    assert_int_equal(nas_space_load_string(&s, ctx, yaml, strlen(yaml), NULL), NAS_OK);
    nas__dev_t *dev = NULL;
    assert_int_equal(nas__dev_create(&dev, ctx), NAS_OK);
    nas__build_opts_t o = NAS__BUILD_OPTS_INIT;
    o.in_c = 1;
    o.in_h = o.in_w = 12;
    o.num_classes = 10;
    char err[NAS_ERRMSG_CAP] = "";
    nas__graph_t *sg = NULL;
    nas__supernet_map_t *map = NULL;
    assert_int_equal(nas__build_supernet_map(&sg, &map, s, &o, NAS__MIXED_SINGLE, err), NAS_OK);
    enum { B = 8 };
    nas__plan_t *sup = compile(dev, sg, B, 5);
    static float x[B * 144];
    int32_t y[B];
    nas_rng_t *rng = NULL;
    assert_int_equal(nas_rng_create(&rng, ctx, 2, 2), NAS_OK);
    for (int i = 0; i < B * 144; i++)
        x[i] = (float)nas_rng_normal(rng);
    for (int i = 0; i < B; i++)
        y[i] = i % 10;
    nas__optim_cfg_t oc;
    nas__optim_defaults(&oc);
    oc.kind = NAS__OPT_SGD;
    oc.lr = 0.01f;
    uint32_t paths[256];
    assert_true(map->num_mixed <= 256);
    for (int a = 0; a < archs; a++) {
        nas_arch_t *arch = NULL;
        assert_int_equal(nas_arch_create(&arch, s), NAS_OK);
        assert_int_equal(nas_space_sample(s, arch, rng), NAS_OK);
        if (nas__supernet_paths(map, arch, paths, err) != NAS_OK)
            fail_msg("paths: %s", err);
        for (uint32_t m = 0; m < map->num_mixed; m++)
            assert_int_equal(nas__plan_set_path(sup, m, paths[m]), NAS_OK);
        /* (not with the supernet-only BN after pools: trained, it is no longer the identity that the
         * discrete network, which has no such BN, would need to match) */
        for (int step = 0; step < (map->pool_bn ? 0 : 3); step++) {
            double l = 0;
            assert_int_equal(nas__plan_train_step(sup, x, y, &oc, &l), NAS_OK);
        }
        int64_t n = 0;
        assert_int_equal(nas__plan_export_paths(sup, paths, map->pool_bn, map->cell_out, map->num_cells, NULL, 0, &n), NAS_OK);
        float *state = malloc((size_t)n * sizeof *state);
        assert_non_null(state);
        assert_int_equal(nas__plan_export_paths(sup, paths, map->pool_bn, map->cell_out, map->num_cells, state, n - 1, &n), NAS_E_RANGE);
        assert_int_equal(nas__plan_export_paths(sup, paths, map->pool_bn, map->cell_out, map->num_cells, state, n, &n), NAS_OK);
        nas__graph_t *dg = NULL;
        assert_int_equal(nas__build_graph(&dg, arch, &o, err), NAS_OK);
        nas__plan_t *disc = compile(dev, dg, B, 9);
        if (n != nas__plan_state_elems(disc))
        {
            char as[512];
            size_t al = 0;
            nas_arch_to_string(arch, 0, as, sizeof as, &al);
            fail_msg("%s arch %d %s: exported %lld values, the network has %lld", nas_space_name(s), a, as,
                     (long long)n, (long long)nas__plan_state_elems(disc));
        }
        assert_int_equal(nas__plan_import(disc, state, n), NAS_OK);
        double ls = eval_loss(sup, x, y, NULL), ld = eval_loss(disc, x, y, NULL);
        /* the supernet-only BN after pools divides by sqrt(var + eps): close, not bit-equal */
        double tol = 1e-4 * fabs(ld) + 1e-5;
        char as2[512];
        size_t al2 = 0;
        nas_arch_to_string(arch, 0, as2, sizeof as2, &al2);
        if (!(fabs(ls - ld) <= tol))
            fail_msg("%s arch %d %s: supernet loss %.7f, discrete network with the exported state %.7f",
                     nas_space_name(s), a, as2, ls, ld);
        free(state);
        nas__plan_destroy(disc);
        nas__graph_destroy(dg);
        nas_arch_destroy(arch);
    }
    nas_rng_destroy(rng);
    nas__plan_destroy(sup);
    nas__supernet_map_destroy(map);
    nas__graph_destroy(sg);
    nas__dev_destroy(dev);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

static void test_export_nb201(void **unused)
{
    (void)unused;
    check_space(NB201_YAML, 10);
}

static void test_export_darts(void **unused)
{
    (void)unused;
    check_space(DARTS_YAML, 10);
}

static void test_export_chain(void **unused)
{
    (void)unused;
    check_space(CHAIN_YAML, 6);
}

/* A tiny proxyless search whose retrain fine-tunes; then a hand-over of the wrong size fails the
 * next trial with a message (the hand-over is consumed by one trial). */
static void test_finetune_search(void **unused)
{
    (void)unused;
    nas_context_t *ctx = tu_context_threads(6);
    nas_space_t *s = NULL;
    assert_int_equal(nas_space_load_string(&s, ctx, NB201_YAML, strlen(NB201_YAML), NULL), NAS_OK);
    nas_params_t *ep = NULL, *sp = NULL;
    assert_int_equal(nas_params_create(&ep, ctx), NAS_OK);
    static const char *const ekv[][2] = { { "dataset", "fashion-mnist" }, { "max_samples", "512" },
                                          { "val_fraction", "0.25" },     { "epochs", "0.5" },
                                          { "stem_stride", "2" },         { "latency", "false" } };
    for (size_t i = 0; i < sizeof ekv / sizeof ekv[0]; i++)
        assert_int_equal(nas_params_set(ep, ekv[i][0], ekv[i][1]), NAS_OK);
    nas_evaluator_t *ev = NULL;
    if (nas_evaluator_create(&ev, s, "train", ep) != NAS_OK)
        fail_msg("train evaluator: %s", nas_context_errmsg(ctx));
    assert_int_equal(nas_params_create(&sp, ctx), NAS_OK);
    assert_int_equal(nas_params_set(sp, "epochs", "1"), NAS_OK);
    assert_int_equal(nas_params_set(sp, "finetune", "true"), NAS_OK);
    nas_searcher_t *se = NULL;
    assert_int_equal(nas_searcher_create(&se, s, "proxyless", sp, NULL), NAS_OK);
    nas_run_opts_t ro = NAS_RUN_OPTS_INIT;
    ro.max_trials = 1;
    nas_run_t *run = NULL;
    assert_int_equal(nas_run_create(&run, se, ev, &ro), NAS_OK);
    if (nas_run_execute(run) != NAS_OK)
        fail_msg("search: %s", nas_run_errmsg(run));
    uint64_t id;
    const char *arch;
    const nas_result_t *res;
    assert_int_equal(nas_run_trial(run, 0, &id, &arch, &res), NAS_OK);
    if (nas_result_status(res) != NAS_OK)
        fail_msg("the fine-tune failed: %s", nas_result_message(res));
    char arch_copy[512];
    snprintf(arch_copy, sizeof arch_copy, "%s", arch);
    nas_run_destroy(run);
    nas_searcher_destroy(se);

    /* a hand-over of the wrong size: the next trial fails and says why; the one after is fresh */
    float *bad = nas__malloc(ctx, 10 * sizeof *bad);
    assert_non_null(bad);
    char err[NAS_ERRMSG_CAP] = "";
    assert_int_equal(nas__train_inherit(ev, bad, 10, err), NAS_OK);
    nas_arch_t *a = NULL;
    assert_int_equal(nas_arch_create(&a, s), NAS_OK);
    assert_int_equal(nas_arch_from_string(a, arch_copy), NAS_OK);
    for (int k = 0; k < 2; k++) {
        nas_result_t *r = NULL;
        assert_int_equal(nas_result_create(&r, ctx), NAS_OK);
        nas_candidate_t c = NAS_CANDIDATE_INIT;
        c.arch = a;
        c.trial_id = 7 + (uint64_t)k;
        c.fidelity = 0.1;
        assert_int_equal(nas_evaluator_evaluate(ev, &c, r), NAS_OK);
        if (k == 0) {
            assert_int_not_equal(nas_result_status(r), NAS_OK);
            assert_non_null(strstr(nas_result_message(r), "inherited weights"));
        } else if (nas_result_status(r) != NAS_OK) {
            fail_msg("the trial after the failed hand-over: %s", nas_result_message(r));
        }
        nas_result_destroy(r);
    }
    nas_arch_destroy(a);
    nas_evaluator_destroy(ev);
    nas_params_destroy(sp);
    nas_params_destroy(ep);
    nas_space_destroy(s);
    nas_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_nb201),
        cmocka_unit_test(test_export_darts),
        cmocka_unit_test(test_export_chain),
        cmocka_unit_test(test_finetune_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
