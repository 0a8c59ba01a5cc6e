"""Logins through the real PAM module for the Redis high-availability tests
(test_wait.py, test_sentinel.py, test_cluster.py): pam.d services in a temp
dir, one local cache per "host", the test clock (FLOWTOTP_TEST_NOW), the
module's syslog lines caught in a file, oathtool for the codes.  Every
service talks plain TCP (redis_tls=no): the servers here have no
certificates."""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
import ftlib  # noqa: E402
from ftlib import OATHTOOL, PAM_LOGIN, PAM_MODULE, tap  # noqa: E402

KEY = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
USER = pwd.getpwuid(os.geteuid()).pw_name
TIMEOUT_MS = 400
LOGIN_TIMEOUT_S = 60


def code(now):
    return ftlib.totp(KEY, now)


def skip_unless_ready(redislib):
    if not redislib.REDIS_SERVER:
        tap.skip_all("no redis-server (REDIS_SERVER is empty)")
    for p in (PAM_LOGIN, PAM_MODULE):
        if not os.path.exists(p):
            tap.skip_all("%s not built" % p)
    if not OATHTOOL:
        tap.skip_all("oathtool not found")


def reason(lines):
    for ln in reversed(lines):
        if "result=" in ln and "reason=" in ln:
            return ln.split("reason=", 1)[1].split()[0]
    return None


def result_line(lines):
    res = [ln for ln in lines if "result=" in ln]
    return res[-1] if res else ""


class Hosts:
    """Services named after "hosts", each with its own local cache; base
    holds the Redis options every service shares."""

    def __init__(self, tag, base):
        self.base = dict(base)
        self.dir = tempfile.mkdtemp(prefix="ft-%s-" % tag)
        self.secrets = os.path.join(self.dir, "secrets")
        self.confdir = os.path.join(self.dir, "pam.d")
        self.syslog = os.path.join(self.dir, "syslog")
        os.mkdir(self.secrets, 0o700)
        os.mkdir(self.confdir, 0o700)
        with open(os.path.join(self.confdir, "other"), "w") as f:
            f.write("auth required pam_deny.so\n")
        fd = os.open(os.path.join(self.secrets, USER),
                     os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, ("version = 1\nsecret = %s\nalgorithm = SHA1\n"
                      "digits = 6\nperiod = 30\ncreated = 1699990000\n" %
                      KEY).encode())
        os.close(fd)

    def service(self, name, **over):
        o = {
            "secret": os.path.join(self.secrets, "%u"),
            "cache": "redis",
            "redis_tls": "no",
            "redis_timeout_ms": str(TIMEOUT_MS),
            "local_cache": os.path.join(self.dir, name, "state.gdbm"),
            "window": "1",
            "deny": "0",
        }
        o.update(self.base)
        o.update(over)
        o = {k: v for k, v in o.items() if v is not None}
        with open(os.path.join(self.confdir, name), "w") as f:
            f.write("auth required %s %s\n" % (
                PAM_MODULE, " ".join("%s=%s" % kv for kv in o.items())))
        return name

    def env(self, now):
        e = dict(os.environ)
        e["FLOWTOTP_TEST_NOW"] = str(now)
        e.pop("FLOWTOTP_TEST_OFFSET", None)
        e["FT_TEST_SYSLOG"] = self.syslog
        e["LC_ALL"] = "C"
        return e

    def log_lines(self):
        try:
            with open(self.syslog) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def login(self, svc, answer, now):
        """(success, new syslog lines)."""
        before = len(self.log_lines())
        r = subprocess.run([PAM_LOGIN, svc, USER, self.confdir],
                           input=answer + "\n", capture_output=True,
                           text=True, env=self.env(now),
                           timeout=LOGIN_TIMEOUT_S)
        if r.returncode not in (0, 1):
            tap.diag("ft-pam-login rc %d: %s %s" %
                     (r.returncode, r.stdout, r.stderr))
        return r.returncode == 0, self.log_lines()[before:]

    def start(self, svc, now):
        """A login waiting at the prompt; answer with finish()."""
        return subprocess.Popen([PAM_LOGIN, svc, USER, self.confdir],
                                stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env(now),
                                text=True)

    @staticmethod
    def answer(p, ans):
        p.stdin.write(ans + "\n")
        p.stdin.flush()

    @staticmethod
    def finish(p):
        """0 success, 1 denied, else an error of the harness."""
        p.communicate(timeout=LOGIN_TIMEOUT_S)
        return p.returncode

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)
