"""TAP helpers for Python tests (stdlib only; run by /usr/bin/python3)."""
import sys

_n = 0
_failed = 0


def ok(cond, desc):
    global _n, _failed
    _n += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (_n, desc), flush=True)
    if not cond:
        _failed += 1
    return bool(cond)


def is_(got, want, desc):
    res = ok(got == want, desc)
    if not res:
        diag("got %r, want %r" % (got, want))
    return res


def diag(msg):
    for line in str(msg).splitlines() or [""]:
        print("# " + line, flush=True)


def skip_all(reason):
    print("1..0 # SKIP " + reason, flush=True)
    sys.exit(0)


def done_testing():
    print("1..%d" % _n, flush=True)
    sys.exit(0 if _failed == 0 else 1)
