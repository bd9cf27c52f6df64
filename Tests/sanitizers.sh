#!/usr/bin/env bash
# Sanitizer runs of responses-ws (BUILDING.md §6). run-all.sh calls each once per run:
#   asan  libresponsesws.so built with AddressSanitizer (+ UndefinedBehaviorSanitizer for the C
#         code in it: our C shim and NIO's) in .build-asan; the C API tests, themselves built with
#         -fsanitize=address,undefined, and the Python binding's tests run against it.
#   tsan  the Swift test suite built and run under ThreadSanitizer in .build-tsan.
# Any sanitizer report fails the run. No suppressions are needed (LSan included).
# asan needs RWS_BIN (an `rws` for the simulator; the release one is fine) and VENV (a venv with
# pytest and cffi, as run-all.sh's python_venv makes). Swift has no -sanitize=undefined on
# Linux; Swift code traps on overflow and out-of-bounds access by itself.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SWIFT_BIN=$(dirname "$(readlink -f "$(command -v swift)")")
CLANG=${CLANG:-$SWIFT_BIN/clang}   # the toolchain's clang: its sanitizer runtimes match swiftc's

# halt_on_error: stop at the first report, so nothing is missed in a long log.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

asan() {
    local out=.build-asan/release so lib_dir
    nice -n 10 swift build -c release --product responsesws --sanitize=address \
        -Xcc -fsanitize=undefined --scratch-path .build-asan || return 1
    so=$out/libresponsesws.so
    ln -sf libresponsesws.so "$out/libresponsesws.so.0"
    lib_dir=$ROOT/$out
    # The sanitized library must still be the shipped shape: only rws_* exported, same SONAME;
    # the __asan_*/__ubsan_* symbols stay undefined, for the runtime the program loads.
    local bad
    bad=$(nm -D --defined-only "$so" | awk '{print $NF}' | grep -vE '^RESPONSESWS_0(\.[0-9]+)?$' | grep -vE '^rws_[a-z0-9_]*@@?RESPONSESWS_0(\.[0-9]+)?$')
    if [ -n "$bad" ]; then echo "unexpected exported symbols:"; echo "$bad" | head; return 1; fi
    readelf -d "$so" | grep -q 'SONAME.*\[libresponsesws.so.0\]' || { echo "wrong SONAME"; return 1; }
    local undefined
    undefined=$(nm -D --undefined-only "$so")
    grep -q __asan_init <<< "$undefined" || { echo "$so is not built with ASan"; return 1; }
    grep -q __ubsan_handle <<< "$undefined" || { echo "$so has no UBSan checks"; return 1; }
    echo "ASan+UBSan $so: $(nm -D --defined-only "$so" | grep -c ' rws_') rws_* symbols, SONAME libresponsesws.so.0"

    [ -x "${RWS_BIN:-}" ] || { echo "asan: RWS_BIN=${RWS_BIN:-} is not an executable rws"; return 1; }
    [ -x "${VENV:-}/bin/python" ] || { echo "asan: VENV=${VENV:-} has no bin/python"; return 1; }

    # C API tests: the executable carries the ASan+UBSan runtime (clang links it in and exports
    # it to the .so). Leaks are checked here. No -Werror: warnings are run-all.sh's gcc steps'
    # business, and clang's set differs.
    local c_out=.build-asan/c-tests
    mkdir -p "$c_out"
    "$CLANG" -fuse-ld=lld -std=c99 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
        -Wall -Wextra -Iinclude Tests/c/test_capi.c -L"$out" -lresponsesws -Wl,-rpath,"$lib_dir" -lpthread \
        -o "$c_out/test_capi" || return 1
    ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1 \
        RWS_TEST_SANITIZED=1 "$c_out/test_capi" || { echo "C API tests under ASan+UBSan failed"; return 1; }

    # Python binding tests: the interpreter is not sanitized, so the runtime is preloaded (and
    # reaches the `rws sim` subprocesses too, harmlessly). No leak check: CPython keeps much of
    # its memory until exit by design, so LSan would report the interpreter, not the library.
    local runtime
    runtime=$("$CLANG" -print-file-name=libclang_rt.asan-x86_64.so)
    [ -f "$runtime" ] || { echo "asan: no ASan runtime at $runtime"; return 1; }
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade ./bindings/python pytest || return 1
    local py_env=(env LD_PRELOAD="$runtime" ASAN_OPTIONS=halt_on_error=1:detect_leaks=0
                  RESPONSES_WS_LIBRARY="$lib_dir/libresponsesws.so.0" RWS_BIN="$RWS_BIN")
    # The binding falls back to other copies of the library when one fails to load: make sure
    # it is this one that loads.
    "${py_env[@]}" "$VENV/bin/python" -c '
import os, sys
from responses_ws import _ffi
_ffi._load()
want = os.path.realpath(sys.argv[1])
if not any(line.endswith(want) for line in open("/proc/self/maps").read().splitlines()):
    sys.exit("the binding did not load " + want)' "$so" || return 1
    (cd bindings/python && "${py_env[@]}" "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests) ||
        { echo "Python tests under ASan+UBSan failed"; return 1; }
}

tsan() {
    local log=.build-tsan/tsan-test.log
    # The tests link the debug build, where Package.swift leaves out the release-only version
    # script (its `local: *` would hide TSan's interceptors: BUILDING.md §6).
    nice -n 10 swift build --build-tests --sanitize=thread --scratch-path .build-tsan || return 1
    # One test at a time, as in run-all.sh's Swift step.
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        swift test --skip-build --sanitize=thread --scratch-path .build-tsan --no-parallel 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    if grep -q 'ThreadSanitizer' "$log"; then echo "ThreadSanitizer reported (see $log)"; return 1; fi
    return "$rc"
}

case "${1:-}" in
    asan) asan ;;
    tsan) tsan ;;
    *) echo "usage: $0 asan|tsan" >&2; exit 2 ;;
esac
