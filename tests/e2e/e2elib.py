"""End-to-end harness: real sshd, sudo, su and login against the installed-
style module (BUILDDIR/.libs/pam_flowtotp.so, real clock).

Everything the suite creates -- test users, /etc/pam.d/<private service>,
/etc/sudoers.d/<drop-in>, a private sshd, temp dirs -- is registered with
Env.defer() right after it is created and removed when the test ends, also on
failure or SIGTERM/SIGINT/SIGHUP.  Existing files in /etc/pam.d, /etc/sudoers
and the system's sshd are never touched.

The e2e tests take an exclusive lock while they run, so under `make -j`
they run one after another: they then cannot disturb each other's syslog
capture (/dev/log, see SyslogSink) or /run/sshd.

Codes come from oathtool, the independent oracle.  The module uses the real
clock, so before a code is typed we make sure at least FRESH_MARGIN seconds
of its 30 s step are left (Env.code())."""
import fcntl
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
import ftlib  # noqa: E402
from ftlib import (ENROLL, MODULE, OATHTOOL, PERIOD,  # noqa: E402,F401
                   TOP_BUILDDIR, TOP_SRCDIR, free_port, tap)

CONTRIB = os.path.join(TOP_SRCDIR, "contrib")

FRESH_MARGIN = 5        # seconds a code must have left before we type it
# flock()ed for the test's duration: a directory that always exists, so the
# lock leaves nothing behind and serializes every checkout's e2e runs.
LOCK_PATH = "/etc/pam.d"
SYSLOG_PATH = "/dev/log"
MARKER = "LOGGED-IN-MARKER"
PEXPECT_TIMEOUT = 45    # a login with PAM fail delays takes a few seconds
LOG_WAIT = 5.0          # seconds to wait for a log line already sent
USER_PREFIX = "fte2e"

PROMPT_PASSWORD = "password"
PROMPT_CODE = "code"
PROMPT_BOTH = "both"
# (kind, regex) in the order pexpect should try them: the forward_pass prompt
# first, because "Password & verification code: " also contains "Password".
PROMPTS = [
    (PROMPT_BOTH, r"[Pp]assword & verification code: ?"),
    # pam_unix's "Password: ", sudo's "[sudo] password for USER: "
    (PROMPT_PASSWORD, r"[Pp]assword(?: for [^:\r\n]+)?: ?"),
    (PROMPT_CODE, r"[Vv]erification code: ?"),
]


def require_root():
    if os.geteuid() != 0:
        tap.skip_all("not root: the end-to-end suite creates users, "
                     "PAM services and daemons (CI runs it as root)")


def require_pexpect():
    try:
        import pexpect  # noqa: F401
    except ImportError:
        tap.skip_all("python3-pexpect is not installed")


def require_files(*paths):
    for p in paths:
        if not p or not os.access(p, os.X_OK | os.R_OK):
            tap.skip_all("missing %s" % (p or "a required program"))


def run(argv, check=True, **kw):
    """subprocess.run with text output captured; raises with the output."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    res = subprocess.run(argv, check=False, **kw)
    if check and res.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s%s" % (
            " ".join(argv), res.returncode, res.stdout or "",
            res.stderr or ""))
    return res


def skip(desc, reason):
    """One TAP test point reported as skipped."""
    return tap.ok(True, "%s # SKIP %s" % (desc, reason))


class User:
    def __init__(self, name, password, home):
        self.name = name
        self.password = password
        self.home = home
        pw = pwd.getpwnam(name)
        self.uid = pw.pw_uid
        self.gid = pw.pw_gid
        self.secret = None
        self.backup_codes = []


class SyslogSink:
    """Catch syslog lines (the module's outcome lines) on /dev/log.

    These machines run no syslog daemon; pam_syslog() from inside sshd, sudo
    or su then goes nowhere.  If /dev/log is missing (or a dead socket left
    behind), bind it for the test's duration and remove it afterwards.  If a
    real syslog daemon listens there, leave it alone: active is False and
    the checks that read log lines are reported as skipped."""

    def __init__(self):
        self.active = False
        self.why = ""
        self._lines = []
        self._mu = threading.Lock()
        self._sock = None
        self._ino = None
        try:
            self._open()
        except OSError as e:
            self.why = "cannot bind %s: %s" % (SYSLOG_PATH, e)

    def _open(self):
        if os.path.lexists(SYSLOG_PATH):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                probe.connect(SYSLOG_PATH)
                self.why = "a syslog daemon owns %s" % SYSLOG_PATH
                return
            except ConnectionRefusedError:
                os.unlink(SYSLOG_PATH)      # stale, nobody reads it
            except OSError as e:
                self.why = "%s exists (%s)" % (SYSLOG_PATH, e)
                return
            finally:
                probe.close()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(SYSLOG_PATH)
        os.chmod(SYSLOG_PATH, 0o666)
        self._ino = os.lstat(SYSLOG_PATH).st_ino
        self._sock = s
        self.active = True
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                return
            with self._mu:
                self._lines.append(data.decode("utf-8", "replace"))

    def mark(self):
        with self._mu:
            return len(self._lines)

    def lines(self, since=0):
        with self._mu:
            return list(self._lines[since:])

    def wait_for(self, regex, since=0, timeout=LOG_WAIT):
        """The first line after mark `since` matching regex, or None."""
        rx = re.compile(regex)
        end = time.monotonic() + timeout
        while True:
            for line in self.lines(since):
                if rx.search(line):
                    return line
            if time.monotonic() >= end:
                return None
            time.sleep(0.05)

    def close(self):
        if not self.active:
            return
        self.active = False
        try:
            if os.lstat(SYSLOG_PATH).st_ino == self._ino:
                os.unlink(SYSLOG_PATH)
        except OSError:
            pass
        self._sock.close()


class LoginResult:
    def __init__(self):
        self.logged_in = False
        self.whoami = None
        self.prompts = []       # kinds seen, in order
        self.unexpected = None  # a prompt we had no answer for
        self.output = ""
        self.exitstatus = None
        self.timed_out = False

    @property
    def denied(self):
        """Refused cleanly: every prompt expected, no hang."""
        return (not self.logged_in and self.unexpected is None and
                not self.timed_out)

    def __repr__(self):
        return ("LoginResult(logged_in=%r whoami=%r prompts=%r "
                "unexpected=%r timed_out=%r exit=%r)\n%s" % (
                    self.logged_in, self.whoami, self.prompts,
                    self.unexpected, self.timed_out, self.exitstatus,
                    self.output))


def drive(child, answers, res, extra=()):
    """Answer prompts on a pexpect child until the marker or the end.

    answers: dict kind -> list of strings (or callables returning one),
    consumed in order.  A prompt with
    no answer left ends the session (res.unexpected).  extra: (regex, line)
    pairs answered whenever they show up (e.g. a shell prompt)."""
    import pexpect
    pats = [rx for _, rx in PROMPTS]
    # login(1) asks again after a failure instead of exiting.
    pats += [MARKER + r"\r?\n(\S+)", pexpect.EOF, pexpect.TIMEOUT,
             r"Login incorrect"]
    n_prompts = len(PROMPTS)
    n_fixed = n_prompts + 4
    pats += [rx for rx, _ in extra]
    queues = {k: list(v) for k, v in answers.items()}
    while True:
        i = child.expect(pats)
        res.output += (child.before or "") + (
            child.after if isinstance(child.after, str) else "")
        if i >= n_fixed:
            child.sendline(extra[i - n_fixed][1])
        elif i < n_prompts:
            kind = PROMPTS[i][0]
            res.prompts.append(kind)
            q = queues.get(kind) or []
            if not q:
                res.unexpected = kind
                child.close(force=True)
                break
            ans = q.pop(0)
            # A callable answers with what it returns when the prompt
            # comes (a code that arrived by mail meanwhile).
            child.sendline(ans() if callable(ans) else ans)
        elif i == n_prompts:
            res.logged_in = True
            res.whoami = child.match.group(1)
            child.expect([pexpect.EOF, pexpect.TIMEOUT])
            res.output += child.before or ""
            break
        else:
            if i == n_prompts + 2:
                res.output += "\n[timeout]"
                res.timed_out = True
            break
    child.close(force=True)
    res.exitstatus = child.exitstatus
    return res


class Env:
    """One test's private world; use as a context manager."""

    def __init__(self, tag):
        self.tag = tag
        self.suffix = secrets.token_hex(2)
        self._cleanups = []
        self._lockfd = None
        self._users = 0
        self.sink = None
        self.dir = None

    # ---- lifetime ----

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        self._lockfd = os.open(LOCK_PATH, os.O_RDONLY | os.O_DIRECTORY |
                               os.O_CLOEXEC)
        fcntl.flock(self._lockfd, fcntl.LOCK_EX)
        self.dir = tempfile.mkdtemp(prefix="flowtotp-e2e-%s-" % self.tag)
        self.defer(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o711)       # test users reach their homes
        self.store = self.path("store")
        os.mkdir(self.store, 0o700)
        self.cache = self.path("cache", "state.gdbm")
        self.conf = self.path("flowtotp.conf")
        self.write_conf()
        self.sink = SyslogSink()
        self.defer(self.sink.close)
        if not self.sink.active:
            tap.diag("no syslog capture: " + self.sink.why)
        return self

    def __exit__(self, etype, evalue, tb):
        """Clean up; an exception becomes a failed test point so the plan
        is still printed (a signal still ends the test)."""
        self.cleanup()
        if etype is None or issubclass(etype, SystemExit):
            return False
        import traceback
        tap.ok(False, "the test ran to the end (it raised %s)" %
               etype.__name__)
        tap.diag("".join(traceback.format_exception(etype, evalue, tb)))
        return True

    def _on_signal(self, signum, frame):
        raise SystemExit(128 + signum)

    def defer(self, fn, *args):
        self._cleanups.append((fn, args))

    def cleanup(self):
        while self._cleanups:
            fn, args = self._cleanups.pop()
            try:
                fn(*args)
            except Exception as e:      # keep cleaning up
                tap.diag("cleanup %s: %s" % (getattr(fn, "__name__", fn),
                                             e))
        if self._lockfd is not None:
            os.close(self._lockfd)
            self._lockfd = None

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def name(self, what):
        """A system-wide unique name such as sshd-flowtotp-1a2b."""
        return "%s-flowtotp-%s" % (what, self.suffix)

    # ---- configuration ----

    def write_conf(self, extra=""):
        """The root-owned config passed as conf= (and used by totp-enroll)."""
        with open(self.conf, "w") as f:
            f.write("# flowtotp e2e test configuration\n"
                    "secret = %s\ncache = %s\nissuer = flowtotp-e2e\n%s" %
                    (os.path.join(self.store, "%u"), self.cache, extra))
        os.chmod(self.conf, 0o600)

    def module_line(self, args=""):
        """The module by absolute path with this test's store and cache."""
        return "%s conf=%s secret=%s cache=%s %s" % (
            MODULE, self.conf, os.path.join(self.store, "%u"), self.cache,
            args)

    def pam_stack(self, snippet, args="", tail=None):
        """A PAM service text from a contrib/pam.d snippet: its
        pam_flowtotp.so line gets the absolute module path, the test
        store, cache and config, and `args`; then account/session lines."""
        with open(os.path.join(CONTRIB, "pam.d", snippet)) as f:
            text = f.read()
        rx = re.compile(r"(?m)^(\s*auth\s+\S+\s+)pam_flowtotp\.so([^\n]*)$")
        if not rx.search(text):
            raise RuntimeError("%s has no pam_flowtotp.so line" % snippet)
        text = rx.sub(lambda m: m.group(1) + self.module_line(
            (m.group(2).strip() + " " + args).strip()), text)
        if tail is None:
            tail = ("@include common-account\n"
                    "@include common-session-noninteractive\n")
        return "# flowtotp e2e test service, removed when the test ends\n" + \
            text + tail

    def pam_service(self, name, text):
        """Create /etc/pam.d/NAME (which must not exist yet)."""
        path = os.path.join("/etc/pam.d", name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.defer(os.unlink, path)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    # ---- users ----

    def add_user(self, role):
        """A fresh local user with a random password and a home inside the
        temp dir; removed at the end."""
        self._users += 1
        name = "%s%s%d%s" % (USER_PREFIX, self.suffix, self._users, role)
        name = name[:31]
        home = self.path("home", name)
        os.makedirs(self.path("home"), 0o711, exist_ok=True)
        run(["useradd", "-m", "-d", home, "-s", "/bin/sh", name])
        self.defer(self._del_user, name)
        password = "pw-" + secrets.token_hex(6)
        run(["chpasswd"], input="%s:%s\n" % (name, password))
        return User(name, password, home)

    @staticmethod
    def _del_user(name):
        run(["userdel", "-f", name], check=False)

    # ---- totp-enroll ----

    def totp_enroll(self, *args, check=True):
        return run([ENROLL, "--config", self.conf] + list(args), check=check)

    def enroll(self, user):
        res = self.totp_enroll("--user", user.name, "--no-confirm",
                               "--qr=none", "--json")
        data = json.loads(res.stdout)
        user.secret = data["secret"]
        user.backup_codes = list(data["backup_codes"])
        return data

    def status(self, user):
        res = self.totp_enroll("status", user.name, "--json", check=False)
        try:
            return json.loads(res.stdout)["users"][0]
        except (ValueError, KeyError, IndexError):
            return {"error": res.stdout + res.stderr}

    # ---- codes ----

    @staticmethod
    def wait_fresh_step():
        """Return once at least FRESH_MARGIN seconds of the step are left."""
        left = PERIOD - (time.time() % PERIOD)
        if left < FRESH_MARGIN:
            time.sleep(left + 0.2)

    @staticmethod
    def code_at(secret, when):
        return ftlib.totp(secret, when)

    def code(self, user):
        """The current code for user, with FRESH_MARGIN seconds left."""
        self.wait_fresh_step()
        return self.code_at(user.secret, time.time())

    def wrong_code(self, user):
        """A well-formed code matching no step near now (ftlib's rule)."""
        return ftlib.wrong_code(user.secret, time.time())

    # ---- logs ----

    def check_log(self, desc, since, service, user, reason):
        """Assert the module logged `reason` for user on service."""
        if not self.sink.active:
            return skip(desc, self.sink.why)
        rx = r"flowtotp: service=%s user=%s .*reason=%s\b" % (
            re.escape(service), re.escape(user), re.escape(reason))
        line = self.sink.wait_for(rx, since)
        if not tap.ok(line is not None, desc):
            tap.diag("module log lines since the attempt:")
            for ln in self.sink.lines(since):
                if "flowtotp:" in ln:
                    tap.diag("  " + ln.strip())
        return line is not None


class Sshd:
    """A private sshd on 127.0.0.1 whose PAM service is /etc/pam.d/<name>.

    sshd names its PAM service after its program name, so it is started by
    absolute path through a symlink TMP/<name> -> /usr/sbin/sshd."""

    BIN = "/usr/sbin/sshd"
    PRIVSEP_DIR = "/run/sshd"
    START_TRIES = 5
    START_WAIT = 10.0

    def __init__(self, env, name, pam_text, config_snippet, extra=""):
        self.env = env
        self.name = name
        self.pam_text = pam_text
        self.config_snippet = config_snippet
        self.extra = extra
        self.dir = env.path(name)
        os.mkdir(self.dir, 0o755)
        self.log = os.path.join(self.dir, "sshd.log")
        self.cfg = os.path.join(self.dir, "sshd_config")
        self.port = None
        self.proc = None

    @classmethod
    def prepare(cls, env):
        """Host key and privilege separation dir, once per test."""
        if not os.path.isdir(cls.PRIVSEP_DIR):
            os.mkdir(cls.PRIVSEP_DIR, 0o755)
            env.defer(os.rmdir, cls.PRIVSEP_DIR)
        env.hostkey = env.path("ssh_host_ed25519_key")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
             "flowtotp-e2e", "-f", env.hostkey])
        env.authkeys = env.path("authorized_keys")
        os.mkdir(env.authkeys, 0o755)
        env.sshd_extra = ""
        ver = run([cls.BIN, "-V"], check=False).stderr
        m = re.search(r"OpenSSH_(\d+)\.(\d+)", ver)
        if m and (int(m.group(1)), int(m.group(2))) >= (9, 8):
            # The suite fails logins from 127.0.0.1 on purpose; newer sshd
            # would start refusing the address (Debian 12 has 9.2).
            env.sshd_extra = "PerSourcePenalties no\n"

    def config_text(self):
        with open(os.path.join(CONTRIB, "sshd_config.d",
                               self.config_snippet)) as f:
            snippet = f.read()
        # sshd keeps the first value it reads for most keywords, the same
        # way /etc/ssh/sshd_config.d/*.conf wins over the main file.
        return snippet + """
# flowtotp e2e test settings
ListenAddress 127.0.0.1:%d
HostKey %s
PidFile %s/sshd.pid
AuthorizedKeysFile %s/%%u
StrictModes no
PermitRootLogin no
PubkeyAuthentication yes
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
LoginGraceTime 60
MaxAuthTries 10
LogLevel VERBOSE
%s%s""" % (self.port, self.env.hostkey, self.dir, self.env.authkeys,
            self.env.sshd_extra, self.extra)

    def start(self):
        link = os.path.join(self.dir, self.name)
        os.symlink(self.BIN, link)
        self.env.pam_service(self.name, self.pam_text)
        last = ""
        for _ in range(self.START_TRIES):
            self.port = free_port()
            with open(self.cfg, "w") as f:
                f.write(self.config_text())
            run([link, "-t", "-f", self.cfg])
            logf = open(self.log, "a")
            self.proc = subprocess.Popen(
                [link, "-D", "-f", self.cfg, "-E", self.log],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                close_fds=True)
            logf.close()
            self.env.defer(self.stop, self.proc)
            if self._wait_ready():
                return self
            self.stop(self.proc)
            last = self.log_text()
            if "Address already in use" not in last:
                break
        raise RuntimeError("sshd %s did not start:\n%s" % (self.name, last))

    def _wait_ready(self):
        end = time.monotonic() + self.START_WAIT
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=2) as s:
                    if s.recv(64).startswith(b"SSH-2.0-"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def add_key(self, user):
        """A new client key for user, authorized on this test's sshds."""
        key = self.env.path("id_%s" % user.name)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
             user.name, "-f", key])
        shutil.copy(key + ".pub", os.path.join(self.env.authkeys, user.name))
        return key

    def login(self, user, answers, key=None):
        """ssh user@127.0.0.1 'echo MARKER; id -un' through a pty."""
        import pexpect
        opts = ["-F", "/dev/null", "-p", str(self.port), "-T",
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR",
                "-o", "NumberOfPasswordPrompts=1",
                "-o", "ConnectTimeout=10",
                "-o", "GSSAPIAuthentication=no",
                "-o", "ControlMaster=no", "-o", "ControlPath=none"]
        if key:
            opts += ["-i", key, "-o", "IdentitiesOnly=yes",
                     "-o", "IdentityAgent=none",
                     "-o", "PubkeyAuthentication=yes",
                     "-o", "PreferredAuthentications="
                     "publickey,keyboard-interactive"]
        else:
            opts += ["-o", "PubkeyAuthentication=no",
                     "-o", "PreferredAuthentications=keyboard-interactive"]
        argv = opts + ["%s@127.0.0.1" % user.name,
                       "echo %s; id -un" % MARKER]
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C",
               "HOME": self.env.dir, "TERM": "dumb"}
        child = pexpect.spawn("/usr/bin/ssh", argv, env=env,
                              encoding="utf-8", codec_errors="replace",
                              timeout=PEXPECT_TIMEOUT)
        return drive(child, answers, LoginResult())
