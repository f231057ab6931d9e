"""Plain-data results of searches: trial results, trials, progress reports, whole runs, journals.

Nothing here holds a C handle: a RunResult is copied out of the library before the run it came
from is destroyed, and load_journal() builds the same object from a journal.jsonl file (what
`nas search` and run(journal=...) write), so the same analysis and plots work on both.
"""
import ctypes
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Dict, NamedTuple, Optional

from . import _capi
from ._lib import check, lib, status_code, status_name, to_bytes, to_str


class Objective(NamedTuple):
    """One objective of a search: a metric name and whether larger is better."""
    name: str
    maximize: bool

    @property
    def direction(self):
        return "max" if self.maximize else "min"

    def __str__(self):
        return "%s:%s" % (self.name, self.direction)


def parse_objectives(text):
    """[Objective] of "m1:max,m2:min" (the library's syntax); ValueError for a malformed string."""
    out = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, direction = item.rpartition(":")
        if not sep or direction.strip() not in ("max", "min") or not name.strip():
            raise ValueError("objective %r is not NAME:max or NAME:min" % item)
        out.append(Objective(name.strip(), direction.strip() == "max"))
    return out


@dataclass
class Result:
    """The outcome of one trial. status: the library's short status name ("ok", "diverged",
    "callback", ...); metrics: {name: float}; cost: seconds (measured or simulated). A cost of None
    means "not given": an evaluator written in Python then records its measured wall time."""
    status: str = "ok"
    message: str = ""
    metrics: Dict[str, float] = field(default_factory=dict)
    cost: Optional[float] = None

    @property
    def ok(self):
        return self.status == "ok"


def _as_result(value):
    """A Result from a Result or a dict of metrics."""
    if isinstance(value, Result):
        return value
    if isinstance(value, dict):
        return Result(metrics=dict(value))
    raise TypeError("expected a libnas.Result or a dict of metrics, not %s" % type(value).__name__)


def result_from_c(ptr):
    """A Result copied from a C nas_result_t* (an int address or a c_void_p)."""
    metrics = {}
    for i in range(lib.nas_result_num_metrics(ptr)):
        name, value = ctypes.c_char_p(), ctypes.c_double()
        if lib.nas_result_metric_at(ptr, i, ctypes.byref(name), ctypes.byref(value)) == _capi.NAS_OK:
            metrics[to_str(name.value)] = value.value
    return Result(status_name(lib.nas_result_status(ptr)), to_str(lib.nas_result_message(ptr)), metrics,
                  lib.nas_result_cost(ptr))


def result_to_c(result, ptr, default_cost=0.0):
    """Write a Result (or a dict of metrics) into a C nas_result_t* (cleared first)."""
    result = _as_result(result)
    try:
        code = status_code(result.status)
    except ValueError as e:
        raise ValueError("Result.status: %s" % e) from None
    cost = default_cost if result.cost is None else float(result.cost)
    if not math.isfinite(cost) or cost < 0:
        raise ValueError("Result.cost must be finite and >= 0, not %r" % result.cost)
    lib.nas_result_clear(ptr)
    check(lib.nas_result_set_status(ptr, code, to_bytes(result.message or None, "message")), "cannot set the status")
    for name, value in result.metrics.items():
        if not isinstance(name, str) or not name:
            raise ValueError("metric names must be non-empty strings, not %r" % (name,))
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError("metric %r must be a number, not %s" % (name, type(value).__name__)) from None
        check(lib.nas_result_set_metric(ptr, to_bytes(name, "metric name"), value),
              "cannot set metric %r" % name)
    check(lib.nas_result_set_cost(ptr, cost), "cannot set the cost")


@dataclass
class Trial:
    """One finished trial of a run, in finishing order (`index`). elapsed: seconds since the start of
    the run when it finished (None when unknown: trials taken back by a resume). fidelity: what the
    trial was evaluated at (0: the evaluator's default)."""
    index: int
    trial_id: int
    arch: str
    status: str
    message: str
    metrics: Dict[str, float]
    cost: float
    fidelity: Optional[float] = None
    elapsed: Optional[float] = None

    @property
    def ok(self):
        return self.status == "ok"


@dataclass
class Progress:
    """What the progress callback of run() receives after each trial. best_score is the best
    value of the first objective so far (as a metric, not sign-adjusted; None before any success),
    best_trial its trial id (None before any)."""
    trials_done: int
    trials_failed: int
    max_trials: int
    elapsed: float
    cost: float
    best_score: Optional[float]
    best_trial: Optional[int]
    last_arch: str
    last_status: str


def progress_from_c(p):
    """A Progress from a nas_progress_t."""
    best = p.best_score if not math.isnan(p.best_score) else None
    return Progress(p.trials_done, p.trials_failed, p.max_trials, p.elapsed_seconds, p.cost_seconds, best,
                    None if p.best_trial == 2 ** 64 - 1 else p.best_trial, to_str(p.last_arch),
                    status_name(p.last_status))


# ---------------------------------------------------------------------------------------------
# Scores, feasibility and the Pareto front, computed as the library does (for journals)

_CONSTRAINT = re.compile(r"^\s*(.+?)\s*(<=|>=)\s*(\S+)\s*$")


def parse_constraints(text):
    """[(metric, "<=" or ">=", bound)] of "m<=X,n>=Y"; ValueError for a malformed item."""
    out = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        m = _CONSTRAINT.match(item)
        if not m:
            raise ValueError("constraint %r is not METRIC<=VALUE or METRIC>=VALUE" % item)
        out.append((m.group(1), m.group(2), float(m.group(3))))
    return out


def _feasible(trial, constraints):
    if not trial.ok:
        return False
    for metric, op, bound in constraints:
        v = trial.metrics.get(metric)
        if v is None or v != v or (v > bound if op == "<=" else v < bound):
            return False
    return True


def scores(trial, objectives, constraints=()):
    """Sign-adjusted objective values (larger is better) of a trial; -inf for a failed or
    infeasible trial and for a missing or NaN metric (nas_searcher_scores())."""
    ok = _feasible(trial, constraints)
    out = []
    for o in objectives:
        v = trial.metrics.get(o.name)
        if not ok or v is None or v != v:
            out.append(-math.inf)
        else:
            out.append(v if o.maximize else -v)
    return out


def _dominates(a, b):
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def pareto_front(trials, objectives, constraints=()):
    """The non-dominated successful, feasible trials (all scores finite), in the given order;
    equal score vectors are represented by the first."""
    cand = [(t, scores(t, objectives, constraints)) for t in trials]
    cand = [(t, s) for t, s in cand if all(math.isfinite(x) for x in s)]
    front = []
    for i, (t, s) in enumerate(cand):
        if any(j != i and _dominates(s2, s) for j, (_, s2) in enumerate(cand)):
            continue
        if any(s2 == s for _, s2 in cand[:i]):
            continue
        front.append(t)
    return front


def best_trial(trials, objectives, constraints=()):
    """The trial with the best first objective (the first of equals), or None."""
    best, best_score = None, -math.inf
    for t in trials:
        s = scores(t, objectives[:1], constraints)[0] if objectives else -math.inf
        if s > best_score:
            best, best_score = t, s
    return best


# ---------------------------------------------------------------------------------------------
# Runs


class RunResult:
    """Everything about a finished (or stopped) run, as plain Python data.

    trials: [Trial] in finishing order (resumed ones first); best: the Trial with the best first
    objective, or None; pareto: [Trial] non-dominated over all objectives; stop_reason: "max_trials",
    "max_seconds", "max_cost", "exhausted", "cancelled", "error", "done" (None for a journal);
    elapsed: seconds; num_resumed: trials taken back from a journal; objectives: [Objective];
    constraints: the constraint string ("" if none); searcher, evaluator, space: names; seed; budget:
    {"max_trials", "max_seconds", "max_cost"}; journal: its path or None.
    """

    def __init__(self, trials, best, pareto, stop_reason, elapsed, num_resumed, objectives, constraints="",
                 searcher="", evaluator="", space="", seed=0, budget=None, journal=None, summary_json=None):
        self.trials = list(trials)
        self.best = best
        self.pareto = list(pareto)
        self.stop_reason = stop_reason
        self.elapsed = elapsed
        self.num_resumed = num_resumed
        self.objectives = list(objectives)
        self.constraints = constraints or ""
        self.searcher = searcher
        self.evaluator = evaluator
        self.space = space
        self.seed = seed
        self.budget = dict(budget or {"max_trials": 0, "max_seconds": 0.0, "max_cost": 0.0})
        self.journal = journal
        self._summary_json = summary_json  # the library's own summary, when the run came from it

    def __len__(self):
        return len(self.trials)

    def __repr__(self):
        best = "none" if self.best is None else "%s %s" % (self.best.arch, self.best.metrics)
        return "<libnas.RunResult %s: %d trials (%d failed), stopped: %s, best: %s>" % (
            self.searcher, len(self.trials), self.num_failed, self.stop_reason, best)

    @property
    def num_failed(self):
        return sum(1 for t in self.trials if not t.ok)

    @property
    def cost(self):
        """Sum of the trial costs (seconds)."""
        return math.fsum(t.cost for t in self.trials)

    def metric_names(self):
        """Every metric reported by a trial, in first-seen order."""
        names = {}
        for t in self.trials:
            for k in t.metrics:
                names.setdefault(k, None)
        return list(names)

    _BASE_KEYS = ("trial_id", "arch", "status", "message", "cost")

    def _metric_keys(self):
        """(metric name, column name): a metric named like a base column becomes "metric:NAME"."""
        return [(m, "metric:" + m if m in self._BASE_KEYS else m) for m in self.metric_names()]

    def history(self):
        """[{trial_id, arch, status, message, cost, <one key per metric>}] in finishing order; a
        metric a trial did not report is absent from its dict."""
        keys = self._metric_keys()
        out = []
        for t in self.trials:
            row = {"trial_id": t.trial_id, "arch": t.arch, "status": t.status, "message": t.message, "cost": t.cost}
            for m, k in keys:
                if m in t.metrics:
                    row[k] = t.metrics[m]
            out.append(row)
        return out

    def to_numpy(self):
        """A NumPy structured array, one row per trial: trial_id (u8), arch, status (unicode),
        cost (f8) and one f8 field per metric (NaN where a trial did not report it)."""
        import numpy as np
        keys = self._metric_keys()
        width = max([len(t.arch) for t in self.trials] + [1])
        swidth = max([len(t.status) for t in self.trials] + [1])
        dtype = [("trial_id", "u8"), ("arch", "U%d" % width), ("status", "U%d" % swidth), ("cost", "f8")]
        dtype += [(k, "f8") for _, k in keys]
        arr = np.zeros(len(self.trials), dtype=dtype)
        for i, t in enumerate(self.trials):
            arr[i] = (t.trial_id, t.arch, t.status, t.cost) + tuple(t.metrics.get(m, math.nan) for m, _ in keys)
        return arr

    def summary(self):
        """The run summary as a dict (the same fields as the library's summary.json)."""
        if self._summary_json is not None:
            return json.loads(self._summary_json)
        return json.loads(self._build_summary())

    def _build_summary(self):
        def trial(t):
            return {"index": t.index, "trial": t.trial_id, "arch": t.arch,
                    "metrics": {k: (v if math.isfinite(v) else None) for k, v in t.metrics.items()},
                    "cost": t.cost}
        d = {"libnas": to_str(lib.nas_version_string()), "space": self.space, "searcher": self.searcher,
             "evaluator": self.evaluator, "objectives": ",".join(str(o) for o in self.objectives),
             "constraints": self.constraints, "seed": self.seed, "budget": self.budget, "journal": self.journal,
             "trials": len(self.trials), "resumed": self.num_resumed, "failed": self.num_failed,
             "cost_seconds": self.cost, "elapsed_seconds": self.elapsed, "stop_reason": self.stop_reason or "",
             "best": trial(self.best) if self.best is not None else None}
        if len(self.objectives) > 1:
            d["pareto"] = [trial(t) for t in self.pareto]
        return json.dumps(d, indent=2) + "\n"

    def write_summary(self, path):
        """Write the summary as one JSON object to path (a temporary file renamed over it). For a
        run made by run() it is the library's own summary (nas_run_write_summary())."""
        text = self._summary_json if self._summary_json is not None else self._build_summary()
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".summary-", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def plot_anytime(self, metric=None, ax=None, path=None, x=None):
        """plots.plot_anytime(self, ...)."""
        from . import plots
        return plots.plot_anytime(self, metric=metric, ax=ax, path=path, x=x)

    def plot_pareto(self, x_metric=None, y_metric=None, ax=None, path=None):
        """plots.plot_pareto(self, ...)."""
        from . import plots
        return plots.plot_pareto(self, x_metric, y_metric, ax=ax, path=path)


def run_result_from_c(run, objectives, searcher, evaluator, space, times, budget, journal):
    """A RunResult copied out of a C nas_run_t* (times: {trials_done: elapsed} seen by progress)."""
    trials = []
    for i in range(lib.nas_run_num_trials(run)):
        tid, arch, res = ctypes.c_uint64(), ctypes.c_char_p(), ctypes.c_void_p()
        if lib.nas_run_trial(run, i, ctypes.byref(tid), ctypes.byref(arch), ctypes.byref(res)) != _capi.NAS_OK:
            continue
        r = result_from_c(res.value)
        fidelity = ctypes.c_double()
        lib.nas_run_trial_fidelity(run, i, ctypes.byref(fidelity))
        trials.append(Trial(i, tid.value, to_str(arch.value), r.status, r.message, r.metrics, r.cost,
                            fidelity=fidelity.value))
    resumed = lib.nas_run_num_resumed(run)
    for t in trials[resumed:]:
        t.elapsed = times.get(t.index + 1)
    best = None
    idx = ctypes.c_uint64()
    if lib.nas_run_best(run, ctypes.byref(idx)) == _capi.NAS_OK and idx.value < len(trials):
        best = trials[idx.value]
    n = ctypes.c_uint64()
    lib.nas_run_pareto(run, None, 0, ctypes.byref(n))
    front = (ctypes.c_uint64 * max(1, n.value))()
    pareto = []
    if lib.nas_run_pareto(run, front, n.value, ctypes.byref(n)) == _capi.NAS_OK:
        pareto = [trials[front[i]] for i in range(n.value) if front[i] < len(trials)]
    summary = None
    with tempfile.TemporaryDirectory(prefix="libnas-") as d:
        p = os.path.join(d, "summary.json")
        if lib.nas_run_write_summary(run, to_bytes(p)) == _capi.NAS_OK:
            with open(p, encoding="utf-8") as f:
                summary = f.read()
    try:
        info = json.loads(summary) if summary else {}
    except ValueError:
        info = {}
    return RunResult(trials, best, pareto, to_str(lib.nas_run_stop_reason(run)), lib.nas_run_elapsed(run), resumed,
                     objectives, info.get("constraints", ""), searcher, evaluator, space, int(info.get("seed", 0)),
                     budget, journal, summary)


def _num(v):
    return math.nan if v is None else float(v)


def load_journal(path):
    """A RunResult from a journal.jsonl (a header line, then one line per trial; "front" lines are
    recomputed). A torn last line (a run killed while writing it) is ignored; any other malformed
    line raises ValueError naming the line. best and pareto are computed as the library does;
    stop_reason is None; elapsed is the sum of the trials' evaluation times."""
    path = os.fspath(path)
    with open(path, "r", encoding="utf-8") as f:
        lines = f.read().split("\n")
    torn_ok = len(lines) > 0 and lines[-1] != ""   # the file does not end with a newline
    header, trials, clock = None, [], 0.0
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict):
                raise ValueError("not a JSON object")
        except ValueError as e:
            if n == len(lines) and torn_ok:
                break
            raise ValueError("%s:%d: malformed journal line (%s)" % (path, n, e)) from None
        kind = rec.get("type")
        if kind == "header":
            if header is None:
                header = rec
        elif kind == "trial":
            if header is None:
                raise ValueError("%s:%d: trial before the header line" % (path, n))
            try:
                elapsed = _num(rec.get("elapsed"))
                clock += elapsed if math.isfinite(elapsed) else 0.0
                trials.append(Trial(len(trials), int(rec["trial"]), str(rec["arch"]), str(rec.get("status", "ok")),
                                    str(rec.get("message", "")),
                                    {str(k): _num(v) for k, v in (rec.get("metrics") or {}).items()},
                                    _num(rec.get("cost", 0.0)), _num(rec.get("fidelity", 0.0)), clock))
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError("%s:%d: malformed trial line (%r)" % (path, n, e)) from None
        elif kind in ("front", "end"):
            pass   # the front is recomputed below over every trial; "end": a run hook finished
        else:
            raise ValueError("%s:%d: unknown journal line type %r" % (path, n, kind))
    if header is None:
        raise ValueError("%s: no header line: not a libnas journal" % path)
    objectives = parse_objectives(header.get("objectives", ""))
    constraints = header.get("constraints", "") or ""
    cons = parse_constraints(constraints)
    return RunResult(trials, best_trial(trials, objectives, cons), pareto_front(trials, objectives, cons), None, clock,
                     0, objectives, constraints, header.get("searcher", ""), header.get("evaluator", ""),
                     header.get("space", ""), int(header.get("seed", 0)), header.get("budget"), path)
