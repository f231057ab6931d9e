// A C++17 host of the installed libnas, built with nothing but `pkg-config --cflags --libs libnas`.
//
// It shows how C++ code owns libnas handles (std::unique_ptr with the destroy functions), turns
// failing statuses into exceptions on the C++ side, and plugs C++ objects into the C plugin
// vtables: a strategy class and an evaluator lambda, behind trampolines that catch every
// exception so that none crosses the C boundary (the library gets a status and a message instead).
// The search: a greedy strategy over the NAS-Bench-201 space, scored by how many of a cell's edges
// are 3x3 convolutions (a stand-in for a real measure; the best possible score is 6).
//
// usage: host_app SPACE.yaml TRIALS
#include <libnas/nas.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

namespace {

// ---------------------------------------------------------------------------------------------
// Ownership: one unique_ptr type per handle, destroyed by its nas_*_destroy().

template <typename T, void (*Destroy)(T *)> struct destroyer {
    void operator()(T *p) const noexcept { Destroy(p); }
};
template <typename T, void (*Destroy)(T *)> using handle = std::unique_ptr<T, destroyer<T, Destroy>>;

using context_ptr = handle<nas_context_t, nas_context_destroy>;
using space_ptr = handle<nas_space_t, nas_space_destroy>;
using arch_ptr = handle<nas_arch_t, nas_arch_destroy>;
using searcher_ptr = handle<nas_searcher_t, nas_searcher_destroy>;
using evaluator_ptr = handle<nas_evaluator_t, nas_evaluator_destroy>;
using run_ptr = handle<nas_run_t, nas_run_destroy>;

// A failed libnas call, with the library's detailed message.
struct nas_error : std::runtime_error {
    nas_status_t status;
    nas_error(nas_status_t st, const std::string &what, const char *msg)
        : std::runtime_error(what + ": " + (msg && *msg ? msg : nas_status_str(st))), status(st)
    {
    }
};

void check(nas_status_t st, const char *what, const char *msg)
{
    if (st != NAS_OK)
        throw nas_error(st, what, msg);
}

std::string arch_string(const nas_arch_t *arch)
{
    size_t len = 0;
    nas_arch_to_string(arch, NAS_STRING_ARCH_ONLY, nullptr, 0, &len);   // NAS_E_RANGE, with the length
    std::string s(len + 1, '\0');
    check(nas_arch_to_string(arch, NAS_STRING_ARCH_ONLY, &s[0], s.size(), &len), "arch string",
          nas_space_errmsg(nas_arch_space(arch)));
    s.resize(len);
    return s;
}

// Runs fn for the library and maps an exception to a status (and a message through set_errmsg).
template <typename Fn, typename Errmsg> nas_status_t guarded(Fn &&fn, Errmsg &&set_errmsg) noexcept
{
    try {
        return fn();
    } catch (const nas_error &e) {
        set_errmsg(e.what());
        return e.status;
    } catch (const std::bad_alloc &) {
        return NAS_E_NOMEM;
    } catch (const std::exception &e) {
        set_errmsg(e.what());
        return NAS_E_CALLBACK;
    } catch (...) {
        set_errmsg("unknown C++ exception");
        return NAS_E_CALLBACK;
    }
}

// ---------------------------------------------------------------------------------------------
// A strategy as a C++ class: `init` random samples, then the best so far with one decision changed.

class greedy {
public:
    explicit greedy(nas_searcher_t *self) : self_(self)
    {
        nas_arch_t *a = nullptr;
        check(nas_arch_create(&a, nas_searcher_space(self)), "greedy", nas_space_errmsg(nas_searcher_space(self)));
        best_.reset(a);
    }

    void ask(nas_candidate_t *cand)
    {
        nas_space_t *space = nas_searcher_space(self_);
        nas_rng_t *rng = nas_searcher_rng(self_);
        cand->fidelity = 0.0;
        if (told_ < init || !have_best_)
            check(nas_space_sample(space, cand->arch, rng), "sample", nas_space_errmsg(space));
        else
            check(nas_space_mutate(space, cand->arch, best_.get(), rng, 1), "mutate", nas_space_errmsg(space));
    }

    void tell(const nas_candidate_t *cand, const nas_result_t *res)
    {
        double score = 0;
        check(nas_searcher_scores(self_, res, &score, 1), "scores", nas_searcher_errmsg(self_));
        told_++;
        if (score > best_score_) {   // a failed trial scores -inf: never taken
            best_score_ = score;
            have_best_ = true;
            check(nas_arch_copy(best_.get(), cand->arch), "copy", nas_space_errmsg(nas_searcher_space(self_)));
        }
    }

    static constexpr long init = 5;

private:
    nas_searcher_t *self_;
    arch_ptr best_;
    double best_score_ = -std::numeric_limits<double>::infinity();
    bool have_best_ = false;
    long told_ = 0;
};

// Trampolines: the vtable holds plain functions; each one forwards to the C++ object and catches.
template <typename Strategy> nas_searcher_vtable_t searcher_vtable(const char *name, const char *description)
{
    nas_searcher_vtable_t vt{};
    vt.abi_version = NAS_PLUGIN_ABI_VERSION;
    vt.struct_size = sizeof vt;
    vt.name = name;
    vt.description = description;
    vt.create = [](nas_searcher_t *self, const nas_params_t *params, void **state) -> nas_status_t {
        *state = nullptr;
        auto errmsg = [self](const char *m) { nas_searcher_set_errmsg(self, m); };
        return guarded(
            [&] {
                if (params && nas_params_count(params) > 0)
                    throw std::invalid_argument("this strategy takes no parameters");
                *state = new Strategy(self);
                return NAS_OK;
            },
            errmsg);
    };
    vt.destroy = [](void *state) { delete static_cast<Strategy *>(state); };
    vt.ask = [](nas_searcher_t *self, void *state, nas_candidate_t *cand) -> nas_status_t {
        return guarded([&] { static_cast<Strategy *>(state)->ask(cand); return NAS_OK; },
                       [self](const char *m) { nas_searcher_set_errmsg(self, m); });
    };
    vt.tell = [](nas_searcher_t *self, void *state, const nas_candidate_t *cand, const nas_result_t *res) -> nas_status_t {
        return guarded([&] { static_cast<Strategy *>(state)->tell(cand, res); return NAS_OK; },
                       [self](const char *m) { nas_searcher_set_errmsg(self, m); });
    };
    return vt;
}

// ---------------------------------------------------------------------------------------------
// An evaluator from a lambda: the score of a cell is its number of 3x3 convolutions.

using score_fn = std::function<double(const std::string &arch)>;

nas_evaluator_vtable_t evaluator_vtable(const char *name, const char *description, score_fn *fn)
{
    nas_evaluator_vtable_t vt{};
    vt.abi_version = NAS_PLUGIN_ABI_VERSION;
    vt.struct_size = sizeof vt;
    vt.name = name;
    vt.description = description;
    vt.user_data = fn;   // must outlive the context; the vtable itself is copied at registration
    vt.create = [](nas_evaluator_t *self, const nas_params_t *, void **state) -> nas_status_t {
        *state = nas_evaluator_user_data(self);
        return NAS_OK;
    };
    vt.destroy = [](void *) {};
    vt.evaluate = [](nas_evaluator_t *self, void *state, const nas_candidate_t *cand, nas_result_t *res) -> nas_status_t {
        return guarded(
            [&] {
                double score = (*static_cast<score_fn *>(state))(arch_string(cand->arch));
                check(nas_result_set_metric(res, "accuracy", score), "metric", nullptr);
                return nas_result_set_cost(res, 1.0);
            },
            [self](const char *m) { nas_evaluator_set_errmsg(self, m); });
    };
    return vt;
}

int host_main(const char *space_path, unsigned long long trials)
{
    std::printf("version: %s\n", nas_version_string());
    if (nas_version_number() != NAS_VERSION_NUMBER)
        throw std::runtime_error("the headers and the library are of different versions");

    score_fn count_convs = [](const std::string &arch) {   // declared first: it outlives the context
        double n = 0;
        for (size_t at = arch.find("nor_conv_3x3"); at != std::string::npos; at = arch.find("nor_conv_3x3", at + 1))
            n += 1;
        return n;
    };
    nas_context_t *c = nullptr;
    check(nas_context_create(&c, nullptr), "context", nullptr);
    context_ptr ctx(c);

    nas_evaluator_vtable_t evt = evaluator_vtable("count-convs", "counts 3x3 convolutions (C++ lambda)", &count_convs);
    check(nas_context_register_evaluator(ctx.get(), &evt), "register evaluator", nas_context_errmsg(ctx.get()));
    nas_searcher_vtable_t svt = searcher_vtable<greedy>("greedy", "mutates the best so far (C++ class)");
    check(nas_context_register_searcher(ctx.get(), &svt), "register searcher", nas_context_errmsg(ctx.get()));

    nas_space_t *sp = nullptr;
    check(nas_space_load_file(&sp, ctx.get(), space_path), "space", nas_context_errmsg(ctx.get()));
    space_ptr space(sp);
    char size[64];
    check(nas_space_size(space.get(), NAS_SIZE_ARCH, size, sizeof size, nullptr), "size", nas_space_errmsg(sp));
    std::printf("space: %s\nsize: %s\n", nas_space_name(sp), size);

    nas_evaluator_t *e = nullptr;
    check(nas_evaluator_create(&e, sp, "count-convs", nullptr), "evaluator", nas_context_errmsg(ctx.get()));
    evaluator_ptr ev(e);
    nas_searcher_t *s = nullptr;
    check(nas_searcher_create(&s, sp, "greedy", nullptr, nullptr), "searcher", nas_context_errmsg(ctx.get()));
    searcher_ptr searcher(s);

    // Progress through a capturing lambda: the callback gets it back as user_data.
    unsigned long long calls = 0;
    double last_best = -1;
    auto on_progress = [&](const nas_progress_t &p) {
        calls++;
        last_best = p.best_score;
    };
    nas_run_opts_t ropts = NAS_RUN_OPTS_INIT;
    ropts.max_trials = trials;
    ropts.progress = [](void *user, const nas_progress_t *p) { (*static_cast<decltype(on_progress) *>(user))(*p); };
    ropts.progress_user_data = &on_progress;
    nas_run_t *r = nullptr;
    check(nas_run_create(&r, s, e, &ropts), "run", nas_context_errmsg(ctx.get()));
    run_ptr run(r);
    check(nas_run_execute(r), "execute", nas_run_errmsg(r));

    uint64_t best = 0, trial = 0;
    const char *arch = nullptr;
    const nas_result_t *res = nullptr;
    double acc = 0;
    check(nas_run_best(r, &best), "best", nas_run_errmsg(r));
    check(nas_run_trial(r, best, &trial, &arch, &res), "best", nas_run_errmsg(r));
    check(nas_result_get_metric(res, "accuracy", &acc), "best", nas_run_errmsg(r));
    std::printf("trials: %llu\n", static_cast<unsigned long long>(nas_run_num_trials(r)));
    std::printf("progress: %llu calls, last best %.0f\n", calls, last_best);
    std::printf("best: trial %llu accuracy %.0f %s\n", static_cast<unsigned long long>(trial), acc, arch);

    // An exception thrown inside a callback comes back from the C call as a status and a message:
    // greedy's create() throws std::invalid_argument when given parameters.
    using params_ptr = handle<nas_params_t, nas_params_destroy>;
    nas_params_t *pp = nullptr;
    check(nas_params_create(&pp, ctx.get()), "params", nullptr);
    params_ptr params(pp);
    check(nas_params_set(pp, "population", "3"), "params", nas_params_errmsg(pp));
    nas_searcher_t *refused = nullptr;
    nas_status_t st = nas_searcher_create(&refused, sp, "greedy", pp, nullptr);
    searcher_ptr keep(refused);   // NULL on failure, as every create leaves it
    std::printf("greedy with parameters: %s: %s\n", nas_status_name(st), nas_context_errmsg(ctx.get()));
    return 0;   // the handles are destroyed in reverse order of creation, the context last
}

} // namespace

int main(int argc, char **argv)
{
    char *end = nullptr;
    unsigned long long trials = argc == 3 && argv[2][0] >= '0' && argv[2][0] <= '9' ? std::strtoull(argv[2], &end, 10) : 0;
    if (trials == 0 || *end) {
        std::fprintf(stderr, "usage: host_app SPACE.yaml TRIALS  (TRIALS a positive integer)\n");
        return 2;
    }
    try {
        return host_main(argv[1], trials);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "host_app: error: %s\n", e.what());
        return 1;
    }
}
