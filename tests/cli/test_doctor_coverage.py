#!/usr/bin/env python3
"""totp-enroll doctor, the rollout checks (the prepared trees of
test_doctor.py; root only):

 - enrolment coverage with require=group:G (real users and a group, removed
   in a finally block): an enrolled member is not listed, an unenrolled one
   whose grace has not started is coverage-in-grace (information), one
   whose grace is over is coverage-unenrolled (warning); a user outside G
   is not counted; the summary counts them; without require=/exempt=/
   grace_days= the check stays silent;
 - with cache=redis and grace_days=, a server that neither saves nor
   appends: warning redis-grace-no-persistence; appendonly yes: none."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, tap  # noqa: E402
import test_doctor as td  # noqa: E402

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/redis"))
import redislib  # noqa: E402

TAG = "cov%d" % os.getpid()
GROUP = ("ftg%s" % TAG)[:31]
DAY = 86400


def user(n):
    return ("ft%s%s" % (TAG, n))[:31]


def setup(t, env):
    subprocess.run(["groupadd", GROUP], check=True, capture_output=True)
    for n in ("e", "g", "o", "x"):
        env.add_user(user(n))
    for n in ("e", "g", "o"):
        subprocess.run(["usermod", "-a", "-G", GROUP, user(n)], check=True,
                       capture_output=True)
    r = env.run(["--no-confirm", "--qr=none", "--user", user("e"),
                 "-o", "secret=%s/%%u" % t.store])
    tap.ok(r.returncode == 0, "one member enrolled")
    gdir = t.p("grace")
    os.mkdir(gdir, 0o700)
    with open(os.path.join(gdir, user("o")), "w") as f:
        f.write("flowtotp-grace 1 first=%d extend=0\n" % (T0 - 30 * DAY))
    os.chmod(os.path.join(gdir, user("o")), 0o600)
    return gdir


def coverage():
    t = td.Tree()
    env = clitest.Env("doccov")
    try:
        gdir = setup(t, env)
        rc, j, out = t.doctor()
        f = j["findings"] if j else []
        tap.ok(not td.find(f, "coverage"),
               "no rollout configured: no coverage findings")
        t.write("flowtotp.conf", "secret = %s/%%u\ncache = %s/state.gdbm\n"
                "require = group:%s\ngrace_days = 7\ngrace_dir = %s\n"
                % (t.store, t.cache, GROUP, gdir))
        rc, j, out = t.doctor()
        f = j["findings"] if j else []
        msgs = lambda fid: " | ".join(x["message"] for x in td.find(f, fid))
        tap.ok(user("g") in msgs("coverage-in-grace") and
               "grace not started" in msgs("coverage-in-grace"),
               "grace not started: information (%s)" %
               msgs("coverage-in-grace"))
        tap.ok(user("o") in msgs("coverage-unenrolled") and
               "grace over since" in msgs("coverage-unenrolled") and
               all(x["severity"] == "warning"
                   for x in td.find(f, "coverage-unenrolled")),
               "grace over: a warning (%s)" % msgs("coverage-unenrolled"))
        tap.ok(user("e") not in out and user("x") not in out,
               "the enrolled member and the non-member are not listed")
        tap.ok("3 required users, 2 not enrolled" in msgs("coverage"),
               "the summary counts them (%s)" % msgs("coverage"))
    finally:
        env.cleanup()
        t.cleanup()
        subprocess.run(["groupdel", GROUP], capture_output=True)


def grace_persistence():
    if not redislib.REDIS_SERVER:
        tap.ok(True, "# SKIP no redis-server")
        return
    with redislib.Server("doccov") as server:
        server.cmd("CONFIG", "SET", "maxmemory-policy", "noeviction")
        for aof, sev in (("no", "warning"), ("yes", None)):
            server.cmd("CONFIG", "SET", "appendonly", aof)
            t = td.redis_tree(server)
            try:
                with open(t.conf, "a") as fh:
                    fh.write("grace_days = 7\nrequire = none\n")
                rc, j, out = t.doctor()
                got = td.find(j["findings"] if j else [],
                              "redis-grace-no-persistence")
                tap.ok(([x["severity"] for x in got] == [sev]) if sev
                       else not got,
                       "appendonly %s: %s" % (aof, sev or "no warning"))
            finally:
                t.cleanup()


def main():
    if not os.access(clitest.CLI, os.X_OK):
        tap.skip_all("cli/totp-enroll-test not built")
    if os.geteuid() != 0:
        tap.skip_all("the doctor is root only")
    coverage()
    grace_persistence()
    tap.done_testing()


main()
