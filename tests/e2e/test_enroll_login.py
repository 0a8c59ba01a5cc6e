"""Enrolment at login (enroll=login) end to end: the real sshd
(keyboard-interactive, the QR code captured from the ssh client's terminal
and decoded with zbarimg), the real sudo and the real su, on a pty.  The
code that confirms the enrolment comes from oathtool, for the secret the
prompt shows.

And the guarantee: in every shipped stack (contrib/pam.d/*, with
enroll=login), a wrong first factor followed by the whole enrolment
dialogue enrols nothing, through the real sshd and the real sudo."""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import MARKER, Env, Sshd, tap  # noqa: E402

SUDO = "/usr/bin/sudo"
VISUDO = "/usr/sbin/visudo"
SETPRIV = "/usr/bin/setpriv"
UNSHARE = "/usr/bin/unshare"
SU = "/bin/su"
ZBARIMG = "/usr/bin/zbarimg"
SUDOERS_D = "/etc/sudoers.d"
BIND = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
ENROLL_ARG = "enroll=login"

# The module's enrolment prompts (pam_module/module.h), and the others.
CONFIRM_RX = re.escape("Enter the code from the app to confirm: ")
DONE_RX = re.escape("Press Enter to continue the login: ")
BOTH_RX = r"[Pp]assword & verification code: ?"
PASSWORD_RX = r"[Pp]assword(?: for [^:\r\n]+)?: ?"
CODE_RX = r"[Vv]erification code: ?"
SECRET_RX = re.compile(r"Secret for manual entry: ([A-Z2-7 ]+)")
URI_RX = re.compile(r"URI: (otpauth://\S+)")
TITLE = "Two-factor enrolment for "

SCALE = 4
LIGHT, DARK = 255, 0
UTF8_CELLS = {"\u2588": (LIGHT, LIGHT), "\u2580": (LIGHT, DARK),
              "\u2584": (DARK, LIGHT), " ": (DARK, DARK)}

# Every shipped stack, and the programs it is tried under for the wrong
# first factor.  su's stack starts with pam_rootok, which lets any program
# running as root (sshd) in: it is for su only, so not tried under sshd.
SSHD_STACKS = {"sshd-password": "flowtotp-password.conf",
               "sshd-forward-pass": "flowtotp-password.conf",
               "login": "flowtotp-password.conf",
               "sshd-key": "flowtotp-key.conf"}
SUDO_STACKS = ("sudo", "login", "su", "sshd-password", "sshd-forward-pass",
               "sshd-key")


class Dialogue:
    def __init__(self):
        self.seen = []
        self.output = ""
        self.logged_in = False
        self.whoami = None
        self.secret = None

    def __repr__(self):
        return "Dialogue(seen=%r logged_in=%r whoami=%r)\n%s" % (
            self.seen, self.logged_in, self.whoami, self.output)


def converse(env, child, password):
    """Answer the password once, then the whole enrolment dialogue."""
    import pexpect
    pats = [BOTH_RX, PASSWORD_RX, CONFIRM_RX, DONE_RX, CODE_RX,
            MARKER + r"\r?\n(\S+)", pexpect.EOF, pexpect.TIMEOUT]
    d = Dialogue()
    while True:
        i = child.expect(pats)
        d.output += (child.before or "") + (
            child.after if isinstance(child.after, str) else "")
        if i in (0, 1):
            d.seen.append("password")
            if d.seen.count("password") > 1:
                break           # asked again: the first one failed
            child.sendline(password)
        elif i == 2:
            d.seen.append("confirm")
            m = SECRET_RX.findall(d.output)
            d.secret = m[-1].replace(" ", "") if m else ""
            env.wait_fresh_step()
            child.sendline(env.code_at(d.secret, time.time())
                           if d.secret else "000000")
        elif i == 3:
            d.seen.append("done")
            child.sendline("")
        elif i == 4:
            d.seen.append("code")
            break
        elif i == 5:
            d.logged_in = True
            d.whoami = child.match.group(1).strip()
            break
        else:
            break
    child.close(force=True)
    return d


def spawn(argv, env_vars):
    import pexpect
    return pexpect.spawn(argv[0], argv[1:], env=env_vars, cwd="/",
                         encoding="utf-8", codec_errors="replace",
                         timeout=e2elib.PEXPECT_TIMEOUT)


def ssh(env, sshd, user, password, key=None):
    opts = ["-F", "/dev/null", "-p", str(sshd.port), "-T",
            "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "NumberOfPasswordPrompts=1",
            "-o", "ConnectTimeout=10", "-o", "GSSAPIAuthentication=no",
            "-o", "ControlMaster=no", "-o", "ControlPath=none",
            "-o", "IdentityAgent=none", "-o", "IdentitiesOnly=yes"]
    if key:
        opts += ["-i", key, "-o", "PubkeyAuthentication=yes",
                 "-o", "PreferredAuthentications="
                 "publickey,keyboard-interactive"]
    else:
        opts += ["-o", "PubkeyAuthentication=no",
                 "-o", "PreferredAuthentications=keyboard-interactive"]
    argv = ["/usr/bin/ssh"] + opts + ["%s@127.0.0.1" % user.name,
                                      "echo %s; id -un" % MARKER]
    return converse(env, spawn(argv, {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
        "HOME": env.dir, "TERM": "dumb"}), password)


def sudo(env, user, password):
    argv = [SETPRIV, "--reuid=%d" % user.uid, "--regid=%d" % user.gid,
            "--init-groups", "--", SUDO, "-k", "/bin/sh", "-c",
            "echo %s; id -un" % MARKER]
    return converse(env, spawn(argv, {
        "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TERM": "dumb",
        "HOME": user.home, "USER": user.name, "LOGNAME": user.name}),
        password)


def su(env, stack, caller, target, password):
    argv = [UNSHARE, "-m", "--propagation", "private", "/bin/sh", "-c",
            BIND, "sh", stack, "/etc/pam.d/su",
            SETPRIV, "--reuid=%d" % caller.uid, "--regid=%d" % caller.gid,
            "--init-groups", "--", SU, target.name, "-c",
            "echo %s; id -un" % MARKER]
    return converse(env, spawn(argv, {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
        "TERM": "dumb"}), password)


def sudoers(env, users, service):
    text = "# flowtotp e2e test drop-in, removed when the test ends\n"
    for u in users:
        text += ("Defaults:%(u)s pam_service=%(s)s\n"
                 "Defaults:%(u)s passwd_tries=1, timestamp_timeout=0, "
                 "!lecture\n%(u)s ALL=(root) ALL\n" % {"u": u.name,
                                                       "s": service})
    staged = env.path("sudoers-" + service)
    with open(staged, "w") as f:
        f.write(text)
    os.chmod(staged, 0o440)
    if e2elib.run([VISUDO, "-cf", staged], check=False).returncode != 0:
        raise RuntimeError("visudo refused the drop-in")
    path = os.path.join(SUDOERS_D, "flowtotp-test-" + env.suffix)
    if os.path.exists(path):
        os.unlink(path)
    else:
        env.defer(lambda p: os.path.exists(p) and os.unlink(p), path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o440)
    with os.fdopen(fd, "w") as f:
        f.write(text)


# ---- the QR code from the captured terminal output ----

def qr_lines(output):
    lines = [ln.rstrip("\r") for ln in output.split("\n")]
    start = next((i for i, ln in enumerate(lines) if TITLE in ln), None)
    if start is None:
        return []
    out = []
    for ln in lines[start + 1:]:
        if not ln or any(ch not in UTF8_CELLS for ch in ln):
            break
        out.append(ln)
    return out


def decode_qr(env, lines):
    grid = []
    for line in lines:
        top = [UTF8_CELLS[ch][0] for ch in line]
        bottom = [UTF8_CELLS[ch][1] for ch in line]
        grid += [top, bottom]
    if grid and len(grid) == len(grid[0]) + 1:
        grid.pop()          # the light padding half row
    fd, path = tempfile.mkstemp(suffix=".pgm", dir=env.dir)
    with os.fdopen(fd, "wb") as f:
        h, w = len(grid), len(grid[0]) if grid else 0
        f.write(b"P5\n%d %d\n255\n" % (w * SCALE, h * SCALE))
        for row in grid:
            line = bytes(v for v in row for _ in range(SCALE))
            for _ in range(SCALE):
                f.write(line)
    r = subprocess.run([ZBARIMG, "--raw", "-q", path], capture_output=True)
    return r.stdout.decode("utf-8", "replace").rstrip("\n")


def check_enrolled(env, what, d, user, whoami):
    path = os.path.join(env.store, user.name)
    if not tap.ok(d.logged_in and d.whoami == whoami and
                  d.seen[-2:] == ["confirm", "done"],
                  "%s: enrolled in the login, then logged in" % what):
        tap.diag(repr(d))
    st = os.lstat(path) if os.path.exists(path) else None
    tap.ok(st is not None and st.st_uid == 0 and
           (st.st_mode & 0o7777) == 0o600,
           "%s: the secret is in the root store, 0600 root" % what)
    lines = qr_lines(d.output)
    uris = URI_RX.findall(d.output)
    got = decode_qr(env, lines) if lines else ""
    if not tap.ok(bool(uris) and got == uris[-1] and
                  ("secret=%s" % d.secret) in got,
                  "%s: zbarimg decodes the QR code from the terminal to the "
                  "URI shown, with the secret shown" % what):
        tap.diag("decoded %r, uris %r, %d QR lines" % (got, uris,
                                                       len(lines)))
    return st is not None


def check_nothing(env, what, d, user, mark):
    path = os.path.join(env.store, user.name)
    ok = (not d.logged_in and "confirm" not in d.seen and
          not os.path.exists(path) and
          not [n for n in os.listdir(env.store) if user.name in n])
    if not tap.ok(ok, "%s: wrong first factor, then the enrolment "
                  "dialogue: denied, nothing enrolled" % what):
        tap.diag(repr(d))
    if env.sink.active:
        lines = [ln for ln in env.sink.lines(mark)
                 if "flowtotp:" in ln and "user=%s " % user.name in ln and
                 "reason=enrolled" in ln]
        tap.is_(lines, [], "%s: no enrolment logged" % what)


def sshd_cases(env):
    Sshd.prepare(env)
    daemons = {}
    for stack, cfg in SSHD_STACKS.items():
        daemons[stack] = Sshd(env, env.name("sshd") + "-" + stack[:6] +
                              str(len(daemons)),
                              env.pam_stack(stack, ENROLL_ARG), cfg).start()
    alice = env.add_user("a")
    mark = env.sink.mark()
    d = ssh(env, daemons["sshd-password"], alice, alice.password)
    check_enrolled(env, "sshd keyboard-interactive", d, alice, alice.name)
    env.check_log("sshd: logged enrolled", mark, daemons["sshd-password"]
                  .name, alice.name, "enrolled")

    kim = env.add_user("k")
    key = daemons["sshd-key"].add_key(kim)
    d = ssh(env, daemons["sshd-key"], kim, "", key=key)
    check_enrolled(env, "sshd key stack (publickey in SSH_AUTH_INFO_0)", d,
                   kim, kim.name)

    for stack in SSHD_STACKS:
        victim = env.add_user("v")
        mark = env.sink.mark()
        d = ssh(env, daemons[stack], victim, "wrong-" + victim.password)
        check_nothing(env, "sshd, %s stack" % stack, d, victim, mark)


def sudo_cases(env):
    bob = env.add_user("b")
    svc = env.name("sudo")
    env.pam_service(svc, env.pam_stack("sudo", ENROLL_ARG))
    sudoers(env, [bob], svc)
    d = sudo(env, bob, bob.password)
    check_enrolled(env, "sudo", d, bob, "root")
    for stack in SUDO_STACKS:
        victim = env.add_user("w")
        svc = env.name("sudo-" + stack)
        env.pam_service(svc, env.pam_stack(stack, ENROLL_ARG))
        sudoers(env, [victim], svc)
        mark = env.sink.mark()
        d = sudo(env, victim, "wrong-" + victim.password)
        check_nothing(env, "sudo, %s stack" % stack, d, victim, mark)


def su_case(env):
    res = e2elib.run([UNSHARE, "-m", "--propagation", "private", "true"],
                     check=False)
    if res.returncode != 0:
        return e2elib.skip("su through a private mount namespace",
                           "unshare -m is not available here")
    caller, target = env.add_user("c"), env.add_user("t")
    stack = env.path("pam-su")
    with open(stack, "w") as f:
        f.write(env.pam_stack("su", ENROLL_ARG))
    d = su(env, stack, caller, target, target.password)
    check_enrolled(env, "su", d, target, target.name)


def main():
    e2elib.require_root()
    e2elib.require_pexpect()
    e2elib.require_files(e2elib.MODULE, e2elib.ENROLL, e2elib.OATHTOOL,
                         SUDO, VISUDO, SETPRIV, ZBARIMG, "/usr/sbin/sshd")
    with Env("enrol") as env:
        sshd_cases(env)
        sudo_cases(env)
        su_case(env)
    tap.done_testing()


main()
