#!/usr/bin/env python3
"""remember= with cache=redis: every case of tests/cli/test_remember.py
(real PAM, pam_unix as the first factor, real users; root only) against a
private redis-server, and what Redis holds: one hash per user,
PREFIX:USER:remember, whose fields are digests (neither the rhost nor the
tty in clear) and whose key expires (EXPIREAT) at the latest entry's end;
totp-enroll reset deletes it; a key of the wrong type is never a
remembered login."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/cli"))
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/redis"))
import clitest  # noqa: E402
from clitest import tap  # noqa: E402
import redislib  # noqa: E402
import test_remember as tr  # noqa: E402

PREFIX = "rem%d" % os.getpid()


def store_check(srv):
    def check(env):
        keys = [k.decode() if isinstance(k, bytes) else k
                for k in srv.cmd("KEYS", PREFIX + ":*:remember")]
        tap.ok(len(keys) == 2, "one remember hash per user (%s)" % keys)
        fields = srv.cmd("HGETALL", keys[0]) if keys else []
        flat = b" ".join(f if isinstance(f, bytes) else str(f).encode()
                         for f in fields)
        tap.ok(fields and tr.RHOST1.encode() not in flat and
               b"pts" not in flat,
               "the fields are digests, not the rhost or tty")
        ttl = srv.cmd("TTL", keys[0]) if keys else -2
        tap.ok(isinstance(ttl, int) and 0 < ttl,
               "the key expires (TTL %s)" % ttl)
    return check


def damaged(env, srv, c, user):
    """A remember key of the wrong type: the code is asked (a warning
    line), never a remembered login; unlock deletes the key."""
    key = "%s:{%s}:remember" % (PREFIX, user)
    srv.cmd("DEL", key)
    srv.cmd("SET", key, "not-a-hash")
    before = len(env.log_lines())
    tr.with_code(c, "ftrem", user, "a damaged remember key")
    tr.with_code(c, "ftrem", user, "... and again (nothing remembered)")
    warn = [l for l in env.log_lines()[before:] if "warning=" in l]
    tap.ok(any("WRONGTYPE" in l or "remember" in l for l in warn),
           "... with a warning line (%s)" % (warn[:1],))
    r = env.run(["unlock", user], now=c.t)
    tap.ok(r.returncode == 0 and srv.cmd("EXISTS", key) == 0,
           "totp-enroll unlock deletes the damaged key")
    tr.with_code(c, "ftrem", user, "after unlock")
    tr.remembered(c, "ftrem", user, "... and remembered again")


def main():
    tr.need_root()
    if not redislib.REDIS_SERVER:
        tap.skip_all("redis-server not found")
    env = clitest.Env("remredis")
    try:
        with redislib.Server("remredis") as srv:
            args = ["cache=redis", "redis_host=127.0.0.1",
                    "redis_port=%d" % srv.port, "redis_tls=no",
                    "redis_password_file=" + srv.passfile,
                    "redis_prefix=" + PREFIX]
            c, users = tr.run(env, args, store_check(srv))
            damaged(env, srv, c, users[0])
            r = env.run(["reset", "--yes", users[1]], now=c.t)
            key = "%s:%s:remember" % (PREFIX, users[1])
            tap.ok(r.returncode == 0 and srv.cmd("EXISTS", key) == 0,
                   "totp-enroll reset deletes the user's remember hash")
    finally:
        env.cleanup()
    tap.done_testing()


main()
