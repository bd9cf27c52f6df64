#!/usr/bin/env bash
# Runs the whole Swift suite N times in a row (default 20), in parallel as run-all.sh does,
# while a busy loop per core (started here, always stopped on exit) competes for the CPU.
# Prints pass/fail and the time of each run and the total; exits non-zero if any run failed.
# Each run is bounded (STRESS_RUN_TIMEOUT seconds, default 600); a failed run's output is
# kept in .build/stress/run-N.log. STRESS_LOAD_PER_CORE (default 1) busy loops per core.
# Too long for CI: not part of run-all.sh.
#   bash Tests/stress.sh [N]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
limit=${STRESS_RUN_TIMEOUT:-600}
logs=.build/stress
mkdir -p "$logs"

echo "building the tests once"
nice -n 10 swift build --build-tests >"$logs/build.log" 2>&1 || { tail -20 "$logs/build.log"; exit 1; }

load=()
stop_load() {
    for pid in "${load[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${load[@]}"; do wait "$pid" 2>/dev/null; done
    load=()
}
trap stop_load EXIT
trap 'exit 130' INT TERM
cores=$(nproc)
for _ in $(seq $((cores * ${STRESS_LOAD_PER_CORE:-1}))); do
    yes >/dev/null &
    load+=($!)
done
echo "load: ${#load[@]} busy loops on $cores cores (pids ${load[*]})"

failed=0
started=$SECONDS
for i in $(seq "$runs"); do
    t=$SECONDS
    log="$logs/run-$i.log"
    if timeout "$limit" swift test --skip-build >"$log" 2>&1; then
        echo "run $i/$runs: pass ($((SECONDS - t)) s)"
        rm -f "$log"
    else
        failed=$((failed + 1))
        echo "run $i/$runs: FAIL ($((SECONDS - t)) s), log: $log"
        grep -E '✘|error:|Fatal|timed out' "$log" | head -8 | sed 's/^/    /'
    fi
done
echo "$runs runs, $failed failed, total $((SECONDS - started)) s with ${#load[@]} busy loops on $cores cores"
[ "$failed" -eq 0 ]
