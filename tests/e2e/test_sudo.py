"""End to end through the real sudo: a private PAM service built from
contrib/pam.d/sudo, selected for the test user only by a sudoers drop-in
(Defaults:USER pam_service=...), the user typing on a pseudo-terminal (and
once through sudo -S on stdin)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import PROMPT_CODE, PROMPT_PASSWORD, Env, tap  # noqa: E402

SUDO = "/usr/bin/sudo"
VISUDO = "/usr/sbin/visudo"
SETPRIV = "/usr/bin/setpriv"
SUDOERS_D = "/etc/sudoers.d"


def install_dropin(env, user, service):
    """Validate with visudo -cf first, then create it (O_EXCL, 0440)."""
    text = ("# flowtotp e2e test drop-in, removed when the test ends\n"
            "Defaults:%(u)s pam_service=%(s)s\n"
            "Defaults:%(u)s passwd_tries=1, timestamp_timeout=0, !lecture\n"
            "%(u)s ALL=(root) ALL\n" % {"u": user.name, "s": service})
    staged = env.path("sudoers-dropin")
    with open(staged, "w") as f:
        f.write(text)
    os.chmod(staged, 0o440)
    res = e2elib.run([VISUDO, "-cf", staged], check=False)
    if not tap.ok(res.returncode == 0, "visudo -cf accepts the drop-in"):
        tap.diag(res.stdout + res.stderr)
        return None
    path = os.path.join(SUDOERS_D, "flowtotp-test-" + env.suffix)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o440)
    env.defer(os.unlink, path)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    res = e2elib.run([VISUDO, "-c"], check=False)
    tap.ok(res.returncode == 0, "visudo -c: sudoers still valid with it")
    return path


# No -p: with it sudo shows its prompt for every PAM prompt, the code's too.
def sudo_tty(env, user, answers):
    """USER runs `sudo sh -c 'echo MARKER; id -un'` on a terminal."""
    import pexpect
    argv = ["--reuid=%d" % user.uid, "--regid=%d" % user.gid,
            "--init-groups", "--", SUDO, "-k",
            "/bin/sh", "-c", "echo %s; id -un" % e2elib.MARKER]
    env_vars = {"PATH": "/usr/bin:/bin", "LANG": "C", "TERM": "dumb",
                "HOME": user.home, "USER": user.name, "LOGNAME": user.name}
    child = pexpect.spawn(SETPRIV, argv, env=env_vars, cwd="/",
                          encoding="utf-8", codec_errors="replace",
                          timeout=e2elib.PEXPECT_TIMEOUT)
    return e2elib.drive(child, answers, e2elib.LoginResult())


def sudo_stdin(env, user, lines, marker):
    """USER runs `sudo -S touch MARKER` with the answers on stdin."""
    return subprocess.run(
        [SUDO, "-S", "-k", "/usr/bin/touch", marker],
        input="".join(x + "\n" for x in lines), capture_output=True,
        text=True, user=user.uid, group=user.gid, extra_groups=[], cwd="/",
        env={"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": user.home},
        timeout=120, check=False)


def ran_as_root(path):
    try:
        return os.stat(path).st_uid == 0
    except OSError:
        return False


def main():
    e2elib.require_root()
    e2elib.require_pexpect()
    e2elib.require_files(SUDO, VISUDO, SETPRIV, e2elib.MODULE,
                         e2elib.ENROLL, e2elib.OATHTOOL)
    with Env("sudo") as env:
        user = env.add_user("s")
        env.enroll(user)
        svc = env.name("sudo")
        env.pam_service(svc, env.pam_stack("sudo"))
        if install_dropin(env, user, svc) is None:
            tap.done_testing()

        def ok_root(desc, res):
            if not tap.ok(res.logged_in and res.whoami == "root", desc):
                tap.diag(repr(res))

        def denied(desc, res):
            if not tap.ok(res.denied, desc):
                tap.diag(repr(res))

        mark = env.sink.mark()
        res = sudo_tty(env, user, {PROMPT_PASSWORD: [user.password],
                                   PROMPT_CODE: [env.wrong_code(user)]})
        denied("sudo: right password, wrong code: the command does not run",
               res)
        tap.is_(res.prompts, [PROMPT_PASSWORD, PROMPT_CODE],
                "sudo asked for the password, then the code")
        env.check_log("logged bad_code", mark, svc, user.name, "bad_code")

        code = env.code(user)
        mark = env.sink.mark()
        res = sudo_tty(env, user, {PROMPT_PASSWORD: [user.password],
                                   PROMPT_CODE: [code]})
        ok_root("sudo: right password, right code: the command runs as root",
                res)
        env.check_log("logged ok", mark, svc, user.name, "ok")

        mark = env.sink.mark()
        res = sudo_tty(env, user, {PROMPT_PASSWORD: [user.password],
                                   PROMPT_CODE: [code]})
        denied("sudo: the same code again: the command does not run", res)
        env.check_log("logged replay", mark, svc, user.name, "replay")

        res = sudo_tty(env, user, {PROMPT_PASSWORD: ["wrong-" + user.password],
                                   PROMPT_CODE: [env.code(user)]})
        denied("sudo: wrong password: the command does not run", res)
        tap.is_(res.prompts, [PROMPT_PASSWORD],
                "sudo: a wrong password ends the stack before the code")

        backup = user.backup_codes[0]
        marker = env.path("ran-stdin-1")
        res = sudo_stdin(env, user, [user.password, backup], marker)
        tap.ok(res.returncode == 0 and ran_as_root(marker),
               "sudo -S: password and backup code on stdin: runs as root")
        tap.ok("Verification code" in res.stderr,
               "sudo -S: the code prompt went to stderr")
        marker = env.path("ran-stdin-2")
        res = sudo_stdin(env, user, [user.password, backup], marker)
        tap.ok(res.returncode != 0 and not os.path.exists(marker),
               "sudo -S: the same backup code again: does not run")
    tap.done_testing()


if __name__ == "__main__":
    main()
