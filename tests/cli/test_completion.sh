# contrib/bash-completion/totp-enroll, sourced into this bash: COMPREPLY for
# the commands, each command's options, option values (with and without
# "=" as a word break), user names for the admin commands, the users of a
# pam_oath usersfile, and files.  It must also stay in step with the
# program: every command of `totp-enroll --help` is offered, and every
# option a command's --help names is among that command's options.
. "$top_srcdir/tests/lib/tap.sh"

comp_file="$top_srcdir/contrib/bash-completion/totp-enroll"
cli="$top_builddir/cli/totp-enroll-test"
[ -x "$cli" ] || skip_all "cli/totp-enroll-test not built"
# Only this file's own functions: no bash-completion package loaded.
unset -f _filedir 2>/dev/null
# shellcheck source=/dev/null
. "$comp_file"
ok $? "the completion file sources in bash"
complete -p totp-enroll 2>/dev/null | grep -q -- '-F _totp_enroll totp-enroll$'
ok $? "it registers _totp_enroll for totp-enroll"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ft-completion-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# comp WORD... : complete the last word (may be '') of the command line
# WORD...; prints the sorted answers on one line.
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_totp_enroll totp-enroll "${COMP_WORDS[COMP_CWORD]}" \
		"${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
users() { sorted $(compgen -u -- "$1"); }

all='backup-codes check disable doctor enroll grace import key list rename reset status unlock'
is "$(comp totp-enroll '')" "$all" "no command yet: every command"
is "$(comp totp-enroll st)" "status" "a prefix: the command it starts"
is "$(comp totp-enroll key '')" "encrypt-store init rotate status" \
	"key: its subcommands"
is "$(comp totp-enroll reset --)" "--config --help --option --user --yes" \
	"reset: its options"
is "$(comp totp-enroll import --)" \
	"--config --force --from --help --json --option --owner --user --usersfile" \
	"import: its options"
is "$(comp totp-enroll doctor --)" "--config --help --json" \
	"doctor: no --option"
case " $(comp totp-enroll --) " in
*" --version "*) ok 0 "no command: --version too" ;;
*) ok 1 "no command: --version too" ;;
esac

# User names for the commands that act on a user.
want=$(users r)
[ -n "$want" ]
ok $? "compgen -u knows users starting with r (root)"
is "$(comp totp-enroll reset r)" "$want" "reset: user names"
is "$(comp totp-enroll status root r)" "$want" "status: one user after another"
is "$(comp totp-enroll unlock root '')" "" "unlock: one user only"
is "$(comp totp-enroll --user r)" "$want" "--user: user names"
is "$(comp totp-enroll rename root r)" "$want" "rename: OLD, then NEW"
is "$(comp totp-enroll rename root root '')" "" "rename: nothing after NEW"

# Option values and the words they take.
is "$(comp totp-enroll --qr = u)" "utf8 utf8-inverted" \
	"--qr = u (with = as a word break)"
is "$(comp totp-enroll --qr=u)" "--qr=utf8 --qr=utf8-inverted" \
	"--qr=u (without): the answers keep --qr="
is "$(comp totp-enroll enroll --algorithm SHA)" "SHA1 SHA256 SHA512" \
	"--algorithm values"
is "$(comp totp-enroll enroll --digits '')" "6 7 8" "--digits values"
is "$(comp totp-enroll import --from '')" "google-authenticator pam_oath" \
	"--from values"
is "$(comp totp-enroll enroll --issuer '')" "" "--issuer: free text"
is "$(comp totp-enroll -c /x list --j)" "--json" \
	"-c VALUE is not taken for the command"
is "$(comp totp-enroll --config = /x list --j)" "--json" \
	"--config = VALUE is not taken for the command"

# import: FILE, or the users of the usersfile with --from pam_oath.
uf="$tmp/users.oath"
printf '# comment\nHOTP/T30 alice - 3132333435363738393031323334353637383930\nHOTP/T60/8\tbob\t-\t3132333435363738393031323334353637383930\n' >"$uf"
is "$(comp totp-enroll import --from pam_oath --usersfile "$uf" '')" \
	"alice bob" "import --from pam_oath: the usersfile's users"
is "$(comp totp-enroll import --usersfile = "$uf" --from = pam_oath a)" \
	"alice" "the same with --opt = value words"
is "$(comp totp-enroll import --usersfile="$uf" --from=pam_oath b)" \
	"bob" "the same with --opt=value words"
is "$(comp totp-enroll import --from pam_oath --usersfile "$tmp/none" r)" \
	"$want" "an unreadable usersfile: the accounts"
is "$(comp totp-enroll import "$tmp/us")" "$uf" "import FILE: file names"
is "$(comp totp-enroll import --usersfile "$tmp/us")" "$uf" \
	"--usersfile: file names"

# In step with the program.
cmds=$("$cli" --help | sed -n 's/^ *\(Usage: \)\{0,1\}totp-enroll \[\{0,1\}\([a-z][a-z-]*\).*/\2/p' | sort -u)
[ -n "$cmds" ]
ok $? "totp-enroll --help lists commands"
for c in $cmds; do
	case " $all " in
	*" $c "*) ok 0 "command $c of --help is completed" ;;
	*) ok 1 "command $c of --help is completed" ;;
	esac
	opts=$(comp totp-enroll "$c" --)
	missing=''
	for o in $("$cli" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		case " $opts " in
		*" $o "*) ;;
		*) missing="$missing $o" ;;
		esac
	done
	is "$missing" "" "$c: every option of '$c --help' is completed"
done

# make install puts it where bash-completion looks (DESTDIR honoured).
dest="$tmp/dest"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$top_builddir" \
	install-dist_bashcompletionDATA DESTDIR="$dest" >"$tmp/install.log" 2>&1
ok $? "make install-dist_bashcompletionDATA DESTDIR=..."
inst=$(find "$dest" -path '*/share/bash-completion/completions/totp-enroll' -type f)
[ -n "$inst" ] && cmp -s "$inst" "$comp_file"
ok $? "installed as \$(datadir)/bash-completion/completions/totp-enroll"

done_testing
