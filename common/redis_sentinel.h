/* Internal: finding the primary through Redis Sentinel (redis_sentinels,
 * redis_master_name).  Only with HAVE_REDIS. */
#ifndef FLOWTOTP_REDIS_SENTINEL_H
#define FLOWTOTP_REDIS_SENTINEL_H

#include <stddef.h>

#include "conf.h"
#include "redis_topology.h"

/* The Sentinel's password (redis_sentinel_password_file), or none. */
struct ft_redis_secret {
	const char *pw; /* NULL: no AUTH */
	size_t len;
};

/* Ask c's Sentinels in order, each over the transport of redis_conn.h
 * (the same TLS rules as the data connection) with its own
 * redis_timeout_ms, AUTH first when pw is set:
 * SENTINEL get-master-addr-by-name redis_master_name.  The first answer
 * is *primary (still to be confirmed with ROLE: a Sentinel's view may be
 * stale).  FT_OK, or FT_ERR_BACKEND with err saying why the last one
 * failed; FT_ERR_NOMEM. */
int ft_redis_sentinel_primary(const struct ft_config *c,
    const struct ft_redis_secret *pw, struct ft_redis_addr *primary, char *err,
    size_t errlen);

#endif
