"""Plots of runs and journals, written headless (MPLBACKEND=Agg), checked through matplotlib's objects."""
import sys

import pytest

import libnas
from libnas import plots
from search_util import OBJECTIVE, SPACE, dominates, table, write_multi_table

matplotlib = pytest.importorskip("matplotlib")


@pytest.fixture
def space(ctx):
    return libnas.Space.load(SPACE, ctx)


@pytest.fixture
def evo_run(space, tmp_path):
    s = libnas.Searcher(space, "evolution", {"population": 10, "sample": 3}, seed=2, objectives=OBJECTIVE)
    return libnas.run(s, table(space), max_trials=80, journal=tmp_path / "evo.jsonl")


@pytest.fixture
def multi_run(space, tmp_path):
    ev = libnas.Evaluator(space, "table", {"path": write_multi_table(tmp_path / "m.csv"), "cost_column": "train_s"})
    s = libnas.Searcher(space, "random", seed=3, objectives="test_acc:max,size:min")
    return libnas.run(s, ev, max_trials=120, journal=tmp_path / "multi.jsonl")


def _png(path):
    data = path.read_bytes()
    return len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_anytime(evo_run, tmp_path):
    import matplotlib.pyplot as plt
    path = tmp_path / "anytime.png"
    fig = plots.plot_anytime(evo_run, path=path)
    assert _png(path)
    axes = fig.get_axes()
    assert len(axes) == 2 and axes[1].get_xlabel() == "elapsed (s)"   # the table gives no cost
    xs, ys = axes[0].get_lines()[0].get_data()
    assert list(xs) == list(range(1, 81))
    accs = [t.metrics["test_acc"] for t in evo_run.trials]
    assert list(ys) == [max(accs[:i + 1]) for i in range(80)] and ys[-1] == evo_run.best.metrics["test_acc"]
    tx, ty = axes[1].get_lines()[0].get_data()
    assert list(tx) == [t.elapsed for t in evo_run.trials] and list(ty) == list(ys)
    plt.close(fig)
    # one panel on a given Axes, as SVG
    fig, ax = plt.subplots()
    svg = tmp_path / "a.svg"
    assert evo_run.plot_anytime(ax=ax, x="trial", path=svg) is fig
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    assert len(ax.get_lines()) == 1
    plt.close(fig)


def test_anytime_of_a_journal_uses_the_cost(multi_run, tmp_path):
    import matplotlib.pyplot as plt
    fig = plots.plot_anytime(multi_run.journal, metric="size", path=tmp_path / "j.png")
    assert _png(tmp_path / "j.png")
    ax_trial, ax_cost = fig.get_axes()
    assert ax_cost.get_xlabel() == "cumulative trial cost (s)"
    xs, ys = ax_cost.get_lines()[0].get_data()
    sizes = [t.metrics["size"] for t in multi_run.trials]
    assert list(ys) == [min(sizes[:i + 1]) for i in range(len(sizes))]   # size is minimized
    assert xs[-1] == pytest.approx(multi_run.cost) and all(b >= a for a, b in zip(xs, xs[1:]))
    plt.close(fig)
    with pytest.raises(ValueError, match="not an objective"):
        plots.plot_anytime(multi_run, metric="train_s")
    with pytest.raises(ValueError, match="x must be"):
        plots.plot_anytime(multi_run, x="wall")
    with pytest.raises(TypeError):
        plots.plot_anytime(42)


def test_pareto(multi_run, tmp_path):
    import matplotlib.pyplot as plt
    path = tmp_path / "pareto.png"
    fig = multi_run.plot_pareto("size", "test_acc", path=path)
    assert _png(path)
    ax = fig.get_axes()[0]
    assert len(ax.collections[0].get_offsets()) == len(multi_run.trials)   # every (successful) trial
    fx, fy = ax.get_lines()[0].get_data()
    front = {(t.metrics["size"], t.metrics["test_acc"]) for t in multi_run.pareto}
    assert set(zip(fx, fy)) == front and len(fx) == len(multi_run.pareto)   # the library's front
    assert list(fx) == sorted(fx)
    pts = [(-t.metrics["size"], t.metrics["test_acc"]) for t in multi_run.trials]
    for x, y in zip(fx, fy):
        assert not any(dominates(p, (-x, y)) for p in pts)
    assert ax.get_xlabel() == "size (min)" and ax.get_ylabel() == "test_acc (max)"
    plt.close(fig)
    # default metrics: the first two objectives; SVG
    fig = plots.plot_pareto(multi_run, path=tmp_path / "p.svg")
    assert "<svg" in (tmp_path / "p.svg").read_text()
    plt.close(fig)
    # a metric that is no objective needs its direction
    with pytest.raises(ValueError, match="direction"):
        plots.plot_pareto(multi_run, "train_s", "test_acc")
    fig = plots.plot_pareto(multi_run, "train_s", "test_acc", x_maximize=False)
    assert len(fig.get_axes()[0].get_lines()[0].get_data()[0]) == len(multi_run.pareto)   # train_s follows size
    plt.close(fig)


def test_pareto_needs_two_metrics(evo_run):
    with pytest.raises(ValueError, match="two metrics"):
        plots.plot_pareto(evo_run)


def test_missing_matplotlib(monkeypatch, evo_run):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # import matplotlib -> ImportError
    with pytest.raises(ImportError, match="python3-matplotlib"):
        plots.plot_anytime(evo_run)


def test_anytime_of_a_history(multi_run, tmp_path):
    import matplotlib.pyplot as plt
    hist = multi_run.history()
    fig = plots.plot_anytime(hist, metric="size", maximize=False, x="cost", path=tmp_path / "h.png")
    assert _png(tmp_path / "h.png")
    xs, ys = fig.get_axes()[0].get_lines()[0].get_data()
    ref = plots.anytime_curve(multi_run, "size")
    assert list(ys) == ref[1] and list(xs) == pytest.approx(ref[3])
    plt.close(fig)
    with pytest.raises(ValueError, match="metric="):
        plots.plot_anytime(hist)
    with pytest.raises(TypeError):
        plots.plot_anytime([1, 2], metric="size")
