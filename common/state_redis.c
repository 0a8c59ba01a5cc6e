/* The fleet state backend: Redis, over the transport of redis_conn.c.
 *
 * Keys per user (documented in pam_flowtotp(8), REDIS KEYS), named by
 * ft_redis_user_key: the hash tag {USER} keeps them in one Cluster slot:
 *   PREFIX:{USER}:step  string, the last accepted TOTP step.  Expires when no
 *                     host of the fleet can accept it or an earlier step
 *                     any more, whatever its window (up to FT_WINDOW_MAX)
 *                     and the code's period (up to FT_PERIOD_MAX): the
 *                     accepting host's window, the widest one and one step,
 *                     at the longest period, plus margin, after the time
 *                     the accepting host's clock gave, counted on the
 *                     server's clock if that one is behind (see LUA_LIB's
 *                     ttl()).
 *   PREFIX:{USER}:fail  hash {n, first, until}: failures counted, time of the
 *                     first one, lock end ("0" none, "forever" admin only).
 *                     Expires when it stops mattering: at the lock's end
 *                     when locked (never for "forever"), else fail_interval
 *                     after the first failure; plus margin.
 *   PREFIX:{USER}:ok    string, time of the last successful login (status
 *                     only; no TTL, one small key per user, removed by
 *                     totp-enroll reset).
 * All numbers are decimal strings.  Times come from the caller (ft_now()),
 * never from the server, so every host applies its own clock exactly like
 * the gdbm cache; the TTLs only bound memory and agree with the rules.
 *
 * Check-and-record is one Lua script per operation (EVALSHA with the SHA-1
 * computed here, EVAL when the server does not have it yet), so it is
 * atomic on the server: across hosts only one of K parallel logins with
 * one code records its step.  The scripts validate what they read;
 * anything malformed (wrong type, garbage, out of range) is an error
 * reply, which we report as FT_ERR_BACKEND: the login is denied (or, with
 * redis_fallback=local, decided by the local cache).  Bad data is never
 * read as "no record".
 *
 * Round trips: opening connects (and for TLS, handshakes) and sends
 * nothing.  The first operation sends AUTH, SELECT (unless database 0) and
 * its script in one write and reads the replies together.  A TOTP login
 * (FT_OP_ATTEMPT) checks the code locally first and then needs that one
 * exchange: the attempt script counts the attempt and, unless locked,
 * records the matched step, atomically.  A NOSCRIPT answer (first use on
 * a server, or after SCRIPT FLUSH) costs one more, with EVAL. *
 * High availability (pam_flowtotp(8)): with redis_sentinels the primary
 * comes from a Sentinel (redis_sentinel.c) and ROLE, in the first write
 * with the greeting, must call it master; with redis_wait_replicas, WAIT
 * goes right behind a script that may accept a step; with redis_cluster a
 * -MOVED or -ASK answer moves the connection to the node named. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "conf.h"
#include "hex.h"
#include "otp.h"
#include "rc.h"
#include "redis_conn.h"
#include "redis_sentinel.h"
#include "redis_topology.h"
#include "redis_topology_reply.h"
#include "remember.h"
#include "safefile.h"
#include "state.h"
#include "state_backend.h"
#include "state_redis.h"
#include "state_redis_reply.h"
#include "wipe.h"

#define KEY_MAX 1024U /* prefix + user + suffix, bounded */
#define NUM_BUFSZ 24U /* a decimal int64 and NUL */
#define NUM_VALUE_MAX 999999999999999ULL
#define TTL_MARGIN_S 60U /* clock skew between hosts */
#define PASSWORD_MAX_SIZE 1024U
#define SHA1_HEX_LEN 40U
#define ARGV_MAX 16	 /* EVALSHA sha nkeys, 4 keys, up to 9 args */
#define ARGS_MAX 9	 /* a script's ARGV, the database included */
#define HANDSHAKE_MAX 3U /* AUTH, SELECT, ROLE */
#define CALL_MAX (HANDSHAKE_MAX + 3U) /* ASKING, the command, WAIT */
#define REDIRECTS_MAX 5 /* Cluster MOVED/ASK hops of one command */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the scripts (KEYS and ARGV only: nothing is quoted into them) ---- */

/* Shared prologue of every script.  The last ARGV is the database: a
 * script selects it itself, so that a SELECT refused in the pipeline
 * ahead of it (no such database) makes the script fail before it writes,
 * instead of running in database 0.  num(v, max) is the number in the
 * decimal string v, or nil if v is not 1..15 digits or exceeds max.
 * ttl(now, base): a step key lives base seconds after the caller's clock
 * said now, counted on the server's clock when the caller's runs ahead of
 * it: a host whose clock ran ahead accepts steps of the future, and their
 * key must live until real time is past them. */
#define LUA_LIB                                                                \
	"if ARGV[#ARGV] ~= '0' then\n"                                         \
	"  redis.call('SELECT', tonumber(ARGV[#ARGV]))\n"                      \
	"end\n"                                                                \
	"local function num(v, max)\n"                                         \
	"  if type(v) ~= 'string' or #v < 1 or #v > 15 or\n"                   \
	"      not string.match(v, '^%d+$') then return nil end\n"             \
	"  local n = tonumber(v)\n"                                            \
	"  if n > max then return nil end\n"                                   \
	"  return n\n"                                                         \
	"end\n"                                                                \
	"local function fmt(n) return string.format('%d', n) end\n"            \
	"local MAXN = 999999999999999\n"                                       \
	"local function bad(k, what)\n"                                        \
	"  return redis.error_reply('WRONGDATA ' .. k ..\n"                    \
	"      ' is not a flowtotp ' .. what)\n"                               \
	"end\n"                                                                \
	"local function ttl(now, base)\n"                                      \
	"  local ahead = now - tonumber(redis.call('TIME')[1])\n"              \
	"  if ahead < 0 then ahead = 0 end\n"                                  \
	"  return base + ahead\n"                                              \
	"end\n"

/* begin(k, now, deny, unlock, interval, margin): the rules of
 * ft_state_apply_begin() on the fail hash k. */
#define LUA_BEGIN_FN                                                           \
	"local function failrec(k, now)\n"                                     \
	"  local h = redis.call('HMGET', k, 'n', 'first', 'until')\n"          \
	"  local n, first, lock, forever = 0, 0, 0, false\n"                   \
	"  if h[1] or h[2] or h[3] then\n"                                     \
	"    n, first = num(h[1], 4294967295), num(h[2], MAXN)\n"              \
	"    if h[3] == 'forever' then forever = true\n"                       \
	"    else lock = num(h[3], MAXN) end\n"                                \
	"    if n == nil or first == nil or lock == nil then\n"                \
	"      return bad(k, 'failure record')\n"                              \
	"    end\n"                                                            \
	"  end\n"                                                              \
	"  if forever or (lock ~= 0 and now < lock) then\n"                    \
	"    return {'locked', h[1], h[2], h[3]}\n"                            \
	"  end\n"                                                              \
	"  return nil, n, first, lock, h[1] or h[2] or h[3]\n"                 \
	"end\n"                                                                \
	"local function begin(k, now, deny, unlock, interval, margin)\n"       \
	"  local stop, n, first, lock = failrec(k, now)\n"                     \
	"  if stop then return stop end\n"                                     \
	"  local forever = false\n"                                            \
	"  if lock ~= 0 then n, first, lock = 0, 0, 0 end\n"                   \
	"  if n > 0 and now - first > interval then n, first = 0, 0 end\n"     \
	"  if n == 0 then first = now end\n"                                   \
	"  if n < 4294967295 then n = n + 1 end\n"                             \
	"  if deny > 0 and n >= deny then\n"                                   \
	"    if unlock == 0 then forever = true else lock = now + unlock "     \
	"end\n"                                                                \
	"  end\n"                                                              \
	"  redis.call('HSET', k, 'n', fmt(n), 'first', fmt(first),\n"          \
	"      'until', forever and 'forever' or fmt(lock))\n"                 \
	"  if forever then\n"                                                  \
	"    redis.call('PERSIST', k)\n"                                       \
	"  else\n"                                                             \
	"    local t = first + interval - now\n"                               \
	"    if lock ~= 0 then t = lock - now end\n"                           \
	"    if t < 0 then t = 0 end\n"                                        \
	"    redis.call('EXPIRE', k, fmt(t + margin))\n"                       \
	"  end\n"                                                              \
	"  return {'proceed', fmt(n), fmt(first),\n"                           \
	"      forever and 'forever' or fmt(lock)}\n"                          \
	"end\n"

/* success(K, step, now, base, deny, interval, margin) on K = {step, fail,
 * ok, future}: the rules of ft_state_apply_success(); step 0 is a backup
 * code.  A replay takes back the failure its attempt counted (and the lock
 * that count set), keeping the hash's TTL; with no failure left the hash
 * goes.  The step kept from a clock that ran ahead (future) is a replay
 * too, until a later step is accepted.  Answers {verdict, n, first, until,
 * last step} ("" = absent). */
#define LUA_SUCCESS_FN                                                         \
	"local function undo(k, now, deny, interval, margin)\n"                \
	"  local h = redis.call('HMGET', k, 'n', 'first', 'until')\n"          \
	"  if not (h[1] or h[2] or h[3]) then return nil end\n"                \
	"  local n, first = num(h[1], 4294967295), num(h[2], MAXN)\n"          \
	"  local forever, lock = h[3] == 'forever', 0\n"                       \
	"  if not forever then lock = num(h[3], MAXN) end\n"                   \
	"  if n == nil or first == nil or lock == nil then\n"                  \
	"    return bad(k, 'failure record')\n"                                \
	"  end\n"                                                              \
	"  if n == 0 then return nil end\n"                                    \
	"  n = n - 1\n"                                                        \
	"  if n == 0 then redis.call('DEL', k) return nil end\n"               \
	"  local active = forever or (lock ~= 0 and now < lock)\n"             \
	"  if active and (deny == 0 or n < deny) then\n"                       \
	"    redis.call('HSET', k, 'until', '0')\n"                            \
	"    local t = first + interval - now\n"                               \
	"    if t < 0 then t = 0 end\n"                                        \
	"    redis.call('EXPIRE', k, fmt(t + margin))\n"                       \
	"  end\n"                                                              \
	"  redis.call('HSET', k, 'n', fmt(n))\n"                               \
	"  return nil\n"                                                       \
	"end\n"                                                                \
	"local function steps(K)\n"                                            \
	"  local last, fut = redis.call('GET', K[1]), redis.call('GET', "      \
	"K[4])\n"                                                              \
	"  local l, f = 0, 0\n"                                                \
	"  if last then l = num(last, MAXN) end\n"                             \
	"  if l == nil then return bad(K[1], 'step') end\n"                    \
	"  if fut then f = num(fut, MAXN) end\n"                               \
	"  if f == nil then return bad(K[4], 'step') end\n"                    \
	"  return nil, last, l, f\n"                                           \
	"end\n"                                                                \
	"local function accept(K, step, last, f, now, base, nofail)\n"         \
	"  if step ~= 0 then\n"                                                \
	"    last = fmt(step)\n"                                               \
	"    redis.call('SET', K[1], last, 'EX', fmt(ttl(now, base)))\n"       \
	"    if f ~= 0 and step >= f then redis.call('DEL', K[4]) end\n"       \
	"  end\n"                                                              \
	"  if not nofail then redis.call('DEL', K[2]) end\n"                   \
	"  redis.call('SET', K[3], fmt(now))\n"                                \
	"  return {'accepted', '', '', '', last or ''}\n"                      \
	"end\n"                                                                \
	"local function success(K, step, now, base, deny, interval, margin)\n" \
	"  local e, last, l, f = steps(K)\n"                                   \
	"  if e then return e end\n"                                           \
	"  if step ~= 0 and (step <= l or step == f) then\n"                   \
	"    e = undo(K[2], now, deny, interval, margin)\n"                    \
	"    if e then return e end\n"                                         \
	"    local h = redis.call('HMGET', K[2], 'n', 'first', 'until')\n"     \
	"    return {'replay', h[1] or '', h[2] or '', h[3] or '', last or "   \
	"''}\n"                                                                \
	"  end\n"                                                              \
	"  return accept(K, step, last, f, now, base, false)\n"                \
	"end\n"

/* begin: KEYS[1] fail hash; ARGV now deny unlock_time fail_interval
 * margin db. */
static const char lua_begin[] = LUA_LIB LUA_BEGIN_FN
    "local a = {}\n"
    "for i = 1, 5 do a[i] = tonumber(ARGV[i]) end\n"
    "return begin(KEYS[1], a[1], a[2], a[3], a[4], a[5])\n";

/* success: KEYS step fail ok future; ARGV step now ttl_base deny
 * fail_interval margin db. */
static const char lua_success[] = LUA_LIB LUA_SUCCESS_FN
    "local a = {}\n"
    "for i = 1, 6 do a[i] = tonumber(ARGV[i]) end\n"
    "return success(KEYS, a[1], a[2], a[3], a[4], a[5], a[6])\n";

/* attempt: begin and, unless locked or no match (step "0"), success, in
 * one atomic call: KEYS step fail ok future; ARGV now deny unlock_time
 * fail_interval margin step ttl_base db.  The code was checked by the
 * caller before; its answer counts only if the attempt may proceed.
 * A matched step that is neither locked out nor a replay would have the
 * failure begin counts deleted again by success at once: that path (every
 * good login) only reads and writes the outcome, three Redis calls fewer;
 * a replay takes the long way, begin then success, to the same result. */
static const char lua_attempt[] = LUA_LIB LUA_BEGIN_FN LUA_SUCCESS_FN
    "local a = {}\n"
    "for i = 1, 7 do a[i] = tonumber(ARGV[i]) end\n"
    "local step = a[6]\n"
    "if step == 0 then return begin(KEYS[2], a[1], a[2], a[3], a[4], a[5]) "
    "end\n"
    "local stop, _, _, _, had = failrec(KEYS[2], a[1])\n"
    "if stop then return stop end\n"
    "local e, last, l, f = steps(KEYS)\n"
    "if e then return e end\n"
    "if step <= l or step == f then\n"
    "  local r = begin(KEYS[2], a[1], a[2], a[3], a[4], a[5])\n"
    "  if r.err or r[1] ~= 'proceed' then return r end\n"
    "  return success(KEYS, step, a[1], a[7], a[2], a[4], a[5])\n"
    "end\n"
    "return accept(KEYS, step, last, f, a[1], a[7], not had)\n";

/* get: KEYS step fail ok future; ARGV db.  One consistent snapshot, ""
 * for absent.  The C side validates. */
static const char lua_get[] =
    LUA_LIB "local s = redis.call('GET', KEYS[1])\n"
	    "local h = redis.call('HMGET', KEYS[2], 'n', 'first', 'until')\n"
	    "local o = redis.call('GET', KEYS[3])\n"
	    "local f = redis.call('GET', KEYS[4])\n"
	    "return { s or '', h[1] or '', h[2] or '', h[3] or '', o or '',\n"
	    "    f or '' }\n";

/* unlock: KEYS step fail future; ARGV now_step window ttl_base period
 * margin now window_max db.  The rules of ft_state_apply_unlock(): the
 * fail hash goes; a last step more than window steps ahead of now_step
 * ("0": leave the steps alone) is kept refused in the future key, until
 * real time is past it by the widest window of the fleet (its TTL, at the
 * longest period), and the step key moves back to now_step - 1.  Answers
 * "rewound" or "unlocked". */
static const char lua_unlock[] = LUA_LIB
    "local ns, w = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "redis.call('DEL', KEYS[2])\n"
    "local last = redis.call('GET', KEYS[1])\n"
    "if ns == 0 or not last then return 'unlocked' end\n"
    "local l = num(last, MAXN)\n"
    "local fut = redis.call('GET', KEYS[3])\n"
    "local f = 0\n"
    "if fut then f = num(fut, MAXN) end\n"
    "if l == nil or f == nil then return bad(KEYS[1], 'step') end\n"
    "if l <= ns + w then return 'unlocked' end\n"
    "if l > f then f = l end\n"
    "local wmax = tonumber(ARGV[7])\n"
    "local t = (f + wmax + 1 - ns) * tonumber(ARGV[4]) + tonumber(ARGV[5])\n"
    "redis.call('SET', KEYS[3], fmt(f), 'EX', fmt(t))\n"
    "redis.call('SET', KEYS[1], fmt(ns - 1), 'EX',\n"
    "    fmt(ttl(tonumber(ARGV[6]), tonumber(ARGV[3]))))\n"
    "return 'rewound'\n";

/* deliver: KEYS[1] the delivery hash; ARGV action (issue|redeem) now mac
 * ttl per_minute per_hour key_ttl.  The rules of ft_deliver_apply()
 * (state_deliver.c): fixed minute and hour windows, one code at a time,
 * a match (compared in constant time) uses the code up.  Answers issued,
 * limited, redeemed or nomatch. */
static const char lua_deliver[] = LUA_LIB
    "local k, now, mac = KEYS[1], tonumber(ARGV[2]), ARGV[3]\n"
    "local h = redis.call('HMGET', k, 'nm', 'sm', 'nh', 'sh', 'exp', 'mac')\n"
    "local nm, sm, nh, sh, exp, old = 0, 0, 0, 0, 0, h[6] or ''\n"
    "if h[1] or h[2] or h[3] or h[4] or h[5] then\n"
    "  nm, sm = num(h[1], 4294967295), num(h[2], MAXN)\n"
    "  nh, sh, exp = num(h[3], 4294967295), num(h[4], MAXN), num(h[5], MAXN)\n"
    "  if not (nm and sm and nh and sh and exp) then\n"
    "    return redis.error_reply('WRONGDATA ' .. k ..\n"
    "        ' is not a flowtotp delivery record')\n"
    "  end\n"
    "end\n"
    "if ARGV[1] == 'redeem' then\n"
    "  local live, diff = exp ~= 0 and now < exp, 0\n"
    "  if #old ~= #mac then diff = 1 end\n"
    "  for i = 1, math.min(#old, #mac) do\n"
    "    diff = bit.bor(diff, bit.bxor(old:byte(i), mac:byte(i)))\n"
    "  end\n"
    "  if diff == 0 and live then\n"
    "    redis.call('HSET', k, 'exp', '0', 'mac', '')\n"
    "    return 'redeemed'\n"
    "  end\n"
    "  if exp ~= 0 and not live then\n"
    "    redis.call('HSET', k, 'exp', '0', 'mac', '')\n"
    "  end\n"
    "  return 'nomatch'\n"
    "end\n"
    "if sm == 0 or now < sm or now - sm >= 60 then sm, nm = now, 0 end\n"
    "if sh == 0 or now < sh or now - sh >= 3600 then sh, nh = now, 0 end\n"
    "local v = 'limited'\n"
    "if nm < tonumber(ARGV[5]) and nh < tonumber(ARGV[6]) then\n"
    "  nm, nh, exp, old, v = nm + 1, nh + 1, now + tonumber(ARGV[4]), mac,\n"
    "      'issued'\n"
    "end\n"
    "redis.call('HSET', k, 'nm', fmt(nm), 'sm', fmt(sm), 'nh', fmt(nh),\n"
    "    'sh', fmt(sh), 'exp', fmt(exp), 'mac', old)\n"
    "redis.call('EXPIRE', k, ARGV[7])\n"
    "return v\n";

enum script_id {
	SCRIPT_BEGIN,
	SCRIPT_SUCCESS,
	SCRIPT_ATTEMPT,
	SCRIPT_GET,
	SCRIPT_UNLOCK,
	SCRIPT_DELIVER,
	SCRIPT_COUNT
};

static const char *const scripts[SCRIPT_COUNT] = {
    lua_begin,
    lua_success,
    lua_attempt,
    lua_get,
    lua_unlock,
    lua_deliver,
};

enum key_id { KEY_STEP, KEY_FAIL, KEY_OK, KEY_FUTURE, KEY_COUNT };

static const char *const key_suffix[KEY_COUNT] = {
    "step", "fail", "ok", "future"};

struct redis_impl {
	struct ft_config cfg;	    /* what the connection is made from */
	struct ft_redis_conn *conn; /* NULL until the first call */
	bool connect_failed;	    /* once: no second attempt */
	bool greeted;	 /* AUTH and SELECT went out with an exchange */
	bool check_role; /* a Sentinel named it: ROLE must say master */
	/* The node we talk to: redis_host, a Sentinel's primary, or where a
	 * Cluster redirect sent us. */
	char node[FT_REDIS_HOST_MAX];
	unsigned db;
	char db_arg[NUM_BUFSZ];
	char password_file[PATH_MAX];
	char prefix[FT_CONF_STR_MAX];
	char sha[SCRIPT_COUNT][SHA1_HEX_LEN + 1];
};

static int
reply_error(const struct redis_impl *r, const char *what, const redisReply *rep,
    char *err, size_t errlen)
{
	return ft_redis_reply_error(
	    ft_redis_conn_where(r->conn), what, rep, err, errlen);
}

static int open_primary(struct redis_impl *r, char *err, size_t errlen);

/* Connect on first need, once: a login whose first call found the server
 * unreachable (or an impostor) does not try again, and costs one timeout. */
static int
ensure_conn(struct redis_impl *r, char *err, size_t errlen)
{
	int rc;

	if (r->conn != NULL)
		return FT_OK;
	if (r->connect_failed)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis: the connection failed earlier");
	rc = r->cfg.redis_sentinels[0] != '\0'
	    ? open_primary(r, err, errlen)
	    : ft_redis_conn_open(&r->cfg, NULL, &r->conn, err, errlen);
	if (rc != FT_OK)
		r->connect_failed = true;
	return rc;
}

/* ---- the handshake, sent ahead of the first command ---- */

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

/* redis_sentinels: connect to the primary a Sentinel names; the first
 * operation's write carries ROLE to confirm it. */
static int
open_primary(struct redis_impl *r, char *err, size_t errlen)
{
	struct ft_redis_secret pw = {NULL, 0};
	struct ft_redis_addr primary;
	struct ft_redis_target t;
	char *buf = NULL;
	int rc;

	if (r->cfg.redis_sentinel_password_file[0] != '\0') {
		rc = read_password(r->cfg.redis_sentinel_password_file, &buf,
		    &pw.len, err, errlen);
		if (rc != FT_OK)
			return rc;
		pw.pw = buf;
	}
	rc = ft_redis_sentinel_primary(&r->cfg, &pw, &primary, err, errlen);
	if (buf != NULL)
		ft_wipe_free(buf, pw.len + 1);
	if (rc != FT_OK)
		return rc;
	(void)snprintf(r->node, sizeof(r->node), "%s", primary.host);
	t = (struct ft_redis_target){.host = r->node, .port = primary.port};
	r->check_role = true;
	return ft_redis_conn_open(&r->cfg, &t, &r->conn, err, errlen);
}

/* Queue AUTH (if a password is set) and SELECT (unless database 0); the
 * transport authenticated the server before we could get here.  *n is
 * how many went in, what[] their names. */
static int
queue_greeting(struct redis_impl *r, const struct ft_redis_secret *pw,
    const char **what, size_t *n, char *err, size_t errlen)
{
	const char *argv[2];
	size_t lens[2];
	int rc;

	*n = 0;
	if (pw->pw != NULL) {
		argv[0] = "AUTH";
		lens[0] = strlen(argv[0]);
		argv[1] = pw->pw;
		lens[1] = pw->len;
		rc = ft_redis_conn_append(r->conn, 2, argv, lens, err, errlen);
		if (rc != FT_OK)
			return rc;
		what[(*n)++] = "AUTH";
	}
	if (r->db != 0) {
		argv[0] = "SELECT";
		argv[1] = r->db_arg;
		rc = ft_redis_conn_append(r->conn, 2, argv, NULL, err, errlen);
		if (rc != FT_OK)
			return rc;
		what[(*n)++] = "SELECT";
	}
	if (r->check_role) {
		argv[0] = "ROLE";
		rc = ft_redis_conn_append(r->conn, 1, argv, NULL, err, errlen);
		if (rc != FT_OK)
			return rc;
		what[(*n)++] = "ROLE";
	}
	return FT_OK;
}

/* ROLE must say master: a Sentinel's answer may be stale, and a demoted
 * old primary must never decide a login. */
static int
check_role(
    const struct redis_impl *r, const redisReply *rep, char *err, size_t errlen)
{
	bool master = false;

	if (ft_redis_role_is_master(rep, &master) != FT_OK)
		return reply_error(r, "ROLE", rep, err, errlen);
	if (!master)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: ROLE: not the primary (a replica, or an old "
		    "primary a failover demoted): not used",
		    ft_redis_conn_where(r->conn));
	return FT_OK;
}

/* The greeting's replies: each must be +OK. */
static int
check_greeting(const struct redis_impl *r, redisReply *const *reps,
    const char *const *what, size_t n, char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (strcmp(what[i], "ROLE") == 0)
			rc = check_role(r, reps[i], err, errlen);
		else if (reps[i]->type != REDIS_REPLY_STATUS)
			rc = reply_error(r, what[i], reps[i], err, errlen);
		else
			rc = FT_OK;
		if (rc != FT_OK)
			return rc;
	}
	return FT_OK;
}

/* ---- one command, the greeting in front of it the first time ---- */

/* One command's arguments (NUL-terminated strings). */
struct cmd {
	int argc;
	const char **argv;
};

/* One command: what for (messages), its arguments, and whether WAIT goes
 * right behind it. */
struct call_in {
	const char *what;
	int argc;
	const char **argv;
	bool wait;
};

/* One try of it: ask (in), and the replies or the redirect (out). */
struct call_try {
	bool ask; /* ASKING first: the last node answered -ASK */
	struct ft_redis_redirect rd;
	redisReply *rep;
	redisReply *wait;
};

/* Queue ASKING (if), the command and WAIT (if); *n counts them. */
static int
queue_call(struct redis_impl *r, const struct call_in *in,
    const struct call_try *t, size_t *n, char *err, size_t errlen)
{
	char nrep[NUM_BUFSZ], wms[NUM_BUFSZ];
	const char *asking[1] = {"ASKING"};
	const char *wait[3] = {"WAIT", nrep, wms};
	int rc = FT_OK;

	if (t->ask &&
	    (rc = ft_redis_conn_append(
		 r->conn, 1, asking, NULL, err, errlen)) == FT_OK)
		(*n)++;
	if (rc == FT_OK &&
	    (rc = ft_redis_conn_append(
		 r->conn, in->argc, in->argv, NULL, err, errlen)) == FT_OK)
		(*n)++;
	if (rc != FT_OK || !in->wait)
		return rc;
	(void)snprintf(nrep, sizeof(nrep), "%u", r->cfg.redis_wait_replicas);
	(void)snprintf(wms, sizeof(wms), "%u", r->cfg.redis_wait_timeout_ms);
	if ((rc = ft_redis_conn_append(r->conn, 3, wait, NULL, err, errlen)) ==
	    FT_OK)
		(*n)++;
	return rc;
}

/* With redis_cluster, is rep a -MOVED or -ASK?  A malformed one is an
 * error: we cannot tell where the user's keys are. */
static int
redirect_of(const struct redis_impl *r, const char *what, const redisReply *rep,
    struct ft_redis_redirect *rd, char *err, size_t errlen)
{
	char why[FT_CONF_STR_MAX];

	memset(rd, 0, sizeof(*rd));
	if (!r->cfg.redis_cluster ||
	    ft_redis_reply_redirect(rep, rd, why, sizeof(why)) == FT_OK)
		return FT_OK;
	return ft_seterr(err, errlen, FT_ERR_BACKEND, "Redis %s: %s: %s",
	    ft_redis_conn_where(r->conn), what, why);
}

/* Connect if need be and queue the greeting if still owed.  The password
 * is read before connecting, so that the greeting goes out the moment the
 * connection stands: the server then finds it already there when it
 * accepts, and handles both in one wake-up instead of two. */
static int
connect_and_greet(struct redis_impl *r, const char **names, size_t *n,
    char *err, size_t errlen)
{
	struct ft_redis_secret pw = {NULL, 0};
	char *buf = NULL;
	int rc;

	*n = 0;
	if (!r->greeted && r->password_file[0] != '\0') {
		rc =
		    read_password(r->password_file, &buf, &pw.len, err, errlen);
		if (rc != FT_OK)
			return rc;
		pw.pw = buf;
	}
	rc = ensure_conn(r, err, errlen);
	if (rc == FT_OK && !r->greeted)
		rc = queue_greeting(r, &pw, names, n, err, errlen);
	if (buf != NULL)
		ft_wipe_free(buf, pw.len + 1);
	return rc;
}

/* One try on the current node, the greeting in front if still owed. */
static int
call_once(struct redis_impl *r, const struct call_in *in, struct call_try *t,
    char *err, size_t errlen)
{
	redisReply *reps[CALL_MAX] = {NULL};
	const char *names[HANDSHAKE_MAX];
	size_t n = 0, m = 0, cmd, i;
	int rc;

	rc = connect_and_greet(r, names, &n, err, errlen);
	if (rc == FT_OK)
		rc = queue_call(r, in, t, &m, err, errlen);
	if (rc == FT_OK)
		rc = ft_redis_conn_exchange(
		    r->conn, in->what, reps, n + m, err, errlen);
	if (rc != FT_OK)
		return rc;
	r->greeted = true;
	cmd = n + (t->ask ? 1U : 0U);
	rc = check_greeting(r, reps, names, n, err, errlen);
	if (rc == FT_OK && t->ask && reps[n]->type == REDIS_REPLY_ERROR)
		rc = reply_error(r, "ASKING", reps[n], err, errlen);
	if (rc == FT_OK)
		rc = redirect_of(r, in->what, reps[cmd], &t->rd, err, errlen);
	if (rc == FT_OK && t->rd.kind == FT_REDIS_NO_REDIRECT) {
		t->rep = reps[cmd];
		reps[cmd] = NULL;
		if (in->wait) {
			t->wait = reps[cmd + 1U];
			reps[cmd + 1U] = NULL;
		}
	}
	for (i = 0; i < n + m; i++)
		freeReplyObject(reps[i]);
	return rc;
}

/* Where a redirect sends us: a new connection, reached and authenticated
 * like the first (the greeting goes out again). */
static int
follow(struct redis_impl *r, const struct ft_redis_redirect *rd, char *err,
    size_t errlen)
{
	struct ft_redis_target t = {.port = rd->to.port};
	int rc;

	/* ":port": the node did not know its own endpoint; it is the host
	 * we asked. */
	if (rd->to.host[0] != '\0')
		(void)snprintf(r->node, sizeof(r->node), "%s", rd->to.host);
	t.host = r->node;
	ft_redis_conn_close(r->conn);
	r->conn = NULL;
	r->greeted = false;
	rc = ft_redis_conn_open(&r->cfg, &t, &r->conn, err, errlen);
	if (rc != FT_OK)
		r->connect_failed = true; /* no second try at the seed */
	return rc;
}

/* The command path every operation takes (and any new one should): the
 * greeting goes out in the same write if still owed; with redis_cluster a
 * -MOVED or -ASK answer sends the command on (ASKING first for -ASK), at
 * most REDIRECTS_MAX times.  On FT_OK *rep is the command's reply
 * (possibly an error reply) and, with in->wait, *wrep WAIT's; the caller
 * frees. */
static int
call_full(struct redis_impl *r, const struct call_in *in, redisReply **rep,
    redisReply **wrep, char *err, size_t errlen)
{
	struct call_try t;
	int hop, rc;

	memset(&t, 0, sizeof(t));
	*rep = NULL;
	if (wrep != NULL)
		*wrep = NULL;
	for (hop = 0;; hop++) {
		rc = call_once(r, in, &t, err, errlen);
		if (rc != FT_OK)
			return rc;
		if (t.rd.kind == FT_REDIS_NO_REDIRECT)
			break;
		if (hop >= REDIRECTS_MAX)
			return ft_seterr(err, errlen, FT_ERR_BACKEND,
			    "Redis %s: %s: more than %d cluster redirects",
			    ft_redis_conn_where(r->conn), in->what,
			    REDIRECTS_MAX);
		t.ask = t.rd.kind == FT_REDIS_ASK;
		if ((rc = follow(r, &t.rd, err, errlen)) != FT_OK)
			return rc;
	}
	*rep = t.rep;
	if (wrep != NULL)
		*wrep = t.wait;
	else
		freeReplyObject(t.wait);
	return FT_OK;
}

/* call_full for one command without WAIT. */
static int
call(struct redis_impl *r, const char *what, const struct cmd *c,
    redisReply **rep, char *err, size_t errlen)
{
	const struct call_in in = {
	    .what = what, .argc = c->argc, .argv = c->argv};

	return call_full(r, &in, rep, NULL, err, errlen);
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
		    ft_redis_conn_where(r->conn));
	if (acked < r->cfg.redis_wait_replicas)
		return ft_seterr(err, errlen, FT_ERR_IO,
		    "Redis %s: WAIT: %u of %u replicas acknowledged within %u "
		    "ms (redis_wait_replicas): denied, so that a failover "
		    "cannot accept this code again",
		    ft_redis_conn_where(r->conn), acked,
		    r->cfg.redis_wait_replicas, r->cfg.redis_wait_timeout_ms);
	return FT_OK;
}

/* The arguments of one script call (the database is added here). */
struct script_call {
	enum script_id id;
	const char *what;
	const char *const *keys;
	int nkeys;
	const char *const *args;
	int nargs;
	bool wait; /* it may accept a step: WAIT behind it */
};

/* The SHA-1 EVALSHA names script id by, computed here on first use (a
 * login runs one or two of the scripts). */
static int
script_sha(struct redis_impl *r, enum script_id id, char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (r->sha[id][0] != '\0')
		return FT_OK;
	if (EVP_Digest(scripts[id], strlen(scripts[id]), md, &mdlen, EVP_sha1(),
		NULL) != 1 ||
	    mdlen * 2U != SHA1_HEX_LEN ||
	    ft_hex_encode(md, mdlen, r->sha[id], sizeof(r->sha[id])) != FT_OK)
		return ft_seterr(err, errlen, FT_ERR_CRYPTO,
		    "SHA-1 of the Redis scripts failed");
	return FT_OK;
}

/* Run a script.  *rep is the reply, never an error reply, on FT_OK; with
 * sc->wait (and redis_wait_replicas) *wrep is WAIT's (NULL otherwise). */
static int
run_script(struct redis_impl *r, const struct script_call *sc, redisReply **rep,
    redisReply **wrep, char *err, size_t errlen)
{
	const char *argv[ARGV_MAX];
	struct call_in in = {.what = sc->what,
	    .argv = argv,
	    .wait = sc->wait && r->cfg.redis_wait_replicas > 0};
	char nk[NUM_BUFSZ];
	int argc = 0, i, rc;

	*rep = NULL;
	*wrep = NULL;
	if (sc->nargs >= ARGS_MAX || 3 + sc->nkeys + sc->nargs + 1 > ARGV_MAX)
		return ft_seterr(err, errlen, FT_ERR_ARG, "too many arguments");
	if ((rc = script_sha(r, sc->id, err, errlen)) != FT_OK)
		return rc;
	(void)snprintf(nk, sizeof(nk), "%d", sc->nkeys);
	argv[argc++] = "EVALSHA";
	argv[argc++] = r->sha[sc->id];
	argv[argc++] = nk;
	for (i = 0; i < sc->nkeys; i++)
		argv[argc++] = sc->keys[i];
	for (i = 0; i < sc->nargs; i++)
		argv[argc++] = sc->args[i];
	argv[argc++] = r->db_arg;
	in.argc = argc;
	rc = call_full(r, &in, rep, wrep, err, errlen);
	if (rc == FT_OK && ft_redis_is_noscript(*rep)) {
		/* First use on this server (or after SCRIPT FLUSH). */
		freeReplyObject(*rep);
		freeReplyObject(*wrep);
		argv[0] = "EVAL";
		argv[1] = scripts[sc->id];
		rc = call_full(r, &in, rep, wrep, err, errlen);
	}
	if (rc == FT_OK && (*rep)->type == REDIS_REPLY_ERROR) {
		rc = reply_error(r, sc->what, *rep, err, errlen);
		freeReplyObject(*rep);
		freeReplyObject(*wrep);
		*rep = NULL;
		*wrep = NULL;
	}
	return rc;
}

/* ---- keys and numbers ---- */

/* One key of the user's: PREFIX:{USER}:SUFFIX (redis_topology.h): one
 * hash tag, so every key of a user lives in one Cluster slot. */
static int
make_key(const struct redis_impl *r, const char *user, const char *suffix,
    char key[KEY_MAX], char *err, size_t errlen)
{
	int rc = ft_redis_user_key(r->prefix, user, suffix, key, KEY_MAX);

	if (rc == FT_ERR_ARG)
		return ft_seterr(err, errlen, rc,
		    "user name cannot be a Redis hash tag (it holds })");
	if (rc != FT_OK)
		return ft_seterr(err, errlen, FT_ERR_ARG,
		    "Redis key for this user too long, or redis_prefix holds "
		    "a brace");
	return FT_OK;
}

static int
make_keys(const struct redis_impl *r, const char *user,
    char keys[KEY_COUNT][KEY_MAX], char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < KEY_COUNT; i++)
		if ((rc = make_key(r, user, key_suffix[i], keys[i], err,
			 errlen)) != FT_OK)
			return rc;
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

/* How long after the accepting host's now a step key must live (LUA_LIB's
 * ttl() adds how far that host's clock is ahead of the server's).  The
 * step it holds is at most pol->window steps from now, since this host
 * accepted it; any host may accept a step up to FT_WINDOW_MAX steps
 * behind its own now, and a step lasts at most FT_PERIOD_MAX seconds
 * (pol->period): after (window + FT_WINDOW_MAX + 1) of them no host can
 * accept that step or an earlier one. */
static uint64_t
step_ttl(const struct ft_state_policy *pol)
{
	return ((uint64_t)pol->window + FT_WINDOW_MAX + 1U) *
	    (uint64_t)pol->period +
	    TTL_MARGIN_S;
}

/* The numbers every script call about one user carries. */
struct op_args {
	char keys[KEY_COUNT][KEY_MAX];
	const char *k[KEY_COUNT]; /* step fail ok future */
	char now[NUM_BUFSZ], deny[NUM_BUFSZ], unlock[NUM_BUFSZ];
	char interval[NUM_BUFSZ], margin[NUM_BUFSZ], step[NUM_BUFSZ];
	char ttl[NUM_BUFSZ];
};

static int
op_args(const struct redis_impl *r, const struct ft_state_op *op,
    struct op_args *a, char *err, size_t errlen)
{
	static const struct ft_state_policy none; /* get, forget: unused */
	const struct ft_state_policy *pol = op->pol != NULL ? op->pol : &none;
	size_t i;
	int rc;

	if ((rc = make_keys(r, op->user, a->keys, err, errlen)) != FT_OK ||
	    (rc = fmt_time(a->now, op->now, err, errlen)) != FT_OK ||
	    (rc = fmt_num(a->step, op->step, err, errlen)) != FT_OK ||
	    (rc = fmt_num(a->ttl, step_ttl(pol), err, errlen)) != FT_OK)
		return rc;
	for (i = 0; i < KEY_COUNT; i++)
		a->k[i] = a->keys[i];
	(void)snprintf(a->deny, sizeof(a->deny), "%u", pol->deny);
	(void)snprintf(a->unlock, sizeof(a->unlock), "%u", pol->unlock_time);
	(void)snprintf(
	    a->interval, sizeof(a->interval), "%u", pol->fail_interval);
	(void)snprintf(a->margin, sizeof(a->margin), "%u", TTL_MARGIN_S);
	return FT_OK;
}

/* A begin, success or attempt script's verdict into op. */
static int
take_verdict(struct redis_impl *r, const struct script_call *sc,
    enum ft_redis_answer which, struct ft_state_op *op, char *err,
    size_t errlen)
{
	redisReply *rep = NULL, *wrep = NULL;
	int rc;

	rc = run_script(r, sc, &rep, &wrep, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (ft_redis_verdict(rep, which, &op->verdict, &op->state) != FT_OK)
		rc = reply_error(r, sc->what, rep, err, errlen);
	/* Only an accepted step must survive a failover. */
	if (rc == FT_OK && sc->wait && r->cfg.redis_wait_replicas > 0 &&
	    op->verdict == FT_STATE_ACCEPTED)
		rc = check_wait(r, wrep, err, errlen);
	op->known = rc == FT_OK;
	freeReplyObject(rep);
	freeReplyObject(wrep);
	return rc;
}

/* ---- the operations ---- */

static int
r_begin(struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	struct op_args a;
	const char *args[5];
	struct script_call sc = {.id = SCRIPT_BEGIN,
	    .what = "begin attempt",
	    .keys = &a.k[KEY_FAIL],
	    .nkeys = 1,
	    .args = args,
	    .nargs = (int)NELEM(args)};
	int rc;

	op->verdict = FT_STATE_LOCKED;
	if ((rc = op_args(r, op, &a, err, errlen)) != FT_OK)
		return rc;
	args[0] = a.now;
	args[1] = a.deny;
	args[2] = a.unlock;
	args[3] = a.interval;
	args[4] = a.margin;
	return take_verdict(r, &sc, FT_REDIS_BEGIN, op, err, errlen);
}

static int
r_success(
    struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	struct op_args a;
	const char *args[6];
	struct script_call sc = {.id = SCRIPT_SUCCESS,
	    .what = "record success",
	    .keys = a.k,
	    .nkeys = KEY_COUNT,
	    .args = args,
	    .nargs = (int)NELEM(args),
	    .wait = true};
	int rc;

	op->verdict = FT_STATE_REPLAY;
	if ((rc = op_args(r, op, &a, err, errlen)) != FT_OK)
		return rc;
	args[0] = a.step;
	args[1] = a.now;
	args[2] = a.ttl;
	args[3] = a.deny;
	args[4] = a.interval;
	args[5] = a.margin;
	return take_verdict(r, &sc, FT_REDIS_SUCCESS, op, err, errlen);
}

/* FT_OP_ATTEMPT in one exchange: the code is checked here first (the
 * check is local and takes microseconds; its answer is used only if the
 * server says the attempt may proceed), then the attempt script counts
 * the attempt and records the matched step atomically, as the gdbm cache
 * does in its one locked session. */
static int
r_attempt(
    struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	struct op_args a;
	const char *args[7];
	struct script_call sc = {.id = SCRIPT_ATTEMPT,
	    .what = "attempt",
	    .keys = a.k,
	    .nkeys = KEY_COUNT,
	    .args = args,
	    .nargs = (int)NELEM(args),
	    .wait = true};
	int m, rc;

	op->verdict = FT_STATE_LOCKED;
	op->step = 0;
	m = op->check(op->check_arg, &op->step);
	if (m < 0) {
		op->step = 0; /* fail closed; nothing sent */
		return ft_seterr(err, errlen, m, "checking the code failed");
	}
	if (m == 0)
		op->step = 0; /* no match: the script only counts it */
	else if (op->step == 0)
		return ft_seterr(err, errlen, FT_ERR_ARG, "matched step 0");
	if ((rc = op_args(r, op, &a, err, errlen)) != FT_OK)
		return rc;
	args[0] = a.now;
	args[1] = a.deny;
	args[2] = a.unlock;
	args[3] = a.interval;
	args[4] = a.margin;
	args[5] = a.step;
	args[6] = a.ttl;
	rc = take_verdict(r, &sc, FT_REDIS_ATTEMPT, op, err, errlen);
	if (rc != FT_OK || op->verdict == FT_STATE_LOCKED)
		op->step = 0; /* as if the check had not run */
	return rc;
}

static int
r_get(struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	struct op_args a;
	struct script_call sc = {.id = SCRIPT_GET,
	    .what = "read state",
	    .keys = a.k,
	    .nkeys = KEY_COUNT};
	redisReply *rep = NULL, *wrep = NULL;
	int rc;

	memset(&op->state, 0, sizeof(op->state));
	if ((rc = op_args(r, op, &a, err, errlen)) != FT_OK ||
	    (rc = run_script(r, &sc, &rep, &wrep, err, errlen)) != FT_OK)
		return rc;
	if (rep->type != REDIS_REPLY_ARRAY)
		rc = reply_error(r, sc.what, rep, err, errlen);
	else if (ft_redis_decode_get(rep, &op->state) != FT_OK)
		rc = ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: wrong data in %s:{%s}:*: not a flowtotp record",
		    ft_redis_conn_where(r->conn), r->prefix, op->user);
	freeReplyObject(rep);
	freeReplyObject(wrep);
	return rc;
}

#define DELIVER_SUFFIX "deliver"

/* FT_OP_FORGET: DEL all the user's login keys and the delivery key. */
static int
del_keys(struct redis_impl *r, const char *user, char *err, size_t errlen)
{
	char keys[KEY_COUNT][KEY_MAX], deliver[KEY_MAX];
	const char *argv[2 + KEY_COUNT];
	struct cmd c = {.argc = (int)NELEM(argv)};
	redisReply *rep = NULL;
	size_t i;
	int rc;

	/* The delivered code and its request counts go too (reset). */
	if ((rc = make_keys(r, user, keys, err, errlen)) != FT_OK ||
	    (rc = make_key(r, user, DELIVER_SUFFIX, deliver, err, errlen)) !=
		FT_OK)
		return rc;
	argv[0] = "DEL";
	for (i = 0; i < KEY_COUNT; i++)
		argv[1 + i] = keys[i];
	argv[1 + KEY_COUNT] = deliver;
	c.argv = argv;
	rc = call(r, "forget", &c, &rep, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (rep->type != REDIS_REPLY_INTEGER)
		rc = reply_error(r, "forget", rep, err, errlen);
	freeReplyObject(rep);
	return rc;
}

/* FT_OP_UNLOCK: the fail hash goes; a step from a clock that ran ahead is
 * set aside (lua_unlock). */
static int
r_unlock(struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	struct op_args a;
	char a_ns[NUM_BUFSZ], a_w[NUM_BUFSZ], a_period[NUM_BUFSZ];
	char a_wmax[NUM_BUFSZ];
	const char *k[3];
	const char *args[7] = {a_ns, a_w, NULL, a_period, NULL, NULL, a_wmax};
	struct script_call sc = {.id = SCRIPT_UNLOCK,
	    .what = "unlock",
	    .keys = k,
	    .nkeys = (int)NELEM(k),
	    .args = args,
	    .nargs = (int)NELEM(args)};
	redisReply *rep = NULL, *wrep = NULL;
	int rc;

	if ((rc = op_args(r, op, &a, err, errlen)) != FT_OK ||
	    (rc = fmt_num(a_ns, op->now_step, err, errlen)) != FT_OK)
		return rc;
	k[0] = a.keys[KEY_STEP];
	k[1] = a.keys[KEY_FAIL];
	k[2] = a.keys[KEY_FUTURE];
	args[2] = a.ttl;
	args[4] = a.margin;
	args[5] = a.now;
	(void)snprintf(a_w, sizeof(a_w), "%u", op->pol->window);
	(void)snprintf(a_period, sizeof(a_period), "%u", op->pol->period);
	(void)snprintf(a_wmax, sizeof(a_wmax), "%u", FT_WINDOW_MAX);
	rc = run_script(r, &sc, &rep, &wrep, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (ft_redis_unlock_reply(rep, &op->rewound) != FT_OK)
		rc = reply_error(r, sc.what, rep, err, errlen);
	freeReplyObject(rep);
	freeReplyObject(wrep);
	return rc;
}

/* FT_OP_PROBE: the greeting with a PING, so that a wrong password or
 * database shows now. */
static int
r_probe(struct redis_impl *r, char *err, size_t errlen)
{
	const char *argv[1] = {"PING"};
	const struct cmd c = {.argc = 1, .argv = argv};
	redisReply *rep = NULL;
	int rc;

	rc = call(r, "PING", &c, &rep, err, errlen);
	if (rc == FT_OK && rep->type != REDIS_REPLY_STATUS)
		rc = reply_error(r, "PING", rep, err, errlen);
	freeReplyObject(rep);
	return rc;
}

/* ---- remember= (pam_flowtotp(8), REDIS KEYS) ----
 *   PREFIX:USER:remember  hash {hex digest of an origin: time it is
 *                         remembered until}.  Expires with the latest
 *                         of them (plus margin); an entry found ended is
 *                         removed.  DEL forgets every origin of the user
 *                         at once. */

#define REMEMBER_SUFFIX "remember"
#define HEX_DIGEST_LEN (2U * FT_REMEMBER_DIGEST_LEN)

static void
hex_digest(const uint8_t *d, char out[HEX_DIGEST_LEN + 1])
{
	/* Cannot fail: out has room for the whole digest. */
	(void)ft_hex_encode(d, FT_REMEMBER_DIGEST_LEN, out, HEX_DIGEST_LEN + 1);
}

/* One command on the user's remember key, and the reply type it must
 * answer with (or nil). */
struct remember_call {
	const char *what;
	const char **argv;
	int argc;
	int want;
};

static int
remember_cmd(struct redis_impl *r, const struct remember_call *k,
    redisReply **rep, char *err, size_t errlen)
{
	struct cmd c = {.argc = k->argc, .argv = k->argv};
	int rc;

	*rep = NULL;
	if ((rc = call(r, k->what, &c, rep, err, errlen)) != FT_OK)
		return rc;
	if ((*rep)->type != k->want && (*rep)->type != REDIS_REPLY_NIL) {
		rc = reply_error(r, k->what, *rep, err, errlen);
		freeReplyObject(*rep);
		*rep = NULL;
	}
	return rc;
}

static int
r_remember_check(
    struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	char key[KEY_MAX], field[HEX_DIGEST_LEN + 1];
	const char *argv[3] = {"HGET", key, field};
	redisReply *rep = NULL;
	char *end = NULL;
	long long until;
	int rc;

	op->remembered = false;
	if ((rc = make_key(r, op->user, REMEMBER_SUFFIX, key, err, errlen)) !=
	    FT_OK)
		return rc;
	hex_digest(op->digest, field);
	rc = remember_cmd(r,
	    &(struct remember_call){
		"remember check", argv, 3, REDIS_REPLY_STRING},
	    &rep, err, errlen);
	if (rc != FT_OK || rep->type == REDIS_REPLY_NIL) {
		freeReplyObject(rep);
		return rc;
	}
	errno = 0;
	until = strtoll(rep->str, &end, 10);
	if (errno != 0 || end == rep->str || *end != '\0' || until <= 0)
		rc = ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: wrong data in %s: not a flowtotp remember "
		    "record",
		    ft_redis_conn_where(r->conn), key);
	freeReplyObject(rep);
	if (rc == FT_OK && (int64_t)until > (int64_t)op->now) {
		op->remembered = true;
	} else if (rc == FT_OK) {
		argv[0] = "HDEL"; /* ended: it can never match again */
		rc = remember_cmd(r,
		    &(struct remember_call){
			"remember expire", argv, 3, REDIS_REPLY_INTEGER},
		    &rep, err, errlen);
		freeReplyObject(rep);
	}
	return rc;
}

/* HSET the origin, then EXPIRE the key when it ends: every entry is set
 * for the same remember= seconds, so the newest ends last.  Relative, like
 * every TTL here: the times are the host's (ft_now()), not the server's. */
static int
r_remember_set(
    struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	char key[KEY_MAX], field[HEX_DIGEST_LEN + 1], until[NUM_BUFSZ];
	char ttl[NUM_BUFSZ];
	const char *argv[4] = {"HSET", key, field, until};
	redisReply *rep = NULL;
	int rc;

	if ((rc = make_key(r, op->user, REMEMBER_SUFFIX, key, err, errlen)) !=
		FT_OK ||
	    (rc = fmt_time(until, (time_t)op->until, err, errlen)) != FT_OK ||
	    (rc = fmt_time(ttl, (time_t)(op->until - op->now) + TTL_MARGIN_S,
		 err, errlen)) != FT_OK)
		return rc;
	hex_digest(op->digest, field);
	rc = remember_cmd(r,
	    &(struct remember_call){"remember", argv, 4, REDIS_REPLY_INTEGER},
	    &rep, err, errlen);
	freeReplyObject(rep);
	if (rc != FT_OK)
		return rc;
	argv[0] = "EXPIRE";
	argv[2] = ttl;
	rc = remember_cmd(r,
	    &(struct remember_call){
		"remember expiry", argv, 3, REDIS_REPLY_INTEGER},
	    &rep, err, errlen);
	freeReplyObject(rep);
	return rc;
}

static int
r_remember_clear(
    struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	char key[KEY_MAX];
	const char *argv[2] = {"DEL", key};
	redisReply *rep = NULL;
	int rc;

	if ((rc = make_key(r, op->user, REMEMBER_SUFFIX, key, err, errlen)) !=
	    FT_OK)
		return rc;
	rc = remember_cmd(r,
	    &(struct remember_call){
		"remember clear", argv, 2, REDIS_REPLY_INTEGER},
	    &rep, err, errlen);
	freeReplyObject(rep);
	return rc;
}

/* The verdict lua_deliver answered. */
static enum ft_deliver_verdict
deliver_verdict(const redisReply *rep)
{
	static const char *const names[] = {
	    "", "issued", "limited", "redeemed", "nomatch"};
	size_t i;

	if (rep->type != REDIS_REPLY_STRING || rep->str == NULL)
		return FT_DELIVER_REFUSED;
	for (i = 1; i < NELEM(names); i++)
		if (strcmp(rep->str, names[i]) == 0)
			return (enum ft_deliver_verdict)i;
	return FT_DELIVER_REFUSED;
}

/* FT_OP_DELIVER: one script (lua_deliver); the hash lives for an hour
 * window and the code's life beyond it. */
static int
r_deliver(
    struct redis_impl *r, struct ft_state_op *op, char *err, size_t errlen)
{
	const struct ft_state_deliver *d = op->deliver;
	char key[KEY_MAX], mac[2U * FT_DELIVER_MAC_LEN + 1U];
	char a_now[NUM_BUFSZ], a_ttl[NUM_BUFSZ], a_pm[NUM_BUFSZ];
	char a_ph[NUM_BUFSZ], a_kttl[NUM_BUFSZ];
	const char *k[1], *a[7];
	struct script_call sc = {.id = SCRIPT_DELIVER,
	    .what = "delivered code",
	    .nkeys = (int)NELEM(k),
	    .nargs = (int)NELEM(a),
	    .keys = k,
	    .args = a};
	redisReply *rep = NULL, *wrep = NULL;
	int rc;

	/* A key of its own, beside the login keys; it expires by itself
	 * (after totp-enroll reset too). */
	if ((rc = make_key(r, op->user, DELIVER_SUFFIX, key, err, errlen)) !=
		FT_OK ||
	    (rc = fmt_time(a_now, op->now, err, errlen)) != FT_OK)
		return rc;
	if ((rc = ft_hex_encode(d->mac, sizeof(d->mac), mac, sizeof(mac))) !=
	    FT_OK)
		return rc;
	(void)snprintf(a_ttl, sizeof(a_ttl), "%u", d->ttl);
	(void)snprintf(a_pm, sizeof(a_pm), "%u", d->per_minute);
	(void)snprintf(a_ph, sizeof(a_ph), "%u", d->per_hour);
	(void)snprintf(a_kttl, sizeof(a_kttl), "%u",
	    (unsigned)FT_DELIVER_HOUR + d->ttl + TTL_MARGIN_S);
	k[0] = key;
	a[0] = d->action == FT_DELIVER_ISSUE ? "issue" : "redeem";
	a[1] = a_now;
	a[2] = mac;
	a[3] = a_ttl;
	a[4] = a_pm;
	a[5] = a_ph;
	a[6] = a_kttl;
	rc = run_script(r, &sc, &rep, &wrep, err, errlen);
	freeReplyObject(wrep); /* sc.wait is false: none */
	ft_wipe(mac, sizeof(mac));
	if (rc != FT_OK)
		return rc;
	op->deliver->verdict = deliver_verdict(rep);
	if (op->deliver->verdict == FT_DELIVER_REFUSED)
		rc = reply_error(r, sc.what, rep, err, errlen);
	freeReplyObject(rep);
	return rc;
}

static int
r_run(void *impl, struct ft_state_op *op, char *err, size_t errlen)
{
	struct redis_impl *r = impl;

	switch (op->kind) {
	case FT_OP_PROBE: return r_probe(r, err, errlen);
	case FT_OP_BEGIN: return r_begin(r, op, err, errlen);
	case FT_OP_ATTEMPT: return r_attempt(r, op, err, errlen);
	case FT_OP_SUCCESS: return r_success(r, op, err, errlen);
	case FT_OP_GET: return r_get(r, op, err, errlen);
	case FT_OP_UNLOCK: return r_unlock(r, op, err, errlen);
	case FT_OP_FORGET: return del_keys(r, op->user, err, errlen);
	case FT_OP_REMEMBER_CHECK: return r_remember_check(r, op, err, errlen);
	case FT_OP_REMEMBER_SET: return r_remember_set(r, op, err, errlen);
	case FT_OP_REMEMBER_CLEAR: return r_remember_clear(r, op, err, errlen);
	case FT_OP_DELIVER: return r_deliver(r, op, err, errlen);
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
	ft_redis_conn_close(r->conn);
	free(r);
}

static const struct ft_state_backend_ops redis_ops = {
    .name = "redis",
    .run = r_run,
    .close = r_close,
};

/* ---- opening ---- */

/* Check the settings; the connection (the transport checks who answers)
 * is made by the first operation, which carries AUTH and SELECT with it:
 * the first failure is that operation's, and the login's only one. */
int
ft_state_redis_open(const struct ft_config *c,
    const struct ft_state_backend_ops **ops, void **implp, char *err,
    size_t errlen)
{
	struct redis_impl *r;
	int rc;

	if (c->redis_prefix[0] == '\0')
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "redis_prefix must not be empty");
	if ((rc = ft_config_check(c, err, errlen)) != FT_OK)
		return rc;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	r->db = c->redis_db;
	(void)snprintf(r->db_arg, sizeof(r->db_arg), "%u", c->redis_db);
	(void)snprintf(r->prefix, sizeof(r->prefix), "%s", c->redis_prefix);
	(void)snprintf(r->password_file, sizeof(r->password_file), "%s",
	    c->redis_password_file);
	r->cfg = *c;
	(void)snprintf(r->node, sizeof(r->node), "%s", c->redis_host);
	*ops = &redis_ops;
	*implp = r;
	return FT_OK;
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
		    "Redis %s: CONFIG GET: no such setting",
		    ft_redis_conn_where(r->conn));
	v = rep->element[rep->elements - 1];
	if (rep->elements != 2 || v->type != REDIS_REPLY_STRING)
		return reply_error(r, "CONFIG GET", v, err, errlen);
	if (v->len >= outlen)
		return ft_seterr(err, errlen, FT_ERR_TOOBIG,
		    "Redis %s: CONFIG GET: value too long",
		    ft_redis_conn_where(r->conn));
	memcpy(out, v->str, v->len);
	out[v->len] = '\0';
	return FT_OK;
}

int
ft_state_redis_ping(const struct ft_config *c, char *err, size_t errlen)
{
	const struct ft_state_backend_ops *ops = NULL;
	void *impl = NULL;
	int rc;

	rc = ft_state_redis_open(c, &ops, &impl, err, errlen);
	if (rc != FT_OK)
		return rc;
	rc = r_probe(impl, err, errlen);
	ops->close(impl);
	return rc;
}

int
ft_state_redis_config_get(const struct ft_config *c, const char *param,
    char *out, size_t outlen, char *err, size_t errlen)
{
	const struct ft_state_backend_ops *ops = NULL;
	const char *argv[] = {"CONFIG", "GET", param};
	const struct cmd get = {.argc = (int)NELEM(argv), .argv = argv};
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
	rc = call(impl, "CONFIG GET", &get, &rep, err, errlen);
	if (rc == FT_OK)
		rc = config_value(impl, rep, out, outlen, err, errlen);
	freeReplyObject(rep);
	ops->close(impl);
	return rc;
}

/* ---- grace_days= records in Redis (state_redis.h) ---- */

#define GRACE_SUFFIX "grace"

/* Open a connection as the backend does, run one command on the user's
 * grace key (argv[1] is filled in here) and close. */
static int
grace_command(const struct ft_config *c, const char *user,
    const struct cmd *cmd, redisReply **rep, char *err, size_t errlen)
{
	const struct ft_state_backend_ops *ops = NULL;
	char key[KEY_MAX];
	static const char what[] = "grace record";
	void *impl = NULL;
	int rc;

	*rep = NULL;
	rc = ft_state_redis_open(c, &ops, &impl, err, errlen);
	if (rc != FT_OK)
		return rc;
	rc = make_key(impl, user, GRACE_SUFFIX, key, err, errlen);
	cmd->argv[1] = key;
	if (rc == FT_OK)
		rc = call(impl, what, cmd, rep, err, errlen);
	if (rc == FT_OK && (*rep)->type == REDIS_REPLY_ERROR) {
		rc = reply_error(impl, what, *rep, err, errlen);
		freeReplyObject(*rep);
		*rep = NULL;
	}
	ops->close(impl);
	return rc;
}

int
ft_state_redis_grace_get(const struct ft_config *c, const char *user, char *out,
    size_t outlen, char *err, size_t errlen)
{
	const char *argv[2] = {"GET", NULL};
	const struct cmd cmd = {.argc = 2, .argv = argv};
	redisReply *rep = NULL;
	int rc;

	if (outlen == 0)
		return ft_seterr(err, errlen, FT_ERR_ARG, "no room");
	out[0] = '\0';
	rc = grace_command(c, user, &cmd, &rep, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (rep->type == REDIS_REPLY_NIL)
		rc = FT_ERR_NOENT;
	else if (rep->type != REDIS_REPLY_STRING || rep->len >= outlen ||
	    memchr(rep->str, '\0', rep->len) != NULL)
		rc = ft_seterr(err, errlen, FT_ERR_CORRUPT,
		    "Redis grace record of %s is not a flowtotp record", user);
	else
		memcpy(out, rep->str, rep->len + 1U);
	freeReplyObject(rep);
	return rc;
}

/* SET (argc 3) or SET NX (argc 4); *stored: written. */
static int
grace_set(const struct ft_config *c, const char *user, const struct cmd *cmd,
    bool *stored, char *err, size_t errlen)
{
	redisReply *rep = NULL;
	int rc;

	*stored = false;
	rc = grace_command(c, user, cmd, &rep, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (rep->type == REDIS_REPLY_STATUS)
		*stored = true;
	else if (rep->type != REDIS_REPLY_NIL || cmd->argc != 4)
		rc = ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis: SET of the grace record: unexpected reply");
	freeReplyObject(rep);
	return rc;
}

int
ft_state_redis_grace_create(const struct ft_config *c, const char *user,
    const char *value, bool *stored, char *err, size_t errlen)
{
	const char *argv[4] = {"SET", NULL, value, "NX"};
	const struct cmd cmd = {.argc = 4, .argv = argv};

	return grace_set(c, user, &cmd, stored, err, errlen);
}

int
ft_state_redis_grace_put(const struct ft_config *c, const char *user,
    const char *value, char *err, size_t errlen)
{
	const char *argv[3] = {"SET", NULL, value};
	const struct cmd cmd = {.argc = 3, .argv = argv};
	bool stored = false;

	return grace_set(c, user, &cmd, &stored, err, errlen);
}

int
ft_state_redis_grace_del(
    const struct ft_config *c, const char *user, char *err, size_t errlen)
{
	const char *argv[2] = {"DEL", NULL};
	const struct cmd cmd = {.argc = 2, .argv = argv};
	redisReply *rep = NULL;
	int rc;

	rc = grace_command(c, user, &cmd, &rep, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (rep->type != REDIS_REPLY_INTEGER)
		rc = ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis: DEL of the grace record: unexpected reply");
	else if (rep->integer == 0)
		rc = FT_ERR_NOENT;
	freeReplyObject(rep);
	return rc;
}
