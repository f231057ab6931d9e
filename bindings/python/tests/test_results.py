"""Plain-data results: Result <-> nas_result_t, history and NumPy views, summaries, journals, fronts."""
import json
import math
import random

import pytest

import libnas
from libnas import results
from libnas.search import _CResult
from search_util import OBJECTIVE, SPACE, dominates, signed, table, write_multi_table


def test_result_round_trip(ctx):
    c = _CResult(ctx)
    r = libnas.Result("diverged", "loss is nan", {"acc": 0.5, "loss": math.nan, "big": math.inf}, 3.25)
    results.result_to_c(r, c)
    back = results.result_from_c(c._ptr)
    assert (back.status, back.message, back.cost) == ("diverged", "loss is nan", 3.25) and not back.ok
    assert list(back.metrics) == ["acc", "loss", "big"] and back.metrics["acc"] == 0.5
    assert math.isnan(back.metrics["loss"]) and back.metrics["big"] == math.inf
    results.result_to_c({"x": 1}, c)
    assert results.result_from_c(c._ptr) == libnas.Result("ok", "", {"x": 1.0}, 0.0)
    with pytest.raises(ValueError, match="unknown status name"):
        results.result_to_c(libnas.Result("fine"), c)
    with pytest.raises(ValueError, match="cost"):
        results.result_to_c(libnas.Result(cost=-1), c)
    with pytest.raises(TypeError, match="metric 'a'"):
        results.result_to_c({"a": "high"}, c)
    with pytest.raises(TypeError):
        results.result_to_c([1, 2], c)


def test_objective_and_constraint_parsing():
    assert results.parse_objectives("a:max, b : min") == [libnas.Objective("a", True), libnas.Objective("b", False)]
    assert str(libnas.Objective("lat", False)) == "lat:min"
    with pytest.raises(ValueError):
        results.parse_objectives("a:up")
    assert results.parse_constraints("size<=3,acc>=0.5") == [("size", "<=", 3.0), ("acc", ">=", 0.5)]
    with pytest.raises(ValueError):
        results.parse_constraints("size=3")


def _trial(i, metrics, status="ok", cost=1.0):
    return libnas.Trial(i, 100 + i, "a%d" % i, status, "" if status == "ok" else "failed", metrics, cost)


def test_history_and_numpy_with_missing_metrics():
    np = pytest.importorskip("numpy")
    trials = [_trial(0, {"acc": 0.5}), _trial(1, {"acc": 0.7, "lat": 3.0}), _trial(2, {}, "crashed"),
              _trial(3, {"cost": 9.0, "acc": 0.6})]
    run = libnas.RunResult(trials, trials[1], [trials[1]], "max_trials", 1.0, 0, [libnas.Objective("acc", True)])
    assert run.metric_names() == ["acc", "lat", "cost"] and run.num_failed == 1 and run.cost == 4.0
    h = run.history()
    assert h[2] == {"trial_id": 102, "arch": "a2", "status": "crashed", "message": "failed", "cost": 1.0}
    assert h[3]["metric:cost"] == 9.0 and h[3]["cost"] == 1.0 and "lat" not in h[0]
    arr = run.to_numpy()
    assert arr.dtype.names == ("trial_id", "arch", "status", "cost", "acc", "lat", "metric:cost")
    assert list(arr["trial_id"]) == [100, 101, 102, 103] and list(arr["status"])[2] == "crashed"
    assert np.isnan(arr["lat"][[0, 2, 3]]).all() and arr["lat"][1] == 3.0
    assert np.isnan(arr["acc"][2]) and arr["metric:cost"][3] == 9.0
    assert len(libnas.RunResult([], None, [], "", 0, 0, []).to_numpy()) == 0


def test_pareto_front_brute_force():
    rng = random.Random(5)
    objs = [libnas.Objective("a", True), libnas.Objective("b", False)]
    trials = [_trial(i, {"a": rng.randint(0, 9), "b": rng.randint(0, 9)}) for i in range(200)]
    trials.append(_trial(200, {"a": 100}, "diverged"))
    front = results.pareto_front(trials, objs)
    pts = [signed(t, objs) for t in trials[:200]]
    for t in front:
        assert not any(dominates(p, signed(t, objs)) for p in pts)
    for i, t in enumerate(trials[:200]):
        if t not in front:   # dominated, or equal to an earlier front member
            assert any(dominates(p, pts[i]) for p in pts) or any(signed(f, objs) == pts[i] for f in front)
    assert len({tuple(signed(t, objs)) for t in front}) == len(front)
    # constraints: infeasible trials are never on the front nor the best
    cons = [("b", "<=", 4.0)]
    assert all(t.metrics["b"] <= 4 for t in results.pareto_front(trials, objs, cons))
    best = results.best_trial(trials, objs, cons)
    assert best.metrics["b"] <= 4 and best.metrics["a"] == max(t.metrics["a"] for t in trials[:200]
                                                               if t.metrics["b"] <= 4)


@pytest.fixture
def multi_run(ctx, tmp_path):
    space = libnas.Space.load(SPACE, ctx)
    ev = libnas.Evaluator(space, "table", {"path": write_multi_table(tmp_path / "multi.csv"), "cost_column": "train_s"})
    s = libnas.Searcher(space, "random", seed=4, objectives="test_acc:max,size:min", constraints="size<=40")
    journal = tmp_path / "j.jsonl"
    return libnas.run(s, ev, max_trials=150, journal=journal), journal


def test_journal_matches_the_run(multi_run):
    res, journal = multi_run
    loaded = libnas.load_journal(journal)
    assert len(loaded.trials) == 150 and loaded.stop_reason is None and loaded.journal == str(journal)
    assert loaded.objectives == res.objectives and loaded.constraints == res.constraints == "size<=40"
    assert (loaded.searcher, loaded.evaluator, loaded.space, loaded.seed) == ("random", "table", "nas-bench-201", 4)
    for a, b in zip(loaded.trials, res.trials):
        assert (a.index, a.trial_id, a.arch, a.status, a.metrics, a.cost) == \
            (b.index, b.trial_id, b.arch, b.status, b.metrics, b.cost)
        assert a.fidelity == 0.0 and a.elapsed >= 0
    assert loaded.best.trial_id == res.best.trial_id
    assert [t.trial_id for t in loaded.pareto] == [t.trial_id for t in res.pareto]   # same rule as the library
    assert res.cost == pytest.approx(sum(10 + 3 * t.metrics["size"] for t in res.trials))
    # the front the library wrote into the journal is the one computed here
    fronts = [json.loads(x) for x in open(journal) if '"front"' in x]
    assert fronts and fronts[-1]["trials"] == [t.trial_id for t in res.pareto]
    for t in res.pareto:
        assert t.metrics["size"] <= 40
        assert not any(dominates(signed(u, res.objectives), signed(t, res.objectives))
                       for u in res.trials if u.metrics["size"] <= 40)


def test_summaries(multi_run, tmp_path):
    res, journal = multi_run
    res.write_summary(tmp_path / "s.json")
    c = json.loads((tmp_path / "s.json").read_text())
    assert c["trials"] == 150 and c["best"]["trial"] == res.best.trial_id and len(c["pareto"]) == len(res.pareto)
    assert c == res.summary()
    loaded = libnas.load_journal(journal)
    loaded.write_summary(tmp_path / "p.json")
    p = json.loads((tmp_path / "p.json").read_text())
    assert set(p) == set(c)   # the same fields as the library's summary
    for k in ("space", "searcher", "evaluator", "objectives", "constraints", "seed", "trials", "failed"):
        assert p[k] == c[k], k
    assert p["best"] == c["best"] and p["pareto"] == c["pareto"]
    assert p["cost_seconds"] == pytest.approx(c["cost_seconds"])


def test_bad_journals(tmp_path, ctx):
    space = libnas.Space.load(SPACE, ctx)
    journal = tmp_path / "j.jsonl"
    libnas.run(libnas.Searcher(space, "random", objectives=OBJECTIVE), table(space), max_trials=6, journal=journal)
    text = journal.read_text()
    torn = tmp_path / "torn.jsonl"
    torn.write_text(text + '{"type":"trial","trial":6,"arch":"|no')
    assert len(libnas.load_journal(torn).trials) == 6
    lines = text.splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines[:3] + ["{not json"] + lines[3:]) + "\n")
    with pytest.raises(ValueError, match="bad.jsonl:4"):
        libnas.load_journal(bad)
    headless = tmp_path / "headless.jsonl"
    headless.write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(ValueError, match="header"):
        libnas.load_journal(headless)
    with pytest.raises(FileNotFoundError):
        libnas.load_journal(tmp_path / "missing.jsonl")
