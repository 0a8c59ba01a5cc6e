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
#include "clock.h"
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
cli_state_open(
    const struct cli_ctx *ctx, struct ft_state **st, char *err, size_t errlen)
{
	const struct ft_config *c = &ctx->cfg;
	bool redis = strcmp(c->cache, FT_CACHE_REDIS) == 0;

	*st = NULL;
	if (!ctx->root && !redis && !own_cache_dir(ctx, c->cache))
		return ft_seterr(err, errlen, FT_ERR_PERM,
		    "the login state in %s is root's", c->cache);
	if (!ctx->root && redis &&
	    c->redis_fallback == FT_REDIS_FALLBACK_LOCAL &&
	    !own_cache_dir(ctx, c->local_cache))
		return ft_seterr(
		    err, errlen, FT_ERR_PERM, "the login state is root's");
	return ft_state_open(c, st, err, errlen);
}

void
cli_state_restart(const struct cli_ctx *ctx, const char *user, uint64_t step)
{
	enum ft_state_verdict v;
	struct ft_state *st = NULL;
	char err[CLI_ERRLEN];
	int rc;

	err[0] = '\0';
	rc = cli_state_open(ctx, &st, err, sizeof(err));
	if (rc == FT_ERR_PERM)
		return;
	if (rc == FT_OK)
		rc = ft_state_forget(st, user, err, sizeof(err));
	if (rc == FT_OK && step != 0)
		rc = ft_state_record_success(
		    st, user, step, ft_now(), &v, err, sizeof(err));
	if (rc != FT_OK)
		cli_warn("login state of %s not updated: %s", user, err);
	ft_state_close(st);
}
