#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Sources/RWSFuzz) once, with AddressSanitizer, and runs each
# target for a bounded time on a scratch copy of its seed corpus (Tests/fuzz/corpus/<target>;
# the repository is never written). Fails on any crash, failed invariant, leak, hang or OOM;
# the input that did it is kept in $FUZZ_SCRATCH/fuzz-artifacts/ (replay: see the end).
#
#   FUZZ_SECONDS   seconds per target (default 30)
#   FUZZ_TARGETS   which targets (default: all seven)
#   FUZZ_SCRATCH   SwiftPM scratch path of the fuzz build (default .build-fuzz)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
seconds=${FUZZ_SECONDS:-30}
read -r -a targets <<< "${FUZZ_TARGETS:-frames events request sse http-upgrade http-post proxy}"
scratch=${FUZZ_SCRATCH:-.build-fuzz}

started=$SECONDS
# --sanitize=fuzzer makes SwiftPM link libFuzzer's main (and not rename ours); the -Xswiftc
# form comes last because the Swift driver keeps only the last -sanitize it is given.
nice -n 10 swift build --sanitize=fuzzer --sanitize=address \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DRWS_FUZZING \
    --scratch-path "$scratch" --product RWSFuzz 2>&1 | grep -v "Cannot export local symbol '__asan" | tail -3
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz build failed"; exit 1; }
echo "fuzz build: $((SECONDS - started)) s"
bin="$ROOT/$scratch/debug/RWSFuzz"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts="$ROOT/$scratch/fuzz-artifacts"
mkdir -p "$artifacts"
failed=()
summary=()

for target in "${targets[@]}"; do
    corpus="$work/corpus-$target"
    mkdir -p "$corpus"
    cp Tests/fuzz/corpus/"$target"/* "$corpus"/
    case $target in
        frames) dict=frames.dict ;;
        sse) dict=sse.dict ;;
        http-*|proxy) dict=http.dict ;;
        *) dict=json.dict ;;
    esac
    log="$work/$target.log"
    # SWIFT_BACKTRACE off: libFuzzer reports the crash and saves the input; Swift's own
    # backtracer would only slow that down. -timeout: one input running 10 s is a hang.
    RWS_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no \
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
        LSAN_OPTIONS=suppressions="$ROOT/Tests/fuzz/lsan.supp" \
        "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=2048 -detect_leaks=1 \
        -print_final_stats=1 -dict="Tests/fuzz/$dict" -artifact_prefix="$artifacts/$target-" \
        "$corpus" > "$log" 2>&1
    rc=$?
    final=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<< "$final")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<< "$final")
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log")
    rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log")
    corp=$(sed -nE 's/.* corp: ([0-9]+)\/.*/\1/p' <<< "$final")
    line=$(printf '%-13s %9s runs %7s exec/s   cov: %-6s ft: %-6s corpus: %s' \
        "$target" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
    if [ $rc -eq 0 ]; then
        summary+=("ok    $line")
    else
        summary+=("FAIL  $line (exit $rc)")
        failed+=("$target")
        echo "=== $target failed (exit $rc):"
        grep -E 'ERROR|invariant failed|Fatal error|SUMMARY|Test unit written|leak' "$log" | head -20
        cp "$log" "$artifacts/$target.log"
    fi
done

echo
echo "libFuzzer, $seconds s per target (total $((SECONDS - started)) s including the build):"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}; inputs and logs in $artifacts"
    echo "replay one: RWS_FUZZ_TARGET=<target> $bin <input>"
    exit 1
fi
