/* Finding the primary through Redis Sentinel (redis_sentinel.h). */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "rc.h"
#include "redis_conn.h"
#include "redis_sentinel.h"
#include "redis_topology_reply.h"
#include "state_redis_reply.h"

#define SENTINEL_REPLIES_MAX 2U /* AUTH, SENTINEL */
#define WHERE_MAX 320U

/* One Sentinel: AUTH (if) and the question in one write. */
static int
ask_one(const struct ft_config *c, const struct ft_redis_addr *s,
    const struct ft_redis_secret *pw, struct ft_redis_addr *primary, char *err,
    size_t errlen)
{
	const struct ft_redis_target t = {.host = s->host, .port = s->port};
	const char *auth[2] = {"AUTH", pw->pw};
	const size_t auth_len[2] = {sizeof("AUTH") - 1, pw->len};
	const char *ask[3] = {
	    "SENTINEL", "get-master-addr-by-name", c->redis_master_name};
	redisReply *reps[SENTINEL_REPLIES_MAX] = {NULL, NULL};
	struct ft_redis_conn *k = NULL;
	char where[WHERE_MAX];
	size_t n = 0, i;
	int rc;

	rc = ft_redis_conn_open(c, &t, &k, err, errlen);
	if (rc == FT_OK && pw->pw != NULL &&
	    (rc = ft_redis_conn_append(k, 2, auth, auth_len, err, errlen)) ==
		FT_OK)
		n++;
	if (rc == FT_OK &&
	    (rc = ft_redis_conn_append(k, 3, ask, NULL, err, errlen)) == FT_OK)
		n++;
	if (rc == FT_OK)
		rc = ft_redis_conn_exchange(k,
		    "SENTINEL get-master-addr-by-name", reps, n, err, errlen);
	if (rc == FT_OK) {
		(void)snprintf(where, sizeof(where), "Sentinel %s",
		    ft_redis_conn_where(k));
		if (n == 2 && reps[0]->type != REDIS_REPLY_STATUS)
			rc = ft_redis_reply_error(
			    where, "AUTH", reps[0], err, errlen);
		else if ((rc = ft_redis_sentinel_addr(reps[n - 1], primary)) ==
		    FT_ERR_NOENT)
			rc = ft_seterr(err, errlen, FT_ERR_BACKEND,
			    "Redis %s: does not know redis_master_name %s",
			    where, c->redis_master_name);
		else if (rc != FT_OK)
			rc = ft_redis_reply_error(where,
			    "SENTINEL get-master-addr-by-name", reps[n - 1],
			    err, errlen);
	}
	for (i = 0; i < n; i++)
		freeReplyObject(reps[i]);
	ft_redis_conn_close(k);
	return rc;
}

int
ft_redis_sentinel_primary(const struct ft_config *c,
    const struct ft_redis_secret *pw, struct ft_redis_addr *primary, char *err,
    size_t errlen)
{
	struct ft_redis_addr s[FT_REDIS_ADDRS_MAX];
	size_t n = 0, i;
	int rc;

	memset(primary, 0, sizeof(*primary));
	rc = ft_redis_addr_list(
	    c->redis_sentinels, s, FT_REDIS_ADDRS_MAX, &n, err, errlen);
	if (rc != FT_OK)
		return rc;
	for (i = 0; i < n; i++) {
		rc = ask_one(c, &s[i], pw, primary, err, errlen);
		if (rc == FT_OK || rc == FT_ERR_NOMEM)
			return rc;
	}
	return rc; /* err: why the last one failed */
}
