/* Opening the replay/lockout state from the CLI.  Root opens it as the
 * module does; anyone else never creates the cache directory (it would
 * plant one the module refuses): the state layer then opens only an
 * existing directory of their own, else FT_ERR_PERM (FT_STATE_NO_CREATE).
 * The set-uid helper runs with effective uid 0 and opens it as root does:
 * its codes count in the same state as a login's. */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "clock.h"
#include "rc.h"

int
cli_state_open(
    const struct cli_ctx *ctx, struct ft_state **st, char *err, size_t errlen)
{
	const char *w;
	int rc;

	rc = ft_state_open(&ctx->cfg,
	    ctx->root || ctx->helper ? 0U : FT_STATE_NO_CREATE, st, err,
	    errlen);
	/* Root took the cache directory back from another user, say. */
	w = rc == FT_OK ? ft_state_warning(*st) : NULL;
	if (w != NULL)
		cli_warn("%s", w);
	return rc;
}

int
cli_state_open_ro(
    const struct cli_ctx *ctx, struct ft_state **st, char *err, size_t errlen)
{
	struct stat sb;

	*st = NULL;
	/* Redis creates nothing on this machine: opened as usual. */
	if (strcmp(ctx->cfg.cache, FT_CACHE_REDIS) == 0)
		return cli_state_open(ctx, st, err, errlen);
	/* No file yet: nobody has a login state to show.  Opening it would
	 * create the directory and the file (as root, where the module would
	 * then find a cache a status command made). */
	if (lstat(ctx->cfg.cache, &sb) != 0 &&
	    (errno == ENOENT || errno == ENOTDIR))
		return FT_OK;
	return ft_state_open(&ctx->cfg, FT_STATE_NO_CREATE, st, err, errlen);
}

void
cli_state_restart(const struct cli_ctx *ctx, const char *user, uint64_t step)
{
	struct ft_state_login l = {.user = user, .now = ft_now(), .step = step};
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
		rc = ft_state_record_success(st, &l, err, sizeof(err));
	if (rc != FT_OK)
		cli_warn("login state of %s not updated: %s", user, err);
	ft_state_close(st);
}
