#!/bin/bash
# The README's first command: install, build, install, and show flowtotp
# working on this machine.  Run as root on Debian 12.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
step() { printf '\n==> %s\n' "$*"; }

step "Installing Debian packages"
sh contrib/deps.sh
step "Building"
autoreconf -fi >/dev/null
mkdir -p _build/quickstart
cd _build/quickstart
"$top/configure" --prefix=/usr --sysconfdir=/etc --localstatedir=/var >/dev/null
make -j"$(nproc)" >/dev/null
step "Installing"
make install >/dev/null
echo "installed totp-enroll and pam_flowtotp.so"
