#!/usr/bin/env python3
"""A server that pretends to be Redis, for the transport tests: it
records every byte it receives and answers every command as an attacker
would want (AUTH and SELECT: +OK; anything else: the flowtotp scripts'
"accepted" answer), so a test can show what reaches an impostor and that
nothing it says can pass a login.

  fake_redis.py tcp PORT [--tls CERT KEY]
  fake_redis.py unix PATH [--drop-after-bind USER]

stdout: "ready" once listening, then per connection "conn", per chunk
received "data HEX" (the TLS case: after decryption; a failed handshake is
"tls-failed REASON"), flushed at once.  --drop-after-bind: bind (and so
create the socket file) as the starting user, then switch to USER before
listen(): the socket belongs to the first, SO_PEERCRED names the second.
Runs until killed."""
import os
import pwd
import socket
import ssl
import sys

ACCEPTED = b"*5\r\n$8\r\naccepted\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n\r\n$1\r\n1\r\n"


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def commands(buf):
    """Complete RESP commands at the start of buf: (names, rest)."""
    names = []
    while buf.startswith(b"*"):
        pos = buf.find(b"\r\n")
        if pos < 0:
            break
        try:
            n = int(buf[1:pos])
        except ValueError:
            return names, b""
        args, p, complete = [], pos + 2, True
        for _ in range(n):
            e = buf.find(b"\r\n", p)
            if e < 0 or buf[p:p + 1] != b"$":
                complete = False
                break
            ln = int(buf[p + 1:e])
            if len(buf) < e + 2 + ln + 2:
                complete = False
                break
            args.append(buf[e + 2:e + 2 + ln])
            p = e + 2 + ln + 2
        if not complete:
            break
        names.append(args[0].upper() if args else b"")
        buf = buf[p:]
    return names, buf


def serve(conn):
    buf = b""
    while True:
        try:
            chunk = conn.recv(65536)
        except (OSError, ssl.SSLError):
            return
        if not chunk:
            return
        say("data " + chunk.hex())
        buf += chunk
        names, buf = commands(buf)
        out = b"".join(b"+OK\r\n" if n in (b"AUTH", b"SELECT", b"PING")
                       else ACCEPTED for n in names)
        if out:
            try:
                conn.sendall(out)
            except OSError:
                return


def listener(argv):
    if argv[0] == "tcp":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(argv[1])))
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(argv[1])
        os.chmod(argv[1], 0o700)
    if "--drop-after-bind" in argv:
        pw = pwd.getpwnam(argv[argv.index("--drop-after-bind") + 1])
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    s.listen(16)
    return s


def main():
    argv = sys.argv[1:]
    s = listener(argv)
    ctx = None
    if "--tls" in argv:
        i = argv.index("--tls")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(argv[i + 1], argv[i + 2])
    say("ready")
    while True:
        conn, _ = s.accept()
        say("conn")
        if ctx is not None:
            try:
                conn = ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as e:
                say("tls-failed " + str(e).replace("\n", " "))
                conn.close()
                continue
        serve(conn)
        conn.close()


main()
