"""totp-enroll doctor against prepared trees: a clean setup (no warning or
error, exit 0), the contrib/pam.d stacks as shipped, and broken setups, each
of which must be found with the right id and severity (exit 6 for warnings
only, 7 for errors).

The PAM services, sshd_config, clock answer and tmpfiles.d rule live in a
temp dir named by FT_TEST_DOCTOR_ROOT (a hook only cli/totp-enroll-test
has).  sshd's effective settings come from the real sshd -T run by the
doctor on that sshd_config; sshd -T wants /run/sshd, so the doctor runs in
a private mount namespace with its own /run (the machine's is untouched).
Root only (the doctor is; root also owns the prepared files)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import tap  # noqa: E402
sys.path.insert(0, os.path.join(clitest.TOP_SRCDIR, "tests/redis"))
import redislib  # noqa: E402

SSHD = "/usr/sbin/sshd"
EX_OK, EX_USAGE, EX_PERM, EX_WARN, EX_ERROR = 0, 2, 4, 6, 7
ORDINARY = "ftdocalice"     # only named in sshd -T -C, need not exist
NOBODY_UID = 65534

COMMON_AUTH = """# Debian's shape (pam-auth-update)
auth [success=1 default=ignore] pam_unix.so nullok
auth requisite pam_deny.so
auth required pam_permit.so
"""
PASSWORD_STACK = "@include common-auth\nauth required pam_flowtotp.so\n"
SSHD_CONFIG = ("UsePAM yes\nKbdInteractiveAuthentication yes\n"
               "PasswordAuthentication no\n")


class Tree:
    """A prepared machine: pam.d, sshd_config, clock, config, store,
    cache and tmpfiles rule, all clean until a case breaks one."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ft-doctor-")
        os.chmod(self.dir, 0o755)
        self.pamd = self.p("pam.d")
        os.mkdir(self.pamd, 0o755)
        self.store = self.p("store")
        self.cache = self.p("cache")
        os.mkdir(self.store, 0o700)
        os.mkdir(self.cache, 0o700)
        os.mkdir(self.p("tmpfiles.d"), 0o755)
        self.conf = self.p("flowtotp.conf")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                        "-f", self.p("hostkey")], check=True,
                       capture_output=True)
        self.write("pam.d/common-auth", COMMON_AUTH)
        self.write("pam.d/sshd", PASSWORD_STACK)
        self.write("pam.d/sudo", PASSWORD_STACK)
        self.write("pam.d/other", "auth required pam_deny.so\n")
        self.write("sshd_config", SSHD_CONFIG)
        self.write("clock", "NTP=yes\nNTPSynchronized=yes\n")
        self.write("ordinary_user", ORDINARY + "\n")
        self.write("tmpfiles.d/flowtotp.conf",
                   "d %s 0700 root root -\n" % self.cache)
        # The store key paths in the tree (none exists): the machine's
        # own key files, if any, play no part.
        self.write("flowtotp.conf", "secret = %s/%%u\ncache = %s/state.gdbm\n"
                   "store_key = %s/run.key\nstore_key_fallback = %s/etc.key\n"
                   "store_key_cred = %s/etc.key.cred\n"
                   % ((self.store, self.cache) + (self.dir,) * 3))

    def p(self, rel):
        return os.path.join(self.dir, rel)

    def write(self, rel, text, mode=0o644):
        path = self.p(rel)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def doctor(self, json_out=True, extra=()):
        """Run the doctor in its own mount namespace; (rc, parsed, out)."""
        env = dict(os.environ, FT_TEST_DOCTOR_ROOT=self.dir, LC_ALL="C")
        cmd = [clitest.CLI, "--config", self.conf, "doctor"] + list(extra)
        if json_out:
            cmd.append("--json")
        wrap = ["unshare", "-m", "sh", "-c",
                'mount -t tmpfs tmpfs /run && mkdir /run/sshd && '
                'exec "$0" "$@"'] + cmd
        r = subprocess.run(wrap, capture_output=True, text=True, env=env,
                           timeout=60)
        parsed = None
        if json_out:
            try:
                parsed = json.loads(r.stdout)
            except ValueError:
                tap.diag("not JSON: %r %r" % (r.stdout, r.stderr))
        return r.returncode, parsed, r.stdout + r.stderr

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def bad(findings):
    return [f for f in findings if f["severity"] != "info"]


def show(findings):
    for f in findings:
        tap.diag("%s %s %s:%s %s" % (f["severity"], f["id"], f["file"],
                                      f["line"], f["message"]))


def find(findings, fid):
    return [f for f in findings if f["id"] == fid]


# ---- broken setups: (name, how to break the tree, id, severity, check) ----

def pam_line(args, control="required"):
    def brk(t):
        t.write("pam.d/sshd", "@include common-auth\nauth %s pam_flowtotp.so"
                " %s\n" % (control, args))
    return brk


def stack(text, service="sshd"):
    def brk(t):
        t.write("pam.d/" + service, text)
    return brk


def sshd(text):
    def brk(t):
        base = SSHD_CONFIG
        if "KbdInteractive" in text:
            base = base.replace("KbdInteractiveAuthentication yes\n", "")
        t.write("sshd_config", base + text)
    return brk


def conf_mode(t):
    os.chmod(t.conf, 0o664)


def conf_owner(t):
    os.chown(t.conf, 1, 0)


def conf_typo(t):
    with open(t.conf, "a") as f:
        f.write("windwo = 2\n")


def store_name(t):
    t.write("store/NoSuchUserFtDoc", "x\n", 0o600)


def cache_mode(t):
    os.chmod(t.cache, 0o755)


def cache_missing(t):
    os.rmdir(t.cache)


def no_tmpfiles(t):
    os.unlink(t.p("tmpfiles.d/flowtotp.conf"))


def clock_no(t):
    t.write("clock", "NTP=no\nNTPSynchronized=no\n")


def pam_writable(t):
    os.chmod(t.p("pam.d/sudo"), 0o664)


def pam_symlink(t):
    # The target outside the tree has a typo; it must not be followed.
    outside = tempfile.mkdtemp(prefix="ft-doctor-out-")
    t.outside = outside
    target = os.path.join(outside, "sshd")
    with open(target, "w") as f:
        f.write("auth required pam_flowtotp.so windwo=2\n")
    os.unlink(t.p("pam.d/sshd"))
    os.symlink(target, t.p("pam.d/sshd"))


SPLIT_BAD_PW = ("auth required pam_flowtotp.so split\n"
                "auth required pam_unix.so use_first_pass\n"
                "auth required pam_flowtotp.so use_stashed\n")
KEY_STACK = "auth required pam_flowtotp.so\nauth required pam_permit.so\n"

CASES = [
    ("typo windwo=2", pam_line("windwo=2"), "pam-option", "error", 2),
    ("typo nullokk", pam_line("nullokk"), "pam-option", "error", 2),
    ("window out of range", pam_line("window=99"), "pam-option", "error", 2),
    ("sufficient", pam_line("", "sufficient"), "pam-sufficient", "error", 2),
    ("optional", pam_line("", "optional"), "pam-optional", "error", 2),
    ("required password line",
     stack("auth required pam_unix.so\nauth required pam_flowtotp.so\n"),
     "pam-password-continues", "error", 1),
    ("sufficient password line",
     stack("auth sufficient pam_unix.so\nauth required pam_flowtotp.so\n"),
     "pam-password-sufficient", "error", 1),
    ("split without use_stashed",
     stack("auth required pam_flowtotp.so split\n"
           "auth [success=ok default=die] pam_unix.so use_first_pass\n"),
     "pam-split-no-stashed", "error", 1),
    ("split with a required password line", stack(SPLIT_BAD_PW),
     "pam-split-password", "error", 2),
    ("use_stashed without split",
     stack("auth requisite pam_unix.so\n"
           "auth required pam_flowtotp.so use_stashed\n"),
     "pam-stashed-no-split", "error", 2),
    ("forward_pass alone", pam_line("forward_pass"), "pam-forward-pass",
     "error", 2),
    ("missing include", stack("@include common-authx\n"
                              "auth required pam_flowtotp.so\n"),
     "pam-include-missing", "error", 1),
    ("group-writable pam.d file", pam_writable, "pam-file-unsafe", "error",
     0),
    ("symlinked pam.d file", pam_symlink, "pam-file-unsafe", "error", 0),
    ("nullok", pam_line("nullok"), "pam-nullok", "warning", 2),
    ("secret= differs", pam_line("secret=/srv/other/%u"),
     "pam-secret-differs", "warning", 2),
    ("sudo code only", stack("auth required pam_flowtotp.so\n", "sudo"),
     "pam-code-only", "warning", 1),
    ("store name", store_name, "store-user-name", "warning", None),
    ("KbdInteractiveAuthentication no",
     sshd("KbdInteractiveAuthentication no\n"), "sshd-kbdint-off", "error",
     None),
    ("UsePAM no", lambda t: t.write("sshd_config", SSHD_CONFIG.replace(
        "UsePAM yes", "UsePAM no")), "sshd-usepam", "error", None),
    ("keyboard-interactive for all",
     sshd("AuthenticationMethods keyboard-interactive\n"),
     "sshd-authmethods-no-key", "warning", None),
    ("keyboard-interactive in a Match block",
     sshd("Match user %s\n  AuthenticationMethods keyboard-interactive\n"
          % ORDINARY), "sshd-authmethods-no-key", "warning", None),
    ("key stack with AuthenticationMethods any", stack(KEY_STACK),
     "sshd-key-skips-code", "warning", None),
    ("config mode 0664", conf_mode, "conf-mode", "error", None),
    ("config owner", conf_owner, "conf-owner", "error", None),
    ("config typo", conf_typo, "conf-parse", "error", None),
    ("cache mode 0755", cache_mode, "cache-unsafe", "error", None),
    ("cache missing", cache_missing, "cache-missing", "warning", None),
    ("no tmpfiles rule", no_tmpfiles, "cache-no-tmpfiles", "warning", None),
    ("clock not synchronised", clock_no, "clock-unsynced", "warning", None),
]


def run_case(name, brk, fid, sev, line):
    t = Tree()
    t.outside = None
    try:
        brk(t)
        rc, j, out = t.doctor()
        got = find(j["findings"], fid) if j else []
        tap.ok(len(got) > 0 and all(f["severity"] == sev for f in got),
               "%s: %s found as %s" % (name, fid, sev)) or show(
                   j["findings"] if j else [])
        if line:
            tap.ok(any(f["line"] == line for f in got),
                   "%s: at line %d" % (name, line)) or show(got)
        worst = EX_ERROR if any(f["severity"] == "error"
                                for f in j["findings"]) else EX_WARN
        tap.is_(rc, worst, "%s: exit status %d" % (name, worst))
        return j, got
    finally:
        if t.outside:
            shutil.rmtree(t.outside, ignore_errors=True)
        t.cleanup()


def test_cases():
    specific = {}
    for c in CASES:
        specific[c[0]] = run_case(*c)
    j, got = specific["typo windwo=2"]
    tap.ok(got and "windwo" in got[0]["message"],
           "the typo is named in the message")
    j, got = specific["config mode 0664"]
    tap.ok(got and "write" in got[0]["message"] and "write" in got[0]["fix"],
           "the mode finding says group/other write is what is refused")
    j, got = specific["keyboard-interactive in a Match block"]
    tap.ok(got and all(ORDINARY in f["file"] for f in got),
           "a Match block is seen for the ordinary user only")
    j, got = specific["symlinked pam.d file"]
    tap.ok(not find(j["findings"], "pam-option"),
           "a symlinked service file is not followed out of the tree")


def test_clean():
    t = Tree()
    try:
        rc, j, out = t.doctor()
        tap.is_(rc, EX_OK, "clean setup: exit 0")
        tap.ok(j is not None and bad(j["findings"]) == [],
               "clean setup: no warning or error") or show(
                   j["findings"] if j else [])
        used = find(j["findings"], "pam-services") if j else []
        tap.ok(used and "sshd, sudo" in used[0]["message"],
               "clean setup: the services using pam_flowtotp are listed")
        tap.ok(j is not None and find(j["findings"], "sudo-flowtotp") and
               find(j["findings"], "clock-synced"),
               "clean setup: sudo and the clock reported as information")
        tap.ok(j is not None and [f["severity"] for f in find(
            j["findings"], "store-key-none")] == ["info"],
               "clean setup: no store key is information")
        rc, _, out = t.doctor(json_out=False)
        tap.ok(rc == EX_OK and "0 error(s), 0 warning(s)" in out,
               "clean setup, text output: the verdict line")
        os.unlink(t.p("clock"))
        rc, j, out = t.doctor()
        tap.ok(rc == EX_OK and find(j["findings"], "clock-unknown") and
               find(j["findings"], "clock-unknown")[0]["severity"] == "info",
               "a clock that cannot be known is information (exit 0)")
    finally:
        t.cleanup()


def redis_tree(server, port=None, passfile=None):
    """A clean tree whose cache is the test's Redis server, through its
    unix socket (root's, in a root-owned directory); with port, over plain
    TCP (redis_tls=no)."""
    t = Tree()
    where = ("redis_host = 127.0.0.1\nredis_port = %d\nredis_tls = no\n" %
             port if port else "redis_socket = %s\n" % server.socket)
    t.write("flowtotp.conf",
            "secret = %s/%%u\ncache = redis\n%s"
            "redis_password_file = %s\nredis_timeout_ms = 2000\n"
            % (t.store, where, passfile or server.passfile))
    return t


def redis_case(server, desc, fid, sev, **kw):
    """Run the doctor on a Redis tree: the findings with id fid must all
    have severity sev (None: there must be none); the password never shows."""
    t = redis_tree(server, **kw)
    try:
        rc, j, out = t.doctor()
        findings = j["findings"] if j else []
        got = find(findings, fid)
        if sev is None:
            good = j is not None and not got
        else:
            good = len(got) > 0 and all(f["severity"] == sev for f in got)
        tap.ok(good, desc) or show(findings)
        tap.ok(server.password not in out,
               "%s: the password is not printed" % desc)
        return rc, findings
    finally:
        t.cleanup()


def test_redis():
    if not redislib.REDIS_SERVER:
        tap.diag("no redis-server: the Redis checks are not run")
        tap.ok(True, "# SKIP no redis-server")
        return
    with redislib.Server("doctor") as server:
        server.cmd("CONFIG", "SET", "maxmemory-policy", "noeviction")
        rc, f = redis_case(server, "noeviction: no redis-eviction warning",
                           "redis-eviction", None)
        tap.ok(rc == EX_OK and bad(f) == [] and find(f, "redis-reachable"),
               "Redis reachable with noeviction: clean, exit 0") or show(f)
        rc, f = redis_case(server, "redis_tls=no: warning redis-plaintext",
                           "redis-plaintext", "warning", port=server.port)
        tap.ok(rc == EX_WARN and find(f, "redis-reachable"),
               "plain TCP: reachable, but exit %d" % EX_WARN) or show(f)
        tap.ok([x["severity"] for x in find(f, "redis-no-persistence")]
               == ["info"], "save and appendonly off: information only")
        server.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        rc, f = redis_case(server, "allkeys-lru: warning redis-eviction",
                           "redis-eviction", "warning")
        tap.ok(rc == EX_WARN and any("allkeys-lru" in x["message"]
                                     for x in find(f, "redis-eviction")),
               "allkeys-lru: the policy is named, exit %d" % EX_WARN)
        wrong = os.path.join(server.dir, "wrong.pass")
        fd = os.open(wrong, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("not-the-password\n")
        rc, f = redis_case(server, "wrong password: error redis-auth",
                           "redis-auth", "error", passfile=wrong)
        tap.ok(not any("not-the-password" in x["message"] for x in f),
               "wrong password: the configured password is not printed")
        tap.ok(rc == EX_ERROR and not find(f, "redis-eviction"),
               "wrong password: exit %d, no settings read" % EX_ERROR)
        server.cmd("ACL", "SETUSER", "default", "-config")
        rc, f = redis_case(server, "CONFIG denied: redis-config-unknown",
                           "redis-config-unknown", "info")
        tap.ok(not find(f, "redis-eviction") and find(f, "redis-reachable"),
               "CONFIG denied: reachable, policy not guessed") or show(f)
        # The server killed: its port refuses connections.
        server.stop()
        rc, f = redis_case(server, "nothing listening: redis-unreachable",
                           "redis-unreachable", "error", port=server.port)
        tap.is_(rc, EX_ERROR, "nothing listening: exit %d" % EX_ERROR)


def test_redis_tls():
    """The doctor reaches a TLS-only server as the module does: the right
    CA is information, another CA an error naming the certificate."""
    if not redislib.REDIS_SERVER or not redislib.OPENSSL:
        tap.ok(True, "# SKIP no redis-server or openssl")
        return
    pkidir = tempfile.mkdtemp(prefix="ft-doctor-pki-")
    try:
        pki = redislib.Pki(pkidir)
        with redislib.Server("doctor-tls", tls=pki) as server:
            for ca, fid, sev, desc in (
                    (pki.ca, "redis-reachable", "info",
                     "TLS, right CA: redis-reachable"),
                    (pki.other_ca, "redis-unreachable", "error",
                     "TLS, another CA: redis-unreachable")):
                t = Tree()
                t.write("flowtotp.conf",
                        "secret = %s/%%u\ncache = redis\n"
                        "redis_host = 127.0.0.1\nredis_port = %d\n"
                        "redis_tls_ca = %s\nredis_password_file = %s\n"
                        "redis_timeout_ms = 2000\n"
                        % (t.store, server.port, ca, server.passfile))
                try:
                    _, j, out = t.doctor()
                finally:
                    t.cleanup()
                f = j["findings"] if j else []
                got = find(f, fid)
                tap.ok(got and all(x["severity"] == sev for x in got) and
                       not find(f, "redis-plaintext") and
                       server.password not in out, desc) or show(f)
                if fid == "redis-reachable":
                    tap.ok(any("TLS, certificate verified" in x["message"]
                               for x in got), "the finding says TLS")
                else:
                    tap.ok(any("certificate refused" in x["message"]
                               for x in got), "the finding names the "
                           "certificate") or show(f)
    finally:
        shutil.rmtree(pkidir, ignore_errors=True)


CONTRIB_SHAPES = [
    ("sshd-password", SSHD_CONFIG),
    ("sshd-forward-pass", SSHD_CONFIG),
    ("sshd-key", SSHD_CONFIG +
     "AuthenticationMethods publickey,keyboard-interactive\n"),
]


def test_contrib():
    """The stacks contrib/ ships pass as they are."""
    src = os.path.join(clitest.TOP_SRCDIR, "contrib", "pam.d")
    for name, cfg in CONTRIB_SHAPES:
        t = Tree()
        try:
            shutil.copyfile(os.path.join(src, name), t.p("pam.d/sshd"))
            for svc in ("sudo", "su", "login"):
                shutil.copyfile(os.path.join(src, svc), t.p("pam.d/" + svc))
            t.write("sshd_config", cfg)
            rc, j, out = t.doctor()
            tap.ok(rc == EX_OK and j and bad(j["findings"]) == [],
                   "contrib/pam.d/%s (with sudo, su, login): clean" % name) \
                or show(j["findings"] if j else [])
        finally:
            t.cleanup()


def test_usage():
    t = Tree()
    try:
        rc, _, out = t.doctor(json_out=False, extra=["extra"])
        tap.is_(rc, EX_USAGE, "an operand is a usage error")
        r = subprocess.run([clitest.CLI, "-o", "window=2", "doctor"],
                           capture_output=True, text=True, timeout=60)
        tap.is_(r.returncode, EX_USAGE, "--option with doctor: usage error")
        r = subprocess.run(
            ["setpriv", "--reuid=%d" % NOBODY_UID, "--regid=%d" % NOBODY_UID,
             "--clear-groups", clitest.CLI, "doctor"],
            capture_output=True, text=True, timeout=60)
        tap.is_(r.returncode, EX_PERM, "not root: permission denied")
    finally:
        t.cleanup()


def test_man_ids():
    """Every finding id the doctor has is documented in totp-enroll(1)."""
    man_path = os.path.join(clitest.TOP_SRCDIR, "man", "totp-enroll.1")
    with open(man_path) as f:
        man = f.read().replace("\\-", "-")
    ids = set()
    cli = os.path.join(clitest.TOP_SRCDIR, "cli")
    for name in sorted(os.listdir(cli)):
        if name.startswith("doctor_") and name.endswith(".c"):
            with open(os.path.join(cli, name)) as f:
                ids |= set(re.findall(
                    r'struct doc_kind \w+ = \{\s*"([a-z0-9-]+)"', f.read()))
    missing = sorted(i for i in ids if not re.search(
        r"(?<![a-z0-9-])%s(?![a-z0-9-])" % re.escape(i), man))
    tap.ok(len(ids) > 50 and not missing,
           "all %d finding ids are in totp-enroll(1)" % len(ids)) or \
        tap.diag("not documented: %s" % " ".join(missing))


def main():
    if not os.access(clitest.CLI, os.X_OK):
        tap.skip_all("cli/totp-enroll-test not built")
    if os.geteuid() != 0:
        tap.skip_all("the doctor is root only")
    for tool in (SSHD, shutil.which("unshare"), shutil.which("ssh-keygen"),
                 shutil.which("setpriv")):
        if tool is None or not os.access(tool, os.X_OK):
            tap.skip_all("needs sshd, ssh-keygen, unshare and setpriv")
    test_clean()
    test_cases()
    test_contrib()
    test_redis()
    test_redis_tls()
    test_usage()
    test_man_ids()
    tap.done_testing()


if __name__ == "__main__":
    main()
