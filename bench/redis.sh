#!/bin/bash
# bench/redis.sh: the success path of pam_flowtotp with cache=redis over
# each transport against the gdbm cache, on one machine (loopback).  As
# root, on Debian 12 with redis-server, openssl and libnss-wrapper:
#
#   bench/redis.sh -b BUILDDIR [-B OLDBUILDDIR] [-n LOGINS] [-r REPEATS]
#
#   -b  a build dir configured --with-redis (built here if needed)
#   -B  another one (say, of an earlier commit): its module gets the three
#       Redis rows too, interleaved with the others ("before: ..."), so a
#       change is measured under the same machine noise
#   -n  timed logins per module and run (default 500), -r runs (default 5)
#
# One redis-server (requirepass, no persistence) listens on a plain port,
# a TLS port (a CA made here with openssl; the module verifies it) and a
# Unix socket in a root-owned directory.  Rows: ft (gdbm in /dev/shm), ftr
# (plain TCP, redis_tls=no), ftrs (redis_socket), ftrt (TLS).  Each login
# is a new user (nss_wrapper), through real libpam in-process
# (bench/pam_bench), with the runs interleaved so machine noise hits every
# row alike.  Prints one line per row: medians over the runs of each run's
# median and mean pam_authenticate time, and the ratio to gdbm.
# PERF_ROW=MODULE PERF_OUT=FILE [PERF_CMD="perf record -g -o"]: run that
# row's drivers under a profiler (one output file per driver process).
# Also prints, per row, the server's own time per call of each command
# (INFO commandstats, reset before every run; medians over the runs), and
# the floor: bench/redis_floor's connect + AUTH + EVALSHA "return 1" +
# close, without flowtotp, over plain TCP and the socket, in every run,
# back to back and with the server idle for 100 us before each (as a
# login's other work leaves it).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=
LOGINS=500
REPEATS=5
CHUNK=100
PAMDIR=/usr/lib/x86_64-linux-gnu/security

OLD=
while getopts b:B:n:r: opt; do
	case $opt in
	b) BUILD=$OPTARG ;;
	B) OLD=$(cd "$OPTARG" && pwd) ;;
	n) LOGINS=$OPTARG ;;
	r) REPEATS=$OPTARG ;;
	*) sed -n '2,29p' "$0" >&2; exit 2 ;;
	esac
done
[ -n "$BUILD" ] || { sed -n '2,29p' "$0" >&2; exit 2; }
BUILD=$(cd "$BUILD" && pwd)
PY=/usr/bin/python3
NSSW=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -n1 || true)
for f in "$NSSW" "$PY" "$(command -v redis-server)" "$(command -v openssl)"; do
	[ -e "$f" ] || { echo "redis.sh: missing ${f:-a tool} (see contrib/deps.sh)" >&2; exit 1; }
done
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

make -C "$BUILD" -j2 bench/pam_bench bench/redis_floor pam_flowtotp.la >/dev/null
DRIVER=$BUILD/bench/pam_bench
FLOOR=$BUILD/bench/redis_floor
MODS="ft ftr ftrs ftrt"
if [ -n "$OLD" ]; then
	make -C "$OLD" -j2 pam_flowtotp.la >/dev/null
	MODS="$MODS ftr0 ftrs0 ftrt0"
fi
NMODS=$(echo $MODS | wc -w)
FTMOD=$BUILD/.libs/pam_flowtotp.so

W=$(mktemp -d "${TMPDIR:-/var/tmp}/flowtotp-rbench.XXXXXX")
SHM=$(mktemp -d /dev/shm/flowtotp-rbench.XXXXXX)
REDIS_PID=
cleanup() {
	if [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null; then
		for _ in $(seq 50); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -rf "$W" "$SHM"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -m 700 "$W/conf" "$W/run" "$W/pki"
echo "auth required $PAMDIR/pam_deny.so" >"$W/conf/other"
RES=$W/results.txt
: >"$RES"

# ---- a CA and a server certificate for 127.0.0.1 ----
P=$W/pki
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 2 -subj "/CN=flowtotp bench CA" -keyout "$P/ca.key" \
    -out "$P/ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=127.0.0.1" -keyout "$P/srv.key" -out "$P/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$P/ext"
openssl x509 -req -in "$P/srv.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" \
    -set_serial 1 -days 2 -extfile "$P/ext" -out "$P/srv.pem" 2>/dev/null

# ---- one server, three ways in ----
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port)
TPORT=$(free_port)
RPASS=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
( umask 077; printf '%s\n' "$RPASS" >"$W/redis.pw" )
SOCK=$W/run/redis.sock
redis-server --port "$RPORT" --bind 127.0.0.1 --requirepass "$RPASS" \
    --tls-port "$TPORT" --tls-cert-file "$P/srv.pem" \
    --tls-key-file "$P/srv.key" --tls-ca-cert-file "$P/ca.pem" \
    --tls-auth-clients no --unixsocket "$SOCK" --unixsocketperm 700 \
    --save '' --appendonly no --daemonize yes \
    --pidfile "$W/redis.pid" --logfile "$W/redis.log" >/dev/null
for _ in $(seq 50); do [ -S "$SOCK" ] && [ -s "$W/redis.pid" ] && break; sleep 0.1; done
REDIS_PID=$(cat "$W/redis.pid")

FTARGS="window=1 deny=3 unlock_time=600 fail_interval=900"
RARGS="cache=redis redis_password_file=$W/redis.pw $FTARGS"
service() { local n=$1; shift; echo "auth required $*" >"$W/conf/$n"; }

# ---- users: a fresh slice for every module and run ----
SLICE=$((LOGINS + LOGINS / CHUNK + 1))
NUSERS=$((NMODS * REPEATS * SLICE + NMODS))
log "creating $NUSERS users"
"$PY" "$SRC/bench/mkusers.py" "$W/u" "$NUSERS" --ft
U=$W/u
service ft "$FTMOD secret=$U/ft/%u cache=$SHM/ft.gdbm $FTARGS"
redis_rows() { # SUFFIX MODULE
	service "ftr$1" "$2 secret=$U/ft/%u redis_host=127.0.0.1 redis_port=$RPORT redis_tls=no $RARGS"
	service "ftrs$1" "$2 secret=$U/ft/%u redis_socket=$SOCK $RARGS"
	service "ftrt$1" "$2 secret=$U/ft/%u redis_host=127.0.0.1 redis_port=$TPORT redis_tls_ca=$P/ca.pem $RARGS"
}
redis_rows "" "$FTMOD"
[ -z "$OLD" ] || redis_rows 0 "$OLD/.libs/pam_flowtotp.so"

drive() { # LABEL SERVICE OFFSET COUNT [driver args]
	local label=$1 svc=$2 off=$3 cnt=$4
	shift 4
	awk -v o="$off" -v n="$cnt" 'NR > o && c < n { print; c++ }' \
	    "$U/passwd" >"$W/passwd.run"
	local wrap=()
	[ "${PERF_ROW:-}" = "$svc" ] && wrap=(${PERF_CMD:-perf record -q -g -o} "$PERF_OUT.$off")
	NSS_WRAPPER_PASSWD=$W/passwd.run NSS_WRAPPER_GROUP=$U/group \
	    LD_PRELOAD=$NSSW "${wrap[@]}" "$DRIVER" -c "$W/conf" -s "$svc" -u "$U/users.txt" \
	    -o "$off" -n "$cnt" -k 1 -l "$label" "$@"
}
rcli() { redis-cli -s "$SOCK" -a "$RPASS" --no-auth-warning "$@"; }
seq_run() { # LABEL SERVICE OFFSET
	local label=$1 svc=$2 off=$3 n=0 c
	rm -f "$W/raw"
	rcli CONFIG RESETSTAT >/dev/null
	while ((n < LOGINS)); do
		c=$((LOGINS - n < CHUNK ? LOGINS - n : CHUNK))
		drive "$label" "$svc" "$off" $((c + 1)) -W -d "$W/raw" >/dev/null
		off=$((off + c + 1))
		n=$((n + c))
	done
	"$PY" "$SRC/bench/report.py" --merge "$label" "$W/raw" >>"$RES"
	rcli INFO commandstats | tr -d '\r' |
	    sed -n "s/^cmdstat_\([a-z]*\):calls=\([0-9]*\),usec=[0-9]*,usec_per_call=\([0-9.]*\).*/$label \1 \2 \3/p" \
	    >>"$W/server.txt"
}

i=0
for m in $MODS; do # every row must log in before it is timed
	drive probe "$m" $((NUSERS - NMODS + i)) 1 | grep -q ' ok=1 ' ||
	    { echo "redis.sh: a login through $m fails" >&2; exit 1; }
	i=$((i + 1))
done
off=0
for ((r = 1; r <= REPEATS; r++)); do
	for m in $MODS; do
		log "run $r/$REPEATS: $m"
		seq_run "success:$m:$r" "$m" "$off"
		off=$((off + SLICE))
	done
	for g in 0 100; do
		echo "tcp/$g $("$FLOOR" -t "127.0.0.1:$RPORT" -a "$W/redis.pw" -n "$LOGINS" -g $g)"
		echo "socket/$g $("$FLOOR" -s "$SOCK" -a "$W/redis.pw" -n "$LOGINS" -g $g)"
	done >>"$W/floor.txt"
done
grep -q ' fail=0 ' "$RES" || { echo "redis.sh: failed logins" >&2; cat "$RES" >&2; exit 1; }

"$PY" - "$RES" "$W/server.txt" "$W/floor.txt" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
    _, mod, _ = kv["label"].split(":")
    if int(kv["fail"]) != 0:
        sys.exit("failed logins in " + kv["label"])
    rows.setdefault(mod, []).append(kv)
names = {"ft": "gdbm (/dev/shm)", "ftr": "redis, plain TCP",
         "ftrs": "redis, unix socket", "ftrt": "redis, TLS"}
for m in ("ftr", "ftrs", "ftrt"):
    names[m + "0"] = "before: " + names[m][len("redis, "):]
med = lambda mod, k: statistics.median(float(r[k]) for r in rows[mod])
mods = [m for m in ("ft", "ftr", "ftrs", "ftrt", "ftr0", "ftrs0", "ftrt0")
        if m in rows]
for mod in mods:
    print("%-20s runs=%d median_us=%8.1f mean_us=%8.1f  x gdbm: median %.2f"
          " mean %.2f" % (names[mod], len(rows[mod]),
                          med(mod, "auth_med_us"), med(mod, "auth_mean_us"),
                          med(mod, "auth_med_us") / med("ft", "auth_med_us"),
                          med(mod, "auth_mean_us") /
                          med("ft", "auth_mean_us")))
srv = {}
for line in open(sys.argv[2]):
    label, cmd, calls, us = line.split()
    if cmd in ("info", "config"):
        continue  # this script's own
    srv.setdefault(label.split(":")[1], {}).setdefault(cmd, []).append(
        (int(calls), float(us)))
fl = {}
for line in open(sys.argv[3]):
    kv = dict(p.split("=", 1) for p in line.split()[1:])
    fl.setdefault(line.split()[0], []).append(kv)
for way in ("tcp/0", "socket/0", "tcp/100", "socket/100"):
    kind, gap = way.split("/")
    print("%-20s runs=%d median_us=%8.1f mean_us=%8.1f  (connect, AUTH, "
          "EVALSHA return 1, close: no flowtotp%s)" % (
              "floor, " + kind, len(fl[way]),
              statistics.median(float(r["floor_med_us"]) for r in fl[way]),
              statistics.median(float(r["floor_mean_us"]) for r in fl[way]),
              "" if gap == "0" else "; %s us idle before each" % gap))
for mod in mods[1:]:
    print("%-20s server us/call: %s" % (names[mod], " ".join(
        "%s %.1f (%d calls/run)" % (cmd, statistics.median(u for _, u in v),
                                   statistics.median(c for c, _ in v))
        for cmd, v in sorted(srv.get(mod, {}).items()))))
EOF
