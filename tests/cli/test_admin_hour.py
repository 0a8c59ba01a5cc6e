"""The admin's first hour: each subcommand's own
--help, `list` with nobody enrolled, `-V extra`, an empty Enter at the
confirmation, `check` with a backup code and with a 40 s offset, `status`
creating nothing, the audit log naming the login uid and SUDO_USER, config
errors naming the file once, and the google-authenticator import
(WINDOW_SIZE, TIME_SKEW, a secret with spaces, --owner).  Real binaries
throughout: cli/totp-enroll-test, the test PAM module through
tests/pam/ft-pam-login, oathtool for codes.  Root: temp users (useradd,
removed in a finally block)."""
import base64
import json
import os
import pwd
import re
import subprocess
import sys

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, PERIOD, tap  # noqa: E402

COMMANDS = ["enroll", "status", "list", "reset", "disable", "backup-codes",
            "unlock", "check", "import", "doctor"]


def test_help(env):
    for cmd in COMMANDS:
        r = env.run([cmd, "--help"])
        want = "Usage: totp-enroll %s" % ("[enroll]" if cmd == "enroll"
                                          else cmd)
        tap.ok(r.returncode == 0 and r.stdout.startswith(want) and
               "Exit status:" not in r.stdout,
               "%s --help prints its own text (%r)" % (cmd,
                                                      r.stdout[:40]))
    r = env.run(["--help", "import"])
    tap.ok(r.returncode == 0 and "--owner NAME" in r.stdout and
           "--qr" not in r.stdout,
           "--help before the command: import's options only")
    r = env.run(["--help"])
    tap.ok(r.returncode == 0 and "Exit status:" in r.stdout,
           "--help alone is the global text")
    r = env.run(["nosuch", "--help"])
    tap.is_(r.returncode, clitest.EX_USAGE, "--help of an unknown command")


def test_version(env):
    r = env.run(["-V"])
    tap.ok(r.returncode == 0 and "totp-enroll" in r.stdout, "-V works")
    for args in (["-V", "extra"], ["--version", "list"]):
        r = env.run(args)
        tap.ok(r.returncode == clitest.EX_USAGE and r.stdout == "" and
               "takes no operands" in r.stderr,
               "%s is a usage error (exit 2)" % " ".join(args))


def test_list_empty(env):
    r = env.run(["list"])
    tap.ok(r.returncode == 0 and r.stdout == "" and
           "no users enrolled" in r.stderr,
           "list with nobody enrolled says so on stderr")
    r = env.run(["list", "--json"])
    tap.ok(r.returncode == 0 and json.loads(r.stdout) == {"users": []} and
           r.stderr == "", "list --json with nobody enrolled: []")


def test_config_error(env):
    path = os.path.join(env.dir, "bad.conf")
    with open(path, "w") as f:
        f.write("# test\nwindow = 1\nwindwo = 2\n")
    os.chmod(path, 0o644)
    r = env.run(["--config", path, "status"])
    tap.is_(r.returncode, clitest.EX_USAGE, "config error exits 2")
    tap.ok("%s:3:" % path in r.stderr and r.stderr.count(path) == 1,
           "config error names the file and line once: %r" % r.stderr)


def enrol_pexpect(env, user, answers):
    """Enrol through a terminal, answering the confirmation with answers
    (each a function of the secret); returns (rc, output, secret)."""
    child = pexpect.spawn(clitest.CLI, env.opts + [
        "--user", user, "--qr", "none"], env=env.env(), encoding="utf-8",
        timeout=30)
    secret = None
    try:
        for ans in answers:
            child.expect("to confirm: ")
            if secret is None:
                secret = clitest.parse_enrol(child.before)[0]
            child.sendline(ans(secret))
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    return child.exitstatus, child.before, secret


def test_empty_enter(env, user):
    empty = lambda s: ""  # noqa: E731
    wrong = lambda s: clitest.wrong_code(s, T0)  # noqa: E731
    right = lambda s: clitest.totp(s, T0)  # noqa: E731
    rc, out, secret = enrol_pexpect(
        env, user, [empty, empty, wrong, empty, wrong, right])
    tap.ok(rc == 0 and os.path.exists(env.path(user)),
           "empty Enters do not use up tries: 2 wrong then right enrols")
    os.unlink(env.path(user))
    # A stream of empty lines (a closed or idle pipe) ends, saving nothing.
    r = env.run(["--user", user, "--qr", "none"], input="\n" * 100)
    tap.ok(r.returncode == clitest.EX_FAIL and "no code given" in r.stderr
           and not os.path.exists(env.path(user)),
           "endless empty lines end with 'no code given', nothing saved")


def enrol_fast(env, user):
    r = env.run(["--user", user, "--qr", "none", "--no-confirm"])
    secret, _, codes = clitest.parse_enrol(r.stdout)
    if r.returncode != 0 or not secret:
        tap.diag("enrol failed: %s" % r.stderr)
    return secret, codes


def test_check(env, user):
    secret, codes = enrol_fast(env, user)
    r = env.run(["check", "--user", user], input=codes[0] + "\n")
    tap.ok(r.returncode == clitest.EX_FAIL and "backup code" in r.stderr and
           codes[0] not in r.stderr + r.stdout,
           "check refuses a backup code, saying why")
    now = T0 + 20   # 20 s into a step; the app's clock 40 s behind
    r = env.run(["check", "--user", user], now=now,
                input=clitest.totp(secret, now - 40) + "\n")
    tap.ok("step offset -1 (steps of 30 s)" in r.stdout and
           "20 to 50 s behind" in r.stdout and "about" not in r.stdout,
           "a 40 s offset: step -1 and the range 20-50 s: %r" % r.stdout)
    r = env.run(["check", "--user", user, "--json"], now=now,
                input=clitest.totp(secret, now + 40) + "\n")
    j = json.loads(r.stdout)
    tap.ok(j["offset"] == 2 and j["offset_range_seconds"] == [40, 70],
           "JSON: 40 s ahead at 20 s into a step: +2, [40, 70) s")


def test_status_readonly(env, user):
    import shutil
    shutil.rmtree(env.cache_dir)
    r = env.run(["status", "--user", user])
    tap.ok(r.returncode == 0 and "not locked, 0 failures" in r.stdout,
           "status without a cache: no state, all clear: %r" % r.stderr)
    env.run(["list"])
    env.run(["check", "--user", user], input="000000\n")
    tap.ok(not os.path.exists(env.cache_dir),
           "status, list and check created no cache directory")
    os.mkdir(env.cache_dir, 0o700)
    r = env.run(["status", "--user", user])
    tap.ok(r.returncode == 0 and os.listdir(env.cache_dir) == [],
           "status created no cache file in an existing directory")


def set_loginuid(uid):
    def f():
        with open("/proc/self/loginuid", "w") as fh:
            fh.write(str(uid))
    return f


def test_log(env, user, admin_pw):
    e = env.env(SUDO_USER=admin_pw.pw_name)
    r = subprocess.run([clitest.CLI] + env.opts + ["unlock", user],
                       capture_output=True, text=True, env=e, timeout=60,
                       preexec_fn=set_loginuid(admin_pw.pw_uid))
    want = "unlocked %s (by %s (loginuid %d, SUDO_USER=%s) as root, uid 0)" % (
        user, admin_pw.pw_name, admin_pw.pw_uid, admin_pw.pw_name)
    tap.ok(r.returncode == 0 and any(want in l for l in env.log_lines()),
           "the log names the login uid and SUDO_USER: %s" % want)
    e = env.env(SUDO_USER="x\ny (forged)")
    r = subprocess.run([clitest.CLI] + env.opts + ["unlock", user],
                       capture_output=True, text=True, env=e, timeout=60)
    lines = [l for l in env.log_lines() if "unlocked %s" % user in l]
    tap.ok(r.returncode == 0 and "forged" not in lines[-1] and
           "SUDO_USER" not in lines[-1],
           "a SUDO_USER that is not a user name is not logged")


def ga_file(path, text, owner):
    if os.path.lexists(path):
        os.unlink(path)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    os.chown(path, owner.pw_uid, owner.pw_gid)


def test_import(env, pw, gauth):
    secret = base64.b32encode(os.urandom(20)).decode()
    spaced = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    d = os.path.join(env.dir, "ga")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    path = os.path.join(d, pw.pw_name)
    ga_file(path, spaced + '\n" TOTP_AUTH\n" WINDOW_SIZE 17\n'
            '" TIME_SKEW 2\n12345678\n', gauth)
    r = env.run(["import", "--user", pw.pw_name, path])
    tap.ok(r.returncode == clitest.EX_FAIL and "--owner" in r.stderr and
           not os.path.exists(env.path(pw.pw_name)),
           "a file of a dedicated user is refused, --owner suggested")
    r = env.run(["import", "--user", pw.pw_name, "--owner", gauth.pw_name,
                 path])
    tap.ok(r.returncode == 0, "--owner imports it (secret with spaces)")
    tap.ok("WINDOW_SIZE 17 (+-8 steps)" in r.stderr and
           "window = 8" in r.stderr, "WINDOW_SIZE 17 warns, says how")
    tap.ok("TIME_SKEW 2" in r.stderr and "dropped" in r.stderr,
           "TIME_SKEW is warned as dropped")
    env.service()
    t = T0 + 5 * PERIOD
    tap.ok(env.login(pw.pw_name, clitest.totp(secret, t), t),
           "the spaced secret's codes log in")
    ga_file(path, secret + "\n", pw)
    r = env.run(["import", "--force", "--user", pw.pw_name, "--owner",
                 gauth.pw_name, path])
    tap.ok(r.returncode == clitest.EX_FAIL and "--owner" in r.stderr,
           "with --owner the file must belong to that user")
    link = path + ".link"
    ga_file(path, secret + "\n", gauth)
    os.symlink(path, link)
    r = env.run(["import", "--force", "--user", pw.pw_name, "--owner",
                 gauth.pw_name, link])
    tap.ok(r.returncode == clitest.EX_FAIL, "--owner: no symlinks")
    r = env.run(["import", "--user", pw.pw_name, "--owner", "nosuchuser9",
                 path])
    tap.is_(r.returncode, clitest.EX_USAGE, "--owner of an unknown user")


def main():
    clitest.need_components(pam=True)
    env = clitest.Env("hour")
    try:
        test_help(env)
        test_version(env)
        test_list_empty(env)
        test_config_error(env)
        if clitest.is_root():
            pw = env.add_user(clitest.temp_user_name("ha"))
            pw2 = env.add_user(clitest.temp_user_name("hb"))
            gauth = env.add_user(clitest.temp_user_name("hg"))
            test_empty_enter(env, pw.pw_name)
            test_check(env, pw.pw_name)
            test_status_readonly(env, pw.pw_name)
            test_log(env, pw.pw_name, pw2)
            test_import(env, pw2, gauth)
        else:
            tap.diag("not root: the cases with temp users skipped")
    finally:
        env.cleanup()
    tap.done_testing()


main()
