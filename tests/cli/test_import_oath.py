"""totp-enroll import --from pam_oath: users taken over from oath-toolkit's
usersfile keep their key, digits and period (codes oathtool computes from
the hex key with the matching -d/-s log in through the module and real
libpam), HOTP lines and PINs are refused per user with their reasons, only
the users named are imported, an unknown user is an error, unsafe or
malformed usersfiles import nothing, and the usersfile itself is never
changed (bytes and mtime).  Needs root for the temp users (useradd, removed
in a finally block) and the root-owned usersfile."""
import base64
import hashlib
import os
import pwd
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, tap  # noqa: E402


def key_hex(label):
    """A fixed 20-byte key per label: the same codes on every run."""
    return hashlib.sha1(("oath-import " + label).encode()).hexdigest()


def totp_hex(key, now, digits=6, period=30):
    """oathtool's code for a hex key (its default key format)."""
    out = subprocess.run(
        [clitest.OATHTOOL, "--totp", "-d", str(digits), "-s",
         "%ds" % period, "--now", "@%d" % now, key],
        check=True, capture_output=True, text=True)
    return out.stdout.strip()


jparse = clitest.jparse


def fstate(path):
    """Bytes, owner, mode and mtime: the usersfile must keep all four."""
    st = os.lstat(path)
    with open(path, "rb") as f:
        return (f.read(), st.st_uid, stat.S_IMODE(st.st_mode),
                st.st_mtime_ns)


class Users:
    """The temp accounts and the usersfile that names them."""

    def __init__(self, env):
        tag = clitest.temp_user_name("")[2:]
        self.names = {}
        for k in ("t30", "t308", "t60", "hotp", "pin", "two"):
            name = ("ftoa%s%s" % (k, tag))[:31]
            env.add_user(name)
            self.names[k] = name
        self.ghost = ("ftoagh%s" % tag)[:31]     # in the file, no account
        self.keys = {k: key_hex(k) for k in self.names}
        self.keys["ghost"] = key_hex("ghost")
        self.path = os.path.join(env.dir, "users.oath")

    def text(self):
        n, k = self.names, self.keys
        return (
            "# Option 1: HOTP/T30 6 digits, as pam_oath's README shows\n"
            "HOTP/T30\t%s\t-\t%s\n\n"
            "# 8 digits, 30 s; 6 digits, 60 s with pam_oath's state\n"
            "HOTP/T30/8 %s - %s\n"
            "HOTP/T60 %s - %s 0 123456 2024-01-02T03:04:05L\n"
            "# counter based, and one with a PIN\n"
            "HOTP %s - %s\n"
            "HOTP/T30 %s 4711 %s\n"
            "HOTP/T30 %s - %s\n"
            "HOTP/T30 %s - %s\n"
            % (n["t30"], k["t30"], n["t308"], k["t308"], n["t60"],
               k["t60"], n["hotp"], k["hotp"], n["pin"], k["pin"],
               n["two"], k["two"], n["two"], k["t30"])).encode()

    def write(self, data=None, mode=0o600, uid=0):
        if os.path.lexists(self.path):
            os.unlink(self.path)
        with open(self.path, "wb") as f:
            f.write(self.text() if data is None else data)
        os.chown(self.path, uid, 0)
        os.chmod(self.path, mode)


def imp(env, u, *args, now=T0):
    return env.run(["import", "--from", "pam_oath", "--usersfile", u.path] +
                   list(args), now=now)


def enrolled(env, name):
    return os.path.lexists(env.path(name))


def usage(env):
    for args, msg in (
            (["import", "--from", "pam-oath"], "expected google-authenticator"),
            (["import", "--usersfile", "/x"], "only with --from pam_oath"),
            (["import", "--from", "google-authenticator", "--usersfile",
              "/x"], "only with --from pam_oath"),
            (["import", "--from", "pam_oath"], "needs --usersfile"),
            (["import", "--from", "pam_oath", "--usersfile", "/x", "--user",
              "root"], "as operands"),
            (["import", "--from", "pam_oath", "--usersfile", "/x\ny"],
             "control characters"),
            (["list", "--from", "pam_oath"], "does not apply")):
        r = env.run(args)
        tap.ok(r.returncode == clitest.EX_USAGE and msg in r.stderr,
               "usage error (exit 2): %r" % " ".join(args))
        if msg not in r.stderr:
            tap.diag(r.stderr)
    r = env.run(["--help"])
    tap.ok("import --from pam_oath --usersfile FILE" in r.stdout,
           "--help shows the pam_oath import")
    r = env.run(["import", "--help"])
    tap.ok("--usersfile FILE" in r.stdout and "pam_oath" in r.stdout,
           "import --help names --from and --usersfile")


def named_only(env, u, before):
    n = u.names
    r = imp(env, u, n["t308"])
    tap.is_(r.returncode, 0, "import of one named user: exit 0")
    if r.returncode != 0:
        tap.diag(r.stderr)
    tap.ok(enrolled(env, n["t308"]) and
           not any(enrolled(env, n[k]) for k in ("t30", "t60", "two")),
           "only the named user is imported")
    tap.ok("8 digits, every 30 seconds" in r.stdout and
           "1 imported, 0 not imported" in r.stdout,
           "says what was imported")
    r = imp(env, u, n["t30"], "nosuchuser" + n["t30"][4:])
    tap.ok(r.returncode == clitest.EX_NOTENROLLED and
           "has no entry in %s" % u.path in r.stderr and
           not enrolled(env, n["t30"]),
           "a named user not in the file: exit 3, nothing imported")
    tap.ok(fstate(u.path) == before, "the usersfile is unchanged so far")


def all_users(env, u):
    n = u.names
    r = imp(env, u)
    tap.is_(r.returncode, clitest.EX_EXISTS,
            "all users: exit 5 (the highest: one already enrolled)")
    tap.ok(all(enrolled(env, n[k]) for k in ("t30", "t308", "t60")),
           "the TOTP users are imported")
    tap.ok(not any(enrolled(env, n[k]) for k in ("hotp", "pin", "two")),
           "HOTP, PIN and two-token users are not")
    err = r.stderr
    tap.ok(("not imported: %s (line 8): an HOTP (counter based) token"
            % n["hotp"]) in err and "only TOTP" in err,
           "the HOTP line is refused with the reason")
    tap.ok(("not imported: %s (line 9): the usersfile gives a PIN"
            % n["pin"]) in err and "account password" in err,
           "the PIN line is refused: flowtotp uses the account password")
    tap.ok(("not imported: %s (line 10): 2 entries (tokens)" % n["two"])
           in err, "a user with two tokens is refused once")
    tap.ok(("%s is already enrolled" % n["t308"]) in err and
           "--force" in err, "the enrolled user is kept (use --force)")
    tap.ok("2 imported, 4 not imported" in r.stdout,
           "the summary counts users")
    tap.ok(not any(k in r.stdout + err for k in u.keys.values()),
           "no key in the output")
    codes = clitest.CODE_RE.findall(r.stdout)
    tap.is_(len(codes), 20, "ten new backup codes each for the two new")
    return codes


def logins(env, u, codes):
    n, k = u.names, u.keys
    env.service()
    t = T0 + 300
    tap.ok(env.login(n["t30"], totp_hex(k["t30"], t), t),
           "HOTP/T30: oathtool --totp (6 digits, 30 s) logs in")
    tap.ok(not env.login(n["t308"], totp_hex(k["t308"], t, 6), t),
           "HOTP/T30/8: a 6-digit code is refused")
    tap.ok(env.login(n["t308"], totp_hex(k["t308"], t, 8), t),
           "HOTP/T30/8: oathtool --totp -d 8 logs in")
    t60 = T0 + 1800 + 40    # 40 s into a 60 s step: another 30 s step
    tap.ok(totp_hex(k["t60"], t60, period=30) !=
           totp_hex(k["t60"], t60, period=60) and
           not env.login(n["t60"], totp_hex(k["t60"], t60, period=30), t60),
           "HOTP/T60: a 30 s code is refused")
    tap.ok(env.login(n["t60"], totp_hex(k["t60"], t60 + 60, period=60),
                     t60 + 60), "HOTP/T60: oathtool --totp -s 60 logs in")
    tap.ok(env.login(n["t30"], codes[0] if codes else "x", t + 90),
           "a new backup code logs in")
    r = env.run(["status", n["t60"], "--json"])
    s = (jparse(r.stdout).get("users") or [{}])[0]
    tap.ok(s.get("algorithm") == "SHA1" and s.get("digits") == 6 and
           s.get("period") == 60 and s.get("created") == T0,
           "status: SHA1, 6 digits, 60 s")


def force_json(env, u):
    n, path = u.names, env.path(u.names["t30"])
    before = clitest.file_state(path)
    r = imp(env, u, n["t30"], "--json")
    tap.ok(r.returncode == clitest.EX_EXISTS and
           clitest.file_state(path) == before,
           "already enrolled: exit 5 without --force, unchanged")
    r = imp(env, u, n["t30"], n["hotp"], "--force", "--json")
    j = jparse(r.stdout)
    users = {x.get("user"): x for x in j.get("users", [])}
    a, h = users.get(n["t30"], {}), users.get(n["hotp"], {})
    tap.ok(r.returncode == clitest.EX_FAIL and j.get("source") == u.path and
           j.get("imported") == 1 and j.get("refused") == 1,
           "--force --json: one imported, one refused, exit 1")
    tap.ok(a.get("imported") is True and a.get("replaced") is True and
           a.get("line") == 2 and a.get("digits") == 6 and
           a.get("period") == 30 and len(a.get("backup_codes", [])) == 10,
           "--json: the replaced user's fields")
    tap.ok(h.get("imported") is False and h.get("reason") == "hotp" and
           h.get("exit") == 1, "--json: the HOTP user's reason")
    t = T0 + 3000
    tap.ok(env.login(n["t30"], totp_hex(u.keys["t30"], t), t),
           "the re-imported key logs in")


def ghost(env, u):
    data = u.text() + ("HOTP/T30 %s - %s\n" % (
        u.ghost, u.keys["ghost"])).encode()
    u.write(data)
    r = imp(env, u, u.ghost)
    tap.ok(r.returncode == clitest.EX_USAGE and
           ("no such user: %s" % u.ghost) in r.stderr,
           "a user of the file without an account: exit 2")


def unsafe(env, u, other):
    n = u.names["pin"]
    cases = [
        ("group-writable", lambda: u.write(mode=0o620), clitest.EX_FAIL,
         "writable by nobody else"),
        ("world-writable", lambda: u.write(mode=0o602), clitest.EX_FAIL,
         "writable by nobody else"),
        ("owned by a user", lambda: u.write(uid=other.pw_uid),
         clitest.EX_FAIL, "owned by root"),
        ("a malformed line", lambda: u.write(
            u.text() + b"HOTP/T30 x - 12345\n"), clitest.EX_FAIL,
         "line 12: the secret has an odd number"),
        ("an unknown TYPE", lambda: u.write(
            b"TOTP/30 " + n.encode() + b" - " + u.keys["t30"].encode() +
            b"\n"), clitest.EX_FAIL, "line 1: unknown TYPE"),
        ("a missing file", lambda: os.unlink(u.path),
         clitest.EX_NOTENROLLED, "nothing to import"),
    ]
    for what, prepare, ex, msg in cases:
        store = sorted(os.listdir(env.store))
        prepare()
        r = imp(env, u, "--force")
        tap.ok(r.returncode == ex and msg in r.stderr and
               ("nothing imported" in r.stderr or
                "nothing to import" in r.stderr) and
               sorted(os.listdir(env.store)) == store and
               r.stdout == "",
               "refused (exit %d), nothing imported: %s" % (ex, what))
        if msg not in r.stderr:
            tap.diag(r.stderr)
    u.write()
    link = u.path + ".link"
    os.symlink(u.path, link)
    r = env.run(["import", "--from", "pam_oath", "--usersfile", link])
    tap.ok(r.returncode == clitest.EX_FAIL and "symlink" in r.stderr,
           "refused (exit 1): a symlink to the usersfile")
    os.unlink(link)


def explicit_ga(env, u):
    """--from google-authenticator names today's default explicitly."""
    name = u.names["hotp"]
    key = key_hex("ga")
    src = os.path.join(env.dir, "ga-" + name)
    with open(src, "w") as f:
        f.write(base64.b32encode(bytes.fromhex(key)).decode() +
                "\n\" TOTP_AUTH\n")
    os.chmod(src, 0o600)
    r = env.run(["import", "--from", "google-authenticator", "--user", name,
                 src])
    tap.ok(r.returncode == 0 and "google-authenticator secret" in r.stdout,
           "--from google-authenticator FILE: the google import")
    t = T0 + 6000
    tap.ok(env.login(name, totp_hex(key, t), t),
           "and its secret logs in")


def non_root(env, u, pw):
    cmd = ["runuser", "-u", pw.pw_name, "--", "env",
           "FLOWTOTP_TEST_NOW=%d" % T0, "LC_ALL=C", clitest.CLI] + \
        ["-o", "secret=%h/.flowtotp", "-o", "cache=" + env.cache,
         "import", "--from", "pam_oath", "--usersfile", u.path]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       cwd="/", input="")
    tap.ok(r.returncode == clitest.EX_PERM and "only root" in r.stderr and
           not os.path.lexists(os.path.join(pw.pw_dir, ".flowtotp")),
           "a non-root caller: exit 4, nothing written")


def log_lines(env, u):
    lines = env.log_lines()
    mine = [l for l in lines if "from pam_oath usersfile %s" % u.path in l]
    tap.ok(any(("imported %s from pam_oath usersfile %s (line 2) (by root"
                % (u.names["t30"], u.path)) in l for l in mine),
           "an authpriv notice names the user, the file and the line")
    tap.ok(not any(k in l for l in lines for k in u.keys.values()),
           "the log holds no key")


def admin(env):
    u = Users(env)
    u.write()
    before = fstate(u.path)
    named_only(env, u, before)
    codes = all_users(env, u)
    tap.ok(fstate(u.path) == before,
           "the usersfile keeps its bytes, owner, mode and mtime")
    logins(env, u, codes)
    force_json(env, u)
    tap.ok(fstate(u.path) == before, "and after --force too")
    log_lines(env, u)
    ghost(env, u)
    unsafe(env, u, pwd.getpwnam(u.names["hotp"]))
    explicit_ga(env, u)
    runnable = subprocess.run(["runuser", "-u", u.names["hotp"], "--",
                               "test", "-x", clitest.CLI],
                              capture_output=True)
    if runnable.returncode == 0:
        non_root(env, u, pwd.getpwnam(u.names["hotp"]))
    else:
        tap.diag("build dir not reachable by temp users: non-root case "
                 "skipped")


def main():
    clitest.run_cases("ioath", [usage], [admin],
                      "the cases with temp users")


main()
