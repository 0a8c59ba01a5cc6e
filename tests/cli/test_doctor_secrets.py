#!/usr/bin/env python3
"""totp-enroll doctor, the checks of the newer features, on the prepared
trees of test_doctor.py with real users (useradd; removed in a finally
block), real files made by the real CLI (enrol, key init, encrypt-store,
key rotate killed by the test build's FT_TEST_KEY_KILL_AFTER) and a real
command in a root-owned directory; root only.  Each finding is asserted
with its severity and the exit status:

 - secrets at rest: no store key (store-key-none, info), encrypt=yes
   without one (store-key-required, warning), plain files beside a key
   (store-key-plain-files, warning), all sealed (store-key-sealed, info,
   exit 0), the key file unsafe (store-key-unsafe) or missing
   (store-key-missing) with sealed files, files sealed with a key the key
   file lacks (store-key-unknown): errors; only the sealed copy, not
   unsealed (store-key-not-unsealed), a rotation killed half-way
   (store-key-rotation), the plain fallback in use while the sealed copy
   exists (store-key-fallback), the unsealed key without a sealed copy
   (store-key-no-sealed-copy; its fix, run as printed, seals a copy that
   makes the tree clean), a file that cannot be read
   (store-file-unreadable): warnings;
 - deliver=: a usable setup (deliver-ok, info, exit 0); a group-writable
   command (deliver-command-unsafe), an unknown or root deliver_user
   (deliver-user), the key missing or unsafe while a user has an address
   (deliver-key): errors; users with an address and no deliver=
   (deliver-unset): a warning."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import tap  # noqa: E402
import test_doctor as td  # noqa: E402

TAG = "dsec%d" % os.getpid()
ADDR = "dsec@example.org"


def user(n):
    return ("ft%s%s" % (TAG, n))[:31]


class SecTree(td.Tree):
    """A clean tree whose store key and delivery key paths are its own."""

    def __init__(self, env):
        super().__init__()
        self.env = env
        os.mkdir(self.p("run"), 0o700)
        os.mkdir(self.p("etc"), 0o755)
        self.key = self.p("run/store.key")
        self.plain_key = self.p("etc/store.key")
        self.cred = self.p("etc/store.key.cred")
        self.dkey = self.p("deliver.key")
        self.configure()

    def configure(self, extra=""):
        self.write("flowtotp.conf",
                   "secret = %s/%%u\ncache = %s/state.gdbm\n"
                   "store_key = %s\nstore_key_fallback = %s\n"
                   "store_key_cred = %s\ndeliver_key = %s\n%s"
                   % (self.store, self.cache, self.key, self.plain_key,
                      self.cred, self.dkey, extra))

    def fake_cred(self):
        """A file where the sealed copy goes: the doctor, like key status,
        only asks whether it exists (test_crypt.py tests real ones)."""
        with open(self.cred, "w") as f:
            f.write("a sealed copy stands here\n")
        os.chmod(self.cred, 0o600)

    def cli(self, args, **env):
        r = self.env.run(args, opts=["--config", self.conf],
                         env=self.env.env(**env) if env else None)
        if r.returncode not in (0, -signal.SIGKILL):
            tap.diag("%s: %d %s" % (" ".join(args), r.returncode, r.stderr))
        return r

    def enrol(self, name):
        return self.cli(["--user", name, "--no-confirm", "--qr=none"])


def expect(t, fid, sev, desc, exit_status=None):
    """The doctor finds fid, every time as sev; exit_status: what the
    doctor must exit with (default: what the worst finding says)."""
    rc, j, out = t.doctor()
    f = j["findings"] if j else []
    got = td.find(f, fid)
    tap.ok(got and all(x["severity"] == sev for x in got),
           "%s: %s as %s" % (desc, fid, sev)) or td.show(f)
    if exit_status is None:
        exit_status = td.EX_ERROR if any(
            x["severity"] == "error" for x in f) else (
                td.EX_WARN if td.bad(f) else td.EX_OK)
    tap.is_(rc, exit_status, "%s: exit %d" % (desc, exit_status))
    return got, f


def storekey(env):
    t = SecTree(env)
    try:
        a, b = user("a"), user("b")
        tap.ok(t.enrol(a).returncode == 0, "a plain enrolment")
        got, f = expect(t, "store-key-none", "info", "no store key",
                        td.EX_OK)
        tap.ok(got and "1 plain file" in got[0]["message"],
               "no store key: the plain files counted")
        t.fake_cred()
        expect(t, "store-key-not-unsealed", "warning", "a sealed copy only",
               td.EX_WARN)
        os.unlink(t.cred)
        t.configure("encrypt = yes\n")
        expect(t, "store-key-required", "warning", "encrypt=yes, no key",
               td.EX_WARN)
        t.configure()
        tap.ok(t.cli(["key", "init", "--plain"]).returncode == 0,
               "key init --plain")
        got, f = expect(t, "store-key-plain-files", "warning",
                        "a key and a plain file", td.EX_WARN)
        tap.ok(got and "encrypt-store" in got[0]["fix"],
               "plain files: the fix is key encrypt-store")
        tap.ok(t.cli(["key", "encrypt-store"]).returncode == 0 and
               t.enrol(b).returncode == 0, "encrypt-store, a sealed enrolment")
        got, f = expect(t, "store-key-sealed", "info", "all sealed",
                        td.EX_OK)
        tap.ok(got and "2 file(s) sealed" in got[0]["message"] and
               not td.bad(f), "all sealed: both files, nothing else")
        broken_keys(t)
        key_places(t)
        rotation(t)
        t.write("store/" + a, "version = 1\nsecret = !!\n", 0o600)
        expect(t, "store-file-unreadable", "warning", "a malformed file")
    finally:
        t.cleanup()


def broken_keys(t):
    """Sealed files whose key cannot be had: errors."""
    os.chmod(t.plain_key, 0o644)
    got, f = expect(t, "store-key-unsafe", "error", "key file mode 0644",
                    td.EX_ERROR)
    tap.ok(got and got[0]["file"] == t.plain_key,
           "unsafe key: the fallback file is named")
    os.chmod(t.plain_key, 0o600)
    aside = t.p("etc/old.key")
    os.rename(t.plain_key, aside)
    got, f = expect(t, "store-key-missing", "error", "key file gone",
                    td.EX_ERROR)
    tap.ok(got and "2 sealed file(s)" in got[0]["message"],
           "key file gone: the sealed files counted")
    tap.ok(t.cli(["key", "init", "--plain"]).returncode == 0,
           "another key made in its place")
    expect(t, "store-key-unknown", "error", "files name a key id the key "
           "file lacks", td.EX_ERROR)
    os.rename(aside, t.plain_key)


def key_places(t):
    """Where the key in use lives, against its sealed copy."""
    t.fake_cred()
    got, f = expect(t, "store-key-fallback", "warning",
                    "plain key in use, sealed copy present", td.EX_WARN)
    tap.ok(got and got[0]["file"] == t.plain_key,
           "plain key in use: the file is named")
    os.unlink(t.cred)
    shutil.copy2(t.plain_key, t.key)
    got, f = expect(t, "store-key-no-sealed-copy", "warning",
                    "unsealed key without a sealed copy", td.EX_WARN)
    if shutil.which("systemd-creds") is None:
        tap.ok(True, "# SKIP no systemd-creds to follow the fix")
    else:
        # The fix as printed, with the tree's paths in place.
        fix = got[0]["fix"] if got else ""
        argv = fix[fix.index("systemd-creds"):fix.index(" (root")].replace(
            "STORE_KEY_CRED", t.cred).replace("STORE_KEY", t.key).split()
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        os.chmod(t.cred, 0o600)
        rc, j, out = t.doctor()
        st = t.cli(["key", "status"]).stdout
        tap.ok(r.returncode == 0 and rc == td.EX_OK and
               not td.find(j["findings"], "store-key-no-sealed-copy") and
               "store.key.cred: present" in st,
               "the printed fix makes the sealed copy: clean again") or \
            tap.diag("%s: %s %s" % (argv, r.stderr, out))
        os.unlink(t.cred)
    os.unlink(t.key)


def rotation(t):
    """A rotation killed after its first write (the new key): both keys
    in the file, the files still under the old one."""
    r = t.cli(["key", "rotate"], FT_TEST_KEY_KILL_AFTER="1")
    tap.is_(r.returncode, -signal.SIGKILL, "key rotate killed after the "
            "new key")
    got, f = expect(t, "store-key-rotation", "warning",
                    "rotation unfinished", td.EX_WARN)
    tap.ok(got and "key rotate" in got[0]["fix"] and
           not td.find(f, "store-key-unknown"),
           "rotation unfinished: the fix is key rotate; no file is lost")
    tap.ok(t.cli(["key", "rotate"]).returncode == 0, "the rotation finished")
    expect(t, "store-key-sealed", "info", "after the rotation", td.EX_OK)


def command_dir():
    """A root-owned directory nobody else may write, as ft_deliver_command_ok
    wants (/tmp would be refused), with one usable command."""
    d = tempfile.mkdtemp(prefix="ft-dsec-", dir="/var/lib")
    os.chmod(d, 0o755)
    cmd = os.path.join(d, "send")
    with open(cmd, "w") as f:
        f.write("#!/bin/sh\ncat >/dev/null\n")
    os.chmod(cmd, 0o755)
    return d, cmd


def deliver(env):
    t = SecTree(env)
    d, cmd = command_dir()
    try:
        t.configure("deliver = %s\n" % cmd)
        got, f = expect(t, "deliver-ok", "info", "deliver=, nobody with an "
                        "address, no key yet", td.EX_OK)
        tap.ok(not td.find(f, "deliver-key"),
               "no address yet: the missing key is no finding")
        r = t.cli(["--user", user("d"), "--deliver", ADDR])
        tap.ok(r.returncode == 0 and os.path.exists(t.dkey),
               "a user enrolled for delivered codes")
        got, f = expect(t, "deliver-ok", "info", "a usable setup", td.EX_OK)
        tap.ok(got and "1 user(s)" in got[0]["message"],
               "usable setup: the user counted")
        os.chmod(cmd, 0o775)
        got, f = expect(t, "deliver-command-unsafe", "error",
                        "group-writable command", td.EX_ERROR)
        tap.ok(got and "writable" in got[0]["message"] and
               not td.find(f, "deliver-ok"),
               "group-writable command: the module's reason is given")
        os.chmod(cmd, 0o755)
        for who in ("ftdsecnosuchuser", "root"):
            t.configure("deliver = %s\ndeliver_user = %s\n" % (cmd, who))
            expect(t, "deliver-user", "error", "deliver_user=%s" % who,
                   td.EX_ERROR)
        t.configure("deliver = %s\n" % cmd)
        os.chmod(t.dkey, 0o640)
        expect(t, "deliver-key", "error", "delivery key mode 0640",
               td.EX_ERROR)
        os.unlink(t.dkey)
        got, f = expect(t, "deliver-key", "error", "delivery key missing",
                        td.EX_ERROR)
        tap.ok(got and user("d") in got[0]["message"],
               "key missing: a user with an address is named")
        t.configure()
        got, f = expect(t, "deliver-unset", "warning",
                        "an address and no deliver=", td.EX_WARN)
        tap.ok(got and "1 of them without an app" in got[0]["message"],
               "no deliver=: the users without an app counted")
    finally:
        shutil.rmtree(d, ignore_errors=True)
        t.cleanup()


def main():
    if not os.access(clitest.CLI, os.X_OK):
        tap.skip_all("cli/totp-enroll-test not built")
    if os.geteuid() != 0:
        tap.skip_all("the doctor is root only")
    for tool in (td.SSHD, shutil.which("unshare"), shutil.which("ssh-keygen")):
        if tool is None or not os.access(tool, os.X_OK):
            tap.skip_all("needs sshd, ssh-keygen and unshare")
    env = clitest.Env("docsec")
    try:
        for n in ("a", "b", "d"):
            env.add_user(user(n))
        storekey(env)
        deliver(env)
    finally:
        env.cleanup()
    tap.done_testing()


main()
