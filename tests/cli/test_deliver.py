#!/usr/bin/env python3
"""deliver=: codes sent by a command, through real PAM (tests/pam/ft-pam-login
driven with pexpect, the test module, the test clock) with real local users
(useradd, chpasswd; removed in a finally block; root only) behind the
password (pam_unix, requisite).  The commands are real scripts in a
root-owned directory under /var/lib:

 - totp-enroll --deliver: a version 2 file with the address and no secret,
   the key file made once (root, 0600, 32 bytes); bad addresses refused;
 - an empty answer (and the word "send") has the command run as nobody,
   with the user, address and code on stdin, an empty environment and only
   fds 0-2; the code logs in once (reason=ok, "delivered code"), then fails;
 - the code expires after deliver_ttl (test clock); a wrong one counts
   toward deny like any code;
 - rate limits: a refused request looks the same and is logged;
 - each command failure (missing, exit 1, time-out, killed by a signal,
   unsafe path) denies with reason=delivery_failed, the code and address
   in no log line;
 - a user without delivery who sends an empty line sees the same texts and
   prompts and is refused; a stack with no first factor sends nothing;
 - reset drops a code sent and the request counts with the login records;
 - the same through cache=redis (its Lua script), when Redis is there."""
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, tap  # noqa: E402

ADDR = "dlv-user@example.org"
TTL = 300
PROMPT = "Verification code: "
INFO = "info: If codes can be sent to you"

# Python rather than sh for the one that reports its descriptors: a shell
# keeps its script and saved descriptors open.
OK_SCRIPT = """#!/usr/bin/python3 -I
import os, sys
data = sys.stdin.read()
fds = sorted(os.listdir("/proc/self/fd"), key=int)
with open(%r, "w") as f:
    f.write(data)
    f.write("uid=%%d gid=%%d groups=%%s\\n" %% (os.getuid(), os.getgid(),
            " ".join(str(g) for g in os.getgroups())))
    f.write("env=%%s\\n" %% " ".join(sorted(os.environ)))
    f.write("fds=%%s\\n" %% " ".join(fds))
"""
FAIL_SCRIPTS = {
    "exit1": "#!/bin/sh\ncat >/dev/null\nexit 1\n",
    # Not exec: the shell's child must be killed with it (its group).
    "sleep": "#!/bin/sh\nsleep 60 &\necho $! > %(out)s/sleeper\nwait\n",
    "signal": "#!/bin/sh\nkill -9 $$\n",
}


def user_name(tag):
    return ("dlv%s%d" % (tag, os.getpid()))[:31]


class Rig:
    def __init__(self):
        self.env = clitest.Env("dlv")
        # Commands must sit in root's directories that nobody else may
        # write: /tmp would be refused (and rightly).
        self.bin = tempfile.mkdtemp(prefix="ft-dlv-", dir="/var/lib")
        os.chmod(self.bin, 0o755)
        self.out = os.path.join(self.bin, "out")
        os.mkdir(self.out, 0o700)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.out, nobody.pw_uid, nobody.pw_gid)
        self.msg = os.path.join(self.out, "msg")
        self.key = os.path.join(self.env.dir, "deliver.key")
        self.passwords = {}
        self.script("ok", OK_SCRIPT % self.msg)
        for name, body in FAIL_SCRIPTS.items():
            self.script(name, body % {"out": self.out})

    def script(self, name, body):
        p = os.path.join(self.bin, name)
        with open(p, "w") as f:
            f.write(body)
        os.chmod(p, 0o755)
        return p

    def opts(self):
        return self.env.opts + ["-o", "deliver_key=" + self.key]

    def service(self, cmd="ok", extra=(), first="pam_unix.so nodelay"):
        """The password (pam_unix, stopping on a wrong one), then the
        module: the stack the man page asks for."""
        path = cmd if cmd.startswith("/") else os.path.join(self.bin, cmd)
        a = ["secret=" + self.env.secret_tpl, "cache=" + self.env.cache,
             "deliver=" + path, "deliver_key=" + self.key,
             "deliver_timeout=1", "deny=0"] + list(extra)
        self.asks_password = first.startswith("pam_unix")
        with open(os.path.join(self.env.confdir, "ftdlv"), "w") as f:
            f.write("auth requisite %s\n" % first)
            f.write("auth required %s %s\n" %
                    (clitest.PAM_MODULE, " ".join(a)))
            f.write("account required pam_permit.so\n")

    def add_user(self, name):
        self.env.add_user(name)
        self.passwords[name] = "pw-" + name
        subprocess.run(["chpasswd"], input="%s:pw-%s\n" % (name, name),
                       text=True, check=True, capture_output=True)

    def password(self, user):
        return self.passwords.get(user, "no-such-user")

    def enrol(self, user, addr=ADDR, now=T0):
        return self.env.run(["--user", user, "--deliver", addr], now=now,
                            opts=self.opts())

    def take_message(self):
        try:
            with open(self.msg) as f:
                text = f.read()
        except FileNotFoundError:
            return None
        os.unlink(self.msg)
        return text

    def cleanup(self):
        shutil.rmtree(self.bin, ignore_errors=True)
        self.env.cleanup()


class Login:
    """One login driven prompt by prompt: the second answer is typed only
    after the command ran, so it can be the code it received (second=None)
    or a given one.  Keeps the outcome line and what the command got."""

    def __init__(self, rig, user, first, now, second=None):
        before = len(rig.env.log_lines())
        p = pexpect.spawn(clitest.PAM_LOGIN,
                          ["ftdlv", user, rig.env.confdir],
                          env=rig.env.env(now), encoding="utf-8",
                          timeout=30, echo=False)
        self.message = None
        p.expect_exact("prompt: Password: ")
        p.sendline(rig.password(user))
        p.expect_exact("prompt: " + PROMPT)
        p.sendline(first)
        if p.expect([r"prompt: [^\r\n]*", pexpect.EOF]) == 0:
            self.message = rig.take_message()
            p.sendline(second if second is not None
                       else self.code() or "000000")
            p.expect(pexpect.EOF)
        p.close()
        self.ok = p.exitstatus == 0
        self.log = rig.env.log_lines()[before:]
        lines = [l for l in self.log if "flowtotp: service=" in l]
        self.line = lines[-1] if lines else ""

    def code(self):
        if self.message is None:
            return None
        lines = self.message.splitlines()
        return lines[2] if len(lines) > 2 else None

    def outcome(self):
        m = re.search(r"result=(\S+) reason=(\S+)", self.line)
        return (m.group(1), m.group(2)) if m else (None, None)


def dialogue(rig, user, first, now, second="000000"):
    """The texts and prompts a client sees, in order, for an answer pair
    (ft-pam-login prints them on stderr), and the exit status."""
    r = subprocess.run([clitest.PAM_LOGIN, "ftdlv", user, rig.env.confdir],
                       input="".join(a + "\n" for a in (
                           [rig.password(user)] if rig.asks_password
                           else []) + [first, second]),
                       capture_output=True, text=True,
                       env=rig.env.env(now), timeout=60)
    shown = [l for l in r.stderr.splitlines()
             if l.startswith(("prompt:", "info:", "error:"))]
    return shown, r.returncode


def test_enrol(rig, user):
    r = rig.enrol(user)
    tap.is_(r.returncode, clitest.EX_OK, "enroll --deliver succeeds")
    with open(rig.env.path(user)) as f:
        text = f.read()
    tap.ok(re.search(r"^version = 2$", text, re.M) and
           re.search(r"^deliver = %s$" % re.escape(ADDR), text, re.M) and
           not re.search(r"^secret", text, re.M),
           "the file is version 2 with the address and no secret")
    st = os.lstat(rig.key)
    tap.ok(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600 and
           st.st_size == 32, "the key file is root's, 0600, 32 bytes")
    with open(rig.key, "rb") as f:
        key = f.read()
    other = user_name("o")
    for bad in ("-oQ@example.org", "a b@example.org", "a\x01b@example.org",
                "x" * 300 + "@example.org"):
        r = rig.enrol(other, addr=bad)
        tap.ok(r.returncode == clitest.EX_USAGE and
               not os.path.exists(rig.env.path(other)),
               "address %r refused, nothing written" % bad[:20])
    r = rig.env.run(["status", user, "--json"], opts=rig.opts())
    tap.ok(r.returncode == 0 and ('"deliver":"%s"' % ADDR) in r.stdout,
           "status shows the address")
    r = rig.enrol(user)
    tap.is_(r.returncode, clitest.EX_EXISTS,
            "a second enrolment needs --force")
    with open(rig.key, "rb") as f:
        tap.ok(f.read() == key, "the key is made once")


def test_success(rig, user):
    lg = Login(rig, user, "", T0)
    msg = (lg.message or "").splitlines()
    tap.ok(len(msg) >= 3 and msg[0] == user and msg[1] == ADDR and
           re.fullmatch(r"\d{6}", msg[2]),
           "the command got user, address and a 6-digit code on stdin")
    nobody = pwd.getpwnam("nobody")
    tap.ok(("uid=%d gid=%d groups=\n" % (nobody.pw_uid, nobody.pw_gid)) in
           (lg.message or ""), "it ran as nobody, no supplementary groups")
    envline = [m for m in msg if m.startswith("env=")]
    tap.ok(envline and set(envline[0][4:].split()) <= {"LC_CTYPE"},
           "with an empty environment")
    fds = [m for m in msg if m.startswith("fds=")]
    tap.diag(fds)
    # listdir holds one descriptor for the directory it reads.
    tap.ok(fds and len(set(fds[0][4:].split()) - {"0", "1", "2"}) <= 1,
           "with no descriptor beyond 0-2 (and listdir's own)")
    tap.ok(lg.ok and lg.outcome() == ("success", "ok") and
           "delivered code" in lg.line and "code_sent=yes" in lg.line,
           "the delivered code logs in (logged, with code_sent=yes)")
    code = lg.code()
    tap.ok(code and not any(code in l or ADDR in l for l in lg.log),
           "neither code nor address in the log")
    again = Login(rig, user, code, T0 + 5)
    tap.ok(not again.ok and again.outcome()[1] == "bad_code" and
           "code_sent" not in again.line,
           "the same code fails the second time")
    return code


def test_word_and_expiry(rig, user):
    lg = Login(rig, user, "send", T0 + 100, second="")
    tap.ok(lg.code() is not None, "'send' asks for a code too")
    late = Login(rig, user, lg.code(), T0 + 100 + TTL)
    tap.ok(not late.ok and late.outcome()[1] == "bad_code",
           "after deliver_ttl the code fails")
    lg = Login(rig, user, "", T0 + 1000, second="")
    code = lg.code()
    tap.ok(code is not None, "a new code")
    ok = Login(rig, user, code, T0 + 1000 + TTL - 1)
    tap.ok(ok.ok, "one second before the end it still works")


def test_rate(rig, user):
    base = T0 + 20000
    first = Login(rig, user, "", base, second="000000")
    tap.ok(first.message is not None, "first request of the minute sent")
    shown1, _ = dialogue(rig, user, "", base + 10)
    msg = rig.take_message()
    tap.ok(msg is None, "second request in the same minute: nothing sent")
    lines = [l for l in rig.env.log_lines() if "deliver_rate_minute" in l]
    tap.ok(lines, "the refused request is logged")
    tap.ok(any(l.startswith(INFO) for l in shown1) and
           shown1.count("prompt: " + PROMPT) == 2,
           "and looks the same to the user")
    ok = Login(rig, user, first.code(), base + 20)
    tap.ok(ok.ok, "the code sent first still works")
    sent = 0
    for k in range(1, 7):
        lg = Login(rig, user, "", base + 61 * k)
        sent += lg.message is not None
    # deliver_rate_hour=5: the first request plus four more.
    tap.is_(sent, 4, "deliver_rate_hour caps the requests of the hour")


def test_lockout(rig, user):
    rig.service("ok", ["deny=3"])
    base = T0 + 50000
    lg = Login(rig, user, "", base, second="111111")
    code = lg.code()
    wrong = "111111" if code != "111111" else "222222"
    for k in range(2):
        Login(rig, user, wrong, base + 1 + k)
    locked = Login(rig, user, code, base + 5)
    tap.ok(not locked.ok and locked.outcome()[1] == "locked",
           "wrong answers count toward deny; then the code is refused")
    r = rig.env.run(["unlock", user], opts=rig.opts())
    tap.is_(r.returncode, clitest.EX_OK, "unlock")
    rig.service("ok")


def test_failures(rig, user):
    cases = [("missing", os.path.join(rig.bin, "nothere")),
             ("exit 1", "exit1"), ("time-out", "sleep"),
             ("signal", "signal")]
    ref = None
    for k, (what, cmd) in enumerate(cases):
        rig.service(cmd)
        now = T0 + 100000 + 4000 * k
        shown, rc = dialogue(rig, user, "", now)
        log = rig.env.log_lines()
        lines = [l for l in log if "flowtotp: service=" in l]
        tap.ok(rc == 1 and lines and "reason=delivery_failed" in lines[-1],
               "%s: denied, reason=delivery_failed" % what)
        tap.diag(lines[-1] if lines else "no line")
        tap.ok(ADDR not in "\n".join(log) and not any(
            ADDR in s for s in shown), "%s: the address is not shown" % what)
        ref = ref or shown
        tap.is_(shown, ref, "%s: the dialogue is the same" % what)
        if cmd == "sleep":
            with open(os.path.join(rig.out, "sleeper")) as f:
                pid = int(f.read())
            tap.ok(not os.path.exists("/proc/%d" % pid) or
                   "Z" in open("/proc/%d/stat" % pid).read().split()[2],
                   "time-out: what the command started is killed too")
    unsafe = rig.script("unsafe", "#!/bin/sh\nexit 0\n")
    os.chmod(unsafe, 0o775)
    rig.service("unsafe")
    shown, rc = dialogue(rig, user, "", T0 + 200000)
    line = [l for l in rig.env.log_lines() if "flowtotp: service=" in l][-1]
    tap.ok(rc == 1 and "reason=delivery_failed" in line and
           "not writable" in line, "a group-writable command is refused")
    rig.service("ok")


def test_no_delivery(rig, user, app_user):
    shown_d, _ = dialogue(rig, user, "", T0 + 300000)
    rig.take_message()
    shown_n, rc = dialogue(rig, app_user, "", T0 + 300000)
    tap.is_(shown_n, shown_d,
            "a user without delivery sees the same texts and prompts")
    line = [l for l in rig.env.log_lines() if "flowtotp: service=" in l][-1]
    tap.ok(rc == 1 and "result=failure" in line, "and is refused")
    tap.ok(rig.take_message() is None, "nothing is sent for them")
    # Without a first factor (pam_permit) nothing is sent, and the user
    # with delivery sees what an unknown user does.
    rig.service("ok", first="pam_permit.so")
    shown_d, rc = dialogue(rig, user, "", T0 + 310000)
    line = [l for l in rig.env.log_lines() if "flowtotp: service=" in l][-1]
    tap.ok(rc == 1 and "reason=delivery_failed" in line and
           "no first factor" in line and rig.take_message() is None,
           "no first factor seen: nothing sent, delivery_failed")
    shown_u, rc = dialogue(rig, "dlvnosuchuser", "", T0 + 310000)
    tap.ok(shown_u == shown_d and rc == 1,
           "the same dialogue as for an unknown user")
    rig.service("ok")


def test_reset(rig, user):
    """reset drops the delivery record with the login records: a code
    sent before it no longer logs in after reset and a new enrolment (the
    key file, and so the code's hash, stay the same), and the request
    counts start again (a second request in the same minute is sent)."""
    base = T0 + 350000
    lg = Login(rig, user, "", base, second="000000")
    code = lg.code()
    tap.ok(code is not None and not lg.ok, "reset: a code is sent")
    r = rig.env.run(["reset", "--yes", user], opts=rig.opts())
    tap.is_(r.returncode, clitest.EX_OK, "reset")
    tap.is_(rig.enrol(user, now=base + 5).returncode, clitest.EX_OK,
            "re-enrolled with the same address")
    late = Login(rig, user, code, base + 10)
    tap.ok(not late.ok and late.outcome()[1] == "bad_code",
           "the code sent before the reset no longer logs in")
    again = Login(rig, user, "", base + 20, second="")
    tap.ok(again.code() is not None,
           "a request in the same minute is sent: the counts were reset")
    ok = Login(rig, user, again.code() or "x", base + 30)
    tap.ok(ok.ok, "and its code logs in")


def have_redis():
    try:
        with open(os.path.join(clitest.TOP_BUILDDIR, "config.h")) as f:
            built = "#define HAVE_REDIS 1" in f.read()
    except OSError:
        built = False
    sys.path.insert(0, os.path.join(clitest.TOP_SRCDIR, "tests/redis"))
    import redislib
    return redislib if built and redislib.REDIS_SERVER else None


def test_redis(rig, user):
    """The same rules through cache=redis (its own Lua script)."""
    redislib = have_redis()
    if redislib is None:
        tap.ok(True, "Redis # SKIP no redis-server or built without hiredis")
        return
    with redislib.Server("dlv") as srv:
        srv.start()
        extra = ["deliver_rate_minute=1", "deliver_rate_hour=5",
                 "cache=redis", "redis_port=%d" % srv.port, "redis_tls=no",
                 "redis_password_file=" + srv.passfile]
        rig.service("ok", extra)
        base = T0 + 400000
        lg = Login(rig, user, "", base, second="000000")
        code = lg.code()
        tap.ok(code is not None and not lg.ok, "Redis: a code is sent")
        key = "flowtotp:{%s}:deliver" % user
        h = srv.cmd("HGETALL", key)
        flat = [x.decode() if isinstance(x, bytes) else x for x in h or []]
        rec = dict(zip(flat[::2], flat[1::2]))
        tap.ok(rec.get("exp") == str(base + TTL) and
               len(rec.get("mac", "")) == 64 and code not in str(flat),
               "Redis: only the HMAC and the expiry are stored")
        shown, _ = dialogue(rig, user, "", base + 5)
        tap.ok(rig.take_message() is None and shown.count(
            "prompt: " + PROMPT) == 2, "Redis: the rate limit holds")
        ok = Login(rig, user, code, base + 10)
        tap.ok(ok.ok and "delivered code" in ok.line,
               "Redis: the code logs in")
        again = Login(rig, user, code, base + 11)
        tap.ok(not again.ok, "Redis: once only")
        lg = Login(rig, user, "", base + 100, second="000000")
        late = Login(rig, user, lg.code() or "x", base + 100 + TTL)
        tap.ok(lg.code() and not late.ok, "Redis: expired codes fail")
        ttl = int(srv.cmd("TTL", key))
        tap.ok(0 < ttl <= 3600 + TTL + 60, "Redis: the key expires (%d s)"
               % ttl)
        lg = Login(rig, user, "", base + 4000, second="000000")
        opts = rig.opts() + sum((["-o", o] for o in extra), [])
        r = rig.env.run(["reset", "--yes", user], opts=opts)
        tap.ok(lg.code() and r.returncode == clitest.EX_OK and
               srv.cmd("EXISTS", key) in (0, b"0", "0"),
               "Redis: reset removes the delivery key")
    rig.service("ok")


def main():
    if not clitest.is_root():
        tap.skip_all("needs root (useradd, a root-owned command)")
    clitest.need_components(pam=True)
    rig = Rig()
    user, app_user = user_name("a"), user_name("b")
    try:
        rig.add_user(user)
        rig.add_user(app_user)
        r = rig.env.run(["--user", app_user, "--no-confirm", "--qr=none"])
        tap.is_(r.returncode, clitest.EX_OK, "an app user enrolled")
        rig.service("ok", ["deliver_rate_minute=1", "deliver_rate_hour=5"])
        test_enrol(rig, user)
        test_success(rig, user)
        test_word_and_expiry(rig, user)
        test_rate(rig, user)
        test_lockout(rig, user)
        test_failures(rig, user)
        test_no_delivery(rig, user, app_user)
        test_reset(rig, user)
        test_redis(rig, user)
    finally:
        rig.cleanup()
    tap.done_testing()


main()
