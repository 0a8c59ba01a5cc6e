"""The built packages in a fresh Debian 12 root (tests/suites/debian.sh).

Run as root inside a private mount namespace (unshare -m --propagation
private), so the mounts made here (proc, /dev, a tmpfs on /dev/shm) vanish
with the process even if it is killed; they are also unmounted on the way
out.  Arguments: ROOT (an unpacked minbase bookworm with pamtester and
oathtool) and DEBDIR (libpam-flowtotp_*.deb, flowtotp_*.deb).  TAP on
stdout.

The story: install, the profile is off, enable it, enrol a user, log in
with password + code through the real common-auth (pamtester), an
unenrolled user still gets in with the password (nullok), the password
typed as the code is refused, disable, enable again and remove (prerm takes
the profile out), purge: /etc/pam.d is byte for byte what it was."""
import filecmp
import glob
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests", "lib"))
import tap  # noqa: E402

import pexpect  # noqa: E402

ROOT, DEBDIR = sys.argv[1], sys.argv[2]
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C",
       "DEBIAN_FRONTEND": "noninteractive", "HOME": "/root", "TERM": "dumb"}
# A service with no file of its own: libpam uses /etc/pam.d/other, which
# includes common-auth, so nothing is added to /etc/pam.d for the test.
SERVICE = "ftdeb-check"
ALICE, BOB = "ftdeb-alice", "ftdeb-bob"
PW = {ALICE: "Alice-pw-7351", BOB: "Bob-pw-2468"}
MOUNTS = ["proc", "dev/shm", "dev"]


def ch(*argv, stdin=None):
    """Run argv in the root; (exit status, stdout + stderr)."""
    p = subprocess.run(["chroot", ROOT] + list(argv), input=stdin, env=ENV,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    return p.returncode, p.stdout


def ok_run(desc, *argv, stdin=None):
    rc, out = ch(*argv, stdin=stdin)
    if not tap.ok(rc == 0, desc):
        tap.diag("%s: exit %d\n%s" % (" ".join(argv), rc, out[-3000:]))
    return rc == 0, out


def mount_all():
    run = lambda *a: subprocess.run(list(a), check=True)  # noqa: E731
    run("mount", "-t", "proc", "proc", ROOT + "/proc")
    run("mount", "--rbind", "/dev", ROOT + "/dev")
    # The host's /dev/shm is shared with everyone: the root gets its own.
    run("mount", "-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs",
        ROOT + "/dev/shm")


def umount_all():
    for m in MOUNTS:
        subprocess.run(["umount", "-R", ROOT + "/" + m],
                       stderr=subprocess.DEVNULL)


def text(path):
    with open(ROOT + path) as f:
        return f.read()


def auth_lines():
    return [ln for ln in text("/etc/pam.d/common-auth").splitlines()
            if ln.startswith("auth")]


def login(user, answers):
    """pamtester through common-auth; (authenticated, prompts seen)."""
    queue = list(answers)
    prompts = []
    child = pexpect.spawn("chroot", [ROOT, "pamtester", SERVICE, user,
                                     "authenticate"],
                          env=ENV, encoding="utf-8", timeout=30)
    out = ""
    while True:
        i = child.expect([r"[Pp]assword: ", r"Verification code: ",
                          pexpect.EOF, pexpect.TIMEOUT])
        out += child.before or ""
        if i >= 2 or not queue:
            break
        prompts.append("password" if i == 0 else "code")
        child.sendline(queue.pop(0))
    child.close(force=True)
    return "successfully authenticated" in out, prompts


def code_for(secret, offset=0):
    """The code at now + offset seconds, from oathtool on the host."""
    now = "--now=@%d" % (int(time.time()) + offset)
    p = subprocess.run(["oathtool", "--totp", "-b", now, secret],
                       stdout=subprocess.PIPE, text=True, check=True)
    return p.stdout.strip()


def parse_auth(line):
    """'auth CONTROL MODULE ARGS' -> (control, module base name, args);
    a [...] control may hold blanks."""
    rest = line.split(None, 1)[1]
    if rest.startswith("["):
        end = rest.index("]") + 1
        control, rest = rest[:end], rest[end:].split()
    else:
        control, rest = rest.split()[0], rest.split()[1:]
    return control, rest[0].split("/")[-1], rest[1:]


def check_stack_order():
    lines = auth_lines()
    parsed = [parse_auth(ln) for ln in lines]
    names = [m for _, m, _ in parsed]
    if not tap.ok("pam_flowtotp.so" in names, "enabled: common-auth has "
                  "pam_flowtotp"):
        tap.diag("\n".join(lines))
        return
    i = names.index("pam_flowtotp.so")
    deny = [c for c, m, _ in parsed[:i] if m == "pam_deny.so"]
    good = (deny == ["requisite"] and "pam_unix.so" in names[:i]
            and parsed[i][0] == "required" and "nullok" in parsed[i][2])
    if not tap.ok(good, "enabled: 'required pam_flowtotp.so nullok' after "
                  "pam_unix and the requisite pam_deny"):
        tap.diag("\n".join(lines))


def install_and_enable():
    debs = sorted(d for d in glob.glob(DEBDIR + "/*.deb")
                  if "-dbgsym_" not in d)
    os.makedirs(ROOT + "/tmp/ftdeb", exist_ok=True)
    for d in debs:
        shutil.copy(d, ROOT + "/tmp/ftdeb/")
    ok_run("apt-get install the built packages",
           "apt-get", "install", "-y", "--no-install-recommends",
           *["/tmp/ftdeb/" + os.path.basename(d) for d in debs])
    tap.ok("flowtotp" not in text("/etc/pam.d/common-auth"),
           "installed: the profile is off (Default: no)")
    st = os.stat(ROOT + "/var/lib/flowtotp/users")
    tap.ok(st.st_uid == 0 and (st.st_mode & 0o7777) == 0o700,
           "postinst: /var/lib/flowtotp/users root 0700")
    st = os.stat(ROOT + "/dev/shm/flowtotp")
    tap.ok(st.st_uid == 0 and (st.st_mode & 0o7777) == 0o700,
           "postinst: /dev/shm/flowtotp root 0700 (no systemd-tmpfiles here)")
    helper = os.stat(ROOT + "/usr/libexec/flowtotp/flowtotp-helper")
    tap.ok(helper.st_uid == 0 and (helper.st_mode & 0o7777) == 0o4755,
           "the self-service helper is set-uid root")
    ok_run("pam-auth-update --enable flowtotp", "pam-auth-update",
           "--enable", "flowtotp")
    check_stack_order()
    rc, out = ch("totp-enroll", "doctor", "--json")
    try:
        rep = json.loads(out[out.index("{"):])
    except ValueError:
        rep = {}
    pam = [f["id"] for f in rep.get("findings", [])
           if f["id"].startswith("pam-")]
    if not tap.ok(rc in (0, 6) and rep.get("errors") == 0,
                  "totp-enroll doctor: no error on the enabled common-auth "
                  "(pam findings: %s)" % ", ".join(pam)):
        tap.diag("exit %d\n%s" % (rc, out[-3000:]))


def users_and_logins():
    for u in (ALICE, BOB):
        ok_run("useradd " + u, "useradd", "-m", u)
        ok_run("set the password of " + u, "chpasswd",
               stdin="%s:%s\n" % (u, PW[u]))
    good, out = ok_run("totp-enroll enrols " + ALICE, "totp-enroll",
                       "--user", ALICE, "--no-confirm", "--json")
    try:
        secret = json.loads(out[out.index("{"):])["secret"]
    except (ValueError, KeyError):
        tap.ok(False, "enrolment JSON has the secret")
        tap.diag(out[-2000:])
        return
    got, prompts = login(ALICE, [PW[ALICE], code_for(secret)])
    tap.ok(got and prompts == ["password", "code"],
           "enrolled: password + code from oathtool logs in (%s)" % prompts)
    got, prompts = login(ALICE, [PW[ALICE], "000000"])
    tap.ok(not got and prompts == ["password", "code"],
           "enrolled: right password, wrong code: denied")
    got, prompts = login(ALICE, ["wrong-" + PW[ALICE], code_for(secret)])
    tap.ok(not got and prompts == ["password"],
           "enrolled: wrong password: denied before the code is asked")
    # What sshd's password method does: the password to every prompt.
    for _ in range(4):
        got, prompts = login(ALICE, [PW[ALICE], PW[ALICE]])
    tap.ok(not got and prompts == ["password", "code"],
           "the password given as the code: denied")
    rc, out = ch("totp-enroll", "status", ALICE, "--json")
    try:
        st = json.loads(out[out.index("{"):])["users"][0]
    except (ValueError, KeyError, IndexError):
        st = {}
    if not tap.ok(rc == 0 and st.get("locked") is False
                  and st.get("failures") == 1,
                  "... four times, and only the wrong code counted "
                  "(failures 1, not locked; deny=3)"):
        tap.diag(out[-2000:])
    got, prompts = login(ALICE, [PW[ALICE], code_for(secret, 30)])
    tap.ok(got, "... and the next code still logs in")
    got, prompts = login(BOB, [PW[BOB]])
    tap.ok(got and prompts == ["password"],
           "not enrolled: the password alone logs in (nullok)")


def disable_remove_purge(before):
    ok_run("pam-auth-update --disable flowtotp", "pam-auth-update",
           "--disable", "flowtotp")
    tap.ok("flowtotp" not in text("/etc/pam.d/common-auth"),
           "disabled: common-auth without pam_flowtotp")
    ch("pam-auth-update", "--enable", "flowtotp")
    ok_run("apt-get remove (profile enabled)", "apt-get", "remove", "-y",
           "libpam-flowtotp", "flowtotp")
    tap.ok("flowtotp" not in text("/etc/pam.d/common-auth"),
           "removed: prerm took the profile out of common-auth")
    tap.ok(not glob.glob(ROOT + "/lib/*/security/pam_flowtotp.so"),
           "removed: the module is gone")
    good, out = ok_run("apt-get purge", "apt-get", "purge", "-y",
                       "libpam-flowtotp", "flowtotp")
    tap.ok("/var/lib/flowtotp" in out and "kept" in out,
           "purge says the secret store is kept")
    tap.ok(os.path.isfile(ROOT + "/var/lib/flowtotp/users/" + ALICE),
           "purge: the secret store is kept")
    tap.ok(not os.path.lexists(ROOT + "/dev/shm/flowtotp"),
           "purge: the cache directory is gone")
    tap.ok(not os.path.lexists(ROOT + "/etc/security/flowtotp.conf"),
           "purge: the conffile is gone")
    rc, out = ch("grep", "-rl", "flowtotp", "/etc/pam.d")
    tap.ok(rc == 1, "nothing of flowtotp is left in /etc/pam.d")
    cmp = filecmp.dircmp(before, ROOT + "/etc/pam.d")
    same = not (cmp.left_only or cmp.right_only or cmp.common_funny)
    same = same and not filecmp.cmpfiles(before, ROOT + "/etc/pam.d",
                                         cmp.common_files, shallow=False)[1]
    if not tap.ok(same, "/etc/pam.d is byte for byte what it was before"):
        tap.diag(subprocess.run(["diff", "-r", before, ROOT + "/etc/pam.d"],
                                stdout=subprocess.PIPE,
                                text=True).stdout[-3000:])


def main():
    before = ROOT + "/../pam.d.before"
    shutil.copytree(ROOT + "/etc/pam.d", before, symlinks=True)
    mount_all()
    try:
        install_and_enable()
        users_and_logins()
        disable_remove_purge(before)
    finally:
        umount_all()
    tap.done_testing()


main()
