"""End to end with secrets encrypted at rest: the installed-style
totp-enroll makes a store key (key init --plain, paths in the test's
config) and enrols a user sealed (encrypt=auto), and a private sshd with
the contrib sshd-password stack logs them in through the installed-style
module on the real clock.  Without the key the login is denied
(unsafe_file, store_key_missing); after key rotate the rotated file opens
again."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import PROMPT_CODE, PROMPT_PASSWORD, Env, Sshd, tap  # noqa: E402


def read(path):
    with open(path) as f:
        return f.read()


def main():
    e2elib.require_root()
    e2elib.require_pexpect()
    e2elib.require_files(Sshd.BIN, "/usr/bin/ssh", e2elib.MODULE,
                         e2elib.ENROLL, e2elib.OATHTOOL)
    with Env("sealed") as env:
        Sshd.prepare(env)
        keydir = env.path("keys")
        os.mkdir(keydir, 0o700)
        key = os.path.join(keydir, "store.key")
        env.write_conf("store_key = %s\nstore_key_fallback = %s\n"
                       "store_key_cred = %s\n" % (
                           os.path.join(keydir, "unsealed.key"), key,
                           os.path.join(keydir, "store.key.cred")))
        res = env.totp_enroll("key", "init", "--plain", check=False)
        tap.is_(res.returncode, 0, "totp-enroll key init --plain")
        alice = env.add_user("s")
        env.enroll(alice)
        text = read(os.path.join(env.store, alice.name))
        tap.ok("secret_enc = " in text and alice.secret not in text,
               "the enrolment is sealed (no plain secret in the file)")
        sshd = Sshd(env, env.name("sshd"), env.pam_stack("sshd-password"),
                    "flowtotp-password.conf").start()

        mark = env.sink.mark()
        res = sshd.login(alice, {PROMPT_PASSWORD: [alice.password],
                                 PROMPT_CODE: [env.code(alice)]})
        if not tap.ok(res.logged_in and res.whoami == alice.name,
                      "password + code: logged in with the sealed secret"):
            tap.diag(repr(res))
        env.check_log("logged ok", mark, sshd.name, alice.name, "ok")

        os.rename(key, key + ".away")
        mark = env.sink.mark()
        res = sshd.login(alice, {PROMPT_PASSWORD: [alice.password],
                                 PROMPT_CODE: [alice.backup_codes[0]]})
        tap.ok(res.denied, "without the store key: denied")
        if env.check_log("logged unsafe_file", mark, sshd.name, alice.name,
                         "unsafe_file"):
            tap.ok(any("store_key_missing" in ln
                       for ln in env.sink.lines(mark)),
                   "detail: store_key_missing")
        os.rename(key + ".away", key)

        res = env.totp_enroll("key", "rotate", check=False)
        tap.is_(res.returncode, 0, "totp-enroll key rotate")
        mark = env.sink.mark()
        res = sshd.login(alice, {PROMPT_PASSWORD: [alice.password],
                                 PROMPT_CODE: [alice.backup_codes[0]]})
        if not tap.ok(res.logged_in, "after the rotation the file opens "
                      "(a backup code logs in)"):
            tap.diag(repr(res))
        env.check_log("logged backup_used", mark, sshd.name, alice.name,
                      "backup_used")
    tap.done_testing()


main()
