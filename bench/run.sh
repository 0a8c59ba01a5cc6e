#!/bin/bash
# bench/run.sh: flowtotp against pam_google_authenticator, pam_oath and
# pam_permit, in one run on one machine.  As root, on Debian 12
# with libpam-google-authenticator, libpam-oath and libnss-wrapper:
#
#   bench/run.sh [-b BUILDDIR] [-n LOGINS] [-r REPEATS] [-e "1000 10000 100000"]
#                [-s SAMPLE] [-p] [-o TABLEFILE]
#   bench/run.sh -R [-b BUILDDIR] [-r REPEATS] [-o TABLEFILE]
#
#   -b  build dir (configured if needed; default: a temporary one)
#   -n  logins per run for (a)/(b) (default 1000), -r runs (default 5)
#   -e  enrolled-user counts for (e), -s logins measured at each (default 500)
#   -p  also profile flowtotp (perf, callgrind) and print where time goes
#   -o  also write the table to this file
#   -R  instead, the real-system variant (bench/real.sh): 1,182 real accounts
#       in /etc/passwd, service files in /etc/pam.d, REPEATS runs of 2,001
#       logins per module and path; means and medians, ratios also without
#       the user lookup (all of it removed again at the end)
#
# Fake users come from nss_wrapper (no real accounts), homes, secret files
# and the pam_oath users file live in a temporary directory on disk, the
# flowtotp cache in /dev/shm; everything is removed at the end.  See
# bench/README section in the top README for what each row means.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=
LOGINS=1000
REPEATS=5
ESIZES="1000 10000 100000"
SAMPLE=500
PROFILE=0
REAL=0
OUT=
CHUNK=100               # timed logins per driver process (see drive())
FILL_CHUNK=1000         # untimed bulk logins per driver process ...
FILL_JOBS=2             # ... and processes at once
OATH_SAMPLE=200         # (e) pam_oath logins per size (it rewrites its
                        # whole users file on each: 0.1 s at 100,000 users)
PROCS=20
ROUNDS=20
COLD=40                 # (a1) one-login driver processes per module and run
PAMDIR=/usr/lib/x86_64-linux-gnu/security

while getopts b:n:r:e:s:po:R opt; do
	case $opt in
	b) BUILD=$OPTARG ;;
	n) LOGINS=$OPTARG ;;
	r) REPEATS=$OPTARG ;;
	e) ESIZES=$OPTARG ;;
	s) SAMPLE=$OPTARG ;;
	p) PROFILE=1 ;;
	o) OUT=$OPTARG ;;
	R) REAL=1 ;;
	*) sed -n '2,22p' "$0" >&2; exit 2 ;;
	esac
done

PY=/usr/bin/python3
NSSW=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -n1 || true)
for f in "$PAMDIR/pam_google_authenticator.so" "$PAMDIR/pam_oath.so" \
    "$PAMDIR/pam_permit.so" "$NSSW" "$PY"; do
	[ -e "$f" ] || { echo "run.sh: missing $f (see contrib/deps.sh)" >&2; exit 1; }
done

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- build ----
if [ -z "$BUILD" ]; then
	BUILD=$(mktemp -d /tmp/flowtotp-bench-build.XXXXXX)
	OWN_BUILD=$BUILD
fi
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)    # libpam loads a module only by absolute path
if [ ! -f "$BUILD/Makefile" ]; then
	[ -x "$SRC/configure" ] || (cd "$SRC" && autoreconf -fi)
	log "configuring in $BUILD"
	(cd "$BUILD" && "$SRC/configure" --with-redis=auto >configure.log 2>&1) ||
	    { echo "run.sh: configure failed, see $BUILD/configure.log" >&2; exit 1; }
fi
log "building in $BUILD"
make -C "$BUILD" -j2 bench/pam_bench >/dev/null
FT_OK=1
make -C "$BUILD" -j2 pam_flowtotp.la pam_module/pam_flowtotp_test.la \
    bench/phase_bench >"$BUILD/bench-build.log" 2>&1 || FT_OK=0
CLI=
if make -C "$BUILD" -j2 totp-enroll >>"$BUILD/bench-build.log" 2>&1; then
	CLI=$BUILD/totp-enroll
fi
DRIVER=$BUILD/bench/pam_bench
FTMOD=$BUILD/.libs/pam_flowtotp.so
FTTEST=$BUILD/pam_module/.libs/pam_flowtotp_test.so

if [ "$REAL" = 1 ]; then
	[ "$FT_OK" = 1 ] || { echo "run.sh: pam_flowtotp did not build, see $BUILD/bench-build.log" >&2; exit 1; }
	rc=0
	"$SRC/bench/real.sh" "$BUILD" "$REPEATS" "$OUT" "$PROFILE" || rc=$?
	[ -n "${OWN_BUILD:-}" ] && rm -rf "$OWN_BUILD"
	exit $rc
fi

# ---- work dirs (homes on disk as in real life; the cache in /dev/shm) ----
W=$(mktemp -d "${TMPDIR:-/var/tmp}/flowtotp-bench.XXXXXX")
SHM=$(mktemp -d /dev/shm/flowtotp-bench.XXXXXX)
REDIS_PID=
cleanup() {
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null || true
	rm -rf "$W" "$SHM"
	[ -n "${OWN_BUILD:-}" ] && rm -rf "$OWN_BUILD"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
RES=$W/results.txt
: >"$RES"
mkdir "$W/conf"
# libpam reads "other" too (and logs its absence on every pam_start).
for t in auth account password session; do
	echo "$t required $PAMDIR/pam_deny.so"
done >"$W/conf/other"

# drive LABEL SERVICE USERDIR OFFSET COUNT STRIDE [driver args...]: one
# driver process, with a passwd file holding exactly the users it logs in
# (nss_wrapper scans it linearly, about 30 ns a line: small files keep the
# lookup near what nss "files" costs on an ordinary host).
drive() {
	local label=$1 svc=$2 dir=$3 off=$4 cnt=$5 k=$6
	shift 6
	local pw=${PWFILE:-$W/passwd.run}
	awk -v o="$off" -v n="$cnt" -v k="$k" \
	    'NR > o && (NR - 1 - o) % k == 0 && c < n { print; c++ }' \
	    "$dir/passwd" >"$pw"
	# Their files warm in the page cache, as on a host with frequent
	# logins (this VM drops cold pages; a disk read would swamp the rest).
	sed 's/:.*//' "$pw" | while read -r n; do
		echo "$dir/ft/$n"
		echo "$dir/home/$n/.google_authenticator"
	done | xargs cat 2>/dev/null >/dev/null || true
	[ -f "$dir/users.oath" ] && cat "$dir/users.oath" >/dev/null
	NSS_WRAPPER_PASSWD=$pw NSS_WRAPPER_GROUP=$dir/group \
	    LD_PRELOAD=$NSSW "$DRIVER" -c "$W/conf" -s "$svc" \
	    -u "$dir/users.txt" -o "$off" -n "$cnt" -k "$k" -l "$label" "$@"
}

# used N: users a timed run of N logins takes (one untimed warm-up login
# opens each driver process).
used() { echo $(($1 + ($1 + CHUNK - 1) / CHUNK)); }

# seq_run LABEL SERVICE USERDIR OFFSET COUNT STRIDE [driver args]: COUNT
# timed logins, each a different user, in driver processes of CHUNK logins;
# their samples are merged into one result line.
seq_run() {
	local label=$1 svc=$2 dir=$3 off=$4 cnt=$5 k=$6 n=0 c
	shift 6
	rm -f "$W/raw"
	while ((n < cnt)); do
		c=$((cnt - n < CHUNK ? cnt - n : CHUNK))
		drive "$label" "$svc" "$dir" "$off" $((c + 1)) "$k" -W \
		    -d "$W/raw" "$@" >/dev/null
		off=$((off + (c + 1) * k))
		n=$((n + c))
	done
	"$PY" "$SRC/bench/report.py" --merge "$label" "$W/raw" >>"$RES"
}

# cold_run LABEL SERVICE USERDIR OFFSET COUNT: COUNT driver processes of one
# timed login each, no warm-up: the first login of a process, for which
# libpam loads the module and its libraries (sshd, sudo and login
# authenticate one user per process).  Secret files warm, as in drive().
cold_run() {
	local label=$1 svc=$2 dir=$3 off=$4 cnt=$5 i
	rm -f "$W/raw"
	for ((i = 0; i < cnt; i++)); do
		drive "$label" "$svc" "$dir" $((off + i)) 1 1 -d "$W/raw" \
		    >/dev/null
	done
	"$PY" "$SRC/bench/report.py" --merge "$label" "$W/raw" >>"$RES"
}

# fill LABEL SERVICE USERDIR COUNT [driver args]: every one of the first
# COUNT users logs in once: untimed bulk that fills the flowtotp cache, in
# FILL_JOBS processes at a time (the cache's lock keeps them correct).
fill() {
	local label=$1 svc=$2 dir=$3 cnt=$4 i c j=0 pids=() pid
	shift 4
	rm -f "$W"/raw.fill.*
	for ((i = 0; i < cnt; i += FILL_CHUNK)); do
		c=$((cnt - i < FILL_CHUNK ? cnt - i : FILL_CHUNK))
		PWFILE=$W/passwd.fill.$j drive "$label" "$svc" "$dir" "$i" "$c" 1 \
		    -d "$W/raw.fill.$j" "$@" >/dev/null &
		pids+=($!)
		j=$((j + 1))
		if ((j == FILL_JOBS)); then
			for pid in "${pids[@]}"; do wait "$pid"; done
			pids=()
			j=0
		fi
	done
	for pid in "${pids[@]}"; do wait "$pid"; done
	cat "$W"/raw.fill.* >"$W/raw"
	"$PY" "$SRC/bench/report.py" --merge "$label" "$W/raw" >>"$RES"
}

service() { # NAME MODULE ARGS...
	local name=$1
	shift
	echo "auth required $*" >"$W/conf/$name"
}

# Flowtotp options shared by every flowtotp row: defaults made explicit.
FTARGS="window=1 deny=3 unlock_time=600 fail_interval=900"

# ---- users for (a)-(d) ----
SLICE=$(used "$LOGINS")
# users: (a)/(b) slices, then (c)/(d), then the cold logins, then 2 probes
COFF=$((2 * REPEATS * SLICE))
CCOFF=$((COFF + ROUNDS + PROCS * ROUNDS))
NUSERS=$((CCOFF + REPEATS * COLD + 2))
log "creating $NUSERS users"
"$PY" "$SRC/bench/mkusers.py" "$W/u" "$NUSERS" --ga --oath --ft
U=$W/u
service permit "$PAMDIR/pam_permit.so"
service ga "$PAMDIR/pam_google_authenticator.so"
service oath "$PAMDIR/pam_oath.so usersfile=$U/users.oath window=1"
service ft "$FTMOD secret=$U/ft/%u cache=$SHM/ft.gdbm $FTARGS"
MODULES="permit ga oath"

probe() { # SERVICE USERDIR OFFSET: one good login works?
	drive probe "$1" "$2" "$3" 1 1 2>/dev/null | grep -q ' ok=1 '
}
# Probe users (the last two) are beyond the measured ones.
PROBE=$((NUSERS - 1))
if [ "$FT_OK" = 1 ] && probe ft "$U" "$PROBE"; then
	MODULES="permit ft ga oath"
else
	log "pam_flowtotp does not work yet (build or probe failed): no flowtotp rows"
	FT_OK=0
fi

# Redis: only if the module was built with it and a login through it works.
if [ "$FT_OK" = 1 ] && command -v redis-server >/dev/null; then
	RPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	RPASS=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
	( umask 077; printf '%s\n' "$RPASS" >"$W/redis.pw" )
	redis-server --port "$RPORT" --bind 127.0.0.1 --requirepass "$RPASS" \
	    --save '' --appendonly no --daemonize yes \
	    --pidfile "$W/redis.pid" --logfile "$W/redis.log" >/dev/null
	for _ in $(seq 50); do [ -s "$W/redis.pid" ] && break; sleep 0.1; done
	REDIS_PID=$(cat "$W/redis.pid" 2>/dev/null || true)
	service ftr "$FTMOD secret=$U/ft/%u cache=redis redis_host=127.0.0.1 redis_port=$RPORT redis_tls=no redis_password_file=$W/redis.pw $FTARGS"
	if probe ftr "$U" $((PROBE - 1)); then
		MODULES="permit ft ftr ga oath"
	else
		log "pam_flowtotp with cache=redis does not work yet: no Redis row"
	fi
fi

# ---- (a) success and (b) failure: every user logs in once per run ----
# (replay protection allows one login per user and 30 s step, so each run
# takes fresh users; runs of the modules are interleaved to share the noise)
for ((r = 0; r < REPEATS; r++)); do
	log "(a)/(b) run $((r + 1))/$REPEATS"
	for m in $MODULES; do
		seq_run "a:$m:$r" "$m" "$U" $((2 * r * SLICE)) "$LOGINS" 1
		seq_run "b:$m:$r" "$m" "$U" $(((2 * r + 1) * SLICE)) "$LOGINS" 1 -w
	done
	drive "pw:-:$r" none "$U" $((2 * r * SLICE)) "$CHUNK" 1 -m pw >>"$RES"
	# (a1) the same users for every module: each keeps its own state
	for m in $MODULES; do
		cold_run "a1:$m:$r" "$m" "$U" $((CCOFF + r * COLD)) "$COLD"
	done
done

# ---- (c) same code from PROCS processes, (d) PROCS users at once ----
for m in $MODULES; do
	log "(c)/(d) $m"
	drive "c:$m:0" "$m" "$U" "$COFF" "$ROUNDS" 1 -m same -P "$PROCS" \
	    -R "$ROUNDS" >>"$RES"
	drive "d:$m:0" "$m" "$U" $((COFF + ROUNDS)) $((PROCS * ROUNDS)) 1 \
	    -m diff -P "$PROCS" -R "$ROUNDS" >>"$RES"
done

# ---- (e) cost growth with enrolled users ----
# flowtotp: the test-clock build (same code, time from FLOWTOTP_TEST_NOW), so
# every user can log in at step T0 (filling the cache with N entries) and the
# SAMPLE measured users again one step later.  The others use the real clock:
# their state is per user (google-authenticator) or one users file (pam_oath).
T0=$(( $(date +%s) / 30 * 30 ))
for N in $ESIZES; do
	E=$W/e$N
	# SAMPLE timed logins (plus warm-ups) spread evenly over the N users
	S=$SAMPLE
	while (($(used "$S") > N)); do S=$((S / 2)); done
	K=$((N / $(used "$S")))
	SO=$((S < OATH_SAMPLE ? S : OATH_SAMPLE))
	KO=$((N / $(used "$SO")))
	log "(e) $N enrolled users: creating"
	# google-authenticator's files only for the users it logs in (every
	# K-th): each login reads only its own user's file.
	"$PY" "$SRC/bench/mkusers.py" "$E" "$N" --ga-every="$K" --oath --ft
	service "eoath$N" "$PAMDIR/pam_oath.so usersfile=$E/users.oath window=1"
	if [ "$FT_OK" = 1 ]; then
		service "eft$N" "$FTTEST secret=$E/ft/%u cache=$SHM/e$N.gdbm $FTARGS"
		log "(e) $N: flowtotp cache fill ($N logins at T0)"
		fill "fill:ft:$N" "eft$N" "$E" "$N" -t "$T0"
		echo "label=esize:ft:$N bytes=$(stat -c %s "$SHM/e$N.gdbm") logins=$N users=$N" >>"$RES"
		seq_run "e:ft:$N" "eft$N" "$E" 0 "$S" "$K" -t $((T0 + 30))
	fi
	log "(e) $N: google-authenticator ($S logins), pam_oath ($SO logins)"
	seq_run "e:ga:$N" ga "$E" 0 "$S" "$K"
	seq_run "e:oath:$N" "eoath$N" "$E" 0 "$SO" "$KO"
	echo "label=esize:oath:$N bytes=$(stat -c %s "$E/users.oath") logins=$SO users=$N" >>"$RES"
	# (f) the CLI over this many enrolled users
	if [ -n "$CLI" ] && [ "$FT_OK" = 1 ] && [ -x "$SRC/bench/cli_time.sh" ]; then
		"$SRC/bench/cli_time.sh" "$CLI" "$E" "$SHM/e$N.gdbm" "$N" "$NSSW" \
		    >>"$RES" 2>>"$W/cli.log" || log "(f) $N: CLI timing failed (see below)"
	fi
	rm -rf "$E"
done

# Cache size after 100,000 logins over 10,000 users: ten steps, each user
# once per step (test clock moving forward one step per pass).
if [ "$FT_OK" = 1 ]; then
	G=$W/g
	GU=10000
	GP=10
	log "(e) cache growth: $((GU * GP)) logins over $GU users"
	"$PY" "$SRC/bench/mkusers.py" "$G" "$GU" --ft
	service grow "$FTTEST secret=$G/ft/%u cache=$SHM/grow.gdbm $FTARGS"
	for ((p = 0; p < GP; p++)); do
		fill "g:ft:$p" grow "$G" "$GU" -t $((T0 + 30 * p))
		echo "label=gsize:ft:$p bytes=$(stat -c %s "$SHM/grow.gdbm") logins=$((GU * (p + 1))) users=$GU" >>"$RES"
	done
fi

# ---- the table ----
MACHINE="$(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) cores, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), libpam $(dpkg-query -W -f='${Version}' libpam0g 2>/dev/null || echo '?'), homes on $(df --output=fstype "$W" | tail -n1), load average at start $LOAD0, at end $(cut -d' ' -f1-3 /proc/loadavg), $((SECONDS / 60)) min"
TABLE=$("$PY" "$SRC/bench/report.py" "$RES" "$MACHINE" "$LOGINS" "$REPEATS" \
    "$PROCS" "$ROUNDS" "$FILL_JOBS")
printf '%s\n' "$TABLE"
[ -n "$OUT" ] && printf '%s\n' "$TABLE" >"$OUT"
if [ -s "$W/cli.log" ]; then
	echo "--- CLI errors:" >&2
	cat "$W/cli.log" >&2
fi

# ---- where flowtotp's time goes ----
if [ "$PROFILE" = 1 ] && [ "$FT_OK" = 1 ] && [ -x "$SRC/bench/profile.sh" ]; then
	"$SRC/bench/profile.sh" "$BUILD" "$NSSW" "$SRC" "$FTMOD" \
	    "secret=@W@/u/ft/%u" "cache=@SHM@/prof.gdbm" $FTARGS || true
fi
