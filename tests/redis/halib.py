"""Logins through the real PAM module for the Redis high-availability tests
(test_wait.py, test_sentinel.py, test_cluster.py), on top of redislib's
PamHost: every service of a Hosts shares the Redis options given once
(base), has a local cache of its own (a "host" of the fleet), talks plain
TCP (redis_tls=no) unless told otherwise, and logins can also be started
in parallel and answered together."""
import os
import pwd
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
import ftlib  # noqa: E402
from ftlib import OATHTOOL, PAM_LOGIN, PAM_MODULE, tap  # noqa: E402
import redislib  # noqa: E402
from redislib import KEY, reason  # noqa: E402,F401

USER = pwd.getpwuid(os.geteuid()).pw_name
TIMEOUT_MS = 400
LOGIN_TIMEOUT_S = 60


def code(now):
    return ftlib.totp(KEY, now)


def skip_unless_ready():
    if not redislib.REDIS_SERVER:
        tap.skip_all("no redis-server (REDIS_SERVER is empty)")
    for p in (PAM_LOGIN, PAM_MODULE):
        if not os.path.exists(p):
            tap.skip_all("%s not built" % p)
    if not OATHTOOL:
        tap.skip_all("oathtool not found")


def result_line(lines):
    res = [ln for ln in lines if "result=" in ln]
    return res[-1] if res else ""


class Hosts(redislib.PamHost):
    def __init__(self, tag, base):
        super().__init__(tag)
        self.base = dict(base)

    def service(self, name, **over):
        """A service over base; an option given as None is left out."""
        o = {"redis_tls": "no", "redis_timeout_ms": str(TIMEOUT_MS),
             "local_cache": os.path.join(self.dir, name + ".gdbm"),
             "deny": "0"}
        o.update(self.base)
        o.update(over)
        return super().service(
            name, **{k: v for k, v in o.items() if v is not None})

    def env(self, now):
        e = dict(os.environ, FLOWTOTP_TEST_NOW=str(now),
                 FT_TEST_SYSLOG=self.syslog, LC_ALL="C")
        e.pop("FLOWTOTP_TEST_OFFSET", None)
        return e

    def start(self, svc, now):
        """A login waiting at the prompt; answer() it, then finish()."""
        return subprocess.Popen([PAM_LOGIN, svc, self.user, self.confdir],
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
