/* Codes typed by a person: clean them up and check them. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cli.h"
#include "rc.h"
#include "wipe.h"

int
cli_code_clean(const char *in, unsigned digits, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '\t')
			continue; /* "123 456" as some apps show it */
		if (*in < '0' || *in > '9' || n + 1 >= outlen)
			goto bad;
		out[n++] = *in;
	}
	if (n != digits)
		goto bad;
	out[n] = '\0';
	return FT_OK;
bad:
	ft_wipe(out, outlen);
	return FT_ERR_PARSE;
}

/* Only spaces and tabs (or nothing): Enter pressed before the code. */
static bool
blank(const char *line)
{
	return line[strspn(line, " \t")] == '\0';
}

/* Read one answer, asking again after an empty Enter (that is not a try),
 * at most CLI_BLANK_MAX times so that a stream of empty lines ends. */
static int
read_answer(const char *prompt, bool echo, char *line, size_t len)
{
	unsigned blanks;
	int rc;

	for (blanks = 0; blanks < CLI_BLANK_MAX; blanks++) {
		rc = cli_read_line(prompt, echo, line, len);
		if (rc != FT_OK || !blank(line))
			return rc;
	}
	return FT_ERR_NOENT; /* as if input ended: nothing typed */
}

int
cli_ask_code(const struct ft_secret *s, unsigned window, const char *prompt,
    bool echo, int *offset, uint64_t *step)
{
	struct ft_totp_params p;
	char line[CLI_LINE_MAX], code[FT_CODE_BUFSZ];
	unsigned tries;
	int rc = 0;

	ft_secret_totp_params(s, window, &p);
	for (tries = 0; tries < CLI_CODE_TRIES; tries++) {
		rc = read_answer(prompt, echo, line, sizeof(line));
		if (rc == FT_ERR_NOENT)
			break; /* end of input: the caller says so */
		if (rc == FT_OK)
			rc =
			    cli_code_clean(line, s->digits, code, sizeof(code));
		ft_wipe(line, sizeof(line));
		if (rc != FT_OK) {
			cli_warn("not a code: enter the %u digits the app "
				 "shows",
			    s->digits);
			rc = 0;
			continue;
		}
		rc = ft_totp_match(&p, ft_now(), code, offset, step);
		ft_wipe(code, sizeof(code));
		if (rc != 0)
			break;
		cli_warn("that code is not right (is the phone's clock "
			 "correct?)");
	}
	ft_wipe(line, sizeof(line));
	return rc;
}

struct counted {
	struct ft_totp_params p;
	const char *code;
	time_t now;
	int offset;
};

/* Called by the state layer inside its atomic section. */
static int
counted_match(void *arg, uint64_t *step)
{
	struct counted *c = arg;

	return ft_totp_match(&c->p, c->now, c->code, &c->offset, step);
}

int
cli_code_attempt(const struct cli_ctx *ctx, const struct cli_target *t,
    const struct ft_secret *s, const char *code, struct cli_attempt *a)
{
	struct counted c;
	struct ft_state_login l;
	struct ft_state *st = NULL;
	char err[CLI_ERRLEN];
	int rc;

	memset(&c, 0, sizeof(c));
	memset(&l, 0, sizeof(l));
	ft_secret_totp_params(s, ctx->cfg.window, &c.p);
	c.code = code;
	c.now = ft_now();
	l.user = t->name;
	l.now = c.now;
	l.check = counted_match;
	l.check_arg = &c;
	l.verdict = FT_STATE_LOCKED; /* fail closed until the layer says */
	err[0] = '\0';
	rc = cli_state_open(ctx, &st, err, sizeof(err));
	if (rc == FT_OK)
		rc = ft_state_attempt(st, &l, err, sizeof(err));
	ft_state_close(st);
	a->now = c.now;
	a->verdict = rc == FT_OK ? l.verdict : FT_STATE_LOCKED;
	a->offset = c.offset;
	a->step = l.step;
	if (rc != FT_OK)
		cli_warn("cannot count the code: %s", err);
	cli_log(ctx, "self-service code for %s: %s", t->name,
	    rc != FT_OK				  ? "error"
		: a->verdict == FT_STATE_ACCEPTED ? "accepted"
		: a->verdict == FT_STATE_REPLAY	  ? "replayed"
		: a->verdict == FT_STATE_LOCKED	  ? "locked out"
						  : "wrong");
	return rc;
}

int
cli_attempt_refused(
    const struct cli_target *t, const struct cli_attempt *a, int ex)
{
	if (a->verdict == FT_STATE_LOCKED)
		return cli_err(ex,
		    "%s is locked out after too many wrong codes: wait, or "
		    "ask an administrator to run '" CLI_PROG " unlock %s'",
		    t->name, t->name);
	if (a->verdict == FT_STATE_REPLAY)
		return cli_err(ex,
		    "that code (or a later one) was already used: codes work "
		    "once; wait for the next one");
	return cli_err(ex,
	    "code not accepted (it counts toward the lockout); is the "
	    "phone's clock correct?  Try '" CLI_PROG " check'");
}

/* The helper's proof: one code, counted like a login. */
static int
prove_counted(const struct cli_ctx *ctx, const struct cli_target *t,
    const struct ft_secret *s, const char *prompt)
{
	char line[CLI_LINE_MAX], code[FT_CODE_BUFSZ];
	struct cli_attempt a;
	int rc;

	rc = cli_read_line(prompt, false, line, sizeof(line));
	if (rc == FT_OK)
		rc = cli_code_clean(line, s->digits, code, sizeof(code));
	ft_wipe(line, sizeof(line));
	if (rc == FT_ERR_NOENT)
		return cli_err(CLI_EX_FAIL, "no code given; nothing changed");
	if (rc != FT_OK)
		return cli_err(CLI_EX_FAIL,
		    "not a code (expected %u digits); nothing changed",
		    s->digits);
	rc = cli_code_attempt(ctx, t, s, code, &a);
	ft_wipe(code, sizeof(code));
	if (rc != FT_OK)
		return cli_err(CLI_EX_FAIL, "nothing changed");
	if (a.verdict != FT_STATE_ACCEPTED)
		return cli_attempt_refused(t, &a, CLI_EX_FAIL);
	return CLI_EX_OK;
}

int
cli_prove(const struct cli_ctx *ctx, const struct cli_target *t)
{
	struct ft_secret s;
	char err[CLI_ERRLEN], prompt[96];
	uint64_t step = 0;
	int off = 0, rc, ex;

	if (ctx->root)
		return CLI_EX_OK;
	err[0] = '\0';
	rc = cli_secret_load(t, &s, err, sizeof(err));
	if (rc == FT_ERR_NOENT) {
		ft_secret_wipe(&s);
		return cli_err(
		    CLI_EX_NOTENROLLED, "%s is not enrolled", t->name);
	}
	if (rc != FT_OK) {
		ft_secret_wipe(&s);
		return cli_err(
		    cli_exit_for(rc) == CLI_EX_PERM ? CLI_EX_PERM : CLI_EX_FAIL,
		    "%s", err);
	}
	(void)snprintf(prompt, sizeof(prompt),
	    "Current %u-digit code from your app: ", s.digits);
	if (ctx->helper) {
		ex = prove_counted(ctx, t, &s, prompt);
		ft_secret_wipe(&s);
		return ex;
	}
	rc = cli_ask_code(&s, ctx->cfg.window, prompt, false, &off, &step);
	ft_secret_wipe(&s);
	if (rc == FT_ERR_NOENT)
		return cli_err(CLI_EX_FAIL, "no code given; nothing changed");
	if (rc < 0)
		return cli_err(
		    CLI_EX_FAIL, "cannot check the code: %s", ft_rc_str(rc));
	if (rc == 0)
		return cli_err(CLI_EX_FAIL,
		    "code not accepted; nothing "
		    "changed");
	return CLI_EX_OK;
}
