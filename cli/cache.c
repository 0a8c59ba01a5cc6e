/* Opening the replay/lockout state from the CLI.  Root opens it as the
 * module does; anyone else never creates the cache directory (it would
 * plant one the module refuses): the state layer then opens only an
 * existing directory of their own, else FT_ERR_PERM (FT_STATE_NO_CREATE).
 * The set-uid helper runs with effective uid 0 and opens it as root does:
 * its codes count in the same state as a login's. */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

#define CACHE_DIR_OTHER_BITS 077 /* group/other: the module refuses them */

/* What is at the cache's directory: absent, the caller's own private
 * directory, or something else (planted, or a chmod mistake). */
enum cache_dir { CACHE_DIR_ABSENT, CACHE_DIR_OURS, CACHE_DIR_OTHER };

static enum cache_dir
cache_dir_kind(const char *cache)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(cache, '/');
	struct stat sb;
	int n;

	n = snprintf(dir, sizeof(dir), "%.*s",
	    slash != NULL && slash != cache ? (int)(slash - cache) : 1,
	    slash != NULL ? cache : "/");
	if (n < 0 || (size_t)n >= sizeof(dir))
		return CACHE_DIR_OTHER; /* let the state layer say why */
	if (lstat(dir, &sb) != 0)
		return errno == ENOENT || errno == ENOTDIR ? CACHE_DIR_ABSENT
							   : CACHE_DIR_OTHER;
	return S_ISDIR(sb.st_mode) && sb.st_uid == geteuid() &&
		(sb.st_mode & CACHE_DIR_OTHER_BITS) == 0
	    ? CACHE_DIR_OURS
	    : CACHE_DIR_OTHER;
}

int
cli_state_open_ro(
    const struct cli_ctx *ctx, struct ft_state **st, char *err, size_t errlen)
{
	struct stat sb;
	enum cache_dir d;

	*st = NULL;
	/* Redis creates nothing on this machine: opened as usual. */
	if (strcmp(ctx->cfg.cache, FT_CACHE_REDIS) == 0)
		return cli_state_open(ctx, st, err, errlen);
	/* No directory or no file yet: nobody has a login state to show.
	 * Opening would create them (as root, a cache made by a status). */
	d = cache_dir_kind(ctx->cfg.cache);
	if (d == CACHE_DIR_ABSENT)
		return FT_OK;
	/* Something planted at the directory's path: root takes it back (with
	 * a warning) as on every open, rather than leave it for the module. */
	if (d == CACHE_DIR_OTHER)
		return ctx->root || ctx->helper
		    ? cli_state_open(ctx, st, err, errlen)
		    : ft_state_open(
			  &ctx->cfg, FT_STATE_NO_CREATE, st, err, errlen);
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
