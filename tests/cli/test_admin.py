"""The admin and self-service commands: status, list, reset, disable,
backup-codes, unlock, check (text and --json), who may do what, and bad
input.  The self-service part runs as any user; the admin part needs root
(temp users from useradd, removed in a finally block) and is skipped
otherwise."""
import json
import os
import pwd
import stat
import subprocess
import sys

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, PERIOD, tap  # noqa: E402


def jrun(env, args, now=T0, opts=None):
    r = env.run(args + ["--json"], now=now, opts=opts)
    try:
        return r.returncode, json.loads(r.stdout), r.stderr
    except ValueError:
        tap.diag("not JSON: %r / %r" % (r.stdout, r.stderr))
        return r.returncode, {}, r.stderr


def enrol_json(env, user=None, now=T0, opts=None, force=False):
    args = ["--no-confirm", "--qr=none"]
    if user:
        args += ["--user", user]
    if force:
        args.append("--force")
    rc, j, err = jrun(env, args, now, opts)
    if rc != 0:
        tap.diag("enrol failed: %s" % err)
    return j


def user_status(env, user, now=T0, opts=None):
    rc, j, _ = jrun(env, ["status", user], now, opts)
    users = j.get("users", [])
    return rc, (users[0] if users else {})


# ---- self-service, any user ----

def test_check(env, user, secret):
    r = env.run(["check"], input=clitest.totp(secret, T0) + "\n")
    tap.is_(r.returncode, 0, "check: the current code matches (exit 0)")
    tap.ok("matches the current step" in r.stdout and
           "Server time: 2023-11-14 22:13:30 UTC" in r.stdout,
           "check: says so, with the server's UTC time")
    r = env.run(["check"], input=clitest.totp(secret, T0 - 2 * PERIOD) +
                "\n")
    tap.is_(r.returncode, clitest.EX_FAIL,
            "check: a code two steps old is outside the window (exit 1)")
    tap.ok("offset -2" in r.stdout and "60 s behind" in r.stdout,
           "check: reports offset -2, 60 s behind")
    r = env.run(["check", "--json"],
                input=clitest.totp(secret, T0 + 3 * PERIOD) + "\n")
    try:
        j = json.loads(r.stdout)
    except ValueError:
        j = {}
    tap.ok(j.get("match") is True and j.get("offset") == 3 and
           j.get("offset_seconds") == 90 and j.get("within_window") is False
           and j.get("server_time") == T0 and j.get("window") == 1,
           "check --json: offset +3, outside the window, server time")
    r = env.run(["check", "--json"],
                input=clitest.wrong_code(secret, T0) + "\n")
    try:
        j = json.loads(r.stdout)
    except ValueError:
        j = {}
    tap.ok(r.returncode == 1 and j.get("match") is False and
           j.get("offset") is None, "check --json: a wrong code matches "
           "nothing (exit 1)")
    r = env.run(["check"], input="12ab56\n")
    tap.ok(r.returncode == 1 and "not a code" in r.stderr,
           "check: a non-numeric code is refused clearly")
    for _ in range(4):
        env.run(["check"], input=clitest.wrong_code(secret, T0) + "\n")
    _, st = user_status(env, user)
    tap.is_(st.get("failures"), 0, "check does not count failures")
    env.service()
    tap.ok(env.login(user, clitest.totp(secret, T0), T0),
           "check does not consume the code: it still logs in")
    r = env.run(["check"], input=clitest.totp(secret, T0) + "\n")
    tap.ok(r.returncode == 1 and "already used" in r.stdout,
           "check: says when the code's step was already used")


def self_prove(env, args, code, expect_rc):
    """Run a self-service command that asks for a code (non-root) or does
    not (root); returns (rc, output)."""
    if clitest.is_root():
        r = env.run(args + (["--yes"] if args[0] == "disable" else []))
        return r.returncode, r.stdout + r.stderr
    child = pexpect.spawn(clitest.CLI, env.opts + args, env=env.env(),
                          encoding="utf-8", timeout=30)
    child.expect("Current 6-digit code from your app: ")
    child.sendline(code)
    if expect_rc != 0:
        for _ in range(2):
            child.expect("Current 6-digit code")
            child.sendline(code)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def test_backup_self(env, user, secret, old_codes):
    path = env.path(user)
    if not clitest.is_root():
        before = clitest.file_state(path)
        rc, _ = self_prove(env, ["backup-codes"],
                           clitest.wrong_code(secret, T0), 1)
        tap.is_(rc, clitest.EX_FAIL, "backup-codes: a wrong code is refused")
        tap.ok(clitest.file_state(path) == before, "and changes nothing")
    rc, out = self_prove(env, ["backup-codes"],
                         clitest.totp(secret, T0), 0)
    tap.is_(rc, 0, "backup-codes: a new set (self-service asks for a code)")
    codes = clitest.CODE_RE.findall(out.replace("\r\n", "\n"))
    tap.is_(len(codes), 10, "backup-codes prints 10 codes")
    t = T0 + 5 * PERIOD
    tap.ok(not env.login(user, old_codes[1], t), "old backup codes are void")
    tap.ok(env.login(user, codes[0], t + PERIOD), "new backup codes work")
    st = os.lstat(path)
    tap.ok(st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) == 0o600,
           "backup-codes keeps owner and mode")


def test_disable_self(env, user, secret):
    path = env.path(user)
    now = T0 + 20 * PERIOD
    if not clitest.is_root():
        rc, _ = self_prove(env, ["disable"], clitest.wrong_code(secret, now),
                           1)
        tap.is_(rc, clitest.EX_FAIL, "disable: a wrong code is refused")
        tap.ok(os.path.exists(path), "and the enrolment stays")
    rc, out = self_prove(env, ["disable"], clitest.totp(secret, T0), 0)
    tap.is_(rc, 0, "disable: removes the enrolment")
    tap.ok(not os.path.exists(path), "the secret file is gone")
    rc, st = user_status(env, user)
    tap.ok(rc == clitest.EX_NOTENROLLED and st.get("enrolled") is False,
           "status: not enrolled (exit 3)")
    r = env.run(["disable", "--yes"] if clitest.is_root() else ["disable"])
    tap.is_(r.returncode, clitest.EX_NOTENROLLED,
            "disable when not enrolled: exit 3")


def self_service(env):
    user = clitest.me()
    r = env.run(["status"])
    tap.ok(r.returncode == clitest.EX_NOTENROLLED and
           ("%s: not enrolled" % user) in r.stdout,
           "status before enrolling: not enrolled (exit 3)")
    j = enrol_json(env)
    secret, codes = j.get("secret", "A" * 32), j.get("backup_codes", [])
    rc, st = user_status(env, user)
    tap.ok(rc == 0 and st.get("enrolled") is True and
           st.get("created") == T0 and st.get("algorithm") == "SHA1" and
           st.get("digits") == 6 and st.get("period") == 30 and
           st.get("backup_codes_left") == 10 and st.get("locked") is False
           and st.get("failures") == 0 and st.get("state_available") is True,
           "status --json: all the fields")
    r = env.run(["status"])
    tap.ok(r.returncode == 0 and r.stdout.startswith(
        "%s: enrolled 2023-11-14 22:13:30 UTC, SHA1/6/30s, 10 backup codes "
        "left, not locked, 0 failures" % user), "status: one text line")
    test_check(env, user, secret)
    test_backup_self(env, user, secret, codes)
    test_disable_self(env, user, secret)


# ---- usage and bad input, any user ----

def usage(env):
    r = env.run(["--help"])
    tap.ok(r.returncode == 0 and "Usage:" in r.stdout and
           "backup-codes" in r.stdout, "--help: usage on stdout, exit 0")
    r = env.run(["--version"])
    tap.ok(r.returncode == 0 and r.stdout.startswith("totp-enroll "),
           "--version")
    cases = [
        (["frobnicate"], "unknown command"),
        (["--digits", "5"], "--digits"),
        (["--digits", "9x"], "--digits"),
        (["--period", "10"], "--period"),
        (["--algorithm", "MD5"], "--algorithm"),
        (["--qr", "sixel"], "--qr"),
        (["--bogus"], "unrecognized"),
        (["status", "--force"], "--force does not apply to status"),
        (["list", "--issuer", "x"], "--issuer does not apply"),
        (["--user", "no-such-user-ft"], "no such user"),
        (["status", "no-such-user-ft"], "no such user"),
        (["check", "a", "b"], "one user"),
        (["-o", "window=99"], "window"),
        (["-o", "nosuchkey=1"], "nosuchkey"),
        (["--issuer", "a:b", "--no-confirm"], "must not contain ':'"),
        (["--label", ""], "--label"),
        (["enroll", "extra"], "no operands"),
    ]
    for args, msg in cases:
        r = env.run(args)
        tap.ok(r.returncode == clitest.EX_USAGE and msg in r.stderr and
               r.stdout == "", "usage error (exit 2): %s" % " ".join(args))
    r = env.run(["--config", os.path.join(env.dir, "missing.conf"),
                 "status"])
    tap.ok(r.returncode != 0 and "missing.conf" in r.stderr,
           "--config with a missing file is an error")
    if not clitest.is_root():
        for args in (["--user", "root", "--no-confirm"], ["status", "root"],
                     ["check", "root"], ["list"], ["reset", "root"],
                     ["unlock", "root"]):
            r = env.run(args)
            tap.is_(r.returncode, clitest.EX_PERM,
                    "non-root: %s is denied (exit 4)" % " ".join(args))


# ---- root: admin flows with temp users ----

def logged(env, text, what):
    """The audit line went to authpriv at LOG_NOTICE (caught by the test
    build into env.syslog as "<5> MESSAGE")."""
    lines = env.log_lines()
    tap.ok(any(l.startswith("<5> ") and text in l for l in lines),
           "%s is logged: %s" % (what, text))

def write_conf(env, name, lines):
    path = os.path.join(env.dir, name)
    with open(path, "w") as f:
        f.write("# test config\n" + "".join(l + "\n" for l in lines))
    os.chmod(path, 0o644)
    return path


def as_user(user, env, args, now=T0, input=None):
    cmd = ["runuser", "-u", user, "--", "env", "FLOWTOTP_TEST_NOW=%d" % now,
           "LC_ALL=C", clitest.CLI] + args
    return subprocess.run(cmd, input=input, capture_output=True, text=True,
                          timeout=60, cwd="/")


def admin(env):
    u1 = env.add_user(clitest.temp_user_name("a")).pw_name
    u2 = env.add_user(clitest.temp_user_name("b")).pw_name
    u3 = env.add_user(clitest.temp_user_name("c")).pw_name
    sysdir = os.path.join(env.dir, "sys")
    os.mkdir(sysdir, 0o755)
    store = os.path.join(sysdir, "flowtotp", "users")
    conf = write_conf(env, "sys.conf", [
        "secret = %s/%%u" % store, "cache = %s" % env.cache])
    c = ["--config", conf]
    pam_args = ["conf=" + conf]
    env.service("ftsys", pam_args)

    s1 = enrol_json(env, u1, opts=c).get("secret", "A" * 32)
    tap.ok(os.path.exists(os.path.join(store, u1)),
           "root enrols another user into the system store")
    logged(env, "enrolled %s (by root, uid 0)" % u1, "enrolment")
    st = os.stat(os.path.dirname(store))
    tap.ok(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o755,
           "store parent created root 0755")
    st = os.stat(store)
    tap.ok(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o700,
           "store directory created root 0700")
    st = os.lstat(os.path.join(store, u1))
    tap.ok(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600,
           "system-store secret is root's, 0600")
    s2 = enrol_json(env, u2, opts=c).get("secret", "A" * 32)
    tap.ok(env.login(u1, clitest.totp(s1, T0), T0, "ftsys"),
           "the module logs in a system-store user")

    rc, j, _ = jrun(env, ["list"], opts=c)
    names = [u["user"] for u in j.get("users", [])]
    tap.ok(rc == 0 and names == sorted([u1, u2]) and
           all(u["enrolled"] for u in j["users"]),
           "list --json: every enrolled user, sorted")
    r = env.run(["list"], opts=c)
    tap.ok(r.returncode == 0 and len(r.stdout.splitlines()) == 2 and
           r.stdout.startswith(min(u1, u2) + ": enrolled"),
           "list: one line per user")
    r = env.run(["status", u1, u3], opts=c)
    tap.ok(r.returncode == clitest.EX_NOTENROLLED and
           ("%s: not enrolled" % u3) in r.stdout,
           "status of several users; exit 3 when one is not enrolled")

    # Lockout and unlock.
    now = T0 + 4 * PERIOD
    for _ in range(3):
        env.login(u2, clitest.wrong_code(s2, now), now, "ftsys")
    rc, st = user_status(env, u2, now, c)
    tap.ok(st.get("locked") is True and st.get("failures") == 3 and
           st.get("locked_until") == now + 600,
           "status --json: locked, 3 failures, locked_until")
    r = env.run(["status", u2], now=now, opts=c)
    tap.ok("LOCKED until" in r.stdout, "status: LOCKED in the text line")
    tap.ok(not env.login(u2, clitest.totp(s2, now), now, "ftsys"),
           "a locked user cannot log in with a right code")
    r = env.run(["unlock", u2], now=now, opts=c)
    tap.is_(r.returncode, 0, "unlock: exit 0")
    logged(env, "unlocked %s (by root" % u2, "unlock")
    rc, st = user_status(env, u2, now, c)
    tap.ok(st.get("locked") is False and st.get("failures") == 0,
           "unlock clears lock and failures")
    tap.ok(env.login(u2, clitest.totp(s2, now + PERIOD), now + PERIOD,
                     "ftsys"), "after unlock the user logs in")

    # unlock_time = 0: locked until an administrator unlocks, however long.
    conf0 = write_conf(env, "forever.conf", [
        "secret = %s/%%u" % store, "cache = %s" % env.cache,
        "unlock_time = 0"])
    env.service("ftsys0", ["conf=" + conf0])
    now += 3 * PERIOD
    for _ in range(3):
        env.login(u2, clitest.wrong_code(s2, now), now, "ftsys0")
    rc, st = user_status(env, u2, now, ["--config", conf0])
    tap.ok(st.get("locked") is True and st.get("locked_until") == -1,
           "unlock_time=0: status --json says locked, locked_until -1")
    r = env.run(["status", u2], now=now, opts=["--config", conf0])
    tap.ok("until an administrator unlocks" in r.stdout,
           "unlock_time=0: status text says an administrator must unlock")
    later = now + 86400
    tap.ok(not env.login(u2, clitest.totp(s2, later), later, "ftsys0"),
           "unlock_time=0: a right code a day later is still refused")
    r = env.run(["unlock", u2], now=later, opts=["--config", conf0])
    tap.is_(r.returncode, 0, "unlock_time=0: unlock exits 0")
    tap.ok(env.login(u2, clitest.totp(s2, later + PERIOD), later + PERIOD,
                     "ftsys0"), "unlock_time=0: after unlock the user logs in")
    now = later + PERIOD

    # Non-root callers.
    runnable = subprocess.run(["runuser", "-u", u1, "--", "test", "-x",
                               clitest.CLI], capture_output=True)
    if runnable.returncode != 0:
        tap.diag("build dir not reachable by temp users: runuser cases "
                 "skipped")
    else:
        non_root(env, u1, u2, u3, conf, store)

    # reset
    before = clitest.file_state(os.path.join(store, u1))
    r = env.run(["reset", u1], opts=c, input="n\n")
    tap.ok(r.returncode == clitest.EX_FAIL and clitest.file_state(
        os.path.join(store, u1)) == before, "reset answered 'n' changes "
        "nothing")
    for _ in range(2):
        env.login(u1, clitest.wrong_code(s1, now), now, "ftsys")
    r = env.run(["reset", u1], opts=c, input="y\n", now=now)
    tap.ok(r.returncode == 0 and not os.path.exists(
        os.path.join(store, u1)), "reset answered 'y' removes the secret")
    rc, st = user_status(env, u1, now, c)
    tap.ok(rc == clitest.EX_NOTENROLLED and st.get("failures") == 0,
           "reset also clears the login state")
    logged(env, "reset: enrolment removed for %s (by root, uid 0)" % u1,
           "reset")
    r = env.run(["reset", "--yes", u1], opts=c)
    tap.is_(r.returncode, clitest.EX_NOTENROLLED, "reset of a user who is "
            "not enrolled: exit 3")
    r = env.run(["reset"], opts=c)
    tap.is_(r.returncode, clitest.EX_USAGE, "reset without a user: exit 2")

    # Root disables and renews backup codes for others without a code.
    r = env.run(["backup-codes", u2, "--json"], opts=c)
    try:
        codes = json.loads(r.stdout)["backup_codes"]
    except (ValueError, KeyError):
        codes = []
    tap.ok(r.returncode == 0 and len(codes) == 10,
           "root: backup-codes USER --json")
    logged(env, "new backup codes for %s (by root" % u2, "backup-codes")
    tap.ok(env.login(u2, codes[0] if codes else "x", now + 3 * PERIOD,
                     "ftsys"), "the new code logs in")
    r = env.run(["disable", u2, "--yes"], opts=c)
    tap.ok(r.returncode == 0 and not os.path.exists(os.path.join(store, u2)),
           "root: disable USER --yes")

    corrupt(env, u2, store, c)
    home_store(env, u1, u3)


def non_root(env, u1, u2, u3, conf, store):
    c = ["--config", conf]
    r = as_user(u3, env, c + ["--no-confirm"])
    tap.ok(r.returncode == clitest.EX_PERM and
           "ask an administrator" in r.stderr,
           "non-root with a root-owned store: 'ask an administrator', "
           "exit 4")
    tap.ok(not os.path.exists(os.path.join(store, u3)), "and nothing is "
           "written")
    for args in (["--user", u2, "--no-confirm"], ["status", u2], ["list"],
                 ["reset", "--yes", u2], ["unlock", u2], ["check", u2],
                 ["backup-codes", u2], ["disable", u2]):
        before = clitest.file_state(os.path.join(store, u2))
        r = as_user(u1, env, c + args, input="")
        tap.ok(r.returncode == clitest.EX_PERM and r.stderr != "" and
               clitest.file_state(os.path.join(store, u2)) == before,
               "non-root denied: %s (exit 4, nothing changed)" %
               " ".join(args))


def corrupt(env, user, store, c):
    path = os.path.join(store, user)
    with open(path, "w") as f:
        f.write("version = 1\nsecret = !!!not base32\n")
    os.chmod(path, 0o600)
    before = clitest.file_state(path)
    rc, st = user_status(env, user, opts=c)
    tap.ok(rc == clitest.EX_FAIL and st.get("enrolled") is None and
           st.get("error"), "status of a corrupt file: error, exit 1")
    r = env.run(["--user", user, "--no-confirm"], opts=c)
    tap.ok(r.returncode == clitest.EX_FAIL and "--force" in r.stderr and
           clitest.file_state(path) == before,
           "enrol over a corrupt file needs --force; file unchanged")
    r = env.run(["check", user], opts=c, input="123456\n")
    tap.ok(r.returncode == clitest.EX_FAIL and r.stderr != "",
           "check of a corrupt file: clear error, exit 1")
    r = env.run(["--user", user, "--no-confirm", "--force"], opts=c)
    tap.is_(r.returncode, 0, "--force replaces a corrupt file")


def home_store(env, u1, u3):
    conf = write_conf(env, "home.conf", [
        "secret = %h/.flowtotp", "cache = %s" % env.cache])
    c = ["--config", conf]
    env.service("fthome", ["conf=" + conf])
    home3 = os.path.join(env.dir, "home", u3)
    runnable = subprocess.run(["runuser", "-u", u3, "--", "test", "-x",
                               clitest.CLI], capture_output=True)
    if runnable.returncode == 0:
        child = pexpect.spawn("runuser", [
            "-u", u3, "--", "env", "FLOWTOTP_TEST_NOW=%d" % T0, "LC_ALL=C",
            clitest.CLI] + c + ["--qr=none"], encoding="utf-8", timeout=30)
        child.expect(r"Secret for manual entry: ([A-Z2-7 ]+)\r\n")
        secret = child.match.group(1).replace(" ", "")
        child.expect("to confirm: ")
        child.sendline(clitest.totp(secret, T0))
        child.expect(pexpect.EOF)
        child.close()
        tap.is_(child.exitstatus, 0, "a user enrols into their home")
        st = os.lstat(os.path.join(home3, ".flowtotp"))
        tap.ok(st.st_uid == pwd_uid(u3) and
               stat.S_IMODE(st.st_mode) == 0o600,
               "home secret owned by the user, 0600")
        t = T0 + PERIOD
        tap.ok(env.login(u3, clitest.totp(secret, t), t, "fthome"),
               "the module logs in a home-store user")
        # Self-service disable asks for a code.
        child = pexpect.spawn("runuser", [
            "-u", u3, "--", "env", "FLOWTOTP_TEST_NOW=%d" % T0, "LC_ALL=C",
            clitest.CLI] + c + ["disable"], encoding="utf-8", timeout=30)
        child.expect("Current 6-digit code from your app: ")
        child.sendline(clitest.totp(secret, T0))
        child.expect(pexpect.EOF)
        child.close()
        tap.ok(child.exitstatus == 0 and not os.path.exists(
            os.path.join(home3, ".flowtotp")),
            "self-service disable with a current code")
    # Root enrols a home-store user: the file is the user's.
    home1 = os.path.join(env.dir, "home", u1)
    enrol_json(env, u1, opts=c)
    st = os.lstat(os.path.join(home1, ".flowtotp"))
    tap.ok(st.st_uid == pwd_uid(u1) and stat.S_IMODE(st.st_mode) == 0o600,
           "root enrolling a home-store user: file owned by the user")
    rc, j, _ = jrun(env, ["list"], opts=c)
    tap.ok(rc == 0 and u1 in [u["user"] for u in j.get("users", [])] and
           u3 not in [u["user"] for u in j.get("users", [])],
           "list with a home template walks the password database")
    # A symlink planted by the user is not followed by root.
    target = os.path.join(env.dir, "precious")
    with open(target, "w") as f:
        f.write("root's file\n")
    os.unlink(os.path.join(home1, ".flowtotp"))
    os.symlink(target, os.path.join(home1, ".flowtotp"))
    os.lchown(os.path.join(home1, ".flowtotp"), pwd_uid(u1), -1)
    env.run(["--user", u1, "--no-confirm", "--force"], opts=c)
    with open(target) as f:
        tap.is_(f.read(), "root's file\n",
                "a symlink in the home does not redirect root's write")
    tap.is_(os.stat(target).st_uid, 0, "the link target keeps its owner")


def pwd_uid(name):
    return pwd.getpwnam(name).pw_uid


def main():
    clitest.run_cases("admin", [usage, self_service], [admin],
                      "admin cases with temp users")


main()
