"""Console-style logins: the real su and login on a pseudo-terminal, and
pamtester (what contrib/quickstart.sh uses).

su and login take their PAM service name from the program (/etc/pam.d/su,
/etc/pam.d/login), which the suite must not edit.  So each run happens in a
private mount namespace (unshare -m) where a test stack built from
contrib/pam.d/su or contrib/pam.d/login is bind-mounted over the system
file: su and login read our stack, nothing else on the machine sees it, and
the mount vanishes with the process.  Where mount namespaces are not
available (an unprivileged container), those cases are skipped and
pamtester with a private service still covers the console prompts."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import MARKER, PROMPT_CODE, PROMPT_PASSWORD, Env, tap  # noqa: E402

UNSHARE = "/usr/bin/unshare"
SETPRIV = "/usr/bin/setpriv"
SU = "/bin/su"
LOGIN = "/bin/login"
PAMTESTER = "/usr/bin/pamtester"
# Run by /bin/sh in the new namespace: $1 our stack, $2 the file it covers,
# then the command to exec.
BIND = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
# Typed into the shell login starts; the echoed line does not contain the
# marker itself, only the output does.
SHELL_CMD = "echo LOGGED-IN-\"\"%s; id -un; exit" % MARKER[len("LOGGED-IN-"):]
SHELL_PROMPT = r"\$ $"


def namespaces_work():
    res = e2elib.run([UNSHARE, "-m", "--propagation", "private", "true"],
                     check=False)
    return res.returncode == 0


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def spawn(argv, env_vars=None):
    import pexpect
    return pexpect.spawn(argv[0], argv[1:], cwd="/",
                         env=env_vars or {"PATH": "/usr/sbin:/usr/bin:"
                                          "/sbin:/bin", "LANG": "C",
                                          "TERM": "dumb"},
                         encoding="utf-8", codec_errors="replace",
                         timeout=e2elib.PEXPECT_TIMEOUT)


def su(stack, caller, target, answers):
    """caller types `su TARGET -c '...'` with our stack as /etc/pam.d/su."""
    argv = [UNSHARE, "-m", "--propagation", "private", "/bin/sh", "-c",
            BIND, "sh", stack, "/etc/pam.d/su",
            SETPRIV, "--reuid=%d" % caller.uid, "--regid=%d" % caller.gid,
            "--init-groups", "--", SU, target.name, "-c",
            "echo %s; id -un" % MARKER]
    return e2elib.drive(spawn(argv), answers, e2elib.LoginResult())


def login(stack, target, answers):
    """/bin/login TARGET on a terminal with our stack as /etc/pam.d/login."""
    argv = [UNSHARE, "-m", "--propagation", "private", "/bin/sh", "-c",
            BIND, "sh", stack, "/etc/pam.d/login", LOGIN, target.name]
    return e2elib.drive(spawn(argv), answers, e2elib.LoginResult(),
                        extra=[(SHELL_PROMPT, SHELL_CMD)])


def pamtester(service, target, answers):
    argv = [PAMTESTER, service, target.name, "authenticate"]
    child = spawn(argv)
    res = e2elib.drive(child, answers, e2elib.LoginResult())
    res.logged_in = "successfully authenticated" in res.output
    return res


def check_ok(desc, res, user):
    if not tap.ok(res.logged_in and res.whoami in (None, user.name), desc):
        tap.diag(repr(res))


def check_denied(desc, res):
    if not tap.ok(res.denied, desc):
        tap.diag(repr(res))


def three_cases(env, what, attempt, user, service):
    """wrong code, right code, replay: the same story for each program."""
    mark = env.sink.mark()
    res = attempt(user, {PROMPT_PASSWORD: [user.password],
                         PROMPT_CODE: [env.wrong_code(user)]})
    check_denied("%s: right password, wrong code: denied" % what, res)
    tap.is_(res.prompts, [PROMPT_PASSWORD, PROMPT_CODE],
            "%s: asked for the password, then the code" % what)
    env.check_log("%s: logged bad_code" % what, mark, service, user.name,
                  "bad_code")
    code = env.code(user)
    mark = env.sink.mark()
    res = attempt(user, {PROMPT_PASSWORD: [user.password],
                         PROMPT_CODE: [code]})
    check_ok("%s: right password, right code: logged in" % what, res, user)
    env.check_log("%s: logged ok" % what, mark, service, user.name, "ok")
    mark = env.sink.mark()
    res = attempt(user, {PROMPT_PASSWORD: [user.password],
                         PROMPT_CODE: [code]})
    check_denied("%s: the same code again: denied" % what, res)
    env.check_log("%s: logged replay" % what, mark, service, user.name,
                  "replay")


def main():
    e2elib.require_root()
    e2elib.require_pexpect()
    e2elib.require_files(PAMTESTER, e2elib.MODULE, e2elib.ENROLL,
                         e2elib.OATHTOOL)
    with Env("console") as env:
        caller = env.add_user("c")
        su_target = env.add_user("t")
        login_target = env.add_user("l")
        pt_user = env.add_user("p")
        for u in (su_target, login_target, pt_user):
            env.enroll(u)

        svc = env.name("pamtester")
        env.pam_service(svc, env.pam_stack("login"))
        three_cases(env, "pamtester", lambda u, a: pamtester(svc, u, a),
                    pt_user, svc)

        have_ns = all(os.access(p, os.X_OK) for p in
                      (UNSHARE, SETPRIV, SU, LOGIN)) and namespaces_work()
        if not have_ns:
            for what in ("su", "login"):
                e2elib.skip("%s through a private mount namespace" % what,
                            "unshare -m is not available here")
            tap.done_testing()

        before = {p: digest(p) for p in ("/etc/pam.d/su",
                                         "/etc/pam.d/login")}
        su_stack = env.path("pam-su")
        with open(su_stack, "w") as f:
            f.write(env.pam_stack("su"))
        three_cases(env, "su", lambda u, a: su(su_stack, caller, u, a),
                    su_target, "su")

        login_stack = env.path("pam-login")
        with open(login_stack, "w") as f:
            f.write(env.pam_stack("login", tail="@include common-account\n"
                                  "@include common-session\n"))
        three_cases(env, "login", lambda u, a: login(login_stack, u, a),
                    login_target, "login")

        after = {p: digest(p) for p in before}
        tap.is_(after, before,
                "/etc/pam.d/su and /etc/pam.d/login are unchanged")
        tap.ok(not any(ln.split()[4:5] in (["/etc/pam.d/su"],
                                           ["/etc/pam.d/login"])
                       for ln in open("/proc/self/mountinfo")),
               "no bind mount over them outside the namespaces")
    tap.done_testing()


main()
