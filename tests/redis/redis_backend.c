/* The Redis state backend against a real redis-server, called directly
 * (ft_state_redis_open and its ops) and through ft_state_open.  Started by
 * test_backend.py, which runs the server and passes:
 *   FT_REDIS_PORT, FT_REDIS_PASSFILE, FT_REDIS_SOCKET, FT_REDIS_PID,
 *   FT_REDIS_DIR (a private temp dir), FT_REDIS_DATABASES.
 * Checks on the server (TTLs, stored fields, planted bad data) go through
 * a separate hiredis connection.  Time is passed explicitly (the backend
 * takes `now` from its caller), so nothing depends on the wall clock except
 * the timeout checks, which measure elapsed time with generous bounds. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "conf.h"
#include "rc.h"
#include "state.h"
#include "state_backend.h"
#include "statepolicy.h"
#include "tap.h"

#define T0 1700000000
#define ERRLEN 512
#define NPROC 20
#define TIMEOUT_MS 300U
#define SLACK_MS 1500L	/* scheduling, valgrind */
#define MARGIN 60	/* TTL_MARGIN_S in state_redis.c */
#define TTL_TOLERANCE 5 /* seconds the TTL may have run down */
#define RANDOM_OPS 3000
#define RANDOM_USERS 3

struct env {
	unsigned port;
	const char *passfile;
	const char *sock;
	pid_t pid;
	const char *dir;
	unsigned databases;
	redisContext *admin;
};

/* A success through state.c, its parts spelled out. */
static int
record(struct ft_state *st, const char *user, uint64_t step, time_t now,
    enum ft_state_verdict *v)
{
	struct ft_state_login l = {.user = user, .now = now, .step = step};
	char err[ERRLEN];
	int rc;

	rc = ft_state_record_success(st, &l, err, sizeof(err));
	*v = l.verdict;
	return rc;
}

static struct env E;

static const char *
need_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0')
		skip_all("%s not set (run by test_backend.py)", name);
	return v;
}

/* ---- the admin connection ---- */

static redisReply *
admin(const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	va_start(ap, fmt);
	r = redisvCommand(E.admin, fmt, ap);
	va_end(ap);
	if (r == NULL)
		bail_out("admin connection: %s", E.admin->errstr);
	return r;
}

static long long
admin_int(const char *fmt, const char *key)
{
	redisReply *r = admin(fmt, key);
	long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -999;

	freeReplyObject(r);
	return v;
}

/* HGET key field as a string into buf ("" if absent). */
static const char *
admin_hget(const char *key, const char *field, char *buf, size_t len)
{
	redisReply *r = admin("HGET %s %s", key, field);

	snprintf(buf, len, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return buf;
}

static const char *
admin_get(const char *key, char *buf, size_t len)
{
	redisReply *r = admin("GET %s", key);

	snprintf(buf, len, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return buf;
}

static void
admin_cmd(const char *fmt, const char *a, const char *b)
{
	freeReplyObject(admin(fmt, a, b));
}

static void
admin_connect(void)
{
	redisReply *r;

	E.admin = redisConnect("127.0.0.1", (int)E.port);
	if (E.admin == NULL || E.admin->err)
		bail_out("admin connect failed");
	{
		FILE *f = fopen(E.passfile, "r");
		char pw[256];

		if (f == NULL || fgets(pw, sizeof(pw), f) == NULL)
			bail_out("cannot read %s", E.passfile);
		fclose(f);
		pw[strcspn(pw, "\n")] = '\0';
		r = admin("AUTH %s", pw);
		if (r->type != REDIS_REPLY_STATUS)
			bail_out("admin AUTH failed");
		freeReplyObject(r);
	}
}

/* ---- configs and handles ---- */

static void
config(struct ft_config *c)
{
	ft_config_defaults(c);
	snprintf(c->cache, sizeof(c->cache), "%s", FT_CACHE_REDIS);
	snprintf(c->redis_host, sizeof(c->redis_host), "127.0.0.1");
	c->redis_port = E.port;
	c->redis_tls = false; /* the plain port; TLS: test_tls.py */
	snprintf(c->redis_password_file, sizeof(c->redis_password_file), "%s",
	    E.passfile);
	snprintf(c->redis_prefix, sizeof(c->redis_prefix), "fttest");
	c->redis_timeout_ms = TIMEOUT_MS;
	snprintf(c->local_cache, sizeof(c->local_cache), "%s/local/state.gdbm",
	    E.dir);
}

struct h {
	const struct ft_state_backend_ops *ops;
	void *impl;
};

static int
hopen(const struct ft_config *c, struct h *h, char *err)
{
	err[0] = '\0';
	h->ops = NULL;
	h->impl = NULL;
	return ft_state_redis_open(c, &h->ops, &h->impl, err, ERRLEN);
}

/* Open and send the greeting (AUTH, SELECT) with a PING: opening only
 * connects, so a wrong password or database shows with the first
 * exchange.  Closed again on failure. */
static int
hopen_probe(const struct ft_config *c, struct h *h, char *err)
{
	struct ft_state_op op = {.kind = FT_OP_PROBE};
	int rc = hopen(c, h, err);

	if (rc == FT_OK)
		rc = h->ops->run(h->impl, &op, err, ERRLEN);
	if (rc != FT_OK && h->ops != NULL) {
		h->ops->close(h->impl);
		h->ops = NULL;
	}
	return rc;
}

static void
hopen_must(const struct ft_config *c, struct h *h)
{
	char err[ERRLEN];

	if (hopen(c, h, err) != FT_OK)
		bail_out("ft_state_redis_open: %s", err);
}

static void
hclose(struct h *h)
{
	if (h->ops != NULL)
		h->ops->close(h->impl);
	h->ops = NULL;
}

static int
run(struct h *h, struct ft_state_op *op, char *err)
{
	err[0] = '\0';
	return h->ops->run(h->impl, op, err, ERRLEN);
}

static int
begin(struct h *h, const struct ft_state_policy *p, const char *user,
    time_t now, enum ft_state_verdict *v, char *err)
{
	struct ft_state_op op = {.kind = FT_OP_BEGIN,
	    .pol = p,
	    .user = user,
	    .now = now,
	    .verdict = FT_STATE_LOCKED};
	int rc = run(h, &op, err);

	*v = op.verdict;
	return rc;
}

static int
success(struct h *h, const struct ft_state_policy *p, const char *user,
    uint64_t step, time_t now, enum ft_state_verdict *v, char *err)
{
	struct ft_state_op op = {.kind = FT_OP_SUCCESS,
	    .pol = p,
	    .user = user,
	    .now = now,
	    .step = step,
	    .verdict = FT_STATE_REPLAY};
	int rc = run(h, &op, err);

	*v = op.verdict;
	return rc;
}

static int
get(struct h *h, const char *user, struct ft_user_state *s, char *err)
{
	struct ft_state_op op = {.kind = FT_OP_GET, .user = user};
	int rc = run(h, &op, err);

	*s = op.state;
	return rc;
}

/* Unlock at the user's current step now_step (0: steps left alone);
 * *rewound: a step from the future was set aside. */
static int
hunlock_at(struct h *h, const struct ft_state_policy *p, const char *user,
    uint64_t now_step, bool *rewound, char *err)
{
	struct ft_state_op op = {.kind = FT_OP_UNLOCK,
	    .pol = p,
	    .user = user,
	    .now = T0,
	    .now_step = now_step};
	int rc = run(h, &op, err);

	*rewound = op.rewound;
	return rc;
}

static int
hunlock(
    struct h *h, const struct ft_state_policy *p, const char *user, char *err)
{
	bool rewound;

	return hunlock_at(h, p, user, 0, &rewound, err);
}

static int
hforget(struct h *h, const char *user, char *err)
{
	struct ft_state_op op = {.kind = FT_OP_FORGET, .user = user};

	return run(h, &op, err);
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000L +
	    (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

static bool
ttl_near(long long ttl, long long want)
{
	return ttl <= want && ttl >= want - TTL_TOLERANCE;
}

/* ---- the protocol ---- */

static void
test_basic(void)
{
	struct ft_config c;
	struct ft_state_policy p;
	struct ft_user_state s;
	enum ft_state_verdict v;
	struct h h;
	char err[ERRLEN], buf[64];
	const uint64_t S = (uint64_t)T0 / 30U;

	config(&c);
	hopen_must(&c, &h);
	is_str(h.ops->name, "redis", "backend name is redis");
	policy(&p, 3, 600, 900);

	ok(get(&h, "alice", &s, err) == FT_OK && s.last_step == 0 &&
		s.failures == 0 && s.first_failure == 0 &&
		s.locked_until == 0 && s.last_success == 0,
	    "unknown user: all zero");

	ok(begin(&h, &p, "alice", T0, &v, err) == FT_OK &&
		v == FT_STATE_PROCEED,
	    "begin proceeds");
	is_str(admin_hget("fttest:{alice}:fail", "n", buf, sizeof(buf)), "1",
	    "fail hash counts the attempt in advance");
	is_str(admin_hget("fttest:{alice}:fail", "first", buf, sizeof(buf)),
	    "1700000000", "fail hash holds the first failure time");
	is_str(admin_hget("fttest:{alice}:fail", "until", buf, sizeof(buf)),
	    "0", "fail hash: not locked");
	ok(ttl_near(admin_int("TTL %s", "fttest:{alice}:fail"), 900 + MARGIN),
	    "fail hash TTL is fail_interval + margin");

	ok(success(&h, &p, "alice", S, T0 + 1, &v, err) == FT_OK &&
		v == FT_STATE_ACCEPTED,
	    "correct code accepted");
	is_int(admin_int("EXISTS %s", "fttest:{alice}:fail"), 0,
	    "success removes the fail hash");
	is_str(admin_get("fttest:{alice}:step", buf, sizeof(buf)), "56666666",
	    "step key holds the step");
	ok(ttl_near(admin_int("TTL %s", "fttest:{alice}:step"),
	       (1 + 10 + 1) * 300 + MARGIN),
	    "step key TTL is (window+window_max+1)*period_max + margin");
	is_str(admin_get("fttest:{alice}:ok", buf, sizeof(buf)), "1700000001",
	    "ok key holds the success time");
	is_int(
	    admin_int("TTL %s", "fttest:{alice}:ok"), -1, "ok key has no TTL");

	ok(get(&h, "alice", &s, err) == FT_OK && s.last_step == S &&
		s.failures == 0 && s.locked_until == 0 &&
		s.last_success == T0 + 1,
	    "get reads the record back");

	ok(begin(&h, &p, "alice", T0 + 2, &v, err) == FT_OK &&
		v == FT_STATE_PROCEED,
	    "second login begins");
	ok(success(&h, &p, "alice", S, T0 + 2, &v, err) == FT_OK &&
		v == FT_STATE_REPLAY,
	    "same step again: replay");
	ok(success(&h, &p, "alice", S - 1, T0 + 2, &v, err) == FT_OK &&
		v == FT_STATE_REPLAY,
	    "earlier step: replay");
	ok(get(&h, "alice", &s, err) == FT_OK && s.failures == 0,
	    "a replay is not counted as a failure");
	ok(success(&h, &p, "alice", S + 1, T0 + 31, &v, err) == FT_OK &&
		v == FT_STATE_ACCEPTED,
	    "next step accepted");
	ok(success(&h, &p, "alice", 0, T0 + 32, &v, err) == FT_OK &&
		v == FT_STATE_ACCEPTED,
	    "backup code (step 0) accepted");
	ok(get(&h, "alice", &s, err) == FT_OK && s.last_step == S + 1 &&
		s.last_success == T0 + 32,
	    "backup code keeps the last step");

	ok(hforget(&h, "alice", err) == FT_OK, "forget succeeds");
	ok(admin_int("EXISTS %s", "fttest:{alice}:step") == 0 &&
		admin_int("EXISTS %s", "fttest:{alice}:fail") == 0 &&
		admin_int("EXISTS %s", "fttest:{alice}:ok") == 0,
	    "forget removes every key of the user");
	ok(hforget(&h, "alice", err) == FT_OK,
	    "forget of an unknown user succeeds");

	/* Names are data, never script text. */
	{
		static const char odd[] = "o'brien \"]] -- ) end x";

		ok(begin(&h, &p, odd, T0, &v, err) == FT_OK &&
			v == FT_STATE_PROCEED &&
			success(&h, &p, odd, S, T0, &v, err) == FT_OK &&
			v == FT_STATE_ACCEPTED &&
			admin_int("EXISTS %s",
			    "fttest:{o'brien \"]] -- ) end x}:step") == 1,
		    "a name with quotes, brackets and blanks is one key");
		hforget(&h, odd, err);
	}
	hclose(&h);
}

static void
test_lockout(void)
{
	struct ft_config c;
	struct ft_state_policy p;
	struct ft_user_state s;
	enum ft_state_verdict v;
	struct h h;
	char err[ERRLEN], buf[64];
	int i, proceed = 0;

	config(&c);
	hopen_must(&c, &h);
	policy(&p, 3, 600, 900);
	for (i = 0; i < 3; i++)
		if (begin(&h, &p, "bob", T0 + i, &v, err) == FT_OK &&
		    v == FT_STATE_PROCEED)
			proceed++;
	is_int(proceed, 3, "deny=3: three attempts are checked");
	is_str(admin_hget("fttest:{bob}:fail", "until", buf, sizeof(buf)),
	    "1700000602", "the third sets the lock to now + unlock_time");
	ok(ttl_near(admin_int("TTL %s", "fttest:{bob}:fail"), 600 + MARGIN),
	    "locked: fail hash TTL is unlock_time + margin");
	ok(begin(&h, &p, "bob", T0 + 3, &v, err) == FT_OK &&
		v == FT_STATE_LOCKED,
	    "fourth attempt is locked");
	ok(begin(&h, &p, "bob", T0 + 601, &v, err) == FT_OK &&
		v == FT_STATE_LOCKED,
	    "still locked one second before the end");
	ok(get(&h, "bob", &s, err) == FT_OK && s.failures == 3 &&
		s.locked_until == T0 + 602,
	    "get shows failures and lock end");
	ok(begin(&h, &p, "bob", T0 + 602, &v, err) == FT_OK &&
		v == FT_STATE_PROCEED,
	    "lock over: attempt proceeds");
	ok(get(&h, "bob", &s, err) == FT_OK && s.failures == 1 &&
		s.first_failure == T0 + 602 && s.locked_until == 0,
	    "counting starts afresh after the lock");

	/* A correct code on the attempt that set the lock clears it. */
	begin(&h, &p, "bob", T0 + 603, &v, err);
	begin(&h, &p, "bob", T0 + 604, &v, err);
	ok(v == FT_STATE_PROCEED &&
		success(&h, &p, "bob", 0, T0 + 604, &v, err) == FT_OK &&
		v == FT_STATE_ACCEPTED,
	    "correct code on the locking attempt is accepted");
	ok(get(&h, "bob", &s, err) == FT_OK && s.failures == 0 &&
		s.locked_until == 0,
	    "and clears failures and lock");

	/* fail_interval */
	begin(&h, &p, "bob", T0 + 1000, &v, err);
	begin(&h, &p, "bob", T0 + 1900, &v, err);
	ok(get(&h, "bob", &s, err) == FT_OK && s.failures == 2,
	    "failures within fail_interval add up");
	begin(&h, &p, "bob", T0 + 1901, &v, err);
	ok(get(&h, "bob", &s, err) == FT_OK && s.failures == 1 &&
		s.first_failure == T0 + 1901,
	    "a failure after fail_interval starts a new count");
	ok(ttl_near(admin_int("TTL %s", "fttest:{bob}:fail"), 900 + MARGIN),
	    "TTL follows the new first failure");
	begin(&h, &p, "bob", T0 + 2001, &v, err);
	ok(ttl_near(admin_int("TTL %s", "fttest:{bob}:fail"), 800 + MARGIN),
	    "TTL counts from the first failure, not the latest");

	/* unlock_time=0: until an admin unlocks */
	policy(&p, 2, 0, 900);
	hforget(&h, "bob", err);
	begin(&h, &p, "bob", T0, &v, err);
	begin(&h, &p, "bob", T0, &v, err);
	is_str(admin_hget("fttest:{bob}:fail", "until", buf, sizeof(buf)),
	    "forever", "unlock_time=0 stores a lock without end");
	is_int(admin_int("TTL %s", "fttest:{bob}:fail"), -1,
	    "and the fail hash has no TTL");
	ok(begin(&h, &p, "bob", T0 + 100000000, &v, err) == FT_OK &&
		v == FT_STATE_LOCKED,
	    "the lock holds years later");
	ok(get(&h, "bob", &s, err) == FT_OK &&
		s.locked_until == FT_STATE_LOCKED_FOREVER,
	    "get reports FT_STATE_LOCKED_FOREVER");
	ok(hunlock(&h, &p, "bob", err) == FT_OK &&
		admin_int("EXISTS %s", "fttest:{bob}:fail") == 0,
	    "unlock removes the fail hash");
	ok(begin(&h, &p, "bob", T0 + 100000001, &v, err) == FT_OK &&
		v == FT_STATE_PROCEED,
	    "unlocked: attempt proceeds");
	ok(hunlock(&h, &p, "nobody", err) == FT_OK,
	    "unlock of an unknown user succeeds");

	/* deny=0: never locked */
	policy(&p, 0, 600, 900);
	for (i = 0, proceed = 0; i < 50; i++)
		if (begin(&h, &p, "carol", T0, &v, err) == FT_OK &&
		    v == FT_STATE_PROCEED)
			proceed++;
	is_int(proceed, 50, "deny=0 never locks");
	hforget(&h, "bob", err);
	hforget(&h, "carol", err);
	hclose(&h);
}

/* ---- the same rules as the gdbm backend: a differential run ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static bool
same_state(const struct ft_user_state *a, const struct ft_user_state *b)
{
	return a->last_step == b->last_step && a->failures == b->failures &&
	    a->first_failure == b->first_failure &&
	    a->locked_until == b->locked_until &&
	    a->last_success == b->last_success &&
	    a->future_step == b->future_step;
}

static void
test_differential(void)
{
	static const char *const users[RANDOM_USERS] = {"u1", "u2", "u3"};
	struct ft_config c;
	struct ft_state_policy p;
	struct h r, g;
	char gpath[4096], err[ERRLEN], err2[ERRLEN];
	int i, mismatch = 0, errors = 0;
	time_t now = T0;

	config(&c);
	hopen_must(&c, &r);
	snprintf(gpath, sizeof(gpath), "%s/diff/state.gdbm", E.dir);
	if (ft_state_gdbm_open(gpath, 0U, &g.ops, &g.impl, err, ERRLEN) !=
	    FT_OK)
		bail_out("gdbm open: %s", err);
	for (i = 0; i < RANDOM_OPS; i++) {
		const char *u = users[rnd(RANDOM_USERS)];
		enum ft_state_verdict vr = FT_STATE_PROCEED,
				      vg = FT_STATE_PROCEED;
		struct ft_user_state sr, sg;
		uint64_t step;
		int op = (int)rnd(100), rr, rg;

		if (i % 200 == 0)
			policy(&p, rnd(5), rnd(3) == 0 ? 0 : 1 + rnd(900),
			    1 + rnd(1200));
		now += rnd(4) == 0 ? (time_t)rnd(1500) : (time_t)rnd(20);
		step = (uint64_t)now / 30U - 1U + rnd(3);
		/* Now and then a clock that ran ahead. */
		if (rnd(20) == 0)
			step += 10U + rnd(40);
		if (op < 45) {
			rr = begin(&r, &p, u, now, &vr, err);
			rg = begin(&g, &p, u, now, &vg, err2);
		} else if (op < 85) {
			if (rnd(10) == 0)
				step = 0;
			rr = success(&r, &p, u, step, now, &vr, err);
			rg = success(&g, &p, u, step, now, &vg, err2);
		} else if (op < 95) {
			uint64_t ns = rnd(4) == 0 ? 0 : (uint64_t)now / 30U;
			bool wr = false, wg = false;

			rr = hunlock_at(&r, &p, u, ns, &wr, err);
			rg = hunlock_at(&g, &p, u, ns, &wg, err2);
			vr = wr ? FT_STATE_ACCEPTED : FT_STATE_PROCEED;
			vg = wg ? FT_STATE_ACCEPTED : FT_STATE_PROCEED;
		} else {
			rr = hforget(&r, u, err);
			rg = hforget(&g, u, err2);
		}
		if (rr != FT_OK || rg != FT_OK) {
			if (errors++ == 0)
				diag("op %d: redis %d (%s) gdbm %d (%s)", i, rr,
				    err, rg, err2);
			continue;
		}
		if (vr != vg && mismatch++ < 3)
			diag("op %d (%d) user %s: verdict redis %d gdbm %d", i,
			    op, u, vr, vg);
		rr = get(&r, u, &sr, err);
		rg = get(&g, u, &sg, err2);
		if (rr != FT_OK || rg != FT_OK || !same_state(&sr, &sg)) {
			if (mismatch++ < 3)
				diag("op %d user %s: state differs: redis "
				     "step %" PRIu64 " n %u first %" PRId64
				     " until %" PRId64 " ok %" PRId64
				     " / gdbm step %" PRIu64
				     " n %u first %" PRId64 " until %" PRId64
				     " ok %" PRId64,
				    i, u, sr.last_step, sr.failures,
				    sr.first_failure, sr.locked_until,
				    sr.last_success, sg.last_step, sg.failures,
				    sg.first_failure, sg.locked_until,
				    sg.last_success);
		}
	}
	is_int(errors, 0, "%d random operations: no errors", RANDOM_OPS);
	is_int(mismatch, 0,
	    "same verdicts and states as the gdbm backend after each "
	    "operation");
	for (i = 0; i < RANDOM_USERS; i++)
		hforget(&r, users[i], err);
	g.ops->close(g.impl);
	hclose(&r);
}

/* ---- bad data ---- */

/* begin_bad: the fail hash is bad too (begin reads only that key). */
static void
expect_bad(const char *what, const char *user, bool begin_bad)
{
	struct ft_config c;
	struct ft_state_policy p;
	struct ft_user_state s;
	enum ft_state_verdict v;
	struct h h;
	char err[ERRLEN];
	int rc;

	config(&c);
	hopen_must(&c, &h);
	policy(&p, 3, 600, 900);
	v = FT_STATE_PROCEED;
	rc = begin(&h, &p, user, T0, &v, err);
	if (begin_bad) {
		ok(rc == FT_ERR_BACKEND && v == FT_STATE_LOCKED,
		    "%s: begin fails closed", what);
		if (rc == FT_OK)
			diag("verdict %d", v);
		else
			diag("%s", err);
	} else {
		ok(rc == FT_OK && v == FT_STATE_PROCEED,
		    "%s: begin (fail hash good) proceeds", what);
	}
	v = FT_STATE_ACCEPTED;
	rc = success(&h, &p, user, 99999999, T0, &v, err);
	ok(rc == FT_ERR_BACKEND && v == FT_STATE_REPLAY,
	    "%s: record_success fails closed", what);
	ok(get(&h, user, &s, err) == FT_ERR_BACKEND,
	    "%s: get reports wrong data", what);
	ok(hforget(&h, user, err) == FT_OK, "%s: forget clears it", what);
	hclose(&h);
}

static void
test_bad_data(void)
{
	static const char *const bad_n[] = {
	    "", "abc", "-1", "1.5", " 1", "4294967296", "1e3", "0x10"};
	char what[128];
	size_t i;

	admin_cmd("SET %s %s", "fttest:{dd}:fail", "garbage");
	admin_cmd("SET %s %s", "fttest:{dd}:step", "garbage");
	expect_bad("fail and step keys of the wrong type/content", "dd", true);

	for (i = 0; i < sizeof(bad_n) / sizeof(bad_n[0]); i++) {
		freeReplyObject(admin(
		    "HSET fttest:{dd}:fail n %s first 1 until 0", bad_n[i]));
		admin_cmd("HSET %s step %s", "fttest:{dd}:step", "x");
		snprintf(what, sizeof(what), "failure count \"%s\"", bad_n[i]);
		expect_bad(what, "dd", true);
	}
	freeReplyObject(admin("HSET fttest:{dd}:fail n 1"));
	admin_cmd("SET %s %s", "fttest:{dd}:step", "1234567890123456");
	expect_bad("partial fail hash, 16-digit step", "dd", true);
	freeReplyObject(admin("HSET fttest:{dd}:fail n 1 first 5 until soon"));
	admin_cmd("SET %s %s", "fttest:{dd}:step", "");
	expect_bad("lock end \"soon\", empty step", "dd", true);
	freeReplyObject(admin("HSET fttest:{dd}:fail n 1 first 5 until 0"));
	admin_cmd("LPUSH %s %s", "fttest:{dd}:step", "1");
	admin_cmd("LPUSH %s %s", "fttest:{dd}:ok", "1");
	expect_bad("step and ok keys are lists", "dd", false);
}

/* ---- isolation: prefix and database ---- */

static void
test_isolation(void)
{
	struct ft_config c1, c2, c3;
	struct ft_state_policy p;
	enum ft_state_verdict v;
	struct h a, b, d;
	char err[ERRLEN];

	policy(&p, 3, 600, 900);
	config(&c1);
	config(&c2);
	snprintf(c2.redis_prefix, sizeof(c2.redis_prefix), "otherfleet");
	config(&c3);
	c3.redis_db = 5;
	hopen_must(&c1, &a);
	hopen_must(&c2, &b);
	hopen_must(&c3, &d);
	success(&a, &p, "erin", 1000, T0, &v, err);
	ok(v == FT_STATE_ACCEPTED &&
		success(&b, &p, "erin", 1000, T0, &v, err) == FT_OK &&
		v == FT_STATE_ACCEPTED,
	    "another prefix is another fleet");
	ok(success(&d, &p, "erin", 1000, T0, &v, err) == FT_OK &&
		v == FT_STATE_ACCEPTED,
	    "another database is another fleet");
	{
		redisReply *r = admin("SELECT 5");
		freeReplyObject(r);
		ok(admin_int("EXISTS %s", "fttest:{erin}:step") == 1,
		    "redis_db=5 writes into database 5");
		freeReplyObject(admin("FLUSHDB"));
		freeReplyObject(admin("SELECT 0"));
	}
	ok(success(&a, &p, "erin", 1000, T0, &v, err) == FT_OK &&
		v == FT_STATE_REPLAY,
	    "same prefix and database: replay");
	hforget(&a, "erin", err);
	hforget(&b, "erin", err);
	hclose(&a);
	hclose(&b);
	hclose(&d);

	/* The unix socket. */
	config(&c1);
	snprintf(c1.redis_socket, sizeof(c1.redis_socket), "%s", E.sock);
	if (!ok(hopen(&c1, &a, err) == FT_OK, "connects over a unix socket"))
		diag("%s", err);
	if (a.ops != NULL) {
		ok(success(&a, &p, "erin", 7, T0, &v, err) == FT_OK &&
			v == FT_STATE_ACCEPTED &&
			admin_int("EXISTS %s", "fttest:{erin}:step") == 1,
		    "the socket reaches the same server");
		hforget(&a, "erin", err);
		hclose(&a);
	}
	/* SCRIPT FLUSH: EVALSHA gets NOSCRIPT, the backend sends EVAL. */
	freeReplyObject(admin("SCRIPT FLUSH"));
	config(&c1);
	hopen_must(&c1, &a);
	ok(begin(&a, &p, "erin", T0, &v, err) == FT_OK && v == FT_STATE_PROCEED,
	    "works after SCRIPT FLUSH (EVAL fallback)");
	hforget(&a, "erin", err);
	hclose(&a);
}

/* ---- parallel: atomic check-and-record ---- */

static int
child_login(const struct ft_state_policy *p, uint64_t step, int do_begin)
{
	struct ft_config c;
	enum ft_state_verdict v;
	struct h h;
	char err[ERRLEN];
	int rc;

	config(&c);
	c.redis_timeout_ms = 10000; /* this is about atomicity, not time */
	if (hopen(&c, &h, err) != FT_OK)
		return 2;
	if (do_begin)
		rc = begin(&h, p, "frank", T0, &v, err);
	else
		rc = success(&h, p, "frank", step, T0, &v, err);
	hclose(&h);
	if (rc != FT_OK)
		return 2;
	return v == (do_begin ? FT_STATE_PROCEED : FT_STATE_ACCEPTED) ? 0 : 1;
}

static void
run_children(int do_begin, int want, const char *desc)
{
	struct ft_state_policy p;
	int fds[2], i, status, wins = 0, errs = 0;
	pid_t pids[NPROC];
	char go;

	policy(&p, 3, 600, 900);
	if (pipe(fds) != 0)
		bail_out("pipe");
	fflush(stdout);
	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			bail_out("fork");
		if (pids[i] == 0) {
			close(fds[1]);
			/* Wait for the start signal (EOF). */
			while (read(fds[0], &go, 1) > 0)
				;
			close(fds[0]);
			/* The parent's connection is not ours (valgrind). */
			redisFree(E.admin);
			_exit(child_login(&p, (uint64_t)T0 / 30U, do_begin));
		}
	}
	close(fds[0]);
	close(fds[1]);
	for (i = 0; i < NPROC; i++) {
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status))
			errs++;
		else if (WEXITSTATUS(status) == 0)
			wins++;
		else if (WEXITSTATUS(status) != 1)
			errs++;
	}
	is_int(errs, 0, "%s: no errors", desc);
	is_int(wins, want, "%s", desc);
}

static void
test_parallel(void)
{
	int round;

	for (round = 0; round < 5; round++) {
		freeReplyObject(admin("DEL fttest:{frank}:step"));
		run_children(0, 1, "20 processes record one step: one wins");
	}
	freeReplyObject(admin("DEL fttest:{frank}:fail"));
	run_children(1, 3, "20 parallel attempts with deny=3: three checked");
	freeReplyObject(admin("DEL fttest:{frank}:fail fttest:{frank}:ok"));
}

/* ---- failures: auth, db, refused, paused ---- */

static void
test_failures(void)
{
	struct ft_config c;
	struct ft_state_policy p;
	enum ft_state_verdict v;
	struct h h;
	struct timespec t0;
	char err[ERRLEN], path[4096], pw[256];
	FILE *f;
	int rc;
	long ms;

	policy(&p, 3, 600, 900);
	f = fopen(E.passfile, "r");
	if (f == NULL || fgets(pw, sizeof(pw), f) == NULL)
		bail_out("read password");
	fclose(f);
	pw[strcspn(pw, "\n")] = '\0';

	/* wrong password */
	config(&c);
	snprintf(path, sizeof(path), "%s/wrong.pass", E.dir);
	f = fopen(path, "w");
	fputs("not-the-password\n", f);
	fclose(f);
	chmod(path, 0600);
	snprintf(
	    c.redis_password_file, sizeof(c.redis_password_file), "%s", path);
	rc = hopen_probe(&c, &h, err);
	ok(rc == FT_ERR_BACKEND && strstr(err, "AUTH") != NULL &&
		strstr(err, "not-the-password") == NULL,
	    "wrong password: FT_ERR_BACKEND, AUTH named, password not shown");
	diag("%s", err);

	/* no password at all: the first command finds NOAUTH */
	v = FT_STATE_PROCEED;
	config(&c);
	c.redis_password_file[0] = '\0';
	rc = hopen(&c, &h, err);
	if (rc == FT_OK) {
		rc = begin(&h, &p, "gina", T0, &v, err);
		hclose(&h);
	}
	ok(rc == FT_ERR_BACKEND && v == FT_STATE_LOCKED &&
		strstr(err, "NOAUTH") != NULL,
	    "no password configured: begin fails with NOAUTH");
	diag("%s", err);

	/* password file checks */
	config(&c);
	chmod(path, 0640);
	snprintf(
	    c.redis_password_file, sizeof(c.redis_password_file), "%s", path);
	ok(hopen_probe(&c, &h, err) == FT_ERR_UNSAFE,
	    "password file readable by group: refused");
	diag("%s", err);
	f = fopen(path, "w");
	fputs("line1\nline2\n", f);
	fclose(f);
	chmod(path, 0600);
	ok(hopen_probe(&c, &h, err) == FT_ERR_PARSE &&
		strstr(err, "line1") == NULL,
	    "password file with two lines: refused, content not shown");
	snprintf(c.redis_password_file, sizeof(c.redis_password_file),
	    "%s/missing.pass", E.dir);
	ok(hopen_probe(&c, &h, err) == FT_ERR_NOENT, "missing password file");

	/* wrong database */
	config(&c);
	c.redis_db = E.databases; /* one past the last */
	rc = hopen_probe(&c, &h, err);
	ok(rc == FT_ERR_BACKEND && strstr(err, "SELECT") != NULL,
	    "database %u of %u: FT_ERR_BACKEND from SELECT", E.databases,
	    E.databases);
	diag("%s", err);

	/* nothing listening */
	config(&c);
	c.redis_port = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = hopen_probe(&c, &h, err);
	ms = ms_since(&t0);
	ok(rc == FT_ERR_BACKEND && ms < (long)TIMEOUT_MS + SLACK_MS,
	    "connection refused: FT_ERR_BACKEND at once (%ld ms)", ms);
	diag("%s", err);

	/* paused server: connect succeeds (the kernel accepts), the first
	 * exchange (AUTH with it) times out */
	config(&c);
	kill(E.pid, SIGSTOP);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = hopen_probe(&c, &h, err);
	ms = ms_since(&t0);
	kill(E.pid, SIGCONT);
	ok(rc == FT_ERR_BACKEND && strstr(err, "timed out") != NULL &&
		ms >= (long)TIMEOUT_MS - 20 && ms < (long)TIMEOUT_MS + SLACK_MS,
	    "paused server: first exchange times out after ~%u ms (%ld ms)",
	    TIMEOUT_MS, ms);
	diag("%s", err);

	/* paused between calls */
	hopen_must(&c, &h);
	ok(begin(&h, &p, "gina", T0, &v, err) == FT_OK, "begin before pause");
	kill(E.pid, SIGSTOP);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	v = FT_STATE_ACCEPTED;
	rc = success(&h, &p, "gina", 5, T0, &v, err);
	ms = ms_since(&t0);
	ok(rc == FT_ERR_BACKEND && v == FT_STATE_REPLAY &&
		ms < (long)TIMEOUT_MS + SLACK_MS,
	    "paused mid-login: record_success fails within the timeout "
	    "(%ld ms)",
	    ms);
	diag("%s", err);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = begin(&h, &p, "gina", T0, &v, err);
	ms = ms_since(&t0);
	ok(rc == FT_ERR_BACKEND && ms < 100,
	    "after a timeout the next call fails at once (%ld ms)", ms);
	kill(E.pid, SIGCONT);
	hclose(&h);
	/* The server answers again. */
	hopen_must(&c, &h);
	ok(hforget(&h, "gina", err) == FT_OK,
	    "server answers again after SIGCONT");
	hclose(&h);

	/* a key prefix or user that does not fit */
	config(&c);
	hopen_must(&c, &h);
	{
		char big[1100];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		ok(begin(&h, &p, big, T0, &v, err) == FT_ERR_ARG &&
			v == FT_STATE_LOCKED,
		    "an over-long key is refused");
	}
	ok(success(&h, &p, "gina", 1000000000000000ULL, T0, &v, err) ==
		FT_ERR_ARG,
	    "a step beyond 15 digits is refused");
	ok(begin(&h, &p, "gina", (time_t)-5, &v, err) == FT_ERR_ARG,
	    "a negative time is refused");
	hclose(&h);
	(void)pw;
}

/* ---- FT_OP_ATTEMPT: the code checked here, then one script call ---- */

/* A scripted check: answers m (1: matched at step), counts its calls. */
struct scripted {
	int m;
	uint64_t step;
	unsigned calls;
};

static int
scripted_check(void *arg, uint64_t *step)
{
	struct scripted *sc = arg;

	sc->calls++;
	if (sc->m == 1)
		*step = sc->step;
	return sc->m;
}

static int
attempt(struct h *h, const struct ft_state_policy *p, const char *user,
    struct scripted *sc, struct ft_state_op *out, char *err)
{
	struct ft_state_op op = {.kind = FT_OP_ATTEMPT,
	    .pol = p,
	    .user = user,
	    .now = T0,
	    .check = scripted_check,
	    .check_arg = sc,
	    .verdict = FT_STATE_PROCEED};
	int rc = run(h, &op, err);

	*out = op;
	return rc;
}

static void
test_attempt(void)
{
	struct ft_config c;
	struct ft_state_policy p;
	struct ft_state_op op;
	struct scripted sc = {.m = 1, .step = 4242};
	struct h h;
	char err[ERRLEN], buf[64];

	config(&c);
	hopen_must(&c, &h);
	policy(&p, 2, 600, 900);
	ok(attempt(&h, &p, "ivan", &sc, &op, err) == FT_OK &&
		op.verdict == FT_STATE_ACCEPTED && op.step == 4242 &&
		admin_int("EXISTS %s", "fttest:{ivan}:fail") == 0,
	    "attempt, match: accepted in one call, no failure left");
	is_str(admin_get("fttest:{ivan}:step", buf, sizeof(buf)), "4242",
	    "attempt recorded the matched step");
	ok(attempt(&h, &p, "ivan", &sc, &op, err) == FT_OK &&
		op.verdict == FT_STATE_REPLAY &&
		admin_int("EXISTS %s", "fttest:{ivan}:fail") == 0,
	    "attempt, the same step: replay, its failure taken back");
	sc.m = 0;
	ok(attempt(&h, &p, "ivan", &sc, &op, err) == FT_OK &&
		op.verdict == FT_STATE_PROCEED && op.step == 0 &&
		op.state.failures == 1,
	    "attempt, no match: proceed, the failure counted");
	ok(attempt(&h, &p, "ivan", &sc, &op, err) == FT_OK &&
		op.verdict == FT_STATE_PROCEED && op.state.failures == 2 &&
		op.state.locked_until == T0 + 600,
	    "attempt, no match again: deny=2 reached, lock set");
	sc.m = 1;
	sc.step = 4243;
	ok(attempt(&h, &p, "ivan", &sc, &op, err) == FT_OK &&
		op.verdict == FT_STATE_LOCKED && op.step == 0,
	    "attempt while locked: locked, the match is not used");
	is_str(admin_get("fttest:{ivan}:step", buf, sizeof(buf)), "4242",
	    "locked: the step key is unchanged");
	sc.m = FT_ERR_CRYPTO;
	sc.calls = 0;
	ok(attempt(&h, &p, "ivan", &sc, &op, err) == FT_ERR_CRYPTO &&
		op.verdict == FT_STATE_LOCKED && sc.calls == 1,
	    "a check that fails: FT_ERR_CRYPTO, locked, nothing sent");
	is_str(admin_hget("fttest:{ivan}:fail", "n", buf, sizeof(buf)), "2",
	    "a failed check counts nothing");
	hforget(&h, "ivan", err);
	hclose(&h);
}

/* The step key outlives the widest window of the fleet, also when the
 * accepting host's clock runs ahead of the server's. */
static void
test_expiry(void)
{
	struct ft_config c;
	struct ft_state_policy p;
	enum ft_state_verdict v;
	struct h h;
	char err[ERRLEN];
	const long long base = (1 + 10 + 1) * 300 + MARGIN;
	const long long ahead = 20000;
	time_t now = time(NULL) + (time_t)ahead;
	long long ttl;

	config(&c);
	hopen_must(&c, &h);
	policy(&p, 3, 600, 900);
	ok(success(&h, &p, "judy", (uint64_t)now / 30U, now, &v, err) ==
		    FT_OK &&
		v == FT_STATE_ACCEPTED,
	    "a host %lld s ahead of the server records a step", ahead);
	ttl = admin_int("TTL %s", "fttest:{judy}:step");
	ok(ttl <= base + ahead + 1 && ttl >= base + ahead - TTL_TOLERANCE,
	    "its step key lives %lld s: the base %lld plus the %lld s ahead",
	    ttl, base, ahead);
	hforget(&h, "judy", err);
	p.window = 10;
	ok(success(&h, &p, "judy", 7, T0, &v, err) == FT_OK &&
		ttl_near(admin_int("TTL %s", "fttest:{judy}:step"),
		    (10 + 10 + 1) * 300 + MARGIN),
	    "window=10: (10 + 10 + 1) periods of 300 s + margin");
	hforget(&h, "judy", err);
	hclose(&h);
	/* A database that does not exist: SELECT fails in the pipeline and
	 * the script, selecting it itself, fails before it writes. */
	config(&c);
	c.redis_db = E.databases;
	hopen_must(&c, &h);
	ok(begin(&h, &p, "judy", T0, &v, err) == FT_ERR_BACKEND &&
		v == FT_STATE_LOCKED &&
		admin_int("EXISTS %s", "fttest:{judy}:fail") == 0,
	    "no such database: the call fails and nothing lands in db 0");
	diag("%s", err);
	hclose(&h);
}

/* ---- through ft_state_open, with the local fallback ---- */

static void
test_dispatch(void)
{
	struct ft_config c;
	struct ft_state *st;
	enum ft_state_verdict v;
	struct ft_user_state s;
	char err[ERRLEN];
	struct timespec t0;
	long ms;
	int rc;

	config(&c);
	st = NULL;
	if (!ok(ft_state_open(&c, 0U, &st, err, ERRLEN) == FT_OK,
		"ft_state_open with cache=redis"))
		diag("%s", err);
	if (st == NULL)
		return;
	ok(ft_state_begin_attempt(st, "hank", T0, &v, err, ERRLEN) == FT_OK &&
		v == FT_STATE_PROCEED &&
		strcmp(ft_state_backend_name(st), "redis") == 0 &&
		ft_state_warning(st) == NULL,
	    "begin through state.c answered by redis");
	ok(record(st, "hank", 77, T0, &v) == FT_OK && v == FT_STATE_ACCEPTED,
	    "success through state.c");
	ok(ft_state_get(st, "hank", T0, &s, err, ERRLEN) == FT_OK &&
		s.last_step == 77,
	    "get through state.c");
	ft_state_forget(st, "hank", err, ERRLEN);
	ft_state_close(st);

	/* fallback=deny, server paused: error within the timeout */
	config(&c);
	kill(E.pid, SIGSTOP);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = NULL;
	rc = ft_state_open(&c, 0U, &st, err, ERRLEN);
	if (rc == FT_OK) {
		v = FT_STATE_PROCEED;
		rc = ft_state_begin_attempt(st, "hank", T0, &v, err, ERRLEN);
		ft_state_close(st);
	}
	ok(rc == FT_ERR_BACKEND && v == FT_STATE_LOCKED,
	    "redis_fallback=deny, paused: the first call fails, locked");
	ms = ms_since(&t0);
	ok(ms < (long)TIMEOUT_MS + SLACK_MS, "within the timeout (%ld ms)", ms);

	/* fallback=local, server paused: the local cache answers */
	c.redis_fallback = FT_REDIS_FALLBACK_LOCAL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (ft_state_open(&c, 0U, &st, err, ERRLEN) != FT_OK)
		bail_out("fallback open: %s", err);
	ok(ft_state_begin_attempt(st, "hank", T0, &v, err, ERRLEN) == FT_OK &&
		v == FT_STATE_PROCEED &&
		strcmp(ft_state_backend_name(st), "gdbm") == 0 &&
		ft_state_warning(st) != NULL,
	    "redis_fallback=local, paused: gdbm answers with a warning");
	if (ft_state_warning(st) != NULL)
		diag("%s", ft_state_warning(st));
	ok(record(st, "hank", 77, T0, &v) == FT_OK && v == FT_STATE_ACCEPTED &&
		ft_state_warning(st) != NULL,
	    "success recorded locally, warned again");
	ms = ms_since(&t0);
	ok(ms < (long)TIMEOUT_MS + SLACK_MS,
	    "a whole fallback login costs one timeout at most (%ld ms)", ms);
	ft_state_close(st);
	kill(E.pid, SIGCONT);
}

/* Last: the server is killed under an open connection.  SIGPIPE keeps its
 * default action here, so a write to the dead socket that raised it would
 * kill this test. */
static void
test_stopped(void)
{
	struct ft_config c;
	struct ft_state_policy p;
	enum ft_state_verdict v;
	struct h h;
	struct timespec t0;
	char err[ERRLEN];
	int i, rc1, rc2, rc3;
	long ms;

	(void)signal(SIGPIPE, SIG_DFL);
	policy(&p, 3, 600, 900);
	config(&c);
	hopen_must(&c, &h);
	ok(begin(&h, &p, "ivan", T0, &v, err) == FT_OK,
	    "begin before the kill");
	redisFree(E.admin);
	E.admin = NULL;
	kill(E.pid, SIGKILL);
	/* Wait (bounded) until the port refuses connections. */
	for (i = 0; i < 200; i++) {
		redisContext *t = redisConnect("127.0.0.1", (int)E.port);
		bool refused = t == NULL || t->err != 0;

		if (t != NULL)
			redisFree(t);
		if (refused)
			break;
		usleep(10000);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc1 = success(&h, &p, "ivan", 9, T0, &v, err);
	diag("%s", err);
	rc2 = begin(&h, &p, "ivan", T0, &v, err);
	rc3 = hunlock(&h, &p, "ivan", err);
	ms = ms_since(&t0);
	ok(rc1 == FT_ERR_BACKEND && rc2 == FT_ERR_BACKEND &&
		rc3 == FT_ERR_BACKEND && ms < (long)TIMEOUT_MS + SLACK_MS,
	    "server killed mid-login: every later call fails (%ld ms), no "
	    "SIGPIPE",
	    ms);
	hclose(&h);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok(hopen_probe(&c, &h, err) == FT_ERR_BACKEND &&
		ms_since(&t0) < (long)TIMEOUT_MS + SLACK_MS,
	    "server gone: the first call fails at once");
	diag("%s", err);
}

int
main(void)
{
	char path[4096];

	E.port = (unsigned)strtoul(need_env("FT_REDIS_PORT"), NULL, 10);
	E.passfile = need_env("FT_REDIS_PASSFILE");
	E.sock = need_env("FT_REDIS_SOCKET");
	E.pid = (pid_t)strtol(need_env("FT_REDIS_PID"), NULL, 10);
	E.dir = need_env("FT_REDIS_DIR");
	E.databases =
	    (unsigned)strtoul(need_env("FT_REDIS_DATABASES"), NULL, 10);
	snprintf(path, sizeof(path), "%s/diff", E.dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		bail_out("mkdir %s", path);
	snprintf(path, sizeof(path), "%s/local", E.dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		bail_out("mkdir %s", path);
	admin_connect();

	test_basic();
	test_lockout();
	test_differential();
	test_bad_data();
	test_isolation();
	test_parallel();
	test_failures();
	test_attempt();
	test_expiry();
	test_dispatch();
	test_stopped();

	return done_testing();
}
