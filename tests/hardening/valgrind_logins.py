"""Module logins under valgrind memcheck (run by tests/suites/valgrind.sh,
not by make check).  Every login is ft-pam-login (real libpam) loading the
test build of the module, under
  valgrind --error-exitcode=99 --leak-check=full
           --errors-for-leak-kinds=definite,indirect
covering success, failure, replay, backup code (and its reuse), lockout,
the split stack, try_first_pass, nullok, unknown user, unsafe files, a config
error, a cache attack and hostile answers.  The totp-enroll commands used
for setup run under valgrind too.  A point passes when the PAM result and
the log reason are as expected and valgrind found no error ("still
reachable" memory in libpam/libcrypto is not an error)."""
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlib  # noqa: E402
from hlib import tap  # noqa: E402

VG_EXIT = 99
T0 = hlib.T0


def valgrind(logdir):
    vg = os.environ.get("VALGRIND", "valgrind")
    return [vg, "-q", "--error-exitcode=%d" % VG_EXIT, "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect", "--num-callers=30",
            "--log-file=%s/vg.%%p" % logdir]


class VEnv(hlib.Env):
    def __init__(self, tag, logdir, extra=""):
        super().__init__(tag, extra=extra)
        self.vg = valgrind(logdir)

    def vcli(self, args, now=T0):
        r = subprocess.run(self.vg + [hlib.CLI] + args + self.opts(),
                           env=self.env(now), capture_output=True,
                           text=True, stdin=subprocess.DEVNULL)
        return r

    def vlogin(self, answer, now=T0, service="fthard", user=None):
        before = self.log_len()
        r = subprocess.run(self.vg + [hlib.PAM_LOGIN, service,
                                      user or hlib.USER, self.confdir],
                           env=self.env(now), input=answer + "\n",
                           capture_output=True, text=True)
        lines = [ln for ln in self.log_lines()[before:]
                 if "flowtotp: service=" in ln]
        return r.returncode, r.stdout.strip(), (lines[-1] if lines else "")


def check(got, want_res, want_reason, desc, want_result=None):
    rc, res, line = got
    ok = rc != VG_EXIT and res == want_res and \
        (want_reason is None or " reason=%s" % want_reason in line) and \
        (want_result is None or " result=%s" % want_result in line)
    tap.ok(ok, desc)
    if not ok:
        tap.diag("valgrind exit %d, result %s, log: %s" % (rc, res, line))


def cli_ok(r, desc):
    tap.ok(r.returncode == 0, desc)
    if r.returncode != 0:
        tap.diag("exit %d: %s" % (r.returncode, r.stderr[-2000:]))



def split_stack(env, name):
    """The single-prompt stack: split, a password line that stops the stack
    on failure (pam_permit stands in: the memory checks are the module's),
    then use_stashed."""
    args = "secret=%s cache=%s" % (os.path.join(env.store, "%u"), env.cache)
    with open(os.path.join(env.confdir, name), "w") as f:
        f.write("auth required %s %s split\n" % (hlib.PAM_MODULE, args))
        f.write("auth [success=ok default=die] pam_permit.so\n")
        f.write("auth required %s %s use_stashed\n" % (hlib.PAM_MODULE, args))


def main():
    hlib.need_components()
    import json
    import shutil
    if not shutil.which(os.environ.get("VALGRIND", "valgrind")):
        tap.skip_all("valgrind not installed")
    logdir = os.environ.get("FT_VG_LOGDIR") or "/tmp"
    env = VEnv("vg", logdir, extra="deny=3 unlock_time=600")
    try:
        r = env.vcli(["enroll", "--no-confirm", "--json", "--qr", "none",
                      "-o", "backup_codes=2"])
        cli_ok(r, "totp-enroll enroll under valgrind")
        info = json.loads(r.stdout)
        sec = info["secret"]
        code = hlib.totp(sec, T0)
        check(env.vlogin(code), "PAM_SUCCESS", "ok", "correct code")
        check(env.vlogin(code), "PAM_AUTH_ERR", "replay", "replayed code")
        t1 = T0 + 60
        check(env.vlogin(hlib.wrong_code(sec, t1), t1), "PAM_AUTH_ERR",
              "bad_code", "wrong code")
        check(env.vlogin(info["backup_codes"][0], t1), "PAM_SUCCESS",
              "backup_used", "backup code")
        check(env.vlogin(info["backup_codes"][0], t1), "PAM_AUTH_ERR",
              "bad_code", "backup code again")
        env.service("ftnodeny", extra="deny=0")
        for ans, what in (("", "empty answer"),
                          ("9" * 10000, "10,000-character answer"),
                          ("12 34 56", "digits with spaces"),
                          ("\x1b[2J%n%s", "control characters and %n")):
            check(env.vlogin(ans, t1, "ftnodeny"), "PAM_AUTH_ERR",
                  "bad_code", what)
        t2 = T0 + 120
        wrong = hlib.wrong_code(sec, t2)
        for i in range(2):
            env.vlogin(wrong, t2)
        check(env.vlogin(hlib.totp(sec, t2), t2), "PAM_AUTH_ERR", "locked",
              "locked after deny failures")
        r = env.vcli(["unlock", hlib.USER], t2)
        cli_ok(r, "totp-enroll unlock under valgrind")
        r = env.vcli(["status", "--json"], t2)
        cli_ok(r, "totp-enroll status under valgrind")
        t3 = T0 + 300
        split_stack(env, "ftfwd")
        check(env.vlogin("hunter2" + hlib.totp(sec, t3), t3, "ftfwd"),
              "PAM_SUCCESS", "ok", "split/use_stashed: password+code")
        env.service("fttry", extra="try_first_pass")
        t4 = T0 + 330
        check(env.vlogin(hlib.totp(sec, t4), t4, "fttry"), "PAM_SUCCESS",
              "ok", "try_first_pass without PAM_AUTHTOK: prompted")
        check(env.vlogin("123456", t4, user="ft-no-such-user-x"),
              "PAM_AUTH_ERR", "no_secret", "unknown user")
        env.service("ftbad", extra="window=99 bogus=1")
        check(env.vlogin("123456", t4, "ftbad"), "PAM_AUTH_ERR",
              "config_error", "config error")
        # Unsafe files.
        real = env.path + ".keep"
        os.rename(env.path, real)
        shutil.copy(real, env.path)
        os.chmod(env.path, 0o644)
        check(env.vlogin(hlib.totp(sec, t4), t4), "PAM_AUTH_ERR",
              "unsafe_file", "world-readable secret file")
        os.unlink(env.path)
        os.symlink(real, env.path)
        check(env.vlogin(hlib.totp(sec, t4), t4), "PAM_AUTH_ERR",
              "unsafe_file", "secret file is a symlink")
        os.unlink(env.path)
        with open(env.path, "w") as f:
            f.write("version = 1\nsecret = \x01\x02garbage\n")
        os.chmod(env.path, 0o600)
        check(env.vlogin(hlib.totp(sec, t4), t4), "PAM_AUTH_ERR",
              "unsafe_file", "garbage secret file")
        os.unlink(env.path)
        env.service("ftnull", extra="nullok")
        # The only module ignoring: libpam answers PAM_PERM_DENIED.
        check(env.vlogin("x", t4, "ftnull"), "PAM_PERM_DENIED", "no_secret",
              "nullok without a secret file: ignored", "ignore")
        check(env.vlogin(hlib.totp(sec, t4), t4), "PAM_AUTH_ERR",
              "no_secret", "no secret file, no nullok")
        os.rename(real, env.path)
        # The cache replaced by a symlink.
        os.unlink(env.cache)
        os.symlink("/dev/null", env.cache)
        t5 = T0 + 600
        check(env.vlogin(hlib.totp(sec, t5), t5), "PAM_AUTH_ERR",
              "cache_error", "cache file is a symlink")
        os.unlink(env.cache)
        check(env.vlogin(hlib.totp(sec, t5), t5), "PAM_SUCCESS", "ok",
              "fresh cache: correct code works")
        r = env.vcli(["reset", hlib.USER, "--yes"], t5)
        cli_ok(r, "totp-enroll reset under valgrind")
    finally:
        env.cleanup()
    tap.done_testing()


main()
