# The programs that may run privileged (totp-enroll, run by root, and
# flowtotp-helper, set-uid root) as `make install` leaves them: PIE, full
# RELRO (a GNU_RELRO segment and BIND_NOW), the stack protector and
# _FORTIFY_SOURCE in use, and the helper set-uid root (mode 4755) in
# $(libexecdir)/flowtotp.  configure.ac (PROG_LDFLAGS) and cli/Makefile.inc.
. "$top_srcdir/tests/lib/tap.sh"

command -v readelf >/dev/null 2>&1 || skip_all "readelf not installed (binutils)"
[ "$(id -u)" = 0 ] || skip_all "needs root (the install makes the helper root's)"

dest=$(mktemp -d "${TMPDIR:-/tmp}/ft-install-XXXXXX")
trap 'rm -rf "$dest"' EXIT INT TERM
# A make of its own, not the jobserver of the `make check` running us.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -C "$top_builddir" install-exec DESTDIR="$dest" >"$dest.log" 2>&1
ok $? "make install-exec DESTDIR=..."
rm -f "$dest.log"

helper=$(find "$dest" -path '*/libexec/flowtotp/flowtotp-helper' -type f)
cli=$(find "$dest" -path '*/bin/totp-enroll' -type f)
[ -n "$helper" ]
ok $? "the helper is installed in libexec/flowtotp"
[ -n "$cli" ]
ok $? "totp-enroll is installed"
if [ -n "$helper" ]; then
	mode=$(stat -c '%a %U %G' "$helper")
	is "$mode" "4755 root root" "the installed helper is set-uid root, 4755"
fi

for f in $cli $helper; do
	name=${f#"$dest"}
	dyn=$(readelf -d "$f")
	case $dyn in
	*BIND_NOW* | *"Flags: NOW"*) ok 0 "$name: BIND_NOW" ;;
	*) ok 1 "$name: BIND_NOW" ;;
	esac
	case $dyn in
	*"Flags:"*PIE*) ok 0 "$name: PIE (DF_1_PIE)" ;;
	*) ok 1 "$name: PIE (DF_1_PIE)" ;;
	esac
	readelf -h "$f" | grep -q 'Type: *DYN'
	ok $? "$name: position-independent (ELF type DYN)"
	readelf -lW "$f" | grep -q GNU_RELRO
	ok $? "$name: GNU_RELRO segment"
	syms=$(readelf --dyn-syms -W "$f")
	case $syms in
	*__stack_chk_fail*) ok 0 "$name: stack protector" ;;
	*) ok 1 "$name: stack protector" ;;
	esac
	echo "$syms" | grep -Eq '__[a-z]+_chk(@| )'
	ok $? "$name: _FORTIFY_SOURCE checks (__*_chk)"
done
done_testing
