"""Interactive enrolment through a pseudo-terminal (pexpect), then logins
through the PAM module with the enrolled secret.

Runs as any user: the caller enrols themselves into a private store in a
temp dir (-o secret=... -o cache=...).  Time is pinned with
FLOWTOTP_TEST_NOW in both the CLI and the module; oathtool computes the
codes."""
import json
import os
import signal
import sys

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, PERIOD, tap  # noqa: E402


def spawn(env, args, now=T0):
    return pexpect.spawn(clitest.CLI, env.opts + list(args),
                         env=env.env(now), encoding="utf-8",
                         timeout=30)


def finish(child):
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def start_enrol(env, args=(), now=T0):
    """Spawn an enrolment and read up to the code prompt; returns
    (child, secret, uri) or (child, None, None)."""
    child = spawn(env, ["--qr=none"] + list(args), now)
    try:
        child.expect(r"Secret for manual entry: ([A-Z2-7 ]+)\r\n")
        secret = child.match.group(1).replace(" ", "")
        child.expect(r"URI: (otpauth://\S+)\r\n")
        uri = child.match.group(1)
        child.expect("Enter the 6-digit code from the app to confirm: ")
    except (pexpect.EOF, pexpect.TIMEOUT):
        tap.diag("enrol output: %r" % child.before)
        return child, None, None
    return child, secret, uri


def enrol(env, args=(), now=T0):
    """A complete, confirmed enrolment; returns (rc, secret, codes)."""
    child, secret, _ = start_enrol(env, args, now)
    if secret is None:
        return -1, None, []
    child.sendline(clitest.totp(secret, now))
    rc, out = finish(child)
    return rc, secret, clitest.parse_enrol(out)[2]


def status(env, user, now=T0):
    r = env.run(["status", "--json", user], now=now)
    try:
        return json.loads(r.stdout)["users"][0]
    except (ValueError, KeyError, IndexError):
        tap.diag("status: %r %r" % (r.stdout, r.stderr))
        return {}


def test_enrol_and_login(env, user):
    path = env.path(user)
    child, secret, uri = start_enrol(env)
    tap.ok(secret is not None and len(secret) == 32,
           "enrol prints a 160-bit secret in base32")
    tap.ok(uri is not None and ("secret=" + (secret or "")) in uri,
           "the URI carries the same secret")
    tap.ok(clitest.file_state(path) is None,
           "nothing is written before the code is confirmed")
    child.sendline(clitest.totp(secret, T0))
    rc, out = finish(child)
    tap.is_(rc, 0, "a correct code from oathtool confirms the enrolment")
    tap.ok("Enrolled %s." % user in out, "says it enrolled the user")
    codes = clitest.parse_enrol(out)[2]
    tap.is_(len(codes), 10, "prints 10 backup codes")
    st = os.lstat(path)
    tap.is_(st.st_mode & 0o777, 0o600, "secret file is 0600")
    tap.is_(st.st_uid, os.getuid(), "owned by the caller")
    with open(path) as f:
        content = f.read()
    tap.ok(all(c not in content and c.replace("-", "") not in content
               for c in codes), "backup codes are not stored in clear")
    tap.is_(content.count("pbkdf2-sha256$"), 10, "10 backup code hashes")

    env.service()
    tap.ok(not env.login(user, clitest.totp(secret, T0), T0),
           "the confirmation code cannot be replayed for a login")
    tap.ok(env.login(user, clitest.totp(secret, T0 + PERIOD), T0 + PERIOD),
           "module accepts the next step's code")
    tap.ok(not env.login(user, clitest.totp(secret, T0 + PERIOD),
                         T0 + PERIOD), "the same code twice is refused")
    tap.ok(env.login(user, codes[0], T0 + 2 * PERIOD),
           "module accepts a printed backup code")
    tap.ok(not env.login(user, codes[0], T0 + 3 * PERIOD),
           "a backup code works once")
    tap.is_(status(env, user, T0 + 3 * PERIOD).get("backup_codes_left"), 9,
            "status counts 9 backup codes left")
    return secret


def test_force(env, user, secret):
    path = env.path(user)
    before = clitest.file_state(path)
    r = env.run(["--no-confirm"])
    tap.is_(r.returncode, clitest.EX_EXISTS,
            "enrolling again without --force is refused (exit 5)")
    tap.ok("--force" in r.stderr, "and the message names --force")
    tap.ok(clitest.file_state(path) == before, "the enrolment is unchanged")

    # --force, but the person types wrong codes: nothing changes.
    child, new, _ = start_enrol(env, ["--force"])
    bad = clitest.wrong_code(new or "A" * 32, T0)
    child.sendline(bad)
    child.expect("not right")
    child.sendline("12ab56")
    child.expect("not a code")
    child.sendline(bad)
    rc, out = finish(child)
    tap.is_(rc, clitest.EX_FAIL, "three wrong codes: exit 1")
    tap.ok("nothing was saved" in out, "says nothing was saved")
    tap.ok(clitest.file_state(path) == before,
           "wrong codes leave the old enrolment intact")

    # --force and Ctrl-C at the prompt.
    child, new, _ = start_enrol(env, ["--force"])
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    tap.ok(child.signalstatus == signal.SIGINT or child.exitstatus != 0,
           "Ctrl-C at the prompt ends the enrolment")
    tap.ok(clitest.file_state(path) == before,
           "Ctrl-C leaves the old enrolment intact")

    # End of input at the prompt.
    r = env.run(["--force", "--qr=none"], input="")
    tap.ok(r.returncode == clitest.EX_FAIL and "no code given" in r.stderr,
           "no code on stdin: exit 1, 'no code given'")
    tap.ok(clitest.file_state(path) == before,
           "end of input leaves the old enrolment intact")

    # Lock the user out, then a forced re-enrolment starts clean.
    now = T0 + 10 * PERIOD
    for i in range(3):
        env.login(user, clitest.wrong_code(secret, now), now)
    tap.ok(status(env, user, now).get("locked") is True,
           "three wrong logins lock the user")
    rc, new, _ = enrol(env, ["--force"], now)
    tap.is_(rc, 0, "--force with a correct code replaces the enrolment")
    tap.ok(new != secret, "with a new secret")
    st = status(env, user, now)
    tap.ok(st.get("locked") is False and st.get("failures") == 0,
           "a forced re-enrolment forgets the lockout state")
    t = now + PERIOD
    tap.ok(not env.login(user, clitest.totp(secret, t), t),
           "the old secret no longer logs in")
    tap.ok(env.login(user, clitest.totp(new, t), t),
           "the new secret logs in")
    return new


def test_fresh_wrong(env, user):
    os.unlink(env.path(user))
    child, secret, _ = start_enrol(env)
    for _ in range(3):
        child.sendline(clitest.wrong_code(secret, T0))
    rc, _ = finish(child)
    tap.is_(rc, clitest.EX_FAIL, "wrong confirmation codes: exit 1")
    tap.ok(clitest.file_state(env.path(user)) is None,
           "a wrong confirmation code saves nothing")
    tap.ok(os.listdir(env.store) == [], "and leaves no temp file behind")
    # A code one step off is still fine (window 1) ...
    child, secret, _ = start_enrol(env)
    child.sendline(clitest.totp(secret, T0 - PERIOD))
    rc, _ = finish(child)
    tap.is_(rc, 0, "a code one step old confirms (window 1)")
    os.unlink(env.path(user))
    # ... two steps is not.
    child, secret, _ = start_enrol(env)
    for _ in range(3):
        child.sendline(clitest.totp(secret, T0 - 2 * PERIOD))
    rc, _ = finish(child)
    tap.is_(rc, clitest.EX_FAIL, "a code two steps old does not")


def test_options(env, user):
    # The file was removed behind the CLI's back, so the login state still
    # holds the last step of the old secret (30 s steps): a new enrolment
    # must start clean or the new 60 s steps would look like replays.
    tap.ok(clitest.file_state(env.path(user)) is None,
           "a code two steps old saved nothing")
    child = spawn(env, ["--qr=none", "--digits", "8", "--period", "60",
                        "--algorithm", "SHA256", "--issuer", "Example Co",
                        "--label", "alice@example.org"])
    child.expect("warning: many authenticator apps")
    child.expect(r"Secret for manual entry: ([A-Z2-7 ]+)\r\n")
    secret = child.match.group(1).replace(" ", "")
    child.expect(r"URI: (otpauth://\S+)\r\n")
    uri = child.match.group(1)
    child.expect("Enter the 8-digit code")
    child.sendline(clitest.totp(secret, T0, 8, 60, "SHA256"))
    rc, _ = finish(child)
    tap.is_(rc, 0, "SHA256/8 digits/60 s enrolment confirmed with "
            "oathtool's code")
    tap.ok(uri.startswith("otpauth://totp/Example%20Co:alice%40example.org?")
           and "algorithm=SHA256" in uri and "digits=8" in uri and
           "period=60" in uri and "issuer=Example%20Co" in uri,
           "the URI has issuer, label and parameters")
    st = status(env, user)
    tap.ok(st.get("algorithm") == "SHA256" and st.get("digits") == 8 and
           st.get("period") == 60, "status shows SHA256/8/60")
    t = T0 + 60
    tap.ok(env.login(user, clitest.totp(secret, t, 8, 60, "SHA256"), t),
           "module accepts an 8-digit SHA256 code")

    r = env.run(["--no-confirm", "--force", "--json"])
    try:
        j = json.loads(r.stdout)
    except ValueError:
        j = {}
    tap.ok(r.returncode == 0 and j.get("user") == user and
           len(j.get("secret", "")) == 32 and
           len(j.get("backup_codes", [])) == 10 and
           j.get("confirmed") is False and j.get("replaced") is True,
           "--no-confirm --json: one JSON object, nothing else on stdout")
    t = T0 + 5 * 60
    tap.ok(env.login(user, clitest.totp(j.get("secret", "A" * 32), t), t),
           "the JSON secret logs in")
    r = env.run(["--no-confirm", "--force", "-o", "backup_codes=3"])
    tap.is_(len(clitest.parse_enrol(r.stdout)[2]), 3,
            "backup_codes=3 gives three codes")


def main():
    clitest.need_components(pam=True)
    env = clitest.Env("enrol")
    user = clitest.me()
    try:
        secret = test_enrol_and_login(env, user)
        test_force(env, user, secret)
        test_fresh_wrong(env, user)
        test_options(env, user)
    finally:
        env.cleanup()
    tap.done_testing()


main()
