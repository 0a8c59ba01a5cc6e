"""remember= end to end, through the real sudo and the real sshd (the
installed-style module, the real clock; the stacks from contrib/):

 - sudo in one terminal: a code, then the next sudo in the same terminal
   asks only for the password (reason=remembered); sudo in a second
   terminal of the same user is asked for the code again;
 - ssh: a password and a code, then the next login from the same address
   asks only for the password; with a wrong password it still fails."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import (MARKER, PROMPT_CODE, PROMPT_PASSWORD, PROMPTS,  # noqa
                    Env, Sshd, tap)
import test_sudo  # noqa: E402

REMEMBER = "remember=300"
SHELL_PROMPT = "FT-REM-SHELL> "


class Terminal:
    """A shell of USER on a pseudo-terminal of its own, where sudo runs
    more than once (one PAM_TTY)."""

    def __init__(self, user):
        import pexpect
        argv = ["--reuid=%d" % user.uid, "--regid=%d" % user.gid,
                "--init-groups", "--", "/bin/sh"]
        env = {"PATH": "/usr/bin:/bin", "LANG": "C", "TERM": "dumb",
               "HOME": user.home, "USER": user.name, "LOGNAME": user.name,
               "PS1": SHELL_PROMPT}
        self.child = pexpect.spawn(test_sudo.SETPRIV, argv, env=env,
                                   cwd="/", encoding="utf-8",
                                   codec_errors="replace",
                                   timeout=e2elib.PEXPECT_TIMEOUT)
        self.child.expect_exact(SHELL_PROMPT)

    def sudo(self, answers):
        """sudo -k sh -c 'echo MARKER; id -un'; (prompts, ran as root)."""
        import pexpect
        c = self.child
        c.sendline("%s -k /bin/sh -c 'echo %s; id -un'" %
                   (test_sudo.SUDO, MARKER))
        c.expect_exact("id -un'")       # the echo of the command line
        pats = [rx for _, rx in PROMPTS] + [MARKER + r"\r?\n(\S+)",
                                            SHELL_PROMPT, pexpect.TIMEOUT]
        queues = {k: list(v) for k, v in answers.items()}
        prompts, root = [], False
        while True:
            i = c.expect(pats)
            if i < len(PROMPTS):
                kind = PROMPTS[i][0]
                prompts.append(kind)
                q = queues.get(kind) or []
                c.sendline(q.pop(0) if q else "")
            elif i == len(PROMPTS):
                root = c.match.group(1).strip() == "root"
            else:
                break
        return prompts, root

    def close(self):
        self.child.close(force=True)


def sudo_cases(env, user, svc):
    one = Terminal(user)
    two = None
    try:
        mark = env.sink.mark()
        prompts, root = one.sudo({PROMPT_PASSWORD: [user.password],
                                  PROMPT_CODE: [env.code(user)]})
        tap.ok(root and prompts == [PROMPT_PASSWORD, PROMPT_CODE],
               "sudo, terminal 1: password and code, runs as root (%s)" %
               prompts)
        env.check_log("logged ok", mark, svc, user.name, "ok")
        mark = env.sink.mark()
        prompts, root = one.sudo({PROMPT_PASSWORD: [user.password]})
        tap.ok(root and prompts == [PROMPT_PASSWORD],
               "sudo, terminal 1 again: only the password (%s)" % prompts)
        env.check_log("logged remembered", mark, svc, user.name,
                      "remembered")
        prompts, root = one.sudo({PROMPT_PASSWORD: ["wrong-" +
                                                    user.password]})
        tap.ok(not root, "sudo, terminal 1, wrong password: does not run")
        two = Terminal(user)
        prompts, root = two.sudo({PROMPT_PASSWORD: [user.password],
                                  PROMPT_CODE: [env.wrong_code(user)]})
        tap.ok(not root and prompts == [PROMPT_PASSWORD, PROMPT_CODE],
               "sudo, terminal 2: the code is asked again (%s)" % prompts)
    finally:
        one.close()
        if two is not None:
            two.close()


def ssh_cases(env, sshd, user):
    res = sshd.login(user, {PROMPT_PASSWORD: [user.password],
                            PROMPT_CODE: [env.code(user)]})
    tap.ok(res.logged_in and res.prompts == [PROMPT_PASSWORD, PROMPT_CODE],
           "ssh: password and code") or tap.diag(repr(res))
    mark = env.sink.mark()
    res = sshd.login(user, {PROMPT_PASSWORD: [user.password]})
    tap.ok(res.logged_in and res.prompts == [PROMPT_PASSWORD],
           "ssh again from the same address: only the password") or \
        tap.diag(repr(res))
    env.check_log("logged remembered", mark, sshd.name, user.name,
                  "remembered")
    res = sshd.login(user, {PROMPT_PASSWORD: ["wrong-" + user.password]})
    tap.ok(res.denied, "ssh, wrong password: denied") or tap.diag(repr(res))


def main():
    e2elib.require_root()
    e2elib.require_pexpect()
    e2elib.require_files(test_sudo.SUDO, test_sudo.VISUDO, test_sudo.SETPRIV,
                         Sshd.BIN, "/usr/bin/ssh", e2elib.MODULE,
                         e2elib.ENROLL, e2elib.OATHTOOL)
    with Env("remember") as env:
        Sshd.prepare(env)
        sudoer = env.add_user("r")
        sshuser = env.add_user("h")
        env.enroll(sudoer)
        env.enroll(sshuser)
        svc = env.name("sudo")
        env.pam_service(svc, env.pam_stack("sudo", REMEMBER))
        if test_sudo.install_dropin(env, sudoer, svc) is not None:
            sudo_cases(env, sudoer, svc)
        sshd = Sshd(env, env.name("sshd"),
                    env.pam_stack("sshd-password", REMEMBER),
                    "flowtotp-password.conf").start()
        ssh_cases(env, sshd, sshuser)
    tap.done_testing()


main()
