"""totp-enroll import: a user taken over from google-authenticator-libpam
keeps the secret (codes oathtool computes from the original secret log in
through the module), gets fresh backup codes (the old scratch codes do not
work), and every unsafe or malformed file is refused with nothing written.
The file checks and logins need real users (useradd, removed in a finally
block), so everything past the usage cases needs root."""
import base64
import json
import os
import pwd
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, PERIOD, tap  # noqa: E402

GA_NAME = ".google_authenticator"
SCRATCH = ["12345678", "23456789", "34567890", "45678901", "56789012"]
DEFAULT_OPTS = ['" RATE_LIMIT 3 30 %d' % T0, '" WINDOW_SIZE 17',
                '" DISALLOW_REUSE', '" TOTP_AUTH']


def new_secret():
    """20 random bytes in base32: 32 characters, as google-authenticator
    writes them."""
    return base64.b32encode(os.urandom(20)).decode()


def ga_text(secret, options=None, scratch=None):
    opts = DEFAULT_OPTS if options is None else options
    codes = SCRATCH if scratch is None else scratch
    return (secret + "\n" + "".join(o + "\n" for o in opts) +
            "".join(c + "\n" for c in codes)).encode()


def write_ga(path, data, pw, mode=0o400):
    if os.path.lexists(path):
        os.unlink(path)
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, mode)


jparse = clitest.jparse


def status(env, user, now=T0, opts=None):
    r = env.run(["status", user, "--json"], now=now, opts=opts)
    users = jparse(r.stdout).get("users", [])
    return users[0] if users else {}


def leaks(text, secret):
    return secret in text or secret.lower() in text


def as_user(user, args, now=T0):
    cmd = ["runuser", "-u", user, "--", "env", "FLOWTOTP_TEST_NOW=%d" % now,
           "LC_ALL=C", clitest.CLI] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          cwd="/", input="")


# ---- any user ----

def usage(env):
    r = env.run(["--help"])
    tap.ok(r.returncode == 0 and "import [--user NAME]" in r.stdout,
           "--help shows import")
    for args, msg in ((["import", "a", "b"], "one FILE"),
                      (["import", "--no-confirm"], "does not apply"),
                      (["import", "--period", "60"], "does not apply"),
                      (["import", "/tmp/x\ny"], "control characters")):
        r = env.run(args)
        tap.ok(r.returncode == clitest.EX_USAGE and msg in r.stderr,
               "usage error (exit 2): %r" % " ".join(args))


# ---- root ----

def home_import(env, pw):
    """Root imports a user's ~/.google_authenticator (0400, theirs)."""
    user = pw.pw_name
    ga = os.path.join(pw.pw_dir, GA_NAME)
    secret = new_secret()
    write_ga(ga, ga_text(secret), pw)
    before = clitest.file_state(ga)
    r = env.run(["import", "--user", user])
    tap.is_(r.returncode, 0, "import --user: exit 0")
    if r.returncode != 0:
        tap.diag(r.stderr)
    codes = clitest.CODE_RE.findall(r.stdout)
    tap.is_(len(codes), 10, "ten new backup codes are printed")
    tap.ok(not leaks(r.stdout + r.stderr, secret),
           "the secret is not printed")
    tap.ok("scratch codes (5 in the file) no longer work" in r.stdout,
           "says the old scratch codes no longer work")
    tap.ok(("%s was left untouched" % ga) in r.stdout and
           "pam_google_authenticator is out of the PAM stack" in r.stdout,
           "says the google-authenticator file was left alone")
    tap.ok("WINDOW_SIZE" in r.stdout and "RATE_LIMIT" in r.stdout and
           "DISALLOW_REUSE" in r.stdout, "names the options not taken over")
    tap.ok(clitest.file_state(ga) == before,
           "the google-authenticator file is unchanged")
    st = os.lstat(env.path(user))
    tap.ok(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600,
           "the secret file is a normal system-store one (root, 0600)")
    s = status(env, user)
    tap.ok(s.get("enrolled") is True and s.get("algorithm") == "SHA1" and
           s.get("digits") == 6 and s.get("period") == 30 and
           s.get("created") == T0 and s.get("backup_codes_left") == 10,
           "status: SHA1, 6 digits, 30 s, created now, 10 backup codes")
    env.service()
    t = T0 + PERIOD
    tap.ok(env.login(user, clitest.totp(secret, t), t),
           "a code from the original secret (oathtool) logs in")
    tap.ok(not env.login(user, SCRATCH[0], t + PERIOD),
           "a google-authenticator scratch code is refused")
    tap.ok(env.login(user, codes[0] if codes else "x", t + 2 * PERIOD),
           "a new backup code logs in")
    tap.ok(not env.login(user, codes[0] if codes else "x", t + 3 * PERIOD),
           "but only once")
    lines = env.log_lines()
    tap.ok(any(l.startswith("<5> ") and
               ("imported %s from google-authenticator file %s (by root, "
                "uid 0)" % (user, ga)) in l for l in lines),
           "one authpriv notice is logged")
    tap.ok(not any(leaks(l, secret) or any(c in l for c in codes)
                   for l in lines), "the log holds no secret or code")
    return secret


def existing(env, pw, old_secret):
    user = pw.pw_name
    ga = os.path.join(pw.pw_dir, GA_NAME)
    path = env.path(user)
    before = clitest.file_state(path)
    r = env.run(["import", "--user", user])
    tap.ok(r.returncode == clitest.EX_EXISTS and "--force" in r.stderr and
           clitest.file_state(path) == before,
           "already enrolled: refused without --force (exit 5), unchanged")
    secret = new_secret()
    write_ga(ga, ga_text(secret), pw, 0o600)
    r = env.run(["import", "--user", user, "--force", "--json"])
    j = jparse(r.stdout)
    tap.ok(r.returncode == 0 and j.get("replaced") is True and
           clitest.file_state(path) != before,
           "--force replaces the enrolment (0600 file accepted)")
    t = T0 + 10 * PERIOD
    tap.ok(env.login(user, clitest.totp(secret, t), t),
           "the replacing secret logs in")
    tap.ok(not env.login(user, clitest.totp(old_secret, t + PERIOD),
                         t + PERIOD), "the replaced one does not")


def file_import(env, pw):
    """Root imports from FILE: lower-case secret, STEP_SIZE 60, --json."""
    user = pw.pw_name
    src = os.path.join(env.dir, "ga-" + user)
    secret = new_secret()
    root = pwd.getpwuid(0)
    write_ga(src, ga_text(secret.lower(), ['" STEP_SIZE 60',
                                           '" TOTP_AUTH']), root, 0o600)
    r = env.run(["import", "--user", user, src, "--json"])
    j = jparse(r.stdout)
    tap.is_(r.returncode, 0, "import --user NAME FILE --json: exit 0")
    if r.returncode != 0:
        tap.diag(r.stderr)
    codes = j.get("backup_codes", [])
    tap.ok(len(codes) == 10 and all(clitest.CODE_RE.match("  " + c)
                                    for c in codes),
           "--json: ten backup codes")
    tap.ok("secret" not in j and "uri" not in j and
           not leaks(r.stdout + r.stderr, secret),
           "--json: no secret anywhere in the output")
    tap.ok(j.get("user") == user and j.get("source") == src and
           j.get("path") == env.path(user) and j.get("period") == 60 and
           j.get("algorithm") == "SHA1" and j.get("digits") == 6 and
           j.get("created") == T0 and j.get("replaced") is False and
           j.get("scratch_codes_dropped") == 5 and
           j.get("ignored_options") == [],
           "--json: the other fields")
    s = status(env, user)
    tap.is_(s.get("period"), 60, "STEP_SIZE 60 is the period")
    t = T0 + 2 * 60
    tap.ok(not env.login(user, clitest.totp(secret, t, period=30), t),
           "a 30 s code is refused")
    t += 60
    tap.ok(env.login(user, clitest.totp(secret, t, period=60), t),
           "a 60 s code (oathtool -s 60s) logs in")
    tap.ok(env.login(user, codes[1] if codes else "x", t + 60),
           "a backup code from --json logs in")


def refusals(env, pw, other):
    user = pw.pw_name
    ga = os.path.join(pw.pw_dir, GA_NAME)
    secret = new_secret()
    good = ga_text(secret)
    cases = [
        ("HOTP_COUNTER", ga_text(secret, ['" HOTP_COUNTER 1']), 0o400,
         "HOTP"),
        ("bad base32", ga_text(secret[:10] + "1" + secret[11:]), 0o400,
         "base32"),
        ("a short secret (5 bytes)", ga_text("JBSWY3DP"), 0o400,
         "too short"),
        ("STEP_SIZE 10", ga_text(secret, ['" STEP_SIZE 10']), 0o400,
         "15 to 300"),
        ("an unparsable option line", ga_text(secret, ['"TOTP_AUTH']),
         0o400, "option"),
        ("a NUL byte", good + b"\0\n", 0o400, "NUL"),
        ("a group-readable file", good, 0o440, "group/other"),
        ("a world-readable file", good, 0o604, "group/other"),
    ]
    for what, data, mode, msg in cases:
        write_ga(ga, data, pw, mode)
        r = env.run(["import", "--user", user])
        tap.ok(r.returncode == clitest.EX_FAIL and msg in r.stderr and
               not os.path.lexists(env.path(user)) and
               not leaks(r.stderr, secret),
               "refused (exit 1), nothing written: %s" % what)
        if msg not in r.stderr:
            tap.diag(r.stderr)
    real = os.path.join(pw.pw_dir, "ga-real")
    write_ga(real, good, pw)
    os.unlink(ga)
    os.symlink(real, ga)
    os.lchown(ga, pw.pw_uid, pw.pw_gid)
    r = env.run(["import", "--user", user])
    tap.ok(r.returncode == clitest.EX_FAIL and "symlink" in r.stderr and
           not os.path.lexists(env.path(user)),
           "refused (exit 1), nothing written: a symlink")
    # Read with the user's privileges in their home: another user's file
    # there cannot even be opened.
    write_ga(ga, good, other)
    r = env.run(["import", "--user", user])
    tap.ok(r.returncode == clitest.EX_PERM and "privileges" in r.stderr and
           not os.path.lexists(env.path(user)),
           "refused (exit 4), nothing written: another user's file in the "
           "home")
    # Elsewhere root reads it, and the owner check refuses it.
    src = os.path.join(env.dir, "ga-other")
    write_ga(src, good, other)
    r = env.run(["import", "--user", user, src])
    tap.ok(r.returncode == clitest.EX_FAIL and "owned by" in r.stderr and
           not os.path.lexists(env.path(user)),
           "refused (exit 1), nothing written: FILE of another user")
    os.unlink(ga)
    r = env.run(["import", "--user", user])
    tap.ok(r.returncode == clitest.EX_NOTENROLLED and
           "nothing to import" in r.stderr and
           not os.path.lexists(env.path(user)),
           "no google-authenticator file: exit 3, nothing written")


def non_root(env, pw1, pw2, pw3):
    u1, u2, u3 = pw1.pw_name, pw2.pw_name, pw3.pw_name
    runnable = subprocess.run(["runuser", "-u", u1, "--", "test", "-x",
                               clitest.CLI], capture_output=True)
    if runnable.returncode != 0:
        tap.diag("build dir not reachable by temp users: non-root cases "
                 "skipped")
        return
    before = clitest.file_state(env.path(u2))
    write_ga(os.path.join(pw1.pw_dir, GA_NAME), ga_text(new_secret()), pw1)
    r = as_user(u1, env.opts + ["import", "--user", u2])
    tap.ok(r.returncode == clitest.EX_PERM and
           clitest.file_state(env.path(u2)) == before,
           "non-root importing for another user: exit 4, nothing changed")
    home = ["-o", "secret=%h/.flowtotp", "-o", "cache=" + env.cache]
    ga2 = os.path.join(pw2.pw_dir, GA_NAME)
    write_ga(ga2, ga_text(new_secret()), pw2)
    r = as_user(u1, home + ["import", ga2])
    tap.ok(r.returncode == clitest.EX_PERM and
           not os.path.lexists(os.path.join(pw1.pw_dir, ".flowtotp")),
           "non-root naming another user's file: exit 4, nothing written")
    # Self-service into a home store.
    secret = new_secret()
    write_ga(os.path.join(pw3.pw_dir, GA_NAME), ga_text(secret), pw3,
             0o600)
    r = as_user(u3, home + ["import"])
    mine = os.path.join(pw3.pw_dir, ".flowtotp")
    tap.is_(r.returncode, 0, "a user imports their own file into their home")
    if r.returncode != 0:
        tap.diag(r.stderr)
    st = os.lstat(mine) if os.path.lexists(mine) else None
    tap.ok(st is not None and st.st_uid == pw3.pw_uid and
           stat.S_IMODE(st.st_mode) == 0o600,
           "the home secret file is the user's, 0600")
    env.service("fthome", ["secret=%h/.flowtotp", "cache=" + env.cache])
    t = T0 + 30 * PERIOD
    tap.ok(env.login(u3, clitest.totp(secret, t), t, "fthome"),
           "and the original secret logs them in")


def admin(env):
    pw1 = env.add_user(clitest.temp_user_name("ia"))
    pw2 = env.add_user(clitest.temp_user_name("ib"))
    pw3 = env.add_user(clitest.temp_user_name("ic"))
    secret = home_import(env, pw1)
    existing(env, pw1, secret)
    file_import(env, pw2)
    refusals(env, pw3, pw1)
    non_root(env, pw1, pw2, pw3)


def main():
    clitest.run_cases("import", [usage], [admin],
                      "the import cases with temp users")


main()
