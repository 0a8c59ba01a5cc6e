#!/bin/bash
# Cross-check ft_totp against oathtool (an independent implementation) for
# random secrets, times and parameter sets.
. "$top_srcdir/tests/lib/tap.sh"

CASES=1200
MATCH_CASES=300
[ -n "$OATHTOOL" ] && [ -x "$OATHTOOL" ] || skip_all "oathtool not found"
gen="$top_builddir/tests/unit/otp-cases"
[ -x "$gen" ] || { echo "Bail out! $gen not built"; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

"$gen" "$CASES" >"$tmp/cases"
ok $? "generated $CASES cases"
is "$(wc -l <"$tmp/cases" | tr -d ' ')" "$CASES" "case count"

declare -A total=() good=()
n=0 bad=0
while read -r algo digits period t secret code; do
	key="$algo/$digits/${period}s"
	total[$key]=$(( ${total[$key]:-0} + 1 ))
	want=$("$OATHTOOL" --totp="$algo" -d "$digits" -s "$period" \
	    -N "@$t" -b "$secret" 2>&1)
	if [ "$want" = "$code" ]; then
		good[$key]=$(( ${good[$key]:-0} + 1 ))
	else
		bad=$((bad + 1))
		[ "$bad" -le 10 ] && diag "mismatch: $algo d=$digits" \
		    "p=$period t=$t ours=$code oathtool=$want"
	fi
	n=$((n + 1))
done <"$tmp/cases"

for key in $(printf '%s\n' "${!total[@]}" | sort); do
	is "${good[$key]:-0}" "${total[$key]}" "$key: ${total[$key]} cases agree"
done
is "$n" "$CASES" "all cases checked"
is "$bad" 0 "no mismatch with oathtool"
[ "${#total[@]}" -eq 36 ]
ok $? "every algorithm/digits/period combination covered"

# Window matching: oathtool -w W validates a code and prints how many steps
# away it matched (no sign); ft_totp_match must agree and report the true
# signed offset, or reject exactly when oathtool does.
"$gen" "$MATCH_CASES" match >"$tmp/match"
ok $? "generated $MATCH_CASES window cases"
n=0 bad=0 truth_bad=0 inside=0 outside=0
while read -r algo digits period t secret code w off ours; do
	if [ "${off#-}" -le "$w" ]; then
		expect=$off inside=$((inside + 1))
	else
		expect=none outside=$((outside + 1))
	fi
	[ "$ours" = "$expect" ] || {
		truth_bad=$((truth_bad + 1))
		diag "wrong result: $algo d=$digits p=$period t=$t w=$w" \
		    "offset=$off ours=$ours"
	}
	theirs=$("$OATHTOOL" --totp="$algo" -d "$digits" -s "$period" \
	    -w "$w" -N "@$t" -b "$secret" "$code" 2>/dev/null) || theirs=none
	[ "$ours" = none ] && mine=none || mine=${ours#-}
	[ "$mine" = "$theirs" ] || {
		bad=$((bad + 1))
		diag "oathtool disagrees: $algo d=$digits p=$period t=$t" \
		    "w=$w ours=$ours oathtool=$theirs"
	}
	n=$((n + 1))
done <"$tmp/match"
is "$n" "$MATCH_CASES" "all window cases checked"
is "$truth_bad" 0 "ft_totp_match reports the true offset or rejects"
is "$bad" 0 "ft_totp_match agrees with oathtool -w"
[ "$inside" -gt 0 ] && [ "$outside" -gt 0 ]
ok $? "cases inside ($inside) and outside ($outside) the window"
done_testing
