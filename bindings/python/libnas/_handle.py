"""The base of every wrapper of a C handle: ownership, closing in the right order, ctypes conversion."""
import ctypes
import weakref


class Handle:
    """Owns one C handle. `close()` (or the end of a `with` block, or garbage collection) destroys it,
    after every handle created from it (children are closed first, newest first)."""

    _destroy = None  # the C destroy function, set by subclasses

    def __init__(self, ptr, parent=None):
        self._ptr = ptr
        self._parent = parent          # keeps the parent alive as long as this handle
        self._children = []            # weak references, closed before this handle
        if parent is not None:
            parent._adopt(self)

    def _adopt(self, child):
        self._children = [r for r in self._children if r() is not None]
        self._children.append(weakref.ref(child))

    @property
    def _as_parameter_(self):
        if not self._ptr:
            raise ValueError("%s is closed" % type(self).__name__)
        return ctypes.c_void_p(self._ptr)

    @property
    def closed(self):
        return not self._ptr

    def close(self):
        """Destroy the C handle (and the handles made from it). Safe to call twice."""
        if not getattr(self, "_ptr", None):
            return
        for ref in reversed(self._children):
            child = ref()
            if child is not None:
                child.close()
        self._children = []
        ptr, self._ptr = self._ptr, None
        if self._parent is not None and self._parent.closed:
            return  # the parent went first (garbage cycle): its C memory is gone, a destroy would be use-after-free
        self._release(ptr)

    def _release(self, ptr):
        type(self)._destroy(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may be gone
            pass
