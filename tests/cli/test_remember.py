#!/usr/bin/env python3
"""remember= through real PAM (tests/pam/ft-pam-login, the test module,
the test clock) with real local users (useradd and a password, removed in
a finally block; root only).  The first factor is pam_unix with the
user's real password, then the module: the Debian stack's order.

 - a code remembers the origin: the next login on the same service, from
   the same PAM_RHOST and PAM_TTY, within SECONDS is PAM_SUCCESS with only
   the password prompt, reason=remembered;
 - asked again after SECONDS, from another rhost, another tty, on another
   service, for another user, after a simulated reboot (another boot id);
 - a stack with no visible first factor neither remembers nor is let in;
 - totp-enroll unlock, reset, disable and a new enrolment forget it, so
   does a lockout (and a locked user is never remembered);
 - the cache holds a digest: neither the rhost nor the tty in clear."""
import json
import os
import re
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, PERIOD, tap  # noqa: E402

TAG = "rem%d" % os.getpid()
SECONDS = 600
PASSWORD = "Rem-pw-%d" % os.getpid()
RHOST1 = "rhost-one.example"
RHOST2 = "rhost-two.example"


class Login:
    def __init__(self, proc, log):
        self.rc = proc.stdout.strip()
        self.prompts = re.findall(r"^prompt: (.*)$", proc.stderr, re.M)
        lines = [l for l in log if "flowtotp: service=" in l]
        self.line = lines[-1] if lines else ""

    def outcome(self):
        m = re.search(r"result=(\S+) reason=(\S+)", self.line)
        return (m.group(1), m.group(2)) if m else (None, None)


class Ctx:
    def __init__(self, env, cache_args=None):
        self.env = env
        # The module's and totp-enroll's state options: the gdbm cache of
        # env, or Redis (tests/redis/test_remember_redis.py).
        self.cache_args = cache_args or ["cache=" + env.cache]
        env.opts = ["-o", "secret=" + env.secret_tpl]
        for a in self.cache_args:
            env.opts += ["-o", a]
        self.secrets = {}
        self.boot = self.boot_file("boot1")
        self.t = T0

    def boot_file(self, name):
        path = os.path.join(self.env.dir, name)
        with open(path, "w") as f:
            f.write(str(uuid.uuid4()) + "\n")
        return path

    def tick(self):
        """A new time step, so that every right code is a fresh one."""
        self.t += PERIOD
        return self.t


def service(c, name, remember=SECONDS, first=True, extra=()):
    env = c.env
    a = (["secret=" + env.secret_tpl] + c.cache_args +
         ["remember=%d" % remember] + list(extra))
    with open(os.path.join(env.confdir, name), "w") as f:
        if first:
            f.write("auth requisite pam_unix.so\n")
        f.write("auth required %s %s\n" % (clitest.PAM_MODULE, " ".join(a)))
        f.write("account required pam_permit.so\n")
    return name


def login(c, svc, user, answers, rhost=RHOST1, tty="/dev/pts/1", boot=None):
    env = c.env
    before = len(env.log_lines())
    e = env.env(c.t, FLOWTOTP_TEST_BOOT_ID_FILE=boot or c.boot,
                FT_PAM_RHOST=rhost, FT_PAM_TTY=tty)
    r = subprocess.run([clitest.PAM_LOGIN, svc, user, env.confdir],
                       input="".join(a + "\n" for a in answers),
                       capture_output=True, text=True, env=e, timeout=60)
    return Login(r, env.log_lines()[before:])


def with_code(c, svc, user, desc, **kw):
    """Asked for a code (password and code prompts); the right one passes
    (and is remembered)."""
    c.tick()
    lg = login(c, svc, user, [PASSWORD, clitest.totp(c.secrets[user], c.t)],
               **kw)
    tap.ok(lg.rc == "PAM_SUCCESS" and len(lg.prompts) == 2 and
           lg.outcome() == ("success", "ok"),
           "%s: asked for the code, passes (%s %s)" %
           (desc, lg.prompts, lg.line))


def remembered(c, svc, user, desc, **kw):
    c.tick()
    lg = login(c, svc, user, [PASSWORD], **kw)
    tap.ok(lg.rc == "PAM_SUCCESS" and len(lg.prompts) == 1 and
           lg.outcome() == ("success", "remembered"),
           "%s: remembered, only the password asked (%s %s)" %
           (desc, lg.prompts, lg.line))


def enrol(env, user):
    r = env.run(["--no-confirm", "--qr=none", "--user", user, "--json"])
    try:
        return json.loads(r.stdout)["secret"]
    except (ValueError, KeyError):
        tap.diag("enrol failed: %r %r" % (r.stdout, r.stderr))
        return None


def origins(c, svc, svc2, users):
    a, b = users
    with_code(c, svc, a, "first login")
    remembered(c, svc, a, "same service, rhost and tty")
    lg = login(c, svc, a, ["wrong-" + PASSWORD])
    tap.ok(lg.rc != "PAM_SUCCESS", "a wrong password still fails")
    with_code(c, svc, a, "another rhost", rhost=RHOST2)
    with_code(c, svc, a, "another tty", tty="/dev/pts/2")
    with_code(c, svc2, a, "another service")
    with_code(c, svc, b, "another user from the same origin")
    remembered(c, svc, a, "the first origin again")
    c.t += SECONDS
    with_code(c, svc, a, "after SECONDS")
    remembered(c, svc, a, "... and remembered again")
    with_code(c, svc, a, "another boot id (a reboot)",
              boot=c.boot_file("boot2"))
    nofactor = service(c, "ftremnofactor", first=False)
    c.tick()
    lg = login(c, nofactor, a, [clitest.totp(c.secrets[a], c.t)])
    tap.ok(len(lg.prompts) == 1 and "Password" not in lg.prompts[0] and
           lg.outcome() == ("success", "ok"),
           "no first factor in the stack: the code is asked (%s)" % lg.line)


def in_clear(env):
    with open(env.cache, "rb") as f:
        data = f.read()
    tap.ok(RHOST1.encode() not in data and b"pts/1" not in data and
           b"remember" in data,
           "the cache holds a remember record, not the rhost or tty")


def clears(c, svc, users):
    a = users[0]
    env = c.env
    remembered(c, svc, a, "before unlock")
    r = env.run(["unlock", a], now=c.t)
    tap.is_(r.returncode, 0, "totp-enroll unlock")
    with_code(c, svc, a, "after unlock")
    for cmd in (["reset", "--yes", a], ["disable", "--yes", a]):
        remembered(c, svc, a, "before %s" % cmd[0])
        r = env.run(cmd, now=c.t)
        tap.is_(r.returncode, 0, "totp-enroll %s" % cmd[0])
        c.secrets[a] = enrol(env, a)
        with_code(c, svc, a, "after %s and a new enrolment" % cmd[0])
    remembered(c, svc, a, "before a new enrolment over the old one")
    r = env.run(["--no-confirm", "--qr=none", "--user", a, "--json",
                 "--force"], now=c.t)
    if r.returncode == 0:
        c.secrets[a] = json.loads(r.stdout)["secret"]
        with_code(c, svc, a, "after enrolling again")
    else:
        tap.diag("enrol --force: %s" % r.stderr.strip())
        tap.ok(True, "enrolling over an enrolment is refused (%s)" %
               r.stderr.strip())


def lockout(c, svc, users):
    a = users[0]
    remembered(c, svc, a, "before the lockout")
    start = c.t
    for i in range(3):
        c.tick()
        lg = login(c, svc, a, [PASSWORD, clitest.wrong_code(c.secrets[a],
                                                            c.t)],
                   rhost=RHOST2)
    tap.ok(lg.outcome()[1] in ("bad_code", "locked") and
           "locked_until" in lg.line,
           "three wrong codes from elsewhere lock the user (%s)" % lg.line)
    c.tick()
    lg = login(c, svc, a, [PASSWORD, clitest.totp(c.secrets[a], c.t)])
    tap.ok(lg.rc != "PAM_SUCCESS" and len(lg.prompts) == 2 and
           lg.outcome() == ("failure", "locked"),
           "locked: the remembered origin is asked and refused (%s)" %
           lg.line)
    # The lock (60 s) ends well within SECONDS of the remembered login:
    # only the lockout can have forgotten the origin.
    c.t += 90
    tap.ok(c.t < start + SECONDS, "still within SECONDS of the last code")
    with_code(c, svc, a, "after the lock ended: asked again")


def setup(env):
    users = []
    for n in ("a", "b"):
        name = ("ft%s%s" % (TAG, n))[:31]
        env.add_user(name)
        subprocess.run(["chpasswd"], input="%s:%s\n" % (name, PASSWORD),
                       text=True, check=True, capture_output=True)
        users.append(name)
    return users


def run(env, cache_args=None, in_store=in_clear):
    """Every case against one backend; in_store(env) checks what the
    store holds."""
    users = setup(env)
    c = Ctx(env, cache_args)
    for u in users:
        c.secrets[u] = enrol(env, u)
    svc = service(c, "ftrem", extra=["deny=3", "unlock_time=60"])
    svc2 = service(c, "ftrem2", extra=["deny=3", "unlock_time=60"])
    origins(c, svc, svc2, users)
    in_store(env)
    r = env.run(["status", users[0], "-o", "remember=%d" % SECONDS],
                now=c.t)
    tap.ok("remember %d s" % SECONDS in r.stdout,
           "totp-enroll status shows remember= (%s)" % r.stdout.strip())
    clears(c, svc, users)
    lockout(c, svc, users)
    return c, users


def need_root():
    clitest.need_components(pam=True)
    if not clitest.is_root():
        tap.skip_all("needs root (useradd, pam_unix reading shadow)")


def main():
    need_root()
    env = clitest.Env("remember")
    try:
        run(env)
    finally:
        env.cleanup()
    tap.done_testing()


if __name__ == "__main__":
    main()
