/* Internal: the replies of the Redis backend's high-availability commands
 * (SENTINEL get-master-addr-by-name, ROLE, WAIT).  Pure functions of a
 * hiredis reply, fuzzed by tests/fuzz/fuzz_redis_reply.  Only with
 * HAVE_REDIS. */
#ifndef FLOWTOTP_REDIS_TOPOLOGY_REPLY_H
#define FLOWTOTP_REDIS_TOPOLOGY_REPLY_H

#include <stdbool.h>

#include <hiredis/hiredis.h>

#include "redis_topology.h"

/* SENTINEL get-master-addr-by-name: [ip, port].  FT_OK; FT_ERR_NOENT for
 * nil (the sentinel does not monitor that name); FT_ERR_PARSE for anything
 * else (*out zero). */
int ft_redis_sentinel_addr(const redisReply *rep, struct ft_redis_addr *out);

/* ROLE: *master is true only for an array whose first element is the
 * string "master".  FT_OK, or FT_ERR_PARSE when rep is no ROLE answer. */
int ft_redis_role_is_master(const redisReply *rep, bool *master);

/* WAIT: the number of replicas that acknowledged.  FT_OK or FT_ERR_PARSE
 * (an error or a negative count; *acked 0). */
int ft_redis_wait_acked(const redisReply *rep, unsigned *acked);

/* An error reply's redirect (redis_topology.h); FT_REDIS_NO_REDIRECT for
 * any reply that is not an error. */
int ft_redis_reply_redirect(const redisReply *rep,
    struct ft_redis_redirect *out, char *err, size_t errlen);

#endif
