"""Shared helpers for the totp-enroll tests (stdlib + pexpect only).

Every test runs cli/totp-enroll-test (the build with the movable clock) with
its own store and cache in a temp dir, so nothing touches the system:
  -o secret=TMP/store/%u -o cache=TMP/cache/state.gdbm
Time is pinned with FLOWTOTP_TEST_NOW; oathtool is the independent oracle
for codes.  Cases that need other real users create them with useradd and
remove them in a finally block (root only)."""
import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
from ftlib import (CLI, OATHTOOL, PAM_LOGIN, PAM_MODULE,  # noqa: E402,F401
                   PERIOD, T0, TOP_BUILDDIR, TOP_SRCDIR, tap, totp,
                   wrong_code)

ZBARIMG = os.environ.get("ZBARIMG") or shutil.which("zbarimg")

EX_OK, EX_FAIL, EX_USAGE, EX_NOTENROLLED, EX_PERM, EX_EXISTS = range(6)


def is_root():
    return os.geteuid() == 0


def me():
    return pwd.getpwuid(os.getuid()).pw_name


class Env:
    """A private store, cache and PAM service in a temp dir."""

    def __init__(self, tag="cli"):
        self.dir = tempfile.mkdtemp(prefix="ft-%s-" % tag)
        os.chmod(self.dir, 0o755)    # temp users must reach their homes
        self.store = os.path.join(self.dir, "store")
        self.cache_dir = os.path.join(self.dir, "cache")
        os.mkdir(self.store, 0o700)
        os.mkdir(self.cache_dir, 0o700)
        self.cache = os.path.join(self.cache_dir, "state.gdbm")
        self.secret_tpl = os.path.join(self.store, "%u")
        self.opts = ["-o", "secret=" + self.secret_tpl,
                     "-o", "cache=" + self.cache]
        self.confdir = os.path.join(self.dir, "pam.d")
        os.mkdir(self.confdir)
        self.users = []
        # The -test binaries append their syslog lines here.
        self.syslog = os.path.join(self.dir, "syslog")

    def log_lines(self):
        try:
            with open(self.syslog) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def path(self, user):
        return os.path.join(self.store, user)

    def env(self, now=T0, **extra):
        e = dict(os.environ)
        e["FLOWTOTP_TEST_NOW"] = str(now)
        e.pop("FLOWTOTP_TEST_OFFSET", None)
        e.setdefault("LC_ALL", "C")
        e["FT_TEST_SYSLOG"] = self.syslog
        e.update(extra)
        return e

    def run(self, args, now=T0, input=None, opts=None, env=None):
        """Run the CLI; returns CompletedProcess (text)."""
        o = self.opts if opts is None else opts
        return subprocess.run([CLI] + o + list(args), input=input,
                              capture_output=True, encoding="utf-8",
                              errors="replace", env=env or self.env(now),
                              timeout=60)

    def service(self, name="ftcli", args=None):
        """Write a PAM service file using the test module; returns name."""
        a = args if args is not None else [
            "secret=" + self.secret_tpl, "cache=" + self.cache]
        with open(os.path.join(self.confdir, name), "w") as f:
            f.write("auth required %s %s\n" % (PAM_MODULE, " ".join(a)))
            f.write("account required pam_permit.so\n")
        return name

    def login(self, user, answer, now, service="ftcli"):
        """Authenticate through the module; True on PAM_SUCCESS."""
        r = subprocess.run([PAM_LOGIN, service, user, self.confdir],
                           input=answer + "\n", capture_output=True,
                           text=True, env=self.env(now), timeout=60)
        if r.returncode not in (0, 1):
            tap.diag("ft-pam-login: rc %d: %s %s" % (r.returncode,
                                                     r.stdout, r.stderr))
        return r.returncode == 0

    def add_user(self, name, home_mode=0o700):
        """A real temp user (root only) with a home in the temp dir."""
        home = os.path.join(self.dir, "home", name)
        os.makedirs(os.path.dirname(home), exist_ok=True)
        os.chmod(os.path.dirname(home), 0o755)
        subprocess.run(["useradd", "-M", "-d", home, "-s",
                        "/usr/sbin/nologin", "-U", name], check=True,
                       capture_output=True)
        self.users.append(name)
        pw = pwd.getpwnam(name)
        os.mkdir(home, home_mode)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        return pw

    def cleanup(self):
        for u in self.users:
            subprocess.run(["userdel", u], capture_output=True)
            try:
                grp.getgrnam(u)
                subprocess.run(["groupdel", u], capture_output=True)
            except KeyError:
                pass
        self.users = []
        shutil.rmtree(self.dir, ignore_errors=True)


def temp_user_name(tag):
    return ("ft%s%d" % (tag, os.getpid()))[:31]


def need_components(pam=False, zbar=False):
    if not os.access(CLI, os.X_OK):
        tap.skip_all("cli/totp-enroll-test not built")
    if not OATHTOOL:
        tap.skip_all("oathtool not found")
    if zbar and ZBARIMG is None:
        tap.skip_all("zbarimg not found")
    if pam and not (os.access(PAM_LOGIN, os.X_OK) and
                    os.path.exists(PAM_MODULE)):
        tap.skip_all("tests/pam/ft-pam-login or the test module not built")


SECRET_RE = re.compile(r"Secret for manual entry: ([A-Z2-7 ]+)")
URI_RE = re.compile(r"URI: (otpauth://\S+)")
CODE_RE = re.compile(r"^  ([23456789a-z]{4}-[23456789a-z]{4}-"
                     r"[23456789a-z]{4})$", re.M)


def parse_enrol(text):
    """(secret without spaces, uri, [backup codes]) from enrol output."""
    s = SECRET_RE.search(text)
    u = URI_RE.search(text)
    return (s.group(1).replace(" ", "").strip() if s else None,
            u.group(1) if u else None,
            CODE_RE.findall(text.replace("\r\n", "\n")))


def file_state(path):
    """(bytes, uid, mode) or None: to prove a file did not change."""
    try:
        st = os.lstat(path)
        with open(path, "rb") as f:
            return (f.read(), st.st_uid, st.st_mode & 0o7777)
    except FileNotFoundError:
        return None


class PamLogin:
    """What one ft-pam-login run showed: its PAM result (rc), the prompts
    and info messages, and the module's last outcome line."""

    def __init__(self, proc, log):
        self.rc = proc.stdout.strip()
        self.prompts = len(re.findall(r"^prompt: ", proc.stderr, re.M))
        self.infos = re.findall(r"^info: (.*)$", proc.stderr, re.M)
        lines = [l for l in log if "flowtotp: service=" in l]
        self.line = lines[-1] if lines else ""

    def outcome(self):
        m = re.search(r"result=(\S+) reason=(\S+)", self.line)
        return (m.group(1), m.group(2)) if m else (None, None)


def pam_login(env, svc, user, answers, now=T0):
    """One login through the service in env.confdir, the answers one a
    line; a PamLogin of what it showed and logged."""
    before = len(env.log_lines())
    r = subprocess.run([PAM_LOGIN, svc, user, env.confdir],
                       input="".join(a + "\n" for a in answers),
                       capture_output=True, text=True, env=env.env(now),
                       timeout=60)
    return PamLogin(r, env.log_lines()[before:])


def jparse(text):
    """JSON output as a dict; {} (with a diagnostic) if it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        tap.diag("not JSON: %r" % text)
        return {}


def enrol_json(env, user, now=T0, opts=None):
    """Enrol user (as root: --user, no confirmation, no QR code): the
    CompletedProcess and the new secret; when enrolment failed, a key that
    matches nothing, so the checks after it fail rather than crash."""
    r = env.run(["--user", user, "--no-confirm", "--qr=none", "--json"],
                now=now, opts=opts)
    try:
        return r, json.loads(r.stdout)["secret"]
    except (ValueError, KeyError):
        tap.diag("enrol failed: %r %r" % (r.stdout, r.stderr))
        return r, "A" * 32


def run_cases(tag, cases, root_cases, skipped):
    """A test's main: the components, one Env (removed at the end), cases
    for everyone, then root_cases as root (else "not root: SKIPPED
    skipped")."""
    need_components(pam=True)
    env = Env(tag)
    try:
        for case in cases:
            case(env)
        if is_root():
            for case in root_cases:
                case(env)
        else:
            tap.diag("not root: %s skipped" % skipped)
    finally:
        env.cleanup()
    tap.done_testing()
