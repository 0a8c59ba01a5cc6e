#!/bin/sh
# Install the Debian 12 packages flowtotp needs.  Run as root.
#   contrib/deps.sh          build + run (quickstart)
#   contrib/deps.sh --test   also everything the test suites drive
set -eu
BUILD="build-essential autoconf automake libtool pkg-config \
libpam0g-dev libssl-dev libqrencode-dev libgdbm-dev libhiredis-dev"
RUN="pamtester oathtool"
TEST="zbar-tools imagemagick libpam-wrapper libpamtest0-dev libnss-wrapper \
python3 python3-pexpect redis-server redis-sentinel openssh-server \
openssh-client sudo valgrind clang libclang-rt-14-dev cppcheck expect procps \
util-linux debhelper dpkg-dev lintian mmdebstrap systemd openssl \
exim4-daemon-light"
BENCH="libpam-google-authenticator libpam-oath python3-cryptography"

pkgs="$BUILD $RUN"
case "${1:-}" in
--test) pkgs="$pkgs $TEST $BENCH" ;;
"") ;;
*) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: run as root (apt-get install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
echo "deps.sh: packages installed"
