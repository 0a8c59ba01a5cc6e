#!/bin/bash
# Fuzzing suite: build the libFuzzer targets with clang in their own
# build dir and run each for FLOWTOTP_FUZZ_SECONDS (default 60) seconds, two
# at a time; any crash, leak, sanitizer report or broken invariant fails.
# Reports the number of executions per target.  Crash inputs are kept in
# $top_builddir/suites/fuzz/artifacts.
set -u
. "$top_srcdir/tests/hardening/suite-lib.sh"
suite_begin fuzz

secs=${FLOWTOTP_FUZZ_SECONDS:-60}
targets="fuzz_secretfile fuzz_conf fuzz_base32_uri fuzz_backup fuzz_pam
	fuzz_gafile fuzz_helper_args fuzz_oathfile"
cc=$(command -v clang || command -v clang-14 || true)
if [ -z "$cc" ]; then
	for t in $targets; do suite_point SKIP "$t: clang not installed"; done
	suite_end
	exit $?
fi

bdir="$top_builddir/../fuzz"
mkdir -p "$bdir" "$SUITE_DIR/artifacts" || exit 1
bdir=$(cd "$bdir" && pwd)
blog="$SUITE_DIR/build.log"
if ( cd "$bdir" &&
	{ [ -f Makefile ] || "$top_srcdir/configure" CC="$cc" --enable-fuzzing \
		--without-redis; } &&
	make -j"$(nproc)" fuzz ) >"$blog" 2>&1; then
	suite_point PASS "build the fuzz targets (clang, $bdir)"
else
	suite_point FAIL "build the fuzz targets (clang, $bdir)" "$blog"
	suite_end
	exit 1
fi

run_one() {
	local t=$1 work="$SUITE_DIR/corpus/$1" log="$SUITE_DIR/$1.log"
	mkdir -p "$work"
	# -timeout: one input taking 25 s is a hang; the outer timeout is a
	# backstop should libFuzzer itself hang.
	timeout -k 10 $((secs + 120)) "$bdir/tests/fuzz/$t" \
		-max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
		-print_final_stats=1 \
		-artifact_prefix="$SUITE_DIR/artifacts/$t-" \
		"$work" "$top_srcdir/tests/fuzz/corpus/$t" >"$log" 2>&1
	echo $? >"$SUITE_DIR/$t.rc"
}

set -- $targets
while [ $# -gt 0 ]; do
	run_one "$1" &
	if [ $# -gt 1 ]; then
		run_one "$2" &
		wait
		shift 2
	else
		wait
		shift
	fi
done

total=0
for t in $targets; do
	log="$SUITE_DIR/$t.log"
	rc=$(cat "$SUITE_DIR/$t.rc" 2>/dev/null || echo 99)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	execs=${execs:-0}
	total=$((total + execs))
	if [ "$rc" -eq 0 ] && [ "$execs" -gt 0 ]; then
		suite_point PASS "$t: ${secs}s, $execs executions, no crash"
	else
		suite_point FAIL "$t: exit $rc after $execs executions" "$log"
	fi
done
suite_say "# fuzz: $total executions in total"
suite_end
