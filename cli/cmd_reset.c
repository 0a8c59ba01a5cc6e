/* totp-enroll reset USER: the fix for a lost phone.  Removes the secret
 * (with its backup codes) and the user's login state, so they can enrol
 * again.  Root only; asks first unless --yes; logged to authpriv. */
#include <config.h>

#include <stdio.h>

#include "cli.h"
#include "rc.h"

int
cmd_reset(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_target t;
	const char *name;
	char q[CLI_ERRLEN];
	int ex;

	if ((ex = cli_require_root(ctx, "reset")) != CLI_EX_OK ||
	    (ex = cli_one_user(ctx, argc, argv, "reset", &name)) != CLI_EX_OK)
		return ex;
	if (name == NULL)
		return cli_err(CLI_EX_USAGE, "reset needs a user name");
	if ((ex = cli_target(ctx, name, &t)) != CLI_EX_OK)
		return ex;
	(void)snprintf(q, sizeof(q),
	    "Remove the TOTP enrolment of %s "
	    "(secret, backup codes and login state)? [y/N] ",
	    t.name);
	if (!ctx->o.yes && !cli_confirm(q))
		return cli_err(CLI_EX_FAIL, "not confirmed; nothing changed");
	return cli_unenrol(ctx, &t, "reset");
}
