# packaging/common.sh - shared helpers of the packaging scripts. Source it; do not run it.
#
# Inputs (environment):
#   RWS_LIB_DIR  directory holding the release libresponsesws.so (default <repo>/.build/release)
#   RWS_BIN      the `rws` executable, for tests (default <repo>/.build/release/rws)

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RWS_LIB_DIR=${RWS_LIB_DIR:-$REPO_ROOT/.build/release}
RWS_BIN=${RWS_BIN:-$REPO_ROOT/.build/release/rws}
HEADER=$REPO_ROOT/include/responses_ws.h
SONAME=libresponsesws.so.0
SYMBOL_VERSION=RESPONSESWS_0
# Any version node of this SONAME: RESPONSESWS_0 (0.1.0) and RESPONSESWS_0.N for later releases.
SYMBOL_VERSION_RE='RESPONSESWS_0(\.[0-9]+)?'

# Prints "<script>: <message>" on stderr and exits 1.
die() {
    echo "$(basename "$0"): error: $*" >&2
    exit 1
}

# Fails with the package to install when a tool is missing.
need_tool() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found; install it with: apt-get install -y $2"
}

# The library version, read from RWS_VERSION_STRING so that it is written down in one place only.
rws_version() {
    local v
    v=$(sed -n 's/^#define RWS_VERSION_STRING "\([0-9]*\.[0-9]*\.[0-9]*\)"$/\1/p' "$HEADER")
    [ -n "$v" ] || die "cannot read RWS_VERSION_STRING from $HEADER"
    echo "$v"
}

# The Debian multiarch triplet, e.g. x86_64-linux-gnu.
multiarch() {
    dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null ||
        die "cannot determine the multiarch triplet (install dpkg-dev)"
}

# The input library: $RWS_LIB_DIR/libresponsesws.so, which must exist.
input_library() {
    local so=$RWS_LIB_DIR/libresponsesws.so
    [ -f "$so" ] || die "$so not found: build it with 'swift build -c release' or set RWS_LIB_DIR"
    echo "$so"
}

# Exported (defined, dynamic) symbols of a library as "name@@VERSION" (the default version) or
# "name@VERSION" (an older one kept for old programs), sorted, without the version-definition
# symbols themselves.
exported_symbols() {
    nm -D --defined-only "$1" | awk '{print $NF}' | grep -vE "^${SYMBOL_VERSION_RE}\$" | LC_ALL=C sort
}

# Refuses a library that is not a release build of the C API: exports other than
# rws_*@@RESPONSESWS_0[.N], another SONAME, a RUNPATH/RPATH (with "allow-origin" as second argument:
# one other than $ORIGIN), or a dynamically linked Swift runtime.
check_release_library() {
    local so=$1 allow_origin=${2:-} dyn bad runpath
    need_tool readelf binutils
    need_tool nm binutils
    dyn=$(readelf -d "$so") || die "$so is not an ELF shared library"
    bad=$(exported_symbols "$so" | grep -vE "^rws_[a-z0-9_]*@@?${SYMBOL_VERSION_RE}\$" | head -5 || true)
    [ -z "$bad" ] || die "$so exports symbols outside the C API (a debug build, or the version script" \
        "packaging/responses_ws.map was not applied), e.g.: $(echo $bad)"
    exported_symbols "$so" | grep -q . || die "$so exports no rws_* symbol"
    echo "$dyn" | grep -q "(SONAME).*\[${SONAME}\]" ||
        die "$so has SONAME '$(echo "$dyn" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')', expected $SONAME"
    runpath=$(echo "$dyn" | sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\]/\2/p')
    if [ -n "$runpath" ] && ! { [ -n "$allow_origin" ] && [ "$runpath" = '$ORIGIN' ]; }; then
        die "$so has RUNPATH/RPATH '$runpath'; an installed library must have none (only SwiftPM's" \
            "\$ORIGIN is removed when packaging). Another one means it needs libraries outside the" \
            "system paths, e.g. the Swift toolchain: build with -static-stdlib"
    fi
    if echo "$dyn" | grep -q '(NEEDED).*libswift'; then
        die "$so links the Swift runtime dynamically (NEEDED libswift*); build with -static-stdlib"
    fi
}

# Copies the input library to DEST (mode 0644), strips it and removes SwiftPM's RUNPATH, then
# checks the result. SwiftPM links products with RUNPATH $ORIGIN so that sibling .so files in
# .build/ are found; the installed library has no siblings, and a RUNPATH in a system library
# lets files next to it shadow real dependencies (lintian: custom-library-search-path). Any other
# RUNPATH means the build expects libraries outside the system paths and is refused.
# With DEBUG_ROOT as third argument, the debug information is kept first (see split_debug).
stage_library() {
    local src=$1 dest=$2 debug_root=${3:-}
    check_release_library "$src" allow-origin
    install -m 0644 "$src" "$dest"
    if [ -n "$debug_root" ]; then split_debug "$dest" "$debug_root"; fi
    strip --strip-unneeded --remove-section=.comment "$dest"
    if readelf -d "$dest" | grep -qE '\((RUNPATH|RPATH)\)'; then
        need_tool patchelf patchelf
        patchelf --remove-rpath "$dest"
    fi
    check_release_library "$dest"
}

# stage_executable SRC DEST [DEBUG_ROOT]: installs the `rws` tool (mode 0755) as the tools
# package ships it: refused when it needs the Swift toolchain at run time (NEEDED libswift*, or
# a RUNPATH other than SwiftPM's $ORIGIN, which is removed); stripped, its debug information
# kept under DEBUG_ROOT first when given.
stage_executable() {
    local src=$1 dest=$2 debug_root=${3:-} dyn runpath
    need_tool readelf binutils
    dyn=$(readelf -d "$src") || die "$src is not a dynamically linked ELF executable"
    if echo "$dyn" | grep -q '(NEEDED).*libswift'; then
        die "$src links the Swift runtime dynamically (NEEDED $(echo "$dyn" | grep -o 'libswift[^]]*' | head -1)):" \
            "it would not run without the toolchain. Build it in release (Package.swift links rws with" \
            "-static-stdlib there): swift build -c release"
    fi
    runpath=$(echo "$dyn" | sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\]/\2/p')
    [ -z "$runpath" ] || [ "$runpath" = '$ORIGIN' ] ||
        die "$src has RUNPATH/RPATH '$runpath': it expects libraries outside the system paths"
    install -m 0755 "$src" "$dest"
    if [ -n "$debug_root" ]; then split_debug "$dest" "$debug_root"; fi
    strip --strip-unneeded --remove-section=.comment "$dest"
    if readelf -d "$dest" | grep -qE '\((RUNPATH|RPATH)\)'; then
        need_tool patchelf patchelf
        patchelf --remove-rpath "$dest"
    fi
}

# The GNU build-id of an ELF file (hex), or nothing when it has none.
build_id() {
    readelf -n "$1" 2>/dev/null | sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p' | head -1
}

# split_debug ELF DEBUG_ROOT: copies ELF's debug information, compressed, to
# DEBUG_ROOT/usr/lib/debug/.build-id/xx/yyyy.debug, where gdb, objdump and debuginfod clients
# look it up by the build-id that the stripped ELF keeps (its .note.gnu.build-id survives strip).
# The caller strips ELF afterwards. An ELF without a build-id is refused: nothing could find
# its debug file.
split_debug() {
    local elf=$1 root=$2 id file
    id=$(build_id "$elf")
    [ -n "$id" ] || die "$elf has no build-id note (.note.gnu.build-id): link it with -Wl,--build-id"
    file=$root/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
    install -d -m 0755 "$(dirname "$file")"
    objcopy --only-keep-debug --compress-debug-sections=zlib "$elf" "$file"
    chmod 0644 "$file"
}

# human BYTES: e.g. "12.9 MB" (10^6 bytes), for size reports.
human() {
    awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'
}

# Writes the pkg-config file for an install under PREFIX with absolute LIBDIR and INCLUDEDIR.
# Directories under PREFIX are written as ${prefix}/..., so the file stays relocatable.
render_pc() {
    local prefix=$1 libdir=$2 includedir=$3 out=$4
    case $libdir in "$prefix"/*) libdir="\${prefix}${libdir#"$prefix"}" ;; esac
    case $includedir in "$prefix"/*) includedir="\${prefix}${includedir#"$prefix"}" ;; esac
    sed -e "s|@prefix@|$prefix|" -e "s|@libdir@|$libdir|" -e "s|@includedir@|$includedir|" \
        -e "s|@VERSION@|$(rws_version)|" "$REPO_ROOT/pkgconfig/responsesws.pc.in" > "$out"
    chmod 0644 "$out"
}

# judge NAME WANT PATTERN RC OUTFILE: for the guard tests. WANT is pass or fail; the case holds
# when the command's exit status RC agrees with WANT and its output OUTFILE matches PATTERN (so
# a case cannot pass for the wrong reason). Counts into the caller's `passed` and `failed`.
judge() {
    local name=$1 want=$2 pattern=$3 rc=$4 out=$5 got=pass
    [ "$rc" = 0 ] || got=fail
    if [ "$got" = "$want" ] && grep -qE "$pattern" "$out"; then
        passed=$((passed + 1))
        echo "ok   $name: $want ($(grep -E "$pattern" "$out" | head -1 | cut -c1-150))"
    else
        failed=$((failed + 1))
        echo "FAIL $name: expected $want with /$pattern/, got $got (exit $rc):"
        sed 's/^/     /' "$out"
    fi
}
