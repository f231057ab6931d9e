"""Labelled image data sets: IDX and CSV files, or NumPy arrays wrapped without a copy."""
import ctypes
import errno
import operator
import os

import numpy as np

from . import _capi
from ._handle import Handle
from ._lib import check, lib, to_bytes, to_str
from .core import _context

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"

_F32P = ctypes.POINTER(ctypes.c_float)
_I32P = ctypes.POINTER(ctypes.c_int32)


def _uint(name, value, bits=64):
    """value as a Python int in [0, 2**bits) (ctypes would wrap a negative or too large one silently)."""
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an int, not %s" % (name, type(value).__name__)) from None
    if not 0 <= v < 2 ** bits:
        raise ValueError("%s must be in [0, 2**%d), not %d" % (name, bits, v))
    return v


def _f32_ptr(a):
    return a.ctypes.data_as(_F32P)


def _channel_values(name, values, channels):
    """A per-channel float32 vector (a scalar is repeated) of length `channels`, C-contiguous."""
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(channels, float(a))
    if a.shape != (channels,):
        raise ValueError("%s must be a scalar or have %d values (one per channel), not shape %s"
                         % (name, channels, a.shape))
    return np.ascontiguousarray(a, dtype=np.float32)


class Dataset(Handle):
    """A labelled image data set: N samples of shape (C, H, W) and an int label each.

    Make one with Dataset.from_numpy(), load_idx(), load_csv() or fashion_mnist(). A data set made by
    split(), subset() or slicing is a view sharing the samples (and keeps its base alive).
    ds[i] is (image float32 (C, H, W), label int), normalized as set_normalization() says.
    A data set is used by one thread at a time; its context must stay open while it is used.
    """

    _destroy = lib.nas_dataset_destroy

    def __init__(self, ptr, context, base=None, arrays=()):
        """Internal: use the class methods. Wraps an owned nas_dataset_t*."""
        super().__init__(ptr, context)
        self.context = context
        self._base = base          # the data set this one is a view of (keeps its arrays alive too)
        self._arrays = tuple(arrays) + (base._arrays if base is not None else ())

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_numpy(cls, images, labels, num_classes=None, context=None, copy=False):
        """Wrap NumPy arrays without copying the images.

        images: float32, C-contiguous, aligned, shape (N, C, H, W) or (N, H, W) (then C = 1). Anything
        else raises TypeError/ValueError unless copy=True, which always takes a private float32 copy.
        labels: N integers in [0, num_classes). int32 C-contiguous labels are wrapped as they are; other
        integer dtypes (e.g. NumPy's default int64) are converted to a private int32 copy, so later
        changes to the caller's labels are not seen (changes to wrapped images and int32 labels are:
        the library reads the arrays on every access; wrapped labels must stay in range).
        num_classes: None means max(labels) + 1.
        The arrays are kept alive as long as this data set and every view of it.
        """
        ctx = _context(context)
        if copy:
            try:
                images = np.array(images, dtype=np.float32, order="C", copy=True)
            except (TypeError, ValueError) as e:
                raise TypeError("images cannot be converted to float32: %s" % e) from None
        elif not isinstance(images, np.ndarray):
            raise TypeError("images must be a numpy.ndarray (float32, C-contiguous), not %s; pass copy=True "
                            "to convert it" % type(images).__name__)
        elif images.dtype != np.float32:
            raise TypeError("images must be float32 (native byte order), not %s: wrapping needs no copy; use "
                            "np.ascontiguousarray(x, dtype=np.float32) or pass copy=True" % images.dtype)
        elif not (images.flags.c_contiguous and images.flags.aligned):
            raise ValueError("images must be C-contiguous and aligned to be wrapped without a copy; use "
                             "np.ascontiguousarray(x, dtype=np.float32) or pass copy=True")
        if images.ndim == 3:
            view = images.reshape(images.shape[0], 1, images.shape[1], images.shape[2])
        elif images.ndim == 4:
            view = images
        else:
            raise ValueError("images must have shape (N, C, H, W) or (N, H, W), not %s" % (images.shape,))
        n, c, h, w = (int(d) for d in view.shape)
        if n == 0 or c == 0 or h == 0 or w == 0:
            raise ValueError("images must not have a zero dimension (shape %s)" % (images.shape,))

        if not isinstance(labels, np.ndarray):
            labels = np.asarray(labels)
        if labels.dtype.kind not in "iu":
            raise TypeError("labels must be integers, not %s" % labels.dtype)
        if labels.shape != (n,):
            raise ValueError("labels must have shape (%d,) (one per image), not %s" % (n, labels.shape))
        lo, hi = int(labels.min()), int(labels.max())
        if num_classes is None:
            num_classes = hi + 1
        num_classes = _uint("num_classes", num_classes, 32)
        if lo < 0 or hi >= num_classes:
            raise ValueError("labels must be in [0, %d), found values in [%d, %d]" % (num_classes, lo, hi))
        if labels.dtype != np.int32 or not (labels.flags.c_contiguous and labels.flags.aligned) or copy:
            labels = np.ascontiguousarray(labels, dtype=np.int32).copy()  # documented copy

        ptr = ctypes.c_void_p()
        check(lib.nas_dataset_from_buffer(ctypes.byref(ptr), ctx, _f32_ptr(view), labels.ctypes.data_as(_I32P),
                                          n, c, h, w, num_classes), ctx.errmsg)
        return cls(ptr.value, ctx, arrays=(images, view, labels))

    @classmethod
    def load_idx(cls, images_path, labels_path, context=None):
        """Load IDX files (MNIST format, gzip'd or not); pixels read as x / 255."""
        ctx = _context(context)
        ptr = ctypes.c_void_p()
        check(lib.nas_dataset_load_idx(ctypes.byref(ptr), ctx, to_bytes(images_path, "images_path"),
                                       to_bytes(labels_path, "labels_path")), ctx.errmsg)
        return cls(ptr.value, ctx)

    @classmethod
    def load_csv(cls, path, shape, label_column=-1, header=True, scale=1.0, context=None):
        """Load a CSV file (gzip'd or not): one sample per row, C*H*W values in CHW order and an integer
        label at label_column (-1: the last). shape: (C, H, W), (H, W) or a number of values W.
        Values are multiplied by scale. Errors read "PATH:LINE:COLUMN: what"."""
        ctx = _context(context)
        dims = (shape,) if isinstance(shape, int) else tuple(shape)
        if not 1 <= len(dims) <= 3:
            raise ValueError("shape must be (C, H, W), (H, W) or W, not %r" % (shape,))
        dims = (1,) * (3 - len(dims)) + dims
        opts = _capi.nas_csv_opts_t()   # NAS_CSV_OPTS_INIT, then the arguments
        opts.struct_size = ctypes.sizeof(opts)
        opts.channels, opts.height, opts.width = (_uint("shape", d, 32) for d in dims)
        if not isinstance(label_column, int) or not -1 <= label_column < 2 ** 31:
            raise ValueError("label_column must be an int >= -1")
        opts.label_column = label_column
        opts.header = bool(header)
        opts.scale = float(scale)
        ptr = ctypes.c_void_p()
        check(lib.nas_dataset_load_csv(ctypes.byref(ptr), ctx, to_bytes(path, "path"), ctypes.byref(opts)),
              ctx.errmsg)
        return cls(ptr.value, ctx)

    @classmethod
    def fashion_mnist(cls, split="train", data_dir=FASHION_MNIST_DIR, context=None):
        """Fashion-MNIST's train (60000) or test (10000) samples, 1 x 28 x 28, 10 classes, from the IDX
        files in data_dir (gzip'd or not; Debian package dataset-fashion-mnist)."""
        prefixes = {"train": "train", "test": "t10k"}
        if split not in prefixes:
            raise ValueError("split must be 'train' or 'test', not %r" % (split,))
        paths = []
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            base = os.path.join(os.fspath(data_dir), "%s-%s" % (prefixes[split], kind))
            found = [p for p in (base + ".gz", base) if os.path.exists(p)]
            if not found:
                raise FileNotFoundError(errno.ENOENT, "Fashion-MNIST file missing (tried %s.gz and %s)"
                                        % (base, base), base)
            paths.append(found[0])
        return cls.load_idx(paths[0], paths[1], context)

    # ------------------------------------------------------------------ queries

    def errmsg(self):
        """The detailed message of the last failing call on this data set ("" if none)."""
        return to_str(lib.nas_dataset_errmsg(self)) if self._ptr else ""

    def __len__(self):
        return lib.nas_dataset_num_samples(self)

    @property
    def shape(self):
        """(C, H, W) of one sample."""
        c, h, w = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_uint32()
        lib.nas_dataset_shape(self, ctypes.byref(c), ctypes.byref(h), ctypes.byref(w))
        return (c.value, h.value, w.value)

    @property
    def num_classes(self):
        return lib.nas_dataset_num_classes(self)

    def _get(self, i, image):
        label = ctypes.c_int32()
        check(lib.nas_dataset_get(self, i, _f32_ptr(image), ctypes.byref(label)), self.errmsg)
        return label.value

    def __getitem__(self, key):
        """ds[i]: (image float32 array (C, H, W), label int), negative i from the end; ds[a:b]: a view."""
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                raise ValueError("data set slices take no step (got %d)" % step)
            if stop <= start:
                raise ValueError("empty slice [%d:%d] of a data set of %d samples" % (start, stop, len(self)))
            return self.subset(start, stop - start)
        try:
            i = operator.index(key)
        except TypeError:
            raise TypeError("data set indices must be ints or slices, not %s" % type(key).__name__) from None
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("sample index %d out of range for a data set of %d samples" % (key, n))
        image = np.empty(self.shape, dtype=np.float32)
        label = self._get(i, image)
        return image, label

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def to_numpy(self):
        """A copy of every sample: (images float32 (N, C, H, W), labels int32 (N,)), normalized as ds[i] is."""
        n = len(self)
        images = np.empty((n,) + self.shape, dtype=np.float32)
        labels = np.empty(n, dtype=np.int32)
        for i in range(n):
            labels[i] = self._get(i, images[i])
        return images, labels

    # ------------------------------------------------------------------ views

    def split(self, fraction, seed=0):
        """Stratified split into views (first, second): second gets round(fraction * N) samples, first the
        rest, both in this data set's order. Equal (data, fraction, seed) give equal splits."""
        first, second = ctypes.c_void_p(), ctypes.c_void_p()
        check(lib.nas_dataset_split(self, float(fraction), _uint("seed", seed), ctypes.byref(first),
                                    ctypes.byref(second)), self.errmsg)
        return Dataset(first.value, self.context, self), Dataset(second.value, self.context, self)

    def subset(self, offset, count):
        """A view of samples [offset, offset + count)."""
        ptr = ctypes.c_void_p()
        check(lib.nas_dataset_subset(self, _uint("offset", offset), _uint("count", count), ctypes.byref(ptr)),
              self.errmsg)
        return Dataset(ptr.value, self.context, self)

    # ------------------------------------------------------------------ normalization, augmentation

    def compute_stats(self):
        """Per-channel (mean, std) float32 arrays of the values before normalization (population std)."""
        c = self.shape[0]
        mean, std = np.empty(c, np.float32), np.empty(c, np.float32)
        check(lib.nas_dataset_compute_stats(self, _f32_ptr(mean), _f32_ptr(std), c), self.errmsg)
        return mean, std

    def set_normalization(self, mean, std):
        """Read samples as (x - mean[c]) / std[c] (scalars or one value per channel; std > 0).
        mean = std = None removes the normalization. Views made later inherit it; existing ones do not."""
        c = self.shape[0]
        if mean is None and std is None:
            check(lib.nas_dataset_set_normalization(self, None, None, c), self.errmsg)
            return
        if mean is None or std is None:
            raise ValueError("give both mean and std, or neither (to remove the normalization)")
        m, s = _channel_values("mean", mean, c), _channel_values("std", std, c)
        check(lib.nas_dataset_set_normalization(self, _f32_ptr(m), _f32_ptr(s), c), self.errmsg)

    def normalize(self):
        """Compute this data set's statistics and normalize with them; returns (mean, std)."""
        mean, std = self.compute_stats()
        self.set_normalization(mean, std)
        return mean, std

    def set_augmentation(self, pad=0, hflip=False):
        """Training-time augmentation (used by Model.train(augment=True) only): a random crop after
        padding with `pad` zero pixels (pad < min(H, W)), and a random left-right flip if hflip."""
        check(lib.nas_dataset_set_augmentation(self, _uint("pad", pad, 32), bool(hflip)), self.errmsg)

    def __repr__(self):
        if self.closed:
            return "<libnas.Dataset (closed)>"
        c, h, w = self.shape
        return "<libnas.Dataset %d samples of %dx%dx%d, %d classes>" % (len(self), c, h, w, self.num_classes)


__all__ = ["Dataset", "FASHION_MNIST_DIR"]
