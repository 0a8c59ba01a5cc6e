"""The single-prompt stack as shipped (contrib/pam.d/sshd-forward-pass:
pam_flowtotp split, pam_unix use_first_pass that stops the stack on
failure, pam_flowtotp use_stashed) through the real sshd and through
pamtester: a wrong password must neither use up a code nor count toward
the lockout, and sshd's retries on one PAM handle must not reuse a kept
code."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import PROMPT_BOTH, Env, Sshd, tap  # noqa: E402

PAMTESTER = "/usr/bin/pamtester"
RETRIES = 3     # keyboard-interactive tries in one ssh connection


def no_success(env, desc, mark, user):
    """No result=success line for user since mark."""
    if not env.sink.active:
        return e2elib.skip(desc, env.sink.why)
    rx = re.compile(r"flowtotp: .*user=%s .*result=success" %
                    re.escape(user.name))
    hits = [ln for ln in env.sink.lines(mark) if rx.search(ln)]
    if not tap.ok(not hits, desc):
        tap.diag("".join(hits))


def not_locked(env, desc, user):
    st = env.status(user)
    if not tap.ok(st.get("locked") is False and st.get("failures") == 0,
                  desc):
        tap.diag(repr(st))


def sshd_cases(env, fwd, carol):
    tap.diag("sshd (%s): wrong password + right code" % fwd.name)
    code = env.code(carol)
    mark = env.sink.mark()
    res = fwd.login(carol, {PROMPT_BOTH: ["not-" + carol.password + code]})
    tap.ok(res.denied, "wrong password + right code: denied")
    no_success(env, "... no result=success logged", mark, carol)
    tap.ok(env.status(carol).get("last_success") in (0, None),
           "... no last login recorded")
    res = fwd.login(carol, {PROMPT_BOTH: [carol.password + code]})
    tap.ok(res.logged_in and res.whoami == carol.name,
           "then the real login with the same code works (not used up)")

    tap.diag("sshd: guesses without the password do not lock")
    for i in range(RETRIES + 1):
        res = fwd.login(carol, {PROMPT_BOTH: ["guess%d" % i +
                                              env.wrong_code(carol)]})
        tap.ok(res.denied, "guess %d without the password: denied" % (i + 1))
    not_locked(env, "... the user is not locked, no failure counted", carol)


def ssh_retries(env, fwd, user, answers):
    """One ssh connection with RETRIES keyboard-interactive tries (sshd
    keeps one PAM handle across them)."""
    import pexpect
    argv = ["-F", "/dev/null", "-p", str(fwd.port), "-T",
            "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR",
            "-o", "NumberOfPasswordPrompts=%d" % RETRIES,
            "-o", "PubkeyAuthentication=no",
            "-o", "PreferredAuthentications=keyboard-interactive",
            "-o", "GSSAPIAuthentication=no",
            "-o", "ControlMaster=no", "-o", "ControlPath=none",
            "%s@127.0.0.1" % user.name, "echo %s; id -un" % e2elib.MARKER]
    env_vars = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C",
                "HOME": env.dir, "TERM": "dumb"}
    child = pexpect.spawn("/usr/bin/ssh", argv, env=env_vars,
                          encoding="utf-8", codec_errors="replace",
                          timeout=e2elib.PEXPECT_TIMEOUT)
    return e2elib.drive(child, {PROMPT_BOTH: answers}, e2elib.LoginResult())


def retry_case(env, fwd, dave):
    tap.diag("sshd: three tries on one connection (one PAM handle)")
    code = env.code(dave)
    res = ssh_retries(env, fwd, dave, [
        "not-" + dave.password + code,  # stack stops: code stays kept
        dave.password,                  # no code: the old one is not used
        dave.password + code])
    tap.is_(res.prompts, [PROMPT_BOTH] * RETRIES, "asked three times")
    tap.ok(res.logged_in and res.whoami == dave.name,
           "the third try logs in: the code of the first was not used up")
    st = env.status(dave)
    tap.is_(st.get("failures"), 0,
            "the second try (right password, no code) failed and the "
            "success cleared it; the first counted nothing")


def pamtester(svc, user, answer):
    return subprocess.run([PAMTESTER, svc, user.name, "authenticate"],
                          input=answer + "\n", capture_output=True,
                          text=True, timeout=e2elib.PEXPECT_TIMEOUT)


def pamtester_cases(env, svc, erin):
    tap.diag("pamtester (%s)" % svc)
    code = env.code(erin)
    mark = env.sink.mark()
    out = pamtester(svc, erin, "not-" + erin.password + code)
    tap.ok(out.returncode != 0, "pamtester: wrong password + right code "
           "fails")
    no_success(env, "... no result=success logged", mark, erin)
    for i in range(RETRIES + 1):
        out = pamtester(svc, erin, "guess%d" % i + env.wrong_code(erin))
        tap.ok(out.returncode != 0, "pamtester: guess %d without the "
               "password fails" % (i + 1))
    not_locked(env, "... not locked, no failure counted", erin)
    out = pamtester(svc, erin, erin.password + code)
    if not tap.ok(out.returncode == 0, "pamtester: the right password "
                  "with the same code then succeeds"):
        tap.diag(out.stdout + out.stderr)
    out = pamtester(svc, erin, erin.password + code)
    tap.ok(out.returncode != 0, "pamtester: that code again is a replay")


def main():
    e2elib.require_root()
    e2elib.require_pexpect()
    e2elib.require_files(Sshd.BIN, "/usr/bin/ssh", PAMTESTER, e2elib.MODULE,
                         e2elib.ENROLL, e2elib.OATHTOOL)
    with Env("fwdpass") as env:
        env.write_conf("deny = 3\nunlock_time = 0\n")
        Sshd.prepare(env)
        carol = env.add_user("f")
        dave = env.add_user("r")
        erin = env.add_user("p")
        for u in (carol, dave, erin):
            env.enroll(u)
        stack = env.pam_stack("sshd-forward-pass")
        tap.is_(stack.count(e2elib.MODULE), 2,
                "the shipped stack has two pam_flowtotp instances")
        fwd = Sshd(env, env.name("sshd") + "-fwd", stack,
                   "flowtotp-password.conf").start()
        svc = env.name("pamtester")
        env.pam_service(svc, stack)
        sshd_cases(env, fwd, carol)
        retry_case(env, fwd, dave)
        pamtester_cases(env, svc, erin)
    tap.done_testing()


main()
