/* libFuzzer target: the code that reads the Redis state backend's replies
 * (common/state_redis_reply.c, and the Sentinel/Cluster readers of
 * common/redis_topology*.c), fed arbitrary bytes as a server would send
 * them, through hiredis's own reply parser (redisReader).
 *
 * Every reply the reader produces goes through each decoder.  A decoder
 * either refuses it (FT_ERR_BACKEND) or answers something in range: a known
 * verdict, a state with no negative time.  An error line never holds a
 * line break. */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "rc.h"
#include "redis_topology.h"
#include "redis_topology_reply.h"
#include "state.h"
#include "state_redis_reply.h"

#define ERRLEN 256U
#define REPLIES_MAX 64	   /* replies taken from one input */
#define COUNT_DIGITS_MAX 6 /* an array header of up to 999999 elements */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_verdict(const redisReply *rep, enum ft_redis_answer which)
{
	enum ft_state_verdict v = (enum ft_state_verdict) - 1;
	struct ft_user_state rec;
	int rc = ft_redis_verdict(rep, which, &v, &rec);
	bool rewound = false;

	if (rc == FT_OK && (rec.first_failure < 0 || rec.locked_until < 0))
		abort();
	if (ft_redis_unlock_reply(rep, &rewound) != FT_OK && rewound)
		abort();

	if (rc == FT_OK && v != FT_STATE_PROCEED && v != FT_STATE_LOCKED &&
	    v != FT_STATE_ACCEPTED && v != FT_STATE_REPLAY)
		abort();
	if (rc != FT_OK && rc != FT_ERR_BACKEND)
		abort();
}

static void
check_get(const redisReply *rep)
{
	struct ft_user_state s;
	int rc = ft_redis_decode_get(rep, &s);

	if (rc != FT_OK && rc != FT_ERR_BACKEND)
		abort();
	if (rc == FT_OK &&
	    (s.first_failure < 0 || s.locked_until < 0 || s.last_success < 0))
		abort();
	if (rc != FT_OK && (s.last_step != 0 || s.failures != 0))
		abort();
}

static void
check_addr(const struct ft_redis_addr *a)
{
	if (a->port < 1 || a->port > 65535 || a->host[0] == '\0' ||
	    memchr(a->host, '\0', sizeof(a->host)) == NULL)
		abort();
}

/* A string's text as a host:port list and as a redirect. */
static void
check_text(const redisReply *rep)
{
	struct ft_redis_addr addrs[FT_REDIS_ADDRS_MAX];
	struct ft_redis_redirect rd;
	char buf[ERRLEN];
	size_t n = 0, i;

	if (rep->str == NULL || rep->len >= sizeof(buf))
		return;
	memcpy(buf, rep->str, rep->len);
	buf[rep->len] = '\0';
	if (ft_redis_addr_list(buf, addrs, FT_REDIS_ADDRS_MAX, &n, NULL, 0) ==
	    FT_OK) {
		if (n < 1 || n > FT_REDIS_ADDRS_MAX)
			abort();
		for (i = 0; i < n; i++)
			check_addr(&addrs[i]);
	}
	if (ft_redis_redirect_parse(rep->str, rep->len, &rd, NULL, 0) ==
		FT_OK &&
	    rd.kind != FT_REDIS_NO_REDIRECT &&
	    (rd.slot >= FT_REDIS_SLOTS || rd.to.port == 0))
		abort();
}

static void
check_topology(const redisReply *rep)
{
	struct ft_redis_addr a;
	struct ft_redis_redirect rd;
	bool master = false;
	unsigned acked = 0;
	char err[ERRLEN];

	if (ft_redis_sentinel_addr(rep, &a) == FT_OK)
		check_addr(&a);
	if (ft_redis_role_is_master(rep, &master) != FT_OK && master)
		abort();
	if (ft_redis_wait_acked(rep, &acked) != FT_OK && acked != 0)
		abort();
	err[0] = '\0';
	if (ft_redis_reply_redirect(rep, &rd, err, sizeof(err)) == FT_OK) {
		if (rd.kind != FT_REDIS_NO_REDIRECT &&
		    (rep->type != REDIS_REPLY_ERROR ||
			rd.slot >= FT_REDIS_SLOTS || rd.to.port == 0))
			abort();
	} else if (rd.kind != FT_REDIS_NO_REDIRECT ||
	    strpbrk(err, "\r\n") != NULL)
		abort();
	if (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_ERROR ||
	    rep->type == REDIS_REPLY_STATUS)
		check_text(rep);
}

static void
check_one(const redisReply *rep)
{
	char err[ERRLEN];

	check_verdict(rep, FT_REDIS_BEGIN);
	check_verdict(rep, FT_REDIS_SUCCESS);
	check_verdict(rep, FT_REDIS_ATTEMPT);
	check_get(rep);
	check_topology(rep);
	(void)ft_redis_is_noscript(rep);
	err[0] = '\0';
	if (ft_redis_reply_error("host:1", "fuzz", rep, err, sizeof(err)) !=
		FT_ERR_BACKEND ||
	    strpbrk(err, "\r\n") != NULL)
		abort();
}

/* hiredis 0.14 allocates an array's declared element count before any
 * element arrives, so "*7000000000" asks for 56 GB at once.  In the module
 * that allocation fails and hiredis reports out of memory (the call fails,
 * FT_ERR_BACKEND); under libFuzzer's malloc limit it is reported as a
 * crash.  Inputs with such a header are skipped: they test calloc. */
static bool
huge_array(const uint8_t *data, size_t size)
{
	size_t i, n;

	for (i = 0; i < size; i++) {
		if (data[i] != '*')
			continue;
		for (n = 0; i + 1 + n < size && data[i + 1 + n] >= '0' &&
		     data[i + 1 + n] <= '9';
		     n++)
			;
		if (n > COUNT_DIGITS_MAX)
			return true;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *rd;
	void *rep = NULL;
	int i;

	if (huge_array(data, size))
		return 0;
	rd = redisReaderCreate();
	if (rd == NULL)
		return 0;
	if (redisReaderFeed(rd, (const char *)data, size) == REDIS_OK) {
		for (i = 0; i < REPLIES_MAX; i++) {
			rep = NULL;
			if (redisReaderGetReply(rd, &rep) != REDIS_OK ||
			    rep == NULL)
				break;
			check_one(rep);
			freeReplyObject(rep);
		}
	}
	redisReaderFree(rd);
	return 0;
}
