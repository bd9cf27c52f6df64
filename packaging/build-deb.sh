#!/usr/bin/env bash
# packaging/build-deb.sh - builds the .debs from a release build: libresponsesws0 (the stripped
# library), libresponsesws-dev (header, pkg-config, responses_ws(3), examples), responses-ws-tools
# (`rws`, rws(1)) and the -dbgsym packages holding the debug information of the first and third.
#
# Usage: packaging/build-deb.sh [--no-tools] [OUTDIR]        (default OUTDIR: <repo>/dist)
#   --no-tools  only the library packages (for tests with stand-in libraries and no `rws`)
# Input: $RWS_LIB_DIR/libresponsesws.so (default <repo>/.build/release); it is refused unless it
#        exports only rws_*@@RESPONSESWS_0[.N], has SONAME libresponsesws.so.0, no RUNPATH other than
#        SwiftPM's $ORIGIN (removed here) and no NEEDED libswift*.
# Environment: DEB_REVISION (default 1), DEBFULLNAME/DEBEMAIL (Maintainer), SOURCE_DATE_EPOCH
#        (changelog date; default: the last commit's time, so rebuilds are reproducible).
#        $RWS_BIN (default <repo>/.build/release/rws): a release build, linked with -static-stdlib.
# Output: OUTDIR/<package>_<v>-<rev>_<arch>.deb for each package above, and one line per package
#        and per stripped ELF (unstripped and stripped size) on stdout.
# The version comes from RWS_VERSION_STRING in include/responses_ws.h.
set -euo pipefail
source "$(dirname "$0")/common.sh"
umask 022

for t in dpkg-deb:dpkg dpkg-shlibdeps:dpkg-dev dpkg-architecture:dpkg-dev strip:binutils objcopy:binutils python3:python3; do
    need_tool "${t%%:*}" "${t#*:}"
done

tools=1
if [ "${1:-}" = --no-tools ]; then tools=0; shift; fi
out=$(mkdir -p "${1:-$REPO_ROOT/dist}" && cd "${1:-$REPO_ROOT/dist}" && pwd)
version=$(rws_version)
revision=${DEB_REVISION:-1}
debver=$version-$revision
arch=$(dpkg --print-architecture)
ma=$(multiarch)
maintainer="${DEBFULLNAME:-responses-ws maintainers} <${DEBEMAIL:-maintainers@users.noreply.b-seed-4745239f.example}>"
so=$(input_library)
if [ "$tools" = 1 ]; then
    [ -x "$RWS_BIN" ] || die "$RWS_BIN not found: build it with 'swift build -c release', set RWS_BIN, or pass --no-tools"
fi

work=$(mktemp -d "$out/.build-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
lib=$work/libresponsesws0
dev=$work/libresponsesws-dev
tool=$work/responses-ws-tools
libdir=usr/lib/$ma
packages=(libresponsesws0 libresponsesws-dev)
[ "$tools" = 0 ] || packages+=(responses-ws-tools)
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$REPO_ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}

# size_report NAME UNSTRIPPED STRIPPED: the numbers the issue asks the packaging test to show.
size_report() {
    local before after
    before=$(stat -c %s "$2")
    after=$(stat -c %s "$3")
    echo "size $1: $(human "$before") unstripped ($before bytes), $(human "$after") stripped ($after bytes)"
}

# --- libresponsesws0: the shared library
install -d -m 0755 "$lib/DEBIAN" "$lib/$libdir" "$lib/usr/share/doc/libresponsesws0" \
    "$lib/usr/share/lintian/overrides"
stage_library "$so" "$lib/$libdir/libresponsesws.so.$version" "$work/libresponsesws0-dbgsym"
ln -s "libresponsesws.so.$version" "$lib/$libdir/$SONAME"
install -m 0644 "$REPO_ROOT/packaging/lintian/libresponsesws0" "$lib/usr/share/lintian/overrides/"

# --- libresponsesws-dev: header, unversioned link, pkg-config file
install -d -m 0755 "$dev/DEBIAN" "$dev/$libdir/pkgconfig" "$dev/usr/include" \
    "$dev/usr/share/doc/libresponsesws-dev" "$dev/usr/share/lintian/overrides"
ln -s "$SONAME" "$dev/$libdir/libresponsesws.so"
install -m 0644 "$HEADER" "$dev/usr/include/responses_ws.h"
render_pc /usr "/$libdir" /usr/include "$dev/$libdir/pkgconfig/responsesws.pc"
install -m 0644 "$REPO_ROOT/packaging/lintian/libresponsesws-dev" "$dev/usr/share/lintian/overrides/"
# responses_ws(3), the C example and a README saying how to build it (Debian policy 12.6).
install -d -m 0755 "$dev/usr/share/man/man3" "$dev/usr/share/doc/libresponsesws-dev/examples"
gzip -9n < "$REPO_ROOT/packaging/man/responses_ws.3" > "$dev/usr/share/man/man3/responses_ws.3.gz"
install -m 0644 "$REPO_ROOT/examples/agent_loop.c" "$dev/usr/share/doc/libresponsesws-dev/examples/"
install -m 0644 "$REPO_ROOT/packaging/doc/README.dev" "$dev/usr/share/doc/libresponsesws-dev/README"
# The protocol notes the header's "§N" comments cite (compressed, as Debian does docs over 4 KiB).
gzip -9n < "$REPO_ROOT/docs/PROTOCOL.md" > "$dev/usr/share/doc/libresponsesws-dev/PROTOCOL.md.gz"

# --- responses-ws-tools: rws (the simulator, demo, run, loop, bench) and rws(1)
if [ "$tools" = 1 ]; then
    install -d -m 0755 "$tool/DEBIAN" "$tool/usr/bin" "$tool/usr/share/man/man1" \
        "$tool/usr/share/doc/responses-ws-tools" "$tool/usr/share/lintian/overrides"
    stage_executable "$RWS_BIN" "$tool/usr/bin/rws" "$work/responses-ws-tools-dbgsym"
    # The page is written from the packaged binary's own description of its commands.
    python3 "$REPO_ROOT/packaging/man/rws-man.py" "$tool/usr/bin/rws" "$work/rws.1" "$version" \
        "$(date -u -d "@$epoch" +%F)" || die "could not write rws(1) from $RWS_BIN --experimental-dump-help"
    gzip -9n < "$work/rws.1" > "$tool/usr/share/man/man1/rws.1.gz"
    install -m 0644 "$REPO_ROOT/packaging/lintian/responses-ws-tools" "$tool/usr/share/lintian/overrides/"
fi

# --- documentation every package must carry (Debian policy 12.5, 12.7)
for pkg in "${packages[@]}"; do
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
if [ "$tools" = 1 ]; then
    printf '\nPackage: responses-ws-tools\nArchitecture: any\n' >> "$work/shlibdeps/debian/control"
    tool_depends=$(cd "$work/shlibdeps" && dpkg-shlibdeps -O -e"$tool/usr/bin/rws") ||
        die "dpkg-shlibdeps failed on rws (see above)"
    tool_depends=${tool_depends#shlibs:Depends=}
fi

# --- shlibs and symbols: what packages linking the library will depend on. A symbol's minimum
# version is the release its version node names (packaging/responses_ws.map): RESPONSESWS_0 is
# 0.1.0, RESPONSESWS_0.N is 0.N.0.
node_release() {
    case $1 in
        "$SYMBOL_VERSION") echo 0.1.0 ;;
        "$SYMBOL_VERSION".*) echo "0.${1#"$SYMBOL_VERSION".}.0" ;;
        *) die "symbol version node '$1' is not $SYMBOL_VERSION or $SYMBOL_VERSION.N" ;;
    esac
}
echo "libresponsesws 0 libresponsesws0 (>= $version)" > "$lib/DEBIAN/shlibs"
{
    echo "$SONAME libresponsesws0 #MINVER#"
    echo "* Build-Depends-Package: libresponsesws-dev"
    for node in $(exported_symbols "$lib/$libdir/libresponsesws.so.$version" | sed -E 's/.*@@?//' | LC_ALL=C sort -u); do
        echo " ${node}@${node} $(node_release "$node")"
    done
    exported_symbols "$lib/$libdir/libresponsesws.so.$version" | while read -r sym; do
        echo " ${sym/@@/@} $(node_release "${sym##*@}")"
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
 responsesws.pc, the libresponsesws.so link needed to build programs, the
 responses_ws(3) manual page and an example agent loop in C." > "$dev/DEBIAN/control"
if [ "$tools" = 1 ]; then
    control responses-ws-tools net "$tool_depends" \
        "warm WebSocket transport for the OpenAI Responses API - command-line tool" \
        " This package contains rws: a local simulator of the Responses API (rws sim)
 that the examples and bindings run against without a key or network, and
 commands that run one turn, an agent loop, a demo and benchmarks." |
        sed '/^Multi-Arch:/d' > "$tool/DEBIAN/control" # an executable: not co-installable per arch
fi

# --- -dbgsym packages (as debhelper makes them): the debug files by build-id, Section debug,
# tied to the exact version of the package whose ELF they describe.
dbgsym_packages=()
for pkg in "${packages[@]}"; do
    d=$work/$pkg-dbgsym
    [ -d "$d/usr/lib/debug" ] || continue
    dbgsym_packages+=("$pkg-dbgsym")
    install -d -m 0755 "$d/DEBIAN" "$d/usr/share/doc"
    ln -s "$pkg" "$d/usr/share/doc/$pkg-dbgsym"
    ids=$(find "$d/usr/lib/debug/.build-id" -name '*.debug' | sed -E 's|.*/([0-9a-f]{2})/([0-9a-f]+)\.debug$|\1\2|' | LC_ALL=C sort | tr '\n' ' ')
    multi=$(grep '^Multi-Arch:' "$work/$pkg/DEBIAN/control" || true)
    {
        echo "Package: $pkg-dbgsym"
        echo "Source: responsesws"
        echo "Version: $debver"
        echo "Auto-Built-Package: debug-symbols"
        echo "Architecture: $arch"
        [ -z "$multi" ] || echo "$multi"
        echo "Maintainer: $maintainer"
        echo "Installed-Size: $(du -sk --apparent-size "$d/usr" | cut -f1)"
        echo "Depends: $pkg (= $debver)"
        echo "Section: debug"
        echo "Priority: optional"
        echo "Description: debug symbols for $pkg"
        echo "Build-Ids: ${ids% }"
    } > "$d/DEBIAN/control"
done

for name in "${packages[@]}" "${dbgsym_packages[@]}"; do
    pkg=$work/$name
    # Same file dates on every build of the same commit (reproducible packages).
    find "$pkg" -exec touch -h -d "@$epoch" {} +
    (cd "$pkg" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum > DEBIAN/md5sums)
    chmod 0644 "$pkg"/DEBIAN/*
    find "$pkg" -type d -exec chmod 0755 {} +
    SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out/" >/dev/null
done

for name in "${packages[@]}" "${dbgsym_packages[@]}"; do
    deb=$out/${name}_${debver}_$arch.deb
    [ -f "$deb" ] || die "dpkg-deb did not produce $deb"
    echo "built $deb ($(du -k "$deb" | cut -f1) KiB)"
done
size_report libresponsesws.so "$so" "$lib/$libdir/libresponsesws.so.$version"
[ "$tools" = 0 ] || size_report rws "$RWS_BIN" "$tool/usr/bin/rws"
