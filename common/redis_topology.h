/* Internal: the pure text logic of the Redis backend's high availability
 * (Sentinel, Cluster): address lists, the per-user key names with their
 * hash tag, the cluster hash slot, and -MOVED / -ASK redirects.  No I/O and
 * no hiredis, so conf.c can check the options with it and the fuzz targets
 * can feed it anything. */
#ifndef FLOWTOTP_REDIS_TOPOLOGY_H
#define FLOWTOTP_REDIS_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

#define FT_REDIS_HOST_MAX 256U /* a host name or address and its NUL */
#define FT_REDIS_ADDRS_MAX 16U /* entries of redis_sentinels */
#define FT_REDIS_SLOTS 16384U  /* Redis Cluster hash slots */

/* One "host:port" (an IPv6 address in brackets: "[::1]:26379"). */
struct ft_redis_addr {
	char host[FT_REDIS_HOST_MAX];
	unsigned port;
};

/* Parse one "host:port" of n bytes.  FT_OK or FT_ERR_PARSE (err says why;
 * *out is zero). */
int ft_redis_addr_parse(const char *s, size_t n, struct ft_redis_addr *out,
    char *err, size_t errlen);

/* Parse "host:port,host:port,..." (blanks around entries ignored) into
 * out[0..*n).  At least one entry, at most max.  FT_OK or FT_ERR_PARSE. */
int ft_redis_addr_list(const char *list, struct ft_redis_addr *out, size_t max,
    size_t *n, char *err, size_t errlen);

/* Can prefix start every key name?  A brace in it would move or empty the
 * hash tag.  FT_OK or FT_ERR_PARSE. */
int ft_redis_prefix_check(const char *prefix, char *err, size_t errlen);

/* The name of one of user's keys: "PREFIX:{USER}:SUFFIX".  Every key of a
 * user carries the same hash tag {USER}, so all of them live in one
 * cluster slot and one script may touch them all: every Redis key of a
 * user must be named here.  FT_OK; FT_ERR_PARSE for a prefix
 * ft_redis_prefix_check refuses; FT_ERR_ARG when the user name is empty
 * or holds '}' (it would end the tag early); FT_ERR_TOOBIG when the name
 * does not fit (out is "" on every error). */
int ft_redis_user_key(const char *prefix, const char *user, const char *suffix,
    char *out, size_t outlen);

/* The cluster hash slot of a key (CRC16 of its hash tag, or of the whole
 * key when it has none), as CLUSTER KEYSLOT answers. */
unsigned ft_redis_key_slot(const char *key, size_t len);

enum ft_redis_redirect_kind {
	FT_REDIS_NO_REDIRECT = 0,
	FT_REDIS_MOVED, /* the slot lives elsewhere now: go there for good */
	FT_REDIS_ASK	/* being migrated: ASKING, then this one command */
};

struct ft_redis_redirect {
	enum ft_redis_redirect_kind kind;
	unsigned slot;
	/* host "" when the server does not know its own endpoint (the
	 * answer ":port"): the host we asked. */
	struct ft_redis_addr to;
};

/* Read an error reply's text of n bytes ("MOVED 3999 127.0.0.1:6381").
 * FT_OK with out->kind FT_REDIS_NO_REDIRECT for any other error,
 * FT_ERR_PARSE for a MOVED or ASK that is malformed. */
int ft_redis_redirect_parse(const char *s, size_t n,
    struct ft_redis_redirect *out, char *err, size_t errlen);

#endif
