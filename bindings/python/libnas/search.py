"""Searchers, evaluators, the run driver and experiment files.

    ctx = libnas.Context(seed=1)
    space = libnas.Space.load("spaces/nas-bench-201.yaml", ctx)
    s = libnas.Searcher(space, "evolution", {"population": 20}, seed=1, objectives="test_acc:max")
    ev = libnas.Evaluator(space, "table", {"path": "data/nb201/cifar10_test.csv"})
    res = libnas.run(s, ev, max_trials=300)
    print(res.best.arch, res.best.metrics)

Callbacks (progress, cancel, strategies and evaluators written in Python) never let an exception
unwind through C: it is caught, the library is told to stop (or the trial fails, see plugins.py),
and the exception is raised again once the C call has returned. Ctrl-C raises KeyboardInterrupt
inside whichever callback runs next; run() always installs a cancel callback, so the run stops
after the running trial, the finished trials stay in the journal, and KeyboardInterrupt is raised.
"""
import ctypes
import math
import os
import threading
import traceback
import weakref
from dataclasses import dataclass

from . import _capi
from ._handle import Handle
from ._lib import check, error, lib, to_bytes, to_str
from .core import Params, _context
from .results import (Objective, Progress, Result, RunResult, Trial, load_journal,  # noqa: F401
                      progress_from_c, result_from_c, result_to_c, run_result_from_c)
from .space import Arch, Space

# ---------------------------------------------------------------------------------------------
# Exceptions raised inside callbacks, kept until the C call that ran them returns


class _Pending(threading.local):
    exc = None


_pending = _Pending()
_INTERRUPTS = (KeyboardInterrupt, SystemExit)


def _stash(exc):
    """Keep an exception raised in a callback (the first one; an interrupt wins over the rest)."""
    old = _pending.exc
    if old is None or (isinstance(exc, _INTERRUPTS) and not isinstance(old, _INTERRUPTS)):
        _pending.exc = exc


def _take():
    exc, _pending.exc = _pending.exc, None
    return exc


def _interrupted():
    """Whether a callback caught Ctrl-C (or SystemExit) that is waiting to be raised."""
    return isinstance(_pending.exc, _INTERRUPTS)


def describe(exc):
    """"Type: text (at file:line in function)" of an exception, for C error messages."""
    text = "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__
    tb = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else None
    if tb:
        # the innermost frame of the user's code (not of this package), else the innermost
        here = os.path.dirname(os.path.abspath(__file__))
        user = [f for f in tb if os.path.dirname(os.path.abspath(f.filename)) != here]
        f = user[-1] if user else tb[-1]
        text += " (at %s:%d in %s)" % (os.path.basename(f.filename), f.lineno, f.name)
    return text


def _checked(status, errmsg):
    """After a C call that may have run Python callbacks: raise an interrupt a callback caught, or
    the LibnasError of a failed status (chained to the callback's exception, if one caused it)."""
    exc = _take()
    if isinstance(exc, _INTERRUPTS):
        raise exc
    if status == _capi.NAS_OK:
        return
    msg = errmsg() if callable(errmsg) else errmsg
    if isinstance(msg, bytes):
        msg = to_str(msg)
    err = error(status, msg or "")
    if exc is not None:
        raise err from exc
    raise err


# ---------------------------------------------------------------------------------------------
# Python Space objects by C pointer, so Python strategies get the Space the user made

_spaces = weakref.WeakValueDictionary()


def _register_space(space):
    _spaces[space._ptr] = space


def _find_space(ptr):
    space = _spaces.get(ptr)
    return space if space is not None and space._ptr == ptr else None


class _CResult(Handle):
    """A C nas_result_t owned from Python (scratch space for tell and evaluate)."""

    _destroy = lib.nas_result_destroy

    def __init__(self, context):
        ptr = ctypes.c_void_p()
        check(lib.nas_result_create(ctypes.byref(ptr), context), context.errmsg)
        super().__init__(ptr.value, context)


def _params(values, ctx):
    """(Params or None, owned): a Params from a dict (or a Params passed through)."""
    if values is None:
        return None, False
    if isinstance(values, Params):
        return values, False
    if not isinstance(values, dict):
        raise TypeError("params must be a dict, not %s" % type(values).__name__)
    return Params(values, ctx), True


def _joined(value, what):
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        parts = [str(v) for v in value]
        if not all(isinstance(v, (str, Objective)) for v in value):
            raise TypeError("%s must be a string or a list of strings" % what)
        return ",".join(parts)
    raise TypeError("%s must be a string or a list of strings, not %s" % (what, type(value).__name__))


def _open(handle):
    """ValueError for a closed handle (ctypes would wrap it in an ArgumentError)."""
    if handle.closed:
        raise ValueError("this %s is closed" % type(handle).__name__)
    return handle


def _count(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2 ** 64:
        raise ValueError("%s must be an int in [0, 2**64), not %r" % (what, value))
    return value


def _seconds(value, what):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError("%s must be a number, not %r" % (what, value)) from None
    if not math.isfinite(v) or v < 0:
        raise ValueError("%s must be finite and >= 0, not %r" % (what, value))
    return v


# ---------------------------------------------------------------------------------------------
# Searchers


@dataclass
class Candidate:
    """A proposal of a searcher: trial id, architecture (a libnas.Arch) and fidelity (0: the
    evaluator's default)."""
    trial_id: int
    arch: Arch
    fidelity: float = 0.0


class _OnSpace(Handle):
    """A handle made on a space by registered name with parameters (searchers, evaluators)."""

    def _create(self, space, params, create):
        """create(out, params) is the C create call; failures raise with the context's message."""
        if not isinstance(space, Space):
            raise TypeError("space must be a libnas.Space, not %s" % type(space).__name__)
        ctx = space.context
        p, owned = _params(params, ctx)
        _register_space(space)
        ptr = ctypes.c_void_p()
        try:
            _take()
            _checked(create(ctypes.byref(ptr), p), ctx.errmsg)
        finally:
            if owned:
                p.close()
        Handle.__init__(self, ptr.value, space)
        self.space = space
        self.context = ctx
        self._res = None


class Searcher(_OnSpace):
    """A search strategy over a space, created by registered name (built-in or a Python strategy,
    see plugins.py): "random", "evolution", "grid", ...; ctx.searchers() lists them.

    params: dict of strategy parameters (every key must be one the strategy reads);
    seed: 0 derives it from the context's seed; objectives: "metric:max" or "m1:max,m2:min" (or a
    list of such strings; default "accuracy:max"); constraints: "metric<=X,metric>=Y" (or a list).
    """

    _destroy = lib.nas_searcher_destroy

    def __init__(self, space, name, params=None, seed=0, objectives=None, constraints=None):
        opts = _capi.nas_searcher_opts_t()   # NAS_SEARCHER_OPTS_INIT: all zero but struct_size
        opts.struct_size = ctypes.sizeof(opts)
        opts.seed = _count(seed, "seed")
        opts.objectives = to_bytes(_joined(objectives, "objectives"), "objectives")
        opts.constraints = to_bytes(_joined(constraints, "constraints"), "constraints")
        cname = to_bytes(name, "searcher name")
        self._create(space, params,
                     lambda out, p: lib.nas_searcher_create(out, space, cname, p, ctypes.byref(opts)))

    def errmsg(self):
        return to_str(lib.nas_searcher_errmsg(self)) if self._ptr else ""

    @property
    def name(self):
        return to_str(lib.nas_searcher_name(self))

    @property
    def num_asked(self):
        """Trials asked so far (the next trial id)."""
        return lib.nas_searcher_num_asked(self)

    @property
    def objectives(self):
        """[Objective(name, maximize)]."""
        out = []
        for i in range(lib.nas_searcher_num_objectives(self)):
            name, mx = ctypes.c_char_p(), ctypes.c_bool()
            check(lib.nas_searcher_objective(self, i, ctypes.byref(name), ctypes.byref(mx)), self.errmsg)
            out.append(Objective(to_str(name.value), bool(mx.value)))
        return out

    @property
    def num_constraints(self):
        return lib.nas_searcher_num_constraints(self)

    @property
    def can_save(self):
        """Whether the strategy implements save and load (checkpoints)."""
        return bool(lib.nas_searcher_can_save(self))

    def _cresult(self, result):
        if self._res is None or self._res.closed:
            self._res = _CResult(self.context)
        result_to_c(result, self._res)
        return self._res

    def ask(self):
        """The next Candidate, or None when the strategy has nothing more to propose."""
        _open(self)
        arch = Arch(self.space)
        cand = _capi.nas_candidate_t()
        cand.struct_size = ctypes.sizeof(cand)
        cand.arch = arch._ptr
        _take()
        st = lib.nas_searcher_ask(self, ctypes.byref(cand))
        if st == _capi.NAS_E_EXHAUSTED:
            _checked(_capi.NAS_OK, None)
            arch.close()
            return None
        _checked(st, self.errmsg)
        return Candidate(cand.trial_id, arch, cand.fidelity)

    def tell(self, candidate, result):
        """Report the Result (or dict of metrics) of an asked candidate; a failed trial is told too."""
        _open(self)
        if not isinstance(candidate, Candidate):
            raise TypeError("tell() takes the Candidate that ask() returned")
        cand = _capi.nas_candidate_t()
        cand.struct_size = ctypes.sizeof(cand)
        cand.trial_id = candidate.trial_id
        cand.arch = candidate.arch._as_parameter_.value
        cand.fidelity = candidate.fidelity
        res = self._cresult(result)
        _take()
        _checked(lib.nas_searcher_tell(self, ctypes.byref(cand), res), self.errmsg)

    def scores(self, result):
        """Sign-adjusted objective values of a Result (larger is better; -inf for a failed or
        infeasible trial and for a missing metric)."""
        n = max(1, lib.nas_searcher_num_objectives(self))
        out = (ctypes.c_double * n)()
        check(lib.nas_searcher_scores(self, self._cresult(result), out, n), self.errmsg)
        return list(out)

    def violation(self, result):
        """How far a Result is from meeting the constraints (0: feasible)."""
        return lib.nas_searcher_violation(self, self._cresult(result))

    def save(self):
        """The searcher's whole state as bytes (for load() into an equal, fresh searcher)."""
        _open(self)
        n = ctypes.c_size_t()
        _take()
        st = lib.nas_searcher_save(self, None, 0, ctypes.byref(n))
        if st != _capi.NAS_E_RANGE:
            _checked(st, self.errmsg)
        buf = ctypes.create_string_buffer(max(1, n.value))
        _take()
        _checked(lib.nas_searcher_save(self, buf, len(buf), ctypes.byref(n)), self.errmsg)
        return buf.raw[:n.value]

    def load(self, data):
        """Restore a state saved by save() into this searcher (same strategy, parameters, seed,
        objectives and space; never asked yet)."""
        _open(self)
        data = bytes(data)
        _take()
        _checked(lib.nas_searcher_load(self, data, len(data)), self.errmsg)

    def __repr__(self):
        if self.closed:
            return "<libnas.Searcher (closed)>"
        return "<libnas.Searcher %r: %s, %d asked>" % (self.name, ",".join(map(str, self.objectives)),
                                                      self.num_asked)


# ---------------------------------------------------------------------------------------------
# Evaluators


class Evaluator(_OnSpace):
    """Measures candidates, created by registered name: "table" (params path, key_column,
    cost_column), "train", or an evaluator written in Python (plugins.py)."""

    _destroy = lib.nas_evaluator_destroy

    def __init__(self, space, name, params=None):
        cname = to_bytes(name, "evaluator name")
        self._create(space, params, lambda out, p: lib.nas_evaluator_create(out, space, cname, p))

    def errmsg(self):
        return to_str(lib.nas_evaluator_errmsg(self)) if self._ptr else ""

    @property
    def name(self):
        return to_str(lib.nas_evaluator_name(self))

    def evaluate(self, arch, fidelity=0):
        """The Result of an Arch (or a Candidate: its trial id and, unless fidelity is given, its
        fidelity). A failed trial is a Result whose status says why; an evaluator that cannot go
        on raises LibnasError."""
        _open(self)
        trial_id = 0
        if isinstance(arch, Candidate):
            trial_id = arch.trial_id
            fidelity = fidelity or arch.fidelity
            arch = arch.arch
        if not isinstance(arch, Arch):
            raise TypeError("evaluate() takes a libnas.Arch or a Candidate, not %s" % type(arch).__name__)
        cand = _capi.nas_candidate_t()
        cand.struct_size = ctypes.sizeof(cand)
        cand.trial_id = trial_id
        cand.arch = arch._as_parameter_.value
        cand.fidelity = _seconds(fidelity, "fidelity")
        if self._res is None or self._res.closed:
            self._res = _CResult(self.context)
        _take()
        _checked(lib.nas_evaluator_evaluate(self, ctypes.byref(cand), self._res), self.errmsg)
        return result_from_c(self._res._ptr)

    def __repr__(self):
        return "<libnas.Evaluator %r>" % (self.name if not self.closed else "(closed)")


# ---------------------------------------------------------------------------------------------
# Runs


class _RunCallbacks:
    """The progress and cancel callbacks of one run, with the exception that stopped it."""

    def __init__(self, progress, cancel):
        self.progress = progress
        self.cancel = cancel
        self.error = None           # an exception of the user's progress or cancel
        self.user_cancelled = False
        self.times = {}             # trials_done -> elapsed seconds
        self.c_progress = _capi.nas_progress_fn(self._on_progress)
        self.c_cancel = _capi.nas_cancel_fn(self._on_cancel)

    def _fail(self, exc):
        if isinstance(exc, _INTERRUPTS):
            _stash(exc)
        elif self.error is None:
            self.error = exc

    def _on_progress(self, _user, p):
        try:
            pr = p.contents
            self.times.setdefault(pr.trials_done, pr.elapsed_seconds)
            if self.progress is not None and self.error is None and not _interrupted():
                self.progress(progress_from_c(pr))
        except BaseException as e:  # noqa: B902 (Ctrl-C included: never unwind into C)
            self._fail(e)

    def _on_cancel(self, _user):
        try:
            if self.error is not None or _interrupted():
                return True
            if self.cancel is not None and self.cancel():
                self.user_cancelled = True
                return True
            return False
        except BaseException as e:  # noqa: B902
            self._fail(e)
            return True


def run(searcher, evaluator, max_trials=0, max_seconds=0, max_cost=0, journal=None, checkpoint=None, resume=False,
        isolate=False, trial_timeout=0, progress=None, cancel=None):
    """Run `searcher` against `evaluator` until a budget is spent (max_trials; max_seconds of wall
    clock; max_cost, summed trial costs), the searcher is exhausted, or cancel() returns True.

    journal: path of the append-only JSON-lines journal; checkpoint: path of the searcher's
    checkpoint (rewritten during the run); resume: continue the search recorded in `journal`
    (same searcher setup and seed); isolate: evaluate each trial in a child process (a crash is a
    failed trial); trial_timeout: seconds per trial (implies isolate).
    progress(Progress) is called after each trial; cancel() -> bool is polled before each.

    Returns a RunResult. A cancel asked by cancel() returns normally (stop_reason "cancelled").
    An exception raised by progress or cancel stops the run and is raised again afterwards;
    Ctrl-C stops after the running trial and raises KeyboardInterrupt; a failure of the library
    raises LibnasError. In all three cases the exception has a `run_result` attribute with the
    trials finished before it (they are in the journal too).
    """
    if not isinstance(searcher, Searcher) or searcher.closed:
        raise TypeError("searcher must be an open libnas.Searcher")
    if not isinstance(evaluator, Evaluator) or evaluator.closed:
        raise TypeError("evaluator must be an open libnas.Evaluator")
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable")
    if cancel is not None and not callable(cancel):
        raise TypeError("cancel must be callable")
    if resume and journal is None:
        raise ValueError("resume=True needs the journal to resume from")
    opts = _capi.nas_run_opts_t()   # NAS_RUN_OPTS_INIT: all zero but struct_size
    opts.struct_size = ctypes.sizeof(opts)
    opts.max_trials = _count(max_trials, "max_trials")
    opts.max_seconds = _seconds(max_seconds, "max_seconds")
    opts.max_cost = _seconds(max_cost, "max_cost")
    opts.trial_timeout = _seconds(trial_timeout, "trial_timeout")
    opts.journal_path = to_bytes(journal, "journal")
    opts.checkpoint_path = to_bytes(checkpoint, "checkpoint")
    opts.resume = bool(resume)
    opts.isolate = bool(isolate)
    cb = _RunCallbacks(progress, cancel)
    opts.progress = cb.c_progress
    opts.cancel = cb.c_cancel   # always: Ctrl-C is raised in the next Python callback
    ctx = searcher.context
    ptr = ctypes.c_void_p()
    _take()
    st = lib.nas_run_create(ctypes.byref(ptr), searcher, evaluator, ctypes.byref(opts))
    _checked(st, ctx.errmsg)
    run_ptr = ptr.value
    try:
        st = lib.nas_run_execute(run_ptr)
        msg = to_str(lib.nas_run_errmsg(run_ptr))
        result = run_result_from_c(run_ptr, searcher.objectives, searcher.name, evaluator.name, searcher.space.name,
                                   cb.times, {"max_trials": opts.max_trials, "max_seconds": opts.max_seconds,
                                              "max_cost": opts.max_cost},
                                   os.fspath(journal) if journal is not None else None)
    finally:
        lib.nas_run_destroy(run_ptr)
    pending = _take()
    exc = pending if isinstance(pending, _INTERRUPTS) else cb.error
    if exc is not None:
        exc.run_result = result
        raise exc
    if st == _capi.NAS_E_ABORTED and cb.user_cancelled:
        return result
    if st != _capi.NAS_OK:
        err = error(st, msg)
        err.run_result = result
        if pending is not None:
            raise err from pending
        raise err
    return result


# ---------------------------------------------------------------------------------------------
# Experiment files


class Experiment(Handle):
    """An experiment file (docs/experiments.md): space, strategy and its parameters, evaluator
    and its parameters, objectives, constraints, seed, budget and output folder, as `nas search`
    reads them. Experiment.load(path).run() runs it like the CLI does."""

    _destroy = lib.nas_experiment_destroy

    def __init__(self, ptr, context):
        super().__init__(ptr, context)
        self.context = context
        self._space = None

    @classmethod
    def load(cls, path, context=None):
        ctx = _context(context)
        ptr = ctypes.c_void_p()
        check(lib.nas_experiment_load_file(ctypes.byref(ptr), ctx, to_bytes(path, "path")), ctx.errmsg)
        return cls(ptr.value, ctx)

    @classmethod
    def from_string(cls, yaml, context=None, base_dir=None):
        """From YAML text; relative paths resolve against base_dir (None: the current folder)."""
        ctx = _context(context)
        data = to_bytes(yaml, "yaml")
        ptr = ctypes.c_void_p()
        check(lib.nas_experiment_load_string(ctypes.byref(ptr), ctx, data, len(data),
                                             to_bytes(base_dir, "base_dir")), ctx.errmsg)
        return cls(ptr.value, ctx)

    @property
    def space(self):
        """The experiment's space (owned by the experiment)."""
        if self._space is None or self._space.closed:
            self._space = Space._borrowed(lib.nas_experiment_space(self), self.context, self)
            _register_space(self._space)
        return self._space

    @property
    def name(self):
        return to_str(lib.nas_experiment_name(self))

    @property
    def searcher(self):
        return to_str(lib.nas_experiment_searcher(self))

    @property
    def searcher_params(self):
        return Params._from_c(lib.nas_experiment_searcher_params(self))

    @property
    def objectives(self):
        return to_str(lib.nas_experiment_objectives(self))

    @property
    def constraints(self):
        return to_str(lib.nas_experiment_constraints(self))

    @property
    def evaluator(self):
        return to_str(lib.nas_experiment_evaluator(self))

    @property
    def evaluator_params(self):
        return Params._from_c(lib.nas_experiment_evaluator_params(self))

    @property
    def seed(self):
        return lib.nas_experiment_seed(self)

    @property
    def output_dir(self):
        """The resolved output folder, or None when the file sets none."""
        return to_str(lib.nas_experiment_output_dir(self)) or None

    @property
    def budget(self):
        """{"max_trials", "max_seconds", "max_cost"} (0: unlimited)."""
        o = _capi.nas_run_opts_t()
        o.struct_size = ctypes.sizeof(o)
        check(lib.nas_experiment_budget(self, ctypes.byref(o)), self.context.errmsg)
        return {"max_trials": o.max_trials, "max_seconds": o.max_seconds, "max_cost": o.max_cost}

    def make_searcher(self):
        """A Searcher as the experiment describes it."""
        return Searcher(self.space, self.searcher, self.searcher_params, seed=self.seed, objectives=self.objectives,
                        constraints=self.constraints or None)

    def make_evaluator(self):
        return Evaluator(self.space, self.evaluator, self.evaluator_params)

    def run(self, progress=None, cancel=None, journal=None, resume=False, checkpoint=None, output_dir=None,
            overwrite=False, max_trials=None, isolate=False, trial_timeout=0):
        """Run the experiment (searcher and evaluator made from it; its budget unless max_trials
        overrides the trial budget). With an output folder (output_dir, else the file's `output`),
        the journal defaults to OUT/journal.jsonl, the checkpoint to OUT/searcher.state, and
        OUT/summary.json is written at the end, as `nas search` does. An existing journal is
        refused (FileExistsError) unless resume=True or overwrite=True (which deletes it first)."""
        out = os.fspath(output_dir) if output_dir is not None else self.output_dir
        if out:
            os.makedirs(out, exist_ok=True)
            if journal is None:
                journal = os.path.join(out, "journal.jsonl")
            if checkpoint is None:
                checkpoint = os.path.join(out, "searcher.state")
        if journal is not None and os.path.exists(journal) and not resume:
            if not overwrite:
                raise FileExistsError("%s exists: pass resume=True to continue that search or overwrite=True"
                                      % journal)
            for p in (journal, checkpoint):
                if p is not None and os.path.exists(p):
                    os.unlink(p)
        budget = self.budget
        if max_trials is not None:
            budget["max_trials"] = max_trials
        with self.make_searcher() as s, self.make_evaluator() as ev:
            result = run(s, ev, budget["max_trials"], budget["max_seconds"], budget["max_cost"], journal=journal,
                         checkpoint=checkpoint, resume=resume, isolate=isolate, trial_timeout=trial_timeout,
                         progress=progress, cancel=cancel)
        if out:
            result.write_summary(os.path.join(out, "summary.json"))
        return result

    def __repr__(self):
        if self.closed:
            return "<libnas.Experiment (closed)>"
        return "<libnas.Experiment %r: %s on %r, %s>" % (self.name, self.searcher, self.space.name, self.objectives)


__all__ = ["Candidate", "Evaluator", "Experiment", "Objective", "Progress", "Result", "RunResult", "Searcher",
           "Trial", "load_journal", "run"]
