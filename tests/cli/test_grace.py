#!/usr/bin/env python3
"""grace_days= through real PAM (tests/pam/ft-pam-login, the test module,
the test clock) with a real local user (useradd, removed in a finally
block; root only).  The first factor is the shipped split stack (split,
a password line, use_stashed), as in test_enroll_login:

 - day 0: the first login past the first factor writes the record (0600
   root, in a 0700 root directory the module creates) and lets the user in
   with PAM_IGNORE, reason=grace, and the PAM_TEXT_INFO notice with the
   date; a stack with no visible first factor writes nothing and denies;
 - day N-1 still let in; the record survives the cache being wiped (a
   simulated reboot); day N+1 denied (reason no_secret, "grace: over");
 - a damaged, future, group-readable or symlinked record: grace over;
 - a record that cannot be written denies;
 - totp-enroll status shows the grace; grace --extend and --reset;
 - enroll=login during the grace: offered, and an empty answer skips."""
import os
import shutil
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, tap  # noqa: E402

DAY = 86400
DAYS = 7
USER = clitest.temp_user_name("gr")


def login(env, svc, answers, now):
    return clitest.pam_login(env, svc, USER, answers, now)


def service(env, name, extra, split=True):
    a = " ".join(["secret=" + env.secret_tpl, "cache=" + env.cache] + extra)
    with open(os.path.join(env.confdir, name), "w") as f:
        if split:
            f.write("auth requisite %s split %s\n" % (clitest.PAM_MODULE, a))
            f.write("auth [success=ok default=die] pam_permit.so\n")
            f.write("auth required %s use_stashed %s\n" %
                    (clitest.PAM_MODULE, a))
        else:
            f.write("auth required %s %s\n" % (clitest.PAM_MODULE, a))
        f.write("account required pam_permit.so\n")
    return name


def record(gdir):
    return os.path.join(gdir, USER)


def let_in(lg, desc, deadline=None):
    tap.ok(lg.rc == "PAM_SUCCESS" and lg.outcome() == ("ignore", "grace"),
           "%s: let in, module PAM_IGNORE reason=grace (%s)" %
           (desc, lg.line))
    want = "two-factor authentication is required from"
    tap.ok(any(want in i and "run totp-enroll" in i and
               (deadline is None or deadline in i) for i in lg.infos),
           "%s: told when and what to do (%s)" % (desc, lg.infos))


def denied(lg, desc, frag):
    tap.ok(lg.rc != "PAM_SUCCESS" and lg.outcome()[0] == "failure" and
           frag in lg.line, "%s: denied (%s)" % (desc, lg.line))


def days(env, gdir, svc):
    nofactor = service(env, "ftgnofactor",
                       ["grace_days=%d" % DAYS, "grace_dir=" + gdir],
                       split=False)
    lg = login(env, nofactor, ["123456"], T0)
    denied(lg, "no visible first factor", "no first factor")
    tap.ok(not os.path.exists(gdir),
           "... and nothing written before the first factor")
    lg = login(env, svc, ["password"], T0)
    let_in(lg, "day 0", "2023-11-21 22:13 UTC")
    st = os.lstat(record(gdir))
    dst = os.lstat(gdir)
    tap.ok(stat.S_ISREG(st.st_mode) and st.st_uid == 0 and
           stat.S_IMODE(st.st_mode) == 0o600 and dst.st_uid == 0 and
           stat.S_IMODE(dst.st_mode) == 0o700,
           "day 0: record 0600 root in a 0700 root directory")
    with open(record(gdir)) as f:
        first = f.read()
    tap.is_(first, "flowtotp-grace 1 first=%d extend=0\n" % T0,
            "the record holds the first-seen time")
    shutil.rmtree(env.cache_dir)      # a reboot: /dev/shm is gone
    os.mkdir(env.cache_dir, 0o700)
    lg = login(env, svc, ["password"], T0 + (DAYS - 1) * DAY)
    let_in(lg, "day N-1 after the cache was wiped", "2023-11-21 22:13 UTC")
    with open(record(gdir)) as f:
        tap.is_(f.read(), first, "the record is not rewritten later")
    lg = login(env, svc, ["password"], T0 + DAYS * DAY)
    denied(lg, "day N", "grace: over since 2023-11-21 22:13 UTC")
    lg = login(env, svc, ["password"], T0 + (DAYS + 1) * DAY)
    denied(lg, "day N+1", "grace: over since")
    tap.ok(lg.infos == [], "day N+1: no grace notice")


def admin(env, gdir, svc):
    opts = env.opts + ["-o", "grace_days=%d" % DAYS, "-o",
                       "grace_dir=" + gdir]
    now = T0 + (DAYS + 1) * DAY
    r = env.run(["status", USER], now=now, opts=opts)
    tap.ok("GRACE OVER since 2023-11-21" in r.stdout,
           "status: grace over (%s)" % r.stdout.strip())
    r = env.run(["grace", USER, "--extend", "3"], now=now, opts=opts)
    tap.ok(r.returncode == 0 and "2023-11-24" in r.stdout,
           "grace --extend 3: three more days (%s)" % r.stdout.strip())
    lg = login(env, svc, ["password"], now)
    let_in(lg, "after --extend", "2023-11-24 22:13 UTC")
    r = env.run(["status", USER, "--json"], now=now, opts=opts)
    tap.ok('"grace":"grace until 2023-11-24' in r.stdout,
           "status --json: grace until the new date")
    r = env.run(["grace", USER, "--reset", "--extend", "1"], now=now,
                opts=opts)
    tap.is_(r.returncode, clitest.EX_USAGE, "--reset with --extend: usage")
    r = env.run(["grace", USER, "--reset"], now=now, opts=opts)
    tap.ok(r.returncode == 0 and not os.path.exists(record(gdir)),
           "grace --reset removes the record")
    r = env.run(["grace", USER, "--extend", "1"], now=now, opts=opts)
    tap.ok(r.returncode == clitest.EX_FAIL and "none to extend" in r.stderr,
           "--extend without a record fails")
    lg = login(env, svc, ["password"], now)
    let_in(lg, "after --reset the grace starts again")
    with open(record(gdir)) as f:
        tap.ok("first=%d " % now in f.read(), "... from this login")


def damaged(env, gdir, svc):
    now = T0 + 10 * DAY
    bad = [("garbage", b"flowtotp-grace 1 first=oops extend=0\n", 0o600),
           ("a huge extend", b"flowtotp-grace 1 first=%d extend=99999\n" % T0,
            0o600),
           ("a future first", b"flowtotp-grace 1 first=%d extend=0\n" %
            (now + DAY), 0o600),
           ("group-readable", b"flowtotp-grace 1 first=%d extend=0\n" % now,
            0o640)]
    for desc, data, mode in bad:
        os.unlink(record(gdir))
        with open(record(gdir), "wb") as f:
            f.write(data)
        os.chmod(record(gdir), mode)
        lg = login(env, svc, ["password"], now)
        denied(lg, "record with %s: grace over" % desc, "grace: record")
        with open(record(gdir), "rb") as f:
            tap.ok(f.read() == data, "... and left as it was")
    os.unlink(record(gdir))
    os.symlink("/etc/hostname", record(gdir))
    lg = login(env, svc, ["password"], now)
    denied(lg, "a symlinked record: grace over", "grace: record")
    os.unlink(record(gdir))
    missing = os.path.join(env.dir, "nosuch", "grace")
    svc2 = service(env, "ftgnowrite", ["grace_days=%d" % DAYS,
                                       "grace_dir=" + missing])
    lg = login(env, svc2, ["password"], now)
    denied(lg, "a record that cannot be written", "cannot be written")
    tap.ok(lg.outcome() == ("failure", "unsafe_file"),
           "... reason unsafe_file")


def enrol_offer(env, gdir):
    svc = service(env, "ftgenrol", ["grace_days=%d" % DAYS,
                                    "grace_dir=" + gdir, "enroll=login"])
    now = T0 + 20 * DAY
    lg = login(env, svc, ["password", ""], now)
    tap.ok(lg.rc == "PAM_SUCCESS" and lg.outcome() == ("ignore", "grace")
           and any("otpauth" in i or "totp-enroll" in i for i in lg.infos),
           "enroll=login in the grace: offered, an empty answer skips (%s)"
           % lg.line)
    tap.ok(not os.path.exists(env.path(USER)), "... and nothing enrolled")


def main():
    clitest.need_components(pam=True)
    if not clitest.is_root():
        tap.skip_all("needs root (useradd, root-owned grace records)")
    env = clitest.Env("grace")
    try:
        env.add_user(USER)
        gdir = os.path.join(env.dir, "grace")
        svc = service(env, "ftgrace", ["grace_days=%d" % DAYS,
                                       "grace_dir=" + gdir])
        days(env, gdir, svc)
        admin(env, gdir, svc)
        damaged(env, gdir, svc)
        enrol_offer(env, gdir)
    finally:
        env.cleanup()
    tap.done_testing()


if __name__ == "__main__":
    main()
