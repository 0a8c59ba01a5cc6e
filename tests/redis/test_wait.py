"""redis_wait_replicas: an accepted step must reach N replicas (WAIT)
before the login succeeds, through the real PAM module.

  - a primary without replicas, redis_wait_replicas=1: the correct code is
    denied, reason=cache_error, the detail names WAIT; within
    redis_timeout_ms + redis_wait_timeout_ms (and slack)
  - the same code again is still refused (it was recorded on the primary:
    denying it did not make it usable twice)
  - with redis_fallback=local too: a missing replica is no outage the
    local cache may decide
  - a replica attached: the next code is accepted, and the replica holds
    the step
  - redis_wait_replicas=2 with one replica: denied again
  - redis_wait_replicas=0 (the default) never waits"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/redis"))
import halib  # noqa: E402
import redislib  # noqa: E402
from halib import USER, code, reason, result_line, tap  # noqa: E402
from ftlib import PERIOD, T0  # noqa: E402

WAIT_MS = 1000         # generous: a loaded machine must not fail it
TIMEOUT_MS = 3000      # WAIT is part of one exchange: well above WAIT_MS
SLACK_S = 2.5


def main():
    halib.skip_unless_ready()
    prim = redislib.Server("wait-p")
    rep = None
    h = None
    try:
        prim.start()
        h = halib.Hosts("wait", {
            "redis_host": "127.0.0.1", "redis_port": str(prim.port),
            "redis_password_file": prim.passfile, "redis_prefix": "wt",
            "redis_wait_timeout_ms": str(WAIT_MS),
            "redis_timeout_ms": str(TIMEOUT_MS)})
        w1 = h.service("wait1", redis_wait_replicas="1")
        now = T0
        t = time.monotonic()
        ok, lines = h.login(w1, code(now), now)
        took = time.monotonic() - t
        tap.ok(not ok and reason(lines) == "cache_error" and
               "WAIT" in result_line(lines),
               "no replica, redis_wait_replicas=1: denied, reason=cache_error "
               "naming WAIT")
        tap.diag(result_line(lines))
        tap.ok(took < 2 * TIMEOUT_MS / 1000.0 + SLACK_S,
               "decided in %.2f s" % took)
        ok, lines = h.login(w1, code(now), now + 1)
        tap.ok(not ok and reason(lines) == "replay",
               "the denied code stays used (reason=replay)")
        loc = h.service("waitl", redis_wait_replicas="1",
                        redis_fallback="local")
        ok, lines = h.login(loc, code(now + PERIOD), now + PERIOD)
        tap.ok(not ok and "WAIT" in result_line(lines),
               "redis_fallback=local: still denied (the local cache does "
               "not stand in for a missing replica)")
        now += PERIOD

        rep = redislib.Replica(prim, "wait-r")
        rep.start()
        now += PERIOD
        ok, lines = h.login(w1, code(now), now)
        tap.ok(ok, "a replica up: the next code is accepted")
        if not ok:
            tap.diag(result_line(lines))
        redislib.wait_for("the step on the replica", lambda: rep.cmd(
            "GET", "wt:{%s}:step" % USER) == str(now // PERIOD), 5)
        tap.ok(True, "the replica holds the accepted step")

        w2 = h.service("wait2", redis_wait_replicas="2")
        now += PERIOD
        ok, lines = h.login(w2, code(now), now)
        tap.ok(not ok and "WAIT: 1 of 2" in result_line(lines),
               "redis_wait_replicas=2 with one replica: denied (1 of 2)")

        rep.stop()
        w0 = h.service("wait0")
        now += PERIOD
        t = time.monotonic()
        ok, lines = h.login(w0, code(now), now)
        took = time.monotonic() - t
        tap.ok(ok and took < WAIT_MS / 1000.0 + SLACK_S,
               "redis_wait_replicas=0: accepted without a replica, no wait "
               "(%.2f s)" % took)
    finally:
        if rep is not None:
            rep.cleanup()
        prim.cleanup()
        if h is not None:
            h.cleanup()
    tap.done_testing()


main()
