#!/bin/bash
# Format suite: every tracked C source (*.c, *.h) is exactly as clang-format
# (the repo's .clang-format) would write it.  One test point; any drift
# fails it and the diff's first lines are shown.  Outside a git checkout (a
# release tarball) there is no list of tracked files: skipped.
set -u
. "$top_srcdir/tests/hardening/suite-lib.sh"
suite_begin format

CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
# Lines of clang-format's complaints shown for a failing point.
SHOW_LINES=40
log="$SUITE_DIR/clang-format.log"
if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
	suite_point SKIP "clang-format not installed"
elif ! git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	suite_point SKIP "not a git checkout: no list of tracked C sources"
else
	mapfile -t files < <(git -C "$top_srcdir" ls-files -- '*.c' '*.h')
	if [ "${#files[@]}" -eq 0 ]; then
		suite_point FAIL "no tracked C sources found"
	elif (cd "$top_srcdir" &&
		"$CLANG_FORMAT" --dry-run -Werror "${files[@]}") >"$log" 2>&1; then
		suite_point PASS "clang-format --dry-run -Werror: ${#files[@]} C sources, no drift ($("$CLANG_FORMAT" --version | head -n 1))"
	else
		head -n "$SHOW_LINES" "$log" | sed 's/^/# /' | tee -a "$SUITE_LOG"
		suite_point FAIL "clang-format: drift in $(grep -c 'error:' "$log") places (clang-format -i the files above)"
	fi
fi
suite_end
