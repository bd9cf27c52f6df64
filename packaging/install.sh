#!/usr/bin/env bash
# packaging/install.sh - installs the release library, header and pkg-config file under a prefix.
#
# Usage: packaging/install.sh [--libdir DIR] PREFIX [DESTDIR]
#   PREFIX   where the files will live at run time, e.g. /usr/local
#   DESTDIR  optional staging root; files go to DESTDIR/PREFIX/... (as in `make install DESTDIR=`)
#   --libdir library directory (default PREFIX/lib/<multiarch>, e.g. /usr/local/lib/x86_64-linux-gnu,
#            which Debian's dynamic loader searches by default)
# Input: $RWS_LIB_DIR/libresponsesws.so (default <repo>/.build/release), checked like the .deb.
# Afterwards: cc app.c $(pkg-config --cflags --libs responsesws) builds against it (add
# PKG_CONFIG_PATH=LIBDIR/pkgconfig when LIBDIR is not on pkg-config's default path), and
# `ldconfig` (as root) refreshes the loader cache for a system prefix.
set -euo pipefail
source "$(dirname "$0")/common.sh"

usage() { echo "usage: $0 [--libdir DIR] PREFIX [DESTDIR]" >&2; exit 2; }

libdir=
while [ $# -gt 0 ]; do
    case $1 in
        --libdir) [ $# -ge 2 ] || usage; libdir=$2; shift 2 ;;
        --libdir=*) libdir=${1#--libdir=}; shift ;;
        -h|--help) usage ;;
        -*) echo "unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] && [ $# -le 2 ] || usage
prefix=${1%/}
destdir=${2:-}
case $prefix in /*) ;; *) die "PREFIX must be an absolute path, got '$prefix'" ;; esac
libdir=${libdir:-$prefix/lib/$(multiarch)}
case $libdir in /*) ;; *) die "--libdir must be an absolute path, got '$libdir'" ;; esac
includedir=$prefix/include

version=$(rws_version)
so=$(input_library)
install -d -m 0755 "$destdir$libdir/pkgconfig" "$destdir$includedir"
stage_library "$so" "$destdir$libdir/libresponsesws.so.$version"
ln -sfn "libresponsesws.so.$version" "$destdir$libdir/$SONAME"
ln -sfn "$SONAME" "$destdir$libdir/libresponsesws.so"
install -m 0644 "$HEADER" "$destdir$includedir/responses_ws.h"
render_pc "$prefix" "$libdir" "$includedir" "$destdir$libdir/pkgconfig/responsesws.pc"

echo "installed libresponsesws $version under $destdir$prefix"
echo "  library   $destdir$libdir/libresponsesws.so.$version (+ $SONAME, libresponsesws.so links)"
echo "  header    $destdir$includedir/responses_ws.h"
echo "  pkgconfig $destdir$libdir/pkgconfig/responsesws.pc"
