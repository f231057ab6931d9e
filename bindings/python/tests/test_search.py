"""Searcher, Evaluator, run() and Experiment against the NAS-Bench-201 table (no training)."""
import json
import os
import signal
import subprocess

import pytest

import libnas
from search_util import OBJECTIVE, SPACE, TABLE, journal_trials, nas_exe, read_table, table
from conftest import source


def evolution(space, seed=1, **kw):
    return libnas.Searcher(space, "evolution", {"population": 20, "sample": 5}, seed=seed, objectives=OBJECTIVE, **kw)


def test_searcher_ask_tell(nb201):
    s = evolution(nb201)
    assert s.name == "evolution" and s.num_asked == 0
    assert s.objectives == [libnas.Objective("test_acc", True)] and s.objectives[0].direction == "max"
    ev = table(nb201)
    accs = read_table()
    for i in range(5):
        c = s.ask()
        assert isinstance(c, libnas.Candidate) and c.trial_id == i and c.arch.space is nb201
        r = ev.evaluate(c)
        assert r.ok and r.metrics["test_acc"] == pytest.approx(accs[str(c.arch)], abs=1e-9)
        s.tell(c, r)
    assert s.num_asked == 5
    with pytest.raises(libnas.LibnasError) as e:
        s.tell(c, r)   # told twice
    assert e.value.name == "state" and "already told" in e.value.message
    # A dict of metrics is a successful result; the score follows the direction.
    assert s.scores({"test_acc": 90.0}) == [90.0]
    assert s.scores(libnas.Result("diverged", "nan loss")) == [float("-inf")]


def test_searcher_bad_input(nb201):
    with pytest.raises(libnas.NotFoundError, match="no searcher named 'nope'"):
        libnas.Searcher(nb201, "nope")
    with pytest.raises(libnas.InvalidArgumentError, match="populaton"):
        libnas.Searcher(nb201, "evolution", {"populaton": 10})
    with pytest.raises(libnas.InvalidArgumentError, match="direction"):
        libnas.Searcher(nb201, "random", objectives="test_acc:up")
    with pytest.raises(libnas.InvalidArgumentError, match="constraints"):
        libnas.Searcher(nb201, "random", constraints="size<<3")
    with pytest.raises(TypeError):
        libnas.Searcher("not a space", "random")
    with pytest.raises(ValueError):
        libnas.Searcher(nb201, "random", seed=-1)
    s = libnas.Searcher(nb201, "random", objectives=["test_acc:max", "size:min"], constraints=["size<=20"])
    assert [str(o) for o in s.objectives] == ["test_acc:max", "size:min"] and s.num_constraints == 1
    assert s.violation({"test_acc": 90.0, "size": 30.0}) == pytest.approx(0.5)
    assert s.scores({"test_acc": 90.0, "size": 30.0}) == [float("-inf")] * 2
    assert s.scores({"test_acc": 90.0, "size": 10.0}) == [90.0, -10.0]
    with pytest.raises(TypeError):
        s.tell("candidate", {})
    c = s.ask()
    with pytest.raises(libnas.LibnasError) as e:
        libnas.Searcher(nb201, "random").tell(c, {})   # another searcher's candidate
    assert e.value.name == "state"
    s.close()
    with pytest.raises(ValueError, match="closed"):
        s.ask()
    with pytest.raises(TypeError, match="open"):
        libnas.run(s, table(nb201), max_trials=1)


def test_evaluator(nb201):
    ev = table(nb201)
    assert ev.name == "table"
    accs = read_table()
    a = nb201.sample()
    r = ev.evaluate(a)
    assert r.status == "ok" and r.metrics == {"test_acc": pytest.approx(accs[str(a)])} and r.cost == 0.0
    with pytest.raises(libnas.NotFoundError):
        libnas.Evaluator(nb201, "nope")
    with pytest.raises(libnas.InvalidArgumentError, match="pth"):
        libnas.Evaluator(nb201, "table", {"path": TABLE, "pth": "x"})
    with pytest.raises(TypeError):
        ev.evaluate(str(a))
    with pytest.raises(ValueError):
        ev.evaluate(a, fidelity=-1)


def test_evolution_finds_a_good_arch(nb201):
    res = libnas.run(evolution(nb201), table(nb201), max_trials=300)
    assert len(res.trials) == 300 and res.stop_reason == "max_trials"
    assert [t.index for t in res.trials] == list(range(300))
    assert len({t.trial_id for t in res.trials}) == 300
    accs = [t.metrics["test_acc"] for t in res.trials]
    assert res.best.metrics["test_acc"] == max(accs) > 93.0
    assert res.best is res.trials[accs.index(max(accs))]
    assert res.pareto == [res.best]   # one objective: the front is the best
    assert all(t.elapsed is not None for t in res.trials)
    assert res.elapsed >= res.trials[-1].elapsed
    # a random search of the same size is worse on average; evolution's best is at least in the top 1 %
    table_accs = sorted(read_table().values(), reverse=True)
    assert res.best.metrics["test_acc"] >= table_accs[len(table_accs) // 100]


def test_runs_are_deterministic(nb201):
    ev = table(nb201)
    a = libnas.run(evolution(nb201, seed=3), ev, max_trials=60)
    b = libnas.run(evolution(nb201, seed=3), ev, max_trials=60)
    c = libnas.run(evolution(nb201, seed=4), ev, max_trials=60)
    assert [t.arch for t in a.trials] == [t.arch for t in b.trials]
    assert [t.arch for t in a.trials] != [t.arch for t in c.trials]


def test_history_and_numpy(nb201):
    np = pytest.importorskip("numpy")
    res = libnas.run(libnas.Searcher(nb201, "random", seed=2, objectives=OBJECTIVE), table(nb201), max_trials=40)
    h = res.history()
    assert len(h) == 40
    for row, t in zip(h, res.trials):
        assert row == {"trial_id": t.trial_id, "arch": t.arch, "status": "ok", "message": "", "cost": 0.0,
                       "test_acc": t.metrics["test_acc"]}
    arr = res.to_numpy()
    assert arr.dtype.names == ("trial_id", "arch", "status", "cost", "test_acc")
    assert arr.dtype["trial_id"] == np.dtype("u8") and arr.dtype["test_acc"] == np.dtype("f8")
    assert list(arr["arch"]) == [t.arch for t in res.trials]
    assert np.array_equal(arr["test_acc"], [t.metrics["test_acc"] for t in res.trials])
    assert arr["test_acc"].max() == res.best.metrics["test_acc"]


def test_searcher_save_load(nb201):
    ev = table(nb201)
    a = evolution(nb201, seed=5)
    for _ in range(30):
        c = a.ask()
        a.tell(c, ev.evaluate(c))
    state = a.save()
    assert isinstance(state, bytes) and a.can_save
    b = evolution(nb201, seed=5)
    b.load(state)
    assert b.num_asked == 30
    for _ in range(10):
        ca, cb = a.ask(), b.ask()
        assert (ca.trial_id, str(ca.arch)) == (cb.trial_id, str(cb.arch))
        r = ev.evaluate(ca)
        a.tell(ca, r)
        b.tell(cb, r)
    with pytest.raises(libnas.LibnasError) as e:
        evolution(nb201, seed=6).load(state)   # another seed
    assert e.value.name == "invalid"
    with pytest.raises(libnas.ParseError):
        evolution(nb201, seed=5).load(state[:-3] + b"xyz")


def test_journal_and_resume(nb201, tmp_path):
    ev = table(nb201)
    full = tmp_path / "full.jsonl"
    whole = libnas.run(evolution(nb201, seed=9), ev, max_trials=20, journal=full)
    part = tmp_path / "part.jsonl"
    ckpt = tmp_path / "searcher.state"
    first = libnas.run(evolution(nb201, seed=9), ev, max_trials=10, journal=part, checkpoint=ckpt)
    assert len(first.trials) == 10 and ckpt.exists() and first.journal == str(part)
    second = libnas.run(evolution(nb201, seed=9), ev, max_trials=20, journal=part, checkpoint=ckpt, resume=True)
    assert second.num_resumed == 10 and len(second.trials) == 20
    assert [t.arch for t in second.trials] == [t.arch for t in whole.trials]
    assert journal_trials(part) == journal_trials(full)
    assert second.best.arch == whole.best.arch
    # A resume with another seed is refused (the journal's header does not match).
    with pytest.raises(libnas.LibnasError):
        libnas.run(evolution(nb201, seed=10), ev, max_trials=30, journal=part, resume=True)


def test_cancel_after_k_trials(nb201, tmp_path):
    seen = []
    journal = tmp_path / "j.jsonl"
    res = libnas.run(evolution(nb201), table(nb201), max_trials=100, journal=journal, progress=seen.append,
                     cancel=lambda: len(seen) >= 7)
    assert res.stop_reason == "cancelled" and len(res.trials) == 7
    assert len(journal_trials(journal)) == 7
    assert [p.trials_done for p in seen] == list(range(1, 8))
    p = seen[-1]
    assert isinstance(p, libnas.Progress) and p.max_trials == 100 and p.trials_failed == 0
    assert p.last_arch == res.trials[-1].arch and p.last_status == "ok"
    assert p.best_score == res.best.metrics["test_acc"] and p.best_trial == res.best.trial_id
    assert seen[0].best_trial == res.trials[0].trial_id


def test_progress_exception_is_reraised(nb201, tmp_path):
    journal = tmp_path / "j.jsonl"

    def progress(p):
        if p.trials_done == 5:
            raise ZeroDivisionError("progress broke")

    with pytest.raises(ZeroDivisionError, match="progress broke") as e:
        libnas.run(evolution(nb201), table(nb201), max_trials=50, journal=journal, progress=progress)
    assert len(e.value.run_result.trials) == 5 and e.value.run_result.stop_reason == "cancelled"
    assert len(libnas.load_journal(journal).trials) == 5


def test_cancel_exception_is_reraised(nb201):
    calls = []

    def cancel():
        calls.append(1)
        if len(calls) == 4:
            raise LookupError("cancel broke")
        return False

    with pytest.raises(LookupError, match="cancel broke") as e:
        libnas.run(evolution(nb201), table(nb201), max_trials=50, cancel=cancel)
    assert len(e.value.run_result.trials) == 3


@pytest.mark.parametrize("where", ["progress", "cancel"])
def test_ctrl_c_stops_cleanly(nb201, tmp_path, where):
    journal = tmp_path / "j.jsonl"
    count = []

    def progress(p):
        count.append(p)
        if where == "progress" and len(count) == 4:
            os.kill(os.getpid(), signal.SIGINT)   # as if Ctrl-C was pressed during trial 4

    def cancel():
        if where == "cancel" and len(count) == 6:
            signal.raise_signal(signal.SIGINT)
        return False

    with pytest.raises(KeyboardInterrupt) as e:
        libnas.run(evolution(nb201), table(nb201), max_trials=50, journal=journal, progress=progress, cancel=cancel)
    n = 4 if where == "progress" else 6
    assert len(e.value.run_result.trials) == n
    assert len(journal_trials(journal)) == n
    # the interrupt is not left behind for the next call
    assert len(libnas.run(evolution(nb201), table(nb201), max_trials=3).trials) == 3


def test_run_bad_arguments(nb201, tmp_path):
    s, ev = evolution(nb201), table(nb201)
    with pytest.raises(ValueError):
        libnas.run(s, ev, max_trials=-1)
    with pytest.raises(ValueError):
        libnas.run(s, ev, max_seconds=float("inf"))
    with pytest.raises(ValueError, match="journal"):
        libnas.run(s, ev, max_trials=3, resume=True)
    with pytest.raises(libnas.InvalidArgumentError, match="set a budget"):
        libnas.run(s, ev)
    with pytest.raises(TypeError):
        libnas.run(ev, s, max_trials=3)
    with pytest.raises(libnas.LibnasIOError):
        libnas.run(s, ev, max_trials=3, journal=tmp_path / "no" / "such" / "dir.jsonl")
    other = libnas.Space.load(SPACE, nb201.context)
    with pytest.raises(libnas.InvalidArgumentError, match="different spaces"):
        libnas.run(s, table(other), max_trials=3)


def test_grid_is_exhausted(ctx):
    space = libnas.Space.from_string(open(SPACE).read(), ctx)
    res = libnas.run(libnas.Searcher(space, "grid", objectives=OBJECTIVE), table(space), max_trials=20000)
    assert res.stop_reason == "exhausted" and len(res.trials) == 5 ** 6
    assert res.best.metrics["test_acc"] == max(read_table().values())


def test_experiment_file(ctx, tmp_path):
    path = source("experiments", "nb201-evolution.yaml")
    exp = libnas.Experiment.load(path, ctx)
    assert exp.name == "nb201-evolution" and exp.searcher == "evolution" and exp.evaluator == "table"
    assert exp.searcher_params == {"population": "20", "sample": "5"}
    assert os.path.samefile(exp.evaluator_params["path"], TABLE)
    assert exp.objectives == OBJECTIVE and exp.constraints == "" and exp.seed == 1
    assert exp.budget == {"max_trials": 300, "max_seconds": 0.0, "max_cost": 0.0}
    assert exp.output_dir.endswith("out/nb201-evolution") and exp.space.name == "nas-bench-201"
    out = tmp_path / "out"
    res = exp.run(output_dir=out, max_trials=40)
    assert len(res.trials) == 40 and (out / "journal.jsonl").exists() and (out / "searcher.state").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trials"] == 40 and summary["searcher"] == "evolution" and summary["seed"] == 1
    assert summary["best"]["arch"] == res.best.arch
    with pytest.raises(FileExistsError):
        exp.run(output_dir=out, max_trials=40)
    more = exp.run(output_dir=out, max_trials=60, resume=True)
    assert more.num_resumed == 40 and len(more.trials) == 60
    again = exp.run(output_dir=out, max_trials=60, overwrite=True)
    assert [t.arch for t in again.trials] == [t.arch for t in more.trials]


def test_experiment_matches_the_cli(ctx, tmp_path):
    exe = nas_exe()
    if exe is None:
        pytest.skip("the nas executable is not built")
    path = source("experiments", "nb201-evolution.yaml")
    cli_out = tmp_path / "cli"
    subprocess.run([exe, "search", path, "--out", str(cli_out), "--trials", "50", "--quiet"], check=True,
                   stdout=subprocess.DEVNULL, timeout=120)
    res = libnas.Experiment.load(path, ctx).run(output_dir=tmp_path / "py", max_trials=50)
    assert journal_trials(cli_out / "journal.jsonl") == journal_trials(tmp_path / "py" / "journal.jsonl")
    cli = libnas.load_journal(cli_out / "journal.jsonl")
    assert cli.best.arch == res.best.arch and len(cli.trials) == 50


def test_experiment_errors(ctx, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("space: %s\nsearcher:\n  name: evolution\n  colour: red\n" % SPACE)
    with pytest.raises(libnas.LibnasError, match="bad.yaml:4"):
        libnas.Experiment.load(bad, ctx)
    with pytest.raises(libnas.LibnasIOError):
        libnas.Experiment.load(tmp_path / "missing.yaml", ctx)
    exp = libnas.Experiment.from_string("space: %s\nsearcher:\n  name: random\n  objectives: test_acc:max\n"
                                        "evaluator:\n  name: table\n  params:\n    path: %s\nbudget:\n  trials: 5\n"
                                        % (SPACE, TABLE), ctx)
    assert exp.output_dir is None and exp.seed == 0
    res = exp.run()
    assert len(res.trials) == 5 and res.journal is None
