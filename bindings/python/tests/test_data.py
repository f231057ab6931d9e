"""Dataset wrapper: NumPy arrays wrapped without a copy, IDX and CSV files, views, normalization."""
import ctypes
import gc
import gzip
import os
import struct
import weakref

import numpy as np
import pytest

import libnas
from conftest import FMNIST_DIR


def arrays(n=40, c=2, h=5, w=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, c, h, w)).astype(np.float32)
    y = (np.arange(n) % classes).astype(np.int32)
    return x, y


def test_from_numpy_wraps_without_copy(ctx):
    x, y = arrays()
    ds = libnas.Dataset.from_numpy(x, y, context=ctx)
    assert len(ds) == 40 and ds.shape == (2, 5, 4) and ds.num_classes == 3
    img, label = ds[3]
    assert img.dtype == np.float32 and img.shape == (2, 5, 4) and label == 3 % 3
    assert np.array_equal(img, x[3])
    # the library reads the caller's buffers on every access: a change is seen, so nothing was copied
    x[3, 1, 2, 0] = 42.5
    y[3] = 2
    img, label = ds[3]
    assert img[1, 2, 0] == 42.5 and label == 2
    assert np.array_equal(ds[-1][0], x[-1]) and ds[-40][1] == y[0]
    with pytest.raises(IndexError):
        ds[40]
    with pytest.raises(IndexError):
        ds[-41]
    with pytest.raises(TypeError):
        ds["a"]
    images, labels = ds.to_numpy()
    assert np.array_equal(images, x) and np.array_equal(labels, y)
    images[0] = -1   # to_numpy() is a copy
    assert ds[0][0][0, 0, 0] == x[0, 0, 0, 0]


def test_three_dim_images_and_explicit_class_count(ctx):
    x = np.zeros((6, 3, 3), np.float32)
    x[:, 1, 1] = np.arange(6)
    ds = libnas.Dataset.from_numpy(x, np.zeros(6, np.int32), num_classes=5, context=ctx)
    assert ds.shape == (1, 3, 3) and ds.num_classes == 5
    x[4, 1, 1] = -7.0
    assert ds[4][0][0, 1, 1] == -7.0


def test_views_keep_the_arrays_alive(ctx):
    x, y = arrays(n=30)
    expect = x[10:20].copy()
    ds = libnas.Dataset.from_numpy(x, y, context=ctx)
    x_alive = weakref.ref(x)
    view = ds.subset(10, 10)
    first, second = ds.split(0.5, seed=1)
    del x, y, ds
    gc.collect()
    assert x_alive() is not None                 # the views hold the arrays (through their base)
    assert np.array_equal(view.to_numpy()[0], expect)
    assert len(first) + len(second) == 30
    del view, first, second
    gc.collect()
    assert x_alive() is None                     # ... and only they did


def test_non_int32_labels_are_copied(ctx):
    x, _ = arrays(n=12)
    y = np.arange(12, dtype=np.int64) % 4       # NumPy's default integer: converted, a documented copy
    ds = libnas.Dataset.from_numpy(x, y, context=ctx)
    assert ds.num_classes == 4 and ds[5][1] == 1
    y[5] = 3
    assert ds[5][1] == 1                         # the copy is not the caller's array
    ds8 = libnas.Dataset.from_numpy(x, y.astype(np.uint8), context=ctx)
    assert ds8[5][1] == 3


def test_images_that_need_a_copy_are_refused_unless_copy(ctx):
    x, y = arrays(n=8)
    with pytest.raises(TypeError, match="ascontiguousarray"):
        libnas.Dataset.from_numpy(x.astype(np.float64), y, context=ctx)
    with pytest.raises(TypeError, match="ascontiguousarray"):
        libnas.Dataset.from_numpy(x.astype(">f4"), y, context=ctx)
    strided = x[:, :, ::2]
    with pytest.raises(ValueError, match="ascontiguousarray"):
        libnas.Dataset.from_numpy(strided, y, context=ctx)
    with pytest.raises(TypeError, match="copy=True"):
        libnas.Dataset.from_numpy(x.tolist(), y, context=ctx)
    ds = libnas.Dataset.from_numpy(strided, y, copy=True, context=ctx)
    assert ds.shape == (2, 3, 4) and np.array_equal(ds[2][0], strided[2])
    x64 = x.astype(np.float64)
    ds = libnas.Dataset.from_numpy(x64, y, copy=True, context=ctx)
    x64[0] = 9.0                                 # copy=True: a private copy
    assert np.array_equal(ds[0][0], x[0])


@pytest.mark.parametrize("images, labels, kwargs, exc, match", [
    (np.zeros((4, 2), np.float32), np.zeros(4, np.int32), {}, ValueError, "shape"),
    (np.zeros((4, 1, 2, 2, 1), np.float32), np.zeros(4, np.int32), {}, ValueError, "shape"),
    (np.zeros((0, 1, 2, 2), np.float32), np.zeros(0, np.int32), {}, ValueError, "zero"),
    (np.zeros((4, 1, 0, 2), np.float32), np.zeros(4, np.int32), {}, ValueError, "zero"),
    (np.zeros((4, 1, 2, 2), np.float32), np.zeros(3, np.int32), {}, ValueError, "labels must have shape"),
    (np.zeros((4, 1, 2, 2), np.float32), np.zeros(4, np.float32), {}, TypeError, "integers"),
    (np.zeros((4, 1, 2, 2), np.float32), np.array([0, 1, 2, 3], np.int32), {"num_classes": 3}, ValueError,
     r"\[0, 3\)"),
    (np.zeros((4, 1, 2, 2), np.float32), np.array([0, -1, 1, 1], np.int32), {}, ValueError, "labels"),
    (np.zeros((4, 1, 2, 2), np.float32), np.zeros(4, np.int32), {"num_classes": -2}, ValueError, "num_classes"),
])
def test_bad_arrays_raise_clear_errors(ctx, images, labels, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        libnas.Dataset.from_numpy(images, labels, context=ctx, **kwargs)


def test_too_many_classes_is_the_librarys_range_error(ctx):
    with pytest.raises(libnas.InvalidArgumentError, match="range"):
        libnas.Dataset.from_numpy(np.zeros((2, 1, 2, 2), np.float32), np.zeros(2, np.int32), num_classes=70000,
                                  context=ctx)


def test_split_subset_and_slices(ctx):
    x, y = arrays(n=60, classes=3)
    ds = libnas.Dataset.from_numpy(x, y, context=ctx)
    first, second = ds.split(0.25, seed=3)
    assert (len(first), len(second)) == (45, 15)
    a, la = first.to_numpy()
    b, lb = second.to_numpy()
    assert np.bincount(lb, minlength=3).tolist() == [5, 5, 5]      # stratified
    # disjoint, together every sample (rows are unique: compare them as bytes)
    rows = {r.tobytes() for r in a} | {r.tobytes() for r in b}
    assert len(rows) == 60 and rows == {r.tobytes() for r in x}
    again = ds.split(0.25, seed=3)[1].to_numpy()[0]
    assert np.array_equal(again, b)
    assert not np.array_equal(ds.split(0.25, seed=4)[1].to_numpy()[0], b)
    with pytest.raises(libnas.InvalidArgumentError, match="fraction"):
        ds.split(1.5)
    with pytest.raises(ValueError):
        ds.split(0.5, seed=-1)
    sub = ds.subset(50, 10)
    assert len(sub) == 10 and np.array_equal(sub[0][0], x[50]) and sub.num_classes == 3
    with pytest.raises(libnas.InvalidArgumentError):
        ds.subset(55, 10)
    with pytest.raises(ValueError):
        ds.subset(-1, 3)
    sl = ds[-5:]
    assert len(sl) == 5 and np.array_equal(sl[0][0], x[55])
    assert np.array_equal(ds[10:20].to_numpy()[0], x[10:20])
    assert np.array_equal(sub[2:4].to_numpy()[0], x[52:54])        # a view of a view
    with pytest.raises(ValueError, match="empty"):
        ds[7:7]
    with pytest.raises(ValueError, match="step"):
        ds[::2]
    assert [label for _, label in ds[:4]] == y[:4].tolist()        # iteration


def test_stats_and_normalization(ctx):
    x, y = arrays(n=50, c=2)
    ds = libnas.Dataset.from_numpy(x, y, context=ctx)
    mean, std = ds.compute_stats()
    xd = x.astype(np.float64)
    assert np.allclose(mean, xd.mean(axis=(0, 2, 3)), rtol=1e-6)
    assert np.allclose(std, xd.std(axis=(0, 2, 3)), rtol=1e-5)
    m2, s2 = ds.normalize()
    assert np.array_equal(m2, mean) and np.array_equal(s2, std)
    img = ds[7][0]
    assert np.allclose(img, (x[7] - mean[:, None, None]) / std[:, None, None], atol=1e-5)
    assert np.array_equal(ds.compute_stats()[0], mean)              # stats are of the raw values
    view = ds.subset(0, 10)                                         # inherits the setting
    assert np.array_equal(view[7][0], img)
    ds.set_normalization(None, None)
    assert np.array_equal(ds[7][0], x[7]) and np.array_equal(view[7][0], img)
    ds.set_normalization(0.5, 2.0)                                  # scalars go to every channel
    assert np.allclose(ds[1][0], (x[1] - 0.5) / 2.0, atol=1e-6)
    with pytest.raises(ValueError, match="one per channel"):
        ds.set_normalization([0.1, 0.2, 0.3], [1, 1, 1])
    with pytest.raises(ValueError, match="both"):
        ds.set_normalization(0.1, None)
    with pytest.raises(libnas.InvalidArgumentError):
        ds.set_normalization([0, 0], [1, 0])                        # std must be > 0
    assert np.allclose(ds[1][0], (x[1] - 0.5) / 2.0, atol=1e-6)     # a failing call keeps the setting


def test_augmentation_settings(ctx):
    x, y = arrays(n=8, h=6, w=6)
    ds = libnas.Dataset.from_numpy(x, y, context=ctx)
    ds.set_augmentation(pad=2, hflip=True)
    assert np.array_equal(ds[1][0], x[1])                           # never applied by ds[i]
    with pytest.raises(libnas.InvalidArgumentError):
        ds.set_augmentation(pad=6)
    with pytest.raises(ValueError):
        ds.set_augmentation(pad=-1)
    ds.set_augmentation()


def test_closed_dataset_is_refused(ctx):
    x, y = arrays(n=4)
    ds = libnas.Dataset.from_numpy(x, y, context=ctx)
    ds.close()
    assert "closed" in repr(ds)
    with pytest.raises((ValueError, ctypes.ArgumentError), match="closed"):   # ctypes wraps the ValueError
        len(ds)


def write_idx(path, magic, dims, payload, gz=False):
    data = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + bytes(payload)
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("gz", [False, True])
def test_load_idx(ctx, tmp_path, gz):
    pixels = np.arange(5 * 3 * 2, dtype=np.uint8) * 8
    images, labels = tmp_path / "img.idx", tmp_path / "lab.idx"
    write_idx(images, 0x803, (5, 3, 2), pixels.tobytes(), gz)
    write_idx(labels, 0x801, (5,), bytes([0, 1, 2, 3, 1]), gz)
    ds = libnas.Dataset.load_idx(images, str(labels), context=ctx)
    assert len(ds) == 5 and ds.shape == (1, 3, 2) and ds.num_classes == 4
    img, label = ds[2]
    assert label == 2 and np.allclose(img.ravel(), pixels[12:18] / 255.0)


def test_load_idx_bad_files(ctx, tmp_path):
    images, labels = tmp_path / "img.idx", tmp_path / "lab.idx"
    write_idx(images, 0x803, (5, 3, 2), bytes(29))                 # one byte short
    write_idx(labels, 0x801, (5,), bytes(5))
    with pytest.raises(libnas.ParseError, match="expected 30 bytes"):
        libnas.Dataset.load_idx(images, labels, context=ctx)
    write_idx(images, 0x999, (5, 3, 2), bytes(30))
    with pytest.raises(libnas.ParseError, match=str(images)):
        libnas.Dataset.load_idx(images, labels, context=ctx)
    with pytest.raises(libnas.LibnasIOError, match="nothing-here"):
        libnas.Dataset.load_idx(tmp_path / "nothing-here", labels, context=ctx)
    with pytest.raises(FileNotFoundError, match="Fashion-MNIST"):
        libnas.Dataset.fashion_mnist("test", data_dir=tmp_path, context=ctx)
    with pytest.raises(ValueError, match="split"):
        libnas.Dataset.fashion_mnist("validation", context=ctx)


def test_load_csv(ctx, tmp_path):
    path = tmp_path / "d.csv"
    rows = ["a,b,c,d,label"] + ["%d,%d,%d,%d,%d" % (i, 2 * i, 3 * i, 4 * i, i % 2) for i in range(6)]
    path.write_text("\n".join(rows) + "\n")
    ds = libnas.Dataset.load_csv(path, shape=(1, 2, 2), scale=0.5, context=ctx)
    assert len(ds) == 6 and ds.shape == (1, 2, 2) and ds.num_classes == 2
    img, label = ds[3]
    assert label == 1 and np.allclose(img.ravel(), [1.5, 3.0, 4.5, 6.0])
    first = tmp_path / "first.csv"
    first.write_text("1,10,20\n0,30,40\n")                          # label first, no header, shape W
    ds = libnas.Dataset.load_csv(first, shape=2, label_column=0, header=False, context=ctx)
    assert ds.shape == (1, 1, 2) and ds[1][1] == 0 and np.array_equal(ds[1][0].ravel(), [30, 40])
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n4,x,6\n")
    with pytest.raises(libnas.ParseError, match=r"bad\.csv:2:3"):
        libnas.Dataset.load_csv(bad, shape=2, header=False, context=ctx)
    with pytest.raises(ValueError, match="shape"):
        libnas.Dataset.load_csv(bad, shape=(1, 1, 1, 2), context=ctx)


def test_fashion_mnist_test_split(ctx):
    if not os.path.isdir(FMNIST_DIR):
        pytest.skip("Fashion-MNIST not installed under %s (Debian package dataset-fashion-mnist)" % FMNIST_DIR)
    ds = libnas.Dataset.fashion_mnist("test", context=ctx)
    assert len(ds) == 10000 and ds.num_classes == 10 and ds.shape == (1, 28, 28)
    img, label = ds[-1]
    assert 0 <= label < 10 and img.min() >= 0.0 and img.max() <= 1.0 and img.max() > 0.0
    mean, std = ds.subset(0, 1000).compute_stats()
    assert 0.2 < mean[0] < 0.4 and 0.25 < std[0] < 0.45          # Fashion-MNIST's well-known statistics
