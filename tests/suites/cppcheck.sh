#!/bin/bash
# Static analysis suite: cppcheck over the product code (common/,
# pam_module/, cli/) with warning, style, performance and portability checks.
# Clean, or suppressed with a reason in tests/hardening/cppcheck.supp; any
# other finding fails.  Configured both with and without HAVE_REDIS.
set -u
. "$top_srcdir/tests/hardening/suite-lib.sh"
suite_begin cppcheck

if ! command -v cppcheck >/dev/null 2>&1; then
	suite_point SKIP "cppcheck not installed"
	suite_end
	exit $?
fi
suite_say "# $(cppcheck --version)"
cd "$top_srcdir" || exit 1
for def in -DHAVE_REDIS -UHAVE_REDIS; do
	log="$SUITE_DIR/cppcheck$def.log"
	cppcheck --enable=warning,style,performance,portability \
		--library=posix --std=c11 --inline-suppr --quiet \
		--error-exitcode=1 \
		--suppressions-list=tests/hardening/cppcheck.supp \
		-I common -I "$top_builddir" -D__GNUC__ "$def" \
		--template='{file}:{line}: {severity}: {id}: {message}' \
		common pam_module cli >"$log" 2>&1
	rc=$?
	sed 's/^/# /' "$log" | tee -a "$SUITE_LOG"
	if [ "$rc" -eq 0 ] && ! [ -s "$log" ]; then
		suite_point PASS "cppcheck $def: common/ pam_module/ cli/ clean"
	else
		suite_point FAIL "cppcheck $def: findings (see above)"
	fi
done
suite_end
