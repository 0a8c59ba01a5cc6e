"""Hostile environment.  Each case but the planted cache directory must deny, log one clear line
(reason and a detail naming the problem) and lose nothing (the secret file,
its backup codes and the cache stay as they were):
  - the secret file's directory is a symlink;
  - the secret file is swapped with a symlink / a world-readable copy
    holding an attacker's secret while logins run (replaced between check
    and open): the attacker's code never works;
  - the cache file is a symlink (and the file it points to is untouched);
  - the cache directory is a symlink (root takes the path back and the
    login goes on, with one warning; nothing is written through the link);
  - the cache directory cannot be written (non-root: mode 0500; root: a
    read-only tmpfs, skipped if mount fails);
  - the disk is full when a backup code is used (root: a 64k tmpfs filled
    up; skipped if mount fails): the code is refused, stays in the file and
    works once space is back.
Mounts are undone and temp dirs removed even on failure."""
import os
import shutil
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlib  # noqa: E402
from hlib import tap  # noqa: E402

T0 = hlib.T0
RACE_LOGINS = int(os.environ.get("FLOWTOTP_RACE_LOGINS", "60"))


def denied(res, line, reason, words, desc):
    ok = res != "PAM_SUCCESS" and (" reason=%s" % reason) in line
    ok = ok and any(w in line for w in words)
    tap.ok(ok, desc)
    tap.diag("result %s, log: %s" % (res, line))


def mount_tmpfs(path, opts):
    if os.geteuid() != 0:
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path],
                       capture_output=True)
    return r.returncode == 0


def umount(path):
    subprocess.run(["umount", path], capture_output=True)


def case_dir_symlink():
    env = hlib.Env("dirlink")
    try:
        info = env.enroll()
        before = hlib.read_bytes(env.path)
        link = os.path.join(env.dir, "storelink")
        os.symlink(env.store, link)
        env.service(secret_tpl=os.path.join(link, "%u"))
        res, line = env.login(hlib.totp(info["secret"], T0))
        denied(res, line, "unsafe_file", ("symlink", "symbolic link"),
               "secret directory is a symlink: denied, logged")
        tap.ok(hlib.read_bytes(env.path) == before, "file unchanged")
    finally:
        env.cleanup()


def case_swap_race():
    env = hlib.Env("swap", extra="deny=0")
    attacker = hlib.Env("swapatk")
    try:
        mine = env.enroll()
        bad = attacker.enroll()
        evil_link = os.path.join(env.store, ".evil-link")
        evil_copy = os.path.join(env.store, ".evil-copy")
        real = os.path.join(env.store, ".real")
        shutil.copy(env.path, real)
        os.chmod(real, 0o600)
        os.symlink(attacker.path, evil_link)
        stop = threading.Event()
        swaps = [0]

        def swapper():
            while not stop.is_set():
                # An attacker's file: first a symlink, then a readable copy.
                try:
                    os.symlink(attacker.path, evil_link + ".n")
                    os.replace(evil_link + ".n", env.path)
                    shutil.copy(attacker.path, evil_copy)
                    os.chmod(evil_copy, 0o644)
                    os.replace(evil_copy, env.path)
                    shutil.copy(real, real + ".n")
                    os.chmod(real + ".n", 0o600)
                    os.replace(real + ".n", env.path)
                    swaps[0] += 1
                except OSError:
                    pass

        t = threading.Thread(target=swapper)
        t.start()
        wins = 0
        outcomes = {}
        try:
            for i in range(RACE_LOGINS):
                now = T0 + 30 * i
                res, line = env.login(hlib.totp(bad["secret"], now), now)
                if res == "PAM_SUCCESS":
                    wins += 1
                r = line.split(" reason=")[1].split()[0] if \
                    " reason=" in line else "?"
                outcomes[r] = outcomes.get(r, 0) + 1
        finally:
            stop.set()
            t.join()
        tap.is_(wins, 0, "file swapped with a symlink/readable attacker "
                "file during %d logins (%d swaps): the attacker's code never "
                "works" % (RACE_LOGINS, swaps[0]))
        tap.ok(set(outcomes) <= {"unsafe_file", "bad_code"},
               "each denied as unsafe_file or bad_code: %s" % outcomes)
        os.replace(real, env.path)
        now = T0 + 30 * (RACE_LOGINS + 1)
        res, _ = env.login(hlib.totp(mine["secret"], now), now)
        tap.is_(res, "PAM_SUCCESS", "the real file still works afterwards")
    finally:
        env.cleanup()
        attacker.cleanup()


def case_cache_symlink():
    env = hlib.Env("cachelink")
    try:
        info = env.enroll()
        other = os.path.join(env.dir, "victim")
        with open(other, "w") as f:
            f.write("precious\n")
        # Replace the (real) cache file by a symlink.
        if os.path.lexists(env.cache):
            os.unlink(env.cache)
        os.symlink(other, env.cache)
        res, line = env.login(hlib.totp(info["secret"], T0))
        denied(res, line, "cache_error", ("symlink", "symbolic link",
                                          "link"),
               "cache file is a symlink: denied, logged")
        with open(other) as f:
            tap.is_(f.read(), "precious\n", "the link's target is untouched")
        tap.ok(os.path.islink(env.cache), "the symlink is left alone")
    finally:
        env.cleanup()


def case_cache_dir_symlink():
    """A symlink planted at the cache directory's path.  Root takes the path
    back (the link is moved aside, never followed) and the login goes on
    with one warning; anyone else is refused."""
    env = hlib.Env("cachedirlink")
    try:
        info = env.enroll()
        real = os.path.join(env.dir, "elsewhere")
        os.mkdir(real, 0o700)
        link = os.path.join(env.dir, "cachelink")
        os.symlink(real, link)
        env.cache = os.path.join(link, "state.gdbm")
        env.service()
        before = env.log_len()
        res, line = env.login(hlib.totp(info["secret"], T0))
        if os.geteuid() == 0:
            tap.is_(res, "PAM_SUCCESS",
                    "cache directory is a symlink: root takes the path "
                    "back and the login goes on")
            warns = [ln for ln in env.log_lines()[before:]
                     if "symbolic link" in ln and "moved aside" in ln]
            tap.is_(len(warns), 1, "one warning names the planted link")
            tap.ok(os.path.isdir(link) and not os.path.islink(link),
                   "a real directory now stands at the path")
        else:
            denied(res, line, "cache_error", ("symlink", "symbolic link",
                                              "link"),
                   "cache directory is a symlink: denied, logged")
        tap.is_(os.listdir(real), [], "nothing created through the link")
    finally:
        env.cleanup()


def case_cache_unwritable():
    env = hlib.Env("cachero")
    mounted = False
    try:
        info = env.enroll()
        ro = os.path.join(env.dir, "ro")
        os.mkdir(ro, 0o700)
        if os.geteuid() == 0:
            mounted = mount_tmpfs(ro, "ro,size=64k,mode=0700")
            if not mounted:
                tap.ok(True, "# SKIP unwritable cache dir: cannot mount a "
                       "read-only tmpfs")
                return
            how = "read-only tmpfs"
        else:
            os.chmod(ro, 0o500)
            how = "mode 0500"
        env.cache = os.path.join(ro, "state.gdbm")
        env.service()
        before = hlib.read_bytes(env.path)
        res, line = env.login(hlib.totp(info["secret"], T0))
        denied(res, line, "cache_error", ("cache", "state.gdbm"),
               "cache directory not writable (%s): denied, logged" % how)
        tap.ok(hlib.read_bytes(env.path) == before, "secret file unchanged")
    finally:
        if mounted:
            umount(ro)
        env.cleanup()


def case_disk_full():
    if os.geteuid() != 0:
        tap.ok(True, "# SKIP full disk: needs root for a tmpfs")
        return
    env = hlib.Env("full", extra="deny=0")
    store = env.store
    mounted = False
    try:
        mounted = mount_tmpfs(store, "size=64k,mode=0700")
        if not mounted:
            tap.ok(True, "# SKIP full disk: cannot mount a tmpfs")
            return
        info = env.enroll()
        before = hlib.read_bytes(env.path)
        filler = os.path.join(store, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\1" * 512) > 0:
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        code = info["backup_codes"][0]
        res, line = env.login(code)
        denied(res, line, "unsafe_file", ("space", "No space", "write"),
               "backup code with the disk full: denied, logged")
        tap.ok(hlib.read_bytes(env.path) == before,
               "secret file unchanged (code kept)")
        tap.is_([n for n in os.listdir(store) if n.startswith(".")], [],
                "no temp file left behind")
        os.unlink(filler)
        res, line = env.login(code)
        tap.is_(res, "PAM_SUCCESS", "with space back the same code works")
        res, line = env.login(code)
        tap.ok(res != "PAM_SUCCESS", "and then never again")
    finally:
        if mounted:
            umount(store)
        env.cleanup()


def main():
    hlib.need_components()
    case_dir_symlink()
    case_swap_race()
    case_cache_symlink()
    case_cache_dir_symlink()
    case_cache_unwritable()
    case_disk_full()
    tap.done_testing()


main()
