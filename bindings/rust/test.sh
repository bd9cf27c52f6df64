#!/usr/bin/env bash
# Builds and tests the Rust binding against a built libresponsesws and `rws sim`, then checks
# that the docs build without warnings (and clippy, when installed).
#   RWS_LIB_DIR      directory with libresponsesws.so(.0)   (default <repo>/.build/release)
#   RWS_BIN          the rws binary, for `rws sim`          (default <repo>/.build/release/rws)
#   CARGO_TARGET_DIR cargo's output directory               (default bindings/rust/target)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export RESPONSESWS_LIB_DIR="${RWS_LIB_DIR:-$repo/.build/release}"
export RWS_BIN="${RWS_BIN:-$repo/.build/release/rws}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"

for f in "$RESPONSESWS_LIB_DIR/libresponsesws.so" "$RWS_BIN"; do
    [ -e "$f" ] || { echo "test.sh: $f not found (set RWS_LIB_DIR / RWS_BIN)" >&2; exit 1; }
done

cd "$here"
cargo build --offline --workspace --all-targets
cargo test --offline --workspace
RUSTDOCFLAGS=-Dwarnings cargo doc --offline --workspace --no-deps

# The README's example runs against rws sim as it says, and exits non-zero when a turn fails.
source "$repo/Tests/lib/sim.sh"
example="$CARGO_TARGET_DIR/debug/examples/agent_loop"
start_sim "$RWS_BIN"
env -u OPENAI_API_KEY "$example" "$SIM_BASE_URL" 4 > "$CARGO_TARGET_DIR/agent_loop.out"
stop_sim
grep -q 'turns=4 ok=4' "$CARGO_TARGET_DIR/agent_loop.out" || { echo "agent_loop example: $(cat "$CARGO_TARGET_DIR/agent_loop.out")" >&2; exit 1; }
start_sim "$RWS_BIN" --fault drop-mid-stream@1
status=0
env -u OPENAI_API_KEY "$example" "$SIM_BASE_URL" 2 > /dev/null 2>&1 || status=$?
stop_sim
[ "$status" -ne 0 ] || { echo "agent_loop example exited 0 although its first turn failed" >&2; exit 1; }
echo "agent_loop example: 4 turns ok against rws sim; exits $status when a turn fails"
if cargo clippy --version >/dev/null 2>&1; then
    cargo clippy --offline --workspace --all-targets -- -D warnings
fi
echo "rust binding: all checks passed"
