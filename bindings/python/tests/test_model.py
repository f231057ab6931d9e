"""Model wrapper: training on a small learnable task, evaluation, prediction, files, callbacks.

Everything is tiny (8x8 one-channel images, a two-stage cell space with few channels, one compute
thread) and the trained model is shared by the module's tests.
"""
import os
import signal
import threading
import types

import numpy as np
import pytest

import libnas

YAML = """\
name: tiny-py
family: cell
cell:
  ops: [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3]
  num_inputs: 1
  num_nodes: 3
macro:
  stem_channels: 8
  stages:
    - {cells: 1, channels: 8}
    - {cells: 1, channels: 16}
"""
ARCH = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
CLASSES = 3


def make_data(n, seed):
    """Noisy 1x8x8 images whose class says which horizontal band (top, middle, bottom) is bright,
    as raw values around [0, 1]: learnable, but not from the mean pixel alone."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n).astype(np.int32)
    x = rng.uniform(0.0, 0.6, (n, 1, 8, 8)).astype(np.float32)
    for k, rows in enumerate([slice(0, 3), slice(3, 5), slice(5, 8)]):
        x[y == k, 0, rows, :] += 0.5
    return x, y


@pytest.fixture(scope="module")
def env():
    """A context, the space, an arch, train/test data (normalized) and one model trained on them."""
    ctx = libnas.Context(threads=int(os.environ.get("NAS_TEST_THREADS", "1")), seed=7)
    e = types.SimpleNamespace(ctx=ctx)
    e.space = libnas.Space.from_string(YAML, ctx)
    e.arch = e.space.arch(ARCH)
    e.x, e.y = make_data(256, seed=1)
    e.tx, e.ty = make_data(120, seed=2)
    e.train = libnas.Dataset.from_numpy(e.x, e.y, context=ctx)
    e.mean, e.std = e.train.normalize()
    e.test = libnas.Dataset.from_numpy(e.tx, e.ty, context=ctx)
    e.test.set_normalization(e.mean, e.std)
    e.model = libnas.Model(e.arch, e.train, seed=3)
    e.reports = []
    e.result = e.model.train(e.train, epochs=3, batch_size=32, lr=0.05, progress=e.reports.append,
                             progress_every=4)
    yield e
    ctx.close()


def fresh_model(env, **kwargs):
    return libnas.Model(env.arch, shape=(1, 8, 8), num_classes=CLASSES, seed=5, **kwargs)


def test_training_learns_the_task(env):
    r = env.result
    assert isinstance(r, libnas.TrainResult)
    assert r.steps == 3 * (256 // 32) and r.batch_size == 32 and r.samples == 256 and r.epochs == pytest.approx(3)
    assert r.seconds > 0 and np.isfinite(r.loss)
    steps = [p.step for p in env.reports]
    assert steps == [4, 8, 12, 16, 20, 24]                      # every 4 steps, and the last one
    assert all(isinstance(p, libnas.TrainProgress) and p.total_steps == 24 and p.epochs == 3 for p in env.reports)
    assert env.reports[-1].loss < env.reports[0].loss
    ev = env.model.evaluate(env.test)
    assert isinstance(ev, libnas.EvalResult) and ev.samples == 120
    assert ev.accuracy > 80.0, ev                               # chance is 33 %
    assert ev.correct == round(ev.accuracy * 120 / 100)
    # evaluate() and predict() agree on what is correct
    pred = env.model.classify(env.test.to_numpy()[0])
    assert int((pred == env.ty).sum()) == ev.correct


def test_info(env):
    info = env.model.info
    assert isinstance(info, libnas.ModelInfo)
    assert info.shape == (1, 8, 8) and info.num_classes == CLASSES
    assert info.params > 0 and info.flops > 0 and info.steps_trained == env.result.steps
    assert info.arch == str(env.arch) and info.space_name == "tiny-py" and info.has_space_yaml
    assert env.model.space is env.space and "tiny-py" in repr(env.model)


def test_normalization_follows_training_data_and_can_be_set(env):
    mean, std = env.model.normalization
    assert np.array_equal(mean, env.mean) and np.array_equal(std, env.std)
    m = fresh_model(env)
    assert m.normalization[0].tolist() == [0.0] and m.normalization[1].tolist() == [1.0]
    m.normalization = (0.25, [2.0])
    assert m.normalization[0].tolist() == [0.25] and m.normalization[1].tolist() == [2.0]
    with pytest.raises(ValueError, match="one per channel"):
        m.normalization = ([0.1, 0.2], [1.0, 1.0])
    with pytest.raises(libnas.InvalidArgumentError):
        m.normalization = (0.0, -1.0)
    with pytest.raises(TypeError):
        m.normalization = 3.0
    m.normalization = None
    assert m.normalization[1].tolist() == [1.0]


def test_predict_shapes_and_probabilities(env):
    m = env.model
    xn = env.test.to_numpy()[0]
    p = m.predict(xn[:7])
    assert p.shape == (7, CLASSES) and p.dtype == np.float32
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5) and (p >= 0).all()
    z = m.predict(xn[:7], logits=True)
    assert np.array_equal(np.argmax(z, axis=1), np.argmax(p, axis=1))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    assert np.allclose(e / e.sum(axis=1, keepdims=True), p, atol=1e-6)
    assert np.array_equal(m.predict(xn[:7, 0], logits=True), z)          # (n, H, W) when C = 1
    single = m.predict(xn[3], logits=True)                                # (C, H, W): one sample
    assert single.shape == (1, CLASSES)
    assert np.allclose(single[0], z[3], rtol=1e-5, atol=1e-6)
    assert np.array_equal(m.predict(xn[:7].astype(np.float64), logits=True), z)   # floats are converted


def test_predict_rows_are_independent_of_the_batch(env):
    m = env.model
    xn = env.test.to_numpy()[0]
    a = m.predict(xn[:12], logits=True)
    other = xn[:12].copy()
    other[[0, 1, 2, 9, 10, 11]] = xn[50:56]
    b = m.predict(other, logits=True)
    assert np.array_equal(a[3:9], b[3:9])                 # same call size: bit for bit
    assert not np.array_equal(a[:3], b[:3])
    c = m.predict(xn[:100], logits=True)                  # another batch plan: equal up to float rounding
    assert np.allclose(a, c[:12], rtol=1e-5, atol=1e-6)


def test_predict_normalize_flag(env):
    m = env.model
    raw = env.tx[:20]
    normalized = (raw - env.mean[:, None, None]) / env.std[:, None, None]
    want = m.predict(normalized, logits=True)
    got = m.predict(raw, normalize=True, logits=True)
    assert np.allclose(got, want, rtol=1e-5, atol=1e-5)
    assert not np.allclose(m.predict(raw, logits=True), want, rtol=1e-3, atol=1e-3)
    assert np.array_equal(m.classify(raw, normalize=True), np.argmax(got, axis=1))


@pytest.mark.parametrize("x, exc, match", [
    (np.zeros((2, 1, 8, 7), np.float32), ValueError, r"\(n, 1, 8, 8\)"),
    (np.zeros((2, 2, 8, 8), np.float32), ValueError, "shape"),
    (np.zeros((8, 8), np.float32), ValueError, "shape"),
    (np.zeros((0, 1, 8, 8), np.float32), ValueError, "no sample"),
    (np.zeros((2, 1, 8, 8), np.uint8), TypeError, "floats"),
    (np.zeros((2, 1, 8, 8), np.int64), TypeError, "floats"),
    ("pixels", TypeError, "floats"),
])
def test_predict_bad_input(env, x, exc, match):
    with pytest.raises(exc, match=match):
        env.model.predict(x)


def test_save_load_roundtrip(env, tmp_path):
    path = tmp_path / "m.nas"
    env.model.save(path)
    xn = env.test.to_numpy()[0]
    want = env.model.predict(xn, logits=True)
    # with the caller's space
    a = libnas.Model.load(path, space=env.space)
    assert np.array_equal(a.predict(xn, logits=True), want)
    assert a.info == env.model.info and a.space is env.space
    assert all(np.array_equal(u, v) for u, v in zip(a.normalization, env.model.normalization))
    # from the YAML embedded in the file: the model owns its space
    b = libnas.Model.load(str(path), context=env.ctx)
    assert np.array_equal(b.predict(xn, logits=True), want)
    assert isinstance(b.space, libnas.Space) and b.space.name == "tiny-py" and b.space.size == 5 ** 6
    assert b.space.arch(b.info.arch) == b.space.arch(ARCH)
    assert b.space.yaml == env.space.yaml == YAML.encode()   # models made from it embed it in turn
    assert b.evaluate(env.test).correct == env.model.evaluate(env.test).correct
    b.close()
    assert b.space.closed                               # the borrowed space went with its model
    # saving again over the file is atomic and gives the same model
    a.save(path)
    assert np.array_equal(libnas.Model.load(path, space=env.space).predict(xn, logits=True), want)


def test_model_without_space_yaml_needs_the_space(env, tmp_path):
    # The same space inline in an experiment file has no YAML text of its own to embed.
    inline = "space:\n" + "".join("  " + line + "\n" for line in YAML.splitlines())
    space = libnas.Experiment.from_string(inline, env.ctx).space
    assert space.yaml is None and libnas.Space.from_string(YAML, env.ctx).yaml == YAML.encode()
    m = libnas.Model(space.arch(ARCH), shape=(8, 8), num_classes=CLASSES, seed=5)
    assert not m.info.has_space_yaml and m.info.shape == (1, 8, 8)
    path = tmp_path / "noyaml.nas"
    m.save(path)
    with pytest.raises(libnas.InvalidArgumentError, match="no space YAML"):
        libnas.Model.load(path, context=env.ctx)
    assert libnas.Model.load(path, space=space).info.arch == ARCH


def test_corrupted_and_bad_files(env, tmp_path):
    path = tmp_path / "m.nas"
    env.model.save(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad = tmp_path / "flipped.nas"
    bad.write_bytes(bytes(data))
    with pytest.raises(libnas.ParseError, match="checksum"):
        libnas.Model.load(bad, context=env.ctx)
    short = tmp_path / "short.nas"
    short.write_bytes(bytes(data[:100]))
    with pytest.raises(libnas.ParseError):
        libnas.Model.load(short, context=env.ctx)
    with pytest.raises(libnas.LibnasIOError):
        libnas.Model.load(tmp_path / "missing.nas", context=env.ctx)
    with pytest.raises(libnas.LibnasIOError):
        env.model.save(tmp_path / "no" / "such" / "dir.nas")
    other = libnas.Space.from_string(YAML.replace("tiny-py", "other-name"), env.ctx)
    with pytest.raises(libnas.InvalidArgumentError):
        libnas.Model.load(path, space=other)
    with pytest.raises(TypeError):
        libnas.Model.load(path, space="tiny-py")


def test_bad_model_arguments(env):
    with pytest.raises(TypeError, match="Arch"):
        libnas.Model(ARCH, shape=(1, 8, 8), num_classes=3)
    with pytest.raises(ValueError, match="shape"):
        libnas.Model(env.arch)
    with pytest.raises(ValueError, match="not both"):
        libnas.Model(env.arch, env.train, num_classes=3)
    with pytest.raises(ValueError, match="shape"):
        libnas.Model(env.arch, shape=(1, 1, 8, 8), num_classes=3)
    with pytest.raises(libnas.InvalidArgumentError):
        libnas.Model(env.arch, shape=(1, 8, 8), num_classes=1)         # 2..65535 classes
    with pytest.raises(libnas.InvalidArgumentError):
        libnas.Model(env.arch, shape=(1, 8, 8), num_classes=3, stem_stride=3)
    with pytest.raises(ValueError):
        libnas.Model(env.arch, shape=(1, 8, 8), num_classes=3, seed=-1)
    with pytest.raises(ValueError):
        libnas.Model(env.arch, shape=(1, -8, 8), num_classes=3)


def test_bad_training_arguments(env):
    m = env.model
    steps = m.info.steps_trained
    with pytest.raises(libnas.InvalidArgumentError, match="batch_size"):
        m.train(env.train, batch_size=0)
    with pytest.raises(libnas.InvalidArgumentError, match="lr"):
        m.train(env.train, lr=-1.0)
    with pytest.raises(ValueError, match="optimizer"):
        m.train(env.train, optimizer="sgdx")
    with pytest.raises(ValueError, match="schedule"):
        m.train(env.train, schedule="linear")
    with pytest.raises(ValueError, match="epochs"):
        m.train(env.train, epochs=-1)
    with pytest.raises(TypeError):
        m.train(env.train, progress=5)
    with pytest.raises(TypeError, match="Dataset"):
        m.train(env.x)
    wrong = libnas.Dataset.from_numpy(np.zeros((4, 1, 6, 6), np.float32), np.zeros(4, np.int32), context=env.ctx)
    with pytest.raises(libnas.InvalidArgumentError, match="1 x 6 x 6"):
        m.train(wrong)
    with pytest.raises(libnas.InvalidArgumentError):
        m.evaluate(wrong)
    with pytest.raises(libnas.InvalidArgumentError, match="batch_size"):
        m.evaluate(env.test, batch_size=0)
    assert m.info.steps_trained == steps                               # nothing was trained


def test_train_on_arrays_with_adam_and_steps(env):
    m = fresh_model(env)
    r = m.train((env.x, env.y), steps=3, batch_size=16, optimizer="adam", lr=1e-3, schedule="constant")
    assert r.steps == 3 and m.info.steps_trained == 3
    assert m.evaluate((env.tx, env.ty)).samples == 120


def test_cancel_stops_training_and_keeps_the_model_usable(env):
    m = fresh_model(env)
    polls = []

    def cancel():
        polls.append(1)
        return len(polls) > 2

    with pytest.raises(libnas.AbortedError) as info:
        m.train(env.train, epochs=2, batch_size=32, cancel=cancel)
    assert info.value.result.steps == 2 and m.info.steps_trained == 2
    assert len(polls) == 3                                             # polled before every step
    assert m.evaluate(env.test).samples == 120
    assert m.train(env.train, steps=1, batch_size=32).steps == 1
    with pytest.raises(libnas.AbortedError):
        m.evaluate(env.test, batch_size=16, cancel=lambda: True)


def test_exceptions_in_callbacks_are_reraised(env):
    m = fresh_model(env)
    calls = []

    def progress(p):
        calls.append(p.step)
        raise RuntimeError("boom at step %d" % p.step)

    with pytest.raises(RuntimeError, match="boom at step 1"):
        m.train(env.train, epochs=2, batch_size=32, progress=progress, progress_every=1)
    assert calls == [1] and m.info.steps_trained == 1                  # stopped at the next poll

    def cancel():
        raise ZeroDivisionError("in cancel")

    with pytest.raises(ZeroDivisionError, match="in cancel"):
        m.train(env.train, epochs=2, batch_size=32, cancel=cancel)
    assert m.info.steps_trained == 1
    with pytest.raises(ZeroDivisionError):
        m.evaluate(env.test, cancel=cancel)
    assert m.predict(env.tx[:2]).shape == (2, CLASSES)


def test_ctrl_c_stops_training_cleanly(env):
    m = fresh_model(env)
    before = signal.getsignal(signal.SIGINT)
    during = []

    def progress(p):
        during.append(signal.getsignal(signal.SIGINT))
        if p.step == 2:
            signal.raise_signal(signal.SIGINT)                         # as if the user pressed Ctrl-C

    with pytest.raises(KeyboardInterrupt):
        m.train(env.train, epochs=2, batch_size=32, progress=progress, progress_every=1)
    assert m.info.steps_trained == 2
    # during the C call a handler that only records the Ctrl-C is installed (KeyboardInterrupt raised at an
    # arbitrary bytecode of a callback would be lost by ctypes), and the previous one is restored after
    assert during and all(h is not before for h in during)
    assert signal.getsignal(signal.SIGINT) is before
    assert m.evaluate(env.test).samples == 120


def test_ctrl_c_from_outside_during_the_c_call(env):
    """A real Ctrl-C: SIGINT from another thread while the library computes (no Python code running)."""
    m = fresh_model(env)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            m.train(env.train, steps=10 ** 6, batch_size=32)   # far longer than anyone waits
    finally:
        timer.cancel()
        timer.join()
    assert m.info.steps_trained < 10 ** 6
    assert m.predict(env.tx[:2]).shape == (2, CLASSES)


def test_latency(env):
    lat = env.model.latency(batch=2, warmup=1, runs=4, max_seconds=0)
    assert isinstance(lat, libnas.Latency) and lat.batch == 2 and lat.runs == 4
    assert 0 < lat.min_ms <= lat.median_ms <= lat.p90_ms and lat.mean_ms >= lat.min_ms
    with pytest.raises(libnas.InvalidArgumentError):
        env.model.latency(runs=0)
    with pytest.raises(ValueError):
        env.model.latency(batch=-1)


def test_proxy_overrides_shrink_the_network(env):
    full = fresh_model(env)
    half = fresh_model(env, channel_scale=0.5)
    deeper = fresh_model(env, cells_per_stage=2)
    assert half.info.params < full.info.params < deeper.info.params
    with pytest.raises(libnas.InvalidArgumentError):
        fresh_model(env, channel_scale=100.0)
