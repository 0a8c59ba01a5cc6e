#!/bin/bash
# Valgrind suite: PAM logins through real libpam into the module
# (and the totp-enroll commands they need) under valgrind memcheck with
# --error-exitcode, --leak-check=full and definite/indirect leaks counted as
# errors (tests/hardening/valgrind_logins.py lists the cases), and the Redis
# backend's own test (tests/redis/test_backend.py: redis_backend, under the
# same valgrind, against a real redis-server on a free port), which covers
# the code that reads Redis replies.  Uses the main build ($top_builddir).
# Valgrind's reports are in $top_builddir/suites/valgrind/vg.PID.
set -u
. "$top_srcdir/tests/hardening/suite-lib.sh"
suite_begin valgrind

if ! command -v valgrind >/dev/null 2>&1; then
	suite_point SKIP "valgrind not installed"
	suite_end
	exit $?
fi
export FT_VG_LOGDIR="$SUITE_DIR"
export OATHTOOL=${OATHTOOL:-$(command -v oathtool)}
log="$SUITE_DIR/valgrind_logins.log"
/usr/bin/python3 "$top_srcdir/tests/hardening/valgrind_logins.py" >"$log" 2>&1
rc=$?
suite_tap "$log" "$rc"

# The same valgrind line as valgrind_logins.py; test_backend.py puts
# $FT_TEST_WRAPPER in front of redis_backend, and an error makes its exit
# code (and so this script's) non-zero.
VG_EXIT=99
vg="valgrind -q --error-exitcode=$VG_EXIT --leak-check=full"
vg="$vg --errors-for-leak-kinds=definite,indirect"
vg="$vg --show-leak-kinds=definite,indirect --num-callers=30"
vg="$vg --log-file=$SUITE_DIR/vg.%p"
rlog="$SUITE_DIR/redis_backend.log"
if [ ! -x "$top_builddir/tests/redis/redis_backend" ]; then
	suite_point SKIP "tests/redis/redis_backend not built (no hiredis)"
else
	FT_TEST_WRAPPER="$vg" /usr/bin/python3 \
		"$top_srcdir/tests/redis/test_backend.py" >"$rlog" 2>&1
	rc=$?
	if grep -q '^1\.\.0' "$rlog"; then
		# A skip would hide that the reply parser never ran.
		suite_point FAIL "Redis backend test skipped under valgrind" "$rlog"
	else
		suite_tap "$rlog" "$rc"
	fi
fi
# Valgrind 3.19 (Debian 12) does not know openat2 (syscall 437): it warns
# and fails the call with ENOSYS, and common/safefile.c then walks the path
# one component at a time, so those runs also cover the fallback.  That
# warning (a line and four lines of boilerplate) is valgrind's, not ours.
for f in "$SUITE_DIR"/vg.*; do
	[ -e "$f" ] || continue
	awk '/WARNING: unhandled amd64-linux syscall: 437$/ { skip = 5 }
	    skip > 0 { skip--; next } { print }' "$f" >"$f.tmp" &&
		mv "$f.tmp" "$f"
done
# Any report valgrind wrote (errors also show in the exit code).
reports=$(find "$SUITE_DIR" -name 'vg.*' -size +0 | wc -l)
if [ "$reports" -eq 0 ]; then
	suite_point PASS "no valgrind report in any run"
else
	suite_point FAIL "valgrind reports in $reports runs"
	find "$SUITE_DIR" -name 'vg.*' -size +0 | head -n 3 |
		while read -r f; do sed 's/^/# /' "$f" | head -n 40; done
fi
suite_end
