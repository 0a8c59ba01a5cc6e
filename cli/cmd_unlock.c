/* totp-enroll unlock USER: clear a lockout (failures and lock). */
#include <config.h>

#include <stdio.h>

#include "cli.h"
#include "rc.h"

int
cmd_unlock(struct cli_ctx *ctx, int argc, char **argv)
{
	struct ft_state *st = NULL;
	struct cli_target t;
	const char *name;
	char err[CLI_ERRLEN];
	int ex, rc;

	if ((ex = cli_require_root(ctx, "unlock")) != CLI_EX_OK ||
	    (ex = cli_one_user(ctx, argc, argv, "unlock", &name)) != CLI_EX_OK)
		return ex;
	if (name == NULL)
		return cli_err(CLI_EX_USAGE, "unlock needs a user name");
	if ((ex = cli_target(ctx, name, &t)) != CLI_EX_OK)
		return ex;
	err[0] = '\0';
	rc = cli_state_open(ctx, &st, err, sizeof(err));
	if (rc == FT_OK)
		rc = ft_state_unlock(st, t.name, err, sizeof(err));
	ft_state_close(st);
	if (rc != FT_OK)
		return cli_err(
		    CLI_EX_FAIL, "cannot unlock %s: %s", t.name, err);
	cli_log(ctx, "unlocked %s", t.name);
	(void)printf("Unlocked %s.\n", t.name);
	return CLI_EX_OK;
}
