#!/usr/bin/env python3
"""End to end: codes by mail through OpenSSH and a real MTA.  A private
sshd (PAM service from contrib/pam.d/sshd-password: password, then the
code), the installed-style module with deliver= set to the shipped
contrib/deliver-mail, and Exim (exim4-daemon-light, Debian's 'local'
configuration) behind /usr/sbin/sendmail, which delivers to /var/mail/USER
without a daemon.  The test reads the message from the mailbox as root:

 - a user enrolled with totp-enroll --deliver answers the code prompt with
   an empty line, reads the code from the mail, logs in with it; the same
   code then fails; a second request within the minute is refused (logged)
   and sends no mail;
 - the code expires after deliver_ttl (30 s here: the module runs on the
   real clock);
 - a missing command, exit 1, a time-out and a kill by a signal deny with
   reason=delivery_failed;
 - a user with an app only who sends an empty line sees the same prompts
   and text and is refused;
 - deliver-mail itself refuses an address that could be an option."""
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import (CONTRIB, PROMPT_CODE, PROMPT_PASSWORD,  # noqa: E402
                    Env, Sshd, tap)

SENDMAIL = "/usr/sbin/sendmail"
MAIL_WAIT = 20.0
TTL = 30
INFO = "If codes can be sent to you"
CODE_RE = re.compile(r"^Login code for \S+ on \S+: (\d{6})$", re.M)
SCRIPTS = {
    "exit1": "#!/bin/sh\ncat >/dev/null\nexit 1\n",
    "sleep": "#!/bin/sh\nexec sleep 60\n",
    "signal": "#!/bin/sh\nkill -9 $$\n",
}


def mailbox(user):
    return os.path.join("/var/mail", user.name)


def mail_codes(user):
    try:
        with open(mailbox(user), errors="replace") as f:
            return CODE_RE.findall(f.read())
    except FileNotFoundError:
        return []


def wait_new_code(user, seen):
    """The code of the next message in the user's mailbox, or None."""
    end = time.monotonic() + MAIL_WAIT
    while time.monotonic() < end:
        codes = mail_codes(user)
        if len(codes) > seen:
            return codes[seen]
        time.sleep(0.1)
    return None


class Mail:
    """Answers for one login: the password, an empty line, then the code
    that arrives by mail meanwhile (or `second`)."""

    def __init__(self, user, second=None):
        self.user = user
        self.seen = len(mail_codes(user))
        self.code = None
        self.second = second

    def answer(self):
        if self.second is not None:
            return self.second
        self.code = wait_new_code(self.user, self.seen)
        return self.code or "000000"

    def answers(self):
        return {PROMPT_PASSWORD: [self.user.password],
                PROMPT_CODE: ["", self.answer]}


def setup_commands(env):
    """The shipped script and the failing ones in a root-owned directory
    nobody else may write (the module refuses anything else)."""
    d = tempfile.mkdtemp(prefix="ft-dlv-e2e-", dir="/var/lib")
    env.defer(shutil.rmtree, d, True)
    os.chmod(d, 0o755)
    shutil.copy(os.path.join(CONTRIB, "deliver-mail"),
                os.path.join(d, "deliver-mail"))
    os.chmod(os.path.join(d, "deliver-mail"), 0o755)
    for name, body in SCRIPTS.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(body)
        os.chmod(os.path.join(d, name), 0o755)
    return d


def add_user(env, role):
    u = env.add_user(role)
    env.defer(lambda p: os.path.exists(p) and os.unlink(p), mailbox(u))
    return u


def set_service(env, sshd, args):
    """Rewrite the sshd's PAM service (read again by each connection)."""
    text = env.pam_stack("sshd-password", args)
    with open(os.path.join("/etc/pam.d", sshd.name), "w") as f:
        f.write(text)


def mail_login(env, sshd, alice):
    svc = sshd.name
    mark = env.sink.mark()
    m = Mail(alice)
    res = sshd.login(alice, m.answers())
    tap.ok(m.code is not None, "the code arrived in the mailbox")
    tap.is_(res.prompts, [PROMPT_PASSWORD, PROMPT_CODE, PROMPT_CODE],
            "password, code prompt, empty line, code prompt again")
    tap.ok(INFO in res.output, "the client is told a code may be on its way")
    if not tap.ok(res.logged_in and res.whoami == alice.name,
                  "the mailed code logs in over ssh"):
        tap.diag(repr(res))
    env.check_log("logged ok", mark, svc, alice.name, "ok")
    tap.ok(m.code and m.code not in res.output,
           "the code is not shown to the client")
    res = sshd.login(alice, {PROMPT_PASSWORD: [alice.password],
                             PROMPT_CODE: [m.code or "x"]})
    tap.ok(res.denied, "the same code then fails")
    mark = env.sink.mark()
    before = len(mail_codes(alice))
    res = sshd.login(alice, Mail(alice, second="000000").answers())
    tap.ok(res.denied and INFO in res.output,
           "a second request over the rate looks the same and is denied")
    if env.sink.active:
        tap.ok(env.sink.wait_for("deliver_rate_minute", mark) is not None,
               "the refused request is logged")
    else:
        e2elib.skip("the refused request is logged", env.sink.why)
    tap.is_(len(mail_codes(alice)), before, "and no mail was sent")


def expiry(env, sshd, carol):
    seen = len(mail_codes(carol))
    res = sshd.login(carol, {PROMPT_PASSWORD: [carol.password],
                             PROMPT_CODE: ["", "000000"]})
    code = wait_new_code(carol, seen)
    tap.ok(res.denied and code is not None, "a code is mailed")
    time.sleep(TTL + 1)
    res = sshd.login(carol, {PROMPT_PASSWORD: [carol.password],
                             PROMPT_CODE: [code or "x"]})
    tap.ok(res.denied, "after deliver_ttl it no longer logs in")


def failures(env, sshd, carol, bindir, base):
    cases = [("missing command", "nothere"), ("exit 1", "exit1"),
             ("time-out", "sleep"), ("killed by a signal", "signal")]
    for what, cmd in cases:
        set_service(env, sshd, base + " deliver=" + os.path.join(bindir, cmd))
        mark = env.sink.mark()
        res = sshd.login(carol, {PROMPT_PASSWORD: [carol.password],
                                 PROMPT_CODE: ["", "000000"]})
        tap.ok(res.denied and res.prompts == [PROMPT_PASSWORD, PROMPT_CODE,
                                              PROMPT_CODE],
               "%s: the same dialogue, denied" % what)
        env.check_log("%s: reason=delivery_failed" % what, mark, sshd.name,
                      carol.name, "delivery_failed")
        tap.ok("@localhost" not in res.output,
               "%s: the address is not shown" % what)


def no_delivery(env, sshd, bob, carol):
    got = {}
    seen = len(mail_codes(carol))
    for u in (carol, bob):
        res = sshd.login(u, {PROMPT_PASSWORD: [u.password],
                             PROMPT_CODE: ["", "000000"]})
        got[u.name] = (res.prompts, INFO in res.output, res.denied)
    # Exim delivers in the background: let carol's mail land before the
    # mailbox and the user are removed (else it would bounce and stay in
    # the queue).
    tap.ok(wait_new_code(carol, seen) is not None,
           "the user with delivery got a mail")
    tap.is_(got[bob.name], got[carol.name],
            "a user without delivery: the same prompts and text, denied")
    tap.ok(mail_codes(bob) == [], "and no mail for them")


def script_refuses(bindir):
    """deliver-mail itself: what the module would never pass is refused
    before sendmail runs (exit status not 0)."""
    script = os.path.join(bindir, "deliver-mail")
    for what, data in (("an address starting with '-'",
                        "u\n-oQ/tmp/x@localhost\n123456\n"),
                       ("an address with a space", "u\na b@localhost\n1\n"),
                       ("a code that is not digits", "u\na@localhost\nabc\n"),
                       ("missing lines", "u\n")):
        r = e2elib.run(["/bin/sh", script], check=False, input=data,
                       env={})
        tap.ok(r.returncode != 0, "deliver-mail refuses %s" % what)


def main():
    e2elib.require_root()
    e2elib.require_pexpect()
    e2elib.require_files(e2elib.MODULE, e2elib.ENROLL, "/usr/sbin/sshd",
                         "/usr/bin/ssh", SENDMAIL)
    if not os.path.exists("/usr/sbin/exim4"):
        tap.skip_all("exim4 is not installed (contrib/deps.sh --test)")
    with Env("dlv") as env:
        Sshd.prepare(env)
        bindir = setup_commands(env)
        script_refuses(bindir)
        key = env.path("deliver.key")
        env.write_conf("deliver = %s\ndeliver_key = %s\n"
                       "deliver_timeout = 2\ndeliver_ttl = %d\n" %
                       (os.path.join(bindir, "deliver-mail"), key, TTL))
        alice, bob, carol = (add_user(env, "dlv" + r) for r in "abc")
        for u in (alice, carol):
            r = env.totp_enroll("--user", u.name, "--deliver",
                                u.name + "@localhost")
            tap.is_(r.returncode, 0, "totp-enroll --deliver %s" % u.name)
        env.enroll(bob)
        sshd = Sshd(env, env.name("sshd"),
                    env.pam_stack("sshd-password"),
                    "flowtotp-password.conf").start()
        # One code an hour for alice: her second request is refused
        # however long the first login took on a busy machine.
        set_service(env, sshd, "deliver_rate_hour=1")
        mail_login(env, sshd, alice)
        base = "deliver_rate_minute=100 deliver_rate_hour=100"
        set_service(env, sshd, base)
        expiry(env, sshd, carol)
        failures(env, sshd, carol, bindir, base)
        set_service(env, sshd, base)
        no_delivery(env, sshd, bob, carol)
    tap.done_testing()


main()
