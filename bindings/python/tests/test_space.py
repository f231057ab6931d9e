"""Context, Space and Arch wrappers against the library's own contracts."""
import ctypes
import gc

import pytest

import libnas
from conftest import source


def test_version_and_registry(ctx):
    assert libnas.__version__.count(".") == 2
    names = [n for n, _ in ctx.searchers()]
    assert {"random", "evolution", "darts", "proxyless"} <= set(names)
    assert {"table", "train"} <= {n for n, _ in ctx.evaluators()}
    assert ctx.seed == 7 and ctx.threads == 1


def test_context_registers_python_plugins(ctx, nb201):
    class First(libnas.Strategy):
        name = "py-first"
        finite = True

        def __init__(self, searcher, params):
            self.done = False

        def ask(self):
            if self.done:
                return None
            self.done = True
            return self.searcher.space.arch()

    assert ctx.register_strategy(First) is First
    assert ("py-first", "") in ctx.searchers()
    s = libnas.Searcher(nb201, "py-first")
    assert str(s.ask().arch) == str(nb201.arch()) and s.ask() is None
    with pytest.raises(libnas.LibnasError, match="exists"):
        ctx.register_strategy(First)


def test_bad_context_arguments():
    with pytest.raises(ValueError):
        libnas.Context(log_level="loud")
    with pytest.raises(ValueError):
        libnas.Context(threads=-1)


def test_space_queries(nb201):
    assert nb201.name == "nas-bench-201" and nb201.family == "cell"
    assert nb201.size == 5 ** 6 == nb201.grid_size
    dims = nb201.dims
    assert len(dims) == 6 and all(d.kind == "categorical" and len(d.choices) == 5 for d in dims)
    assert nb201.dim(dims[2].name) is dims[2] and nb201.dim(2) is dims[2]
    with pytest.raises(KeyError):
        nb201.dim("no/such")


def test_arch_roundtrip_and_edit(nb201):
    a = nb201.sample()
    b = nb201.arch(str(a))
    assert a == b and hash(a) == hash(b) and a is not b
    name = nb201.dims[0].name
    b[name] = "nor_conv_3x3"
    assert b[name] == "nor_conv_3x3" and b != a
    b[name] = 0
    assert b[name] == nb201.dims[0].choices[0]
    with pytest.raises(ValueError):
        b[name] = "conv_9x9"
    d = a.to_dict()
    assert nb201.arch(d) == a
    with pytest.raises(libnas.ParseError, match="not a valid op"):
        nb201.arch("|bogus~0|")
    m = nb201.mutate(a, edits=2)
    assert sum(m[k] != a[k] for k in d) == 2
    assert nb201.enumerate(0) == nb201.arch()


def test_rng_streams_are_reproducible(ctx):
    r1, r2 = libnas.Rng(5, 1, ctx), libnas.Rng(5, 1, ctx)
    assert [r1.u64() for _ in range(4)] == [r2.u64() for _ in range(4)]
    assert 0 <= r1.uniform() < 1 and r1.below(7) < 7


def test_load_errors_carry_the_location(ctx, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfamily: cell\ncell:\n  ops: [nope]\n")
    with pytest.raises(libnas.LibnasError) as e:
        libnas.Space.load(bad, ctx)
    assert str(bad) in e.value.message and e.value.name in ("spec", "parse")
    with pytest.raises(libnas.LibnasIOError):
        libnas.Space.load(tmp_path / "missing.yaml", ctx)


def test_close_order_children_first(ctx):
    space = libnas.Space.load(source("spaces", "nas-bench-201.yaml"), ctx)
    arch = space.sample()
    ctx.close()  # closes the arch, then the space, then the context: no use-after-free
    assert arch.closed and space.closed and ctx.closed
    with pytest.raises(ctypes.ArgumentError, match="Arch is closed"):
        str(arch)
    del arch, space
    gc.collect()


SMALL_CHAIN = """name: small
family: chain
chain:
  ops: [mb3_e3, mb5_e6, skip]
  stem_channels: 16
  width_multipliers: [0.5, 1.0]
  stages:
    - {channels: 16, stride: 1, depths: [1, 2]}
    - {channels: 32, stride: 2, depths: [2, 3]}
hyperparameters:
  - {name: lr, type: float, low: 0.001, high: 0.1, log_scale: true}
  - {name: optimizer, type: categorical, choices: [sgd, adam]}
"""


def same_space(a, b, n=50):
    assert (a.name, a.family, a.size_all, a.grid_size) == (b.name, b.family, b.size_all, b.grid_size)
    assert [(d.name, d.kind, d.role, d.choices, d.low, d.high, d.log_scale, d.parent, d.parent_min) for d in a.dims] == \
        [(d.name, d.kind, d.role, d.choices, d.low, d.high, d.log_scale, d.parent, d.parent_min) for d in b.dims]
    step = max(1, a.grid_size // n)
    for i in range(0, a.grid_size, step):
        assert str(a.enumerate(i)) == str(b.enumerate(i))


def test_build_through_the_c_api(ctx, nb201):
    built = libnas.Space.build("nas-bench-201", context=ctx,
                               cell=dict(ops=["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"],
                                         num_nodes=3),
                               macro=dict(stem_channels=16, stages=[(5, 16), (5, 32), (5, 64)]))
    same_space(built, nb201)
    assert built.yaml is None and nb201.yaml is not None
    chain = libnas.Space.build("small", context=ctx,
                               chain=dict(ops=["mb3_e3", "mb5_e6", "skip"], stem_channels=16,
                                          width_multipliers=[0.5, 1.0]),
                               stages=[dict(channels=16, stride=1, depths=[1, 2]),
                                       dict(channels=32, stride=2, depths=[2, 3])],
                               hparams=[dict(name="lr", kind="float", low=0.001, high=0.1, log_scale=True),
                                        dict(name="optimizer", kind="categorical", choices=["sgd", "adam"])])
    same_space(chain, libnas.Space.from_string(SMALL_CHAIN, ctx))


def test_build_errors_name_the_field(ctx):
    ops = ["none", "nor_conv_3x3"]
    with pytest.raises(libnas.LibnasError, match="conv_9x9"):
        libnas.Space.build("bad", context=ctx, cell=dict(ops=["conv_9x9"], num_nodes=2))
    with pytest.raises(ValueError, match="unknown field.*num_nodez"):
        libnas.Space.build("bad", context=ctx, cell=dict(ops=ops, num_nodez=2))
    with pytest.raises(ValueError, match="output"):
        libnas.Space.build("bad", context=ctx, cell=dict(ops=ops, num_nodes=2, output="sum"))
    with pytest.raises(libnas.LibnasError):
        libnas.Space.build("bad", context=ctx, chain=dict(ops=["mb3_e3"], stem_channels=16),
                           stages=[dict(channels=16, stride=3, depths=[1])])
    with pytest.raises(libnas.LibnasError):   # no family at all
        libnas.Space.build("empty", context=ctx)
