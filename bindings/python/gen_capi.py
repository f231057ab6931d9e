#!/usr/bin/env python3
"""Generate libnas/_capi.py (ctypes declarations) from the public C headers.

The ctypes layer must match include/libnas/*.h exactly: every exported function with its
argument and return types, every public struct with its members in order, the callback
types, the enums, the status table and the numeric #defines. Writing that by hand drifts;
this script reads the headers and writes it. tests/test_capi.py checks that the committed
file is what this script produces and that ctypes' struct layouts equal the C compiler's.

usage: gen_capi.py INCLUDE_DIR [OUTPUT]   (OUTPUT "-" or absent: stdout)
"""
import os
import re
import sys

HEADERS = ["core.h", "space.h", "search.h", "plugin.h", "experiment.h", "data.h", "model.h"]

SCALARS = {
    "char": "C.c_char", "bool": "C.c_bool", "float": "C.c_float", "double": "C.c_double",
    "size_t": "C.c_size_t", "int": "C.c_int", "int32_t": "C.c_int32", "uint32_t": "C.c_uint32",
    "int64_t": "C.c_int64", "uint64_t": "C.c_uint64", "nas_status_t": "C.c_int32",
}


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


class Headers:
    def __init__(self, include_dir):
        self.text = ""
        for h in HEADERS:
            with open(os.path.join(include_dir, h), encoding="utf-8") as f:
                self.text += f.read() + "\n"
        self.raw = self.text
        self.text = strip_comments(self.text)
        self.structs = []      # (name_t, [(ctype_expr, member)])
        self.callbacks = []    # (name, expr)
        self.functions = []    # (name, restype, [argtypes], [argnames])
        self.enums = []        # (name, value)
        self.defines = []      # (name, value)
        self.status = []       # (value, enum, short, description)
        self.opaque = set(re.findall(r"typedef struct \w+ (\w+_t);", self.text))
        self.struct_names = set(re.findall(r"typedef struct \w+ \{.*?\} (\w+_t);", self.text, flags=re.S))
        self.opaque -= self.struct_names
        self.enum_names = set(re.findall(r"typedef enum \w+ \{.*?\} (\w+_t);", self.text, flags=re.S))

    # "const nas_arch_t *arch" -> ("C.c_void_p", "arch")
    def ctype(self, decl, is_return=False):
        decl = decl.strip()
        m = re.match(r"^(.*?)(\w+)$", decl)
        typ, name = (decl, "") if is_return else (m.group(1), m.group(2))
        if not is_return and not typ.strip():
            typ, name = decl, ""
        depth = typ.count("*")
        base = re.sub(r"\bconst\b|\*", " ", typ).split()
        if len(base) != 1:
            raise ValueError("cannot map C type %r" % decl)
        base = base[0]
        if base in self.enum_names:
            base = "int32_t"
        if depth == 0:
            if base == "void":
                return "None", name
            if base in SCALARS:
                return SCALARS[base], name
            if base in self.callback_names:
                return base, name
            raise ValueError("cannot map C type %r" % decl)
        if base == "char":
            inner = "C.c_char_p"
        elif base == "void" or base in self.opaque:
            inner = "C.c_void_p"
        elif base in self.struct_names:
            return self._pointer("C.POINTER(%s)" % base, depth - 1), name
        elif base in SCALARS:
            return self._pointer("C.POINTER(%s)" % SCALARS[base], depth - 1), name
        else:
            raise ValueError("cannot map C type %r" % decl)
        return self._pointer(inner, depth - 1), name

    @staticmethod
    def _pointer(expr, depth):
        for _ in range(depth):
            expr = "C.POINTER(%s)" % expr
        return expr

    def args(self, arglist):
        arglist = " ".join(arglist.split())
        if arglist in ("void", ""):
            return [], []
        types, names = [], []
        for a in arglist.split(","):
            t, n = self.ctype(a)
            types.append(t)
            names.append(n)
        return types, names

    def parse(self):
        t = self.text
        self.callback_names = set()
        for m in re.finditer(r"typedef\s+([\w\s\*]+?)\s*\(\*(\w+)\)\s*\(([^)]*)\)\s*;", t):
            self.callback_names.add(m.group(2))
        for m in re.finditer(r"typedef\s+([\w\s\*]+?)\s*\(\*(\w+)\)\s*\(([^)]*)\)\s*;", t):
            ret, _ = self.ctype(m.group(1), is_return=True)
            types, _ = self.args(m.group(3))
            self.callbacks.append((m.group(2), "C.CFUNCTYPE(%s)" % ", ".join([ret] + types)))
        for m in re.finditer(r"typedef struct \w+ \{(.*?)\} (\w+_t);", t, flags=re.S):
            members = []
            for decl in m.group(1).split(";"):
                decl = " ".join(decl.split())
                if not decl:
                    continue
                fp = re.match(r"^([\w\s\*]+?)\s*\(\*(\w+)\)\s*\((.*)\)$", decl)
                if fp:
                    ret, _ = self.ctype(fp.group(1), is_return=True)
                    types, _ = self.args(fp.group(3))
                    members.append(("C.CFUNCTYPE(%s)" % ", ".join([ret] + types), fp.group(2)))
                    continue
                first, *rest = [d.strip() for d in decl.split(",")]
                ctype, name = self.ctype(first)
                members.append((ctype, name))
                base = first[: len(first) - len(name)]
                for r in rest:
                    ctype, name = self.ctype(base + r)
                    members.append((ctype, name))
            self.structs.append((m.group(2), members))
        for m in re.finditer(r"NAS_API\s+([\w\s\*]+?)\s*\b(nas_\w+)\s*\(([^)]*)\)\s*;", t):
            ret, _ = self.ctype(m.group(1), is_return=True)
            types, names = self.args(m.group(3))
            self.functions.append((m.group(2), ret, types, names))
        for m in re.finditer(r"typedef enum \w+ \{(.*?)\} (\w+_t);", t, flags=re.S):
            for item in m.group(1).split(","):
                em = re.match(r"^\s*(NAS_\w+)\s*=\s*(\w+)\s*$", item)
                if em and em.group(1) != "NAS_STATUS_FORCE_INT32":
                    self.enums.append((em.group(1), int(em.group(2), 0)))
        for m in re.finditer(r'X\((NAS_\w+),\s*(\d+),\s*"([^"]*)",\s*"([^"]*)"\)', self.raw):
            self.status.append((int(m.group(2)), m.group(1), m.group(3), m.group(4)))
        for m in re.finditer(r"^#define (NAS_\w+) \(?([0-9][0-9xa-fA-F]*)u?( << \d+)?\)?u?\s*$", t, flags=re.M):
            value = int(m.group(2), 0)
            if m.group(3):
                value <<= int(m.group(3).split()[-1])
            self.defines.append((m.group(1), value))
        return self

    def emit(self):
        out = ['"""ctypes declarations of libnas\'s public C API.',
               "",
               "Generated by bindings/python/gen_capi.py from include/libnas/*.h: do not edit by hand.",
               '"""',
               "# flake8: noqa",
               "import ctypes as C",
               "",
               "# Status codes: (value, enumerator, short name, description)",
               "STATUS_TABLE = ["]
        out += ["    (%d, %r, %r, %r)," % s for s in self.status]
        out += ["]", ""]
        out += ["%s = %d" % (s[1], s[0]) for s in self.status]
        out += ["", "# Enumerators"]
        out += ["%s = %d" % e for e in self.enums]
        out += ["", "# Numeric #defines"]
        out += ["%s = %d" % d for d in self.defines]
        out += ["", "# Structs (members are filled in below, after the callback types they use)"]
        for name, _ in self.structs:
            out += ["class %s(C.Structure):" % name, "    pass", ""]
        out += ["# Callback types"]
        out += ["%s = %s" % cb for cb in self.callbacks]
        out += [""]
        for name, members in self.structs:
            out.append("%s._fields_ = [" % name)
            out += ["    (%r, %s)," % (mname, ctype) for ctype, mname in members]
            out += ["]", ""]
        out += ["# Exported functions: name -> (restype, argtypes, argument names)", "FUNCTIONS = {"]
        for name, ret, types, names in self.functions:
            out.append("    %r: (%s, [%s], %r)," % (name, ret, ", ".join(types), tuple(names)))
        out += ["}", "", "",
                "def bind(lib):",
                '    """Set restype and argtypes of every function on a loaded CDLL."""',
                "    for name, (restype, argtypes, _names) in FUNCTIONS.items():",
                "        fn = getattr(lib, name)",
                "        fn.restype = restype",
                "        fn.argtypes = argtypes",
                "    return lib", ""]
        return "\n".join(out)


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    text = Headers(sys.argv[1]).parse().emit()
    if len(sys.argv) == 2 or sys.argv[2] == "-":
        sys.stdout.write(text)
    else:
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
