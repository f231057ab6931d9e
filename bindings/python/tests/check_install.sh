#!/usr/bin/env bash
# `meson install` puts the Python package where the interpreter looks and it loads the installed
# library: stage the install (DESTDIR), import libnas from the staged site folder with no hint of the
# build tree, check it loaded the staged libnas.so and works on an installed space file.
# usage: check_install.sh BUILD_ROOT PYTHON PACKAGE_DIR
# env: MESON (the meson command)
set -euo pipefail

die() { echo "check_install (python): FAIL: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: check_install.sh BUILD_ROOT PYTHON PACKAGE_DIR"
build=$(realpath "$1") python=$2 pkgdir=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage
${MESON:-meson} install -C "$build" --no-rebuild --destdir "$stage" > "$tmp/install.log" 2>&1 \
    || { cat "$tmp/install.log" >&2; die "meson install --destdir failed"; }
site=$stage$(dirname "$pkgdir")
[ -f "$site/libnas/__init__.py" ] || die "the package is not installed in $site/libnas"
[ -f "$site/libnas/_config.py" ] || die "_config.py (the installed library folder) is missing"
space=$(find "$stage" -path '*/share/libnas/spaces/nas-bench-201.yaml' | head -n 1)
[ -n "$space" ] || die "no installed nas-bench-201.yaml"

cd "$tmp"
out=$(env -u LIBNAS_LIBRARY -u NAS_BUILD_ROOT -u NAS_SOURCE_ROOT PYTHONPATH="$site" "$python" - "$stage" "$space" <<'PY'
import sys
import libnas
stage, space_path = sys.argv[1], sys.argv[2]
assert libnas.__file__.startswith(stage), "imported %s, not the staged package" % libnas.__file__
assert libnas.library_path.startswith(stage), "loaded %s, not the staged library" % libnas.library_path
ctx = libnas.Context(threads=1, seed=1)
space = libnas.Space.load(space_path, ctx)
arch = space.sample()
assert space.arch(str(arch)) == arch
print("installed libnas %s from %s: %s, %d architectures" % (libnas.__version__, libnas.library_path, space.name,
                                                             space.size))
PY
) || die "the installed package does not work: $out"
echo "$out"
