"""Loading libnas.so, status codes, and the exceptions every wrapper raises.

The library is found, in this order, at:
  1. the path in the environment variable LIBNAS_LIBRARY;
  2. for an installed package, the library folder recorded by `meson install` (libnas/_config.py),
     first relative to where the package is (a DESTDIR-staged or moved tree), then as recorded;
  3. a build tree next to the package (the source tree's bindings/python/libnas with build*/libnas.so);
  4. the system's search path (ctypes.util.find_library("nas")).
"""
import ctypes
import ctypes.util
import glob
import os

from . import _capi

ENV_LIBRARY = "LIBNAS_LIBRARY"
ABI_MAJOR = 0  # the soname's major version this package speaks


class LibnasError(Exception):
    """A libnas call failed: `status` (int), `name` ("invalid", ...) and the library's detailed message."""

    def __init__(self, status, message=""):
        self.status = int(status)
        self.name = status_name(self.status)
        self.message = message or status_str(self.status)
        super().__init__("%s: %s" % (self.name, self.message))


class InvalidArgumentError(LibnasError, ValueError):
    """NAS_E_INVAL, NAS_E_SPEC, NAS_E_RANGE: a bad argument, specification or value."""


class NotFoundError(LibnasError, LookupError):
    """NAS_E_NOT_FOUND: no such strategy, evaluator, decision, metric..."""


class LibnasIOError(LibnasError, OSError):
    """NAS_E_IO: a file could not be read or written."""


class ParseError(LibnasError, ValueError):
    """NAS_E_PARSE, NAS_E_CORRUPT: malformed or damaged input."""


class AbortedError(LibnasError):
    """NAS_E_ABORTED: stopped by a cancel callback (or Ctrl-C)."""


_CLASSES = {
    _capi.NAS_E_INVAL: InvalidArgumentError,
    _capi.NAS_E_SPEC: InvalidArgumentError,
    _capi.NAS_E_RANGE: InvalidArgumentError,
    _capi.NAS_E_NOT_FOUND: NotFoundError,
    _capi.NAS_E_IO: LibnasIOError,
    _capi.NAS_E_PARSE: ParseError,
    _capi.NAS_E_CORRUPT: ParseError,
    _capi.NAS_E_ABORTED: AbortedError,
}

_NAMES = {s[0]: s[2] for s in _capi.STATUS_TABLE}
_DESCRIPTIONS = {s[0]: s[3] for s in _capi.STATUS_TABLE}
_BY_NAME = {s[2]: s[0] for s in _capi.STATUS_TABLE}


def status_name(status):
    """Short stable name of a status code ("ok", "invalid", ...); "unknown" for an unknown code."""
    return _NAMES.get(int(status), "unknown")


def status_str(status):
    """One-line description of a status code."""
    return _DESCRIPTIONS.get(int(status), "unknown status")


def status_code(name):
    """Status code of a short name ("invalid" -> 1); ValueError for an unknown name."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError("unknown status name %r (known: %s)" % (name, ", ".join(sorted(_BY_NAME)))) from None


def error(status, message=""):
    """The exception for a failed call."""
    return _CLASSES.get(int(status), LibnasError)(status, message)


def check(status, errmsg=None):
    """Raise the matching LibnasError unless status is NAS_OK. errmsg: a string or a function giving one."""
    if status == _capi.NAS_OK:
        return
    msg = errmsg() if callable(errmsg) else errmsg
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    raise error(status, msg or "")


def to_bytes(s, what="string"):
    """UTF-8 bytes of a str or os.PathLike (None stays None)."""
    if s is None:
        return None
    if isinstance(s, bytes):
        return s
    if isinstance(s, os.PathLike):
        s = os.fspath(s)
        if isinstance(s, bytes):
            return s
    if not isinstance(s, str):
        raise TypeError("%s must be a str, not %s" % (what, type(s).__name__))
    if "\0" in s:
        raise ValueError("%s contains a NUL character" % what)
    return s.encode("utf-8")


def to_str(b):
    """str of a C string (bytes or None -> "")."""
    return b.decode("utf-8", "replace") if b else ""


def _candidates():
    env = os.environ.get(ENV_LIBRARY)
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        from . import _config  # written by `meson install`
        name = "libnas.so.%d" % ABI_MAJOR
        yield os.path.normpath(os.path.join(here, os.path.relpath(_config.LIBDIR, _config.PKGDIR), name))
        yield os.path.join(_config.LIBDIR, name)
    except ImportError:
        pass
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))  # bindings/python/libnas -> source root
    build_roots = [os.environ["NAS_BUILD_ROOT"]] if os.environ.get("NAS_BUILD_ROOT") else []
    build_roots += sorted(glob.glob(os.path.join(root, "build*")))
    for b in build_roots:
        path = os.path.join(b, "libnas.so.%d" % ABI_MAJOR)
        if os.path.exists(path):
            yield path
    found = ctypes.util.find_library("nas")
    if found:
        yield found


def _load():
    tried = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        try:
            lib.nas_version_number.restype = ctypes.c_uint32
            major = lib.nas_version_number() // 10000
        except AttributeError:
            tried.append("%s (not libnas)" % path)
            continue
        if major != ABI_MAJOR:
            tried.append("%s (version %d.x; this package needs %d.x)" % (path, major, ABI_MAJOR))
            continue
        return _capi.bind(lib), path
    raise ImportError("libnas: cannot load libnas.so; set %s to its path (tried: %s)"
                      % (ENV_LIBRARY, "; ".join(tried) if tried else "nothing found"))


lib, library_path = _load()
