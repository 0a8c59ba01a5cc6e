"""The Redis backend called directly (tests/redis/redis_backend) against a
real redis-server this script starts and always stops."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/redis"))
import tap  # noqa: E402
import redislib  # noqa: E402

PROG = os.path.join(os.environ["top_builddir"], "tests", "redis",
                    "redis_backend")


def main():
    if not redislib.REDIS_SERVER:
        tap.skip_all("no redis-server (REDIS_SERVER is empty)")
    if not os.access(PROG, os.X_OK):
        tap.skip_all("tests/redis/redis_backend not built (no hiredis)")
    with redislib.Server("backend") as srv:
        env = dict(os.environ)
        env.update(FT_REDIS_PORT=str(srv.port),
                   FT_REDIS_PASSFILE=srv.passfile,
                   FT_REDIS_SOCKET=srv.socket,
                   FT_REDIS_PID=str(srv.proc.pid),
                   FT_REDIS_DIR=srv.dir,
                   FT_REDIS_DATABASES=str(redislib.DATABASES))
        wrap = os.environ.get("FT_TEST_WRAPPER", "").split()
        r = subprocess.run(wrap + [PROG], env=env, timeout=600)
        # The TAP stream (plan included) is the program's own.
        sys.exit(r.returncode)


main()
