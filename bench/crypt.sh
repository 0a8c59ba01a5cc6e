#!/bin/bash
# bench/crypt.sh: the cost of secrets at rest.  Logins through the test-clock
# module (tests' build: same code, time from -t) for three set-ups side by
# side, each with its own cache, the same users and secrets:
#   ft   plain version 1 files, no store key on the host
#   ftk  plain version 1 files, a store key present (every login reads it
#        and does one dummy AES-GCM open: the equal-work rule)
#   fte  version 2 files sealed with AES-256-GCM (bench/mkusers.py --fte)
# success (a) and failure (b) paths, REPEATS runs of LOGINS logins each, the
# set-ups interleaved and their order alternated per run; means and medians
# of pam_authenticate per login, and the ratios fte/ft and ftk/ft.  As root
# (the key file must be root's), with libnss-wrapper and python3-cryptography:
#
#   bench/crypt.sh -b BUILDDIR [-n LOGINS] [-r REPEATS]
#
# Measured (Debian 12, 2 cores shared with other jobs at load 4-6, so the
# means swing with outliers; 1000 logins, 9 runs, two sessions), us:
#   success  ft  mean  95/203 median 89/90
#            fte mean  83/180 median 69/93   fte/ft median ratio 0.98/0.97
#   failure  ft  mean 115/190 median 103/118
#            fte mean  99/181 median 80/105  fte/ft median ratio 1.01/0.93
# (ftk within the same band).  In isolation one AES-GCM open costs about
# 2.6 us and one read of the key file about 2.4 us (0.9 us when it is
# missing): some 5 us of a ~90 us login, below the run-to-run noise.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=
LOGINS=1000
REPEATS=5
while getopts b:n:r: opt; do
	case $opt in
	b) BUILD=$(cd "$OPTARG" && pwd) ;;
	n) LOGINS=$OPTARG ;;
	r) REPEATS=$OPTARG ;;
	*) sed -n '2,16p' "$0" >&2; exit 2 ;;
	esac
done
[ -n "$BUILD" ] || { sed -n '2,16p' "$0" >&2; exit 2; }
PY=/usr/bin/python3
NSSW=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -n1 || true)
[ -n "$NSSW" ] || { echo "crypt.sh: libnss-wrapper missing" >&2; exit 1; }
"$PY" -c 'import cryptography' 2>/dev/null ||
    { echo "crypt.sh: python3-cryptography missing" >&2; exit 1; }
make -C "$BUILD" -j2 bench/pam_bench pam_module/pam_flowtotp_test.la >/dev/null
DRIVER=$BUILD/bench/pam_bench
FTTEST=$BUILD/pam_module/.libs/pam_flowtotp_test.so

W=$(mktemp -d "${TMPDIR:-/var/tmp}/flowtotp-crypt-bench.XXXXXX")
SHM=$(mktemp -d /dev/shm/flowtotp-crypt-bench.XXXXXX)
trap 'rm -rf "$W" "$SHM"' EXIT
U=$W/u
mkdir "$W/conf"
"$PY" "$SRC/bench/mkusers.py" "$U" $((LOGINS + 1)) --ft --fte
ARGS="window=1 deny=3 unlock_time=600 fail_interval=900"
NOKEY="store_key=$W/none store_key_fallback="
KEY="store_key=$U/store.key store_key_fallback="
line() { # SECRETDIR CACHE KEYARGS
	echo "auth required $FTTEST secret=$U/$1/%u cache=$SHM/$2.gdbm $3 $ARGS"
}
line ft ft "$NOKEY" >"$W/conf/ft"
line ft ftk "$KEY" >"$W/conf/ftk"
line fte fte "$KEY" >"$W/conf/fte"
RES=$W/results.txt
: >"$RES"

# run KIND MODULE RUN T [-w]: every user once at test time T.
run() {
	local kind=$1 m=$2 r=$3 t=$4
	shift 4
	rm -f "$W/raw"
	cat "$U"/ft/* "$U"/fte/* >/dev/null # warm, as on a busy host
	NSS_WRAPPER_PASSWD=$U/passwd NSS_WRAPPER_GROUP=$U/group \
	    LD_PRELOAD=$NSSW "$DRIVER" -c "$W/conf" -s "$m" -u "$U/users.txt" \
	    -n $((LOGINS + 1)) -W -t "$t" -d "$W/raw" -l "$kind:$m:$r" "$@" \
	    >/dev/null
	"$PY" "$SRC/bench/report.py" --merge "$kind:$m:$r" "$W/raw" >>"$RES"
}

T0=$(($(date +%s) / 30 * 30))
for ((r = 0; r < REPEATS; r++)); do
	order="ft ftk fte"
	((r % 2 == 1)) && order="fte ftk ft"
	t=$((T0 + 120 * r))
	for m in $order; do
		run a "$m" "$r" "$t"
		run b "$m" "$r" "$t" -w
	done
	echo "[$(date +%T)] run $((r + 1))/$REPEATS done" >&2
done

"$PY" - "$RES" "$LOGINS" "$REPEATS" <<'EOF'
import statistics
import sys

rows = {}
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split())
    kind, m, r = f["label"].split(":")
    rows[(kind, m, int(r))] = f
print("secrets at rest: %s logins x %s runs, pam_authenticate per login, "
      "microseconds (median over runs)" % (sys.argv[2], sys.argv[3]))
runs = sorted({k[2] for k in rows})
for kind, what in (("a", "success"), ("b", "failure")):
    for m in ("ft", "ftk", "fte"):
        rs = [rows[(kind, m, r)] for r in runs]
        ok = sum(int(x["ok"]) for x in rs)
        mean = statistics.median(float(x["auth_mean_us"]) for x in rs)
        med = statistics.median(float(x["auth_med_us"]) for x in rs)
        line = "%-8s %-4s mean %8.1f  median %8.1f  ok %d" % (
            what, m, mean, med, ok)
        if m != "ft":
            for key, name in (("auth_mean_us", "mean"),
                              ("auth_med_us", "median")):
                ratio = statistics.median(
                    float(rows[(kind, m, r)][key]) /
                    float(rows[(kind, "ft", r)][key]) for r in runs)
                line += "  %s/ft %s %.3f" % (m, name, ratio)
        print(line)
EOF
