#!/usr/bin/env python3
"""key rotate killed at every point: the test build of totp-enroll stops
itself with SIGKILL after K writes ($FT_TEST_KEY_KILL_AFTER; a rotation
of N files makes N + 2: the new key, each file, the old key's removal).
For every K from 1 to N + 2 the store is set up afresh (plain files, key
init --plain, encrypt-store), the rotation is killed after K writes, and
then every user must log in through real PAM (oathtool codes); a second
run, killed at another point, and a third run that finishes must each
leave every user able to log in, and the last one a key file with one key
that every file uses.  Deterministic: the kill points are counted writes,
not delays.  Root only (temp users, root-owned store)."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import tap  # noqa: E402
from test_crypt import CryptEnv  # noqa: E402

SECRETS = ["GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
           "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
           "ONSWG4TFOQQGC3TEEBTGS3TE",
           "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"]


def key_ids(env):
    with open(env.plain_key) as f:
        return [l.split()[0] for l in f if l.strip() and l[0] != "#"]


def fresh_store(env, users):
    for name in os.listdir(env.store):
        os.unlink(os.path.join(env.store, name))
    if os.path.exists(env.plain_key):
        os.unlink(env.plain_key)
    for u, s in zip(users, SECRETS):
        env.write_plain(u, s)
    r1 = env.run(["key", "init", "--plain"])
    r2 = env.run(["key", "encrypt-store"])
    if r1.returncode != 0 or r2.returncode != 0:
        tap.diag("setup: %s %s" % (r1.stderr, r2.stderr))


def all_log_in(env, users):
    bad = [u for u, s in zip(users, SECRETS) if not env.code_login(u, s)]
    if bad:
        tap.diag("cannot log in: %s; last log: %s" % (bad, env.last_log()))
    return not bad


def rotate(env, kill_after):
    e = env.env(FT_TEST_KEY_KILL_AFTER=str(kill_after))
    return env.run(["key", "rotate"], env=e)


def one_point(env, users, k):
    fresh_store(env, users)
    r = rotate(env, k)
    tap.ok(r.returncode == -signal.SIGKILL, "run killed after write %d" % k)
    tap.ok(all_log_in(env, users), "after the kill at write %d: every user "
           "logs in (keys %s)" % (k, key_ids(env)))
    k2 = 1 + k % 2
    r = rotate(env, k2)
    tap.ok(r.returncode in (0, -signal.SIGKILL) and all_log_in(env, users),
           "a resumed run killed after %d more writes: every user logs in"
           % k2)
    r = rotate(env, 0)
    st = env.run(["key", "status"])
    per_key = [l for l in st.stdout.splitlines() if l.startswith("key ")]
    tap.ok(r.returncode == 0 and len(key_ids(env)) == 1 and
           len(per_key) == 1 and ("%d file(s)" % len(users)) in per_key[0],
           "the last run finishes: one key, used by all %d files"
           % len(users))
    tap.ok(all_log_in(env, users), "and every user logs in")


def main():
    clitest.need_components(pam=True)
    if not clitest.is_root():
        tap.skip_all("needs root (temp users, a root-owned store)")
    env = CryptEnv("crot")
    try:
        users = [env.add_user(clitest.temp_user_name("cro%d" % i)).pw_name
                 for i in range(3)]
        writes = len(users) + 2
        for k in range(1, writes + 1):
            one_point(env, users, k)
        fresh_store(env, users)
        r = rotate(env, writes + 1)
        tap.ok(r.returncode == 0 and len(key_ids(env)) == 1,
               "with no kill point reached, one run finishes (%d writes)"
               % writes)
    finally:
        env.cleanup()
    tap.done_testing()


main()
