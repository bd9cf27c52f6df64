#!/usr/bin/env bash
# packaging/test-installed.sh - uses the .debs the way a user without Swift would.
#
# Usage: packaging/test-installed.sh [DEBDIR]
#   DEBDIR holds libresponsesws0_*.deb and libresponsesws-dev_*.deb; without it they are built
#   into a temporary directory with packaging/build-deb.sh.
# Environment: RWS_LIB_DIR (to build the debs), RWS_BIN (the simulator), PY_VENV (optional: a venv
#   with bindings/python installed, for a real turn through the package).
#
# Both packages are unpacked into a scratch root (dpkg-deb -x, nothing is installed system-wide).
# Every client below runs in `env -i PATH=/usr/bin:/bin`, so neither /opt/swift nor any other
# toolchain directory is on PATH or LD_LIBRARY_PATH: the installed library must stand alone.
set -euo pipefail
source "$(dirname "$0")/common.sh"

scratch=$(mktemp -d /tmp/rws-installed.XXXXXX)
sim_pid=
cleanup() {
    [ -z "$sim_pid" ] || kill -INT "$sim_pid" 2>/dev/null || true
    [ -z "$sim_pid" ] || wait "$sim_pid" 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT

step() { echo "-- $*"; }

version=$(rws_version)
ma=$(multiarch)
debdir=${1:-}
if [ -z "$debdir" ]; then
    debdir=$scratch/debs
    "$REPO_ROOT/packaging/build-deb.sh" "$debdir" >/dev/null
fi
lib_deb=$(ls "$debdir"/libresponsesws0_"$version"-*.deb 2>/dev/null | head -1)
dev_deb=$(ls "$debdir"/libresponsesws-dev_"$version"-*.deb 2>/dev/null | head -1)
[ -n "$lib_deb" ] && [ -n "$dev_deb" ] || die "no libresponsesws0/-dev $version .debs in $debdir"

root=$scratch/root
libdir=$root/usr/lib/$ma
dpkg-deb -x "$lib_deb" "$root"
dpkg-deb -x "$dev_deb" "$root"
step "unpacked $(basename "$lib_deb") and $(basename "$dev_deb") into $root"

# The simulator is a toolchain-linked binary: start it with the normal environment.
[ -x "$RWS_BIN" ] || die "simulator $RWS_BIN not found or not executable: set RWS_BIN"
source "$(dirname "$0")/../Tests/lib/sim.sh"
start_sim "$RWS_BIN" --tokens-per-second 0 || die "rws sim did not start"
sim_pid=$SIM_PID
base_url=$SIM_BASE_URL
step "rws sim listening on $base_url"

# Tools located now, before the toolchain is hidden.
cargo_bin=$(command -v cargo || true)
mkdir -p "$scratch/home"
hidden() {
    env -i PATH=/usr/bin:/bin HOME="$scratch/home" LANG=C.UTF-8 \
        PKG_CONFIG_PATH="$libdir/pkgconfig" "$@"
}
hidden sh -c 'command -v swift swiftc' >/dev/null 2>&1 && die "swift is still reachable on PATH=/usr/bin:/bin"

# C: build the example with pkg-config, check what the loader resolves, run an agent loop.
flags=$(hidden pkg-config --define-variable=prefix="$root/usr" --cflags --libs responsesws) ||
    die "pkg-config does not find responsesws.pc under $libdir/pkgconfig"
case " $flags " in *" -I$root/usr/include "*"-L$libdir "*) ;; *) die "pkg-config flags do not point into the scratch root: $flags" ;; esac
hidden cc -std=c99 -Wall -Wextra -Werror "$REPO_ROOT/examples/agent_loop.c" $flags -o "$scratch/agent_loop" ||
    die "examples/agent_loop.c does not build with: cc $flags"
step "built examples/agent_loop.c with: $flags"

deps=$(hidden LD_LIBRARY_PATH="$libdir" ldd "$scratch/agent_loop")
echo "$deps" | grep -q "libresponsesws.so.0 => $libdir/libresponsesws.so.0 " ||
    die "ldd does not resolve libresponsesws.so.0 from the scratch root: $(echo "$deps" | grep responsesws)"
if echo "$deps" | grep -qE 'libswift|/opt/swift|not found'; then
    die "the installed library pulls in the Swift toolchain or misses a library: $deps"
fi
step "ldd: libresponsesws.so.0 from the scratch root, no libswift"

hidden LD_LIBRARY_PATH="$libdir" "$scratch/agent_loop" "$base_url" 4 > "$scratch/agent.out" 2>&1 ||
    die "agent_loop failed: $(cat "$scratch/agent.out")"
grep -q '^turns=4 ok=4 ' "$scratch/agent.out" || die "agent_loop did not finish 4 turns: $(cat "$scratch/agent.out")"
grep -q 'tool read_file' "$scratch/agent.out" || die "agent_loop made no tool call: $(cat "$scratch/agent.out")"
step "C agent loop: $(tail -1 "$scratch/agent.out")"

# Python: ctypes always; the binding when a venv with it is given.
export RESPONSES_WS_LIBRARY=$libdir/libresponsesws.so.0
hidden RESPONSES_WS_LIBRARY="$RESPONSES_WS_LIBRARY" /usr/bin/python3 "$REPO_ROOT/packaging/smoke_python.py" ctypes "$version"
if [ -n "${PY_VENV:-}" ]; then
    [ -x "$PY_VENV/bin/python" ] || die "PY_VENV=$PY_VENV has no bin/python"
    [ -d "$REPO_ROOT/bindings/python" ] || die "PY_VENV is set but bindings/python does not exist"
    hidden RESPONSES_WS_LIBRARY="$RESPONSES_WS_LIBRARY" "$PY_VENV/bin/python" \
        "$REPO_ROOT/packaging/smoke_python.py" package "$version" "$base_url"
else
    step "python package: skipped (set PY_VENV to a venv with bindings/python installed)"
fi

# Rust: the binding's own tests, linked through pkg-config against the scratch root.
if [ -d "$REPO_ROOT/bindings/rust" ]; then
    [ -n "$cargo_bin" ] || die "bindings/rust exists but cargo is not on PATH"
    cargo_dir=$(dirname "$cargo_bin")
    # rustup's proxy finds its toolchains through RUSTUP_HOME/CARGO_HOME, not through PATH.
    # build.rs runs plain `pkg-config responsesws`; PKG_CONFIG_SYSROOT_DIR makes pkgconf prefix
    # the .pc's /usr paths with the scratch root (the standard way to use a staged root).
    env -i PATH="$cargo_dir:/usr/bin:/bin" HOME="$scratch/home" LANG=C.UTF-8 \
        RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" \
        CARGO_TARGET_DIR="$scratch/cargo-target" PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" \
        RESPONSES_WS_LIBRARY="$RESPONSES_WS_LIBRARY" RWS_BIN="$RWS_BIN" RWS_SIM_BASE_URL="$base_url" \
        sh -c 'cd "$1" && cargo test --offline --quiet 2>&1' _ "$REPO_ROOT/bindings/rust" > "$scratch/cargo.out" ||
        die "cargo test --offline in bindings/rust failed against the installed library:
$(tail -30 "$scratch/cargo.out")"
    step "rust: $(grep -E '^test result:' "$scratch/cargo.out" | awk '{p+=$4; f+=$6} END {print p " passed, " f " failed"}') (cargo test --offline)"
    # The test executables must have linked the scratch root's library, not another copy.
    for exe in $(find "$scratch/cargo-target" -path '*/deps/*' -type f -perm -u+x ! -name '*.so' ! -name '*.d'); do
        resolved=$(hidden ldd "$exe" | sed -n 's/^[[:space:]]*libresponsesws.so.0 => \([^ ]*\).*/\1/p')
        [ -z "$resolved" ] || [ "$resolved" = "$libdir/libresponsesws.so.0" ] ||
            die "$(basename "$exe") loads $resolved instead of the scratch root's library"
    done
else
    step "rust: skipped (bindings/rust does not exist)"
fi

echo "test-installed: OK (libresponsesws $version from .debs, Swift toolchain hidden)"
