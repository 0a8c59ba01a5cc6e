#!/bin/bash
# The README's first command: install the packages, build, install, and show
# flowtotp working on this machine with a real PAM login.  Run as root on
# Debian 12.  Running it again is fine: it rebuilds, reinstalls and enrols
# the demo user afresh.
#
# What it leaves behind (remove with the commands it prints at the end):
# the installed files, a demo user "flowtotp-demo" and the PAM service
# /etc/pam.d/flowtotp-demo.  It changes no existing PAM service: sshd, sudo
# and logins are untouched until you follow a guide in the README.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

DEMO_USER=flowtotp-demo
DEMO_SERVICE=flowtotp-demo
PERIOD=30               # the enrolment default
FRESH_MARGIN=5          # seconds a code must have left before we type it
build="$top/_build/quickstart"
log="$top/_build/quickstart.log"

step() { printf '\n==> %s\n' "$*"; }
say() { printf '    %s\n' "$*"; }
die() { printf '\nquickstart: %s\n' "$*" >&2; exit 1; }
# Run quietly into the log; on failure show its end.
quiet() {
	if ! "$@" >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "failed: $* (full log: $log)"
	fi
}

[ "$(id -u)" -eq 0 ] || die "run me as root (I install packages and a PAM module)"
if ! grep -qs '^VERSION_ID="12"' /etc/os-release; then
	say "warning: made for Debian 12; trying anyway"
fi
mkdir -p "$top/_build"
: >"$log"

step "Installing Debian packages (contrib/deps.sh)"
quiet sh contrib/deps.sh
# The demo checks codes with oathtool, an independent TOTP implementation.
command -v oathtool >/dev/null 2>&1 ||
	quiet env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends oathtool
say "done"

step "Building (log: _build/quickstart.log)"
quiet autoreconf -fi
mkdir -p "$build"
cd "$build"
quiet "$top/configure" --prefix=/usr --sysconfdir=/etc --localstatedir=/var
quiet make -j"$(nproc)"
say "done"

step "Installing (make install)"
quiet make install
pammoddir=$(sed -n 's/^pammoddir = //p' Makefile)
cd "$top"
say "PAM module:   $pammoddir/pam_flowtotp.so"
say "CLI:          $(command -v totp-enroll)"
say "config:       /etc/security/flowtotp.conf.example (copy it to flowtotp.conf to change defaults)"
say "man pages:    pam_flowtotp(8), totp-enroll(1), flowtotp(5)"
if command -v systemd-tmpfiles >/dev/null 2>&1; then
	systemd-tmpfiles --create /usr/lib/tmpfiles.d/flowtotp.conf >/dev/null 2>&1 || true
fi

step "Creating the demo user $DEMO_USER"
if id "$DEMO_USER" >/dev/null 2>&1; then
	say "exists already"
else
	useradd -m -s /bin/bash -c "flowtotp demo" "$DEMO_USER"
	say "created"
fi
password=$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')
echo "$DEMO_USER:$password" | chpasswd
say "its password (for this demo): $password"

step "A PAM service for the demo: /etc/pam.d/$DEMO_SERVICE"
cat >"/etc/pam.d/$DEMO_SERVICE" <<EOF
# flowtotp quickstart demo (contrib/quickstart.sh); safe to delete.
# The password (pam_unix, via common-auth), then the TOTP code.
@include common-auth
auth    required    pam_flowtotp.so
@include common-account
EOF
sed 's/^/    | /' "/etc/pam.d/$DEMO_SERVICE"

step "Enrolling $DEMO_USER (totp-enroll --user $DEMO_USER --no-confirm)"
if totp-enroll status "$DEMO_USER" --json 2>/dev/null | grep -q '"enrolled":true'; then
	# A fresh start: new secret, and no remembered steps or failures.
	totp-enroll reset "$DEMO_USER" --yes >/dev/null
	say "(removed the enrolment of an earlier run)"
fi
# A real user would scan this QR code with an authenticator app and type a
# code to confirm; here oathtool plays the phone, so we skip the question.
totp-enroll --user "$DEMO_USER" --no-confirm --issuer flowtotp-demo
secretfile=$(totp-enroll status "$DEMO_USER" --json |
	sed -n 's/.*"path":"\([^"]*\)".*/\1/p')
secret=$(sed -n 's/^secret = //p' "$secretfile")
[ -n "$secret" ] || die "cannot read the secret back from $secretfile"
backup=$(totp-enroll status "$DEMO_USER" --json |
	sed -n 's/.*"backup_codes_left":\([0-9]*\).*/\1/p')
say "secret file $secretfile (root only), $backup backup codes left"

# The module uses the real clock: make sure the code stays valid while we
# type it.
fresh_code() {
	local left=$((PERIOD - $(date +%s) % PERIOD))
	if [ "$left" -lt "$FRESH_MARGIN" ]; then
		sleep $((left + 1))
	fi
	oathtool --totp -b "$secret"
}
# pamtester reads the answers from stdin; show them after its prompts the
# way a terminal would (the password masked).
login() {
	printf '%s\n%s\n' "$password" "$1" |
		pamtester "$DEMO_SERVICE" "$DEMO_USER" authenticate 2>&1 |
		sed -e "s/Password: /Password: ********\\n/" \
		    -e "s/Verification code: /Verification code: $1\\n/" |
		sed 's/^/    | /'
	return "${PIPESTATUS[1]}"
}

step "Logging in through PAM: pamtester $DEMO_SERVICE $DEMO_USER authenticate"
code=$(fresh_code)
say "the phone (oathtool) shows $code; answering the password and that code"
login "$code" || die "the login with the right code failed"
say "accepted: password and code are right"

step "The same code again (someone who saw it over your shoulder)"
if login "$code"; then
	die "a replayed code was accepted; this must not happen"
fi
say "refused: each code works once (journal/syslog: reason=replay)"

step "A wrong code"
wrong=$(printf '%06d' $(((10#$code + 500000) % 1000000)))
if login "$wrong"; then
	die "a wrong code was accepted; this must not happen"
fi
say "refused"

step "Status (totp-enroll status $DEMO_USER)"
totp-enroll status "$DEMO_USER" | sed 's/^/    /'

cat <<EOF

flowtotp works on this machine.  Next:
  * enrol yourself:             totp-enroll   (scan the QR code with your app)
  * protect sshd, sudo, su:     README, section "Guides" (ready files in contrib/)
  * remove the demo:            totp-enroll reset $DEMO_USER --yes; userdel -r $DEMO_USER;
                                rm /etc/pam.d/$DEMO_SERVICE
EOF
