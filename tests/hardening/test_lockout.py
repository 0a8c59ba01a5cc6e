"""Lockout under parallel attack (issue 7): 50 wrong guesses at once against
one user, through real libpam and the module (one process each), must not
get more than `deny` guesses checked before the lock holds.

Counted from the module's own outcome lines: reason=bad_code means the code
was checked, reason=locked means it was refused unchecked; cache_error
(lock contention beyond the bounded retry) also denies without checking.
Then the state itself (totp-enroll status) must show the user locked, and
even the right code must fail until unlock_time has passed.  Several rounds,
each with a fresh cache and pinned time.  No root needed."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlib  # noqa: E402
from hlib import tap  # noqa: E402

PARALLEL = 50
DENY = 3
UNLOCK = 600
ROUNDS = int(os.environ.get("FLOWTOTP_LOCKOUT_ROUNDS", "5"))


def attack(env, secret, now):
    wrong = hlib.wrong_code(secret, now)
    before = env.log_len()
    procs = [env.login_proc(wrong, now) for _ in range(PARALLEL)]
    # Everyone gets the answer at (nearly) the same moment.
    for p in procs:
        p.stdin.write((wrong + "\n").encode())
    for p in procs:
        p.stdin.close()
    results = [p.stdout.read().decode().strip() for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
        p.wait()
    lines = [ln for ln in env.log_lines()[before:]
             if "flowtotp: service=" in ln]
    return results, lines


def count(lines, reason):
    return sum(1 for ln in lines if " reason=%s" % reason in ln)


def main():
    hlib.need_components()
    worst = 0
    for r in range(ROUNDS):
        env = hlib.Env("lock", extra="deny=%d unlock_time=%d "
                       "fail_interval=900" % (DENY, UNLOCK))
        try:
            now = hlib.T0 + 3600 * r
            info = env.enroll(now)
            secret = info["secret"]
            results, lines = attack(env, secret, now)
            checked = count(lines, "bad_code")
            locked = count(lines, "locked")
            cerr = count(lines, "cache_error")
            worst = max(worst, checked)
            tap.is_(len(lines), PARALLEL, "round %d: one outcome line per "
                    "login" % r)
            tap.is_(results.count("PAM_SUCCESS"), 0,
                    "round %d: no wrong guess succeeded" % r)
            tap.ok(checked <= DENY, "round %d: %d of %d parallel guesses "
                   "checked (deny=%d), %d refused as locked, %d cache "
                   "errors" % (r, checked, PARALLEL, DENY, locked, cerr))
            tap.is_(checked + locked + cerr, PARALLEL,
                    "round %d: every guess accounted for" % r)
            st = env.cli(["status", "--json"], now)
            try:
                s = json.loads(st.stdout)
                if isinstance(s, list):
                    s = s[0]
                blob = json.dumps(s)
            except ValueError:
                blob = st.stdout
            tap.ok('"locked": true' in blob, "round %d: status shows the "
                   "user locked" % r)
            if not '"locked": true' in blob:
                tap.diag(st.stdout + st.stderr)
            good = hlib.totp(secret, now + 30)
            res, line = env.login(good, now + 30)
            tap.ok(res != "PAM_SUCCESS" and "reason=locked" in line,
                   "round %d: the right code is refused while locked" % r)
            later = now + UNLOCK + 60
            res, line = env.login(hlib.totp(secret, later), later)
            tap.is_(res, "PAM_SUCCESS", "round %d: the right code works "
                    "after unlock_time" % r)
        finally:
            env.cleanup()
    tap.diag("most guesses checked in one round: %d (deny=%d)"
             % (worst, DENY))
    tap.done_testing()


main()
