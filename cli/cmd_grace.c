/* totp-enroll grace USER [--reset | --extend DAYS]: show, remove or extend
 * a user's grace_days= first-seen record (root only).  --reset removes it,
 * so the grace starts again at the user's next login past the first
 * factor; --extend adds days to it.  A damaged record is refused by
 * --extend (it could otherwise be turned into any deadline) and removed by
 * --reset. */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "grace.h"
#include "rc.h"

#define TIMEBUF 64U

static void
show(const struct cli_ctx *ctx, const char *user, const struct ft_grace *g)
{
	char first[TIMEBUF], end[TIMEBUF];

	cli_time_text((time_t)g->first, first, sizeof(first));
	cli_time_text(
	    (time_t)ft_grace_end(g, ctx->cfg.grace_days), end, sizeof(end));
	(void)printf("%s: grace since %s, until %s (grace_days=%u, extended "
		     "by %u day%s; record in %s)\n",
	    user, first, end, ctx->cfg.grace_days, g->extend_days,
	    g->extend_days == 1 ? "" : "s", ft_grace_source(&ctx->cfg));
}

static int
reset(const struct cli_ctx *ctx, const char *user)
{
	char err[CLI_ERRLEN];
	int rc;

	err[0] = '\0';
	rc = ft_grace_delete(&ctx->cfg, user, err, sizeof(err));
	if (rc == FT_ERR_NOENT) {
		(void)printf("%s: no grace record.\n", user);
		return CLI_EX_OK;
	}
	if (rc != FT_OK)
		return cli_err(CLI_EX_FAIL,
		    "%s: cannot remove the grace "
		    "record: %s",
		    user, err);
	cli_log(ctx, "grace record of %s removed", user);
	(void)printf("%s: grace record removed; the grace starts again at "
		     "the next login.\n",
	    user);
	return CLI_EX_OK;
}

static int
extend(const struct cli_ctx *ctx, const char *user, struct ft_grace *g)
{
	char err[CLI_ERRLEN];
	unsigned add = ctx->o.extend_days;

	if (g->extend_days > FT_GRACE_DAYS_MAX - add)
		return cli_err(CLI_EX_USAGE,
		    "%s: the grace can be extended by at most %u days in "
		    "all",
		    user, FT_GRACE_DAYS_MAX);
	g->extend_days += add;
	err[0] = '\0';
	if (ft_grace_save(&ctx->cfg, user, g, err, sizeof(err)) != FT_OK)
		return cli_err(CLI_EX_FAIL,
		    "%s: cannot write the grace record: %s", user, err);
	cli_log(ctx, "grace of %s extended by %u days", user, add);
	show(ctx, user, g);
	return CLI_EX_OK;
}

int
cmd_grace(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_target t;
	struct ft_grace g;
	const char *name;
	char err[CLI_ERRLEN];
	int ex, rc;

	if ((ex = cli_require_root(ctx, "grace")) != CLI_EX_OK ||
	    (ex = cli_one_user(ctx, argc, argv, "grace", &name)) != CLI_EX_OK)
		return ex;
	if (name == NULL)
		return cli_err(CLI_EX_USAGE, "grace needs a user name");
	if (ctx->o.reset && (ctx->o.seen & CLI_O_EXTEND) != 0)
		return cli_err(
		    CLI_EX_USAGE, "grace: --reset or --extend, not both");
	if ((ex = cli_target(ctx, name, &t)) != CLI_EX_OK)
		return ex;
	if (ctx->o.reset)
		return reset(ctx, t.name);
	err[0] = '\0';
	rc = ft_grace_load(&ctx->cfg, t.name, &g, err, sizeof(err));
	if (rc == FT_ERR_NOENT && (ctx->o.seen & CLI_O_EXTEND) == 0) {
		(void)printf("%s: no grace record (the grace starts at the "
			     "first login past the first factor).\n",
		    t.name);
		return CLI_EX_OK;
	}
	if (rc != FT_OK)
		return cli_err(CLI_EX_FAIL,
		    "%s: grace record: %s (the module treats the grace as "
		    "over; --reset removes it)",
		    t.name, rc == FT_ERR_NOENT ? "none to extend" : err);
	if ((ctx->o.seen & CLI_O_EXTEND) != 0)
		return extend(ctx, t.name, &g);
	show(ctx, t.name, &g);
	return CLI_EX_OK;
}
