#!/usr/bin/env bash
# packaging/test-abi-guard.sh - proves that packaging/abi-check.sh tells breaks from compatible
# changes. It makes a baseline from the current header + library in a temporary directory, then
# checks modified copies against it: each case must pass or fail as expected AND print the
# finding that explains why (so a case cannot pass for the wrong reason).
#
# Usage: packaging/test-abi-guard.sh          (uses include/responses_ws.h and $RWS_LIB_DIR)
set -euo pipefail
source "$(dirname "$0")/common.sh"

work=$(mktemp -d /tmp/rws-abi-guard.XXXXXX)
trap 'rm -rf "$work"' EXIT
check=$REPO_ROOT/packaging/abi-check.sh
library=$(input_library)
passed=0
failed=0

"$check" --update --header "$HEADER" --library "$library" --baseline "$work/baseline" >/dev/null ||
    die "cannot create a baseline from the current tree"

# A stand-in library exporting exactly the given versioned symbols (name@@NODE, name@NODE, as
# exported_symbols prints them), linked like the real one (same version script and SONAME): the
# way to get "the library lost a symbol" without rebuilding Swift.
stub_library() { # output symbols...
    local out=$1 i=0 sym
    shift
    : > "$out.c"
    for sym in "$@"; do
        i=$((i + 1))
        printf 'void rws_stub_%d(void) {}\n__asm__(".symver rws_stub_%d, %s");\n' "$i" "$i" "$sym" >> "$out.c"
    done
    cc -shared -fPIC -o "$out" "$out.c" -Wl,--version-script="$work/stub.map" -Wl,-soname,"$SONAME"
}
# The real map lists each function by name; the appended-function case's probe gets a node of
# its own, as a new release's functions would.
{ cat "$REPO_ROOT/packaging/responses_ws.map"
  echo "RESPONSESWS_0.99 { global: rws_abi_guard_probe; } RESPONSESWS_0.5;"; } > "$work/stub.map"
real_symbols=$(exported_symbols "$library")

# Edits a copy of the header with sed and fails the run if the edit did not change anything.
edited_header() { # name sed-script
    sed -e "$2" "$HEADER" > "$work/$1.h"
    ! cmp -s "$HEADER" "$work/$1.h" || die "case $1: the sed edit did not apply; update the test to the header"
    echo "$work/$1.h"
}

# expect NAME pass|fail EXPECTED-OUTPUT-REGEX HEADER LIBRARY
expect() {
    local name=$1 header=$4 lib=$5 rc=0
    "$check" --header "$header" --library "$lib" --baseline "$work/baseline" > "$work/$name.out" 2>&1 || rc=$?
    judge "$name" "$2" "$3" "$rc" "$work/$name.out"
}

expect unmodified pass 'abi-check: OK' "$HEADER" "$library"

h=$(edited_header appended-function '/^RWS_EXTERN int rws_session_stats/a RWS_EXTERN int rws_abi_guard_probe(void);')
stub_library "$work/appended.so" $real_symbols rws_abi_guard_probe@@RESPONSESWS_0.99
expect appended-function pass 'NOTE symbol added: rws_abi_guard_probe@@RESPONSESWS_0.99' "$h" "$work/appended.so"

h=$(edited_header appended-field '/^} rws_turn_result;/i\    uint64_t abi_guard_appended;')
expect appended-field pass 'NOTE struct rws_turn_result field #[0-9]+ appended: abi_guard_appended' "$h" "$library"

h=$(edited_header version-bump 's/^#define RWS_VERSION_PATCH 0$/#define RWS_VERSION_PATCH 1/; s/^#define RWS_VERSION_STRING "\(.*\)\.0"$/#define RWS_VERSION_STRING "\1.1"/')
expect version-bump pass 'NOTE constant RWS_VERSION_STRING' "$h" "$library"

h=$(edited_header removed-function '/^RWS_EXTERN int rws_session_reset(/d')
stub_library "$work/removed.so" $(echo "$real_symbols" | grep -v '^rws_session_reset@')
expect removed-function fail 'BREAK symbol removed from the library: rws_session_reset@@RESPONSESWS_0' "$h" "$work/removed.so"

stub_library "$work/lost-symbol.so" $(echo "$real_symbols" | grep -v '^rws_turn_cancel@')
expect library-lost-symbol fail 'BREAK rws_turn_cancel is declared in the header but not exported' "$HEADER" "$work/lost-symbol.so"

h=$(edited_header changed-parameter 's/^RWS_EXTERN int rws_turn_wait(rws_turn \*turn, int32_t timeout_ms);/RWS_EXTERN int rws_turn_wait(rws_turn *turn, int64_t timeout_ms);/')
expect changed-parameter fail 'BREAK symbol rws_turn_wait.*timeout_ms.*int32_t.*int64_t' "$h" "$library"

h=$(edited_header middle-field '/^typedef struct rws_turn_result {/,/^}/s/^    rws_str response_id; .*/    int abi_guard_inserted;\n&/')
expect middle-field fail 'BREAK struct rws_turn_result field #2 changed: was response_id' "$h" "$library"

h=$(edited_header renumbered-status 's/RWS_E_STREAM_LIMIT = -33,/RWS_E_STREAM_LIMIT = -39,/')
expect renumbered-status fail 'BREAK enum constant renumbered: RWS_E_STREAM_LIMIT -33 -> -39' "$h" "$library"

h=$(edited_header changed-flag 's/^#define RWS_EVENT_FLAG_TERMINAL (1u << 0)/#define RWS_EVENT_FLAG_TERMINAL (1u << 3)/')
expect changed-flag fail 'BREAK constant RWS_EVENT_FLAG_TERMINAL' "$h" "$library"

# An initializer macro may gain defaults for appended fields, but never change an old one.
h=$(edited_header init-appended 's/^#define RWS_TURN_OPTIONS_INIT { sizeof(rws_turn_options), NULL, NULL }/#define RWS_TURN_OPTIONS_INIT { sizeof(rws_turn_options), NULL, NULL, 0 }/')
expect init-appended pass 'NOTE constant RWS_TURN_OPTIONS_INIT' "$h" "$library"

h=$(edited_header init-changed 's/^#define RWS_TURN_OPTIONS_INIT { sizeof(rws_turn_options), NULL, NULL }/#define RWS_TURN_OPTIONS_INIT { sizeof(rws_turn_options), NULL, (void *)1 }/')
expect init-changed fail 'BREAK constant RWS_TURN_OPTIONS_INIT' "$h" "$library"

echo "test-abi-guard: $passed passed, $failed failed"
[ "$failed" = 0 ]
