#!/usr/bin/env bash
# packaging/test-build-deb-guards.sh - proves that packaging/build-deb.sh refuses libraries that
# are not a clean release build, and that it removes SwiftPM's RUNPATH $ORIGIN from a good one.
# Uses small stand-in libraries built with cc; needs no Swift build.
set -euo pipefail
source "$(dirname "$0")/common.sh"

work=$(mktemp -d /tmp/rws-deb-guards.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
map=$REPO_ROOT/packaging/responses_ws.map
printf 'void rws_version(void) {}\nvoid rws_client_new(void) {}\nvoid helper_leak(void) {}\n' > "$work/stub.c"
printf 'RESPONSESWS_0 { global: rws_*; helper_*; local: *; };\n' > "$work/leaky.map"
cc -shared -fPIC -o "$work/libswiftCore.so" -x c /dev/null

# stub NAME LINK-FLAGS...: $work/NAME/libresponsesws.so
stub() {
    local name=$1
    shift
    mkdir -p "$work/$name"
    cc -shared -fPIC -o "$work/$name/libresponsesws.so" "$work/stub.c" "$@"
}
stub good -Wl,--version-script="$map" -Wl,-soname,"$SONAME" -Wl,-rpath,'$ORIGIN'
stub leaky -Wl,--version-script="$work/leaky.map" -Wl,-soname,"$SONAME"
stub unversioned -Wl,-soname,"$SONAME"
stub soname -Wl,--version-script="$map" -Wl,-soname,libresponsesws.so.1
stub runpath -Wl,--version-script="$map" -Wl,-soname,"$SONAME" -Wl,-rpath,/opt/swift/usr/lib/swift/linux
stub swift -Wl,--version-script="$map" -Wl,-soname,"$SONAME" -L"$work" -Wl,--no-as-needed -lswiftCore
stub nobuildid -Wl,--version-script="$map" -Wl,-soname,"$SONAME" -Wl,--build-id=none

# expect NAME pass|fail OUTPUT-REGEX
expect() {
    local name=$1 rc=0
    RWS_LIB_DIR=$work/$name "$REPO_ROOT/packaging/build-deb.sh" --no-tools "$work/out-$name" > "$work/$name.out" 2>&1 || rc=$?
    judge "$name" "$2" "$3" "$rc" "$work/$name.out"
}

expect good pass '^built .*libresponsesws0_'
expect leaky fail 'exports symbols outside the C API.*helper_leak'
expect unversioned fail 'exports symbols outside the C API'
expect soname fail "SONAME 'libresponsesws.so.1', expected $SONAME"
expect runpath fail "RUNPATH/RPATH '/opt/swift/usr/lib/swift/linux'"
expect swift fail 'links the Swift runtime dynamically'
expect nobuildid fail 'has no build-id note'

# The good stub carried RUNPATH $ORIGIN: the packaged copy must not.
deb=$(ls "$work"/out-good/libresponsesws0_*.deb 2>/dev/null | head -1)
if [ -n "$deb" ] && dpkg-deb -x "$deb" "$work/root" &&
    ! readelf -d "$work"/root/usr/lib/*/libresponsesws.so.* | grep -qE 'RUNPATH|RPATH'; then
    passed=$((passed + 1))
    echo "ok   good: the packaged library has no RUNPATH"
else
    failed=$((failed + 1))
    echo "FAIL good: the packaged library still has a RUNPATH (or was not packaged)"
fi

echo "test-build-deb-guards: $passed passed, $failed failed"
[ "$failed" = 0 ]
