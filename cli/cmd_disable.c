/* totp-enroll disable [USER]: remove an enrolment.  A user disabling their
 * own enrolment proves it with a current code first (a confirmation, not a
 * barrier: the file is theirs anyway); root may disable anyone. */
#include <config.h>

#include <stdio.h>

#include "cli.h"
#include "rc.h"

int
cmd_disable(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_target t;
	const char *name;
	char q[CLI_ERRLEN];
	int ex;

	if ((ex = cli_one_user(ctx, argc, argv, "disable", &name)) !=
		CLI_EX_OK ||
	    (ex = cli_target(ctx, name, &t)) != CLI_EX_OK ||
	    (ex = cli_store_writable(ctx, &t)) != CLI_EX_OK ||
	    (ex = cli_prove(ctx, &t)) != CLI_EX_OK)
		return ex;
	(void)snprintf(q, sizeof(q),
	    "Disable TOTP for %s (the secret and "
	    "backup codes are deleted)? [y/N] ",
	    t.name);
	if (ctx->root && !ctx->o.yes && !cli_confirm(q))
		return cli_err(CLI_EX_FAIL, "not confirmed; nothing changed");
	return cli_unenrol(ctx, &t, "disable");
}
