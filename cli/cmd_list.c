/* totp-enroll list: every enrolled user, one line (or JSON object) each.
 * Root only: it reads every user's enrolment. */
#include <config.h>

#include <stdio.h>

#include "cli.h"

struct listing {
	struct cli_report r;
	size_t n; /* users listed */
};

static int
list_one(struct cli_ctx *ctx, const struct cli_target *t, void *arg)
{
	struct listing *l = arg;

	cli_report_target(ctx, &l->r, t);
	l->n++;
	return 0;
}

int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct listing l = {.n = 0};
	int ex;

	(void)argv;
	if (argc > 0)
		return cli_err(CLI_EX_USAGE, "list takes no operands");
	if ((ex = cli_require_root(ctx, "list")) != CLI_EX_OK)
		return ex;
	cli_report_begin(&l.r, ctx->o.json);
	ex = cli_foreach_enrolled(ctx, list_one, &l);
	if (cli_report_end(&l.r) > ex)
		ex = l.r.worst;
	/* Empty output looked like a failure; JSON stays an empty array.  On
	 * stderr, so stdout keeps one line per user for scripts. */
	if (ex == CLI_EX_OK && l.n == 0 && !ctx->o.json)
		(void)fprintf(stderr,
		    CLI_PROG ": no users enrolled (secret=%s)\n",
		    ctx->cfg.secret);
	return ex;
}
