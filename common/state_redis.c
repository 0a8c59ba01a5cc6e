/* The fleet state backend: Redis through hiredis.
 *
 * Keys per user (documented in pam_flowtotp(8), REDIS KEYS):
 *   PREFIX:USER:step  string, the last accepted TOTP step.  Expires
 *                     (2*window+2)*period + margin seconds after it was set:
 *                     by then every step at or before it is outside the
 *                     window, so the key can no longer reject anything.
 *   PREFIX:USER:fail  hash {n, first, until}: failures counted, time of the
 *                     first one, lock end ("0" none, "forever" admin only).
 *                     Expires when it stops mattering: at the lock's end
 *                     when locked (never for "forever"), else fail_interval
 *                     after the first failure; plus margin.
 *   PREFIX:USER:ok    string, time of the last successful login (status
 *                     only; no TTL, one small key per user, removed by
 *                     totp-enroll reset).
 * All numbers are decimal strings.  Times come from the caller (ft_now()),
 * never from the server, so every host applies its own clock exactly like
 * the gdbm cache; the TTLs only bound memory and agree with the rules.
 *
 * Check-and-record is one Lua script per operation (EVALSHA, EVAL when the
 * server does not have it yet), so it is atomic on the server: across hosts
 * only one of K parallel logins with one code records its step.  The
 * scripts validate what they read; anything malformed (wrong type, garbage,
 * out of range) is an error reply, which we report as FT_ERR_BACKEND: the
 * login is denied (or, with redis_fallback=local, decided by the local
 * cache).  Bad data is never read as "no record".
 *
 * Every exchange is bounded by redis_timeout_ms.  After the first I/O error
 * or timeout the connection is marked broken and every later call fails at
 * once, so a dead or paused server costs a login one timeout, not several. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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
#include <openssl/evp.h>

#include "conf.h"
#include "rc.h"
#include "redis_topology.h"
#include "redis_topology_reply.h"
#include "safefile.h"
#include "state.h"
#include "state_backend.h"
#include "state_redis.h"
#include "state_redis_reply.h"
#include "wipe.h"

#define KEY_MAX 1024U  /* prefix + user + suffix, bounded */
#define WHERE_MAX 320U /* "host:port" for messages */
#define NUM_BUFSZ 24U  /* a decimal int64 and NUL */
#define NUM_VALUE_MAX 999999999999999ULL
#define TTL_MARGIN_S 60U /* clock skew between hosts */
#define PASSWORD_MAX_SIZE 1024U
#define SHA1_HEX_LEN 40U
#define MS_PER_S 1000L
#define US_PER_MS 1000L
#define NS_PER_MS 1000000L
#define ARGV_MAX 13	/* EVALSHA sha nkeys, 4 keys, up to 6 args */
#define REDIRECTS_MAX 5 /* Cluster MOVED/ASK hops of one command */
#define PIPE_MAX 3	/* ASKING, the command, WAIT */
#define HANDSHAKE_MAX 3 /* AUTH, SELECT, ROLE */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the scripts (KEYS and ARGV only: nothing is quoted into them) ---- */

/* Shared prologue: num(v, max) is the number in the decimal string v, or
 * nil if v is not 1..15 digits or exceeds max. */
#define LUA_NUM                                                                \
	"local function num(v, max)\n"                                         \
	"  if type(v) ~= 'string' or #v < 1 or #v > 15 or\n"                   \
	"      not string.match(v, '^%d+$') then return nil end\n"             \
	"  local n = tonumber(v)\n"                                            \
	"  if n > max then return nil end\n"                                   \
	"  return n\n"                                                         \
	"end\n"                                                                \
	"local function fmt(n) return string.format('%d', n) end\n"            \
	"local MAXN = 999999999999999\n"

/* begin: KEYS[1] fail hash; ARGV now deny unlock_time fail_interval
 * margin.  The rules of ft_state_apply_begin(). */
static const char lua_begin[] = LUA_NUM
    "local k = KEYS[1]\n"
    "local now, deny = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local unlock, interval = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local margin = tonumber(ARGV[5])\n"
    "local h = redis.call('HMGET', k, 'n', 'first', 'until')\n"
    "local n, first, lock, forever = 0, 0, 0, false\n"
    "if h[1] or h[2] or h[3] then\n"
    "  n, first = num(h[1], 4294967295), num(h[2], MAXN)\n"
    "  if h[3] == 'forever' then forever = true\n"
    "  else lock = num(h[3], MAXN) end\n"
    "  if n == nil or first == nil or lock == nil then\n"
    "    return redis.error_reply('WRONGDATA ' .. k ..\n"
    "        ' is not a flowtotp failure record')\n"
    "  end\n"
    "end\n"
    "if forever or (lock ~= 0 and now < lock) then\n"
    "  return {'locked', h[1], h[2], h[3]}\n"
    "end\n"
    "if lock ~= 0 then n, first, lock = 0, 0, 0 end\n"
    "if n > 0 and now - first > interval then n, first = 0, 0 end\n"
    "if n == 0 then first = now end\n"
    "if n < 4294967295 then n = n + 1 end\n"
    "if deny > 0 and n >= deny then\n"
    "  if unlock == 0 then forever = true else lock = now + unlock end\n"
    "end\n"
    "redis.call('HSET', k, 'n', fmt(n), 'first', fmt(first),\n"
    "    'until', forever and 'forever' or fmt(lock))\n"
    "if forever then\n"
    "  redis.call('PERSIST', k)\n"
    "else\n"
    "  local ttl = first + interval - now\n"
    "  if lock ~= 0 then ttl = lock - now end\n"
    "  if ttl < 0 then ttl = 0 end\n"
    "  redis.call('EXPIRE', k, fmt(ttl + margin))\n"
    "end\n"
    "return {'proceed', fmt(n), fmt(first),\n"
    "    forever and 'forever' or fmt(lock)}\n";

/* success: KEYS step fail ok future; ARGV step now step_ttl deny
 * fail_interval margin.  The rules of ft_state_apply_success(); step "0" is
 * a backup code.  A replay takes back the failure its attempt counted (and
 * the lock that count set), keeping the hash's TTL; with no failure left
 * the hash goes.  The step kept from a clock that ran ahead (future) is a
 * replay too, until a later step is accepted.  Answers {verdict, n, first,
 * until, last step} ("" = absent). */
static const char lua_success[] = LUA_NUM
    "local step = tonumber(ARGV[1])\n"
    "local function bad(k, what)\n"
    "  return redis.error_reply('WRONGDATA ' .. k ..\n"
    "      ' is not a flowtotp ' .. what)\n"
    "end\n"
    "local function undo(k, now, deny)\n"
    "  local h = redis.call('HMGET', k, 'n', 'first', 'until')\n"
    "  if not (h[1] or h[2] or h[3]) then return nil end\n"
    "  local n, first = num(h[1], 4294967295), num(h[2], MAXN)\n"
    "  local forever, lock = h[3] == 'forever', 0\n"
    "  if not forever then lock = num(h[3], MAXN) end\n"
    "  if n == nil or first == nil or lock == nil then\n"
    "    return bad(k, 'failure record')\n"
    "  end\n"
    "  if n == 0 then return nil end\n"
    "  n = n - 1\n"
    "  if n == 0 then redis.call('DEL', k) return nil end\n"
    "  local active = forever or (lock ~= 0 and now < lock)\n"
    "  if active and (deny == 0 or n < deny) then\n"
    "    redis.call('HSET', k, 'until', '0')\n"
    "    local ttl = first + tonumber(ARGV[5]) - now\n"
    "    if ttl < 0 then ttl = 0 end\n"
    "    redis.call('EXPIRE', k, fmt(ttl + tonumber(ARGV[6])))\n"
    "  end\n"
    "  redis.call('HSET', k, 'n', fmt(n))\n"
    "  return nil\n"
    "end\n"
    "local last, fut = redis.call('GET', KEYS[1]), redis.call('GET', KEYS[4])\n"
    "local l, f = 0, 0\n"
    "if last then l = num(last, MAXN) end\n"
    "if l == nil then return bad(KEYS[1], 'step') end\n"
    "if fut then f = num(fut, MAXN) end\n"
    "if f == nil then return bad(KEYS[4], 'step') end\n"
    "if step ~= 0 and (step <= l or step == f) then\n"
    "  local e = undo(KEYS[2], tonumber(ARGV[2]), tonumber(ARGV[4]))\n"
    "  if e then return e end\n"
    "  local h = redis.call('HMGET', KEYS[2], 'n', 'first', 'until')\n"
    "  return {'replay', h[1] or '', h[2] or '', h[3] or '', last or ''}\n"
    "end\n"
    "if step ~= 0 then\n"
    "  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])\n"
    "  last = ARGV[1]\n"
    "  if f ~= 0 and step >= f then redis.call('DEL', KEYS[4]) end\n"
    "end\n"
    "redis.call('DEL', KEYS[2])\n"
    "redis.call('SET', KEYS[3], ARGV[2])\n"
    "return {'accepted', '', '', '', last or ''}\n";

/* get: KEYS step fail ok future; one consistent snapshot, "" for absent.
 * The C side validates. */
static const char lua_get[] =
    "local s = redis.call('GET', KEYS[1])\n"
    "local h = redis.call('HMGET', KEYS[2], 'n', 'first', 'until')\n"
    "local o = redis.call('GET', KEYS[3])\n"
    "local f = redis.call('GET', KEYS[4])\n"
    "return { s or '', h[1] or '', h[2] or '', h[3] or '', o or '',\n"
    "    f or '' }\n";

/* unlock: KEYS step fail future; ARGV now_step window step_ttl period
 * margin.  The rules of ft_state_apply_unlock(): the fail hash goes; a
 * last step more than window steps ahead of now_step ("0": leave the steps
 * alone) is kept refused in the future key, until real time is past it by
 * the window (its TTL, at the longest period), and the step key moves back
 * to now_step - 1.  Answers "rewound" or "unlocked". */
static const char lua_unlock[] = LUA_NUM
    "local ns, w = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "redis.call('DEL', KEYS[2])\n"
    "local last = redis.call('GET', KEYS[1])\n"
    "if ns == 0 or not last then return 'unlocked' end\n"
    "local l = num(last, MAXN)\n"
    "local fut = redis.call('GET', KEYS[3])\n"
    "local f = 0\n"
    "if fut then f = num(fut, MAXN) end\n"
    "if l == nil or f == nil then\n"
    "  return redis.error_reply('WRONGDATA ' .. KEYS[1] ..\n"
    "      ' is not a flowtotp step')\n"
    "end\n"
    "if l <= ns + w then return 'unlocked' end\n"
    "if l > f then f = l end\n"
    "local ttl = (f + w + 1 - ns) * tonumber(ARGV[4]) + tonumber(ARGV[5])\n"
    "redis.call('SET', KEYS[3], fmt(f), 'EX', fmt(ttl))\n"
    "redis.call('SET', KEYS[1], fmt(ns - 1), 'EX', ARGV[3])\n"
    "return 'rewound'\n";

enum script_id {
	SCRIPT_BEGIN,
	SCRIPT_SUCCESS,
	SCRIPT_GET,
	SCRIPT_UNLOCK,
	SCRIPT_COUNT
};

static const char *const scripts[SCRIPT_COUNT] = {
    lua_begin,
    lua_success,
    lua_get,
    lua_unlock,
};

enum key_id { KEY_STEP, KEY_FAIL, KEY_OK, KEY_FUTURE, KEY_COUNT };

static const char *const key_suffix[KEY_COUNT] = {
    "step", "fail", "ok", "future"};

struct redis_impl {
	redisContext *ctx;
	bool broken; /* I/O failed once: no further exchanges */
	long timeout_ms;
	char prefix[FT_CONF_STR_MAX];
	char where[WHERE_MAX];
	char sha[SCRIPT_COUNT][SHA1_HEX_LEN + 1];
	/* The node we talk to now: redis_host, the primary a Sentinel
	 * named, or where a Cluster redirect sent us. */
	struct ft_redis_addr node;
	struct ft_config conf; /* a copy: what reaching a node needs */
};

/* ---- SIGPIPE: a write to a closed socket must not kill the host process
 * (sshd, sudo).  We install no handler: block it around our I/O and
 * consume one that we caused. ---- */

struct sigpipe_guard {
	sigset_t old;
	bool was_pending;
	bool blocked;
};

static void
sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t set, pend;

	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGPIPE);
	(void)sigemptyset(&pend);
	g->was_pending =
	    sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1;
	g->blocked = pthread_sigmask(SIG_BLOCK, &set, &g->old) == 0;
}

static void
sigpipe_restore(struct sigpipe_guard *g)
{
	const struct timespec zero = {0, 0};
	sigset_t set, pend;

	if (!g->blocked)
		return;
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGPIPE);
	(void)sigemptyset(&pend);
	if (!g->was_pending && sigpending(&pend) == 0 &&
	    sigismember(&pend, SIGPIPE) == 1)
		(void)sigtimedwait(&set, NULL, &zero);
	(void)pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- time budget of one exchange ---- */

static long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return LONG_MAX;
	return (long)(now.tv_sec - start->tv_sec) * MS_PER_S +
	    (now.tv_nsec - start->tv_nsec) / NS_PER_MS;
}

static struct timeval
ms_to_tv(long ms)
{
	struct timeval tv;

	tv.tv_sec = ms / MS_PER_S;
	tv.tv_usec = (ms % MS_PER_S) * US_PER_MS;
	return tv;
}

/* Give the socket what is left of the budget; false if none is left. */
static bool
arm_timeout(struct redis_impl *r, const struct timespec *start, long budget_ms)
{
	long left = budget_ms - elapsed_ms(start);

	if (left <= 0)
		return false;
	return redisSetTimeout(r->ctx, ms_to_tv(left)) == REDIS_OK;
}

/* ---- errors ---- */

static int
io_error(struct redis_impl *r, const char *what, char *err, size_t errlen)
{
	r->broken = true;
	/* hiredis reports a socket timeout as the text of EAGAIN. */
	if (r->ctx == NULL || r->ctx->err == 0 ||
	    strcmp(r->ctx->errstr, strerror(EAGAIN)) == 0)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: %s: timed out after %ld ms", r->where, what,
		    r->timeout_ms);
	return ft_seterr(err, errlen, FT_ERR_BACKEND, "Redis %s: %s: %s",
	    r->where, what, r->ctx->errstr);
}

static int
reply_error(const struct redis_impl *r, const char *what, const redisReply *rep,
    char *err, size_t errlen)
{
	return ft_redis_reply_error(r->where, what, rep, err, errlen);
}

/* ---- one exchange ---- */

/* What one exchange is for (messages) and when its budget began. */
struct exchange {
	const char *what;
	struct timespec start;
	long budget_ms; /* redis_timeout_ms, plus WAIT's own timeout */
};

/* One command's arguments. */
struct cmd {
	int argc;
	const char **argv; /* NUL-terminated strings */
};

/* The arguments of one script call. */
struct script_call {
	enum script_id id;
	const char *what;
	const char *const *keys;
	int nkeys;
	const char *const *args;
	int nargs;
};

/* Send the already appended commands and read n replies, all within the
 * budget of x.  On FT_OK reps[0..n) are set (caller frees). */
static int
read_replies(struct redis_impl *r, const struct exchange *x, redisReply **reps,
    size_t n, char *err, size_t errlen)
{
	struct sigpipe_guard g;
	void *rep;
	size_t i;
	int rc = FT_OK;

	for (i = 0; i < n; i++)
		reps[i] = NULL;
	sigpipe_block(&g);
	for (i = 0; i < n; i++) {
		rep = NULL;
		if (!arm_timeout(r, &x->start, x->budget_ms) ||
		    redisGetReply(r->ctx, &rep) != REDIS_OK || rep == NULL) {
			rc = io_error(r, x->what, err, errlen);
			break;
		}
		reps[i] = rep;
	}
	sigpipe_restore(&g);
	if (rc != FT_OK) {
		for (i = 0; i < n; i++) {
			freeReplyObject(reps[i]);
			reps[i] = NULL;
		}
	}
	return rc;
}

/* Queue one command.  Every argument is a NUL-terminated string: the
 * lengths are computed here, next to their only use. */
static int
append_cmd(struct redis_impl *r, const struct exchange *x, const struct cmd *c,
    char *err, size_t errlen)
{
	size_t lens[ARGV_MAX];
	int i;

	if (c->argc < 1 || c->argc > ARGV_MAX)
		return ft_seterr(err, errlen, FT_ERR_ARG, "too many arguments");
	for (i = 0; i < c->argc; i++)
		lens[i] = strlen(c->argv[i]);
	if (redisAppendCommandArgv(r->ctx, c->argc, c->argv, lens) != REDIS_OK)
		return io_error(r, x->what, err, errlen);
	return FT_OK;
}

/* Commands sent in one write, and room for their replies. */
struct batch {
	const struct cmd *cmds;
	size_t n;
	redisReply **reps;
};

/* Send b's commands and read their replies (caller frees). */
static int
pipeline(struct redis_impl *r, const struct exchange *x, const struct batch *b,
    char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < b->n; i++)
		b->reps[i] = NULL;
	if (r->broken || r->ctx == NULL)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: connection lost earlier", r->where);
	for (i = 0; i < b->n; i++)
		if ((rc = append_cmd(r, x, &b->cmds[i], err, errlen)) != FT_OK)
			return rc;
	return read_replies(r, x, b->reps, b->n, err, errlen);
}

static int
command(struct redis_impl *r, const struct exchange *x, const struct cmd *c,
    redisReply **rep, char *err, size_t errlen)
{
	const struct batch b = {.cmds = c, .n = 1, .reps = rep};

	return pipeline(r, x, &b, err, errlen);
}

static int
start_clock(struct redis_impl *r, struct exchange *x, char *err, size_t errlen)
{
	x->budget_ms = r->timeout_ms;
	if (clock_gettime(CLOCK_MONOTONIC, &x->start) != 0)
		return io_error(r, x->what, err, errlen);
	return FT_OK;
}

static int follow_redirect(struct redis_impl *r,
    const struct ft_redis_redirect *rd, char *err, size_t errlen);

/* With redis_cluster, is rep a -MOVED or -ASK?  A malformed one is an
 * error: we cannot tell where the user's keys are. */
static int
redirect_of(const struct redis_impl *r, const struct exchange *x,
    const redisReply *rep, struct ft_redis_redirect *rd, char *err,
    size_t errlen)
{
	char why[WHERE_MAX];

	memset(rd, 0, sizeof(*rd));
	if (!r->conf.redis_cluster)
		return FT_OK;
	if (ft_redis_reply_redirect(rep, rd, why, sizeof(why)) != FT_OK)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: %s: %s", r->where, x->what, why);
	return FT_OK;
}

/* What one call sends: ASKING (after an -ASK), the command, and WAIT
 * (wait) right behind it. */
struct call_pipe {
	const struct cmd *c;
	bool wait;
	bool ask;
};

/* What it got: the command's reply and WAIT's (caller frees), or where the
 * node sent the command instead. */
struct call_out {
	redisReply *rep;
	redisReply *wait;
	struct ft_redis_redirect rd;
};

/* One try of a call on the current node. */
static int
call_once(struct redis_impl *r, struct exchange *x, const struct call_pipe *p,
    struct call_out *o, char *err, size_t errlen)
{
	static const char *asking_argv[] = {"ASKING"};
	char nrep[NUM_BUFSZ], wms[NUM_BUFSZ];
	const char *wait_argv[] = {"WAIT", nrep, wms};
	struct cmd cmds[PIPE_MAX];
	redisReply *reps[PIPE_MAX];
	struct batch b = {.cmds = cmds, .n = 0, .reps = reps};
	size_t first, i;
	int rc;

	if ((rc = start_clock(r, x, err, errlen)) != FT_OK)
		return rc;
	if (p->ask)
		cmds[b.n++] = (struct cmd){.argc = 1, .argv = asking_argv};
	first = b.n;
	cmds[b.n++] = *p->c;
	if (p->wait) {
		(void)snprintf(
		    nrep, sizeof(nrep), "%u", r->conf.redis_wait_replicas);
		(void)snprintf(
		    wms, sizeof(wms), "%u", r->conf.redis_wait_timeout_ms);
		cmds[b.n++] = (struct cmd){
		    .argc = (int)NELEM(wait_argv), .argv = wait_argv};
		x->budget_ms += (long)r->conf.redis_wait_timeout_ms;
	}
	if ((rc = pipeline(r, x, &b, err, errlen)) != FT_OK)
		return rc;
	if (p->ask && reps[0]->type == REDIS_REPLY_ERROR)
		rc = reply_error(r, "ASKING", reps[0], err, errlen);
	if (rc == FT_OK)
		rc = redirect_of(r, x, reps[first], &o->rd, err, errlen);
	if (rc == FT_OK && o->rd.kind == FT_REDIS_NO_REDIRECT) {
		o->rep = reps[first];
		reps[first] = NULL;
		if (p->wait) {
			o->wait = reps[first + 1];
			reps[first + 1] = NULL;
		}
	}
	for (i = 0; i < b.n; i++)
		freeReplyObject(reps[i]);
	return rc;
}

/* One command where the Cluster wants it: with redis_cluster a -MOVED or
 * -ASK answer sends it on to the node named, ASKING first for -ASK, at
 * most REDIRECTS_MAX times; each node is reached and authenticated like
 * the first.  With p->wait, WAIT is pipelined right behind the command.
 * Each try has its own budget. */
static int
call(struct redis_impl *r, struct exchange *x, const struct call_pipe *p,
    struct call_out *o, char *err, size_t errlen)
{
	struct call_pipe hop_p = *p;
	int hop, rc;

	memset(o, 0, sizeof(*o));
	for (hop = 0;; hop++) {
		rc = call_once(r, x, &hop_p, o, err, errlen);
		if (rc != FT_OK || o->rd.kind == FT_REDIS_NO_REDIRECT)
			return rc;
		if (hop >= REDIRECTS_MAX)
			return ft_seterr(err, errlen, FT_ERR_BACKEND,
			    "Redis %s: %s: more than %d cluster redirects",
			    r->where, x->what, REDIRECTS_MAX);
		hop_p.ask = o->rd.kind == FT_REDIS_ASK;
		if ((rc = follow_redirect(r, &o->rd, err, errlen)) != FT_OK)
			return rc;
	}
}

/* WAIT's answer against redis_wait_replicas: too few is FT_ERR_IO, not
 * FT_ERR_BACKEND, so that no local fallback accepts a step the fleet
 * could forget in a failover. */
static int
check_wait(const struct redis_impl *r, const redisReply *wrep, char *err,
    size_t errlen)
{
	unsigned acked = 0;

	if (wrep == NULL || ft_redis_wait_acked(wrep, &acked) != FT_OK)
		return ft_seterr(err, errlen, FT_ERR_IO,
		    "Redis %s: WAIT: no usable answer: the accepted step may "
		    "not survive a failover",
		    r->where);
	if (acked < r->conf.redis_wait_replicas)
		return ft_seterr(err, errlen, FT_ERR_IO,
		    "Redis %s: WAIT: %u of %u replicas acknowledged within %u "
		    "ms (redis_wait_replicas): denied, so that a failover "
		    "cannot accept this code again",
		    r->where, acked, r->conf.redis_wait_replicas,
		    r->conf.redis_wait_timeout_ms);
	return FT_OK;
}

/* Run a script.  *rep is the reply, never an error reply, on FT_OK.
 * wrep != NULL: WAIT goes right behind it and *wrep is its answer (caller
 * frees; check_wait judges it). */
static int
run_script(struct redis_impl *r, const struct script_call *sc, redisReply **rep,
    redisReply **wrep, char *err, size_t errlen)
{
	const char *argv[ARGV_MAX];
	struct exchange x = {.what = sc->what};
	struct cmd c = {.argc = 0, .argv = argv};
	const struct call_pipe p = {.c = &c, .wait = wrep != NULL};
	struct call_out o;
	char nk[NUM_BUFSZ];
	int i, rc;

	*rep = NULL;
	if (wrep != NULL)
		*wrep = NULL;
	if (3 + sc->nkeys + sc->nargs > ARGV_MAX)
		return ft_seterr(err, errlen, FT_ERR_ARG, "too many arguments");
	(void)snprintf(nk, sizeof(nk), "%d", sc->nkeys);
	argv[c.argc++] = "EVALSHA";
	argv[c.argc++] = r->sha[sc->id];
	argv[c.argc++] = nk;
	for (i = 0; i < sc->nkeys; i++)
		argv[c.argc++] = sc->keys[i];
	for (i = 0; i < sc->nargs; i++)
		argv[c.argc++] = sc->args[i];
	rc = call(r, &x, &p, &o, err, errlen);
	if (rc == FT_OK && ft_redis_is_noscript(o.rep)) {
		/* First use on this server (or after SCRIPT FLUSH). */
		freeReplyObject(o.rep);
		freeReplyObject(o.wait);
		argv[0] = "EVAL";
		argv[1] = scripts[sc->id];
		rc = call(r, &x, &p, &o, err, errlen);
	}
	if (rc == FT_OK && o.rep->type == REDIS_REPLY_ERROR) {
		rc = reply_error(r, sc->what, o.rep, err, errlen);
		freeReplyObject(o.rep);
		freeReplyObject(o.wait);
	}
	if (rc != FT_OK)
		return rc;
	*rep = o.rep;
	if (wrep != NULL)
		*wrep = o.wait;
	return FT_OK;
}

/* ---- keys and numbers ---- */

/* PREFIX:{USER}:SUFFIX: one hash tag for all of a user's keys, so each
 * script touches one Cluster slot (redis_topology.h). */
static int
make_keys(const struct redis_impl *r, const char *user,
    char keys[KEY_COUNT][KEY_MAX], char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < KEY_COUNT; i++) {
		rc = ft_redis_user_key(
		    r->prefix, user, key_suffix[i], keys[i], KEY_MAX);
		if (rc == FT_ERR_ARG)
			return ft_seterr(err, errlen, rc,
			    "user name cannot be a Redis hash tag (it holds "
			    "})");
		if (rc != FT_OK)
			return ft_seterr(err, errlen, FT_ERR_ARG,
			    "Redis key for this user too long, or redis_prefix "
			    "holds a brace");
	}
	return FT_OK;
}

static int
fmt_num(char *buf, uint64_t v, char *err, size_t errlen)
{
	if (v > NUM_VALUE_MAX)
		return ft_seterr(err, errlen, FT_ERR_ARG,
		    "value %" PRIu64 " out of range for the Redis backend", v);
	(void)snprintf(buf, NUM_BUFSZ, "%" PRIu64, v);
	return FT_OK;
}

static int
fmt_time(char *buf, time_t now, char *err, size_t errlen)
{
	if (now < 0)
		return ft_seterr(err, errlen, FT_ERR_ARG, "negative time");
	return fmt_num(buf, (uint64_t)now, err, errlen);
}

/* ---- the operations ---- */

static int
r_begin(struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	const struct ft_state_policy *pol = op->pol;
	char keys[KEY_COUNT][KEY_MAX];
	char a_now[NUM_BUFSZ], a_deny[NUM_BUFSZ], a_unlock[NUM_BUFSZ];
	char a_int[NUM_BUFSZ], a_margin[NUM_BUFSZ];
	const char *k[1], *a[5];
	struct script_call sc = {.id = SCRIPT_BEGIN,
	    .what = "begin attempt",
	    .nkeys = (int)NELEM(k),
	    .nargs = (int)NELEM(a)};
	redisReply *rep = NULL;
	int rc;

	op->verdict = FT_STATE_LOCKED;
	if ((rc = make_keys(r, op->user, keys, err, errlen)) != FT_OK ||
	    (rc = fmt_time(a_now, op->now, err, errlen)) != FT_OK)
		return rc;
	(void)snprintf(a_deny, sizeof(a_deny), "%u", pol->deny);
	(void)snprintf(a_unlock, sizeof(a_unlock), "%u", pol->unlock_time);
	(void)snprintf(a_int, sizeof(a_int), "%u", pol->fail_interval);
	(void)snprintf(a_margin, sizeof(a_margin), "%u", TTL_MARGIN_S);
	k[0] = keys[KEY_FAIL];
	a[0] = a_now;
	a[1] = a_deny;
	a[2] = a_unlock;
	a[3] = a_int;
	a[4] = a_margin;
	sc.keys = k;
	sc.args = a;
	rc = run_script(r, &sc, &rep, NULL, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (ft_redis_verdict(rep, FT_REDIS_BEGIN, &op->verdict, &op->state) !=
	    FT_OK)
		rc = reply_error(r, sc.what, rep, err, errlen);
	op->known = rc == FT_OK;
	freeReplyObject(rep);
	return rc;
}

static uint64_t
step_ttl(const struct ft_state_policy *pol)
{
	/* A step accepted at time t is at most t/period + window; it stops
	 * being inside anyone's window once now/period - window exceeds it,
	 * at most (2*window + 2) periods later. */
	return (2U * (uint64_t)pol->window + 2U) * (uint64_t)pol->period +
	    TTL_MARGIN_S;
}

static int
r_success(
    struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	char keys[KEY_COUNT][KEY_MAX];
	char a_step[NUM_BUFSZ], a_now[NUM_BUFSZ], a_ttl[NUM_BUFSZ];
	char a_deny[NUM_BUFSZ], a_int[NUM_BUFSZ], a_margin[NUM_BUFSZ];
	const char *k[KEY_COUNT], *a[6];
	struct script_call sc = {.id = SCRIPT_SUCCESS,
	    .what = "record success",
	    .keys = k,
	    .nkeys = (int)NELEM(k),
	    .args = a,
	    .nargs = (int)NELEM(a)};
	redisReply *rep = NULL, *wrep = NULL;
	bool wait = r->conf.redis_wait_replicas > 0;
	int rc;

	op->verdict = FT_STATE_REPLAY;
	if ((rc = make_keys(r, op->user, keys, err, errlen)) != FT_OK ||
	    (rc = fmt_num(a_step, op->step, err, errlen)) != FT_OK ||
	    (rc = fmt_time(a_now, op->now, err, errlen)) != FT_OK ||
	    (rc = fmt_num(a_ttl, step_ttl(op->pol), err, errlen)) != FT_OK)
		return rc;
	k[0] = keys[KEY_STEP];
	k[1] = keys[KEY_FAIL];
	k[2] = keys[KEY_OK];
	k[3] = keys[KEY_FUTURE];
	(void)snprintf(a_deny, sizeof(a_deny), "%u", op->pol->deny);
	(void)snprintf(a_int, sizeof(a_int), "%u", op->pol->fail_interval);
	(void)snprintf(a_margin, sizeof(a_margin), "%u", TTL_MARGIN_S);
	a[0] = a_step;
	a[1] = a_now;
	a[2] = a_ttl;
	a[3] = a_deny;
	a[4] = a_int;
	a[5] = a_margin;
	rc = run_script(r, &sc, &rep, wait ? &wrep : NULL, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (ft_redis_verdict(rep, FT_REDIS_SUCCESS, &op->verdict, &op->state) !=
	    FT_OK)
		rc = reply_error(r, sc.what, rep, err, errlen);
	/* Only an accepted step must survive a failover; a replay changed
	 * nothing that matters. */
	if (rc == FT_OK && wait && op->verdict == FT_STATE_ACCEPTED)
		rc = check_wait(r, wrep, err, errlen);
	op->known = rc == FT_OK;
	freeReplyObject(rep);
	freeReplyObject(wrep);
	return rc;
}

static int
r_get(struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	char keys[KEY_COUNT][KEY_MAX];
	const char *k[KEY_COUNT];
	struct script_call sc = {.id = SCRIPT_GET,
	    .what = "read state",
	    .keys = k,
	    .nkeys = KEY_COUNT};
	redisReply *rep = NULL;
	int rc;

	memset(&op->state, 0, sizeof(op->state));
	if ((rc = make_keys(r, op->user, keys, err, errlen)) != FT_OK)
		return rc;
	k[0] = keys[KEY_STEP];
	k[1] = keys[KEY_FAIL];
	k[2] = keys[KEY_OK];
	k[3] = keys[KEY_FUTURE];
	rc = run_script(r, &sc, &rep, NULL, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (rep->type != REDIS_REPLY_ARRAY)
		rc = reply_error(r, sc.what, rep, err, errlen);
	else if (ft_redis_decode_get(rep, &op->state) != FT_OK)
		rc = ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: wrong data in %s:{%s}:*: not a flowtotp record",
		    r->where, r->prefix, op->user);
	freeReplyObject(rep);
	return rc;
}

/* FT_OP_FORGET: DEL all the user's keys. */
static int
del_keys(struct redis_impl *r, const char *user, char *err, size_t errlen)
{
	char keys[KEY_COUNT][KEY_MAX];
	const char *argv[1 + KEY_COUNT];
	size_t i;
	struct exchange x = {.what = "forget"};
	struct cmd c = {.argc = (int)(1 + KEY_COUNT), .argv = argv};
	const struct call_pipe p = {.c = &c};
	struct call_out o;
	redisReply *rep = NULL;
	int rc;

	if ((rc = make_keys(r, user, keys, err, errlen)) != FT_OK)
		return rc;
	argv[0] = "DEL";
	for (i = 0; i < KEY_COUNT; i++)
		argv[1 + i] = keys[i];
	rc = call(r, &x, &p, &o, err, errlen);
	rep = o.rep;
	if (rc != FT_OK)
		return rc;
	if (rep->type != REDIS_REPLY_INTEGER)
		rc = reply_error(r, x.what, rep, err, errlen);
	freeReplyObject(rep);
	return rc;
}

/* FT_OP_UNLOCK: the fail hash goes; a step from a clock that ran ahead is
 * set aside (lua_unlock). */
static int
r_unlock(struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	char keys[KEY_COUNT][KEY_MAX];
	char a_ns[NUM_BUFSZ], a_w[NUM_BUFSZ], a_ttl[NUM_BUFSZ];
	char a_period[NUM_BUFSZ], a_margin[NUM_BUFSZ];
	const char *k[3], *a[5];
	struct script_call sc = {.id = SCRIPT_UNLOCK,
	    .what = "unlock",
	    .keys = k,
	    .nkeys = (int)NELEM(k),
	    .args = a,
	    .nargs = (int)NELEM(a)};
	redisReply *rep = NULL;
	int rc;

	if ((rc = make_keys(r, op->user, keys, err, errlen)) != FT_OK ||
	    (rc = fmt_num(a_ns, op->now_step, err, errlen)) != FT_OK ||
	    (rc = fmt_num(a_ttl, step_ttl(op->pol), err, errlen)) != FT_OK)
		return rc;
	(void)snprintf(a_w, sizeof(a_w), "%u", op->pol->window);
	(void)snprintf(a_period, sizeof(a_period), "%u", op->pol->period);
	(void)snprintf(a_margin, sizeof(a_margin), "%u", TTL_MARGIN_S);
	k[0] = keys[KEY_STEP];
	k[1] = keys[KEY_FAIL];
	k[2] = keys[KEY_FUTURE];
	a[0] = a_ns;
	a[1] = a_w;
	a[2] = a_ttl;
	a[3] = a_period;
	a[4] = a_margin;
	rc = run_script(r, &sc, &rep, NULL, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (ft_redis_unlock_reply(rep, &op->rewound) != FT_OK)
		rc = reply_error(r, sc.what, rep, err, errlen);
	freeReplyObject(rep);
	return rc;
}

/* FT_OP_ATTEMPT: begin, check, success, each atomic on the server (the
 * attempt counted first).  A script cannot call back into the check, so
 * this is three steps where gdbm has one locked session. */
static int
r_attempt(
    struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	int m, rc;

	rc = r_begin(r, op, err, errlen);
	if (rc != FT_OK || op->verdict != FT_STATE_PROCEED)
		return rc;
	m = op->check(op->check_arg, &op->step);
	if (m < 0) {
		op->verdict = FT_STATE_LOCKED; /* fail closed */
		return ft_seterr(err, errlen, m, "checking the code failed");
	}
	if (m == 0)
		return FT_OK; /* PROCEED: no match, failure counted */
	return r_success(r, op, err, errlen);
}

static int
r_run(void *impl, struct ft_state_op *op, char *err, size_t errlen)
{
	struct redis_impl *r = impl;

	switch (op->kind) {
	case FT_OP_PROBE: return FT_OK; /* connected by ft_state_redis_open */
	case FT_OP_BEGIN: return r_begin(r, op, err, errlen);
	case FT_OP_ATTEMPT: return r_attempt(r, op, err, errlen);
	case FT_OP_SUCCESS: return r_success(r, op, err, errlen);
	case FT_OP_GET: return r_get(r, op, err, errlen);
	case FT_OP_UNLOCK: return r_unlock(r, op, err, errlen);
	case FT_OP_FORGET: return del_keys(r, op->user, err, errlen);
	case FT_OP_MIRROR: break; /* the local cache's alone */
	}
	return ft_seterr(err, errlen, FT_ERR_ARG, "unknown state operation");
}

static void
r_close(void *impl)
{
	struct redis_impl *r = impl;

	if (r == NULL)
		return;
	if (r->ctx != NULL)
		redisFree(r->ctx);
	free(r);
}

static const struct ft_state_backend_ops redis_ops = {
    .name = "redis",
    .run = r_run,
    .close = r_close,
};

/* ---- opening ---- */

static int
script_shas(struct redis_impl *r, char *err, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen, i;
	size_t s;

	for (s = 0; s < SCRIPT_COUNT; s++) {
		mdlen = 0;
		if (EVP_Digest(scripts[s], strlen(scripts[s]), md, &mdlen,
			EVP_sha1(), NULL) != 1 ||
		    mdlen * 2U != SHA1_HEX_LEN)
			return ft_seterr(err, errlen, FT_ERR_CRYPTO,
			    "SHA-1 of the Redis scripts failed");
		for (i = 0; i < mdlen; i++) {
			r->sha[s][2U * i] = hex[md[i] >> 4];
			r->sha[s][2U * i + 1U] = hex[md[i] & 0x0fU];
		}
		r->sha[s][SHA1_HEX_LEN] = '\0';
	}
	return FT_OK;
}

/* The password: the whole file less one trailing newline.  The file must
 * belong to root or to us and be unreadable to group and others. */
static int
read_password(
    const char *path, char **pw, size_t *pwlen, char *err, size_t errlen)
{
	struct ft_file_policy pol = {
	    .owner = geteuid(),
	    .allow_root = true,
	    .forbidden_mode = 077,
	    .max_size = PASSWORD_MAX_SIZE,
	};
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*pw = NULL;
	*pwlen = 0;
	rc = ft_safe_read(path, &pol, &buf, &len, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0 || memchr(buf, '\0', len) != NULL ||
	    memchr(buf, '\n', len) != NULL) {
		ft_wipe_free(buf, len + 1);
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_password_file %s: must hold one non-empty line",
		    path);
	}
	*pw = buf;
	*pwlen = len;
	return FT_OK;
}

/* Drop the current connection (to try another node). */
static void
drop_ctx(struct redis_impl *r)
{
	if (r->ctx != NULL)
		redisFree(r->ctx);
	r->ctx = NULL;
	r->broken = false;
}

/* Aim at a node: r->node and r->where.  A host starting with '/' is a
 * unix socket (redis_host only). */
static int
set_node(struct redis_impl *r, const char *host, unsigned port, char *err,
    size_t errlen)
{
	int n;

	if (strlen(host) >= sizeof(r->node.host))
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "Redis host too long");
	(void)snprintf(r->node.host, sizeof(r->node.host), "%s", host);
	r->node.port = port;
	if (host[0] == '/')
		n = snprintf(r->where, sizeof(r->where), "%s", host);
	else
		n = snprintf(r->where, sizeof(r->where),
		    strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u", host,
		    port);
	if (n < 0 || (size_t)n >= sizeof(r->where))
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "Redis host too long");
	return FT_OK;
}

static int
connect_ctx(struct redis_impl *r, struct exchange *x, char *err, size_t errlen)
{
	struct timeval tv;
	int flags, rc;

	x->what = "connect";
	if ((rc = start_clock(r, x, err, errlen)) != FT_OK)
		return rc;
	tv = ms_to_tv(r->timeout_ms);
	if (r->node.host[0] == '/')
		r->ctx = redisConnectUnixWithTimeout(r->node.host, tv);
	else
		r->ctx = redisConnectWithTimeout(
		    r->node.host, (int)r->node.port, tv);
	if (r->ctx == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	if (r->ctx->err != 0)
		return io_error(r, "connect", err, errlen);
	/* hiredis does not set close-on-exec; the host may fork/exec. */
	flags = fcntl(r->ctx->fd, F_GETFD);
	if (flags < 0 || fcntl(r->ctx->fd, F_SETFD, flags | FD_CLOEXEC) < 0)
		return io_error(r, "connect", err, errlen);
	return FT_OK;
}

/* What a node is told, and asked, before anything else. */
struct hello {
	const char *passfile; /* AUTH from it ("": none) */
	unsigned db;	      /* SELECT it (0: no SELECT) */
	bool role;	      /* ROLE: it must be the primary */
};

static int
check_hello(const struct redis_impl *r, const char *what, const redisReply *rep,
    char *err, size_t errlen)
{
	bool master = false;

	if (strcmp(what, "ROLE") != 0)
		return rep->type == REDIS_REPLY_STATUS
		    ? FT_OK
		    : reply_error(r, what, rep, err, errlen);
	if (ft_redis_role_is_master(rep, &master) != FT_OK)
		return reply_error(r, what, rep, err, errlen);
	if (!master)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: ROLE: not the primary (a replica, or an old "
		    "primary a failover demoted): not used",
		    r->where);
	return FT_OK;
}

/* AUTH, SELECT and ROLE in one round trip, within what is left of the
 * connect budget. */
static int
handshake(struct redis_impl *r, const struct hello *h, const struct exchange *x,
    char *err, size_t errlen)
{
	static const char *role_argv[] = {"ROLE"};
	const char *auth_argv[2] = {"AUTH", NULL},
		   *sel_argv[2] = {"SELECT", NULL};
	struct cmd cmds[HANDSHAKE_MAX];
	const char *what[HANDSHAKE_MAX];
	redisReply *reps[HANDSHAKE_MAX];
	struct batch b = {.cmds = cmds, .reps = reps};
	struct exchange hx = *x;
	char db[NUM_BUFSZ];
	char *pw = NULL;
	size_t pwlen = 0, n = 0, i;
	int rc = FT_OK;

	if (h->passfile[0] != '\0') {
		rc = read_password(h->passfile, &pw, &pwlen, err, errlen);
		if (rc != FT_OK)
			return rc;
		auth_argv[1] = pw;
		what[n] = "AUTH";
		cmds[n++] = (struct cmd){.argc = 2, .argv = auth_argv};
	}
	if (h->db != 0) {
		(void)snprintf(db, sizeof(db), "%u", h->db);
		sel_argv[1] = db;
		what[n] = "SELECT";
		cmds[n++] = (struct cmd){.argc = 2, .argv = sel_argv};
	}
	if (h->role) {
		what[n] = "ROLE";
		cmds[n++] = (struct cmd){.argc = 1, .argv = role_argv};
	}
	if (n == 0)
		return FT_OK; /* the first operation finds any problem */
	hx.what = what[0];
	b.n = n;
	rc = pipeline(r, &hx, &b, err, errlen);
	if (pw != NULL)
		ft_wipe_free(pw, pwlen + 1);
	for (i = 0; rc == FT_OK && i < n; i++)
		rc = check_hello(r, what[i], reps[i], err, errlen);
	for (i = 0; i < n; i++)
		freeReplyObject(reps[i]);
	return rc;
}

/* Reach a data node (redis_host, a Sentinel's primary, a Cluster node):
 * redis_password_file and redis_db; role: ROLE must say primary. */
static int
node_connect(struct redis_impl *r, const char *host, unsigned port, bool role,
    char *err, size_t errlen)
{
	const struct hello h = {.passfile = r->conf.redis_password_file,
	    .db = r->conf.redis_db,
	    .role = role};
	struct exchange x;
	int rc;

	drop_ctx(r);
	if ((rc = set_node(r, host, port, err, errlen)) != FT_OK ||
	    (rc = connect_ctx(r, &x, err, errlen)) != FT_OK)
		return rc;
	return handshake(r, &h, &x, err, errlen);
}

static int
follow_redirect(struct redis_impl *r, const struct ft_redis_redirect *rd,
    char *err, size_t errlen)
{
	char host[FT_REDIS_HOST_MAX];

	/* ":port": the node did not know its own endpoint; it is where we
	 * already are. */
	(void)snprintf(host, sizeof(host), "%s",
	    rd->to.host[0] != '\0' ? rd->to.host : r->node.host);
	return node_connect(r, host, rd->to.port, false, err, errlen);
}

/* Ask one Sentinel where redis_master_name's primary is. */
static int
ask_sentinel(struct redis_impl *r, const struct ft_redis_addr *s,
    struct ft_redis_addr *primary, char *err, size_t errlen)
{
	const struct hello h = {
	    .passfile = r->conf.redis_sentinel_password_file};
	const char *argv[] = {
	    "SENTINEL", "get-master-addr-by-name", r->conf.redis_master_name};
	const struct cmd c = {.argc = (int)NELEM(argv), .argv = argv};
	redisReply *rep = NULL;
	struct exchange x;
	int rc;

	drop_ctx(r);
	if ((rc = set_node(r, s->host, s->port, err, errlen)) != FT_OK)
		return rc;
	/* Messages say which of the two kinds of server failed. */
	(void)snprintf(
	    r->where, sizeof(r->where), "Sentinel %s:%u", s->host, s->port);
	if ((rc = connect_ctx(r, &x, err, errlen)) != FT_OK ||
	    (rc = handshake(r, &h, &x, err, errlen)) != FT_OK)
		return rc;
	x.what = "SENTINEL get-master-addr-by-name";
	if ((rc = command(r, &x, &c, &rep, err, errlen)) != FT_OK)
		return rc;
	rc = ft_redis_sentinel_addr(rep, primary);
	if (rc == FT_ERR_NOENT)
		rc = ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: does not know redis_master_name %s", r->where,
		    r->conf.redis_master_name);
	else if (rc != FT_OK)
		rc = reply_error(r, x.what, rep, err, errlen);
	freeReplyObject(rep);
	return rc;
}

/* redis_sentinels, in order: the first that names a primary which ROLE
 * confirms is the one.  Each Sentinel and each primary has its own
 * redis_timeout_ms. */
static int
sentinel_connect(struct redis_impl *r, char *err, size_t errlen)
{
	struct ft_redis_addr s[FT_REDIS_ADDRS_MAX], primary;
	size_t n = 0, i;
	int rc;

	rc = ft_redis_addr_list(
	    r->conf.redis_sentinels, s, FT_REDIS_ADDRS_MAX, &n, err, errlen);
	if (rc != FT_OK)
		return rc;
	for (i = 0; i < n; i++) {
		rc = ask_sentinel(r, &s[i], &primary, err, errlen);
		if (rc == FT_OK)
			rc = node_connect(
			    r, primary.host, primary.port, true, err, errlen);
		if (rc == FT_OK || rc == FT_ERR_NOMEM)
			return rc;
	}
	return rc; /* err: why the last one failed */
}

int
ft_state_redis_open(const struct ft_config *c,
    const struct ft_state_backend_ops **ops, void **implp, char *err,
    size_t errlen)
{
	struct redis_impl *r;
	int rc;

	if (c->redis_host[0] == '\0' || c->redis_prefix[0] == '\0')
		return ft_seterr(err, errlen, FT_ERR_ARG,
		    "redis_host and redis_prefix must not be empty");
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	r->conf = *c;
	r->timeout_ms = (long)c->redis_timeout_ms;
	(void)snprintf(r->prefix, sizeof(r->prefix), "%s", c->redis_prefix);
	if ((rc = script_shas(r, err, errlen)) != FT_OK)
		goto out;
	if (c->redis_sentinels[0] != '\0')
		rc = sentinel_connect(r, err, errlen);
	else
		rc = node_connect(
		    r, c->redis_host, c->redis_port, false, err, errlen);
	if (rc != FT_OK)
		goto out;
	*ops = &redis_ops;
	*implp = r;
out:
	if (rc != FT_OK)
		r_close(r);
	return rc;
}

/* ---- totp-enroll doctor: one server setting (state_redis.h) ---- */

/* The answer of CONFIG GET: RESP2 [name, value]. */
static int
config_value(const struct redis_impl *r, const redisReply *rep, char *out,
    size_t outlen, char *err, size_t errlen)
{
	static const char noauth[] = "NOAUTH";
	const redisReply *v;

	if (rep->type == REDIS_REPLY_ERROR) {
		(void)reply_error(r, "CONFIG GET", rep, err, errlen);
		if (rep->str != NULL &&
		    strncmp(rep->str, noauth, sizeof(noauth) - 1) == 0)
			return FT_ERR_PERM;
		/* Any other refusal (unknown or renamed command, NOPERM)
		 * means the setting cannot be known, not that the server is
		 * down. */
		return FT_ERR_UNSUPPORTED;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements == 0)
		return ft_seterr(err, errlen, FT_ERR_UNSUPPORTED,
		    "Redis %s: CONFIG GET: no such setting", r->where);
	v = rep->element[rep->elements - 1];
	if (rep->elements != 2 || v->type != REDIS_REPLY_STRING)
		return reply_error(r, "CONFIG GET", v, err, errlen);
	if (v->len >= outlen)
		return ft_seterr(err, errlen, FT_ERR_TOOBIG,
		    "Redis %s: CONFIG GET: value too long", r->where);
	memcpy(out, v->str, v->len);
	out[v->len] = '\0';
	return FT_OK;
}

int
ft_state_redis_config_get(const struct ft_config *c, const char *param,
    char *out, size_t outlen, char *err, size_t errlen)
{
	const struct ft_state_backend_ops *ops = NULL;
	const char *argv[] = {"CONFIG", "GET", param};
	struct exchange x = {.what = "CONFIG GET"};
	struct cmd cmd = {.argc = (int)NELEM(argv), .argv = argv};
	redisReply *rep = NULL;
	void *impl = NULL;
	int rc;

	if (outlen == 0)
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "no room for a value");
	out[0] = '\0';
	rc = ft_state_redis_open(c, &ops, &impl, err, errlen);
	if (rc != FT_OK)
		return rc;
	rc = start_clock(impl, &x, err, errlen);
	if (rc == FT_OK)
		rc = command(impl, &x, &cmd, &rep, err, errlen);
	if (rc == FT_OK)
		rc = config_value(impl, rep, out, outlen, err, errlen);
	freeReplyObject(rep);
	ops->close(impl);
	return rc;
}
