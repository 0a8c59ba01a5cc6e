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
#define GET_FIELDS 6U
#define BEGIN_FIELDS 4U
#define SUCCESS_FIELDS 5U
#define LOCK_FOREVER_WORD "forever"

/* The get reply's fields; a begin or success reply has its verdict word
 * at GF_STEP's place, the same failure fields, and (success) the last step
 * at GF_OK's. */
enum get_field { GF_STEP, GF_FAILURES, GF_FIRST, GF_UNTIL, GF_OK, GF_FUTURE };
#define GF_VERDICT GF_STEP
#define GF_LAST GF_OK

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

/* An optional step: absent (0) or a number > 0. */
static bool
decode_step(const redisReply *f, uint64_t *out)
{
	uint64_t v;

	if (is_absent(f))
		return true;
	if (!parse_num(f, NUM_VALUE_MAX, &v) || v == 0)
		return false;
	*out = v;
	return true;
}

static bool
decode_fields(redisReply *const *f, struct ft_user_state *out)
{
	uint64_t v;

	if (!decode_step(f[GF_STEP], &out->last_step) ||
	    !decode_step(f[GF_FUTURE], &out->future_step))
		return false;
	if (!decode_fail(f, out))
		return false;
	if (!is_absent(f[GF_OK])) {
		if (!parse_num(f[GF_OK], NUM_VALUE_MAX, &v))
			return false;
		out->last_success = (int64_t)v;
	}
	return true;
}

/* An array of n elements, none NULL. */
static bool
is_array(const redisReply *rep, size_t n)
{
	size_t i;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n ||
	    rep->element == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (rep->element[i] == NULL)
			return false;
	return true;
}

int
ft_redis_verdict(const redisReply *rep, enum ft_redis_answer which,
    enum ft_state_verdict *v, struct ft_user_state *rec)
{
	bool begin = which == FT_REDIS_BEGIN;
	enum ft_state_verdict got;
	const redisReply *w;

	memset(rec, 0, sizeof(*rec));
	if (which == FT_REDIS_ATTEMPT)
		begin = is_array(rep, BEGIN_FIELDS);
	if (!is_array(rep, begin ? BEGIN_FIELDS : SUCCESS_FIELDS))
		return FT_ERR_BACKEND;
	w = rep->element[GF_VERDICT];
	if (is_word(w, begin ? "proceed" : "accepted"))
		got = begin ? FT_STATE_PROCEED : FT_STATE_ACCEPTED;
	else if (is_word(w, begin ? "locked" : "replay"))
		got = begin ? FT_STATE_LOCKED : FT_STATE_REPLAY;
	else
		return FT_ERR_BACKEND;
	if (!decode_fail(rep->element, rec) ||
	    (!begin && !decode_step(rep->element[GF_LAST], &rec->last_step))) {
		memset(rec, 0, sizeof(*rec));
		return FT_ERR_BACKEND;
	}
	*v = got;
	return FT_OK;
}

int
ft_redis_unlock_reply(const redisReply *rep, bool *rewound)
{
	if (is_word(rep, "rewound"))
		*rewound = true;
	else if (is_word(rep, "unlocked"))
		*rewound = false;
	else
		return FT_ERR_BACKEND;
	return FT_OK;
}

int
ft_redis_decode_get(const redisReply *rep, struct ft_user_state *out)
{
	memset(out, 0, sizeof(*out));
	if (!is_array(rep, GET_FIELDS))
		return FT_ERR_BACKEND;
	if (!decode_fields(rep->element, out)) {
		memset(out, 0, sizeof(*out));
		return FT_ERR_BACKEND;
	}
	return FT_OK;
}
