/* totp-enroll check [USER]: "my code is not accepted".  Reads a code and
 * says whether it matches and at which step offset within a wide
 * diagnostic window, with the server's UTC time, so clock drift shows.  For
 * root it is a read-only look: the code is not consumed and a wrong one does
 * not count as a failure.  Through the helper (a user checking their own
 * code against the root store) it counts exactly like a login: an uncounted
 * check would let anyone with the user's shell guess codes without limit.  Exit
 * 0 only when a login with this code would pass the code check (within the
 * configured window and not already used). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "clock.h"
#include "cli.h"
#include "rc.h"
#include "wipe.h"

#define TIMEBUF 64U

struct result {
	time_t now;
	uint64_t now_step;
	int match; /* 1 matched, 0 not */
	int offset;
	uint64_t step;
	bool within;  /* |offset| <= configured window */
	int used;     /* 1 step already used, 0 no, -1 unknown */
	bool counted; /* accepted by the helper: now recorded as used */
};

/* Was this step already used for a login?  Needs the state (root). */
static int
step_used(const struct cli_ctx *ctx, const char *user, uint64_t step)
{
	struct ft_user_state us;
	struct ft_state *st = NULL;
	char err[CLI_ERRLEN];
	int rc;

	err[0] = '\0';
	memset(&us, 0, sizeof(us));
	rc = cli_state_open_ro(ctx, &st, err, sizeof(err));
	if (rc == FT_OK && st != NULL)
		rc = ft_state_get(st, user, ft_now(), &us, err, sizeof(err));
	ft_state_close(st);
	if (rc != FT_OK)
		return -1;
	return step <= us.last_step ? 1 : 0;
}

static int
match(const struct cli_ctx *ctx, const struct ft_secret *s, const char *code,
    struct result *r)
{
	struct ft_totp_params p;
	int rc;

	ft_secret_totp_params(s, CLI_CHECK_WINDOW, &p);
	r->now = ft_now();
	if ((rc = ft_totp_step(r->now, s->period, &r->now_step)) != FT_OK)
		return rc;
	rc = ft_totp_match(&p, r->now, code, &r->offset, &r->step);
	if (rc < 0)
		return rc;
	r->match = rc;
	r->within = rc == 1 && (unsigned)abs(r->offset) <= ctx->cfg.window;
	return FT_OK;
}

/* The helper's check: the code is a login attempt (counted, and recorded
 * as used when it is accepted).  Only a code the login window refused is
 * then placed in the wide diagnostic window, and that failure stays
 * counted.  FT_OK, a negative ft_rc, or a positive exit code (printed). */
static int
counted(const struct cli_ctx *ctx, const struct cli_target *t,
    const struct ft_secret *s, const char *code, struct result *r)
{
	struct cli_attempt a;
	int rc;

	if (cli_code_attempt(ctx, t, s, code, &a) != FT_OK)
		return cli_err(CLI_EX_FAIL, "code not checked");
	if (a.verdict == FT_STATE_LOCKED)
		return cli_attempt_refused(t, &a, CLI_EX_FAIL);
	if (a.verdict == FT_STATE_PROCEED) {
		rc = match(ctx, s, code, r);
		r->within = false; /* the login window refused it */
		r->used = 0;
		return rc;
	}
	r->now = a.now;
	if ((rc = ft_totp_step(r->now, s->period, &r->now_step)) != FT_OK)
		return rc;
	r->match = 1;
	r->offset = a.offset;
	r->step = a.step;
	r->within = true;
	r->used = a.verdict == FT_STATE_REPLAY ? 1 : 0;
	r->counted = true;
	return FT_OK;
}

/* The app's clock minus the server's lies in [*lo, *hi): the code's step
 * is offset steps away, and the server is `phase` seconds into its own. */
static void
offset_range(
    const struct ft_secret *s, const struct result *r, long *lo, long *hi)
{
	const long period = (long)s->period;
	const long phase = (long)(r->now - (time_t)(r->now_step * s->period));

	*lo = (long)r->offset * period - phase;
	*hi = *lo + period;
}

/* "20 to 50 s behind the server's": the range, not one rounded figure
 * (a 40 s offset is one step, which used to read "about 30 s"). */
static void
print_offset(const struct ft_secret *s, const struct result *r)
{
	long lo, hi;

	offset_range(s, r, &lo, &hi);
	if (r->offset < 0)
		(void)printf("The code matches at step offset %d (steps of %u "
			     "s): the app's clock is %ld to %ld s behind the "
			     "server's.\n",
		    r->offset, s->period, -hi, -lo);
	else
		(void)printf("The code matches at step offset %+d (steps of %u "
			     "s): the app's clock is %ld to %ld s ahead of the "
			     "server's.\n",
		    r->offset, s->period, lo, hi);
}

static void
print_text(const struct cli_ctx *ctx, const struct ft_secret *s,
    const struct result *r)
{
	char when[TIMEBUF];

	cli_time_text(r->now, when, sizeof(when));
	(void)printf("Server time: %s (%lld), time step %llu of %u s.\n", when,
	    (long long)r->now, (unsigned long long)r->now_step, s->period);
	if (!r->match) {
		(void)printf(
		    "The code does not match any step within +-%u "
		    "(+-%lu s): wrong secret in the app, a mistyped code, or "
		    "a clock far off.\n",
		    CLI_CHECK_WINDOW,
		    (unsigned long)CLI_CHECK_WINDOW * s->period);
		return;
	}
	if (r->offset == 0)
		(void)printf("The code matches the current step: the clocks "
			     "agree.\n");
	else
		print_offset(s, r);
	if (!r->within)
		(void)printf("That is outside the accepted window of +-%u "
			     "step%s: a login with it fails.  Fix the phone's "
			     "clock (automatic time).\n",
		    ctx->cfg.window, ctx->cfg.window == 1 ? "" : "s");
	else if (r->used == 1)
		(void)printf(
		    "But that code (or a later one) was already used "
		    "for a login: codes work once.  Wait for the next.\n");
	else if (r->counted)
		(void)printf("That is inside the accepted window of +-%u.  "
			     "This check counted as a login: the code is now "
			     "used, log in with the next one.\n",
		    ctx->cfg.window);
	else
		(void)printf("That is inside the accepted window of +-%u: a "
			     "login with it would pass the code check.\n",
		    ctx->cfg.window);
}

static void
print_json(const struct cli_ctx *ctx, const struct cli_target *t,
    const struct ft_secret *s, const struct result *r)
{
	char when[TIMEBUF];
	long lo = 0, hi = 0;

	if (r->match)
		offset_range(s, r, &lo, &hi);
	cli_time_iso(r->now, when, sizeof(when));
	(void)printf("{\"user\":");
	cli_json_str(stdout, t->name);
	(void)printf(",\"server_time\":%lld,\"server_time_utc\":\"%s\","
		     "\"step\":%llu,\"period\":%u,\"window\":%u,"
		     "\"diagnostic_window\":%u,\"match\":%s",
	    (long long)r->now, when, (unsigned long long)r->now_step, s->period,
	    ctx->cfg.window, CLI_CHECK_WINDOW, r->match ? "true" : "false");
	if (r->match)
		(void)printf(",\"offset\":%d,\"offset_seconds\":%ld,"
			     "\"offset_range_seconds\":[%ld,%ld],"
			     "\"within_window\":%s,\"already_used\":%s",
		    r->offset, (long)r->offset * (long)s->period, lo, hi,
		    r->within ? "true" : "false",
		    r->used < 0	  ? "null"
			: r->used ? "true"
				  : "false");
	else
		(void)printf(",\"offset\":null,\"offset_seconds\":null,"
			     "\"offset_range_seconds\":null,"
			     "\"within_window\":false,\"already_used\":null");
	(void)printf("}\n");
}

static int
check(struct cli_ctx *ctx, const struct cli_target *t, struct ft_secret *s)
{
	char line[CLI_LINE_MAX], code[FT_CODE_BUFSZ], prompt[64];
	struct result r;
	bool backup;
	int rc;

	memset(&r, 0, sizeof(r));
	(void)snprintf(
	    prompt, sizeof(prompt), "%u-digit code to check: ", s->digits);
	rc = cli_read_line(prompt, false, line, sizeof(line));
	if (rc == FT_OK)
		rc = cli_code_clean(line, s->digits, code, sizeof(code));
	backup = rc == FT_ERR_PARSE && ft_backup_looks_like(line);
	ft_wipe(line, sizeof(line));
	if (rc == FT_ERR_NOENT)
		return cli_err(CLI_EX_FAIL, "no code given");
	/* Checking a backup code would use it up (they work once), and its
	 * slow hash says nothing about clocks: say so instead of "not a
	 * code". */
	if (backup)
		return cli_err(CLI_EX_FAIL,
		    "that is a backup code: check tests only the %u-digit "
		    "codes of the app (a backup code works once at a login; "
		    "'" CLI_PROG " status' shows how many are left)",
		    s->digits);
	if (rc != FT_OK)
		return cli_err(
		    CLI_EX_FAIL, "not a code: expected %u digits", s->digits);
	if (ctx->helper)
		rc = counted(ctx, t, s, code, &r);
	else
		rc = match(ctx, s, code, &r);
	ft_wipe(code, sizeof(code));
	if (rc > 0)
		return rc; /* locked out or unable to count: said why */
	if (rc != FT_OK)
		return cli_err(
		    CLI_EX_FAIL, "cannot check the code: %s", ft_rc_str(rc));
	if (!ctx->helper)
		r.used = r.match ? step_used(ctx, t->name, r.step) : -1;
	if (ctx->o.json)
		print_json(ctx, t, s, &r);
	else
		print_text(ctx, s, &r);
	return r.within && r.used != 1 ? CLI_EX_OK : CLI_EX_FAIL;
}

int
cmd_check(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_target t;
	struct ft_secret s;
	const char *name;
	char err[CLI_ERRLEN];
	int ex, rc;

	if ((ex = cli_one_user(ctx, argc, argv, "check", &name)) != CLI_EX_OK ||
	    (ex = cli_target(ctx, name, &t)) != CLI_EX_OK)
		return ex;
	err[0] = '\0';
	rc = cli_secret_load(&t, &s, err, sizeof(err));
	if (rc == FT_ERR_NOENT)
		ex = cli_err(CLI_EX_NOTENROLLED, "%s is not enrolled", t.name);
	else if (rc != FT_OK)
		ex = cli_err(
		    cli_exit_for(rc) == CLI_EX_PERM ? CLI_EX_PERM : CLI_EX_FAIL,
		    "%s", err);
	else
		ex = check(ctx, &t, &s);
	ft_secret_wipe(&s);
	return ex;
}
