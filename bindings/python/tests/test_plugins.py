"""Strategies and evaluators written in Python, registered through the C vtables."""
import ctypes
import math
import os
import signal

import pytest

import libnas
from libnas import _capi
from libnas._lib import lib
from search_util import OBJECTIVE, SPACE, journal_trials, read_table, size_of, table


class Climb(libnas.Strategy):
    """Hill climbing from the best so far (the strategy of examples/custom_searcher.c)."""
    name = "py-climb"
    description = "hill climbing from the best so far (python)"
    made = []

    def __init__(self, searcher, params):
        self.init = params.get_int("init", 10, min=1)
        self.patience = params.get_int("patience", 60, min=1)
        self.edits = params.get_int("edits", 1, min=1)
        self.best, self.best_score, self.told, self.since = None, -math.inf, 0, 0
        self.loaded = 0
        Climb.made.append(self)

    def ask(self):
        space, rng = self.searcher.space, self.searcher.rng
        if self.told < self.init or self.best is None:
            return space.sample(rng)
        return space.mutate(self.best, self.edits, rng)

    def tell(self, arch, result):
        score = self.searcher.scores(result)[0]
        self.told += 1
        if score > self.best_score:
            self.best, self.best_score, self.since = arch, score, 0
        else:
            self.since += 1
            if self.since >= self.patience:
                self.best, self.best_score, self.since = None, -math.inf, 0


class SavingClimb(Climb):
    name = "py-climb-save"

    def state(self):
        return {"best": None if self.best is None else str(self.best), "score": self.best_score,
                "told": self.told, "since": self.since}

    def load_state(self, obj):
        self.best = None if obj["best"] is None else self.searcher.space.arch(obj["best"])
        self.best_score, self.told, self.since = obj["score"], obj["told"], obj["since"]
        self.loaded += 1


@pytest.fixture
def pctx(ctx):
    Climb.made.clear()
    libnas.register_strategy(ctx, Climb)
    libnas.register_strategy(ctx, SavingClimb)
    return ctx


@pytest.fixture
def space(pctx):
    return libnas.Space.load(SPACE, pctx)


def test_registered_strategy_is_a_searcher(pctx, space):
    assert ("py-climb", Climb.description) in pctx.searchers()
    s = libnas.Searcher(space, "py-climb", {"init": 5}, seed=1, objectives=OBJECTIVE)
    assert s.name == "py-climb" and not s.can_save
    strat = Climb.made[-1]
    assert strat.init == 5 and strat.patience == 60
    assert strat.searcher.space is space   # the user's own Space object
    assert strat.searcher.objectives == [libnas.Objective("test_acc", True)]
    assert strat.searcher.name == "py-climb" and strat.searcher.num_constraints == 0
    c = s.ask()
    assert c.trial_id == 0 and c.arch.space is space and strat.searcher.num_asked == 1
    s.tell(c, {"test_acc": 50.0})
    assert strat.best == c.arch and strat.best_score == 50.0
    with pytest.raises(libnas.LibnasError) as e:
        s.save()
    assert e.value.name == "unsupported"


def test_python_strategy_drives_a_run(pctx, space):
    s = libnas.Searcher(space, "py-climb", seed=1, objectives=OBJECTIVE)
    res = libnas.run(s, table(space), max_trials=300)
    assert len(res.trials) == 300 and Climb.made[-1].told == 300
    assert res.best.metrics["test_acc"] > 93.0
    assert res.best.metrics["test_acc"] == pytest.approx(read_table()[res.best.arch])
    again = libnas.run(libnas.Searcher(space, "py-climb", seed=1, objectives=OBJECTIVE), table(space), max_trials=50)
    assert [t.arch for t in again.trials] == [t.arch for t in res.trials[:50]]   # the searcher's rng: reproducible


def test_c_code_finds_the_python_strategy(pctx, space):
    """What a C host holding the context does: create by name, run, read the history (raw C API)."""
    ev = table(space)
    opts = _capi.nas_searcher_opts_t()
    opts.struct_size = ctypes.sizeof(opts)
    opts.seed = 4
    opts.objectives = b"test_acc:max"
    s = ctypes.c_void_p()
    assert lib.nas_searcher_create(ctypes.byref(s), space, b"py-climb", None, ctypes.byref(opts)) == 0
    ropts = _capi.nas_run_opts_t()
    ropts.struct_size = ctypes.sizeof(ropts)
    ropts.max_trials = 25
    run = ctypes.c_void_p()
    assert lib.nas_run_create(ctypes.byref(run), s, ev, ctypes.byref(ropts)) == 0
    assert lib.nas_run_execute(run) == 0
    assert lib.nas_run_num_trials(run) == 25 and Climb.made[-1].told == 25
    lib.nas_run_destroy(run)
    lib.nas_searcher_destroy(s)
    assert Climb.made[-1].searcher._ptr is None and Climb.made[-1].searcher.rng.closed   # destroy reached Python


def test_parameters(pctx, space):
    with pytest.raises(libnas.InvalidArgumentError, match="unknown parameter 'patince'.*patience"):
        libnas.Searcher(space, "py-climb", {"patince": 3})
    with pytest.raises(libnas.InvalidArgumentError, match="'init'.*not an integer") as e:
        libnas.Searcher(space, "py-climb", {"init": "many"})
    assert "test_plugins.py" in e.value.message   # the line of the strategy that read it
    with pytest.raises(libnas.InvalidArgumentError, match="out of range"):
        libnas.Searcher(space, "py-climb", {"edits": 0})

    class Params(libnas.Strategy):
        name = "py-params"
        got = {}

        def __init__(self, searcher, params):
            Params.got = {"keys": sorted(params), "rate": params.get_float("rate", 0.5),
                          "flag": params.get_bool("flag"), "label": params.get("label", "none"),
                          "n": len(params), "has_label": "label" in params}

        def ask(self):
            return None

    libnas.register_strategy(pctx, Params)
    libnas.Searcher(space, "py-params", {"rate": 0.25, "flag": True, "label": "x"})
    assert Params.got == {"keys": ["flag", "label", "rate"], "rate": 0.25, "flag": True, "label": "x", "n": 3,
                          "has_label": True}
    libnas.Searcher(space, "py-params")
    assert Params.got["rate"] == 0.5 and Params.got["label"] == "none" and Params.got["n"] == 0
    with pytest.raises(libnas.InvalidArgumentError, match="'rate'"):
        libnas.Searcher(space, "py-params", {"rate": "fast"})


def test_exhausted_and_fidelity(pctx, space):
    class Few(libnas.Strategy):
        name = "py-few"

        def __init__(self, searcher, params):
            self.left = params.get_int("n", 3)

        def ask(self):
            if self.left == 0:
                return None
            self.left -= 1
            a = self.searcher.space.sample(self.searcher.rng)
            return (str(a), 12.5) if self.left % 2 else (a, 3)

    libnas.register_strategy(pctx, Few)
    s = libnas.Searcher(space, "py-few", {"n": 2})
    assert s.ask().fidelity == 12.5 and s.ask().fidelity == 3.0 and s.ask() is None
    res = libnas.run(libnas.Searcher(space, "py-few", {"n": 4}, objectives=OBJECTIVE), table(space), max_trials=10)
    assert res.stop_reason == "exhausted" and len(res.trials) == 4
    assert [t.fidelity for t in res.trials] == [12.5, 3.0, 12.5, 3.0]   # as asked, kept in the history
    # Without a budget a run needs a strategy that declares itself finite.
    with pytest.raises(libnas.InvalidArgumentError, match="budget"):
        libnas.run(libnas.Searcher(space, "py-few", {"n": 4}, objectives=OBJECTIVE), table(space))

    class FewFinite(Few):
        name = "py-few-finite"
        finite = True

    libnas.register_strategy(pctx, FewFinite)
    res = libnas.run(libnas.Searcher(space, "py-few-finite", {"n": 5}, objectives=OBJECTIVE), table(space))
    assert res.stop_reason == "exhausted" and len(res.trials) == 5


class Broken(libnas.Strategy):
    name = "py-broken"
    where = "ask"

    def __init__(self, searcher, params):
        if Broken.where == "init":
            raise RuntimeError("cannot start")

    def ask(self):
        if Broken.where == "ask":
            raise ValueError("no idea what to try")
        if Broken.where == "type":
            return 42
        if Broken.where == "space":
            return libnas.Space.load(SPACE, self.searcher.context).sample()
        return self.searcher.space.sample(self.searcher.rng)

    def tell(self, arch, result):
        if Broken.where == "tell":
            raise KeyError("lost it")


@pytest.mark.parametrize("where,exc,text", [("ask", ValueError, "ValueError: no idea what to try"),
                                            ("tell", KeyError, "KeyError: 'lost it'"),
                                            ("type", TypeError, "must return a libnas.Arch"),
                                            ("space", ValueError, "another space")])
def test_strategy_exceptions(pctx, space, where, exc, text):
    Broken.where = where
    libnas.register_strategy(pctx, Broken)
    s = libnas.Searcher(space, "py-broken", objectives=OBJECTIVE)
    with pytest.raises(libnas.LibnasError) as e:
        c = s.ask()
        s.tell(c, {"test_acc": 1.0})
    assert e.value.name == "callback" and text in e.value.message
    assert ("test_plugins.py" in e.value.message) == (where in ("ask", "tell"))   # where the user's code raised
    assert isinstance(e.value.__cause__, exc)
    with pytest.raises(libnas.LibnasError) as e:
        libnas.run(libnas.Searcher(space, "py-broken", objectives=OBJECTIVE), table(space), max_trials=5)
    assert e.value.name == "callback" and text in e.value.message
    assert e.value.run_result.stop_reason == "error" and len(e.value.run_result.trials) == (1 if where == "tell" else 0)


def test_strategy_init_exception(pctx, space):
    Broken.where = "init"
    libnas.register_strategy(pctx, Broken)
    with pytest.raises(libnas.LibnasError) as e:
        libnas.Searcher(space, "py-broken")
    assert e.value.name == "callback" and "RuntimeError: cannot start" in e.value.message
    assert isinstance(e.value.__cause__, RuntimeError)


def test_registration_errors(pctx):
    with pytest.raises(libnas.LibnasError) as e:
        libnas.register_strategy(pctx, Climb)
    assert e.value.name == "exists"

    class Bad(libnas.Strategy):
        name = "Bad Name"

    with pytest.raises(libnas.InvalidArgumentError):
        libnas.register_strategy(pctx, Bad)

    class Half(libnas.Strategy):
        name = "py-half"

        def state(self):
            return 1

    with pytest.raises(TypeError, match="both"):
        libnas.register_strategy(pctx, Half)
    with pytest.raises(TypeError):
        libnas.register_strategy(pctx, object)
    with pytest.raises(TypeError):
        libnas.register_evaluator(pctx, Climb)
    with pytest.raises(TypeError):
        libnas.register_strategy("ctx", Climb)
    # the built-ins' names are taken too
    Bad.name = "random"
    with pytest.raises(libnas.LibnasError) as e:
        libnas.register_strategy(pctx, Bad)
    assert e.value.name == "exists"


def test_checkpoint_and_resume(pctx, space, tmp_path):
    ev = table(space)

    def searcher():
        return libnas.Searcher(space, "py-climb-save", {"init": 4, "patience": 8}, seed=3, objectives=OBJECTIVE)

    full = tmp_path / "full.jsonl"
    libnas.run(searcher(), ev, max_trials=40, journal=full)
    part, ckpt = tmp_path / "part.jsonl", tmp_path / "ckpt"
    libnas.run(searcher(), ev, max_trials=20, journal=part, checkpoint=ckpt)
    assert ckpt.stat().st_size > 0
    res = libnas.run(searcher(), ev, max_trials=40, journal=part, checkpoint=ckpt, resume=True)
    assert res.num_resumed == 20 and Climb.made[-1].loaded == 1   # restored from the checkpoint
    assert journal_trials(part) == journal_trials(full)
    # save()/load() directly
    a = searcher()
    assert a.can_save
    for _ in range(15):
        c = a.ask()
        a.tell(c, ev.evaluate(c))
    b = searcher()
    b.load(a.save())
    assert Climb.made[-1].told == 15 and Climb.made[-1].loaded == 1
    for _ in range(10):
        ca, cb = a.ask(), b.ask()
        assert str(ca.arch) == str(cb.arch)
        r = ev.evaluate(ca)
        a.tell(ca, r)
        b.tell(cb, r)


def _explode():
    raise EOFError("half a state")


class _Unpicklable:
    def __reduce__(self):
        return (_explode, ())


def test_state_exceptions(pctx, space):
    class BadState(libnas.Strategy):
        name = "py-bad-state"
        mode = "lambda"

        def ask(self):
            return self.searcher.space.sample(self.searcher.rng)

        def state(self):
            return {"lambda": lambda: 1, "unpicklable": _Unpicklable(), "fine": 1}[BadState.mode]

        def load_state(self, obj):
            raise AssertionError("refused %r" % obj)

    libnas.register_strategy(pctx, BadState)
    s = libnas.Searcher(space, "py-bad-state")
    with pytest.raises(libnas.LibnasError) as e:
        s.save()
    assert e.value.name == "callback" and "state()" in e.value.message and "pickle" in e.value.message.lower()
    BadState.mode = "unpicklable"
    data = s.save()
    with pytest.raises(libnas.ParseError, match="does not unpickle.*EOFError: half a state"):
        libnas.Searcher(space, "py-bad-state").load(data)
    BadState.mode = "fine"
    with pytest.raises(libnas.LibnasError) as e:
        libnas.Searcher(space, "py-bad-state").load(s.save())
    assert e.value.name == "callback" and "AssertionError: refused 1" in e.value.message
    # damaged bytes are refused by the library's checksum before Python sees them
    with pytest.raises(libnas.ParseError):
        libnas.Searcher(space, "py-bad-state").load(data[:-9] + b"\x00" + data[-8:])


class Sized(libnas.EvaluatorPlugin):
    """test_acc from the table, plus a size to minimize; archs starting with none fail loudly."""
    name = "py-sized"
    description = "table accuracy and a made-up size (python)"

    def __init__(self, evaluator, params):
        self.accs = read_table()
        self.fail = params.get_bool("fail_none", False)
        self.given_cost = params.get_float("cost", -1.0)
        self.calls = 0

    def evaluate(self, arch, fidelity):
        self.calls += 1
        key = str(arch)
        if self.fail and key.startswith("|none~0|"):
            raise ArithmeticError("none first: %s" % key)
        metrics = {"test_acc": self.accs[key], "size": size_of(key)}
        if self.given_cost >= 0:
            return libnas.Result(metrics=metrics, cost=self.given_cost)
        return metrics


@pytest.fixture
def ectx(pctx):
    libnas.register_evaluator(pctx, Sized)
    return pctx


def test_python_evaluator(ectx, space):
    assert ("py-sized", Sized.description) in ectx.evaluators()
    ev = libnas.Evaluator(space, "py-sized")
    a = space.arch("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")
    r = ev.evaluate(a)
    assert r.ok and r.metrics == {"test_acc": read_table()[str(a)], "size": size_of(str(a))} and r.cost >= 0
    r = libnas.Evaluator(space, "py-sized", {"cost": 2.5}).evaluate(a)
    assert r.cost == 2.5
    with pytest.raises(libnas.InvalidArgumentError, match="unknown parameter 'fail'"):
        libnas.Evaluator(space, "py-sized", {"fail": "yes"})
    with pytest.raises(libnas.LibnasError) as e:
        libnas.register_evaluator(ectx, Sized)
    assert e.value.name == "exists"

    class NoStart(libnas.EvaluatorPlugin):
        name = "py-no-start"

        def __init__(self, evaluator, params):
            raise OSError("no GPU here")

    libnas.register_evaluator(ectx, NoStart)
    with pytest.raises(libnas.LibnasError) as e:
        libnas.Evaluator(space, "py-no-start")
    assert e.value.name == "callback" and "OSError: no GPU here" in e.value.message
    assert isinstance(e.value.__cause__, OSError)

    class Nothing(libnas.EvaluatorPlugin):
        name = "py-nothing"

        def evaluate(self, arch, fidelity):
            return None

    libnas.register_evaluator(ectx, Nothing)
    r = libnas.Evaluator(space, "py-nothing").evaluate(a)
    assert r.status == "callback" and "returned None" in r.message


def test_evaluator_exception_is_a_failed_trial(ectx, space):
    ev = libnas.Evaluator(space, "py-sized", {"fail_none": True})
    r = ev.evaluate(space.arch("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"))
    assert r.status == "callback" and not r.ok
    assert "ArithmeticError: none first" in r.message and "test_plugins.py" in r.message
    res = libnas.run(libnas.Searcher(space, "random", seed=1, objectives=OBJECTIVE), ev, max_trials=60)
    assert len(res.trials) == 60   # the search went on
    failed = [t for t in res.trials if not t.ok]
    assert failed and all(t.arch.startswith("|none~0|") and t.status == "callback" for t in failed)
    assert all(t.ok for t in res.trials if not t.arch.startswith("|none~0|"))
    assert res.best.ok


def test_interrupt_in_python_evaluator(ectx, space, tmp_path):
    class Slow(libnas.EvaluatorPlugin):
        name = "py-interrupted"
        calls = 0

        def evaluate(self, arch, fidelity):
            Slow.calls += 1
            if Slow.calls == 5:
                os.kill(os.getpid(), signal.SIGINT)
            return {"test_acc": 1.0}

    libnas.register_evaluator(ectx, Slow)
    journal = tmp_path / "j.jsonl"
    with pytest.raises(KeyboardInterrupt):
        libnas.run(libnas.Searcher(space, "random", objectives=OBJECTIVE), libnas.Evaluator(space, "py-interrupted"),
                   max_trials=20, journal=journal)
    assert len(journal_trials(journal)) == 4


def test_multi_objective_with_constraints(ectx, space):
    class Feasible(libnas.Strategy):
        name = "py-feasible"
        seen = []

        def ask(self):
            return self.searcher.space.sample(self.searcher.rng)

        def tell(self, arch, result):
            Feasible.seen.append((result, self.searcher.scores(result), self.searcher.violation(result)))

    libnas.register_strategy(ectx, Feasible)
    s = libnas.Searcher(space, "py-feasible", seed=2, objectives="test_acc:max,size:min", constraints="size<=30")
    res = libnas.run(s, libnas.Evaluator(space, "py-sized"), max_trials=80)
    assert len(Feasible.seen) == 80
    for result, scores, violation in Feasible.seen:
        if result.metrics["size"] <= 30:
            assert scores == [result.metrics["test_acc"], -result.metrics["size"]] and violation == 0
        else:
            assert scores == [-math.inf, -math.inf] and violation > 0
    front = res.pareto
    assert front and all(t.metrics["size"] <= 30 for t in front)
    objs = res.objectives
    feasible = [t for t in res.trials if t.metrics["size"] <= 30]
    for t in front:   # nothing feasible dominates a front member; everything else is dominated or equal
        assert not any(libnas.results._dominates([u.metrics["test_acc"], -u.metrics["size"]],
                                                 [t.metrics["test_acc"], -t.metrics["size"]]) for u in feasible)
    assert [t.index for t in libnas.results.pareto_front(res.trials, objs, [("size", "<=", 30.0)])] == \
        [t.index for t in front]


def test_isolated_python_evaluator(ectx, space):
    """isolate=True: each trial in a child process; a crash or a hang is a failed trial, not the end."""
    archs = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
             "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
             "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|",
             "|skip_connect~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"]

    class Fixed(libnas.Strategy):
        name = "py-fixed"

        def __init__(self, searcher, params):
            self.left = list(archs)

        def ask(self):
            return self.left.pop(0) if self.left else None

    class Fragile(libnas.EvaluatorPlugin):
        name = "py-fragile"

        def evaluate(self, arch, fidelity):
            key = str(arch)
            if key == archs[1]:
                os.abort()
            if key == archs[2]:
                signal.pause()   # hangs until the time limit kills it
            return {"test_acc": size_of(key), "pid": os.getpid()}

    libnas.register_strategy(ectx, Fixed)
    libnas.register_evaluator(ectx, Fragile)
    res = libnas.run(libnas.Searcher(space, "py-fixed", objectives=OBJECTIVE), libnas.Evaluator(space, "py-fragile"),
                     max_trials=10, trial_timeout=1.5)
    assert res.stop_reason == "exhausted"
    assert [t.status for t in res.trials] == ["ok", "crashed", "timeout", "ok"]
    assert all(t.metrics["pid"] != os.getpid() for t in res.trials if t.ok)   # evaluated in children
    assert res.best.arch == archs[0]


def test_space_made_in_c_gets_a_borrowed_wrapper(pctx):
    sp = ctypes.c_void_p()
    assert lib.nas_space_load_file(ctypes.byref(sp), pctx, SPACE.encode()) == 0
    s = ctypes.c_void_p()
    assert lib.nas_searcher_create(ctypes.byref(s), sp, b"py-climb", None, None) == 0
    view = Climb.made[-1].searcher
    assert isinstance(view.space, libnas.Space) and view.space._ptr == sp.value and view.space.size == 5 ** 6
    arch = _capi.nas_candidate_t()
    a = ctypes.c_void_p()
    assert lib.nas_arch_create(ctypes.byref(a), sp) == 0
    arch.struct_size = ctypes.sizeof(arch)
    arch.arch = a.value
    assert lib.nas_searcher_ask(s, ctypes.byref(arch)) == 0 and arch.trial_id == 0
    lib.nas_arch_destroy(a)
    lib.nas_searcher_destroy(s)
    assert view.space.closed   # the wrapper ends with the searcher, before the space may go
    lib.nas_space_destroy(sp)


EXIT_SCRIPT = r'''
import libnas
ctx = libnas.Context(threads=1, seed=7)


class Keeper(libnas.Strategy):
    name = "py-keeper"

    def __init__(self, searcher, params):
        self.kept = []

    def ask(self):
        a = self.searcher.space.sample(self.searcher.rng)
        self.kept.append(a)   # archs held by a strategy that lives until interpreter exit
        return a


libnas.register_strategy(ctx, Keeper)
space = libnas.Space.load(%r, ctx)
s = libnas.Searcher(space, "py-keeper")
s.ask()


def frame_holder():
    held = (ctx, space, s)
    try:
        1 / 0
    except ZeroDivisionError as e:
        return e   # traceback -> frame -> locals: a cycle the final collection breaks in any order


keep = frame_holder()
print("done")
'''


def test_interpreter_exit_with_live_plugins(tmp_path):
    """Handles reached only through garbage cycles at exit are freed children first, or leaked,
    never destroyed after their parent (that crashed the interpreter at exit)."""
    import subprocess
    import sys
    script = tmp_path / "exit.py"
    script.write_text(EXIT_SCRIPT % SPACE)
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == "done" and "Sanitizer" not in p.stderr


class Sweep(libnas.Strategy):
    """A strategy with a run() hook: it drives the whole search itself, like the one-shot ones."""
    name = "py-sweep"
    seen = []

    def __init__(self, searcher, params):
        self.rounds = params.get_int("rounds", 3, min=1)
        self.fail_at = params.get_int("fail_at", -1)

    def ask(self):   # used outside run() only
        return self.searcher.space.sample(self.searcher.rng)

    def run(self, run):
        Sweep.seen.append(run)
        best, best_score = None, -math.inf
        for k in range(self.rounds):
            if run.should_stop():
                return
            if k == self.fail_at:
                raise ArithmeticError("round %d went wrong" % k)
            arch = self.searcher.space.sample(self.searcher.rng)
            result = run.evaluate(arch)
            score = self.searcher.scores(result)[0]
            if score > best_score:
                best, best_score = arch, score
            run.report("py-sweep round %d/%d best %.2f" % (k + 1, self.rounds, best_score))
        run.evaluate(str(best), 2.5)   # the "retrain" of what it found, at another fidelity


def test_run_hook_drives_the_search(pctx, space, tmp_path):
    libnas.register_strategy(pctx, Sweep)
    reports = []

    def progress(p):
        if p.last_arch and p.last_arch.startswith("py-sweep round"):
            reports.append(p.last_arch)

    journal = tmp_path / "journal.jsonl"
    res = libnas.run(libnas.Searcher(space, "py-sweep", {"rounds": 4}, seed=3, objectives=OBJECTIVE), table(space),
                     journal=journal, progress=progress)
    assert res.stop_reason == "done" and len(res.trials) == 5    # no budget needed: the hook ends it
    assert [t.fidelity for t in res.trials] == [0.0] * 4 + [2.5]
    best4 = max(res.trials[:4], key=lambda t: t.metrics["test_acc"])
    assert res.trials[4].arch == best4.arch and res.trials[4].metrics == best4.metrics
    assert reports == ["py-sweep round %d/4 best %.2f" % (k + 1, max(t.metrics["test_acc"] for t in res.trials[:k + 1]))
                       for k in range(4)]
    assert [t["arch"] for t in journal_trials(journal)] == [t.arch for t in res.trials]
    with pytest.raises(RuntimeError, match="valid only inside"):
        Sweep.seen[-1].should_stop()
    # A budget and a cancel are seen through should_stop().
    res = libnas.run(libnas.Searcher(space, "py-sweep", {"rounds": 10}, objectives=OBJECTIVE), table(space),
                     max_trials=3)
    assert len(res.trials) == 3 and res.stop_reason == "max_trials"
    done = [0]

    def count(p):
        done[0] = p.trials_done

    res = libnas.run(libnas.Searcher(space, "py-sweep", {"rounds": 10}, objectives=OBJECTIVE), table(space),
                     progress=count, cancel=lambda: done[0] >= 2)
    assert res.stop_reason == "cancelled" and len(res.trials) == 2
    # An exception in the hook ends the run with status callback and the Python message.
    with pytest.raises(libnas.LibnasError, match="ArithmeticError: round 1 went wrong") as e:
        libnas.run(libnas.Searcher(space, "py-sweep", {"fail_at": 1}, objectives=OBJECTIVE), table(space))
    assert e.value.name == "callback" and len(e.value.run_result.trials) == 1


def test_run_hook_resume(pctx, space, tmp_path):
    class Steps(libnas.Strategy):
        name = "py-steps"
        calls = []

        def ask(self):
            return self.searcher.space.arch()

        def run(self, run):
            Steps.calls.append(run.num_resumed)
            for k in range(run.num_resumed, 6):   # goes on after what a resume took back
                if run.should_stop():
                    return
                run.evaluate(self.searcher.space.enumerate(k * 11))

    libnas.register_strategy(pctx, Steps)
    journal = tmp_path / "j.jsonl"

    def go(**kw):
        return libnas.run(libnas.Searcher(space, "py-steps", objectives=OBJECTIVE), table(space), journal=journal,
                          **kw)

    first = go(max_trials=4)
    assert len(first.trials) == 4 and journal.read_text().endswith('{"type":"end","reason":"done"}\n')
    again = go(resume=True, max_trials=10)           # the hook said it was done: nothing more
    assert len(again.trials) == 4 and again.num_resumed == 4 and again.stop_reason == "done"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:-1]))          # killed before the end line
    resumed = go(resume=True, max_trials=10)
    assert Steps.calls == [0, 4] and resumed.num_resumed == 4
    assert [t.trial_id for t in resumed.trials] == list(range(6))
    assert [t.arch for t in resumed.trials] == [str(space.enumerate(k * 11)) for k in range(6)]
    assert len(libnas.load_journal(journal).trials) == 6
