"""Helpers shared by the search, plugin, result and plot tests (the fast NAS-Bench-201 table)."""
import csv
import json
import os

import libnas
from conftest import source

TABLE = source("data", "nb201", "cifar10_test.csv")
SPACE = source("spaces", "nas-bench-201.yaml")
OBJECTIVE = "test_acc:max"


def table(space):
    return libnas.Evaluator(space, "table", {"path": TABLE})


def read_table():
    """{canonical arch string: test_acc} of the CSV, read with Python."""
    with open(TABLE, newline="") as f:
        return {row["arch"]: float(row["test_acc"]) for row in csv.DictReader(f)}


def size_of(arch):
    """A made-up model size from an NB201 arch string (convolutions cost, the rest is free)."""
    return arch.count("nor_conv_3x3") * 9 + arch.count("nor_conv_1x1") * 1 + 0.5 * arch.count("skip_connect")


def write_multi_table(path):
    """A copy of the table with a 'size' column (to minimize) and a 'train_s' column (a cost)."""
    with open(TABLE, newline="") as f, open(path, "w", newline="") as out:
        r = csv.DictReader(f)
        w = csv.writer(out)
        w.writerow(["arch", "test_acc", "size", "train_s"])
        for row in r:
            s = size_of(row["arch"])
            w.writerow([row["arch"], row["test_acc"], s, 10 + 3 * s])
    return path


def journal_trials(path):
    """The trial lines of a journal without their wall-clock parts (comparable between runs)."""
    out = []
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if rec["type"] == "trial":
                rec.pop("elapsed")
                out.append(rec)
    return out


def dominates(a, b):
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def signed(trial, objectives):
    return [trial.metrics[o.name] if o.maximize else -trial.metrics[o.name] for o in objectives]


def nas_exe():
    root = os.environ.get("NAS_BUILD_ROOT")
    exe = os.path.join(root, "src", "tools", "nas") if root else None
    return exe if exe and os.access(exe, os.X_OK) else None
