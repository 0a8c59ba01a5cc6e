"""End to end through OpenSSH: private sshds on 127.0.0.1 with their own PAM
services (built from contrib/pam.d and contrib/sshd_config.d), the real ssh
client through a pseudo-terminal, the installed-style module on the real
clock, oathtool as the oracle."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import (PROMPT_BOTH, PROMPT_CODE, PROMPT_PASSWORD,  # noqa: E402
                    Env, Sshd, tap)


def denied(desc, res):
    if not tap.ok(res.denied, desc):
        tap.diag(repr(res))


def logged_in(desc, res, user):
    if not tap.ok(res.logged_in and res.whoami == user.name, desc):
        tap.diag(repr(res))


def sshd_says(desc, sshd, rx):
    import re
    if not tap.ok(re.search(rx, sshd.log_text()), desc):
        tap.diag("sshd log:\n" + sshd.log_text()[-3000:])


def password_and_code(env, pw, alice):
    svc = pw.name
    tap.diag("password + code (%s)" % svc)
    mark = env.sink.mark()
    res = pw.login(alice, {PROMPT_PASSWORD: [alice.password],
                           PROMPT_CODE: [env.wrong_code(alice)]})
    denied("right password, wrong code: denied", res)
    tap.is_(res.prompts, [PROMPT_PASSWORD, PROMPT_CODE],
            "asked for the password, then the code")
    env.check_log("logged bad_code", mark, svc, alice.name, "bad_code")

    code = env.code(alice)
    mark = env.sink.mark()
    res = pw.login(alice, {PROMPT_PASSWORD: [alice.password],
                           PROMPT_CODE: [code]})
    logged_in("right password, right code: logged in, command ran", res,
              alice)
    env.check_log("logged ok", mark, svc, alice.name, "ok")
    sshd_says("sshd accepted keyboard-interactive/pam", pw,
              r"Accepted keyboard-interactive/pam for %s " % alice.name)

    mark = env.sink.mark()
    res = pw.login(alice, {PROMPT_PASSWORD: [alice.password],
                           PROMPT_CODE: [code]})
    denied("the same code on a second connection: denied", res)
    env.check_log("logged replay", mark, svc, alice.name, "replay")

    backup = alice.backup_codes[0]
    mark = env.sink.mark()
    res = pw.login(alice, {PROMPT_PASSWORD: [alice.password],
                           PROMPT_CODE: [backup]})
    logged_in("a backup code logs in", res, alice)
    env.check_log("logged backup_used", mark, svc, alice.name,
                  "backup_used")
    st = env.status(alice)
    tap.is_(st.get("backup_codes_left"), len(alice.backup_codes) - 1,
            "the backup code is gone from the secret file")
    res = pw.login(alice, {PROMPT_PASSWORD: [alice.password],
                           PROMPT_CODE: [backup]})
    denied("the same backup code again: denied", res)


def lockout(env, pw, lock):
    svc = pw.name
    tap.diag("lockout (deny=3, unlock_time=0)")
    for i in range(3):
        res = pw.login(lock, {PROMPT_PASSWORD: [lock.password],
                              PROMPT_CODE: [env.wrong_code(lock)]})
        denied("wrong code %d of 3: denied" % (i + 1), res)
    st = env.status(lock)
    tap.ok(st.get("locked") is True, "totp-enroll status: locked")
    mark = env.sink.mark()
    res = pw.login(lock, {PROMPT_PASSWORD: [lock.password],
                          PROMPT_CODE: [env.code(lock)]})
    denied("locked out: the right code is denied", res)
    env.check_log("logged locked", mark, svc, lock.name, "locked")
    tap.is_(res.prompts, [PROMPT_PASSWORD, PROMPT_CODE],
            "locked out: still asked for the code like anyone else")

    out = env.totp_enroll("unlock", lock.name, check=False)
    tap.is_(out.returncode, 0, "totp-enroll unlock exits 0")
    tap.ok(env.status(lock).get("locked") is False,
           "totp-enroll status: no longer locked")
    res = pw.login(lock, {PROMPT_PASSWORD: [lock.password],
                          PROMPT_CODE: [env.code(lock)]})
    logged_in("after unlock: the right code logs in", res, lock)


def unenrolled(env, pw, nullok, nobody):
    tap.diag("a user without a secret")
    mark = env.sink.mark()
    res = pw.login(nobody, {PROMPT_PASSWORD: [nobody.password],
                            PROMPT_CODE: ["123456"]})
    denied("no secret, no nullok: denied", res)
    tap.is_(res.prompts, [PROMPT_PASSWORD, PROMPT_CODE],
            "no secret, no nullok: still prompted for a code")
    env.check_log("logged no_secret", mark, pw.name, nobody.name,
                  "no_secret")

    res = nullok.login(nobody, {PROMPT_PASSWORD: [nobody.password]})
    logged_in("no secret, nullok: the password alone logs in", res, nobody)
    tap.is_(res.prompts, [PROMPT_PASSWORD], "nullok: no code prompt")
    res = nullok.login(nobody, {PROMPT_PASSWORD: ["wrong-" + nobody.password]})
    denied("no secret, nullok: a wrong password is still denied", res)


def key_and_code(env, keyd, bob, key):
    tap.diag("key + code (%s, no pam_unix)" % keyd.name)
    res = keyd.login(bob, {PROMPT_CODE: [env.wrong_code(bob)]}, key=key)
    denied("key + wrong code: denied", res)
    code = env.code(bob)
    mark = env.sink.mark()
    res = keyd.login(bob, {PROMPT_CODE: [code]}, key=key)
    logged_in("key + right code: logged in", res, bob)
    tap.is_(res.prompts, [PROMPT_CODE], "key + code: no password prompt")
    env.check_log("logged ok", mark, keyd.name, bob.name, "ok")
    sshd_says("sshd: publickey accepted as a partial method", keyd,
              r"Partial publickey for %s " % bob.name)
    sshd_says("sshd: then keyboard-interactive/pam accepted", keyd,
              r"Accepted keyboard-interactive/pam for %s " % bob.name)
    res = keyd.login(bob, {PROMPT_CODE: [code]}, key=key)
    denied("key + replayed code: denied", res)
    res = keyd.login(bob, {PROMPT_PASSWORD: [bob.password],
                           PROMPT_CODE: [env.code(bob)]})
    denied("no key (code or password only): denied", res)
    tap.is_(res.prompts, [], "no key: nothing is asked")


def forward_pass(env, fwd, carol):
    tap.diag("forward_pass (%s): password and code in one answer" % fwd.name)
    res = fwd.login(carol, {PROMPT_BOTH: [carol.password +
                                          env.wrong_code(carol)]})
    denied("password + wrong code: denied", res)
    tap.is_(res.prompts, [PROMPT_BOTH], "one prompt for both")
    mark = env.sink.mark()
    res = fwd.login(carol, {PROMPT_BOTH: [carol.password + env.code(carol)]})
    logged_in("password + right code in one answer: logged in", res, carol)
    env.check_log("logged ok", mark, fwd.name, carol.name, "ok")
    res = fwd.login(carol, {PROMPT_BOTH: ["not-" + carol.password +
                                          carol.backup_codes[0]]})
    denied("wrong password + valid backup code: denied by pam_unix", res)
    res = fwd.login(carol, {PROMPT_BOTH: [carol.password +
                                          carol.backup_codes[1]]})
    logged_in("password + backup code in one answer: logged in", res, carol)


def main():
    e2elib.require_root()
    e2elib.require_pexpect()
    e2elib.require_files(Sshd.BIN, "/usr/bin/ssh", e2elib.MODULE,
                         e2elib.ENROLL, e2elib.OATHTOOL)
    with Env("sshd") as env:
        env.write_conf("deny = 3\nunlock_time = 0\n")
        Sshd.prepare(env)
        alice = env.add_user("a")
        lock = env.add_user("l")
        nobody = env.add_user("n")
        bob = env.add_user("k")
        carol = env.add_user("f")
        for u in (alice, lock, bob, carol):
            env.enroll(u)

        pw = Sshd(env, env.name("sshd"),
                  env.pam_stack("sshd-password"),
                  "flowtotp-password.conf").start()
        nullok = Sshd(env, env.name("sshd") + "-nullok",
                      env.pam_stack("sshd-password", "nullok"),
                      "flowtotp-password.conf").start()
        keyd = Sshd(env, env.name("sshd") + "-key",
                    env.pam_stack("sshd-key"), "flowtotp-key.conf").start()
        fwd = Sshd(env, env.name("sshd") + "-fwd",
                   env.pam_stack("sshd-forward-pass"),
                   "flowtotp-password.conf").start()
        tap.ok(True, "four private sshds listening (ports %d %d %d %d)" % (
            pw.port, nullok.port, keyd.port, fwd.port))
        key = keyd.add_key(bob)

        password_and_code(env, pw, alice)
        lockout(env, pw, lock)
        unenrolled(env, pw, nullok, nobody)
        key_and_code(env, keyd, bob, key)
        forward_pass(env, fwd, carol)
    tap.done_testing()


main()
