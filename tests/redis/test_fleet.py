"""Two hosts sharing one Redis, through the real PAM module.

Two module configurations (pam.d services "hosta" and "hostb", each with its
own local cache) act as two hosts of a fleet sharing one private
redis-server.  Logins run tests/pam/ft-pam-login (real libpam,
pam_start_confdir) against the test build of the module, with time pinned by
FLOWTOTP_TEST_NOW; oathtool computes the codes.

  - a code accepted on one host is rejected on the other (and the other way)
  - 20 rounds of 20 parallel logins split across both hosts with one code:
    exactly one succeeds in each round
  - failures on both hosts add up to one lockout; totp-enroll status/unlock
    act on Redis
  - wrong password, wrong db, Redis paused (SIGSTOP) beyond the timeout,
    Redis stopped mid-run: with redis_fallback=deny the login is denied
    (reason=cache_error), with redis_fallback=local it is decided by the
    host's local cache with a warning in the log; either way within the
    timeout
The server is always resumed and stopped at the end."""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/redis"))
import ftlib  # noqa: E402
from ftlib import (CLI, OATHTOOL, PAM_LOGIN, PAM_MODULE,  # noqa: E402,F401
                   PERIOD, T0, tap)
import redislib  # noqa: E402

KEY = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
TIMEOUT_MS = 400
SLACK_S = 2.5               # process start and libpam on a loaded machine
ROUNDS = 20
NPAR = 20
PREFIX = "fleet"
MARGIN = 60                 # TTL_MARGIN_S in common/state_redis.c
USER = pwd.getpwuid(os.geteuid()).pw_name


def code(now):
    return ftlib.totp(KEY, now)


def wrong(now):
    return ftlib.wrong_code(KEY, now)


class Fleet:
    def __init__(self, srv):
        self.srv = srv
        self.dir = tempfile.mkdtemp(prefix="ft-fleet-")
        self.secrets = os.path.join(self.dir, "secrets")
        self.confdir = os.path.join(self.dir, "pam.d")
        self.syslog = os.path.join(self.dir, "syslog")
        os.mkdir(self.secrets, 0o700)
        os.mkdir(self.confdir, 0o700)
        for h in ("a", "b"):
            os.mkdir(os.path.join(self.dir, "host" + h), 0o700)
        self.badpass = os.path.join(self.dir, "bad.pass")
        fd = os.open(self.badpass, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"not-the-password\n")
        os.close(fd)
        with open(os.path.join(self.confdir, "other"), "w") as f:
            f.write("auth required pam_deny.so\n")
        fd = os.open(os.path.join(self.secrets, USER),
                     os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, ("version = 1\nsecret = %s\nalgorithm = SHA1\n"
                      "digits = 6\nperiod = 30\ncreated = 1699990000\n" %
                      KEY).encode())
        os.close(fd)

    def local_cache(self, host):
        return os.path.join(self.dir, "host" + host, "cache", "state.gdbm")

    def opts(self, host, **over):
        o = {
            "secret": os.path.join(self.secrets, "%u"),
            "cache": "redis",
            "redis_host": "127.0.0.1",
            "redis_port": str(self.srv.port),
            "redis_tls": "no",
            "redis_password_file": self.srv.passfile,
            "redis_prefix": PREFIX,
            "redis_timeout_ms": str(TIMEOUT_MS),
            "local_cache": self.local_cache(host),
            "window": "1",
            "deny": "3",
            "unlock_time": "600",
            "fail_interval": "900",
        }
        o.update(over)
        return ["%s=%s" % kv for kv in o.items()]

    def service(self, name, host, **over):
        with open(os.path.join(self.confdir, name), "w") as f:
            f.write("auth required %s %s\n" %
                    (PAM_MODULE, " ".join(self.opts(host, **over))))
        return name

    def env(self, now):
        e = dict(os.environ)
        e["FLOWTOTP_TEST_NOW"] = str(now)
        e.pop("FLOWTOTP_TEST_OFFSET", None)
        e["FT_TEST_SYSLOG"] = self.syslog
        e["LC_ALL"] = "C"
        return e

    def start(self, svc, answer, now):
        p = subprocess.Popen([PAM_LOGIN, svc, USER, self.confdir],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.env(now),
                             text=True)
        return p, answer

    def login(self, svc, answer, now):
        """(success, seconds, new syslog lines)."""
        before = self.log_lines()
        t = time.monotonic()
        r = subprocess.run([PAM_LOGIN, svc, USER, self.confdir],
                           input=answer + "\n", capture_output=True,
                           text=True, env=self.env(now), timeout=60)
        took = time.monotonic() - t
        if r.returncode not in (0, 1):
            tap.diag("ft-pam-login rc %d: %s %s" %
                     (r.returncode, r.stdout, r.stderr))
        return r.returncode == 0, took, self.log_lines()[len(before):]

    def log_lines(self):
        try:
            with open(self.syslog) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def cli(self, args, now, host="a"):
        o = []
        for kv in self.opts(host):
            o += ["-o", kv]
        return subprocess.run([CLI] + o + args, capture_output=True,
                              text=True, env=self.env(now), timeout=60)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def reason(lines):
    for ln in reversed(lines):
        if "result=" in ln and "reason=" in ln:
            return ln.split("reason=", 1)[1].split()[0]
    return None


def warned(lines):
    return any("warning=" in ln and "Redis" in ln for ln in lines)


def test_cross_host(f, srv):
    a = f.service("hosta", "a")
    b = f.service("hostb", "b")
    now = T0
    ok, _, lines = f.login(a, code(now), now)
    tap.ok(ok, "host A accepts a fresh code")
    ok, _, lines = f.login(b, code(now), now + 2)
    tap.ok(not ok, "host B rejects the same code")
    tap.is_(reason(lines), "replay", "B logs reason=replay")
    now += PERIOD
    ok, _, _ = f.login(b, code(now), now)
    tap.ok(ok, "host B accepts the next code")
    ok, _, lines = f.login(a, code(now), now + 1)
    tap.ok(not ok and reason(lines) == "replay",
           "host A rejects it as a replay")
    ok, _, lines = f.login(a, code(now - PERIOD), now + 1)
    tap.ok(not ok and reason(lines) == "replay",
           "an older code inside the window is a replay too")

    key = "%s:{%s}:" % (PREFIX, USER)
    tap.is_(srv.cmd("GET", key + "step"), str(now // PERIOD),
            "the server holds the last accepted step")
    ttl = srv.cmd("TTL", key + "step")
    want = (1 + 10 + 1) * 300 + MARGIN
    tap.ok(want - 5 <= ttl <= want,
           "step key TTL %d is (window+window_max+1)*300 + %d" % (ttl, MARGIN))
    tap.is_(srv.cmd("GET", key + "ok"), str(now),
            "ok key holds the last success time")
    tap.is_(srv.cmd("TTL", key + "ok"), -1, "ok key has no TTL")
    # A replay is refused but not counted: its advance failure is taken
    # back, and with none left the fail hash goes.
    tap.is_(srv.cmd("EXISTS", key + "fail"), 0,
            "the replayed attempts left no failure counted")
    tap.ok(not os.path.exists(f.local_cache("a")) or
           srv.cmd("EXISTS", key + "step") == 1,
           "Redis, not the local cache, answered")
    return now


def test_parallel(f, srv, now):
    # deny=0: every login reaches the check, so this is the atomic
    # check-and-record, not the lockout, deciding.
    a = f.service("racea", "a", deny="0")
    b = f.service("raceb", "b", deny="0")
    bad = []
    for rnd in range(ROUNDS):
        now += PERIOD
        c = code(now)
        procs = [f.start(a if i % 2 == 0 else b, c, now)
                 for i in range(NPAR)]
        # Everyone is waiting at the prompt; answer all at once.
        for p, ans in procs:
            p.stdin.write(ans + "\n")
            p.stdin.flush()
        wins = 0
        errs = 0
        for p, _ in procs:
            p.communicate(timeout=60)
            if p.returncode == 0:
                wins += 1
            elif p.returncode != 1:
                errs += 1
        if wins != 1 or errs != 0:
            bad.append((rnd, wins, errs))
    tap.ok(not bad, "%d rounds of %d parallel logins on two hosts with one "
           "code: exactly one success each" % (ROUNDS, NPAR))
    if bad:
        tap.diag("rounds (round, successes, errors): %r" % bad)
    return now


def test_lockout(f, srv, now):
    a = f.service("hosta", "a")
    b = f.service("hostb", "b")
    key = "%s:{%s}:fail" % (PREFIX, USER)
    now += PERIOD
    srv.cmd("DEL", key)
    r1, _, _ = f.login(a, wrong(now), now)
    r2, _, _ = f.login(b, wrong(now), now + 1)
    tap.is_(srv.cmd("HGET", key, "n"), "2",
            "failures on A and B count in one record")
    r3, _, _ = f.login(a, wrong(now), now + 2)
    tap.ok(not (r1 or r2 or r3), "three wrong codes are rejected")
    ok, _, lines = f.login(b, code(now), now + 3)
    tap.ok(not ok and reason(lines) == "locked",
           "host B: the correct code is refused, the user is locked")
    ttl = srv.cmd("TTL", key)
    tap.ok(600 - 5 <= ttl <= 600 + MARGIN,
           "locked: fail hash TTL %d is unlock_time + margin" % ttl)
    ok, _, lines = f.login(a, code(now + 300), now + 300)
    tap.ok(not ok and reason(lines) == "locked", "host A: still locked")

    if os.access(CLI, os.X_OK):
        r = f.cli(["status", USER], now + 301)
        tap.ok(r.returncode == 0 and "lock" in r.stdout.lower(),
               "totp-enroll status reads the lock from Redis")
        if r.returncode != 0 or "lock" not in r.stdout.lower():
            tap.diag(r.stdout + r.stderr)
    if os.access(CLI, os.X_OK) and os.geteuid() == 0:
        r = f.cli(["unlock", USER], now + 301)
        tap.ok(r.returncode == 0 and srv.cmd("EXISTS", key) == 0,
               "totp-enroll unlock clears the lock in Redis")
        if r.returncode != 0:
            tap.diag(r.stdout + r.stderr)
    else:
        tap.diag("unlock is root's (or no CLI): unlocking on the server")
        srv.cmd("DEL", key)
    ok, _, _ = f.login(b, code(now + 330), now + 330)
    tap.ok(ok, "after unlock host B accepts a code")
    # Lock again, then let unlock_time pass (test clock).
    now += 600
    for i in range(3):
        f.login(a if i % 2 else b, wrong(now), now + i)
    ok, _, lines = f.login(a, code(now + 30), now + 30)
    tap.ok(not ok and reason(lines) == "locked", "locked again")
    now += 630
    ok, _, _ = f.login(b, code(now), now)
    tap.ok(ok, "after unlock_time host B accepts a code")
    return now


def check_outage(f, now, what, svc_over, fallback_ok=True):
    """Deny with fallback=deny; succeed through the local cache (with a
    warning, and still refusing a replay there) with fallback=local."""
    d = f.service("outd", "a", **svc_over)
    ok, took, lines = f.login(d, code(now), now)
    tap.ok(not ok and reason(lines) == "cache_error",
           "%s, redis_fallback=deny: denied (reason=cache_error)" % what)
    if ok or reason(lines) != "cache_error":
        tap.diag("\n".join(lines))
    tap.ok(took < TIMEOUT_MS / 1000.0 + SLACK_S,
           "%s: decided in %.2f s (timeout %d ms)" % (what, took, TIMEOUT_MS))
    detail = [ln for ln in lines if "result=" in ln]
    tap.ok(detail and "Redis" in detail[-1] and
           "not-the-password" not in detail[-1],
           "%s: the log line says what failed" % what)
    if detail:
        tap.diag(detail[-1])
    if not fallback_ok:
        return took
    loc = f.service("outl", "b", redis_fallback="local", **svc_over)
    ok, took2, lines = f.login(loc, code(now), now)
    tap.ok(ok and warned(lines),
           "%s, redis_fallback=local: the local cache accepts, with a "
           "warning" % what)
    if not ok or not warned(lines):
        tap.diag("\n".join(lines))
    tap.ok(took2 < TIMEOUT_MS / 1000.0 + SLACK_S,
           "%s: fallback login in %.2f s" % (what, took2))
    ok, _, lines = f.login(loc, code(now), now + 1)
    tap.ok(not ok and reason(lines) == "replay" and warned(lines),
           "%s: the local cache still refuses a replay" % what)
    return took


def failures(lines):
    for ln in reversed(lines):
        if "failures=" in ln:
            return int(ln.split("failures=", 1)[1].split()[0])
    return None


def test_mirror(f, srv, now):
    """redis_fallback=local keeps this host's copy of what Redis answered:
    after Redis goes away the local cache refuses the code Redis accepted
    and goes on counting Redis's failures."""
    now += PERIOD
    m = f.service("mirror", "a", redis_fallback="local")
    ok, _, lines = f.login(m, code(now), now)
    tap.ok(ok and not warned(lines), "mirror: Redis accepts the code")
    ok, _, lines = f.login(m, wrong(now), now + 1)
    tap.ok(not ok and failures(lines) == 1,
           "a failure through Redis logs failures=1 (Redis reports it)")
    if failures(lines) != 1:
        tap.diag("\n".join(lines))
    srv.pause()
    try:
        ok, _, lines = f.login(m, code(now), now + 2)
        tap.ok(not ok and reason(lines) == "replay" and warned(lines),
               "Redis paused: the local cache refuses the code Redis "
               "accepted")
        if ok or reason(lines) != "replay":
            tap.diag("\n".join(lines))
        ok, _, lines = f.login(m, wrong(now), now + 3)
        tap.ok(not ok and failures(lines) == 2,
               "Redis paused: the failure counted through Redis counts "
               "locally (failures=2)")
        if failures(lines) != 2:
            tap.diag("\n".join(lines))
    finally:
        srv.resume()
    ok, _, _ = f.login(m, code(now + PERIOD), now + PERIOD)
    tap.ok(ok, "Redis back: the next code is accepted")
    return now + PERIOD


def test_outages(f, srv, now):
    now += PERIOD
    check_outage(f, now, "wrong password",
                 {"redis_password_file": f.badpass})
    now += PERIOD
    check_outage(f, now, "database %d of %d" %
                 (redislib.DATABASES, redislib.DATABASES),
                 {"redis_db": str(redislib.DATABASES)})

    now += PERIOD
    srv.pause()
    try:
        took = check_outage(f, now, "Redis paused", {})
        tap.ok(took >= TIMEOUT_MS / 1000.0 * 0.9,
               "paused: the module did wait for the timeout (%.2f s)" % took)
    finally:
        srv.resume()
    now += PERIOD
    a = f.service("hosta", "a")
    ok, _, _ = f.login(a, code(now), now)
    tap.ok(ok, "after SIGCONT Redis answers again")

    now += PERIOD
    srv.stop()
    check_outage(f, now, "Redis stopped", {})
    return now


def main():
    if not redislib.REDIS_SERVER:
        tap.skip_all("no redis-server (REDIS_SERVER is empty)")
    for p in (PAM_LOGIN, PAM_MODULE):
        if not os.path.exists(p):
            tap.skip_all("%s not built" % p)
    if not OATHTOOL:
        tap.skip_all("oathtool not found")
    srv = redislib.Server("fleet")
    f = None
    try:
        srv.start()
        f = Fleet(srv)
        now = test_cross_host(f, srv)
        now = test_parallel(f, srv, now)
        now = test_lockout(f, srv, now)
        now = test_mirror(f, srv, now)
        test_outages(f, srv, now)
    finally:
        srv.cleanup()
        if f is not None:
            f.cleanup()
    tap.done_testing()


main()
