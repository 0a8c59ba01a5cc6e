/* Internal: reading the replies of the Redis state backend.  Pure functions
 * of a hiredis reply (no I/O), so that tests/fuzz/fuzz_redis_reply can feed
 * them arbitrary bytes through a redisReader.  Any reply that is not
 * exactly what our scripts return is FT_ERR_BACKEND: the login is denied,
 * never read as "no record". */
#ifndef FLOWTOTP_STATE_REDIS_REPLY_H
#define FLOWTOTP_STATE_REDIS_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "state.h"

/* The Lua scripts' answer words. */
enum ft_redis_answer {
	FT_REDIS_BEGIN,	  /* "proceed" or "locked" */
	FT_REDIS_SUCCESS, /* "accepted" or "replay" */
	FT_REDIS_ATTEMPT, /* either: a begin answer, or a success one */
};

/* One line for err: the server's error text (first line only) or the
 * unexpected type.  Returns FT_ERR_BACKEND. */
int ft_redis_reply_error(const char *where, const char *what,
    const redisReply *rep, char *err, size_t errlen);

/* Is rep the server's "script not loaded" error? */
bool ft_redis_is_noscript(const redisReply *rep);

/* A begin or success script's reply: [verdict, n, first, until] and, for
 * success, the last step ("" = absent); an attempt script's is either.  Sets *v
 * and rec's failures, first_failure, locked_until (and last_step); FT_OK or
 * FT_ERR_BACKEND
 * (*v untouched, *rec zero). */
int ft_redis_verdict(const redisReply *rep, enum ft_redis_answer which,
    enum ft_state_verdict *v, struct ft_user_state *rec);

/* The unlock script's reply: "rewound" or "unlocked". */
int ft_redis_unlock_reply(const redisReply *rep, bool *rewound);

/* The get script's snapshot [step, n, first, until, ok, future] ("" =
 * absent); FT_OK or FT_ERR_BACKEND (*out zero). */
int ft_redis_decode_get(const redisReply *rep, struct ft_user_state *out);

#endif
