"""Models: one architecture built into a network, trained, evaluated, timed, saved and loaded."""
import ctypes
import math
import operator
import signal
import threading
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from . import _capi
from ._handle import Handle
from ._lib import check, error, lib, to_bytes, to_str
from .core import _context
from .data import Dataset, _channel_values, _f32_ptr, _uint
from .space import Arch, Space

OPTIMIZERS = {"sgd": _capi.NAS_OPTIMIZER_SGD, "adam": _capi.NAS_OPTIMIZER_ADAM}
SCHEDULES = {"constant": _capi.NAS_SCHEDULE_CONSTANT, "cosine": _capi.NAS_SCHEDULE_COSINE,
             "step": _capi.NAS_SCHEDULE_STEP}


@dataclass(frozen=True)
class ModelInfo:
    """What a model is."""
    shape: Tuple[int, int, int]  # input (C, H, W)
    num_classes: int
    params: int                  # trainable scalars
    flops: int                   # forward FLOPs per sample (2 x multiply-adds of conv and fc layers)
    steps_trained: int           # optimizer steps over the model's life (kept in saved files)
    arch: str                    # canonical string of the architecture
    space_name: str
    has_space_yaml: bool         # saved files load without the space


@dataclass(frozen=True)
class TrainProgress:
    """Passed to train()'s progress callback."""
    step: int                    # optimizer steps done in this call
    total_steps: int             # planned
    epoch: int                   # epoch in progress, 0-based
    epochs: int                  # epochs planned
    loss: float                  # mean training loss since the previous report
    accuracy: float              # training accuracy since the previous report, percent
    lr: float                    # learning rate of the last step
    elapsed: float               # seconds since the call started


@dataclass(frozen=True)
class TrainResult:
    """Outcome of train() (also attached as `.result` to the exception of a failed call)."""
    steps: int
    epochs: float
    loss: float                  # mean training loss over the last epoch's steps (NaN if none)
    accuracy: float              # training accuracy over the same steps, percent
    seconds: float
    samples: int                 # training samples after data_fraction
    batch_size: int              # after clamping to the number of samples


@dataclass(frozen=True)
class EvalResult:
    """Outcome of evaluate()."""
    samples: int
    correct: int
    loss: float                  # mean cross-entropy
    accuracy: float              # 100 x correct / samples
    seconds: float


@dataclass(frozen=True)
class Latency:
    """Inference time per forward of a whole batch, in milliseconds."""
    batch: int
    runs: int
    median_ms: float
    p90_ms: float
    min_ms: float
    mean_ms: float


class _Callbacks:
    """Python callbacks for a long C call, made safe: an exception raised by progress or cancel (or a
    Ctrl-C, caught with a SIGINT handler installed for the call in the main thread) never unwinds
    through C. It is kept, cancel answers true from then on so the call stops with NAS_E_ABORTED,
    and finish() re-raises it once the call has returned."""

    def __init__(self, cancel=None, progress=None, make_progress=None):
        self.exc = None
        self.interrupted = False
        self._cancel, self._progress, self._make = cancel, progress, make_progress
        self.cancel_fn = _capi.nas_cancel_fn(self._on_cancel)
        self.progress_fn = _capi.nas_train_progress_fn(self._on_progress) if progress else None
        self._old_sigint = None

    def _on_cancel(self, _user_data):
        if self.exc is not None or self.interrupted:
            return True
        if self._cancel is None:
            return False
        try:
            return bool(self._cancel())
        except BaseException as e:  # noqa: B902 - KeyboardInterrupt and SystemExit included
            self.exc = e
            return True

    def _on_progress(self, _user_data, p):
        if self.exc is not None or self.interrupted:
            return
        try:
            self._progress(self._make(p.contents))
        except BaseException as e:  # noqa: B902
            self.exc = e

    def _on_sigint(self, _signum, _frame):
        self.interrupted = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            old = signal.getsignal(signal.SIGINT)
            if callable(old):  # not SIG_IGN / SIG_DFL / a handler installed outside Python
                signal.signal(signal.SIGINT, self._on_sigint)
                self._old_sigint = old
        return self

    def __exit__(self, *exc):
        if self._old_sigint is not None:
            signal.signal(signal.SIGINT, self._old_sigint)  # also runs a pending handler first
            old, self._old_sigint = self._old_sigint, None
            if self.interrupted and self.exc is None:
                try:
                    old(signal.SIGINT, None)  # default_int_handler raises KeyboardInterrupt
                except BaseException as e:  # noqa: B902
                    self.exc = e
        return False

    def finish(self):
        """Raise what a callback raised (or the KeyboardInterrupt of a Ctrl-C), if anything."""
        if self.exc is not None:
            exc, self.exc = self.exc, None
            raise exc


def _enum(name, value, table):
    try:
        return table[value]
    except (KeyError, TypeError):
        raise ValueError("%s must be one of %s, not %r" % (name, ", ".join(map(repr, table)), value)) from None


def _progress(p):
    return TrainProgress(p.step, p.total_steps, p.epoch, p.epochs, p.loss, p.accuracy, p.lr, p.elapsed_seconds)


def _train_result(r):
    return TrainResult(r.steps, r.epochs, r.loss, r.accuracy, r.seconds, r.samples, r.batch_size)


class Model(Handle):
    """A network built from an architecture, with its weights: train, evaluate, predict, time, save.

    Model(arch, dataset=None, shape=None, num_classes=None, ...): the input shape and classes come from
    `dataset` or from shape (C, H, W) and num_classes. The model does not reference the space or arch
    (they may be closed), but its context must stay open. One thread at a time per model.
    """

    _destroy = lib.nas_model_destroy

    def __init__(self, arch, dataset=None, shape=None, num_classes=None, seed=0, channel_scale=0.0,
                 cells_per_stage=0, stem_stride=0):
        """Build the network of `arch` (a libnas.Arch of a cell or chain space) and initialize its weights.
        seed: weight initialization (0: the context's seed). channel_scale (0: as the space says),
        cells_per_stage (0: as the space says) and stem_stride (0: the family's default) make proxies.
        A space loaded by Space.load/from_string gives its YAML to the model, so saved files load alone."""
        if not isinstance(arch, Arch):
            raise TypeError("arch must be a libnas.Arch, not %s" % type(arch).__name__)
        ctx = arch.space.context
        opts = _capi.nas_model_opts_t()   # NAS_MODEL_OPTS_INIT: zeros and NULLs, then the arguments
        opts.struct_size = ctypes.sizeof(opts)
        if dataset is not None:
            if shape is not None or num_classes is not None:
                raise ValueError("give either dataset or shape and num_classes, not both")
            if not isinstance(dataset, Dataset):
                raise TypeError("dataset must be a libnas.Dataset, not %s" % type(dataset).__name__)
            opts.dataset = dataset._as_parameter_
        else:
            if shape is None or num_classes is None:
                raise ValueError("give a dataset, or shape (C, H, W) and num_classes")
            dims = tuple(shape)
            if len(dims) == 2:
                dims = (1,) + dims
            if len(dims) != 3:
                raise ValueError("shape must be (C, H, W) or (H, W), not %r" % (shape,))
            opts.channels, opts.height, opts.width = (_uint("shape", d, 32) for d in dims)
            opts.num_classes = _uint("num_classes", num_classes, 32)
        opts.seed = _uint("seed", seed)
        opts.channel_scale = float(channel_scale)
        opts.cells_per_stage = _int32("cells_per_stage", cells_per_stage)
        opts.stem_stride = _int32("stem_stride", stem_stride)
        # The space's YAML text, when it has one, is embedded by the library (saved files load alone).
        ptr = ctypes.c_void_p()
        check(lib.nas_model_create(ctypes.byref(ptr), arch, ctypes.byref(opts)), ctx.errmsg)
        self._wrap(ptr.value, ctx, arch.space)

    def _wrap(self, ptr, ctx, space):
        Handle.__init__(self, ptr, ctx)
        self.context = ctx
        self.space = space   # the Space it was built from, when known (see load())

    @classmethod
    def load(cls, path, space=None, context=None):
        """Load a file written by save(). space: the Space to rebuild the network from (its name and
        fingerprint must match the file's); None: the YAML embedded in the file, and then `model.space`
        is that space (owned by the model). ParseError for a damaged file (e.g. "checksum mismatch")."""
        if space is not None:
            if not isinstance(space, Space):
                raise TypeError("space must be a libnas.Space or None, not %s" % type(space).__name__)
            if context is not None and context is not space.context:
                raise ValueError("the space belongs to another context")
            ctx = space.context
        else:
            ctx = _context(context)
        ptr = ctypes.c_void_p()
        check(lib.nas_model_load(ctypes.byref(ptr), ctx, to_bytes(path, "path"), space), ctx.errmsg)
        model = cls.__new__(cls)
        model._wrap(ptr.value, ctx, space)
        if space is None:
            owned = lib.nas_model_space(model)
            if owned:
                model.space = Space._borrowed(owned, ctx, model)
        return model

    def save(self, path):
        """Write the model to path atomically (a temporary file renamed over it)."""
        check(lib.nas_model_save(self, to_bytes(path, "path")), self.errmsg)

    def errmsg(self):
        """The detailed message of the last failing call on this model ("" if none)."""
        return to_str(lib.nas_model_errmsg(self)) if self._ptr else ""

    # ------------------------------------------------------------------ description

    @property
    def info(self):
        """A ModelInfo."""
        out = _capi.nas_model_info_t()
        out.struct_size = ctypes.sizeof(out)
        check(lib.nas_model_info(self, ctypes.byref(out)), self.errmsg)
        return ModelInfo((out.channels, out.height, out.width), out.num_classes, out.params, out.flops,
                         out.steps_trained, to_str(out.arch), to_str(out.space_name), bool(out.has_space_yaml))

    @property
    def shape(self):
        """Input (C, H, W)."""
        return self.info.shape

    @property
    def num_classes(self):
        return self.info.num_classes

    @property
    def normalization(self):
        """Per-channel (mean, std) float32 arrays that predict(normalize=True) applies; train() sets them
        to the training data's. Assign (mean, std) (scalars or per channel), or None for the identity."""
        c = self.shape[0]
        mean, std = np.empty(c, np.float32), np.empty(c, np.float32)
        check(lib.nas_model_normalization(self, _f32_ptr(mean), _f32_ptr(std), c), self.errmsg)
        return mean, std

    @normalization.setter
    def normalization(self, value):
        c = self.shape[0]
        if value is None:
            check(lib.nas_model_set_normalization(self, None, None, c), self.errmsg)
            return
        try:
            mean, std = value
        except (TypeError, ValueError):
            raise TypeError("normalization takes (mean, std) or None") from None
        m, s = _channel_values("mean", mean, c), _channel_values("std", std, c)
        check(lib.nas_model_set_normalization(self, _f32_ptr(m), _f32_ptr(s), c), self.errmsg)

    # ------------------------------------------------------------------ training, evaluation

    def _dataset(self, data):
        if isinstance(data, Dataset):
            return data
        if isinstance(data, tuple) and len(data) == 2:
            return Dataset.from_numpy(data[0], data[1], num_classes=self.num_classes, context=self.context)
        raise TypeError("data must be a libnas.Dataset or a tuple (images, labels), not %s" % type(data).__name__)

    def train(self, data, epochs=1, steps=0, batch_size=128, optimizer="sgd", lr=0.05, momentum=0.9,
              nesterov=True, weight_decay=5e-4, schedule="cosine", warmup_epochs=0.0, lr_min=0.0,
              step_epochs=0.0, gamma=0.1, label_smoothing=0.0, grad_clip=0.0, max_loss=0.0, seed=0,
              data_fraction=1.0, augment=False, progress=None, progress_every=0, cancel=None):
        """Train from the current weights on `data` (a Dataset, or (images, labels) arrays) and return a
        TrainResult. Defaults are the library's (NAS_TRAIN_OPTS_INIT); `steps` > 0 overrides `epochs`.
        progress(TrainProgress) is called every progress_every steps (0: every epoch) and at the end;
        cancel() -> true stops the call (AbortedError, the model keeps the last completed step).
        An exception raised by progress or cancel, or a Ctrl-C, stops training and is re-raised here.
        The model's normalization becomes the data set's. InvalidArgumentError names a bad option."""
        ds = self._dataset(data)
        if progress is not None and not callable(progress):
            raise TypeError("progress must be callable")
        if cancel is not None and not callable(cancel):
            raise TypeError("cancel must be callable")
        o = _capi.nas_train_opts_t()
        o.struct_size = ctypes.sizeof(o)
        o.epochs = _uint("epochs", epochs, 32)
        o.steps = _uint("steps", steps)
        o.batch_size = _uint("batch_size", batch_size, 32)
        o.optimizer = _enum("optimizer", optimizer, OPTIMIZERS)
        o.lr = float(lr)
        o.momentum = float(momentum)
        o.nesterov = bool(nesterov)
        o.weight_decay = float(weight_decay)
        o.schedule = _enum("schedule", schedule, SCHEDULES)
        o.warmup_epochs = float(warmup_epochs)
        o.lr_min = float(lr_min)
        o.step_epochs = float(step_epochs)
        o.gamma = float(gamma)
        o.label_smoothing = float(label_smoothing)
        o.grad_clip = float(grad_clip)
        o.max_loss = float(max_loss)
        o.seed = _uint("seed", seed)
        o.data_fraction = float(data_fraction)
        o.augment = bool(augment)
        o.progress_every = _uint("progress_every", progress_every, 32)
        cb = _Callbacks(cancel, progress, _progress)
        o.cancel = cb.cancel_fn   # always: Ctrl-C and callback exceptions stop the call through it
        if cb.progress_fn is not None:
            o.progress = cb.progress_fn
        r = _capi.nas_train_result_t()
        r.struct_size = ctypes.sizeof(r)
        with cb:
            st = lib.nas_model_train(self, ds, ctypes.byref(o), ctypes.byref(r))
        result = _train_result(r)
        cb.finish()
        if st != _capi.NAS_OK:
            e = error(st, self.errmsg())
            e.result = result
            raise e
        return result

    def evaluate(self, data, batch_size=256, cancel=None):
        """Loss and accuracy on every sample of `data` (a Dataset, or (images, labels) arrays), normalized
        as the data set says. cancel() -> true stops with AbortedError. Returns an EvalResult."""
        ds = self._dataset(data)
        if cancel is not None and not callable(cancel):
            raise TypeError("cancel must be callable")
        o = _capi.nas_eval_opts_t()
        o.struct_size = ctypes.sizeof(o)
        o.batch_size = _uint("batch_size", batch_size, 32)
        cb = _Callbacks(cancel)
        o.cancel = cb.cancel_fn
        r = _capi.nas_eval_result_t()
        r.struct_size = ctypes.sizeof(r)
        with cb:
            st = lib.nas_model_evaluate(self, ds, ctypes.byref(o), ctypes.byref(r))
        cb.finish()
        check(st, self.errmsg)
        return EvalResult(r.samples, r.correct, r.loss, r.accuracy, r.seconds)

    # ------------------------------------------------------------------ inference

    def _input(self, x):
        c, h, w = self.shape
        if not isinstance(x, np.ndarray):
            x = np.asarray(x)
        if x.dtype.kind != "f":
            raise TypeError("x must hold floats (float32; pixels already scaled, e.g. x / 255), not %s" % x.dtype)
        if x.ndim == 3 and x.shape == (c, h, w):
            x = x.reshape(1, c, h, w)
        elif x.ndim == 3 and c == 1 and x.shape[1:] == (h, w):
            x = x.reshape(x.shape[0], 1, h, w)
        if x.ndim != 4 or x.shape[1:] != (c, h, w):
            forms = "(n, %d, %d, %d) or (%d, %d, %d)" % (c, h, w, c, h, w)
            if c == 1:
                forms += " or (n, %d, %d)" % (h, w)
            raise ValueError("x must have shape %s for this model, not %s" % (forms, x.shape))
        if x.shape[0] == 0:
            raise ValueError("x holds no sample")
        return np.ascontiguousarray(x, dtype=np.float32)

    def predict(self, x, logits=False, normalize=False):
        """Class probabilities (softmax; logits=True: the logits) as a float32 array (n, num_classes).
        x: floats (n, C, H, W), one sample (C, H, W), or (n, H, W) when C = 1, as the network sees them;
        normalize=True applies the model's normalization to x first (x then holds raw values).
        Rows are independent of each other."""
        x = self._input(x)
        n = x.shape[0]
        out = np.empty((n, self.num_classes), dtype=np.float32)
        flags = (_capi.NAS_PREDICT_LOGITS if logits else 0) | (_capi.NAS_PREDICT_NORMALIZE if normalize else 0)
        check(lib.nas_model_predict(self, _f32_ptr(x), n, flags, _f32_ptr(out), out.size), self.errmsg)
        return out

    def classify(self, x, normalize=False):
        """Predicted classes (int64 array (n,)): the arg max of the logits, the lowest class on ties."""
        return np.argmax(self.predict(x, logits=True, normalize=normalize), axis=1)

    def latency(self, batch=1, warmup=5, runs=30, max_seconds=2.0):
        """Time inference on this machine with the context's threads; returns a Latency (ms per forward)."""
        o = _capi.nas_latency_opts_t()
        o.struct_size = ctypes.sizeof(o)
        o.batch = _uint("batch", batch, 32)
        o.warmup = _uint("warmup", warmup, 32)
        o.runs = _uint("runs", runs, 32)
        o.max_seconds = float(max_seconds)
        if not (o.max_seconds >= 0 and not math.isnan(o.max_seconds)):
            raise ValueError("max_seconds must be >= 0 (0: no limit)")
        r = _capi.nas_latency_t()
        r.struct_size = ctypes.sizeof(r)
        check(lib.nas_model_latency(self, ctypes.byref(o), ctypes.byref(r)), self.errmsg)
        return Latency(r.batch, r.runs, r.median_ms, r.p90_ms, r.min_ms, r.mean_ms)

    def __repr__(self):
        if self.closed:
            return "<libnas.Model (closed)>"
        i = self.info
        return "<libnas.Model %s of %r: %s -> %d classes, %d params>" % (i.arch, i.space_name, i.shape,
                                                                         i.num_classes, i.params)


def _int32(name, value):
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an int, not %s" % (name, type(value).__name__)) from None
    if not -2 ** 31 <= v < 2 ** 31:
        raise ValueError("%s must fit in 32 bits, not %d" % (name, v))
    return v


__all__ = ["Model", "ModelInfo", "TrainProgress", "TrainResult", "EvalResult", "Latency"]
