#!/usr/bin/env bash
# packaging/abi-check.sh - compares the current library and header with the committed ABI baseline.
#
# Usage: packaging/abi-check.sh [--update] [--header FILE] [--library FILE] [--baseline DIR]
#   (no option)  check include/responses_ws.h and $RWS_LIB_DIR/libresponsesws.so against abi/
#   --update     regenerate the baseline in abi/ from them instead (after a release, or after
#                an intended break together with the SONAME bump)
#   --header, --library, --baseline  check other files (used by packaging/test-abi-guard.sh)
#
# Three checks, because no single tool sees everything:
#   1. exported symbols with versions (nm -D) against abi/exports.txt, and header declarations
#      against exports (a declared function the library does not export is a link error later);
#   2. abi-compliance-checker on the header + library against abi/responsesws.abi.dump (function
#      signatures, struct layouts, macro values). libabigail cannot be used: it ignores Swift DWARF,
#      and the library's DWARF is Swift's (BUILDING.md §7.4);
#   3. enum values (status codes, event types...) and struct field offsets against
#      abi/layout.txt: abi-compliance-checker ignores anonymous enums and accepts a field
#      inserted into padding in the middle of a struct, which our append-only rule forbids.
# Exit status: 0 compatible (added functions and appended fields are reported as NOTE), 1 break
# or error.
set -euo pipefail
export LC_ALL=C # comm, join and sort must agree on one collation
source "$(dirname "$0")/common.sh"

update=0
header=$HEADER
library=
baseline=$REPO_ROOT/abi
while [ $# -gt 0 ]; do
    case $1 in
        --update) update=1; shift ;;
        --header) header=$2; shift 2 ;;
        --library) library=$2; shift 2 ;;
        --baseline) baseline=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
library=${library:-$(input_library)}
[ -f "$header" ] || die "header $header not found"
[ -f "$library" ] || die "library $library not found"
need_tool abi-compliance-checker abi-compliance-checker
need_tool perl perl
need_tool python3 python3
need_tool cc gcc

work=$(mktemp -d /tmp/rws-abi.XXXXXX)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/^#define RWS_VERSION_STRING "\(.*\)"$/\1/p' "$header")

# --- gather the current state into $work/current (same file names as the baseline)
cur=$work/current
mkdir -p "$cur" "$work/in"
# Fixed file names: abi-compliance-checker records them in the dump, which must not depend on
# where the inputs live.
cp "$header" "$work/in/responses_ws.h"
cp "$library" "$work/in/libresponsesws.so"

{
    echo "# responsesws $version: nm -D --defined-only libresponsesws.so (the version node itself omitted)"
    exported_symbols "$work/in/libresponsesws.so"
} > "$cur/exports.txt"

# Enum values and struct layouts, printed by the compiler (see packaging/abi_probe.py).
python3 "$REPO_ROOT/packaging/abi_probe.py" "$work/in/responses_ws.h" > "$work/probe.c"
cc -I"$work/in" -o "$work/probe" "$work/probe.c" 2> "$work/probe.err" ||
    die "cannot compile the layout probe for $header: $(head -5 "$work/probe.err")"
{
    echo "# responsesws $version: enum values and struct layouts of responses_ws.h (packaging/abi_probe.py)"
    "$work/probe"
} > "$cur/layout.txt"

# abi-compliance-checker dump. DepSymbols (every symbol of libc, libssl... that the library
# needs) is dropped: it depends on the build machine, not on our ABI, and is 95% of the dump.
cat > "$work/descriptor.xml" <<XML
<version>$version</version>
<headers>$work/in/responses_ws.h</headers>
<libs>$work/in/libresponsesws.so</libs>
XML
abi-compliance-checker -lib responsesws -lang C -quiet -dump "$work/descriptor.xml" \
    -dump-path "$work/raw.dump" -log-path "$work/acc-dump.log" >/dev/null 2>"$work/acc-dump.err" ||
    die "abi-compliance-checker could not dump $header + $library: $(tail -5 "$work/acc-dump.err" "$work/acc-dump.log" 2>/dev/null)"
perl -MData::Dumper -e 'our $VAR1; my $d = do $ARGV[0] or die "cannot read $ARGV[0]: $@\n";
    delete $d->{DepSymbols}; $Data::Dumper::Sortkeys = 1; $Data::Dumper::Indent = 1;
    print Dumper($d);' "$work/raw.dump" > "$cur/responsesws.abi.dump"

# --- header declarations vs exports: both views of the API must agree
grep -oE '^RWS_EXTERN[^(]*\b(rws_[a-z0-9_]+)\s*\(' "$work/in/responses_ws.h" |
    sed -E 's/.*\b(rws_[a-z0-9_]+)\s*\($/\1/' | LC_ALL=C sort -u > "$work/declared.txt"
grep -v '^#' "$cur/exports.txt" | sed 's/@.*//' | LC_ALL=C sort -u > "$work/exported.txt"
mismatch=0
for f in $(LC_ALL=C comm -23 "$work/declared.txt" "$work/exported.txt"); do
    echo "BREAK $f is declared in the header but not exported by the library (stale build?)"; mismatch=1
done
for f in $(LC_ALL=C comm -13 "$work/declared.txt" "$work/exported.txt"); do
    echo "BREAK $f is exported by the library but not declared in the header"; mismatch=1
done
[ "$mismatch" = 0 ] || die "header and library disagree; rebuild the library from this header"
bad=$(grep -v '^#' "$cur/exports.txt" | grep -vE "@@?${SYMBOL_VERSION_RE}\$" || true)
[ -z "$bad" ] || die "symbols outside the version nodes $SYMBOL_VERSION_RE: $bad"

if [ "$update" = 1 ]; then
    mkdir -p "$baseline"
    cp "$cur/exports.txt" "$cur/layout.txt" "$cur/responsesws.abi.dump" "$baseline/"
    echo "abi-check: baseline in $baseline updated to responsesws $version" \
        "($(grep -vc '^#' "$cur/exports.txt") symbols); review it with git diff and commit it."
    exit 0
fi

for f in exports.txt layout.txt responsesws.abi.dump; do
    [ -f "$baseline/$f" ] || die "baseline file $baseline/$f missing; create it with: $0 --update"
done

findings=$work/findings.txt
: > "$findings"
# 1. exported symbols
# A program linked against name@@NODE binds to name@NODE as well: a default version that became
# an older one (a function that got a new version, packaging/README.md) is still there for it.
LC_ALL=C comm -23 <(grep -v '^#' "$baseline/exports.txt") <(grep -v '^#' "$cur/exports.txt") | while read -r sym; do
    if grep -qxF "${sym/@@/@}" <(grep -v '^#' "$cur/exports.txt"); then
        echo "NOTE symbol kept for old programs under a new default version: ${sym/@@/@}"
    else
        echo "BREAK symbol removed from the library: $sym"
    fi
done >> "$findings"
LC_ALL=C comm -13 <(grep -v '^#' "$baseline/exports.txt") <(grep -v '^#' "$cur/exports.txt") |
    sed 's/^/NOTE symbol added: /' >> "$findings"
# 3. enum values (removed or renumbered constants break; new ones are fine) and struct layouts
# (every baseline field keeps its position, name, offset and size; new fields only at the end)
awk '
    FNR == 1 { side++ }
    /^enum / { enum[side, $2] = $3; if (side == 2 && !(1 SUBSEP $2 in enum)) print "NOTE enum constant added: " $2 " = " $3 }
    /^field / { key = $2 " field #" $3; field[side, key] = $4 " at offset " $5 ", " $6 " bytes"; order[side, ++n[side]] = key }
    END {
        for (k in enum) {
            split(k, p, SUBSEP)
            if (p[1] != 1) continue
            if (!((2, p[2]) in enum)) print "BREAK enum constant removed: " p[2] " (was " enum[k] ")"
            else if (enum[2, p[2]] != enum[k]) print "BREAK enum constant renumbered: " p[2] " " enum[k] " -> " enum[2, p[2]]
        }
        for (i = 1; i <= n[1]; i++) {
            key = order[1, i]
            if (!((2, key) in field)) print "BREAK struct " key " (" field[1, key] ") was removed"
            else if (field[2, key] != field[1, key])
                print "BREAK struct " key " changed: was " field[1, key] ", now " field[2, key] " (fields may only be appended)"
        }
        for (i = 1; i <= n[2]; i++) {
            key = order[2, i]
            if (!((1, key) in field)) print "NOTE struct " key " appended: " field[2, key]
        }
    }' <(grep -v '^#' "$baseline/layout.txt") <(grep -v '^#' "$cur/layout.txt") | sort >> "$findings"
# 2. abi-compliance-checker (exit 1 means "incompatible", which the policy re-judges; others are errors)
acc_rc=0
abi-compliance-checker -lib responsesws -quiet -old "$baseline/responsesws.abi.dump" \
    -new "$cur/responsesws.abi.dump" -report-format xml -report-path "$work/report.xml" \
    -log-path "$work/acc-compare.log" >/dev/null 2>"$work/acc-compare.err" || acc_rc=$?
[ "$acc_rc" -le 1 ] && [ -f "$work/report.xml" ] ||
    die "abi-compliance-checker failed (exit $acc_rc): $(tail -5 "$work/acc-compare.err")"
python3 "$REPO_ROOT/packaging/abi_policy.py" "$work/report.xml" >> "$findings" || true

cat "$findings"
old_version=$(sed -n 's/^# responsesws \([^:]*\):.*/\1/p' "$baseline/exports.txt")
if grep -q '^BREAK' "$findings"; then
    cat >&2 <<MSG
abi-check: FAILED: the ABI of responsesws $version is incompatible with the baseline ($old_version).
  If the break is a mistake, restore the function/struct/constant (append new fields at the end,
  add new functions instead of changing old ones).
  If the break is intended (a new major ABI):
    1. bump the SONAME: libresponsesws.so.0 -> .so.1 in Package.swift (-soname), the version node
       RESPONSESWS_0 -> RESPONSESWS_1 in packaging/responses_ws.map, SONAME/SYMBOL_VERSION in
       packaging/common.sh, and rename the package libresponsesws0 -> libresponsesws1 in
       packaging/build-deb.sh (+ its lintian overrides file);
    2. bump RWS_VERSION_MAJOR/RWS_VERSION_STRING in include/responses_ws.h;
    3. rebuild, then regenerate the baseline: packaging/abi-check.sh --update
MSG
    exit 1
fi
echo "abi-check: OK: responsesws $version is compatible with the baseline ($old_version)" \
    "($(grep -c '^NOTE' "$findings" || true) compatible changes noted)"
