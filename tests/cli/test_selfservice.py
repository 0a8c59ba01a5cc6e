#!/usr/bin/env python3
"""Self-service from a shell against the root-owned store, through the
set-uid helper, as real non-root users on a real pty (pexpect):

 - a root-owned 4755 copy of cli/flowtotp-helper-test (the build that also
   reads $FLOWTOTP_TEST_HELPER_CONF and keeps the test clock) in a
   root-owned temp dir, with a private root-owned configuration;
 - enrol (through totp-enroll-test, which execs the helper), status, check,
   backup-codes, disable; codes from oathtool;
 - a code used in the helper cannot log in through the module and the
   reverse, and the helper's wrong codes count toward the lockout;
 - self_enroll off: enroll and import are refused with what to do;
 - a second user learns nothing about the first;
 - hostile argv, environment (LD_PRELOAD, FLOWTOTP_*), descriptors,
   signals and stdin;
 - the home store: missing directories created 0700 as the user before
   anything is shown, and nothing shown when the enrolment cannot be saved.
Users, files and copies are removed even on failure."""
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, PERIOD, tap  # noqa: E402

HELPER_TEST = os.path.join(clitest.TOP_BUILDDIR, "cli", "flowtotp-helper-test")
HELPER_PROD = os.path.join(clitest.TOP_BUILDDIR, "flowtotp-helper")


class Setup:
    """Store, configs and the set-uid copies; cleaned up in finally."""

    def __init__(self, env):
        self.env = env
        sysdir = os.path.join(env.dir, "sys")
        os.mkdir(sysdir, 0o755)
        self.store = os.path.join(sysdir, "flowtotp", "users")
        base = ["secret = %s/%%u" % self.store, "cache = %s" % env.cache]
        self.conf = self.write_conf("on.conf", base + ["self_enroll = yes"])
        self.conf_off = self.write_conf("off.conf", base)
        self.bindir = tempfile.mkdtemp(prefix="ft-suid-")
        os.chmod(self.bindir, 0o755)
        self.helper = self.install(HELPER_TEST, "flowtotp-helper")
        self.prod = self.install(HELPER_PROD, "flowtotp-helper-prod")
        env.service("ftself", ["conf=" + self.conf])

    def write_conf(self, name, lines):
        path = os.path.join(self.env.dir, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o644)
        return path

    def install(self, src, name):
        dst = os.path.join(self.bindir, name)
        shutil.copy(src, dst)
        os.chown(dst, 0, 0)
        os.chmod(dst, 0o4755)
        return dst

    def cleanup(self):
        shutil.rmtree(self.bindir, ignore_errors=True)

    def uenv(self, now=T0, conf=None, **extra):
        e = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "TERM": "dumb",
             "FLOWTOTP_TEST_NOW": str(now),
             "FLOWTOTP_TEST_HELPER_CONF": conf or self.conf,
             "FLOWTOTP_TEST_HELPER": self.helper,
             "FT_TEST_SYSLOG": self.env.syslog}
        e.update(extra)
        return e

    def user_cmd(self, pw, argv):
        return ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                "--init-groups", "--"] + argv

    def run(self, pw, argv, now=T0, conf=None, input=None, env=None):
        return subprocess.run(
            self.user_cmd(pw, argv), input=input, capture_output=True,
            text=True, errors="replace", timeout=60, cwd="/",
            env=env or self.uenv(now, conf))

    def helper_run(self, pw, args, **kw):
        return self.run(pw, [self.helper] + args, **kw)

    def spawn(self, pw, argv, now=T0, conf=None):
        cmd = self.user_cmd(pw, argv)
        return pexpect.spawn(cmd[0], cmd[1:], env=self.uenv(now, conf),
                             encoding="utf-8", timeout=30, cwd="/")

    def status(self, pw, now=T0):
        r = self.helper_run(pw, ["status", "--json"], now=now)
        try:
            return json.loads(r.stdout)["users"][0]
        except (ValueError, KeyError, IndexError):
            tap.diag("status: %r %r" % (r.stdout, r.stderr))
            return {}

    def path(self, name):
        return os.path.join(self.store, name)


def finish(child):
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def pty_code(s, pw, verb, code, now):
    """verb through the helper on a pty, answering one code prompt."""
    child = s.spawn(pw, [s.helper, verb], now=now)
    child.expect("code")
    child.sendline(code)
    return finish(child), child.before


def self_enroll_off(s, pw):
    r = s.helper_run(pw, ["enroll"], conf=s.conf_off, input="")
    tap.ok(r.returncode == clitest.EX_PERM and "ask an administrator" in
           r.stderr and "totp-enroll --user %s" % pw.pw_name in r.stderr,
           "self_enroll off: enroll refused (exit 4), says what to ask for")
    r = s.helper_run(pw, ["import"], conf=s.conf_off, input="")
    tap.ok(r.returncode == clitest.EX_PERM and
           "totp-enroll import --user %s" % pw.pw_name in r.stderr and
           "keeps the codes your phone shows" in r.stderr,
           "self_enroll off: import refused, names 'import --user NAME "
           "FILE' (not a new enrolment)")
    tap.ok(not os.path.exists(s.path(pw.pw_name)), "and nothing is written")


def enrol(s, pw):
    """Enrol through totp-enroll-test, which hands off to the helper."""
    child = s.spawn(pw, [clitest.CLI, "--qr", "none"])
    child.expect(r"Secret for manual entry: ([A-Z2-7 ]+)\r?\n")
    secret = child.match.group(1).replace(" ", "")
    tap.ok(not os.path.exists(s.path(pw.pw_name)),
           "helper enrol: nothing written before the confirmation")
    child.expect("to confirm: ")
    child.sendline(clitest.totp(secret, T0))
    child.expect("Enrolled")
    ex = finish(child)
    codes = clitest.CODE_RE.findall(child.before.replace("\r\n", "\n"))
    tap.ok(ex == 0 and len(codes) == 10,
           "a user enrols through totp-enroll -> helper (exit 0, 10 codes)")
    st = os.lstat(s.path(pw.pw_name)) if os.path.exists(
        s.path(pw.pw_name)) else None
    tap.ok(st is not None and st.st_uid == 0 and
           stat.S_IMODE(st.st_mode) == 0o600,
           "the secret is in the root store, root's, 0600")
    r = s.helper_run(pw, ["enroll"], input="")
    tap.ok(r.returncode == clitest.EX_EXISTS,
           "enrolling again through the helper: refused (exit 5)")
    return secret, codes


def check_and_login(s, pw, secret):
    env = s.env
    now = T0 + PERIOD
    code = clitest.totp(secret, now)
    ex, out = pty_code(s, pw, "check", code, now)
    tap.ok(ex == 0 and "counted as a login" in out,
           "check: the current code passes, and says it is now used")
    tap.ok(not env.login(pw.pw_name, code, now, "ftself"),
           "a code checked in the helper cannot then log in")
    now = T0 + 2 * PERIOD
    code = clitest.totp(secret, now)
    tap.ok(env.login(pw.pw_name, code, now, "ftself"), "a login with the "
           "next code")
    ex, out = pty_code(s, pw, "check", code, now)
    tap.ok(ex == 1 and "already used" in out,
           "check: the code of that login is refused as used")
    st = s.status(pw, now)
    tap.ok(st.get("enrolled") is True and st.get("backup_codes_left") == 10
           and st.get("locked") is False,
           "status --json: enrolled, 10 backup codes, not locked")
    r = s.helper_run(pw, ["status"], now=now)
    tap.ok(r.returncode == 0 and "SHA1/6/30s, 10 backup codes left, not "
           "locked" in r.stdout and len(r.stdout.splitlines()) == 1 and secret not in r.stdout,
           "status: one line, no secret")


def lockout(s, pw, secret):
    now = T0 + 4 * PERIOD
    wrong = clitest.wrong_code(secret, now)
    ex, out = pty_code(s, pw, "check", wrong, now)
    tap.ok(ex == 1 and s.status(pw, now).get("failures") == 1,
           "a wrong code in check counts as a failure")
    tap.ok(not s.env.login(pw.pw_name, wrong, now, "ftself"),
           "a wrong login code")
    ex, out = pty_code(s, pw, "backup-codes", wrong, now)
    tap.ok(ex == 1 and s.status(pw, now).get("locked") is True,
           "the third failure (helper, login, helper) locks the user")
    ex, out = pty_code(s, pw, "check", clitest.totp(secret, now), now)
    tap.ok(ex == 1 and "locked out" in out,
           "a locked user's right code is refused by the helper")
    tap.ok(not s.env.login(pw.pw_name, clitest.totp(secret, now), now,
                           "ftself"), "and by a login")
    r = s.env.run(["--config", s.conf, "unlock", pw.pw_name], now=now,
                  opts=[])
    tap.ok(r.returncode == 0, "root unlocks")


def backup_and_disable(s, pw, secret, old_codes):
    now = T0 + 6 * PERIOD
    before = clitest.file_state(s.path(pw.pw_name))
    ex, _ = pty_code(s, pw, "backup-codes", clitest.wrong_code(secret, now),
                     now)
    tap.ok(ex == 1 and clitest.file_state(s.path(pw.pw_name)) == before,
           "backup-codes with a wrong code: refused, file unchanged")
    now += PERIOD
    ex, out = pty_code(s, pw, "backup-codes", clitest.totp(secret, now), now)
    codes = clitest.CODE_RE.findall(out.replace("\r\n", "\n"))
    tap.ok(ex == 0 and len(codes) == 10 and not set(codes) & set(old_codes),
           "backup-codes after a current code: 10 new codes")
    tap.ok(codes and s.env.login(pw.pw_name, codes[0], now, "ftself"),
           "a new backup code logs in")
    tap.ok(old_codes and not s.env.login(pw.pw_name, old_codes[1], now,
                                         "ftself"), "an old one does not")
    now += PERIOD
    ex, out = pty_code(s, pw, "disable", clitest.totp(secret, now), now)
    tap.ok(ex == 0 and not os.path.exists(s.path(pw.pw_name)),
           "disable after a current code removes the enrolment")
    logs = "\n".join(s.env.log_lines())
    tap.ok("self-service disable for %s" % pw.pw_name in logs and
           "uid %d" % pw.pw_uid in logs and secret not in logs,
           "each action is logged with the user, no secret in the log")


def second_user(s, pa, pb):
    """pb learns nothing about pa (enrolled) compared with a non-user."""
    outs = []
    for name in (pa.pw_name, "ftnosuch%d" % os.getpid()):
        got = []
        for args in (["status", name], ["check", name], ["disable", name],
                     ["backup-codes", name], ["--user", name]):
            r = s.run(pb, [clitest.CLI] + args, input="")
            got.append((r.returncode, r.stdout, r.stderr))
        outs.append(got)
    tap.ok(outs[0] == outs[1] and all(g[0] == clitest.EX_PERM
                                      for g in outs[0]),
           "another user's name and no user at all: the same answers (exit 4)")
    tap.ok(pa.pw_name not in repr(outs[0]).replace(
        "'%s'" % pa.pw_name, ""), "and they do not mention the other user")
    r = s.helper_run(pb, ["status", pa.pw_name])
    tap.ok(r.returncode == clitest.EX_USAGE and r.stdout == "",
           "the helper takes no user operand")
    st = s.status(pb)
    tap.ok(st.get("user") == pb.pw_name and st.get("enrolled") is False,
           "the helper reports only on its caller")


def hostile_argv(s, pw):
    before = clitest.file_state(s.path(pw.pw_name))
    for args in ([], ["frobnicate"], ["status", "extra"],
                 ["status", "--json", "--json"], ["enroll", "--json"],
                 ["check", "--qr=utf8"], ["--config=/tmp/x", "status"],
                 ["status", "A" * 100000], ["status", "--json", "--qr=none",
                                            "x"], ["STATUS"], ["status="]):
        r = s.helper_run(pw, args, input="")
        tap.ok(r.returncode == clitest.EX_USAGE and "usage" in r.stderr.lower()
               or r.returncode == clitest.EX_USAGE and "unexpected" in
               r.stderr, "hostile argv refused (exit 2): %r" %
               [a[:20] for a in args])
    tap.ok(clitest.file_state(s.path(pw.pw_name)) == before,
           "and nothing changed")
    r = s.run(pw, ["python3", "-c", "import os, sys; "
                   "os.execv(sys.argv[1], ['x' * 300])", s.helper], input="")
    tap.ok(r.returncode == clitest.EX_USAGE,
           "an odd argv[0] and no verb: exit 2")


def hostile_env(s, pw):
    tmp = tempfile.mkdtemp(prefix="ft-preload-")
    try:
        os.chmod(tmp, 0o777)
        marker = os.path.join(tmp, "ran")
        src = os.path.join(tmp, "p.c")
        lib = os.path.join(tmp, "p.so")
        with open(src, "w") as f:
            f.write('#include <fcntl.h>\n#include <unistd.h>\n'
                    '__attribute__((constructor)) static void p(void)'
                    '{ int fd = open("%s", O_CREAT|O_WRONLY, 0666);'
                    ' if (fd >= 0) close(fd); }\n' % marker)
        cc = subprocess.run(["cc", "-shared", "-fPIC", "-o", lib, src],
                            capture_output=True)
        os.chmod(lib, 0o755)
        # Set by env(1) after setpriv, so only the last exec sees it.
        pre = ["env", "LD_PRELOAD=" + lib]
        s.run(pw, pre + ["/bin/true"])
        sane = os.path.exists(marker)
        if os.path.exists(marker):
            os.unlink(marker)
        s.run(pw, pre + [s.helper, "status"])
        tap.ok(cc.returncode == 0 and sane and not os.path.exists(marker),
               "LD_PRELOAD loads into an ordinary program, not the helper")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # The installed build has no configuration switch: the test config
    # (where the user is enrolled) is not used, so no code is asked for.
    r = s.run(pw, [s.prod, "check"], input="123456\n",
              env=s.uenv(FLOWTOTP_CONF="/x", FLOWTOTP_TEST_NOW="0"))
    tap.ok(r.returncode != 0 and "code to check" not in r.stderr,
           "the installed helper ignores FLOWTOTP_TEST_HELPER_CONF "
           "(rc %d: %s)" % (r.returncode, r.stderr.strip()[:80]))


def hostile_io(s, pw, secret):
    now = T0 + 20 * PERIOD
    r = s.run(pw, ["sh", "-c", 'exec "$0" status >&- 2>&-', s.helper],
              now=now)
    tap.ok(r.returncode in (0, 1), "stdout and stderr closed: no crash "
           "(rc %d)" % r.returncode)
    r = s.run(pw, ["sh", "-c", 'exec "$0" check <&-', s.helper], now=now)
    tap.ok(r.returncode == 1 and "no code given" in r.stderr,
           "stdin closed: 'no code given', exit 1")
    garbage = os.urandom(200000).decode("latin-1")
    r = subprocess.run(s.user_cmd(pw, [s.helper, "check"]),
                       input=garbage.encode("latin-1"), capture_output=True,
                       timeout=60, cwd="/", env=s.uenv(now))
    tap.ok(r.returncode == 1, "garbage on stdin: refused, exit 1")
    tap.ok(s.status(pw, now).get("locked") is False, "not locked by it")
    # Inherited: an ignored SIGINT, a blocked mask, an extra descriptor.
    child = s.spawn(pw, ["sh", "-c", 'trap "" INT; exec 7</etc/hostname; '
                         'exec "$0" check', s.helper], now=now)
    child.expect("code to check")
    fds = sorted(os.listdir("/proc/%d/fd" % child.pid))
    tap.ok(fds == ["0", "1", "2"], "only 0, 1, 2 are open in the helper "
           "(got %s)" % fds)
    child.kill(signal.SIGINT)
    child.expect(pexpect.EOF)
    child.close()
    tap.ok(child.signalstatus == signal.SIGINT,
           "an inherited ignored SIGINT is reset: Ctrl-C ends the helper")


def home_store(s, pw):
    env = s.env
    opts = ["-o", "secret=~/.config/flowtotp/secret", "-o",
            "cache=" + env.cache]
    home = pw.pw_dir
    child = s.spawn(pw, [clitest.CLI, "--qr", "none"] + opts)
    child.expect(r"Secret for manual entry: ([A-Z2-7 ]+)\r?\n")
    secret = child.match.group(1).replace(" ", "")
    d1, d2 = os.path.join(home, ".config"), os.path.join(home, ".config",
                                                         "flowtotp")
    ok = all(os.path.isdir(d) and os.stat(d).st_uid == pw.pw_uid and
             stat.S_IMODE(os.stat(d).st_mode) == 0o700 for d in (d1, d2))
    tap.ok(ok, "~/.config and ~/.config/flowtotp made 0700, the user's, "
           "before the QR code is shown")
    child.expect("to confirm: ")
    child.sendline(clitest.totp(secret, T0))
    ex = finish(child)
    f = os.path.join(d2, "secret")
    tap.ok(ex == 0 and os.path.exists(f) and os.stat(f).st_uid == pw.pw_uid,
           "the enrolment is saved in the home store")
    shutil.rmtree(d1)
    os.mkdir(d1, 0o755)     # root's ~/.config: the user cannot save there
    r = s.run(pw, [clitest.CLI, "--qr", "none"] + opts, input="")
    tap.ok(r.returncode != 0 and "Secret for manual entry" not in r.stdout
           and "otpauth" not in r.stdout and "could not be saved" in r.stderr,
           "cannot be saved: refused before anything is shown (%s)" %
           r.stderr.strip()[:90])


def main():
    clitest.need_components(pam=True)
    if not clitest.is_root():
        tap.skip_all("needs root (set-uid copies, users)")
    for p in (HELPER_TEST, HELPER_PROD):
        if not os.access(p, os.X_OK):
            tap.skip_all("%s not built" % p)
    env = clitest.Env("self")
    s = None
    try:
        s = Setup(env)
        pa = env.add_user(clitest.temp_user_name("sa"))
        pb = env.add_user(clitest.temp_user_name("sb"))
        self_enroll_off(s, pa)
        secret, codes = enrol(s, pa)
        check_and_login(s, pa, secret)
        lockout(s, pa, secret)
        second_user(s, pa, pb)
        hostile_argv(s, pa)
        hostile_env(s, pa)
        hostile_io(s, pa, secret)
        backup_and_disable(s, pa, secret, codes)
        home_store(s, pb)
    finally:
        if s is not None:
            s.cleanup()
        env.cleanup()
    tap.done_testing()


if __name__ == "__main__":
    main()
