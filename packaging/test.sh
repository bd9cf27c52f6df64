#!/usr/bin/env bash
# packaging/test.sh - runs every packaging test in order and prints one summary line per part.
#
# Usage: RWS_LIB_DIR=<dir with libresponsesws.so> RWS_BIN=<rws> [PY_VENV=<venv>] packaging/test.sh
# Parts: install.sh + pkg-config, build-deb guards, build the .debs (library, -dev, tools, -dbgsym;
# sizes before and after strip), lintian, installed-package test (rws, man pages, debug symbols,
# C, Python, Rust with the Swift toolchain hidden), ABI check against abi/, ABI guard test.
# A part's full output is shown only when it fails. Exit status: 0 when every part passed.
set -uo pipefail
source "$(dirname "$0")/common.sh"

work=$(mktemp -d /tmp/rws-packaging-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
summaries=()

# part NAME SUMMARY-REGEX COMMAND...: runs COMMAND, keeps its output, records one summary line
# (the last output line matching SUMMARY-REGEX, or the last line).
part() {
    local name=$1 pattern=$2 rc=0 line
    shift 2
    "$@" > "$work/$name.log" 2>&1 || rc=$?
    line=$(grep -E "$pattern" "$work/$name.log" | tail -1)
    [ -n "$line" ] || line=$(tail -1 "$work/$name.log")
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
        summaries+=("PASS $name: $line")
    else
        failed=$((failed + 1))
        summaries+=("FAIL $name (exit $rc): $line")
        echo "=== $name failed (exit $rc); its output:"
        sed 's/^/    /' "$work/$name.log"
    fi
    echo "${summaries[-1]}"
}

# install.sh into a plain prefix, then the documented one-liner builds the example.
install_and_build() {
    local prefix=$work/prefix
    "$REPO_ROOT/packaging/install.sh" "$prefix" || return 1
    local flags
    flags=$(PKG_CONFIG_PATH=$prefix/lib/$(multiarch)/pkgconfig pkg-config --cflags --libs responsesws) || return 1
    cc -std=c99 -Wall -Werror "$REPO_ROOT/examples/agent_loop.c" $flags -o "$work/agent_loop" || return 1
    LD_LIBRARY_PATH=$prefix/lib/$(multiarch) ldd "$work/agent_loop" | grep -q "$prefix/lib/.*/libresponsesws.so.0" ||
        { echo "agent_loop does not load the installed library"; return 1; }
    echo "install.sh: agent_loop.c builds with: cc agent_loop.c $flags"
}

run_lintian() {
    need_tool lintian lintian
    # Info tags are shown but do not fail; overridden tags are listed in packaging/lintian/.
    lintian -I --pedantic --fail-on error,warning --suppress-tags spelling-error-in-binary "$work"/debs/*.deb || return 1
    echo "lintian: no errors or warnings on $(cd "$work/debs" && echo *.deb)"
}

part install 'install.sh:' install_and_build
part build-deb-guards 'test-build-deb-guards:' "$REPO_ROOT/packaging/test-build-deb-guards.sh"
part build-deb '^size libresponsesws' "$REPO_ROOT/packaging/build-deb.sh" "$work/debs"
grep '^size ' "$work/build-deb.log" | sed 's/^/     /' # unstripped vs stripped, both ELFs
part lintian '^lintian:' run_lintian
part installed 'test-installed:' "$REPO_ROOT/packaging/test-installed.sh" "$work/debs"
part abi-check '^abi-check:' "$REPO_ROOT/packaging/abi-check.sh"
part abi-guard 'test-abi-guard:' "$REPO_ROOT/packaging/test-abi-guard.sh"

echo
echo "packaging: $passed passed, $failed failed"
[ "$failed" = 0 ]
