"""A local user pretends to be the fleet's Redis, through the real PAM
module with redis_fallback=deny.

Any user can listen on a port above 1024 once the real server is down,
and can create a socket in a directory of their own.  The impostor
(tests/redis/fake_redis.py run as nobody) records every byte and answers
every command with "accepted".

  TCP (redis_tls left at its default, yes):
    - after a code was accepted by the real server, the impostor takes
      its port: the same code again, a wrong code and a fresh code are all
      denied, and the impostor never receives the password
    - control, redis_tls=no: the impostor receives the password and a
      wrong code passes (why TLS is the default, and why doctor warns);
      what it received shows the login's one round trip: AUTH, SELECT
      and EVALSHA in one write, nothing after
  Unix socket (redis_socket):
    - the real server's socket (root's, in a root-owned directory): works
    - redis_socket_owner=nobody and a real server running as nobody: works
    - the impostor's own socket in its own directory: refused, nothing
      connected
    - a root-owned socket file whose listener runs as nobody: refused by
      SO_PEERCRED, nothing received
    - a symlink to the real socket, a group-writable directory: refused
Every server is stopped and every directory removed, whatever happens."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/redis"))
import ftlib  # noqa: E402
from ftlib import OATHTOOL, PERIOD, T0, tap  # noqa: E402
import redislib  # noqa: E402
from redislib import KEY, reason  # noqa: E402

NOBODY = "nobody"


def code(now):
    return ftlib.totp(KEY, now)


def detail(lines):
    return " ".join(ln for ln in lines if "reason=" in ln)


def test_port(host, pki):
    """The real TLS server accepts a code; an impostor takes its port."""
    srv = redislib.Server("rimp", tls=pki)
    try:
        srv.start()
        port = srv.port
        o = {"redis_host": "127.0.0.1", "redis_port": str(port),
             "redis_password_file": srv.passfile, "redis_tls_ca": pki.ca}
        svc = host.service("tcp", **o)
        now = T0 + 100 * PERIOD
        ok, lines = host.login(svc, code(now), now)
        tap.ok(ok, "real server over TLS: the code is accepted") \
            or tap.diag(detail(lines))
        srv.stop()
        fake = redislib.Fake(["tcp", str(port)], user=NOBODY)
        try:
            results = [host.login(svc, code(now), now + 1),
                       host.login(svc, ftlib.wrong_code(KEY, now), now + 2),
                       host.login(svc, code(now + PERIOD), now + PERIOD)]
        finally:
            conns, data, _ = fake.received()
        for (ok, lines), what in zip(results, ("the used code again",
                                               "a wrong code",
                                               "a fresh code")):
            tap.ok(not ok and reason(lines) == "cache_error",
                   "impostor on the port, %s: denied (cache_error)" % what)\
                or tap.diag(detail(lines))
        tap.ok(conns == 3 and srv.password.encode() not in data and
               b"AUTH" not in data,
               "the impostor was reached 3 times and received no password "
               "and no command")
        # Control: with redis_tls=no the same impostor is believed.
        fake = redislib.Fake(["tcp", str(port)], user=NOBODY)
        try:
            svc = host.service("plain", redis_tls="no", redis_db="3", **o)
            ok, lines = host.login(svc, ftlib.wrong_code(KEY, now), now + 3)
        finally:
            conns, data, _ = fake.received()
        tap.ok(ok and srv.password.encode() in data,
               "control, redis_tls=no: the impostor gets the password and "
               "makes a wrong code pass")
        chunks = [bytes.fromhex(ln[5:]) for ln in fake.lines
                  if ln.startswith("data ")]
        tap.ok(len(chunks) == 1 and all(
            w in chunks[0] for w in (b"AUTH", b"SELECT", b"EVALSHA")),
            "the login sent AUTH, SELECT and EVALSHA in one write, and "
            "nothing after the answer")
    finally:
        srv.cleanup()


def user_dir(user, mode=0o755):
    d = tempfile.mkdtemp(prefix="ft-rimp-sock-")
    os.chmod(d, mode)
    if user is not None:
        os.chown(d, redislib.pwd.getpwnam(user).pw_uid, -1)
    return d


def sock_login(host, srv, path, now, **over):
    svc = host.service("sock", redis_socket=path,
                       redis_password_file=srv.passfile, **over)
    return host.login(svc, code(now), now)


def test_socket_good(host, srv, now):
    ok, lines = sock_login(host, srv, srv.socket, now)
    tap.ok(ok, "the real server's socket (root, root-owned directory): "
           "works") or tap.diag(detail(lines))
    with redislib.Server("rimp-nobody", user=NOBODY) as nsrv:
        ok, lines = sock_login(host, nsrv, nsrv.socket, now + PERIOD,
                               redis_socket_owner=NOBODY)
        tap.ok(ok, "redis_socket_owner=nobody, a server running as nobody:"
               " works") or tap.diag(detail(lines))
        ok, lines = sock_login(host, nsrv, nsrv.socket, now + 2 * PERIOD)
        tap.ok(not ok and "not root or redis" in detail(lines),
               "the same server with the default owner (redis): refused") \
            or tap.diag(detail(lines))


def test_socket_impostors(host, srv, now):
    d = user_dir(NOBODY)
    path = os.path.join(d, "redis.sock")
    try:
        fake = redislib.Fake(["unix", path], user=NOBODY)
        try:
            ok, lines = sock_login(host, srv, path, now)
        finally:
            conns, data, _ = fake.received()
        tap.ok(not ok and "owned by uid" in detail(lines) and conns == 0,
               "the impostor's socket in its own directory: refused before "
               "connecting") or tap.diag(detail(lines))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    d = user_dir(None)
    path = os.path.join(d, "redis.sock")
    try:
        fake = redislib.Fake(["unix", path, "--drop-after-bind", NOBODY])
        try:
            ok, lines = sock_login(host, srv, path, now + PERIOD)
        finally:
            conns, data, _ = fake.received()
        tap.ok(not ok and "runs as uid" in detail(lines) and
               srv.password.encode() not in data and data == b"",
               "root's socket file, listener running as nobody: refused by "
               "SO_PEERCRED, nothing sent") or tap.diag(detail(lines))
        link = os.path.join(d, "link.sock")
        os.symlink(srv.socket, link)
        ok, lines = sock_login(host, srv, link, now + 2 * PERIOD)
        tap.ok(not ok and "symlink" in detail(lines),
               "a symlink to the real socket: refused") \
            or tap.diag(detail(lines))
        os.chmod(d, 0o775)
        ok, lines = sock_login(host, srv, path, now + 3 * PERIOD)
        tap.ok(not ok and "writable by group or others" in detail(lines),
               "a group-writable directory: refused") \
            or tap.diag(detail(lines))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    if not redislib.REDIS_SERVER or not OATHTOOL or not redislib.OPENSSL:
        tap.skip_all("needs redis-server, oathtool and openssl")
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        tap.skip_all("needs root and setpriv (the impostor runs as nobody)")
    pkidir = tempfile.mkdtemp(prefix="ft-rimp-pki-")
    host = redislib.PamHost("rimp")
    try:
        pki = redislib.Pki(pkidir)
        test_port(host, pki)
        with redislib.Server("rimp-sock") as srv:
            test_socket_good(host, srv, T0 + 200 * PERIOD)
            test_socket_impostors(host, srv, T0 + 300 * PERIOD)
    finally:
        host.cleanup()
        shutil.rmtree(pkidir, ignore_errors=True)
    tap.done_testing()


main()
