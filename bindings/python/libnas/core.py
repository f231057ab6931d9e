"""Context (allocator, logging, threads, seed, registry of strategies and evaluators) and random streams."""
import ctypes
import math

from . import _capi
from ._handle import Handle
from ._lib import check, lib, to_bytes, to_str

LOG_LEVELS = {"error": _capi.NAS_LOG_ERROR, "warn": _capi.NAS_LOG_WARN, "info": _capi.NAS_LOG_INFO,
              "debug": _capi.NAS_LOG_DEBUG}
_LEVEL_NAMES = {v: k for k, v in LOG_LEVELS.items()}


def version():
    """Version of the loaded library, "MAJOR.MINOR.PATCH"."""
    return to_str(lib.nas_version_string())


class Context(Handle):
    """The root of every libnas object: thread count, root seed, log sink and the registry of
    strategies and evaluators (built-ins and the ones registered from Python).

    threads: compute threads (0: all cores). seed: root of every random stream.
    log: a function log(level_name, message) receiving the library's messages up to log_level
    ("error", "warn", "info", "debug"); None drops them.
    A context is used by one thread at a time, with everything made from it.
    """

    _destroy = lib.nas_context_destroy

    def __init__(self, threads=0, seed=0, log=None, log_level="warn"):
        if log_level not in LOG_LEVELS:
            raise ValueError("log_level must be one of %s, not %r" % (", ".join(LOG_LEVELS), log_level))
        if not isinstance(threads, int) or threads < 0:
            raise ValueError("threads must be an int >= 0")
        if not isinstance(seed, int) or not 0 <= seed < 2 ** 64:
            raise ValueError("seed must be an int in [0, 2**64)")
        opts = _capi.nas_context_opts_t()
        opts.struct_size = ctypes.sizeof(opts)
        opts.log_level = LOG_LEVELS[log_level]
        opts.num_threads = threads
        opts.seed = seed
        self._log = log
        self._log_cb = None
        if log is not None:
            def on_log(_user, level, message):
                try:
                    log(_LEVEL_NAMES.get(level, str(level)), to_str(message))
                except Exception:  # a logger must never unwind into C
                    pass
            self._log_cb = _capi.nas_log_fn(on_log)
            opts.log_fn = self._log_cb
        self._keep = []      # Python objects the C side points at (data buffers, plugin vtables)
        self._plugins = {}   # registered Python strategies and evaluators, by name
        ptr = ctypes.c_void_p()
        check(lib.nas_context_create(ctypes.byref(ptr), ctypes.byref(opts)),
              lambda: lib.nas_context_errmsg(None))
        super().__init__(ptr.value)

    def errmsg(self):
        """The detailed message of the last failing call made on this context ("" if none)."""
        return to_str(lib.nas_context_errmsg(self)) if self._ptr else ""

    @property
    def seed(self):
        return lib.nas_context_seed(self)

    @property
    def threads(self):
        return lib.nas_context_num_threads(self)

    def log(self, message, level="info"):
        """Send a message to the context's log sink."""
        lib.nas_context_log(self, LOG_LEVELS[level], to_bytes(message, "message"))

    def add_dataset(self, name, train, test=None):
        """Make data sets available to evaluators by name: the `train` evaluator's parameter
        dataset=name then trains on `train` (split into training and validation by val_fraction)
        and, with test=true, reports test metrics on `test`. Nothing is copied; the context keeps
        the data sets (and the arrays they borrow) alive as long as it lives."""
        check(lib.nas_context_add_dataset(self, to_bytes(name, "name"), train, test), self.errmsg)
        self._keep.append((train, test))

    def register_strategy(self, cls):
        """Register a libnas.Strategy subclass under cls.name (see libnas.plugins); returns cls."""
        from .plugins import register_strategy
        return register_strategy(self, cls)

    def register_evaluator(self, cls):
        """Register a libnas.EvaluatorPlugin subclass under cls.name; returns cls."""
        from .plugins import register_evaluator
        return register_evaluator(self, cls)

    def _registry(self, count_fn, at_fn):
        out = []
        for i in range(count_fn(self)):
            name, desc = ctypes.c_char_p(), ctypes.c_char_p()
            check(at_fn(self, i, ctypes.byref(name), ctypes.byref(desc)), self.errmsg)
            out.append((to_str(name.value), to_str(desc.value)))
        return out

    def searchers(self):
        """[(name, description)] of the registered strategies, in registration order."""
        return self._registry(lib.nas_context_num_searchers, lib.nas_context_searcher_at)

    def evaluators(self):
        """[(name, description)] of the registered evaluators."""
        return self._registry(lib.nas_context_num_evaluators, lib.nas_context_evaluator_at)


_default = None


def default_context():
    """A process-wide context (all cores, seed 0) for code that does not make its own."""
    global _default
    if _default is None or _default.closed:
        _default = Context()
    return _default


def _context(ctx):
    if ctx is None:
        return default_context()
    if not isinstance(ctx, Context):
        raise TypeError("expected a libnas.Context, not %s" % type(ctx).__name__)
    return ctx


class Rng(Handle):
    """A random stream: equal (seed, stream) give equal sequences on every platform."""

    _destroy = lib.nas_rng_destroy

    def __init__(self, seed=0, stream=0, context=None):
        ctx = _context(context)
        ptr = ctypes.c_void_p()
        check(lib.nas_rng_create(ctypes.byref(ptr), ctx, seed, stream), ctx.errmsg)
        super().__init__(ptr.value, ctx)

    def u64(self):
        return lib.nas_rng_u64(self)

    def uniform(self):
        """Uniform float in [0, 1)."""
        return lib.nas_rng_uniform(self)

    def below(self, n):
        """Uniform int in [0, n)."""
        return lib.nas_rng_below(self, n)

    def normal(self):
        return lib.nas_rng_normal(self)


def format_param(value):
    """A parameter value as the string the library parses (bool -> "true", float -> shortest repr)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("parameter values must be finite, not %r" % value)
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join(format_param(v) for v in value)
    return str(value)


class Params(Handle):
    """String key/value parameters of a strategy or an evaluator, made from a dict."""

    _destroy = lib.nas_params_destroy

    def __init__(self, values=None, context=None):
        ctx = _context(context)
        ptr = ctypes.c_void_p()
        check(lib.nas_params_create(ctypes.byref(ptr), ctx), ctx.errmsg)
        super().__init__(ptr.value, ctx)
        for key, value in (values or {}).items():
            self[key] = value

    def __setitem__(self, key, value):
        check(lib.nas_params_set(self, to_bytes(key, "parameter name"), to_bytes(format_param(value))),
              lambda: lib.nas_params_errmsg(self))

    def __len__(self):
        return lib.nas_params_count(self)

    def items(self):
        out = []
        for i in range(len(self)):
            k, v = ctypes.c_char_p(), ctypes.c_char_p()
            check(lib.nas_params_at(self, i, ctypes.byref(k), ctypes.byref(v)))
            out.append((to_str(k.value), to_str(v.value)))
        return out

    def to_dict(self):
        return dict(self.items())

    @classmethod
    def _from_c(cls, ptr):
        """A read-only dict of a C nas_params_t* (e.g. what a plugin's create receives)."""
        out = {}
        n = lib.nas_params_count(ptr)
        for i in range(n):
            k, v = ctypes.c_char_p(), ctypes.c_char_p()
            if lib.nas_params_at(ptr, i, ctypes.byref(k), ctypes.byref(v)) == _capi.NAS_OK:
                out[to_str(k.value)] = to_str(v.value)
        return out
