# Shared by tests/suites/*.sh: results as automake .trs files under
# $top_builddir/suites/NAME so contrib/run-tests.sh counts them, plus TAP on
# stdout.  Sourced, not run.
#   suite_begin NAME     set SUITE_DIR (fresh), start the clock
#   suite_point RESULT DESC [LOGFILE]   one test point (PASS FAIL SKIP ERROR)
#   suite_tap LOG RC     one point per TAP line of a script's output
#   suite_end            write the .trs, print the plan; returns 1 on failure

suite_begin() {
	: "${top_srcdir:?top_srcdir not set}"
	: "${top_builddir:?top_builddir not set}"
	SUITE_NAME=$1
	SUITE_DIR="$top_builddir/suites/$SUITE_NAME"
	rm -rf "$SUITE_DIR"
	mkdir -p "$SUITE_DIR" || exit 1
	SUITE_N=0
	SUITE_FAILED=0
	SUITE_START=$(date +%s)
	: >"$SUITE_DIR/results"
	SUITE_LOG="$SUITE_DIR/$SUITE_NAME.log"
	: >"$SUITE_LOG"
	suite_say "# suite $SUITE_NAME"
}

# Print a line and keep it in NAME.log (next to NAME.trs, where
# contrib/run-tests.sh looks for the TAP lines of failing suites).
suite_say() {
	echo "$*"
	echo "$*" >>"$SUITE_LOG"
}

suite_point() {
	local res=$1 desc=$2 log=${3:-}
	SUITE_N=$((SUITE_N + 1))
	echo ":test-result: $res" >>"$SUITE_DIR/results"
	case $res in
	PASS) suite_say "ok $SUITE_N - $desc" ;;
	SKIP) suite_say "ok $SUITE_N - $desc # SKIP" ;;
	*)
		suite_say "not ok $SUITE_N - $desc"
		SUITE_FAILED=1
		if [ -n "$log" ] && [ -f "$log" ]; then
			tail -n 40 "$log" | sed 's/^/# /' | tee -a "$SUITE_LOG"
		fi
		;;
	esac
}

# suite_tap LOG RC: one point per TAP line of LOG (a script's output); a
# non-zero RC with no failing point is an ERROR point.
suite_tap() {
	local log=$1 rc=$2 line fails=0
	while IFS= read -r line; do
		case $line in
		"not ok "*) suite_point FAIL "${line#not ok * - }"; fails=1 ;;
		"ok "*"# SKIP"*) suite_point SKIP "${line#ok * - }" ;;
		"ok "*) suite_point PASS "${line#ok * - }" ;;
		"1..0 # SKIP"*) suite_point SKIP "${line#1..0 # SKIP }" ;;
		"#"*) suite_say "$line" ;;
		esac
	done <"$log"
	if [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then
		suite_point ERROR "script exited $rc" "$log"
	fi
}

suite_end() {
	local t
	t=$(($(date +%s) - SUITE_START))
	suite_say "1..$SUITE_N"
	suite_say "# suite $SUITE_NAME took ${t}s"
	{
		cat "$SUITE_DIR/results"
		if [ "$SUITE_FAILED" -eq 0 ]; then
			echo ":global-test-result: PASS"
		else
			echo ":global-test-result: FAIL"
		fi
		echo ":recheck: no"
		echo ":copy-in-global-log: no"
	} >"$SUITE_DIR/$SUITE_NAME.trs"
	rm -f "$SUITE_DIR/results"
	[ "$SUITE_FAILED" -eq 0 ]
}
