#!/usr/bin/env bash
# Measures permessage-deflate in one run: bytes on the wire and client CPU for the 20-turn agent
# loop and for one 200k-delta stream, with and without compression, against the embedded
# simulator (which compresses on its own threads: client_cpu_ms is the client's threads alone;
# wire bytes are counted by the simulator, frames as they crossed the socket). A measurement,
# not a test: it prints a table and asserts nothing. Numbers vary with the machine's load.
#
#   bash Tests/measure_deflate.sh [RWS]      (default .build/release/rws)
set -euo pipefail
cd "$(dirname "$0")/.."
rws=${1:-.build/release/rws}
runs=${RUNS:-3}

measure() {   # label, rws loop arguments...
    local label=$1
    shift
    for _ in $(seq "$runs"); do
        "$rws" loop --json --sim-tokens-per-second 0 "$@" 2>/dev/null | tail -1
    done | python3 -c '
import json, statistics, sys
label = sys.argv[1]
rows = [json.loads(line) for line in sys.stdin if line.strip()]
cpu = statistics.median(r["client_cpu_ms"] for r in rows)
r = rows[0]
print(f"{label:<28} turns ok {r['"'"'ok'"'"']}/{r['"'"'turns'"'"']}  client CPU {cpu:8.1f} ms (median of {len(rows)})  "
      f"wire to server {r['"'"'wire_bytes_to_server'"'"']:>9} B  to client {r['"'"'wire_bytes_to_client'"'"']:>9} B")
' "$label"
}

measure "20-turn loop" --turns 20
measure "20-turn loop, deflate" --turns 20 --deflate
measure "200k deltas" --turns 2 --sim-output-tokens 200000
measure "200k deltas, deflate" --turns 2 --sim-output-tokens 200000 --deflate
