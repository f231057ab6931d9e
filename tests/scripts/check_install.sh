#!/usr/bin/env bash
# Install the build into a staging folder (DESTDIR), then build the C++ host (examples/host_app.cpp)
# against the staged libnas with nothing but pkg-config, run it, and check that version.h, libnas.pc
# and nas_version_string() all agree with project(version:), and what the host computes.
# usage: check_install.sh BUILD_ROOT PROJECT_VERSION HOST_APP_CPP
# env: MESON (the meson command), CXX, PKG_CONFIG, NAS_SANITIZE (b_sanitize of the build)
set -euo pipefail

die() { echo "check_install: FAIL: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: check_install.sh BUILD_ROOT PROJECT_VERSION HOST_APP_CPP"
build=$(realpath "$1") version=$2 host_src=$(realpath "$3")
meson_cmd=${MESON:-meson}
cxx=${CXX:-c++}
pkgconfig=${PKG_CONFIG:-pkg-config}
command -v "$pkgconfig" >/dev/null || die "pkg-config not found"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage

$meson_cmd install -C "$build" --no-rebuild --destdir "$stage" > "$tmp/install.log" 2>&1 \
    || { cat "$tmp/install.log" >&2; die "meson install --destdir failed"; }

pc=$(find "$stage" -name libnas.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || die "no libnas.pc installed under $stage"
pcdir=$(dirname "$pc")
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_LIBDIR=$pcdir
prefix=$("$pkgconfig" --variable=prefix libnas)
[ -n "$prefix" ] || die "libnas.pc has no prefix"
pcflags=(--define-variable=prefix="$stage$prefix")

pc_version=$("$pkgconfig" --modversion libnas)
[ "$pc_version" = "$version" ] || die "libnas.pc Version is '$pc_version', project version is '$version'"

includedir=$("$pkgconfig" "${pcflags[@]}" --variable=includedir libnas)
libdir=$("$pkgconfig" "${pcflags[@]}" --variable=libdir libnas)
[ -f "$includedir/libnas/nas.h" ] || die "nas.h not installed in $includedir/libnas"
[ -f "$includedir/libnas/version.h" ] || die "version.h not installed in $includedir/libnas"
h_version=$(sed -n 's/^#define NAS_VERSION_STRING "\(.*\)"$/\1/p' "$includedir/libnas/version.h")
[ "$h_version" = "$version" ] || die "version.h says '$h_version', project version is '$version'"
major=${version%%.*}
[ -e "$libdir/libnas.so.$major" ] || die "libnas.so.$major not installed in $libdir"
[ -e "$libdir/libnas.so" ] || die "libnas.so (development link) not installed in $libdir"

# Data the library installs: the spaces.
space=$stage$prefix/share/libnas/spaces/nas-bench-201.yaml
[ -f "$space" ] || die "nas-bench-201.yaml not installed in $stage$prefix/share/libnas/spaces"

# The host: only what pkg-config says (plus the sanitizer runtime when the library was built with one).
read -r -a flags <<< "$("$pkgconfig" "${pcflags[@]}" --cflags --libs libnas)"
san=()
if [ -n "${NAS_SANITIZE:-}" ] && [ "${NAS_SANITIZE}" != "none" ]; then
    san=(-fsanitize="$NAS_SANITIZE")
fi
$cxx -std=c++17 -Wall -Wextra -Werror -pedantic "${san[@]}" -o "$tmp/host_app" "$host_src" "${flags[@]}" \
    > "$tmp/cxx.log" 2>&1 || { cat "$tmp/cxx.log" >&2; die "the C++ host does not compile against the installed headers"; }

out=$(LD_LIBRARY_PATH=$libdir "$tmp/host_app" "$space" 25 2>&1) || die "host_app failed: $out"
echo "$out"
grep -qx "version: $version" <<< "$out" || die "nas_version_string() does not say '$version'"
grep -qx "size: 15625" <<< "$out" || die "host_app did not print 'size: 15625'"
grep -qx "trials: 25" <<< "$out" || die "host_app did not run 25 trials"
best=$(sed -n 's/^best: trial [0-9]* accuracy \([0-6]\) \(|.*|\)$/\1 \2/p' <<< "$out")
[ -n "$best" ] || die "host_app did not report a best architecture"
read -r score arch <<< "$best"
# The C++ evaluator's score is the number of 3x3 convolutions of the cell.
convs=$(grep -o 'nor_conv_3x3' <<< "$arch" | wc -l)
[ "$score" -eq "$convs" ] || die "best score $score, but '$arch' has $convs 3x3 convolutions"
# The C++ progress lambda saw every trial, and the run's best score last.
grep -qx "progress: 25 calls, last best $score" <<< "$out" || die "the progress callback did not see 25 trials and best $score"
# An exception thrown in a C++ callback reaches the host as a status and the exception's message.
grep -qx "greedy with parameters: callback: searcher 'greedy': this strategy takes no parameters" <<< "$out" \
    || die "the C++ strategy's exception did not come back as status 'callback' with its message"
# Failures surface as C++ exceptions caught in main: a message and status 1, not a crash.
set +e
err=$(LD_LIBRARY_PATH=$libdir "$tmp/host_app" "$tmp/missing.yaml" 5 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || die "host_app with a missing space exited with status $rc, expected 1: $err"
grep -q "^host_app: error: space: .*missing.yaml" <<< "$err" || die "no clear message for a missing space: $err"

# The installed tool runs against the installed library.
nas=$stage$prefix/bin/nas
if [ -x "$nas" ]; then
    v=$(LD_LIBRARY_PATH=$libdir "$nas" --version) || die "installed nas --version failed"
    [ "$v" = "nas $version (libnas $version)" ] || die "installed nas --version says '$v'"
fi
echo "check_install: ok: staged install of libnas $version builds and runs a C++ host through pkg-config"
