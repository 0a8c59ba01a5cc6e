"""A foreign directory or a symlink planted at the cache directory's path:
totp-enroll-test run as root (unlock, status) takes the path back by
itself, says so in exactly one warning naming the owner of what was
there, and leaves root's own 0700 directory; what was planted is moved
aside untouched, nothing is written through a link, and the real module
then logs in through it without a warning.  The cache lives under a
root-owned, sticky, world-writable directory in a temp dir, as /dev/shm
is.  Root only (the planted objects belong to nobody)."""
import json
import os
import pwd
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, PERIOD, tap  # noqa: E402


class Planted:
    def __init__(self, env):
        self.env = env
        self.shm = os.path.join(env.dir, "shm")
        os.mkdir(self.shm)
        os.chmod(self.shm, 0o1777)
        self.cdir = os.path.join(self.shm, "flowtotp")
        self.cache = os.path.join(self.cdir, "state.gdbm")
        self.opts = ["-o", "secret=" + env.secret_tpl,
                     "-o", "cache=" + self.cache]
        self.nobody = pwd.getpwnam("nobody")

    def run(self, args, now=T0):
        return self.env.run(args, now=now, opts=self.opts)

    def clear(self):
        """Remove what sits at the cache path and anything moved aside."""
        for name in os.listdir(self.shm):
            p = os.path.join(self.shm, name)
            if os.path.isdir(p) and not os.path.islink(p):
                for root, dirs, files in os.walk(p, topdown=False):
                    for f in files:
                        os.unlink(os.path.join(root, f))
                    for d in dirs:
                        os.rmdir(os.path.join(root, d))
                os.rmdir(p)
            else:
                os.unlink(p)

    def aside(self):
        return sorted(n for n in os.listdir(self.shm)
                      if n.startswith("flowtotp.foreign."))

    def plant_dir(self):
        os.mkdir(self.cdir, 0o700)
        with open(os.path.join(self.cdir, "mine"), "w") as f:
            f.write("nobody's\n")
        os.chown(os.path.join(self.cdir, "mine"), self.nobody.pw_uid,
                 self.nobody.pw_gid)
        os.chown(self.cdir, self.nobody.pw_uid, self.nobody.pw_gid)

    def plant_link(self, target):
        os.mkdir(target, 0o700)
        os.chown(target, self.nobody.pw_uid, self.nobody.pw_gid)
        os.symlink(target, self.cdir)
        os.lchown(self.cdir, self.nobody.pw_uid, self.nobody.pw_gid)

    def is_roots(self):
        st = os.lstat(self.cdir)
        return (stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and
                stat.S_IMODE(st.st_mode) == 0o700)


def one_warning(r, kind, who):
    """stderr is exactly one line naming the kind and the owner."""
    lines = r.stderr.splitlines()
    good = (len(lines) == 1 and ("was a %s" % kind) in lines[0] and
            ("owned by %s" % who) in lines[0] and "moved aside" in lines[0])
    if not good:
        tap.diag("stderr: %r" % r.stderr)
    return good


def check_unlock(p, user, kind, who, what):
    r = p.run(["unlock", user])
    tap.ok(r.returncode == 0 and r.stdout == "Unlocked %s.\n" % user,
           "%s: unlock as root succeeds" % what)
    tap.ok(one_warning(r, kind, who),
           "%s: unlock prints exactly one warning naming %s" % (what, who))
    tap.ok(p.is_roots(), "%s: the cache path is root's 0700 directory now"
           % what)
    tap.ok(os.path.exists(p.cache), "%s: the cache file is in it" % what)
    return r


def status_ok(p, user, what, expect_warning=None):
    r = p.run(["status", user, "--json"])
    try:
        st = json.loads(r.stdout)["users"][0]
    except (ValueError, KeyError, IndexError):
        tap.diag("status: %r / %r" % (r.stdout, r.stderr))
        st = {}
    tap.ok(r.returncode == 0 and st.get("state_available") is True and
           st.get("locked") is False and st.get("failures") == 0,
           "%s: status --json works, the state is available" % what)
    if expect_warning is None:
        tap.is_(r.stderr, "", "%s: status says nothing on stderr" % what)
    else:
        tap.ok(one_warning(r, *expect_warning),
               "%s: status prints exactly one warning naming %s"
               % (what, expect_warning[1]))
    return r


def planted_dir(p, user, who):
    p.plant_dir()
    check_unlock(p, user, "directory", who, "foreign directory")
    aside = p.aside()
    ok = len(aside) == 1
    if ok:
        a = os.path.join(p.shm, aside[0])
        st = os.lstat(a)
        with open(os.path.join(a, "mine")) as f:
            ok = (st.st_uid == p.nobody.pw_uid and stat.S_ISDIR(st.st_mode)
                  and f.read() == "nobody's\n")
    tap.ok(ok, "foreign directory: moved aside whole, still nobody's")
    status_ok(p, user, "foreign directory, after unlock")


def planted_link(p, user, who, secret):
    target = os.path.join(p.env.dir, "attacker-dir")
    p.plant_link(target)
    check_unlock(p, user, "symbolic link", who, "symlink")
    tap.is_(os.listdir(target), [], "symlink: nothing written through it")
    aside = p.aside()
    tap.ok(len(aside) == 1 and
           os.readlink(os.path.join(p.shm, aside[0])) == target,
           "symlink: the link itself is moved aside, not followed")
    status_ok(p, user, "symlink, after unlock")
    # The real module uses the reclaimed directory without a warning.
    svc = p.env.service("ftplanted", ["secret=" + p.env.secret_tpl,
                                      "cache=" + p.cache])
    before = len(p.env.log_lines())
    now = T0 + 2 * PERIOD
    tap.ok(p.env.login(user, clitest.totp(secret, now), now, svc),
           "symlink: the module then logs in through the reclaimed cache")
    tap.ok(not any("warning=" in l for l in p.env.log_lines()[before:]),
           "symlink: that login logs no warning")
    tap.ok(not p.env.login(user, clitest.totp(secret, now), now + 1, svc),
           "and its record is kept there (the same code is a replay)")


def status_first(p, user, who):
    """status, not unlock, is the first to meet the planted directory."""
    p.plant_dir()
    status_ok(p, user, "foreign directory met by status",
              ("directory", who))
    tap.ok(p.is_roots(), "status: leaves root's 0700 directory")


def main():
    clitest.need_components(pam=True)
    if not clitest.is_root():
        tap.skip_all("planting another uid's objects needs root")
    env = clitest.Env("planted")
    try:
        p = Planted(env)
        user = env.add_user(clitest.temp_user_name("pl")).pw_name
        r, secret = clitest.enrol_json(env, user, opts=p.opts)
        tap.is_(r.returncode, 0, "root enrols a temp user")
        who = "uid %d (nobody)" % p.nobody.pw_uid
        p.clear()
        planted_dir(p, user, who)
        p.clear()
        planted_link(p, user, who, secret)
        p.clear()
        status_first(p, user, who)
    finally:
        env.cleanup()
    tap.done_testing()


main()
