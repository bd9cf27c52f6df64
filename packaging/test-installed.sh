#!/usr/bin/env bash
# packaging/test-installed.sh - uses the .debs the way a user without Swift would.
#
# Usage: packaging/test-installed.sh [DEBDIR]
#   DEBDIR holds the .debs of packaging/build-deb.sh (libresponsesws0, -dev, responses-ws-tools
#   and their -dbgsym); without it they are built into a temporary directory.
# Environment: RWS_LIB_DIR, RWS_BIN (to build the debs), PY_VENV (optional: a venv with
#   bindings/python installed, for a real turn through the package).
#
# The packages are unpacked into a scratch root (dpkg-deb -x, nothing is installed system-wide).
# Everything below, the packaged `rws sim` included, runs in `env -i PATH=/usr/bin:/bin`, so
# neither /opt/swift nor any other toolchain directory is on PATH or LD_LIBRARY_PATH: the
# installed library and tool must stand alone.
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
root=$scratch/root
libdir=$root/usr/lib/$ma
unpacked=()
for pkg in libresponsesws0 libresponsesws-dev responses-ws-tools libresponsesws0-dbgsym responses-ws-tools-dbgsym; do
    deb=$(ls "$debdir/${pkg}_$version"-*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || die "no $pkg $version .deb in $debdir"
    dpkg-deb -x "$deb" "$root"
    unpacked+=("$(basename "$deb")")
done
step "unpacked ${unpacked[*]} into $root"

# Tools located now, before the toolchain is hidden.
cargo_bin=$(command -v cargo || true)
mkdir -p "$scratch/home"
hidden() {
    env -i PATH=/usr/bin:/bin HOME="$scratch/home" LANG=C.UTF-8 \
        PKG_CONFIG_PATH="$libdir/pkgconfig" "$@"
}
hidden sh -c 'command -v swift swiftc' >/dev/null 2>&1 && die "swift is still reachable on PATH=/usr/bin:/bin"

# The tools package: rws from the scratch root, with the toolchain hidden, is the simulator
# every client below talks to.
rws=$root/usr/bin/rws
[ -x "$rws" ] || die "responses-ws-tools has no executable usr/bin/rws"
rws_deps=$(hidden ldd "$rws")
if grep -qE 'libswift|/opt/swift|not found' <<< "$rws_deps"; then
    die "the packaged rws pulls in the Swift toolchain or misses a library: $rws_deps"
fi
step "ldd rws: $(echo "$rws_deps" | awk '/=>/ {print $1}' | tr '\n' ' ')(no libswift)"
if hidden "$rws" --version > "$scratch/version.out" 2>&1; then
    grep -q "^rws $version\$" "$scratch/version.out" || die "rws --version does not name $version: $(cat "$scratch/version.out")"
    grep -q "^libresponsesws $version (" "$scratch/version.out" || die "rws --version does not find the packaged library: $(cat "$scratch/version.out")"
    step "rws --version: $(tr '\n' ' ' < "$scratch/version.out")"
else
    # Until `rws --version` exists (issue 14 part A), say so instead of pretending.
    hidden "$rws" --help > "$scratch/help.out" 2>&1 || die "the packaged rws does not run: $(cat "$scratch/help.out")"
    step "rws --version: not supported by this rws ($(head -1 "$scratch/version.out")); rws --help runs"
fi
printf '#!/bin/sh\nexec env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "%s" "$@"\n' "$rws" > "$scratch/rws-hidden"
chmod +x "$scratch/rws-hidden"
source "$(dirname "$0")/../Tests/lib/sim.sh"
start_sim "$scratch/rws-hidden" --tokens-per-second 0 || die "the packaged rws sim did not start"
sim_pid=$SIM_PID
base_url=$SIM_BASE_URL
step "packaged rws sim listening on $base_url"
hidden OPENAI_API_KEY=sk-local "$rws" run --base-url "$base_url" "Say hello" > "$scratch/run.out" 2> "$scratch/run.err" ||
    die "rws run against the packaged simulator failed: $(cat "$scratch/run.err")"
[ -s "$scratch/run.out" ] || die "rws run printed no answer: $(cat "$scratch/run.err")"
step "packaged rws run: $(head -c 60 "$scratch/run.out" | tr '\n' ' ')..."

# Manual pages: rendered without warnings; rws(1) names every subcommand of `rws --help`;
# responses_ws(3) names every function of the installed header.
for page in "$root/usr/share/man/man1/rws.1.gz" "$root/usr/share/man/man3/responses_ws.3.gz"; do
    [ -f "$page" ] || die "missing manual page ${page#"$root"}"
    warnings=$(hidden MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || die "man cannot render ${page#"$root"}: $warnings"
    [ -z "$warnings" ] || die "${page#"$root"} renders with warnings: $warnings"
done
rws_page=$(hidden MANWIDTH=200 man -l "$root/usr/share/man/man1/rws.1.gz" 2>/dev/null)
subcommands=$(hidden "$rws" --help | awk '/^SUBCOMMANDS:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ && n++ {on=0}')
[ -n "$subcommands" ] || die "found no subcommands in rws --help"
for sub in $subcommands; do
    grep -qE "^ *rws +$sub( |\$)" <<< "$rws_page" || die "rws(1) has no synopsis line for 'rws $sub'"
    for flag in $(hidden "$rws" "$sub" --help | grep -oE '^ +--[a-z][a-z0-9-]*' | sort -u); do
        [ "$flag" = --help ] || grep -qe "$flag" <<< "$rws_page" || die "rws(1) does not document 'rws $sub $flag'"
    done
done
lib_page=$(hidden MANWIDTH=200 man -l "$root/usr/share/man/man3/responses_ws.3.gz" 2>/dev/null)
for fn in $(grep -oE '^RWS_EXTERN [^;(]*\brws_[a-z0-9_]+\(' "$root/usr/include/responses_ws.h" | grep -oE 'rws_[a-z0-9_]+'); do
    grep -q "\b$fn\b" <<< "$lib_page" || die "responses_ws(3) does not name $fn"
done
step "man: rws(1) documents $(echo $subcommands | wc -w) subcommands and their flags, responses_ws(3) names every header function, no warnings"
for f in examples/agent_loop.c README; do
    [ -s "$root/usr/share/doc/libresponsesws-dev/$f" ] || die "libresponsesws-dev lacks /usr/share/doc/libresponsesws-dev/$f"
done

# Debug information: the packaged ELFs are stripped, and gdb finds their -dbgsym files by
# build-id (a source line for a function), which it cannot without the debug directory.
# (rws's entry point is compiler-generated and has no line: ask for a line of a source file.)
for elf in "$libdir/libresponsesws.so.$version:rws_turn_start" "$rws:RunCommand.swift:25"; do
    file=${elf%%:*} fn=${elf#*:}
    id=$(build_id "$file")
    [ -n "$id" ] || die "${file#"$root"} has no build-id"
    [ -f "$root/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" ] || die "no debug file for build-id $id of ${file#"$root"}"
    grep -q '\.debug_info' <<< "$(readelf -S "$file")" && die "${file#"$root"} is not stripped (has .debug_info)"
    with=$(hidden gdb -nx -batch -iex "set debug-file-directory $root/usr/lib/debug" -ex "info line $fn" "$file" 2>&1 || true)
    without=$(hidden gdb -nx -batch -iex "set debug-file-directory $scratch/none" -ex "info line $fn" "$file" 2>&1 || true)
    grep -qE '^Line [0-9]+ of "[^"]+"' <<< "$with" ||
        die "gdb found no line for $fn in ${file#"$root"} with the -dbgsym files: $(echo "$with" | grep -v '^During symbol reading' | tail -3)"
    grep -qE '^Line [0-9]+ of' <<< "$without" && die "gdb found line info for $fn in ${file#"$root"} without the -dbgsym files"
    step "gdb: $(basename "$file") build-id $id -> $(echo "$with" | grep -oE '^Line [0-9]+ of "[^"]+"' | head -1)"
done

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

# A program that calls a 0.2 function records the RESPONSESWS_0.2 node it needs, so the loader
# refuses to start it against a 0.1 library instead of failing at the call.
printf '#include <responses_ws.h>\nint main(void) { return rws_turn_notify_fd(0) == RWS_E_INVALID_ARGUMENT ? 0 : 1; }\n' > "$scratch/uses02.c"
hidden cc -std=c99 -Wall -Werror "$scratch/uses02.c" $flags -o "$scratch/uses02" || die "a program calling rws_turn_notify_fd does not build"
hidden LD_LIBRARY_PATH="$libdir" "$scratch/uses02" || die "rws_turn_notify_fd(NULL) did not return RWS_E_INVALID_ARGUMENT"
grep -q 'RESPONSESWS_0\.2' <<< "$(objdump -p "$scratch/uses02")" ||
    die "a program calling rws_turn_notify_fd does not require version RESPONSESWS_0.2: $(objdump -p "$scratch/uses02" | grep -A4 'Version References')"
step "version nodes: a caller of rws_turn_notify_fd requires RESPONSESWS_0.2"

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
        RESPONSES_WS_LIBRARY="$RESPONSES_WS_LIBRARY" RWS_BIN="$rws" RWS_SIM_BASE_URL="$base_url" \
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

echo "test-installed: OK (libresponsesws $version and rws from .debs, Swift toolchain hidden)"
