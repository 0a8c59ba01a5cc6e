#!/usr/bin/env python3
"""The group policy with groups that come from an NSS source other than
/etc/group: tests/pam/ft-pam-login and the test module run under
nss_wrapper (libnss-wrapper: NSS_WRAPPER_PASSWD/GROUP name private files,
which then are the whole user database, as LDAP or SSSD would be), with
users and groups that exist nowhere else:

 - require=group:R applies to a member of R known only through the shim:
   enrolled, asked for the code; not enrolled, denied;
 - a user outside R, not enrolled: PAM_IGNORE, reason=not_required;
 - exempt=group:E: a member known only through the shim is never asked
   (PAM_IGNORE, reason=exempt), enrolled or not;
 - totp-enroll status, under the same shim, says the same."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, tap  # noqa: E402

TAG = "nss%d" % os.getpid()
G_REQ = ("ftg%sr" % TAG)[:31]
G_EX = ("ftg%se" % TAG)[:31]
KEY = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
NSS_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
            "/lib/x86_64-linux-gnu")
BASE_ID = 3000000 + os.getpid() % 100000 * 8


def name(n):
    return ("ft%s%s" % (TAG, n))[:31]


# name: (enrolled, supplementary groups)
USERS = {"re": (True, [G_REQ]), "rn": (False, [G_REQ]), "fn": (False, []),
         "ee": (True, [G_EX]), "en": (False, [G_EX, G_REQ])}


def nss_wrapper():
    for d in NSS_DIRS:
        p = os.path.join(d, "libnss_wrapper.so")
        if os.access(p, os.R_OK):
            return p
    return None


def write_db(env):
    pw = os.path.join(env.dir, "passwd")
    gr = os.path.join(env.dir, "group")
    with open(pw, "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
        for i, n in enumerate(sorted(USERS)):
            f.write("%s:x:%d:%d:nss test:%s:/bin/false\n" %
                    (name(n), BASE_ID + i, BASE_ID, env.dir))
    with open(gr, "w") as f:
        f.write("root:x:0:\n")
        f.write("ftg%sp:x:%d:\n" % (TAG, BASE_ID))  # everyone's primary
        for g, gid in ((G_REQ, BASE_ID + 1), (G_EX, BASE_ID + 2)):
            members = [name(n) for n, (_, gs) in USERS.items() if g in gs]
            f.write("%s:x:%d:%s\n" % (g, gid, ",".join(sorted(members))))
    return pw, gr


def enrol(env, n):
    path = env.path(name(n))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, ("version = 1\nsecret = %s\nalgorithm = SHA1\n"
                  "digits = 6\nperiod = 30\ncreated = 1699990000\n" %
                  KEY).encode())
    os.close(fd)


def service(env, svc, args):
    a = ["secret=" + env.secret_tpl, "cache=" + env.cache] + args
    with open(os.path.join(env.confdir, svc), "w") as f:
        f.write("auth requisite %s %s\n" % (clitest.PAM_MODULE, " ".join(a)))
        f.write("auth required pam_permit.so\n")
        f.write("account required pam_permit.so\n")
    return svc


def login(env, shim, svc, n, answer, now=T0):
    before = len(env.log_lines())
    r = subprocess.run([clitest.PAM_LOGIN, svc, name(n), env.confdir],
                       input=answer + "\n", capture_output=True, text=True,
                       env=env.env(now, **shim), timeout=60)
    lines = [l for l in env.log_lines()[before:] if "flowtotp: service=" in l]
    line = lines[-1] if lines else ""
    m = re.search(r"result=(\S+) reason=(\S+)", line)
    return (r.stdout.strip(), len(re.findall(r"^prompt: ", r.stderr, re.M)),
            (m.group(1), m.group(2)) if m else (None, None), line)


def cases(env, shim):
    svc = service(env, "ftnss", ["require=group:" + G_REQ,
                                 "exempt=group:" + G_EX])
    rc, prompts, out, line = login(env, shim, svc, "re",
                                   clitest.totp(KEY, T0))
    tap.ok(rc == "PAM_SUCCESS" and prompts == 1 and out == ("success", "ok"),
           "member of the require= group only through NSS, enrolled: "
           "asked, the code passes (%s)" % line)
    rc, prompts, out, line = login(env, shim, svc, "rn", "123456")
    tap.ok(rc != "PAM_SUCCESS" and out == ("failure", "no_secret"),
           "member only through NSS, not enrolled: denied (%s)" % line)
    rc, prompts, out, line = login(env, shim, svc, "fn", "")
    tap.ok(prompts == 0 and out == ("ignore", "not_required"),
           "not a member, not enrolled: PAM_IGNORE, not_required (%s)" % line)
    for n, what in (("ee", "enrolled"), ("en", "not enrolled, also in R")):
        rc, prompts, out, line = login(env, shim, svc, n, "")
        tap.ok(prompts == 0 and out == ("ignore", "exempt"),
               "member of the exempt= group only through NSS, %s: never "
               "asked, PAM_IGNORE (%s)" % (what, line))
    opts = env.opts + ["-o", "require=group:" + G_REQ,
                       "-o", "exempt=group:" + G_EX]
    r = subprocess.run([clitest.CLI] + opts + ["status", name("rn")],
                       capture_output=True, text=True, timeout=60,
                       env=env.env(T0, **shim))
    tap.ok("required" in r.stdout and G_REQ in r.stdout,
           "totp-enroll status under the shim: required (%s)" %
           r.stdout.strip())


def main():
    clitest.need_components(pam=True)
    lib = nss_wrapper()
    if lib is None:
        tap.skip_all("libnss_wrapper.so not found (Debian libnss-wrapper)")
    env = clitest.Env("policynss")
    try:
        pw, gr = write_db(env)
        with open("/etc/group") as f:
            etc = f.read()
        tap.ok(G_REQ not in etc and G_EX not in etc,
               "the groups are not in /etc/group")
        for n, (enrolled, _) in USERS.items():
            if enrolled:
                enrol(env, n)
        shim = {"LD_PRELOAD": lib, "NSS_WRAPPER_PASSWD": pw,
                "NSS_WRAPPER_GROUP": gr}
        cases(env, shim)
    finally:
        env.cleanup()
    tap.done_testing()


main()
