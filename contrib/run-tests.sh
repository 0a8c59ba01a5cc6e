#!/bin/bash
# The README's test command: install the test dependencies, build with
# --enable-werror, run every test and every suite in tests/suites.  Ends with one line
# "N passed, N failed, N skipped" (totals over every TAP test point).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

if [ "$(id -u)" -eq 0 ] && [ "${FLOWTOTP_SKIP_DEPS:-0}" != 1 ]; then
	sh contrib/deps.sh --test || exit 1
fi

build="$top/_build/check"
rm -rf "$build"
mkdir -p "$build" || exit 1
status=0
{
	autoreconf -fi &&
	cd "$build" &&
	"$top/configure" --enable-werror --with-redis &&
	make -j"$(nproc)"
} >"$top/_build/build.log" 2>&1 || {
	tail -n 60 "$top/_build/build.log"
	echo "build failed (full log: _build/build.log)"
	echo "0 passed, 1 failed"
	exit 1
}
cd "$build" || exit 1
make -j"$(nproc)" check || status=1

# The suites in tests/suites write their own .trs files under $build so the
# totals below include them: cppcheck, distcheck (make distcheck with the
# no-root tests, in its own build dir), format (clang-format --dry-run
# -Werror over the tracked C sources), fuzz, sanitizers (ASan+UBSan build,
# Redis tests included) and valgrind (logins and the Redis backend).  They
# run one after another: several start daemons or build trees of their own.
for extra in "$top"/tests/suites/*.sh; do
	[ -e "$extra" ] || continue
	top_srcdir="$top" top_builddir="$build" bash "$extra" || status=1
done

pass=0 fail=0 skip=0
while read -r res; do
	case "$res" in
	PASS|XFAIL) pass=$((pass + 1)) ;;
	FAIL|XPASS|ERROR) fail=$((fail + 1)) ;;
	SKIP) skip=$((skip + 1)) ;;
	esac
done < <(find "$build" -name '*.trs' -exec sed -n 's/^:test-result: *//p' {} +)

if [ "$fail" -gt 0 ]; then
	echo "== failing test points =="
	grep -l -E '^:test-result: (FAIL|ERROR|XPASS)' -r --include='*.trs' "$build" |
	while read -r t; do
		log=${t%.trs}.log
		echo "--- ${log#"$build"/}"
		grep -E '^(not ok|Bail out|#)' "$log" | head -n 40
	done
fi
[ "$fail" -eq 0 ] || status=1
[ "$pass" -gt 0 ] || status=1
echo "$pass passed, $fail failed, $skip skipped"
exit "$status"
