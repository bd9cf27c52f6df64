#!/usr/bin/env bash
# The README's first command: builds everything the README uses, then runs the demo.
#   .build/release/libresponsesws.so (+ the libresponsesws.so.0 SONAME link programs load)
#   .build/release/rws               (simulator, demo, run, loop, bench)
# Prints how long each part took. Arguments go to `rws demo` (e.g. --turns 5, --json).
# Needs the Swift toolchain, a C compiler and libssl-dev.
set -euo pipefail
cd "$(dirname "$0")"
started=$SECONDS

echo "=== swift build -c release (libresponsesws.so and rws)"
swift build -c release
ln -sf libresponsesws.so .build/release/libresponsesws.so.0
built=$SECONDS
echo "=== built in $((built - started)) s: $(readlink -f .build/release/libresponsesws.so), $(readlink -f .build/release/rws)"

echo "=== rws demo $*"
status=0
.build/release/rws demo "$@" || status=$?
echo "=== demo took $((SECONDS - built)) s; total $((SECONDS - started)) s"
exit $status
