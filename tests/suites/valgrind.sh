#!/bin/bash
# Valgrind suite (issue 7): PAM logins through real libpam into the module
# (and the totp-enroll commands they need) under valgrind memcheck with
# --error-exitcode, --leak-check=full and definite/indirect leaks counted as
# errors (tests/hardening/valgrind_logins.py lists the cases).  Uses the main
# build ($top_builddir).  Valgrind's reports are in
# $top_builddir/suites/valgrind/vg.PID.
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
