"""cache=redis over TLS, through the real PAM module.

A CA made here with the openssl tool, a real redis-server listening with
TLS only (--port 0 --tls-port N), and impostors (tests/redis/fake_redis.py:
records every byte, answers every command with "accepted") holding the
wrong certificates:

  - right CA: logins work (by IP address and by DNS name); a replay is
    refused by the server's record
  - an impostor with a certificate from another CA, one for another name,
    an expired one, or plain text on the TLS port: each login is denied
    with the reason in the log, and the impostor never receives the
    password (nor any command)
  - control: an impostor with the right certificate does receive AUTH and
    the password, so the recorder sees what it would be sent
  - redis_fallback=local: a refused server leaves the decision to the local
    cache, with a warning that says why
  - mutual TLS (tls-auth-clients yes): works with redis_tls_cert/key,
    denied without
  - redis_tls_cert without redis_tls_key: a configuration error
  - redis_tls_ca's certificates are compared with what the server sends
    before any is decoded: the real server sends its CA along; a bundle
    whose second certificate is that CA works, with the server and with an
    impostor that sends no CA (then the file's are decoded); a file
    without that CA is refused although the server sent it
Every server is stopped and every directory removed, whatever happens."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/redis"))
import ftlib  # noqa: E402
from ftlib import OATHTOOL, PERIOD, T0, free_port, tap  # noqa: E402
import redislib  # noqa: E402
from redislib import KEY, reason  # noqa: E402


def code(now):
    return ftlib.totp(KEY, now)


def detail(lines):
    return " ".join(ln for ln in lines if "reason=" in ln or "warning" in ln)


class Clock:
    """A fresh step for every login."""

    def __init__(self):
        self.now = T0

    def next(self):
        self.now += PERIOD
        return self.now


def tls_opts(srv, pki, port=None, **over):
    o = {"redis_host": "127.0.0.1", "redis_port": str(port or srv.port),
         "redis_password_file": srv.passfile, "redis_tls_ca": pki.ca}
    o.update(over)
    return o


def test_right_ca(host, srv, pki, clock):
    svc = host.service("right", **tls_opts(srv, pki))
    now = clock.next()
    ok, lines = host.login(svc, code(now), now)
    tap.ok(ok, "right CA: a login over TLS works") or tap.diag(detail(lines))
    key = "fttls:{%s}:step" % host.user
    tap.is_(srv.cmd("GET", key), str(now // PERIOD),
            "the TLS server recorded the step")
    ok, lines = host.login(svc, code(now), now + 1)
    tap.ok(not ok and reason(lines) == "replay",
           "the same code again: replay, from the server's record")
    svc = host.service("byname", **tls_opts(
        srv, pki, redis_tls_server_name="localhost"))
    now = clock.next()
    ok, lines = host.login(svc, code(now), now)
    tap.ok(ok, "redis_tls_server_name=localhost (DNS name in the SAN, SNI)"
           " works") or tap.diag(detail(lines))
    svc = host.service("othername", **tls_opts(
        srv, pki, redis_tls_server_name="other.invalid"))
    now = clock.next()
    ok, lines = host.login(svc, code(now), now)
    tap.ok(not ok and reason(lines) == "cache_error" and
           "hostname mismatch" in detail(lines),
           "real server, a name its certificate lacks: denied, "
           "hostname mismatch") or tap.diag(detail(lines))


IMPOSTORS = [
    ("a certificate from another CA", "rogue",
     "unable to get local issuer certificate"),
    ("a certificate for another name", "wrong_name", "IP address mismatch"),
    ("an expired certificate", "expired", "certificate has expired"),
]


def impostor_login(host, srv, pki, clock, fake_args, **over):
    """A login against an impostor on a free port: (ok, lines, conns,
    data, tls failures)."""
    port = free_port()
    fake = redislib.Fake(["tcp", str(port)] + fake_args)
    try:
        svc = host.service("fake", **tls_opts(srv, pki, port=port, **over))
        now = clock.next()
        ok, lines = host.login(svc, code(now), now)
    finally:
        conns, data, fails = fake.received()
    return ok, lines, conns, data, fails


def test_impostors(host, srv, pki, clock):
    pw = srv.password.encode()
    for desc, attr, why in IMPOSTORS:
        cert = getattr(pki, attr)
        ok, lines, conns, data, fails = impostor_login(
            host, srv, pki, clock, ["--tls", cert, cert[:-4] + ".key"])
        tap.ok(not ok and reason(lines) == "cache_error" and
               why in detail(lines),
               "impostor with %s: denied, the log says \"%s\"" % (desc, why))\
            or tap.diag(detail(lines))
        tap.ok(conns == 1 and data == b"" and len(fails) == 1,
               "impostor with %s: one connection, handshake refused by the "
               "module, nothing received (no password)" % desc) \
            or tap.diag(repr(fails) + detail(lines))
    ok, lines, conns, data, _ = impostor_login(host, srv, pki, clock, [])
    tap.ok(not ok and reason(lines) == "cache_error" and
           "TLS" in detail(lines),
           "plain-text server on the TLS port: denied, TLS handshake "
           "failed") or tap.diag(detail(lines))
    tap.ok(conns == 1 and data.startswith(b"\x16\x03") and pw not in data,
           "plain-text server: received a TLS ClientHello and no password")
    # Control: the recorder does see what a verified server is sent.
    ok, lines, conns, data, _ = impostor_login(
        host, srv, pki, clock, ["--tls", pki.server, pki.server_key])
    tap.ok(b"AUTH" in data and pw in data,
           "control: a server with the right certificate receives AUTH and "
           "the password (the recorder works)")


def test_fallback(host, srv, pki, clock):
    ok, lines, conns, data, _ = impostor_login(
        host, srv, pki, clock, ["--tls", pki.rogue, pki.rogue_key],
        redis_fallback="local")
    tap.ok(ok and any("warning" in ln and "certificate refused" in ln
                      for ln in lines),
           "redis_fallback=local, impostor: the local cache decides, the "
           "warning names the certificate") or tap.diag(detail(lines))
    tap.ok(srv.password.encode() not in data,
           "redis_fallback=local: the impostor got no password either")


def test_mutual(host, pki, clock):
    with redislib.Server("mtls", tls=pki, auth_clients=True) as srv:
        svc = host.service("mtls", **tls_opts(
            srv, pki, redis_tls_cert=pki.client,
            redis_tls_key=pki.client_key))
        now = clock.next()
        ok, lines = host.login(svc, code(now), now)
        tap.ok(ok, "tls-auth-clients yes: works with redis_tls_cert/key") \
            or tap.diag(detail(lines))
        svc = host.service("nocert", **tls_opts(srv, pki))
        now = clock.next()
        ok, lines = host.login(svc, code(now), now)
        tap.ok(not ok and reason(lines) == "cache_error",
               "tls-auth-clients yes, no client certificate: denied") \
            or tap.diag(detail(lines))
        tap.diag(detail(lines))
    svc = host.service("halfcert", redis_tls_cert=pki.client)
    now = clock.next()
    ok, lines = host.login(svc, code(now), now)
    tap.ok(not ok and reason(lines) == "config_error" and
           "redis_tls_key" in detail(lines),
           "redis_tls_cert without redis_tls_key: config_error") \
        or tap.diag(detail(lines))


def bundle(pki, name, *pems):
    path = os.path.join(pki.dir, name)
    with open(path, "w") as out:
        for p in pems:
            with open(p) as f:
                out.write(f.read())
    os.chmod(path, 0o644)
    return path


def sent_certs(srv):
    """How many certificates the server sends (openssl s_client)."""
    r = subprocess.run([redislib.OPENSSL, "s_client", "-connect",
                        "127.0.0.1:%d" % srv.port, "-showcerts"],
                       input=b"", capture_output=True, timeout=30)
    return r.stdout.count(b"-----BEGIN CERTIFICATE-----")


def test_ca_files(host, srv, pki, clock):
    tap.is_(sent_certs(srv), 2, "the real server sends its CA along with "
            "its certificate (the path that decodes no file certificate)")
    both = bundle(pki, "bundle.pem", pki.other_ca, pki.ca)
    svc = host.service("bundle", **tls_opts(srv, pki, redis_tls_ca=both))
    now = clock.next()
    ok, lines = host.login(svc, code(now), now)
    tap.ok(ok, "redis_tls_ca with two CAs, the server's second: works") \
        or tap.diag(detail(lines))
    svc = host.service("otherca", **tls_opts(
        srv, pki, redis_tls_ca=pki.other_ca))
    now = clock.next()
    ok, lines = host.login(svc, code(now), now)
    tap.ok(not ok and reason(lines) == "cache_error" and
           "self-signed certificate in certificate chain" in detail(lines),
           "a CA the server sends but redis_tls_ca lacks is not trusted "
           "(self-signed certificate in certificate chain)") \
        or tap.diag(detail(lines))
    ok, lines, _, data, _ = impostor_login(
        host, srv, pki, clock, ["--tls", pki.server, pki.server_key],
        redis_tls_ca=both)
    tap.ok(b"AUTH" in data,
           "a server that sends no CA: the bundle's certificates are "
           "decoded and the second verifies it") or tap.diag(detail(lines))


def main():
    if not redislib.REDIS_SERVER or not OATHTOOL or not redislib.OPENSSL:
        tap.skip_all("needs redis-server, oathtool and openssl")
    if not os.path.exists(ftlib.PAM_LOGIN):
        tap.skip_all("tests/pam/ft-pam-login not built")
    pkidir = tempfile.mkdtemp(prefix="ft-rtls-pki-")
    host = redislib.PamHost("rtls")
    clock = Clock()
    try:
        pki = redislib.Pki(pkidir)
        with redislib.Server("rtls", tls=pki) as srv:
            test_right_ca(host, srv, pki, clock)
            test_impostors(host, srv, pki, clock)
            test_fallback(host, srv, pki, clock)
            test_ca_files(host, srv, pki, clock)
        test_mutual(host, pki, clock)
    finally:
        host.cleanup()
        shutil.rmtree(pkidir, ignore_errors=True)
    tap.done_testing()


main()
