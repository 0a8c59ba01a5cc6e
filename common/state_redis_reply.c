/* Reading the Redis state backend's replies (see state_redis_reply.h). */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "rc.h"
#include "state_redis_reply.h"

#define NUM_DIGITS_MAX 15U /* < 2^53: exact in Lua's doubles */
#define NUM_VALUE_MAX 999999999999999ULL
#define FAILURES_MAX 4294967295ULL /* uint32_t, as in ft_user_state */
#define DECIMAL_BASE 10U
#define GET_FIELDS 5U
#define LOCK_FOREVER_WORD "forever"

enum get_field { GF_STEP, GF_FAILURES, GF_FIRST, GF_UNTIL, GF_OK };

int
ft_redis_reply_error(const char *where, const char *what, const redisReply *rep,
    char *err, size_t errlen)
{
	if (rep->type == REDIS_REPLY_ERROR && rep->str != NULL)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: %s: %.*s", where, what,
		    (int)strcspn(rep->str, "\r\n"), rep->str);
	return ft_seterr(err, errlen, FT_ERR_BACKEND,
	    "Redis %s: %s: unexpected reply type %d", where, what, rep->type);
}

bool
ft_redis_is_noscript(const redisReply *rep)
{
	static const char tag[] = "NOSCRIPT";

	return rep->type == REDIS_REPLY_ERROR && rep->str != NULL &&
	    rep->len >= sizeof(tag) - 1 &&
	    strncmp(rep->str, tag, sizeof(tag) - 1) == 0;
}

static bool
is_word(const redisReply *rep, const char *word)
{
	return rep->type == REDIS_REPLY_STRING && rep->str != NULL &&
	    rep->len == strlen(word) && memcmp(rep->str, word, rep->len) == 0;
}

int
ft_redis_verdict(
    const redisReply *rep, enum ft_redis_answer which, enum ft_state_verdict *v)
{
	const bool begin = which == FT_REDIS_BEGIN;

	if (is_word(rep, begin ? "proceed" : "accepted"))
		*v = begin ? FT_STATE_PROCEED : FT_STATE_ACCEPTED;
	else if (is_word(rep, begin ? "locked" : "replay"))
		*v = begin ? FT_STATE_LOCKED : FT_STATE_REPLAY;
	else
		return FT_ERR_BACKEND;
	return FT_OK;
}

/* A stored number: 1..15 decimal digits, at most max. */
static bool
parse_num(const redisReply *rep, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (rep->type != REDIS_REPLY_STRING || rep->str == NULL ||
	    rep->len < 1 || rep->len > NUM_DIGITS_MAX)
		return false;
	for (i = 0; i < rep->len; i++) {
		if (rep->str[i] < '0' || rep->str[i] > '9')
			return false;
		v = v * DECIMAL_BASE + (uint64_t)(rep->str[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static bool
is_absent(const redisReply *rep)
{
	return rep->type == REDIS_REPLY_STRING && rep->len == 0;
}

/* The fail hash: all three fields, or none. */
static bool
decode_fail(redisReply *const *f, struct ft_user_state *out)
{
	uint64_t v;

	if (is_absent(f[GF_FAILURES]) && is_absent(f[GF_FIRST]) &&
	    is_absent(f[GF_UNTIL]))
		return true; /* no failure record */
	if (!parse_num(f[GF_FAILURES], FAILURES_MAX, &v))
		return false;
	out->failures = (uint32_t)v;
	if (!parse_num(f[GF_FIRST], NUM_VALUE_MAX, &v))
		return false;
	out->first_failure = (int64_t)v;
	if (is_word(f[GF_UNTIL], LOCK_FOREVER_WORD))
		out->locked_until = FT_STATE_LOCKED_FOREVER;
	else if (parse_num(f[GF_UNTIL], NUM_VALUE_MAX, &v))
		out->locked_until = (int64_t)v;
	else
		return false;
	return true;
}

static bool
decode_fields(redisReply *const *f, struct ft_user_state *out)
{
	uint64_t v;

	if (!is_absent(f[GF_STEP])) {
		if (!parse_num(f[GF_STEP], NUM_VALUE_MAX, &v) || v == 0)
			return false;
		out->last_step = v;
	}
	if (!decode_fail(f, out))
		return false;
	if (!is_absent(f[GF_OK])) {
		if (!parse_num(f[GF_OK], NUM_VALUE_MAX, &v))
			return false;
		out->last_success = (int64_t)v;
	}
	return true;
}

int
ft_redis_decode_get(const redisReply *rep, struct ft_user_state *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != GET_FIELDS ||
	    rep->element == NULL)
		return FT_ERR_BACKEND;
	for (i = 0; i < GET_FIELDS; i++)
		if (rep->element[i] == NULL)
			return FT_ERR_BACKEND;
	if (!decode_fields(rep->element, out)) {
		memset(out, 0, sizeof(*out));
		return FT_ERR_BACKEND;
	}
	return FT_OK;
}
