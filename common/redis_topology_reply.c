/* Reading SENTINEL, ROLE and WAIT replies (redis_topology_reply.h). */
#include <config.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rc.h"
#include "redis_topology_reply.h"

#define SENTINEL_FIELDS 2U

static bool
is_string(const redisReply *rep)
{
	return (rep->type == REDIS_REPLY_STRING ||
		   rep->type == REDIS_REPLY_STATUS) &&
	    rep->str != NULL;
}

int
ft_redis_sentinel_addr(const redisReply *rep, struct ft_redis_addr *out)
{
	const redisReply *ip, *port;
	char buf[FT_REDIS_HOST_MAX + sizeof("[]:65535")];
	int n;

	memset(out, 0, sizeof(*out));
	if (rep->type == REDIS_REPLY_NIL)
		return FT_ERR_NOENT;
	if (rep->type != REDIS_REPLY_ARRAY ||
	    rep->elements != SENTINEL_FIELDS || rep->element == NULL)
		return FT_ERR_PARSE;
	ip = rep->element[0];
	port = rep->element[1];
	if (ip == NULL || port == NULL || !is_string(ip) || !is_string(port) ||
	    ip->len == 0 || ip->len >= FT_REDIS_HOST_MAX ||
	    memchr(ip->str, '\0', ip->len) != NULL ||
	    memchr(port->str, '\0', port->len) != NULL)
		return FT_ERR_PARSE;
	/* Through the one host:port parser: the same rules as the options
	 * (an IPv6 address gets its brackets). */
	n = snprintf(buf, sizeof(buf),
	    memchr(ip->str, ':', ip->len) != NULL ? "[%.*s]:%.*s" : "%.*s:%.*s",
	    (int)ip->len, ip->str, (int)port->len, port->str);
	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    ft_redis_addr_parse(buf, (size_t)n, out, NULL, 0) != FT_OK)
		return FT_ERR_PARSE;
	return FT_OK;
}

int
ft_redis_role_is_master(const redisReply *rep, bool *master)
{
	static const char word[] = "master";
	const redisReply *r0;

	*master = false;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
	    rep->element == NULL || (r0 = rep->element[0]) == NULL ||
	    !is_string(r0))
		return FT_ERR_PARSE;
	*master =
	    r0->len == sizeof(word) - 1 && memcmp(r0->str, word, r0->len) == 0;
	return FT_OK;
}

int
ft_redis_wait_acked(const redisReply *rep, unsigned *acked)
{
	*acked = 0;
	if (rep->type != REDIS_REPLY_INTEGER || rep->integer < 0)
		return FT_ERR_PARSE;
	*acked = rep->integer > (long long)UINT_MAX ? UINT_MAX
						    : (unsigned)rep->integer;
	return FT_OK;
}

int
ft_redis_reply_redirect(const redisReply *rep, struct ft_redis_redirect *out,
    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (rep->type != REDIS_REPLY_ERROR || rep->str == NULL)
		return FT_OK;
	return ft_redis_redirect_parse(rep->str, rep->len, out, err, errlen);
}
