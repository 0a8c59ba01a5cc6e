/* The Redis backend's one call outside the state interface, for
 * totp-enroll doctor: read a server setting over a connection made exactly
 * as the backend makes its own (host or socket, AUTH from
 * redis_password_file, SELECT, redis_timeout_ms).  Only with HAVE_REDIS. */
#ifndef FLOWTOTP_STATE_REDIS_H
#define FLOWTOTP_STATE_REDIS_H

#include <stddef.h>

#include "conf.h"

/* Connect, authenticate (AUTH, SELECT) and PING, as a login's first call
 * would: FT_OK, or what that call would fail with. */
int ft_state_redis_ping(const struct ft_config *c, char *err, size_t errlen);

/* CONFIG GET param: out gets its value.  FT_OK; FT_ERR_UNSUPPORTED when
 * the server refuses CONFIG (renamed, or denied by an ACL) or does not
 * know param; FT_ERR_PERM when it wants a password we did not give
 * (NOAUTH); FT_ERR_TOOBIG when the value does not fit; else what opening
 * the backend returns.  err never holds the password. */
int ft_state_redis_config_get(const struct ft_config *c, const char *param,
    char *out, size_t outlen, char *err, size_t errlen);

#endif
