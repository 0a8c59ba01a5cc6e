# TAP helpers for shell tests: source this file.
# ok COND-EXIT DESCRIPTION: use as `cmd; ok $? "desc"` or `ok_cmd desc cmd...`.
tap_n=0
tap_fail=0
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_fail=$((tap_fail + 1))
	fi
}
ok_cmd() {
	desc=$1; shift
	"$@" >/dev/null 2>&1
	ok $? "$desc"
}
is() {
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got '$1', want '$2'"; fi
}
diag() { echo "# $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
done_testing() { echo "1..$tap_n"; [ "$tap_fail" -eq 0 ]; }
