"""Search strategies and evaluators written in Python, registered into a context's registry.

Once registered they are used by name exactly like the built-ins: Searcher(space, "my-name"),
run(), experiment files, and C code holding the same context (nas_searcher_create(..., "my-name")).

    class HillClimb(libnas.Strategy):
        name = "py-climb"
        description = "hill climbing from the best so far"

        def __init__(self, searcher, params):
            self.edits = params.get_int("edits", 1, min=1)
            self.best, self.best_score = None, float("-inf")

        def ask(self):
            if self.best is None:
                return self.searcher.space.sample(self.searcher.rng)
            return self.searcher.space.mutate(self.best, self.edits, self.searcher.rng)

        def tell(self, arch, result):
            score = self.searcher.scores(result)[0]
            if score > self.best_score:
                self.best, self.best_score = arch, score

    libnas.register_strategy(ctx, HillClimb)

Parameters: __init__(self, searcher_or_evaluator, params) receives a PluginParams, a read-only
mapping of the strings given. Every key given must be read (params["k"], params.get*(...)):
the library refuses a key nobody read, naming it (a typo is an error, not a silent default).

Errors: an exception raised in __init__, ask, tell, state or load_state stops the call that ran
it: the library returns NAS_E_CALLBACK (a LibnasError raised by the code keeps its own status)
with "Type: text (at file:line in function)" as the message, and the Python caller gets a
LibnasError chained to the original exception (its traceback is kept as __cause__).
An exception raised in an evaluator's evaluate() is a failed trial, not the end of the run: the
trial is recorded with status "callback" and that message (like a trial that crashed), and the
search goes on. Ctrl-C (KeyboardInterrupt) or SystemExit inside any of them stops the run
(NAS_E_ABORTED) and is raised again by the Python call that started it.

State: a strategy that defines both state() and load_state(obj) can be checkpointed
(run(checkpoint=...), resume=True, Searcher.save()/load()): state() returns any picklable object,
stored with pickle as a length-prefixed blob in the searcher's state. Loading a checkpoint
unpickles it, so only load checkpoints you made (as with any pickle). Without them, a resume
replays the journal through ask and tell, which needs ask to depend only on the searcher's random
stream (searcher.rng) and what it was told.
"""
import ctypes
import itertools
import math
import pickle
import time
import weakref

from . import _capi
from ._lib import LibnasError, check, error, lib, to_bytes, to_str
from .core import Context, Rng
from .results import Objective, Result, _as_result, result_from_c, result_to_c
from .search import _CResult, _find_space, _INTERRUPTS, _stash, describe
from .space import Arch, Space

_SEARCHER_FN = dict(_capi.nas_searcher_vtable_t._fields_)
_EVALUATOR_FN = dict(_capi.nas_evaluator_vtable_t._fields_)
_ids = itertools.count(1)
_instances = {}   # state id -> live Python strategy or evaluator instance


class PluginParams:
    """The parameters a strategy or evaluator was created with (strings), as a read-only mapping.
    Reading a key marks it as read; after __init__, the library refuses any key not read."""

    def __init__(self, ptr):
        self._ptr = ptr
        self._items = {}
        if ptr:
            for i in range(lib.nas_params_count(ptr)):
                k, v = ctypes.c_char_p(), ctypes.c_char_p()
                check(lib.nas_params_at(ptr, i, ctypes.byref(k), ctypes.byref(v)))
                self._items[to_str(k.value)] = to_str(v.value)

    def _errmsg(self):
        return to_str(lib.nas_params_errmsg(self._ptr))

    def _mark(self, key):
        out = ctypes.c_char_p()
        lib.nas_params_get_string(self._ptr, to_bytes(key, "parameter name"), ctypes.byref(out))

    def __getitem__(self, key):
        if not self._ptr:
            raise KeyError(key)
        self._mark(key)   # asked for: named in the "unknown parameter" message even if absent
        return self._items[key]

    def get(self, key, default=None):
        """The string value of key, or default when absent."""
        try:
            return self[key]
        except KeyError:
            return default

    @staticmethod
    def _bounds(key, value, min, max):
        if (min is not None and value < min) or (max is not None and value > max):
            lo = "-inf" if min is None else repr(min)
            hi = "inf" if max is None else repr(max)
            raise error(_capi.NAS_E_INVAL, "parameter '%s' = %r is out of range [%s, %s]" % (key, value, lo, hi))
        return value

    def get_int(self, key, default=0, min=None, max=None):
        """An integer parameter (default when absent); LibnasError "invalid" for a bad value."""
        if not self._ptr:
            return default
        out = ctypes.c_int64()
        check(lib.nas_params_get_int(self._ptr, to_bytes(key, "parameter name"), int(default), ctypes.byref(out)),
              self._errmsg)
        return self._bounds(key, out.value, min, max)

    def get_float(self, key, default=0.0, min=None, max=None):
        """A finite real parameter (default when absent)."""
        if not self._ptr:
            return default
        out = ctypes.c_double()
        check(lib.nas_params_get_double(self._ptr, to_bytes(key, "parameter name"), float(default),
                                        ctypes.byref(out)), self._errmsg)
        return self._bounds(key, out.value, min, max)

    def get_bool(self, key, default=False):
        """A boolean parameter: true/false/yes/no/1/0 (default when absent)."""
        if not self._ptr:
            return default
        out = ctypes.c_bool()
        check(lib.nas_params_get_bool(self._ptr, to_bytes(key, "parameter name"), bool(default), ctypes.byref(out)),
              self._errmsg)
        return bool(out.value)

    def read_all(self):
        """Every parameter as a dict, all marked as read (for a strategy that takes anything)."""
        return {k: self[k] for k in list(self._items)}

    def __contains__(self, key):
        return key in self._items

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self):
        return len(self._items)

    def keys(self):
        return list(self._items)

    def __repr__(self):
        return "<libnas.PluginParams %r>" % self._items


def _borrowed_rng(ptr, owner):
    """A Rng view of a stream the library owns (never destroyed from here)."""
    rng = Rng.__new__(Rng)
    rng._ptr = ptr
    rng._parent = owner
    rng._children = []
    rng._release = lambda p: None
    return rng


def _space_of(ptr, context):
    """(space, borrowed): the user's Python Space for a C space pointer, or else a wrapper of it
    for this one view (closed with the view: the C space may be destroyed after it)."""
    space = _find_space(ptr)
    if space is not None:
        return space, False
    return Space._borrowed(ptr, context, context), True


class SearcherView:
    """What a Python strategy sees of the searcher running it: space (the Space the Searcher was
    made with), rng (the searcher's random stream: use it for reproducible searches), context,
    name, objectives, num_constraints, num_asked, scores(result), violation(result)."""

    def __init__(self, ptr, context):
        self._ptr = ptr
        self.context = context
        self.space, self._borrowed = _space_of(lib.nas_searcher_space(ptr), context)
        self.rng = _borrowed_rng(lib.nas_searcher_rng(ptr), self.space)
        self.name = to_str(lib.nas_searcher_name(ptr))
        objs = []
        for i in range(lib.nas_searcher_num_objectives(ptr)):
            name, mx = ctypes.c_char_p(), ctypes.c_bool()
            check(lib.nas_searcher_objective(ptr, i, ctypes.byref(name), ctypes.byref(mx)))
            objs.append(Objective(to_str(name.value), bool(mx.value)))
        self.objectives = objs
        self.num_constraints = lib.nas_searcher_num_constraints(ptr)
        self._res = None

    def _alive(self):
        if not self._ptr:
            raise RuntimeError("the searcher of this strategy has been destroyed")
        return self._ptr

    @property
    def num_asked(self):
        return lib.nas_searcher_num_asked(self._alive())

    def _cresult(self, result):
        if self._res is None:
            self._res = _CResult(self.context)
        result_to_c(result, self._res)
        return self._res

    def scores(self, result):
        """Objective values of a Result, sign-adjusted so that larger is better; -inf for a failed
        or infeasible trial or a missing metric (nas_searcher_scores())."""
        n = max(1, len(self.objectives))
        out = (ctypes.c_double * n)()
        check(lib.nas_searcher_scores(self._alive(), self._cresult(result), out, n))
        return list(out)

    def violation(self, result):
        """0 when a Result meets the constraints, else how far it is (nas_searcher_violation())."""
        return lib.nas_searcher_violation(self._alive(), self._cresult(result))

    def _close(self):
        self._ptr = None
        self.rng._ptr = None   # the stream dies with the searcher
        if self._res is not None:
            self._res.close()
            self._res = None
        if self._borrowed:
            self.space.close()   # and the archs made from it


class EvaluatorView:
    """What a Python evaluator sees of the evaluator running it: space, context, name."""

    def __init__(self, ptr, context):
        self._ptr = ptr
        self.context = context
        self.space, self._borrowed = _space_of(lib.nas_evaluator_space(ptr), context)
        self.name = to_str(lib.nas_evaluator_name(ptr))

    def _close(self):
        self._ptr = None
        if self._borrowed:
            self.space.close()   # and the archs made from it


class RunView:
    """What a strategy's run(self, run) hook gets: the run it drives inside libnas.run().

    evaluate(arch, fidelity=0) evaluates an Arch (or canonical string) with the run's evaluator as the
    next trial (journaled, counted, reported like an asked candidate) and returns its Result;
    should_stop() says whether a budget is spent or the caller cancelled; report(text) sends a line
    of progress (e.g. an epoch of the strategy's own training) to the run's progress callback.
    Valid only while the hook runs."""

    def __init__(self, ptr, space):
        self._ptr = ptr
        self.space = space

    def _alive(self):
        if not self._ptr:
            raise RuntimeError("the run ended: a RunView is valid only inside the run() hook")
        return self._ptr

    def evaluate(self, arch, fidelity=0.0):
        ptr = self._alive()
        if isinstance(arch, str):
            arch = self.space.arch(arch)
        if not isinstance(arch, Arch):
            raise TypeError("evaluate() takes a libnas.Arch or a canonical string, not %s" % type(arch).__name__)
        res = ctypes.c_void_p()
        check(lib.nas_run_evaluate_arch(ptr, arch, float(fidelity), ctypes.byref(res)),
              lambda: lib.nas_run_errmsg(ptr))
        return result_from_c(res.value)

    def should_stop(self):
        return bool(lib.nas_run_should_stop(self._alive()))

    def report(self, message):
        lib.nas_run_report(self._alive(), to_bytes(str(message).replace("\0", " "), "message"))

    @property
    def num_trials(self):
        return lib.nas_run_num_trials(self._alive())

    @property
    def num_resumed(self):
        """Trials taken back from the journal by run(resume=True): a hook started again after its
        run was killed goes on from there (its earlier trials are already recorded)."""
        return lib.nas_run_num_resumed(self._alive())

    @property
    def elapsed(self):
        return lib.nas_run_elapsed(self._alive())

    @property
    def evaluator(self):
        """Name of the run's evaluator."""
        return to_str(lib.nas_evaluator_name(lib.nas_run_evaluator(self._alive())))


class Strategy:
    """Base of search strategies written in Python. Subclass it, set `name` ([a-z0-9_-]+, unique
    in the context) and `description`, and implement:

      __init__(self, searcher, params): read parameters (PluginParams; every key must be read);
          self.searcher (a SearcherView) is already set when it runs.
      ask(self) -> Arch, (Arch, fidelity), a canonical arch string, or None when exhausted.
      tell(self, arch, result): learn from a finished trial (failed ones too); result is a Result.
      state(self) -> picklable object and load_state(self, obj): optional, both or neither.
      run(self, run): optional. When defined, libnas.run() calls it once instead of its
          ask/evaluate/tell loop (the way one-shot strategies train a supernet and evaluate what they
          derive): it evaluates the architectures it wants recorded with run.evaluate(arch, fidelity),
          polls run.should_stop() between units of work and may run.report(text) its progress (a
          RunView). ask and tell are still used outside run(). When run() returns, the journal says
          the search is over and a resume has nothing to do; a run killed before that calls it
          again on resume, with run.num_resumed trials already recorded.

    A strategy that is sure to run out (ask() returns None after finitely many calls) sets
    `finite = True`; run() then needs no budget for it.
    """

    name = None
    description = ""
    finite = False

    def __init__(self, searcher, params):
        pass

    def ask(self):
        raise NotImplementedError("%s.ask() is not implemented" % type(self).__name__)

    def tell(self, arch, result):
        pass


class EvaluatorPlugin:
    """Base of evaluators written in Python. Subclass it, set `name` and `description`, and implement

      __init__(self, evaluator, params): read parameters (every key must be read); self.evaluator
          (an EvaluatorView: space, context, name) is already set.
      evaluate(self, arch, fidelity) -> dict of metrics, or a Result (status, message, metrics,
          cost). The cost defaults to the measured wall time of evaluate().

    An exception in evaluate() is a failed trial (status "callback" with the exception's type,
    text and place), and the search goes on; KeyboardInterrupt stops the run.
    """

    name = None
    description = ""

    def __init__(self, evaluator, params):
        pass

    def evaluate(self, arch, fidelity):
        raise NotImplementedError("%s.evaluate() is not implemented" % type(self).__name__)


def _status_of(exc):
    if isinstance(exc, _INTERRUPTS):
        return _capi.NAS_E_ABORTED
    if isinstance(exc, LibnasError) and exc.status != _capi.NAS_OK:
        return exc.status
    return _capi.NAS_E_CALLBACK


def _fail(set_errmsg, handle, label, what, exc):
    """Report an exception of a Python callback to the library; keep it for the Python caller."""
    _stash(exc)
    try:
        msg = "python %s %s raised %s" % (label, what, describe(exc))
        if isinstance(exc, _INTERRUPTS):
            msg = "python %s %s: interrupted (%s)" % (label, what, type(exc).__name__)
        set_errmsg(handle, to_bytes(msg.replace("\0", " ")))
    except BaseException:  # noqa: B902 (nothing may unwind into C)
        pass
    return _status_of(exc)


def _check_class(cls, base, kind):
    if not isinstance(cls, type) or not issubclass(cls, base):
        raise TypeError("register_%s() takes a subclass of libnas.%s" % (kind, base.__name__))
    if not isinstance(cls.name, str) or not cls.name:
        raise ValueError("%s.name must be a non-empty string ([a-z0-9_-]+)" % cls.__name__)
    if not isinstance(cls.description or "", str):
        raise TypeError("%s.description must be a string" % cls.__name__)


def _new(cls, view, view_attr, params_ptr, state):
    """Make the plugin instance (its view set before __init__ runs), keep it under a fresh id and
    hand that id to the library as the state."""
    obj = cls.__new__(cls)
    setattr(obj, view_attr, view)
    obj.__init__(view, PluginParams(params_ptr))
    sid = next(_ids)
    _instances[sid] = (obj, view)
    state[0] = sid


def register_strategy(context, cls):
    """Register a Strategy subclass in a Context under cls.name; returns cls. LibnasError
    "exists" if the name is taken, "invalid" for a bad name."""
    if not isinstance(context, Context):
        raise TypeError("context must be a libnas.Context")
    _check_class(cls, Strategy, "strategy")
    label = "strategy '%s'" % cls.name
    set_err = lib.nas_searcher_set_errmsg
    ctx_ref = weakref.ref(context)   # the context holds these callbacks: no cycle through it

    def create(self, params, state):
        try:
            view = SearcherView(self, _live(ctx_ref))
            lib.nas_searcher_set_finite(self, bool(cls.finite))
            _new(cls, view, "searcher", params, state)
            return _capi.NAS_OK
        except BaseException as e:  # noqa: B902
            return _fail(set_err, self, label, "__init__", e)

    destroy = _destroy

    def ask(self, state, cand):
        try:
            obj, view = _instances[state]
            out = obj.ask()
            if out is None:
                set_err(self, to_bytes("python %s: nothing more to propose" % label))
                return _capi.NAS_E_EXHAUSTED
            fidelity = 0.0
            if isinstance(out, tuple):
                if len(out) != 2:
                    raise TypeError("ask() returned a tuple of %d items; expected (arch, fidelity)" % len(out))
                out, fidelity = out
                fidelity = float(fidelity)
                if not math.isfinite(fidelity) or fidelity < 0:
                    raise ValueError("ask() returned fidelity %r (must be finite and >= 0)" % fidelity)
            c = cand.contents
            if isinstance(out, Arch):
                if out.space._ptr != lib.nas_searcher_space(self):
                    raise ValueError("ask() returned an Arch of another space")
                check(lib.nas_arch_copy(c.arch, out), view.space.errmsg)
            elif isinstance(out, str):
                check(lib.nas_arch_from_string(c.arch, to_bytes(out, "architecture")), view.space.errmsg)
            else:
                raise TypeError("ask() must return a libnas.Arch, (Arch, fidelity), an arch string or None, "
                                "not %s" % type(out).__name__)
            c.fidelity = fidelity
            return _capi.NAS_OK
        except BaseException as e:  # noqa: B902
            return _fail(set_err, self, label, "ask()", e)

    def tell(self, state, cand, res):
        try:
            obj, view = _instances[state]
            arch = Arch._wrap_c(view.space, cand.contents.arch)
            obj.tell(arch, result_from_c(res))
            return _capi.NAS_OK
        except BaseException as e:  # noqa: B902
            return _fail(set_err, self, label, "tell()", e)

    def save(self, state, w):
        try:
            obj, _ = _instances[state]
            data = pickle.dumps(obj.state(), protocol=4)
            check(lib.nas_state_write_u64(w, len(data)))
            check(lib.nas_state_write(w, data, len(data)))
            return _capi.NAS_OK
        except BaseException as e:  # noqa: B902
            return _fail(set_err, self, label, "state()", e)

    def load(self, state, r):
        try:
            obj, _ = _instances[state]
            n = ctypes.c_uint64()
            check(lib.nas_state_read_count(r, lib.nas_state_remaining(r), ctypes.byref(n)), "truncated state")
            buf = ctypes.create_string_buffer(max(1, n.value))
            check(lib.nas_state_read(r, buf, n.value), "truncated state")
            try:
                value = pickle.loads(buf.raw[:n.value])
            except Exception as e:
                raise error(_capi.NAS_E_CORRUPT, "the saved state does not unpickle (%s)" % describe(e)) from e
            obj.load_state(value)
            return _capi.NAS_OK
        except BaseException as e:  # noqa: B902
            return _fail(set_err, self, label, "load_state()", e)

    def run_hook(self, state, run):
        view = None
        try:
            obj, sview = _instances[state]
            view = RunView(run, sview.space)
            obj.run(view)
            if to_str(lib.nas_run_stop_reason(run)) == "cancelled":
                return _capi.NAS_E_ABORTED   # stopped by the caller's cancel, as the contract says
            return _capi.NAS_OK
        except BaseException as e:  # noqa: B902
            return _fail(set_err, self, label, "run()", e)
        finally:
            if view is not None:
                view._ptr = None

    fns = {"create": create, "destroy": destroy, "ask": ask, "tell": tell}
    if callable(getattr(cls, "run", None)):
        fns["run"] = run_hook
    if callable(getattr(cls, "state", None)) != callable(getattr(cls, "load_state", None)):
        raise TypeError("%s must define both state() and load_state(), or neither" % cls.__name__)
    if callable(getattr(cls, "state", None)):
        fns.update(save=save, load=load)
    vt = _capi.nas_searcher_vtable_t()
    vt.abi_version = _capi.NAS_PLUGIN_ABI_VERSION
    vt.struct_size = ctypes.sizeof(vt)
    return _register(context, cls, vt, _SEARCHER_FN, fns, lib.nas_context_register_searcher, "searcher")


def register_evaluator(context, cls):
    """Register an EvaluatorPlugin subclass in a Context under cls.name; returns cls."""
    if not isinstance(context, Context):
        raise TypeError("context must be a libnas.Context")
    _check_class(cls, EvaluatorPlugin, "evaluator")
    label = "evaluator '%s'" % cls.name
    set_err = lib.nas_evaluator_set_errmsg
    ctx_ref = weakref.ref(context)

    def create(self, params, state):
        try:
            view = EvaluatorView(self, _live(ctx_ref))
            _new(cls, view, "evaluator", params, state)
            return _capi.NAS_OK
        except BaseException as e:  # noqa: B902
            return _fail(set_err, self, label, "__init__", e)

    destroy = _destroy

    def evaluate(self, state, cand, res):
        t0 = time.perf_counter()
        try:
            obj, view = _instances[state]
            c = cand.contents
            arch = Arch._wrap_c(view.space, c.arch)
            out = obj.evaluate(arch, c.fidelity)
            if out is None:
                raise TypeError("evaluate() returned None; return a dict of metrics or a libnas.Result")
            result_to_c(_as_result(out), res, default_cost=time.perf_counter() - t0)
            return _capi.NAS_OK
        except _INTERRUPTS as e:
            return _fail(set_err, self, label, "evaluate()", e)
        except BaseException as e:  # noqa: B902 (a failed trial, the run goes on)
            try:
                msg = "python %s raised %s" % (label, describe(e))
                result_to_c(Result("callback", msg, {}, time.perf_counter() - t0), res)
                return _capi.NAS_OK
            except BaseException as e2:  # noqa: B902
                return _fail(set_err, self, label, "evaluate()", e2)

    fns = {"create": create, "destroy": destroy, "evaluate": evaluate}
    vt = _capi.nas_evaluator_vtable_t()
    vt.abi_version = _capi.NAS_PLUGIN_ABI_VERSION
    vt.struct_size = ctypes.sizeof(vt)
    return _register(context, cls, vt, _EVALUATOR_FN, fns, lib.nas_context_register_evaluator, "evaluator")


def _live(ctx_ref):
    ctx = ctx_ref()
    if ctx is None or ctx.closed:
        raise RuntimeError("the context this plugin was registered in is closed")
    return ctx


def _destroy(state):
    try:
        entry = _instances.pop(state, None) if state else None
        if entry is not None:
            entry[1]._close()
    except BaseException:  # noqa: B902 (interpreter shutdown: never unwind into C)
        pass


def _register(context, cls, vt, types, fns, register_fn, kind):
    vt.name = to_bytes(cls.name, "name")
    vt.description = to_bytes(cls.description or "", "description")
    callbacks = {}
    for member, fn in fns.items():
        callbacks[member] = types[member](fn)
        setattr(vt, member, callbacks[member])
    check(register_fn(context, ctypes.byref(vt)), context.errmsg)
    # The library copied the vtable, not the callbacks: they must live as long as the context.
    context._plugins[(kind, cls.name)] = (cls, vt, callbacks)
    return cls


__all__ = ["EvaluatorPlugin", "EvaluatorView", "PluginParams", "SearcherView", "Strategy", "register_evaluator",
           "register_strategy", "RunView"]
