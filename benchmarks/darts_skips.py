#!/usr/bin/python3
"""Skip connections a DARTS derive keeps, epoch by epoch, with and without the max_skip guard.

usage: darts_skips.py ALPHAS_JSON SPACE_YAML [--max-skip 2]

Reads the architecture weights a one-shot search wrote (alphas.json: per epoch, per mixed node, the
softmax weights of its paths) and applies DARTS's derive rule to each epoch's weights for the cell
of the first normal cell and the first reduction cell: every computed node keeps the two inputs
whose strongest non-none op weighs most, each with that op. Prints, per epoch, how many of the
kept edges are skip_connect, and how many remain with the guard (the weakest extra skips give way
to their edge's next op, as libnas's derive does). This shows DARTS's known collapse into
parameter-free skip connections as the supernet trains, and what the guard changes.
"""
import argparse
import json
import re
import sys


def space_ops(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r"^\s*ops:\s*\[([^\]]*)\]", text, re.M)
    if not m:
        sys.exit("darts_skips: no 'ops: [...]' list in %s" % path)
    return [o.strip() for o in m.group(1).split(",")]


def derive(mixed, weights, cell, ops, max_skip):
    """Edges (to, from, op) the DARTS rule keeps for one cell, and with the skip guard."""
    none = ops.index("none") if "none" in ops else -1
    skip = ops.index("skip_connect")
    edges = {}
    for m, w in zip(mixed, weights):
        if m["cell"] != cell:
            continue
        edges.setdefault(m["to"], []).append((m["from"], list(w)))
    kept = []
    for to, ins in sorted(edges.items()):
        def best(w):
            k = max((i for i in range(len(w)) if i != none), key=lambda i: w[i])
            return k, w[k]
        ranked = sorted(ins, key=lambda e: (-best(e[1])[1], e[0]))[:2]
        for frm, w in ranked:
            kept.append([to, frm, best(w)[0], w])
    n_plain = sum(1 for e in kept if e[2] == skip)
    # guard: while more than max_skip skips, the weakest skip edge takes its next best op
    while max_skip >= 0 and sum(1 for e in kept if e[2] == skip) > max_skip:
        weakest = min((e for e in kept if e[2] == skip), key=lambda e: e[3][skip])
        w = weakest[3]
        weakest[2] = max((i for i in range(len(w)) if i not in (none, skip)), key=lambda i: w[i])
    return n_plain, sum(1 for e in kept if e[2] == skip), kept


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("alphas")
    ap.add_argument("space")
    ap.add_argument("--max-skip", type=int, default=2)
    a = ap.parse_args()
    ops = space_ops(a.space)
    doc = json.load(open(a.alphas, encoding="utf-8"))
    mixed = doc["mixed"]
    cells = sorted({m["cell"] for m in mixed})
    normal, reduce_ = cells[0], cells[1] if len(cells) > 1 else None
    print("epoch  normal_skips(no guard)  normal_skips(max_skip %d)  reduce_skips(no guard)  reduce_skips(guard)"
          % a.max_skip)
    last = None
    for ep in doc["epochs"]:
        row = [ep["epoch"]]
        for cell in (normal, reduce_):
            if cell is None:
                row += ["-", "-"]
                continue
            plain, guarded, kept = derive(mixed, ep["weights"], cell, ops, a.max_skip)
            row += [plain, guarded]
            if cell == normal:
                last = kept
        print("%5s  %22s  %25s  %22s  %19s" % tuple(row))
    if last:
        print("last epoch, normal cell (guarded): " +
              " ".join("%s~%d->%d" % (ops[e[2]], e[1], e[0]) for e in last))
    s = doc["epochs"][-1]
    plain, _, _ = derive(mixed, s["weights"], normal, ops, a.max_skip)
    print("darts_normal_skips_unguarded=%d" % plain)


if __name__ == "__main__":
    main()
