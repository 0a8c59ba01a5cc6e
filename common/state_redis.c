/* The fleet state backend: Redis through hiredis.
 *
 * Per user three keys (the user name is a hash tag, so in a Redis Cluster
 * all of one user's keys live in one slot and one script may touch them):
 *   PREFIX:{USER}:last  "STEP TIME"   last accepted TOTP step and the time of
 *                                     the last success; TTL (2*window+2) *
 *                                     period, after which no code of that
 *                                     step can match any more
 *   PREFIX:{USER}:fail  "COUNT FIRST" failures counted and the time of the
 *                                     first; TTL until fail_interval has
 *                                     passed (while locked: the lock's TTL)
 *   PREFIX:{USER}:lock  "UNTIL" or "forever"  TTL unlock_time; no TTL when
 *                                     unlock_time=0 (only an admin unlocks)
 * Check-and-record is one Lua script run by EVAL (atomic on the server), so
 * across hosts exactly one of many parallel logins with one code wins.  The
 * scripts are constant text: keys travel in KEYS, numbers in ARGV.  The TTLs
 * only bound memory; every decision compares the stored times with `now`,
 * exactly like ft_state_apply_begin()/ft_state_apply_success().
 *
 * Values that do not parse are never trusted: the call fails with
 * FT_ERR_BACKEND ("wrong data in Redis key ..."), and the login is denied.
 * One connection per ft_state (one PAM call); after the first I/O error or
 * timeout the connection is dropped, so later calls fail at once instead of
 * waiting again. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "conf.h"
#include "rc.h"
#include "safefile.h"
#include "state.h"
#include "state_backend.h"
#include "wipe.h"

#define REDIS_KEY_MAX 1024U          /* prefix + user + suffix fits easily */
#define REDIS_PASSWORD_MAX 4096U     /* bytes in the password file */
#define REDIS_NUM_MAX ((1ULL << 53) - 1ULL)  /* exact in a Lua number */
#define REDIS_NUM_DIGITS 15U         /* < 2^53: Lua keeps it exact */
#define REDIS_ARG_MAX 32U            /* one decimal number */
#define REDIS_FOREVER "forever"
#define MS_PER_S 1000U
#define US_PER_MS 1000U

/* Script results: {code} or {SCRIPT_BAD_DATA, key index (1-based)}. */
#define SCRIPT_BAD_DATA (-1LL)

/* Step 1 of a login (see state.h).  KEYS: fail, lock.  ARGV: now, deny,
 * unlock_time, fail_interval.  Returns {0} proceed, {2} locked. */
static const char begin_lua[] =
    "local now = tonumber(ARGV[1])\n"
    "local deny = tonumber(ARGV[2])\n"
    "local unlock = tonumber(ARGV[3])\n"
    "local interval = tonumber(ARGV[4])\n"
    "local lock = redis.call('GET', KEYS[2])\n"
    "if lock then\n"
    "  if lock == 'forever' then return {2} end\n"
    "  if #lock > 15 or not string.match(lock, '^[0-9]+$') then\n"
    "    return {-1, 2}\n"
    "  end\n"
    "  if now < tonumber(lock) then return {2} end\n"
    "end\n"
    "local fails, first = 0, 0\n"
    "local f = redis.call('GET', KEYS[1])\n"
    "if f then\n"
    "  local a, b = string.match(f, '^([0-9]+) ([0-9]+)$')\n"
    "  if not a or #a > 10 or #b > 15 then return {-1, 1} end\n"
    "  fails, first = tonumber(a), tonumber(b)\n"
    "  if fails > 4294967295 then return {-1, 1} end\n"
    "end\n"
    "if lock then\n"
    "  redis.call('DEL', KEYS[2])\n"
    "  fails, first = 0, 0\n"
    "end\n"
    "if fails > 0 and now - first > interval then fails, first = 0, 0 end\n"
    "if fails == 0 then first = now end\n"
    "if fails < 4294967295 then fails = fails + 1 end\n"
    "local v = string.format('%d %d', fails, first)\n"
    "if deny > 0 and fails >= deny then\n"
    "  if unlock == 0 then\n"
    "    redis.call('SET', KEYS[2], 'forever')\n"
    "    redis.call('SET', KEYS[1], v)\n"
    "  else\n"
    "    redis.call('SET', KEYS[2], string.format('%d', now + unlock),\n"
    "      'EX', unlock)\n"
    "    redis.call('SET', KEYS[1], v, 'EX', unlock)\n"
    "  end\n"
    "else\n"
    "  local ttl = first + interval + 1 - now\n"
    "  if ttl < 1 then ttl = 1 end\n"
    "  redis.call('SET', KEYS[1], v, 'EX', ttl)\n"
    "end\n"
    "return {0}\n";

/* Step 3a/3b.  KEYS: last, fail, lock.  ARGV: step (0 = backup code), now,
 * TTL of the last key.  Returns {1} accepted, {3} replay. */
static const char success_lua[] =
    "local step = tonumber(ARGV[1])\n"
    "local now = tonumber(ARGV[2])\n"
    "local ttl = tonumber(ARGV[3])\n"
    "local laststep = 0\n"
    "local last = redis.call('GET', KEYS[1])\n"
    "if last then\n"
    "  local a, b = string.match(last, '^([0-9]+) ([0-9]+)$')\n"
    "  if not a or #a > 15 or #b > 15 then return {-1, 1} end\n"
    "  laststep = tonumber(a)\n"
    "end\n"
    "if step ~= 0 and step <= laststep then return {3} end\n"
    "if step ~= 0 then laststep = step end\n"
    "redis.call('SET', KEYS[1], string.format('%d %d', laststep, now),\n"
    "  'EX', ttl)\n"
    "redis.call('DEL', KEYS[2], KEYS[3])\n"
    "return {1}\n";

enum rkey { RK_LAST = 0, RK_FAIL, RK_LOCK, RK_COUNT };

static const char *const rkey_suffix[RK_COUNT] = { "last", "fail", "lock" };

struct redis_impl {
	redisContext *ctx;      /* NULL once dropped after an error */
	char where[FT_CONF_STR_MAX + 16];  /* "host:port" for messages */
	char prefix[FT_CONF_STR_MAX];
	unsigned timeout_ms;
};

struct rkeys {
	char name[RK_COUNT][REDIS_KEY_MAX];
	size_t len[RK_COUNT];
};

/* ---- SIGPIPE: hiredis writes with write(); a server that went away must
 * not kill sshd.  Block SIGPIPE around each exchange and swallow one that we
 * caused (no handler is installed, the mask is restored). ---- */

struct pipe_guard {
	sigset_t old;
	bool pending_before;
	bool active;
};

static void
pipe_guard_on(struct pipe_guard *g)
{
	sigset_t set, pend;

	g->active = false;
	g->pending_before = false;
	if (sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1)
		g->pending_before = true;
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGPIPE);
	g->active = pthread_sigmask(SIG_BLOCK, &set, &g->old) == 0;
}

static void
pipe_guard_off(struct pipe_guard *g)
{
	const struct timespec zero = { 0, 0 };
	sigset_t set, pend;

	if (!g->active)
		return;
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGPIPE);
	if (!g->pending_before && sigpending(&pend) == 0 &&
	    sigismember(&pend, SIGPIPE) == 1)
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	(void)pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- connection ---- */

static void
drop(struct redis_impl *r)
{
	if (r->ctx != NULL) {
		redisFree(r->ctx);
		r->ctx = NULL;
	}
}

static int
ctx_error(struct redis_impl *r, const char *what, char *err, size_t errlen)
{
	const char *why = "connection lost";

	if (r->ctx != NULL && r->ctx->err != 0) {
		why = r->ctx->errstr;
		if (r->ctx->err == REDIS_ERR_IO &&
		    (strcmp(why, strerror(EAGAIN)) == 0 ||
		    strcmp(why, strerror(ETIMEDOUT)) == 0 ||
		    strcmp(why, strerror(EINPROGRESS)) == 0))
			why = "timed out";
	}
	(void)ft_seterr(err, errlen, FT_ERR_BACKEND,
	    "Redis %s: %s: %s (timeout %u ms)", r->where, what, why,
	    r->timeout_ms);
	drop(r);
	return FT_ERR_BACKEND;
}

/* Run one command (argv with lengths).  On FT_OK *out is a reply that is
 * not an error reply; the caller frees it. */
static int
command(struct redis_impl *r, const char *what, int argc, const char **argv,
    const size_t *argvlen, redisReply **out, char *err, size_t errlen)
{
	struct pipe_guard g;
	redisReply *rep;

	*out = NULL;
	if (r->ctx == NULL)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: not connected (an earlier call failed)",
		    r->where);
	pipe_guard_on(&g);
	rep = redisCommandArgv(r->ctx, argc, argv, argvlen);
	pipe_guard_off(&g);
	if (rep == NULL)
		return ctx_error(r, what, err, errlen);
	if (rep->type == REDIS_REPLY_ERROR) {
		(void)ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: %s: %.*s", r->where, what,
		    (int)(rep->len > 200 ? 200 : rep->len),
		    rep->str != NULL ? rep->str : "error");
		freeReplyObject(rep);
		return FT_ERR_BACKEND;
	}
	*out = rep;
	return FT_OK;
}

/* A command whose reply only has to be "OK". */
static int
command_ok(struct redis_impl *r, const char *what, int argc,
    const char **argv, const size_t *argvlen, char *err, size_t errlen)
{
	redisReply *rep;
	int rc;

	rc = command(r, what, argc, argv, argvlen, &rep, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (rep->type != REDIS_REPLY_STATUS || rep->str == NULL ||
	    strcmp(rep->str, "OK") != 0)
		rc = ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: %s: unexpected reply", r->where, what);
	freeReplyObject(rep);
	return rc;
}

/* Read the password file (root or our euid, no group/other access, small)
 * into buf; strips one trailing newline. */
static int
read_password(const char *path, char **pw, size_t *pwlen, char *err,
    size_t errlen)
{
	struct ft_file_policy pol = { .owner = geteuid(), .allow_root = true,
		.forbidden_mode = 077, .max_size = REDIS_PASSWORD_MAX };
	char *buf = NULL;
	size_t len = 0;
	char why[256];
	int rc;

	why[0] = '\0';
	rc = ft_safe_read(path, &pol, &buf, &len, why, sizeof(why));
	if (rc != FT_OK)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis password file: %s", why);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len == 0 || memchr(buf, '\0', len) != NULL ||
	    memchr(buf, '\n', len) != NULL) {
		ft_wipe_free(buf, len + 1);
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis password file %s must hold one non-empty line",
		    path);
	}
	*pw = buf;
	*pwlen = len;
	return FT_OK;
}

static int
authenticate(struct redis_impl *r, const char *path, char *err,
    size_t errlen)
{
	const char *argv[2];
	size_t argvlen[2];
	char *pw = NULL;
	size_t pwlen = 0;
	int rc;

	rc = read_password(path, &pw, &pwlen, err, errlen);
	if (rc != FT_OK)
		return rc;
	argv[0] = "AUTH";
	argvlen[0] = strlen(argv[0]);
	argv[1] = pw;
	argvlen[1] = pwlen;
	rc = command_ok(r, "AUTH", 2, argv, argvlen, err, errlen);
	/* hiredis formatted the command into its output buffer, which it
	 * frees after writing; our copy we wipe. */
	ft_wipe_free(pw, pwlen + 1);
	return rc;
}

static int
select_db(struct redis_impl *r, unsigned db, char *err, size_t errlen)
{
	char num[REDIS_ARG_MAX];
	const char *argv[2] = { "SELECT", num };
	size_t argvlen[2];

	(void)snprintf(num, sizeof(num), "%u", db);
	argvlen[0] = strlen(argv[0]);
	argvlen[1] = strlen(num);
	return command_ok(r, "SELECT", 2, argv, argvlen, err, errlen);
}

static int
connect_server(struct redis_impl *r, const struct ft_config *c, char *err,
    size_t errlen)
{
	struct timeval tv;
	int flags;

	tv.tv_sec = (time_t)(c->redis_timeout_ms / MS_PER_S);
	tv.tv_usec = (suseconds_t)((c->redis_timeout_ms % MS_PER_S) *
	    US_PER_MS);
	if (c->redis_host[0] == '/')
		r->ctx = redisConnectUnixWithTimeout(c->redis_host, tv);
	else
		r->ctx = redisConnectWithTimeout(c->redis_host,
		    (int)c->redis_port, tv);
	if (r->ctx == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM,
		    "Redis %s: out of memory", r->where);
	if (r->ctx->err != 0)
		return ctx_error(r, "connect", err, errlen);
	if (redisSetTimeout(r->ctx, tv) != REDIS_OK)
		return ctx_error(r, "set timeout", err, errlen);
	/* Not inherited by anything the PAM application executes. */
	flags = fcntl(r->ctx->fd, F_GETFD);
	if (flags < 0 || fcntl(r->ctx->fd, F_SETFD, flags | FD_CLOEXEC) < 0)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: fcntl: %s", r->where, strerror(errno));
	return FT_OK;
}

/* ---- keys and values ---- */

static int
make_keys(const struct redis_impl *r, const char *user, struct rkeys *k,
    char *err, size_t errlen)
{
	size_t i;
	int n;

	for (i = 0; i < RK_COUNT; i++) {
		n = snprintf(k->name[i], sizeof(k->name[i]), "%s:{%s}:%s",
		    r->prefix, user, rkey_suffix[i]);
		if (n < 0 || (size_t)n >= sizeof(k->name[i]))
			return ft_seterr(err, errlen, FT_ERR_ARG,
			    "Redis key too long");
		k->len[i] = (size_t)n;
	}
	return FT_OK;
}

static int
bad_data(const struct rkeys *k, enum rkey which, char *err, size_t errlen)
{
	return ft_seterr(err, errlen, FT_ERR_BACKEND,
	    "wrong data in Redis key %s", k->name[which]);
}

/* Parse 1..REDIS_NUM_DIGITS decimal digits; advances *p. */
static bool
parse_num(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	size_t n = 0;

	while (s < end && *s >= '0' && *s <= '9') {
		if (++n > REDIS_NUM_DIGITS)
			return false;
		v = v * 10U + (uint64_t)(*s - '0');
		s++;
	}
	if (n == 0)
		return false;
	*p = s;
	*out = v;
	return true;
}

/* "A B" with both numbers in range. */
static bool
parse_pair(const redisReply *rep, uint64_t *a, uint64_t *b)
{
	const char *p, *end;

	if (rep->type != REDIS_REPLY_STRING || rep->str == NULL)
		return false;
	p = rep->str;
	end = p + rep->len;
	if (!parse_num(&p, end, a) || p >= end || *p != ' ')
		return false;
	p++;
	return parse_num(&p, end, b) && p == end;
}

static bool
parse_lock(const redisReply *rep, int64_t *until)
{
	const char *p, *end;
	uint64_t v;

	if (rep->type != REDIS_REPLY_STRING || rep->str == NULL)
		return false;
	if (rep->len == strlen(REDIS_FOREVER) &&
	    memcmp(rep->str, REDIS_FOREVER, rep->len) == 0) {
		*until = FT_STATE_LOCKED_FOREVER;
		return true;
	}
	p = rep->str;
	end = p + rep->len;
	if (!parse_num(&p, end, &v) || p != end)
		return false;
	*until = (int64_t)v;
	return true;
}

static int
fmt_num(char buf[REDIS_ARG_MAX], uint64_t v, char *err, size_t errlen)
{
	if (v > REDIS_NUM_MAX)
		return ft_seterr(err, errlen, FT_ERR_ARG,
		    "number out of range for Redis");
	(void)snprintf(buf, REDIS_ARG_MAX, "%llu", (unsigned long long)v);
	return FT_OK;
}

static int
check_now(time_t now, char *err, size_t errlen)
{
	if (now < 0 || (uint64_t)now > REDIS_NUM_MAX)
		return ft_seterr(err, errlen, FT_ERR_ARG, "time out of range");
	return FT_OK;
}

/* ---- scripts ---- */

#define EVAL_FIXED 3    /* EVAL script numkeys */
#define EVAL_MAX_ARGS (EVAL_FIXED + RK_COUNT + 4)

/* EVAL script with nkeys keys (in order keys[]) and nargs numbers; returns
 * the script's verdict code, or FT_ERR_BACKEND for bad data / errors. */
static int
eval(struct redis_impl *r, const char *script, const struct rkeys *k,
    const enum rkey *keys, size_t nkeys, char nums[][REDIS_ARG_MAX],
    size_t nargs, long long *code, char *err, size_t errlen)
{
	const char *argv[EVAL_MAX_ARGS];
	size_t argvlen[EVAL_MAX_ARGS];
	char numkeys[REDIS_ARG_MAX];
	redisReply *rep;
	size_t argc = 0, i;
	long long bad;
	int rc;

	if (nkeys > RK_COUNT || EVAL_FIXED + nkeys + nargs > EVAL_MAX_ARGS)
		return ft_seterr(err, errlen, FT_ERR_ARG, "too many arguments");
	(void)snprintf(numkeys, sizeof(numkeys), "%zu", nkeys);
	argv[argc] = "EVAL";
	argvlen[argc++] = strlen("EVAL");
	argv[argc] = script;
	argvlen[argc++] = strlen(script);
	argv[argc] = numkeys;
	argvlen[argc++] = strlen(numkeys);
	for (i = 0; i < nkeys; i++) {
		argv[argc] = k->name[keys[i]];
		argvlen[argc++] = k->len[keys[i]];
	}
	for (i = 0; i < nargs; i++) {
		argv[argc] = nums[i];
		argvlen[argc++] = strlen(nums[i]);
	}
	rc = command(r, "EVAL", (int)argc, argv, argvlen, &rep, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER) {
		rc = ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: EVAL: unexpected reply", r->where);
		goto out;
	}
	*code = rep->element[0]->integer;
	if (*code == SCRIPT_BAD_DATA) {
		bad = rep->elements == 2 &&
		    rep->element[1]->type == REDIS_REPLY_INTEGER ?
		    rep->element[1]->integer : 0;
		if (bad >= 1 && (size_t)bad <= nkeys)
			rc = bad_data(k, keys[bad - 1], err, errlen);
		else
			rc = ft_seterr(err, errlen, FT_ERR_BACKEND,
			    "wrong data in Redis");
	}
out:
	freeReplyObject(rep);
	return rc;
}

/* ---- the operations ---- */

static int
r_begin(void *impl, const struct ft_state_policy *pol, const char *user,
    time_t now, enum ft_state_verdict *verdict, char *err, size_t errlen)
{
	static const enum rkey keys[] = { RK_FAIL, RK_LOCK };
	struct redis_impl *r = impl;
	char nums[4][REDIS_ARG_MAX];
	struct rkeys k;
	long long code;
	int rc;

	*verdict = FT_STATE_LOCKED;
	if ((rc = check_now(now, err, errlen)) != FT_OK ||
	    (rc = make_keys(r, user, &k, err, errlen)) != FT_OK ||
	    (rc = fmt_num(nums[0], (uint64_t)now, err, errlen)) != FT_OK ||
	    (rc = fmt_num(nums[1], pol->deny, err, errlen)) != FT_OK ||
	    (rc = fmt_num(nums[2], pol->unlock_time, err, errlen)) != FT_OK ||
	    (rc = fmt_num(nums[3], pol->fail_interval, err, errlen)) != FT_OK)
		return rc;
	rc = eval(r, begin_lua, &k, keys, sizeof(keys) / sizeof(keys[0]),
	    nums, 4, &code, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (code == FT_STATE_PROCEED)
		*verdict = FT_STATE_PROCEED;
	else if (code != FT_STATE_LOCKED)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: unexpected script result", r->where);
	return FT_OK;
}

static int
r_success(void *impl, const struct ft_state_policy *pol, const char *user,
    uint64_t step, time_t now, enum ft_state_verdict *verdict, char *err,
    size_t errlen)
{
	static const enum rkey keys[] = { RK_LAST, RK_FAIL, RK_LOCK };
	struct redis_impl *r = impl;
	char nums[3][REDIS_ARG_MAX];
	uint64_t ttl;
	struct rkeys k;
	long long code;
	int rc;

	*verdict = FT_STATE_REPLAY;
	/* After this long no code of the recorded step can match again. */
	ttl = (2ULL * pol->window + 2ULL) * (uint64_t)pol->period;
	if (ttl == 0)
		ttl = 1;
	if ((rc = check_now(now, err, errlen)) != FT_OK ||
	    (rc = make_keys(r, user, &k, err, errlen)) != FT_OK ||
	    (rc = fmt_num(nums[0], step, err, errlen)) != FT_OK ||
	    (rc = fmt_num(nums[1], (uint64_t)now, err, errlen)) != FT_OK ||
	    (rc = fmt_num(nums[2], ttl, err, errlen)) != FT_OK)
		return rc;
	rc = eval(r, success_lua, &k, keys, sizeof(keys) / sizeof(keys[0]),
	    nums, 3, &code, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (code == FT_STATE_ACCEPTED)
		*verdict = FT_STATE_ACCEPTED;
	else if (code != FT_STATE_REPLAY)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: unexpected script result", r->where);
	return FT_OK;
}

static int
fill_state(const struct rkeys *k, const redisReply *rep,
    struct ft_user_state *out, char *err, size_t errlen)
{
	const redisReply *e;
	uint64_t a, b;

	memset(out, 0, sizeof(*out));
	e = rep->element[RK_LAST];
	if (e->type != REDIS_REPLY_NIL) {
		if (!parse_pair(e, &a, &b))
			return bad_data(k, RK_LAST, err, errlen);
		out->last_step = a;
		out->last_success = (int64_t)b;
	}
	e = rep->element[RK_FAIL];
	if (e->type != REDIS_REPLY_NIL) {
		if (!parse_pair(e, &a, &b) || a > UINT32_MAX)
			return bad_data(k, RK_FAIL, err, errlen);
		out->failures = (uint32_t)a;
		out->first_failure = (int64_t)b;
	}
	e = rep->element[RK_LOCK];
	if (e->type != REDIS_REPLY_NIL &&
	    !parse_lock(e, &out->locked_until))
		return bad_data(k, RK_LOCK, err, errlen);
	return FT_OK;
}

static int
r_get(void *impl, const char *user, struct ft_user_state *out, char *err,
    size_t errlen)
{
	struct redis_impl *r = impl;
	const char *argv[1 + RK_COUNT];
	size_t argvlen[1 + RK_COUNT], i;
	redisReply *rep;
	struct rkeys k;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = make_keys(r, user, &k, err, errlen);
	if (rc != FT_OK)
		return rc;
	argv[0] = "MGET";
	argvlen[0] = strlen("MGET");
	for (i = 0; i < RK_COUNT; i++) {
		argv[1 + i] = k.name[i];
		argvlen[1 + i] = k.len[i];
	}
	rc = command(r, "MGET", 1 + RK_COUNT, argv, argvlen, &rep, err,
	    errlen);
	if (rc != FT_OK)
		return rc;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != RK_COUNT)
		rc = ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: MGET: unexpected reply", r->where);
	else
		rc = fill_state(&k, rep, out, err, errlen);
	freeReplyObject(rep);
	if (rc != FT_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* DEL the given keys of a user. */
static int
del_keys(struct redis_impl *r, const char *user, const enum rkey *keys,
    size_t nkeys, char *err, size_t errlen)
{
	const char *argv[1 + RK_COUNT];
	size_t argvlen[1 + RK_COUNT], i;
	redisReply *rep;
	struct rkeys k;
	int rc;

	if (nkeys > RK_COUNT)
		return ft_seterr(err, errlen, FT_ERR_ARG, "too many keys");
	rc = make_keys(r, user, &k, err, errlen);
	if (rc != FT_OK)
		return rc;
	argv[0] = "DEL";
	argvlen[0] = strlen("DEL");
	for (i = 0; i < nkeys; i++) {
		argv[1 + i] = k.name[keys[i]];
		argvlen[1 + i] = k.len[keys[i]];
	}
	rc = command(r, "DEL", (int)(1 + nkeys), argv, argvlen, &rep, err,
	    errlen);
	if (rc != FT_OK)
		return rc;
	if (rep->type != REDIS_REPLY_INTEGER)
		rc = ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: DEL: unexpected reply", r->where);
	freeReplyObject(rep);
	return rc;
}

static int
r_unlock(void *impl, const char *user, char *err, size_t errlen)
{
	static const enum rkey keys[] = { RK_FAIL, RK_LOCK };

	return del_keys(impl, user, keys, sizeof(keys) / sizeof(keys[0]), err,
	    errlen);
}

static int
r_forget(void *impl, const char *user, char *err, size_t errlen)
{
	static const enum rkey keys[] = { RK_LAST, RK_FAIL, RK_LOCK };

	return del_keys(impl, user, keys, sizeof(keys) / sizeof(keys[0]), err,
	    errlen);
}

static void
r_close(void *impl)
{
	struct redis_impl *r = impl;

	if (r == NULL)
		return;
	drop(r);
	free(r);
}

static const struct ft_state_backend_ops redis_ops = {
	.name = "redis",
	.begin_attempt = r_begin,
	.record_success = r_success,
	.get = r_get,
	.unlock = r_unlock,
	.forget = r_forget,
	.close = r_close,
};

int
ft_state_redis_open(const struct ft_config *c,
    const struct ft_state_backend_ops **ops, void **implp, char *err,
    size_t errlen)
{
	struct redis_impl *r;
	int n, rc;

	if (c->redis_host[0] == '\0')
		return ft_seterr(err, errlen, FT_ERR_ARG,
		    "cache=redis needs redis_host");
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	r->timeout_ms = c->redis_timeout_ms;
	if (c->redis_host[0] == '/')
		n = snprintf(r->where, sizeof(r->where), "%s", c->redis_host);
	else
		n = snprintf(r->where, sizeof(r->where), "%s:%u",
		    c->redis_host, c->redis_port);
	if (n < 0 || (size_t)n >= sizeof(r->where) ||
	    snprintf(r->prefix, sizeof(r->prefix), "%s", c->redis_prefix) < 0) {
		rc = ft_seterr(err, errlen, FT_ERR_ARG, "bad Redis address");
		goto out;
	}
	rc = connect_server(r, c, err, errlen);
	if (rc == FT_OK && c->redis_password_file[0] != '\0')
		rc = authenticate(r, c->redis_password_file, err, errlen);
	if (rc == FT_OK && c->redis_db != 0)
		rc = select_db(r, c->redis_db, err, errlen);
out:
	if (rc != FT_OK) {
		r_close(r);
		return rc;
	}
	*ops = &redis_ops;
	*implp = r;
	return FT_OK;
}
