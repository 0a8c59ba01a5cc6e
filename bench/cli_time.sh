#!/bin/bash
# bench/cli_time.sh: wall time of `totp-enroll list` and `totp-enroll status
# USER` over N enrolled users (measure (f) of bench/run.sh, which calls it).
#
#   bench/cli_time.sh TOTP_ENROLL USERDIR CACHE N NSS_WRAPPER [RUNS]
#
# USERDIR is made by mkusers.py --ft (secret files USERDIR/ft/NAME, passwd);
# the user database is nss_wrapper over all N users (a linear scan per
# lookup, like glibc's "files" source).  Prints pam_bench-style result lines:
#   label=f:list:N ms=MEDIAN lines=...   label=f:status:N ms=MEDIAN
set -euo pipefail

CLI=$1 DIR=$2 CACHE=$3 N=$4 NSSW=$5 RUNS=${6:-3}
export NSS_WRAPPER_PASSWD=$DIR/passwd NSS_WRAPPER_GROUP=$DIR/group
OPTS=(-o "secret=$DIR/ft/%u" -o "cache=$CACHE")
# A user from the middle of the passwd file for status.
MID=$(sed -n "$((N / 2 + 1))s/:.*//p" "$DIR/passwd")

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

# Median of the runs; a timeout (">MS") is the answer if present.
median() { sort -n | awk '/^>/ { t = $1; next } { v[++n] = $1 } END { if (t != "") print t; else if (n) print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'; }

SLOW_MS=20000           # one run this slow is enough
LIMIT_S=${CLI_LIMIT_S:-120}     # where we stop waiting (reported as >LIMIT)

timeit() { # OUTFILE CMD...: prints elapsed ms; the command must succeed
	local out=$1 t0 t1
	shift
	t0=$(ms_now)
	if ! LD_PRELOAD=$NSSW timeout "$LIMIT_S" "$@" >"$out"; then
		echo ">$((LIMIT_S * 1000))"
		return 0
	fi
	t1=$(ms_now)
	echo $((t1 - t0))
}

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for ((i = 0; i < RUNS; i++)); do
	t=$(timeit "$T/list" "$CLI" list "${OPTS[@]}")
	echo "$t" >>"$T/list.ms"
	case $t in
	">"*) break ;;
	esac
	[ "$t" -lt "$SLOW_MS" ] || break
done
for ((i = 0; i < RUNS; i++)); do
	timeit "$T/status" "$CLI" status "${OPTS[@]}" "$MID" >>"$T/status.ms"
done
echo "label=f:list:$N ms=$(median <"$T/list.ms") lines=$(wc -l <"$T/list")"
echo "label=f:status:$N ms=$(median <"$T/status.ms") lines=$(wc -l <"$T/status")"
