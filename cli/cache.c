/* Opening the replay/lockout state from the CLI.
 *
 * ft_state_open() creates the gdbm cache directory owned by the caller when
 * it is missing.  As root that is the intended root-owned 0700 directory;
 * as an ordinary user it would plant a directory the module then refuses
 * (every login would fail).  So a non-root caller opens the gdbm state only
 * when its directory already exists and is their own (a private test or
 * staging setup); otherwise the state is simply not theirs to see. */
#include <config.h>

#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rc.h"

static bool
own_cache_dir(const struct cli_ctx *ctx, const char *file)
{
	char tmp[PATH_MAX];
	struct stat sb;

	if (snprintf(tmp, sizeof(tmp), "%s", file) >= (int)sizeof(tmp))
		return false;
	return lstat(dirname(tmp), &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    sb.st_uid == ctx->uid;
}

int
cli_state_open(const struct cli_ctx *ctx, struct ft_state **st, char *err,
    size_t errlen)
{
	const struct ft_config *c = &ctx->cfg;
	bool redis = strcmp(c->cache, FT_CACHE_REDIS) == 0;

	*st = NULL;
	if (!ctx->root && !redis && !own_cache_dir(ctx, c->cache))
		return ft_seterr(err, errlen, FT_ERR_PERM,
		    "the login state in %s is root's", c->cache);
	if (!ctx->root && redis && c->redis_fallback ==
	    FT_REDIS_FALLBACK_LOCAL && !own_cache_dir(ctx, c->local_cache))
		return ft_seterr(err, errlen, FT_ERR_PERM,
		    "the login state is root's");
	return ft_state_open(c, st, err, errlen);
}
