/* The pure logic of Redis Sentinel and Cluster (redis_topology.[ch],
 * redis_topology_reply.[ch]): host:port lists, the per-user key names and
 * their one hash slot, -MOVED/-ASK, the SENTINEL/ROLE/WAIT replies (fed as
 * raw RESP through hiredis' reader), and the configuration checks between
 * the topology options. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "rc.h"
#include "redis_topology.h"
#include "tap.h"
#ifdef HAVE_REDIS
#include <hiredis/hiredis.h>

#include "redis_topology_reply.h"
#endif

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define ERRLEN 256U
#define KEYLEN 512U

static void
test_addrs(void)
{
	static const char *const bad[] = {"", "host", "host:", ":6379",
	    "host:0", "host:65536", "host:123456", "ho st:1", "h,x:1",
	    "::1:6379", "[::1:6379", "[]:1", "host:6379x", "host:-1"};
	struct ft_redis_addr a[FT_REDIS_ADDRS_MAX];
	char err[ERRLEN], many[FT_REDIS_ADDRS_MAX * 16U + 16U] = "";
	size_t n = 0, i;

	ok(ft_redis_addr_parse("10.0.0.1:26379", 14, a, err, ERRLEN) == FT_OK &&
		strcmp(a[0].host, "10.0.0.1") == 0 && a[0].port == 26379,
	    "host:port");
	ok(ft_redis_addr_parse("[::1]:7000", 10, a, err, ERRLEN) == FT_OK &&
		strcmp(a[0].host, "::1") == 0 && a[0].port == 7000,
	    "[IPv6]:port");
	for (i = 0; i < NELEM(bad); i++)
		ok(ft_redis_addr_parse(bad[i], strlen(bad[i]), a, err,
		       ERRLEN) == FT_ERR_PARSE &&
			a[0].port == 0 && a[0].host[0] == '\0',
		    "refused: \"%s\" (%s)", bad[i], err);
	ok(ft_redis_addr_list(" s1:26379 ,s2:26380,\t[::1]:26381 ", a,
	       FT_REDIS_ADDRS_MAX, &n, err, ERRLEN) == FT_OK &&
		n == 3 && strcmp(a[0].host, "s1") == 0 && a[1].port == 26380 &&
		strcmp(a[2].host, "::1") == 0,
	    "a list of three, blanks around entries ignored");
	ok(ft_redis_addr_list("s1:1,,s2:2", a, FT_REDIS_ADDRS_MAX, &n, err,
	       ERRLEN) == FT_ERR_PARSE,
	    "an empty entry is refused");
	for (i = 0; i <= FT_REDIS_ADDRS_MAX; i++)
		(void)strcat(many, i == 0 ? "h:1" : ",h:1");
	ok(ft_redis_addr_list(many, a, FT_REDIS_ADDRS_MAX, &n, err, ERRLEN) ==
		FT_ERR_PARSE,
	    "more than %u entries are refused", FT_REDIS_ADDRS_MAX);
}

static void
test_keys(void)
{
	static const char *const suffix[] = {"step", "fail", "ok", "future"};
	char k[KEYLEN], err[ERRLEN];
	unsigned slot = 0;
	size_t i;
	bool same = true;

	ok(ft_redis_user_key("flowtotp", "alice", "step", k, sizeof(k)) ==
		    FT_OK &&
		strcmp(k, "flowtotp:{alice}:step") == 0,
	    "key PREFIX:{USER}:SUFFIX");
	for (i = 0; i < NELEM(suffix); i++) {
		(void)ft_redis_user_key(
		    "p", "o'brien {x", suffix[i], k, sizeof(k));
		if (i == 0)
			slot = ft_redis_key_slot(k, strlen(k));
		same = same && ft_redis_key_slot(k, strlen(k)) == slot;
	}
	ok(same && slot == ft_redis_key_slot("{o'brien {x}", 12),
	    "all of a user's keys hash by the user name alone");
	ok(ft_redis_user_key("p", "a}b", "step", k, sizeof(k)) == FT_ERR_ARG &&
		k[0] == '\0',
	    "a user name with } is refused (it would end the tag)");
	ok(ft_redis_user_key("p{", "a", "step", k, sizeof(k)) == FT_ERR_PARSE &&
		ft_redis_prefix_check("a}", err, ERRLEN) == FT_ERR_PARSE &&
		ft_redis_prefix_check("", err, ERRLEN) == FT_ERR_PARSE,
	    "a prefix with a brace, or empty, is refused");
	ok(ft_redis_user_key("p", "alice", "step", k, 10) == FT_ERR_TOOBIG &&
		k[0] == '\0',
	    "a key that does not fit is refused");
	/* Values CLUSTER KEYSLOT answers (Redis 7.0). */
	is_int(ft_redis_key_slot("123456789", 9), 12739, "slot of 123456789");
	is_int(ft_redis_key_slot("foo", 3), 12182, "slot of foo");
	is_int(ft_redis_key_slot("{}foo", 5), ft_redis_key_slot("{}foo", 5),
	    "(stable)");
	ok(ft_redis_key_slot("{}foo", 5) != ft_redis_key_slot("foo", 3) &&
		ft_redis_key_slot("x{foo}y", 7) == 12182,
	    "an empty tag hashes the whole key; a tag hashes alone");
}

static void
test_redirects(void)
{
	static const char *const bad[] = {"MOVED", "MOVED 1", "MOVED x h:1",
	    "MOVED 16384 h:1", "MOVED 1 h", "ASK 1 h:0",
	    "MOVED 1 :", "ASK -1 h:1", "MOVED 1  h:1"};
	struct ft_redis_redirect rd;
	char err[ERRLEN];
	size_t i;

	ok(ft_redis_redirect_parse(
	       "MOVED 3999 127.0.0.1:6381", 25, &rd, err, ERRLEN) == FT_OK &&
		rd.kind == FT_REDIS_MOVED && rd.slot == 3999 &&
		strcmp(rd.to.host, "127.0.0.1") == 0 && rd.to.port == 6381,
	    "MOVED slot host:port");
	ok(ft_redis_redirect_parse(
	       "ASK 16383 [::1]:7002", 20, &rd, err, ERRLEN) == FT_OK &&
		rd.kind == FT_REDIS_ASK && rd.slot == 16383 &&
		strcmp(rd.to.host, "::1") == 0,
	    "ASK slot [IPv6]:port");
	ok(ft_redis_redirect_parse("MOVED 0 :7000", 13, &rd, err, ERRLEN) ==
		    FT_OK &&
		rd.kind == FT_REDIS_MOVED && rd.to.host[0] == '\0' &&
		rd.to.port == 7000,
	    "MOVED slot :port (endpoint unknown: the same host)");
	ok(ft_redis_redirect_parse("ERR wrong", 9, &rd, err, ERRLEN) == FT_OK &&
		rd.kind == FT_REDIS_NO_REDIRECT,
	    "another error is no redirect");
	for (i = 0; i < NELEM(bad); i++)
		ok(ft_redis_redirect_parse(bad[i], strlen(bad[i]), &rd, err,
		       ERRLEN) == FT_ERR_PARSE &&
			rd.kind == FT_REDIS_NO_REDIRECT,
		    "malformed: \"%s\"", bad[i]);
}

/* Apply options (NULL-terminated key, value pairs) over the defaults and
 * run the cross-option check. */
static int
check(const char *const *kv, char *err)
{
	struct ft_config c;
	int rc = FT_OK;

	ft_config_defaults(&c);
	for (; rc == FT_OK && kv[0] != NULL; kv += 2)
		rc = ft_config_set(&c, kv[0], kv[1], err, ERRLEN);
	return rc != FT_OK ? rc : ft_config_check(&c, err, ERRLEN);
}

static void
test_config(void)
{
	static const char *const good_s[] = {"redis_sentinels", "s1:1,s2:2",
	    "redis_master_name", "m", "redis_wait_replicas", "1", NULL};
	static const char *const s_host[] = {"redis_sentinels", "s1:1",
	    "redis_master_name", "m", "redis_host", "127.0.0.1", NULL};
	static const char *const s_noname[] = {"redis_sentinels", "s1:1", NULL};
	static const char *const name_only[] = {"redis_master_name", "m", NULL};
	static const char *const s_bad[] = {
	    "redis_sentinels", "s1", "redis_master_name", "m", NULL};
	static const char *const s_cl[] = {"redis_sentinels", "s1:1",
	    "redis_master_name", "m", "redis_cluster", "yes", NULL};
	static const char *const cl_db[] = {
	    "redis_cluster", "yes", "redis_db", "1", NULL};
	static const char *const good_cl[] = {
	    "redis_cluster", "yes", "redis_host", "10.0.0.1", NULL};
	static const char *const brace[] = {"redis_prefix", "a{b", NULL};
	static const char *const slow_wait[] = {"redis_wait_replicas", "1",
	    "redis_wait_timeout_ms", "500", "redis_timeout_ms", "500", NULL};
	char err[ERRLEN];

	ok(check(good_s, err) == FT_OK, "Sentinel options accepted");
	ok(check(good_cl, err) == FT_OK, "Cluster options accepted");
	ok(check(s_host, err) == FT_ERR_PARSE && strstr(err, "redis_host"),
	    "redis_sentinels with redis_host: %s", err);
	ok(check(s_noname, err) == FT_ERR_PARSE &&
		check(name_only, err) == FT_ERR_PARSE,
	    "redis_sentinels and redis_master_name go together");
	ok(check(s_bad, err) == FT_ERR_PARSE, "a bad Sentinel list: %s", err);
	ok(check(s_cl, err) == FT_ERR_PARSE, "Sentinel with Cluster: %s", err);
	ok(check(cl_db, err) == FT_ERR_PARSE, "Cluster with redis_db: %s", err);
	ok(check(brace, err) == FT_ERR_PARSE, "a brace in redis_prefix: %s",
	    err);
	ok(check(slow_wait, err) == FT_ERR_PARSE,
	    "WAIT as long as the exchange: %s", err);
}

#ifdef HAVE_REDIS
/* The first reply of a RESP text (caller frees), or NULL. */
static redisReply *
resp(const char *s)
{
	redisReader *rd = redisReaderCreate();
	void *rep = NULL;

	if (rd == NULL)
		bail_out("out of memory");
	if (redisReaderFeed(rd, s, strlen(s)) != REDIS_OK ||
	    redisReaderGetReply(rd, &rep) != REDIS_OK)
		rep = NULL;
	redisReaderFree(rd);
	if (rep == NULL)
		bail_out("bad RESP in the test: %s", s);
	return rep;
}

static void
test_replies(void)
{
	static const char *const bad_addr[] = {"*1\r\n$1\r\nh\r\n",
	    "*2\r\n$0\r\n\r\n$1\r\n1\r\n", "*2\r\n$1\r\nh\r\n$1\r\n0\r\n",
	    "*2\r\n$1\r\nh\r\n:6379\r\n", "-ERR no\r\n", ":1\r\n",
	    "*2\r\n$3\r\na b\r\n$2\r\n10\r\n"};
	struct ft_redis_addr a;
	struct ft_redis_redirect rdr;
	redisReply *r;
	unsigned acked = 9;
	bool master = true;
	size_t i;
	char err[ERRLEN];

	r = resp("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n");
	ok(ft_redis_sentinel_addr(r, &a) == FT_OK &&
		strcmp(a.host, "127.0.0.1") == 0 && a.port == 6380,
	    "SENTINEL answer [ip, port]");
	freeReplyObject(r);
	r = resp("*2\r\n$3\r\n::1\r\n$4\r\n6380\r\n");
	ok(ft_redis_sentinel_addr(r, &a) == FT_OK && strcmp(a.host, "::1") == 0,
	    "SENTINEL answer with an IPv6 address");
	freeReplyObject(r);
	r = resp("*-1\r\n");
	ok(ft_redis_sentinel_addr(r, &a) == FT_ERR_NOENT,
	    "SENTINEL nil: the name is unknown");
	freeReplyObject(r);
	for (i = 0; i < NELEM(bad_addr); i++) {
		r = resp(bad_addr[i]);
		ok(ft_redis_sentinel_addr(r, &a) == FT_ERR_PARSE && a.port == 0,
		    "SENTINEL answer %zu refused", i);
		freeReplyObject(r);
	}
	r = resp("*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
	ok(ft_redis_role_is_master(r, &master) == FT_OK && master,
	    "ROLE master");
	freeReplyObject(r);
	r = resp("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:1\r\n$9\r\n"
		 "connected\r\n:0\r\n");
	ok(ft_redis_role_is_master(r, &master) == FT_OK && !master,
	    "ROLE slave: not the primary");
	freeReplyObject(r);
	r = resp("-NOPERM\r\n");
	ok(ft_redis_role_is_master(r, &master) == FT_ERR_PARSE && !master,
	    "ROLE refused: no answer");
	freeReplyObject(r);
	r = resp(":2\r\n");
	ok(ft_redis_wait_acked(r, &acked) == FT_OK && acked == 2, "WAIT 2");
	freeReplyObject(r);
	r = resp("-ERR WAIT cannot be used with replica instances\r\n");
	ok(ft_redis_wait_acked(r, &acked) == FT_ERR_PARSE && acked == 0,
	    "WAIT error: no count");
	ok(ft_redis_reply_redirect(r, &rdr, err, ERRLEN) == FT_OK &&
		rdr.kind == FT_REDIS_NO_REDIRECT,
	    "an error that is no redirect");
	freeReplyObject(r);
	r = resp("-ASK 12 10.1.2.3:7001\r\n");
	ok(ft_redis_reply_redirect(r, &rdr, err, ERRLEN) == FT_OK &&
		rdr.kind == FT_REDIS_ASK && rdr.to.port == 7001,
	    "an -ASK reply");
	freeReplyObject(r);
}
#endif

int
main(void)
{
	test_addrs();
	test_keys();
	test_redirects();
	test_config();
#ifdef HAVE_REDIS
	test_replies();
#endif
	return done_testing();
}
