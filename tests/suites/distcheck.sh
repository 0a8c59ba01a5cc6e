#!/bin/bash
# Distcheck suite: `make distcheck` (the release tarball builds, installs,
# uninstalls and passes its tests out of a read-only source tree) in a build
# dir of its own ($top_builddir/suites/distcheck/build), so it never
# touches the full run's build.  Its `make check` runs only the suites that
# need no root, no daemons and no fixed ports (unit, files, PAM through
# pam_start_confdir): the full run already ran every test, and this keeps
# distcheck from doubling the run time or racing the full run for users,
# /etc/pam.d and /dev/log.  The normal `make check` is unchanged: TESTS is
# only overridden on this make's command line (GNU make passes it on to
# the distcheck's inner make).
set -u
. "$top_srcdir/tests/hardening/suite-lib.sh"
suite_begin distcheck

bdir="$SUITE_DIR/build"
mkdir -p "$bdir"
clog="$SUITE_DIR/configure.log"
if (cd "$bdir" && "$top_srcdir/configure" --with-redis) >"$clog" 2>&1; then
	suite_point PASS "configure for make dist"
else
	suite_point FAIL "configure for make dist" "$clog"
	suite_end
	exit 1
fi

tests=
for t in $(make -s --no-print-directory -C "$bdir" ft-list-tests); do
	case $t in
	tests/unit/* | tests/files/* | tests/pam/*) tests="$tests $t" ;;
	esac
done
ntests=$(echo "$tests" | wc -w)
dlog="$SUITE_DIR/distcheck.log"
# The inner build also gets --enable-werror: the tarball must build clean.
if make -C "$bdir" -j"$(nproc)" distcheck TESTS="$tests" \
	DISTCHECK_CONFIGURE_FLAGS="--enable-werror --with-redis" \
	>"$dlog" 2>&1; then
	suite_point PASS "make distcheck ($ntests no-root test programs)"
else
	suite_point FAIL "make distcheck" "$dlog"
fi

# The inner make check's own summary (automake's "# TOTAL: N" block): it
# ran test points, and none of them failed.
sumline() { sed -n "s/^# $1: *//p" "$dlog" | tail -n 1; }
total=$(sumline TOTAL) failed=$(sumline FAIL) errors=$(sumline ERROR)
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)' "$dlog" |
	while IFS= read -r l; do suite_say "# $l"; done
if [ "${total:-0}" -gt 0 ] && [ "${failed:-1}" -eq 0 ] &&
	[ "${errors:-1}" -eq 0 ]; then
	suite_point PASS "distcheck's tests: $total points, none failing"
else
	suite_point FAIL "distcheck's tests: ${total:-no} points, ${failed:-?} failed, ${errors:-?} errors"
fi
suite_end
