/* totp-enroll status [USER...]: enrolment and lockout of each user (the
 * caller when none is named).  Exit 3 if a named user is not enrolled. */
#include <config.h>

#include "cli.h"

int
cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_report r;
	int i;

	cli_report_begin(&r, ctx->o.json);
	if (ctx->o.user != NULL)
		cli_report_user(ctx, &r, ctx->o.user);
	for (i = 0; i < argc; i++)
		cli_report_user(ctx, &r, argv[i]);
	if (argc == 0 && ctx->o.user == NULL)
		cli_report_user(ctx, &r, NULL);
	return cli_report_end(&r);
}
