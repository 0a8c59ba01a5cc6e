"""A private redis-server for the tests (stdlib only), and the high
availability set-ups built of them (a replica, Sentinels, a Cluster).

Server(): a temp dir with a config file (requirepass with a random password,
no persistence, 127.0.0.1 on a free port, a unix socket, 16 databases), the
password in a 0600 file for redis_password_file=, and a tiny RESP client for
checks on the server (TTL, HGETALL, planting bad data).  Use it as a context
manager: the server is resumed (if paused) and killed, and the dir removed,
whatever happens.

Replica(primary), Sentinel(primary, name) and Cluster(n) are Servers too
(or own some): same password as what they serve, same cleanup.  Every wait
on them polls with a bounded deadline (WAIT_S)."""
import os
import pwd
import secrets
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
import ftlib  # noqa: E402
from ftlib import free_port  # noqa: E402

# make check always sets REDIS_SERVER (empty when configure found none: the
# tests skip); run by hand without it, look in PATH.
REDIS_SERVER = (os.environ["REDIS_SERVER"] if "REDIS_SERVER" in os.environ
                else shutil.which("redis-server"))
REDIS_CLI = (os.path.join(os.path.dirname(REDIS_SERVER), "redis-cli")
             if REDIS_SERVER else None)
DATABASES = 16
START_TRIES = 5
READY_WAIT_S = 10.0
WAIT_S = 30.0           # replication link, Sentinel discovery, cluster ok
POLL_S = 0.1


class RespError(Exception):
    pass


class Client:
    """Blocking RESP2 client: enough for tests.  tls: an ssl.SSLContext
    for a server that speaks TLS only."""

    def __init__(self, port, password, timeout=5.0, tls=None):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock,
                                        server_hostname="127.0.0.1")
        self.buf = b""
        if password is not None:
            self.cmd("AUTH", password)

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RespError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RespError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RespError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RespError("bad reply %r" % line)

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._reply()


def as_user(user):
    """The command prefix that runs a program as user (None: as we are)."""
    if user is None:
        return []
    return ["setpriv", "--reuid", user, "--regid",
            str(pwd.getpwnam(user).pw_gid), "--clear-groups"]


class Server:
    """tls: a Pki; the server then listens with TLS only (--port 0), its
    certificate pki.server, and with auth_clients wants a client
    certificate from the CA.  user: run as that account (its directory
    and socket then belong to it)."""

    def __init__(self, tag="redis", tls=None, auth_clients=False,
                 user=None, password=None):
        if not REDIS_SERVER or not os.access(REDIS_SERVER, os.X_OK):
            raise RuntimeError("redis-server not found")
        self.dir = tempfile.mkdtemp(prefix="ft-%s-" % tag)
        self.password = password or secrets.token_hex(16)
        self.passfile = os.path.join(self.dir, "redis.pass")
        fd = os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                     0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.password + "\n")
        self.socket = os.path.join(self.dir, "redis.sock")
        self.proc = None
        self.port = None
        self.paused = False
        self.tls = tls
        self.auth_clients = auth_clients
        self.user = user
        if user is not None:
            os.chown(self.dir, pwd.getpwnam(user).pw_uid, -1)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def _tls_conf(self, port):
        if self.tls is None:
            return "port %d\n" % port
        return ("port 0\ntls-port %d\ntls-cert-file %s\ntls-key-file %s\n"
                "tls-ca-cert-file %s\ntls-auth-clients %s\n" %
                (port, self.tls.server, self.tls.server_key, self.tls.ca,
                 "yes" if self.auth_clients else "no"))

    def tls_context(self):
        """The context the checks connect with (None: plain)."""
        if self.tls is None:
            return None
        ctx = ssl.create_default_context(cafile=self.tls.ca)
        ctx.load_cert_chain(self.tls.client, self.tls.client_key)
        return ctx

    def _conf(self, port):
        path = os.path.join(self.dir, "redis.conf")
        with open(path, "w") as f:
            f.write(self._tls_conf(port))
            f.write("bind 127.0.0.1\nrequirepass %s\n"
                    "save \"\"\nappendonly no\ndir %s\ndatabases %d\n"
                    "unixsocket %s\nunixsocketperm 700\n"
                    "logfile %s\nprotected-mode no\n" %
                    (self.password, self.dir, DATABASES, self.socket,
                     os.path.join(self.dir, "redis.log")))
            f.write(self.extra_conf())
        os.chmod(path, 0o600)
        if self.user is not None:
            os.chown(path, pwd.getpwnam(self.user).pw_uid, -1)
        return path

    def extra_conf(self):
        """More config lines (the HA subclasses)."""
        return ""

    def args(self, conf):
        return as_user(self.user) + [REDIS_SERVER, conf]

    def start(self):
        """Start (or restart on a new port after stop())."""
        for _ in range(START_TRIES):
            port = free_port()
            conf = self._conf(port)
            self.proc = subprocess.Popen(self.args(conf),
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            self.port = port
            if self._wait_ready():
                return
            self._kill()
        raise RuntimeError("redis-server did not start; see %s" % self.dir)

    def _wait_ready(self):
        deadline = time.monotonic() + READY_WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                c = Client(self.port, self.password, timeout=1.0,
                           tls=self.tls_context())
                c.cmd("PING")
                c.close()
                return True
            except (OSError, RespError, ssl.SSLError):
                time.sleep(0.05)
        return False

    def client(self, db=0):
        c = Client(self.port, self.password, tls=self.tls_context())
        if db:
            c.cmd("SELECT", db)
        return c

    def cmd(self, *args, db=0):
        c = self.client(db)
        try:
            return c.cmd(*args)
        finally:
            c.close()

    def pause(self):
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self):
        if self.proc is not None and self.paused:
            os.kill(self.proc.pid, signal.SIGCONT)
        self.paused = False

    def _kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()    # SIGKILL works on a stopped process too
        self.proc.wait()
        self.proc = None
        self.paused = False

    def stop(self):
        """Kill the server (its port stays as it was: connections are
        refused)."""
        self.resume()
        self._kill()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- TLS: a private CA made with the openssl tool ----

OPENSSL = shutil.which("openssl")
CURVE = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
SERVER_SAN = "IP:127.0.0.1,DNS:localhost"
CA_CNF = """[ca]
default_ca = d
[d]
database = %(dir)s/index.txt
new_certs_dir = %(dir)s
serial = %(dir)s/serial
default_md = sha256
policy = p
unique_subject = no
x509_extensions = ext
[p]
commonName = supplied
[ext]
subjectAltName = %(san)s
extendedKeyUsage = serverAuth
"""


def _openssl(*args):
    subprocess.run([OPENSSL] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Pki:
    """In dir: a CA (ca.pem), a second unrelated CA (other-ca.pem), and
    certificates from the first: server (127.0.0.1 and localhost),
    wrong_name (other.invalid only), expired (127.0.0.1, valid in 2020),
    client (clientAuth), each with its key (NAME.key, 0600); the server
    certificate again from the second CA (rogue)."""

    def __init__(self, dir):
        self.dir = dir
        self.ca = self._ca("ca")
        self.other_ca = self._ca("other-ca")
        self.server, self.server_key = self._leaf(
            "server", "ca", "subjectAltName=%s\nextendedKeyUsage=serverAuth"
            % SERVER_SAN)
        self.wrong_name, self.wrong_name_key = self._leaf(
            "wrong-name", "ca", "subjectAltName=DNS:other.invalid\n"
            "extendedKeyUsage=serverAuth")
        self.client, self.client_key = self._leaf(
            "client", "ca", "extendedKeyUsage=clientAuth")
        self.rogue, self.rogue_key = self._leaf(
            "rogue", "other-ca", "subjectAltName=%s\n"
            "extendedKeyUsage=serverAuth" % SERVER_SAN)
        self.expired, self.expired_key = self._expired()

    def path(self, name):
        return os.path.join(self.dir, name)

    def _ca(self, name):
        _openssl("req", "-x509", *CURVE, "-nodes", "-days", "2",
                 "-subj", "/CN=flowtotp test %s" % name,
                 "-keyout", self.path(name + ".key"),
                 "-out", self.path(name + ".pem"))
        return self.path(name + ".pem")

    def _csr(self, name):
        _openssl("req", "-new", *CURVE, "-nodes", "-subj",
                 "/CN=flowtotp test %s" % name,
                 "-keyout", self.path(name + ".key"),
                 "-out", self.path(name + ".csr"))
        os.chmod(self.path(name + ".key"), 0o600)

    def _leaf(self, name, ca, ext):
        self._csr(name)
        with open(self.path(name + ".ext"), "w") as f:
            f.write(ext + "\n")
        _openssl("x509", "-req", "-in", self.path(name + ".csr"),
                 "-CA", self.path(ca + ".pem"),
                 "-CAkey", self.path(ca + ".key"),
                 "-set_serial", str(secrets.randbits(63)), "-days", "2",
                 "-extfile", self.path(name + ".ext"),
                 "-out", self.path(name + ".pem"))
        return self.path(name + ".pem"), self.path(name + ".key")

    def _expired(self):
        """openssl ca, for a validity period in the past."""
        d = self.path("ca-db")
        os.mkdir(d, 0o700)
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("1000\n")
        with open(self.path("ca.cnf"), "w") as f:
            f.write(CA_CNF % {"dir": d, "san": SERVER_SAN})
        self._csr("expired")
        _openssl("ca", "-batch", "-notext", "-config", self.path("ca.cnf"),
                 "-cert", self.ca, "-keyfile", self.path("ca.key"),
                 "-startdate", "20200101000000Z",
                 "-enddate", "20200102000000Z",
                 "-in", self.path("expired.csr"),
                 "-out", self.path("expired.pem"))
        return self.path("expired.pem"), self.path("expired.key")


# ---- an impostor (tests/redis/fake_redis.py), as another user ----

FAKE_READY_S = 10.0


class Fake:
    """fake_redis.py with args, as user (None: us).  received() stops it
    and says what it got: (connections, bytes received, TLS failures)."""

    def __init__(self, args, user=None):
        self.dir = tempfile.mkdtemp(prefix="ft-fake-")
        os.chmod(self.dir, 0o755)  # the script must be readable to user
        script = os.path.join(self.dir, "fake_redis.py")
        shutil.copy(os.path.join(os.environ["top_srcdir"], "tests", "redis",
                                 "fake_redis.py"), script)
        os.chmod(script, 0o644)
        cmd = as_user(user) + [sys.executable, script] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.lines = []
        if not self._ready():
            self.stop()
            raise RuntimeError("fake_redis did not start: %r" % self.lines)

    def _ready(self):
        deadline = time.monotonic() + FAKE_READY_S
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                line = self.proc.stdout.readline().decode().strip()
                if not line:
                    return False
                self.lines.append(line)
                if line == "ready":
                    return True
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        out, err = self.proc.communicate()
        self.lines += out.decode().splitlines()
        if err:
            self.lines.append("stderr " + err.decode().replace("\n", " "))
        shutil.rmtree(self.dir, ignore_errors=True)

    def received(self):
        self.stop()
        data = b"".join(bytes.fromhex(ln[5:]) for ln in self.lines
                        if ln.startswith("data "))
        return (sum(1 for ln in self.lines if ln == "conn"), data,
                [ln for ln in self.lines if ln.startswith("tls-failed")])


# ---- logins through the real PAM module (tests/pam/ft-pam-login) ----

KEY = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


class PamHost:
    """One host: a secret for the calling user, a pam.d dir, a syslog
    file.  service(name, **opts) writes a one-line stack with the module
    and these options over cache=redis defaults; login() runs one."""

    def __init__(self, tag):
        self.dir = tempfile.mkdtemp(prefix="ft-%s-" % tag)
        self.user = pwd.getpwuid(os.geteuid()).pw_name
        self.secrets = os.path.join(self.dir, "secrets")
        self.confdir = os.path.join(self.dir, "pam.d")
        self.syslog = os.path.join(self.dir, "syslog")
        os.mkdir(self.secrets, 0o700)
        os.mkdir(self.confdir, 0o700)
        with open(os.path.join(self.confdir, "other"), "w") as f:
            f.write("auth required pam_deny.so\n")
        fd = os.open(os.path.join(self.secrets, self.user),
                     os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, ("version = 1\nsecret = %s\nalgorithm = SHA1\n"
                      "digits = 6\nperiod = 30\ncreated = 1699990000\n" %
                      KEY).encode())
        os.close(fd)

    def service(self, name, **opts):
        o = {"secret": os.path.join(self.secrets, "%u"), "cache": "redis",
             "redis_prefix": "fttls", "redis_timeout_ms": "2000",
             "local_cache": os.path.join(self.dir, "local.gdbm"),
             "window": "1", "deny": "3"}
        o.update(opts)
        with open(os.path.join(self.confdir, name), "w") as f:
            f.write("auth required %s %s\n" % (
                ftlib.PAM_MODULE,
                " ".join("%s=%s" % kv for kv in o.items())))
        return name

    def log_lines(self):
        try:
            with open(self.syslog) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def login(self, svc, answer, now):
        """(success, new syslog lines)."""
        before = len(self.log_lines())
        env = dict(os.environ, FLOWTOTP_TEST_NOW=str(now),
                   FT_TEST_SYSLOG=self.syslog, LC_ALL="C")
        env.pop("FLOWTOTP_TEST_OFFSET", None)
        r = subprocess.run([ftlib.PAM_LOGIN, svc, self.user, self.confdir],
                           input=answer + "\n", capture_output=True,
                           text=True, env=env, timeout=60)
        if r.returncode not in (0, 1):
            ftlib.tap.diag("ft-pam-login rc %d: %s %s" %
                           (r.returncode, r.stdout, r.stderr))
        return r.returncode == 0, self.log_lines()[before:]

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def reason(lines):
    """reason= of the last result line."""
    for ln in reversed(lines):
        if "result=" in ln and "reason=" in ln:
            return ln.split("reason=", 1)[1].split()[0]
    return None


# ---- high availability: replicas, Sentinels, a Cluster ----

def wait_for(what, pred, timeout=WAIT_S):
    """Poll pred() until it is true; RuntimeError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except (OSError, RespError):
            pass
        time.sleep(POLL_S)
    raise RuntimeError("timed out waiting for %s" % what)


def info(server, section):
    """INFO section as a dict."""
    out = {}
    for ln in server.cmd("INFO", section).splitlines():
        if ":" in ln and not ln.startswith("#"):
            k, v = ln.split(":", 1)
            out[k] = v.strip()
    return out


class Replica(Server):
    """A replica of primary (same password), its link up once started."""

    def __init__(self, primary, tag="replica"):
        super().__init__(tag, password=primary.password)
        self.primary = primary

    def extra_conf(self):
        return ("replicaof 127.0.0.1 %d\nmasterauth %s\n"
                "replica-read-only yes\n" %
                (self.primary.port, self.password))

    def start(self):
        super().start()
        wait_for("replication link of %d" % self.port,
                 lambda: info(self, "replication").get(
                     "master_link_status") == "up")


class Sentinel(Server):
    """A Sentinel monitoring primary under name (quorum 1, down after
    DOWN_MS), with a password of its own (passfile) and auth-pass for the
    data nodes; tls: a Pki, TLS only, to the data nodes too.
    primary_addr() asks it, the way the module does."""
    DOWN_MS = 1000
    FAILOVER_MS = 5000

    def __init__(self, primary, name, tag="sentinel", tls=None):
        super().__init__(tag, tls=tls)
        self.primary = primary
        self.name = name

    def _conf(self, port):
        path = os.path.join(self.dir, "sentinel.conf")
        with open(path, "w") as f:
            f.write(self._tls_conf(port))
            if self.tls is not None:
                # Talk TLS to the data nodes too.
                f.write("tls-replication yes\n")
            f.write("bind 127.0.0.1\nprotected-mode no\n"
                    "requirepass %s\ndir %s\nlogfile %s\n"
                    "sentinel monitor %s 127.0.0.1 %d 1\n"
                    "sentinel auth-pass %s %s\n"
                    "sentinel down-after-milliseconds %s %d\n"
                    "sentinel failover-timeout %s %d\n"
                    "sentinel parallel-syncs %s 1\n" %
                    (self.password, self.dir,
                     os.path.join(self.dir, "sentinel.log"),
                     self.name, self.primary.port,
                     self.name, self.primary.password,
                     self.name, self.DOWN_MS,
                     self.name, self.FAILOVER_MS, self.name))
        os.chmod(path, 0o600)     # Sentinel rewrites it: our own file
        return path

    def args(self, conf):
        return [REDIS_SERVER, conf, "--sentinel"]

    def primary_addr(self):
        r = self.cmd("SENTINEL", "get-master-addr-by-name", self.name)
        return None if r is None else (r[0], int(r[1]))

    def wait_replicas(self, n):
        """Until the Sentinel knows n replicas (it can fail over)."""
        wait_for("Sentinel to see %d replica(s)" % n,
                 lambda: len(self.cmd("SENTINEL", "replicas",
                                      self.name)) >= n)

    def wait_primary(self, port):
        wait_for("Sentinel to name port %d the primary" % port,
                 lambda: self.primary_addr() == ("127.0.0.1", port))


class ClusterNode(Server):
    """One node of a Cluster: its own node file and bus port."""

    def __init__(self, password, tag="cnode"):
        super().__init__(tag, password=password)
        self.bus_port = None

    def extra_conf(self):
        self.bus_port = free_port()
        return ("cluster-enabled yes\ncluster-config-file %s\n"
                "cluster-port %d\ncluster-node-timeout 5000\n"
                "masterauth %s\n" %
                (os.path.join(self.dir, "nodes.conf"), self.bus_port,
                 self.password))


class Cluster:
    """n masters, slots spread by redis-cli --cluster create, no
    replicas.  owner(key) is the node that serves key's slot."""

    def __init__(self, n=3):
        self.password = secrets.token_hex(16)
        self.nodes = [ClusterNode(self.password, "cnode%d" % i)
                      for i in range(n)]

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    @property
    def passfile(self):
        return self.nodes[0].passfile

    def start(self):
        for nd in self.nodes:
            nd.start()
        r = subprocess.run(
            [REDIS_CLI, "--no-auth-warning", "-a", self.password,
             "--cluster", "create"] +
            ["127.0.0.1:%d" % nd.port for nd in self.nodes] +
            ["--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("cluster create: %s %s" % (r.stdout, r.stderr))
        for nd in self.nodes:
            wait_for("cluster_state:ok on %d" % nd.port,
                     lambda nd=nd: "cluster_state:ok" in
                     nd.cmd("CLUSTER", "INFO"))

    def slot(self, key):
        return self.nodes[0].cmd("CLUSTER", "KEYSLOT", key)

    def owner(self, key):
        slot = self.slot(key)
        for lo, hi, master, *_ in self.nodes[0].cmd("CLUSTER", "SLOTS"):
            if lo <= slot <= hi:
                port = master[1]
                return next(nd for nd in self.nodes if nd.port == port)
        raise RuntimeError("no node serves slot %d" % slot)

    def node_id(self, node):
        return node.cmd("CLUSTER", "MYID")

    def cleanup(self):
        for nd in self.nodes:
            nd.cleanup()
