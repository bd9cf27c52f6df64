#!/bin/sh
# Builds a venv, installs the Python binding and pytest into it, and runs the suite against `rws sim`.
# Environment: VENV (default <repo>/.venv-bindings), RWS_LIB_DIR (default <repo>/.build/release),
# RWS_BIN (default <repo>/.build/release/rws). Exits non-zero on any failure, including "no tests".
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VENV=${VENV:-$REPO/.venv-bindings}
RWS_LIB_DIR=${RWS_LIB_DIR:-$REPO/.build/release}
RWS_BIN=${RWS_BIN:-$REPO/.build/release/rws}

[ -f "$RWS_LIB_DIR/libresponsesws.so.0" ] || { echo "test.sh: no libresponsesws.so.0 in RWS_LIB_DIR=$RWS_LIB_DIR" >&2; exit 1; }
[ -x "$RWS_BIN" ] || { echo "test.sh: RWS_BIN=$RWS_BIN is not an executable rws" >&2; exit 1; }

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# mypy: tests/test_create.py checks the typed call shape with it; openai: the to_openai() tests
# and the SDK drop-in (openai[realtime] brings the SDK's own WebSocket mode to compare against);
# openai-agents: the agents provider.
# Both are installed here so that those tests are not skipped in CI.
"$VENV/bin/python" -m pip install --quiet --upgrade "$HERE" pytest mypy "openai[realtime]" openai-agents

cd "$HERE"
status=0
RESPONSES_WS_LIBRARY="$RWS_LIB_DIR/libresponsesws.so.0" RWS_BIN="$RWS_BIN" \
    "$VENV/bin/python" -m pytest -q tests || status=$?
# pytest exits 5 when it collected no tests: that is a failure here too (any non-zero is).
exit $status
