"""Search spaces and architectures."""
import ctypes
from dataclasses import dataclass
from typing import Optional, Tuple

from . import _capi
from ._handle import Handle
from ._lib import LibnasError, check, lib, to_bytes, to_str
from .core import Rng, _context

FAMILIES = {_capi.NAS_FAMILY_NONE: "none", _capi.NAS_FAMILY_CELL: "cell", _capi.NAS_FAMILY_CHAIN: "chain"}
KINDS = {_capi.NAS_DIM_CATEGORICAL: "categorical", _capi.NAS_DIM_INT: "int", _capi.NAS_DIM_FLOAT: "float"}
ROLES = {_capi.NAS_ROLE_OP: "op", _capi.NAS_ROLE_INPUTS: "inputs", _capi.NAS_ROLE_DEPTH: "depth",
         _capi.NAS_ROLE_WIDTH: "width", _capi.NAS_ROLE_HPARAM: "hparam"}


@dataclass(frozen=True)
class Dim:
    """One decision of a space."""
    index: int
    name: str
    kind: str                    # "categorical", "int" or "float"
    role: str                    # "op", "inputs", "depth", "width" or "hparam"
    choices: Tuple[str, ...]     # categorical: the option labels; otherwise ()
    low: float
    high: float
    log_scale: bool
    parent: Optional[str]        # the decision this one depends on
    parent_min: int              # active only when the parent's choice index >= parent_min


class Space(Handle):
    """A search space loaded from YAML (docs/spaces.md). Use Space.load(path) or Space.from_string(yaml)."""

    _destroy = lib.nas_space_destroy

    def __init__(self, ptr, context, owner=None):
        super().__init__(ptr, owner if owner is not None else context)
        self.context = context
        self._dims = None
        self._by_name = None
        self._rng = None

    @classmethod
    def load(cls, path, context=None):
        """Load a space file. Errors name FILE:LINE:COLUMN."""
        ctx = _context(context)
        ptr = ctypes.c_void_p()
        check(lib.nas_space_load_file(ctypes.byref(ptr), ctx, to_bytes(path, "path")), ctx.errmsg)
        return cls(ptr.value, ctx)

    @classmethod
    def from_string(cls, yaml, context=None, origin="<string>"):
        """Load a space from YAML text."""
        ctx = _context(context)
        data = to_bytes(yaml, "yaml")
        ptr = ctypes.c_void_p()
        check(lib.nas_space_load_string(ctypes.byref(ptr), ctx, data, len(data), to_bytes(origin)), ctx.errmsg)
        return cls(ptr.value, ctx)

    @classmethod
    def build(cls, name, cell=None, macro=None, chain=None, stages=(), hparams=(), context=None):
        """Build a space through the C builder API instead of YAML (docs/spaces.md has the meaning of
        every field). A cell space: cell=dict(ops=[...], num_inputs=1, num_nodes=3, inputs_per_node=0,
        cell_types=None, output="last"|"concat") and optionally macro=dict(stem_channels=16,
        stages=[(cells, channels), ...], reduction="residual"|"cell"). A chain space:
        chain=dict(ops=[...], stem_channels=16, head_channels=0, width_multipliers=None) and
        stages=[dict(channels=..., stride=1|2, depths=[...]), ...]. Either may have
        hparams=[dict(name=..., kind="float"|"int"|"categorical", low=, high=, log_scale=False,
        choices=[...], grid_points=0), ...]. A space built this way has no YAML text (yaml is None).
        Errors: LibnasError with the builder's message naming the bad field."""
        ctx = _context(context)
        ptr = ctypes.c_void_p()
        check(lib.nas_space_create(ctypes.byref(ptr), ctx, to_bytes(name, "name")), ctx.errmsg)
        space = cls(ptr.value, ctx)
        keep = []   # buffers the specs point at, alive until the calls return

        def strings(items, what):
            arr = (ctypes.c_char_p * max(1, len(items)))(*[to_bytes(str(x), what) for x in items])
            keep.append(arr)
            return ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p)), len(items)

        def spec(ctype, fields, what):
            out = ctype()
            out.struct_size = ctypes.sizeof(out)
            unknown = set(fields) - {f for f, _ in ctype._fields_}
            if unknown:
                raise ValueError("%s: unknown field(s) %s" % (what, ", ".join(sorted(unknown))))
            for k, v in fields.items():
                setattr(out, k, v)
            return out

        def call(fn, obj):
            check(fn(space, ctypes.byref(obj)), space.errmsg)

        try:
            if cell is not None:
                c = dict(cell)
                ops, n_ops = strings(c.pop("ops", ()), "op")
                types = c.pop("cell_types", None)
                t, n_t = strings(types or (), "cell type") if types else (None, 0)
                output = {"last": _capi.NAS_CELL_OUTPUT_LAST, "concat": _capi.NAS_CELL_OUTPUT_CONCAT}
                out_kind = c.pop("output", "last")
                if out_kind not in output:
                    raise ValueError("cell output must be 'last' or 'concat', not %r" % (out_kind,))
                c.setdefault("num_inputs", 1)
                call(lib.nas_space_set_cell, spec(_capi.nas_cell_spec_t, dict(
                    c, ops=ops, num_ops=n_ops, cell_types=t, num_cell_types=n_t, output=output[out_kind]), "cell"))
            if macro is not None:
                m = dict(macro)
                st = [tuple(x) for x in m.pop("stages", ())]
                arr = (_capi.nas_macro_stage_t * max(1, len(st)))(*[_capi.nas_macro_stage_t(a, b) for a, b in st])
                keep.append(arr)
                red = {"residual": _capi.NAS_REDUCTION_RESIDUAL, "cell": _capi.NAS_REDUCTION_CELL}
                r = m.pop("reduction", "residual")
                if r not in red:
                    raise ValueError("macro reduction must be 'residual' or 'cell', not %r" % (r,))
                call(lib.nas_space_set_macro, spec(_capi.nas_macro_spec_t, dict(
                    m, stages=ctypes.cast(arr, ctypes.POINTER(_capi.nas_macro_stage_t)), num_stages=len(st),
                    reduction=red[r]), "macro"))
            if chain is not None:
                c = dict(chain)
                ops, n_ops = strings(c.pop("ops", ()), "op")
                widths = c.pop("width_multipliers", None) or ()
                w = (ctypes.c_double * max(1, len(widths)))(*widths)
                keep.append(w)
                call(lib.nas_space_set_chain, spec(_capi.nas_chain_spec_t, dict(
                    c, ops=ops, num_ops=n_ops, width_multipliers=ctypes.cast(w, ctypes.POINTER(ctypes.c_double))
                    if widths else None, num_width_multipliers=len(widths)), "chain"))
            for st in stages:
                d = dict(st)
                depths = d.pop("depths", (1,))
                arr = (ctypes.c_uint32 * max(1, len(depths)))(*depths)
                keep.append(arr)
                call(lib.nas_space_add_stage, spec(_capi.nas_stage_spec_t, dict(
                    d, depths=ctypes.cast(arr, ctypes.POINTER(ctypes.c_uint32)), num_depths=len(depths)), "stage"))
            kinds = {v: k for k, v in KINDS.items()}
            for hp in hparams:
                h = dict(hp)
                kind = h.pop("kind", "float")
                if kind not in kinds:
                    raise ValueError("hyperparameter kind must be float, int or categorical, not %r" % (kind,))
                choices = h.pop("choices", None)
                ch, n_ch = strings(choices, "choice") if choices else (None, 0)
                h["name"] = to_bytes(h.get("name"), "hyperparameter name")
                call(lib.nas_space_add_hparam, spec(_capi.nas_hparam_spec_t, dict(
                    h, kind=kinds[kind], choices=ch, num_choices=n_ch), "hyperparameter"))
            check(lib.nas_space_build(space), space.errmsg)
        except BaseException:
            space.close()
            raise
        return space

    @classmethod
    def _borrowed(cls, ptr, context, owner):
        """A space owned by something else (a model or an experiment): never destroyed from here."""
        space = cls(ptr, context, owner)
        space._release = lambda p: None
        return space

    def errmsg(self):
        return to_str(lib.nas_space_errmsg(self))

    @property
    def name(self):
        return to_str(lib.nas_space_name(self))

    @property
    def yaml(self):
        """The YAML text (bytes) the space was loaded from, or None (a space inline in an experiment
        file). Models made from the space embed it, so their files load without it."""
        text, n = ctypes.c_char_p(), ctypes.c_size_t()
        if lib.nas_space_yaml(self, ctypes.byref(text), ctypes.byref(n)) != _capi.NAS_OK:
            return None
        return ctypes.string_at(ctypes.cast(text, ctypes.c_void_p).value, n.value)

    @property
    def family(self):
        """"cell", "chain" or "none" (hyperparameters only)."""
        return FAMILIES.get(lib.nas_space_family(self), "unknown")

    @property
    def dims(self):
        """Every decision (architecture decisions first, then hyperparameters), as Dim."""
        if self._dims is None:
            dims = []
            n = lib.nas_space_num_dims(self)
            for i in range(n):
                info = _capi.nas_dim_info_t()
                info.struct_size = ctypes.sizeof(info)
                check(lib.nas_space_dim_info(self, i, ctypes.byref(info)), self.errmsg)
                choices = ()
                if info.kind == _capi.NAS_DIM_CATEGORICAL:
                    labels = []
                    for c in range(info.num_choices):
                        label = ctypes.c_char_p()
                        check(lib.nas_space_dim_label(self, i, c, ctypes.byref(label)), self.errmsg)
                        labels.append(to_str(label.value))
                    choices = tuple(labels)
                dims.append([i, to_str(info.name), KINDS.get(info.kind, "unknown"), ROLES.get(info.role, "unknown"),
                             choices, info.low, info.high, bool(info.log_scale), info.parent, info.parent_min])
            for d in dims:
                d[8] = dims[d[8]][1] if d[8] >= 0 else None
            self._dims = tuple(Dim(*d) for d in dims)
            self._by_name = {d.name: d for d in self._dims}
        return self._dims

    @property
    def num_arch_dims(self):
        return lib.nas_space_num_arch_dims(self)

    def dim(self, key):
        """A decision by name or index (KeyError / IndexError if there is none)."""
        dims = self.dims
        if isinstance(key, int):
            return dims[key]
        try:
            return self._by_name[key]
        except KeyError:
            raise KeyError("space %r has no decision %r" % (self.name, key)) from None

    def _size(self, what):
        n = ctypes.c_size_t()
        buf = ctypes.create_string_buffer(64)
        st = lib.nas_space_size(self, what, buf, len(buf), ctypes.byref(n))
        if st == _capi.NAS_E_RANGE:
            buf = ctypes.create_string_buffer(n.value + 1)
            st = lib.nas_space_size(self, what, buf, len(buf), ctypes.byref(n))
        check(st, self.errmsg)
        text = to_str(buf.value)
        return float("inf") if text == "inf" else int(text)

    @property
    def size(self):
        """Number of distinct architectures (an exact int, however large)."""
        return self._size(_capi.NAS_SIZE_ARCH)

    @property
    def size_all(self):
        """Architectures x hyperparameter settings (float('inf') with a float hyperparameter)."""
        return self._size(_capi.NAS_SIZE_ALL)

    @property
    def grid_size(self):
        out = ctypes.c_uint64()
        check(lib.nas_space_grid_size(self, ctypes.byref(out)), self.errmsg)
        return out.value

    def _stream(self, rng):
        if rng is not None:
            return rng
        if self._rng is None:
            self._rng = Rng(self.context.seed, 0x5350414345, self.context)  # "SPACE"
        return self._rng

    def arch(self, value=None):
        """An architecture: the first option of every decision (None), parsed from its canonical
        string, or set from a dict {decision name: label or value}."""
        a = Arch(self)
        if isinstance(value, str):
            a._parse(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                a[k] = v
        elif value is not None:
            raise TypeError("Space.arch() takes None, a canonical string or a dict")
        return a

    def sample(self, rng=None):
        """A uniformly drawn architecture (rng: a libnas.Rng; default: the space's own stream)."""
        a = Arch(self)
        check(lib.nas_space_sample(self, a, self._stream(rng)), self.errmsg)
        return a

    def mutate(self, parent, edits=1, rng=None):
        """A copy of parent with `edits` decisions changed."""
        a = Arch(self)
        check(lib.nas_space_mutate(self, a, parent, self._stream(rng), edits), self.errmsg)
        return a

    def crossover(self, a, b, rng=None):
        """Each decision from a or b with probability 1/2."""
        out = Arch(self)
        check(lib.nas_space_crossover(self, out, a, b, self._stream(rng)), self.errmsg)
        return out

    def enumerate(self, index):
        """The index-th point of the grid."""
        a = Arch(self)
        check(lib.nas_space_enumerate(self, a, index), self.errmsg)
        return a

    def __repr__(self):
        if self.closed:
            return "<libnas.Space (closed)>"
        return "<libnas.Space %r: %s, %d decisions, %s architectures>" % (self.name, self.family, len(self.dims),
                                                                          self.size)


class Arch(Handle):
    """One point of a space. str(arch) is its canonical string; arch["name"] reads a decision
    (categorical: the label; int and float: the value); arch["name"] = label, index or value sets it."""

    _destroy = lib.nas_arch_destroy

    def __init__(self, space):
        ptr = ctypes.c_void_p()
        check(lib.nas_arch_create(ctypes.byref(ptr), space), space.errmsg)
        super().__init__(ptr.value, space)
        self.space = space

    @classmethod
    def _wrap_c(cls, space, cptr):
        """A Python copy of an arch the library owns (valid only during a callback)."""
        a = cls(space)
        check(lib.nas_arch_copy(a, ctypes.c_void_p(cptr)), space.errmsg)
        return a

    def _parse(self, text):
        check(lib.nas_arch_from_string(self, to_bytes(text, "architecture")), self.space.errmsg)

    def to_string(self, arch_only=False):
        """Canonical string; arch_only leaves hyperparameters out (the key of a benchmark table)."""
        flags = _capi.NAS_STRING_ARCH_ONLY if arch_only else 0
        n = ctypes.c_size_t()
        lib.nas_arch_to_string(self, flags, None, 0, ctypes.byref(n))
        buf = ctypes.create_string_buffer(n.value + 1)
        check(lib.nas_arch_to_string(self, flags, buf, len(buf), ctypes.byref(n)), self.space.errmsg)
        return to_str(buf.value)

    def __str__(self):
        return self.to_string()

    def __repr__(self):
        return "<libnas.Arch %s>" % (self.to_string() if not self.closed else "(closed)")

    def __eq__(self, other):
        if not isinstance(other, Arch):
            return NotImplemented
        return bool(lib.nas_arch_equal(self, other))

    def __hash__(self):
        return lib.nas_arch_hash(self)

    def copy(self):
        a = Arch(self.space)
        check(lib.nas_arch_copy(a, self), self.space.errmsg)
        return a

    def __getitem__(self, key):
        d = self.space.dim(key)
        if d.kind == "categorical":
            out = ctypes.c_uint32()
            check(lib.nas_arch_get(self, d.index, ctypes.byref(out)), self.space.errmsg)
            return d.choices[out.value]
        value = ctypes.c_double()
        check(lib.nas_arch_get_value(self, d.index, ctypes.byref(value)), self.space.errmsg)
        return int(value.value) if d.kind == "int" else value.value

    def __setitem__(self, key, value):
        d = self.space.dim(key)
        if d.kind == "categorical":
            if isinstance(value, str):
                if value not in d.choices:
                    raise ValueError("decision %r has no option %r (options: %s)" % (d.name, value, ", ".join(d.choices)))
                value = d.choices.index(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError("decision %r takes an option label or index" % d.name)
            check(lib.nas_arch_set(self, d.index, value), self.space.errmsg)
        else:
            check(lib.nas_arch_set_value(self, d.index, float(value)), self.space.errmsg)

    def is_active(self, key):
        """Whether a decision counts (its parent's choice enables it)."""
        out = ctypes.c_bool()
        check(lib.nas_arch_is_active(self, self.space.dim(key).index, ctypes.byref(out)), self.space.errmsg)
        return out.value

    def to_dict(self, active_only=True):
        """{decision name: label or value}."""
        return {d.name: self[d.name] for d in self.space.dims if not active_only or self.is_active(d.name)}


__all__ = ["Space", "Arch", "Dim", "LibnasError"]
