/* totp-enroll list: every enrolled user, one line (or JSON object) each.
 * Root only: it reads every user's enrolment. */
#include <config.h>

#include "cli.h"

static int
list_one(struct cli_ctx *ctx, const struct cli_target *t, void *arg)
{
	cli_report_target(ctx, arg, t);
	return 0;
}

int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_report r;
	int ex;

	(void)argv;
	if (argc > 0)
		return cli_err(CLI_EX_USAGE, "list takes no operands");
	if ((ex = cli_require_root(ctx, "list")) != CLI_EX_OK)
		return ex;
	cli_report_begin(&r, ctx->o.json);
	ex = cli_foreach_enrolled(ctx, list_one, &r);
	if (cli_report_end(&r) > ex)
		ex = r.worst;
	return ex;
}
