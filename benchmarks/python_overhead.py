#!/usr/bin/python3
"""Cost of a search strategy written in Python against the same strategy in C.

Runs N trials of uniform random sampling on the NAS-Bench-201 table (a lookup: the evaluator costs
microseconds, so the strategy and the bindings are most of the time) three ways, side by side:
the built-in C `random`, a Python Strategy registered through the vtable (ask/tell called from C
through ctypes), and the same Python strategy driven from Python (Searcher.ask/tell +
Evaluator.evaluate, no run()). Prints microseconds per trial and the ratios to C.

usage: PYTHONPATH=bindings/python benchmarks/python_overhead.py [TRIALS] [ROUNDS]  (from the source root)
"""
import statistics
import sys
import time

import libnas


class PyRandom(libnas.Strategy):
    name = "py-random"
    description = "uniform sampling, in Python"

    def ask(self):
        return self.searcher.space.sample(self.searcher.rng)

    def tell(self, arch, result):
        pass


def main():
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ctx = libnas.Context(threads=1, seed=1)
    ctx.register_strategy(PyRandom)
    space = libnas.Space.load("spaces/nas-bench-201.yaml", ctx)
    table = libnas.Evaluator(space, "table", {"path": "data/nb201/cifar10_test.csv"})
    times = {"c": [], "python_vtable": [], "python_loop": []}
    for _ in range(rounds):
        for name, key in (("random", "c"), ("py-random", "python_vtable")):
            s = libnas.Searcher(space, name, {"max_retries": 100} if name == "random" else None, seed=2,
                                objectives="test_acc:max")
            t0 = time.perf_counter()
            libnas.run(s, table, max_trials=trials)
            times[key].append((time.perf_counter() - t0) / trials * 1e6)
        s = libnas.Searcher(space, "py-random", seed=2, objectives="test_acc:max")
        t0 = time.perf_counter()
        for _ in range(trials):
            cand = s.ask()
            s.tell(cand, table.evaluate(cand))
        times["python_loop"].append((time.perf_counter() - t0) / trials * 1e6)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print("%-14s %8.1f us/trial" % (k, v))
    print("python_vtable_over_c=%.2f python_loop_over_c=%.2f" % (med["python_vtable"] / med["c"],
                                                                 med["python_loop"] / med["c"]))


if __name__ == "__main__":
    main()
