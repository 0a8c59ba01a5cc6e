#!/usr/bin/python3
"""Real /etc/passwd accounts for bench/real.sh, added and removed under the
same locks shadow-utils (useradd, userdel) takes, so that a concurrent
useradd elsewhere on the machine is neither lost nor corrupts the file.

  realusers.py add PREFIX COUNT UID0 HOMEDIR   append PREFIXnnnnnn users
  realusers.py del PREFIX UID0 COUNT           remove them again

Added lines are  PREFIXnnnnnn:*:UID:65534:flowtotp bench:HOMEDIR/NAME:
/usr/sbin/nologin  -- "*" as the password: nobody can log in with a
password, no shadow or group entry is made.  `del` removes only lines whose
name is PREFIX followed by digits AND whose uid lies in [UID0, UID0+COUNT),
so it cannot touch an account it did not add; it is safe to run twice.
/etc/passwd is replaced atomically (a new file renamed over it), mode 0644."""

import errno
import fcntl
import os
import re
import sys
import time

PASSWD = "/etc/passwd"
PWD_LOCK = "/etc/.pwd.lock"      # lckpwdf(3): an fcntl write lock
LINK_LOCK = PASSWD + ".lock"     # shadow-utils' commonio link lock
NOGROUP = 65534
SHELL = "/usr/sbin/nologin"
LOCK_TRIES = 150                 # 15 s, as lckpwdf waits
LOCK_PAUSE = 0.1


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as e:
        return e.errno == errno.EPERM
    return True


def link_lock():
    """shadow-utils' protocol: write our pid to a file, link() it to
    /etc/passwd.lock; a lock whose pid is dead is stale."""
    mine = "%s.%d" % (PASSWD, os.getpid())
    with open(mine, "w") as f:
        f.write("%d" % os.getpid())
    try:
        for _ in range(LOCK_TRIES):
            try:
                os.link(mine, LINK_LOCK)
                return
            except FileExistsError:
                try:
                    with open(LINK_LOCK) as f:
                        holder = int(f.read().strip() or "0")
                except (OSError, ValueError):
                    holder = 0
                if holder > 0 and not pid_alive(holder):
                    os.unlink(LINK_LOCK)
                    continue
                time.sleep(LOCK_PAUSE)
        sys.exit("realusers: %s is held by another program" % LINK_LOCK)
    finally:
        os.unlink(mine)


def edit(change):
    """Run change(lines) -> lines with /etc/passwd locked; replace it."""
    fd = os.open(PWD_LOCK, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        link_lock()
        try:
            with open(PASSWD) as f:
                lines = f.readlines()
            new = change(lines)
            tmp = PASSWD + "+ftb"
            with open(tmp, "w") as f:
                f.writelines(new)
                f.flush()
                os.fchmod(f.fileno(), 0o644)
                os.fsync(f.fileno())
            os.rename(tmp, PASSWD)
        finally:
            os.unlink(LINK_LOCK)
    finally:
        os.close(fd)


def ours(prefix, uid0, count):
    pat = re.compile(r"^%s\d+:[^:]*:(\d+):" % re.escape(prefix))

    def test(line):
        m = pat.match(line)
        return m is not None and uid0 <= int(m.group(1)) < uid0 + count
    return test


def add(prefix, count, uid0, homes):
    test = ours(prefix, uid0, count)
    names = ["%s%06d" % (prefix, i) for i in range(count)]

    def change(lines):
        taken = {ln.split(":", 3)[2] for ln in lines if ln.count(":") >= 3}
        if any(test(ln) for ln in lines) or any(
                str(uid0 + i) in taken for i in range(count)):
            sys.exit("realusers: %s* users or uids %d.. already exist "
                     "(a crashed run? `realusers.py del` removes them)"
                     % (prefix, uid0))
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        return lines + ["%s:*:%d:%d:flowtotp bench:%s/%s:%s\n" % (
            n, uid0 + i, NOGROUP, homes, n, SHELL)
            for i, n in enumerate(names)]
    edit(change)


def delete(prefix, uid0, count):
    test = ours(prefix, uid0, count)
    with open(PASSWD) as f:
        if not any(test(ln) for ln in f):
            return
    edit(lambda lines: [ln for ln in lines if not test(ln)])


def main(argv):
    if len(argv) == 6 and argv[1] == "add":
        add(argv[2], int(argv[3]), int(argv[4]), argv[5])
    elif len(argv) == 5 and argv[1] == "del":
        delete(argv[2], int(argv[3]), int(argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
