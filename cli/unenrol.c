/* Unenrolment, shared by reset (root, for a lost phone) and disable
 * (self-service or root): its own file so that neither command calls into
 * the other. */
#include <config.h>

#include <stdio.h>

#include "cli.h"
#include "grace.h"
#include "rc.h"

/* The grace record goes too, so that a user unenrolled starts a new grace
 * (grace_days=) instead of finding an old one over.  Only root and the
 * helper can reach it (grace_dir is root's, and Redis is configured for
 * root). */
static int
remove_grace(const struct cli_ctx *ctx, const struct cli_target *t)
{
	char err[CLI_ERRLEN];
	int rc;

	if (!ctx->root && !ctx->helper)
		return CLI_EX_OK;
	err[0] = '\0';
	rc = ft_grace_delete(&ctx->cfg, t->name, err, sizeof(err));
	if (rc == FT_OK)
		cli_log(ctx, "grace record of %s removed", t->name);
	if (rc == FT_OK || rc == FT_ERR_NOENT)
		return CLI_EX_OK;
	return cli_err(
	    CLI_EX_FAIL, "grace record of %s not removed: %s", t->name, err);
}

/* Remove the secret file and the login state.
 * The state is forgotten even when there was no file (a lockout may
 * outlive an enrolment).  CLI_EX_NOTENROLLED if there was no file. */
int
cli_unenrol(
    const struct cli_ctx *ctx, const struct cli_target *t, const char *action)
{
	struct ft_state *st = NULL;
	char err[CLI_ERRLEN];
	bool had;
	int rc, ex = CLI_EX_OK;

	err[0] = '\0';
	rc = cli_secret_remove(t, err, sizeof(err));
	if (rc != FT_OK && rc != FT_ERR_NOENT)
		return cli_err(
		    cli_exit_for(rc) == CLI_EX_PERM ? CLI_EX_PERM : CLI_EX_FAIL,
		    "cannot remove %s: %s", t->path, err);
	had = rc == FT_OK;
	err[0] = '\0';
	rc = cli_state_open(ctx, &st, err, sizeof(err));
	if (rc == FT_OK)
		rc = ft_state_forget(st, t->name, err, sizeof(err));
	ft_state_close(st);
	if (rc != FT_OK && (ctx->root || ctx->helper || rc != FT_ERR_PERM))
		ex = cli_err(CLI_EX_FAIL, "login state of %s not cleared: %s",
		    t->name, err);
	if (ex == CLI_EX_OK)
		ex = remove_grace(ctx, t);
	if (had)
		cli_log(ctx, "%s: enrolment removed for %s", action, t->name);
	if (!had) {
		(void)printf("%s was not enrolled.\n", t->name);
		return ex != CLI_EX_OK ? ex : CLI_EX_NOTENROLLED;
	}
	(void)printf("Removed the enrolment of %s.\n", t->name);
	return ex;
}
