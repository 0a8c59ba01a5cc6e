#!/bin/bash
# Sanitizer suite: a second build with --enable-sanitizers (gcc,
# -fsanitize=address,undefined -fno-sanitize-recover=all) in
# $top_builddir/suites/sanitizers/build, running `make check` for the unit,
# files, pam, cli, redis and hardening tests.  That build's own .trs files
# are counted by contrib/run-tests.sh like the main ones.  The Redis tests
# run against a real redis-server on a free port (tests/redis/redislib.py):
# redis_backend drives the backend that parses the server's replies, and
# test_fleet.py the module through it.
#
# Every program the tests run (test binaries, ft-pam-login, totp-enroll-test)
# is itself built with ASan, so the ASan-built module is always loaded into
# an ASan process and no LD_PRELOAD of libasan is needed; Python/pexpect
# only drives those binaries.  (The e2e tests, which load the module into
# the system's sshd/sudo, are left out for that reason.)
# verify_asan_link_order=0: tests/pam/test_pam re-executes itself with
# LD_PRELOAD=libnss_wrapper.so, which would otherwise come before libasan.
# LeakSanitizer is on (detect_leaks=1).  The crash test runs with fewer
# kills here (FLOWTOTP_CRASH_KILLS, default 25): the full 200 run in the
# main `make check`.
set -u
. "$top_srcdir/tests/hardening/suite-lib.sh"
suite_begin sanitizers

bdir="$SUITE_DIR/build"
mkdir -p "$bdir"
blog="$SUITE_DIR/build.log"
if ( cd "$bdir" &&
	"$top_srcdir/configure" --enable-werror --enable-sanitizers \
		--with-redis &&
	make -j"$(nproc)" ) >"$blog" 2>&1; then
	suite_point PASS "sanitizer build (gcc, ASan+UBSan)"
else
	suite_point FAIL "sanitizer build (gcc, ASan+UBSan)" "$blog"
	suite_end
	exit 1
fi

tests=
for t in $(make -s --no-print-directory -C "$bdir" ft-list-tests); do
	case $t in
	tests/unit/* | tests/files/* | tests/pam/* | tests/cli/* | tests/redis/* | \
		tests/hardening/*)
		tests="$tests $t" ;;
	esac
done
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:verify_asan_link_order=0:detect_stack_use_after_return=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export FLOWTOTP_CRASH_KILLS=${FLOWTOTP_CRASH_KILLS:-25}
clog="$SUITE_DIR/check.log"
if make -C "$bdir" -j"$(nproc)" check TESTS="$tests" >"$clog" 2>&1; then
	suite_point PASS "make check under ASan+UBSan:$(echo "$tests" | wc -w) test programs"
else
	suite_point FAIL "make check under ASan+UBSan" "$clog"
	grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		-r --include='*.log' "$bdir/tests" 2>/dev/null | sed 's/^/# sanitizer report in /'
fi
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)' "$clog" |
	while IFS= read -r l; do suite_say "# $l"; done
# The programs the tests ran really are instrumented (a lost SAN_CFLAGS
# would pass silently); check programs exist only after make check.
noasan=
for f in pam_module/.libs/pam_flowtotp_test.so cli/totp-enroll-test \
	tests/pam/ft-pam-login tests/pam/test_pam tests/redis/redis_backend; do
	ldd "$bdir/$f" 2>/dev/null | grep -q libasan || noasan="$noasan $f"
done
if [ -z "$noasan" ]; then
	suite_point PASS "module, CLI, PAM and Redis test programs link libasan"
else
	suite_point FAIL "not built with ASan:$noasan"
fi

# A Redis test that skipped (no hiredis, no redis-server) would pass
# silently: the suite is there to run the reply parser under the sanitizers.
for t in tests/redis/test_backend tests/redis/test_fleet; do
	if [ -f "$bdir/$t.log" ] && ! grep -q '^1\.\.0' "$bdir/$t.log" &&
		grep -q '^ok ' "$bdir/$t.log"; then
		suite_point PASS "$t.py ran under ASan+UBSan (not skipped)"
	else
		suite_point FAIL "$t.py did not run under ASan+UBSan" "$bdir/$t.log"
	fi
done

if grep -rqE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	--include='*.log' "$bdir/tests"; then
	suite_point FAIL "no sanitizer report in any test log"
else
	suite_point PASS "no sanitizer report in any test log"
fi
suite_end
