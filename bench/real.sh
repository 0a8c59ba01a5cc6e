#!/bin/bash
# bench/real.sh: the modules on a real system: real accounts in /etc/passwd
# (nss "files"), service files in /etc/pam.d, each module alone in the auth
# stack, an in-process pam_start -> pam_authenticate -> pam_end loop.
# Called by `bench/run.sh -R` (which builds); by hand, as root:
#
#   bench/real.sh BUILDDIR [REPEATS [TABLEFILE [PROFILE]]]
#
# Adds NUSERS accounts ftb_000000.. (uids UID0.., password "*", shell
# nologin; bench/realusers.py, under the locks useradd takes), then per run
# and module logs MEASURED of them in, spread evenly over the file, once per
# step offset -1, 0, +1 (2,001 logins), with the right code (success) and
# with a wrong one (failure).  The driver also times the passwd lookups each
# login makes (bench/lookuptimer.c), so the report can show the ratio
# without them.  The accounts, the /etc/pam.d files and the work directories
# are removed on every exit (trap), also after a failure or ^C.
# PROFILE=1 (run.sh -R -p) then also shows where flowtotp's time goes with
# those accounts: bench/phase_bench step by step, flowtotp without the site
# configuration file, strace -c and perf (if installed).
# REAL_HOOK=CMD runs CMD (bash -c) with the accounts and services in place
# instead of the runs, for looking closer; it sees $W (work dir: measured.txt
# holds the measured users), $DRIVER, $SVC (service prefix: ${SVC}ft, ...)
# and $FTLINE, and everything is removed after it as usual.
set -euo pipefail

BUILD=$(cd "$1" && pwd) # libpam loads a module only by absolute path
REPEATS=${2:-3}
OUT=${3:-}
PROFILE=${4:-0}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
PAMDIR=/usr/lib/x86_64-linux-gnu/security
PREFIX=ftb_             # distinctive: never a real user's name
NUSERS=1182
MEASURED=667
STEPS=-1,0,1
UID0=3100000            # far above useradd's and systemd's ranges
LOCK=/run/flowtotp-bench-real.lock
FTARGS="window=1 deny=3 unlock_time=600 fail_interval=900"
DRIVER=$BUILD/bench/pam_bench
FTMOD=$BUILD/.libs/pam_flowtotp.so

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
[ "$(id -u)" = 0 ] || { echo "real.sh: needs root" >&2; exit 1; }
for f in "$DRIVER" "$FTMOD" "$PAMDIR/pam_google_authenticator.so" \
    "$PAMDIR/pam_oath.so" "$PAMDIR/pam_permit.so"; do
	[ -e "$f" ] || { echo "real.sh: missing $f" >&2; exit 1; }
done

# One real-system run at a time (they would share the accounts).
exec 9>"$LOCK"
flock -n 9 || { echo "real.sh: another run holds $LOCK" >&2; exit 1; }

W=
SHM=
SERVICES=()
cleanup() {
	local s
	"$PY" "$SRC/bench/realusers.py" del "$PREFIX" "$UID0" "$NUSERS" ||
	    echo "real.sh: REMOVE the $PREFIX* users from /etc/passwd by hand" >&2
	for s in "${SERVICES[@]}"; do rm -f "/etc/pam.d/$s"; done
	[ -n "$W" ] && rm -rf "$W"
	[ -n "$SHM" ] && rm -rf "$SHM"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# REAL_WORKDIR=/dev/shm puts homes and secret files on tmpfs: then no
# module pays for a disk (google-authenticator fsyncs its rewritten file at
# every login, which on a busy disk costs milliseconds).
W=$(mktemp -d "${REAL_WORKDIR:-/var/tmp}/flowtotp-real.XXXXXX")
SHM=$(mktemp -d /dev/shm/flowtotp-real.XXXXXX)
chmod 0711 "$W" # the users reach their homes below it
RES=$W/results.txt
: >"$RES"
U=$W/u

# service NAME LINE: /etc/pam.d/ftb-PID-NAME holding only LINE.
service() {
	local s=ftb-$$-$1
	SERVICES+=("$s")
	(set -o noclobber; echo "auth required $2" >"/etc/pam.d/$s")
}

log "creating $NUSERS accounts ${PREFIX}* in /etc/passwd"
"$PY" "$SRC/bench/mkusers.py" "$U" "$NUSERS" --ga --oath --ft \
    --prefix="$PREFIX" --uid0="$UID0"
"$PY" "$SRC/bench/realusers.py" add "$PREFIX" "$NUSERS" "$UID0" "$U/home"
# The site configuration a package installs (every option at its default),
# read at every login as /etc/security/flowtotp.conf would be.
install -m 0644 "$SRC/contrib/flowtotp.conf.example" "$W/flowtotp.conf"
service permit "$PAMDIR/pam_permit.so"
service ga "$PAMDIR/pam_google_authenticator.so"
service oath "$PAMDIR/pam_oath.so usersfile=$U/users.oath window=1"
FTLINE="secret=$U/ft/%u cache=$SHM/ft.gdbm $FTARGS"
service ft "$FTMOD conf=$W/flowtotp.conf $FTLINE"
# The same without a configuration file (the built-in default path, absent).
service ftnoconf "$FTMOD $FTLINE"
MODULES="permit ft ga oath"

# The measured users, evenly over the accounts (the first one only warms
# the process up): lookups cost what they cost across the whole file.
awk -v n="$NUSERS" -v m="$MEASURED" \
    'BEGIN { for (i = 0; i <= m; i++) want[int(i * (n - 1) / m)] = 1 }
     (NR - 1) in want' "$U/users.txt" >"$W/measured.txt"

# fresh: every module's replay and rate-limit state as new (a run logs
# every user in three times, google-authenticator's RATE_LIMIT 3 30 allows
# exactly that), files warm in the page cache.
fresh() {
	rm -f "$SHM"/ft.gdbm*
	"$PY" "$SRC/bench/mkusers.py" "$U" "$NUSERS" --ga --oath --ft \
	    --prefix="$PREFIX" --uid0="$UID0"
	cat "$U"/ft/* "$U"/home/*/.google_authenticator "$U/users.oath" \
	    /etc/passwd >/dev/null
}

# drive KIND MODULE RUN [driver args]
drive() {
	local kind=$1 m=$2 r=$3
	shift 3
	rm -f "$W/raw"
	"$DRIVER" -s "ftb-$$-$m" -u "$W/measured.txt" -W -S "$STEPS" -L \
	    -d "$W/raw" -l "$kind:$m:$r" "$@" >/dev/null
	"$PY" "$SRC/bench/report.py" --merge "$kind:$m:$r" "$W/raw" >>"$RES"
}

# Every module must accept one good login, or its figures mean nothing.
fresh
for m in $MODULES; do
	if ! PAM_BENCH_SHOWLOG=1 "$DRIVER" -s "ftb-$$-$m" -u "$W/measured.txt" \
	    -n 1 -l "probe:$m" 2>"$W/probe.log" | grep -q ' ok=1 '; then
		echo "real.sh: a good login through $m failed:" >&2
		cat "$W/probe.log" >&2
		exit 1
	fi
done

if [ -n "${REAL_HOOK:-}" ]; then
	W=$W DRIVER=$DRIVER SVC=ftb-$$- FTLINE=$FTLINE SHM=$SHM \
	    bash -c "$REAL_HOOK" || true
	exit 0
fi

# Opens of /etc/passwd per login, counted with strace over a few logins: a
# cross-check of the lookups the driver counts (a lookup through another
# nss source, or one from inside libc, would show here only).
if command -v strace >/dev/null; then
	fresh
	for m in $MODULES; do
		strace -f -e trace=openat -o "$W/strace.$m" "$DRIVER" \
		    -s "ftb-$$-$m" -u "$W/measured.txt" -n 21 -W \
		    -l "lookups:$m:0" >/dev/null
		n=$(grep -c '"/etc/passwd"' "$W/strace.$m" || true)
		echo "label=lookups:$m:0 per_login=$(awk -v n="$n" 'BEGIN { printf "%.2f", n / 21 }')" >>"$RES"
	done
fi

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 0; r < REPEATS; r++)); do
	order=$MODULES
	# Alternate the order so that drift of the machine's load is shared.
	((r % 2 == 1)) && order=$(echo "$MODULES" | tr ' ' '\n' | tac | tr '\n' ' ')
	for kind in a b; do
		log "run $((r + 1))/$REPEATS: $([ $kind = a ] && echo success || echo failure) path"
		fresh
		for m in $order; do
			if [ $kind = a ]; then drive a "$m" "$r"; else drive b "$m" "$r" -w; fi
		done
	done
done

MACHINE="$(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) cores, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), libpam $(dpkg-query -W -f='${Version}' libpam0g 2>/dev/null || echo '?'), $(wc -l </etc/passwd) lines in /etc/passwd, homes on $(df --output=fstype "$W" | tail -n1), load average at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg)"
TABLE=$("$PY" "$SRC/bench/report.py" --real "$RES" "$MACHINE" "$REPEATS" \
    "$MEASURED" "$STEPS")
printf '%s\n' "$TABLE"
[ -n "$OUT" ] && printf '%s\n' "$TABLE" >"$OUT"
[ "$PROFILE" = 1 ] || exit 0

# ---- where flowtotp's time goes, with these accounts ----
PHASE=$BUILD/bench/phase_bench
for w in "" -w; do
	what=${w:+failure}
	echo
	echo "##### ${what:-success} path"
	if [ -x "$PHASE" ]; then
		fresh
		echo "=== steps through the library (bench/phase_bench):"
		"$PHASE" -u "$W/measured.txt" -n "$MEASURED" $w \
		    conf="$W/flowtotp.conf" $FTLINE
	fi
	fresh
	echo "=== pam_authenticate with and without the configuration file (us):"
	for m in ft ftnoconf ft ftnoconf; do
		rm -f "$SHM"/ft.gdbm*
		"$DRIVER" -s "ftb-$$-$m" -u "$W/measured.txt" -W -n 301 \
		    -l "$m" $w | tr ' ' '\n' | grep -E '^(label|ok|auth_mean_us|auth_med_us)=' | tr '\n' ' '
		echo
	done
	if command -v strace >/dev/null; then
		fresh
		echo "=== strace -c, 200 logins through flowtotp:"
		strace -c -o "$W/strace.c" "$DRIVER" -s "ftb-$$-ft" \
		    -u "$W/measured.txt" -W -n 201 $w >/dev/null
		head -n 25 "$W/strace.c"
	fi
	if command -v perf >/dev/null; then
		fresh
		echo "=== perf (DWARF call graphs, $MEASURED logins):"
		perf record -q -F 5000 --call-graph dwarf,16384 -o "$W/perf.data" \
		    -- "$DRIVER" -s "ftb-$$-ft" -u "$W/measured.txt" -W $w \
		    >/dev/null 2>"$W/perf.err" || cat "$W/perf.err" >&2
		perf script -i "$W/perf.data" 2>/dev/null |
		    "$PY" "$SRC/bench/perf_split.py" pam_authenticate \
		    ftpam_authenticate 30 || true
		rm -f "$W/perf.data"
	fi
done
exit 0
