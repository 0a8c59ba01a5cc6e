#!/bin/bash
# Debian suite: build the packages (contrib/debian-build.sh from this tree),
# lintian them (no error, no warning), then install, use, remove and purge
# them in a fresh Debian 12 minbase root (tests/suites/debian_chroot.py,
# inside a private mount namespace).  The base is made with mmdebstrap from
# the mirror the host's apt sources name, into this run's suite dir only
# (suite_begin starts it empty: nothing from an earlier run is used).  An
# archive that cannot be reached is a SKIP with the reason, never a pass.
# 100 to 180 s on 2 shared cores with a near mirror (build 25-60 s, lintian 5 s,
# mmdebstrap 25 s, the chroot story 40 s).
set -u
. "$top_srcdir/tests/hardening/suite-lib.sh"
suite_begin debian

root="$SUITE_DIR/root"
# The root may hold mounts only while the namespace process lives; remove
# it without crossing into any file system that is still mounted there.
cleanup() {
	if [ -d "$root" ]; then
		umount -R "$root/proc" "$root/dev" 2>/dev/null
		rm -rf --one-file-system "$root"
	fi
}
trap cleanup EXIT INT TERM

CHROOT_POINT="install, use, remove and purge in a bookworm root"
skip_rest() {
	suite_point SKIP "$CHROOT_POINT: $1"
	suite_end
	exit 0
}
# Before the build: no package, no lintian either.
skip_all() {
	suite_point SKIP "package build: $1"
	suite_point SKIP "lintian: $1"
	skip_rest "$1"
}

if [ "$(id -u)" -ne 0 ]; then
	skip_all "not root"
fi
for tool in dpkg-buildpackage dh lintian mmdebstrap python3 oathtool unshare; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip_all "$tool not installed (contrib/deps.sh --test)"
	fi
done

# The package build: a tarball of this tree (make dist in a build dir of
# the suite's own), then dpkg-buildpackage on it.
debs="$SUITE_DIR/debs"
blog="$SUITE_DIR/build.log"
mkdir -p "$debs" "$SUITE_DIR/dist"
if (cd "$SUITE_DIR/dist" && "$top_srcdir/configure" -q --with-redis &&
	make -s dist-gzip) >"$blog" 2>&1 &&
	sh "$top_srcdir/contrib/debian-build.sh" "$debs" \
		"$SUITE_DIR"/dist/flowtotp-*.tar.gz >>"$blog" 2>&1 &&
	[ -f "$(echo "$debs"/libpam-flowtotp_*.deb)" ] &&
	[ -f "$(echo "$debs"/flowtotp_*.deb)" ]; then
	suite_point PASS "dpkg-buildpackage: libpam-flowtotp and flowtotp"
else
	suite_point FAIL "dpkg-buildpackage" "$blog"
	suite_point SKIP "lintian: the packages did not build"
	skip_rest "the packages did not build"
fi
rm -rf "$SUITE_DIR/dist"

llog="$SUITE_DIR/lintian.log"
if lintian --fail-on error,warning "$debs"/*.changes >"$llog" 2>&1; then
	suite_point PASS "lintian: no error, no warning"
else
	suite_point FAIL "lintian: no error, no warning" "$llog"
fi
grep -E '^[EWI]:' "$llog" | while IFS= read -r l; do suite_say "# $l"; done

# The first bookworm mirror of the host's apt sources (one-line or deb822).
mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" { for (i = 2; i < NF; i++) if ($i !~ /^\[/ &&
			$i ~ /^[a-z]+:\/\//) { if ($(i + 1) == "bookworm")
			{ print $i; exit } } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
		{ uri = ""; ok = 0; deb = 0
		  for (i = 1; i <= NF; i++) {
			if ($i ~ /^URIs:/) { split($i, a, " "); uri = a[2] }
			if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) ok = 1
			if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
			if ($i ~ /^Enabled: *no/) ok = 0 }
		  if (uri != "" && ok && deb) { print uri; exit } }' "$f"
	done
}
# FT_DEBIAN_MIRROR overrides it (a local mirror, or checking the SKIP).
url=${FT_DEBIAN_MIRROR:-$(mirror | head -n 1)}
if [ -z "$url" ]; then
	skip_rest "no bookworm mirror in the host's apt sources"
fi
if ! python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/dists/bookworm/InRelease", timeout=20)' \
	"$url" 2>"$SUITE_DIR/probe.log"; then
	skip_rest "the archive $url cannot be reached ($(tail -n 1 "$SUITE_DIR/probe.log"))"
fi

# The base: minbase plus pamtester (the PAM client), oathtool and the
# libraries the packages need, so installing them needs no second fetch.
mlog="$SUITE_DIR/mmdebstrap.log"
if ! mmdebstrap --mode=root --variant=minbase \
	--include=pamtester,oathtool,libgdbm6,libhiredis0.14,libqrencode4,libssl3 \
	bookworm "$SUITE_DIR/base.tar" "deb $url bookworm main" >"$mlog" 2>&1; then
	if grep -qiE 'could not resolve|failed to fetch|connection|temporary failure' "$mlog"; then
		skip_rest "mmdebstrap could not fetch from $url ($(grep -iE -m1 'resolve|fetch|connection' "$mlog"))"
	fi
	suite_point FAIL "mmdebstrap minbase bookworm" "$mlog"
	suite_end
	exit 1
fi
mkdir "$root"
tar -xf "$SUITE_DIR/base.tar" -C "$root"
rm -f "$SUITE_DIR/base.tar"
suite_point PASS "mmdebstrap --variant=minbase bookworm from $url"

clog="$SUITE_DIR/chroot.log"
export top_srcdir
unshare -m --propagation private \
	python3 "$top_srcdir/tests/suites/debian_chroot.py" "$root" "$debs" \
	>"$clog" 2>&1
rc=$?
suite_tap "$clog" "$rc"
suite_end
