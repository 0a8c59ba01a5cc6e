"""Shared by the tests in tests/hardening (stdlib only, /usr/bin/python3).

A private secret store, gdbm cache and PAM service in a temp dir; logins go
through real libpam (tests/pam/ft-pam-login, pam_start_confdir) into the
test build of the module (movable clock); enrolment through
cli/totp-enroll-test.  The user is whoever runs the test (root in CI), so
no users are created.  oathtool computes the codes (tests/lib/ftlib.py)."""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
from ftlib import (CLI, OATHTOOL, PAM_LOGIN, PAM_MODULE,  # noqa: E402,F401
                   T0, TOP_BUILDDIR, tap, totp, wrong_code)

USER = pwd.getpwuid(os.getuid()).pw_name


def need_components():
    for p in (CLI, PAM_LOGIN, PAM_MODULE):
        if not os.path.exists(p):
            tap.skip_all("%s not built" % p)
    if not OATHTOOL:
        tap.skip_all("oathtool not installed")


class Env:
    def __init__(self, tag, store=None, cache_dir=None, extra=""):
        self.dir = tempfile.mkdtemp(prefix="ft-hard-%s-" % tag)
        os.chmod(self.dir, 0o700)
        self.store = store or os.path.join(self.dir, "store")
        self.cache_dir = cache_dir or os.path.join(self.dir, "cache")
        for d in (self.store, self.cache_dir):
            if not os.path.lexists(d):
                os.mkdir(d, 0o700)
        self.cache = os.path.join(self.cache_dir, "state.gdbm")
        self.syslog = os.path.join(self.dir, "syslog")
        self.confdir = os.path.join(self.dir, "pam.d")
        os.mkdir(self.confdir)
        self.service(extra=extra)

    def opts(self, secret_tpl=None):
        return ["-o", "secret=" + (secret_tpl or
                                   os.path.join(self.store, "%u")),
                "-o", "cache=" + self.cache]

    @property
    def path(self):
        return os.path.join(self.store, USER)

    def service(self, name="fthard", secret_tpl=None, extra=""):
        with open(os.path.join(self.confdir, name), "w") as f:
            f.write("auth required %s secret=%s cache=%s %s\n" % (
                PAM_MODULE, secret_tpl or os.path.join(self.store, "%u"),
                self.cache, extra))

    def env(self, now=T0):
        e = dict(os.environ)
        e["FLOWTOTP_TEST_NOW"] = str(now)
        e["FT_TEST_SYSLOG"] = self.syslog
        return e

    def cli(self, args, now=T0, secret_tpl=None, input=None):
        return subprocess.run([CLI] + args + self.opts(secret_tpl),
                              env=self.env(now), capture_output=True,
                              text=True, input=input or "")

    def enroll(self, now=T0):
        import json
        r = self.cli(["enroll", "--force", "--no-confirm", "--json", "--qr",
                      "none"], now)
        if r.returncode != 0:
            raise AssertionError("enroll failed: %s" % r.stderr)
        return json.loads(r.stdout)

    def login_proc(self, answer, now=T0, service="fthard"):
        p = subprocess.Popen([PAM_LOGIN, service, USER, self.confdir],
                             env=self.env(now), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return p

    def login(self, answer, now=T0, service="fthard"):
        """(pam result name, the module's outcome line)."""
        before = self.log_len()
        r = subprocess.run([PAM_LOGIN, service, USER, self.confdir],
                           env=self.env(now), input=answer + "\n",
                           capture_output=True, text=True)
        lines = [ln for ln in self.log_lines()[before:]
                 if "flowtotp: service=" in ln]
        return r.stdout.strip(), (lines[-1] if lines else "")

    def log_lines(self):
        try:
            with open(self.syslog, errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def log_len(self):
        return len(self.log_lines())

    def cleanup(self):
        subprocess.run(["chmod", "-R", "u+rwx", self.dir],
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None
