#!/bin/bash
# bench/profile.sh: where a module's pam_authenticate time goes.
#
#   bench/profile.sh DRIVER NSS_WRAPPER SRCDIR MODULE.so [MODULE ARGS...]
#
# In MODULE ARGS, @W@ stands for the work directory (users: @W@/u, secret
# files @W@/u/ft/%u, homes @W@/u/home, pam_oath file @W@/u/users.oath) and
# @SHM@ for a directory in /dev/shm.  Prints perf's flat profile (by shared
# object and symbol) of LOGINS successful and LOGINS failed logins, then
# callgrind's inclusive costs for a smaller run.  Called by run.sh -p with
# the flowtotp module; usable on any module, e.g.
#   bench/profile.sh B/bench/pam_bench /usr/lib/x86_64-linux-gnu/libnss_wrapper.so . \
#       /usr/lib/x86_64-linux-gnu/security/pam_google_authenticator.so
set -euo pipefail

DRIVER=$1 NSSW=$2 SRC=$3 MOD=$4
shift 4
LOGINS=${LOGINS:-2000}
CG_LOGINS=${CG_LOGINS:-300}
TOP=${TOP:-25}
PAMDIR=/usr/lib/x86_64-linux-gnu/security

W=$(mktemp -d "${TMPDIR:-/var/tmp}/flowtotp-prof.XXXXXX")
SHM=$(mktemp -d /dev/shm/flowtotp-prof.XXXXXX)
trap 'rm -rf "$W" "$SHM"' EXIT
mkdir "$W/conf"
# libpam reads "other" too (and logs its absence on every pam_start).
for t in auth account password session; do
	echo "$t required $PAMDIR/pam_deny.so"
done >"$W/conf/other"
ARGS=()
for a in "$@"; do
	a=${a//@W@/$W}
	ARGS+=("${a//@SHM@/$SHM}")
done
echo "auth required $MOD ${ARGS[*]}" >"$W/conf/prof"
NUSERS=$((4 * LOGINS + 2 * CG_LOGINS))
/usr/bin/python3 "$SRC/bench/mkusers.py" "$W/u" "$NUSERS" --ga --oath --ft

run() { # OFFSET COUNT [driver args] (passwd holds exactly those users)
	local off=$1 n=$2
	shift 2
	sed -n "$((off + 1)),$((off + n))p" "$W/u/passwd" >"$W/passwd.run"
	NSS_WRAPPER_PASSWD=$W/passwd.run NSS_WRAPPER_GROUP=$W/u/group \
	    LD_PRELOAD=$NSSW "$@" -c "$W/conf" -s prof -u "$W/u/users.txt" \
	    -o "$off" -n "$n"
}
perf_flat() { # TITLE OFFSET [-w]
	local title=$1 off=$2
	shift 2
	echo "=== perf, $title: $LOGINS logins, % of samples by object/symbol ==="
	run "$off" "$LOGINS" perf record -q -F 4999 -g -o "$W/perf.data" \
	    -- "$DRIVER" -l prof "$@" >/dev/null 2>"$W/perf.err" || {
		echo "(perf failed: $(tail -n1 "$W/perf.err"))"
		return 0
	}
	perf report -i "$W/perf.data" --no-children --sort dso,sym --stdio \
	    2>/dev/null | grep -E '^ +[0-9.]+%' | head -n "$TOP" || true
	echo "--- inclusive (children), top $TOP:"
	perf report -i "$W/perf.data" --children --sort sym --stdio -g none \
	    2>/dev/null | grep -E '^ +[0-9.]+%' | head -n "$TOP" || true
}

echo "module: $MOD ${ARGS[*]}"
# Warm the page cache/cache file like a running system, then profile.
run 0 "$LOGINS" "$DRIVER" -l warm >/dev/null
perf_flat "success path" "$LOGINS"
perf_flat "failure path" $((2 * LOGINS)) -w

if command -v valgrind >/dev/null; then
	for w in "" -w; do
		off=$((4 * LOGINS + (${#w} > 0 ? CG_LOGINS : 0)))
		echo "=== callgrind, ${w:+failure}${w:-success} path: $CG_LOGINS logins, inclusive Ir ==="
		run "$off" "$CG_LOGINS" valgrind --tool=callgrind \
		    --callgrind-out-file="$W/cg.out" "$DRIVER" -l cg $w \
		    >/dev/null 2>"$W/cg.err" || {
			echo "(valgrind failed: $(tail -n1 "$W/cg.err"))"
			continue
		}
		callgrind_annotate --inclusive=yes "$W/cg.out" 2>/dev/null |
		    sed -n '/Ir/,$p' | grep -v '^-' | head -n $((TOP + 3)) || true
	done
fi
