#!/usr/bin/env python3
"""grace_days= with cache=redis, through real PAM (the split stack of
tests/cli/test_grace.py, a real user; root only) and a private
redis-server:

 - the first login past the first factor writes PREFIX:{USER}:grace once
   (SET NX, no TTL); a second "host" (another service with its own empty
   grace_dir) sees the same deadline and writes nothing; no file is made;
 - totp-enroll status and grace read it there; --extend and --reset change
   it there;
 - a damaged value: grace over, and the value left as it was;
 - a write Redis refuses denies (reason cache_error);
 - FLUSHALL forgets the record: the grace starts again (documented);
 - totp-enroll reset removes the grace record, in Redis and as a file;
 - Redis unreachable: no grace, denied."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/cli"))
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/redis"))
import clitest  # noqa: E402
from clitest import T0, tap  # noqa: E402
import redislib  # noqa: E402
import test_grace as tg  # noqa: E402

PREFIX = "gr%d" % os.getpid()
DAY, DAYS = tg.DAY, tg.DAYS
DEADLINE = "2023-11-21 22:13 UTC"     # T0 + 7 days


def b2s(v):
    return v.decode() if isinstance(v, bytes) else v


class Fleet:
    def __init__(self, env, srv):
        self.env, self.srv = env, srv
        self.key = "%s:{%s}:grace" % (PREFIX, tg.USER)
        self.redis = ["cache=redis", "redis_host=127.0.0.1",
                      "redis_port=%d" % srv.port, "redis_tls=no",
                      "redis_password_file=" + srv.passfile,
                      "redis_prefix=" + PREFIX]
        self.gdirs = {h: os.path.join(env.dir, "grace-" + h)
                      for h in ("a", "b")}
        self.svc = {h: self.service(h) for h in ("a", "b")}
        self.opts = ["-o", "secret=" + env.secret_tpl]
        for a in self.redis + ["grace_days=%d" % DAYS]:
            self.opts += ["-o", a]

    def service(self, h):
        a = self.redis + ["grace_days=%d" % DAYS,
                          "grace_dir=" + self.gdirs[h]]
        name = "ftgr" + h
        with open(os.path.join(self.env.confdir, name), "w") as f:
            f.write("auth requisite %s split secret=%s %s\n" %
                    (clitest.PAM_MODULE, self.env.secret_tpl, " ".join(a)))
            f.write("auth [success=ok default=die] pam_permit.so\n")
            f.write("auth required %s use_stashed secret=%s %s\n" %
                    (clitest.PAM_MODULE, self.env.secret_tpl, " ".join(a)))
            f.write("account required pam_permit.so\n")
        return name

    def login(self, h, now):
        return tg.login(self.env, self.svc[h], ["password"], now)

    def value(self):
        return b2s(self.srv.cmd("GET", self.key))

    def cli(self, args, now):
        return self.env.run(args, now=now, opts=self.opts)


def first_seen(f):
    lg = f.login("a", T0)
    tg.let_in(lg, "host a, day 0", DEADLINE)
    want = "flowtotp-grace 1 first=%d extend=0\n" % T0
    tap.is_(f.value(), want, "the record is in Redis")
    tap.is_(f.srv.cmd("TTL", f.key), -1, "... with no TTL")
    tap.ok(not os.path.exists(f.gdirs["a"]), "... and no grace file")
    lg = f.login("b", T0 + DAY)
    tg.let_in(lg, "host b, day 1: the same deadline", DEADLINE)
    tap.is_(f.value(), want, "host b wrote nothing")
    tap.ok(not os.path.exists(f.gdirs["b"]), "... and made no file")
    lg = f.login("b", T0 + DAYS * DAY + 60)
    tg.denied(lg, "host b after the deadline", "grace: over since")


def admin(f):
    now = T0 + (DAYS + 1) * DAY
    r = f.cli(["status", tg.USER], now)
    tap.ok("GRACE OVER since" in r.stdout and "record: redis" in r.stdout,
           "status reads the record in Redis (%s)" % r.stdout.strip())
    r = f.cli(["grace", tg.USER, "--extend", "3"], now)
    tap.ok(r.returncode == 0 and "record in redis" in r.stdout,
           "grace --extend 3 (%s)" % r.stdout.strip())
    tap.is_(f.value(), "flowtotp-grace 1 first=%d extend=3\n" % T0,
            "... written to Redis")
    tg.let_in(f.login("a", now), "host a after --extend",
              "2023-11-24 22:13 UTC")
    r = f.cli(["grace", tg.USER, "--reset"], now)
    tap.ok(r.returncode == 0 and f.srv.cmd("EXISTS", f.key) == 0,
           "grace --reset deletes the key")


def damaged(f):
    now = T0 + 30 * DAY
    f.srv.cmd("SET", f.key, "flowtotp-grace 1 first=oops extend=0\n")
    tg.denied(f.login("a", now), "a damaged value: grace over",
              "grace: record unusable")
    tap.is_(f.value(), "flowtotp-grace 1 first=oops extend=0\n",
            "... and left as it was")
    f.srv.cmd("DEL", f.key)
    f.srv.cmd("CONFIG", "SET", "min-replicas-to-write", "1")
    try:
        lg = f.login("a", now)
    finally:
        f.srv.cmd("CONFIG", "SET", "min-replicas-to-write", "0")
    tap.ok(lg.rc != "PAM_SUCCESS" and
           lg.outcome() == ("failure", "cache_error") and
           "cannot be written" in lg.line,
           "a write Redis refuses denies (%s)" % lg.line)
    tg.let_in(f.login("a", now), "the next login writes it")
    f.srv.cmd("FLUSHALL")
    later = now + 10 * DAY
    tg.let_in(f.login("b", later), "after FLUSHALL the grace starts again")
    tap.ok(("first=%d " % later) in f.value(), "... from that login")


def reset_removes(f):
    r = f.cli(["reset", "--yes", tg.USER], T0 + 50 * DAY)
    tap.ok(r.returncode == clitest.EX_NOTENROLLED and
           f.srv.cmd("EXISTS", f.key) == 0,
           "totp-enroll reset removes the Redis grace record (rc %d)" %
           r.returncode)
    env = f.env
    gdir = os.path.join(env.dir, "grace-file")
    opts = env.opts + ["-o", "grace_days=%d" % DAYS, "-o",
                       "grace_dir=" + gdir]
    svc = tg.service(env, "ftgrfile", ["grace_days=%d" % DAYS,
                                       "grace_dir=" + gdir])
    tg.let_in(tg.login(env, svc, ["password"], T0), "file record written")
    for cmd in (["reset", "--yes", tg.USER], ["disable", "--yes", tg.USER]):
        if not os.path.exists(tg.record(gdir)):
            tg.login(env, svc, ["password"], T0)
        r = env.run(cmd, opts=opts)
        tap.ok(not os.path.exists(tg.record(gdir)),
               "totp-enroll %s removes the grace file (rc %d)" %
               (cmd[0], r.returncode))


def main():
    clitest.need_components(pam=True)
    if not clitest.is_root():
        tap.skip_all("needs root (useradd)")
    if not redislib.REDIS_SERVER:
        tap.skip_all("redis-server not found")
    env = clitest.Env("graceredis")
    try:
        env.add_user(tg.USER)
        with redislib.Server("graceredis") as srv:
            f = Fleet(env, srv)
            first_seen(f)
            admin(f)
            damaged(f)
            reset_removes(f)
            srv.stop()
            tg.denied(f.login("a", T0 + 60 * DAY),
                      "Redis unreachable: no grace", "Redis")
    finally:
        env.cleanup()
    tap.done_testing()


main()
