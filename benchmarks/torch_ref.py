#!/usr/bin/python3
"""PyTorch peer for benchmarks/bench_train.c: the same reference network, batch and threads.

Prints one line per measurement, `key=value` pairs, parsed by run.sh:
    torch mode=train batch=128 threads=2 img_per_s=... ms_per_step=...
    torch mode=infer batch=1 threads=2 ms_per_img=...
"""
import argparse
import time

import torch
import torch.nn as nn


def reference_net(width=1.0):
    def c(n):
        return int(n * width + 0.5)

    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    return nn.Sequential(
        *block(1, c(32)), *block(c(32), c(32)), nn.MaxPool2d(2),
        *block(c(32), c(64)), *block(c(64), c(64)), nn.MaxPool2d(2),
        *block(c(64), c(128)), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c(128), 10))


def bench_train(net, batch, steps, warmup):
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    net.train()
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    return batch * steps / dt, dt / steps * 1e3


def bench_infer(net, reps, warmup):
    net.eval()
    x = torch.randn(1, 1, 28, 28)
    with torch.no_grad():
        for _ in range(warmup):
            net(x)
        best = float('inf')
        # median of several blocks: robust to a noisy neighbour
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            for _ in range(reps):
                net(x)
            times.append((time.perf_counter() - t0) / reps)
        times.sort()
        best = times[len(times) // 2]
    return best * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['train', 'infer'])
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--steps', type=int, default=30)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--reps', type=int, default=200)
    ap.add_argument('--width', type=float, default=1.0, help='every channel count times this')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = reference_net(a.width)
    if a.mode == 'train':
        ips, ms = bench_train(net, a.batch, a.steps, a.warmup)
        print(f'torch mode=train batch={a.batch} threads={a.threads} img_per_s={ips:.1f} ms_per_step={ms:.3f}')
    else:
        ms = bench_infer(net, a.reps, 50)
        print(f'torch mode=infer batch=1 threads={a.threads} ms_per_img={ms:.4f}')


if __name__ == '__main__':
    main()
