#!/usr/bin/python3
"""PyTorch peer of benchmarks/bench_supernet.c: the same DARTS-style cell supernet, batch and threads.

    torch_supernet.py [--space spaces/darts.yaml] [--mode darts|single] [--batch 64] [--threads 2]
                      [--steps 20] [--warmup 3] [--scale S] [--cells N] [--stem-stride 1] [--size 28]
                      [--in-c 1] [--classes 10] [--seed 1] [--layout auto|nchw|nhwc] [--params-only]

Builds the supernet of a cell space the way src/nn/build.c does (build.h, "CELL FAMILY" and
"SUPERNETS"; DARTS-like networks with reduction cells only) with the same overrides (--scale =
channel_scale, --cells = cells_per_stage, --stem-stride), and times weight-training steps
(zero_grad, forward, cross-entropy, backward, SGD step) on a fixed batch of random images:
    darts   every op of every edge weighted by softmax(alpha), one alpha vector per edge of every
            cell (like the engine: alphas are not shared between cells); the alphas require grad,
            so the backward also computes their gradients, as the engine's does
    single  one uniformly sampled op per edge per step (sampled outside the timed region)
The 'none' op contributes zero: it is skipped in the weighted sum (as the engine skips zero paths).
SGD: lr 0.025, momentum 0.9, weight decay 3e-4 on conv and linear weights only (not BN parameters
nor the bias: the engine's default). BN: affine, momentum 0.1, eps 1e-5 (PyTorch's defaults).

--layout: nchw (contiguous), nhwc (torch.channels_last), or auto (default): time --probe-steps
steps of both (after one warm-up step each) and keep the faster one. The probe is short and the
first steps are slow (see benchmarks/README.md), so run.sh passes a fixed layout (nhwc, measured
the faster for this network at batch 32 and 64).

Prints torch_params=, torch_step_ms=, torch_peak_rss_mb= (ru_maxrss of this process, the Python
interpreter and torch included), torch_images_per_s= (last line), and every step's time, warm-up
included (all_steps_ms=).
"""
import argparse
import random
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

# ---------------------------------------------------------------------------------------------
# Ops (C -> C channels), as in src/nn/build.c's cell_op


def relu_conv_bn(c_in, c_out, k, stride):
    return nn.Sequential(nn.ReLU(inplace=False), nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False),
                         nn.BatchNorm2d(c_out))


class FactorizedReduce(nn.Module):
    """ReLU, two 1x1 stride-2 convs (on x and on x[:, :, 1:, 1:]) to c_out/2 each, concat, BN."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv1 = nn.Conv2d(c_in, c_out // 2, 1, 2, 0, bias=False)
        self.conv2 = nn.Conv2d(c_in, c_out // 2, 1, 2, 0, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        r = self.relu(x)
        return self.bn(torch.cat([self.conv1(r), self.conv2(r[:, :, 1:, 1:])], dim=1))


def reduce2(c_in, c_out, h, w):
    """Halve the resolution: factorized reduce, or ReLU-conv1x1/2-BN at odd sizes or channels."""
    if c_out % 2 == 0 and h % 2 == 0 and w % 2 == 0:
        return FactorizedReduce(c_in, c_out)
    return relu_conv_bn(c_in, c_out, 1, 2)


class SepConv(nn.Module):
    """(ReLU, depthwise KxK, pointwise 1x1, BN) twice; the stride is in the first."""

    def __init__(self, c_in, c_out, k, stride):
        super().__init__()
        p = k // 2
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),   # its input feeds the other ops of the edge too
            nn.Conv2d(c_in, c_in, k, stride, p, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_in, 1, bias=False),
            nn.BatchNorm2d(c_in),
            nn.ReLU(inplace=True),    # BN's output has no other consumer
            nn.Conv2d(c_in, c_in, k, 1, p, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.op(x)


def dil_conv(c_in, c_out, k, stride, dilation):
    p = dilation * (k - 1) // 2
    return nn.Sequential(nn.ReLU(inplace=False),
                         nn.Conv2d(c_in, c_in, k, stride, p, dilation=dilation, groups=c_in, bias=False),
                         nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))


def pool(kind, k, stride, c, bn):
    p = (nn.MaxPool2d(k, stride, k // 2) if kind == 'max'
         else nn.AvgPool2d(k, stride, k // 2, count_include_pad=False))
    return nn.Sequential(p, nn.BatchNorm2d(c)) if bn else p


def parse_kernel(name, prefix):
    k = name[len(prefix):]
    a, b = k.split('x')
    if a != b:
        raise ValueError(f'op {name}: non-square kernel')
    return int(a)


def make_op(name, c, stride, h, w, pool_bn):
    """The op module, or None for 'none' (a zero path)."""
    if name == 'none':
        return None
    if name == 'skip_connect':
        return nn.Identity() if stride == 1 else reduce2(c, c, h, w)
    if name.startswith('nor_conv_'):
        return relu_conv_bn(c, c, parse_kernel(name, 'nor_conv_'), stride)
    if name.startswith('sep_conv_'):
        return SepConv(c, c, parse_kernel(name, 'sep_conv_'), stride)
    if name.startswith('dil_conv_'):
        return dil_conv(c, c, parse_kernel(name, 'dil_conv_'), stride, 2)
    if name.startswith('avg_pool_'):
        return pool('avg', parse_kernel(name, 'avg_pool_'), stride, c, pool_bn)
    if name.startswith('max_pool_'):
        return pool('max', parse_kernel(name, 'max_pool_'), stride, c, pool_bn)
    raise ValueError(f'unknown cell op {name}')

# ---------------------------------------------------------------------------------------------
# Cells and the network, as in src/nn/build.c's emit_cell / build_cells (supernet: every edge j -> i)


class Cell(nn.Module):
    def __init__(self, ops, n_in, n_nodes, concat, reduce, in_shapes, c):
        """in_shapes: (C, H, W) of the n_in raw inputs, oldest first."""
        super().__init__()
        self.n_in, self.total, self.concat, self.reduce = n_in, n_in + n_nodes, concat, reduce
        _, th, tw = in_shapes[-1]
        self.pre = nn.ModuleList()
        for ci, hi, wi in in_shapes:
            mods, first = [], True
            while hi > th or wi > tw:
                mods.append(reduce2(ci, c, hi, wi))
                ci, hi, wi, first = c, (hi + 1) // 2, (wi + 1) // 2, False
            if first:
                mods.append(relu_conv_bn(ci, c, 1, 1))
            if (hi, wi) != (th, tw):
                raise ValueError(f'cell input {hi}x{wi} does not reduce to {th}x{tw}')
            self.pre.append(mods[0] if len(mods) == 1 else nn.Sequential(*mods))
        self.edges = []                          # (from, to) in the engine's order
        self.ops = nn.ModuleList()               # per edge: a ModuleList over the op list (None: zero)
        for i in range(n_in, self.total):
            for j in range(i):
                stride = 2 if reduce and j < n_in else 1
                self.edges.append((j, i))
                self.ops.append(nn.ModuleList([make_op(o, c, stride, th, tw, True) for o in ops]))
        oh, ow = ((th - 1) // 2 + 1, (tw - 1) // 2 + 1) if reduce else (th, tw)
        self.out_shape = (c * n_nodes if concat else c, oh, ow)
        self.node_shape = (c, oh, ow)

    def forward(self, inputs, weights=None, paths=None):
        """weights: [n_edges, n_ops] (darts), or paths: a list of op indices (single)."""
        vals = [p(x) for p, x in zip(self.pre, inputs)]
        e = 0
        for i in range(self.n_in, self.total):
            terms = []
            for j in range(i):
                ops, x = self.ops[e], vals[j]
                if paths is None:
                    w = weights[e]
                    terms.extend(w[k] * op(x) for k, op in enumerate(ops) if op is not None)
                elif ops[paths[e]] is not None:
                    terms.append(ops[paths[e]](x))
                e += 1
            if terms:
                vals.append(sum(terms[1:], terms[0]))
            else:
                b = inputs[-1].shape[0]
                vals.append(inputs[-1].new_zeros((b,) + self.node_shape))
        if not self.concat:
            return vals[-1]
        return torch.cat(vals[self.n_in:], dim=1)


class Supernet(nn.Module):
    def __init__(self, space, in_c, size, classes, scale, cells_per_stage, stem_stride):
        super().__init__()
        cell = space['cell']
        n_in, n_nodes = int(cell.get('num_inputs', 1)), int(cell['num_nodes'])
        concat = cell.get('output', 'last') == 'concat'
        types = cell.get('cell_types', [])
        macro = space.get('macro')
        if macro:
            red_cell = macro.get('reduction', 'cell') == 'cell'
            stem = int(macro['stem_channels'])
            stages = [(int(s['cells']), int(s['channels'])) for s in macro['stages']]
        else:
            red_cell = 'reduce' in types
            stem = 48 if red_cell else 16
            stages = [(2, 16), (2, 32), (2, 64)] if red_cell else [(5, 16), (5, 32), (5, 64)]
        if not red_cell or 'reduce' not in types:
            raise SystemExit('torch_supernet: only cell spaces with reduction cells (DARTS-like) are supported')

        def sc(c):
            if not scale or scale == 1.0:
                return c
            return max(1, int(round(c * scale)))   # nearbyint: round half to even, as Python's round
        ops = list(cell['ops'])
        self.stem = nn.Sequential(nn.Conv2d(in_c, sc(stem), 3, stem_stride, 1, bias=False), nn.BatchNorm2d(sc(stem)))
        h = (size - 1) // stem_stride + 1
        hist = [(sc(stem), h, h)] * n_in
        self.cells = nn.ModuleList()
        for si, (n, ch) in enumerate(stages):
            c = sc(ch)
            n = cells_per_stage if cells_per_stage > 0 else n
            for ci in range(n + 1):
                red = ci == 0
                if red and si == 0:
                    continue
                cl = Cell(ops, n_in, n_nodes, concat, red, hist, c)
                self.cells.append(cl)
                hist = hist[1:] + [cl.out_shape]
        self.n_in = n_in
        self.n_edges = len(self.cells[0].edges)
        self.n_ops = len(ops)
        self.fc = nn.Linear(hist[-1][0], classes)

    def forward(self, x, weights=None, paths=None):
        s = self.stem(x)
        hist = [s] * self.n_in
        for k, cl in enumerate(self.cells):
            y = cl(hist, None if weights is None else weights[k], None if paths is None else paths[k])
            hist = hist[1:] + [y]
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(hist[-1], 1), 1))


def param_groups(net, wd):
    """Weight decay on conv and linear weights only (the engine's default)."""
    decay, rest = [], []
    for m in net.modules():
        for name, p in m.named_parameters(recurse=False):
            (decay if isinstance(m, (nn.Conv2d, nn.Linear)) and name == 'weight' else rest).append(p)
    return [{'params': decay, 'weight_decay': wd}, {'params': rest, 'weight_decay': 0.0}]


def run(net, a, layout, steps, warmup, rng):
    mf = torch.channels_last if layout == 'nhwc' else torch.contiguous_format
    net = net.to(memory_format=mf)
    x = torch.randn(a.batch, a.in_c, a.size, a.size).contiguous(memory_format=mf)
    y = torch.randint(0, a.classes, (a.batch,))
    alphas = None
    if a.mode == 'darts':
        alphas = (1e-3 * torch.randn(len(net.cells), net.n_edges, net.n_ops)).requires_grad_()
    opt = torch.optim.SGD(param_groups(net, 3e-4), lr=0.025, momentum=0.9)
    net.train()
    total, loss, times = 0.0, None, []
    for s in range(warmup + steps):
        paths = None
        if a.mode == 'single':
            paths = [[rng.randrange(net.n_ops) for _ in range(net.n_edges)] for _ in net.cells]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        if alphas is not None:
            alphas.grad = None
        weights = None if alphas is None else F.softmax(alphas, dim=-1)
        loss = F.cross_entropy(net(x, weights, paths), y)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
        if s >= warmup:
            total += times[-1]
    return total / steps, float(loss), times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--space', default='spaces/darts.yaml')
    ap.add_argument('--mode', choices=['darts', 'single'], default='darts')
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--scale', type=float, default=0.0)
    ap.add_argument('--cells', type=int, default=0)
    ap.add_argument('--stem-stride', type=int, default=1)
    ap.add_argument('--size', type=int, default=28)
    ap.add_argument('--in-c', type=int, default=1)
    ap.add_argument('--classes', type=int, default=10)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--layout', choices=['auto', 'nchw', 'nhwc'], default='auto')
    ap.add_argument('--probe-steps', type=int, default=3, help='timed steps per layout for --layout auto')
    ap.add_argument('--params-only', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    with open(a.space) as f:
        space = yaml.safe_load(f)
    if space.get('family') != 'cell':
        raise SystemExit('torch_supernet: not a cell space')
    net = Supernet(space, a.in_c, a.size, a.classes, a.scale, a.cells, a.stem_stride or 1)
    params = sum(p.numel() for p in net.parameters())
    print(f'torch_mode={a.mode} batch={a.batch} threads={a.threads} cells={len(net.cells)} '
          f'mixed={len(net.cells) * net.n_edges}')
    print(f'torch_params={params}')
    if a.params_only:
        return
    layout = a.layout
    if layout == 'auto':
        probe = {}
        for lay in ('nchw', 'nhwc'):
            probe[lay], _, _ = run(net, a, lay, a.probe_steps, 1, random.Random(a.seed))
        layout = min(probe, key=probe.get)
        print(f'torch_layout_probe nchw_step_ms={1e3 * probe["nchw"]:.2f} nhwc_step_ms={1e3 * probe["nhwc"]:.2f}')
    step, loss, times = run(net, a, layout, a.steps, a.warmup, rng)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f'torch_layout={layout} loss={loss:.4f} all_steps_ms={",".join(f"{1e3 * t:.0f}" for t in times)}')
    print(f'torch_step_ms={1e3 * step:.2f}')
    print(f'torch_peak_rss_mb={rss:.1f}')
    print(f'torch_images_per_s={a.batch / step:.1f}')


if __name__ == '__main__':
    sys.exit(main())
