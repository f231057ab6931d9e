"""The generated ctypes layer matches the C API: same text as gen_capi.py makes from the headers now,
same struct layouts as the C compiler's, and exactly the library's exported nas_* functions."""
import ctypes
import difflib
import os
import shlex
import shutil
import subprocess
import sys

import pytest

import libnas
from libnas import _capi
from conftest import SOURCE_ROOT

BINDINGS = os.path.join(SOURCE_ROOT, "bindings", "python")
INCLUDE = os.path.join(SOURCE_ROOT, "include", "libnas")


def clean_env():
    """The environment for helper programs: without the sanitizer runtimes preloaded into python."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


def test_committed_capi_is_what_the_generator_makes(tmp_path):
    out = tmp_path / "_capi.py"
    subprocess.run([sys.executable, os.path.join(BINDINGS, "gen_capi.py"), INCLUDE, str(out)], check=True,
                   env=clean_env())
    with open(os.path.join(BINDINGS, "libnas", "_capi.py"), encoding="utf-8") as f:
        committed = f.read()
    generated = out.read_text(encoding="utf-8")
    if committed != generated:
        diff = "".join(difflib.unified_diff(committed.splitlines(True), generated.splitlines(True),
                                            "libnas/_capi.py (committed)", "gen_capi.py output", n=1))
        pytest.fail("libnas/_capi.py is out of date with include/libnas; regenerate it with\n"
                    "  cd bindings/python && python3 gen_capi.py ../../include/libnas libnas/_capi.py\n" + diff[:4000])


def structs():
    return sorted((name, cls) for name, cls in vars(_capi).items()
                  if isinstance(cls, type) and issubclass(cls, ctypes.Structure) and cls is not ctypes.Structure)


def version_h_dir():
    """The folder of the generated version.h (the build tree's include/libnas)."""
    roots = [os.environ.get("NAS_BUILD_ROOT"), os.path.dirname(os.path.realpath(libnas.library_path))]
    for root in filter(None, roots):
        d = os.path.join(root, "include", "libnas")
        if os.path.exists(os.path.join(d, "version.h")):
            return d
    return None


def find_compiler():
    cmd = shlex.split(os.environ.get("CC") or "cc")
    return cmd if cmd and shutil.which(cmd[0]) else None


def test_struct_layouts_match_the_c_compiler(tmp_path):
    cc = find_compiler()
    if cc is None:
        pytest.skip("no C compiler (set CC)")
    vdir = version_h_dir()
    if vdir is None:
        pytest.skip("version.h not found (set NAS_BUILD_ROOT to the build folder)")
    assert len(structs()) >= 20
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <libnas/nas.h>", "int main(void)", "{"]
    expected = []
    for name, cls in structs():
        lines.append('    printf("%s %%zu %%zu\\n", sizeof(%s), _Alignof(%s));' % (name, name, name))
        expected.append("%s %d %d" % (name, ctypes.sizeof(cls), ctypes.alignment(cls)))
        for field in cls._fields_:
            member = field[0]
            lines.append('    printf("%s.%s %%zu %%zu\\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));'
                         % (name, member, name, member, name, member))
            expected.append("%s.%s %d %d" % (name, member, getattr(cls, member).offset, getattr(cls, member).size))
    lines += ["    return 0;", "}", ""]
    src, exe = tmp_path / "layout.c", tmp_path / "layout"
    src.write_text("\n".join(lines))
    build = subprocess.run(cc + ["-std=c11", "-I", os.path.join(SOURCE_ROOT, "include"), "-I", vdir,
                                 "-o", str(exe), str(src)], capture_output=True, text=True, env=clean_env())
    assert build.returncode == 0, "compiling the layout probe failed:\n" + build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, check=True, env=clean_env())
    got = run.stdout.splitlines()
    assert got == expected, "ctypes layouts differ from the C compiler's (regenerate _capi.py?):\n" + "\n".join(
        "C: %-50s ctypes: %s" % (g, e) for g, e in zip(got, expected) if g != e)


def exported_functions():
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not found (binutils)")
    out = subprocess.run([nm, "-D", "--defined-only", libnas.library_path], capture_output=True, text=True,
                         check=True, env=clean_env()).stdout
    names, others = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[1] == "A":   # "A": the version node (LIBNAS_0)
            continue
        name = parts[2].split("@")[0]
        (names if parts[1] in ("T", "W", "i") and name.startswith("nas_") else others).add(name)
    return names, others


def test_exported_symbols_are_exactly_the_capi_functions():
    exported, others = exported_functions()
    assert others == set(), "libnas.so exports symbols outside the nas_* API (version script?)"
    declared = set(_capi.FUNCTIONS)
    assert len(declared) > 100
    assert exported - declared == set(), "exported by libnas.so but not in the headers/_capi.py"
    assert declared - exported == set(), "declared in the headers but not exported by libnas.so"


def test_every_function_is_bound():
    for name, (restype, argtypes, names) in _capi.FUNCTIONS.items():
        fn = getattr(libnas._lib.lib, name)
        assert fn.restype is restype and list(fn.argtypes) == list(argtypes) and len(names) == len(argtypes), name
