#!/usr/bin/env bash
# packaging/build-deb.sh - builds libresponsesws0 and libresponsesws-dev .debs from a release build.
#
# Usage: packaging/build-deb.sh [OUTDIR]        (default OUTDIR: <repo>/dist)
# Input: $RWS_LIB_DIR/libresponsesws.so (default <repo>/.build/release); it is refused unless it
#        exports only rws_*@@RESPONSESWS_0, has SONAME libresponsesws.so.0, no RUNPATH other than
#        SwiftPM's $ORIGIN (removed here) and no NEEDED libswift*.
# Environment: DEB_REVISION (default 1), DEBFULLNAME/DEBEMAIL (Maintainer), SOURCE_DATE_EPOCH
#        (changelog date; default: the last commit's time, so rebuilds are reproducible).
# Output: OUTDIR/libresponsesws0_<v>-<rev>_<arch>.deb and OUTDIR/libresponsesws-dev_<v>-<rev>_<arch>.deb
# The version comes from RWS_VERSION_STRING in include/responses_ws.h.
set -euo pipefail
source "$(dirname "$0")/common.sh"
umask 022

for t in dpkg-deb:dpkg dpkg-shlibdeps:dpkg-dev dpkg-architecture:dpkg-dev strip:binutils; do
    need_tool "${t%%:*}" "${t#*:}"
done

out=$(mkdir -p "${1:-$REPO_ROOT/dist}" && cd "${1:-$REPO_ROOT/dist}" && pwd)
version=$(rws_version)
revision=${DEB_REVISION:-1}
debver=$version-$revision
arch=$(dpkg --print-architecture)
ma=$(multiarch)
maintainer="${DEBFULLNAME:-responses-ws maintainers} <${DEBEMAIL:-maintainers@users.noreply.b-seed-4745239f.example}>"
so=$(input_library)

work=$(mktemp -d "$out/.build-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
lib=$work/libresponsesws0
dev=$work/libresponsesws-dev
libdir=usr/lib/$ma

# --- libresponsesws0: the shared library
install -d -m 0755 "$lib/DEBIAN" "$lib/$libdir" "$lib/usr/share/doc/libresponsesws0" \
    "$lib/usr/share/lintian/overrides"
stage_library "$so" "$lib/$libdir/libresponsesws.so.$version"
ln -s "libresponsesws.so.$version" "$lib/$libdir/$SONAME"
install -m 0644 "$REPO_ROOT/packaging/lintian/libresponsesws0" "$lib/usr/share/lintian/overrides/"

# --- libresponsesws-dev: header, unversioned link, pkg-config file
install -d -m 0755 "$dev/DEBIAN" "$dev/$libdir/pkgconfig" "$dev/usr/include" \
    "$dev/usr/share/doc/libresponsesws-dev" "$dev/usr/share/lintian/overrides"
ln -s "$SONAME" "$dev/$libdir/libresponsesws.so"
install -m 0644 "$HEADER" "$dev/usr/include/responses_ws.h"
render_pc /usr "/$libdir" /usr/include "$dev/$libdir/pkgconfig/responsesws.pc"
install -m 0644 "$REPO_ROOT/packaging/lintian/libresponsesws-dev" "$dev/usr/share/lintian/overrides/"

# --- documentation both packages must carry (Debian policy 12.5, 12.7)
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$REPO_ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}
for pkg in libresponsesws0 libresponsesws-dev; do
    doc=$work/$pkg/usr/share/doc/$pkg
    install -m 0644 "$REPO_ROOT/packaging/copyright" "$doc/copyright"
    printf 'responsesws (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' \
        "$debver" "$version" "$maintainer" "$(LC_ALL=C date -R -u -d "@$epoch")" |
        gzip -9n > "$doc/changelog.Debian.gz"
    chmod 0644 "$doc/changelog.Debian.gz"
done

# --- Depends of the runtime package, computed from its NEEDED entries. dpkg-shlibdeps insists on
# a debian/control in its working directory even though it reads nothing from it.
install -d "$work/shlibdeps/debian"
printf 'Source: responsesws\n\nPackage: libresponsesws0\nArchitecture: any\n' > "$work/shlibdeps/debian/control"
depends=$(cd "$work/shlibdeps" && dpkg-shlibdeps -O -e"$lib/$libdir/libresponsesws.so.$version") ||
    die "dpkg-shlibdeps failed (see above): a NEEDED library belongs to no installed package"
depends=${depends#shlibs:Depends=}

# --- shlibs and symbols: what packages linking the library will depend on. A symbol's minimum
# version is the baseline release that already had it (abi/exports.txt), else this version.
baseline_version=$(sed -n 's/^# responsesws \([0-9.]*\):.*/\1/p' "$REPO_ROOT/abi/exports.txt" 2>/dev/null || true)
echo "libresponsesws 0 libresponsesws0 (>= $version)" > "$lib/DEBIAN/shlibs"
{
    echo "$SONAME libresponsesws0 #MINVER#"
    echo "* Build-Depends-Package: libresponsesws-dev"
    echo " ${SYMBOL_VERSION}@${SYMBOL_VERSION} ${baseline_version:-$version}"
    exported_symbols "$lib/$libdir/libresponsesws.so.$version" | while read -r sym; do
        minver=$version
        if [ -n "$baseline_version" ] && grep -qxF "$sym" "$REPO_ROOT/abi/exports.txt"; then
            minver=$baseline_version
        fi
        echo " ${sym/@@/@} $minver"
    done
} > "$lib/DEBIAN/symbols"
echo "activate-noawait ldconfig" > "$lib/DEBIAN/triggers"

description_long=" libresponsesws keeps WebSocket connections to the OpenAI Responses API open
 and runs conversations over them: each turn sends only its new input items
 plus previous_response_id, so the server continues from its connection-scoped
 cache. Events arrive as the server's JSON with a few fields decoded, through a
 callback or a blocking pull call. It reconnects, rotates aged connections and
 falls back to HTTP/SSE where WebSocket mode is unavailable.
 .
 The library is written in Swift with SwiftNIO; the Swift runtime is linked
 statically, so it needs only the C library and OpenSSL at run time."

control() { # package section depends synopsis extra-description
    cat <<CONTROL
Package: $1
Source: responsesws
Version: $debver
Architecture: $arch
Multi-Arch: same
Maintainer: $maintainer
Installed-Size: $(du -sk --apparent-size "$work/$1/usr" | cut -f1)
Depends: $3
Section: $2
Priority: optional
Description: $4
$description_long
CONTROL
    [ -z "${5:-}" ] || printf ' .\n%s\n' "$5"
}
control libresponsesws0 libs "$depends" \
    "warm WebSocket transport for the OpenAI Responses API" \
    " This package contains the shared library." > "$lib/DEBIAN/control"
control libresponsesws-dev libdevel "libresponsesws0 (= $debver)" \
    "warm WebSocket transport for the OpenAI Responses API - development files" \
    " This package contains the C header responses_ws.h, the pkg-config file
 responsesws.pc and the libresponsesws.so link needed to build programs." > "$dev/DEBIAN/control"

for pkg in "$lib" "$dev"; do
    # Same file dates on every build of the same commit (reproducible packages).
    find "$pkg" -exec touch -h -d "@$epoch" {} +
    (cd "$pkg" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum > DEBIAN/md5sums)
    chmod 0644 "$pkg"/DEBIAN/*
    find "$pkg" -type d -exec chmod 0755 {} +
    SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out/" >/dev/null
done

for deb in "$out/libresponsesws0_${debver}_$arch.deb" "$out/libresponsesws-dev_${debver}_$arch.deb"; do
    [ -f "$deb" ] || die "dpkg-deb did not produce $deb"
    echo "built $deb ($(du -k "$deb" | cut -f1) KiB)"
done
