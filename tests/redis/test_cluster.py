"""Redis Cluster through the real PAM module (redis_cluster=yes).

Three masters on free 127.0.0.1 ports (cluster-enabled, slots spread by
redis-cli --cluster create, no replicas); two "hosts" (two services with
their own local caches) share the state.
  - all of a user's keys carry the hash tag {USER}: one slot
  - a code accepted on host A is refused on host B, and the other way
  - host A pointed at a node that does not own the user's slot: works
    through -MOVED; with redis_cluster=no the same node denies (MOVED)
  - rounds of 20 parallel logins over both hosts with one code: exactly
    one success each
  - the slot being migrated (MIGRATING/IMPORTING) with the user's keys
    on the importing node: the source answers -ASK and the script runs
    there after ASKING; once a key is missing there (the success removed
    the fail hash) Redis answers TRYAGAIN: denied; once the slot has
    moved, MOVED leads to the new owner, which refuses the replay
  - redis_db other than 0 with redis_cluster: a configuration error
Every node is always stopped at the end."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/redis"))
import halib  # noqa: E402
import redislib  # noqa: E402
from halib import USER, code, reason, result_line, tap  # noqa: E402
from ftlib import PERIOD, T0  # noqa: E402

PREFIX = "cl"
ROUNDS = 3
NPAR = 20
SUFFIXES = ("step", "fail", "ok", "future")


def key(suffix):
    return "%s:{%s}:%s" % (PREFIX, USER, suffix)


def setup(cl):
    owner = cl.owner(key("step"))
    other = next(nd for nd in cl.nodes if nd is not owner)
    tap.ok(len({cl.slot(key(s)) for s in SUFFIXES}) == 1,
           "every key of the user maps to one slot (%d)" %
           cl.slot(key("step")))
    return owner, other


def cross_host(h, owner, other, now):
    a = h.service("hosta", redis_port=str(owner.port))
    b = h.service("hostb", redis_port=str(other.port))
    ok, lines = h.login(a, code(now), now)
    tap.ok(ok, "host A (at the slot's owner) accepts a code")
    if not ok:
        tap.diag(result_line(lines))
    ok, lines = h.login(b, code(now), now + 1)
    tap.ok(not ok and reason(lines) == "replay",
           "host B (at another node, through MOVED) refuses it as a replay")
    now += PERIOD
    ok, lines = h.login(b, code(now), now)
    tap.ok(ok, "host B accepts the next code through MOVED")
    if not ok:
        tap.diag(result_line(lines))
    ok, lines = h.login(a, code(now), now + 1)
    tap.ok(not ok and reason(lines) == "replay", "host A refuses it")
    tap.is_(owner.cmd("GET", key("step")), str(now // PERIOD),
            "the owner of the slot holds the step")
    plain = h.service("plain", redis_port=str(other.port),
                      redis_cluster="no")
    ok, lines = h.login(plain, code(now + PERIOD), now + PERIOD)
    tap.ok(not ok and reason(lines) == "cache_error" and
           "MOVED" in result_line(lines),
           "redis_cluster=no at that node: denied, the log names MOVED")
    return now


def parallel(h, owner, other, now):
    a = h.service("racea", redis_port=str(owner.port))
    b = h.service("raceb", redis_port=str(other.port))
    bad = []
    for rnd in range(ROUNDS):
        now += PERIOD
        procs = [h.start(a if i % 2 == 0 else b, now) for i in range(NPAR)]
        for p in procs:
            h.answer(p, code(now))
        rcs = [h.finish(p) for p in procs]
        if rcs.count(0) != 1 or any(rc not in (0, 1) for rc in rcs):
            bad.append((rnd, rcs))
    tap.ok(not bad, "%d rounds of %d parallel logins on two hosts with one "
           "code: exactly one success each" % (ROUNDS, NPAR))
    if bad:
        tap.diag("rounds (round, exit codes): %r" % bad)
    return now


def asking(node, *cmd):
    c = node.client()
    try:
        c.cmd("ASKING")
        return c.cmd(*cmd)
    finally:
        c.close()


def ask(h, cl, owner, other, now):
    """A slot in migration: a node answers -ASK for keys it no longer
    holds, and the importing node serves them after ASKING.  With all of
    the user's keys moved the script runs there; with one missing Redis
    answers TRYAGAIN (it may still be on its way): denied, fail closed.  Once the slot has
    moved, the old owner's -MOVED leads to the new one."""
    slot = cl.slot(key("step"))
    step = owner.cmd("GET", key("step"))
    present = [k for k in map(key, SUFFIXES) if owner.cmd("EXISTS", k)]
    other.cmd("CLUSTER", "SETSLOT", slot, "IMPORTING", cl.node_id(owner))
    owner.cmd("CLUSTER", "SETSLOT", slot, "MIGRATING", cl.node_id(other))
    # Move the user's keys by hand, as MIGRATE would: the step that was
    # accepted, no failure, no future step.
    asking(other, "SET", key("step"), step)
    asking(other, "SET", key("ok"), "1")
    asking(other, "HSET", key("fail"), "n", "0", "first", "0", "until", "0")
    asking(other, "SET", key("future"), "0")
    for k in present:   # a missing key there would be -ASK already
        owner.cmd("DEL", k)
    a = h.service("hosta", redis_port=str(owner.port))
    now += PERIOD
    ok, lines = h.login(a, code(now), now)
    tap.ok(ok, "slot migrating, keys on the importing node: accepted "
           "through ASK and ASKING")
    if not ok:
        tap.diag(result_line(lines))
    tap.is_(asking(other, "GET", key("step")), str(now // PERIOD),
            "the importing node holds the step")
    # The success removed the fail hash: one of the keys is now missing,
    # and in a migrating slot Redis cannot tell whether it is still to
    # come.
    ok, lines = h.login(a, code(now), now + 1)
    tap.ok(not ok and reason(lines) == "cache_error" and
           "TRYAGAIN" in result_line(lines),
           "its replay, a key now missing in mid-migration: denied "
           "(TRYAGAIN), not decided on part of the keys")
    tap.diag(result_line(lines))
    for nd in cl.nodes:
        nd.cmd("CLUSTER", "SETSLOT", slot, "NODE", cl.node_id(other))
    ok, lines = h.login(a, code(now), now + 2)
    tap.ok(not ok and reason(lines) == "replay",
           "slot moved: the old owner's MOVED leads to the new one, which "
           "refuses the replay")
    now += PERIOD
    ok, lines = h.login(a, code(now), now)
    tap.ok(ok, "and accepts the next code")
    if not ok:
        tap.diag(result_line(lines))
    tap.is_(other.cmd("GET", key("step")), str(now // PERIOD),
            "the new owner holds the step")


def config_error(h, cl, now):
    svc = h.service("db1", redis_port=str(cl.nodes[0].port), redis_db="1")
    ok, lines = h.login(svc, code(now), now)
    tap.ok(not ok and any("redis_db" in ln for ln in lines),
           "redis_cluster with redis_db=1: refused as a configuration error")
    if ok or not any("redis_db" in ln for ln in lines):
        tap.diag("\n".join(lines))


def main():
    halib.skip_unless_ready()
    if not redislib.REDIS_CLI or not os.access(redislib.REDIS_CLI, os.X_OK):
        tap.skip_all("redis-cli not found")
    cl = redislib.Cluster(3)
    h = None
    try:
        cl.start()
        h = halib.Hosts("cluster", {
            "redis_host": "127.0.0.1", "redis_cluster": "yes",
            "redis_password_file": cl.passfile, "redis_prefix": PREFIX})
        owner, other = setup(cl)
        now = cross_host(h, owner, other, T0)
        now = parallel(h, owner, other, now)
        ask(h, cl, owner, other, now)
        config_error(h, cl, now + 100 * PERIOD)
    finally:
        cl.cleanup()
        if h is not None:
            h.cleanup()
    tap.done_testing()


main()
