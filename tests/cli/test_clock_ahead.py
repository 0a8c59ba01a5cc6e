"""A clock that ran ahead, through the real module (real PAM, through
tests/pam/ft-pam-login) and the real totp-enroll-test, with the test clock
(FLOWTOTP_TEST_NOW) moved by hand: a login at a time 10 minutes ahead is
accepted; back at the present, current codes are refused as replays and
the module warns that the last accepted step lies ahead; status (text and
--json) shows it; unlock brings current codes back and keeps the future
step refused when its time comes, within the window, while later codes
are accepted.  Root only (unlock is an administrator's command; the user is
a temp user from useradd, removed in a finally block)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest  # noqa: E402
from clitest import T0, PERIOD, tap  # noqa: E402

AHEAD = 20                      # steps: 10 minutes
FUTURE = T0 + AHEAD * PERIOD    # the run-ahead clock's time


def status_json(env, user, now):
    r = env.run(["status", user, "--json"], now=now)
    try:
        users = json.loads(r.stdout).get("users", [])
    except ValueError:
        tap.diag("not JSON: %r / %r" % (r.stdout, r.stderr))
        users = []
    return r.returncode, (users[0] if users else {})


def new_lines(env, before):
    return env.log_lines()[before:]


def login_logged(env, user, code, now):
    """(accepted, the syslog lines this login wrote)."""
    before = len(env.log_lines())
    good = env.login(user, code, now)
    return good, new_lines(env, before)


def warnings(lines):
    return [line for line in lines
            if line.startswith("<4> ") and "warning=" in line]


def run_ahead(env, user, secret):
    """Accept a code at FUTURE, then come back to T0."""
    good, lines = login_logged(env, user, clitest.totp(secret, FUTURE),
                               FUTURE)
    tap.ok(good, "a code of a clock 10 minutes ahead is accepted at that "
           "clock's time")
    tap.is_(warnings(lines), [], "no warning while the clock is ahead")

    good, lines = login_logged(env, user, clitest.totp(secret, T0), T0)
    tap.ok(not good, "back at real time: the current code is refused")
    tap.ok(any("result=failure" in l and "reason=replay" in l
               for l in lines), "and logged as a replay")
    want = ("user=%s warning=\"last accepted code is %d steps ahead of "
            "now: the clock ran ahead; current codes are refused until "
            "totp-enroll unlock %s\"" % (user, AHEAD, user))
    w = warnings(lines)
    tap.ok(len(w) == 1 and want in w[0],
           "the module logs one warning: the last accepted step lies %d "
           "steps ahead, unlock helps" % AHEAD)
    if len(w) != 1 or want not in w[0]:
        tap.diag("log: %r" % lines)
    good, _ = login_logged(env, user, clitest.totp(secret, T0 + PERIOD),
                           T0 + PERIOD)
    tap.ok(not good, "the next step's code is refused too (still behind)")


def status_ahead(env, user):
    r = env.run(["status", user], now=T0)
    want = (", LAST CODE %d STEPS IN THE FUTURE (clock ran ahead; current "
            "codes refused until totp-enroll unlock)" % AHEAD)
    tap.ok(r.returncode == 0 and r.stdout.startswith(user + ": enrolled")
           and want in r.stdout and r.stdout.count("\n") == 1,
           "status: the one text line says the clock ran ahead, %d steps"
           % AHEAD)
    if want not in r.stdout:
        tap.diag("status: %r" % r.stdout)
    rc, st = status_json(env, user, T0)
    tap.ok(rc == 0 and st.get("clock_ran_ahead") is True and
           st.get("steps_ahead") == AHEAD and st.get("locked") is False and
           st.get("failures") == 0,
           "status --json: clock_ran_ahead true, steps_ahead %d, replays "
           "not counted as failures" % AHEAD)


def unlock(env, user):
    before = len(env.log_lines())
    r = env.run(["unlock", user], now=T0)
    tap.is_(r.returncode, 0, "unlock: exit 0")
    tap.is_(r.stdout,
            "Unlocked %s.\nThe last accepted code was from a clock that ran "
            "ahead: current codes work again; that code stays refused.\n"
            % user, "unlock: says current codes work again and the future "
            "code stays refused")
    tap.ok(any(l.startswith("<5> ") and
               "unlocked %s (last accepted step was in the future) (by "
               "root" % user in l for l in new_lines(env, before)),
           "unlock: the audit line says the last step was in the future")
    rc, st = status_json(env, user, T0)
    tap.ok(rc == 0 and st.get("clock_ran_ahead") is False and
           st.get("steps_ahead") == 0,
           "status --json after unlock: the clock no longer ran ahead")
    r = env.run(["status", user], now=T0)
    tap.ok(r.returncode == 0 and "FUTURE" not in r.stdout,
           "status text after unlock: no run-ahead note")


def after_unlock(env, user, secret):
    good, lines = login_logged(env, user, clitest.totp(secret, T0 - PERIOD),
                               T0)
    tap.ok(not good, "after unlock: the previous step's code stays refused")
    good, lines = login_logged(env, user, clitest.totp(secret, T0), T0)
    tap.ok(good, "after unlock: the current code is accepted")
    tap.is_(warnings(lines), [], "and no run-ahead warning any more")
    mid = T0 + (AHEAD // 2) * PERIOD
    tap.ok(env.login(user, clitest.totp(secret, mid), mid),
           "a code halfway to the future step is accepted in its time")
    # The code accepted at FUTURE, presented while it is within the
    # window: one step early, on time, one step late.
    for when, what in ((FUTURE - PERIOD, "one step before its time"),
                       (FUTURE, "at its time"),
                       (FUTURE + PERIOD, "one step after its time")):
        good, lines = login_logged(env, user, clitest.totp(secret, FUTURE),
                                   when)
        tap.ok(not good and any("reason=replay" in l for l in lines),
               "the code accepted while the clock ran ahead is refused as "
               "a replay %s" % what)
    rc, st = status_json(env, user, FUTURE + PERIOD)
    tap.ok(st.get("failures") == 0 and st.get("locked") is False,
           "those refusals are not counted as failures")
    later = FUTURE + PERIOD
    tap.ok(env.login(user, clitest.totp(secret, later), later),
           "the code after the future step is accepted")
    later += 2 * PERIOD
    tap.ok(env.login(user, clitest.totp(secret, later), later),
           "and later codes too")
    tap.ok(not env.login(user, clitest.totp(secret, FUTURE), later),
           "the future step's code is refused after later codes too")


def second_unlock(env, user):
    r = env.run(["unlock", user], now=FUTURE + 3 * PERIOD)
    tap.ok(r.returncode == 0 and r.stdout == "Unlocked %s.\n" % user,
           "an unlock with nothing ahead does not speak of the clock")


def main():
    clitest.need_components(pam=True)
    if not clitest.is_root():
        tap.skip_all("unlock and a temp user need root")
    env = clitest.Env("ahead")
    try:
        user = env.add_user(clitest.temp_user_name("ah")).pw_name
        r, secret = clitest.enrol_json(env, user, now=T0 - 5 * PERIOD)
        tap.is_(r.returncode, 0, "root enrols a temp user")
        env.service()
        run_ahead(env, user, secret)
        status_ahead(env, user)
        unlock(env, user)
        after_unlock(env, user, secret)
        second_unlock(env, user)
    finally:
        env.cleanup()
    tap.done_testing()


main()
