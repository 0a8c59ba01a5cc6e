"""What every Python test suite shares (stdlib only, /usr/bin/python3):
the source and build paths make check exports, the programs the tests run,
the fixed test time, TOTP codes from oathtool (the independent oracle), the
rule for a code that must be wrong, and free ports.  The suite helpers
(tests/cli/clitest.py, tests/e2e/e2elib.py, tests/redis/redislib.py,
tests/hardening/hlib.py) import it; `from ftlib import tap` gives the TAP
helpers."""
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402,F401

TOP_SRCDIR = os.environ["top_srcdir"]
TOP_BUILDDIR = os.environ["top_builddir"]

# The test builds: movable clock (FLOWTOTP_TEST_NOW), syslog to a file.
CLI = os.path.join(TOP_BUILDDIR, "cli", "totp-enroll-test")
PAM_LOGIN = os.path.join(TOP_BUILDDIR, "tests", "pam", "ft-pam-login")
PAM_MODULE = os.path.join(TOP_BUILDDIR, "pam_module", ".libs",
                          "pam_flowtotp_test.so")
# The installed-style builds (real clock), for the end-to-end tests.
MODULE = os.path.join(TOP_BUILDDIR, ".libs", "pam_flowtotp.so")
ENROLL = os.path.join(TOP_BUILDDIR, "totp-enroll")

# make check sets OATHTOOL (empty when configure found none: tests skip);
# run by hand without it, look in PATH.
OATHTOOL = os.environ.get("OATHTOOL") or shutil.which("oathtool") or ""

# A fixed moment, 10 s into a 30 s step, so +-1 step is unambiguous.
T0 = 1700000010
PERIOD = 30
# A wrong code matches no step within this many steps of the moment it is
# used: wider than any window or skew the tests configure.
WRONG_SPAN = 10
# Candidates for a wrong code walk the code space in this stride (a prime,
# so they are spread out) from this start, so the choice is reproducible.
WRONG_STRIDE = 7919
WRONG_START = 12345


def totp(secret, now, digits=6, period=PERIOD, algo="SHA1"):
    """The code oathtool computes for secret (base32, spaces allowed) at
    unix time now."""
    out = subprocess.run(
        [OATHTOOL, "--totp=" + algo, "-d", str(digits), "-s",
         "%ds" % period, "-b", secret.replace(" ", ""),
         "--now", "@%d" % int(now)],
        check=True, capture_output=True, text=True)
    return out.stdout.strip()


def wrong_code(secret, now, digits=6, period=PERIOD, algo="SHA1"):
    """A well-formed code that matches no step within +-WRONG_SPAN of now."""
    used = {totp(secret, now + period * k, digits, period, algo)
            for k in range(-WRONG_SPAN, WRONG_SPAN + 1)}
    space = 10 ** digits
    for n in range(space):
        c = "%0*d" % (digits, (n * WRONG_STRIDE + WRONG_START) % space)
        if c not in used:
            return c
    raise AssertionError("no wrong code")


def free_port():
    """A 127.0.0.1 TCP port nothing listens on right now.  A daemon started
    on it may still lose a race for it: callers retry on a new port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
