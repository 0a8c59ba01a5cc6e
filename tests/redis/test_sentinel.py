"""Redis Sentinel through the real PAM module: redis_sentinels and
redis_master_name find the primary, ROLE confirms it, and with
redis_wait_replicas=1 a failover loses no accepted step.

A primary, a replica (--replicaof) and one Sentinel (its own password,
down-after-milliseconds 1000), all on free 127.0.0.1 ports; the Sentinel
list starts with a port nobody listens on, so the module must go on to the
next one.
  - logins work through the Sentinel; a replay is refused
  - a "Sentinel" that names the replica (a stand-in for one whose answer
    is stale after a failover): ROLE says replica, the login is denied
  - the Sentinel's password: a wrong redis_sentinel_password_file denies
  - redis_host given as well: a configuration error
  - failover: SIGKILL of the primary while 20 logins (each its own step)
    are answered; after the Sentinel named the replica, logins go on
    (polled, bounded), and every code that got PAM_SUCCESS before or after
    is refused on replay by the new primary
  - TLS (with openssl): a TLS-only Sentinel and primary, both verified
    against redis_tls_ca; a Sentinel certificate from another CA denies
Every server is always stopped at the end."""
import os
import shutil
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/redis"))
import halib  # noqa: E402
import redislib  # noqa: E402
from halib import code, reason, result_line, tap  # noqa: E402
from ftlib import PERIOD, T0, free_port  # noqa: E402

NAME = "ftprimary"
NPAR = 20
WAIT_MS = 1000          # generous: a loaded machine must not fail it
TIMEOUT_MS = 2000       # WAIT is part of one exchange: more than WAIT_MS
FAILOVER_WAIT_S = 60


class FakeSentinel:
    """Answers every command with the address it was given, the way a
    Sentinel answers get-master-addr-by-name."""

    def __init__(self, port):
        self.reply = (b"*2\r\n$9\r\n127.0.0.1\r\n$%d\r\n%d\r\n" %
                      (len(str(port)), port))
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                c.settimeout(5)
                try:
                    if c.recv(4096):
                        c.sendall(self.reply)
                    c.recv(4096)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def through_sentinel(h, prim, rep, snt, now):
    svc = h.service("snt")
    ok, lines = h.login(svc, code(now), now)
    tap.ok(ok, "a login through the Sentinel (the first one listed is down)")
    if not ok:
        tap.diag(result_line(lines))
    ok, lines = h.login(svc, code(now), now + 1)
    tap.ok(not ok and reason(lines) == "replay", "its replay is refused")
    tap.is_(prim.cmd("GET", "ha:{%s}:step" % halib.USER), str(now // PERIOD),
            "the step is on the primary the Sentinel named")

    fake = FakeSentinel(rep.port)
    try:
        bad = h.service("stale", redis_sentinels="127.0.0.1:%d" % fake.port,
                        redis_sentinel_password_file=None)
        ok, lines = h.login(bad, code(now + PERIOD), now + PERIOD)
        tap.ok(not ok and reason(lines) == "cache_error" and
               "ROLE" in result_line(lines),
               "a Sentinel naming the replica: ROLE refuses it, denied")
        tap.diag(result_line(lines))
    finally:
        fake.close()
    both = h.service("both", redis_host="127.0.0.1")
    ok, lines = h.login(both, code(now + PERIOD), now + PERIOD)
    tap.ok(not ok and any("redis_sentinels and redis_host" in ln
                          for ln in lines),
           "redis_sentinels with redis_host: refused as a configuration "
           "error")
    if ok or not any("redis_host" in ln for ln in lines):
        tap.diag("\n".join(lines))
    wrong = os.path.join(h.dir, "wrong.pass")
    fd = os.open(wrong, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"not-the-sentinel-password\n")
    os.close(fd)
    bad = h.service("sntpw", redis_sentinel_password_file=wrong)
    ok, lines = h.login(bad, code(now + PERIOD), now + PERIOD)
    tap.ok(not ok and reason(lines) == "cache_error" and
           "WRONGPASS" in result_line(lines),
           "a wrong Sentinel password: denied (WRONGPASS)")
    tap.diag(result_line(lines))
    return now


def failover(h, prim, rep, snt, now):
    svc = h.service("snt")
    succeeded = []
    ok, _ = h.login(svc, code(now), now)
    if ok:
        succeeded.append(now)
    tap.ok(ok, "before the failover: accepted (WAIT 1 replica)")
    times = [now + PERIOD * (i + 1) for i in range(NPAR)]
    procs = [(t, h.start(svc, t)) for t in times]
    for i, (t, p) in enumerate(procs):
        h.answer(p, code(t))
        if i == NPAR // 2:
            prim.stop()     # SIGKILL, in the middle of the answers
    errs = 0
    for t, p in procs:
        rc = h.finish(p)
        if rc == 0:
            succeeded.append(t)
        elif rc != 1:
            errs += 1
    tap.ok(errs == 0, "the parallel logins ended (accepted or denied)")
    tap.diag("%d of %d parallel logins accepted around the kill" %
             (len(succeeded) - 1, NPAR))
    snt.wait_primary(rep.port)  # polls, bounded
    tap.ok(True, "the Sentinel names the replica the primary")
    now = times[-1]
    deadline = time.monotonic() + FAILOVER_WAIT_S
    ok = False
    while not ok and time.monotonic() < deadline:
        now += PERIOD
        ok, lines = h.login(h.service("after", redis_wait_replicas="0"),
                            code(now), now)
        if not ok:
            time.sleep(redislib.POLL_S)
    tap.ok(ok, "logins go on after the failover")
    if ok:
        succeeded.append(now)
    replayed = [t for t in succeeded
                if h.login(svc, code(t), t + 1)[0] or
                h.login(h.service("after"), code(t), t + 2)[0]]
    tap.ok(not replayed,
           "none of the %d accepted codes is accepted again by the new "
           "primary" % len(succeeded))
    if replayed:
        tap.diag("accepted twice: %r" % replayed)


def over_tls(pkidir):
    """The Sentinel and the primary speak TLS only: both connections are
    verified against redis_tls_ca."""
    pki = redislib.Pki(pkidir)
    prim = redislib.Server("snt-tp", tls=pki)
    snt = h = None
    try:
        prim.start()
        snt = redislib.Sentinel(prim, NAME, "snt-ts", tls=pki)
        snt.start()
        h = halib.Hosts("sentinel-tls", {
            "redis_sentinels": "127.0.0.1:%d" % snt.port,
            "redis_master_name": NAME,
            "redis_sentinel_password_file": snt.passfile,
            "redis_password_file": prim.passfile,
            "redis_prefix": "hat",
            "redis_tls": "yes",
            "redis_tls_ca": pki.ca})
        now = T0
        ok, lines = h.login(h.service("tls"), code(now), now)
        tap.ok(ok, "TLS: a login through a TLS Sentinel to a TLS primary")
        if not ok:
            tap.diag(result_line(lines))
        ok, lines = h.login(h.service("tlsbad", redis_tls_ca=pki.other_ca),
                            code(now + PERIOD), now + PERIOD)
        tap.ok(not ok and reason(lines) == "cache_error" and
               str(snt.port) in result_line(lines),
               "TLS: the Sentinel's certificate from another CA: denied")
        tap.diag(result_line(lines))
    finally:
        for s in (snt, prim):
            if s is not None:
                s.cleanup()
        if h is not None:
            h.cleanup()


def main():
    halib.skip_unless_ready()
    prim = redislib.Server("snt-p")
    rep = snt = h = None
    try:
        prim.start()
        rep = redislib.Replica(prim, "snt-r")
        rep.start()
        snt = redislib.Sentinel(prim, NAME)
        snt.start()
        snt.wait_replicas(1)
        h = halib.Hosts("sentinel", {
            "redis_sentinels": "127.0.0.1:%d,127.0.0.1:%d" %
            (free_port(), snt.port),
            "redis_master_name": NAME,
            "redis_sentinel_password_file": snt.passfile,
            "redis_password_file": prim.passfile,
            "redis_prefix": "ha",
            "redis_wait_replicas": "1",
            "redis_wait_timeout_ms": str(WAIT_MS),
            "redis_timeout_ms": str(TIMEOUT_MS)})
        now = through_sentinel(h, prim, rep, snt, T0)
        failover(h, prim, rep, snt, now + 2 * PERIOD)
    finally:
        for s in (snt, rep, prim):
            if s is not None:
                s.cleanup()
        if h is not None:
            h.cleanup()
    if redislib.OPENSSL:
        pkidir = tempfile.mkdtemp(prefix="ft-snt-pki-")
        try:
            over_tls(pkidir)
        finally:
            shutil.rmtree(pkidir, ignore_errors=True)
    else:
        tap.diag("no openssl: the TLS case is not run")
    tap.done_testing()


main()
