"""A private redis-server for the tests (stdlib only).

Server(): a temp dir with a config file (requirepass with a random password,
no persistence, 127.0.0.1 on a free port, a unix socket, 16 databases), the
password in a 0600 file for redis_password_file=, and a tiny RESP client for
checks on the server (TTL, HGETALL, planting bad data).  Use it as a context
manager: the server is resumed (if paused) and killed, and the dir removed,
whatever happens."""
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
DATABASES = 16
START_TRIES = 5
READY_WAIT_S = 10.0


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
    def __init__(self, tag="redis"):
        if not REDIS_SERVER or not os.access(REDIS_SERVER, os.X_OK):
            raise RuntimeError("redis-server not found")
        self.dir = tempfile.mkdtemp(prefix="ft-%s-" % tag)
        self.password = secrets.token_hex(16)
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
        os.chmod(path, 0o600)
        return path

    def start(self):
        """Start (or restart on a new port after stop())."""
        for _ in range(START_TRIES):
            port = free_port()
            conf = self._conf(port)
            self.proc = subprocess.Popen([REDIS_SERVER, conf],
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
