"""Plots of runs (matplotlib, optional: imported only when a plot is asked for).

plot_anytime: best-so-far of an objective against the trial index and against time or cost.
plot_pareto: every trial in the plane of two metrics, the non-dominated front highlighted.
Both take a RunResult (from run() or load_journal()) and return the matplotlib Figure; with
path= they also save it (the format from the extension: .png, .svg, .pdf), headless included.
"""
import math
import os

from .results import Objective, RunResult, Trial, load_journal


def _pyplot():
    try:
        import matplotlib
        if not os.environ.get("MPLBACKEND") and not os.environ.get("DISPLAY") and \
                not os.environ.get("WAYLAND_DISPLAY"):
            matplotlib.use("Agg")   # headless: write files, never open a window
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("libnas plots need matplotlib (on Debian: apt-get install python3-matplotlib; "
                          "elsewhere: pip install matplotlib): %s" % e) from e
    return plt


_HISTORY_KEYS = ("trial_id", "arch", "status", "message", "cost")


def _from_history(rows, metric, maximize):
    """A RunResult of RunResult.history() rows (whose objective is not recorded: metric is needed)."""
    if metric is None:
        raise ValueError("a history does not record its objectives: pass metric= (and maximize=False to minimize)")
    trials = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise TypeError("a history is a list of dicts (RunResult.history()), not of %s" % type(row).__name__)
        metrics = {(k[7:] if k.startswith("metric:") else k): float(v) for k, v in row.items()
                   if k not in _HISTORY_KEYS}
        trials.append(Trial(i, int(row.get("trial_id", i)), str(row.get("arch", "")), str(row.get("status", "ok")),
                            str(row.get("message", "")), metrics, float(row.get("cost", 0.0))))
    return RunResult(trials, None, [], None, 0.0, 0, [Objective(metric, True if maximize is None else maximize)])


def _as_run(run, metric=None, maximize=None):
    if isinstance(run, RunResult):
        return run
    if isinstance(run, (str, os.PathLike)):
        return load_journal(run)
    if isinstance(run, (list, tuple)):
        return _from_history(run, metric, maximize)
    raise TypeError("expected a libnas.RunResult, a history (list of dicts) or the path of a journal, not %s"
                    % type(run).__name__)


def _objective(run, metric):
    """(name, maximize) of the metric to plot: the first objective by default."""
    for o in run.objectives:
        if metric is None or o.name == metric:
            return o
    if metric is None:
        raise ValueError("the run has no objective; name the metric to plot")
    raise ValueError("metric %r is not an objective of the run (objectives: %s); its direction is unknown"
                     % (metric, ", ".join(str(o) for o in run.objectives) or "none"))


def anytime_curve(run, metric=None):
    """(trial indices, best-so-far values, elapsed seconds, cumulative cost) of an objective, one
    entry per trial (NaN until the first trial that reported it). A failed trial never counts."""
    run = _as_run(run)
    obj = _objective(run, metric)
    best, out = math.nan, []
    cost = 0.0
    for i, t in enumerate(run.trials):
        cost += t.cost if math.isfinite(t.cost) else 0.0
        v = t.metrics.get(obj.name)
        if t.ok and v is not None and v == v:
            if best != best or (v > best if obj.maximize else v < best):
                best = v
        out.append((i, best, t.elapsed if t.elapsed is not None else math.nan, cost))
    return [list(col) for col in zip(*out)] if out else [[], [], [], []]


def _finish(fig, path):
    if path is not None:
        fig.savefig(os.fspath(path), bbox_inches="tight")
    return fig


def plot_anytime(run_or_history, metric=None, ax=None, path=None, x=None, maximize=None):
    """Best-so-far of `metric` (default: the first objective) against the trial index and against
    time: cumulative trial cost when the trials report one, else wall-clock elapsed.

    run_or_history: a RunResult, the path of a journal, or RunResult.history() rows (then metric
    is required and maximize says its direction, default True; they carry no elapsed times).

    x: None draws both panels (ax: None, or a sequence of two Axes); "trial", "cost" or "elapsed"
    draws one (ax: an Axes or None). Returns the Figure; saves it to path if given.
    """
    plt = _pyplot()
    run = _as_run(run_or_history, metric, maximize)
    obj = _objective(run, metric)
    idx, best, elapsed, cost = anytime_curve(run, obj.name)
    if x not in (None, "trial", "cost", "elapsed"):
        raise ValueError("x must be None, 'trial', 'cost' or 'elapsed', not %r" % (x,))
    time_axis = "cost" if cost and cost[-1] > 0 else "elapsed"
    panels = [x] if x is not None else ["trial", time_axis]
    if ax is None:
        fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(ax) if isinstance(ax, (list, tuple)) else [ax]
        if len(axes) != len(panels):
            raise ValueError("ax: %d Axes given for %d panels" % (len(axes), len(panels)))
        fig = axes[0].figure
    label = "best %s (%s)" % (obj.name, obj.direction)
    for a, kind in zip(axes, panels):
        xs = {"trial": [i + 1 for i in idx], "cost": cost, "elapsed": elapsed}[kind]
        a.step(xs, best, where="post", label=label)
        a.set_xlabel({"trial": "trial", "cost": "cumulative trial cost (s)", "elapsed": "elapsed (s)"}[kind])
        a.set_ylabel(label)
        a.grid(True, alpha=0.3)
    axes[0].set_title("%s on %s" % (run.searcher or "search", run.space or "space"))
    return _finish(fig, path)


def _direction(run, metric, given):
    if given is not None:
        return given
    for o in run.objectives:
        if o.name == metric:
            return o.maximize
    raise ValueError("metric %r is not an objective of the run (objectives: %s): pass its direction"
                     % (metric, ", ".join(str(o) for o in run.objectives) or "none"))


def pareto_points(run, x_metric, y_metric, x_maximize=None, y_maximize=None):
    """(points, front): (x, y, trial) of every successful trial reporting both metrics, and the
    non-dominated ones among them (directions from the objectives), sorted by x."""
    run = _as_run(run)
    xmax = _direction(run, x_metric, x_maximize)
    ymax = _direction(run, y_metric, y_maximize)
    pts = []
    for t in run.trials:
        xv, yv = t.metrics.get(x_metric), t.metrics.get(y_metric)
        if t.ok and xv is not None and yv is not None and math.isfinite(xv) and math.isfinite(yv):
            pts.append((xv, yv, t))

    def key(p):
        return (p[0] if xmax else -p[0], p[1] if ymax else -p[1])

    front, seen = [], set()
    for p in pts:
        kp = key(p)
        dominated = any(all(a >= b for a, b in zip(key(q), kp)) and key(q) != kp for q in pts)
        if not dominated and kp not in seen:
            seen.add(kp)
            front.append(p)
    front.sort(key=lambda p: p[0])
    return pts, front


def plot_pareto(run, x_metric=None, y_metric=None, ax=None, path=None, x_maximize=None, y_maximize=None):
    """Every successful trial in the (x_metric, y_metric) plane (default: the first two
    objectives), with the non-dominated front highlighted and connected. Directions come from the
    run's objectives (x_maximize / y_maximize for metrics that are not objectives). Returns the
    Figure; saves it to path if given."""
    plt = _pyplot()
    run = _as_run(run)
    if x_metric is None or y_metric is None:
        if len(run.objectives) < 2:
            raise ValueError("plot_pareto needs two metrics: the run has %d objective(s)" % len(run.objectives))
        x_metric = x_metric or run.objectives[0].name
        y_metric = y_metric or run.objectives[1].name
    pts, front = pareto_points(run, x_metric, y_metric, x_maximize, y_maximize)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4.5))
    else:
        fig = ax.figure
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=12, alpha=0.4, color="tab:gray",
               label="trials (%d)" % len(pts))
    ax.plot([p[0] for p in front], [p[1] for p in front], "o-", color="tab:red", markersize=5,
            label="non-dominated (%d)" % len(front))
    xo = Objective(x_metric, _direction(run, x_metric, x_maximize))
    yo = Objective(y_metric, _direction(run, y_metric, y_maximize))
    ax.set_xlabel("%s (%s)" % (xo.name, xo.direction))
    ax.set_ylabel("%s (%s)" % (yo.name, yo.direction))
    ax.set_title("%s on %s" % (run.searcher or "search", run.space or "space"))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    return _finish(fig, path)


__all__ = ["plot_anytime", "plot_pareto", "anytime_curve", "pareto_points"]
