# The module exports pam_sm_* and nothing else (both the installed-style
# build and the test build), loads with every symbol resolved, and is linked
# with full RELRO and NODELETE.
. "$top_srcdir/tests/lib/tap.sh"

want="pam_sm_authenticate
pam_sm_setcred"

command -v nm >/dev/null 2>&1 || skip_all "nm not installed (binutils)"
for so in "$top_builddir/.libs/pam_flowtotp.so" \
    "$top_builddir/pam_module/.libs/pam_flowtotp_test.so"; do
	name=${so#"$top_builddir"/}
	if [ ! -f "$so" ]; then
		ok 1 "$name exists"
		continue
	fi
	got=$(nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | sort)
	is "$got" "$want" "$name exports only pam_sm_*"
	undef=$(nm -D --undefined-only "$so" | awk '{ print $2 }' |
		grep -E '^(ft_|ftpam_)' || true)
	is "$undef" "" "$name has no unresolved ft_ symbols"
	# configure.ac (MODULE_LDFLAGS): full RELRO, and NODELETE so that a
	# host running pam_start again and again loads the module once.
	if command -v readelf >/dev/null 2>&1; then
		flags=$(readelf -d "$so" | awk '/FLAGS_1/ { $1 = $2 = ""; print }')
		case $flags in
		*NOW*NODELETE* | *NODELETE*NOW*) ok 0 "$name: BIND_NOW, NODELETE" ;;
		*) ok 1 "$name: BIND_NOW, NODELETE (got:$flags)" ;;
		esac
	fi
done
# enroll=login loads libqrencode with dlopen when it enrols someone: an
# ordinary login must not map it, so it is not a link dependency.
if command -v readelf >/dev/null 2>&1; then
	for so in "$top_builddir/.libs/pam_flowtotp.so" \
	    "$top_builddir/pam_module/.libs/pam_flowtotp_test.so"; do
		needed=$(readelf -d "$so" 2>/dev/null | awk '/NEEDED/ { print $5 }')
		case $needed in
		"") ok 1 "${so#"$top_builddir"/}: readelf -d shows DT_NEEDED" ;;
		*libqrencode*) ok 1 "${so#"$top_builddir"/}: libqrencode not in DT_NEEDED (got: $needed)" ;;
		*) ok 0 "${so#"$top_builddir"/}: libqrencode not in DT_NEEDED" ;;
		esac
	done
fi
"$top_builddir/tests/pam/test_dlopen" "$top_builddir/.libs/pam_flowtotp.so"
ok $? "dlopen(RTLD_NOW) + dlsym checks on .libs/pam_flowtotp.so"
done_testing
