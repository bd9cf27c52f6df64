#!/usr/bin/env bash
# packaging/test-wheel.sh [WHEEL or DIR] - installs the wheel from packaging/build-wheel.sh (default:
# the one responses_ws-*.whl in <repo>/dist) into a fresh venv, as a user without the project
# would: the Swift toolchain off PATH, LD_LIBRARY_PATH and every other variable gone (env -i; no
# RESPONSES_WS_LIBRARY, no OPENAI_*). Then, with that environment:
#   1. responses_ws comes from the venv and loads the bundled libresponsesws.so.0, no libswift
#   2. one turn against `rws sim` ($RWS_BIN), and one against the wheel's own simulator
#      (python -m responses_ws.sim)
#   3. the binding's test suite (bindings/python/tests) against the installed package, run from a
#      directory where the source tree cannot be imported
# Environment: RWS_BIN (default <repo>/.build/release/rws), PYTHON (default python3), WHEEL_EXTRAS
# (e.g. "openai,agents": installs the wheel with those extras, for tests that need the SDKs).
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$REPO_ROOT/Tests/lib/sim.sh"

target=${1:-$REPO_ROOT/dist}
if [ -d "$target" ]; then
    wheels=("$target"/responses_ws-*.whl)
    [ -f "${wheels[0]}" ] || die "no responses_ws-*.whl in $target: run packaging/build-wheel.sh first"
    [ ${#wheels[@]} -eq 1 ] || die "more than one wheel in $target: ${wheels[*]}"
    wheel=${wheels[0]}
else
    wheel=$target
fi
wheel=$(cd "$(dirname "$wheel")" && pwd)/$(basename "$wheel")
[ -x "$RWS_BIN" ] || die "RWS_BIN=$RWS_BIN is not an executable rws"
version=$(rws_version)
# The interpreter's own file, so that no shim (pyenv...) needs the environment we drop.
python=$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)')

work=$(mktemp -d "${TMPDIR:-/tmp}/rws-wheel-test.XXXXXX")
trap 'stop_sim; rm -rf "$work"' EXIT
mkdir -p "$work/home" "$work/run"

# PATH without the Swift toolchain: every entry that holds a swift or swiftc, or lies under /opt/swift.
clean_path=
IFS=: read -ra entries <<< "$PATH"
for dir in "${entries[@]}"; do
    [ -n "$dir" ] || continue
    case $dir in /opt/swift*) continue ;; esac
    if [ -e "$dir/swift" ] || [ -e "$dir/swiftc" ]; then continue; fi
    clean_path=${clean_path:+$clean_path:}$dir
done
venv=$work/venv
# The user's environment: nothing but a home, a locale and PATH (the venv first once it exists).
as_user() {
    env -i HOME="$work/home" LANG=C.UTF-8 PATH="$venv/bin:$clean_path" "$@"
}
if as_user sh -c 'command -v swift || command -v swiftc' > "$work/swift.txt"; then
    die "the Swift toolchain is still reachable: $(cat "$work/swift.txt")"
fi

echo "wheel: $(basename "$wheel")"
echo "tag: $(basename "$wheel" .whl | cut -d- -f3-)"
echo "size: $(human "$(stat -c %s "$wheel")") ($(stat -c %s "$wheel") bytes)"

as_user "$python" -m venv "$venv"
as_user "$venv/bin/pip" install --quiet --disable-pip-version-check "$wheel${WHEEL_EXTRAS:+[$WHEEL_EXTRAS]}" pytest
echo "installed into a fresh venv with PATH=$clean_path (no swift), environment cleared"

cd "$work/run"   # neither the repository nor bindings/python/src is on sys.path from here
as_user "$venv/bin/python" "$REPO_ROOT/packaging/smoke_wheel.py" installed "$venv" "$version"
as_user "$venv/bin/python" -c 'import responses_ws.sim as s; print("bundled rws:", s.executable())'

start_sim "$RWS_BIN" --tokens-per-second 0
as_user "$venv/bin/python" "$REPO_ROOT/packaging/smoke_wheel.py" turn "$SIM_BASE_URL"
stop_sim
as_user "$venv/bin/python" "$REPO_ROOT/packaging/smoke_wheel.py" bundled-sim

# The suite's conftest starts its own simulators from RWS_BIN. pytest puts the tests' own
# directory on sys.path (the tests import conftest); from there too, responses_ws must resolve
# to the venv. Nothing is written into the source tree (no cache, no bytecode).
tests=$REPO_ROOT/bindings/python/tests
as_user PYTHONPATH="$tests" "$venv/bin/python" "$REPO_ROOT/packaging/smoke_wheel.py" installed "$venv" "$version" > /dev/null
echo "--- bindings/python/tests against the installed wheel"
# test_proxies.py is left to the Python binding step (same library, real proxy servers): the
# proxies need the caller's environment, which this run clears on purpose.
as_user RWS_BIN="$RWS_BIN" PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    --rootdir "$work/run" --ignore "$tests/test_proxies.py" "$tests"
