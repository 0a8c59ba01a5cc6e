"""Crash safety: SIGKILL totp-enroll (enroll --force, backup-codes)
and backup-code logins at random moments, 200+ times, and check that:
  - the secret file always parses (real parser, tests/hardening/ft-parse)
    as either the old or the new version, never torn or missing;
  - a run that finished and reported its result left exactly the new file;
  - a backup code reported used (PAM_SUCCESS, or gone from the file) is
    never accepted again.
Delays are drawn from 0..1.3x the median run time of the runs that
finished (before any did: the first measurement, or longer when kills show
that runs got slower), and two runs in three from around the moment the
file changes (the largest delay that left it unchanged .. the smallest that
let the run finish), so kills land inside the atomic rewrite too.  The kill
count does not depend on the machine's speed: the window follows the run
times actually seen (not one first measurement, which a sanitizer's start-up
or a loaded machine skews), runs go on until enough were killed, and once
the finished runs used up their budget the remaining runs are killed right
after they start.  No root needed."""
import os
import random
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlib  # noqa: E402
from hlib import tap  # noqa: E402

PARSE = os.path.join(hlib.TOP_BUILDDIR, "tests", "hardening", "ft-parse")
# Kills wanted per half (200 in all).  Runs that finish are allowed up to
# FINISH_FACTOR times KILLS; after that each run is killed at once (delay 0:
# the child has barely exec'd, so the kill always lands first), so a half
# ends after at most KILLS * (FINISH_FACTOR + 1) runs however slow it runs.
KILLS = int(os.environ.get("FLOWTOTP_CRASH_KILLS", "100"))
FINISH_FACTOR = 2
# Uniform delays reach this far past the median run time, so some runs
# finish (and must leave exactly the new file).
LATE = 1.3


def parse(path):
    r = subprocess.run([PARSE, path], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    f = dict(kv.split("=", 1) for kv in r.stdout.split())
    return f["secret"], int(f["backups"])


def timed(fn):
    t = time.monotonic()
    fn()
    return time.monotonic() - t


def kill_after(argv, env, delay, stdin_text=None):
    """Run argv, SIGKILL it after delay s; (killed, returncode, stdout)."""
    p = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if stdin_text is not None:
        try:
            p.stdin.write(stdin_text.encode())
            p.stdin.flush()
        except BrokenPipeError:
            pass
    try:
        p.stdin.close()
    except BrokenPipeError:
        pass
    # Output is small (well under a pipe buffer), so waiting cannot block.
    try:
        p.wait(timeout=delay)
        killed = False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        killed = p.returncode == -signal.SIGKILL
    out = p.stdout.read().decode(errors="replace")
    p.stdout.close()
    return killed, p.returncode, out


class Delay:
    """Kill delays that home in on the moment the file is rewritten."""

    def __init__(self, rng, dur, budget):
        self.rng, self.budget = rng, budget
        self.lo, self.hi = 0.0, dur * LATE
        # The first measurement may be off either way (cold caches, a
        # sanitizer's start-up, load that comes and goes): it only counts
        # until a run has finished, then the run times of finished runs do.
        self.first = dur
        self.times = []
        self.finished = 0
        self.forced = 0

    def pick(self):
        if self.finished >= self.budget:
            self.forced += 1
            return 0.0
        if self.rng.random() < 1 / 3 or self.hi <= self.lo:
            return self.rng.uniform(0, self.typical() * LATE)
        return self.rng.uniform(self.lo * 0.95, self.hi * 1.02)

    def typical(self):
        """The run time the uniform window is scaled to."""
        if self.times:
            return statistics.median(self.times)
        # Nothing finished yet: a run lasts at least lo (a kill then had
        # not changed the file yet), so when runs got slower than measured
        # the window grows until some finish.
        return max(self.first, self.lo)

    def saw(self, delay, killed, changed, took):
        if killed and not changed:
            self.lo = max(self.lo, delay)
        elif not killed:
            self.finished += 1
            self.times.append(took)
            self.hi = min(self.hi, delay)


def temp_files(env):
    return [n for n in os.listdir(env.store) if n.startswith(".")]


def enrol_kills(env, rng):
    first = env.enroll()
    old = parse(env.path)
    tap.ok(old is not None and old[0] == first["secret"],
           "first enrolment parses")
    argv_enrol = [hlib.CLI, "enroll", "--force", "--no-confirm", "--json",
                  "--qr", "none"] + env.opts()
    argv_codes = [hlib.CLI, "backup-codes", "--json"] + env.opts()
    # Non-root callers must prove a current code to get new backup codes
    # (and a code is good once), so every run gets its own time step.
    clock = [hlib.T0]

    def code_now():
        clock[0] += 30
        cur = parse(env.path)
        return clock[0], hlib.totp(cur[0], clock[0]) + "\n"

    def run_codes():
        now, code = code_now()
        subprocess.run(argv_codes, env=env.env(now), input=code.encode(),
                       capture_output=True)

    dur = max(timed(lambda: subprocess.run(argv_enrol, env=env.env(),
                                           capture_output=True)),
              timed(run_codes))
    old = parse(env.path)
    tap.diag("enroll/backup-codes take about %.3f s" % dur)
    bad = []
    killed = finished = changed = i = 0
    # The two commands alternate, so each has half of the budget.
    budget = KILLS * FINISH_FACTOR // 2
    delays = [Delay(rng, dur, budget), Delay(rng, dur, budget)]
    while killed < KILLS and i < KILLS * (FINISH_FACTOR + 1):
        i += 1
        argv = argv_enrol if i % 2 == 0 else argv_codes
        before = hlib.read_bytes(env.path)
        delay = delays[i % 2].pick()
        now, code = code_now()
        t = time.monotonic()
        was_killed, rc, out = kill_after(argv, env.env(now), delay, code)
        took = time.monotonic() - t
        now = parse(env.path)
        after = hlib.read_bytes(env.path)
        if now is None:
            bad.append("run %d: file does not parse (killed=%s)"
                       % (i, was_killed))
            break
        delays[i % 2].saw(delay, was_killed, after != before, took)
        if was_killed:
            killed += 1
            if after != before:
                changed += 1
                # The new version: a whole file with the same secret
                # (backup-codes) or a new one (enroll), 10 fresh codes.
                if now[1] != 10:
                    bad.append("run %d: new file has %d codes" % (i, now[1]))
        else:
            finished += 1
            if rc != 0:
                bad.append("run %d: exit %d" % (i, rc))
                continue
            import json
            res = json.loads(out)
            if argv is argv_enrol and res.get("secret") != now[0]:
                bad.append("run %d: reported secret is not in the file" % i)
            if after == before:
                bad.append("run %d: finished but the file is unchanged" % i)
        old = now
    tap.ok(not bad, "%d enroll/backup-codes runs: %d killed (%d after the "
           "file changed), %d finished; file always old or new, never torn"
           % (i, killed, changed, finished))
    for b in bad[:10]:
        tap.diag(b)
    tap.ok(killed >= KILLS, "%d runs were killed" % killed)
    forced = delays[0].forced + delays[1].forced
    if forced:
        tap.diag("%d runs killed at once (finished runs over budget)"
                 % forced)
    left = temp_files(env)
    if left:
        tap.diag("temp files left by killed writers: %d (%s...)"
                 % (len(left), left[0]))
        for n in left:
            os.unlink(os.path.join(env.store, n))
    return old


def check_set(env, used, pending, res):
    """Codes reported used never work again; codes whose login was killed
    before the rewrite still work (once)."""
    res["used"] += len(used)
    res["used_again"] += sum(env.login(c)[0] == "PAM_SUCCESS" for c in used)
    res["pending"] += len(pending)
    res["pending_ok"] += sum(env.login(c)[0] == "PAM_SUCCESS"
                             for c in pending)
    used.clear()
    pending.clear()


def backup_kills(env, rng):
    import json
    info = env.enroll()
    codes = list(info["backup_codes"])
    used = []          # reported used: must never work again
    pending = []       # killed, still in the file: must still work
    res = dict(used=0, used_again=0, pending=0, pending_ok=0)
    argv = [hlib.PAM_LOGIN, "fthard", hlib.USER, env.confdir]
    dur = timed(lambda: env.login(codes[-1]))
    used.append(codes.pop())
    tap.diag("a backup-code login takes about %.3f s" % dur)
    delay = Delay(rng, dur, KILLS * FINISH_FACTOR)
    bad = []
    killed = succeeded = changed = i = 0
    clock = hlib.T0 + 30 * 100000
    while killed < KILLS and i < KILLS * (FINISH_FACTOR + 1):
        i += 1
        if len(codes) <= len(pending):
            # Check this set, then new codes (a finished run).
            check_set(env, used, pending, res)
            clock += 30
            r = env.cli(["backup-codes", "--json"], clock,
                        input=hlib.totp(parse(env.path)[0], clock) + "\n")
            codes = list(json.loads(r.stdout)["backup_codes"])
        before = parse(env.path)
        code = codes.pop()
        d = delay.pick()
        t = time.monotonic()
        was_killed, rc, out = kill_after(argv, env.env(), d, code + "\n")
        took = time.monotonic() - t
        now = parse(env.path)
        if now is None or before is None:
            bad.append("run %d: file does not parse" % i)
            break
        gone = now[1] == before[1] - 1
        delay.saw(d, was_killed, gone, took)
        if now[0] != before[0] or now[1] not in (before[1], before[1] - 1):
            bad.append("run %d: %d codes before, %d after"
                       % (i, before[1], now[1]))
        if was_killed:
            killed += 1
            if gone:
                changed += 1
                used.append(code)       # gone from the file
            else:
                pending.append(code)
        elif out.strip() == "PAM_SUCCESS":
            succeeded += 1
            used.append(code)
            if not gone:
                bad.append("run %d: success but the code is still in the "
                           "file" % i)
        else:
            bad.append("run %d: an unused code was refused (%s)"
                       % (i, out.strip()))
    check_set(env, used, pending, res)
    tap.ok(not bad, "%d backup-code logins: %d killed (%d after the code was "
           "removed), %d succeeded; file always parses, loses at most the "
           "code being used" % (i, killed, changed, succeeded))
    for b in bad[:10]:
        tap.diag(b)
    tap.ok(killed >= KILLS, "%d logins were killed" % killed)
    if delay.forced:
        tap.diag("%d logins killed at once (finished runs over budget)"
                 % delay.forced)
    tap.is_(res["used_again"], 0, "none of the %d codes reported used (or "
            "gone from the file) is accepted again" % res["used"])
    tap.is_(res["pending_ok"], res["pending"], "all %d codes whose login was "
            "killed before the rewrite still work once" % res["pending"])
    left = temp_files(env)
    if left:
        tap.diag("temp files left by killed logins: %d" % len(left))


def main():
    hlib.need_components()
    if not os.path.exists(PARSE):
        tap.skip_all("ft-parse not built")
    seed = int(os.environ.get("FLOWTOTP_CRASH_SEED", str(os.getpid())))
    tap.diag("random seed %d (FLOWTOTP_CRASH_SEED)" % seed)
    rng = random.Random(seed)
    env = hlib.Env("crash", extra="deny=0")
    try:
        enrol_kills(env, rng)
        backup_kills(env, rng)
    finally:
        env.cleanup()
    tap.done_testing()


main()
