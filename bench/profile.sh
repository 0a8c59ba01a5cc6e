#!/bin/bash
# bench/profile.sh: where a module's pam_authenticate time goes.
#
#   bench/profile.sh BUILDDIR NSS_WRAPPER SRCDIR MODULE.so [MODULE ARGS...]
#
# In MODULE ARGS, @W@ stands for the work directory (users: @W@/u, secret
# files @W@/u/ft/%u, homes @W@/u/home, pam_oath file @W@/u/users.oath) and
# @SHM@ for a directory in /dev/shm.  Prints, for successful and for failed
# logins:
#   1. (flowtotp only) each step of a login timed through the library
#      (BUILDDIR/bench/phase_bench): wall-clock µs, no profiler overhead;
#   2. perf with DWARF call graphs, reduced to the samples under
#      pam_authenticate (bench/perf_split.py): phases and inclusive shares;
#   3. callgrind instruction counts collected inside pam_authenticate only.
# Called by run.sh -p with the flowtotp module; usable on any module, e.g.
#   bench/profile.sh B /usr/lib/x86_64-linux-gnu/libnss_wrapper.so . \
#       /usr/lib/x86_64-linux-gnu/security/pam_google_authenticator.so
set -euo pipefail

BUILD=$1 NSSW=$2 SRC=$3 MOD=$4
shift 4
LOGINS=${LOGINS:-100}           # per process: keeps the passwd file small
PROCS=${PROCS:-5}               # perf runs: PROCS x LOGINS logins
CG_LOGINS=${CG_LOGINS:-200}
TOP=${TOP:-25}
PAMDIR=/usr/lib/x86_64-linux-gnu/security
DRIVER=$BUILD/bench/pam_bench
PHASE=$BUILD/bench/phase_bench

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
NUSERS=$(((2 * PROCS + 1) * (LOGINS + 1) * 2 + 2 * CG_LOGINS + 2))
/usr/bin/python3 "$SRC/bench/mkusers.py" "$W/u" "$NUSERS" --ga --oath --ft
# Secret files warm in the page cache, as on a host with frequent logins.
cat "$W/u/ft/"* "$W/u/home/"*/.google_authenticator "$W/u/users.oath" \
    >/dev/null
NEXT=0

# with_users COUNT CMD...: run CMD with nss_wrapper serving the next COUNT
# users (and only them); sets OFF to their first index.
with_users() {
	local n=$1
	shift
	OFF=$NEXT
	NEXT=$((NEXT + n))
	sed -n "$((OFF + 1)),$((OFF + n))p" "$W/u/passwd" >"$W/passwd.run"
	NSS_WRAPPER_PASSWD=$W/passwd.run NSS_WRAPPER_GROUP=$W/u/group \
	    LD_PRELOAD=$NSSW "$@"
}

echo "module: $MOD ${ARGS[*]}"
# Fill the cache a little, like a running system.
with_users $((LOGINS + 1)) "$DRIVER" -c "$W/conf" -s prof \
    -u "$W/u/users.txt" -o "$NEXT" -n $((LOGINS + 1)) >/dev/null

for w in "" -w; do
	what=${w:+failure}
	what=${what:-success}
	echo
	echo "##### $what path"
	case $MOD in
	*pam_flowtotp*)
		if [ -x "$PHASE" ]; then
			echo "=== steps of a login through the library ($LOGINS logins):"
			with_users "$LOGINS" "$PHASE" -u "$W/u/users.txt" \
			    -o "$NEXT" -n "$LOGINS" $w "${ARGS[@]}"
		fi
		;;
	esac
	if command -v perf >/dev/null; then
		echo "=== perf (DWARF call graphs, $PROCS x $LOGINS logins; profiler overhead inflates syscalls):"
		rm -f "$W/perf.txt"
		for ((p = 0; p < PROCS; p++)); do
			with_users $((LOGINS + 1)) perf record -q -F 5000 \
			    --call-graph dwarf,16384 -o "$W/perf.data" -- \
			    "$DRIVER" -c "$W/conf" -s prof -u "$W/u/users.txt" \
			    -o "$NEXT" -n $((LOGINS + 1)) -W $w >/dev/null \
			    2>"$W/perf.err" || { echo "(perf failed: $(tail -n1 "$W/perf.err"))"; break; }
			perf script -i "$W/perf.data" 2>/dev/null >>"$W/perf.txt"
			echo >>"$W/perf.txt"
		done
		[ -s "$W/perf.txt" ] && /usr/bin/python3 "$SRC/bench/perf_split.py" \
		    pam_authenticate ftpam_authenticate "$TOP" <"$W/perf.txt"
	fi
	if command -v valgrind >/dev/null; then
		echo "=== callgrind, instructions inside pam_authenticate ($CG_LOGINS logins), inclusive:"
		with_users "$CG_LOGINS" valgrind --tool=callgrind \
		    --toggle-collect=pam_authenticate \
		    --callgrind-out-file="$W/cg.out" "$DRIVER" -c "$W/conf" \
		    -s prof -u "$W/u/users.txt" -o "$NEXT" -n "$CG_LOGINS" $w \
		    >/dev/null 2>"$W/cg.err" ||
		    echo "(valgrind failed: $(tail -n1 "$W/cg.err"))"
		[ -s "$W/cg.out" ] && { callgrind_annotate --inclusive=yes \
		    "$W/cg.out" 2>/dev/null | sed -n '/file:function/,$p' |
		    grep -v -e '^-' -e 'file:function' |
		    grep -v -e 'libc-start' -e 'below main' -e 'pam_bench' \
		    -e '0x000000000001ab70' | head -n "$TOP" || true; }
		rm -f "$W/cg.out"
	fi
done
