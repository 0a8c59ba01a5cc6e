#!/usr/bin/env python3
"""Rollout policy through real PAM (tests/pam/ft-pam-login and the test
module) with real local users and /etc/group groups (useradd/groupadd with
a unique prefix, removed in a finally block; root only):

 - each cell of require x enrolled, with require=group:G where the user is
   in G as a supplementary group: required+enrolled asked, required+not
   enrolled denied, not required+not enrolled PAM_IGNORE without a prompt
   (reason=not_required), not required+enrolled asked;
 - exempt= users are never prompted, enrolled or not: PAM_IGNORE,
   reason=exempt (never PAM_SUCCESS from the module);
 - require=all (the default) and require=none;
 - a group of require= or exempt= that does not exist fails closed:
   required and not exempt, with a log line;
 - nullok with require= is a configuration error (pam.d, file+pam.d, CLI);
 - totp-enroll status shows the same verdict and why."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, PERIOD, tap  # noqa: E402

TAG = "pol%d" % os.getpid()
G_REQ = ("ftg%sr" % TAG)[:31]
G_EX = ("ftg%se" % TAG)[:31]
G_MISSING = ("ftg%sx" % TAG)[:31]


login = clitest.pam_login


def service(env, name, args):
    """The module, then pam_permit: the module's own return is in its log
    line (result=success|ignore|failure); the prompts are counted."""
    a = ["secret=" + env.secret_tpl, "cache=" + env.cache] + args
    with open(os.path.join(env.confdir, name), "w") as f:
        f.write("auth requisite %s %s\n" % (clitest.PAM_MODULE, " ".join(a)))
        f.write("auth required pam_permit.so\n")
        f.write("account required pam_permit.so\n")
    return name


def enrol(env, user):
    return clitest.enrol_json(env, user)[1]


def group(name):
    subprocess.run(["groupadd", name], check=True, capture_output=True)


def add_to(user, grp):
    subprocess.run(["usermod", "-a", "-G", grp, user], check=True,
                   capture_output=True)


def asked(env, svc, user, secret, desc):
    lg = login(env, svc, user, [clitest.wrong_code(secret, T0)])
    tap.ok(lg.prompts == 1 and lg.outcome() == ("failure", "bad_code"),
           "%s: asked, a wrong code denied (%s)" % (desc, lg.line))
    lg = login(env, svc, user, [clitest.totp(secret, T0 + PERIOD)],
               now=T0 + PERIOD)
    tap.ok(lg.rc == "PAM_SUCCESS" and lg.outcome() == ("success", "ok"),
           "%s: the right code passes" % desc)


def cells(env, users, secrets):
    req, free, ex = users
    svc = service(env, "ftgroup", ["require=group:" + G_REQ,
                                   "exempt=group:" + G_EX])
    lg = login(env, svc, req["new"], ["123456"])
    tap.ok(lg.prompts == 1 and lg.rc != "PAM_SUCCESS" and
           lg.outcome() == ("failure", "no_secret"),
           "required (supplementary group), not enrolled: denied")
    asked(env, svc, req["old"], secrets[req["old"]],
          "required, enrolled")
    lg = login(env, svc, free["new"], [])
    tap.ok(lg.prompts == 0 and lg.outcome() == ("ignore", "not_required"),
           "not required, not enrolled: PAM_IGNORE, no prompt (%s)" %
           lg.line)
    asked(env, svc, free["old"], secrets[free["old"]],
          "not required, enrolled")
    for who in ("new", "old"):
        lg = login(env, svc, ex[who], [])
        tap.ok(lg.prompts == 0 and lg.outcome() == ("ignore", "exempt") and
               G_EX in lg.line,
               "exempt (%s): PAM_IGNORE without a prompt, reason=exempt" %
               ("not enrolled" if who == "new" else "enrolled"))


def split_stack(env, users):
    """The split stack: the first instance prompts for the password and
    code whatever the policy; for an exempt user or an unenrolled user
    outside require= the whole answer is the password (pam_exec checks
    what it got), and use_stashed returns PAM_IGNORE."""
    req, free, ex = users
    a = " ".join(["secret=" + env.secret_tpl, "cache=" + env.cache,
                  "require=group:" + G_REQ, "exempt=group:" + G_EX])
    check = os.path.join(env.dir, "pwcheck.sh")
    with open(check, "w") as f:
        f.write('#!/bin/sh\nread -r pw\n[ "$pw" = "pass123456" ]\n')
    os.chmod(check, 0o755)
    with open(os.path.join(env.confdir, "ftsplit"), "w") as f:
        f.write("auth requisite %s split %s\n" % (clitest.PAM_MODULE, a))
        f.write("auth [success=ok default=die] pam_exec.so expose_authtok "
                "quiet %s\n" % check)
        f.write("auth required %s use_stashed %s\n" %
                (clitest.PAM_MODULE, a))
        f.write("account required pam_permit.so\n")
    for user, reason in ((ex["old"], "exempt"), (free["new"],
                                                  "not_required")):
        lg = login(env, "ftsplit", user, ["pass123456"])
        tap.ok(lg.rc == "PAM_SUCCESS" and lg.outcome() == ("ignore", reason),
               "split stack, %s: a password ending in digits is handed on "
               "whole, use_stashed PAM_IGNORE (%s)" % (reason, lg.line))


def words(env, users):
    req, free, ex = users
    svc = service(env, "ftall", [])
    lg = login(env, svc, free["new"], ["123456"])
    tap.ok(lg.prompts == 1 and lg.outcome() == ("failure", "no_secret"),
           "require=all (default): a user in no group, not enrolled, denied")
    svc = service(env, "ftnone", ["require=none"])
    lg = login(env, svc, req["new"], [])
    tap.ok(lg.prompts == 0 and lg.outcome() == ("ignore", "not_required"),
           "require=none: not enrolled passes on with PAM_IGNORE")
    svc = service(env, "ftnullok", ["nullok"])
    lg = login(env, svc, req["new"], [])
    tap.ok(lg.prompts == 0 and lg.outcome() == ("ignore", "no_secret"),
           "nullok is require=none (its old log line kept)")


def fail_closed(env, users):
    req, free, ex = users
    svc = service(env, "ftmiss", ["require=group:" + G_MISSING])
    lg = login(env, svc, free["new"], ["123456"])
    tap.ok(lg.prompts == 1 and lg.outcome() == ("failure", "no_secret"),
           "require= names a missing group: everyone required")
    tap.ok(any(G_MISSING in l and "does not exist" in l
               for l in env.log_lines()),
           "... and the lookup failure is logged")
    svc = service(env, "ftmissex", ["require=none",
                                    "exempt=group:%s,group:%s" %
                                    (G_MISSING, G_EX)])
    lg = login(env, svc, ex["old"], ["123456"])
    tap.ok(lg.prompts == 1 and lg.outcome()[0] == "failure",
           "exempt= with a missing group: not exempt, and required")


def config_errors(env):
    svc = service(env, "ftboth", ["nullok", "require=all"])
    lg = login(env, svc, "root", ["123456"])
    tap.ok(lg.outcome() == ("failure", "config_error") and
           "nullok and require=" in lg.line,
           "nullok with require= in pam.d: config_error")
    conf = os.path.join(env.dir, "nullok.conf")
    with open(conf, "w") as f:
        f.write("nullok\n")
    svc = service(env, "ftboth2", ["conf=" + conf, "require=none"])
    lg = login(env, svc, "root", ["123456"])
    tap.ok(lg.outcome() == ("failure", "config_error"),
           "nullok in the file, require= in pam.d: config_error")
    for bad in ("require=some", "require=group:", "exempt=all",
                "require=group:a,,group:b", "exempt=group:a b"):
        svc = service(env, "ftbad", [bad])
        lg = login(env, svc, "root", ["123456"])
        tap.ok(lg.outcome() == ("failure", "config_error"),
               "%s: config_error" % bad)
    r = env.run(["-o", "nullok", "-o", "require=none", "status", "root"])
    tap.ok(r.returncode == clitest.EX_USAGE and "nullok" in r.stderr,
           "totp-enroll: nullok with require= is a usage error")


def status(env, users):
    req, free, ex = users
    opts = env.opts + ["-o", "require=group:" + G_REQ,
                       "-o", "exempt=group:" + G_EX]
    want = {req["old"]: (True, False, "member of group " + G_REQ),
            free["new"]: (False, False, "not required"),
            ex["old"]: (False, True, "exempt: member of group " + G_EX)}
    for user, (required, exempt, why) in want.items():
        r = env.run(["status", user, "--json"], opts=opts)
        u = json.loads(r.stdout or "{}").get("users", [{}])[0]
        tap.ok(u.get("required") is required and
               u.get("exempt") is exempt and why in u.get("policy", ""),
               "status --json %s: required=%s exempt=%s (%s)" %
               (user, required, exempt, u.get("policy")))
        r = env.run(["status", user], opts=opts)
        tap.ok("policy " in r.stdout and why in r.stdout,
               "status text shows the policy (%s)" % r.stdout.strip())


def setup(env):
    group(G_REQ)
    group(G_EX)
    users, secrets = [], {}
    for role, grp in (("r", G_REQ), ("f", None), ("e", G_EX)):
        u = {}
        for who in ("new", "old"):
            name = ("ft%s%s%s" % (TAG, role, who[0]))[:31]
            env.add_user(name)
            if grp:
                add_to(name, grp)
            u[who] = name
        secrets[u["old"]] = enrol(env, u["old"])
        users.append(u)
    return users, secrets


def main():
    clitest.need_components(pam=True)
    if not clitest.is_root():
        tap.skip_all("needs root (useradd, groupadd)")
    env = clitest.Env("policy")
    try:
        users, secrets = setup(env)
        cells(env, users, secrets)
        split_stack(env, users)
        words(env, users)
        fail_closed(env, users)
        config_errors(env)
        status(env, users)
    finally:
        env.cleanup()
        for g in (G_REQ, G_EX):
            subprocess.run(["groupdel", g], capture_output=True)
    tap.done_testing()


main()
