/* Placeholder until the Redis backend (issue 6) lands: builds configured
 * --with-redis link, and cache=redis is refused with a clear message
 * (state.c treats this like any other open error: deny). */
#include <config.h>

#include "rc.h"
#include "state_backend.h"

int
ft_state_redis_open(const struct ft_config *c,
    const struct ft_state_backend_ops **ops, void **impl, char *err,
    size_t errlen)
{
	(void)c;
	(void)ops;
	(void)impl;
	return ft_seterr(err, errlen, FT_ERR_UNSUPPORTED,
	    "the Redis backend is not implemented yet");
}
