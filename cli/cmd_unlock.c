/* totp-enroll unlock USER: clear a lockout (failures and lock), and bring
 * back current codes after the clock ran ahead (state.h,
 * ft_state_unlock). */
#include <config.h>

#include <stdio.h>

#include "clock.h"
#include "cli.h"
#include "otp.h"
#include "rc.h"

/* The user's current TOTP step, at their own period when the secret can be
 * read (else the default: unlock must not depend on the secret file). */
static uint64_t
now_step(const struct cli_target *t)
{
	struct ft_secret s;
	char err[CLI_ERRLEN];
	unsigned period = FT_PERIOD_DEFAULT;
	const time_t now = ft_now();

	if (cli_secret_load(t, &s, err, sizeof(err)) == FT_OK) {
		period = s.period;
		ft_secret_wipe(&s);
	}
	if (now <= 0 || period == 0)
		return 0;
	return (uint64_t)now / period;
}

int
cmd_unlock(struct cli_ctx *ctx, int argc, char **argv)
{
	struct ft_state *st = NULL;
	struct cli_target t;
	const char *name;
	char err[CLI_ERRLEN];
	bool rewound = false;
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
		rc = ft_state_unlock(
		    st, t.name, now_step(&t), &rewound, err, sizeof(err));
	ft_state_close(st);
	if (rc != FT_OK)
		return cli_err(
		    CLI_EX_FAIL, "cannot unlock %s: %s", t.name, err);
	cli_log(ctx, "unlocked %s%s", t.name,
	    rewound ? " (last accepted step was in the future)" : "");
	(void)printf("Unlocked %s.\n", t.name);
	if (rewound)
		(void)printf("The last accepted code was from a clock that ran "
			     "ahead: current codes work again; that code stays "
			     "refused.\n");
	return CLI_EX_OK;
}
