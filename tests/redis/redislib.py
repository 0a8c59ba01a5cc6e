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
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
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
    """Blocking RESP2 client: enough for tests."""

    def __init__(self, port, password, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
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


class Server:
    def __init__(self, tag="redis", password=None):
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

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def _conf(self, port):
        path = os.path.join(self.dir, "redis.conf")
        with open(path, "w") as f:
            f.write("port %d\nbind 127.0.0.1\nrequirepass %s\n"
                    "save \"\"\nappendonly no\ndir %s\ndatabases %d\n"
                    "unixsocket %s\nunixsocketperm 700\n"
                    "logfile %s\nprotected-mode no\n" %
                    (port, self.password, self.dir, DATABASES, self.socket,
                     os.path.join(self.dir, "redis.log")))
            f.write(self.extra_conf())
        os.chmod(path, 0o600)
        return path

    def extra_conf(self):
        """More config lines (the HA subclasses)."""
        return ""

    def args(self, conf):
        return [REDIS_SERVER, conf]

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
                c = Client(self.port, self.password, timeout=1.0)
                c.cmd("PING")
                c.close()
                return True
            except (OSError, RespError):
                time.sleep(0.05)
        return False

    def client(self, db=0):
        c = Client(self.port, self.password)
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
    data nodes.  primary_addr() asks it, the way the module does."""
    DOWN_MS = 1000
    FAILOVER_MS = 5000

    def __init__(self, primary, name, tag="sentinel"):
        super().__init__(tag)
        self.primary = primary
        self.name = name

    def _conf(self, port):
        path = os.path.join(self.dir, "sentinel.conf")
        with open(path, "w") as f:
            f.write("port %d\nbind 127.0.0.1\nprotected-mode no\n"
                    "requirepass %s\ndir %s\nlogfile %s\n"
                    "sentinel monitor %s 127.0.0.1 %d 1\n"
                    "sentinel auth-pass %s %s\n"
                    "sentinel down-after-milliseconds %s %d\n"
                    "sentinel failover-timeout %s %d\n"
                    "sentinel parallel-syncs %s 1\n" %
                    (port, self.password, self.dir,
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
