#!/usr/bin/env python3
"""Secrets at rest (flowtotp(5) version 2) through the real PAM stack
(tests/pam/ft-pam-login and the test module) and totp-enroll-test, with
oathtool as the code oracle:
  - key init --plain, encrypt-store, and logins with the sealed secret;
  - new enrolments sealed when a key exists (encrypt=auto), plain with
    encrypt=no, refused with encrypt=yes and no key;
  - every broken case denies with reason=unsafe_file and its own detail:
    store key missing, wrong key, unknown key id, a flipped bit, a
    truncated file, a file copied to another user's name, a sealed file in
    a home;
  - equal work: a sealed, a plain, an unenrolled and an unknown user's
    wrong answer each read the key file once and do one AES-GCM open
    (counted by the test module's work log, not timed);
  - rename OLD NEW after usermod -l: the new name logs in, the old fails;
  - key init --sealed with systemd-creds (the host key; a TPM cannot be
    tested here), unsealed again the way flowtotp-key.service does it.
Root only (temp users, root-owned store)."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, PERIOD, tap  # noqa: E402

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"   # RFC 4226 key
OTHER_KEY = "k" + "0" * 8 + " " + "11" * 32 + "\n"


class CryptEnv(clitest.Env):
    """An Env whose store key paths are in its temp dir too."""

    def __init__(self, tag):
        super().__init__(tag)
        self.run_dir = os.path.join(self.dir, "run")
        self.etc_dir = os.path.join(self.dir, "etc")
        os.mkdir(self.run_dir, 0o700)
        os.mkdir(self.etc_dir, 0o755)
        self.key = os.path.join(self.run_dir, "store.key")
        self.plain_key = os.path.join(self.etc_dir, "store.key")
        self.cred = os.path.join(self.etc_dir, "store.key.cred")
        self.keyopts = ["store_key=" + self.key,
                        "store_key_fallback=" + self.plain_key,
                        "store_key_cred=" + self.cred]
        for o in self.keyopts:
            self.opts += ["-o", o]
        self.service("ftcrypt", ["secret=" + self.secret_tpl,
                                 "cache=" + self.cache] + self.keyopts)
        self.t = T0

    def next_time(self):
        """A fresh time step per login: no code is a replay."""
        self.t += 4 * PERIOD
        return self.t

    def code_login(self, user, secret=SECRET):
        t = self.next_time()
        return self.login(user, clitest.totp(secret, t), t, "ftcrypt")

    def last_log(self):
        lines = [l for l in self.log_lines() if "reason=" in l]
        return lines[-1] if lines else ""

    def write_plain(self, user, secret=SECRET):
        p = self.path(user)
        with open(p, "w") as f:
            f.write("version = 1\nsecret = %s\nalgorithm = SHA1\n"
                    "digits = 6\nperiod = 30\ncreated = 1700000000\n"
                    % secret)
        os.chmod(p, 0o600)
        return p


def work_of(env, user):
    """The key-file reads and AES-GCM opens of one wrong answer."""
    wlog = os.path.join(env.dir, "worklog")
    if os.path.exists(wlog):
        os.unlink(wlog)
    t = env.next_time()
    e = env.env(t, FLOWTOTP_TEST_WORKLOG=wlog)
    subprocess.run([clitest.PAM_LOGIN, "ftcrypt", user, env.confdir],
                   input=clitest.wrong_code(SECRET, t) + "\n",
                   capture_output=True, text=True, env=e, timeout=60)
    lines = read(wlog).split() if os.path.exists(wlog) else []
    return lines.count("keyfile"), lines.count("aead")


def equal_work(env, sealed, plain, unenrolled):
    """Who has a sealed secret does not show in the work a login does."""
    want = work_of(env, sealed)
    tap.ok(want == (1, 1), "a sealed secret: one key file read, one "
           "AES-GCM open (%s)" % (want,))
    for kind, user in (("plain", plain), ("unenrolled", unenrolled),
                       ("unknown", "ftcrnosuchuser")):
        got = work_of(env, user)
        tap.ok(got == want, "%s user: the same work (%s)" % (kind, got))


def read(path):
    with open(path) as f:
        return f.read()


def replace_file(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)


def denied_with(env, user, detail, desc, secret=SECRET):
    good = env.code_login(user, secret)
    line = env.last_log()
    tap.ok(not good and "reason=unsafe_file" in line and
           ('detail="' + detail) in line, desc)
    if good or ('detail="' + detail) not in line:
        tap.diag("log: " + line)


def plain_then_encrypted(env, a):
    env.write_plain(a)
    r = env.run(["key", "init", "--plain"])
    tap.ok(r.returncode == 0 and os.path.exists(env.plain_key) and
           (os.stat(env.plain_key).st_mode & 0o777) == 0o600,
           "key init --plain writes a root 0600 key file")
    r = env.run(["key", "init", "--plain"])
    tap.ok(r.returncode == clitest.EX_EXISTS, "a second key init refused")
    r = env.run(["key", "status"])
    tap.ok(r.returncode == 0 and "plain: 1 file(s)" in r.stdout,
           "key status counts the plain file")
    tap.ok(env.code_login(a), "a plain file logs in with a key present")
    r = env.run(["key", "encrypt-store"])
    text = read(env.path(a))
    tap.ok(r.returncode == 0 and "secret_enc = " in text and
           "version = 2" in text and SECRET not in text and
           "\nsecret =" not in text,
           "encrypt-store seals it: no plain secret left in the file")
    r = env.run(["key", "status"])
    tap.ok("(current): 1 file(s)" in r.stdout and "plain: 0" in r.stdout,
           "key status counts it under the current key")
    tap.ok(env.code_login(a), "the sealed secret logs in (oathtool code)")
    r = env.run(["backup-codes", "--user", a])
    codes = clitest.CODE_RE.findall(r.stdout)
    text = read(env.path(a))
    tap.ok(r.returncode == 0 and codes and "secret_enc = " in text and
           text.count("backup = ") == len(codes),
           "new backup codes keep the secret sealed")
    t = env.next_time()
    tap.ok(env.login(a, codes[0], t, "ftcrypt") and
           "secret_enc = " in read(env.path(a)) and env.code_login(a),
           "a backup code logs in and its strike-out keeps the file sealed")


def enrol_sealed(env, c):
    r = env.run(["enroll", "--user", c, "--no-confirm", "--qr", "none"])
    secret, _, _ = clitest.parse_enrol(r.stdout)
    text = read(env.path(c))
    tap.ok(r.returncode == 0 and secret and "secret_enc = " in text and
           secret not in text, "a new enrolment is sealed (encrypt=auto)")
    tap.ok(env.code_login(c, secret), "and logs in")
    r = env.run(["enroll", "--user", c, "--no-confirm", "--qr", "none",
                 "--force"], opts=env.opts + ["-o", "encrypt=no"])
    secret, _, _ = clitest.parse_enrol(r.stdout)
    tap.ok(r.returncode == 0 and "\nsecret = " in read(env.path(c)),
           "encrypt=no writes a plain version 1 file")
    tap.ok(env.code_login(c, secret), "which logs in")
    # A user without an app has no key to seal: enrolment for delivery
    # alone still works with a store key, as a plain version 2 file.
    r = env.run(["enroll", "--user", c, "--force", "--deliver",
                 "crypt@example.org"])
    text = read(env.path(c))
    tap.ok(r.returncode == 0 and "deliver = crypt@example.org" in text and
           "secret_enc" not in text and "\nsecret = " not in text,
           "--deliver with a store key: a file with the address only (%s)"
           % r.stderr.strip())


def broken_cases(env, a, b):
    good = read(env.path(a))
    keytext = read(env.plain_key)
    os.rename(env.plain_key, env.plain_key + ".away")
    denied_with(env, a, "store_key_missing", "no key file: store_key_missing")
    os.rename(env.plain_key + ".away", env.plain_key)
    kid = keytext.strip().splitlines()[-1].split()[0]
    replace_file(env.plain_key, kid + " " + "22" * 32 + "\n")
    denied_with(env, a, "decrypt_failed", "wrong key, same id: "
                "decrypt_failed")
    replace_file(env.plain_key, OTHER_KEY)
    denied_with(env, a, "key_unknown", "unknown key id: key_unknown")
    replace_file(env.plain_key, keytext)
    tap.ok(env.code_login(a), "the right key logs in again")
    i = good.index("secret_enc = ") + len("secret_enc = ") + 30
    flipped = good[:i] + ("1" if good[i] == "0" else "0") + good[i + 1:]
    replace_file(env.path(a), flipped)
    denied_with(env, a, "decrypt_failed", "one flipped hex digit: "
                "decrypt_failed")
    replace_file(env.path(a), good[:good.index("secret_enc = ") + 30])
    denied_with(env, a, "/", "truncated file: unsafe_file")
    tap.ok("truncated" in env.last_log() or "missing" in env.last_log(),
           "the detail says it is cut short")
    replace_file(env.path(a), good[:good.index("secret_enc = ") + 20] +
                 "\n" + good[good.index("algorithm"):])
    denied_with(env, a, "/", "secret_enc cut inside the line")
    tap.ok("truncated" in env.last_log(), "detail: truncated")
    replace_file(env.path(a), good)
    replace_file(env.path(b), good)
    denied_with(env, b, "decrypt_failed",
                "a file copied to another user's name: decrypt_failed")
    os.unlink(env.path(b))
    os.chmod(env.plain_key, 0o644)
    denied_with(env, a, "store_key_unsafe", "a readable key file: "
                "store_key_unsafe")
    os.chmod(env.plain_key, 0o600)
    hostile_key_files(env, a, keytext)
    tap.ok(env.code_login(a), "restored: logs in")


def hostile_key_files(env, a, keytext):
    """A symlink, a second hard link, another owner, an oversized file."""
    real = os.path.join(env.dir, "real.key")
    os.rename(env.plain_key, real)
    os.symlink(real, env.plain_key)
    denied_with(env, a, "store_key_unsafe", "a symlinked key file: "
                "store_key_unsafe")
    os.unlink(env.plain_key)
    os.link(real, env.plain_key)
    denied_with(env, a, "store_key_unsafe", "a key file with a second hard "
                "link: store_key_unsafe")
    os.unlink(real)
    os.chown(env.plain_key, 1, 1)
    denied_with(env, a, "store_key_unsafe", "a key file not root's: "
                "store_key_unsafe")
    os.chown(env.plain_key, 0, 0)
    replace_file(env.plain_key, keytext + "#" * 5000 + "\n")
    denied_with(env, a, "store_key_unsafe", "an oversized key file: "
                "store_key_unsafe")
    replace_file(env.plain_key, keytext)


def encrypt_yes_without_key(env, c):
    os.rename(env.plain_key, env.plain_key + ".away")
    r = env.run(["enroll", "--user", c, "--no-confirm", "--qr", "none",
                 "--force"], opts=env.opts + ["-o", "encrypt=yes"])
    tap.ok(r.returncode != 0 and "no store key" in r.stderr,
           "encrypt=yes without a key: refused")
    os.rename(env.plain_key + ".away", env.plain_key)


def sealed_in_home(env, pw):
    home_tpl = "~/.flowtotp-crypt"
    path = os.path.join(pw.pw_dir, ".flowtotp-crypt")
    shutil.copy(env.path(pw.pw_name), path)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o600)
    env.service("fthomecrypt", ["secret=" + home_tpl,
                                "cache=" + env.cache] + env.keyopts)
    t = env.next_time()
    good = env.login(pw.pw_name, clitest.totp(SECRET, t), t, "fthomecrypt")
    tap.ok(not good and 'detail="sealed_in_home' in env.last_log(),
           "a sealed file in a home: sealed_in_home")


def rename(env, old):
    new = old + "n"
    before = read(env.path(old))
    r = env.run(["rename", old, new])
    tap.ok(r.returncode != 0 and read(env.path(old)) == before,
           "rename refused before usermod -l (no user NEW)")
    subprocess.run(["usermod", "-l", new, old], check=True)
    subprocess.run(["groupmod", "-n", new, old], check=True)  # for cleanup
    env.users[env.users.index(old)] = new
    r = env.run(["rename", old, new])
    tap.ok(r.returncode == 0 and not os.path.exists(env.path(old)) and
           "secret_enc" in read(env.path(new)),
           "rename OLD NEW moves the sealed file")
    tap.ok(env.code_login(new), "the new name logs in")
    tap.ok(not env.code_login(old), "the old name does not")
    r = env.run(["rename", old, new])
    tap.ok(r.returncode == clitest.EX_EXISTS, "a second rename refused")


def creds_work():
    if not shutil.which("systemd-creds"):
        return "systemd-creds not installed"
    r = subprocess.run(["systemd-creds", "encrypt", "--name=ftprobe", "-",
                        "-"], input=b"x", capture_output=True)
    if r.returncode != 0:
        return "systemd-creds encrypt fails here: %s" % r.stderr[:200]
    return None


def unit_decrypt(env):
    """What flowtotp-key.service runs (with its UMask=0077)."""
    return subprocess.run(["systemd-creds", "decrypt",
                           "--name=flowtotp-store-key", env.cred, env.key],
                          capture_output=True,
                          preexec_fn=lambda: os.umask(0o077))


def sealed_mode(a):
    """key init --sealed, then the unit's decrypt after a 'reboot'."""
    env = CryptEnv("crypts")
    try:
        env.users = []
        pw = env.add_user(a)
        env.write_plain(pw.pw_name)
        r = env.run(["key", "init", "--sealed"])
        tap.ok(r.returncode == 0 and os.path.exists(env.cred) and
               os.path.exists(env.key) and not os.path.exists(env.plain_key),
               "key init --sealed: credential and unsealed key (%s)" %
               r.stderr.strip())
        tap.ok(read(env.key).split("\n")[1].split()[1] not in
               open(env.cred, "rb").read().decode("latin-1"),
               "the credential does not hold the key in the clear")
        env.run(["key", "encrypt-store"])
        tap.ok(env.code_login(pw.pw_name), "sealed-key login")
        os.unlink(env.key)      # a reboot: /run is empty
        denied_with(env, pw.pw_name, "store_key_missing",
                    "before the unit ran: store_key_missing")
        r = unit_decrypt(env)
        tap.ok(r.returncode == 0, "the unit's systemd-creds decrypt")
        tap.ok(env.code_login(pw.pw_name), "and the login works again")
        r = env.run(["key", "rotate"])
        tap.ok(r.returncode == 0 and env.code_login(pw.pw_name),
               "rotate in sealed mode, still logs in")
        os.unlink(env.key)
        unit_decrypt(env)
        tap.ok(env.code_login(pw.pw_name),
               "the resealed credential holds the new key")
        os.unlink(env.key)
        r = env.run(["key", "rotate"])
        tap.ok(r.returncode == 0 and "Unsealed" in r.stdout and
               (os.stat(env.key).st_mode & 0o777) == 0o600 and
               env.code_login(pw.pw_name),
               "without the unit: key rotate unseals the credential itself")
    finally:
        env.cleanup()


def main():
    clitest.need_components(pam=True)
    if not clitest.is_root():
        tap.skip_all("needs root (temp users, a root-owned store)")
    env = CryptEnv("crypt")
    try:
        a = env.add_user(clitest.temp_user_name("cra")).pw_name
        b = env.add_user(clitest.temp_user_name("crb")).pw_name
        c = env.add_user(clitest.temp_user_name("crc")).pw_name
        plain_then_encrypted(env, a)
        enrol_sealed(env, c)
        broken_cases(env, a, b)
        encrypt_yes_without_key(env, c)
        equal_work(env, a, c, b)
        sealed_in_home(env, __import__("pwd").getpwnam(a))
        rename(env, a)
        r = env.run(["rename", c, b])
        tap.ok(r.returncode == clitest.EX_USAGE and
               "still in the user database" in r.stderr and
               not os.path.exists(env.path(b)),
               "rename between two existing accounts refused")
    finally:
        env.cleanup()
    why = creds_work()
    if why:
        tap.ok(True, "# SKIP systemd-creds sealed mode: " + why)
    else:
        sealed_mode(clitest.temp_user_name("crs"))
    tap.done_testing()


if __name__ == "__main__":
    main()
