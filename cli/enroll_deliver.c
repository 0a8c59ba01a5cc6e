/* totp-enroll --user NAME --deliver ADDRESS: enrol a user without an app
 * for codes sent by pam_flowtotp's deliver= command.  The secret file gets
 * the address and no secret (flowtotp(5) version 2); the root-only key of
 * the stored code hashes is made on the first such enrolment.  An
 * administrator's command: the address decides where codes go. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cli.h"
#include "deliver.h"
#include "rc.h"
#include "secretfile.h"
#include "wipe.h"

static int
save(struct cli_ctx *ctx, const struct cli_target *t, struct ft_secret *s)
{
	char err[CLI_ERRLEN];
	int created = 0, rc;

	err[0] = '\0';
	rc = ft_deliver_key_ensure(
	    ctx->cfg.deliver_key, &created, err, sizeof(err));
	if (rc != FT_OK)
		return cli_err(
		    CLI_EX_FAIL, "not enrolled: the delivery key: %s", err);
	if (created)
		cli_log(
		    ctx, "created the delivery key %s", ctx->cfg.deliver_key);
	rc = cli_secret_save(ctx, t, s, err, sizeof(err));
	if (rc != FT_OK)
		return cli_err(
		    cli_exit_for(rc) == CLI_EX_PERM ? CLI_EX_PERM : CLI_EX_FAIL,
		    "not enrolled: cannot save %s: %s", t->path, err);
	return CLI_EX_OK;
}

static void
print_result(const struct cli_ctx *ctx, const struct cli_target *t,
    const struct ft_secret *s, bool existed)
{
	if (!ctx->o.json) {
		(void)printf("Enrolled %s for codes sent to %s (%u digits).\n",
		    t->name, s->deliver, s->digits);
		return;
	}
	(void)printf("{\"user\":");
	cli_json_str(stdout, t->name);
	(void)printf(",\"path\":");
	cli_json_str(stdout, t->path);
	(void)printf(",\"deliver\":");
	cli_json_str(stdout, s->deliver);
	(void)printf(",\"digits\":%u,\"replaced\":%s}\n", s->digits,
	    existed ? "true" : "false");
}

int
cli_enroll_deliver(struct cli_ctx *ctx)
{
	const struct cli_opts *o = &ctx->o;
	struct cli_target t;
	struct ft_secret s;
	bool existed = false;
	int ex;

	if ((ex = cli_require_root(ctx, "--deliver")) != CLI_EX_OK)
		return ex;
	if (!ft_secret_address_ok(o->deliver))
		return cli_err(CLI_EX_USAGE,
		    "--deliver: not a usable address (no leading '-', no "
		    "spaces or control characters, at most %u bytes)",
		    FT_DELIVER_ADDR_BUFSZ - 1U);
	if ((ex = cli_target(ctx, o->user, &t)) != CLI_EX_OK ||
	    (ex = cli_store_writable(ctx, &t)) != CLI_EX_OK ||
	    (ex = cli_check_existing(ctx, &t, &existed)) != CLI_EX_OK ||
	    (ex = cli_secret_prepare(ctx, &t)) != CLI_EX_OK)
		return ex;
	if (ctx->cfg.deliver[0] == '\0')
		cli_warn("warning: deliver= is not set in %s: no code is sent "
			 "until it is",
		    ctx->config_path);
	memset(&s, 0, sizeof(s));
	s.algo = FT_ALGO_SHA1;
	s.digits = o->digits;
	s.period = FT_PERIOD_DEFAULT;
	s.created = (int64_t)ft_now();
	(void)snprintf(s.deliver, sizeof(s.deliver), "%s", o->deliver);
	ex = save(ctx, &t, &s);
	if (ex == CLI_EX_OK) {
		cli_log(ctx, "%s %s for delivery",
		    existed ? "re-enrolled" : "enrolled", t.name);
		cli_state_restart(ctx, t.name, 0);
		print_result(ctx, &t, &s, existed);
	}
	ft_secret_wipe(&s);
	return ex;
}
