#!/usr/bin/env bash
# A minimal chained turn through libresponsesws next to the floor, a raw blocking C WebSocket
# client (Tests/c/bench_minimal_turn.c), against one `rws sim --tokens-per-second 0
# --output-tokens 1` on 127.0.0.1. Prints per mode the latency percentiles, the p50 ratio to the
# floor, CPU time and context switches per turn (timing pass, untraced) and system calls per turn (separate
# runs under strace -f -c). A benchmark, not a test: it fails only when a turn fails.
#
#   bash Tests/c/bench_minimal_turn.sh [--turns N] [--warmup N] [--count-turns N] [--by-thread]
#
# System calls per turn are the difference between two traced runs of N and 2N turns divided
# by N, so that connecting, starting the I/O thread and shutting down cancel out.
# --by-thread also traces a few turns per library mode without -c and prints, per thread, which
# system calls it makes per turn.
# Uses $RWS_LIB_DIR (libresponsesws.so, default .build/release) and $RWS_BIN (default
# $RWS_LIB_DIR/rws).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
source Tests/lib/sim.sh

turns=2000 warmup=200 count_turns=300 by_thread=0
while [ $# -gt 0 ]; do
    case $1 in
        --turns) turns=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --count-turns) count_turns=$2; shift 2 ;;
        --by-thread) by_thread=1; shift ;;
        *) echo "usage: $0 [--turns N] [--warmup N] [--count-turns N] [--by-thread]" >&2; exit 2 ;;
    esac
done

lib_dir=$(cd "${RWS_LIB_DIR:-.build/release}" && pwd) || exit 1
rws_bin=${RWS_BIN:-$lib_dir/rws}
out=$ROOT/.build/bench-minimal-turn
mkdir -p "$out"
cc -O2 -std=c99 -Wall -Wextra -Werror -Iinclude Tests/c/bench_minimal_turn.c -L"$lib_dir" -lresponsesws \
    -Wl,-rpath,"$lib_dir" -pthread -o "$out/bench_minimal_turn" || exit 1
bench=$out/bench_minimal_turn

start_sim "$rws_bin" --tokens-per-second 0 --output-tokens 1 || exit 1
trap stop_sim EXIT

echo "--- timing pass (no tracing)"
"$bench" --port "$SIM_PORT" --turns "$turns" --warmup "$warmup" > "$out/timing.txt" || { cat "$out/timing.txt"; exit 1; }
grep -v '^RESULT' "$out/timing.txt"

# cb-late-free makes the same calls as callback (it only moves rws_turn_free out of the timing
# pass's counts), so it is not traced.
modes="callback pull pull-batch pull-spin raw handoff"
declare -A syscalls
strace_ok=0
if ! command -v strace >/dev/null; then
    echo "syscalls: strace not found"
elif ! strace -f -q -o /dev/null true 2>/dev/null; then
    echo "syscalls: strace cannot trace here (ptrace not permitted)"
else
    strace_ok=1
    echo
    echo "--- counting pass: strace -f -c, ($((2 * count_turns)) - $count_turns turns) / $count_turns per mode, all threads"
    for mode in $modes; do
        for n in "$count_turns" "$((2 * count_turns))"; do
            strace -f -c -q -o "$out/strace-$mode-$n.txt" \
                "$bench" --port "$SIM_PORT" --only "$mode" --turns "$n" --warmup 20 > /dev/null || exit 1
        done
        # strace -c rows: % time, seconds, usecs/call, calls, [errors], syscall; "total" last.
        awk -v n="$count_turns" -v mode="$mode" '
            /^[ ]*[0-9]/ { calls[FILENAME == ARGV[1] ? 1 : 2, $NF] = $4; names[$NF] = 1 }
            END {
                line = ""
                for (s in names) if (s != "total") {
                    d = (calls[2, s] - calls[1, s]) / n
                    if (d >= 0.05) line = line sprintf(" %s=%.2f", s, d)
                }
                printf "%s %.2f%s\n", mode, (calls[2, "total"] - calls[1, "total"]) / n, line
            }' "$out/strace-$mode-$count_turns.txt" "$out/strace-$mode-$((2 * count_turns)).txt" > "$out/syscalls-$mode.txt"
        syscalls[$mode]=$(awk '{print $2}' "$out/syscalls-$mode.txt")
        printf '%-12s %s/turn:%s\n' "$mode" "${syscalls[$mode]}" "$(cut -d' ' -f3- "$out/syscalls-$mode.txt")"
    done
fi

if [ "$by_thread" = 1 ] && [ "$strace_ok" = 1 ]; then
    echo
    echo "--- by thread: strace -f of 100 turns per mode (between the program's markers), calls per turn"
    for mode in $modes; do
        strace -f -q -o "$out/trace-$mode.txt" "$bench" --port "$SIM_PORT" --only "$mode" --turns 100 --warmup 20 \
            > /dev/null || exit 1
        # Lines are "TID syscall(args) = result"; a call that blocks shows once as "<unfinished ...>"
        # and again as "<... resumed>", counted once. The first TID is the caller (main thread).
        awk -v mode="$mode" '
            NR == 1 { caller = $1 }
            /write\(-1, "measured turns begin"/ { on = 1; next }
            /write\(-1, "measured turns end"/ { on = 0 }
            on && $2 !~ /^</ { name = $2; sub(/\(.*/, "", name); c[$1 == caller ? "caller" : "thread-" $1, name]++ }
            END {
                for (k in c) { split(k, p, SUBSEP); if (c[k] >= 5) line[p[1]] = line[p[1]] sprintf(" %s=%.2f", p[2], c[k] / 100) }
                for (t in line) printf "%-12s %-14s%s\n", mode, t, line[t]
            }' "$out/trace-$mode.txt" | sort
    done
fi

echo
echo "--- minimal chained turn: ours vs the raw C floor ($turns turns, $warmup warm-up)"
printf '%-12s %9s %9s %9s %10s %12s %11s %14s\n' mode "p50 us" "p90 us" "p99 us" "p50/floor" "cpu us/turn" "ctxsw/turn" "syscalls/turn"
while read -r _ mode p50 p90 p99 ratio cpu ctx; do
    printf '%-12s %9s %9s %9s %10s %12s %11s %14s\n' "$mode" "$p50" "$p90" "$p99" "$ratio" "$cpu" "$ctx" "${syscalls[$mode]:-n/a}"
done < <(grep '^RESULT' "$out/timing.txt")
