#!/usr/bin/python3
"""Fake users for bench/run.sh: one secret per user, written in the form
each module reads.

  mkusers.py DIR COUNT [--ga] [--ga-every=K] [--oath] [--ft]
             [--prefix=P --uid0=UID]

writes into DIR:
  users.txt           "NAME HEXSECRET" per line (what pam_bench reads)
  passwd, group       nss_wrapper databases: every user has the runner's
                      uid/gid and a home DIR/home/NAME (made only with --ga)
  ft/NAME             flowtotp(5) secret files, mode 0600       (--ft)
  home/NAME/.google_authenticator  TOTP_AUTH, DISALLOW_REUSE,
                      RATE_LIMIT 3 30, WINDOW_SIZE 3, mode 0600  (--ga;
                      --ga-every=K: only for every K-th user, the ones a
                      strided run logs in: nothing reads the others)
  users.oath          pam_oath "HOTP/T30 NAME - HEX" lines      (--oath)
  fte/NAME, store.key flowtotp(5) version 2 files (AES-256-GCM, the same
                      secrets) and their store key, both 0600     (--fte;
                      needs python3-cryptography)

--prefix/--uid0 (bench/real.sh): names P000000.. for accounts that exist in
/etc/passwd with uid UID+i (bench/realusers.py); homes and google-
authenticator files then belong to that uid (the module checks the owner
and reads them as the user), DIR and DIR/home are 0711 so the user can
reach its home.

Secrets are derived from the user's index, so every module sees the same
secret for the same user and runs are repeatable."""

import base64
import hashlib
import os
import sys
import time

PREFIX = "bu"
SECRET_LEN = 20
NOGROUP = 65534


def secret(i):
    return hashlib.sha1(b"flowtotp-bench-%d" % i).digest()[:SECRET_LEN]


def name(i, prefix=PREFIX):
    return "%s%06d" % (prefix, i)


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


class Sealer:
    """Version 2 files as flowtotp(5) defines them, written independently
    of the C code (so the bench also checks that the module reads them)."""
    KEY_ID = "kbench01"

    def __init__(self, top):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        self.top = top
        self.key = os.urandom(32)
        self.aes = AESGCM(self.key)
        os.makedirs(os.path.join(top, "fte"), mode=0o700, exist_ok=True)
        write_private(os.path.join(top, "store.key"),
                      "%s %s\n" % (self.KEY_ID, self.key.hex()))

    def write(self, user, secret_key, created):
        nonce = os.urandom(12)
        aad = b"flowtotp-secret\x002\x00%s\x00%s" % (
            self.KEY_ID.encode(), user.encode())
        enc = nonce + self.aes.encrypt(nonce, secret_key, aad)
        write_private(os.path.join(self.top, "fte", user),
                      "version = 2\nkey_id = %s\nsecret_enc = %s\n"
                      "algorithm = SHA1\ndigits = 6\nperiod = 30\n"
                      "created = %d\n" % (self.KEY_ID, enc.hex(), created))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    top, count = argv[1], int(argv[2])
    flags = set(a for a in argv[3:] if "=" not in a)
    opts = dict(a.split("=", 1) for a in argv[3:] if "=" in a)
    ga_every = int(opts.get("--ga-every", "1"))
    if "--ga-every" in opts:
        flags.add("--ga")
    uid, gid = os.getuid(), os.getgid()
    prefix = opts.get("--prefix", PREFIX)
    uid0 = int(opts["--uid0"]) if "--uid0" in opts else None
    created = int(time.time())
    dmode = 0o711 if uid0 is not None else 0o700
    os.makedirs(top, mode=dmode, exist_ok=True)
    os.chmod(top, dmode)
    if "--ft" in flags:
        os.makedirs(os.path.join(top, "ft"), mode=0o700, exist_ok=True)
    if "--ga" in flags:
        os.makedirs(os.path.join(top, "home"), mode=dmode, exist_ok=True)
    sealer = Sealer(top) if "--fte" in flags else None
    users, passwd, oath = [], [], []
    for i in range(count):
        n, key = name(i, prefix), secret(i)
        b32 = base64.b32encode(key).decode().rstrip("=")
        home = os.path.join(top, "home", n)
        users.append("%s %s\n" % (n, key.hex()))
        passwd.append("%s:x:%d:%d:bench:%s:/bin/false\n" % (n, uid, gid, home))
        if "--oath" in flags:
            oath.append("HOTP/T30 %s - %s\n" % (n, key.hex()))
        if "--ft" in flags:
            write_private(os.path.join(top, "ft", n),
                          "version = 1\nsecret = %s\nalgorithm = SHA1\n"
                          "digits = 6\nperiod = 30\ncreated = %d\n"
                          % (b32, created))
        if sealer:
            sealer.write(n, key, created)
        if "--ga" in flags and i % ga_every == 0:
            os.makedirs(home, mode=0o700, exist_ok=True)
            ga = os.path.join(home, ".google_authenticator")
            write_private(ga, '%s\n" RATE_LIMIT 3 30\n" WINDOW_SIZE 3\n'
                          '" DISALLOW_REUSE\n" TOTP_AUTH\n' % b32)
            if uid0 is not None:
                os.chown(home, uid0 + i, NOGROUP)
                os.chown(ga, uid0 + i, NOGROUP)
    with open(os.path.join(top, "users.txt"), "w") as f:
        f.writelines(users)
    with open(os.path.join(top, "passwd"), "w") as f:
        f.writelines(passwd)
    with open(os.path.join(top, "group"), "w") as f:
        f.write("bench:x:%d:\n" % gid)
    if "--oath" in flags:
        write_private(os.path.join(top, "users.oath"), "".join(oath))


if __name__ == "__main__":
    main(sys.argv)
