// A C++ host of the installed libnas, built with nothing but `pkg-config --cflags --libs libnas`:
// a context, the installed NAS-Bench-201 space, a host evaluator registered through the plugin
// vtable, and a few random trials.
// usage: host_app SPACE.yaml TRIALS
#include <libnas/nas.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// Score of an architecture: how many of its edges are 3x3 convolutions (deterministic, no table).
nas_status_t count_convs(nas_evaluator_t *self, void *, const nas_candidate_t *cand, nas_result_t *res)
{
    char buf[1024];
    size_t len = 0;
    nas_status_t st = nas_arch_to_string(cand->arch, NAS_STRING_ARCH_ONLY, buf, sizeof buf, &len);
    if (st != NAS_OK) {
        nas_evaluator_set_errmsg(self, "architecture string too long");
        return st;
    }
    std::string s(buf, len);
    double n = 0;
    for (size_t at = s.find("nor_conv_3x3"); at != std::string::npos; at = s.find("nor_conv_3x3", at + 1))
        n += 1;
    if ((st = nas_result_set_metric(res, "accuracy", n)) != NAS_OK)
        return st;
    return nas_result_set_cost(res, 1.0);
}

nas_status_t ev_create(nas_evaluator_t *, const nas_params_t *, void **state)
{
    *state = nullptr;
    return NAS_OK;
}

void ev_destroy(void *) {}

int fail(const char *what, nas_status_t st, const char *msg)
{
    std::fprintf(stderr, "host_app: %s: %s\n", what, msg && *msg ? msg : nas_status_str(st));
    return 1;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: host_app SPACE.yaml TRIALS\n");
        return 2;
    }
    std::printf("version: %s\n", nas_version_string());
    if (nas_version_number() != NAS_VERSION_NUMBER)
        return fail("version", NAS_E_ABI, "header and library versions differ");

    nas_context_t *ctx = nullptr;
    nas_status_t st = nas_context_create(&ctx, nullptr);
    if (st != NAS_OK)
        return fail("context", st, nullptr);

    nas_evaluator_vtable_t vt{};
    vt.abi_version = NAS_PLUGIN_ABI_VERSION;
    vt.struct_size = sizeof vt;
    vt.name = "host-count";
    vt.description = "counts 3x3 convolutions (C++ host)";
    vt.create = ev_create;
    vt.destroy = ev_destroy;
    vt.evaluate = count_convs;

    nas_space_t *space = nullptr;
    nas_evaluator_t *ev = nullptr;
    nas_searcher_t *searcher = nullptr;
    nas_run_t *run = nullptr;
    int rc = 1;
    char size[64];
    nas_run_opts_t ropts = NAS_RUN_OPTS_INIT;
    uint64_t best = 0, trial = 0;
    const char *arch = nullptr;
    const nas_result_t *res = nullptr;
    double acc = 0;

    if ((st = nas_context_register_evaluator(ctx, &vt)) != NAS_OK) {
        fail("register", st, nas_context_errmsg(ctx));
        goto out;
    }
    if ((st = nas_space_load_file(&space, ctx, argv[1])) != NAS_OK) {
        fail("space", st, nas_context_errmsg(ctx));
        goto out;
    }
    if ((st = nas_space_size(space, NAS_SIZE_ARCH, size, sizeof size, nullptr)) != NAS_OK) {
        fail("size", st, nas_space_errmsg(space));
        goto out;
    }
    std::printf("space: %s\nsize: %s\n", nas_space_name(space), size);
    if ((st = nas_evaluator_create(&ev, space, "host-count", nullptr)) != NAS_OK) {
        fail("evaluator", st, nas_context_errmsg(ctx));
        goto out;
    }
    if ((st = nas_searcher_create(&searcher, space, "random", nullptr, nullptr)) != NAS_OK) {
        fail("searcher", st, nas_context_errmsg(ctx));
        goto out;
    }
    ropts.max_trials = std::strtoull(argv[2], nullptr, 10);
    if ((st = nas_run_create(&run, searcher, ev, &ropts)) != NAS_OK) {
        fail("run", st, nas_context_errmsg(ctx));
        goto out;
    }
    if ((st = nas_run_execute(run)) != NAS_OK) {
        fail("execute", st, nas_run_errmsg(run));
        goto out;
    }
    if ((st = nas_run_best(run, &best)) != NAS_OK || (st = nas_run_trial(run, best, &trial, &arch, &res)) != NAS_OK ||
        (st = nas_result_get_metric(res, "accuracy", &acc)) != NAS_OK) {
        fail("best", st, nas_run_errmsg(run));
        goto out;
    }
    std::printf("trials: %llu\n", static_cast<unsigned long long>(nas_run_num_trials(run)));
    std::printf("best: trial %llu accuracy %.0f %s\n", static_cast<unsigned long long>(trial), acc, arch);
    rc = 0;
out:
    nas_run_destroy(run);
    nas_searcher_destroy(searcher);
    nas_evaluator_destroy(ev);
    nas_space_destroy(space);
    nas_context_destroy(ctx);
    return rc;
}
