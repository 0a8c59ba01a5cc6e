"""Lockout under parallel attack: 50 wrong guesses at once against
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


def fast_codes(secret, t):
    """The 6-digit SHA1 codes of the steps within +-3 of t (stdlib TOTP, so
    a day of guesses does not run oathtool a thousand times; the rounds
    check this arithmetic against oathtool)."""
    import base64
    import hashlib
    import hmac
    import struct
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    used = set()
    for k in range(-3, 4):
        mac = hmac.new(key, struct.pack(">Q", t // 30 + k),
                       hashlib.sha1).digest()
        o = mac[-1] & 15
        used.add("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0]
                            & 0x7fffffff) % 1000000))
    return used


def fast_wrong(secret, t):
    used = fast_codes(secret, t)
    for c in ("000000", "123456", "999999", "424242"):
        if c not in used:
            return c
    raise AssertionError("no wrong code")


def one_day(tap_round):
    """The best attacker against the defaults (deny=3, fail_interval=900,
    unlock_time=600): 3 guesses, and again the moment the lock runs out,
    with one probe a second before that.  Counts the guesses the module
    checked in 24 h (expected 3 * 86400 / 600 = 432)."""
    env = hlib.Env("day")      # no options: the defaults
    try:
        secret = env.enroll(hlib.T0)["secret"]
        t, end = hlib.T0, hlib.T0 + 86400
        before = env.log_len()
        probes_locked = probes = 0
        while t < end:
            wrong = fast_wrong(secret, t)
            for _ in range(DENY):
                env.login(wrong, t)
            if t + UNLOCK - 1 < end:
                probes += 1
                res, line = env.login(wrong, t + UNLOCK - 1)
                probes_locked += "reason=locked" in line
            t += UNLOCK
        lines = [ln for ln in env.log_lines()[before:]
                 if "flowtotp: service=" in ln]
        checked = count(lines, "bad_code")
        tap.is_(checked, 3 * 86400 // UNLOCK, "defaults: %d guesses checked "
                "in 24 h by the best attacker (3 per unlock_time)" % checked)
        tap.is_(probes_locked, probes, "a guess 1 s before the lock runs "
                "out is never checked (%d probes)" % probes)
    finally:
        env.cleanup()


def main():
    hlib.need_components()
    one_day(0)
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
            tap.ok(good in fast_codes(secret, now + 30),
                   "round %d: stdlib TOTP agrees with oathtool" % r)
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
