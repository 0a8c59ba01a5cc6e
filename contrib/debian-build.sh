#!/bin/sh
# Build the Debian packages (libpam-flowtotp, flowtotp) from a `make dist`
# tarball: unpack it in a temp dir, copy contrib/debian to debian/ there and
# run dpkg-buildpackage.  The source tree itself is never written to.
#   contrib/debian-build.sh OUTDIR [TARBALL]
# Without TARBALL, the tarball is made first (configure + make dist in a
# temp dir; the tree needs ./configure: autoreconf -fi).  The .deb,
# .buildinfo and .changes files land in OUTDIR.  Needs the Build-Depends of
# contrib/debian/control plus dpkg-dev (contrib/deps.sh --test).
set -eu

usage() {
	echo "usage: $0 OUTDIR [TARBALL]" >&2
	exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	usage
fi
srcdir=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
outdir=$(cd "$1" && pwd)
tarball=${2:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/flowtotp-deb.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT INT TERM

if [ -z "$tarball" ]; then
	[ -x "$srcdir/configure" ] ||
		{ echo "$0: $srcdir/configure missing: run autoreconf -fi" >&2; exit 1; }
	mkdir "$work/dist"
	(cd "$work/dist" && "$srcdir/configure" -q && make -s dist-gzip) >&2
	tarball=$(ls "$work"/dist/flowtotp-*.tar.gz)
fi
tar -xzf "$tarball" -C "$work"
tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'flowtotp-*' | head -n 1)
if [ -z "$tree" ] || [ ! -d "$tree/contrib/debian" ]; then
	echo "$0: $tarball has no contrib/debian" >&2
	exit 1
fi
cp -R "$tree/contrib/debian" "$tree/debian"
(cd "$tree" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=2}" \
	dpkg-buildpackage -us -uc -b) >&2
for f in "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes; do
	[ -e "$f" ] && cp "$f" "$outdir/"
done
ls "$outdir"/*.deb
